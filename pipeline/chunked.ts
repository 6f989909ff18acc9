/**
 * One instrument in row chunks, so the features of any length of history fit `compute.memory_budget`: each
 * chunk [s, e) runs the window engines (stationarization, feature_engineering) on the input rows
 * [s - back, e + ahead) — the history (halo) their kernels declare, plus one block of the CPU paths' block
 * grid on each side (kernels/kernel.ts `grid`: rounding depends on the block split, so a chunk transforms the
 * whole series' blocks) — and keeps the rows [s, e). What needs more than a halo is carried: the expanding
 * minimum of logstab (`Frame.priorMin`) and the selection, which scores the last `selection_max_samples` rows with a target from a tail buffer at the end.
 * The walk-forward GARCH streams (engines/garch_chunked.ts): each chunk's rows feed its O(window) state.
 * The target (the one forward-looking column) reads its horizon past e. On the CPU path the chunks' columns
 * are the in-memory run's, bit for bit (tests/chunked_test.ts); on WebGPU within the kernel tolerances.
 *
 * The inputs stay in memory (8 bytes per row per input column); the features (most of the bytes) exist only
 * for one chunk and its halo at a time.
 */
import type { Config } from "../config/schema.ts";
import { type Frame, getColumn } from "../io/frame.ts";
import type { Compute } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";
import { log } from "../runtime/log.ts";
import { bk, bkIsCausal } from "../kernels/baxter_king.ts";
import { fracdiff } from "../kernels/fracdiff.ts";
import type { Kernel, Params } from "../kernels/kernel.ts";
import { rollingCorr } from "../kernels/rolling_corr.ts";
import { zscore } from "../kernels/rolling_moments.ts";
import { FEATURE_SETS } from "../kernels/feature_sets.ts";
import { frameSegmentCounts } from "../kernels/feature_frame.ts";
import { ChunkedGarch, type ChunkedGarchState } from "../engines/garch_chunked.ts";
import type { FeatureEngineeringReport } from "../engines/feature_engineering.ts";
import { resolveTarget, type SelectionReport } from "../engines/statistical_tests.ts";
import { parseTarget } from "../engines/target.ts";
import type { Engine, EngineStep } from "./engines.ts";

/** How an instrument is cut: chunk length and the rows each chunk reads before and after it. */
export interface ChunkPlan {
  /** Rows per chunk (and per output part). */
  rows: number;
  /** Rows of history read before a chunk (the largest declared history plus one grid block, summed over the window engines). */
  back: number;
  /** Rows read after a chunk so that its last grid block is whole. */
  ahead: number;
  /** Estimated bytes per row of a chunk's window (inputs, features and temporaries). */
  bytesPerRow: number;
  /** Features the engines add. */
  features: number;
  /**
   * Bytes held besides the chunk: with `features.garch.window: expanding`, every finite return of each GARCH
   * column (GARCH_HELD_BYTES per row); 0 otherwise. Not taken from the chunk length, which must not depend on
   * the series' length (an append keeps the plan).
   */
  held: number;
}

/** Bytes per row and GARCH column that `window: expanding` holds: 8, times 2.25 while its buffer grows. */
export const GARCH_HELD_BYTES = 18;

/** Why the instrument cannot be chunked with this configuration (it then runs in memory), or undefined. */
export function unchunkable(config: Config, engines: Engine[]): string | undefined {
  const f = config.features;
  const names: string[] = engines.map((e) => e.name);
  if (f.frac_diff.d_values === "auto") {
    return "features.frac_diff.d_values: auto chooses d on the whole leading sample";
  }
  if (f.log_stabilization.enabled && !f.log_stabilization.causal) {
    return "features.log_stabilization.causal: false uses the whole series' minimum";
  }
  if (names.includes("feature_engineering") && !bkIsCausal(f.baxter_king)) {
    return "features.baxter_king is not causal (mode symmetric or fill)";
  }
  if (names.includes("garch_models") && f.garch.mode !== "walk_forward") {
    return "features.garch.mode: in_sample fits on the last rows";
  }
  // GARCH and the selection are carried, not windowed: the window engines must not read their columns.
  const windowed: string[] = names.filter((n) => n === "stationarization" || n === "feature_engineering");
  const lastWindowed = Math.max(...windowed.map((n) => names.indexOf(n)));
  if (names.some((n, i) => !windowed.includes(n) && i < lastWindowed)) {
    return "pipeline.engines: garch_models or statistical_tests ordered before a windowed engine";
  }
  if (names.includes("statistical_tests") && names.at(-1) !== "statistical_tests") {
    return "pipeline.engines: statistical_tests is not the last engine";
  }
  return undefined;
}

