/**
 * Feather v2 (Arrow IPC file) encoding of f64 columns with apache-arrow. The Float64Arrays are the record
 * batch's buffers as they are (zero-copy vectors), each compressed once, and the file comes back as the
 * writer's pieces, so a part can be hashed and written without first being copied into one buffer: on this
 * project's machines, touching fresh memory costs about as much as ZSTD level 1 compressing it.
 */
import {
  CompressionType,
  makeData,
  makeVector,
  RecordBatchFileWriter,
  Table,
  TimestampMillisecond,
} from "npm:apache-arrow@21.2.0";
import lz4 from "npm:lz4js@0.2.0";
import { zstdCompress } from "./zstd.ts";

/** Buffer compression of a Feather file. */
export type FeatherCompression = "lz4" | "zstd" | "none";

const TYPES = { lz4: CompressionType.LZ4_FRAME, zstd: CompressionType.ZSTD, none: null };

const ENCODERS: Record<CompressionType, (bytes: Uint8Array) => Uint8Array> = {
  [CompressionType.LZ4_FRAME]: (b) => lz4.compress(b),
  [CompressionType.ZSTD]: zstdCompress,
};

type Compressed = ReturnType<RecordBatchFileWriter["_compressBodyBuffers"]>;

/**
 * Arrow IPC file writer that compresses each body buffer once and keeps the result without copying it. Its
 * 8-byte prefix holds the *uncompressed* length, as the Arrow format requires (-1: stored as-is because
 * compressing did not shrink it); apache-arrow 21.2.0's own method writes the compressed length there, which
 * pyarrow and polars reject (apache/arrow-js PR #470), and copies every compressed buffer.
 */
class FeatherWriter extends RecordBatchFileWriter {
  protected override _compressBodyBuffers(buffers: ArrayBufferView[]): Compressed {
    const encode = ENCODERS[this._compression!.type];
    const out: Compressed = { byteLength: 0, bufferRegions: [], buffers: [] };
    let at = 0;
    for (const buffer of buffers) {
      const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      if (bytes.length === 0) {
        // An empty buffer (a validity bitmap without nulls) stays empty: no prefix.
        out.buffers.push(bytes, bytes);
        out.bufferRegions.push({ offset: at, length: 0 });
        continue;
      }
      const packed = encode(bytes);
      const kept = packed.length < bytes.length ? packed : bytes;
      const prefix = new Uint8Array(8);
      new DataView(prefix.buffer).setBigInt64(0, kept === packed ? BigInt(bytes.length) : -1n, true);
      out.buffers.push(prefix, kept);
      at = (at + 7) & ~7;
      out.bufferRegions.push({ offset: at, length: 8 + kept.length });
      at += 8 + kept.length;
    }
    out.byteLength = (at + 7) & ~7;
    return out;
  }
}

/**
 * Epoch milliseconds as Int64 (Timestamp[ms] values), rounded to whole ms. Written as two 32-bit halves
 * (little-endian, as Arrow files are): a BigInt per row costs ~40 ms per 250k rows. Throws a RangeError
 * naming the column and row for a value that is not finite or beyond ±2^53 ms.
 */
function epochMsInt64(name: string, values: Float64Array): BigInt64Array {
  const out = new BigInt64Array(values.length);
  const words = new Int32Array(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = Math.round(values[i]);
    if (!Number.isSafeInteger(v)) {
      throw new RangeError(
        `timestamp column "${name}" row ${i + 1} is ${values[i]}: not a time that Timestamp[ms] can hold`,
      );
    }
    const hi = Math.floor(v / 2 ** 32);
    words[2 * i] = v - hi * 2 ** 32; // an Int32Array keeps the low 32 bits
    words[2 * i + 1] = hi;
  }
  return out;
}

/** The finished writer of one file: its bytes are queued in the writer. */
function writeFeather(
  columns: Map<string, Float64Array>,
  timestamps: { name: string; values: Float64Array },
  compression: FeatherCompression,
): FeatherWriter {
  const n = timestamps.values.length;
  const ts = epochMsInt64(timestamps.name, timestamps.values);
  const vectors: Record<string, ReturnType<typeof makeVector>> = {
    [timestamps.name]: makeVector(makeData({ type: new TimestampMillisecond(), length: n, data: ts })),
  };
  for (const [name, values] of columns) vectors[name] = makeVector(values);
  return new FeatherWriter({ compressionType: TYPES[compression] }).writeAll(new Table(vectors));
}

/**
 * Encodes columns (timestamps first, as Arrow Timestamp[ms]) as a Feather v2 (Arrow IPC file) file of one
 * record batch with LZ4_FRAME, ZSTD (level 3) or no buffer compression, readable by pyarrow, polars and other
 * Arrow implementations.
 */
export function encodeFeather(
  columns: Map<string, Float64Array>,
  timestamps: { name: string; values: Float64Array },
  compression: FeatherCompression,
): Uint8Array {
  return writeFeather(columns, timestamps, compression).toUint8Array(true);
}

/**
 * The bytes of {@link encodeFeather}'s file as consecutive pieces, not joined into one buffer: the columns'
 * compressed frames (or views of the Float64Arrays themselves, for a column stored uncompressed) between the
 * Arrow metadata, so the columns must stay unchanged until the pieces are written.
 */
export async function encodeFeatherParts(
  columns: Map<string, Float64Array>,
  timestamps: { name: string; values: Float64Array },
  compression: FeatherCompression,
): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  for await (const part of writeFeather(columns, timestamps, compression)) parts.push(part);
  return parts;
}
