/**
 * The minimum order of fractional differentiation that makes a series stationary (López de Prado 2018,
 * "Advances in Financial Machine Learning", snippet 5.4 and Figure 5.5): for d on a grid in [0, 1], FFD of the
 * log price at the configured weight threshold, NaN rows dropped, ADF with `maxlag = 1, regression = "c",
 * autolag = None` against the critical value of the chosen confidence (0.95 -> the 5% value); then bisection
 * between the last grid d that does not reject and the first that does, to a stated precision. The answer is
 * the smallest d seen to reject. Each evaluated d is reported with its ADF statistic, p-value, FFD window and
 * the correlation of the FFD series with the undifferenced log price on their common rows (how much memory
 * the differencing keeps).
 *
 * Bisection assumes rejection is monotone in d between the bracketing grid points (it is in practice: the ADF
 * statistic falls as d grows); rows outside the bracket are still reported, so a non-monotone curve shows.
 * The answer depends on the lag rule: AIC-chosen lags often fail to reject where maxlag = 1 rejects, so the rule
 * is an option. Cost: grid + log2(grid step / precision) FFD + ADF evaluations per series, each one pass
 * over the data (FFD by FFT for long filters), all in f64 on the host (the ADF decision is made to
 * statsmodels' precision; an f32 GPU FFD would move statistics near the critical value).
 */
import { type AdfAutolag, type AdfRegression, adfuller, type CriticalValues } from "./adf.ts";
import { ffdSearchProblem, ffdWeights, fracdiff } from "./fracdiff.ts";
import { defineScalarKernel, type ScalarKernel } from "./kernel.ts";
import { LIMITS } from "../runtime/limits.ts";

/** Options of {@link minD}. */
export interface MinDOptions {
  /** FFD weight truncation |w_k| (features.frac_diff.threshold). Default 1e-5. */
  threshold: number;
  /** Confidence of the test: 0.90, 0.95 or 0.99 (the 10%, 5% or 1% critical value). Default 0.95. */
  confidence: number;
  /** Grid points in [0, 1] (11: 0, 0.1, ..., 1). Default 11. */
  grid: number;
  /** Bisection stops when the bracket is at most this wide. Default 0.01. */
  precision: number;
  /** ADF deterministic terms. Default "c". */
  regression: AdfRegression;
  /** ADF maxlag; null for statsmodels' default. Default 1. */
  maxlag: number | null;
  /** ADF lag rule. Default "none" (maxlag lags, as AFML). */
  autolag: AdfAutolag;
}

/** AFML's settings: maxlag 1, constant, no lag search, 5% critical value, 11 grid points, precision 0.01. */
export const MIN_D_DEFAULTS: MinDOptions = {
  threshold: 1e-5,
  confidence: 0.95,
  grid: 11,
  precision: 0.01,
  regression: "c",
  maxlag: 1,
  autolag: "none",
};

/** One evaluated d. */
export interface MinDRow {
  /** Order of differentiation. */
  d: number;
  /** Whether d was a grid point or a bisection step. */
  stage: "grid" | "bisection";
  /** ADF statistic of the FFD series (NaN when it could not be tested, see `note`). */
  adf_stat: number;
  /** MacKinnon p-value. */
  p_value: number;
  /** The critical value compared with. */
  critical: number;
  /** adf_stat < critical. */
  rejects: boolean;
  /** Lagged differences in the ADF regression. */
  usedlag: number;
  /** Rows of the ADF regression. */
  nobs: number;
  /** FFD weights (rows of history each value needs). */
  ffd_window: number;
  /** Pearson correlation of the FFD series with the log price on their common rows. */
  corr: number;
  /** Why the row has no statistic (e.g. the FFD window leaves too few rows). */
  note?: string;
}

