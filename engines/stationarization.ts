/**
 * The stationarization engine: fractional differences of log prices for every d, rolling z-scores for every
 * window, shifted-log variance stabilization, and rolling correlations of configured column pairs. Every
 * kernel runs once over all requested columns (one batched submit each), on the GPU or the f64 CPU path.
 *
 * `d_values: "auto"` replaces the list by each column's minimum d (kernels/min_d.ts, AFML 5.4), in a column
 * `<col>_fd_auto`. Choosing d uses the data it is tested on, so d is chosen on the first `min_d.rows` rows
 * only and the column is NaN before the last of them: every value then uses inputs at or before its row
 * (the pipeline's no-look-ahead property holds). `rows: "all"` searches the whole series instead; the report
 * says it looks ahead and a warning is logged.
 */
import { ffdWeights, fracdiff } from "../kernels/fracdiff.ts";
import { runKernel, runKernelPlanes } from "../kernels/kernel.ts";
import { logstab } from "../kernels/logstab.ts";
import { rollingCorr } from "../kernels/rolling_corr.ts";
import { zscore } from "../kernels/rolling_moments.ts";
import type { Frame } from "../io/frame.ts";
import { getColumn } from "../io/frame.ts";
import type { Compute } from "../runtime/backend.ts";
import { MIN_D_DEFAULTS, minD, type MinDOptions, type MinDResult } from "../kernels/min_d.ts";
import { log } from "../runtime/log.ts";

/** `features.frac_diff`: fractional differentiation. */
export interface FracDiffConfig {
  /**
   * Orders d, each in [0, 2], or `"auto"`: each instrument's minimum d whose FFD rejects a unit root
   * (kernels/min_d.ts; column `<col>_fd_auto`).
   */
  d_values: number[] | "auto";
  /** Weight cut-off threshold (> 0). */
  threshold: number;
  /** `auto`: confidence of the ADF test, 0.9, 0.95 or 0.99 (the 10%, 5%, 1% critical value). */
  auto_confidence: number;
  /**
   * `auto`: d is chosen on the first `auto_rows` rows only, and `<col>_fd_auto` is NaN before that row, so
   * the column uses no future data; `"all"` searches the whole series (looks ahead; warned).
   */
  auto_rows: number | "all";
  /** `auto`: ADF lag rule, `none` (maxlag lags, as AFML) or AIC, BIC, t-stat. */
  auto_autolag: "none" | "AIC" | "BIC" | "t-stat";
  /** `auto`: ADF maxlag, or `"default"` for statsmodels' ceil(12 (n/100)^(1/4)). */
  auto_maxlag: number | "default";
  /** `auto`: grid points in [0, 1] before bisection. */
  auto_grid: number;
  /** `auto`: bisection precision in d. */
  auto_precision: number;
}

/** Configuration of the stationarization engine (features.* in the YAML config). */
export interface StationarizationConfig {
  /** Columns to transform (default ["close"]). */
  columns: string[];
  /** FFD orders (features.frac_diff.d_values), or "auto": each column's minimum d (`<col>_fd_auto`). */
  d_values: number[] | "auto";
  /** The minimum-d search of `d_values: "auto"` (features.frac_diff.auto_*); defaults MIN_D_AUTO_DEFAULTS. */
  min_d?: Partial<MinDAutoConfig>;
  /** FFD weight truncation. */
  threshold: number;
  /** Rolling z-score windows (features.rolling_windows). */
  rolling_windows: number[];
  /** Shifted-log variance stabilization; null disables it. */
  logstab: { shift: number; causal: boolean } | null;
  /** Rolling correlation pairs [a, b] and their window. */
  corr_pairs: [string, string][];
  /** Window of the rolling correlations, in points. */
  corr_window: number;
}

/** The minimum-d search's settings in the engine: AFML's test plus the rows d is chosen on. */
export interface MinDAutoConfig extends Omit<MinDOptions, "threshold"> {
  /** d is chosen on the first `rows` rows and the column starts at that row; "all": whole series (looks ahead). */
  rows: number | "all";
}

/** Defaults of the `auto` search (config features.frac_diff.auto_*). */
export const MIN_D_AUTO_DEFAULTS: MinDAutoConfig = { ...MIN_D_DEFAULTS, rows: 20000 };

/** The search's settings from the config's `features.frac_diff.auto_*` keys. */
export function minDConfig(fd: FracDiffConfig): MinDAutoConfig {
  return {
    confidence: fd.auto_confidence,
    rows: fd.auto_rows,
    autolag: fd.auto_autolag,
    maxlag: fd.auto_maxlag === "default" ? null : fd.auto_maxlag,
    grid: fd.auto_grid,
    precision: fd.auto_precision,
    regression: "c",
  };
}

