/**
 * The energy, change, extremum-location and dispersion features of the comprehensive set on WebGPU
 * (shaders/feature_extra.wgsl, dispatched by kernels/window_features.ts): abs_energy, root_mean_square,
 * absolute_maximum, absolute_sum_of_changes, mean_change, mean_second_derivative_central,
 * variance_larger_than_standard_deviation, has_duplicate_max / min, first / last_location_of_maximum / minimum,
 * cid_ce (normalize = True) and ratio_beyond_r_sigma (r = 1, 2), all from one window in three O(w) passes. The f64
 * reference is `featureSetCpu` (kernels/feature_sets.ts; tsfresh's definitions: kernels/feature_calculators.ts).
 */
import type { WindowShader } from "./window_features.ts";
import type { Tolerance } from "./kernel.ts";

/** The shader and its output planes. */
export const FEATURE_EXTRA: WindowShader = {
  shader: "feature_extra",
  planes: [
    "abs_energy",
    "root_mean_square",
    "absolute_maximum",
    "absolute_sum_of_changes",
    "mean_change",
    "mean_second_derivative_central",
    "variance_larger_than_standard_deviation",
    "has_duplicate_max",
    "has_duplicate_min",
    "first_location_of_maximum",
    "first_location_of_minimum",
    "last_location_of_maximum",
    "last_location_of_minimum",
    "cid_ce__normalize_True",
    "ratio_beyond_r_sigma__r_1",
    "ratio_beyond_r_sigma__r_2",
  ],
  // abs_energy, root_mean_square and absolute_maximum are not shift-equivariant: the shader adds x_0 itself.
  shifted: [],
  loops: (w) => 4 * w,
};

/**
 * f32 tolerances (|gpu - f64| <= atol + rtol |f64| + stol S, S = max |x - x_0|), measured on the series of
 * tests/feature_gpu_extra_test.ts with about 2-3x margin. abs_energy and root_mean_square are relative: both
 * terms of sum (x - m)^2 + w m^2 are non-negative, so the f32 result keeps ~1e-6 of its value (worst seen
 * 1.5e-6 and 7e-7); absolute_maximum adds x_0 back in f32 (one rounding of |x|) on top of the input's f32
 * storage error (~6e-8 S); absolute_sum_of_changes sums w - 1 changes, each carrying the storage error (atol
 * and stol per row of the window, like sum_values, scaled by the caller); mean_change and
 * mean_second_derivative_central are differences of 2 and 4 stored values (worst 1e-7 S); the locations are
 * one or two f32 roundings of i / w, the ratios one of count / w. cid_ce divides the changes by the window's
 * f32 std, so the storage error counts relative to that std (worst seen 2.3e-5 relative). The flags, the
 * locations and the ratios beyond r std compare f32 values: two values that differ in f64 may round to the
 * same f32 (a tie decided the other way), and |x - mean| may lie within rounding of r std (a flip; worst seen
 * 2 of 2,802 points for r = 1, none elsewhere). At w = 2 both points lie exactly 1 std from their mean, so
 * ratio_beyond_r_sigma with r = 1 is decided by rounding on both paths (the test leaves it out there).
 */
export const FEATURE_EXTRA_TOLERANCE: Readonly<Record<string, Tolerance>> = {
  abs_energy: { atol: 0, rtol: 5e-6, stol: 0 },
  root_mean_square: { atol: 0, rtol: 3e-6, stol: 0 },
  absolute_maximum: { atol: 0, rtol: 5e-7, stol: 2e-7 },
  absolute_sum_of_changes: { atol: 2e-5, rtol: 1e-4, stol: 1e-7 }, // times w (applied by the caller)
  mean_change: { atol: 0, rtol: 0, stol: 3e-7 },
  mean_second_derivative_central: { atol: 0, rtol: 0, stol: 3e-7 },
  variance_larger_than_standard_deviation: { atol: 0, rtol: 0, stol: 0, flips: 1e-3 },
  has_duplicate_max: { atol: 0, rtol: 0, stol: 0, flips: 1e-3 },
  has_duplicate_min: { atol: 0, rtol: 0, stol: 0, flips: 1e-3 },
  first_location_of_maximum: { atol: 2e-7, rtol: 0, stol: 0, flips: 1e-3 },
  first_location_of_minimum: { atol: 2e-7, rtol: 0, stol: 0, flips: 1e-3 },
  last_location_of_maximum: { atol: 2e-7, rtol: 0, stol: 0, flips: 1e-3 },
  last_location_of_minimum: { atol: 2e-7, rtol: 0, stol: 0, flips: 1e-3 },
  cid_ce__normalize_True: { atol: 5e-5, rtol: 5e-5, stol: 0 },
  ratio_beyond_r_sigma__r_1: { atol: 1e-7, rtol: 0, stol: 0, flips: 2e-3 },
  ratio_beyond_r_sigma__r_2: { atol: 1e-7, rtol: 0, stol: 0, flips: 2e-3 },
};
