/**
 * f64 maximum likelihood for the GARCH family of `kernels/garch_model.ts`, on the series garch_core prepares
 * (centred, scaled; estimates mapped back exactly). GARCH(1,1)-normal with a constant mean is garch_core's
 * own fit (closed-form Hessian; the default job's numbers); every other model runs here:
 *
 *   - start: the best of `arch`'s grid (alpha in {0.01, 0.05, 0.1, 0.2} split over the p lags, gamma likewise
 *     for GJR, persistence in {0.5, 0.7, 0.9, 0.98} with beta taking the rest, omega = 1 - persistence; nu from
 *     the kurtosis as `arch` does, lambda 0), scored on the first GRID_POINTS observations;
 *   - search: active-set projected Newton on the linear constraints (omega >= OMEGA_MIN, alpha >= 0,
 *     alpha + gamma >= 0, beta >= 0, persistence <= PERSISTENCE_MAX, nu and lambda in `arch`'s bounds); a
 *     constraint at its bound that the step would cross is held (the step moves along its face, as GARCH(1,1)'s
 *     alpha + beta = 1 - 1e-8 face); BHHH directions (the analytic scores' outer product) while the decrement
 *     exceeds 1, then Newton with the Hessian from central differences of the analytic gradient; the step is
 *     cut at the nearest bound and backtracked. Converged when the Newton decrement is below DECREMENT_TOL.
 *   - standard errors: inverse Hessian, and Bollerslev-Wooldridge's sandwich H^-1 (sum s_t s_t') H^-1.
 */
import {
  archBackcast,
  checkOptions,
  cholSolve,
  DECREMENT_TOL,
  emptyFit,
  fitGarchCpu,
  GARCH_DEFAULTS,
  type GarchFit,
  type GarchFitOf,
  type GarchOptions,
  type GarchStatus,
  GRID_POINTS,
  OMEGA_MIN,
  PERSISTENCE_MAX,
  type PreparedSeries,
  prepareSeries,
  type VarianceInit,
} from "./garch_core.ts";
import {
  type Constraint,
  constraints,
  evalModel,
  type GarchMean,
  type GarchModelParams,
  type GarchModelSpec,
  layout,
  type ModelEval,
  modelPresample,
  persistence,
} from "./garch_model.ts";
import { SHAPE_BOUNDS } from "./garch_dist.ts";
import { UsageError } from "../runtime/errors.ts";

/** Fit options of the family: GARCH(1,1)'s and the conditional mean. */
export interface GarchModelOptions extends GarchOptions {
  /** "constant" (mu estimated, default) or "zero". */
  mean: GarchMean;
}

/** The defaults (features.garch). */
export const GARCH_MODEL_DEFAULTS: GarchModelOptions = { ...GARCH_DEFAULTS, mean: "constant" };

/** One model's fit (`GarchFitOf` with the model's named estimates), its model and mean. */
export interface GarchModelFit extends GarchFitOf<GarchModelParams> {
  /** The model's name (`garch_model.ts`'s scheme). */
  model: string;
  /** Conditional mean. */
  mean: GarchMean;
  /** Pre-sample e^2 1[e < 0] = Bn (0 for symmetric models), input's squared units. */
  presample_neg: number | null;
}

/** True for the model garch_core fits itself (GARCH(1,1), normal, constant mean). */
export function isGarch11(m: GarchModelSpec, mean: GarchMean): boolean {
  return m.family === "garch" && m.p === 1 && m.q === 1 && m.dist === "normal" && mean === "constant";
}

/** A GARCH(1,1) fit of garch_core as a fit of the family. */
export function fromGarchFit(f: GarchFit): GarchModelFit {
  const rec = (p: GarchFit["params"]) => (p ? { ...p } : null);
  return {
    model: "garch11",
    mean: "constant",
    ...f,
    params: rec(f.params),
    se: rec(f.se),
    robust_se: rec(f.robust_se),
    presample_neg: f.presample === null ? null : 0,
  };
}

/** Validates options (UsageError naming the bad one). */
export function checkModelOptions(o: GarchModelOptions): void {
  checkOptions(o);
  if (o.mean !== "constant" && o.mean !== "zero") {
    throw new UsageError(`garch: mean expects constant or zero, got ${JSON.stringify(o.mean)}`);
  }
}

