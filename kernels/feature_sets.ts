/**
 * Feature sets: tsfresh's feature calculators (kernels/feature_calculators.ts, the f64
 * definitions) evaluated over every trailing window [t - w + 1, t] of a series, so the feature at t uses only
 * inputs at or before t (causal), or over per-segment windows. The value at t is NaN while t < w - 1 and
 * wherever the window holds a NaN/Inf.
 *
 * Sets: `minimal` (8 features), `efficient` (34: minimal plus moments, autocorrelation, pacf, FFT summaries,
 * quantiles, peaks, trend), `comprehensive` (83: efficient plus the entropies, strikes, counts and more
 * calculators with tsfresh's ComprehensiveFCParameters grids); kernels/feature_calculators.ts says what each
 * computes.
 *
 * Windows: every feature is evaluated over the trailing windows of w rows (rolling, causal), or over
 * per-row window lengths (`{ lens }`, kernels/window_features.ts: per-segment extraction, e.g. per day).
 *
 * Where each runs: {@link featureSetCpu} computes every feature in f64 (the reference). {@link featureSetGpu}
 * computes every feature of {@link GPU_FEATURES} in f32 with one WGSL kernel per family
 * (kernels/feature_stats.ts, feature_quantiles.ts, feature_autocorr.ts, feature_fft.ts, feature_entropy.ts,
 * feature_permutation.ts, feature_extra.ts, feature_lags.ts; tolerances in {@link GPU_TOLERANCE}) and the
 * others (approximate entropy at other m/r, permutation entropy at other D/tau, ratio_beyond_r_sigma,
 * number_peaks, quantile, c3 and the other calculators at other parameters) on the f64 CPU path beside it,
 * e.g. in a worker pool (kernels/feature_pool.ts); {@link featurePlacement} says which.
 */
import type { GpuRuntime } from "../runtime/gpu.ts";
import { lowerBound, moments, type WindowCache, windowFeature } from "./feature_calculators.ts";
import { rollingMinMaxGpu } from "./feature_minmax.ts";
import { rollingMomentsGpu } from "./rolling_moments.ts";
import { FEATURE_AUTOCORR, FEATURE_AUTOCORR_TOLERANCE } from "./feature_autocorr.ts";
import { FEATURE_ENTROPY, FEATURE_ENTROPY_TOLERANCE } from "./feature_entropy.ts";
import { FEATURE_PERMUTATION, FEATURE_PERMUTATION_TOLERANCE } from "./feature_permutation.ts";
import { FEATURE_EXTRA, FEATURE_EXTRA_TOLERANCE } from "./feature_extra.ts";
import { FEATURE_FFT, FEATURE_FFT_TOLERANCE } from "./feature_fft.ts";
import { FEATURE_LAGS, FEATURE_LAGS_TOLERANCE } from "./feature_lags.ts";
import { FEATURE_QUANTILES, FEATURE_QUANTILES_TOLERANCE } from "./feature_quantiles.ts";
import { FEATURE_STATS, FEATURE_STATS_TOLERANCE } from "./feature_stats.ts";
import {
  shaderFits,
  specMaxWindow,
  windowFeaturesGpu,
  type WindowShader,
  type WindowSpec,
} from "./window_features.ts";
import type { Tolerance } from "./kernel.ts";

/** The names of the feature sets (`features.extraction.set`). */
export const FEATURE_SET_NAMES = ["none", "minimal", "efficient", "comprehensive"] as const;

/** A feature set name. */
export type FeatureSetName = typeof FEATURE_SET_NAMES[number];

const MINIMAL = [
  "mean",
  "median",
  "standard_deviation",
  "variance",
  "minimum",
  "maximum",
  "sum_values",
  "length",
] as const;

const EFFICIENT = [
  ...MINIMAL,
  "skewness",
  "kurtosis",
  ...Array.from({ length: 10 }, (_, i) => `autocorrelation__lag_${i + 1}`),
  ...Array.from({ length: 5 }, (_, i) => `partial_autocorrelation__lag_${i + 1}`),
  "fft_aggregated__aggtype_centroid",
  "fft_aggregated__aggtype_variance",
  "fft_aggregated__aggtype_skew",
  "fft_aggregated__aggtype_kurtosis",
  "mean_abs_change",
  "linear_trend__attr_slope",
  "quantile__q_0.1",
  "quantile__q_0.9",
  "number_peaks__n_1",
];

