/**
 * The moment, order-free and mean-crossing features of the feature sets on WebGPU (shaders/feature_stats.wgsl,
 * dispatched by kernels/window_features.ts): length, sum_values, mean, variance, standard_deviation, minimum,
 * maximum, skewness, kurtosis, mean_abs_change, linear_trend slope, number_peaks (n = 1), longest strikes
 * above/below the mean and counts above/below the mean, all from one window in two O(w) passes. The f64
 * reference is `featureSetCpu` (kernels/feature_sets.ts; the tsfresh definitions are in
 * kernels/feature_calculators.ts).
 */
import type { WindowShader } from "./window_features.ts";
import type { Tolerance } from "./kernel.ts";

/** The shader and its output planes. */
export const FEATURE_STATS: WindowShader = {
  shader: "feature_stats",
  planes: [
    "length",
    "sum_values",
    "mean",
    "variance",
    "standard_deviation",
    "minimum",
    "maximum",
    "skewness",
    "kurtosis",
    "mean_abs_change",
    "linear_trend__attr_slope",
    "number_peaks__n_1",
    "longest_strike_above_mean",
    "longest_strike_below_mean",
    "count_above_mean",
    "count_below_mean",
  ],
  shifted: ["mean", "minimum", "maximum"],
  loops: (w) => 3 * w,
};

/**
 * f32 tolerances (|gpu - f64| <= atol + rtol |f64| + stol S, S = max |x - x_0|). The moments inherit the
 * input's f32 storage error (~6e-8 S per value); skewness and kurtosis are ratios of central moments whose
 * f32 sums lose ~w eps relative to the spread; counts and strikes compare each value with the f32 mean, so a
 * value within ~1e-6 S of the mean may be counted on the other side (a flip), which tick-rounded prices make
 * rare; number_peaks compares values only, and f32 rounding keeps their order.
 */
export const FEATURE_STATS_TOLERANCE: Readonly<Record<string, Tolerance>> = {
  length: { atol: 0, rtol: 0, stol: 0 },
  sum_values: { atol: 2e-5, rtol: 2e-5, stol: 1e-7 }, // times w (applied by the caller)
  mean: { atol: 2e-5, rtol: 2e-5, stol: 1e-7 },
  variance: { atol: 2e-5, rtol: 1e-4, stol: 1e-7 }, // times 2 * std (applied by the caller)
  standard_deviation: { atol: 2e-5, rtol: 5e-5, stol: 1e-7 },
  minimum: { atol: 0, rtol: 0, stol: 1e-7 },
  maximum: { atol: 0, rtol: 0, stol: 1e-7 },
  skewness: { atol: 2e-3, rtol: 2e-3, stol: 0 },
  kurtosis: { atol: 5e-3, rtol: 2e-3, stol: 0 },
  mean_abs_change: { atol: 2e-5, rtol: 1e-4, stol: 1e-7 },
  linear_trend__attr_slope: { atol: 2e-5, rtol: 1e-3, stol: 1e-7 },
  number_peaks__n_1: { atol: 0, rtol: 0, stol: 0 },
  longest_strike_above_mean: { atol: 0, rtol: 0, stol: 0, flips: 1e-3 },
  longest_strike_below_mean: { atol: 0, rtol: 0, stol: 0, flips: 1e-3 },
  count_above_mean: { atol: 0, rtol: 0, stol: 0, flips: 1e-3 },
  count_below_mean: { atol: 0, rtol: 0, stol: 0, flips: 1e-3 },
};
