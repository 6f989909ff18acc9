/**
 * Input validation and assembly: every partition of an instrument is decoded, checked (a timestamp column,
 * strictly increasing across partitions; low <= open, close <= high and volume >= 0 where those columns exist;
 * deny-listed columns dropped; columns renamed to their roles: data.columns, else case-insensitive names) and concatenated into one Frame. Each problem is a DataError naming the file,
 * the column and the first bad row. The checks run piece by piece (a file, or a Parquet row group) with the
 * state they need carried between pieces, so a chunked run validates its input without holding it
 * (`validatedPieces`, io/row_source.ts).
 */
import { type BadCells, concatFrames, type Frame } from "./frame.ts";
import { decodeFrame } from "./read.ts";
import { decodeParquet, parquetRowGroups } from "./parquet.ts";
import type { Storage } from "./storage.ts";
import { DataError } from "../runtime/errors.ts";
import type { Task } from "./discover.ts";
import { epochToMs } from "./timestamps.ts";
import { csvRecords } from "./csv.ts";
import { toCommaSeparated } from "./csv_dialect.ts";

/** Validation options (from the `data` config section). */
export interface LoadTaskOptions {
  /** Columns dropped on read (data.deny_columns). */
  denyColumns: string[];
  /** The configured timestamp column (data.timestamp_column); a numeric one is read as epoch time. */
  timestampColumn: string;
  /** Non-numeric cells in numeric columns: an error (default) or NaN, listed in the frame (data.bad_values). */
  badValues?: "error" | "nan";
  /** Role -> column name (data.columns): e.g. `{ close: "Adj Close" }`; unset roles are found by name. */
  columns?: ColumnMapping;
}

/** The columns validation and the engines know by role; a file's own names map to them (data.columns). */
export const COLUMN_ROLES = ["timestamp", "open", "high", "low", "close", "volume"] as const;
/** One of {@link COLUMN_ROLES}. */
export type ColumnRole = typeof COLUMN_ROLES[number];
/** Role -> the file's column name; a null or missing role is found by name (see {@link resolveColumns}). */
export type ColumnMapping = Partial<Record<ColumnRole, string | null>>;

/** Names a role is found under when not mapped, after its own name in any case (Yahoo's `Adj Close`). */
const ROLE_ALIASES: Partial<Record<ColumnRole, string[]>> = { close: ["adj close", "adj_close", "adjclose"] };

/**
 * The column each OHLCV role reads from `names` (a file's value columns): the explicit mapping, else a column
 * named as the role, else the only one whose name equals it ignoring case (`Close`), else an alias (`Adj Close`
 * for close). Roles found nowhere are absent. The timestamp role is the decoder's (or data.columns.timestamp).
 */
export function resolveColumns(
  names: readonly string[],
  explicit: ColumnMapping = {},
): Partial<Record<ColumnRole, string>> {
  const out: Partial<Record<ColumnRole, string>> = {};
  const lower = (n: string) => n.trim().toLowerCase();
  for (const role of COLUMN_ROLES) {
    if (role === "timestamp") continue;
    const want = explicit[role];
    if (want) {
      out[role] = want;
      continue;
    }
    if (names.includes(role)) {
      out[role] = role;
      continue;
    }
    for (const alias of [role, ...(ROLE_ALIASES[role] ?? [])]) {
      const hits = names.filter((n) => lower(n) === alias);
      if (hits.length === 1) {
        out[role] = hits[0];
        break;
      }
    }
  }
  return out;
}

/** True for an adjusted close's name (`Adj Close`): adjusted for splits and dividends, unlike open/high/low. */
export function isAdjustedClose(name: string | undefined | null): boolean {
  return !!name && /^adj(usted)?[ _]?close$/i.test(name.trim());
}

/**
 * The checks `loadTask` runs on a frame with these (role-named) value columns, in words (`ran`: what a page may
 * claim passed), and those it does not run and why (`notRun`). `closeColumn` is the file's column read as
 * close: an adjusted close is not compared with the unadjusted low and high.
 */
