/**
 * Rolling Pearson correlation of two series over a trailing window (shaders/rolling_corr.wgsl). Like the
 * rolling moments, the window ending at t is a stored suffix state of the previous block of W points merged
 * with a running prefix of the current block: O(1) per point for any W, co-moments by Welford steps and
 * Chan merges only. NaN for t < W - 1, where either series has a NaN/Inf in the window, or where either
 * variance is zero (a constant window). Causal.
 */
import type { GpuRuntime } from "../runtime/gpu.ts";
import { centre, runSegmented, segmentGroups } from "../runtime/segments.ts";
import { defineKernel, type Kernel, ORIGIN_PARAM, perPlane } from "./kernel.ts";
import { LIMITS } from "../runtime/limits.ts";

/** f64 CPU path: rolling Pearson correlation of x and y over windows of `w` points. */
export function rollingCorrCpu(x: Float64Array, y: Float64Array, w: number, origin = 0): Float64Array {
  const n = x.length;
  const out = new Float64Array(n).fill(NaN);
  // Suffix co-moment states of the previous block by offset k: [mx, my, sxx, syy, sxy, count].
  const suf = new Float64Array(w * 6);
  const sBad = new Uint8Array(w);
  const st = new Float64Array(6);
  const add = (s: Float64Array, u: number, v: number) => {
    const c = ++s[5], du = u - s[0], dv = v - s[1];
    s[0] += du / c, s[1] += dv / c;
    s[2] += du * (u - s[0]), s[3] += dv * (v - s[1]), s[4] += du * (v - s[1]);
  };
  // Blocks start at absolute multiples of w (`origin` is x[0]'s row), as in rollingMomentsCpu.
  for (let start = 0, next = (w - (origin % w)) % w || w; start < n; start = next, next += w) {
    if (start > 0) {
      st.fill(0);
      let bad = 0;
      for (let k = w - 1; k >= 1; k--) {
        const u = x[start - w + k], v = y[start - w + k];
        if (!Number.isFinite(u) || !Number.isFinite(v)) bad = 1;
        else add(st, u, v);
        suf.set(st, k * 6), sBad[k] = bad;
      }
    }
    st.fill(0);
    let bad = 0;
    const end = Math.min(next, n);
    for (let t = start; t < end; t++) {
      if (!Number.isFinite(x[t]) || !Number.isFinite(y[t])) bad = 1;
      else add(st, x[t], y[t]);
      const k = t - start + 1;
      if (t + 1 < w || bad || (k < w && sBad[k])) continue;
      let [sxx, syy, sxy] = [st[2], st[3], st[4]];
      if (k < w) {
        const o = k * 6, c = suf[o + 5], nt = c + st[5], f = c * st[5] / nt;
        const dx = st[0] - suf[o], dy = st[1] - suf[o + 1];
        sxx += suf[o + 2] + dx * dx * f, syy += suf[o + 3] + dy * dy * f, sxy += suf[o + 4] + dx * dy * f;
      }
      if (sxx > 0 && syy > 0) out[t] = Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
    }
  }
  return out;
}

/** WebGPU path: rolling correlation of each (x, y) pair over windows of `w` points. */
export async function rollingCorrGpu(
  rt: GpuRuntime,
  pairs: Float64Array[][],
  w: number,
): Promise<Float64Array[]> {
  // A window longer than every pair has no value anywhere: filled on the host (as in rollingMomentsGpu).
  if (pairs.every((p) => p[0].length < w)) return pairs.map((p) => new Float64Array(p[0].length).fill(NaN));
  rt.checkLoopBudget(2 * w, `rolling_corr window ${w}`);
  const pipeline = await rt.pipeline("rolling_corr");
  const out = await runSegmented(rt, {
    columns: pairs,
    halo: w - 1,
    planes: 1,
    bindBytesPerPoint: 32,
    totalBytesPerPoint: 16 + 32 + 8,
    prepare: (c) => ({ offsets: [centre(c[0]), centre(c[1])] }),
    encode: (b, io) => {
      const gx = segmentGroups(rt, Math.ceil(io.maxLen / w));
      const scratch = b.storage(io.total * 32);
      b.dispatchNamed(pipeline, {
        x: io.inputs[0],
        y: io.inputs[1],
        segs: io.segs,
        out: io.out,
        scratch,
        P: { window: w, total: io.total },
      }, [gx, io.nSegs]);
      return Promise.resolve();
    },
  });
  return out.map((o) => o[0]);
}

/** Rolling Pearson correlation between two series (causal). */
export const rollingCorr: Kernel<{ window: number; origin?: number }> = defineKernel<
  { window: number; origin?: number }
>({
  name: "rolling_corr",
  summary: "rolling Pearson correlation of --column and --column2",
  inputs: 2,
  params: {
    window: { type: "int", min: 2, max: LIMITS.window, doc: "window length in points" },
    origin: ORIGIN_PARAM,
  },
  causal: () => true,
  tolerance: { atol: 1e-4, rtol: 1e-4 },
  conformance: [{ window: 10 }, { window: 200 }],
  typical: { window: 50 },
  history: (p) => p.window - 1,
  grid: (p) => p.window,
  cpu: ([x, y], p) => rollingCorrCpu(x, y, p.window, p.origin),
  gpu: (rt, cols, planes) => perPlane(planes, (p) => rollingCorrGpu(rt, cols, p.window)),
});
