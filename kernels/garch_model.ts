/**
 * The GARCH model family beyond GARCH(1,1)-normal: the variance recursion of `kernels/garch_core.ts`
 * generalised to p ARCH lags, q GARCH lags and GJR asymmetry (`arch`'s parameterisation),
 *
 *   r_t = mu + e_t,  e_t = sigma_t z_t,
 *   s2_t = omega + sum_{i<=p} (alpha_i e_{t-i}^2 + gamma_i e_{t-i}^2 1[e_{t-i} < 0]) + sum_{j<=q} beta_j s2_{t-j},
 *
 * with z_t normal, Student-t or Hansen's skewed t (`kernels/garch_dist.ts`). Names: `garch{p}{q}` and
 * `gjr{p}{q}` (p in 1..3 ARCH lags, q in 0..3 GARCH lags: the order of `arch`'s p, q and fGarch's
 * garch(p, q)), suffix `_t` or `_skewt` for the innovations: garch11, gjr11_t, garch21_skewt.
 * Parameters: mu (absent with a zero mean), omega, alpha, alpha2.., gamma, gamma2.. (GJR), beta, beta2..,
 * nu, lambda; a lag-1 coefficient has no suffix, so GARCH(1,1)'s names are `GarchParams`' own.
 *
 * Pre-sample values, as for GARCH(1,1): e_{1-i}^2 = s2_{1-j} = B (the mean squared residual, or `arch`'s
 * backcast) and e_{1-i}^2 1[e_{1-i} < 0] = B / 2 (`arch`'s convention). fGarch starts s2_1..s2_m
 * (m = max(p, q)) all at omega + (sum alpha + sum beta) B in its own parameters — for its APARCH (delta 2)
 * ignoring gamma — and runs the recursion from m + 1: for GARCH(1,1)-type models that is this s2_1; for GJR
 * and higher orders the two differ in the first variances only (tests/garch_models_test.ts).
 *
 * The names, parameter layout, persistence and the variance filter are in `kernels/garch_family.ts`
 * (re-exported here).
 *
 * `evalModel` is the one likelihood recursion of the family (value only, or with the analytic gradient and
 * the score outer product: ds2/dtheta by forward recursion, the shape derivatives of log f analytic given
 * those of the density's constants).
 */
import { Density, SHAPE_BOUNDS } from "./garch_dist.ts";
import type { PreparedSeries, VarianceInit } from "./garch_core.ts";
import { type GarchModelSpec, layout } from "./garch_family.ts";

export {
  type GarchDist,
  type GarchMean,
  type GarchModelParams,
  garchModelProblem,
  type GarchModelSpec,
  type Layout,
  layout,
  MODEL_SCHEME,
  modelFilter,
  modelFilterFrom,
  modelName,
  ModelRecursion,
  parseModel,
  persistence,
} from "./garch_family.ts";

/** Pre-sample values B, Bn and their derivatives in mu (scaled data). */
export interface ModelPresample {
  b: number;
  db: number;
  bn: number;
  dbn: number;
}

/** The pre-sample values at `mu` (see the module comment). */
export function modelPresample(
  p: PreparedSeries,
  init: VarianceInit,
  mu: number,
  gjr: boolean,
): ModelPresample {
  // mean((x - mu)^2) = 1 + mu^2 for centred, scaled x (as in garch_core's presample).
  const [b, db] = init === "backcast" ? [p.backcast, 0] : [1 + mu * mu, 2 * mu];
  return { b, db, bn: gjr ? b / 2 : 0, dbn: gjr ? db / 2 : 0 };
}

/** Log-likelihood, and with `grad` the gradient and the score outer product (k x k row-major). */
export interface ModelEval {
  ll: number;
  g: Float64Array | null;
  opg: Float64Array | null;
}

/** sum log s2_t is taken one log per LOG_BLOCK points, as in garch_core. */
const LOG_BLOCK = 8;

/**
 * The log-likelihood of the scaled series `x` at theta (f64), with the gradient and (unless `withOpg` is false)
 * the score outer product when `grad` is set. The one recursion of the family: s2_t from ring buffers of the
 * last p residuals and q variances, and (with `grad`) of their derivatives.
 */
