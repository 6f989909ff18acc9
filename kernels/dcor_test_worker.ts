/**
 * The permutation-test Web Worker (kernels/dcor_pool.ts): exposes {@link dcorTest} for one (x, y) pair
 * through Comlink. The pair arrives as copies; the result is a small object.
 */
import * as Comlink from "npm:comlink@4.4.2";
import { dcorTest, type DcorTestOptions, type DcorTestResult } from "./dcor.ts";

/** The API a permutation-test worker exposes. */
export const dcorWorkerApi = {
  /** dcorTest(x, y, opts), computed in the worker (same f64 code, so the same result bit for bit). */
  test(x: Float64Array, y: Float64Array, opts: DcorTestOptions): DcorTestResult {
    return dcorTest(x, y, opts);
  },
};

/** The type of `dcorWorkerApi`, for Comlink.wrap. */
export type DcorWorkerApi = typeof dcorWorkerApi;

// Only expose when running as a worker (importing this module for its type must have no effect).
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
if (typeof g.WorkerGlobalScope !== "undefined" && g instanceof g.WorkerGlobalScope) {
  Comlink.expose(dcorWorkerApi);
}
