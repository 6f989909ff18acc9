/**
 * {@link dcorTest} for many (x, y) pairs on this thread plus a pool of Web Workers
 * (kernels/dcor_test_worker.ts, driven through Comlink): the CPU permutation tests of the statistical_tests
 * engine, one pair per message (two in flight per worker), pairs handed out as threads free up. Every test runs the same f64 code on
 * its own, so the results equal `pairs.map((p) => dcorTest(...p, opts))` bit for bit, whatever the number of
 * workers or the order they finish in. Workers are started per call and terminated when it ends, also on
 * error; small jobs (less work than a worker start) stay on this thread.
 */
import { dcorTest, type DcorTestOptions, type DcorTestResult } from "./dcor.ts";
import type { DcorWorkerApi } from "./dcor_test_worker.ts";
import { UsageError } from "../runtime/errors.ts";
import { idleCores } from "../runtime/cores.ts";
import { startWorkers } from "../runtime/workers.ts";

/** Options of {@link dcorTestParallel}. */
export interface DcorPoolOptions {
  /**
   * Threads in all, this one included (default navigator.hardwareConcurrency): `threads - 1` Web Workers are
   * started, never more than there are pairs after the first; 1 (or 0) runs every test on this thread.
   */
  threads?: number;
  /**
   * Start workers only for cores {@link idleCores} finds idle (default true); false ignores the load.
   */
  respectLoad?: boolean;
  /** Called after each pair with the pairs done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** The worker module (default kernels/dcor_test_worker.ts next to this file). */
  workerUrl?: string | URL;
}

const DEFAULT_WORKER = new URL(
  import.meta.url.endsWith(".ts") ? "./dcor_test_worker.ts" : "./dcor_test_worker.js",
  import.meta.url,
);

/**
 * Work (pairs x rows x permutations) below which no worker is started: a worker start (~50-100 ms for the
 * module graph) costs more than it can save. One permutation of 5000 rows takes ~0.15 ms on the development
 * machine (kernels/dcor_cross.wat), so this is ~0.05 s of tests.
 */
export const MIN_PARALLEL_WORK = 1.5e6;

/** Runs `dcorTest(x, y, opts)` for every pair, on this thread and `threads - 1` workers; results in order. */
export async function dcorTestParallel(
  pairs: readonly (readonly [Float64Array, Float64Array])[],
  opts: DcorTestOptions,
  pool: DcorPoolOptions = {},
): Promise<DcorTestResult[]> {
  const threads = pool.threads ?? globalThis.navigator?.hardwareConcurrency ?? 1;
  if (!Number.isInteger(threads) || threads < 0) {
    throw new UsageError(`dcorTestParallel: threads must be an integer >= 0, got ${threads}`);
  }
  const out: DcorTestResult[] = new Array(pairs.length);
  const total = pairs.length;
  let done = 0;
  const work = pairs.reduce((a, [x]) => a + x.length, 0) * (opts.permutations ?? 999);
  const free = pool.respectLoad === false ? Infinity : idleCores();
  const workers = work < MIN_PARALLEL_WORK ? 0 : Math.max(0, Math.min(threads - 1, pairs.length - 1, free));
  if (workers === 0) {
    pairs.forEach(([x, y], i) => {
      out[i] = dcorTest(x, y, opts);
      pool.onProgress?.(++done, total);
    });
    return out;
  }
  type Runner = (x: Float64Array, y: Float64Array) => Promise<DcorTestResult>;
  let next = 0, failed = false;
  const loop = async (run: Runner) => {
    while (!failed && next < pairs.length) {
      const i = next++;
      const [x, y] = pairs[i];
      let r: DcorTestResult;
      try {
        r = await run(x, y);
      } catch (e) {
        failed = true;
        throw e;
      }
      if (failed) return;
      out[i] = r;
      pool.onProgress?.(++done, total);
    }
  };
  const set = startWorkers<DcorWorkerApi>(pool.workerUrl ?? DEFAULT_WORKER, workers, "dcorTestParallel");
  try {
    // This thread takes pairs too; yielding after each lets the workers' replies in between.
    const local: Runner = async (x, y) => {
      await new Promise((r) => setTimeout(r, 0));
      return dcorTest(x, y, opts);
    };
    // Two pairs in flight per worker, so a worker never waits for this thread to finish its pair.
    const loops = set.remotes.flatMap((remote) => {
      const run: Runner = (x, y) => remote.test(x, y, opts);
      return [loop(run), loop(run)];
    });
    await Promise.race([Promise.all([...loops, loop(local)]), set.failure]);
  } finally {
    failed = true;
    set.close();
  }
  return out;
}