const COMPREHENSIVE = [
  ...EFFICIENT,
  "sample_entropy",
  "approximate_entropy__m_2__r_0.2",
  "permutation_entropy__dimension_3__tau_1",
  ...[0.1, 0.3, 0.5, 0.7, 0.9].map((r) => `approximate_entropy__m_2__r_${r}`),
  ...[4, 5, 6, 7].map((d) => `permutation_entropy__dimension_${d}__tau_1`),
  "longest_strike_above_mean",
  "longest_strike_below_mean",
  "count_above_mean",
  "count_below_mean",
  ...FEATURE_EXTRA.planes,
  ...[3, 5, 10].map((n) => `number_peaks__n_${n}`),
  ...[0.2, 0.3, 0.4, 0.6, 0.7, 0.8].map((q) => `quantile__q_${q}`),
  ...[1, 2, 3].map((lag) => `c3__lag_${lag}`),
  ...[1, 2, 3].map((lag) => `time_reversal_asymmetry_statistic__lag_${lag}`),
  "large_standard_deviation__r_0.25",
  "symmetry_looking__r_0.05",
];

/**
 * The sets' features, by tsfresh name (tsfresh's quoted parameters such as `linear_trend__attr_"slope"` and
 * `fft_aggregated__aggtype_"centroid"` without quotes).
 */
export const FEATURE_SETS: Readonly<Record<FeatureSetName, readonly string[]>> = {
  none: [],
  minimal: MINIMAL,
  efficient: EFFICIENT,
  comprehensive: COMPREHENSIVE,
};

/** The feature shaders (kernels/window_features.ts), in dispatch order. */
const SHADERS: readonly WindowShader[] = [
  FEATURE_STATS,
  FEATURE_QUANTILES,
  FEATURE_AUTOCORR,
  FEATURE_FFT,
  FEATURE_ENTROPY,
  FEATURE_PERMUTATION,
  FEATURE_EXTRA,
  FEATURE_LAGS,
];

/** Features with a WGSL kernel: the GPU path computes them in f32 (the rest on the f64 CPU path). */
export const GPU_FEATURES: ReadonlySet<string> = new Set(SHADERS.flatMap((s) => s.planes));

/** Rolling-window features the GPU path takes from the O(1)-per-row block kernels. */
const BLOCK_FEATURES: ReadonlySet<string> = new Set([
  "mean",
  "sum_values",
  "standard_deviation",
  "variance",
  "minimum",
  "maximum",
]);

/**
 * f32-vs-f64 tolerance of each GPU feature (kernels/window_features.ts: |gpu - f64| <= atol + rtol |f64| +
 * stol S at all but a fraction `flips` of the points). Scaled by the caller: sum_values' and
 * absolute_sum_of_changes' atol and stol are per row of the window, variance's in units of 2 std
 * (d(s^2) = 2 s ds), c3's and time_reversal_asymmetry_statistic's stol in units of X^2 (X = max |x|).
 */
export const GPU_TOLERANCE: Readonly<Record<string, Tolerance>> = {
  ...FEATURE_STATS_TOLERANCE,
  ...FEATURE_QUANTILES_TOLERANCE,
  ...FEATURE_AUTOCORR_TOLERANCE,
  ...FEATURE_FFT_TOLERANCE,
  ...FEATURE_ENTROPY_TOLERANCE,
  ...FEATURE_PERMUTATION_TOLERANCE,
  ...FEATURE_EXTRA_TOLERANCE,
  ...FEATURE_LAGS_TOLERANCE,
};

/** Column name of a feature: `<column>__<feature>__w<window>` (tsfresh's naming plus the window). */
export function featureColumnName(column: string, feature: string, window: number): string {
  return `${column}__${feature}__w${window}`;
}

/**
 * f64 CPU path: every feature of `features` over the windows of `spec` (kernels/window_features.ts): the
 * trailing windows of `window` rows (or of `windows` rows when a number), or the `lens[t]` rows ending at
 * each row t (per-segment extraction).
 * For rolling windows the sorted window (median, quantiles, min/max) is updated in O(w) per point; the other
 * features are evaluated per window in O(w) (no running-sum differences).
 */
