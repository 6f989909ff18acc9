/** Arrow IPC (file and stream) and Feather v2 decoding via apache-arrow, incl. LZ4_FRAME/ZSTD buffers. */

import {
  compressionRegistry,
  CompressionType,
  type Data,
  DataType,
  type Decimal,
  type Table,
  tableFromIPC,
  util,
  Vector,
} from "npm:apache-arrow@21.2.0";
import { decompressZstd } from "npm:hyparquet-compressors@1.1.2";
import { DataError } from "../runtime/errors.ts";
import type { BadCells, Frame, SkippedColumn } from "./frame.ts";
import { parseCsvNumber } from "./csv.ts";
import lz4 from "npm:lz4js@0.2.0";
import { frameWithTimestamps } from "./timestamps.ts";

/**
 * Registers LZ4_FRAME and ZSTD decoders in apache-arrow's global `compressionRegistry` (keeping any
 * encoder already registered there), so compressed Feather v2 / IPC buffers can be read. Idempotent.
 */
export function registerArrowDecoders(): void {
  const decoders: [CompressionType, (b: Uint8Array) => Uint8Array][] = [
    [CompressionType.LZ4_FRAME, (b) => aligned(lz4.decompress(b))],
    [CompressionType.ZSTD, (b) => aligned(decompressZstd(b))],
  ];
  for (const [type, decode] of decoders) {
    const existing = compressionRegistry.get(type);
    if (existing?.decode) continue;
    const encode = existing?.encode?.bind(existing);
    compressionRegistry.set(type, encode ? { encode, decode } : { decode });
  }
}

/**
 * apache-arrow views decompressed buffers as typed arrays in place, which needs their start aligned to the
 * element size; a decoder may hand back a view at any offset (fzstd does), so such bytes are copied.
 */
function aligned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
}

function columnToF64(vec: Vector, decimalScale?: number): Float64Array {
  const out = new Float64Array(vec.length);
  let at = 0;
  for (const d of vec.data as Data[]) {
    const chunk = new Vector([d]);
    const t = d.type;
    if (d.nullCount === 0 && decimalScale === undefined && (DataType.isInt(t) || DataType.isFloat(t))) {
      const arr = chunk.toArray() as ArrayLike<number | bigint>;
      if (!(arr instanceof Uint16Array)) { // Float16 toArray gives raw half-float bits
        for (let i = 0; i < arr.length; i++) out[at + i] = Number(arr[i]);
        at += arr.length;
        continue;
      }
    }
    for (let i = 0; i < chunk.length; i++) {
      const v = chunk.get(i);
      if (v === null || v === undefined) out[at + i] = NaN;
      else if (decimalScale !== undefined) out[at + i] = util.bigNumToNumber(v, decimalScale);
      else out[at + i] = v instanceof Date ? v.getTime() : Number(v);
    }
    at += chunk.length;
  }
  return out;
}

function parseTable(bytes: Uint8Array, source: string): Table {
  registerArrowDecoders();
  try {
    return tableFromIPC(aligned(bytes));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/compress|codec|lz4|zstd/i.test(msg)) {
      throw new DataError(
        `${source}: the Arrow/Feather file uses compressed buffers that could not be decompressed (${msg}); ` +
          `re-write it uncompressed (e.g. pyarrow.feather.write_feather(df, path, compression="uncompressed"))`,
      );
    }
    throw new DataError(`${source}: not a readable Arrow IPC / Feather v2 file (${msg})`);
  }
}

const isText = (t: DataType) => DataType.isUtf8(t) || DataType.isLargeUtf8(t) || DataType.isUtf8View(t);

/**
 * Reads a text column (plain or dictionary-encoded strings) as numbers, e.g. prices a vendor stored as
 * text, parsed as CSV cells are: null, "", "nan" and "null" are missing (NaN). A column without a single
 * number (a symbol or name column) is skipped with the reason; a column with numbers and some non-numeric
 * cells keeps its numbers, NaN in those cells, and reports them as `BadCells` (as CSV does), so the caller
 * decides whether that is an error.
 */