export function checksFor(
  columns: Iterable<string>,
  closeColumn?: string,
): { ran: string[]; notRun: string[] } {
  const has = new Set(columns);
  const ran = ["increasing timestamps"], notRun: string[] = [];
  const need = (what: string, cols: string[], ok = true, why?: string) => {
    const missing = cols.filter((c) => !has.has(c));
    if (!missing.length && ok) ran.push(what);
    else notRun.push(`${what} (${why && !missing.length ? why : `no ${missing.join(" or ")} column`})`);
  };
  need("low ≤ high", ["low", "high"]);
  need("open within [low, high]", ["open", "low", "high"]);
  need(
    "close within [low, high]",
    ["close", "low", "high"],
    !isAdjustedClose(closeColumn),
    `close is ${closeColumn}, adjusted; low and high are not`,
  );
  need("volume ≥ 0", ["volume"]);
  return { ran, notRun };
}

/** Renames the mapped columns of one decoded partition to their roles, keeping the file's column order. */
function applyColumns(
  file: string,
  frame: Frame,
  explicit: ColumnMapping,
): Partial<Record<ColumnRole, string>> {
  const names = [...frame.columns.keys()];
  for (const role of COLUMN_ROLES) {
    const want = explicit[role];
    if (role !== "timestamp" && want && !frame.columns.has(want)) {
      throw new DataError(
        `${file}: data.columns.${role}: no column ${JSON.stringify(want)} (columns: ${names.join(", ")})`,
      );
    }
  }
  const map = resolveColumns(names, explicit);
  for (const role of COLUMN_ROLES) {
    // Two columns equal to a role ignoring case (Close, CLOSE) map neither: say so rather than skip its checks.
    const twins = names.filter((n) => n.trim().toLowerCase() === role);
    if (role !== "timestamp" && !map[role] && twins.length > 1) {
      throw new DataError(
        `${file}: columns ${
          twins.map((n) => JSON.stringify(n)).join(" and ")
        } both read as ${role} ignoring ` +
          `case; set data.columns.${role} to the one to use`,
      );
    }
  }
  const rename = new Map<string, string>();
  for (const [role, from] of Object.entries(map)) {
    if (from === role) continue;
    if (frame.columns.has(role)) {
      throw new DataError(
        `${file}: column ${
          JSON.stringify(from)
        } is mapped to ${role} (data.columns), but the file also has a ` +
          `column named ${role}`,
      );
    }
    rename.set(from, role);
  }
  if (rename.size) frame.columns = new Map(names.map((n) => [rename.get(n) ?? n, frame.columns.get(n)!]));
  return map;
}

/** Where a task's load time went, in milliseconds (filled by `loadTask`). */
export interface LoadTimings {
  /** Reading and decoding the partitions. */
  read: number;
  /** Checking and concatenating them. */
  validate: number;
}

/** Uses the configured timestamp column when the decoder did not pick it (e.g. an unusual name). */
function promoteTimestamp(frame: Frame, name: string): void {
  const col = frame.columns.get(name);
  if (frame.timestampColumn === name || !col) return;
  frame.columns.delete(name);
  frame.timestamps = epochToMs(col);
  frame.timestampColumn = name;
}

/**
 * The line of a CSV file holding data row `row` (0-based; 1-based lines, header and blank lines counted), read
 * as decodeCsv reads it. Only for messages: the file is parsed again.
 */
export function csvLine(bytes: Uint8Array, row: number): number {
  let line = 1, data = -1; // -1: before the header
  for (const rec of csvRecords(toCommaSeparated(new TextDecoder().decode(bytes)))) {
    if (!(rec.length === 1 && rec[0].trim() === "")) {
      if (data === row) return line;
      data++;
    }
    line += 1 + rec.reduce((n, f) => n + (f.match(/\n/g)?.length ?? 0), 0);
  }
  return line;
}