export function featureSetCpu(
  x: Float64Array,
  windows: WindowSpec | number,
  features: readonly string[],
): Map<string, Float64Array> {
  const spec = typeof windows === "number" ? { window: windows } : windows;
  const n = x.length;
  const out = new Map(features.map((f) => [f, new Float64Array(n).fill(NaN)]));
  if (features.length === 0) return out;
  const higher = features.some((f) => f === "skewness" || f === "kurtosis");
  const rolling = "window" in spec;
  const w = specMaxWindow(spec);
  const sorted = new Float64Array(w);
  let lastBad = -1;
  let sortedValid = false; // rolling: sorted holds the window ending at t - 1
  for (let t = 0; t < n; t++) {
    if (!Number.isFinite(x[t])) lastBad = t;
    const len = rolling ? w : spec.lens[t];
    const start = t - len + 1;
    if (len <= 0 || start < 0 || lastBad >= start) {
      sortedValid = false;
      continue;
    }
    const win = x.subarray(start, t + 1);
    const s = rolling ? sorted : sorted.subarray(0, len);
    if (sortedValid) {
      // Drop x[start - 1], insert x[t].
      let i = lowerBound(sorted, w, x[start - 1]);
      while (!Object.is(sorted[i], x[start - 1])) i++; // +0 and -0 compare equal: drop the same bits
      sorted.copyWithin(i, i + 1, w);
      const j = lowerBound(sorted, w - 1, x[t]);
      sorted.copyWithin(j + 1, j, w - 1);
      sorted[j] = x[t];
    } else {
      s.set(win);
      s.sort();
      sortedValid = rolling;
    }
    const m = moments(win, higher);
    const cache: WindowCache = {};
    for (const f of features) out.get(f)![t] = windowFeature(f, win, s, m, cache);
  }
  return out;
}

/** Runs featureSetCpu over several jobs, e.g. in a worker pool (kernels/feature_pool.ts); results in job order. */
export type CpuFeatureRunner = (
  jobs: { x: Float64Array; spec: WindowSpec }[],
  features: readonly string[],
) => Promise<Map<string, Float64Array>[]>;

/** The in-process runner: featureSetCpu on the calling thread, one job after another. */
export function inProcessRunner(
  jobs: { x: Float64Array; spec: WindowSpec }[],
  features: readonly string[],
): Promise<Map<string, Float64Array>[]> {
  return Promise.resolve(jobs.map((j) => featureSetCpu(j.x, j.spec, features)));
}

/**
 * Which of `features` the GPU path computes on `rt` for windows of `spec`: those with a WGSL kernel, unless
 * the kernel's loop count for the longest window exceeds the adapter's budget (llvmpipe), then the CPU.
 */
export function gpuFeaturesFor(rt: GpuRuntime, spec: WindowSpec, features: readonly string[]): string[] {
  const w = Math.max(2, specMaxWindow(spec));
  const ok = new Set(SHADERS.filter((s) => shaderFits(rt, s, w)).flatMap((s) => s.planes));
  return features.filter((f) => ok.has(f) || ("window" in spec && BLOCK_FEATURES.has(f)));
}

/**
 * Where each feature runs on the GPU path for these window specs: "webgpu" (f32), "cpu" (f64), or
 * "webgpu+cpu" where it depends on the window (a long one exceeding a software adapter's loop budget).
 */
export function featurePlacement(
  rt: GpuRuntime,
  windows: (WindowSpec | number)[],
  features: readonly string[],
): Record<string, "webgpu" | "cpu" | "webgpu+cpu"> {
  const specs = windows.map(toSpec);
  const onGpu = specs.map((s) => new Set(gpuFeaturesFor(rt, s, features)));
  return Object.fromEntries(features.map((f) => {
    const n = onGpu.filter((g) => g.has(f)).length;
    return [f, n === specs.length ? "webgpu" : n === 0 ? "cpu" : "webgpu+cpu"];
  }));
}

const toSpec = (w: WindowSpec | number): WindowSpec => (typeof w === "number" ? { window: w } : w);

