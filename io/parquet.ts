/** Parquet decoding via hyparquet (ZSTD through the native codec, io/zstd.ts; other codecs through hyparquet-compressors). */

import { parquetMetadataAsync, type ParquetParsers, parquetRead, parquetSchema } from "npm:hyparquet@1.31.5";
import type { SchemaTree } from "npm:hyparquet@1.31.5";
import { compressors } from "npm:hyparquet-compressors@1.1.2";
import { DataError } from "../runtime/errors.ts";
import { zstdDecompress } from "./zstd.ts";
import {
  checkColumnChunk,
  checkPageRuns,
  checkParquetFooter,
  type ChunkRange,
  type PageSpan,
} from "./parquet_check.ts";
import type { BadCells, Frame, SkippedColumn } from "./frame.ts";
import { parseCsvNumber } from "./csv.ts";
import type { RangeReader } from "./storage.ts";
import { daysToMs, frameWithTimestamps } from "./timestamps.ts";

type Kind = "number" | "time" | "text";

/** hyparquet parsers that turn timestamps and dates into epoch-ms numbers instead of Date objects. */
const PARSERS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (v: bigint) => Number(v),
  timestampFromMicroseconds: (v: bigint) => Number(v) / 1e3,
  // Epoch ns exceed 2^53: split before converting so the sub-millisecond part is not rounded away.
  timestampFromNanoseconds: (v: bigint) => Number(v / 1_000_000n) + Number(v % 1_000_000n) / 1e6,
  dateFromDays: (d: number) => daysToMs(d),
};

function classify(node: SchemaTree): Kind | string {
  const el = node.element;
  if (node.children.length > 0 || el.repetition_type === "REPEATED") return "nested type";
  const lt = el.logical_type?.type;
  const ct = el.converted_type;
  if (lt === "TIMESTAMP" || ct === "TIMESTAMP_MILLIS" || ct === "TIMESTAMP_MICROS" || lt === "DATE") {
    return "time";
  }
  if (ct === "DATE" || (el.type === "INT96" && !ct)) return "time";
  if (ct === "DECIMAL" || lt === "FLOAT16") return "number";
  if (el.type === "INT32" || el.type === "INT64" || el.type === "FLOAT" || el.type === "DOUBLE") {
    return "number";
  }
  if (lt === "STRING" || ct === "UTF8") return "text";
  const what = lt ?? ct ?? el.type ?? "group";
  return `type ${what}`;
}

/** Converts one decoded value (number, bigint, Date, null) to f64; null/undefined give NaN. */
function toF64(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Date) return v.getTime();
  return NaN;
}

/**
 * Row counts of a Parquet file's row groups, and whether the file may be decoded a range of rows at a time
 * (`decodeParquet`'s `range`) with the same result as whole: not when a text column (skipped only if no row
 * of the file holds a number) or a numeric timestamp (epoch unit inferred from the whole column; the file has no
 * timestamp-typed column, or `timestampColumn` is numeric) needs every row. Throws `DataError` as `decodeParquet` does for an unreadable footer.
 */
export async function parquetRowGroups(
  input: RangeReader,
  source: string,
  timestampColumn: string,
): Promise<{ groups: number[]; ranged: boolean }> {
  const metadata = await readMetadata(input, source);
  const kinds = new Map(parquetSchema(metadata).children.map((c) => [c.element.name, classify(c)]));
  const ranged = ![...kinds.values()].includes("text") && [...kinds.values()].includes("time") &&
    kinds.get(timestampColumn) !== "number";
  return { groups: metadata.row_groups.map((g) => Number(g.num_rows)), ranged };
}

async function readMetadata(file: RangeReader | ReturnType<typeof bytesReader>, source: string) {
  try {
    return await parquetMetadataAsync(file, { parsers: PARSERS as ParquetParsers });
  } catch (e) {
    throw new DataError(
      `${source}: not a readable Parquet file (${
        errText(e)
      }); the footer is damaged or truncated, or this is not Parquet`,
    );
  }
}

function bytesReader(input: Uint8Array) {
  return {
    byteLength: input.byteLength,
    slice: (start: number, end?: number) =>
      input.buffer.slice(
        input.byteOffset + start,
        input.byteOffset + (end ?? input.byteLength),
      ) as ArrayBuffer,
  };
}

/**
 * Decodes Parquet bytes into a Frame. INT32/INT64 (incl. BigInt), FLOAT, DOUBLE, DECIMAL and FLOAT16
 * become f64 (nulls NaN); TIMESTAMP/DATE/INT96 columns become epoch ms. The timestamp column is the
 * timestamp-typed column named timestamp/datetime/time/date/ts (or the first timestamp-typed column),
 * else a numeric column with such a name (epoch unit inferred). Text, boolean and nested columns are
 * listed in `frame.skipped`. Throws `DataError` when the bytes are not a readable Parquet file.
 * Given a RangeReader, only the footer and the wanted column chunks are read, row group by row group; given
 * `range`, only rows [start, end) of the file, from the row groups that hold them (see `parquetRowGroups`).
 */
