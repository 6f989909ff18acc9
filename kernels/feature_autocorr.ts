/**
 * The autocorrelation features of the feature sets on WebGPU (shaders/feature_autocorr.wgsl, dispatched by
 * kernels/window_features.ts): autocorrelation at lags 1..10 and partial_autocorrelation at lags 1..5, from one
 * window's mean and its lagged sums of products (lags 0..10) in O(11 w), then Levinson-Durbin in the shader. The
 * f64 reference is `featureSetCpu` (kernels/feature_sets.ts; tsfresh's definitions:
 * kernels/feature_calculators.ts): autocorrelation is NaN where lag >= w or the window's variance is within 1e-8 of
 * 0; partial_autocorrelation (statsmodels' "ld") is NaN above lag min(5, w // 2 - 1). A constant window gives NaN
 * at every lag on both paths (0 / 0, whatever the rounding of its mean).
 */
import type { WindowShader } from "./window_features.ts";
import type { Tolerance } from "./kernel.ts";

/** The shader and its output planes: autocorrelation lags 1..10, then partial_autocorrelation lags 1..5. */
export const FEATURE_AUTOCORR: WindowShader = {
  shader: "feature_autocorr",
  planes: [
    ...Array.from({ length: 10 }, (_, i) => `autocorrelation__lag_${i + 1}`),
    ...Array.from({ length: 5 }, (_, i) => `partial_autocorrelation__lag_${i + 1}`),
  ],
  // Window check and mean (2 w), lagged sums (<= 11 w + 11), output and Levinson-Durbin loops (<= 51).
  loops: (w) => 13 * w + 62,
};

/**
 * f32 tolerances (|gpu - f64| <= atol + rtol |f64| + stol S, S = max |x - x_0|), measured on
 * tests/feature_gpu_spectral_test.ts. autocorrelation and partial_autocorrelation at lag 1 are ratios of sums
 * of products of deviations from the window mean: their error is the f32 storage error of x - x_0 (~6e-8 S
 * per value) relative to the window's spread, largest for the shortest windows (up to ~1e-4 at w = 3 on
 * prices near 1e4, growing with S). Lags 2..5 of partial_autocorrelation divide by the Levinson-Durbin
 * residual variance, which the storage error alone makes ill-determined where it is near 0 (the adjusted
 * autocovariance near singular, |pacf| unbounded there): within 2e-3 wherever that residual is at least 1% of
 * the variance, and `flips` admits the rarer near-singular windows (about 1 in 5,000 on random walks).
 */
export const FEATURE_AUTOCORR_TOLERANCE: Readonly<Record<string, Tolerance>> = Object.fromEntries(
  FEATURE_AUTOCORR.planes.map((f) => [
    f,
    f === "partial_autocorrelation__lag_1" || f.startsWith("autocorrelation")
      ? { atol: 3e-4, rtol: 0, stol: 0 }
      : { atol: 2e-3, rtol: 2e-3, stol: 0, flips: 1e-3 },
  ]),
);
