/**
 * The template-matching entropies of the comprehensive feature set on WebGPU (shaders/feature_entropy.wgsl,
 * dispatched by kernels/window_features.ts): sample_entropy and approximate_entropy (m = 2, r = 0.2 and tsfresh's
 * ComprehensiveFCParameters grid r = 0.1, 0.3, 0.5, 0.7, 0.9), from one O(w^2) template-pair loop per window (the
 * six r as vector lanes) with no per-template storage. Permutation entropy has its own kernel
 * (kernels/feature_permutation.ts). The f64 reference is `featureSetCpu` (kernels/feature_sets.ts; tsfresh's
 * definitions: kernels/feature_calculators.ts).
 */
import type { WindowShader } from "./window_features.ts";
import type { Tolerance } from "./kernel.ts";

/** approximate_entropy's r (m = 2) in plane order: the default 0.2, then tsfresh's grid. */
export const APEN_R = [0.2, 0.1, 0.3, 0.5, 0.7, 0.9] as const;

/** The shader and its output planes. */
export const FEATURE_ENTROPY: WindowShader = {
  shader: "feature_entropy",
  planes: ["sample_entropy", ...APEN_R.map((r) => `approximate_entropy__m_2__r_${r}`)],
  // window_at's NaN scan, mean and m2 (3w), the template pairs ((w - 1)^2 inner, w - 1 outer) and 1:
  // w^2 + 2w + 1. llvmpipe cuts this shader off exactly past 65,535: w = 254 (65,024 iterations) runs
  // fully, w = 255 (65,535) is cut short. The r grid adds none (vector lanes).
  loops: (w) => w * w + 2 * w + 1,
};

/**
 * f32 tolerances (|gpu - f64| <= atol + rtol |f64| + stol S). Pair counts are exact integers and the logs of
 * them are regrouped so that no sums of ~log w cancel (1e-6 covers WGSL's log accuracy, 2^-21 absolute on
 * [0.5, 2] and 3 ulp elsewhere; llvmpipe measures <= 4e-7). What f32 cannot match is a template distance
 * |x_i - x_j| within ~1e-6 relative of r std: the distances come from f32 copies of x - x_0 (off by up to
 * 2^-24 S, so the band widens with S / std) and r std from an f32 std, so such a pair may count on the other
 * side of the threshold. That moves sample entropy by ~2/A (A: the template-of-3 pair count; finite vs +Inf
 * where A is 0 or 2) and approximate entropy by up to ~2/k, at a fraction `flips` of the points that grows
 * ~w^2 (measured: 5e-4 at w = 100 on 2e4-row log prices, 2.8e-3 at w = 243, 1 of 160 segment windows of up
 * to 240 rows). A flip between B = 0 and B = 2 (NaN vs finite) would need a lone near-threshold pair in a
 * window of 4 or 5 rows and is not covered. The r grid has the same rounding (errors <= 2.5e-7 measured)
 * and flips: per r 7e-5 .. 4.3e-4 of the points at w = 100 and 9e-4 .. 1.6e-3 at w = 243 (five 3,000-row
 * series), up to 2.8e-3 of 1,436 segment windows of up to 240 rows.
 */
export const FEATURE_ENTROPY_TOLERANCE: Readonly<Record<string, Tolerance>> = {
  sample_entropy: { atol: 1e-6, rtol: 1e-6, stol: 0, flips: 1e-2 },
  ...Object.fromEntries(
    APEN_R.map((r) => [`approximate_entropy__m_2__r_${r}`, { atol: 1e-6, rtol: 1e-6, stol: 0, flips: 1e-2 }]),
  ),
};
