/**
 * Rolling mean, rolling standard deviation (ddof 0 or 1) and rolling z-score over trailing windows
 * (shaders/rolling_moments.wgsl). Both paths use the same block decomposition: the window ending at t is a
 * suffix of the previous block of W points merged with a prefix of the current one, so each point costs
 * O(1) whatever W is, and only Welford additions and Chan merges are used (no running-sum differences).
 * Output at t is NaN when t < W - 1 or the window holds a NaN/Inf; the z-score is NaN where the std is 0.
 */
import type { GpuRuntime } from "../runtime/gpu.ts";
import { centre, runSegmented, segmentGroups } from "../runtime/segments.ts";
import { defineKernel, type Kernel, ORIGIN_PARAM, perPlane, type Tolerance } from "./kernel.ts";
import { LIMITS } from "../runtime/limits.ts";

/** Which moment to output. */
export type MomentKind = "mean" | "std" | "zscore";
const MODE: Record<MomentKind, number> = { mean: 0, std: 1, zscore: 2 };

/**
 * f64 CPU path: the rolling `kind` of `x` over windows of `w` points. `origin` is the absolute row of x[0]
 * (a chunk of a longer series): blocks start at absolute multiples of `w`, so a chunk's outputs are the same
 * doubles as the whole series' (rounding depends on the block split).
 */
export function rollingMomentsCpu(
  x: Float64Array,
  w: number,
  kind: MomentKind,
  ddof = 1,
  origin = 0,
): Float64Array {
  const n = x.length;
  const out = new Float64Array(n).fill(NaN);
  // Suffix states of the previous block, indexed by offset k within it.
  const sMean = new Float64Array(w), sM2 = new Float64Array(w), sN = new Float64Array(w);
  const sBad = new Uint8Array(w);
  for (let start = 0, next = (w - (origin % w)) % w || w; start < n; start = next, next += w) {
    if (start > 0) {
      // Before x[0] (a chunk's first block) reads undefined, which counts as missing: those rows are NaN.
      let c = 0, m = 0, m2 = 0, bad = 0;
      for (let k = w - 1; k >= 1; k--) {
        const v = x[start - w + k];
        if (!Number.isFinite(v)) bad = 1;
        else {
          c++;
          const d = v - m;
          m += d / c;
          m2 += d * (v - m);
        }
        sMean[k] = m, sM2[k] = m2, sN[k] = c, sBad[k] = bad;
      }
    }
    let c = 0, m = 0, m2 = 0, bad = 0;
    const end = Math.min(next, n);
    for (let t = start; t < end; t++) {
      const v = x[t];
      if (!Number.isFinite(v)) bad = 1;
      else {
        c++;
        const d = v - m;
        m += d / c;
        m2 += d * (v - m);
      }
      if (t + 1 < w || bad) continue;
      let mean = m, sq = m2;
      const k = t - start + 1;
      if (k < w) {
        if (sBad[k]) continue;
        const nt = sN[k] + c, d = m - sMean[k];
        mean = sMean[k] + d * (c / nt);
        sq = sM2[k] + m2 + d * d * (sN[k] * c / nt);
      }
      const sd = Math.sqrt(Math.max(sq / (w - ddof), 0));
      out[t] = kind === "mean" ? mean : kind === "std" ? sd : sd > 0 ? (v - mean) / sd : NaN;
    }
  }
  return out;
}

/**
 * WebGPU path: the rolling `kind` of every column for every window, in one submit.
 * Returns out[column][window index].
 */
