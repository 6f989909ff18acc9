/**
 * GARCH(1,1) fits for many series at once: `fitGarch` runs the WebGPU search with the f64 host finish
 * (`kernels/garch_gpu.ts`) or the f64 CPU path (`kernels/garch_core.ts`, where the model, the variance
 * initialisation, the estimator and the standard errors are documented), by the compute context's backend;
 * `fitGarchWalkForward` fits the walk-forward refit windows of many series (engines/garch.ts uses it).
 * `fitGarchModel` / `fitGarchModelWalkForward` do the same for any model of the family (GARCH(p, q), GJR;
 * normal, t, skew-t: `kernels/garch_model.ts`). `garchKernel` is the `kernel garch` entry of the CLI (a scalar
 * kernel: one JSON fit per series).
 */
import { type Compute, withFallback } from "../runtime/backend.ts";
import {
  checkOptions,
  fitGarchCpu,
  GARCH_DEFAULTS,
  type GarchFit,
  type GarchOptions,
  type GarchParams,
  percentLogReturns,
  type Refit,
} from "./garch_core.ts";
import { fitGarchGpu } from "./garch_gpu.ts";
import { fitGarchModelGpu } from "./garch_model_gpu.ts";
import {
  type GarchDist,
  type GarchMean,
  type GarchModelParams,
  type GarchModelSpec,
  modelName,
  parseModel,
} from "./garch_model.ts";
import {
  checkModelOptions,
  fitGarchModelCpu,
  fromGarchFit,
  GARCH_MODEL_DEFAULTS,
  type GarchModelFit,
  type GarchModelOptions,
  isGarch11,
} from "./garch_model_fit.ts";
import { defineScalarKernel, type ScalarKernel } from "./kernel.ts";
import { LIMITS } from "../runtime/limits.ts";

export {
  GARCH_DEFAULTS,
  GARCH_MIN_SAMPLES,
  garchFilter,
  garchFilterFrom,
  type GarchFit,
  type GarchFitOf,
  type GarchOptions,
  type GarchParams,
  type GarchStatus,
  type Refit,
  type VarianceInit,
  type WalkForwardOptions,
  walkForwardRefits,
} from "./garch_core.ts";
export { fitGarchCpu, fitGarchGpu, fitGarchModelCpu, fitGarchModelGpu, percentLogReturns };
export {
  type GarchDist,
  type GarchMean,
  type GarchModelParams,
  type GarchModelSpec,
  MODEL_SCHEME,
  modelFilter,
  modelFilterFrom,
  modelName,
  ModelRecursion,
  parseModel,
} from "./garch_model.ts";
export { GARCH_MODEL_DEFAULTS, type GarchModelFit, type GarchModelOptions } from "./garch_model_fit.ts";

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

/** Most return points one batched GPU search holds (f64 on the host, f32 on the device): ~128 + 64 MiB. */
export const GARCH_BATCH_POINTS = 2 ** 24;

/**
 * The walk-forward refits of every series: `refits[i][k]` is fitted on `series[i]` over [lo, row) (NaN entries
 * skipped). On the CPU each series' refits run in order, each warm-started from the previous converged
 * refit's estimates (overlapping windows move them little, so the Newton search takes a few steps instead of
 * the grid plus a full search), rerun from the grid when that start does not converge. On the GPU all refits
 * of all series are the series of one batched search (split only when they exceed GARCH_BATCH_POINTS),
 * each from `arch`'s grid: a warm start would chain refit k to refit k-1 and turn one search of ~6 awaited
 * batches into one per refit, while a batch costs about the same whatever it holds; the f64 finish on the host
 * still takes each refit to the same optimum the CPU path reaches. `starts[i]` warm-starts series i's first
 * refit on the CPU (the last converged estimates before these refits, when a run fits them chunk by chunk).
 */
export function fitGarchWalkForward(
  series: Float64Array[],
  refits: Refit[][],
  opts: Partial<GarchOptions>,
  compute: Compute,
  progress?: (done: number, total: number) => void,
  starts?: (GarchParams | null)[],
): Promise<GarchFit[][]> {
  const o = { ...GARCH_DEFAULTS, ...opts };
  checkOptions(o);
  // Each window is passed whole: maxSamples only needs to be at least its length.
  const windowOpts = { ...o, maxSamples: longestWindow(refits) };
  // Progress in refits, before the first and after each (CPU) or each batched search (GPU).
  const total = refits.reduce((a, r) => a + r.length, 0);
  progress?.(0, total);
  return withFallback(
    compute,
    "garch",
    (rt) => walkForwardGpu(series, refits, (ws) => fitGarchGpu(rt, ws, windowOpts), progress),
    () => walkForwardCpu(series, refits, (w, prev) => fitGarchCpu(w, windowOpts, prev), progress, starts),
  );
}