export function evalModel(
  x: Float64Array,
  m: GarchModelSpec,
  th: ArrayLike<number>,
  pre: ModelPresample,
  grad: boolean,
  withOpg = grad,
): ModelEval {
  const L = layout(m), k = L.k, p = m.p, q = m.q, gjr = m.family === "gjr";
  const mu = th[0], om = th[1], ai = L.alpha, gi = L.gamma, bi = L.beta, si = L.shape;
  // Coefficients as one local typed array: theta may be a number[] or a Float64Array (one shape for the JIT).
  const c = Float64Array.from(th);
  const shapes = Array.from({ length: k - L.shape }, (_, i) => th[L.shape + i]);
  const dens = new Density(m.dist, shapes);
  // Lag buffers, index 0 = lag 1: e^2, e^2 1[e<0], s2, and d/dmu of the first two, ds2/dtheta.
  const E2 = new Float64Array(p).fill(pre.b), EN = new Float64Array(p).fill(gjr ? pre.bn : 0);
  const dE2 = new Float64Array(p).fill(pre.db), dEN = new Float64Array(p).fill(gjr ? pre.dbn : 0);
  const H = new Float64Array(q).fill(pre.b);
  const DH = Array.from({ length: q }, () => {
    const d = new Float64Array(k);
    d[0] = pre.db;
    return d;
  });
  const g = grad ? new Float64Array(k) : null, opg = grad && withOpg ? new Float64Array(k * k) : null;
  const dh = new Float64Array(k), s = new Float64Array(k);
  let ll = 0, logs = 0, prod = 1;
  const n = x.length;
  for (let t = 0; t < n; t++) {
    let h = om;
    for (let i = 0; i < p; i++) h += c[ai + i] * E2[i];
    if (gjr) { for (let i = 0; i < p; i++) h += c[gi + i] * EN[i]; }
    for (let j = 0; j < q; j++) h += c[bi + j] * H[j];
    const e = x[t] - mu, sd = Math.sqrt(h), z = e / sd;
    ll += dens.logf(z);
    prod *= h;
    if ((t & (LOG_BLOCK - 1)) === LOG_BLOCK - 1) {
      logs += Math.log(prod);
      prod = 1;
    }
    if (grad) {
      // ds2_t/dtheta: the direct terms, then sum_j beta_j ds2_{t-j}/dtheta.
      dh.fill(0);
      dh[1] = 1;
      for (let i = 0; i < p; i++) {
        dh[0] += c[ai + i] * dE2[i] + (gjr ? c[gi + i] * dEN[i] : 0);
        dh[ai + i] = E2[i];
        if (gjr) dh[gi + i] = EN[i];
      }
      for (let j = 0; j < q; j++) {
        dh[bi + j] += H[j];
        const bj = c[bi + j], d = DH[j];
        for (let a = 0; a < si; a++) dh[a] += bj * d[a];
      }
      // l_t = log f(z) - log(s2) / 2, z = e / sd: dl/ds2 = -(f'(z) z + 1) / (2 s2), dl/de = f'(z) / sd.
      const lh = -0.5 * (dens.dz * z + 1) / h, le = dens.dz / sd;
      for (let a = 0; a < si; a++) s[a] = lh * dh[a];
      s[0] -= le;
      for (let a = si; a < k; a++) s[a] = dens.dShape(a - si);
      for (let a = 0; a < k; a++) g![a] += s[a];
      if (opg) { for (let a = 0; a < k; a++) for (let b = 0; b <= a; b++) opg[a * k + b] += s[a] * s[b]; }
      if (q) {
        const last = DH.pop()!;
        last.set(dh);
        DH.unshift(last);
      }
      for (let i = p - 1; i > 0; i--) (dE2[i] = dE2[i - 1], dEN[i] = dEN[i - 1]);
      dE2[0] = -2 * e;
      dEN[0] = e < 0 ? -2 * e : 0;
    }
    for (let i = p - 1; i > 0; i--) (E2[i] = E2[i - 1], EN[i] = EN[i - 1]);
    E2[0] = e * e;
    EN[0] = e < 0 ? e * e : 0;
    for (let j = q - 1; j > 0; j--) H[j] = H[j - 1];
    if (q) H[0] = h;
  }
  if (opg) { for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) opg[b * k + a] = opg[a * k + b]; }
  return { ll: ll - 0.5 * (logs + Math.log(prod)), g, opg };
}

/** A linear constraint c'theta >= lo. */
export interface Constraint {
  c: Float64Array;
  lo: number;
}

/** Bounds in scaled units, as for GARCH(1,1) (garch_core's OMEGA_MIN and PERSISTENCE_MAX). */
export function constraints(m: GarchModelSpec, omegaMin: number, persistenceMax: number): Constraint[] {
  const L = layout(m), k = L.k;
  const vec = (entries: [number, number][]) => {
    const c = new Float64Array(k);
    for (const [i, v] of entries) c[i] = v;
    return c;
  };
  const out: Constraint[] = [{ c: vec([[1, 1]]), lo: omegaMin }];
  for (let i = 0; i < m.p; i++) {
    out.push({ c: vec([[L.alpha + i, 1]]), lo: 0 });
    if (m.family === "gjr") out.push({ c: vec([[L.alpha + i, 1], [L.gamma + i, 1]]), lo: 0 });
  }
  for (let j = 0; j < m.q; j++) out.push({ c: vec([[L.beta + j, 1]]), lo: 0 });
  const pers = new Float64Array(k);
  for (let i = 0; i < m.p; i++) {
    pers[L.alpha + i] = -1;
    if (m.family === "gjr") pers[L.gamma + i] = -0.5;
  }
  for (let j = 0; j < m.q; j++) pers[L.beta + j] = -1;
  out.push({ c: pers, lo: -persistenceMax });
  L.names.slice(L.shape).forEach((name, i) => {
    const [lo, hi] = SHAPE_BOUNDS[name];
    out.push({ c: vec([[L.shape + i, 1]]), lo }, { c: vec([[L.shape + i, -1]]), lo: -hi });
  });
  return out;
}
