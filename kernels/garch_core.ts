/**
 * GARCH(1,1) with a constant mean and Gaussian errors, estimated by maximum likelihood:
 *
 *   r_t = mu + e_t,   s2_t = omega + alpha e_{t-1}^2 + beta s2_{t-1},   t = 1..n,
 *   LL = -1/2 sum_t (log 2 pi + log s2_t + e_t^2 / s2_t),
 *
 * with omega > 0, alpha >= 0, beta >= 0, alpha + beta < 1. The pre-sample values e_0^2 and s2_0 are both
 * set to B, so s2_1 = omega + (alpha + beta) B, where B is (the `init` option):
 *   - `"sample"` (default): the mean of the squared residuals of the current mu, B = (1/n) sum (r_t - mu)^2.
 *     This is the convention of the Fiorentini-Calzolari-Panattoni (1996) / McCullough-Renfro (1998)
 *     benchmark (h_0 = e_0^2 = mean squared residual) and reproduces its log-likelihood -1106.608 on the
 *     DEM/GBP data (the sample variance with n - 1 gives -1106.60797; `arch`'s backcast -1104.57); R fGarch's
 *     default ("mci") is the same. B moves with mu, and the analytic derivatives include that.
 *   - `"backcast"`: the `arch` package's backcast, an exponentially weighted mean of the first tau = min(75, n)
 *     squared residuals of the sample mean, weights 0.94^i normalised; B is then a constant.
 *
 * Estimation (every path, f64 on the host): the series is centred and scaled (x = (r - mean) / sd; the
 * likelihood is equivariant, so estimates are mapped back exactly, LL = LL_x - n log sd — this replaces
 * `arch`'s scale check / rescale warning); the start is the best of `arch`'s 16-point grid (alpha in
 * {0.01, 0.05, 0.1, 0.2}, alpha + beta in {0.5, 0.7, 0.9, 0.98}, omega = (1 - alpha - beta) mean x^2,
 * mu = mean), scored on the first GRID_POINTS = 2048 observations (it only picks a start); then projected
 * Newton steps with the analytic gradient and Hessian (the BHHH outer product of
 * scores where -Hessian is not positive definite), a backtracking line search, bounds handled by
 * projection (omega >= 1e-10 var, alpha, beta >= 0, alpha + beta <= 1 - 1e-8) and by dropping a
 * coordinate held at its bound from the Newton system (at alpha + beta = 1 - 1e-8, when the step would raise
 * the sum, alpha and beta move along (1, -1) only). Converged when the Newton decrement g'(-H)^-1 g
 * over the free coordinates is below 1e-10 (the log-likelihood is within ~5e-11 of the optimum).
 * Not adopted from `arch`: its clipping of s2_t into EWMA-based variance bounds, which changes the likelihood
 * (the benchmark needs the exact one); here s2_t >= omega > 0 follows from the parameter bounds.
 *
 * The WebGPU path (`kernels/garch_gpu.ts`) evaluates the log-likelihood, gradient, Hessian and score outer
 * product of MANY series and candidate points in one dispatch (f32, one invocation per series and
 * candidate), runs the grid and the Newton search there, and finishes each series with the f64 Newton steps
 * below (f32 cannot place mu to the optimum's precision: the likelihood is nearly flat in mu).
 *
 * Standard errors: `se` from the inverse of the analytic f64 Hessian, `robust_se` from the
 * Bollerslev-Wooldridge sandwich H^-1 (sum_t s_t s_t') H^-1 with the per-observation scores s_t.
 */
import { UsageError } from "../runtime/errors.ts";
import { type GarchModelParams, type GarchModelSpec, modelFilter, modelFilterFrom } from "./garch_family.ts";
import { type GarchEval, garchEvalFull } from "./garch_eval.ts";

/** Log-likelihood, gradient, Hessian and score outer product (f64, in WebAssembly: kernels/garch_eval.ts). */
export { garchEvalFull };
export type { GarchEval };

/** GARCH(1,1)-normal as a model of the family (`kernels/garch_model.ts`). */
export const GARCH11: GarchModelSpec = { name: "garch11", family: "garch", p: 1, q: 1, dist: "normal" };

/** Pre-sample variance convention (see the module comment). */
export type VarianceInit = "sample" | "backcast";

/** Fit options. */
export interface GarchOptions {
  /** Pre-sample variance B: "sample" (mean squared residual, the benchmark's) or "backcast" (`arch`'s). */
  init: VarianceInit;
  /** Newton iterations at most (GPU search and f64 steps together). Default 1000. */
  maxIter: number;
  /** Fit on the last `maxSamples` finite observations. Default 10000. */
  maxSamples: number;
}

