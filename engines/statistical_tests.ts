/**
 * The statistical_tests engine: the forward-return target and a distance-correlation ranking of every feature
 * against it. The target `y_ret_fwd_<h>` (log return of close from t to t + h bars) is the only forward-looking
 * column: rows without a full horizon are NaN and excluded, and no `y_*` column is ever ranked as a feature.
 * Each feature is scored on the rows where it and the target are finite, within the last `max_samples` rows
 * that have a target: dCor (V-statistic), bias-corrected dCor², a permutation p-value, and optionally the mean and
 * stability of dCor over consecutive windows. The top `top_k` by dCor are selected.
 */
import { type Frame, makeFrame } from "../io/frame.ts";
import { selectionFilters, type SelectionFiltersConfig } from "./selection_filters.ts";
import { dcor, dcorTest, dcorTestGpu } from "../kernels/dcor.ts";
import type { Compute } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";
import type { EngineResult } from "./stationarization.ts";

/** Configuration of the selection stage (features.* in the YAML config). */
export interface SelectionConfig {
  /** Target column name, e.g. `y_ret_fwd_15m` (computed from close when absent). */
  target: string;
  /** How many features to keep. */
  top_k: number;
  /** Score on at most this many of the latest rows that have a target. */
  max_samples: number;
  /** Permutations per p-value. */
  permutations: number;
  /** Seed of the permutations (same seed, same p-values). */
  seed: number;
  /** Also report dCor over consecutive windows (mean and stability). */
  rolling: boolean;
  /** Window length for the rolling dCor summary. */
  rolling_window: number;
  /** Variance / near-duplicate filters and PCA over the ranked features (null: none). */
  filters?: SelectionFiltersConfig | null;
}

/** One ranked feature. */
export interface RankedFeature {
  /** Column name. */
  feature: string;
  /** V-statistic dCor with the target. */
  dcor: number;
  /** Bias-corrected dCor². */
  dcor2_bc: number;
  /** Permutation p-value (1 + #{T_b >= T}) / (1 + B). */
  p_value: number;
  /** Rows used (both finite). */
  n: number;
  /** Mean of dCor over consecutive windows (when rolling). */
  rolling_mean?: number;
  /** 1 - sd/mean of the windowed dCor, clamped to [0, 1]: 1 = the dependence is stable over time. */
  rolling_stability?: number;
}

/** The horizon h in bars of a target named `y_ret_fwd_<h>` (an optional `m`/`bars` suffix is allowed). */
export function targetHorizon(name: string): number {
  const m = /^y_ret_fwd_(\d+)(m|bars?)?$/.exec(name);
  if (!m || Number(m[1]) < 1) {
    throw new UsageError(
      `features.selection_target_column: "${name}" is absent and not of the form y_ret_fwd_<h>`,
    );
  }
  return Number(m[1]);
}

/** Forward log return over `h` bars: log(close[t + h] / close[t]); NaN where t + h is past the end. */
export function forwardReturn(close: Float64Array, h: number): Float64Array {
  return close.map((
    c,
    t,
  ) => (t + h < close.length && c > 0 && close[t + h] > 0 ? Math.log(close[t + h] / c) : NaN));
}

/** Ranks the frame's features against the target and selects the top K. */
export async function selectFeatures(
  frame: Frame,
  cfg: SelectionConfig,
  compute: Compute,
): Promise<EngineResult> {
  const columns = new Map<string, Float64Array>();
  let target = frame.columns.get(cfg.target);
  if (!target) {
    const close = frame.columns.get("close");
    if (!close) {
      throw new UsageError(`${frame.source}: no column "close" to compute the target ${cfg.target} from`);
    }
    target = forwardReturn(close, targetHorizon(cfg.target));
    columns.set(cfg.target, target);
  }
  // The latest max_samples rows with a target.
  const rows: number[] = [];
  for (let t = target.length - 1; t >= 0 && rows.length < cfg.max_samples; t--) {
    if (Number.isFinite(target[t])) rows.push(t);
  }
  rows.reverse();
  const pick = (v: Float64Array) => Float64Array.from(rows, (t) => v[t]);
  const y = pick(target);
  const names = [...frame.columns.keys()].filter((n) => !n.startsWith("y_") && n !== cfg.target);
  const xs = names.map((n) => pick(frame.columns.get(n)!));
  const tests = compute.gpu
    ? await dcorTestGpu(compute.gpu, xs.map((x) => [x, y]), {
      permutations: cfg.permutations,
      seed: cfg.seed,
    })
    : xs.map((x) => dcorTest(x, y, { permutations: cfg.permutations, seed: cfg.seed }));
  const ranking: RankedFeature[] = names.map((feature, i) => {
    const d = dcor(xs[i], y);
    const r: RankedFeature = {
      feature,
      dcor: d.dcor,
      dcor2_bc: d.dcor2_bc,
      p_value: tests[i].p_value,
      n: d.n,
    };
    if (cfg.rolling) Object.assign(r, windowed(xs[i], y, cfg.rolling_window));
    return r;
  });
  ranking.sort((a, b) => (Number.isNaN(a.dcor) ? 1 : Number.isNaN(b.dcor) ? -1 : b.dcor - a.dcor));
  // Near-duplicates are dropped in dCor order, so of two nearly identical features the better ranked stays.
  const sample = makeFrame(frame.source, rows.length, new Map(names.map((n, i) => [n, xs[i]])));
  const filters = cfg.filters
    ? await selectionFilters(sample, { ...cfg.filters, columns: names }, compute, ranking)
    : null;
  const kept = filters ? new Set(filters.kept) : null;
  const selected = ranking
    .filter((r) => Number.isFinite(r.dcor) && (!kept || kept.has(r.feature)))
    .slice(0, cfg.top_k)
    .map((r) => r.feature);
  return {
    columns,
    report: {
      target: cfg.target,
      rows: rows.length,
      permutations: cfg.permutations,
      selected,
      ranking,
      filters,
    },
  };
}

/** dCor over consecutive non-overlapping windows: its mean and stability. */
function windowed(
  x: Float64Array,
  y: Float64Array,
  w: number,
): Pick<RankedFeature, "rolling_mean" | "rolling_stability"> {
  const values: number[] = [];
  for (let s = 0; s + w <= x.length; s += w) {
    const d = dcor(x.subarray(s, s + w), y.subarray(s, s + w)).dcor;
    if (Number.isFinite(d)) values.push(d);
  }
  if (!values.length) return { rolling_mean: NaN, rolling_stability: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return { rolling_mean: mean, rolling_stability: mean > 0 ? Math.min(1, Math.max(0, 1 - sd / mean)) : 0 };
}
