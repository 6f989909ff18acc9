/**
 * The statistical_tests engine: the forward-return target and a distance-correlation ranking of the features
 * against it. The target (engines/target.ts: `y_ret_fwd_15` = 15 bars, `y_ret_fwd_15m` = 15 minutes) is the
 * only forward-looking column: rows without a full horizon are NaN, and no `y_*` column is ever ranked.
 *
 * Which features are scored, on which rows:
 * 1. candidates: every column except `y_*` and those matching `exclude` (glob patterns; by default the raw
 *    price levels open/high/low/close, which are not features of a stationary target);
 * 2. candidate rows: the latest `max_samples` rows with a finite target;
 * 3. every feature is scored on the same rows — the candidate rows where the target and all scored features
 *    are finite. So that one sparse feature cannot shrink that set to nothing, features are set aside in
 *    ascending order of their finite count (ties by name) until at least `min_coverage` of the candidate rows
 *    are complete; a feature finite on fewer than that share is therefore always set aside (all-NaN first);
 * 4. fewer complete rows than the test needs (4, and 2 x the horizon in bars for circular shifts) leave every
 *    feature unscorable. Each feature not scored is in `excluded` with its reason; none reaches the ranking.
 *
 * Each scored feature gets dCor (V-statistic), bias-corrected dCor², a permutation p-value, its
 * Benjamini-Hochberg q-value over all scored features, and optionally the mean and stability of dCor over
 * consecutive windows. The p-value's permutations are circular shifts of the target by default (see
 * kernels/dcor_core.ts `PermutationScheme`): overlapping forward returns and persistent features make iid
 * permutations give p-values far too small. The top `top_k` by dCor are selected, after the filters and, when
 * `fdr_level` is set, among those with q <= fdr_level.
 */
import { type Frame, makeFrame } from "../io/frame.ts";
import {
  selectionFilters,
  type SelectionFiltersConfig,
  type SelectionFiltersReport,
} from "./selection_filters.ts";
import { dcor, dcorTestGpu, type PermutationScheme } from "../kernels/dcor.ts";
import { dcorTestParallel } from "../kernels/dcor_pool.ts";
import type { Compute } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";
import { log } from "../runtime/log.ts";
import type { EngineResult, ProgressFn } from "./stationarization.ts";
import { forwardReturn, forwardReturnTime, medianSpacing, parseTarget, type TargetSpec } from "./target.ts";

export { forwardReturn, forwardReturnTime, parseTarget, type TargetSpec } from "./target.ts";

/** Configuration of the selection stage (features.* in the YAML config). */
export interface SelectionConfig {
  /** Target column name, e.g. `y_ret_fwd_15m` (computed from close when absent; engines/target.ts). */
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
  /** Permutation scheme of the p-values (default `circular_shift`). */
  scheme?: PermutationScheme;
  /** Glob patterns (`*`, `?`) of columns never scored (default: open, high, low, close). */
  exclude?: string[];
  /** Share of the candidate rows that must be complete (default 0.75; see the module doc). */
  min_coverage?: number;
  /** Select only features with BH q-value <= this (default null: no FDR selection). */
  fdr_level?: number | null;
  /**
   * CPU permutation tests: threads, this one included (kernels/dcor_pool.ts; default 1 = this thread only).
   * Results are the same bit for bit for any count.
   */
  threads?: number;
  /**
   * Sequential Monte Carlo p-values (Besag-Clifford; kernels/dcor.ts `stopAfter`): a feature's test stops at
   * its h-th replicate >= the observed statistic, p = h / L (L replicates drawn; `stopped_at`). 0 or absent:
   * every test draws all permutations. The WebGPU path draws all of them and applies the same rule in order.
   */
  stop_after?: number;
}

/** The raw price levels, excluded by default. */
export const DEFAULT_SELECTION_EXCLUDE: readonly string[] = ["open", "high", "low", "close"];

/** One ranked feature (every one has finite dcor, p_value and q_value). */
export interface RankedFeature {
  /** Column name. */
  feature: string;
  /** V-statistic dCor with the target. */
  dcor: number;
  /** Bias-corrected dCor². */
  dcor2_bc: number;
  /** Permutation p-value (1 + #{T_b >= T}) / (1 + B). */
  p_value: number;
  /** Benjamini-Hochberg q-value of the p-value among all ranked features (R p.adjust "BH"). */
  q_value: number;
  /** Rows used: the report's common rows, the same for every feature. */
  n: number;
  /** circular_shift: the least shift of this feature's test (max of the horizon and both dependence ranges). */
  block?: number;
  /** Sequential stopping: replicates drawn when this test stopped early (p_value = stop_after / stopped_at). */
  stopped_at?: number;
  /** Mean of dCor over consecutive windows (when rolling). */
  rolling_mean?: number;
  /** 1 - sd/mean of the windowed dCor, clamped to [0, 1]: 1 = the dependence is stable over time. */
  rolling_stability?: number;
}