/** The defaults (features.garch: max_iter 1000, max_samples 10000). */
export const GARCH_DEFAULTS: GarchOptions = { init: "sample", maxIter: 1000, maxSamples: 10000 };

/** Fewer observations than this give status "too_short". */
export const GARCH_MIN_SAMPLES = 100;

/** Fit outcome. */
export type GarchStatus = "converged" | "not_converged" | "too_short" | "constant" | "failed";

/** The four parameters (mu, omega, alpha, beta). */
export interface GarchParams {
  /** Constant mean of the returns. */
  mu: number;
  /** Variance intercept (> 0). */
  omega: number;
  /** ARCH coefficient: weight of the last squared residual (>= 0). */
  alpha: number;
  /** GARCH coefficient: weight of the last conditional variance (>= 0; alpha + beta < 1). */
  beta: number;
}

/** The result of a fit with estimates `P`; numbers that do not exist are null (JSON-safe). */
export interface GarchFitOf<P> {
  /** "converged"; "not_converged" (iteration cap or no further ascent: estimates are the best found); "too_short"
   * (< 100 observations), "constant" (zero variance) or "failed" (non-finite likelihood): no estimates. */
  status: GarchStatus;
  /** Why, for any status but "converged". */
  message: string | null;
  /** Observations used in the fit. */
  nobs: number;
  /** Estimates in the input's units, by name (mu, omega, alpha, ..., beta, and nu, lambda for t / skew-t). */
  params: P | null;
  /** Standard errors from the inverse Hessian of the log-likelihood. */
  se: P | null;
  /** Bollerslev-Wooldridge robust (sandwich) standard errors. */
  robust_se: P | null;
  /** Maximised log-likelihood (constants included). */
  loglik: number | null;
  /** -2 LL + 2 k (k estimated parameters, 4 for GARCH(1,1)). */
  aic: number | null;
  /** -2 LL + k ln n. */
  bic: number | null;
  /** sum alpha + sum gamma / 2 + sum beta (alpha + beta for GARCH(1,1)). */
  persistence: number | null;
  /** ln(0.5) / ln(persistence), in observations (null when the persistence is 0). */
  half_life: number | null;
  /** Newton iterations taken (GPU search + f64 steps). */
  iterations: number;
  /** Newton decrement g'(-H)^-1 g at the estimate (free coordinates), scaled units. */
  decrement: number | null;
  /** The pre-sample variance convention used. */
  init: VarianceInit;
  /** The pre-sample e_0^2 = s2_0 = B at the estimate, in the input's squared units (`garchFilterFrom` starts
   * the variance recursion with it). */
  presample: number | null;
  /** Which path searched: "cpu" (f64 throughout) or "webgpu" (f32 search + f64 finish). */
  backend: "cpu" | "webgpu";
}

/** The result of one GARCH(1,1) fit. */
export type GarchFit = GarchFitOf<GarchParams>;

const LOG2PI = Math.log(2 * Math.PI);
/** Parameter index: mu, omega, alpha, beta. */
const MU = 0, OM = 1, AL = 2, BE = 3;
/** Lower-triangle index of (i, j), i >= j, in a packed symmetric 4x4 (10 entries). */
export const TRI = [[0], [1, 2], [3, 4, 5], [6, 7, 8, 9]];
const tri = (i: number, j: number): number => (i >= j ? TRI[i][j] : TRI[j][i]);

/** A series prepared for fitting: centred and scaled so that mean(x) = 0 and mean(x^2) = 1. */
export interface PreparedSeries {
  /** (r - m) / s over the fit window. */
  x: Float64Array;
  /** Mean of the fit window. */
  m: number;
  /** Population standard deviation of the fit window. */
  s: number;
  /** `arch` backcast of x (used when init is "backcast"). */
  backcast: number;
}

/** The pre-sample value B(mu) and its first two derivatives in mu, for scaled data. */
export function presample(p: PreparedSeries, init: VarianceInit, mu: number): [number, number, number] {
  // mean((x - mu)^2) = mean(x^2) - 2 mu mean(x) + mu^2 = 1 + mu^2 (x centred, mean(x^2) = 1).
  return init === "sample" ? [1 + mu * mu, 2 * mu, 2] : [p.backcast, 0, 0];
}

