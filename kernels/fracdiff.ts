/**
 * Fractional differentiation with a fixed-width window (FFD, López de Prado 2018, ch. 5):
 * w_0 = 1, w_k = -w_{k-1} (d - k + 1) / k, truncated at the first |w_k| < threshold; y_t = sum_{k<W} w_k x_{t-k},
 * NaN until W points of history exist (or when a NaN/Inf lies in the window). Causal.
 * The GPU path convolves directly (shaders/fracdiff_direct.wgsl) for short filters and by FFT
 * (fft_convolve.ts) for long ones; several d values run in one pass. Weights are computed in f64 on the host.
 */
import type { GpuRuntime } from "../runtime/gpu.ts";
import { centre, runSegmented, segmentGroups } from "../runtime/segments.ts";
import {
  CPU_FFT_MIN_WEIGHTS,
  cpuFftGrid,
  fftConvolveCausalCpu,
  fftConvolveCausalGpu,
  GPU_FFT_MIN_WEIGHTS,
} from "./fft_convolve.ts";
import { defineKernel, ORIGIN_PARAM, perPlane } from "./kernel.ts";
import { UsageError } from "../runtime/errors.ts";
import { LIMITS } from "../runtime/limits.ts";

/**
 * FFD weights for `d`, truncated where |w_k| < threshold (w_0 = 1 is always kept). With `maxLength` given the
 * weights stop there (a deliberate truncation); without it a threshold that needs more than
 * LIMITS.ffdWeights weights is a UsageError (see {@link ffdWeightsProblem}) rather than a silent cut.
 */
export function ffdWeights(d: number, threshold = 1e-5, maxLength?: number): Float64Array {
  const cap = maxLength ?? LIMITS.ffdWeights;
  const w = [1];
  for (let k = 1; k < cap; k++) {
    const next = -w[k - 1] * (d - k + 1) / k;
    if (Math.abs(next) < threshold) return Float64Array.from(w);
    w.push(next);
  }
  if (maxLength === undefined && Math.abs(w[cap - 1] * (d - cap + 1) / cap) >= threshold) {
    throw new UsageError(`fracdiff: ${ffdWeightsProblem(d, threshold)}`);
  }
  return Float64Array.from(w);
}

/**
 * Why `threshold` is refused for `d` (undefined when it is fine): it would need more than LIMITS.ffdWeights
 * weights (|w_k| decays like k^(-1-d), so a tiny threshold asks for billions). The message names the least
 * threshold that fits, e.g. `d = 0.1 at threshold 1e-7 needs more than 16384 FFD weights (at most 16384:
 * use a threshold >= 2.2e-6 for this d)`.
 */
export function ffdWeightsProblem(d: number, threshold: number): string | undefined {
  const cap = LIMITS.ffdWeights;
  if (ffdWeights(d, threshold, cap + 1).length <= cap) return undefined;
  const w = ffdWeights(d, 0, cap + 1);
  // The least threshold that cuts at the cap, rounded up to 2 significant digits.
  const least = Math.abs(w[cap]), unit = 10 ** (Math.floor(Math.log10(least)) - 1);
  const up = Math.ceil(least / unit) * unit;
  return `d = ${d} at threshold ${threshold} needs more than ${cap} FFD weights (at most ${cap}: ` +
    `use a threshold >= ${up >= 1e-3 ? Number(up.toPrecision(2)) : up.toExponential(1)} for this d)`;
}

/**
 * {@link ffdWeightsProblem} for every d a minimum-d search may try (a 0.01 grid over (0, 1); the weight count is
 * smooth in d): the first problem, or undefined.
 */
export function ffdSearchProblem(threshold: number): string | undefined {
  for (let i = 1; i < 100; i++) {
    const why = ffdWeightsProblem(i / 100, threshold);
    if (why) return `${why}, which the minimum-d search may try`;
  }
  return undefined;
}

/** f64 CPU reference: direct FFD convolution of `x` with `w`. */
export function convolveCausalCpu(x: Float64Array, w: Float64Array): Float64Array {
  const n = x.length, m = w.length;
  const out = new Float64Array(n).fill(NaN);
  let lastBad = -1;
  for (let t = 0; t < n; t++) {
    if (!Number.isFinite(x[t])) lastBad = t;
    if (t + 1 < m || lastBad > t - m) continue;
    let acc = 0;
    for (let k = 0; k < m; k++) acc += w[k] * x[t - k];
    out[t] = acc;
  }
  return out;
}

