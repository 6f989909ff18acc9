/**
 * Browser stand-in for `node:zlib` (web/build.ts maps the specifier here). The library only needs
 * `zstdCompressSync` from it: for Parquet pages and ZSTD Feather buffers. Here it writes a valid ZSTD frame
 * made of raw (stored) blocks: any ZSTD decoder reads it, it is just not smaller than the input.
 * `zstdDecompressSync` (io/zstd.ts: the readers) decodes with hyparquet-compressors' pure-JS decoder.
 */
import { decompressZstd } from "npm:hyparquet-compressors@1.1.2";

/** The largest ZSTD block (128 KiB). */
const MAX_BLOCK = 1 << 17;

/** `input` as one ZSTD frame of raw blocks (RFC 8878): magic, single-segment header with the size, blocks. */
export function zstdCompressSync(input: Uint8Array, _opts?: unknown): Uint8Array {
  const n = input.length;
  if (n > 0xffffffff) throw new RangeError("zstd stand-in: input over 4 GiB");
  const blocks = Math.max(1, Math.ceil(n / MAX_BLOCK));
  const out = new Uint8Array(4 + 1 + 4 + 3 * blocks + n);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0xfd2fb528, true); // magic
  out[4] = 0xa0; // Frame_Content_Size_flag 2 (4 bytes), Single_Segment_flag, no checksum, no dictionary
  view.setUint32(5, n, true);
  let at = 9;
  for (let b = 0, start = 0; b < blocks; b++, start += MAX_BLOCK) {
    const size = Math.min(MAX_BLOCK, n - start);
    const header = (size << 3) | (0 << 1) | (b === blocks - 1 ? 1 : 0); // Raw_Block, Last_Block
    out[at] = header & 0xff;
    out[at + 1] = (header >> 8) & 0xff;
    out[at + 2] = (header >> 16) & 0xff;
    out.set(input.subarray(start, start + size), at + 3);
    at += 3 + size;
  }
  return out;
}

/** The constants object the generator reads its ZSTD level key from (the level is ignored here). */
export const constants: Record<string, number> = { ZSTD_c_compressionLevel: 100 };

/** node:zlib's `zstdDecompressSync` for one frame, refusing an output over `maxOutputLength` as Node does. */
export function zstdDecompressSync(input: Uint8Array, opts?: { maxOutputLength?: number }): Uint8Array {
  const out = decompressZstd(input);
  if (opts?.maxOutputLength !== undefined && out.length > opts.maxOutputLength) {
    throw Object.assign(new RangeError(`Cannot create a Buffer larger than ${opts.maxOutputLength} bytes`), {
      code: "ERR_BUFFER_TOO_LARGE",
    });
  }
  return out;
}