/** Per column, the engine report's account of `d_values: "auto"` (report.min_d). */
export interface MinDReport {
  /** The chosen d (null when none in [0, 1] rejects or the series is shorter than the search sample). */
  d: number | null;
  /** The ADF critical value's level ("5%"). */
  level: string;
  /** Rows d was chosen on. */
  sample_rows: number;
  /** Whether d was chosen with rows after some of the column's values (rows: "all"). */
  looks_ahead: boolean;
  /** The column's first row with a value (d known and the FFD window filled); null when it has none. */
  first_row: number | null;
  /** ADF lag rule used. */
  autolag: string;
  /** ADF maxlag used (null: statsmodels' default). */
  maxlag: number | null;
  /** Bisection precision. */
  precision: number;
  /** Every evaluated d (ADF statistic, p-value, critical value, FFD window, correlation with the log price). */
  table: MinDResult["rows"];
  /** Tested orders above d that do not reject (empty when rejection is monotone in d, as bisection assumes). */
  above_not_rejecting?: number[];
  /** Search time in ms. */
  ms: number;
  /** Why there is no d. */
  problem?: string;
}

/** The defaults of the original system (seeds/000). */
export const STATIONARIZATION_DEFAULTS: StationarizationConfig = {
  columns: ["close"],
  d_values: [0.1, 0.2, 0.3, 0.4, 0.5],
  threshold: 1e-5,
  rolling_windows: [10, 20, 50, 100, 200],
  logstab: { shift: 1, causal: true },
  corr_pairs: [],
  corr_window: 50,
};

/** What an engine returns: new named columns and its report (typed per engine, see pipeline/engines.ts). */
export interface EngineResult<R = Record<string, unknown>> {
  /** New columns by name (e.g. `close_fd_0.4`, `close_z_20`), each as long as the input frame. */
  columns: Map<string, Float64Array>;
  /** The engine's report, for the log, summary.json and summary.md. */
  report: R;
  /** Why a column has no values, by column name, where the engine knows (e.g. a window longer than the series). */
  notes?: Record<string, string>;
}

/**
 * Optional progress of a long engine step: `done` of `total` `unit`s (e.g. "permutations"). Called between
 * pieces of work, so a caller may throw from it to stop the engine there (the page's Cancel does).
 */
export type ProgressFn = (done: number, total: number, unit: string) => void;

/** Notes for columns whose window (rows needed before the first value) is longer than the series. */
export function windowNotes(
  rows: number,
  windows: [column: string, need: number, what: string][],
): Record<string, string> {
  const notes: Record<string, string> = {};
  for (const [column, need, what] of windows) {
    if (need > rows) notes[column] = `${what} needs ${need} rows; the series has ${rows}`;
  }
  return notes;
}

/** Runs the engine on one frame. FFD is applied to log prices (the usual input for price series). */
export async function stationarize(
  frame: Frame,
  cfg: StationarizationConfig,
  compute: Compute,
): Promise<EngineResult<StationarizationReport>> {
  const out = new Map<string, Float64Array>();
  const timings: Record<string, number> = {};
  const timed = async <T>(step: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await f();
    timings[step] = Math.round(performance.now() - t0);
    return r;
  };
  const raw = cfg.columns.map((c) => getColumn(frame, c));
  const origin = frame.origin ?? 0; // a chunk's first row: kernels split it on the series' block grid
  const logs = raw.map((x) => x.map((v) => (v > 0 ? Math.log(v) : NaN)));
  const dValues = cfg.d_values === "auto" ? [] : cfg.d_values;
  const ffd = (cols: Float64Array[], ds: number[]) =>
    runKernelPlanes(
      fracdiff,
      cols.map((x) => [x]),
      ds.map((d) => ({ d, threshold: cfg.threshold, origin })),
      compute,
    );
  const fd = dValues.length ? await timed("fracdiff", () => ffd(logs, dValues)) : [];
  const windows: Record<string, number> = Object.fromEntries(
    dValues.map((d) => [d, ffdWeights(d, cfg.threshold).length]),
  );
  const autoNotes: Record<string, string> = {};
  let minDReport: Record<string, MinDReport> | undefined;
  if (cfg.d_values === "auto") {
    minDReport = await timed("min_d", () => autoColumns(cfg, logs, ffd, out, windows, autoNotes));
  }
  const z = await timed(
    "zscore",
    () =>
      runKernelPlanes(
        zscore,
        raw.map((x) => [x]),
        cfg.rolling_windows.map((window) => ({ window, ddof: 1, origin })),
        compute,
      ),
  );
  cfg.columns.forEach((c, i) => {
    dValues.forEach((d, j) => out.set(`${c}_fd_${d}`, fd[i][j]));
    cfg.rolling_windows.forEach((w, j) => out.set(`${c}_z_${w}`, z[i][j]));
  });
  const ls = cfg.logstab;
  if (ls) {
    // A chunk continues each column's expanding minimum from the rows before it.
    const prior = cfg.columns.map((c) => frame.priorMin?.[c] ?? Infinity);
    const y = await timed(
      "logstab",
      () =>
        prior.every((m) => m === Infinity)
          ? runKernel(logstab, raw.map((x) => [x]), ls, compute)
          : Promise.all(raw.map(async (x, i) =>
            (await runKernel(logstab, [[x]], { ...ls, prior_min: prior[i] }, compute))[0]
          )),
    );
    cfg.columns.forEach((c, i) => out.set(`${c}_logstab`, y[i]));
  }
  if (cfg.corr_pairs.length) {
    const pairs = cfg.corr_pairs.map(([a, b]) => [getColumn(frame, a), getColumn(frame, b)]);
    const window = cfg.corr_window;
    const r = await timed(
      "rolling_corr",
      () => runKernel(rollingCorr, pairs, { window, origin }, compute),
    );
    cfg.corr_pairs.forEach(([a, b], i) => out.set(`corr_${a}_${b}_${window}`, r[i]));
  }
  const notes = windowNotes(frame.rows, [
    ...cfg.columns.flatMap((c) => [
      ...dValues.map((d) =>
        [`${c}_fd_${d}`, windows[d], `FFD d = ${d} (threshold ${cfg.threshold})`] as [string, number, string]
      ),
      ...cfg.rolling_windows.map((w) => [`${c}_z_${w}`, w, `the z-score window`] as [string, number, string]),
    ]),
    ...cfg.corr_pairs.map(([a, b]) =>
      [`corr_${a}_${b}_${cfg.corr_window}`, cfg.corr_window, "the correlation window"] as [
        string,
        number,
        string,
      ]
    ),
  ]);
  return {
    columns: out,
    report: {
      timings_ms: timings,
      ffd_window: windows,
      columns: out.size,
      ...(minDReport ? { min_d: minDReport } : {}),
    },
    notes: { ...notes, ...autoNotes },
  };
}

