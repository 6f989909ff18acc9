/**
 * The WebGPU path of the GARCH family's fits (models in `kernels/garch_model.ts`, the f64 estimator in
 * `kernels/garch_model_fit.ts`, shader `shaders/garch_model_llh.wgsl`), shaped as GARCH(1,1)'s
 * (`kernels/garch_gpu.ts`, whose series groups it uses): the series are uploaded once (centred, scaled, f32)
 * and every search step is ONE batch (one submit, one await) evaluating every active series at its candidates:
 *
 *   1. grid: `arch`'s starting points per series (`modelGrid`), log-likelihood on the first GRID_POINTS;
 *   2. search: at the current point the batch returned LL, the analytic gradient and the score outer product
 *      (f32 sums, blocked); the host forms the BHHH direction on the active constraints' face and the next
 *      batch evaluates theta + lambda d, lambda in LAMBDAS (cut at the nearest bound), at once; the best
 *      candidate ascending by more than f32 rounding is taken. A series leaves when the BHHH decrement is
 *      below GPU_DECREMENT, no candidate ascends (f32 precision reached) or after GPU_ROUNDS steps;
 *   3. f64 finish on the host: the CPU search from that point (Newton with the Hessian from differences of
 *      the f64 analytic gradient; typically 1-2 iterations), which also gives the standard errors.
 *
 * On the software adapter a series longer than an invocation's loop budget is evaluated in chunks
 * (`chunkPoints`), several dispatches of one batch carrying the recursion's state.
 */
import type { GpuRuntime } from "../runtime/gpu.ts";
import { grid } from "../runtime/gpu.ts";
import { GRID_POINTS, prepareAll, type PreparedSeries, type VarianceInit } from "./garch_core.ts";
import { densityConstants } from "./garch_dist.ts";
import { evaluateGrouped, GPU_DECREMENT, LAMBDAS, makeGroups } from "./garch_gpu.ts";
import { type GarchModelSpec, layout, modelPresample } from "./garch_model.ts";
import {
  checkModelOptions,
  direction,
  emptyModelFit,
  finish,
  forMean,
  GARCH_MODEL_DEFAULTS,
  type GarchModelFit,
  type GarchModelOptions,
  maxStep,
  modelGrid,
  problem,
  search,
} from "./garch_model_fit.ts";

/** Words per candidate (shaders/garch_model_llh.wgsl's CAND), the offset of its pre-sample values, state words. */
const CAND = 32, PRE = 13, STATE = 159;

/**
 * Points per dispatch: all of them on a hardware adapter; on the software one as many as keep an invocation
 * under its loop budget, a multiple of 64 (the shader's block). The loop iterations per point are bounded
 * above by counting every loop of the shader's point body (some are unrolled by the compiler).
 */
