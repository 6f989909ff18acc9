/**
 * Rolling feature sets (issue 7 §2): tsfresh's feature calculators evaluated over every trailing window
 * [t - w + 1, t] of a series, so the feature at t uses only inputs at or before t (causal). The value at t
 * is NaN while t < w - 1 and wherever the window holds a NaN/Inf. Definitions follow tsfresh 0.20
 * (tsfresh/feature_extraction/feature_calculators.py); scripts/make_feature_sets_fixture.py holds verbatim
 * copies and tests/fixtures/feature_sets_tsfresh.json their values.
 *
 * Sets:
 * - `minimal`: mean, median, standard_deviation, variance (ddof 0, as numpy), minimum, maximum, sum_values,
 *   length (w wherever the window is defined).
 * - `efficient`: minimal plus skewness and kurtosis (pandas' bias-corrected G1/G2, including pandas' rule
 *   that a second moment below 1e-14 counts as 0 and then gives 0), autocorrelation at lags 1..3 (tsfresh:
 *   NaN where the window's variance is within 1e-8 of 0, numpy's isclose), mean_abs_change,
 *   linear_trend slope (least squares on 0..w-1), quantiles 0.1 and 0.9 (numpy's linear interpolation) and
 *   number_peaks with n = 1 (strict local maxima, ends excluded).
 *
 * Where each runs: {@link featureSetCpu} computes every feature in f64. {@link featureSetGpu} computes mean,
 * sum_values, standard_deviation and variance with the rolling-moment shader (kernels/rolling_moments.ts,
 * ddof 0) and minimum/maximum with shaders/feature_minmax.wgsl (kernels/feature_minmax.ts) in f32 on the
 * GPU, and everything else (median, quantiles, the sorted window; length; the efficient set's per-window
 * sums) on the f64 CPU path; {@link featurePlacement} says which.
 */
import type { GpuRuntime } from "../runtime/gpu.ts";
import { rollingMinMaxGpu } from "./feature_minmax.ts";
import { rollingMomentsGpu } from "./rolling_moments.ts";

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
  "autocorrelation__lag_1",
  "autocorrelation__lag_2",
  "autocorrelation__lag_3",
  "mean_abs_change",
  "linear_trend__attr_slope",
  "quantile__q_0.1",
  "quantile__q_0.9",
  "number_peaks__n_1",
] as const;

/** The implemented sets' features, by tsfresh name (tsfresh's `linear_trend__attr_"slope"` without quotes). */
export const FEATURE_SETS: Readonly<Record<"none" | "minimal" | "efficient", readonly string[]>> = {
  none: [],
  minimal: MINIMAL,
  efficient: EFFICIENT,
};

/** Features the GPU path computes in f32 (the rest run on the f64 CPU path). */
export const GPU_FEATURES: ReadonlySet<string> = new Set([
  "mean",
  "sum_values",
  "standard_deviation",
  "variance",
  "minimum",
  "maximum",
]);

/**
 * f32-vs-f64 tolerance of the GPU features, as |gpu - cpu| <= atol + rtol |cpu| + stol S with S the input's
 * scale max |x - x_0| (kernels/kernel.ts): mean and sum inherit the rolling-mean shader's tolerance (sum is
 * w times the mean), std and variance the rolling-std shader's (variance relative error doubles), min/max
 * are exact f32 copies of x - x_0.
 */
export const GPU_TOLERANCE: Readonly<Record<string, { atol: number; rtol: number; stol: number }>> = {
  mean: { atol: 2e-5, rtol: 2e-5, stol: 1e-7 },
  sum_values: { atol: 2e-5, rtol: 2e-5, stol: 1e-7 }, // times w (applied by the caller)
  standard_deviation: { atol: 2e-5, rtol: 2e-5, stol: 1e-7 },
  variance: { atol: 2e-5, rtol: 4e-5, stol: 1e-7 }, // times 2 * std (applied by the caller)
  minimum: { atol: 0, rtol: 0, stol: 1e-7 },
  maximum: { atol: 0, rtol: 0, stol: 1e-7 },
};