/**
 * The GPU walk-forward of any model: all refit windows of all series are the series of batched searches
 * (`fitBatch`), split only where they exceed GARCH_BATCH_POINTS.
 */
async function walkForwardGpu<F>(
  series: Float64Array[],
  refits: Refit[][],
  fitBatch: (windows: Float64Array[]) => Promise<F[]>,
  progress?: (done: number, total: number) => void,
): Promise<F[][]> {
  const windows = series.flatMap((r, i) => refits[i].map((f) => r.subarray(f.lo, f.row)));
  const flat: F[] = [];
  for (let a = 0; a < windows.length;) {
    let b = a, points = 0;
    while (b < windows.length && (b === a || points + windows[b].length <= GARCH_BATCH_POINTS)) {
      points += windows[b++].length;
    }
    flat.push(...await fitBatch(windows.slice(a, b)));
    a = b;
    progress?.(a, windows.length);
  }
  let k = 0;
  return refits.map((rs) => rs.map(() => flat[k++]));
}

/** Longest refit window, at least 1 (maxSamples need only be that large). */
const longestWindow = (refits: Refit[][]) => refits.flat().reduce((m, f) => Math.max(m, f.row - f.lo), 1);

/**
 * The CPU walk-forward of any model: each series' refits in order, each warm-started from the previous
 * converged refit's estimates (`fit` reruns from the grid when that start does not converge).
 */
function walkForwardCpu<F extends { status: string; params: object | null }>(
  series: Float64Array[],
  refits: Refit[][],
  fit: (window: Float64Array, prev: F["params"]) => F,
  progress?: (done: number, total: number) => void,
  starts?: F["params"][],
): F[][] {
  const total = refits.reduce((a, r) => a + r.length, 0);
  let done = 0;
  return series.map((r, i) => {
    let prev: F["params"] = starts?.[i] ?? null;
    return refits[i].map((f) => {
      const out = fit(r.subarray(f.lo, f.row), prev);
      if (out.status === "converged") prev = out.params;
      progress?.(++done, total);
      return out;
    });
  });
}

/**
 * Fits one model of the family to each series: GARCH(1,1)-normal with a constant mean by `fitGarch` (its
 * closed-form GPU search); the others by the family's batched GPU search (`kernels/garch_model_gpu.ts`) when the
 * context has a GPU, else on the CPU in f64 (`kernels/garch_model_fit.ts`). Both end with the same f64 steps.
 */
export async function fitGarchModel(
  series: ArrayLike<number>[],
  model: GarchModelSpec,
  opts: Partial<GarchModelOptions>,
  compute: Compute,
): Promise<GarchModelFit[]> {
  const o = { ...GARCH_MODEL_DEFAULTS, ...opts };
  checkModelOptions(o);
  if (isGarch11(model, o.mean)) return (await fitGarch(series, o, compute)).map(fromGarchFit);
  return withFallback(
    compute,
    "garch",
    (rt) => fitGarchModelGpu(rt, series, model, o),
    () => series.map((r) => fitGarchModelCpu(r, model, o)),
  );
}

/**
 * `fitGarchWalkForward` for one model of the family (see `fitGarchModel` for the paths), `starts[i]` the
 * CPU's warm start of series i's first refit.
 */
export async function fitGarchModelWalkForward(
  series: Float64Array[],
  refits: Refit[][],
  model: GarchModelSpec,
  opts: Partial<GarchModelOptions>,
  compute: Compute,
  progress?: (done: number, total: number) => void,
  starts?: (GarchModelParams | null)[],
): Promise<GarchModelFit[][]> {
  const o = { ...GARCH_MODEL_DEFAULTS, ...opts };
  checkModelOptions(o);
  if (isGarch11(model, o.mean)) {
    const s11 = starts?.map((p) => p && { mu: p.mu, omega: p.omega, alpha: p.alpha, beta: p.beta });
    const fits = await fitGarchWalkForward(series, refits, o, compute, progress, s11);
    return fits.map((rs) => rs.map(fromGarchFit));
  }
  const windowOpts = { ...o, maxSamples: longestWindow(refits) };
  progress?.(0, refits.reduce((a, r) => a + r.length, 0));
  return withFallback(
    compute,
    "garch",
    (rt) => walkForwardGpu(series, refits, (ws) => fitGarchModelGpu(rt, ws, model, windowOpts), progress),
    () =>
      walkForwardCpu(
        series,
        refits,
        (w, prev) => fitGarchModelCpu(w, model, windowOpts, prev),
        progress,
        starts,
      ),
  );
}