/** A feature that was not scored, and why. */
export interface ExcludedFeature {
  /** Column name. */
  feature: string;
  /**
   * `pattern`: matches `features.selection_exclude`; `coverage`: set aside by the common-rows rule (too few
   * finite values); `rows`: too few complete rows remain for the test.
   */
  cause: "pattern" | "coverage" | "rows";
  /** One sentence for people. */
  reason: string;
  /** Finite values on the candidate rows (coverage and rows causes). */
  finite?: number;
}

/** The target horizon as resolved for this frame. */
export interface TargetHorizon {
  /** `bars`, `time` (resolved against the timestamps) or `column` (supplied by the input). */
  kind: TargetSpec["kind"];
  /** The horizon in bars: as written, or for time horizons ceil(ms / median bar spacing); 1 for a column. */
  bars: number;
  /** Time horizons: the horizon in ms. */
  ms?: number;
  /** Time horizons: the median spacing of the timestamps in ms. */
  median_spacing_ms?: number;
}

/** The permutation test's settings. */
export interface PermutationReport {
  /** `circular_shift` (default) or `iid`. */
  scheme: PermutationScheme;
  /** Permutations per p-value (the p-value floor is 1 / (1 + permutations)). */
  permutations: number;
  /** Seed. */
  seed: number;
  /** circular_shift: the least shift for every feature (the horizon in bars); features may need more (`block`). */
  min_block?: number;
  /**
   * Sequential stopping (when configured): each test stopped at its stop_after-th exceedance, with
   * p = stop_after / stopped_at; tests that did not reach it have the full-permutation p-value.
   */
  stop_after?: number;
  /** Sequential stopping: how many tests stopped early. */
  stopped_early?: number;
}

/** The statistical_tests report. */
export interface SelectionReport {
  /** Target column name. */
  target: string;
  /** Its horizon. */
  horizon: TargetHorizon;
  /** The latest max_samples rows with a finite target. */
  candidate_rows: number;
  /** Common rows every ranked feature was scored on (target and all ranked features finite). */
  rows: number;
  /** How the p-values were computed. */
  permutation: PermutationReport;
  /** The FDR level selection used (null: none). */
  fdr_level: number | null;
  /** Scored features, best dCor first. */
  ranking: RankedFeature[];
  /** The selected features in rank order. */
  selected: string[];
  /** Features not scored, with reasons, in column order. */
  excluded: ExcludedFeature[];
  /** The selection filters' report (null: none). */
  filters: SelectionFiltersReport | null;
}

/**
 * Benjamini-Hochberg adjusted p-values (R `p.adjust(p, "BH")`): q_(i) = min over j >= i of m p_(j) / j for
 * the ascending p_(1..m), capped at 1, in the input order. NaN p-values are not counted in m and stay NaN.
 */
export function bhQValues(p: ArrayLike<number>): Float64Array {
  const q = new Float64Array(p.length).fill(NaN);
  const idx = Array.from({ length: p.length }, (_, i) => i).filter((i) => !Number.isNaN(p[i]));
  idx.sort((a, b) => p[b] - p[a] || b - a); // descending, so the running minimum runs from the largest
  const m = idx.length;
  let min = 1;
  idx.forEach((i, k) => (q[i] = min = Math.min(min, (m / (m - k)) * p[i])));
  return q;
}

/** A glob (`*` any run, `?` one character, everything else literal) as an anchored RegExp. */
export function globRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