/** `arch`'s backcast: sum_{i < tau} w_i e_i^2, w_i = 0.94^i / sum_j 0.94^j, tau = min(75, n). */
export function archBackcast(e: ArrayLike<number>): number {
  const tau = Math.min(75, e.length);
  let sw = 0, s = 0, w = 1;
  for (let i = 0; i < tau; i++, w *= 0.94) {
    sw += w;
    s += w * e[i] * e[i];
  }
  return s / sw;
}

/**
 * sum_t log(s2_t) is taken as the log of products of 8 consecutive s2_t (one log per 8 points): in scaled
 * units s2 lies within [1e-10, ~1e12], so a product of 8 stays far inside the f64 range.
 */
const LOG_BLOCK = 8;

/** Log-likelihood only (f64). */
export function garchLogLik(x: Float64Array, th: ArrayLike<number>, b: number): number {
  const mu = th[0], om = th[1], al = th[2], be = th[3];
  let e2 = b, h = b, q = 0, logs = 0, prod = 1;
  for (let t = 0; t < x.length; t++) {
    h = om + al * e2 + be * h;
    const e = x[t] - mu;
    e2 = e * e;
    q += e2 / h;
    prod *= h;
    if ((t & (LOG_BLOCK - 1)) === LOG_BLOCK - 1) {
      logs += Math.log(prod);
      prod = 1;
    }
  }
  return -0.5 * (x.length * LOG2PI + logs + Math.log(prod) + q);
}

/** Log-likelihood and gradient only (f64): the cheap evaluation for steps with a known Hessian. */
export function garchEvalGrad(
  x: Float64Array,
  th: ArrayLike<number>,
  b: number,
  db: number,
): { ll: number; g: Float64Array } {
  const mu = th[0], om = th[1], al = th[2], be = th[3];
  const ab = al + be;
  let h = om + ab * b;
  let dm = ab * db, dO = 1, dA = b, dB = b;
  let q = 0, logs = 0, prod = 1, g0 = 0, g1 = 0, g2 = 0, g3 = 0;
  const n = x.length;
  for (let t = 0; t < n; t++) {
    if (t > 0) {
      const ep = x[t - 1] - mu, hp = h;
      dm = -2 * al * ep + be * dm;
      dO = 1 + be * dO;
      dA = ep * ep + be * dA;
      dB = hp + be * dB;
      h = om + al * ep * ep + be * hp;
    }
    const e = x[t] - mu, u = 1 / h, qq = e * e * u;
    q += qq;
    prod *= h;
    if ((t & (LOG_BLOCK - 1)) === LOG_BLOCK - 1) {
      logs += Math.log(prod);
      prod = 1;
    }
    const a = 0.5 * (qq - 1) * u;
    g0 += a * dm + e * u;
    g1 += a * dO;
    g2 += a * dA;
    g3 += a * dB;
  }
  return { ll: -0.5 * (n * LOG2PI + logs + Math.log(prod) + q), g: Float64Array.of(g0, g1, g2, g3) };
}

/** Unpacks a packed symmetric 4x4 into row-major 16. */
export function unpack(p: ArrayLike<number>): Float64Array {
  const m = new Float64Array(16);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) m[i * 4 + j] = p[tri(i, j)];
  return m;
}

/** The unit vector e_i (4). */
const unit = (i: number): Float64Array => {
  const z = new Float64Array(4);
  z[i] = 1;
  return z;
};

/**
 * Cholesky solve of the reduced system (Z'AZ) y = Z'b over the directions Z (d-vectors, d = b.length; A
 * row-major d x d symmetric); null when Z'AZ is not positive definite.
 */
export function cholSolve(A: Float64Array, b: ArrayLike<number>, Z: Float64Array[]): Float64Array | null {
  const k = Z.length, d = b.length;
  const M = new Float64Array(k * k), v = new Float64Array(k);
  Z.forEach((zi, i) => {
    for (let r = 0; r < d; r++) v[i] += zi[r] * b[r];
    for (let j = 0; j <= i; j++) {
      let m = 0;
      for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) m += zi[r] * A[r * d + c] * Z[j][c];
      M[i * k + j] = m;
    }
  });
  const L = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = M[i * k + j];
      for (let l = 0; l < j; l++) s -= L[i * k + l] * L[j * k + l];
      if (i === j) {
        if (!(s > 1e-14 * Math.abs(M[i * k + i])) || !Number.isFinite(s)) return null;
        L[i * k + i] = Math.sqrt(s);
      } else L[i * k + j] = s / L[j * k + j];
    }
  }
  const y = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = v[i];
    for (let l = 0; l < i; l++) s -= L[i * k + l] * y[l];
    y[i] = s / L[i * k + i];
  }
  for (let i = k - 1; i >= 0; i--) {
    let s = y[i];
    for (let l = i + 1; l < k; l++) s -= L[l * k + i] * y[l];
    y[i] = s / L[i * k + i];
  }
  return y;
}

