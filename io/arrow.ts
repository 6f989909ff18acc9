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
import { type ArrowBodyBuffer, type ArrowLayout, checkArrowIpc, checkNulls } from "./arrow_check.ts";
import { lz4FrameDecode } from "./lz4.ts";
import { zstdDecompress } from "./zstd.ts";
import { frameWithTimestamps } from "./timestamps.ts";

/**
 * The compressed buffers of the file being parsed, by the absolute position of their stored bytes in
 * `expected.buffer`: apache-arrow hands the codec the bytes after the 8-byte prefix without the prefix, so
 * the decoders look the prefix up here to check the decompressed length. Set only while `parseTable` runs
 * (synchronously); buffers it does not know (another caller's) are decoded without that check.
 */
let expected: { buffer: ArrayBufferLike; at: Map<number, ArrowBodyBuffer> } | undefined;

/**
 * The decompressed length a compressed buffer must have, or undefined when it cannot be told: apache-arrow JS
 * (up to 21) wrote the compressed length as the prefix, so a prefix equal to the stored length is ambiguous.
 */
function expectedLength(
  b: Uint8Array,
): { length?: number; needed: number; info: ArrowBodyBuffer } | undefined {
  const info = expected?.buffer === b.buffer ? expected.at.get(b.byteOffset) : undefined;
  if (!info || info.prefix === undefined) return undefined;
  return { length: info.prefix === info.length - 8 ? undefined : info.prefix, needed: info.needed, info };
}

/** Checks a decompressed buffer's length against its prefix (and what its values need). */
function checkedLength(b: Uint8Array, out: Uint8Array): Uint8Array {
  const want = expectedLength(b);
  if (!want) return out;
  if (want.length !== undefined && out.length !== want.length) {
    throw new Error(`a buffer decompresses to ${out.length} bytes, its prefix says ${want.length}`);
  }
  if (out.length < want.needed || out.length > want.info.max) {
    throw new Error(`a buffer decompresses to ${out.length} bytes; its values need ${want.needed}`);
  }
  if (want.info.validity) checkNulls(out, want.info.validity, "a validity bitmap");
  return out;
}

/** Rejects a ZSTD frame whose header declares a content size other than the expected one, before allocating. */
function zstdDecode(b: Uint8Array): Uint8Array {
  const want = expectedLength(b)?.length;
  if (
    want !== undefined && b.length >= 6 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd
  ) {
    const fhd = b[4];
    const single = (fhd >> 5) & 1, fcsFlag = fhd >> 6;
    const fcsSize = [single, 2, 4, 8][fcsFlag];
    const at = 5 + (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3];
    if (fcsSize > 0 && at + fcsSize <= b.length) {
      let size = 0;
      for (let i = fcsSize - 1; i >= 0; i--) size = size * 256 + b[at + i];
      if (fcsSize === 2) size += 256;
      if (size !== want) throw new Error(`a ZSTD frame declares ${size} bytes, its prefix says ${want}`);
    }
  }
  // Native and length-checked when the prefix gives the length; old apache-arrow JS files leave it unknown.
  return checkedLength(b, aligned(want === undefined ? decompressZstd(b) : zstdDecompress(b, want)));
}

/**
 * Registers LZ4_FRAME and ZSTD decoders in apache-arrow's global `compressionRegistry` (keeping any
 * encoder already registered there), so compressed Feather v2 / IPC buffers can be read. Idempotent.
 * The LZ4 decoder is strict (bounds, checksums, exact size); both check the length against the prefix.
 */