/** WebGPU direct convolution of every column with every filter; out[column][filter]. */
export async function convolveCausalDirectGpu(
  rt: GpuRuntime,
  columns: Float64Array[],
  filters: Float64Array[],
): Promise<Float64Array[][]> {
  const pipeline = await rt.pipeline("fracdiff_direct");
  const sums = filters.map((w) => w.reduce((a, b) => a + b, 0));
  const planes = filters.length;
  return runSegmented(rt, {
    columns: columns.map((x) => [x]),
    halo: Math.max(...filters.map((w) => w.length)) - 1,
    planes,
    bindBytesPerPoint: 4 * planes,
    totalBytesPerPoint: 8 + 8 * planes,
    // Convolution is linear: FFD(x - c) = FFD(x) - c * sum(w), so centring costs nothing to undo.
    prepare: (c) => {
      const off = centre(c[0]);
      return { offsets: [off], add: sums.map((s) => off * s) };
    },
    encode: (b, io) => {
      const table = new Uint32Array(planes * 2);
      let at = 0;
      filters.forEach((w, i) => (table.set([at, w.length], i * 2), at += w.length));
      const weights = new Float32Array(at);
      filters.forEach((w, i) => weights.set(w, table[i * 2]));
      const groups = Math.ceil(io.maxLen / 4);
      const gx = segmentGroups(rt, groups);
      b.dispatchNamed(pipeline, {
        x: io.inputs[0],
        segs: io.segs,
        out: io.out,
        weights: b.upload(weights),
        filters: b.upload(table),
        P: { total: io.total, nweights: at },
      }, [
        gx,
        io.nSegs,
        planes,
      ]);
      return Promise.resolve();
    },
  });
}

/**
 * Fractional differences of every column for every d: out[column][d index]. Filters shorter than
 * GPU_FFT_MIN_WEIGHTS run by direct convolution, longer ones by FFT (kernels/fft_convolve.ts), each group
 * in one pass.
 */
export async function fracdiffGpu(
  rt: GpuRuntime,
  columns: Float64Array[],
  ds: number[],
  threshold = 1e-5,
): Promise<Float64Array[][]> {
  const filters = ds.map((d) => ffdWeights(d, threshold));
  const out = columns.map(() => new Array<Float64Array>(filters.length));
  const long = filters.map((w) => w.length >= GPU_FFT_MIN_WEIGHTS);
  for (const fft of [false, true]) {
    const idx = filters.flatMap((_, i) => (long[i] === fft ? [i] : []));
    if (!idx.length) continue;
    const run = fft ? fftConvolveCausalGpu : convolveCausalDirectGpu;
    const res = await run(rt, columns, idx.map((i) => filters[i]));
    res.forEach((planes, c) => idx.forEach((i, k) => (out[c][i] = planes[k])));
  }
  return out;
}

/** FFD parameters: order, weight threshold, and the absolute row of the first input point (chunks). */
export type FracdiffParams = { d: number; threshold: number; origin?: number };

/** Fractional differentiation (FFD) of one series. */
export const fracdiff: import("./kernel.ts").Kernel<FracdiffParams> = defineKernel({
  name: "fracdiff",
  summary: "fixed-width-window fractional differentiation (FFD)",
  inputs: 1,
  params: {
    d: { type: "float", min: 0, max: 2, default: 0.4, doc: "differentiation order" },
    threshold: { type: "float", min: 0, exclusiveMin: true, default: 1e-5, doc: "weight truncation |w_k|" },
    origin: ORIGIN_PARAM,
  },
  check: (p) => {
    const why = ffdWeightsProblem(p.d, p.threshold);
    return why && `--threshold: ${why}`;
  },
  causal: () => true,
  // sum |w_k| <= 2: the f32 input error (~6e-8 |x - x_0|) passes through at most doubled, plus accumulation.
  tolerance: { atol: 1e-5, rtol: 1e-5, stol: 5e-7 },
  conformance: [{ d: 0.4, threshold: 1e-3 }, { d: 0.4 }, { d: 0.1, threshold: 1e-4 }, { d: 1 }],
  typical: { d: 0.4, threshold: 1e-5 },
  history: (p) => ffdWeights(p.d, p.threshold).length - 1,
  grid: (p) => {
    const W = ffdWeights(p.d, p.threshold).length;
    return W >= CPU_FFT_MIN_WEIGHTS ? cpuFftGrid(W, 1) : 1;
  },
  cpu: ([x], p) => {
    const w = ffdWeights(p.d, p.threshold);
    return w.length >= CPU_FFT_MIN_WEIGHTS
      ? fftConvolveCausalCpu(x, [w], p.origin)[0]
      : convolveCausalCpu(x, w);
  },
  gpu: (rt, cols, planes) =>
    // One dispatch takes every d of one threshold.
    planes.every((p) => p.threshold === planes[0].threshold)
      ? fracdiffGpu(rt, cols.map((c) => c[0]), planes.map((p) => p.d), planes[0]?.threshold)
      : perPlane(planes, async (p) =>
        (await fracdiffGpu(rt, cols.map((c) => c[0]), [p.d], p.threshold)).map((o) => o[0])),
});
