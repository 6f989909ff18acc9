/**
 * Test helper: checks an Arrow IPC file (Feather v2) against the format specification itself. The footer,
 * message and buffer layout is walked by io/arrow_check.ts (a hand-written flatbuffer walker, no Arrow
 * library, also the reader's structural check); here each compressed buffer is also decompressed with the
 * reference codecs (lz4js, node:zlib) and must be a frame of its codec, so a writer bug that our own reader
 * tolerates is still caught. See https://arrow.apache.org/docs/format/Columnar.html#ipc-file-format.
 */
import lz4 from "lz4js";
import * as zlib from "node:zlib";
import { type ArrowBatch, type ArrowBodyBuffer, checkArrowIpc } from "../io/arrow_check.ts";

/** One body buffer of a record or dictionary batch. */
export interface BodyBuffer extends ArrowBodyBuffer {
  /** Compressed batch only: length of the bytes after decompression (or as stored, for prefix -1). */
  decodedLength?: number;
}

/** What the check found in one record (or dictionary) batch. */
export interface BatchInfo extends Pick<ArrowBatch, "kind" | "rows" | "codec"> {
  /** The batch's body buffers in metadata order. */
  buffers: BodyBuffer[];
}

const LZ4_FRAME_MAGIC = 0x184d2204;
const ZSTD_MAGIC = 0xfd2fb528;

function decompress(codec: NonNullable<ArrowBatch["codec"]>, bytes: Uint8Array): Uint8Array {
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
 * Checks an Arrow IPC file's structure (io/arrow_check.ts: footer, messages, nodes and buffers within bounds
 * and consistent with the schema), decompresses each compressed body buffer with a reference codec and
 * returns what it found. Throws when the file breaks the format: missing magic, a message or buffer outside
 * the file or not 8-byte aligned, an unknown codec, or a codec buffer that is not a frame of its codec. The
 * caller asserts on the result (e.g. prefix === decodedLength).
 */
export function inspectArrowFile(bytes: Uint8Array): BatchInfo[] {
  const layout = checkArrowIpc(bytes, "arrow file");
  if (layout.format !== "file") throw new Error("not an Arrow IPC file: ARROW1 magic missing");
  return layout.batches.map(({ kind, rows, codec, buffers, bodyStart }) => {
    if (bodyStart % 8 !== 0) throw new Error(`body at ${bodyStart} not 8-aligned`);
    return {
      kind,
      rows,
      codec,
      buffers: buffers.map((buf): BodyBuffer => {
        // A zero-length buffer has no bytes to align (apache-arrow JS places those unpadded; readers accept it).
        if (buf.length > 0 && buf.offset % 8 !== 0) {
          throw new Error(`buffer at body offset ${buf.offset} misaligned`);
        }
        if (codec === null || buf.length === 0) return buf;
        const stored = bytes.subarray(buf.start + 8, buf.start + buf.length);
        return {
          ...buf,
          decodedLength: buf.prefix === -1 ? stored.length : decompress(codec, stored).length,
        };
      }),
    };
  });
}
