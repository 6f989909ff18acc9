/** How many cores a worker pool may use beside the calling thread (kernels/dcor_pool.ts, kernels/feature_pool.ts). */

/**
 * Cores other processes leave free beside this thread, from the 1-minute load average when the runtime may
 * read it (Deno with --allow-sys=loadavg; the load counts this thread as 1): round(cores - load), or
 * Infinity when unknown; never more than {@link capIdleCores} allows. On a 2-core machine with another process busy, the pool's workers only compete with
 * this thread and lose (worker start, JIT warm-up, cache): measured 10-12.5 s vs 8.5-10.4 s of permutation
 * tests on the default job (kernels/dcor_pool.ts), and the feature pool at 0.72-0.87x one thread.
 */
export function idleCores(): number {
  // deno-lint-ignore no-explicit-any
  const D = (globalThis as any).Deno;
  try {
    if (D?.permissions?.querySync?.({ name: "sys", kind: "loadavg" }).state !== "granted") return cap;
    const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
    return Math.min(cap, Math.max(0, Math.round(cores - D.loadavg()[0])));
  } catch {
    return cap;
  }
}

let cap = Infinity;

/**
 * The cap {@link capIdleCores} set on this thread (Infinity when none): what bounds pools that start no worker
 * (the BLAS's threads), which the load average does not (an extra native thread costs no start-up).
 */
export function coreCap(): number {
  return cap;
}

/**
 * Caps {@link idleCores} on this thread from now on. A pipeline task worker sets 0: the task pool already runs
 * one task per core, so the pools inside a task (permutation tests, feature sets, correlation matrix) stay on
 * its thread instead of oversubscribing the cores.
 */
export function capIdleCores(n: number): void {
  cap = n;
}
