/**
 * Fractional differentiation with a fixed-width window (FFD, López de Prado 2018, ch. 5):
 * w_0 = 1, w_k = -w_{k-1} (d - k + 1) / k, truncated at the first |w_k| < threshold; y_t = sum_{k<W} w_k x_{t-k},
 * NaN until W points of history exist (or when a NaN/Inf lies in the window). Causal.
 * The GPU path convolves directly (shaders/fracdiff_direct.wgsl) for short filters and by FFT
 * (fft_convolve.ts) for long ones; several d values run in one pass. Weights are computed in f64 on the host.
 */
import type { GpuRuntime } from "../runtime/gpu.ts";
import { centre, runSegmented } from "../runtime/segments.ts";
import {
  CPU_FFT_MIN_WEIGHTS,
  fftConvolveCausalCpu,
  fftConvolveCausalGpu,
  GPU_FFT_MIN_WEIGHTS,
} from "./fft_convolve.ts";
import { defineKernel } from "./kernel.ts";

/** FFD weights for `d`, truncated where |w_k| < threshold (w_0 = 1 is always kept). */
export function ffdWeights(d: number, threshold = 1e-5, maxLength = 1 << 20): Float64Array {
  const w = [1];
  for (let k = 1; k < maxLength; k++) {
    const next = -w[k - 1] * (d - k + 1) / k;
    if (Math.abs(next) < threshold) break;
    w.push(next);
  }
  return Float64Array.from(w);
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
      const gx = Math.min(Math.ceil(groups / 64), rt.limits.maxWorkgroupsPerDim);
      const params = new Uint32Array([io.total, at, 0, 0]);
      b.dispatch(pipeline, [
        io.inputs[0],
        io.segs,
        io.out,
        b.upload(weights),
        b.upload(table),
        b.uniform(params.buffer),
      ], [
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

/** Fractional differentiation (FFD) of one series. */
export const fracdiff: import("./kernel.ts").Kernel<{ d: number; threshold: number }> = defineKernel({
  name: "fracdiff",
  summary: "fixed-width-window fractional differentiation (FFD)",
  inputs: 1,
  params: {
    d: { type: "float", min: 0, max: 2, default: 0.4, doc: "differentiation order" },
    threshold: { type: "float", min: 0, exclusiveMin: true, default: 1e-5, doc: "weight truncation |w_k|" },
  },
  causal: () => true,
  // sum |w_k| <= 2: the f32 input error (~6e-8 |x - x_0|) passes through at most doubled, plus accumulation.
  tolerance: { atol: 1e-5, rtol: 1e-5, stol: 5e-7 },
  history: (p) => ffdWeights(p.d, p.threshold).length - 1,
  cpu: ([x], p) => {
    const w = ffdWeights(p.d, p.threshold);
    return w.length >= CPU_FFT_MIN_WEIGHTS ? fftConvolveCausalCpu(x, [w])[0] : convolveCausalCpu(x, w);
  },
  gpu: async (rt, cols, p) =>
    (await fracdiffGpu(rt, cols.map((c) => c[0]), [p.d], p.threshold)).map((o) => o[0]),
});