/** `where(i)` names row i for people: " (line N)" for a CSV file, else nothing; `at`: the frame's first row in its file. */
function check(
  file: string,
  frame: Frame,
  prevLast: number,
  tsName: string,
  closeInRange = true,
  where: (row: number) => string = () => "",
  at = 0,
): void {
  if (frame.rows === 0) throw new DataError(`${file}: no rows`);
  const ts = frame.timestamps;
  if (!ts) throw new DataError(`${file}: no timestamp column "${tsName}" (data.timestamp_column)`);
  let last = prevLast;
  for (let i = 0; i < ts.length; i++) {
    if (!(ts[i] > last)) {
      const row = `row ${at + i}${where(at + i)}, ${new Date(ts[i]).toISOString()},`;
      throw new DataError(
        `${file}: column ${frame.timestampColumn}: timestamps must be strictly increasing; ${row} is not after ` +
          "the previous row",
      );
    }
    last = ts[i];
  }
  const c = (n: string) => frame.columns.get(n);
  const [open, high, low, close, volume] = ["open", "high", "low", "close", "volume"].map(c);
  const bad = (name: string, what: string, i: number) => {
    throw new DataError(`${file}: column ${name}: ${what} at row ${at + i}${where(at + i)}`);
  };
  for (let i = 0; i < frame.rows; i++) {
    if (low && high && low[i] > high[i]) bad("low", `low ${low[i]} > high ${high[i]}`, i);
    for (const [name, v] of [["open", open], ["close", close]] as const) {
      if (!v || (name === "close" && !closeInRange)) continue;
      if (low && v[i] < low[i]) bad(name, `${name} ${v[i]} < low ${low[i]}`, i);
      if (high && v[i] > high[i]) bad(name, `${name} ${v[i]} > high ${high[i]}`, i);
    }
    if (volume && volume[i] < 0) bad("volume", `negative volume ${volume[i]}`, i);
  }
}

/**
 * One validated piece of a task's input: a whole partition file, or (Parquet, see `parquetRowGroups`) one row
 * group of it, with its columns renamed to their roles.
 */
export interface InputPiece {
  /** The rows, in role names. */
  frame: Frame;
  /** The file's key in the source. */
  key: string;
  /** The rows of the file the piece holds; undefined: the whole file. */
  range?: { start: number; end: number };
  /** The piece's first row in the task's series. */
  first: number;
}

/** The file's name in messages: the source's URL and the key. */
function fileLabel(source: Storage, key: string): string {
  return `${source.url.replace(/\/$/, "")}/${key}`;
}

const isParquet = (key: string) => /\.(parquet|pq)$/i.test(key);

/**
 * Decodes a piece of a task's file (rows `range` of a Parquet file; another file whole) and gives its columns
 * their roles (deny-listed columns dropped, the configured timestamp column promoted, data.columns applied);
 * `bytes`: a non-Parquet file's bytes (CSV messages quote its lines).
 */
export async function decodePiece(
  source: Storage,
  key: string,
  opts: LoadTaskOptions,
  range?: { start: number; end: number },
): Promise<{ frame: Frame; roles: Partial<Record<ColumnRole, string>>; bytes?: Uint8Array }> {
  const file = fileLabel(source, key);
  // Parquet is read by ranges (footer, then each row group's column chunks), never as one whole file.
  const bytes = isParquet(key) ? undefined : await source.get(key);
  const frame = bytes
    ? await decodeFrame(bytes, file, { badValues: opts.badValues })
    : await decodeParquet(await source.reader(key), file, range);
  for (const d of opts.denyColumns) frame.columns.delete(d);
  promoteTimestamp(frame, opts.columns?.timestamp ?? opts.timestampColumn);
  const roles = applyColumns(file, frame, opts.columns ?? {});
  return { frame, roles, bytes };
}

