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
 * The input is a {@link RowSource}: a run over files (io/row_source.ts `scanTask`) reads each chunk's rows and
 * halo as it goes, so the inputs and features exist only for one chunk and its halo at a time; what reads past
 * a window (the segment before a chunk, the target's horizon, the selection's tail) reads the timestamps or the
 * key column it needs.
 */
import type { Config } from "../config/schema.ts";
import { type Frame, getColumn } from "../io/frame.ts";
import { frameSource, type RowSource } from "../io/row_source.ts";
import type { Compute } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";
import { log } from "../runtime/log.ts";
import { bk, bkIsCausal } from "../kernels/baxter_king.ts";
import { fracdiff } from "../kernels/fracdiff.ts";
import type { Kernel, Params } from "../kernels/kernel.ts";
import { rollingCorr } from "../kernels/rolling_corr.ts";
import { zscore } from "../kernels/rolling_moments.ts";
import { FEATURE_SETS } from "../kernels/feature_sets.ts";
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
   * timings summed over the chunks); the steps carry no columns (those went to `part`).
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

/** The input as a {@link RowSource} (a frame in memory is served from memory). */
export function rowSource(input: Frame | RowSource): RowSource {
  return "read" in input ? input : frameSource(input);
}

/**
 * Reads rows [lo, hi) — the timestamps and `column`, if given — for lo = hi - 4096, hi - 8192, ... until
 * `enough(timestamps, lo, key)` is true or lo is 0; `key(i)` is row i's `column` value (else its timestamp).
 */
async function readBack(
  source: RowSource,
  hi: number,
  enough: (ts: Float64Array, lo: number, keys: (i: number) => number) => boolean,
  column?: string,
): Promise<void> {
  for (let k = 4096;; k *= 2) {
    const lo = Math.max(0, hi - k);
    const f = await source.read(lo, hi, column ? [column] : []);
    const key = column ? (i: number) => f.columns.get(column)![i - lo] : (i: number) => f.timestamps![i - lo];
    if (enough(f.timestamps!, lo, key) || lo === 0) return;
  }
}

/** First row of the segment before the one holding row s (segments: `day` or a key column), 0 if none. */
async function previousSegmentStart(source: RowSource, kinds: string[], s: number): Promise<number> {
  let a = s;
  for (const kind of kinds) {
    if (s === 0) break;
    await readBack(source, s + 1, (_, lo, at) => {
      const key = kind === "day" ? (i: number) => Math.floor(at(i) / 86_400_000) : at;
      const segmentStart = (t: number) => {
        while (t > lo && key(t - 1) === key(t)) t--;
        return t;
      };
      const own = segmentStart(s);
      if (own === lo && lo > 0) return false; // the block may start inside the segment
      const before = own > 0 ? segmentStart(own - 1) : 0;
      if (before === lo && lo > 0) return false;
      a = Math.min(a, before);
      return true;
    }, kind === "day" ? undefined : kind);
  }
  return a;
}

/** First row at or after `e` whose target horizon ends after row e - 1's (the rows a target at e - 1 reads). */
async function targetAhead(source: RowSource, config: Config, e: number): Promise<number> {
  const spec = parseTarget(config.features.selection_target_column);
  if (spec.kind === "bars") return e + spec.bars;
  if (spec.kind !== "time" || !source.timestampColumn) return e;
  const n = source.rows;
  let j = e;
  for (let k = 4096, until = NaN; j < n; k *= 2) {
    const lo = j - 1, ts = (await source.read(lo, Math.min(n, lo + k), [])).timestamps!;
    if (Number.isNaN(until)) until = ts[0] + spec.ms;
    while (j < n && j - lo < ts.length && ts[j - lo] <= until) j++;
    if (j - lo < ts.length) break;
  }
  return j;
}

/**
 * Rows of the selection's tail buffer: `selection_max_samples` rows with a target plus the last rows, whose
 * horizon passes the end of the data, without one.
 */
