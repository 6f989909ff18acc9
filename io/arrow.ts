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
} from "apache-arrow";
import { decompressZstd } from "hyparquet-compressors";
import { DataError } from "../runtime/errors.ts";
import type { Frame, SkippedColumn } from "./frame.ts";
import lz4 from "lz4js";
import { frameWithTimestamps } from "./timestamps.ts";

/**
 * Registers LZ4_FRAME and ZSTD decoders in apache-arrow's global `compressionRegistry` (keeping any
 * encoder already registered there), so compressed Feather v2 / IPC buffers can be read. Idempotent.
 */
export function registerArrowDecoders(): void {
  const decoders: [CompressionType, (b: Uint8Array) => Uint8Array][] = [
    [CompressionType.LZ4_FRAME, (b) => lz4.decompress(b)],
    [CompressionType.ZSTD, (b) => decompressZstd(b)],
  ];
  for (const [type, decode] of decoders) {
    const existing = compressionRegistry.get(type);
    if (existing?.decode) continue;
    const encode = existing?.encode?.bind(existing);
    compressionRegistry.set(type, encode ? { encode, decode } : { decode });
  }
}

function columnToF64(vec: Vector, decimalScale?: number): Float64Array {
  const out = new Float64Array(vec.length);
  let at = 0;
  for (const d of vec.data as Data[]) {
    const chunk = new Vector([d]);
    const t = d.type;
    if (d.nullCount === 0 && decimalScale === undefined && !DataType.isTimestamp(t) && !DataType.isDate(t)) {
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
    return tableFromIPC(bytes);
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

/**
 * Decodes Arrow IPC file/stream or Feather v2 bytes into a Frame. Int (incl. 64-bit), Float
 * (16/32/64) and Decimal columns become f64 (nulls NaN); Timestamp and Date columns become epoch ms.
 * The timestamp column is chosen as for Parquet (typed column first, then a numeric one by name).
 * Other types are listed in `frame.skipped`. Throws `DataError` for unreadable or undecompressable data.
 */
export function decodeArrow(bytes: Uint8Array, source: string): Frame {
  const table = parseTable(bytes, source);
  const rows = table.numRows;
  const data = new Map<string, Float64Array>();
  const timeCols: string[] = [];
  const skipped: SkippedColumn[] = [];
  for (const field of table.schema.fields) {
    const t = field.type;
    const vec = table.getChild(field.name);
    if (!vec) continue;
    if (DataType.isTimestamp(t) || DataType.isDate(t)) {
      timeCols.push(field.name);
      data.set(field.name, columnToF64(vec));
    } else if (DataType.isDecimal(t)) {
      data.set(field.name, columnToF64(vec, (t as Decimal).scale));
    } else if (DataType.isInt(t) || DataType.isFloat(t)) {
      data.set(field.name, columnToF64(vec));
    } else {
      skipped.push({ name: field.name, reason: `type ${String(t)}` });
    }
  }
  return frameWithTimestamps(source, rows, data, timeCols, skipped);
}