/**
 * Rows a chunk reads before itself (per window engine the largest declared kernel history plus its grid
 * block, summed over the engines) and after itself (the widest grid block).
 */
export function chunkHalo(config: Config, engines: Engine[]): { back: number; ahead: number } {
  const names: string[] = engines.map((e) => e.name);
  const f = config.features;
  const ds = f.frac_diff.d_values === "auto" ? [] : f.frac_diff.d_values;
  // The kernels the window engines run, with the parameters they run them with.
  const declared = <P extends Params>(k: Kernel<P>, p: P) => ({
    history: k.history(p),
    grid: k.grid?.(p) ?? 1,
  });
  const stat = [
    ...ds.map((d) => declared(fracdiff, { d, threshold: f.frac_diff.threshold })),
    ...f.rolling_windows.map((window) => declared(zscore, { window, ddof: 1 })),
    ...(f.rolling_corr.pairs.length ? [declared(rollingCorr, { window: f.rolling_corr.window })] : []),
  ];
  const { low_freq: low, high_freq: high, k, mode, fill } = f.baxter_king;
  const fe = [
    declared(bk, { low, high, k, mode, fill }),
    // Trailing-window features read the window's rows only (kernels/window_features.ts).
    ...f.extraction.windows.map((w) => ({ history: w - 1, grid: 1 })),
  ];
  const need = (ks: { history: number; grid: number }[]) => Math.max(0, ...ks.map((k) => k.history + k.grid));
  // Summed: feature_engineering may read stationarization's columns, which need their own history.
  const back = (names.includes("stationarization") ? need(stat) : 0) +
    (names.includes("feature_engineering") ? need(fe) : 0);
  const ahead = Math.max(0, ...stat.map((k) => k.grid - 1));
  return { back, ahead };
}

/** Features the engines add (for the memory estimate). */
function featureCount(config: Config, names: string[], inputs: number): number {
  const f = config.features, c = f.columns.length;
  const ds = f.frac_diff.d_values === "auto" ? 1 : f.frac_diff.d_values.length;
  const ex = f.extraction;
  let n = 0;
  if (names.includes("stationarization")) {
    n += c * (ds + f.rolling_windows.length + (f.log_stabilization.enabled ? 1 : 0)) +
      f.rolling_corr.pairs.length;
  }
  if (names.includes("feature_engineering")) {
    n += c +
      FEATURE_SETS[ex.set].length * ex.columns.length * (ex.windows.length + (ex.segments?.length ?? 0));
  }
  if (names.includes("garch_models")) n += c;
  if (names.includes("statistical_tests")) n += 1;
  return n + inputs;
}

/**
 * Window bytes per row: every input and feature column in f64, times a factor for the engines' temporaries
 * (a kernel's output before it joins the frame, FFT and moment scratch, the part being encoded).
 */
const TEMPORARIES = 3;

/** Most rows per chunk (and output part), whatever the budget allows. */
export const MAX_CHUNK_ROWS = 1_000_000;

/**
 * The plan for an instrument of `rows` rows under `budget` bytes: chunks as long as the budget allows
 * (at most MAX_CHUNK_ROWS; independent of `rows`, so an append keeps the plan). Throws UsageError naming
 * compute.memory_budget when the instrument does not fit whole and a chunk's halo leaves no room for rows.
 */
