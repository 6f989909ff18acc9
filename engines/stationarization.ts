/**
 * The stationarization engine: fractional differences of log prices for every d, rolling z-scores for every
 * window, shifted-log variance stabilization, and rolling correlations of configured column pairs. Every
 * kernel runs once over all requested columns (one batched submit each), on the GPU or the f64 CPU path.
 */
import { ffdWeights, fracdiffGpu } from "../kernels/fracdiff.ts";
import { fracdiff } from "../kernels/fracdiff.ts";
import { logstab, logStabGpu } from "../kernels/logstab.ts";
import { rollingCorr, rollingCorrGpu } from "../kernels/rolling_corr.ts";
import { rollingMomentsGpu, zscore } from "../kernels/rolling_moments.ts";
import type { Frame } from "../io/frame.ts";
import { getColumn } from "../io/frame.ts";
import { type Compute, withFallback } from "../runtime/backend.ts";

/** Configuration of the stationarization engine (features.* in the YAML config). */
export interface StationarizationConfig {
  /** Columns to transform (default ["close"]). */
  columns: string[];
  /** FFD orders (features.frac_diff.d_values). */
  d_values: number[];
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

/** What an engine returns: new named columns and a report. */
export interface EngineResult {
  /** New columns by name (e.g. `close_fd_0.4`, `close_z_20`), each as long as the input frame. */
  columns: Map<string, Float64Array>;
  /** Run summary for logs/JSON output (stationarize: timings_ms per step, ffd_window per d, columns count). */
  report: Record<string, unknown>;
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
): Promise<EngineResult> {
  const out = new Map<string, Float64Array>();
  const timings: Record<string, number> = {};
  const timed = async <T>(step: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await f();
    timings[step] = Math.round(performance.now() - t0);
    return r;
  };
  const raw = cfg.columns.map((c) => getColumn(frame, c));
  const logs = raw.map((x) => x.map((v) => (v > 0 ? Math.log(v) : NaN)));

  const fd = await timed(
    "fracdiff",
    () =>
      withFallback(
        compute,
        "fracdiff",
        (rt) => fracdiffGpu(rt, logs, cfg.d_values, cfg.threshold),
        () => logs.map((x) => cfg.d_values.map((d) => fracdiff.cpu([x], { d, threshold: cfg.threshold }))),
      ),
  );
  const z = await timed(
    "zscore",
    () =>
      withFallback(
        compute,
        "zscore",
        (rt) => rollingMomentsGpu(rt, raw, cfg.rolling_windows, "zscore"),
        () => raw.map((x) => cfg.rolling_windows.map((window) => zscore.cpu([x], { window, ddof: 1 }))),
      ),
  );
  cfg.columns.forEach((c, i) => {
    cfg.d_values.forEach((d, j) => out.set(`${c}_fd_${d}`, fd[i][j]));
    cfg.rolling_windows.forEach((w, j) => out.set(`${c}_z_${w}`, z[i][j]));
  });
  const ls = cfg.logstab;
  if (ls) {
    const y = await timed(
      "logstab",
      () =>
        withFallback(
          compute,
          "logstab",
          (rt) => logStabGpu(rt, raw, ls),
          () => raw.map((x) => logstab.cpu([x], ls)),
        ),
    );
    cfg.columns.forEach((c, i) => out.set(`${c}_logstab`, y[i]));
  }
  if (cfg.corr_pairs.length) {
    const pairs = cfg.corr_pairs.map(([a, b]) => [getColumn(frame, a), getColumn(frame, b)]);
    const window = cfg.corr_window;
    const r = await timed(
      "rolling_corr",
      () =>
        withFallback(
          compute,
          "rolling_corr",
          (rt) => rollingCorrGpu(rt, pairs, window),
          () => pairs.map((p) => rollingCorr.cpu(p, { window })),
        ),
    );
    cfg.corr_pairs.forEach(([a, b], i) => out.set(`corr_${a}_${b}_${window}`, r[i]));
  }
  const windows = Object.fromEntries(cfg.d_values.map((d) => [d, ffdWeights(d, cfg.threshold).length]));
  const notes = windowNotes(frame.rows, [
    ...cfg.columns.flatMap((c) => [
      ...cfg.d_values.map((d) =>
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
  return { columns: out, report: { timings_ms: timings, ffd_window: windows, columns: out.size }, notes };
}