/** Inverse of a symmetric positive definite 4x4 (row-major); null when not SPD. */
export function invSpd(A: Float64Array): Float64Array | null {
  const inv = new Float64Array(16);
  const Z = [0, 1, 2, 3].map(unit);
  for (let c = 0; c < 4; c++) {
    const col = cholSolve(A, Z[c], Z);
    if (!col) return null;
    for (let r = 0; r < 4; r++) inv[r * 4 + c] = col[r];
  }
  return inv;
}

/** Bounds in scaled units (the data have mean(x^2) = 1). */
export const OMEGA_MIN = 1e-10, PERSISTENCE_MAX = 1 - 1e-8;

/** Projects a parameter vector onto the feasible set (in place); returns it. */
export function project(th: Float64Array): Float64Array {
  if (!(th[OM] >= OMEGA_MIN)) th[OM] = OMEGA_MIN;
  if (!(th[AL] >= 0)) th[AL] = 0;
  if (!(th[BE] >= 0)) th[BE] = 0;
  const excess = th[AL] + th[BE] - PERSISTENCE_MAX;
  if (excess > 0) {
    // Move both back along (1, 1) and clip, keeping the sum at the bound.
    let a = th[AL] - excess / 2, b = th[BE] - excess / 2;
    if (a < 0) (b += a, a = 0);
    if (b < 0) (a += b, b = 0);
    th[AL] = a;
    th[BE] = b;
  }
  return th;
}

/** The direction that moves alpha and beta with their sum fixed. */
const ALONG_SUM = Float64Array.of(0, 0, 1, -1);

/**
 * Newton direction at (g, H, opg): coordinates held at a bound with the gradient pushing outward are fixed;
 * at alpha + beta = PERSISTENCE_MAX, when the step would raise the sum, alpha and beta move only along
 * (1, -1) (the constraint is active: without this, every projected step lands back on the bound and the
 * search stalls there, as on near-integrated windows). -H over the free directions if positive definite, else
 * the score outer product (BHHH), else a scaled gradient. Returns the direction and the decrement g'd.
 */
export function newtonDirection(
  th: ArrayLike<number>,
  g: ArrayLike<number>,
  hess: ArrayLike<number>,
  opg: ArrayLike<number>,
): { d: Float64Array; dec: number; kind: "newton" | "bhhh" | "gradient" } {
  const free: number[] = [MU];
  if (th[OM] > OMEGA_MIN * 1.0000001 || g[OM] > 0) free.push(OM);
  const atSum = th[AL] + th[BE] >= PERSISTENCE_MAX * (1 - 1e-12);
  if (th[AL] > 0 || g[AL] > 0) { if (!(atSum && g[AL] > 0 && th[BE] === 0)) free.push(AL); }
  if (th[BE] > 0 || g[BE] > 0) { if (!(atSum && g[BE] > 0 && th[AL] === 0)) free.push(BE); }
  const negH = unpack(hess).map((v) => -v);
  const O = unpack(opg);
  const solve = (Z: Float64Array[]) => {
    let kind: "newton" | "bhhh" | "gradient" = "newton";
    let y = cholSolve(negH, g, Z);
    if (!y) {
      kind = "bhhh";
      y = cholSolve(O, g, Z);
    }
    if (!y) {
      kind = "gradient";
      y = Float64Array.from(Z, (z) => {
        let zg = 0, zOz = 0;
        for (let r = 0; r < 4; r++) {
          zg += z[r] * g[r];
          for (let c = 0; c < 4; c++) zOz += z[r] * O[r * 4 + c] * z[c];
        }
        return zg / Math.max(Math.abs(zOz), 1e-12);
      });
    }
    const d = new Float64Array(4);
    Z.forEach((z, k) => {
      for (let r = 0; r < 4; r++) d[r] += y![k] * z[r];
    });
    let dec = 0;
    for (let r = 0; r < 4; r++) dec += g[r] * d[r];
    return { d, dec, kind };
  };
  const dir = solve(free.map(unit));
  if (atSum && free.includes(AL) && free.includes(BE) && dir.d[AL] + dir.d[BE] > 0) {
    return solve([...free.filter((i) => i !== AL && i !== BE).map(unit), ALONG_SUM]);
  }
  return dir;
}