/** The result of the search on one prepared series (scaled units). */
export interface Search {
  /** -Hessian at `th` when the search computed it there (finish reuses it). */
  negH: Float64Array | null;
  th: Float64Array;
  ev: ModelEval;
  iterations: number;
  converged: boolean;
  dec: number;
  message: string | null;
}

const unit = (k: number, i: number) => {
  const z = new Float64Array(k);
  z[i] = 1;
  return z;
};
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
/** A constraint counts as at its bound within this slack. */
const AT_BOUND = 1e-10;
/** A direction with c'd above -CROSS does not move toward the constraint's bound. */
const CROSS = 1e-14;
/** BHHH directions while their decrement is above this; Newton below. */
const BHHH_FAR = 1;
/** Decrement below which a Newton step reuses the previous Hessian. */
const CHORD = 1e-3;

/** An orthonormal basis of the complement of the span of `normals` in R^k (Gram-Schmidt). */
function complement(k: number, normals: Float64Array[]): Float64Array[] {
  const basis: Float64Array[] = [];
  const add = (v: Float64Array) => {
    const w = Float64Array.from(v);
    for (const b of basis) {
      const c = dot(w, b);
      for (let i = 0; i < k; i++) w[i] -= c * b[i];
    }
    const nrm = Math.sqrt(dot(w, w));
    if (nrm > 1e-8) basis.push(w.map((x) => x / nrm));
  };
  normals.forEach(add);
  const spanned = basis.length;
  for (let i = 0; i < k; i++) add(unit(k, i));
  return basis.slice(spanned);
}

/**
 * The direction maximising the quadratic model g'd - d'Ad/2 on the face of the active constraints: the fixed
 * coordinates and the constraints at their bound that the gradient (then the step) pushes across.
 */
export function direction(
  th: Float64Array,
  g: Float64Array,
  A: Float64Array,
  cons: Constraint[],
  fixed: number[],
): { d: Float64Array; dec: number } | null {
  const k = th.length;
  const slack = cons.map((c) => dot(c.c, th) - c.lo);
  const active = new Set(cons.map((_, i) => i).filter((i) => slack[i] <= AT_BOUND && dot(cons[i].c, g) < 0));
  for (let round = 0; round <= cons.length; round++) {
    const normals = [...fixed.map((i) => unit(k, i)), ...[...active].map((i) => cons[i].c)];
    const Z = complement(k, normals);
    if (!Z.length) return { d: new Float64Array(k), dec: 0 };
    const y = cholSolve(A, g, Z);
    if (!y) return null;
    const d = new Float64Array(k);
    Z.forEach((z, j) => {
      for (let i = 0; i < k; i++) d[i] += y[j] * z[i];
    });
    const crossing = cons.findIndex((c, i) => !active.has(i) && slack[i] <= AT_BOUND && dot(c.c, d) < -CROSS);
    if (crossing < 0) return { d, dec: dot(g, d) };
    active.add(crossing);
  }
  return null;
}

/** Largest t <= 1 keeping th + t d feasible. */
export function maxStep(th: Float64Array, d: Float64Array, cons: Constraint[]): number {
  let t = 1;
  for (const c of cons) {
    const cd = dot(c.c, d);
    if (cd < -CROSS) t = Math.min(t, Math.max(0, (dot(c.c, th) - c.lo) / -cd));
  }
  return t;
}

/**
 * -Hessian of LL by forward differences of the analytic gradient (k + 1 gradients; the step goes down where up
 * would leave the feasible set), symmetrised. Its ~1e-6 relative error is far below what the Newton steps
 * and the standard errors need.
 */
function negHessian(
  grad: (t: Float64Array) => Float64Array,
  th: Float64Array,
  cons: Constraint[],
  fixed: number[],
): Float64Array {
  const k = th.length, H = new Float64Array(k * k), g0 = grad(th);
  for (let i = 0; i < k; i++) {
    if (fixed.includes(i)) {
      H[i * k + i] = 1;
      continue;
    }
    let h = 1e-6 * Math.max(Math.abs(th[i]), 0.1);
    const t = Float64Array.from(th);
    t[i] += h;
    if (!cons.every((c) => dot(c.c, t) >= c.lo)) (h = -h, t[i] = th[i] + h);
    const gt = grad(t);
    for (let j = 0; j < k; j++) H[j * k + i] = -(gt[j] - g0[j]) / h;
  }
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < i; j++) H[i * k + j] = H[j * k + i] = (H[i * k + j] + H[j * k + i]) / 2;
  }
  return H;
}