/** The target column and its horizon (also the study objective's target, study/objective.ts). */
export function resolveTarget(
  frame: Frame,
  name: string,
): { target: Float64Array; computed: boolean; horizon: TargetHorizon } {
  const spec = parseTarget(name);
  const given = frame.columns.get(name);
  if (spec.kind === "column") {
    if (!given) throw new UsageError(`${frame.source}: no target column "${name}" in the input`);
    return { target: given, computed: false, horizon: { kind: "column", bars: 1 } };
  }
  let horizon: TargetHorizon = { kind: "bars", bars: spec.kind === "bars" ? spec.bars : 1 };
  const ts = frame.timestamps;
  if (spec.kind === "time") {
    if (!ts) {
      throw new UsageError(
        `${frame.source}: the target ${name} is a time horizon but the input has no timestamps`,
      );
    }
    const spacing = medianSpacing(ts);
    horizon = {
      kind: "time",
      bars: spacing > 0 ? Math.max(1, Math.ceil(spec.ms / spacing)) : 1,
      ms: spec.ms,
      median_spacing_ms: spacing,
    };
    if (spacing > spec.ms) {
      log(
        "warn",
        `${frame.source}: target ${name}: the median bar spacing (${spacing} ms) is longer than the horizon, so the target is 0 on most rows`,
      );
    }
  }
  if (given) return { target: given, computed: false, horizon };
  const close = frame.columns.get("close");
  if (!close) throw new UsageError(`${frame.source}: no column "close" to compute the target ${name} from`);
  const target = spec.kind === "time"
    ? forwardReturnTime(close, ts!, spec.ms)
    : forwardReturn(close, spec.bars);
  return { target, computed: true, horizon };
}

/**
 * Applies the common-rows rule (module doc, steps 3-4): the scored names, the common rows, the set-aside ones
 * (`names` and `cols` parallel; `candidates` the rows with a finite target).
 */
export function commonRows(
  names: string[],
  cols: Float64Array[],
  candidates: number[],
  minCoverage: number,
  minRows: number,
): { scored: number[]; rows: number[]; excluded: Map<number, ExcludedFeature> } {
  const N = candidates.length;
  const finite = cols.map((c) => candidates.reduce((k, t) => k + (Number.isFinite(c[t]) ? 1 : 0), 0));
  const missing = new Int32Array(N); // scored features not finite at each candidate row
  cols.forEach((c) => candidates.forEach((t, r) => (missing[r] += Number.isFinite(c[t]) ? 0 : 1)));
  let complete = missing.reduce((k, v) => k + (v === 0 ? 1 : 0), 0);
  const need = Math.ceil(minCoverage * N);
  const order = names.map((_, i) => i).sort((a, b) =>
    finite[a] - finite[b] || (names[a] < names[b] ? -1 : 1)
  );
  const excluded = new Map<number, ExcludedFeature>();
  const pct = (k: number) => `${N ? ((100 * k) / N).toFixed(1) : "0"}%`;
  const share = `${+(100 * minCoverage).toFixed(2)}%`;
  for (const i of order) {
    if (complete >= need) break;
    const c = cols[i];
    candidates.forEach((t, r) => {
      if (!Number.isFinite(c[t]) && --missing[r] === 0) complete++;
    });
    const k = finite[i];
    excluded.set(i, {
      feature: names[i],
      cause: "coverage",
      finite: k,
      reason: k === 0
        ? `no finite value on the ${N} candidate rows`
        : k < need
        ? `finite on ${k} of ${N} candidate rows (${
          pct(k)
        }), under features.selection_min_coverage (${share})`
        : `finite on ${k} of ${N} candidate rows (${
          pct(k)
        }), but with it fewer than ${share} of the candidate ` +
          "rows are finite in every feature",
    });
  }
  const rows = candidates.filter((_, r) => missing[r] === 0);
  let scored = names.map((_, i) => i).filter((i) => !excluded.has(i));
  if (rows.length < minRows) {
    for (const i of scored) {
      excluded.set(i, {
        feature: names[i],
        cause: "rows",
        finite: finite[i],
        reason: N === 0
          ? "the target has no finite value"
          : `only ${rows.length} rows where the target and every feature are finite; the test needs ${minRows}`,
      });
    }
    scored = [];
  }
  return { scored, rows, excluded };
}

/**
 * Ranks the frame's features against the target and selects the top K. `progress` hears the permutation
 * tests: features done of those scored (CPU), or permutations done of features x permutations (WebGPU).
 */
