/**
 * The augmented Dickey-Fuller unit-root test, computed as statsmodels' `adfuller` computes it (0.13.5,
 * `statsmodels/tsa/stattools.py`): regression of Δx_t on x_{t-1}, Δx_{t-1..t-L} and deterministic terms
 * (`n | c | ct | ctt`), maxlag default ceil(12 (n/100)^(1/4)) capped at n/2 - ntrend - 1, the lag L chosen by
 * AIC, BIC or the last lag's t-statistic on the common sample (the rows the largest lag allows) and the test
 * re-fitted with L lags on the longest sample that lag allows; the p-value from MacKinnon (1994) and the
 * critical values for the final nobs from MacKinnon (2010) (kernels/mackinnon.ts).
 *
 * Least squares in f64 by Householder QR (backward stable whatever the column scales, so the quadratic
 * trend of a 10^5-row series needs no rescaling; statsmodels uses a pseudo-inverse: both agree to ~1e-12 on
 * well-conditioned designs). The lag search is batched: the candidate models are the column prefixes of one
 * design matrix, so one QR gives every candidate's residual sum of squares (the trailing part of Q'y) and
 * last-column t-statistic, instead of maxlag + 1 separate fits. Everything runs on the host in f64: the
 * regressions are n x (few) least-squares problems whose cost is one pass over the data, so a WebGPU batch of
 * f32 normal equations would cost more in transfers than it saves and cannot reach statsmodels' precision
 * (see bench/adf.ts).
 */
import { type AdfRegression, mackinnoncrit, mackinnonp } from "./mackinnon.ts";
import { defineScalarKernel, type ScalarKernel } from "./kernel.ts";
import { LIMITS } from "../runtime/limits.ts";

export type { AdfRegression };

/** How the number of lagged differences is chosen: information criterion, t-stat of the last lag, or fixed. */
export type AdfAutolag = "AIC" | "BIC" | "t-stat" | "none";

/** Options of {@link adfuller} (statsmodels' keyword arguments, plus how the lag search is computed). */
export interface AdfOptions {
  /** Deterministic terms. Default "c". */
  regression?: AdfRegression;
  /** Largest lag; null (default) gives ceil(12 (n/100)^(1/4)) capped at n/2 - ntrend - 1. */
  maxlag?: number | null;
  /** Lag selection; "none" uses maxlag lags. Default "AIC". */
  autolag?: AdfAutolag;
  /**
   * How the candidate lags are fitted on the common sample: `qr`, one Householder QR (O(n p^2)); `gram`, the
   * cross-product matrix updated along the lag diagonals (O(n p)) and a Cholesky of it after centring and
   * equilibration; `auto` (default) takes `gram` from n p^2 >= 2^16 and n >= 256 on (2.5x faster than the QR
   * at maxlag 1, 10x with statsmodels' default lags at 10^5 rows). The same choice is made
   * for the final regression. Either falls back to the QR where a Cholesky pivot shows near-collinear columns.
   */
  search?: "qr" | "gram" | "auto";
}

/** Critical values of a test statistic by significance level. */
export type CriticalValues = { "1%": number; "5%": number; "10%": number };

/** The result of {@link adfuller}, named as the `kernel adf` CLI prints it. */
export interface AdfResult {
  /** The t-statistic of x_{t-1} in the test regression. */
  adf_stat: number;
  /** MacKinnon (1994) approximate p-value. */
  p_value: number;
  /** Lagged differences in the final regression. */
  usedlag: number;
  /** Rows of the final regression. */
  nobs: number;
  /** MacKinnon (2010) critical values for `nobs`. */
  crit: CriticalValues;
  /** The best information criterion (AIC, BIC) or |t| of the last lag (t-stat); null when autolag is "none". */
  icbest: number | null;
}

/**
 * Householder QR of the columns (overwritten) and y (overwritten with Q'y). Returns R's diagonal; the first
 * k entries of Q'y and R[:k, :k] are the QR of the model with the first k columns (nested models).
 */
function householder(cols: Float64Array[], y: Float64Array): Float64Array {
  const m = y.length, p = cols.length;
  const diag = new Float64Array(p);
  for (let k = 0; k < p; k++) {
    const v = cols[k];
    let norm2 = 0;
    for (let i = k; i < m; i++) norm2 += v[i] * v[i];
    const norm = Math.sqrt(norm2);
    if (norm === 0) {
      diag[k] = 0;
      continue;
    }
    const x0 = v[k];
    const alpha = x0 > 0 ? -norm : norm;
    const denom = alpha * (alpha - x0); // = v'v / 2 with v = x - alpha e1, no cancellation
    v[k] = x0 - alpha;
    const reflect = (c: Float64Array) => {
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i] * c[i];
      const f = dot / denom;
      for (let i = k; i < m; i++) c[i] -= f * v[i];
    };
    for (let j = k + 1; j < p; j++) reflect(cols[j]);
    reflect(y);
    diag[k] = alpha;
  }
  return diag;
}