/** The starting grid of `arch` (alpha x persistence), for scaled data (target variance 1, mu 0). */
export function startingGrid(): Float64Array[] {
  const out: Float64Array[] = [];
  for (const alpha of [0.01, 0.05, 0.1, 0.2]) {
    for (const agb of [0.5, 0.7, 0.9, 0.98]) out.push(Float64Array.of(0, 1 - agb, alpha, agb - alpha));
  }
  return out;
}

/** Decrement below which a fit has converged (scaled units: LL is within ~dec/2 of its maximum). */
export const DECREMENT_TOL = 1e-10;

/** Result of the f64 Newton iterations on one prepared series. */
export interface NewtonResult {
  th: Float64Array;
  ev: GarchEval;
  iterations: number;
  converged: boolean;
  dec: number;
  message: string | null;
}

/**
 * Projected Newton with backtracking in f64 from `th0`, at most `maxIter` iterations. Each iteration costs
 * one full evaluation, plus one log-likelihood per line-search trial when far from the optimum (a predicted
 * gain g'd above 1e-3): closer, the Newton step is evaluated directly and only backtracked from if it loses
 * more than rounding. `hint`, an approximate Hessian at `th0` (the GPU's f32 one), makes the first step cost
 * one cheap gradient evaluation instead of a full one.
 */
export function newtonF64(
  p: PreparedSeries,
  init: VarianceInit,
  th0: ArrayLike<number>,
  maxIter: number,
  hint?: { h: ArrayLike<number>; opg: ArrayLike<number> },
): NewtonResult {
  const th = project(Float64Array.from(th0));
  const full = (t: Float64Array) => garchEvalFull(p.x, t, ...presample(p, init, t[MU]));
  const noLoss = (a: number, b: number) => a >= b - 1e-13 * Math.abs(b);
  let it = 0;
  let ev: GarchEval | null = null;
  if (hint && maxIter > 0) {
    const [b, db] = presample(p, init, th[MU]);
    const gr = garchEvalGrad(p.x, th, b, db);
    const dir = newtonDirection(th, gr.g, hint.h, hint.opg);
    if (dir.kind === "newton" && Number.isFinite(gr.ll) && dir.dec < 1) {
      const cand = project(th.map((v, i) => v + dir.d[i]));
      const evc = full(cand);
      if (noLoss(evc.ll, gr.ll)) {
        th.set(cand);
        ev = evc;
        it = 1;
      }
    }
  }
  ev ??= full(th);
  let dec = Infinity;
  let message: string | null = null;
  if (!Number.isFinite(ev.ll)) {
    return { th, ev, iterations: it, converged: false, dec: NaN, message: "non-finite log-likelihood" };
  }
  for (;;) {
    const dir = newtonDirection(th, ev.g, ev.h, ev.opg);
    dec = dir.dec;
    if (dir.kind === "newton" && dec < DECREMENT_TOL) {
      return { th, ev, iterations: it, converged: true, dec, message };
    }
    if (it >= maxIter) {
      message = `no convergence in ${maxIter} iterations (decrement ${dec.toExponential(2)})`;
      return { th, ev, iterations: it, converged: false, dec, message };
    }
    it++;
    let next: GarchEval | null = null, nextTh: Float64Array | null = null;
    if (dir.kind === "newton" && dec < 1e-3) {
      nextTh = project(th.map((v, i) => v + dir.d[i]));
      next = full(nextTh);
      if (!noLoss(next.ll, ev.ll)) next = null;
    }
    if (!next) {
      let lam = 1;
      nextTh = null;
      for (let k = 0; k < 40; k++, lam *= 0.5) {
        const cand = project(th.map((v, i) => v + lam * dir.d[i]));
        const ll = garchLogLik(p.x, cand, presample(p, init, cand[MU])[0]);
        if (ll >= ev.ll + 1e-4 * lam * Math.min(dec, 1) || (ll > ev.ll && k > 10)) {
          nextTh = cand;
          break;
        }
      }
      if (!nextTh) {
        // No ascent along the direction: at the optimum to rounding when the decrement is tiny.
        const converged = dec < 1e-7;
        if (!converged) message = `line search found no ascent (decrement ${dec.toExponential(2)})`;
        return { th, ev, iterations: it, converged, dec, message };
      }
      next = full(nextTh);
    }
    th.set(nextTh!);
    ev = next;
    if (!Number.isFinite(ev.ll)) {
      return { th, ev, iterations: it, converged: false, dec: NaN, message: "non-finite log-likelihood" };
    }
  }
}

