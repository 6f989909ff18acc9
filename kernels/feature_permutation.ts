/**
 * Permutation entropy of the comprehensive feature set on WebGPU (shaders/feature_permutation.wgsl, dispatched
 * by kernels/window_features.ts): tsfresh's ComprehensiveFCParameters grid, tau = 1 and dimension 3 .. 7, in
 * one pass that stores each position's ordinal-pattern code in a private array (so windows of at most
 * {@link FEATURE_PERMUTATION}.maxWindow rows) and one O(w^2) loop of u32 code comparisons. The f64 reference
 * is `featureSetCpu` (kernels/feature_sets.ts; the tsfresh definition is in kernels/feature_calculators.ts).
 */
import type { WindowShader } from "./window_features.ts";
import type { Tolerance } from "./kernel.ts";

/** The permutation-entropy dimensions the shader computes (tau = 1). */
export const PERMUTATION_DIMENSIONS = [3, 4, 5, 6, 7] as const;

/** The shader and its output planes. */
export const FEATURE_PERMUTATION: WindowShader = {
  shader: "feature_permutation",
  planes: PERMUTATION_DIMENSIONS.map((d) => `permutation_entropy__dimension_${d}__tau_1`),
  // window_at's NaN scan (w), the codes (w - 2), the position pairs ((w - 2)^2 inner, w - 2 outer) and 1
  // (llvmpipe cuts an invocation off at its 65,535th iteration): w^2 - w + 1. Measured: w = 256 (65,280
  // iterations) runs fully, w = 257 (65,792) is cut short; checkLoopBudget's 60,000 allows w <= 245.
  loops: (w) => w * w - w + 1,
  // The private code array holds w - 2 <= 256 positions; 256 keeps the limit a round number.
  maxWindow: 256,
};

/**
 * f32 tolerances (|gpu - f64| <= atol + rtol |f64| + stol S). The pattern counts are exact integers and the
 * entropy comes from the product of the c_i / k (k rounding errors of eps / 2 each, i.e. ~eps in the
 * entropy after the 1/k), its exponent times ln 2 and WGSL's log: a few ulp of the entropy (llvmpipe
 * measures <= 6.9e-7 on entropies up to ln 7! = 8.5). What f32 cannot match is two values of a subchunk
 * within ~2^-24 S of each other (S = max |x - x_0|): rounding keeps their order but may make them equal,
 * and an earlier larger value tied with a later one ranks first (by position), changing the pattern of every
 * subchunk holding both, and the entropy by ~log(k) / k, in each window holding them (up to w in a row).
 * Measured: one such pair in the 4.2e5 rows checked (1 of 1,418 segment windows of up to 240 rows, values
 * 2.3e-9 apart; none in four 60,000-row series at w = 20 and 100); `flips` (5e-3) covers one per 5e4 rows
 * at w = 256. Exact ties (tick prices) stay ties in f32.
 */
export const FEATURE_PERMUTATION_TOLERANCE: Readonly<Record<string, Tolerance>> = Object.fromEntries(
  FEATURE_PERMUTATION.planes.map((f) => [f, { atol: 1e-6, rtol: 1e-6, stol: 0, flips: 5e-3 }]),
);