/** The pieces a file is read in: its Parquet row groups where that gives the same rows, else the whole file. */
async function fileRanges(
  source: Storage,
  key: string,
  opts: LoadTaskOptions,
): Promise<({ start: number; end: number } | undefined)[]> {
  if (!isParquet(key)) return [undefined];
  const tsName = opts.columns?.timestamp ?? opts.timestampColumn;
  const { groups, ranged } = await parquetRowGroups(await source.reader(key), fileLabel(source, key), tsName);
  const sizes = groups.filter((n) => n > 0);
  if (!ranged || sizes.length < 2) return [undefined];
  let at = 0;
  return sizes.map((n) => ({ start: at, end: at += n }));
}

/**
 * The task's input piece by piece (see {@link InputPiece}), each checked as `loadTask` checks it, with the
 * carried state (the previous row's timestamp, the first partition's columns) from the pieces before: the same
 * errors with the same messages, naming the file and its row. Columns a partition could not load and cells read
 * as NaN are pushed to `seen`, each naming its file.
 */
export async function* validatedPieces(
  source: Storage,
  task: Task,
  opts: LoadTaskOptions,
  seen: { skipped: Frame["skipped"]; badCells: BadCells[] } = { skipped: [], badCells: [] },
  timings?: LoadTimings,
): AsyncGenerator<InputPiece> {
  let last = -Infinity, first = 0, want: string | undefined;
  let readMs = 0;
  const t0 = performance.now();
  const tsName = opts.columns?.timestamp ?? opts.timestampColumn;
  for (const f of task.files) {
    const file = fileLabel(source, f.key);
    for (const range of await fileRanges(source, f.key, opts)) {
      const tr = performance.now();
      const { frame, roles, bytes } = await decodePiece(source, f.key, opts, range);
      readMs += performance.now() - tr;
      // An adjusted close (Adj Close) is not within the unadjusted low..high: that check does not apply.
      // A CSV file's messages give the line too, as an editor counts them.
      const csv = bytes && /\.(csv|tsv|txt)$/i.test(f.key);
      check(
        file,
        frame,
        last,
        tsName,
        !isAdjustedClose(roles.close),
        (i) => csv ? ` (line ${csvLine(bytes, i)})` : "",
        range?.start ?? 0,
      );
      if (!range?.start) {
        for (const s of frame.skipped) seen.skipped.push({ name: s.name, reason: `${f.key}: ${s.reason}` });
        for (const b of frame.badCells ?? []) seen.badCells.push({ ...b, file: f.key });
      }
      last = frame.timestamps![frame.rows - 1];
      const got = [...frame.columns.keys()].join(",");
      want ??= got;
      if (want !== got) {
        throw new DataError(`${file}: columns [${got}] differ from the first partition's [${want}]`);
      }
      if (timings) {
        timings.read = Math.round(readMs);
        timings.validate = Math.round(performance.now() - t0 - readMs);
      }
      yield { frame, key: f.key, range, first };
      first += frame.rows;
    }
  }
}

/**
 * Reads, validates and concatenates a task's partitions ({@link validatedPieces}). Columns a partition could not
 * load (`skipped`) and cells read as NaN (`badCells`, with `badValues: "nan"`) are collected over all
 * partitions, each naming its file, so the caller can report them.
 */
export async function loadTask(
  source: Storage,
  task: Task,
  opts: LoadTaskOptions,
  timings?: LoadTimings,
): Promise<Frame> {
  const parts: Frame[] = [];
  const seen = { skipped: [] as Frame["skipped"], badCells: [] as BadCells[] };
  for await (const p of validatedPieces(source, task, opts, seen, timings)) parts.push(p.frame);
  const frame = parts.length === 1 ? parts[0] : concatFrames(parts, `${source.url}/${task.instrument}`);
  frame.skipped = seen.skipped;
  if (seen.badCells.length) frame.badCells = seen.badCells;
  return frame;
}
