/**
 * Baxter-King band-pass filter (Baxter & King 1999, "Measuring business cycles: approximate band-pass filters
 * for economic time series", REStat 81(4)), exactly as statsmodels' `bkfilter(x, low, high, K)` computes it:
 * with omega_1 = 2 pi / high and omega_2 = 2 pi / low (periods in points, low < high),
 *   b_0 = (omega_2 - omega_1) / pi,   b_j = (sin(omega_2 j) - sin(omega_1 j)) / (pi j),  j = 1..K,
 *   a_j = b_|j| - mean(b_-K..b_K)     (so the 2K + 1 weights sum to zero: a trend or level passes as 0),
 * computed in f64 on the host. It keeps cycles with periods between `low` and `high` points.
 *
 * Modes (every output NaN when a NaN/Inf lies in its window):
 * - `symmetric`: y_t = sum_{j=-K..K} a_j x_{t+j}, statsmodels' bkfilter; NaN for the first and the last K
 *   points (statsmodels drops them; here the length is kept). Uses K points AFTER t: not causal.
 * - `causal` (default): the symmetric output lagged by K, y_t = y^sym_{t-K} = sum_{m=0..2K} a_{m-K} x_{t-m},
 *   which uses only x at or before t (NaN for the first 2K points). A cycle at period P comes out delayed by
 *   K points (a phase shift of 2 pi K / P); the gain is that of the symmetric filter.
 * - `fill` (option, default false): the NaN warm-up at each edge is filled with the nearest output (backward
 *   fill of the leading NaNs, forward fill of the trailing ones), as the original system did. The backward
 *   fill copies a later output into earlier rows, so a filled series is NOT causal in either mode;
 *   interior NaNs (from NaN inputs) stay NaN.
 *
 * The GPU path is the causal FIR filter on the direct-convolution shader of FFD (shaders/fracdiff_direct.wgsl
 * through `convolveCausalDirectGpu`: many columns in one dispatch, chunked with a 2K-point halo), then the
 * host shifts (symmetric) and fills (fill) the f64 result.
 */
import { UsageError } from "../runtime/errors.ts";
import type { GpuRuntime } from "../runtime/gpu.ts";
import { convolveCausalDirectGpu } from "./fracdiff.ts";
import { defineKernel, type Kernel, perPlane } from "./kernel.ts";
import { LIMITS } from "../runtime/limits.ts";

/** Baxter-King parameters. */
export interface BkParams {
  /** Shortest period kept, in points (> 1; default 6). */
  low: number;
  /** Longest period kept, in points (> low; default 32). */
  high: number;
  /** Half-length K of the filter (2K + 1 weights; default 12). */
  k: number;
  /** `causal` (default: the symmetric output lagged by K) or `symmetric` (statsmodels' bkfilter). */
  mode: string;
  /** Fill the NaN warm-up at the edges with the nearest output (NOT causal; default false). */
  fill: boolean;
  /** Index signature so the type satisfies `Params`. */
  [key: string]: number | boolean | string;
}

/** The Baxter-King modes. */
export const BK_MODES = ["causal", "symmetric"] as const;

/**
 * The 2K + 1 Baxter-King weights a_-K..a_K (symmetric, summing to zero), computed as statsmodels' bkfilter
 * does. Throws UsageError unless 2 <= low < high and K is an integer in [1, LIMITS.bkK].
 */
export function bkWeights(low: number, high: number, k: number): Float64Array {
  if (!(low >= 2 && high > low && Number.isFinite(high))) {
    throw new UsageError(`bk: expected periods 2 <= low < high, got low ${low}, high ${high}`);
  }
  // The cap keeps a huge k from allocating and looping over 2k + 1 weights whatever the series length.
  if (!(Number.isInteger(k) && k >= 1 && k <= LIMITS.bkK)) {
    throw new UsageError(`bk: expected an integer k in [1, ${LIMITS.bkK}], got ${k}`);
  }
  const omega1 = 2 * Math.PI / high, omega2 = 2 * Math.PI / low;
  const b = new Float64Array(2 * k + 1);
  b[k] = (omega2 - omega1) / Math.PI;
  for (let j = 1; j <= k; j++) {
    b[k + j] = b[k - j] = (1 / (Math.PI * j)) * (Math.sin(omega2 * j) - Math.sin(omega1 * j));
  }
  // Math.sin and numpy's sin may differ in the last bit, so the weights match statsmodels' to ~1e-16.
  const mean = b.reduce((acc, v) => acc + v, 0) / b.length;
  return b.map((v) => v - mean);
}

/**
 * f64 causal Baxter-King filter: y_t = sum_{m=0..2K} w_m x_{t-m} for the symmetric weights `w` (length
 * 2K + 1), folded as w_K x_{t-K} + sum_j w_{K+j} (x_{t-K-j} + x_{t-K+j}). NaN for t < 2K or when a NaN/Inf
 * lies in the window.
 */
