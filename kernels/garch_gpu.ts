/**
 * The WebGPU path of the GARCH(1,1) fit (model, options and the f64 finish in `kernels/garch.ts`; shader
 * `shaders/garch_llh.wgsl`). All series are uploaded once (centred, scaled, f32) and stay on the device;
 * every search step is ONE batch (one submit, one await) that evaluates every active series at several
 * candidate points:
 *
 *   1. grid: `arch`'s 16 starting points per series, log-likelihood only; the best is the start;
 *   2. Newton search: at the current point the batch returned LL, gradient, Hessian and score outer product
 *      (f32 sums, blocked); the host forms the projected Newton direction d (BHHH where -H is not positive
 *      definite) and the next batch evaluates theta + lambda d for lambda in LAMBDAS at once (a line search
 *      in one round trip); the best candidate is taken if it ascends. A series leaves the search when the
 *      f32 decrement g'(-H)^-1 g is below GPU_DECREMENT or no candidate ascends (f32 precision reached);
 *   3. f64 finish on the host: `newtonF64` from the search's point (typically 1-3 steps), which also gives
 *      the f64 Hessian and scores for the standard errors.
 *
 * Series are grouped so each group's data fits one storage binding; a batch holds one dispatch per group.
 */
import type { Batch, GpuRuntime } from "../runtime/gpu.ts";
import { grid } from "../runtime/gpu.ts";
import {
  checkOptions,
  emptyFit,
  finishFit,
  GARCH_DEFAULTS,
  type GarchFit,
  type GarchOptions,
  GRID_POINTS,
  newtonDirection,
  newtonF64,
  prepareAll,
  type PreparedSeries,
  presample,
  project,
  startingGrid,
} from "./garch_core.ts";

/**
 * Step lengths of one search step: the full Newton step is evaluated with derivatives, the shorter ones
 * (only while the decrement is at least NEAR) as log-likelihood only.
 */
export const LAMBDAS = [1, 0.5, 0.25, 0.1];
const NEAR = 1;
/** f32 decrement below which the GPU search hands a series to the f64 finish. */
export const GPU_DECREMENT = 1e-2;
const NOUT = 25;
const LOG2PI = Math.log(2 * Math.PI);

/** Series uploaded together (one storage binding). */
export interface Group {
  /** Local segment index of each member (prepared index -> index in this group). */
  local: Map<number, number>;
  x: GPUBuffer;
  segs: GPUBuffer;
}

/** What to evaluate: the starting grid's log-likelihood (subsample), the log-likelihood, or everything. */
const enum Mode {
  Grid = 0,
  Ll = 1,
  Full = 2,
}

interface Cand {
  series: number;
  th: Float64Array;
  mode: Mode;
}

/** f32 evaluation at one candidate, converted to f64. */
interface Eval32 {
  ll: number;
  g: Float64Array;
  h: Float64Array;
  opg: Float64Array;
}