/** Per prefix size k = 1..p: residual sum of squares and the t-statistic of the k-th column. */
interface NestedFits {
  ssr: Float64Array;
  tLast: Float64Array;
}

/** Least squares of y on every column prefix of `cols` at once (both arrays are overwritten). */
function nestedOls(cols: Float64Array[], y: Float64Array): NestedFits {
  const m = y.length, p = cols.length;
  const diag = householder(cols, y);
  let tail = 0;
  for (let i = p; i < m; i++) tail += y[i] * y[i];
  const ssr = new Float64Array(p + 1), tLast = new Float64Array(p + 1).fill(NaN);
  ssr[p] = tail;
  for (let k = p - 1; k >= 0; k--) ssr[k] = ssr[k + 1] + y[k] * y[k];
  for (let k = 1; k <= p; k++) {
    // Last coefficient of the k-column model: (Q'y)_{k-1} / R_{k-1,k-1}; its variance s^2 / R_{k-1,k-1}^2.
    // No residual degrees of freedom (an exactly determined fit): t is undefined (statsmodels prints 0).
    const s = Math.sqrt(ssr[k] / (m - k));
    tLast[k] = diag[k - 1] === 0 || m <= k ? NaN : (y[k - 1] * Math.sign(diag[k - 1])) / s;
  }
  return { ssr, tLast };
}

const TREND_TERMS: Record<AdfRegression, number> = { n: 0, c: 1, ct: 2, ctt: 3 };

/**
 * Columns of the ADF regression with `lags` lagged differences on the rows i = lags .. n-2 (the longest sample
 * for that lag): the deterministic terms (1, t, t^2 with t = 1..nobs), then the level and the lagged differences
 * (the level last when `levelLast`).
 */
function design(x: ArrayLike<number>, lags: number, regression: AdfRegression, levelLast: boolean) {
  const n = x.length, m = n - 1 - lags;
  const y = new Float64Array(m);
  for (let r = 0; r < m; r++) y[r] = x[lags + r + 1] - x[lags + r];
  const trend: Float64Array[] = [];
  for (let pow = 0; pow < TREND_TERMS[regression]; pow++) {
    const c = new Float64Array(m);
    for (let r = 0; r < m; r++) c[r] = (r + 1) ** pow;
    trend.push(c);
  }
  const level = new Float64Array(m);
  for (let r = 0; r < m; r++) level[r] = x[lags + r];
  const diffs: Float64Array[] = [];
  for (let j = 1; j <= lags; j++) {
    const c = new Float64Array(m);
    for (let r = 0; r < m; r++) c[r] = x[lags + r - j + 1] - x[lags + r - j];
    diffs.push(c);
  }
  return { y, cols: levelLast ? [...trend, ...diffs, level] : [...trend, level, ...diffs] };
}

/**
 * The nested fits of the lag search from cross-products: columns [1, t, t^2 (orthogonalised), level, lag 1..L]
 * on rows i = L..n-2 (prefixes of statsmodels' `fullRHS`, same spans). With a constant every other column is
 * centred (same span for each prefix, the level's collinearity with the constant removed); lag x lag products
 * come from S(j+1, k+1) = S(j, k) + d_{L-1-j} d_{L-1-k} - d_{n-2-j} d_{n-2-k}, so the matrix costs one pass per
 * lag. Returns null where the Cholesky meets a non-positive pivot (the QR path then decides).
 */
