/**
 * The peak and third-order lag features of the comprehensive set on WebGPU (shaders/feature_lags.wgsl,
 * dispatched by kernels/window_features.ts): number_peaks with n = 3, 5, 10, c3 and
 * time_reversal_asymmetry_statistic with lag 1, 2, 3, in three O(w) passes (the peak pass looks at up to 10
 * neighbours per point). The f64 reference is `featureSetCpu` (kernels/feature_sets.ts; the tsfresh
 * definitions are in kernels/feature_calculators.ts).
 */
import type { WindowShader } from "./window_features.ts";
import type { Tolerance } from "./kernel.ts";

/** The shader and its output planes. */
export const FEATURE_LAGS: WindowShader = {
  shader: "feature_lags",
  planes: [
    ...[3, 5, 10].map((n) => `number_peaks__n_${n}`),
    ...[1, 2, 3].map((lag) => `c3__lag_${lag}`),
    ...[1, 2, 3].map((lag) => `time_reversal_asymmetry_statistic__lag_${lag}`),
  ],
  // c3 and the asymmetry statistic are not shift-equivariant: the shader adds x_0 itself.
  shifted: [],
  // window_at's NaN scan (w) + the peak pass (w, up to 10 neighbour steps each) + the lag pass (w).
  loops: (w) => 13 * w,
};

/**
 * f32 tolerances: |gpu - f64| <= atol + rtol |f64| + stol S X^2, S = max |x - x_0| and X = max |x| of the
 * column (the caller multiplies stol by X^2: c3 and the statistic are cubic in x), measured on the series of
 * tests/feature_gpu_lags_test.ts (windows 2 .. 200) with about 2.5-5x margin. The peak counts compare f32
 * copies of x - x_0: two neighbours that differ in f64 may round to the same f32 (a tie decided the other
 * way; none seen). c3 = M (M (M + s1) + s2) + s3 keeps ~1e-7 of its level M^3 (worst seen 3.9e-7 relative on
 * the price levels); where the window's values straddle 0 (returns) c3 is a small mean of signed products
 * and its error is the storage error of x - x_0 (2^-24 S per value) times the two other factors (worst seen
 * 1.9e-8 S X^2). The statistic is a mean of x1 (x2 - x0)(x2 + x0) whose differences x2 - x0 carry that
 * storage error, so its error is ~2^-24 S X^2 times a few however small the statistic (worst seen
 * 1.9e-7 S X^2; relative to the value up to 4e-2 where it nearly cancels).
 */
export const FEATURE_LAGS_TOLERANCE: Readonly<Record<string, Tolerance>> = {
  "number_peaks__n_3": { atol: 0, rtol: 0, stol: 0, flips: 1e-3 },
  "number_peaks__n_5": { atol: 0, rtol: 0, stol: 0, flips: 1e-3 },
  "number_peaks__n_10": { atol: 0, rtol: 0, stol: 0, flips: 1e-3 },
  ...Object.fromEntries([1, 2, 3].map((lag) => [`c3__lag_${lag}`, { atol: 0, rtol: 1e-6, stol: 1e-7 }])),
  ...Object.fromEntries(
    [1, 2, 3].map((
      lag,
    ) => [`time_reversal_asymmetry_statistic__lag_${lag}`, { atol: 0, rtol: 0, stol: 5e-7 }]),
  ),
};
