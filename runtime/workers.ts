/** Module workers behind Comlink, started per call by the CPU pools (kernels/dcor_pool.ts, kernels/feature_pool.ts). */
import * as Comlink from "npm:comlink@4.4.2";

/** What {@link startWorkers} returns. */
export interface WorkerSet<T> {
  /** One Comlink proxy per worker. */
  remotes: Comlink.Remote<T>[];
  /**
   * Rejects, naming the caller, when a worker fails outside a call (its module does not load), which would
   * otherwise leave that call pending forever: race it against the work. Never an unhandled rejection.
   */
  failure: Promise<never>;
  /** Releases the proxies and terminates the workers. */
  close: () => void;
}

/** Starts `count` module workers from `url`; `who` names the caller in the failure message. */
export function startWorkers<T>(url: string | URL, count: number, who: string): WorkerSet<T> {
  let fail: (e: Error) => void = () => {};
  const failure = new Promise<never>((_, reject) => (fail = reject));
  failure.catch(() => {}); // observed through the caller's race; never an unhandled rejection
  const workers: Worker[] = [], remotes: Comlink.Remote<T>[] = [];
  const close = () => {
    remotes.forEach((r) => r[Comlink.releaseProxy]());
    workers.forEach((w) => w.terminate());
  };
  try {
    for (let w = 0; w < count; w++) {
      const worker = new Worker(url, { type: "module" });
      worker.addEventListener("error", (e) => {
        e.preventDefault(); // reported by rejecting the call, not as an uncaught error
        fail(new Error(`${who}: a worker failed: ${e.message}`));
      });
      workers.push(worker);
      remotes.push(Comlink.wrap<T>(worker));
    }
  } catch (e) {
    close();
    throw e;
  }
  return { remotes, failure, close };
}