/** `--model` values of `kernel garch`: a family (orders from --p/--q) or a family with its orders. */
const CLI_MODELS = ["garch", "gjr"].flatMap((
  f,
) => [f, ...[1, 2, 3].flatMap((p) => [0, 1, 2, 3].map((q) => `${f}${p}${q}`))]);

/** `kernel garch`'s parameters. */
export type GarchKernelParams = {
  model: string;
  p: "" | "1" | "2" | "3";
  q: "" | "0" | "1" | "2" | "3";
  dist: GarchDist;
  mean: GarchMean;
  "max-samples": number;
  "max-iter": number;
  init: "sample" | "backcast";
  returns: boolean;
};

/** `kernel garch`: fits the column's percent log returns (or the column itself with --returns false). */
export const garchKernel: ScalarKernel<GarchKernelParams> = defineScalarKernel({
  name: "garch",
  inputs: 1,
  conformance: [{}, { "max-samples": 2000 }, { model: "gjr11", dist: "t", "max-samples": 2000 }],
  // Both paths end with the same f64 Newton finish from the GPU's f32 search: estimates and SEs agree far
  // below this (1e-8 measured, tests/garch_models_gpu_test.ts); the path and iteration counts may differ.
  tolerance: { atol: 1e-6, rtol: 1e-5 },
  varying: ["backend", "iterations"],
  summary:
    "GARCH(p,q)/GJR fit (normal, t, skew-t) of 100 log(x_t / x_{t-1}) (JSON: estimates, standard errors, LL, AIC, status)",
  params: {
    model: {
      type: "choice",
      default: "garch11",
      choices: CLI_MODELS,
      doc:
        "garch or gjr with orders p (ARCH lags, 1..3) and q (GARCH lags, 0..3): garch11, gjr21; or garch/gjr with --p/--q",
    },
    // Choices with an empty default: an order given with --model garch21 is an error, not silently ignored.
    p: {
      type: "choice",
      default: "",
      choices: ["1", "2", "3"],
      doc: "ARCH lags with --model garch or gjr (1)",
    },
    q: {
      type: "choice",
      default: "",
      choices: ["0", "1", "2", "3"],
      doc: "GARCH lags with --model garch or gjr (1)",
    },
    dist: {
      type: "choice",
      default: "normal",
      choices: ["normal", "t", "skewt"],
      doc: "innovations: normal, Student-t or Hansen's skewed t",
    },
    mean: { type: "choice", default: "constant", choices: ["constant", "zero"], doc: "conditional mean" },
    "max-samples": {
      type: "int",
      min: 1,
      max: LIMITS.samples,
      default: GARCH_DEFAULTS.maxSamples,
      doc: "fit on the last N returns",
    },
    "max-iter": {
      type: "int",
      min: 1,
      max: LIMITS.iterations,
      default: GARCH_DEFAULTS.maxIter,
      doc: "Newton iterations at most",
    },
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
  check: (p) =>
    /\d/.test(p.model) && (p.p !== "" || p.q !== "")
      ? `--p and --q give the orders of --model garch or gjr; --model ${p.model} has its own`
      : undefined,
  run: async ([x], p, compute) => {
    const r = p.returns ? percentLogReturns(x) : x;
    const name = p.model, family = name.replace(/\d+$/, "") as "garch" | "gjr";
    const [po, qo] = name === family
      ? [Number(p.p || 1), Number(p.q || 1)]
      : [Number(name.at(-2)), Number(name.at(-1))];
    const model = parseModel(modelName(family, po, qo, p.dist))!;
    const opts = { maxSamples: p["max-samples"], maxIter: p["max-iter"], init: p.init, mean: p.mean };
    const [fit] = await fitGarchModel([r], model, opts, compute);
    return fit;
  },
});