export function bkCausalCpu(x: Float64Array, w: Float64Array): Float64Array {
  const n = x.length, span = w.length, k = (span - 1) >> 1;
  const out = new Float64Array(n).fill(NaN);
  let lastBad = -1;
  for (let t = 0; t < n; t++) {
    if (!Number.isFinite(x[t])) lastBad = t;
    if (t + 1 < span || lastBad > t - span) continue;
    const c = t - k;
    let acc = w[k] * x[c];
    for (let j = 1; j <= k; j++) acc += w[k + j] * (x[c - j] + x[c + j]);
    out[t] = acc;
  }
  return out;
}

/** Whether the kernel's output for `p` uses only inputs at or before t. */
export function bkIsCausal(p: Pick<BkParams, "mode" | "fill">): boolean {
  return p.mode === "causal" && !p.fill;
}

function checkMode(mode: string): void {
  if (!(BK_MODES as readonly string[]).includes(mode)) {
    throw new UsageError(`bk: mode expects one of ${BK_MODES.join(", ")}, got ${JSON.stringify(mode)}`);
  }
}

/** Turns a causal output (in place) into the requested mode: shift left by K for symmetric, then fill. */
function finishMode(y: Float64Array, p: BkParams): Float64Array {
  checkMode(p.mode);
  if (p.mode === "symmetric") {
    const k = Math.min(p.k, y.length);
    y.copyWithin(0, k);
    y.fill(NaN, y.length - k);
  }
  if (p.fill) fillEdges(y);
  return y;
}

/**
 * Fills the leading NaNs with the first non-NaN value (backward fill) and the trailing NaNs with the last one
 * (forward fill), in place; interior NaNs are kept. Looks ahead (the backward fill).
 */
export function fillEdges(y: Float64Array): Float64Array {
  let first = 0, last = y.length - 1;
  while (first < y.length && Number.isNaN(y[first])) first++;
  if (first === y.length) return y;
  while (Number.isNaN(y[last])) last--;
  y.fill(y[first], 0, first);
  y.fill(y[last], last + 1);
  return y;
}

/** f64 CPU path for one series. */
export function bkCpu(x: Float64Array, p: BkParams): Float64Array {
  return finishMode(bkCausalCpu(x, bkWeights(p.low, p.high, p.k)), p);
}

/** WebGPU path: every column through one filter in one pass (one dispatch per batch of segments). */
export async function bkGpu(rt: GpuRuntime, columns: Float64Array[], p: BkParams): Promise<Float64Array[]> {
  const w = bkWeights(p.low, p.high, p.k);
  checkMode(p.mode);
  const out = await convolveCausalDirectGpu(rt, columns, [w]);
  return out.map((planes) => finishMode(planes[0], p));
}

/** The Baxter-King band-pass filter of one series. */
export const bk: Kernel<BkParams> = defineKernel<BkParams>({
  name: "bk",
  summary: "Baxter-King band-pass filter (periods low..high, 2k+1 weights; causal = symmetric lagged by k)",
  inputs: 1,
  params: {
    low: {
      type: "float",
      min: 2,
      max: LIMITS.window,
      default: 6,
      doc: "shortest period kept, in points (< high)",
    },
    high: {
      type: "float",
      min: 2,
      exclusiveMin: true,
      max: LIMITS.window,
      default: 32,
      doc: "longest period kept, in points",
    },
    k: { type: "int", min: 1, max: LIMITS.bkK, default: 12, doc: "filter half-length (2k+1 weights)" },
    mode: {
      type: "choice",
      choices: BK_MODES,
      default: "causal",
      doc:
        "causal (statsmodels' output lagged by k, uses only the past) or symmetric (statsmodels' bkfilter)",
    },
    fill: {
      type: "bool",
      default: false,
      doc: "fill the NaN warm-up at the edges with the nearest output (looks ahead: NOT causal)",
    },
  },
  causal: bkIsCausal,
  // The input is centred on its first finite value (x - x_0, |x - x_0| <= S) before the f32 conversion;
  // its f32 storage error (~6e-8 S) passes through sum |a_j| (1.78 at 6, 32, 12; < 2 usually), the f32 weights
  // sum to ~1e-8 instead of 0, and the 2k+1-term f32 accumulation adds a few 1e-8 S. Measured worst on the
  // conformance fixture matrix and the statsmodels fixture: 1.5e-7 S for k <= 30 (3.5e-7 S at k = 100).
  tolerance: { atol: 1e-8, rtol: 1e-6, stol: 5e-7 },
  conformance: [{}, { mode: "symmetric" }, { low: 2, high: 8, k: 3 }, {
    low: 6,
    high: 24,
    k: 30,
    fill: true,
  }],
  typical: { low: 6, high: 32, k: 12, mode: "causal" },
  // The window's span (2k): causal outputs need 2k points of history; symmetric ones k before and k after t.
  history: (p) => 2 * p.k,
  cpu: ([x], p) => bkCpu(x, p),
  gpu: (rt, cols, planes) => perPlane(planes, (p) => bkGpu(rt, cols.map((c) => c[0]), p)),
});