/** The result of {@link minD}. */
export interface MinDResult {
  /** The smallest d seen to reject at the chosen level; null when no d in [0, 1] rejects. */
  d: number | null;
  /** The critical value's level ("5%" for confidence 0.95). */
  level: keyof CriticalValues;
  /** Bisection precision: the true crossing lies in (d - precision, d]. */
  precision: number;
  /** Every evaluated d, in increasing d. */
  rows: MinDRow[];
  /**
   * Orders above `d` that were tested and do not reject (bisection assumes there are none; when there are, the
   * curve crosses the critical value more than once and `d` is the first crossing on the grid).
   */
  above_not_rejecting: number[];
  /** Rows of the input searched. */
  sample_rows: number;
  /** FFD + ADF evaluations (rows). */
  evaluations: number;
  /** Wall time of the search in ms. */
  ms: number;
}

/** The critical-value level of a confidence (0.95 -> "5%"). */
export function criticalLevel(confidence: number): keyof CriticalValues {
  const level = ({ 0.9: "10%", 0.95: "5%", 0.99: "1%" } as Record<number, keyof CriticalValues>)[confidence];
  if (!level) throw new RangeError(`min_d: confidence must be 0.9, 0.95 or 0.99, got ${confidence}`);
  return level;
}

/** Pearson correlation of a and b over the rows where both are finite. */
function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let n = 0, ma = 0, mb = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isFinite(a[i]) && Number.isFinite(b[i])) n++, ma += a[i], mb += b[i];
  }
  if (n < 2) return NaN;
  ma /= n, mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < a.length; i++) {
    if (!(Number.isFinite(a[i]) && Number.isFinite(b[i]))) continue;
    const da = a[i] - ma, db = b[i] - mb;
    sab += da * db, saa += da * da, sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** The finite values of x, in order (a loop: Float64Array.filter is ~30x slower on 10^5 rows). */
function dropNaN(x: Float64Array): Float64Array {
  let k = 0;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i])) out[k++] = x[i];
  return out.subarray(0, k);
}

/** FFD of `x` at d and its ADF test against `level` (one row of the table). */
export function evaluateD(
  x: Float64Array,
  d: number,
  o: MinDOptions,
  stage: MinDRow["stage"] = "grid",
): MinDRow {
  const fd = fracdiff.cpu([x], { d, threshold: o.threshold });
  const level = criticalLevel(o.confidence);
  // AFML: adfuller(fracDiff_FFD(...).dropna()): the warm-up and any gap rows are dropped.
  const kept = dropNaN(fd);
  const row: MinDRow = {
    d,
    stage,
    adf_stat: NaN,
    p_value: NaN,
    critical: NaN,
    rejects: false,
    usedlag: 0,
    nobs: 0,
    ffd_window: ffdWeights(d, o.threshold).length,
    corr: pearson(fd, x),
  };
  try {
    const r = adfuller(kept, { regression: o.regression, maxlag: o.maxlag, autolag: o.autolag });
    Object.assign(row, {
      adf_stat: r.adf_stat,
      p_value: r.p_value,
      critical: r.crit[level],
      rejects: r.adf_stat < r.crit[level],
      usedlag: r.usedlag,
      nobs: r.nobs,
    });
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    row.note = `${kept.length} FFD rows: ${e.message}`;
  }
  return row;
}

/**
 * The minimum d of a log-price series (NaN allowed: FFD propagates it and the ADF drops those rows). Throws
 * RangeError on bad options.
 */