export async function rollingMomentsGpu(
  rt: GpuRuntime,
  columns: Float64Array[],
  windows: number[],
  kind: MomentKind,
  ddof = 1,
): Promise<Float64Array[][]> {
  // A window longer than every column has no value anywhere (the pipeline warns of the all-NaN column):
  // it is filled on the host, so it never reaches the shader's loop budget or its halo.
  const longest = Math.max(0, ...columns.map((c) => c.length));
  if (windows.some((w) => w > longest)) {
    const kept = windows.filter((w) => w <= longest);
    const res = kept.length ? await rollingMomentsGpu(rt, columns, kept, kind, ddof) : [];
    return columns.map((c, i) => {
      let k = 0;
      return windows.map((w) => (w <= longest ? res[i][k++] : new Float64Array(c.length).fill(NaN)));
    });
  }
  const planes = windows.length;
  rt.checkLoopBudget(2 * Math.max(...windows), `rolling ${kind} window ${Math.max(...windows)}`);
  const pipeline = await rt.pipeline("rolling_moments", { MODE: MODE[kind] });
  return runSegmented(rt, {
    columns: columns.map((x) => [x]),
    halo: Math.max(...windows) - 1,
    planes,
    bindBytesPerPoint: Math.max(16, 4 * planes),
    totalBytesPerPoint: 8 + 8 * planes + 16,
    prepare: (c) => {
      const off = centre(c[0]);
      return { offsets: [off], add: windows.map(() => (kind === "mean" ? off : 0)) };
    },
    encode: (b, io) => {
      const scratch = b.storage(io.total * 16);
      windows.forEach((window, plane) => {
        const gx = segmentGroups(rt, Math.ceil(io.maxLen / window));
        b.dispatchNamed(pipeline, {
          x: io.inputs[0],
          segs: io.segs,
          out: io.out,
          scratch,
          P: { window, ddof, plane, total: io.total },
        }, [gx, io.nSegs]);
      });
      return Promise.resolve();
    },
  });
}

/** Parameters of the rolling-moment kernels (ddof is ignored by the mean). */
export type MomentParams = { window: number; ddof?: number; origin?: number };

/** One registry entry per moment: same dispatch, same f64 path, different output. */
function momentKernel(
  kind: MomentKind,
  name: string,
  summary: string,
  tolerance: Tolerance,
  conformance: Record<string, unknown>[],
): Kernel<MomentParams> {
  const ddof = { type: "int", min: 0, max: 1, default: 1, doc: "delta degrees of freedom" } as const;
  return defineKernel<MomentParams>({
    name,
    summary,
    inputs: 1,
    params: {
      window: {
        type: "int",
        min: kind === "mean" ? 1 : 2,
        max: LIMITS.window,
        doc: "window length in points",
      },
      ...(kind === "mean" ? {} : { ddof }),
      origin: ORIGIN_PARAM,
    },
    causal: () => true,
    tolerance,
    conformance,
    history: (p) => p.window - 1,
    grid: (p) => p.window,
    cpu: ([x], p) => rollingMomentsCpu(x, p.window, kind, p.ddof, p.origin),
    gpu: (rt, cols, planes) => {
      const xs = cols.map((c) => c[0]);
      // One dispatch takes every window of one ddof.
      return planes.every((p) => p.ddof === planes[0].ddof)
        ? rollingMomentsGpu(rt, xs, planes.map((p) => p.window), kind, planes[0]?.ddof)
        : perPlane(
          planes,
          async (p) => (await rollingMomentsGpu(rt, xs, [p.window], kind, p.ddof)).map((o) => o[0]),
        );
    },
  });
}

/** Rolling mean over a trailing window (causal). */
export const rollingMean: Kernel<MomentParams> = momentKernel(
  "mean",
  "rolling_mean",
  "rolling mean over a trailing window",
  { atol: 2e-5, rtol: 2e-5, stol: 1e-7 },
  [{ window: 1 }, { window: 10 }, { window: 200 }],
);

/** Rolling standard deviation over a trailing window (causal), ddof 0 (population) or 1 (sample). */
export const rollingStd: Kernel<MomentParams> = momentKernel(
  "std",
  "rolling_std",
  "rolling standard deviation over a trailing window",
  // f32 stores x - x_0 with an error ~6e-8 |x - x_0|, which a short window's std inherits.
  { atol: 2e-5, rtol: 2e-5, stol: 1e-7 },
  [{ window: 2, ddof: 0 }, { window: 10 }, { window: 200, ddof: 0 }],
);

/**
 * Rolling z-score (x_t - mean) / std over a trailing window (causal), sample std (ddof 1) as pandas.
 * Its f32 error is about 6e-8 |x - x_0| / std (the input's storage error over the window's spread).
 */
export const zscore: Kernel<MomentParams> = momentKernel(
  "zscore",
  "zscore",
  "rolling z-score (x - rolling mean) / rolling std",
  { atol: 1e-4, rtol: 1e-4 },
  [{ window: 10 }, { window: 200 }],
);