/** Fits GARCH(1,1) to every series on the GPU (f32 search) with the f64 host finish. */
export async function fitGarchGpu(
  rt: GpuRuntime,
  series: ArrayLike<number>[],
  opts: Partial<GarchOptions> = {},
): Promise<GarchFit[]> {
  const o = { ...GARCH_DEFAULTS, ...opts };
  checkOptions(o);
  const { fits, prepared, owner } = prepareAll(
    series,
    o.maxSamples,
    (status, nobs, message) => emptyFit(status, nobs, message, o.init, "webgpu"),
  );
  if (!prepared.length) return fits as GarchFit[];

  // llvmpipe runs one workgroup per thread, SIMD across its invocations: small groups spread few series.
  const wg = rt.isSoftware ? 16 : 64;
  const pipes = await Promise.all([
    rt.pipeline("garch_llh", { FULL: 0, WG: wg, LIMIT: GRID_POINTS }),
    rt.pipeline("garch_llh", { FULL: 0, WG: wg }),
    rt.pipeline("garch_llh", { FULL: 1, WG: wg }),
  ]);
  const { groups, groupOf } = makeGroups(rt, prepared);
  try {
    /** Evaluates candidates of any modes in one batch (one submit, one await). */
    const evaluate = (cands: Cand[]): Promise<Float32Array[]> =>
      evaluateGrouped(rt, groups, groupOf, cands, (b, g, mode, list) => {
        const buf = new ArrayBuffer(list.length * 32);
        const f = new Float32Array(buf), u = new Uint32Array(buf);
        list.forEach((ci, k) => {
          const c = cands[ci];
          const [bb, db, d2b] = presample(prepared[c.series], o.init, c.th[0]);
          f.set(c.th, k * 8);
          f[k * 8 + 4] = bb;
          f[k * 8 + 5] = db;
          f[k * 8 + 6] = d2b;
          u[k * 8 + 7] = g.local.get(c.series)!;
        });
        const stride = mode === Mode.Full ? NOUT : 1;
        const out = b.storage(list.length * stride * 4);
        b.dispatchNamed(
          pipes[mode],
          { x: g.x, segs: g.segs, cands: b.upload(u), out },
          grid(list.length, wg, rt.limits.maxWorkgroupsPerDim),
        );
        return { out, stride };
      });
    const llOf = (s: number, v: Float32Array) => -0.5 * (prepared[s].x.length * LOG2PI + v[0]);
    const toEval = (s: number, v: Float32Array): Eval32 => ({
      ll: llOf(s, v),
      g: Float64Array.from(v.subarray(1, 5)),
      h: Float64Array.from(v.subarray(5, 15)),
      opg: Float64Array.from(v.subarray(15, 25)),
    });

    // 1. Grid search (log-likelihood on the first GRID_POINTS observations).
    const gridPts = startingGrid();
    const gridLl = await evaluate(
      prepared.flatMap((_, s) => gridPts.map((th) => ({ series: s, th, mode: Mode.Grid }))),
    );
    const th: Float64Array[] = prepared.map((_, s) => {
      let best = 0;
      for (let k = 1; k < gridPts.length; k++) {
        if (gridLl[s * gridPts.length + k][0] < gridLl[s * gridPts.length + best][0]) best = k;
      }
      return Float64Array.from(gridPts[best]);
    });

    // 2. Newton search. A series is "pending" when its point still needs derivatives (the start, or a
    // shorter step chosen by log-likelihood alone); otherwise it proposes theta + lambda d.
    const cur: (Eval32 | null)[] = prepared.map(() => null);
    const pending: (Float64Array | null)[] = th.map((t) => t);
    const iters = prepared.map(() => 0);
    let active = prepared.map((_, s) => s);
    while (active.length) {
      const cands: Cand[] = [];
      const proposing: { s: number; from: number; to: number }[] = [];
      for (const s of active) {
        const pt = pending[s];
        if (pt) {
          proposing.push({ s, from: cands.length, to: cands.length + 1 });
          cands.push({ series: s, th: pt, mode: Mode.Full });
          continue;
        }
        const c = cur[s]!;
        if (iters[s] >= o.maxIter) continue;
        const dir = newtonDirection(th[s], c.g, c.h, c.opg);
        if (!(dir.dec >= 0) || (dir.kind === "newton" && dir.dec < GPU_DECREMENT)) continue;
        const from = cands.length;
        const lams = dir.kind === "newton" && dir.dec < NEAR ? LAMBDAS.slice(0, 1) : LAMBDAS;
        lams.forEach((lam, k) =>
          cands.push({
            series: s,
            th: project(th[s].map((v, i) => v + lam * dir.d[i])),
            mode: k === 0 ? Mode.Full : Mode.Ll,
          })
        );
        proposing.push({ s, from, to: cands.length });
      }
      if (!cands.length) break;
      const res = await evaluate(cands);
      active = [];
      for (const { s, from, to } of proposing) {
        if (pending[s]) {
          // Derivatives at the start or at a step chosen last round.
          const e = toEval(s, res[from]);
          pending[s] = null;
          if (!Number.isFinite(e.ll)) continue;
          if (cur[s]) iters[s]++;
          cur[s] = e;
          th[s] = cands[from].th;
          active.push(s);
          continue;
        }
        let best = -1, bestLl = cur[s]!.ll;
        for (let j = from; j < to; j++) {
          const ll = llOf(s, res[j]);
          if (ll > bestLl) (best = j, bestLl = ll);
        }
        if (best < 0) continue; // no ascent at f32 precision: on to the f64 finish
        if (cands[best].mode === Mode.Full) {
          cur[s] = toEval(s, res[best]);
          th[s] = cands[best].th;
          iters[s]++;
        } else pending[s] = cands[best].th;
        active.push(s);
      }
    }

    // 3. f64 finish (Newton from the search's point, its f32 Hessian as the first step's).
    prepared.forEach((p, s) => {
      const c = cur[s];
      const r = newtonF64(p, o.init, th[s], Math.max(0, o.maxIter - iters[s]), c ?? undefined);
      fits[owner[s]] = Number.isFinite(r.ev.ll)
        ? finishFit(p, o.init, r, "webgpu", iters[s])
        : emptyFit("failed", p.x.length, r.message ?? "non-finite log-likelihood", o.init, "webgpu");
    });
    return fits as GarchFit[];
  } finally {
    for (const g of groups) {
      g.x.destroy();
      g.segs.destroy();
    }
  }
}