export async function decodeParquet(
  input: Uint8Array | RangeReader,
  source: string,
  range?: { start: number; end: number },
): Promise<Frame> {
  try {
    return await readParquet(input, source, range);
  } catch (e) {
    if (e instanceof DataError) throw e;
    // A footer hyparquet parsed but that does not hold together (e.g. a schema tree with missing children).
    throw new DataError(`${source}: corrupt Parquet file: ${errText(e)}`);
  }
}

async function readParquet(
  input: Uint8Array | RangeReader,
  source: string,
  range?: { start: number; end: number },
): Promise<Frame> {
  const file = input instanceof Uint8Array ? bytesReader(input) : input;
  const metadata = await readMetadata(file, source);
  const fileRows = Number(metadata.num_rows);
  const from = range?.start ?? 0, to = Math.min(range?.end ?? fileRows, fileRows);
  const rows = Math.max(0, to - from);
  const kinds = new Map<string, Kind>();
  const skipped: SkippedColumn[] = [];
  const schema = parquetSchema(metadata).children;
  for (const child of schema) {
    const k = classify(child);
    if (k === "number" || k === "time" || k === "text") kinds.set(child.element.name, k);
    else skipped.push({ name: child.element.name, reason: k });
  }
  // The footer is checked before any data is read, each column chunk's pages when its bytes arrive.
  const chunks = checkParquetFooter(metadata, file.byteLength, source, new Set(kinds.keys()));
  const checked = chunkChecker(chunks, source);
  // The row groups holding rows [from, to): their chunks are the ones read (and checked).
  const inGroups = new Set<number>();
  for (let g = 0, at = 0; g < metadata.row_groups.length; g++) {
    const n = Number(metadata.row_groups[g].num_rows);
    if (at < to && at + n > from) inGroups.add(g);
    at += n;
  }
  const reading = {
    byteLength: file.byteLength,
    slice: (start: number, end?: number) => {
      const got = file.slice(start, end);
      return got instanceof Promise ? got.then((b) => checked(start, b)) : checked(start, got);
    },
  };
  const data = new Map<string, Float64Array>();
  for (const name of kinds.keys()) data.set(name, new Float64Array(rows).fill(NaN));
  const decoded = new Map<string, number>();
  let overflow: DataError | undefined;
  const text = new Map<string, { numbers: number; bad?: BadCells }>();
  for (const [name, k] of kinds) if (k === "text") text.set(name, { numbers: 0 });
  if (kinds.size > 0 && rows > 0) {
    try {
      await parquetRead({
        file: reading,
        metadata,
        columns: [...kinds.keys()],
        compressors: checked.compressors,
        parsers: PARSERS,
        rowStart: from,
        rowEnd: to,
        onChunk: ({ columnName, columnData: all, rowStart: at }) => {
          const out = data.get(columnName);
          if (!out) return;
          // The row groups' chunks may reach outside the range: keep the rows inside it.
          const lo = Math.max(0, from - at), hi = Math.max(lo, Math.min(all.length, to - at));
          const columnData = lo === 0 && hi === all.length ? all : all.slice(lo, hi);
          const rowStart = at + lo - from, n = columnData.length;
          if (at < 0 || at + all.length > fileRows) {
            // hyparquet calls onChunk from a promise it does not await: note the error, throw it below.
            overflow ??= new DataError(
              `${source}: corrupt Parquet file: column "${columnName}" decodes to rows ${at + 1}..${
                at + all.length
              } ` +
                `of a file of ${fileRows} rows`,
            );
            return;
          }
          decoded.set(columnName, (decoded.get(columnName) ?? 0) + n);
          const t = text.get(columnName);
          if (t) parseText(columnName, columnData, n, rowStart, out, t);
          else for (let i = 0; i < n; i++) out[rowStart + i] = toF64(columnData[i]);
        },
      });
      if (overflow) throw overflow;
      // Chunks hyparquet did not fetch whole (none today) are checked here, so none goes unchecked.
      for (const c of checked.left()) {
        if (inGroups.has(c.rowGroup)) checked(c.start, await file.slice(c.start, c.end));
      }
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw new DataError(`${source}: corrupt Parquet file: cannot decode its data (${errText(e)})`);
    }
    for (const name of kinds.keys()) {
      if ((decoded.get(name) ?? 0) !== rows) {
        throw new DataError(
          `${source}: corrupt Parquet file: column "${name}" decodes to ${decoded.get(name) ?? 0} values; ` +
            `the footer says ${rows} rows${range ? ` from row ${from}` : ""}`,
        );
      }
    }
  }
  // Text columns as CSV columns: none with a number is skipped, non-numeric cells of others are reported.
  const badCells: BadCells[] = [];
  for (const [name, t] of text) {
    if (t.numbers === 0) {
      const why = t.bad
        ? `non-numeric value ${JSON.stringify(t.bad.value)} at row ${t.bad.row}`
        : "no values";
      skipped.push({ name, reason: `type STRING (a text column: ${why})` });
      data.delete(name);
    } else if (t.bad) badCells.push(t.bad);
  }
  const schemaOrder = schema.map((c) => c.element.name);
  skipped.sort((a, b) => schemaOrder.indexOf(a.name) - schemaOrder.indexOf(b.name));
  const timeCols = [...kinds].filter(([, k]) => k === "time").map(([n]) => n);
  const frame = frameWithTimestamps(source, rows, data, timeCols, skipped);
  if (badCells.length) frame.badCells = badCells;
  return frame;
}