/** The first index of the fit window ending at `end` (exclusive): it holds the last `maxSamples` finite values. */
export function windowStart(r: ArrayLike<number>, end: number, maxSamples: number): number {
  let count = 0, start = end;
  while (start > 0 && count < maxSamples) if (Number.isFinite(r[--start])) count++;
  return start;
}

/** Prepares the last `maxSamples` finite values of `r`; a status instead when they cannot be fitted. */
export function prepareSeries(
  r: ArrayLike<number>,
  maxSamples: number,
): PreparedSeries | { status: "too_short" | "constant"; nobs: number; message: string } {
  const start = windowStart(r, r.length, maxSamples);
  let n = 0;
  for (let i = start; i < r.length; i++) if (Number.isFinite(r[i])) n++;
  if (n < GARCH_MIN_SAMPLES) {
    return {
      status: "too_short",
      nobs: n,
      message: `${n} finite observations; at least ${GARCH_MIN_SAMPLES} needed`,
    };
  }
  const x = new Float64Array(n);
  let m = 0;
  for (let i = start, k = 0; k < n; i++) {
    const v = r[i];
    if (Number.isFinite(v)) {
      x[k++] = v;
      m += v;
    }
  }
  m /= n;
  let ss = 0, maxAbs = 0;
  for (let k = 0; k < n; k++) {
    ss += (x[k] - m) * (x[k] - m);
    maxAbs = Math.max(maxAbs, Math.abs(x[k]));
  }
  const s = Math.sqrt(ss / n);
  if (!(s > 1e-12 * maxAbs) || !(s > 0)) {
    return { status: "constant", nobs: n, message: "the series is constant (zero variance)" };
  }
  for (let k = 0; k < n; k++) x[k] = (x[k] - m) / s;
  return { x, m, s, backcast: archBackcast(x) };
}

/** Maps scaled-unit estimates, Hessian and OPG to the fit result in the input's units. */
export function finishFit(
  p: PreparedSeries,
  init: VarianceInit,
  r: NewtonResult,
  backend: "cpu" | "webgpu",
  extraIterations = 0,
): GarchFit {
  const n = p.x.length, s = p.s;
  const th = r.th;
  const scale = [s, s * s, 1, 1]; // d(original)/d(scaled)
  const params: GarchParams = { mu: p.m + s * th[MU], omega: s * s * th[OM], alpha: th[AL], beta: th[BE] };
  const ll = r.ev.ll - n * Math.log(s);
  const negH = unpack(r.ev.h).map((v) => -v);
  const inv = invSpd(negH);
  let se: GarchParams | null = null, robust: GarchParams | null = null;
  if (inv) {
    const O = unpack(r.ev.opg);
    // Sandwich inv O inv.
    const t1 = new Float64Array(16), sw = new Float64Array(16);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        let v = 0;
        for (let k = 0; k < 4; k++) v += inv[i * 4 + k] * O[k * 4 + j];
        t1[i * 4 + j] = v;
      }
    }
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        let v = 0;
        for (let k = 0; k < 4; k++) v += t1[i * 4 + k] * inv[k * 4 + j];
        sw[i * 4 + j] = v;
      }
    }
    const sd = (m: Float64Array, i: number) => (m[i * 5] >= 0 ? scale[i] * Math.sqrt(m[i * 5]) : NaN);
    const asParams = (m: Float64Array): GarchParams => ({
      mu: sd(m, 0),
      omega: sd(m, 1),
      alpha: sd(m, 2),
      beta: sd(m, 3),
    });
    se = asParams(inv);
    robust = asParams(sw);
  }
  const pers = params.alpha + params.beta;
  return {
    status: r.converged ? "converged" : Number.isFinite(r.ev.ll) ? "not_converged" : "failed",
    message: r.converged ? null : r.message,
    nobs: n,
    params,
    se: se && nullify(se),
    robust_se: robust && nullify(robust),
    loglik: ll,
    aic: -2 * ll + 8,
    bic: -2 * ll + 4 * Math.log(n),
    persistence: pers,
    half_life: pers > 0 && pers < 1 ? Math.log(0.5) / Math.log(pers) : null,
    iterations: r.iterations + extraIterations,
    decrement: Number.isFinite(r.dec) ? r.dec : null,
    init,
    presample: s * s * presample(p, init, th[MU])[0],
    backend,
  };
}