/**
 * GPU path: every feature of `features` for every column and window spec (a number is a rolling window).
 * Features with a WGSL kernel ({@link gpuFeaturesFor}) run in f32 on the GPU, one submit per spec for all
 * columns and shaders; on rolling windows mean, sum, std, variance, minimum and maximum use the O(1)-per-row
 * block kernels (kernels/rolling_moments.ts, kernels/feature_minmax.ts) instead of the O(w) stats shader.
 * The other features run on the f64 CPU path through `cpu`, concurrently with the GPU work.
 * Returns out[column][spec index].
 */
export async function featureSetGpu(
  rt: GpuRuntime,
  columns: Float64Array[],
  windows: (WindowSpec | number)[],
  features: readonly string[],
  cpu: CpuFeatureRunner = inProcessRunner,
): Promise<Map<string, Float64Array>[][]> {
  const specs = windows.map(toSpec);
  const onGpu = specs.map((s) => gpuFeaturesFor(rt, s, features));
  const out = columns.map(() => specs.map(() => new Map<string, Float64Array>()));
  // The CPU share, one spec after another (so a pool is not oversubscribed), beside the GPU work; settled,
  // so a CPU failure while the GPU is busy is reported here rather than as an unhandled rejection.
  const cpuDone = (async () => {
    for (const [i, spec] of specs.entries()) {
      const rest = features.filter((f) => !onGpu[i].includes(f));
      if (rest.length === 0) continue;
      const res = await cpu(columns.map((x) => ({ x, spec })), rest);
      columns.forEach((_, c) => rest.forEach((f) => out[c][i].set(f, res[c].get(f)!)));
    }
  })().then(() => null, (e: unknown) => ({ e }));
  // The block kernels take every rolling window in one dispatch each.
  const rolling = specs.flatMap((s, i) => ("window" in s ? [i] : []));
  const blockFeatures = features.filter((f) => BLOCK_FEATURES.has(f));
  if (rolling.length && blockFeatures.length) {
    const windows = rolling.map((i) => (specs[i] as { window: number }).window);
    const blocks = await blockKernels(rt, columns, windows, blockFeatures);
    columns.forEach((_, c) => rolling.forEach((i, k) => blocks[c][k].forEach((v, f) => out[c][i].set(f, v))));
  }
  for (const [i, spec] of specs.entries()) {
    const shaderFeatures = onGpu[i].filter((f) => !("window" in spec && BLOCK_FEATURES.has(f)));
    const shaders = SHADERS.filter((s) => s.planes.some((p) => shaderFeatures.includes(p)));
    if (shaders.length === 0) continue;
    const res = await windowFeaturesGpu(rt, shaders, columns, columns.map(() => spec));
    columns.forEach((_, c) => shaderFeatures.forEach((f) => out[c][i].set(f, res[c].get(f)!)));
  }
  const failed = await cpuDone;
  if (failed) throw failed.e;
  return out;
}

/**
 * mean, sum, std, variance, minimum, maximum of rolling windows with the O(1)-per-row block kernels, one
 * dispatch per kind for all columns and windows. Returns out[column][window index].
 */
async function blockKernels(
  rt: GpuRuntime,
  columns: Float64Array[],
  windows: number[],
  features: readonly string[],
): Promise<Map<string, Float64Array>[][]> {
  const want = (f: string) => features.includes(f);
  const means = want("mean") || want("sum_values")
    ? await rollingMomentsGpu(rt, columns, windows, "mean")
    : null;
  const stds = want("standard_deviation") || want("variance")
    ? await rollingMomentsGpu(rt, columns, windows, "std", 0)
    : null;
  const minmax = want("minimum") || want("maximum") ? await rollingMinMaxGpu(rt, columns, windows) : null;
  return columns.map((_, c) =>
    windows.map((w, k) => {
      const m = new Map<string, Float64Array>();
      if (means) m.set("mean", means[c][k]).set("sum_values", means[c][k].map((v) => v * w));
      if (stds) m.set("standard_deviation", stds[c][k]).set("variance", stds[c][k].map((v) => v * v));
      if (minmax) m.set("minimum", minmax[c][2 * k]).set("maximum", minmax[c][2 * k + 1]);
      return m;
    })
  );
}