/** One model's estimation on a prepared series: constraints, fixed coordinates, f64 evaluations. */
export interface Problem {
  p: PreparedSeries;
  m: GarchModelSpec;
  init: VarianceInit;
  cons: Constraint[];
  fixed: number[];
  value: (t: Float64Array) => number;
  full: (t: Float64Array) => ModelEval;
  negH: (t: Float64Array) => Float64Array;
}

/** The estimation problem of model `m` on `p`. */
export function problem(p: PreparedSeries, m: GarchModelSpec, init: VarianceInit, mean: GarchMean): Problem {
  const gjr = m.family === "gjr";
  const full = (t: Float64Array) => evalModel(p.x, m, t, modelPresample(p, init, t[0], gjr), true);
  const cons = constraints(m, OMEGA_MIN, PERSISTENCE_MAX);
  const fixed = mean === "zero" ? [0] : [];
  return {
    p,
    m,
    init,
    cons,
    fixed,
    value: (t) => evalModel(p.x, m, t, modelPresample(p, init, t[0], gjr), false).ll,
    full,
    negH: (t) =>
      negHessian(
        (u) => evalModel(p.x, m, u, modelPresample(p, init, u[0], gjr), true, false).g!,
        t,
        cons,
        fixed,
      ),
  };
}

/**
 * The search (see the module comment) from `th0`, at most `maxIter` iterations. A Hessian is reused across
 * Newton steps (a chord method: each costs 2k gradient evaluations) and recomputed when its step fails and
 * before convergence is declared, so the decrement and the standard errors use the Hessian at the estimate.
 */
export function search(P: Problem, th0: Float64Array, maxIter: number): Search {
  const th = Float64Array.from(th0);
  let ev = P.full(th), it = 0, dec = Infinity;
  let H: Float64Array | null = null, fresh = false;
  const done = (converged: boolean, message: string | null): Search => ({
    th,
    ev,
    iterations: it,
    converged,
    dec,
    message,
    negH: fresh ? H : null,
  });
  const fail = (message: string): Search => ({ ...done(false, message), dec: NaN });
  if (!Number.isFinite(ev.ll)) return fail("non-finite log-likelihood");
  for (;;) {
    let dir = direction(th, ev.g!, ev.opg!, P.cons, P.fixed);
    let newton = false;
    if (!dir || dir.dec <= BHHH_FAR) {
      // Reuse the Hessian only in the quadratic region (the last decrement below CHORD).
      if (!H || (!fresh && !(dec < CHORD))) (H = P.negH(th), fresh = true);
      let nd = direction(th, ev.g!, H, P.cons, P.fixed);
      if (!fresh && (!nd || nd.dec < DECREMENT_TOL)) {
        H = P.negH(th);
        fresh = true;
        nd = direction(th, ev.g!, H, P.cons, P.fixed);
      }
      if (nd) (dir = nd, newton = true);
    }
    if (!dir) return fail("no ascent direction (singular Hessian and score outer product)");
    dec = dir.dec;
    if (newton && dec < DECREMENT_TOL) return done(true, null);
    if (it >= maxIter) {
      return done(false, `no convergence in ${maxIter} iterations (decrement ${dec.toExponential(2)})`);
    }
    it++;
    const tmax = maxStep(th, dir.d, P.cons);
    let next: Float64Array | null = null, gain = 0;
    for (let j = 0, lam = tmax; j < 40 && lam > 0; j++, lam *= 0.5) {
      const cand = th.map((v, i) => v + lam * dir!.d[i]);
      const ll = P.value(cand);
      if (ll >= ev.ll + 1e-4 * lam * Math.min(dec, 1) || (ll > ev.ll && j > 10)) {
        next = cand;
        gain = ll - ev.ll;
        break;
      }
    }
    if (!next && newton && !fresh) {
      // The reused Hessian may be stale: retry from a fresh one.
      H = P.negH(th);
      fresh = true;
      continue;
    }
    if (!next) {
      // No ascent along the direction: at the optimum to rounding when the decrement is tiny.
      const converged = dec < 1e-7;
      return done(
        converged,
        converged ? null : `line search found no ascent (decrement ${dec.toExponential(2)})`,
      );
    }
    th.set(next);
    fresh = false;
    ev = P.full(th);
    if (!Number.isFinite(ev.ll)) return fail("non-finite log-likelihood");
    // At the optimum to rounding: a tiny decrement whose step gains nothing above LL's rounding.
    if (dec < 1e-7 && gain <= 1e-12 * Math.abs(ev.ll)) return done(true, null);
  }
}

