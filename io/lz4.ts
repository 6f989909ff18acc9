/**
 * A strict LZ4 frame decoder for Arrow's LZ4_FRAME buffers. lz4js trusts its input (a match offset before
 * the output start reads zeros, a length past the end is cut short, checksums are skipped), so a damaged
 * buffer decoded to plausible garbage; here every length and offset is bounds-checked, the header checksum
 * and any block / content checksums the writer stored are verified, and the output must be exactly the size
 * expected. See https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md.
 */

const MAGIC = 0x184d2204;
const BLOCK_MAX = [0, 0, 0, 0, 1 << 16, 1 << 18, 1 << 20, 1 << 22];

/** A damaged or non-LZ4 frame; the message says what is wrong. */
export class Lz4Error extends Error {
  /** Always "Lz4Error". */
  override name = "Lz4Error";
}

const P1 = 0x9e3779b1, P2 = 0x85ebca77, P3 = 0xc2b2ae3d, P4 = 0x27d4eb2f, P5 = 0x165667b1;
const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
const u32 = (b: Uint8Array, i: number) =>
  (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;

/** xxHash32 (seed 0) of bytes[start, end): the checksum LZ4 frames use. */
function xxh32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let i = start;
  let h: number;
  if (end - start >= 16) {
    let v1 = (P1 + P2) | 0, v2 = P2, v3 = 0, v4 = -P1 | 0;
    const round = (v: number, x: number) => Math.imul(rotl((v + Math.imul(x, P2)) | 0, 13), P1);
    for (; i + 16 <= end; i += 16) {
      v1 = round(v1, u32(bytes, i));
      v2 = round(v2, u32(bytes, i + 4));
      v3 = round(v3, u32(bytes, i + 8));
      v4 = round(v4, u32(bytes, i + 12));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else h = P5;
  h = (h + (end - start)) | 0;
  for (; i + 4 <= end; i += 4) h = Math.imul(rotl((h + Math.imul(u32(bytes, i), P3)) | 0, 17), P4);
  for (; i < end; i++) h = Math.imul(rotl((h + Math.imul(bytes[i], P5)) | 0, 11), P1);
  h = Math.imul(h ^ (h >>> 15), P2);
  h = Math.imul(h ^ (h >>> 13), P3);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Decodes one LZ4 frame that must fill the whole of `src`. With `expected`, the output must be exactly that
 * many bytes (checked before and while writing, so a damaged length never allocates more). Throws `Lz4Error`.
 */
export function lz4FrameDecode(src: Uint8Array, expected?: number): Uint8Array {
  const fail = (what: string): never => {
    throw new Lz4Error(`LZ4 frame: ${what}`);
  };
  const end = src.length;
  if (end < 7 || u32(src, 0) !== MAGIC) fail("no LZ4 frame magic");
  const flg = src[4], bd = src[5];
  if (flg >> 6 !== 1 || (flg & 0b10) || (bd & 0x8f) || !BLOCK_MAX[(bd >> 4) & 7]) {
    fail("bad frame descriptor");
  }
  const blockSums = (flg & 0x10) !== 0, contentSize = (flg & 0x08) !== 0, contentSum = (flg & 0x04) !== 0;
  const blockMax = BLOCK_MAX[(bd >> 4) & 7];
  let s = 6 + (contentSize ? 8 : 0) + (flg & 1 ? 4 : 0);
  if (s >= end) fail("truncated header");
  if (((xxh32(src, 4, s) >>> 8) & 0xff) !== src[s]) fail("header checksum mismatch");
  s++;
  let declared: number | undefined;
  if (contentSize) {
    const lo = u32(src, 6), hi = u32(src, 10);
    declared = hi * 2 ** 32 + lo;
    if (expected !== undefined && declared !== expected) {
      fail(`content size ${declared}, expected ${expected}`);
    }
  }
  // Output size: as told, else bounded by the block headers (walked first, O(blocks)).
  let cap = expected ?? declared;
  if (cap === undefined) {
    cap = 0;
    for (let p = s; p + 4 <= end;) {
      const word = u32(src, p);
      const size = word & 0x7fffffff;
      if (word === 0) break;
      cap += word & 0x80000000 ? size : blockMax;
      p += 4 + size + (blockSums ? 4 : 0);
    }
  }
  const out = new Uint8Array(cap);
  let d = 0;
  for (;;) {
    if (s + 4 > end) fail("truncated (no end mark)");
    const word = u32(src, s);
    s += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (size > blockMax || s + size + (blockSums ? 4 : 0) > end) fail(`block of ${size} bytes past the end`);
    if (blockSums && xxh32(src, s, s + size) !== u32(src, s + size)) fail("block checksum mismatch");
    if (word & 0x80000000) {
      if (d + size > cap) fail("more data than expected");
      out.set(src.subarray(s, s + size), d);
      d += size;
    } else d = decodeBlock(src, s, s + size, out, d, fail);
    s += size + (blockSums ? 4 : 0);
  }
  if (contentSum) {
    if (s + 4 > end) fail("truncated content checksum");
    if (xxh32(out, 0, d) !== u32(src, s)) fail("content checksum mismatch");
    s += 4;
  }
  if (s !== end) fail(`${end - s} bytes after the frame`);
  if (d !== cap && (expected !== undefined || declared !== undefined)) {
    fail(`${d} bytes decoded, expected ${cap}`);
  }
  return d === cap ? out : out.subarray(0, d);
}

function decodeBlock(
  src: Uint8Array,
  s: number,
  end: number,
  out: Uint8Array,
  d: number,
  fail: (what: string) => never,
): number {
  const cap = out.length;
  while (s < end) {
    const token = src[s++];
    let lit = token >> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (s >= end) fail("truncated literal length");
        b = src[s++];
        lit += b;
      } while (b === 255);
    }
    if (s + lit > end || d + lit > cap) fail("literals past the end");
    // Short runs byte by byte: a subarray per sequence costs more than the copy.
    if (lit < 32) { for (let i = 0; i < lit; i++) out[d++] = src[s++]; }
    else {
      out.set(src.subarray(s, s + lit), d);
      s += lit;
      d += lit;
    }
    if (s === end) break; // the last sequence has literals only
    if (s + 2 > end) fail("truncated match offset");
    const off = src[s] | (src[s + 1] << 8);
    s += 2;
    if (off === 0 || off > d) fail(`match offset ${off} before the start`);
    let len = token & 15;
    if (len === 15) {
      let b: number;
      do {
        if (s >= end) fail("truncated match length");
        b = src[s++];
        len += b;
      } while (b === 255);
    }
    len += 4;
    if (d + len > cap) fail("match past the end");
    if (off >= len && len >= 32) {
      out.copyWithin(d, d - off, d - off + len);
      d += len;
    } else for (let i = 0; i < len; i++, d++) out[d] = out[d - off];
  }
  return d;
}