/** Column name of a feature: `<column>__<feature>__w<window>` (tsfresh's naming plus the window). */
export function featureColumnName(column: string, feature: string, window: number): string {
  return `${column}__${feature}__w${window}`;
}

/** Where each feature of `features` runs on the GPU path: "webgpu" (f32) or "cpu" (f64). */
export function featurePlacement(features: readonly string[]): Record<string, "webgpu" | "cpu"> {
  return Object.fromEntries(features.map((f) => [f, GPU_FEATURES.has(f) ? "webgpu" : "cpu"]));
}

/** numpy's linear-interpolation quantile of a sorted array. */
function quantileSorted(s: Float64Array, q: number): number {
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  const t = pos - lo;
  // numpy's _lerp: a + (b - a) t, or b - (b - a)(1 - t) for t >= 0.5.
  const d = s[hi] - s[lo];
  return t >= 0.5 ? s[hi] - d * (1 - t) : s[lo] + d * t;
}

/** Index of the first element >= v in sorted s[0, len). */
function lowerBound(s: Float64Array, len: number, v: number): number {
  let lo = 0, hi = len;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** pandas' _zero_out_fperr. */
const fperr = (v: number): number => (Math.abs(v) < 1e-14 ? 0 : v);

/** One window's feature values (x: the w finite points, s: them sorted). */
function windowFeature(f: string, x: Float64Array, s: Float64Array, m: Moments): number {
  const n = x.length;
  switch (f) {
    case "mean":
      return m.mean;
    case "sum_values":
      return m.sum;
    case "variance":
      return m.m2 / n;
    case "standard_deviation":
      return Math.sqrt(m.m2 / n);
    case "minimum":
      return s[0];
    case "maximum":
      return s[n - 1];
    case "median":
      return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    case "length":
      return n;
    case "skewness": {
      if (n < 3) return NaN;
      const m2 = fperr(m.m2), m3 = fperr(m.m3);
      return m2 === 0 ? 0 : (n * Math.sqrt(n - 1) / (n - 2)) * (m3 / m2 ** 1.5);
    }
    case "kurtosis": {
      if (n < 4) return NaN;
      const num = fperr(n * (n + 1) * (n - 1) * m.m4);
      const den = fperr((n - 2) * (n - 3) * m.m2 ** 2);
      return den === 0 ? 0 : num / den - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3));
    }
    case "mean_abs_change": {
      let a = 0;
      for (let i = 1; i < n; i++) a += Math.abs(x[i] - x[i - 1]);
      return a / (n - 1);
    }
    case "linear_trend__attr_slope": {
      const c = (n - 1) / 2;
      let sxy = 0;
      for (let i = 0; i < n; i++) sxy += (i - c) * (x[i] - m.mean);
      return sxy / (n * (n * n - 1) / 12);
    }
    case "quantile__q_0.1":
      return quantileSorted(s, 0.1);
    case "quantile__q_0.9":
      return quantileSorted(s, 0.9);
    case "number_peaks__n_1": {
      let c = 0;
      for (let i = 1; i < n - 1; i++) if (x[i] > x[i - 1] && x[i] > x[i + 1]) c++;
      return c;
    }
  }
  const lag = /^autocorrelation__lag_(\d+)$/.exec(f);
  if (lag) {
    const k = Number(lag[1]);
    const v = m.m2 / n;
    if (n < k || Math.abs(v) <= 1e-8) return NaN;
    let sp = 0;
    for (let i = 0; i + k < n; i++) sp += (x[i] - m.mean) * (x[i + k] - m.mean);
    return sp / ((n - k) * v);
  }
  throw new Error(`unknown feature ${f}`);
}

interface Moments {
  sum: number;
  mean: number;
  m2: number;
  m3: number;
  m4: number;
}