export function planChunks(
  config: Config,
  engines: Engine[],
  inputs: number,
  rows: number,
  budget = config.compute.memory_budget,
): ChunkPlan {
  const names = engines.map((e) => e.name);
  const features = featureCount(config, names, inputs);
  const bytesPerRow = 8 * features * TEMPORARIES;
  const { back, ahead } = chunkHalo(config, engines);
  const g = config.features.garch;
  const held = names.includes("garch_models") && g.window === "expanding" && Number.isFinite(rows)
    ? GARCH_HELD_BYTES * rows * config.features.columns.length
    : 0;
  const fit = Math.floor(budget / bytesPerRow) - back - ahead;
  const needed = held + Math.min(rows, back + ahead + 1024) * bytesPerRow;
  if (held && needed > budget) {
    const keeps = `${mib(held)} at ${GARCH_HELD_BYTES} bytes per row and column`;
    throw new UsageError(
      `compute.memory_budget: ${mib(budget)} cannot hold the ${rows} returns per column that ` +
        `features.garch.window: expanding keeps (${keeps}) plus one chunk; allow at least ${mib(needed)} ` +
        `or set a window in rows`,
    );
  }
  if (fit < 1024 && rows * bytesPerRow > budget) {
    const least = back + ahead + 1024;
    throw new UsageError(
      `compute.memory_budget: ${
        mib(budget)
      } is too small for this configuration: a chunk reads ${back} rows of ` +
        `history and ${ahead} ahead (the longest declared kernel history plus its block grid, e.g. the FFD ` +
        `window of the smallest d) at ~${bytesPerRow} bytes per row (${features} columns); allow at least ` +
        `${mib(least * bytesPerRow)} or shorten the longest window`,
    );
  }
  return { rows: Math.min(MAX_CHUNK_ROWS, Math.max(fit, 1024)), back, ahead, bytesPerRow, features, held };
}

/**
 * Checks before any task that `compute.memory_budget` holds one chunk and its halo (exit 2 naming the key
 * otherwise), for bars of `inputs` columns; nothing when the configuration runs in memory.
 */
export function checkMemoryBudget(config: Config, engines: Engine[], inputs = 6): void {
  if (!unchunkable(config, engines)) planChunks(config, engines, inputs, Infinity);
}

function mib(bytes: number): string {
  return `${Math.ceil(bytes / 2 ** 20)} MiB`;
}

/** One chunk's rows as the engines give them to the part writer. */
export interface ChunkPart {
  /** First row (absolute). */
  start: number;
  /** Columns (inputs, then the engines' in engine order), each of the chunk's length. */
  columns: Map<string, Float64Array>;
  /** The chunk's timestamps, when the input has them. */
  timestamps?: Float64Array;
}

/** Options of {@link runEnginesChunked}. */
export interface ChunkedRunOptions {
  /** Rows per chunk (the last may be shorter). */
  rows: number;
  /** Rows of history before a chunk, and ahead of it (see {@link ChunkPlan}). */
  back: number;
  /** Rows read after a chunk. */
  ahead: number;
  /** Receives each chunk's rows in order (writes a part). */
  part: (p: ChunkPart) => Promise<void>;
  /**
   * Hears each engine's report once all chunks are done (a window engine's: the last chunk's, with the step
   * timings summed over the chunks).
   */
  done?: (step: EngineStep) => void;
  /** Hears rows done of the total after each chunk, with the time per engine so far. */
  progress?: (rows: number, total: number, engineMs: Record<string, number>) => void;
  /**
   * Resume at row `from` (an append), with the rows before it that the selection's tail needs (from the
   * committed parts). Default: the start of the series.
   */
  resume?: { from: number; tail: ChunkPart[]; garch?: ChunkedGarchState };
  /**
   * A row where a chunk must end (the row the next append will restart at, so that it recomputes only the
   * rows from there on).
   */
  boundary?: number;
  /**
   * Hears the state at the start of each chunk before it runs (an append resumes from the last part's), with
   * the GARCH state there on demand.
   */
  checkpoint?: (start: number, garch?: () => ChunkedGarchState) => void;
}

