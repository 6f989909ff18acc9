/**
 * Variance stabilization by a shifted log: y_t = log(x_t - m_t + shift) (shaders/logstab.wgsl).
 * The rule: m is the minimum of the finite points and shift (default 1, in the units of x) keeps the
 * argument >= shift > 0, so the minimum maps to log(shift) and the transform is defined for any series.
 * `causal` (default) uses the expanding minimum m_t = min(x_0..x_t), so no future point moves an output;
 * the non-causal variant uses the minimum of the whole series (one fixed shift, not safe for features).
 * NaN where x_t is NaN/Inf.
 */
import type { GpuRuntime } from "../runtime/gpu.ts";
import { centre, runSegmented, segmentGroups } from "../runtime/segments.ts";
import { defineKernel, type Kernel, perPlane } from "./kernel.ts";

/** Log-stabilization parameters. */
export type LogStabParams = {
  /** Added after subtracting the minimum, in the units of x; must be > 0 (default 1). */
  shift: number;
  /** Expanding minimum (true, the default) or the minimum of the whole series (false). */
  causal: boolean;
  /**
   * Causal: the minimum of the finite points before x[0], when x is a chunk of a longer series (the state
   * the expanding minimum carries across chunks); absent or +Infinity for a whole series.
   */
  prior_min?: number;
};

/** f64 CPU path. */
export function logStabCpu(x: Float64Array, p: LogStabParams): Float64Array {
  let m = p.causal
    ? (p.prior_min ?? Infinity)
    : x.reduce((a, v) => (Number.isFinite(v) ? Math.min(a, v) : a), Infinity);
  return x.map((v) => {
    if (!Number.isFinite(v)) return NaN;
    m = Math.min(m, v);
    return Math.log(v - m + p.shift);
  });
}

const BLOCK = 256;

/** WebGPU path for many columns. */
export async function logStabGpu(
  rt: GpuRuntime,
  columns: Float64Array[],
  p: LogStabParams,
): Promise<Float64Array[]> {
  const [minPipe, scanPipe, mainPipe] = await Promise.all(
    ["block_min", "scan", "main"].map((e) => rt.pipeline("logstab", {}, e)),
  );
  // The scan pass walks one segment's blocks in one invocation.
  rt.checkLoopBudget(
    Math.ceil(Math.min(Math.max(0, ...columns.map((c) => c.length)), rt.limits.maxBindingBytes / 4) / BLOCK),
    "logstab scan",
  );
  const offsets = columns.map(centre);
  // Running minimum of each column before each point (the carry into a chunk), in f64.
  const before = columns.map((x) => {
    const m = new Float64Array(x.length + 1);
    m[0] = Infinity;
    x.forEach((v, i) => (m[i + 1] = Number.isFinite(v) ? Math.min(m[i], v) : m[i]));
    return m;
  });
  const out = await runSegmented(rt, {
    columns: columns.map((x) => [x]),
    halo: 0,
    planes: 1,
    bindBytesPerPoint: 4,
    totalBytesPerPoint: 12 + 4 / BLOCK,
    prepare: (c) => ({ offsets: [centre(c[0])] }),
    init: (s) => {
      const m = p.causal ? before[s.column][s.start] : before[s.column][columns[s.column].length];
      return Number.isFinite(m) ? m - offsets[s.column] : 3.0e38;
    },
    encode: (b, io) => {
      const mins = b.storage((Math.ceil(io.total / BLOCK) + io.nSegs + 1) * 4);
      const gx = segmentGroups(rt, Math.ceil(io.maxLen / BLOCK));
      // Three entry points of one shader; each binds what it reads.
      b.dispatchNamed(minPipe, { x: io.inputs[0], segs: io.segs, out: null, mins, P: null }, [gx, io.nSegs]);
      b.dispatchNamed(scanPipe, { x: null, segs: io.segs, out: null, mins, P: null }, [
        Math.ceil(io.nSegs / 64),
      ]);
      b.dispatchNamed(mainPipe, {
        x: io.inputs[0],
        segs: io.segs,
        out: io.out,
        mins,
        P: { shift: p.shift, total: io.total },
      }, [gx, io.nSegs]);
      return Promise.resolve();
    },
  });
  return out.map((o) => o[0]);
}

/** Shifted-log variance stabilization (causal by default). */
export const logstab: Kernel<LogStabParams> = defineKernel<LogStabParams>({
  name: "logstab",
  summary: "variance stabilization log(x - min + shift); causal uses the expanding minimum",
  inputs: 1,
  params: {
    shift: {
      type: "float",
      min: 0,
      exclusiveMin: true,
      default: 1,
      doc: "added after subtracting the minimum",
    },
    causal: { type: "bool", default: true, doc: "expanding minimum (true) or whole-series minimum (false)" },
    prior_min: {
      type: "float",
      default: Infinity,
      doc: "causal: minimum of the points before the first (a chunk of a longer series)",
    },
  },
  causal: (p) => p.causal,
  // f32 stores x - x_0 with an error ~6e-8 |x - x_0|, which log(. + shift) turns into ~6e-8 S / shift.
  tolerance: { atol: 1e-5, rtol: 1e-5, stol: 1e-7 },
  conformance: [{}, { causal: false }, { shift: 10 }],
  // The expanding minimum reaches back to row 0: a chunk carries it in `prior_min` instead of a halo.
  history: () => 0,
  cpu: ([x], p) => logStabCpu(x, p),
  gpu: (rt, cols, planes) =>
    perPlane(planes, async (p) => {
      const prior = p.causal ? p.prior_min ?? Infinity : Infinity;
      if (prior === Infinity) return logStabGpu(rt, cols.map((c) => c[0]), p);
      // The shader's expanding minimum starts at the prior one when it is the first point.
      const ys = await logStabGpu(rt, cols.map(([x]) => Float64Array.of(prior, ...x)), p);
      return ys.map((y) => y.subarray(1));
    }),
});