export async function selectionTailRows(input: Frame | RowSource, config: Config): Promise<number> {
  const source = rowSource(input);
  const spec = parseTarget(config.features.selection_target_column);
  const n = source.rows;
  let without = 0;
  if (spec.kind === "bars") without = spec.bars;
  else if (spec.kind === "time" && source.timestampColumn && n > 0) {
    await readBack(source, n, (ts, lo) => {
      const last = ts[n - 1 - lo];
      while (without < n && n - 1 - without >= lo && ts[n - 1 - without - lo] + spec.ms > last) without++;
      return n - 1 - without >= lo;
    });
  }
  return config.features.selection_max_samples + without;
}

/** Segments (runs of one key: the UTC day or a key column's value) over rows fed in order. */
class SegmentCount {
  #last = new Map<string, number>();
  readonly counts: Record<string, number> = {};
  constructor(readonly kinds: string[]) {
    for (const k of kinds) this.counts[k] = 0;
  }
  add(f: Frame, from: number, to: number): void {
    for (const kind of this.kinds) {
      const v = kind === "day" ? f.timestamps : f.columns.get(kind);
      if (!v) continue;
      let last = this.#last.get(kind) ?? NaN;
      for (let i = from; i < to; i++) {
        const key = kind === "day" ? Math.floor(v[i] / 86_400_000) : v[i];
        if (key !== last) this.counts[kind]++;
        last = key;
      }
      this.#last.set(kind, last);
    }
  }
}

/**
 * Runs `engines` over `frame` chunk by chunk (see the module comment), handing each chunk's columns to
 * `o.part` in row order. `unchunkable(config, engines)` must be undefined.
 */
