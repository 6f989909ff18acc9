/** LZ4 frame-format decompression (the format Arrow IPC / Feather v2 use for LZ4_FRAME buffers). */

const FRAME_MAGIC = 0x184d2204;

class Output {
  buf: Uint8Array;
  len = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(Math.max(size, 64));
  }
  ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + extra));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}

function u32(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

function decodeBlock(src: Uint8Array, out: Output): void {
  let i = 0;
  while (i < src.length) {
    const token = src[i++];
    let lit = token >> 4;
    if (lit === 15) {
      let b;
      do {
        b = src[i++];
        lit += b;
      } while (b === 255);
    }
    if (i + lit > src.length) throw new Error("lz4: literal run past end of block");
    out.ensure(lit);
    out.buf.set(src.subarray(i, i + lit), out.len);
    out.len += lit;
    i += lit;
    if (i >= src.length) return;
    const offset = src[i] | (src[i + 1] << 8);
    i += 2;
    if (offset === 0 || offset > out.len) throw new Error(`lz4: match offset ${offset} out of range`);
    let mlen = token & 15;
    if (mlen === 15) {
      let b;
      do {
        b = src[i++];
        mlen += b;
      } while (b === 255);
    }
    mlen += 4;
    out.ensure(mlen);
    const buf = out.buf;
    let p = out.len - offset;
    const end = out.len + mlen;
    for (let o = out.len; o < end;) buf[o++] = buf[p++];
    out.len = end;
  }
}

/**
 * Decompresses one or more concatenated LZ4 frames (magic 04 22 4D 18). Skippable frames are skipped;
 * checksums are not verified. Throws on malformed input.
 */
export function decompressLz4Frame(src: Uint8Array): Uint8Array {
  const out = new Output(src.length * 3);
  let i = 0;
  while (i + 4 <= src.length) {
    const magic = u32(src, i);
    i += 4;
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      i += 4 + u32(src, i);
      continue;
    }
    if (magic !== FRAME_MAGIC) throw new Error("lz4: not an LZ4 frame (bad magic number)");
    const flg = src[i];
    if (flg >> 6 !== 1) throw new Error("lz4: unsupported frame version");
    const blockChecksum = (flg & 0x10) !== 0;
    const hasSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const hasDict = (flg & 0x01) !== 0;
    if (hasDict) throw new Error("lz4: frames with a dictionary are not supported");
    i += 2;
    if (hasSize) {
      const size = u32(src, i) + u32(src, i + 4) * 2 ** 32;
      out.ensure(size);
      i += 8;
    }
    i += 1; // header checksum
    for (;;) {
      if (i + 4 > src.length) throw new Error("lz4: truncated frame");
      const word = u32(src, i);
      i += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (i + size > src.length) throw new Error("lz4: truncated block");
      const block = src.subarray(i, i + size);
      if (word & 0x80000000) {
        out.ensure(size);
        out.buf.set(block, out.len);
        out.len += size;
      } else decodeBlock(block, out);
      i += size + (blockChecksum ? 4 : 0);
    }
    if (contentChecksum) i += 4;
  }
  return out.buf.slice(0, out.len);
}
