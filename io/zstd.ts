/**
 * ZSTD through the runtime's native codec (node:zlib: Deno 2, Node 22+; the page maps it to a stand-in,
 * web/stubs/node_zlib.ts). The readers decode through it too: it inflates Parquet pages and Feather buffers
 * about 5x faster than the pure-JS decoder of hyparquet-compressors.
 */
import * as zlib from "node:zlib";

/**
 * A plain Uint8Array over a Buffer's bytes. A view, not `new Uint8Array(buffer)`, which copies: for a part's
 * compressed columns that copy cost as much as ZSTD level 1 (fresh memory is slow to touch).
 */
function bytesOf(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** ZSTD-compresses `input` (one frame, level 3: node:zlib's default). */
export function zstdCompress(input: Uint8Array): Uint8Array {
  return bytesOf(zlib.zstdCompressSync(input));
}

/** A ZSTD compressor at `level` (the generator writes at a fast level). */
export function zstdAt(level: number): (input: Uint8Array) => Uint8Array {
  const opts = { params: { [zlib.constants.ZSTD_c_compressionLevel]: level } };
  return (input) => bytesOf(zlib.zstdCompressSync(input, opts));
}

/**
 * Decompresses one ZSTD frame that must inflate to exactly `length` bytes. The length is checked, not
 * trusted: node:zlib stops after the first frame and returns a damaged frame's bytes without an error when
 * the frame carries no checksum, so a short or long result is the only sign of corruption it gives.
 */
export function zstdDecompress(input: Uint8Array, length: number): Uint8Array {
  let out: Uint8Array;
  try {
    out = zlib.zstdDecompressSync(input, { maxOutputLength: Math.max(1, length) });
  } catch (e) {
    const why = (e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE"
      ? `more than the ${length} bytes expected`
      : (e as Error).message;
    throw new Error(`ZSTD frame does not decompress: ${why}`);
  }
  if (out.length !== length) {
    throw new Error(`ZSTD frame decompresses to ${out.length} bytes, expected ${length}`);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