/** Uploads the series in groups that each fit one storage binding (garch_model_gpu.ts uses them too). */
/**
 * Evaluates candidates of any modes in one batch (one submit, one await): `encode` records the dispatches of
 * one group's candidates of one mode (indices into `cands`) and returns their output buffer and floats per
 * candidate; returns each candidate's output, in `cands` order.
 */
export async function evaluateGrouped<C extends { series: number; mode: number }>(
  rt: GpuRuntime,
  groups: Group[],
  groupOf: number[],
  cands: C[],
  encode: (b: Batch, g: Group, mode: number, list: number[]) => { out: GPUBuffer; stride: number },
): Promise<Float32Array[]> {
  const b = rt.batch();
  const lists = groups.map(() => [[], [], []] as number[][]);
  cands.forEach((c, ci) => lists[groupOf[c.series]][c.mode].push(ci));
  const reads: { list: number[]; stride: number; index: number }[] = [];
  groups.forEach((g, gi) => {
    lists[gi].forEach((list, mode) => {
      if (!list.length) return;
      const { out, stride } = encode(b, g, mode, list);
      reads.push({ list, stride, index: b.read(out, list.length * stride * 4) });
    });
  });
  const res = await b.run();
  const out: Float32Array[] = new Array(cands.length);
  for (const { list, stride, index } of reads) {
    list.forEach((ci, k) => (out[ci] = res[index].subarray(k * stride, (k + 1) * stride)));
  }
  return out;
}

export function makeGroups(
  rt: GpuRuntime,
  prepared: PreparedSeries[],
): { groups: Group[]; groupOf: number[] } {
  const maxPoints = Math.floor(rt.limits.maxBindingBytes / 4);
  const lists: number[][] = [];
  let cur: number[] = [], points = 0;
  prepared.forEach((p, s) => {
    if (cur.length && points + p.x.length > maxPoints) {
      lists.push(cur);
      cur = [];
      points = 0;
    }
    cur.push(s);
    points += p.x.length;
  });
  if (cur.length) lists.push(cur);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const groupOf: number[] = [];
  lists.forEach((members, gi) => members.forEach((s) => (groupOf[s] = gi)));
  const groups = lists.map((members) => {
    const total = members.reduce((a, s) => a + prepared[s].x.length, 0);
    const data = new Float32Array(Math.max(total, 4));
    const segs = new Uint32Array(Math.max(members.length * 2, 4));
    const local = new Map<number, number>();
    let off = 0;
    members.forEach((s, k) => {
      data.set(prepared[s].x, off);
      segs[2 * k] = off;
      segs[2 * k + 1] = prepared[s].x.length;
      local.set(s, k);
      off += prepared[s].x.length;
    });
    const x = rt.device.createBuffer({ size: data.byteLength, usage, label: "garch x" });
    rt.device.queue.writeBuffer(x, 0, data);
    const sb = rt.device.createBuffer({ size: segs.byteLength, usage, label: "garch segs" });
    rt.device.queue.writeBuffer(sb, 0, segs);
    return { local, x, segs: sb };
  });
  return { groups, groupOf };
}
