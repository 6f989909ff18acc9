/**
 * tsfresh's fft_aggregated features on WebGPU (shaders/feature_fft.wgsl, dispatched by
 * kernels/window_features.ts): the centroid, variance, skew and kurtosis of |rfft(x)| over the bin index
 * (DC bin included), by a direct DFT of each window, O(w^2 / 4) twiddles per window. The f64 reference is
 * `featureSetCpu` (kernels/feature_sets.ts): skew and kurtosis are NaN where the variance is below 0.5, and
 * tsfresh's kurtosis formula is kept as is.
 */
import type { WindowShader } from "./window_features.ts";
import type { Tolerance } from "./kernel.ts";

/** The shader and its output planes. */
export const FEATURE_FFT: WindowShader = {
  shader: "feature_fft",
  planes: [
    "fft_aggregated__aggtype_centroid",
    "fft_aggregated__aggtype_variance",
    "fft_aggregated__aggtype_skew",
    "fft_aggregated__aggtype_kurtosis",
  ],
  // Window check and sum (2 w), then per bin 1..w/2 one iteration per pair of rows (j, w - j).
  loops: (w) => {
    const h = Math.floor(w / 2);
    return 2 * w + h * (1 + Math.floor((w - 1) / 2)) + 1;
  },
};

/**
 * f32 tolerances (|gpu - f64| <= atol + rtol |f64| + stol S, S = max |x - x_0|), measured on
 * tests/feature_gpu_spectral_test.ts (llvmpipe's cos/sin). The bins k >= 1 are taken of the centred window,
 * so their f32 error is relative to the window's spread; the DC bin is accurate to f32 rounding of the level;
 * the aggregates are then accurate to a few 1e-6 relative (skew, a difference of moments that may be near 0,
 * also absolutely). skew/kurtosis are NaN where the bin variance is below 0.5: f32 could decide that
 * differently only within ~1e-5 (relative) of 0.5; the tests' data comes no closer than 5e-5, so no flips.
 */
export const FEATURE_FFT_TOLERANCE: Readonly<Record<string, Tolerance>> = {
  fft_aggregated__aggtype_centroid: { atol: 3e-7, rtol: 1e-5, stol: 0 },
  fft_aggregated__aggtype_variance: { atol: 1e-6, rtol: 2e-5, stol: 0 },
  fft_aggregated__aggtype_skew: { atol: 3e-5, rtol: 3e-5, stol: 0 },
  fft_aggregated__aggtype_kurtosis: { atol: 1e-5, rtol: 1e-4, stol: 0 },
};
