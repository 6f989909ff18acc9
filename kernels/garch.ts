/**
 * GARCH(1,1) fits for many series at once: `fitGarch` runs the WebGPU search with the f64 host finish
 * (`kernels/garch_gpu.ts`) or the f64 CPU path (`kernels/garch_core.ts`, where the model, the variance
 * initialisation, the estimator and the standard errors are documented), by the compute context's backend.
 * `garchKernel` is the `kernel garch` entry of the CLI (a scalar kernel: one JSON fit per series).
 */
import { type Compute, withFallback } from "../runtime/backend.ts";
import {
  checkOptions,
  fitGarchCpu,
  GARCH_DEFAULTS,
  type GarchFit,
  type GarchOptions,
  percentLogReturns,
} from "./garch_core.ts";
import { fitGarchGpu } from "./garch_gpu.ts";
import type { ScalarKernel } from "./registry.ts";

export {
  GARCH_DEFAULTS,
  GARCH_MIN_SAMPLES,
  garchFilter,
  type GarchFit,
  type GarchOptions,
  type GarchParams,
  type GarchStatus,
  type VarianceInit,
} from "./garch_core.ts";
export { fitGarchCpu, fitGarchGpu, percentLogReturns };

/**
 * Fits GARCH(1,1) to each series of returns (NaN entries are skipped; the last `maxSamples` finite values are
 * used): on the GPU when the context has one (one batched search for all series), else on the CPU in f64.
 */
export function fitGarch(
  series: ArrayLike<number>[],
  opts: Partial<GarchOptions>,
  compute: Compute,
): Promise<GarchFit[]> {
  const o = { ...GARCH_DEFAULTS, ...opts };
  checkOptions(o);
  return withFallback(
    compute,
    "garch",
    (rt) => fitGarchGpu(rt, series, o),
    () => series.map((r) => fitGarchCpu(r, o)),
  );
}

/** `kernel garch`: fits the column's percent log returns (or the column itself with --returns false). */
export const garchKernel: ScalarKernel = {
  name: "garch",
  inputs: 1,
  summary: "GARCH(1,1) fit of 100 log(x_t / x_{t-1}) (JSON: estimates, standard errors, LL, status)",
  params: {
    "max-samples": {
      type: "int",
      min: 1,
      default: GARCH_DEFAULTS.maxSamples,
      doc: "fit on the last N returns",
    },
    "max-iter": { type: "int", min: 1, default: GARCH_DEFAULTS.maxIter, doc: "Newton iterations at most" },
    init: {
      type: "choice",
      default: "sample",
      choices: ["sample", "backcast"],
      doc: "pre-sample variance: mean squared residual (benchmark) or arch's backcast",
    },
    returns: {
      type: "bool",
      default: true,
      doc: "fit percent log returns of the column (true) or the column as returns (false)",
    },
  },
  run: async ([x], p, compute) => {
    const r = p.returns ? percentLogReturns(x) : x;
    const [fit] = await fitGarch([r], {
      maxSamples: p["max-samples"] as number,
      maxIter: p["max-iter"] as number,
      init: p.init as GarchOptions["init"],
    }, compute);
    return fit;
  },
};
