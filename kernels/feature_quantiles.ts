/**
 * The order-statistic features of the feature sets on WebGPU (shaders/feature_quantiles.wgsl, dispatched by
 * kernels/window_features.ts): median, quantiles 0.1, 0.9 and 0.2, 0.3, 0.4, 0.6, 0.7, 0.8 (numpy's linear
 * interpolation), found by rank counting in O(w^2) per window with no per-window storage, and the flags
 * large_standard_deviation (r = 0.25) and symmetry_looking (r = 0.05) from the same window's sum, extrema and one
 * more O(w) pass. The f64 reference is `featureSetCpu` (kernels/feature_sets.ts; tsfresh's definitions:
 * kernels/feature_calculators.ts).
 */
import type { WindowShader } from "./window_features.ts";
import type { Tolerance } from "./kernel.ts";

/** The quantiles of the shader besides the median, in plane order. */
const QUANTILES = ["0.1", "0.9", "0.2", "0.3", "0.4", "0.6", "0.7", "0.8"].map((q) => `quantile__q_${q}`);

/** The shader and its output planes (the order statistics in the input's units, so x_0 is added back). */
export const FEATURE_QUANTILES: WindowShader = {
  shader: "feature_quantiles",
  planes: ["median", ...QUANTILES, "large_standard_deviation__r_0.25", "symmetry_looking__r_0.05"],
  shifted: ["median", ...QUANTILES],
  // window_at's NaN scan (w) + the rank loop (w) and its inner count (w^2) + the second-moment pass (w).
  loops: (w) => w * w + 3 * w,
};

/**
 * f32 tolerances (|gpu - f64| <= atol + rtol |f64| + stol S, S = max |x - x_0|). The order statistics are
 * exact f32 copies of x - x_0 (rounding is monotone: no comparison can flip), so the error is their storage
 * rounding (<= 2^-24 S) plus the rounding of the interpolation (<= 2^-24 S for the sum, plus ~2^-24 of the
 * gap between the two order statistics): <= 1.2e-7 S unless that gap is a sizeable part of S, 2.4e-7 S at
 * the very worst; measured <= 1.0e-7 S. The two flags compare f32 values against a threshold (the std
 * against 0.25 of the range, |mean - median| against 0.05 of it) and may decide the other way than f64 where
 * the two sides lie within rounding. For symmetry_looking that happens structurally: a window of
 * tick-quantized prices, or a constant stretch with one other value (|mean - median| = |a - c| / w and
 * 0.05 of the range = |a - c| / 20 at w = 20), puts the two sides exactly level, and each path decides the
 * tie by its rounding (worst seen 2e-3 of the points of tests/feature_gpu_order_test.ts); none seen for
 * large_standard_deviation.
 */
export const FEATURE_QUANTILES_TOLERANCE: Readonly<Record<string, Tolerance>> = {
  median: { atol: 0, rtol: 0, stol: 2e-7 },
  ...Object.fromEntries(QUANTILES.map((q) => [q, { atol: 0, rtol: 0, stol: 2e-7 }])),
  "large_standard_deviation__r_0.25": { atol: 0, rtol: 0, stol: 0, flips: 1e-3 },
  "symmetry_looking__r_0.05": { atol: 0, rtol: 0, stol: 0, flips: 5e-3 },
};
