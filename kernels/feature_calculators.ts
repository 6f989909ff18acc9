/**
 * tsfresh's feature calculators in f64, one window at a time (the reference of the feature sets,
 * kernels/feature_sets.ts, and of their WGSL kernels). Definitions follow tsfresh 0.20
 * (tsfresh/feature_extraction/feature_calculators.py); scripts/make_feature_sets_fixture.py holds verbatim
 * copies and tests/fixtures/feature_sets_tsfresh.json their values.
 *
 * What each set holds and how each feature is defined:
 * - `minimal`: mean, median, standard_deviation, variance (ddof 0, as numpy), minimum, maximum, sum_values,
 *   length (w wherever the window is defined).
 * - `efficient`: minimal plus skewness and kurtosis (pandas' bias-corrected G1/G2, including pandas' rule
 *   that a second moment below 1e-14 counts as 0 and then gives 0), autocorrelation at lags 1..10 (tsfresh:
 *   NaN where the window's variance is within 1e-8 of 0, numpy's isclose, or where lag >= w),
 *   partial_autocorrelation at lags 1..5 (statsmodels' pacf, method "ld": Levinson-Durbin on the
 *   adjusted autocovariance; as tsfresh, every lag is NaN when 5 >= w // 2 and the lags above w // 2 - 1 are NaN
 *   then), fft_aggregated centroid / variance / skew / kurtosis (moments of |rfft(x)| over the bin index,
 *   DC bin included; skew and kurtosis NaN where that variance is below 0.5; tsfresh's kurtosis formula
 *   kept as is, including its `- 3 centroid` term), mean_abs_change, linear_trend slope (least squares on
 *   0..w-1), quantiles 0.1 and 0.9 (numpy's linear interpolation) and number_peaks with n = 1 (strict local
 *   maxima, ends excluded).
 * - `comprehensive`: efficient plus sample_entropy (tsfresh: m = 2, tolerance 0.2 std, Chebyshev distance,
 *   B over all w - 1 templates of 2 and A over the w - 2 templates of 3, -log(A / B): +Inf where A = 0,
 *   NaN where B = 0), approximate_entropy with m = 2 and r = 0.2 plus tsfresh's ComprehensiveFCParameters
 *   grid r = 0.1, 0.3, 0.5, 0.7, 0.9 (r times the window's std; 0 where w <= m + 1; any
 *   `approximate_entropy__m_M__r_R` name works), permutation_entropy with tau = 1 and dimension = 3, 4, 5,
 *   6, 7 (tsfresh: the entropy of the frequencies of the ordinal patterns of the k = (w - D) // tau + 1
 *   subchunks x[i tau, i tau + D); ties ranked by position, as numpy's argsort of D <= 16 elements, an
 *   insertion sort, i.e. stable; NaN where w < D; any `permutation_entropy__dimension_D__tau_T` name works),
 *   longest_strike_above_mean / below_mean and count_above_mean / below_mean, and the O(w)
 *   calculators abs_energy (sum x^2, not shift-invariant), root_mean_square, absolute_maximum (max |x|),
 *   absolute_sum_of_changes, mean_change ((x[-1] - x[0]) / (w - 1)), mean_second_derivative_central
 *   ((x[-1] - x[-2] - x[1] + x[0]) / (2 (w - 2)), NaN below 3 points), variance_larger_than_standard_deviation
 *   (var > sqrt(var), ddof 0; 1 or 0), has_duplicate_max / min (1 or 0), first / last_location_of_maximum /
 *   minimum (relative positions: first index / w, 1 - (w - 1 - last index) / w), cid_ce with normalize = True
 *   (sqrt of the sum of squared changes of the z-scored window, std ddof 0; 0 where the std is 0) and
 *   ratio_beyond_r_sigma with r = 1, 2 (share of points with |x - mean| > r std; any
 *   `ratio_beyond_r_sigma__r_R` name works; 0 for a constant window, as the mean-crossing features). The
 *   entropies cost O(w^2) per window (fine for w <= 200). More of tsfresh's ComprehensiveFCParameters grids
 *   follow: number_peaks with n = 3, 5, 10 (points larger than their n neighbours on each side, so only
 *   the points [n, w - n) count; 0 where w <= 2n; any `number_peaks__n_N` works), quantile with q = 0.2,
 *   0.3, 0.4, 0.6, 0.7, 0.8 (any `quantile__q_Q`), c3 with lag 1, 2, 3 (mean of x[i + 2 lag] x[i + lag] x[i]
 *   over i < w - 2 lag) and time_reversal_asymmetry_statistic with lag 1, 2, 3 (mean of
 *   x[i + 2 lag]^2 x[i + lag] - x[i + lag] x[i]^2), both 0 where 2 lag >= w as tsfresh and neither
 *   shift-invariant (any `c3__lag_L` / `time_reversal_asymmetry_statistic__lag_L`),
 *   large_standard_deviation with r = 0.25 (std > r (max - min), ddof 0; 1 or 0; 0 for a constant window)
 *   and symmetry_looking with r = 0.05 (|mean - median| < r (max - min); 1 or 0; any `__r_R` of both).
 */