function nullify(p: GarchParams): GarchParams {
  const f = (v: number) => (Number.isFinite(v) ? v : null) as number;
  return { mu: f(p.mu), omega: f(p.omega), alpha: f(p.alpha), beta: f(p.beta) };
}

/**
 * Prepares every series for fitting; one that cannot be fitted (too short, constant) gets `empty(...)` in its
 * place in `fits`. `owner[k]` is the input index of `prepared[k]`.
 */
export function prepareAll<F>(
  series: ArrayLike<number>[],
  maxSamples: number,
  empty: (status: GarchStatus, nobs: number, message: string) => F,
): { fits: (F | null)[]; prepared: PreparedSeries[]; owner: number[] } {
  const fits: (F | null)[] = series.map(() => null);
  const prepared: PreparedSeries[] = [];
  const owner: number[] = [];
  series.forEach((r, i) => {
    const p = prepareSeries(r, maxSamples);
    if ("status" in p) fits[i] = empty(p.status, p.nobs, p.message);
    else {
      prepared.push(p);
      owner.push(i);
    }
  });
  return { fits, prepared, owner };
}

/** A fit result without estimates (too short, constant). */
export function emptyFit<P = GarchParams>(
  status: GarchStatus,
  nobs: number,
  message: string,
  init: VarianceInit,
  backend: "cpu" | "webgpu",
): GarchFitOf<P> {
  return {
    status,
    message,
    nobs,
    params: null,
    se: null,
    robust_se: null,
    loglik: null,
    aic: null,
    bic: null,
    persistence: null,
    half_life: null,
    iterations: 0,
    decrement: null,
    init,
    presample: null,
    backend,
  };
}

/** The starting grid is scored on the first GRID_POINTS observations of the fit window (it only picks a start). */
export const GRID_POINTS = 2048;

/** Best start of the grid by log-likelihood (f64). */
export function bestStart(p: PreparedSeries, init: VarianceInit): Float64Array {
  let best = startingGrid()[0], bestLl = -Infinity;
  const x = p.x.subarray(0, GRID_POINTS);
  for (const th of startingGrid()) {
    const ll = garchLogLik(x, th, presample(p, init, th[MU])[0]);
    if (ll > bestLl) (bestLl = ll, best = th);
  }
  return best;
}

/**
 * Fits GARCH(1,1) to one series of returns on the CPU, f64 throughout. `start` (estimates in the input's units,
 * e.g. the previous walk-forward refit's) replaces the grid's start; when the search from it does not converge,
 * the fit is rerun from the grid and the better of the two kept.
 */
export function fitGarchCpu(
  r: ArrayLike<number>,
  opts: Partial<GarchOptions> = {},
  start: GarchParams | null = null,
): GarchFit {
  const o = { ...GARCH_DEFAULTS, ...opts };
  checkOptions(o);
  const p = prepareSeries(r, o.maxSamples);
  if ("status" in p) return emptyFit(p.status, p.nobs, p.message, o.init, "cpu");
  const grid = () => newtonF64(p, o.init, bestStart(p, o.init), o.maxIter);
  let res = start ? newtonF64(p, o.init, scaledStart(p, start), o.maxIter) : grid();
  let extra = 0;
  if (start && !res.converged) {
    const cold = grid();
    extra = res.iterations;
    if (cold.converged || !(res.ev.ll >= cold.ev.ll)) res = cold;
  }
  if (!Number.isFinite(res.ev.ll)) {
    return emptyFit("failed", p.x.length, res.message ?? "non-finite log-likelihood", o.init, "cpu");
  }
  return finishFit(p, o.init, res, "cpu", extra);
}

/** Estimates in the input's units as a start in the prepared series' scaled units. */
function scaledStart(p: PreparedSeries, q: GarchParams): Float64Array {
  return Float64Array.of((q.mu - p.m) / p.s, q.omega / (p.s * p.s), q.alpha, q.beta);
}

/** Validates options (UsageError naming the bad one). */
export function checkOptions(o: GarchOptions): void {
  if (o.init !== "sample" && o.init !== "backcast") {
    throw new UsageError(`garch: init expects sample or backcast, got ${JSON.stringify(o.init)}`);
  }
  if (!Number.isInteger(o.maxIter) || o.maxIter < 1) {
    throw new UsageError(`garch: max_iter expects an integer >= 1, got ${o.maxIter}`);
  }
  if (!Number.isInteger(o.maxSamples) || o.maxSamples < 1) {
    throw new UsageError(`garch: max_samples expects an integer >= 1, got ${o.maxSamples}`);
  }
}