/** `arch`'s starting grid for a model (scaled data), mu at `mu0`. */
export function modelGrid(m: GarchModelSpec, x: Float64Array, mu0: number): Float64Array[] {
  const L = layout(m), out: Float64Array[] = [];
  const A = [0.01, 0.05, 0.1, 0.2];
  let k4 = 0;
  for (let t = 0; t < x.length; t++) k4 += x[t] ** 4;
  k4 /= x.length;
  const nu0 = Math.min(Math.max(k4 > 3.75 ? (4 * k4 - 6) / (k4 - 3) : 12, 4), SHAPE_BOUNDS.nu[1] / 2);
  for (const a of A) {
    for (const g of m.family === "gjr" ? A : [0]) {
      for (const agb of m.q ? [0.5, 0.7, 0.9, 0.98] : [a + g / 2]) {
        const b = agb - a - g / 2;
        if (m.q && b <= 0) continue;
        const th = new Float64Array(L.k);
        th[0] = mu0;
        th[1] = 1 - agb;
        for (let i = 0; i < m.p; i++) {
          th[L.alpha + i] = a / m.p;
          if (m.family === "gjr") th[L.gamma + i] = g / m.p;
        }
        for (let j = 0; j < m.q; j++) th[L.beta + j] = b / m.q;
        if (m.dist !== "normal") th[L.shape] = nu0;
        out.push(th);
      }
    }
  }
  return out;
}

/** The best grid point by log-likelihood on the first GRID_POINTS observations. */
export function gridStart(P: Problem, mu0: number): Float64Array {
  const head = { ...P.p, x: P.p.x.subarray(0, GRID_POINTS) };
  const gjr = P.m.family === "gjr";
  let best: Float64Array | null = null, bestLl = -Infinity;
  for (const th of modelGrid(P.m, P.p.x, mu0)) {
    const ll = evalModel(head.x, P.m, th, modelPresample(P.p, P.init, th[0], gjr), false).ll;
    if (!best || ll > bestLl) (best = th, bestLl = ll);
  }
  return best!;
}

/**
 * The prepared series for a mean: with a zero mean `arch`'s backcast is of the returns themselves (x - mu0,
 * mu0 = -m / s), not of the centred series.
 */
export function forMean(p: PreparedSeries, mean: GarchMean): PreparedSeries {
  return mean === "zero" ? { ...p, backcast: archBackcast(p.x.map((v) => v + p.m / p.s)) } : p;
}

/** Estimates in the input's units as theta in `p`'s scaled units; null when one is missing. */
export function scaledTheta(
  p: PreparedSeries,
  m: GarchModelSpec,
  mean: GarchMean,
  par: GarchModelParams,
): Float64Array | null {
  const L = layout(m), sc = scales(m, p.s);
  if (!L.names.every((nm, i) => (i === 0 && mean === "zero") || Number.isFinite(par[nm]))) return null;
  return Float64Array.from(
    L.names,
    (nm, i) => (i > 0 ? par[nm] / sc[i] : mean === "zero" ? -p.m / p.s : (par.mu - p.m) / p.s),
  );
}

/** Scale of each parameter: d(input units)/d(scaled units). */
function scales(m: GarchModelSpec, s: number): number[] {
  return layout(m).names.map((n) => (n === "mu" ? s : n === "omega" ? s * s : 1));
}