function nestedGram(
  x: Float64Array,
  L: number,
  regression: AdfRegression,
  levelLast = false,
): NestedFits | null {
  const n = x.length, m = n - 1 - L, ntrend = TREND_TERMS[regression];
  const hasConst = ntrend > 0;
  const dx = new Float64Array(n - 1);
  for (let i = 0; i < n - 1; i++) dx[i] = x[i + 1] - x[i];
  // Raw lag products S(0, k) = sum_i d_i d_{i-k}, then the diagonals by the shift recursion.
  const S = Array.from({ length: L + 1 }, () => new Float64Array(L + 1));
  for (let k = 0; k <= L; k++) {
    let acc = 0;
    for (let i = L; i <= n - 2; i++) acc += dx[i] * dx[i - k];
    S[0][k] = S[k][0] = acc;
  }
  for (let j = 0; j < L; j++) {
    for (let k = j; k < L; k++) {
      const v = S[j][k] + dx[L - 1 - j] * dx[L - 1 - k] - dx[n - 2 - j] * dx[n - 2 - k];
      S[j + 1][k + 1] = S[k + 1][j + 1] = v;
    }
  }
  // Column means of the lags (y is lag 0) over the sample, by telescoping: sum d_{i-k} = x_{n-1-k} - x_{L-k}.
  const mu = Float64Array.from({ length: L + 1 }, (_, k) => hasConst ? (x[n - 1 - k] - x[L - k]) / m : 0);
  // Dense columns: orthogonalised trend terms and the (centred) level.
  const dense: Float64Array[] = [];
  if (ntrend >= 2) {
    const tbar = (m + 1) / 2;
    const c = new Float64Array(m);
    for (let r = 0; r < m; r++) c[r] = r + 1 - tbar;
    dense.push(c);
  }
  if (ntrend >= 3) {
    const c = new Float64Array(m), tbar = (m + 1) / 2;
    for (let r = 0; r < m; r++) c[r] = (r + 1 - tbar) * (r + 1 - tbar);
    let mean = 0;
    for (let r = 0; r < m; r++) mean += c[r];
    mean /= m;
    for (let r = 0; r < m; r++) c[r] -= mean;
    dense.push(c);
  }
  // (Float64Array.from with a map function iterates generically: ~10x slower than these loops at 10^5 rows.)
  const level = x.slice(L, L + m);
  if (hasConst) {
    let mean = 0;
    for (let r = 0; r < m; r++) mean += level[r];
    mean /= m;
    for (let r = 0; r < m; r++) level[r] -= mean;
  }
  dense.push(level);
  // p = const + dense + L lags; G is p x p, b = X'y; index 0 is the constant when present.
  const off = hasConst ? 1 : 0, nd = dense.length, p = off + nd + L;
  const G = new Float64Array(p * p), b = new Float64Array(p);
  const yy = S[0][0];
  if (hasConst) {
    G[0] = m;
    b[0] = mu[0] * m;
  }
  for (let a = 0; a < nd; a++) {
    const ca = dense[a];
    for (let c = a; c < nd; c++) {
      let acc = 0;
      for (let r = 0; r < m; r++) acc += ca[r] * dense[c][r];
      G[(off + a) * p + off + c] = G[(off + c) * p + off + a] = acc;
    }
    // Dense column with y (k = 0) and every lag k: sum_r c_r (d_{L+r-k} - mu_k) = sum_r c_r d_{L+r-k} when c
    // is centred (hasConst), and mu = 0 otherwise.
    for (let k = 0; k <= L; k++) {
      let acc = 0;
      for (let r = 0; r < m; r++) acc += ca[r] * dx[L + r - k];
      if (k === 0) b[off + a] = acc;
      else G[(off + a) * p + off + nd + k - 1] = G[(off + nd + k - 1) * p + off + a] = acc;
    }
  }
  for (let j = 1; j <= L; j++) {
    for (let k = j; k <= L; k++) {
      const v = S[j][k] - m * mu[j] * mu[k];
      G[(off + nd + j - 1) * p + off + nd + k - 1] = G[(off + nd + k - 1) * p + off + nd + j - 1] = v;
    }
    b[off + nd + j - 1] = S[0][j] - m * mu[0] * mu[j];
  }
  if (levelLast) {
    // The final regression's order [trend, lags, level]: its t-statistic is then the last one.
    const lv = off + nd - 1;
    const order = [
      ...Array.from({ length: lv }, (_, i) => i),
      ...Array.from({ length: L }, (_, i) => lv + 1 + i),
      lv,
    ];
    const G2 = new Float64Array(p * p);
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) G2[i * p + j] = G[order[i] * p + order[j]];
    const b2 = Float64Array.from(order, (i) => b[i]);
    G.set(G2);
    b.set(b2);
  }
  // Equilibrated Cholesky G = L L' (scaling leaves z = L^-1 b unchanged), forward substitution for z.
  const dsc = new Float64Array(p);
  for (let i = 0; i < p; i++) dsc[i] = G[i * p + i] > 0 ? 1 / Math.sqrt(G[i * p + i]) : 0;
  const Lc = new Float64Array(p * p), z = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    let diag = G[j * p + j] * dsc[j] * dsc[j];
    for (let k = 0; k < j; k++) diag -= Lc[j * p + k] ** 2;
    // A pivot this small (columns nearly collinear, condition ~1e4) would cost digits: leave it to the QR.
    if (!(diag > 1e-8)) return null;
    const ljj = Math.sqrt(diag);
    Lc[j * p + j] = ljj;
    for (let i = j + 1; i < p; i++) {
      let v = G[i * p + j] * dsc[i] * dsc[j];
      for (let k = 0; k < j; k++) v -= Lc[i * p + k] * Lc[j * p + k];
      Lc[i * p + j] = v / ljj;
    }
    let zj = b[j] * dsc[j];
    for (let k = 0; k < j; k++) zj -= Lc[j * p + k] * z[k];
    z[j] = zj / ljj;
  }
  const ssr = new Float64Array(p + 1), tLast = new Float64Array(p + 1).fill(NaN);
  ssr[0] = yy;
  for (let k = 1; k <= p; k++) ssr[k] = ssr[k - 1] - z[k - 1] * z[k - 1];
  for (let k = 1; k <= p; k++) tLast[k] = m <= k ? NaN : z[k - 1] / Math.sqrt(ssr[k] / (m - k));
  return { ssr, tLast };
}