function textColumn(
  name: string,
  vec: Vector,
): { values: Float64Array; bad?: BadCells } | { skipped: SkippedColumn } {
  const values = new Float64Array(vec.length);
  let numbers = 0;
  let bad: BadCells | undefined;
  let row = 0;
  for (const d of vec.data as Data[]) {
    const textAt = chunkText(d);
    for (let i = 0; i < d.length; i++, row++) {
      const text = d.getValid(i) ? textAt(i) : null;
      const v = text === null ? NaN : parseCsvNumber(text);
      if (v === undefined) {
        values[row] = NaN;
        if (bad) bad.count++;
        else bad = { name, row: row + 1, value: text!, count: 1 };
      } else {
        values[row] = v;
        if (!Number.isNaN(v)) numbers++;
      }
    }
  }
  if (numbers > 0) return bad ? { values, bad } : { values };
  const why = bad ? `non-numeric value ${JSON.stringify(bad.value)} at row ${bad.row}` : "no values";
  return { skipped: { name, reason: `type ${String(vec.type)} (a text column: ${why})` } };
}

const latin1 = new TextDecoder("latin1");

/**
 * The text of row i of a valid cell of a string chunk. Per-row `get` decodes UTF-8 each time (about 2 s per
 * million rows), so a dictionary's strings are decoded once, and an all-ASCII Utf8 chunk as one string.
 */
function chunkText(d: Data): (i: number) => string {
  const chunk = new Vector([d]);
  if (DataType.isDictionary(d.type) && d.dictionary) {
    const dict = d.dictionary;
    const strings: (string | undefined)[] = new Array(dict.length);
    const keys = d.values as ArrayLike<number | bigint>;
    return (i) => {
      const k = Number(keys[i]);
      return (strings[k] ??= String(dict.get(k)));
    };
  }
  const offsets = d.valueOffsets as Int32Array | undefined;
  if (DataType.isUtf8(d.type) && offsets && d.length > 0) {
    const start = offsets[0];
    const bytes = (d.values as Uint8Array).subarray(start, offsets[d.length]);
    if (bytes.every((b) => b < 0x80)) {
      const all = latin1.decode(bytes);
      return (i) => all.slice(offsets[i] - start, offsets[i + 1] - start);
    }
  }
  return (i) => String(chunk.get(i));
}

/**
 * Decodes Arrow IPC file/stream or Feather v2 bytes into a Frame. Int (incl. 64-bit), Float
 * (16/32/64) and Decimal columns, also dictionary-encoded, become f64 (nulls NaN); Timestamp (any unit,
 * any time zone) and Date columns become epoch ms (UTC). Text columns (Utf8, LargeUtf8, Utf8View, or
 * dictionary-encoded) holding numbers, e.g. prices stored as strings, are parsed as CSV cells are: a text
 * column without a number is listed in `frame.skipped`, non-numeric cells of a numeric one in
 * `frame.badCells`. The timestamp column is chosen as for Parquet (typed column first, then a numeric one by
 * name). Other types are listed in `frame.skipped`. Throws `DataError` for unreadable or undecompressable data.
 */
export function decodeArrow(bytes: Uint8Array, source: string): Frame {
  const table = parseTable(bytes, source);
  const rows = table.numRows;
  const data = new Map<string, Float64Array>();
  const timeCols: string[] = [];
  const skipped: SkippedColumn[] = [];
  const badCells: BadCells[] = [];
  for (const field of table.schema.fields) {
    const vec = table.getChild(field.name);
    if (!vec) continue;
    // A dictionary column is read through its values' type (vec.get gives the decoded value).
    const t = DataType.isDictionary(field.type) ? field.type.dictionary : field.type;
    if (DataType.isTimestamp(t) || DataType.isDate(t)) {
      timeCols.push(field.name);
      data.set(field.name, columnToF64(vec));
    } else if (DataType.isDecimal(t)) {
      data.set(field.name, columnToF64(vec, (t as Decimal).scale));
    } else if (DataType.isInt(t) || DataType.isFloat(t)) {
      data.set(field.name, columnToF64(vec));
    } else if (isText(t)) {
      const col = textColumn(field.name, vec);
      if ("skipped" in col) {
        skipped.push(col.skipped);
        continue;
      }
      data.set(field.name, col.values);
      if (col.bad) badCells.push(col.bad);
    } else {
      skipped.push({ name: field.name, reason: `type ${String(field.type)}` });
    }
  }
  const frame = frameWithTimestamps(source, rows, data, timeCols, skipped);
  if (badCells.length) frame.badCells = badCells;
  return frame;
}