/** Largest lag of `partial_autocorrelation` that tsfresh evaluates in one call (its default set asks 0..9). */
const PACF_MAX_LAG = 5;

/** numpy's linear-interpolation quantile of a sorted array. */
function quantileSorted(s: Float64Array, q: number): number {
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  const t = pos - lo;
  // numpy's _lerp: a + (b - a) t, or b - (b - a)(1 - t) for t >= 0.5.
  const d = s[hi] - s[lo];
  return t >= 0.5 ? s[hi] - d * (1 - t) : s[lo] + d * t;
}

/** Index of the first element >= v in sorted s[0, len). */
export function lowerBound(s: Float64Array, len: number, v: number): number {
  let lo = 0, hi = len;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** pandas' _zero_out_fperr. */
const fperr = (v: number): number => (Math.abs(v) < 1e-14 ? 0 : v);

/** Per-window results shared by several features (computed on first use, reset per window). */
export interface WindowCache {
  /** statsmodels' pacf up to tsfresh's lag cap. */
  pacf?: Float64Array;
  /** |rfft| of the window. */
  fftAbs?: Float64Array;
  /** Chebyshev distances of the template pairs, by template length (approximate entropy's r grid). */
  cheb?: Map<number, Float64Array>;
}

/**
 * statsmodels' pacf(x, method="ld", nlags): Levinson-Durbin on the adjusted autocovariance (divided by n - k;
 * statsmodels' "ld" is "ldadjusted", "ldb" the biased one); [1, pacf_1..].
 */
function pacfLd(x: Float64Array, mean: number, nlags: number): Float64Array {
  const n = x.length;
  const acov = new Float64Array(nlags + 1);
  for (let k = 0; k <= nlags; k++) {
    let a = 0;
    for (let i = 0; i + k < n; i++) a += (x[i] - mean) * (x[i + k] - mean);
    acov[k] = a / (n - k);
  }
  const out = new Float64Array(nlags + 1);
  out[0] = 1;
  // phi[j] of order k-1 -> order k.
  let phi = new Float64Array(nlags + 1), next = new Float64Array(nlags + 1);
  phi[1] = acov[1] / acov[0];
  let sig = acov[0] - phi[1] * acov[1];
  out[1] = phi[1];
  for (let k = 2; k <= nlags; k++) {
    let dot = 0;
    for (let j = 1; j < k; j++) dot += phi[j] * acov[k - j];
    const pkk = (acov[k] - dot) / sig;
    next[k] = pkk;
    for (let j = 1; j < k; j++) next[j] = phi[j] - pkk * phi[k - j];
    sig = sig * (1 - pkk * pkk);
    out[k] = pkk;
    [phi, next] = [next, phi];
  }
  return out;
}

/** |rfft(x)| by a direct DFT (w <= a few hundred). */
function rfftAbs(x: Float64Array): Float64Array {
  const n = x.length, bins = Math.floor(n / 2) + 1;
  const tw = twiddles(n);
  const out = new Float64Array(bins);
  for (let k = 0; k < bins; k++) {
    let re = 0, im = 0;
    for (let j = 0, idx = 0; j < n; j++, idx = (idx + k) % n) {
      re += x[j] * tw[2 * idx];
      im -= x[j] * tw[2 * idx + 1];
    }
    out[k] = Math.hypot(re, im);
  }
  return out;
}

const twiddleCache = new Map<number, Float64Array>();
/** cos/sin(2 pi j / n), interleaved. */
function twiddles(n: number): Float64Array {
  let t = twiddleCache.get(n);
  if (!t) {
    t = new Float64Array(2 * n);
    for (let j = 0; j < n; j++) {
      t[2 * j] = Math.cos(2 * Math.PI * j / n);
      t[2 * j + 1] = Math.sin(2 * Math.PI * j / n);
    }
    twiddleCache.set(n, t);
  }
  return t;
}

/** tsfresh's fft_aggregated of one window's |rfft|. */
function fftAggregated(y: Float64Array, agg: string): number {
  let s = 0, m1 = 0, m2 = 0, m3 = 0, m4 = 0;
  for (let k = 0; k < y.length; k++) {
    s += y[k];
    m1 += y[k] * k;
    m2 += y[k] * k * k;
    m3 += y[k] * k * k * k;
    m4 += y[k] * k * k * k * k;
  }
  m1 /= s, m2 /= s, m3 /= s, m4 /= s;
  const v = m2 - m1 * m1;
  switch (agg) {
    case "centroid":
      return m1;
    case "variance":
      return v;
    case "skew":
      return v < 0.5 ? NaN : (m3 - 3 * m1 * v - m1 ** 3) / v ** 1.5;
    case "kurtosis":
      return v < 0.5 ? NaN : (m4 - 4 * m1 * m3 + 6 * m2 * m1 ** 2 - 3 * m1) / v ** 2;
  }
  throw new Error(`unknown fft_aggregated aggtype ${agg}`);
}

/** Chebyshev distance of the templates of length `len` starting at i and j. */
function cheb(x: Float64Array, i: number, j: number, len: number): number {
  let d = 0;
  for (let k = 0; k < len; k++) {
    const e = Math.abs(x[i + k] - x[j + k]);
    if (e > d) d = e;
  }
  return d;
}

/** tsfresh's sample_entropy (m = 2, tolerance 0.2 std). */
function sampleEntropy(x: Float64Array, std: number): number {
  const n = x.length, tol = 0.2 * std;
  let a = 0, b = 0;
  // B: ordered pairs i != j of the n - 1 templates of length 2; A: of the n - 2 templates of length 3.
  for (let i = 0; i + 1 < n; i++) {
    for (let j = i + 1; j + 1 < n; j++) {
      const d2 = Math.max(Math.abs(x[i] - x[j]), Math.abs(x[i + 1] - x[j + 1]));
      if (d2 <= tol) {
        b += 2;
        if (j + 2 < n && Math.abs(x[i + 2] - x[j + 2]) <= tol) a += 2;
      }
    }
  }
  return -Math.log(a / b);
}

/** Chebyshev distances of the pairs i < j of the n - len + 1 templates of length `len`, row by row. */
function templateDistances(x: Float64Array, len: number): Float64Array {
  const k = x.length - len + 1;
  const d = new Float64Array(k * (k - 1) / 2);
  for (let i = 0, p = 0; i < k; i++) for (let j = i + 1; j < k; j++) d[p++] = cheb(x, i, j, len);
  return d;
}

/**
 * tsfresh's approximate_entropy(x, m, r) with r times the window's std. The template distances are computed
 * once per window and length (cache) and shared by every r.
 */
function approximateEntropy(x: Float64Array, m: number, r: number, std: number, cache: WindowCache): number {
  const n = x.length;
  const tol = r * std;
  if (n <= m + 1) return 0;
  cache.cheb ??= new Map();
  const phi = (len: number): number => {
    const k = n - len + 1;
    let d = cache.cheb!.get(len);
    if (!d) cache.cheb!.set(len, d = templateDistances(x, len));
    const c = new Float64Array(k).fill(1); // itself
    for (let i = 0, p = 0; i < k; i++) {
      for (let j = i + 1; j < k; j++) if (d[p++] <= tol) c[i]++, c[j]++;
    }
    let sum = 0;
    for (let i = 0; i < k; i++) sum += Math.log(c[i] / k);
    return sum / k;
  };
  return Math.abs(phi(m) - phi(m + 1));
}

/**
 * tsfresh's permutation_entropy(x, tau, dimension): the subchunks x[s tau, s tau + D) for s < (n - D) // tau
 * + 1 (NaN where there are none), each reduced to its ordinal pattern (numpy's argsort of D <= 16 values is
 * an insertion sort: ties ranked by position), and the entropy of the patterns' frequencies. A pattern is
 * keyed by its insertion code: element m of the subchunk follows the d_m earlier elements <= it, and
 * d_1..d_{D-1} (d_m in [0, m]) determine the stable order.
 */
function permutationEntropy(x: Float64Array, dimension: number, tau: number): number {
  if (dimension < 2 || tau < 1) throw new Error(`permutation_entropy: dimension ${dimension}, tau ${tau}`);
  const k = x.length >= dimension ? Math.floor((x.length - dimension) / tau) + 1 : 0;
  if (k <= 0) return NaN;
  const counts = new Map<number | string, number>();
  const digits = new Array<number>(dimension - 1);
  for (let s = 0; s < k; s++) {
    const i = s * tau;
    let code = 0; // mixed radix: below D!, exact up to D = 18
    for (let m = 1; m < dimension; m++) {
      let d = 0;
      for (let l = 0; l < m; l++) if (x[i + l] <= x[i + m]) d++;
      digits[m - 1] = d;
      code = code * (m + 1) + d;
    }
    const key = dimension <= 18 ? code : digits.join();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let h = 0;
  for (const cnt of counts.values()) {
    const p = cnt / k;
    h -= p * Math.log(p);
  }
  return h;
}

/** Sum of squares (tsfresh's abs_energy, np.dot(x, x)). */
function sumSquares(x: Float64Array): number {
  let a = 0;
  for (const v of x) a += v * v;
  return a;
}

/** tsfresh's number_peaks: points of [n, w - n) larger than each of their n neighbours on both sides. */
function numberPeaks(x: Float64Array, n: number): number {
  let c = 0;
  for (let i = n; i < x.length - n; i++) {
    let k = 1;
    while (k <= n && x[i] > x[i - k] && x[i] > x[i + k]) k++;
    if (k > n) c++;
  }
  return c;
}

/** Longest run of consecutive points with pred true. */
function longestRun(x: Float64Array, pred: (v: number) => boolean): number {
  let best = 0, run = 0;
  for (const v of x) {
    run = pred(v) ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}

/** One feature of one window by tsfresh name (x: the window's finite points, s: them sorted). */
export function windowFeature(
  f: string,
  x: Float64Array,
  s: Float64Array,
  m: Moments,
  cache: WindowCache,
): number {
  const n = x.length;
  switch (f) {
    case "mean":
      return m.mean;
    case "sum_values":
      return m.sum;
    case "variance":
      return m.m2 / n;
    case "standard_deviation":
      return Math.sqrt(m.m2 / n);
    case "minimum":
      return s[0];
    case "maximum":
      return s[n - 1];
    case "median":
      return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    case "length":
      return n;
    case "skewness": {
      if (n < 3) return NaN;
      const m2 = fperr(m.m2), m3 = fperr(m.m3);
      return m2 === 0 ? 0 : (n * Math.sqrt(n - 1) / (n - 2)) * (m3 / m2 ** 1.5);
    }
    case "kurtosis": {
      if (n < 4) return NaN;
      const num = fperr(n * (n + 1) * (n - 1) * m.m4);
      const den = fperr((n - 2) * (n - 3) * m.m2 ** 2);
      return den === 0 ? 0 : num / den - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3));
    }
    case "mean_abs_change": {
      let a = 0;
      for (let i = 1; i < n; i++) a += Math.abs(x[i] - x[i - 1]);
      return a / (n - 1);
    }
    case "linear_trend__attr_slope": {
      const c = (n - 1) / 2;
      let sxy = 0;
      for (let i = 0; i < n; i++) sxy += (i - c) * (x[i] - m.mean);
      return sxy / (n * (n * n - 1) / 12);
    }
    case "quantile__q_0.1":
      return quantileSorted(s, 0.1);
    case "quantile__q_0.9":
      return quantileSorted(s, 0.9);
    case "number_peaks__n_1": {
      let c = 0;
      for (let i = 1; i < n - 1; i++) if (x[i] > x[i - 1] && x[i] > x[i + 1]) c++;
      return c;
    }
    case "sample_entropy":
      return sampleEntropy(x, Math.sqrt(m.m2 / n));
    // A constant window has no point above or below its mean (whatever the rounding of the mean).
    case "longest_strike_above_mean":
      return s[0] === s[n - 1] ? 0 : longestRun(x, (v) => v > m.mean);
    case "longest_strike_below_mean":
      return s[0] === s[n - 1] ? 0 : longestRun(x, (v) => v < m.mean);
    case "count_above_mean": {
      if (s[0] === s[n - 1]) return 0;
      let c = 0;
      for (const v of x) if (v > m.mean) c++;
      return c;
    }
    case "count_below_mean": {
      if (s[0] === s[n - 1]) return 0;
      let c = 0;
      for (const v of x) if (v < m.mean) c++;
      return c;
    }
    case "abs_energy":
      return sumSquares(x);
    case "root_mean_square":
      return Math.sqrt(sumSquares(x) / n);
    case "absolute_maximum":
      return Math.max(Math.abs(s[0]), Math.abs(s[n - 1]));
    case "absolute_sum_of_changes": {
      let a = 0;
      for (let i = 1; i < n; i++) a += Math.abs(x[i] - x[i - 1]);
      return a;
    }
    case "mean_change":
      return n > 1 ? (x[n - 1] - x[0]) / (n - 1) : NaN;
    case "mean_second_derivative_central":
      return n > 2 ? (x[n - 1] - x[n - 2] - x[1] + x[0]) / (2 * (n - 2)) : NaN;
    case "variance_larger_than_standard_deviation": {
      const v = m.m2 / n;
      return v > Math.sqrt(v) ? 1 : 0;
    }
    case "has_duplicate_max":
      return n > 1 && s[n - 1] === s[n - 2] ? 1 : 0;
    case "has_duplicate_min":
      return n > 1 && s[0] === s[1] ? 1 : 0;
    case "first_location_of_maximum":
      return x.findIndex((v) => v === s[n - 1]) / n;
    case "first_location_of_minimum":
      return x.findIndex((v) => v === s[0]) / n;
    // tsfresh: 1 - argmax(x[::-1]) / n.
    case "last_location_of_maximum":
      return 1 - (n - 1 - x.findLastIndex((v) => v === s[n - 1])) / n;
    case "last_location_of_minimum":
      return 1 - (n - 1 - x.findLastIndex((v) => v === s[0])) / n;
    case "cid_ce__normalize_True": {
      // tsfresh z-scores the window first (std ddof 0) and gives 0 where the std is 0.
      const sd = Math.sqrt(m.m2 / n);
      if (sd === 0) return 0;
      let a = 0;
      for (let i = 1; i < n; i++) {
        const d = (x[i] - m.mean) / sd - (x[i - 1] - m.mean) / sd;
        a += d * d;
      }
      return Math.sqrt(a);
    }
  }
  const pl = /^partial_autocorrelation__lag_(\d+)$/.exec(f);
  if (pl) {
    const k = Number(pl[1]);
    // tsfresh: one pacf call up to the largest demanded lag, capped at n // 2 - 1.
    const maxLag = PACF_MAX_LAG >= Math.floor(n / 2) ? Math.floor(n / 2) - 1 : PACF_MAX_LAG;
    // A constant window has no autocorrelation (0 / 0), whatever the rounding of its mean.
    if (k > maxLag || maxLag <= 0 || s[0] === s[n - 1]) return NaN;
    cache.pacf ??= pacfLd(x, m.mean, maxLag);
    return cache.pacf[k];
  }
  const fa = /^fft_aggregated__aggtype_(\w+)$/.exec(f);
  if (fa) {
    cache.fftAbs ??= rfftAbs(x);
    return fftAggregated(cache.fftAbs, fa[1]);
  }
  const ae = /^approximate_entropy__m_(\d+)__r_([\d.]+)$/.exec(f);
  if (ae) return approximateEntropy(x, Number(ae[1]), Number(ae[2]), Math.sqrt(m.m2 / n), cache);
  const pe = /^permutation_entropy__dimension_(\d+)__tau_(\d+)$/.exec(f);
  if (pe) return permutationEntropy(x, Number(pe[1]), Number(pe[2]));
  const rs = /^ratio_beyond_r_sigma__r_([\d.]+)$/.exec(f);
  if (rs) {
    // A constant window has no point away from its mean (whatever the rounding of the mean).
    if (s[0] === s[n - 1]) return 0;
    const lim = Number(rs[1]) * Math.sqrt(m.m2 / n);
    let c = 0;
    for (const v of x) if (Math.abs(v - m.mean) > lim) c++;
    return c / n;
  }
  const qu = /^quantile__q_([\d.]+)$/.exec(f);
  if (qu) return quantileSorted(s, Number(qu[1]));
  const pk = /^number_peaks__n_(\d+)$/.exec(f);
  if (pk) return numberPeaks(x, Number(pk[1]));
  const c3 = /^c3__lag_(\d+)$/.exec(f);
  if (c3) {
    // tsfresh: mean of x[i + 2 lag] x[i + lag] x[i] over i < n - 2 lag; 0 where 2 lag >= n.
    const l = Number(c3[1]);
    if (2 * l >= n) return 0;
    let a = 0;
    for (let i = 0; i + 2 * l < n; i++) a += x[i + 2 * l] * x[i + l] * x[i];
    return a / (n - 2 * l);
  }
  const tr = /^time_reversal_asymmetry_statistic__lag_(\d+)$/.exec(f);
  if (tr) {
    // tsfresh: mean of x[i + 2 lag]^2 x[i + lag] - x[i + lag] x[i]^2 over i < n - 2 lag; 0 where 2 lag >= n.
    const l = Number(tr[1]);
    if (2 * l >= n) return 0;
    let a = 0;
    for (let i = 0; i + 2 * l < n; i++) {
      const x2 = x[i + 2 * l], x1 = x[i + l], x0 = x[i];
      a += x2 * x2 * x1 - x1 * x0 * x0;
    }
    return a / (n - 2 * l);
  }
  const ls = /^large_standard_deviation__r_([\d.]+)$/.exec(f);
  if (ls) {
    // A constant window has no spread (whatever the rounding of its mean): 0, as the mean-crossing features.
    return s[0] !== s[n - 1] && Math.sqrt(m.m2 / n) > Number(ls[1]) * (s[n - 1] - s[0]) ? 1 : 0;
  }
  const sy = /^symmetry_looking__r_([\d.]+)$/.exec(f);
  if (sy) {
    const med = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    return Math.abs(m.mean - med) < Number(sy[1]) * (s[n - 1] - s[0]) ? 1 : 0;
  }
  const lag = /^autocorrelation__lag_(\d+)$/.exec(f);
  if (lag) {
    const k = Number(lag[1]);
    const v = m.m2 / n;
    if (n < k || Math.abs(v) <= 1e-8) return NaN;
    let sp = 0;
    for (let i = 0; i + k < n; i++) sp += (x[i] - m.mean) * (x[i + k] - m.mean);
    return sp / ((n - k) * v);
  }
  throw new Error(`unknown feature ${f}`);
}

/** A window's sum, mean and sums of the 2nd, 3rd and 4th powers of the deviations from the mean. */
export interface Moments {
  /** Sum of the values. */
  sum: number;
  /** Mean. */
  mean: number;
  /** Sum of squared deviations. */
  m2: number;
  /** Sum of cubed deviations (0 unless `higher`). */
  m3: number;
  /** Sum of fourth-power deviations (0 unless `higher`). */
  m4: number;
}

/** Two-pass moments of a window (the third and fourth only when `higher`). */
export function moments(x: Float64Array, higher: boolean): Moments {
  let sum = 0;
  for (const v of x) sum += v;
  const mean = sum / x.length;
  let m2 = 0, m3 = 0, m4 = 0;
  for (const v of x) {
    const d = v - mean, d2 = d * d;
    m2 += d2;
    if (higher) m3 += d2 * d, m4 += d2 * d2;
  }
  return { sum, mean, m2, m3, m4 };
}
