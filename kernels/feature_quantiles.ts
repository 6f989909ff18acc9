/**
 * The order-statistic features of the feature sets on WebGPU (shaders/feature_quantiles.wgsl, dispatched by
 * kernels/window_features.ts): median, quantile 0.1 and quantile 0.9 (numpy's linear interpolation), found by
 * rank counting in O(w^2) per window with no per-window storage. The f64 reference is `featureSetCpu`
 * (kernels/feature_sets.ts), which holds the tsfresh definitions.
 */
import type { FeatureTolerance, WindowShader } from "./window_features.ts";

/** The shader and its output planes (all in the input's units, so x_0 is added back). */
export const FEATURE_QUANTILES: WindowShader = {
  shader: "feature_quantiles",
  planes: ["median", "quantile__q_0.1", "quantile__q_0.9"],
  shifted: ["median", "quantile__q_0.1", "quantile__q_0.9"],
  // window_at's NaN scan (w) + the rank loop (w) and its inner count (w^2).
  loops: (w) => w * w + 2 * w,
};

/**
 * f32 tolerances (|gpu - f64| <= atol + rtol |f64| + stol S, S = max |x - x_0|). The order statistics are
 * exact f32 copies of x - x_0 (rounding is monotone: no comparison can flip), so the error is their storage
 * rounding (<= 2^-24 S) plus the rounding of the interpolation (<= 2^-24 S for the sum, plus ~2^-24 of the
 * gap between the two order statistics): <= 1.2e-7 S unless that gap is a sizeable part of S, 2.4e-7 S at
 * the very worst; measured <= 1.0e-7 S.
 */
export const FEATURE_QUANTILES_TOLERANCE: Readonly<Record<string, FeatureTolerance>> = {
  median: { atol: 0, rtol: 0, stol: 2e-7 },
  "quantile__q_0.1": { atol: 0, rtol: 0, stol: 2e-7 },
  "quantile__q_0.9": { atol: 0, rtol: 0, stol: 2e-7 },
};