export function registerArrowDecoders(): void {
  const decoders: [CompressionType, (b: Uint8Array) => Uint8Array][] = [
    [
      CompressionType.LZ4_FRAME,
      (b) => checkedLength(b, aligned(lz4FrameDecode(b, expectedLength(b)?.length))),
    ],
    [CompressionType.ZSTD, zstdDecode],
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

/**
 * A dictionary chunk's keys must index its dictionary: apache-arrow reads an out-of-range key as null, which
 * would turn a damaged key into a silent missing value. Checked in the pass that converts the values.
 */
function checkKey(d: Data, i: number, source: string, name: string): void {
  const k = Number((d.values as ArrayLike<number | bigint>)[i]);
  if (!(k >= 0 && k < d.dictionary!.length)) {
    throw new DataError(
      `${source}: corrupt Arrow IPC / Feather data: column "${name}" has dictionary key ${k} (row ${
        i + 1
      } of its batch); ` +
        `the dictionary holds ${d.dictionary!.length} values`,
    );
  }
}

function columnToF64(vec: Vector, source: string, name: string, decimalScale?: number): Float64Array {
  const out = new Float64Array(vec.length);
  let at = 0;
  for (const d of vec.data as Data[]) {
    const chunk = new Vector([d]);
    const dict = DataType.isDictionary(d.type) && d.dictionary;
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
      if (dict && d.getValid(i)) checkKey(d, i, source, name);
      const v = chunk.get(i);
      if (v === null || v === undefined) out[at + i] = NaN;
      else if (decimalScale !== undefined) out[at + i] = util.bigNumToNumber(v, decimalScale);
      else out[at + i] = v instanceof Date ? v.getTime() : Number(v);
    }
    at += chunk.length;
  }
  return out;
}

/** Checks the IPC structure (see io/arrow_check.ts), then parses; every failure is a DataError naming the file. */
function parseTable(bytes: Uint8Array, source: string): { table: Table; layout: ArrowLayout } {
  registerArrowDecoders();
  const input = aligned(bytes);
  const layout = checkArrowIpc(input, source);
  const at = new Map<number, ArrowBodyBuffer>();
  for (const batch of layout.batches) {
    for (const b of batch.buffers) if (b.prefix !== undefined) at.set(input.byteOffset + b.start + 8, b);
  }
  expected = { buffer: input.buffer, at };
  try {
    return { table: tableFromIPC(input), layout };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/codec not found/i.test(msg)) {
      throw new DataError(
        `${source}: the Arrow/Feather file uses a compression codec this reader lacks (${msg}); ` +
          `re-write it uncompressed (e.g. pyarrow.feather.write_feather(df, path, compression="uncompressed"))`,
      );
    }
    const what = /lz4|zstd|decompress|prefix|frame/i.test(msg)
      ? "a damaged compressed buffer"
      : "unreadable data";
    throw new DataError(`${source}: corrupt Arrow IPC / Feather data: ${what} (${msg})`);
  } finally {
    expected = undefined;
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
  source: string,
): { values: Float64Array; bad?: BadCells } | { skipped: SkippedColumn } {
  const values = new Float64Array(vec.length);
  let numbers = 0;
  let bad: BadCells | undefined;
  let row = 0;
  for (const d of vec.data as Data[]) {
    const textAt = chunkText(d, source, name);
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
 * A string chunk's offsets must rise within its data: apache-arrow slices past the end or backwards as empty
 * strings, which would read as missing values. The ends are checked here, each step in the caller's pass.
 */
function checkOffsets(d: Data, offsets: Int32Array | BigInt64Array, source: string, name: string): void {
  const first = Number(offsets[0]), last = Number(offsets[d.length]);
  const size = (d.values as Uint8Array).length;
  let bad = !(first >= 0 && first <= last && last <= size) ? 0 : -1;
  for (let i = 0; bad < 0 && i < d.length; i++) if (offsets[i + 1] < offsets[i]) bad = i;
  if (bad >= 0) {
    throw new DataError(
      `${source}: corrupt Arrow IPC / Feather data: column "${name}" has string offsets outside its ${size} bytes ` +
        `of text (row ${bad + 1} of its batch)`,
    );
  }
}

/**
 * The text of row i of a valid cell of a string chunk. Per-row `get` decodes UTF-8 each time (about 2 s per
 * million rows), so a dictionary's strings are decoded once, and an all-ASCII Utf8 chunk as one string.
 */
function chunkText(d: Data, source: string, name: string): (i: number) => string {
  const chunk = new Vector([d]);
  if (DataType.isDictionary(d.type) && d.dictionary) {
    const dict = d.dictionary;
    for (const v of dict.data as Data[]) {
      const o = v.valueOffsets as Int32Array | BigInt64Array | undefined;
      if (o && v.length > 0) checkOffsets(v, o, source, `${name}'s dictionary`);
    }
    const strings: (string | undefined)[] = new Array(dict.length);
    const keys = d.values as ArrayLike<number | bigint>;
    return (i) => {
      const k = Number(keys[i]);
      if (!(k >= 0 && k < dict.length)) checkKey(d, i, source, name);
      return (strings[k] ??= String(dict.get(k)));
    };
  }
  const offsets = d.valueOffsets as Int32Array | BigInt64Array | undefined;
  if (offsets && d.length > 0) checkOffsets(d, offsets, source, name);
  if (DataType.isUtf8(d.type) && offsets instanceof Int32Array && d.length > 0) {
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
  if (bytes.length >= 4 && String.fromCharCode(...bytes.subarray(0, 4)) === "FEA1") {
    throw new DataError(
      `${source}: Feather v1 is not supported; re-write it as Feather v2 (pyarrow.feather.write_feather)`,
    );
  }
  const { table, layout } = parseTable(bytes, source);
  try {
    return tableToFrame(table, layout, source);
  } catch (e) {
    if (e instanceof DataError) throw e;
    // apache-arrow decodes some buffers lazily; what it throws there is still about this file's bytes.
    throw new DataError(
      `${source}: corrupt Arrow IPC / Feather data (${e instanceof Error ? e.message : String(e)})`,
    );
  }
}

function tableToFrame(table: Table, layout: ArrowLayout, source: string): Frame {
  const rows = table.numRows;
  // apache-arrow must have read what the metadata declares, no more and no less.
  if (rows !== layout.rows || table.schema.fields.length !== layout.fields.length) {
    throw new DataError(
      `${source}: corrupt Arrow IPC / Feather data: ${rows} rows and ${table.schema.fields.length} columns read, ` +
        `the metadata declares ${layout.rows} and ${layout.fields.length}`,
    );
  }
  const names = table.schema.fields.map((f) => f.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new DataError(`${source}: column "${dup}" appears twice in the Arrow schema`);
  const data = new Map<string, Float64Array>();
  const timeCols: string[] = [];
  const skipped: SkippedColumn[] = [];
  const badCells: BadCells[] = [];
  for (const field of table.schema.fields) {
    const vec = table.getChild(field.name);
    if (!vec) continue;
    if (vec.length !== rows) {
      throw new DataError(
        `${source}: corrupt Arrow IPC / Feather data: column "${field.name}" has ${vec.length} values in ${rows} rows`,
      );
    }
    // A dictionary column is read through its values' type (vec.get gives the decoded value).
    const t = DataType.isDictionary(field.type) ? field.type.dictionary : field.type;
    if (DataType.isTimestamp(t) || DataType.isDate(t)) {
      timeCols.push(field.name);
      data.set(field.name, columnToF64(vec, source, field.name));
    } else if (DataType.isDecimal(t)) {
      data.set(field.name, columnToF64(vec, source, field.name, (t as Decimal).scale));
    } else if (DataType.isInt(t) || DataType.isFloat(t)) {
      data.set(field.name, columnToF64(vec, source, field.name));
    } else if (isText(t)) {
      const col = textColumn(field.name, vec, source);
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