/** Maps the search's result to the fit in the input's units, with standard errors. */
export function finish(
  P: Problem,
  r: Search,
  mean: GarchMean,
  backend: "cpu" | "webgpu" = "cpu",
  extraIterations = 0,
): GarchModelFit {
  const { p, m } = P, L = layout(m), k = L.k, n = p.x.length, s = p.s;
  const sc = scales(m, s);
  const est = L.names.map((_, i) => i).filter((i) => !P.fixed.includes(i));
  const toRec = (v: ArrayLike<number>) =>
    Object.fromEntries(est.map((i) => [L.names[i], Number.isFinite(v[i]) ? v[i] : null])) as GarchModelParams;
  const th = r.th;
  const inUnits = th.map((v, i) => (i === 0 ? p.m + s * v : sc[i] * v));
  let se: GarchModelParams | null = null, robust: GarchModelParams | null = null;
  const negH = r.negH ?? P.negH(th);
  const Z = est.map((i) => unit(k, i));
  const cols = est.map((i) => cholSolve(negH, unit(k, i), Z));
  if (cols.every((c) => c)) {
    // inv (|E| x |E|) and the sandwich inv O inv over the estimated coordinates.
    const e = est.length, inv = new Float64Array(e * e), O = r.ev.opg!;
    cols.forEach((c, j) => c!.forEach((v, i) => (inv[i * e + j] = v)));
    const t1 = new Float64Array(e * e), sw = new Float64Array(e * e);
    for (let i = 0; i < e; i++) {
      for (let j = 0; j < e; j++) {
        for (let a = 0; a < e; a++) t1[i * e + j] += inv[i * e + a] * O[est[a] * k + est[j]];
      }
    }
    for (let i = 0; i < e; i++) {
      for (let j = 0; j < e; j++) for (let a = 0; a < e; a++) sw[i * e + j] += t1[i * e + a] * inv[a * e + j];
    }
    const sd = (M: Float64Array) => {
      const v = new Float64Array(k).fill(NaN);
      est.forEach((i, a) => (v[i] = M[a * e + a] >= 0 ? sc[i] * Math.sqrt(M[a * e + a]) : NaN));
      return toRec(v);
    };
    se = sd(inv);
    robust = sd(sw);
  }
  const ll = r.ev.ll - n * Math.log(s);
  const pers = persistence(m, th);
  const pre = modelPresample(p, P.init, th[0], m.family === "gjr");
  return {
    model: m.name,
    mean,
    status: r.converged ? "converged" : "not_converged",
    message: r.converged ? null : r.message,
    nobs: n,
    params: toRec(inUnits),
    se,
    robust_se: robust,
    loglik: ll,
    aic: -2 * ll + 2 * est.length,
    bic: -2 * ll + est.length * Math.log(n),
    persistence: pers,
    half_life: pers > 0 && pers < 1 ? Math.log(0.5) / Math.log(pers) : null,
    iterations: r.iterations + extraIterations,
    decrement: Number.isFinite(r.dec) ? r.dec : null,
    init: P.init,
    presample: s * s * pre.b,
    presample_neg: s * s * pre.bn,
    backend,
  };
}

/** A fit without estimates. */
export function emptyModelFit(
  m: GarchModelSpec,
  o: GarchModelOptions,
  status: GarchStatus,
  nobs: number,
  message: string,
  backend: "cpu" | "webgpu" = "cpu",
): GarchModelFit {
  return {
    model: m.name,
    mean: o.mean,
    ...emptyFit(status, nobs, message, o.init, backend),
    presample_neg: null,
  };
}

/**
 * Fits one model of the family to a series of returns on the CPU, f64 throughout (the last `maxSamples`
 * finite values). `start` (estimates in the input's units, e.g. the previous walk-forward refit's) replaces
 * the grid's start; when the search from it does not converge, the grid's is tried and the better kept.
 */
export function fitGarchModelCpu(
  r: ArrayLike<number>,
  m: GarchModelSpec,
  opts: Partial<GarchModelOptions> = {},
  start: GarchModelParams | null = null,
): GarchModelFit {
  const o = { ...GARCH_MODEL_DEFAULTS, ...opts };
  checkModelOptions(o);
  if (isGarch11(m, o.mean)) {
    const s = start && { mu: start.mu, omega: start.omega, alpha: start.alpha, beta: start.beta };
    return fromGarchFit(fitGarchCpu(r, o, s));
  }
  const prep = prepareSeries(r, o.maxSamples);
  if ("status" in prep) return emptyModelFit(m, o, prep.status, prep.nobs, prep.message);
  const p = forMean(prep, o.mean);
  const P = problem(p, m, o.init, o.mean);
  const mu0 = o.mean === "zero" ? -p.m / p.s : 0;
  const warm = start && scaledTheta(p, m, o.mean, start);
  const feasible = warm && P.cons.every((c) => dot(c.c, warm) >= c.lo);
  let res = feasible ? search(P, warm!, o.maxIter) : search(P, gridStart(P, mu0), o.maxIter);
  if (feasible && !res.converged) {
    const cold = search(P, gridStart(P, mu0), o.maxIter);
    cold.iterations += res.iterations;
    if (cold.converged || !(res.ev.ll >= cold.ev.ll)) res = cold;
  }
  if (!Number.isFinite(res.ev.ll)) {
    return emptyModelFit(m, o, "failed", p.x.length, res.message ?? "non-finite log-likelihood");
  }
  return finish(P, res, o.mean);
}