/** statsmodels' default maxlag for n observations and a regression (before the n/2 cap). */
export function schwertMaxlag(n: number): number {
  return Math.ceil(12 * Math.pow(n / 100, 1 / 4));
}

/**
 * The augmented Dickey-Fuller test of `x` (no NaN/Inf; not constant), as statsmodels' `adfuller(x, maxlag,
 * regression, autolag)`. Throws RangeError where statsmodels raises (series too short for the regression,
 * maxlag too large) and for non-finite or constant input.
 *
 * @example statsmodels' `adfuller(x, regression="c", autolag="AIC")` on a random walk and on its differences
 * ```ts
 * import { adfuller } from "@feature-genesis/core";
 *
 * let level = 0;
 * const walk = Array.from({ length: 2000 }, () => (level += Math.random() - 0.5));
 * const diffs = walk.slice(1).map((v, i) => v - walk[i]);
 * for (const x of [walk, diffs]) {
 *   const r = adfuller(x, { regression: "c", autolag: "AIC" });
 *   console.log(r.adf_stat, r.p_value, r.usedlag, r.crit["5%"]);
 * }
 * ```
 */
export function adfuller(input: ArrayLike<number>, opts: AdfOptions = {}): AdfResult {
  // One element type keeps the loops below monomorphic (a number[] and a Float64Array caller would not).
  const x = input instanceof Float64Array ? input : Float64Array.from(input);
  const regression = opts.regression ?? "c";
  const autolag = opts.autolag ?? "AIC";
  const n = x.length;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (!Number.isFinite(v)) throw new RangeError(`adf: value ${v} at row ${i}; the series must be finite`);
    lo = Math.min(lo, v), hi = Math.max(hi, v);
  }
  if (n > 0 && lo === hi) throw new RangeError("adf: the series is constant");
  const ntrend = TREND_TERMS[regression];
  const cap = Math.floor(n / 2) - ntrend - 1;
  let maxlag: number;
  if (opts.maxlag === null || opts.maxlag === undefined) {
    maxlag = Math.min(cap, schwertMaxlag(n));
    if (maxlag < 0) {
      throw new RangeError(`adf: ${n} observations are too few for regression "${regression}"`);
    }
  } else {
    maxlag = opts.maxlag;
    if (!Number.isInteger(maxlag) || maxlag < 0) throw new RangeError(`adf: maxlag must be an integer >= 0`);
    if (maxlag > cap) {
      throw new RangeError(
        `adf: maxlag ${maxlag} must be at most n/2 - 1 - ntrend = ${cap} (n = ${n}, regression "${regression}")`,
      );
    }
  }

  const search = opts.search ?? "auto";
  const useGram = (m: number, p: number) =>
    search === "gram" || (search === "auto" && m >= 256 && m * p * p >= 1 << 16);
  let usedlag = maxlag;
  let icbest: number | null = null;
  if (autolag !== "none") {
    // Every candidate on the common sample (maxlag's rows); columns [trend, level, lag 1, ..., lag maxlag].
    const m = n - 1 - maxlag, p = ntrend + 1 + maxlag;
    let fits = useGram(m, p) ? nestedGram(x, maxlag, regression) : null;
    if (!fits) {
      const { y, cols } = design(x, maxlag, regression, false);
      fits = nestedOls(cols, y);
    }
    const startlag = ntrend + 1;
    if (autolag === "t-stat") {
      // From the largest lag down, stop at the first whose t-statistic is significant at 5% (two-sided 10%).
      const stop = 1.6448536269514722;
      usedlag = maxlag;
      icbest = 0;
      for (let k = startlag + maxlag; k >= startlag; k--) {
        icbest = Math.abs(fits.tLast[k]);
        usedlag = k - startlag;
        if (icbest >= stop) break;
      }
    } else {
      let best = Infinity, bestK = -1;
      const penalty = autolag === "AIC" ? 2 : Math.log(m);
      for (let k = startlag; k <= startlag + maxlag; k++) {
        const llf = -(m / 2) * (Math.log(2 * Math.PI) + Math.log(fits.ssr[k] / m) + 1);
        const ic = -2 * llf + penalty * k; // statsmodels: df_model + k_constant = rank = k
        if (ic < best) best = ic, bestK = k; // strict: ties keep the smaller lag, as min() over (ic, lag)
      }
      if (bestK < 0) throw new RangeError("adf: the information criterion is not finite for any lag");
      usedlag = bestK - startlag;
      icbest = best;
    }
  }
  // Final regression on the longest sample for usedlag; the level last so its t-statistic is the last one.
  const nobs = n - 1 - usedlag, p = ntrend + 1 + usedlag;
  let fit = useGram(nobs, p) ? nestedGram(x, usedlag, regression, true) : null;
  if (!fit) {
    const { y, cols } = design(x, usedlag, regression, true);
    fit = nestedOls(cols, y);
  }
  const adfStat = fit.tLast[p];
  const [c1, c5, c10] = mackinnoncrit(1, regression, nobs);
  return {
    adf_stat: adfStat,
    p_value: mackinnonp(adfStat, regression, 1),
    usedlag,
    nobs,
    crit: { "1%": c1, "5%": c5, "10%": c10 },
    icbest,
  };
}