/**
 * The conditional volatility sigma_t = sqrt(s2_t) of the whole series with fixed parameters, causal:
 * sigma_t uses r_0..r_{t-1} only. The recursion starts at the first finite return with
 * e^2 = s2 = omega / (1 - alpha - beta) (the unconditional variance, which depends on the parameters only);
 * a non-finite return r_t leaves sigma_t defined and advances with E[e_t^2] = s2_t. NaN before the first
 * finite return. `p` may be a GARCH(1,1) fit's estimates by name (`GarchModelParams`; mu 0 when absent).
 */
export function garchFilter(r: ArrayLike<number>, p: GarchParams | GarchModelParams): Float64Array {
  return modelFilter(r, GARCH11, { ...p });
}

/**
 * Writes sigma_t = sqrt(s2_t) into `out[from..to)` for parameters fitted on the window r[lo, from): the
 * recursion starts at `lo` with e_0^2 = s2_0 = `b` (the fit's pre-sample variance, `GarchFit.presample`) and
 * runs over the window's finite returns as the fit did (skipping non-finite ones), so s2 at `from` is the fit's
 * one-step forecast; from `from` on, sigma_t uses r up to t-1 only, and a non-finite r_t advances with
 * E[e_t^2] = s2_t.
 */
export function garchFilterFrom(
  r: ArrayLike<number>,
  p: GarchParams,
  b: number,
  lo: number,
  from: number,
  to: number,
  out: Float64Array,
): void {
  modelFilterFrom(r, GARCH11, { ...p }, b, 0, lo, from, to, out);
}

/** Walk-forward refit schedule (features.garch: window, refit_every, min_samples). */
export interface WalkForwardOptions {
  /** Fit window: the last `window` finite returns before the refit row, or all of them ("expanding"). */
  window: number | "expanding";
  /** Rows between refits. */
  refitEvery: number;
  /** Finite returns before the first refit (rows before it stay NaN). */
  minSamples: number;
}

/** One walk-forward refit: fitted on r[lo, row), it serves the rows [row, end). */
export interface Refit {
  /** First row of the fit window. */
  lo: number;
  /** The refit row: the first row served; the window ends just before it. */
  row: number;
  /** One past the last row served (the next refit's row, or the series' length). */
  end: number;
}

/**
 * The refits of a series of returns: the first at the row after the `minSamples`-th finite return, then every
 * `refitEvery` rows. Each refit's rows and window depend on r before its row only, so truncating r never moves
 * an earlier refit (only the last one's `end`).
 */
export function walkForwardRefits(r: ArrayLike<number>, o: WalkForwardOptions): Refit[] {
  let first = 0, seen = 0;
  while (first < r.length && seen < o.minSamples) if (Number.isFinite(r[first++])) seen++;
  const out: Refit[] = [];
  if (seen < o.minSamples) return out;
  for (let row = first; row < r.length; row += o.refitEvery) {
    const lo = o.window === "expanding" ? 0 : windowStart(r, row, o.window);
    out.push({ lo, row, end: Math.min(row + o.refitEvery, r.length) });
  }
  return out;
}

/** Percent log returns 100 log(c_t / c_{t-1}); NaN at t = 0 and where a price is missing or <= 0. */
export function percentLogReturns(close: ArrayLike<number>): Float64Array {
  const r = new Float64Array(close.length).fill(NaN);
  for (let t = 1; t < close.length; t++) {
    const a = close[t - 1], b = close[t];
    if (a > 0 && b > 0 && Number.isFinite(a) && Number.isFinite(b)) r[t] = 100 * Math.log(b / a);
  }
  return r;
}

/** GARCH(1,1) returns driven by the standard normal shocks `z`, after a burn-in of `burn` points (simulation). */
export function simulateGarch(p: GarchParams, z: Float64Array, burn = 500): Float64Array {
  const r = new Float64Array(Math.max(0, z.length - burn));
  let h = p.omega / (1 - p.alpha - p.beta), e = 0;
  for (let t = 0; t < z.length; t++) {
    if (t > 0) h = p.omega + p.alpha * e * e + p.beta * h;
    e = Math.sqrt(h) * z[t];
    if (t >= burn) r[t - burn] = p.mu + e;
  }
  return r;
}
