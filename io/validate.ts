/**
 * Input validation and assembly: every partition of an instrument is decoded, checked (a timestamp column,
 * strictly increasing across partitions; low <= open, close <= high and volume >= 0 where those columns exist;
 * deny-listed columns dropped; columns renamed to their roles: data.columns, else case-insensitive names) and concatenated into one Frame. Each problem is a DataError naming the file,
 * the column and the first bad row.
 */
import { type Frame, makeFrame } from "./frame.ts";
import { decodeFrame } from "./read.ts";
import { decodeParquet } from "./parquet.ts";
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

/** `where(i)` names row i for people: " (line N)" for a CSV file, else nothing. */
function check(
  file: string,
  frame: Frame,
  prevLast: number,
  tsName: string,
  closeInRange = true,
  where: (row: number) => string = () => "",
): void {
  if (frame.rows === 0) throw new DataError(`${file}: no rows`);
  const ts = frame.timestamps;
  if (!ts) throw new DataError(`${file}: no timestamp column "${tsName}" (data.timestamp_column)`);
  let last = prevLast;
  for (let i = 0; i < ts.length; i++) {
    if (!(ts[i] > last)) {
      const at = `row ${i}${where(i)}, ${new Date(ts[i]).toISOString()},`;
      throw new DataError(
        `${file}: column ${frame.timestampColumn}: timestamps must be strictly increasing; ${at} is not after ` +
          "the previous row",
      );
    }
    last = ts[i];
  }
  const c = (n: string) => frame.columns.get(n);
  const [open, high, low, close, volume] = ["open", "high", "low", "close", "volume"].map(c);
  const bad = (name: string, what: string, i: number) => {
    throw new DataError(`${file}: column ${name}: ${what} at row ${i}${where(i)}`);
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
 * Reads, validates and concatenates a task's partitions. Columns a partition could not load (`skipped`) and
 * cells read as NaN (`badCells`, with `badValues: "nan"`) are collected over all partitions, each naming its
 * file, so the caller can report them.
 */
export async function loadTask(
  source: Storage,
  task: Task,
  opts: LoadTaskOptions,
  timings?: LoadTimings,
): Promise<Frame> {
  const parts: Frame[] = [];
  const skipped: Frame["skipped"] = [];
  const badCells: NonNullable<Frame["badCells"]> = [];
  let last = -Infinity;
  let readMs = 0;
  const t0 = performance.now();
  for (const f of task.files) {
    const file = `${source.url.replace(/\/$/, "")}/${f.key}`;
    const tr = performance.now();
    // Parquet is read by ranges (footer, then each row group's column chunks), never as one whole file.
    const parquet = /\.(parquet|pq)$/i.test(f.key);
    const bytes = parquet ? null : await source.get(f.key);
    const frame = bytes
      ? await decodeFrame(bytes, file, { badValues: opts.badValues })
      : await decodeParquet(await source.reader(f.key), file);
    readMs += performance.now() - tr;
    for (const d of opts.denyColumns) frame.columns.delete(d);
    const tsName = opts.columns?.timestamp ?? opts.timestampColumn;
    promoteTimestamp(frame, tsName);
    const roles = applyColumns(file, frame, opts.columns ?? {});
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
    );
    for (const s of frame.skipped) skipped.push({ name: s.name, reason: `${f.key}: ${s.reason}` });
    for (const b of frame.badCells ?? []) badCells.push({ ...b, file: f.key });
    last = frame.timestamps![frame.rows - 1];
    if (parts.length) {
      const want = [...parts[0].columns.keys()].join(","), got = [...frame.columns.keys()].join(",");
      if (want !== got) {
        throw new DataError(`${file}: columns [${got}] differ from the first partition's [${want}]`);
      }
    }
    parts.push(frame);
  }
  const frame = parts.length === 1 ? parts[0] : concatParts(parts, `${source.url}/${task.instrument}`);
  frame.skipped = skipped;
  if (badCells.length) frame.badCells = badCells;
  if (timings) {
    timings.read = Math.round(readMs);
    timings.validate = Math.round(performance.now() - t0 - readMs);
  }
  return frame;
}

function concatParts(parts: Frame[], source: string): Frame {
  const rows = parts.reduce((a, p) => a + p.rows, 0);
  const concat = (get: (p: Frame) => Float64Array) => {
    const out = new Float64Array(rows);
    let at = 0;
    for (const p of parts) out.set(get(p), at), at += p.rows;
    return out;
  };
  const columns = new Map([...parts[0].columns.keys()].map((n) => [n, concat((p) => p.columns.get(n)!)]));
  return makeFrame(source, rows, columns, [], {
    column: parts[0].timestampColumn!,
    values: concat((p) => p.timestamps!),
  });
}