/** Parses a chunk of a text column (e.g. prices stored as strings) as CSV cells, noting non-numeric ones. */
function parseText(
  name: string,
  cells: ArrayLike<unknown>,
  n: number,
  rowStart: number,
  out: Float64Array,
  t: { numbers: number; bad?: BadCells },
): void {
  for (let i = 0; i < n; i++) {
    const cell = cells[i];
    const v = typeof cell === "string" ? parseCsvNumber(cell) : NaN;
    out[rowStart + i] = v ?? NaN;
    if (v === undefined) {
      // Chunks need not arrive in row order: keep the first bad row.
      const row = rowStart + i + 1;
      if (!t.bad) t.bad = { name, row, value: cell as string, count: 1 };
      else {
        t.bad.count++;
        if (row < t.bad.row) Object.assign(t.bad, { row, value: cell });
      }
    } else if (!Number.isNaN(v)) t.numbers++;
  }
}

/**
 * Checks each column chunk (see `checkColumnChunk`) the first time a slice covering it is read; `left()` lists
 * those not yet seen. Chunks are sorted by start, so finding a slice's chunks is a binary search.
 */
function chunkChecker(chunks: ChunkRange[], source: string) {
  const sorted = [...chunks].sort((a, b) => a.start - b.start);
  const done = new Set<ChunkRange>();
  const pages = new Map<string, { runs: NonNullable<PageSpan["runs"]>; where: string }[]>();
  const check = (start: number, buf: ArrayBuffer): ArrayBuffer => {
    const bytes = new Uint8Array(buf);
    let lo = 0, hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid].start < start) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < sorted.length && sorted[i].start < start + bytes.length; i++) {
      const c = sorted[i];
      if (done.has(c) || c.end > start + bytes.length) continue;
      // Compressed pages' runs are checked when hyparquet inflates them (see `checkedCompressors`).
      for (const p of checkColumnChunk(bytes.subarray(c.start - start, c.end - start), c, source)) {
        if (p.runs) {
          const levels = p.runs.v2Levels ?? 0;
          const key = `${c.end - c.start}:${p.data + levels - c.start}:${p.end - p.data - levels}`;
          const where = `row group ${c.rowGroup}, column "${c.column}": page at byte ${p.header}`;
          pages.set(key, [...(pages.get(key) ?? []), { runs: p.runs, where }]);
        }
      }
      done.add(c);
    }
    return buf;
  };
  /** hyparquet's decompressors, each checking the runs of a data page it inflated (pages from `check`). */
  const checkedCompressors = Object.fromEntries(
    Object.entries({ ...compressors, ZSTD: zstdDecompress }).map(([codec, inflate]) => [
      codec,
      (input: Uint8Array, length: number) => {
        const out = inflate(input, length);
        // hyparquet inflates from its own copy of each column chunk: a page is known by the chunk's size and
        // the page's place in it; pages alike in all three (rare) must all fail for the page to be rejected.
        const alike = pages.get(`${input.buffer.byteLength}:${input.byteOffset}:${input.length}`) ?? [];
        const whys = alike.map((p) => checkPageRuns(out, p.runs));
        if (whys.length && whys.every((w) => w)) {
          throw new DataError(`${source}: corrupt Parquet file: ${alike[0].where}: ${whys[0]}`);
        }
        return out;
      },
    ]),
  ) as typeof compressors;
  return Object.assign(check, {
    left: () => sorted.filter((c) => !done.has(c)),
    compressors: checkedCompressors,
  });
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