export function minD(logPrice: ArrayLike<number>, options: Partial<MinDOptions> = {}): MinDResult {
  const o = { ...MIN_D_DEFAULTS, ...options };
  const level = criticalLevel(o.confidence);
  if (!(Number.isInteger(o.grid) && o.grid >= 2)) throw new RangeError(`min_d: grid must be an integer >= 2`);
  // Below float resolution the bisection would never end (hi - lo stops shrinking).
  if (!(o.precision >= LIMITS.precision)) {
    throw new RangeError(`min_d: precision must be >= ${LIMITS.precision}, got ${o.precision}`);
  }
  const t0 = performance.now();
  const x = Float64Array.from(logPrice);
  const rows: MinDRow[] = [];
  let first = -1;
  for (let i = 0; i < o.grid; i++) {
    const row = evaluateD(x, i / (o.grid - 1), o);
    rows.push(row);
    if (row.rejects && first < 0) first = i;
  }
  let d: number | null = null;
  if (first === 0) d = 0;
  else if (first > 0) {
    let lo = (first - 1) / (o.grid - 1), hi = first / (o.grid - 1);
    while (hi - lo > o.precision) {
      // Rounded to 12 significant digits so reported orders read as decimals (0.04375, not 0.043750000000000004).
      const mid = Number(((lo + hi) / 2).toPrecision(12));
      const row = evaluateD(x, mid, o, "bisection");
      rows.push(row);
      if (row.rejects) hi = mid;
      else lo = mid;
    }
    d = hi;
  }
  rows.sort((a, b) => a.d - b.d);
  return {
    d,
    level,
    precision: o.precision,
    rows,
    above_not_rejecting: d === null
      ? []
      : rows.filter((r) => r.d > d && !r.rejects && !r.note).map((r) => r.d),
    sample_rows: x.length,
    evaluations: rows.length,
    ms: Math.round(performance.now() - t0),
  };
}

/** `kernel min_d`'s parameters. */
export type MinDKernelParams = {
  threshold: number;
  confidence: number;
  grid: number;
  precision: number;
  regression: AdfRegression;
  maxlag: number;
  autolag: AdfAutolag;
  log: boolean;
};

/** `kernel min_d`: the minimum-d table of log(column) as JSON (the column must be positive prices). */
export const minDKernel: ScalarKernel<MinDKernelParams> = defineScalarKernel({
  name: "min_d",
  summary: "minimum FFD order d whose log-price series rejects a unit root (AFML 5.4; JSON: d and the table)",
  inputs: 1,
  params: {
    threshold: { type: "float", min: 0, exclusiveMin: true, default: 1e-5, doc: "FFD weight truncation" },
    confidence: { type: "float", min: 0.9, max: 0.99, default: 0.95, doc: "0.9, 0.95 or 0.99" },
    grid: { type: "int", min: 2, max: LIMITS.gridPoints, default: 11, doc: "grid points in [0, 1]" },
    precision: { type: "float", min: LIMITS.precision, max: 0.5, default: 0.01, doc: "bisection precision" },
    regression: {
      type: "choice",
      choices: ["n", "c", "ct", "ctt"],
      default: "c",
      doc: "ADF deterministic terms",
    },
    maxlag: {
      type: "int",
      min: -1,
      max: LIMITS.lags,
      default: 1,
      doc: "ADF maxlag (-1: statsmodels' default)",
    },
    autolag: {
      type: "choice",
      choices: ["AIC", "BIC", "t-stat", "none"],
      default: "none",
      doc: "ADF lag rule (AIC-chosen lags often fail to reject where maxlag 1 rejects)",
    },
    log: { type: "bool", default: true, doc: "search on log(column) (true) or the column as given" },
  },
  check: (p) => {
    const why = ffdSearchProblem(p.threshold);
    return why && `--threshold: ${why}`;
  },
  conformance: [{ threshold: 1e-3, grid: 5, precision: 0.05 }],
  varying: ["ms"],
  run: ([x], p) => {
    const maxlag = p.maxlag;
    const series = p.log ? x.map((v) => (v > 0 ? Math.log(v) : NaN)) : x;
    return Promise.resolve(minD(series, {
      threshold: p.threshold,
      confidence: p.confidence,
      grid: p.grid,
      precision: p.precision,
      regression: p.regression,
      maxlag: maxlag < 0 ? null : maxlag,
      autolag: p.autolag,
    }));
  },
});