/** The stationarization report. */
export interface StationarizationReport {
  /** Wall time per step (fracdiff, min_d, zscore, logstab, rolling_corr), in ms. */
  timings_ms: Record<string, number>;
  /** FFD window length (weights) per d. */
  ffd_window: Record<string, number>;
  /** Columns added. */
  columns: number;
  /** `d_values: "auto"`: the minimum-d search per column. */
  min_d?: Record<string, MinDReport>;
}

/** `d_values: "auto"`: each column's minimum d on its leading rows, and `<col>_fd_auto` from that row on. */
async function autoColumns(
  cfg: StationarizationConfig,
  logs: Float64Array[],
  ffd: (cols: Float64Array[], ds: number[]) => Promise<Float64Array[][]>,
  out: Map<string, Float64Array>,
  windows: Record<string, number>,
  notes: Record<string, string>,
): Promise<Record<string, MinDReport>> {
  const o = { ...MIN_D_AUTO_DEFAULTS, ...cfg.min_d };
  const report: Record<string, MinDReport> = {};
  for (const [i, c] of cfg.columns.entries()) {
    const x = logs[i], name = `${c}_fd_auto`;
    const all = o.rows === "all";
    const sample = all ? x.length : (o.rows as number);
    const base = {
      level: "",
      sample_rows: sample,
      looks_ahead: all,
      first_row: null,
      autolag: o.autolag,
      maxlag: o.maxlag,
      precision: o.precision,
      table: [],
      ms: 0,
    };
    const empty = new Float64Array(x.length).fill(NaN);
    if (x.length < sample) {
      const problem =
        `the minimum-d search needs ${sample} rows (features.frac_diff.auto_rows); the series has ${x.length}`;
      out.set(name, empty);
      notes[name] = problem;
      report[c] = { ...base, d: null, problem };
      continue;
    }
    if (all) {
      log(
        "warn",
        `${name}: d chosen on the whole series (auto_rows: all) uses future rows: the column looks ahead`,
      );
    }
    const r = minD(x.subarray(0, sample), { ...o, threshold: cfg.threshold });
    const rep = {
      ...base,
      level: r.level,
      table: r.rows,
      ms: r.ms,
      above_not_rejecting: r.above_not_rejecting,
    };
    if (r.d === null) {
      const problem =
        `no d in [0, 1] rejects a unit root at the ${r.level} level on the first ${sample} rows`;
      out.set(name, empty);
      notes[name] = problem;
      report[c] = { ...rep, d: null, problem };
      continue;
    }
    const [[col]] = await ffd([x], [r.d]);
    const w = ffdWeights(r.d, cfg.threshold).length;
    windows[r.d] = w;
    // Causal: d is known once the sample's last row is seen; earlier rows stay NaN.
    if (!all) col.fill(NaN, 0, sample - 1);
    const first = col.findIndex(Number.isFinite);
    out.set(name, col);
    report[c] = { ...rep, d: r.d, first_row: first < 0 ? null : first };
  }
  return report;
}