/** Rows of the frame [a, b) as a chunk frame (views, no copies), carrying the expanding minima before a. */
function window(frame: Frame, a: number, b: number, priorMin: Record<string, number>): Frame {
  return {
    ...frame,
    columns: new Map([...frame.columns].map(([k, v]) => [k, v.subarray(a, b)])),
    timestamps: frame.timestamps?.subarray(a, b),
    rows: b - a,
    origin: a,
    priorMin: { ...priorMin },
  };
}

/** First row of the segment before the one holding row s (segments: `day` or a key column), 0 if none. */
function previousSegmentStart(frame: Frame, kinds: string[], s: number): number {
  let a = s;
  for (const kind of kinds) {
    const key = kind === "day"
      ? (i: number) => Math.floor(frame.timestamps![i] / 86_400_000)
      : (i: number) => frame.columns.get(kind)![i];
    const segmentStart = (t: number) => {
      while (t > 0 && key(t - 1) === key(t)) t--;
      return t;
    };
    const own = segmentStart(s);
    a = Math.min(a, own > 0 ? segmentStart(own - 1) : 0);
  }
  return a;
}

/** First row at or after `from` whose target horizon ends after row e - 1's (the rows a target at e - 1 reads). */
function targetAhead(frame: Frame, config: Config, e: number): number {
  const spec = parseTarget(config.features.selection_target_column);
  if (spec.kind === "bars") return e + spec.bars;
  if (spec.kind !== "time" || !frame.timestamps) return e;
  const ts = frame.timestamps, until = ts[e - 1] + spec.ms;
  let j = e;
  while (j < frame.rows && ts[j] <= until) j++;
  return j;
}

/**
 * Rows of the selection's tail buffer: `selection_max_samples` rows with a target plus the last rows, whose
 * horizon passes the end of the data, without one.
 */
export function selectionTailRows(frame: Frame, config: Config): number {
  const spec = parseTarget(config.features.selection_target_column);
  const n = frame.rows, ts = frame.timestamps;
  let without = 0;
  if (spec.kind === "bars") without = spec.bars;
  else if (spec.kind === "time" && ts) {
    while (without < n && ts[n - 1 - without] + spec.ms > ts[n - 1]) without++;
  }
  return config.features.selection_max_samples + without;
}

/**
 * Runs `engines` over `frame` chunk by chunk (see the module comment), handing each chunk's columns to
 * `o.part` in row order. `unchunkable(config, engines)` must be undefined.
 */