export async function runEnginesChunked(
  input: Frame | RowSource,
  engines: Engine[],
  config: Config,
  compute: Compute,
  o: ChunkedRunOptions,
): Promise<void> {
  const source = rowSource(input);
  const n = source.rows;
  const byName = new Map(engines.map((e) => [e.name, e]));
  const windowed = engines.filter((e) => e.name === "stationarization" || e.name === "feature_engineering");
  const garchEngine = byName.get("garch_models");
  const selection = byName.get("statistical_tests");
  const g = config.features.garch;
  const garch = garchEngine &&
    new ChunkedGarch({ columns: config.features.columns, ...g }, compute, source.source, o.resume?.garch);
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
  const priorMin: Record<string, number> = Object.fromEntries(source.columns.map((k) => [k, Infinity]));
  const minOver = (f: Frame, from: number, to: number) => {
    for (const [k, v] of f.columns) {
      let m = priorMin[k];
      for (let i = from; i < to; i++) if (v[i] < m && Number.isFinite(v[i])) m = v[i]; // as logStabCpu
      priorMin[k] = m;
    }
  };
  let minUpTo = 0;
  const counted = new SegmentCount(segments);
  const first = o.resume?.from ?? 0;
  // Only log_stabilization reads the minima (engines/stationarization.ts).
  const needMin = byName.has("stationarization") && config.features.log_stabilization.enabled;
  if (first > 0 && (needMin || segments.length)) {
    // An append: the minima and segment counts of the rows before it, read block by block.
    // The first window's start, as the loop computes it: the minima cover the rows before it.
    let until = Math.max(0, first - o.back);
    if (segments.length) until = Math.min(until, await previousSegmentStart(source, segments, first));
    for (let lo = 0; lo < first; lo += o.rows) {
      const f = await source.read(lo, Math.min(first, lo + o.rows));
      if (needMin) minOver(f, 0, Math.max(0, Math.min(f.rows, until - lo)));
      counted.add(f, 0, f.rows);
    }
    minUpTo = until;
  }
  let prev: Frame | undefined;
  const tailRows = selection ? await selectionTailRows(source, config) : 0;
  const tail: ChunkPart[] = [...o.resume?.tail ?? []];
  const lastResults = new Map<string, EngineStep>();
  for (let s = first, e = s; s < n; s = e) {
    o.checkpoint?.(s, garch ? () => garch.state() : undefined);
    e = Math.min(n, s + o.rows);
    if (o.boundary !== undefined && o.boundary > s && o.boundary < e) e = o.boundary;
    let a = Math.max(0, s - o.back);
    if (segments.length) a = Math.min(a, await previousSegmentStart(source, segments, s));
    const b = Math.min(n, Math.max(e + o.ahead, selection ? await targetAhead(source, config, e) : e));
    // Rows [minUpTo, a) lie in the previous window (windows only move forward).
    if (needMin && prev && a > minUpTo) minOver(prev, minUpTo - prev.origin!, a - prev.origin!);
    minUpTo = Math.max(minUpTo, a);
    const win: Frame = { ...await source.read(a, b), priorMin: { ...priorMin } };
    counted.add(win, s - a, e - a);
    prev = win;
    const columns = new Map(win.columns);
    for (const engine of windowed) {
      const result = await timed(engine.name, () => engine.run({ ...win, columns }, config, compute));
      for (const [k, v] of result.columns) columns.set(k, v);
      // The report is the last chunk's, with the step timings of all chunks.
      const timings = (r: unknown) => (r as { timings_ms?: Record<string, number> } | undefined)?.timings_ms;
      const sum = timings(result.report), before = timings(lastResults.get(engine.name)?.result.report);
      if (sum && before) { for (const [k, v] of Object.entries(before)) sum[k] = (sum[k] ?? 0) + v; }
      // Without its columns (they went to the parts): a chunk's features must not outlive it.
      lastResults.set(
        engine.name,
        { engine, result: { ...result, columns: new Map() }, ms: 0 } as EngineStep,
      );
    }
    // Views of the window's rows [s, e): the window goes once the part is written (the tail copies what it keeps).
    const rows = new Map<string, Float64Array>([...columns].map(([k, v]) => [k, v.subarray(s - a, e - a)]));
    if (garch) {
      const prices = new Map(
        config.features.columns.map((c) => [c, getColumn(win, c).subarray(s - a, e - a)]),
      );
      for (const [k, v] of await timed("garch_models", () => garch.rows(s, prices))) rows.set(k, v);
    }
    if (selection) {
      const { target, computed } = resolveTarget(win, config.features.selection_target_column);
      if (computed) rows.set(config.features.selection_target_column, target.subarray(s - a, e - a));
    }
    const part = { start: s, columns: rows, timestamps: win.timestamps?.subarray(s - a, e - a) };
    await o.part(part);
    if (selection) {
      tail.push(part);
      trimTail(tail, n - tailRows);
    }
    o.progress?.(e, n, engineMs);
  }
  for (const [name, step] of lastResults) {
    // A window engine's report is its last chunk's; the feature sets' segment counts are the series'.
    const ext = step.engine.name === "feature_engineering"
      ? (step.result.report as FeatureEngineeringReport).extraction
      : undefined;
    if (ext?.segments) {
      ext.segments = Object.fromEntries(Object.keys(ext.segments).map((k) => [k, counted.counts[k]]));
    }
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
    const ts = source.timestampColumn ? concat(tail.map((p) => p.timestamps!)) : undefined;
    const tailFrame: Frame = {
      source: source.source,
      skipped: source.skipped,
      timestampColumn: source.timestampColumn,
      columns: cols,
      timestamps: ts,
      rows: n - start,
      origin: start,
    };
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

/** Drops the tail's rows before `keep` (copying the rows kept of a part cut, so that its arrays can go). */
function trimTail(tail: ChunkPart[], keep: number): void {
  const end = (p: ChunkPart) => p.start + (p.timestamps ?? p.columns.values().next().value!).length;
  while (tail.length && end(tail[0]) <= keep) tail.shift();
  const p = tail[0];
  if (!p || p.start >= keep) return;
  const cut = (v: Float64Array) => v.slice(keep - p.start);
  tail[0] = {
    start: keep,
    columns: new Map([...p.columns].map(([k, v]) => [k, cut(v)])),
    timestamps: p.timestamps && cut(p.timestamps),
  };
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), at += p.length;
  return out;
}