function chunkPoints(rt: GpuRuntime, m: GarchModelSpec, full: boolean): number {
  if (rt.withinLoopBudget(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  const k = layout(m).k, si = k - (m.dist === "normal" ? 0 : m.dist === "t" ? 1 : 2);
  const perPoint = 2 * m.p + m.q + 2 + (full ? k + m.q * (si + 1) + 2 * si + k + k * (k + 1) / 2 + 2 : 0);
  return Math.max(64, Math.floor(50_000 / perPoint / 64) * 64);
}
const DIST_CODE = { normal: 0, t: 1, skewt: 2 } as const;
/** Search steps at most on the GPU (BHHH converges linearly; the f64 Newton finish takes it from there). */
const GPU_ROUNDS = 50;
/** Relative log-likelihood gain an f32 candidate must show to count as an ascent. */
const F32_LL = 1e-7;

/** What to evaluate: the grid's log-likelihood (subsample), the log-likelihood, or with its derivatives. */
export const Mode = { Grid: 0, Ll: 1, Full: 2 } as const;

/** One (series, theta) to evaluate, theta in the prepared series' scaled units. */
export interface ModelCand {
  series: number;
  th: Float64Array;
  mode: 0 | 1 | 2;
}

/** Batched f32 evaluations of one model on uploaded series (`destroy` frees them). */
export interface ModelEvaluator {
  /** Evaluates candidates of any modes in one batch (one submit, one await): LL, or LL, gradient, packed OPG. */
  evaluate(cands: ModelCand[]): Promise<Float32Array[]>;
  destroy(): void;
}

/** Uploads the prepared series; the model's pipelines compile on first use. */
export function modelEvaluator(
  rt: GpuRuntime,
  prepared: PreparedSeries[],
  m: GarchModelSpec,
  init: VarianceInit,
): ModelEvaluator {
  const L = layout(m), k = L.k, gjr = m.family === "gjr";
  const wg = rt.isSoftware ? 16 : 64;
  const base = { P: m.p, Q: m.q, GJR: gjr ? 1 : 0, DIST: DIST_CODE[m.dist], K: k, WG: wg };
  // Compiled on first use (the runtime caches them): a large shader takes a while on the software adapter.
  const pipe = (mode: number) =>
    rt.pipeline("garch_model_llh", {
      ...base,
      FULL: mode === Mode.Full ? 1 : 0,
      ...(mode === Mode.Grid ? { LIMIT: GRID_POINTS } : {}),
    });
  const nFull = 1 + k + k * (k + 1) / 2;
  const { groups, groupOf } = makeGroups(rt, prepared);
  const evaluate = async (cands: ModelCand[]): Promise<Float32Array[]> => {
    // Only the modes in use are compiled (a large shader takes a while on the software adapter).
    const pipes = await Promise.all(
      [0, 1, 2].map((md) => cands.some((c) => c.mode === md) ? pipe(md) : null),
    );
    return evaluateGrouped(rt, groups, groupOf, cands, (b, g, mode, list) => {
      const f = new Float32Array(list.length * CAND), seg = new Uint32Array(list.length + 1);
      seg[0] = list.length;
      list.forEach((ci, j) => {
        const c = cands[ci], pre = modelPresample(prepared[c.series], init, c.th[0], gjr);
        f.set(c.th, j * CAND);
        f.set([pre.b, pre.db, pre.bn, pre.dbn], j * CAND + PRE);
        f.set(densityConstants(m.dist, c.th.subarray(L.shape)), j * CAND + PRE + 4);
        seg[j + 1] = g.local.get(c.series)!;
      });
      const stride = mode === Mode.Full ? nFull : 1;
      const out = b.storage(list.length * stride * 4), state = b.storage(list.length * STATE * 4);
      const cbuf = b.upload(f), sbuf = b.upload(seg);
      const longest = list.reduce((a, ci) => Math.max(a, prepared[cands[ci].series].x.length), 0);
      const n = mode === Mode.Grid ? Math.min(longest, GRID_POINTS) : longest;
      const chunk = chunkPoints(rt, m, mode === Mode.Full);
      for (let t0 = 0; t0 < n; t0 += chunk) {
        b.dispatchNamed(
          pipes[mode]!,
          {
            x: g.x,
            segs: g.segs,
            cands: cbuf,
            cseg: sbuf,
            out,
            state,
            range: b.upload(Uint32Array.of(t0, t0 + chunk)),
          },
          grid(list.length, wg, rt.limits.maxWorkgroupsPerDim),
        );
      }
      return { out, stride };
    });
  };
  const destroy = () => {
    for (const g of groups) {
      g.x.destroy();
      g.segs.destroy();
    }
  };
  return { evaluate, destroy };
}

/** Fits model `m` to every series: the f32 search on the GPU, the f64 finish on the host. */
export async function fitGarchModelGpu(
  rt: GpuRuntime,
  series: ArrayLike<number>[],
  m: GarchModelSpec,
  opts: Partial<GarchModelOptions> = {},
): Promise<GarchModelFit[]> {
  const o = { ...GARCH_MODEL_DEFAULTS, ...opts };
  checkModelOptions(o);
  const all = prepareAll(
    series,
    o.maxSamples,
    (status, nobs, message) => emptyModelFit(m, o, status, nobs, message, "webgpu"),
  );
  const { fits, owner } = all, prepared = all.prepared.map((p) => forMean(p, o.mean));
  if (!prepared.length) return fits as GarchModelFit[];
  const k = layout(m).k;
  const problems = prepared.map((p) => problem(p, m, o.init, o.mean));
  const mu0 = (p: PreparedSeries) => (o.mean === "zero" ? -p.m / p.s : 0);
  const { evaluate, destroy } = modelEvaluator(rt, prepared, m, o.init);
  try {
    /** Gradient and score outer product (row-major k x k) of a Full result. */
    const derivs = (v: Float32Array) => {
      const g = Float64Array.from(v.subarray(1, 1 + k)), opg = new Float64Array(k * k);
      let idx = 1 + k;
      for (let a = 0; a < k; a++) for (let c = 0; c <= a; c++) opg[a * k + c] = opg[c * k + a] = v[idx++];
      return { g, opg };
    };

    // 1. Grid.
    const grids = prepared.map((p) => modelGrid(m, p.x, mu0(p)));
    const gridLl = await evaluate(
      grids.flatMap((pts, s) => pts.map((th) => ({ series: s, th, mode: Mode.Grid }))),
    );
    let at = 0;
    const th: Float64Array[] = grids.map((pts) => {
      let best = 0;
      for (let j = 1; j < pts.length; j++) if (gridLl[at + j][0] > gridLl[at + best][0]) best = j;
      at += pts.length;
      return Float64Array.from(pts[best]);
    });

    // 2. BHHH search: each round evaluates the current points' derivatives (pending) or the step lengths.
    const cur: ({ ll: number; g: Float64Array; opg: Float64Array } | null)[] = prepared.map(() => null);
    const pending = prepared.map(() => true);
    const iters = prepared.map(() => 0);
    let active = prepared.map((_, s) => s);
    while (active.length) {
      const cands: ModelCand[] = [];
      const proposing: { s: number; from: number; to: number }[] = [];
      for (const s of active) {
        if (pending[s]) {
          proposing.push({ s, from: cands.length, to: cands.length + 1 });
          cands.push({ series: s, th: th[s], mode: Mode.Full });
          continue;
        }
        const c = cur[s]!, P = problems[s];
        if (iters[s] >= Math.min(o.maxIter, GPU_ROUNDS)) continue;
        const dir = direction(th[s], c.g, c.opg, P.cons, P.fixed);
        if (!dir || !(dir.dec >= GPU_DECREMENT)) continue;
        const tmax = maxStep(th[s], dir.d, P.cons);
        const from = cands.length;
        LAMBDAS.forEach((lam, j) =>
          cands.push({
            series: s,
            th: th[s].map((v, i) => v + lam * tmax * dir.d[i]),
            mode: j ? Mode.Ll : Mode.Full,
          })
        );
        proposing.push({ s, from, to: cands.length });
      }
      if (!cands.length) break;
      const res = await evaluate(cands);
      active = [];
      for (const { s, from, to } of proposing) {
        if (pending[s]) {
          pending[s] = false;
          const ll = res[from][0];
          if (!Number.isFinite(ll)) continue;
          cur[s] = { ll, ...derivs(res[from]) };
          th[s] = cands[from].th;
          active.push(s);
          continue;
        }
        // An ascent must exceed the f32 sum's rounding (~1e-7 relative), or noise keeps a series searching.
        let best = -1, bestLl = cur[s]!.ll + F32_LL * Math.abs(cur[s]!.ll);
        for (let j = from; j < to; j++) if (res[j][0] > bestLl) (best = j, bestLl = res[j][0]);
        if (best < 0) continue; // no ascent at f32 precision: on to the f64 finish
        iters[s]++;
        th[s] = cands[best].th;
        if (cands[best].mode === Mode.Full) cur[s] = { ll: bestLl, ...derivs(res[best]) };
        else pending[s] = true;
        active.push(s);
      }
    }

    // 3. f64 finish on the host from the search's point.
    prepared.forEach((p, s) => {
      const r = search(problems[s], th[s], Math.max(0, o.maxIter - iters[s]));
      fits[owner[s]] = Number.isFinite(r.ev.ll)
        ? finish(problems[s], r, o.mean, "webgpu", iters[s])
        : emptyModelFit(m, o, "failed", p.x.length, r.message ?? "non-finite log-likelihood", "webgpu");
    });
    return fits as GarchModelFit[];
  } finally {
    destroy();
  }
}