export async function runEnginesChunked(
  frame: Frame,
  engines: Engine[],
  config: Config,
  compute: Compute,
  o: ChunkedRunOptions,
): Promise<void> {
  const n = frame.rows;
  const byName = new Map(engines.map((e) => [e.name, e]));
  const windowed = engines.filter((e) => e.name === "stationarization" || e.name === "feature_engineering");
  const garchEngine = byName.get("garch_models");
  const selection = byName.get("statistical_tests");
  const g = config.features.garch;
  const garch = garchEngine &&
    new ChunkedGarch({ columns: config.features.columns, ...g }, compute, frame.source, o.resume?.garch);
  const segments = byName.has("feature_engineering") ? config.features.extraction.segments ?? [] : [];
  const engineMs: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      engineMs[name] = (engineMs[name] ?? 0) + performance.now() - t0;
    }
  };
  // The expanding minimum of every input column over the rows before the current window.
  const priorMin: Record<string, number> = Object.fromEntries(
    [...frame.columns.keys()].map((k) => [k, Infinity]),
  );
  let minUpTo = 0;
  const tailRows = selection ? selectionTailRows(frame, config) : 0;
  const tail: ChunkPart[] = [...o.resume?.tail ?? []];
  const lastResults = new Map<string, EngineStep>();
  for (let s = o.resume?.from ?? 0, e = s; s < n; s = e) {
    o.checkpoint?.(s, garch ? () => garch.state() : undefined);
    e = Math.min(n, s + o.rows);
    if (o.boundary !== undefined && o.boundary > s && o.boundary < e) e = o.boundary;
    let a = Math.max(0, s - o.back);
    if (segments.length) a = Math.min(a, previousSegmentStart(frame, segments, s));
    const b = Math.min(n, Math.max(e + o.ahead, selection ? targetAhead(frame, config, e) : e));
    for (const [k, v] of frame.columns) {
      let m = priorMin[k];
      for (let i = minUpTo; i < a; i++) if (v[i] < m && Number.isFinite(v[i])) m = v[i]; // as logStabCpu
      priorMin[k] = m;
    }
    minUpTo = a;
    const win = window(frame, a, b, priorMin);
    const columns = new Map(win.columns);
    for (const engine of windowed) {
      const result = await timed(engine.name, () => engine.run({ ...win, columns }, config, compute));
      for (const [k, v] of result.columns) columns.set(k, v);
      // The report is the last chunk's, with the step timings of all chunks.
      const timings = (r: unknown) => (r as { timings_ms?: Record<string, number> } | undefined)?.timings_ms;
      const sum = timings(result.report), before = timings(lastResults.get(engine.name)?.result.report);
      if (sum && before) { for (const [k, v] of Object.entries(before)) sum[k] = (sum[k] ?? 0) + v; }
      lastResults.set(engine.name, { engine, result, ms: 0 } as EngineStep);
    }
    const rows = new Map<string, Float64Array>([...columns].map(([k, v]) => [k, v.slice(s - a, e - a)]));
    if (garch) {
      const prices = new Map(
        config.features.columns.map((c) => [c, getColumn(win, c).subarray(s - a, e - a)]),
      );
      for (const [k, v] of await timed("garch_models", () => garch.rows(s, prices))) rows.set(k, v);
    }
    if (selection) {
      const { target, computed } = resolveTarget(win, config.features.selection_target_column);
      if (computed) rows.set(config.features.selection_target_column, target.slice(s - a, e - a));
    }
    const part = { start: s, columns: rows, timestamps: frame.timestamps?.slice(s, e) };
    await o.part(part);
    if (selection) {
      tail.push(part);
      while (tail.length > 1 && n - tail[1].start >= tailRows) tail.shift();
    }
    o.progress?.(e, n, engineMs);
  }
  for (const [name, step] of lastResults) {
    // A window engine's report is its last chunk's; the feature sets' segment counts are the series'.
    const ext = step.engine.name === "feature_engineering"
      ? (step.result.report as FeatureEngineeringReport).extraction
      : undefined;
    if (ext?.segments) ext.segments = frameSegmentCounts(frame, Object.keys(ext.segments));
    o.done?.({ ...step, ms: Math.round(engineMs[name]) });
  }
  if (garch && garchEngine) {
    const { report, notes } = garch.report();
    o.done?.(
      {
        engine: garchEngine,
        result: { columns: new Map(), report, notes },
        ms: Math.round(engineMs.garch_models),
      } as EngineStep,
    );
  }
  if (selection) {
    const start = tail[0]?.start ?? 0;
    const cols = new Map(
      [...(tail[0]?.columns.keys() ?? [])].map((k) => [k, concat(tail.map((p) => p.columns.get(k)!))]),
    );
    const ts = frame.timestamps && concat(tail.map((p) => p.timestamps!));
    const tailFrame: Frame = { ...frame, columns: cols, timestamps: ts, rows: n - start, origin: start };
    const t0 = performance.now();
    const result = await selection.run(tailFrame, config, compute);
    const candidates = (result.report as SelectionReport).candidate_rows;
    if (start > 0 && candidates < config.features.selection_max_samples) {
      log(
        "warn",
        `selection: ${candidates} rows with a target in the last ${
          n - start
        } rows (targets missing in the tail)`,
      );
    }
    o.done?.(
      {
        engine: selection,
        result: { ...result, columns: new Map() },
        ms: Math.round(performance.now() - t0),
      } as EngineStep,
    );
  }
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), at += p.length;
  return out;
}
