/**
 * The feature-set Web Worker (kernels/feature_pool.ts): exposes {@link featureSetCpu} for one job through
 * Comlink. The input column and the per-row lengths arrive transferred; the per-feature outputs are
 * transferred (not copied) back.
 */
import * as Comlink from "npm:comlink@4.4.2";
import { featureSetCpu } from "./feature_sets.ts";
import type { WindowSpec } from "./window_features.ts";

/** The API a feature-set worker exposes. */
export const featureWorkerApi = {
  /** featureSetCpu(x, spec, features); every output's buffer is transferred to the caller. */
  featureSet(x: Float64Array, spec: WindowSpec, features: readonly string[]): Map<string, Float64Array> {
    const out = featureSetCpu(x, spec, features);
    return Comlink.transfer(out, [...out.values()].map((v) => v.buffer as ArrayBuffer));
  },
};

/** The type of `featureWorkerApi`, for Comlink.wrap. */
export type FeatureWorkerApi = typeof featureWorkerApi;

// Only expose when running as a worker (importing this module for its type must have no effect).
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
if (typeof g.WorkerGlobalScope !== "undefined" && g instanceof g.WorkerGlobalScope) {
  Comlink.expose(featureWorkerApi);
}