/** {@link adfuller} for many series with the same options (each series' candidate lags in one QR). */
export function adfBatch(series: ArrayLike<number>[], opts: AdfOptions = {}): AdfResult[] {
  return series.map((x) => adfuller(x, opts));
}

/** The values of `x` from its first to its last finite value; throws on a non-finite value in between. */
export function finiteSpan(x: ArrayLike<number>, what = "the column"): Float64Array {
  let a = 0, b = x.length;
  while (a < b && !Number.isFinite(x[a])) a++;
  while (b > a && !Number.isFinite(x[b - 1])) b--;
  const out = new Float64Array(b - a);
  for (let i = a; i < b; i++) out[i - a] = x[i];
  const bad = out.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new RangeError(
      `${what}: ${out[bad]} at row ${a + bad} between finite values; the test needs a gapless series`,
    );
  }
  return out;
}

/** `kernel adf`'s parameters. */
export type AdfKernelParams = { regression: AdfRegression; maxlag: number; autolag: AdfAutolag };

/** `kernel adf`: the ADF test of one column (leading/trailing NaN dropped) as one JSON document. */
export const adfKernel: ScalarKernel<AdfKernelParams> = defineScalarKernel({
  name: "adf",
  summary:
    "augmented Dickey-Fuller test as statsmodels adfuller (JSON: adf_stat, p_value, usedlag, nobs, crit)",
  inputs: 1,
  params: {
    regression: {
      type: "choice",
      choices: ["n", "c", "ct", "ctt"],
      default: "c",
      doc: "deterministic terms: none, constant, + trend, + quadratic trend",
    },
    maxlag: {
      type: "int",
      min: -1,
      max: LIMITS.lags,
      default: -1,
      doc: "largest lag (-1: statsmodels' default ceil(12 (n/100)^(1/4)))",
    },
    autolag: {
      type: "choice",
      choices: ["AIC", "BIC", "t-stat", "none"],
      default: "AIC",
      doc: "lag selection on the common sample, or none (use maxlag)",
    },
  },
  conformance: [{}, { regression: "ct", autolag: "BIC" }, { regression: "n", maxlag: 2, autolag: "none" }],
  run: ([x], p) => {
    const maxlag = p.maxlag;
    return Promise.resolve(adfuller(finiteSpan(x), {
      regression: p.regression,
      maxlag: maxlag < 0 ? null : maxlag,
      autolag: p.autolag,
    }));
  },
});