export async function selectFeatures(
  frame: Frame,
  cfg: SelectionConfig,
  compute: Compute,
  progress?: ProgressFn,
): Promise<EngineResult<SelectionReport>> {
  const scheme = cfg.scheme ?? "circular_shift";
  const fdr = cfg.fdr_level ?? null;
  const { target, computed, horizon } = resolveTarget(frame, cfg.target);
  const columns = new Map<string, Float64Array>(computed ? [[cfg.target, target]] : []);
  // The latest max_samples rows with a target.
  const candidates: number[] = [];
  for (let t = target.length - 1; t >= 0 && candidates.length < cfg.max_samples; t--) {
    if (Number.isFinite(target[t])) candidates.push(t);
  }
  candidates.reverse();
  // A horizon longer than the data (y_ret_fwd_100000) leaves no row with a target: nothing can be ranked.
  if (!candidates.length) {
    log(
      "warn",
      `selection: target ${cfg.target} has no finite value in ${frame.rows} rows; nothing is ranked`,
    );
  }

  const patterns = (cfg.exclude ?? DEFAULT_SELECTION_EXCLUDE).map((p) => ({ p, re: globRegExp(p) }));
  const excluded: ExcludedFeature[] = [];
  const names: string[] = [];
  for (const n of frame.columns.keys()) {
    if (n.startsWith("y_")) continue; // targets, including cfg.target (parseTarget requires y_)
    const hit = patterns.find(({ re }) => re.test(n));
    if (hit) {
      excluded.push({
        feature: n,
        cause: "pattern",
        reason: `matches features.selection_exclude "${hit.p}"`,
      });
    } else names.push(n);
  }
  const minBlock = scheme === "circular_shift" ? horizon.bars : 1;
  const common = commonRows(
    names,
    names.map((n) => frame.columns.get(n)!),
    candidates,
    cfg.min_coverage ?? 0.75,
    Math.max(4, scheme === "circular_shift" ? 2 * minBlock : 0),
  );
  excluded.push(...common.excluded.values());
  const order = new Map([...frame.columns.keys()].map((n, i) => [n, i]));
  excluded.sort((a, b) => order.get(a.feature)! - order.get(b.feature)!);

  const rows = common.rows;
  const scored = common.scored.map((i) => names[i]);
  const pick = (v: Float64Array) => Float64Array.from(rows, (t) => v[t]);
  const y = pick(target);
  const xs = scored.map((n) => pick(frame.columns.get(n)!));
  const stopAfter = cfg.stop_after ?? 0;
  const opts = { permutations: cfg.permutations, seed: cfg.seed, scheme, minBlock, stopAfter };
  const tests = compute.gpu && xs.length
    ? await dcorTestGpu(compute.gpu, xs.map((x) => [x, y]), {
      ...opts,
      progress: progress && ((done, total) => progress(done, total, "permutations")),
    })
    : (progress?.(0, xs.length, "features"),
      await dcorTestParallel(xs.map((x) => [x, y] as const), opts, {
        threads: cfg.threads ?? 1,
        onProgress: progress && ((done, total) => progress(done, total, "features")),
      }));
  const q = bhQValues(tests.map((t) => t.p_value));
  // A dCor window longer than the scored rows leaves the windowed summary NaN: say so.
  if (cfg.rolling && scored.length && cfg.rolling_window > rows.length) {
    log(
      "warn",
      `selection_rolling_window ${cfg.rolling_window} is longer than the ${rows.length} rows scored: ` +
        `rolling_mean and rolling_stability are NaN`,
    );
  }
  const ranking: RankedFeature[] = scored.map((feature, i) => {
    const d = dcor(xs[i], y);
    const r: RankedFeature = {
      feature,
      dcor: d.dcor,
      dcor2_bc: d.dcor2_bc,
      p_value: tests[i].p_value,
      q_value: q[i],
      n: d.n,
    };
    if (tests[i].block !== undefined) r.block = tests[i].block;
    if (tests[i].stopped_at !== undefined) r.stopped_at = tests[i].stopped_at;
    if (cfg.rolling) Object.assign(r, windowed(xs[i], y, cfg.rolling_window));
    return r;
  });
  ranking.sort((a, b) => b.dcor - a.dcor);
  // Near-duplicates are dropped in dCor order, so of two nearly identical features the better ranked stays.
  const sample = makeFrame(frame.source, rows.length, new Map(scored.map((n, i) => [n, xs[i]])));
  const filters = cfg.filters && scored.length
    ? await selectionFilters(sample, { ...cfg.filters, columns: scored }, compute, ranking)
    : null;
  const kept = filters ? new Set(filters.kept) : null;
  const selected = ranking
    .filter((r) => (!kept || kept.has(r.feature)) && (fdr === null || r.q_value <= fdr))
    .slice(0, cfg.top_k)
    .map((r) => r.feature);
  const report: SelectionReport = {
    target: cfg.target,
    horizon,
    candidate_rows: candidates.length,
    rows: rows.length,
    permutation: {
      scheme,
      permutations: cfg.permutations,
      seed: cfg.seed,
      ...(scheme === "circular_shift" ? { min_block: minBlock } : {}),
      ...(stopAfter > 0
        ? { stop_after: stopAfter, stopped_early: tests.filter((t) => t.stopped_at !== undefined).length }
        : {}),
    },
    fdr_level: fdr,
    ranking,
    selected,
    excluded,
    filters,
  };
  return { columns, report };
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