function moments(x: Float64Array, higher: boolean): Moments {
  let sum = 0;
  for (const v of x) sum += v;
  const mean = sum / x.length;
  let m2 = 0, m3 = 0, m4 = 0;
  for (const v of x) {
    const d = v - mean, d2 = d * d;
    m2 += d2;
    if (higher) m3 += d2 * d, m4 += d2 * d2;
  }
  return { sum, mean, m2, m3, m4 };
}

/**
 * f64 CPU path: every feature of `features` over the trailing windows of `w` points of `x`.
 * The sorted window (median, quantiles, min/max) is updated in O(w) per point; the other features are
 * evaluated per window in O(w) (no running-sum differences).
 */
export function featureSetCpu(
  x: Float64Array,
  w: number,
  features: readonly string[],
): Map<string, Float64Array> {
  const n = x.length;
  const out = new Map(features.map((f) => [f, new Float64Array(n).fill(NaN)]));
  if (features.length === 0) return out;
  const higher = features.some((f) => f === "skewness" || f === "kurtosis");
  const sorted = new Float64Array(w);
  let lastBad = -1;
  let sortedValid = false; // sorted holds the window ending at t - 1
  for (let t = 0; t < n; t++) {
    if (!Number.isFinite(x[t])) lastBad = t;
    const start = t - w + 1;
    if (start < 0 || lastBad >= start) {
      sortedValid = false;
      continue;
    }
    if (sortedValid) {
      // Drop x[start - 1], insert x[t].
      const i = lowerBound(sorted, w, x[start - 1]);
      sorted.copyWithin(i, i + 1, w);
      const j = lowerBound(sorted, w - 1, x[t]);
      sorted.copyWithin(j + 1, j, w - 1);
      sorted[j] = x[t];
    } else {
      sorted.set(x.subarray(start, t + 1));
      sorted.sort();
      sortedValid = true;
    }
    const win = x.subarray(start, t + 1);
    const m = moments(win, higher);
    for (const f of features) out.get(f)![t] = windowFeature(f, win, sorted, m);
  }
  return out;
}

/**
 * GPU path: every feature of `features` for every column and window. Mean, sum, std, variance (one
 * rolling-moment dispatch per kind for all columns and windows) and min/max (one min/max dispatch) run on
 * the GPU in f32; the other features run on the f64 CPU path. Returns out[column][window index].
 */
export async function featureSetGpu(
  rt: GpuRuntime,
  columns: Float64Array[],
  windows: number[],
  features: readonly string[],
): Promise<Map<string, Float64Array>[][]> {
  const want = (f: string) => features.includes(f);
  const gpuFeatures = features.filter((f) => GPU_FEATURES.has(f));
  const cpuFeatures = features.filter((f) => !GPU_FEATURES.has(f));
  const means = want("mean") || want("sum_values")
    ? await rollingMomentsGpu(rt, columns, windows, "mean")
    : null;
  const stds = want("standard_deviation") || want("variance")
    ? await rollingMomentsGpu(rt, columns, windows, "std", 0)
    : null;
  const minmax = want("minimum") || want("maximum") ? await rollingMinMaxGpu(rt, columns, windows) : null;
  return columns.map((x, c) =>
    windows.map((w, i) => {
      const res = featureSetCpu(x, w, cpuFeatures);
      const all = new Map<string, Float64Array>();
      for (const f of features) {
        if (!gpuFeatures.includes(f)) {
          all.set(f, res.get(f)!);
          continue;
        }
        let v: Float64Array;
        if (f === "mean") v = means![c][i];
        else if (f === "sum_values") v = means![c][i].map((m) => m * w);
        else if (f === "standard_deviation") v = stds![c][i];
        else if (f === "variance") v = stds![c][i].map((s) => s * s);
        else v = minmax![c][f === "minimum" ? 2 * i : 2 * i + 1];
        all.set(f, v);
      }
      return all;
    })
  );
}
