/**
 * The KPSS stationarity test (Kwiatkowski, Phillips, Schmidt and Shin 1992), computed as statsmodels' `kpss`
 * (0.13.5, `statsmodels/tsa/stattools.py`): residuals from the mean (`c`) or an OLS line in t = 1..n (`ct`),
 * eta = sum(S_t^2) / n^2 of their partial sums over a Bartlett-weighted long-run variance with `nlags` lags,
 * chosen by Hobijn et al. (1998) (`auto`), ceil(12 (n/100)^(1/4)) (`legacy`) or given. The null is
 * stationarity (the reverse of ADF); the p-value is interpolated in KPSS's Table 1 and clamped to [0.01, 0.10],
 * and where it is clamped `warning` says the true p-value is "smaller" or "greater" (statsmodels'
 * InterpolationWarning).
 */
import { finiteSpan } from "./adf.ts";
import { defineScalarKernel, type ScalarKernel } from "./kernel.ts";
import { LIMITS } from "../runtime/limits.ts";

/** Options of {@link kpss}. */
export interface KpssOptions {
  /** Level (`c`, default) or trend (`ct`) stationarity under the null. */
  regression?: "c" | "ct";
  /** Bartlett lags: `auto` (Hobijn et al., default), `legacy` (ceil(12 (n/100)^(1/4))) or a number < n. */
  nlags?: "auto" | "legacy" | number;
}

/** The result of {@link kpss}. */
export interface KpssResult {
  /** The KPSS statistic. */
  kpss_stat: number;
  /** Interpolated p-value in [0.01, 0.10]. */
  p_value: number;
  /** Bartlett lags used. */
  lags: number;
  /** Critical values by significance level (KPSS 1992, Table 1). */
  crit: { "10%": number; "5%": number; "2.5%": number; "1%": number };
  /** Where the statistic is outside the table: the true p-value is "smaller" or "greater" than `p_value`. */
  warning: "smaller" | "greater" | null;
}

const PVALS = [0.10, 0.05, 0.025, 0.01];
const CRIT = { c: [0.347, 0.463, 0.574, 0.739], ct: [0.119, 0.146, 0.176, 0.216] };

/** sum_t r_t r_{t-lag}. */
function autocov(r: Float64Array, lag: number): number {
  let s = 0;
  for (let t = lag; t < r.length; t++) s += r[t] * r[t - lag];
  return s;
}

/** numpy's interp for increasing xp: clamped at both ends. */
function interp(x: number, xp: number[], fp: number[]): number {
  if (x <= xp[0]) return fp[0];
  if (x >= xp[xp.length - 1]) return fp[fp.length - 1];
  let i = 1;
  while (x > xp[i]) i++;
  return fp[i - 1] + ((x - xp[i - 1]) * (fp[i] - fp[i - 1])) / (xp[i] - xp[i - 1]);
}

/** The KPSS test of `x` (finite, at least 2 values), as statsmodels' `kpss(x, regression, nlags)`. */
export function kpss(x: ArrayLike<number>, opts: KpssOptions = {}): KpssResult {
  const regression = opts.regression ?? "c";
  const nlagsOpt = opts.nlags ?? "auto";
  const n = x.length;
  if (n < 2) throw new RangeError(`kpss: needs at least 2 observations, got ${n}`);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(x[i])) {
      throw new RangeError(`kpss: value ${x[i]} at row ${i}; the series must be finite`);
    }
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i];
  mean /= n;
  const r = new Float64Array(n);
  if (regression === "ct") {
    // OLS on [1, t], t = 1..n, in centred form (the same fit as statsmodels' OLS with add_constant).
    const tbar = (n + 1) / 2;
    let sxy = 0, sxx = 0;
    for (let i = 0; i < n; i++) sxy += (i + 1 - tbar) * (x[i] - mean), sxx += (i + 1 - tbar) ** 2;
    const b = sxy / sxx;
    for (let i = 0; i < n; i++) r[i] = x[i] - mean - b * (i + 1 - tbar);
  } else {
    for (let i = 0; i < n; i++) r[i] = x[i] - mean;
  }
  let lags: number;
  if (nlagsOpt === "legacy") {
    lags = Math.min(Math.ceil(12 * Math.pow(n / 100, 1 / 4)), n - 1);
  } else if (nlagsOpt === "auto") {
    // Hobijn, Franses and Ooms (1998), as statsmodels' _kpss_autolag.
    const covlags = Math.trunc(Math.pow(n, 2 / 9));
    let s0 = autocov(r, 0) / n, s1 = 0;
    for (let i = 1; i <= covlags; i++) {
      const p = autocov(r, i) / (n / 2);
      s0 += p;
      s1 += i * p;
    }
    const sHat = s1 / s0;
    const gamma = 1.1447 * Math.pow(sHat * sHat, 1 / 3);
    lags = Math.min(Math.trunc(gamma * Math.pow(n, 1 / 3)), n - 1);
  } else {
    lags = nlagsOpt;
    if (!Number.isInteger(lags) || lags < 0 || lags >= n) {
      throw new RangeError(`kpss: lags (${lags}) must be an integer in [0, ${n - 1}]`);
    }
  }
  let cum = 0, eta = 0;
  for (let i = 0; i < n; i++) cum += r[i], eta += cum * cum;
  eta /= n * n;
  let s = autocov(r, 0);
  for (let i = 1; i <= lags; i++) s += 2 * autocov(r, i) * (1 - i / (lags + 1));
  s /= n;
  const stat = eta / s;
  const crit = CRIT[regression];
  const p = interp(stat, crit, PVALS);
  return {
    kpss_stat: stat,
    p_value: p,
    lags,
    crit: { "10%": crit[0], "5%": crit[1], "2.5%": crit[2], "1%": crit[3] },
    warning: p === PVALS[3] ? "smaller" : p === PVALS[0] ? "greater" : null,
  };
}

/** `kernel kpss`'s parameters. */
export type KpssKernelParams = { regression: "c" | "ct"; nlags: number };

/** `kernel kpss`: the KPSS test of one column (leading/trailing NaN dropped) as one JSON document. */
export const kpssKernel: ScalarKernel<KpssKernelParams> = defineScalarKernel({
  name: "kpss",
  summary: "KPSS stationarity test as statsmodels kpss (JSON: kpss_stat, p_value, lags, crit, warning)",
  inputs: 1,
  params: {
    regression: {
      type: "choice",
      choices: ["c", "ct"],
      default: "c",
      doc: "level (c) or trend (ct) stationarity",
    },
    nlags: {
      type: "int",
      min: -2,
      max: LIMITS.lags,
      default: -1,
      doc: "Bartlett lags (-1: auto, Hobijn et al.; -2: legacy ceil(12 (n/100)^(1/4)))",
    },
  },
  conformance: [{}, { regression: "ct", nlags: -2 }],
  run: ([x], p) => {
    const nl = p.nlags;
    return Promise.resolve(kpss(finiteSpan(x), {
      regression: p.regression,
      nlags: nl === -1 ? "auto" : nl === -2 ? "legacy" : nl,
    }));
  },
});
