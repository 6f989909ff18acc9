/**
 * Test helper: checks an Arrow IPC file (Feather v2) against the format specification itself, by walking its
 * flatbuffer footer and message metadata by hand (no Arrow library), so a writer bug that our own reader
 * tolerates is still caught. See https://arrow.apache.org/docs/format/Columnar.html#ipc-file-format.
 */
import lz4 from "lz4js";
import * as zlib from "node:zlib";

/** One body buffer of a record or dictionary batch. */
export interface BodyBuffer {
  /** Offset within the message body. */
  offset: number;
  /** Length in the body (for a compressed batch: the 8-byte prefix plus the stored bytes). */
  length: number;
  /** Compressed batch only: the int64 prefix (uncompressed length, or -1 for bytes stored as they are). */
  prefix?: number;
  /** Compressed batch only: length of the bytes after decompression (or as stored, for prefix -1). */
  decodedLength?: number;
}

/** What the check found in one record (or dictionary) batch. */
export interface BatchInfo {
  /** "record" or "dictionary". */
  kind: "record" | "dictionary";
  /** Row count from the batch metadata. */
  rows: number;
  /** Body compression codec, or null for an uncompressed batch. */
  codec: "lz4_frame" | "zstd" | null;
  /** The batch's body buffers in metadata order. */
  buffers: BodyBuffer[];
}

const MAGIC = "ARROW1";
const LZ4_FRAME_MAGIC = 0x184d2204;
const ZSTD_MAGIC = 0xfd2fb528;

/** Minimal flatbuffer table access (little-endian, offsets as in the flatbuffers binary format). */
class Table {
  constructor(readonly view: DataView, readonly pos: number) {}
  /** Absolute position of field `i`, or 0 when the field is absent (default value). */
  field(i: number): number {
    const vtable = this.pos - this.view.getInt32(this.pos, true);
    const vtableSize = this.view.getUint16(vtable, true);
    if (4 + 2 * i >= vtableSize) return 0;
    const off = this.view.getUint16(vtable + 4 + 2 * i, true);
    return off === 0 ? 0 : this.pos + off;
  }
  int64(i: number): number {
    const p = this.field(i);
    return p ? Number(this.view.getBigInt64(p, true)) : 0;
  }
  uint8(i: number): number {
    const p = this.field(i);
    return p ? this.view.getUint8(p) : 0;
  }
  table(i: number): Table | null {
    const p = this.field(i);
    return p ? new Table(this.view, p + this.view.getUint32(p, true)) : null;
  }
  /** A vector of structs of `size` bytes: the position of each element. */
  structs(i: number, size: number): number[] {
    const p = this.field(i);
    if (!p) return [];
    const vec = p + this.view.getUint32(p, true);
    const n = this.view.getUint32(vec, true);
    return Array.from({ length: n }, (_, k) => vec + 4 + k * size);
  }
}

function root(view: DataView, pos: number): Table {
  return new Table(view, pos + view.getUint32(pos, true));
}

function decompress(codec: "lz4_frame" | "zstd", bytes: Uint8Array): Uint8Array {
  const magic = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  if (codec === "lz4_frame") {
    // The format requires the LZ4 *frame* format, not raw LZ4 blocks.
    if (magic !== LZ4_FRAME_MAGIC) throw new Error(`LZ4_FRAME buffer without the LZ4 frame magic`);
    return lz4.decompress(bytes);
  }
  if (magic !== ZSTD_MAGIC) throw new Error(`ZSTD buffer without the zstd frame magic`);
  return new Uint8Array(zlib.zstdDecompressSync(bytes));
}

/**
 * Parses an Arrow IPC file's footer and every batch's metadata, decompresses each compressed body buffer and
 * returns what it found. Throws when the file breaks the format: missing magic, a message or buffer outside
 * the file or not 8-byte aligned, an unknown codec, or a codec buffer that is not a frame of its codec. The
 * caller asserts on the result (e.g. prefix === decodedLength).
 */
export function inspectArrowFile(bytes: Uint8Array): BatchInfo[] {
  const text = (a: number, b: number) => new TextDecoder().decode(bytes.subarray(a, b));
  if (text(0, 6) !== MAGIC || text(bytes.length - 6, bytes.length) !== MAGIC) {
    throw new Error("not an Arrow IPC file: ARROW1 magic missing at the start or the end");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footerLength = view.getInt32(bytes.length - 10, true);
  const footer = root(view, bytes.length - 10 - footerLength);
  const blocks = [
    ...footer.structs(2, 24).map((p) => ["dictionary", p] as const),
    ...footer.structs(3, 24).map((p) => ["record", p] as const),
  ];
  const batches: BatchInfo[] = [];
  for (const [kind, p] of blocks) {
    const offset = Number(view.getBigInt64(p, true));
    const metaLength = view.getInt32(p + 8, true);
    const bodyLength = Number(view.getBigInt64(p + 16, true));
    if (offset % 8 !== 0 || (offset + metaLength) % 8 !== 0) {
      throw new Error(`block at ${offset} not 8-aligned`);
    }
    if (offset + metaLength + bodyLength > bytes.length) throw new Error(`block at ${offset} past the end`);
    if (view.getUint32(offset, true) !== 0xffffffff) throw new Error(`message at ${offset}: no continuation`);
    const message = root(view, offset + 8);
    let batch = message.table(2);
    const headerType = message.uint8(1);
    if (kind === "dictionary" && headerType === 2) batch = batch?.table(1) ?? null;
    else if (kind !== "record" || headerType !== 3) {
      throw new Error(`block at ${offset}: header type ${headerType}`);
    }
    if (!batch) throw new Error(`message at ${offset} has no batch`);
    const compression = batch.table(3);
    const codecId = compression?.uint8(0);
    const codec = compression === null
      ? null
      : codecId === 0
      ? "lz4_frame"
      : codecId === 1
      ? "zstd"
      : undefined;
    if (codec === undefined) throw new Error(`unknown compression codec id ${codecId}`);
    const body = bytes.subarray(offset + metaLength, offset + metaLength + bodyLength);
    const buffers = batch.structs(2, 16).map((q): BodyBuffer => {
      const buf = {
        offset: Number(view.getBigInt64(q, true)),
        length: Number(view.getBigInt64(q + 8, true)),
      };
      // A zero-length buffer has no bytes to align (apache-arrow JS places those unpadded; readers accept it).
      if ((buf.length > 0 && buf.offset % 8 !== 0) || buf.offset + buf.length > body.length) {
        throw new Error(`buffer at body offset ${buf.offset} (+${buf.length}) misaligned or past the body`);
      }
      if (codec === null || buf.length === 0) return buf;
      const prefix = Number(view.getBigInt64(offset + metaLength + buf.offset, true));
      const stored = body.subarray(buf.offset + 8, buf.offset + buf.length);
      const decodedLength = prefix === -1 ? stored.length : decompress(codec, stored).length;
      return { ...buf, prefix, decodedLength };
    });
    batches.push({ kind, rows: batch.int64(0), codec, buffers });
  }
  return batches;
}
