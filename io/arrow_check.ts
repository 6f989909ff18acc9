/**
 * Structural check of Arrow IPC bytes (file format / Feather v2, and the stream format) before apache-arrow
 * reads them: the flatbuffer footer and message metadata are walked by hand with every offset, length and
 * count bounds-checked against the bytes that hold it, and the record batch and dictionary batch layouts
 * (field nodes, body buffers, compression prefixes) checked against the schema and the body. Costs
 * O(metadata): no body byte is read except the 8-byte prefix of each compressed buffer.
 * See https://arrow.apache.org/docs/format/Columnar.html#serialization-and-interprocess-communication-ipc.
 */
import { DataError } from "../runtime/errors.ts";

/** One body buffer of a record or dictionary batch, as the metadata describes it. */
export interface ArrowBodyBuffer {
  /** Offset within the message body. */
  offset: number;
  /** Length in the body (for a compressed batch: the 8-byte prefix plus the stored bytes). */
  length: number;
  /** Absolute position of the buffer's first byte in the checked bytes. */
  start: number;
  /** Compressed batch only: the int64 prefix (uncompressed length, or -1 for bytes stored as they are). */
  prefix?: number;
  /** Bytes the layout needs after decompression (0 when the length is data-dependent, e.g. string data). */
  needed: number;
  /**
   * Most bytes a writer stores for those values (the values rounded up to 64 bytes, plus 64): a larger buffer
   * means a damaged type or length (e.g. float64 data under a type edited to bool). Infinity for string data.
   */
  max: number;
  /** A validity bitmap: its values and the null count its field node declares (checked against the bits). */
  validity?: { length: number; nulls: number };
}

/** One record or dictionary batch. */
export interface ArrowBatch {
  /** "record" or "dictionary". */
  kind: "record" | "dictionary";
  /** Row count from the batch metadata. */
  rows: number;
  /** Body compression codec, or null for an uncompressed batch. */
  codec: "lz4_frame" | "zstd" | null;
  /** The batch's body buffers in metadata order. */
  buffers: ArrowBodyBuffer[];
  /** Absolute position and length of the message body. */
  bodyStart: number;
  /** Length of the message body. */
  bodyLength: number;
}

/** What `checkArrowIpc` found. */
export interface ArrowLayout {
  /** "file" (ARROW1 magic and footer, incl. Feather v2) or "stream". */
  format: "file" | "stream";
  /** Top-level field names, in schema order. */
  fields: string[];
  /** Every dictionary and record batch, in file order. */
  batches: ArrowBatch[];
  /** Sum of the record batches' row counts. */
  rows: number;
}

/** A structural defect, with the byte position it was found at; callers turn it into a DataError. */
class Corrupt extends Error {}

const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"
const CONTINUATION = 0xffffffff;
const MAX_DEPTH = 64; // nested field types deeper than this are not a real schema
const VERSION_V5 = 4; // MetadataVersion.V5: unions lost their validity buffer

/** Bounds-checked little-endian reads over [lo, hi) of the bytes; `what` names the region in errors. */
class Region {
  constructor(readonly view: DataView, readonly lo: number, readonly hi: number, readonly what: string) {}
  need(pos: number, size: number, what: string): void {
    if (!(pos >= this.lo && size >= 0 && pos + size <= this.hi)) {
      throw new Corrupt(
        `${what} (bytes ${pos}..${pos + size}) lies outside the ${this.what} (${this.lo}..${this.hi})`,
      );
    }
  }
  u8(p: number): number {
    this.need(p, 1, "a field");
    return this.view.getUint8(p);
  }
  u16(p: number): number {
    this.need(p, 2, "a field");
    return this.view.getUint16(p, true);
  }
  i32(p: number): number {
    this.need(p, 4, "a field");
    return this.view.getInt32(p, true);
  }
  u32(p: number): number {
    this.need(p, 4, "a field");
    return this.view.getUint32(p, true);
  }
  /** An int64 that must be a safe non-negative integer (a length, offset or count). */
  count(p: number, what: string, allowMinusOne = false): number {
    this.need(p, 8, what);
    const v = this.view.getBigInt64(p, true);
    if (allowMinusOne && v === -1n) return -1;
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Corrupt(`${what} is ${v}`);
    return Number(v);
  }
  root(p: number, what: string): FbTable {
    return new FbTable(this, p + this.u32(p), what);
  }
}

/** A flatbuffer table whose vtable and fields are checked to lie inside its region. */
class FbTable {
  readonly vtable: number;
  readonly vtableSize: number;
  constructor(readonly r: Region, readonly pos: number, readonly what: string) {
    r.need(pos, 4, what);
    this.vtable = pos - r.i32(pos);
    r.need(this.vtable, 4, `${what}'s vtable`);
    this.vtableSize = r.u16(this.vtable);
    if (this.vtableSize < 4 || this.vtableSize % 2) {
      throw new Corrupt(`${what}'s vtable size is ${this.vtableSize}`);
    }
    r.need(this.vtable, this.vtableSize, `${what}'s vtable`);
    r.need(pos, r.u16(this.vtable + 2), what);
  }
  /** Absolute position of field `i` (checked to hold `size` bytes), or 0 when absent. */
  field(i: number, size: number): number {
    if (4 + 2 * i >= this.vtableSize) return 0;
    const off = this.r.u16(this.vtable + 4 + 2 * i);
    if (off === 0) return 0;
    this.r.need(this.pos + off, size, `field ${i} of ${this.what}`);
    return this.pos + off;
  }
  u8(i: number, dflt = 0): number {
    const p = this.field(i, 1);
    return p ? this.r.u8(p) : dflt;
  }
  i16(i: number, dflt = 0): number {
    const p = this.field(i, 2);
    return p ? this.r.view.getInt16(p, true) : dflt;
  }
  i32(i: number, dflt = 0): number {
    const p = this.field(i, 4);
    return p ? this.r.i32(p) : dflt;
  }
  count(i: number, what: string): number {
    const p = this.field(i, 8);
    return p ? this.r.count(p, what) : 0;
  }
  table(i: number, what: string): FbTable | null {
    const p = this.field(i, 4);
    return p ? this.r.root(p, what) : null;
  }
  /** A vector of `size`-byte elements: position of the first and the count, bounds-checked. */
  vector(i: number, size: number, what: string): { at: number; n: number } {
    const p = this.field(i, 4);
    if (!p) return { at: 0, n: 0 };
    const vec = p + this.r.u32(p);
    const n = this.r.u32(vec);
    this.r.need(vec + 4, n * size, what);
    return { at: vec + 4, n };
  }
  tables(i: number, what: string): FbTable[] {
    const { at, n } = this.vector(i, 4, what);
    return Array.from({ length: n }, (_, k) => this.r.root(at + 4 * k, `${what}[${k}]`));
  }
  string(i: number, what: string): string {
    const { at, n } = this.vector(i, 1, what);
    if (at === 0) return ""; // absent
    // Flatbuffer strings end with a NUL: a damaged offset or length rarely lands on one.
    if (this.r.u8(at + n) !== 0) throw new Corrupt(`${what} at byte ${at} is not NUL-terminated`);
    return n
      ? new TextDecoder().decode(new Uint8Array(this.r.view.buffer, this.r.view.byteOffset + at, n))
      : "";
  }
}

/** How one field node's buffers are laid out: what each buffer holds, for the size checks. */
type BufferKind =
  | { kind: "validity" }
  | { kind: "fixed"; width: number } // bytes per value
  | { kind: "bits" } // boolean values
  | { kind: "offsets"; width: number }
  | { kind: "free" }; // size depends on the data (string bytes, variadic view data)

interface NodeLayout {
  path: string;
  buffers: BufferKind[];
  /** View types: one more data buffer per count in RecordBatch.variadicBufferCounts. */
  variadic?: boolean;
  /** A top-level node: its length must equal the batch's row count. */
  top?: boolean;
}

interface FieldInfo {
  name: string;
  /** The schema signature of this field, to compare the footer's schema with the stream's. */
  signature: string;
  /** Record-batch layout: the field's nodes in pre-order (a dictionary-encoded field is one index node). */
  nodes: NodeLayout[];
  /** Dictionary-encoded: the id and the dictionary batch layout (the value type's nodes). */
  dictionary?: { id: number; nodes: NodeLayout[] };
}

const V = { kind: "validity" } as const;
const FREE = { kind: "free" } as const;
const fixed = (width: number) => ({ kind: "fixed", width } as const);

/** The nodes (pre-order) and buffers a field of this type has in a batch, and a signature of the type. */
function typeNodes(
  typeId: number,
  type: FbTable | null,
  path: string,
  children: FbTable[],
  version: number,
  depth: number,
): { nodes: NodeLayout[]; signature: string } {
  const t = (i: number, d: number) => type?.i32(i, d) ?? d;
  const sh = (i: number, d: number) => type?.i16(i, d) ?? d;
  const child = (kids: FbTable[]) => kids.map((c) => fieldInfo(c, `${path}.`, version, depth + 1));
  const one = (buffers: BufferKind[], variadic = false): NodeLayout[] => [{ path, buffers, variadic }];
  let nodes: NodeLayout[];
  let param = "";
  switch (typeId) {
    case 1: // Null
      nodes = one([]);
      break;
    case 2: { // Int
      const bits = t(0, 0);
      if (![8, 16, 32, 64].includes(bits)) throw new Corrupt(`field "${path}": Int bit width ${bits}`);
      nodes = one([V, fixed(bits / 8)]);
      param = `${bits}`;
      break;
    }
    case 3: { // FloatingPoint
      const precision = sh(0, 0);
      if (precision < 0 || precision > 2) throw new Corrupt(`field "${path}": float precision ${precision}`);
      nodes = one([V, fixed(2 << precision)]);
      param = `${precision}`;
      break;
    }
    case 4: // Binary
    case 5: // Utf8
      nodes = one([V, { kind: "offsets", width: 4 }, FREE]);
      break;
    case 19: // LargeBinary
    case 20: // LargeUtf8
      nodes = one([V, { kind: "offsets", width: 8 }, FREE]);
      break;
    case 6: // Bool
      nodes = one([V, { kind: "bits" }]);
      break;
    case 7: { // Decimal
      const bits = t(2, 128);
      if (![32, 64, 128, 256].includes(bits)) throw new Corrupt(`field "${path}": Decimal bit width ${bits}`);
      nodes = one([V, fixed(bits / 8)]);
      param = `${t(0, 0)},${t(1, 0)},${bits}`;
      break;
    }
    case 8: // Date: DAY is int32, MILLISECOND int64
      param = `${sh(0, 1)}`;
      nodes = one([V, fixed(sh(0, 1) === 0 ? 4 : 8)]);
      break;
    case 9: { // Time
      const bits = t(1, 32);
      if (bits !== 32 && bits !== 64) throw new Corrupt(`field "${path}": Time bit width ${bits}`);
      nodes = one([V, fixed(bits / 8)]);
      param = `${sh(0, 1)},${bits}`;
      break;
    }
    case 10: // Timestamp
    case 18: // Duration
      nodes = one([V, fixed(8)]);
      param = `${sh(0, 0)}${typeId === 10 ? "," + (type?.string(1, "time zone") ?? "") : ""}`;
      break;
    case 11: { // Interval: YEAR_MONTH 4, DAY_TIME 8, MONTH_DAY_NANO 16 bytes
      const unit = sh(0, 0);
      if (unit < 0 || unit > 2) throw new Corrupt(`field "${path}": interval unit ${unit}`);
      nodes = one([V, fixed([4, 8, 16][unit])]);
      param = `${unit}`;
      break;
    }
    case 15: { // FixedSizeBinary
      const width = t(0, 0);
      if (width < 0) throw new Corrupt(`field "${path}": byte width ${width}`);
      nodes = one([V, fixed(width)]);
      param = `${width}`;
      break;
    }
    case 23: // BinaryView
    case 24: // Utf8View
      nodes = one([V, fixed(16)], true);
      break;
    case 12: // List
    case 17: // Map
    case 21: // LargeList
    case 25: // ListView
    case 26: { // LargeListView
      if (children.length !== 1) {
        throw new Corrupt(`field "${path}": a list type with ${children.length} children`);
      }
      const w = typeId === 21 || typeId === 26 ? 8 : 4;
      const own: BufferKind[] = typeId >= 25 ? [V, fixed(w), fixed(w)] : [V, { kind: "offsets", width: w }];
      const kids = child(children);
      nodes = [...one(own), ...kids.flatMap((k) => k.nodes)];
      param = kids.map((k) => k.signature).join();
      break;
    }
    case 16: // FixedSizeList
    case 13: { // Struct_
      if (typeId === 16 && children.length !== 1) {
        throw new Corrupt(`field "${path}": a fixed-size list with ${children.length} children`);
      }
      const kids = child(children);
      nodes = [...one([V]), ...kids.flatMap((k) => k.nodes)];
      param = `${typeId === 16 ? t(0, 0) : ""}:${kids.map((k) => k.signature).join()}`;
      break;
    }
    case 14: { // Union: type ids (+ offsets when dense); pre-V5 also a validity buffer
      const dense = sh(0, 0) === 1;
      const kids = child(children);
      const own: BufferKind[] = [
        ...(version < VERSION_V5 ? [V] : []),
        fixed(1),
        ...(dense ? [fixed(4)] : []),
      ];
      nodes = [...one(own), ...kids.flatMap((k) => k.nodes)];
      param = `${dense}:${kids.map((k) => k.signature).join()}`;
      break;
    }
    case 22: { // RunEndEncoded: no buffers of its own; run ends and values as children
      if (children.length !== 2) {
        throw new Corrupt(`field "${path}": run-end encoded with ${children.length} children`);
      }
      const kids = child(children);
      nodes = [...one([]), ...kids.flatMap((k) => k.nodes)];
      param = kids.map((k) => k.signature).join();
      break;
    }
    default:
      throw new Corrupt(`field "${path}": unknown type id ${typeId}`);
  }
  return { nodes, signature: `${typeId}(${param})` };
}

function fieldInfo(f: FbTable, prefix: string, version: number, depth: number): FieldInfo {
  if (depth > MAX_DEPTH) throw new Corrupt(`field types nested deeper than ${MAX_DEPTH} levels`);
  const name = f.string(0, "a field name");
  // Names are UTF-8 without control characters in every real file; a damaged name offset lands on binary bytes.
  if ([...name].some((c) => c < " " || c === "\ufffd")) {
    throw new Corrupt(`field name ${JSON.stringify(name)} is not text`);
  }
  const path = prefix + name;
  const typeId = f.u8(2);
  const type = f.table(3, `the type of field "${path}"`);
  const children = f.tables(5, `the children of field "${path}"`);
  const { nodes, signature } = typeNodes(typeId, type, path, children, version, depth);
  const dict = f.table(4, `the dictionary encoding of field "${path}"`);
  const sig = `${JSON.stringify(name)}:${f.u8(1)}:${signature}`;
  const top = (n: NodeLayout[]) => [{ ...n[0], top: true }, ...n.slice(1)];
  if (!dict) return { name, signature: sig, nodes: depth === 0 ? top(nodes) : nodes };
  const id = dict.count(0, `the dictionary id of field "${path}"`);
  const index = dict.table(1, `the dictionary index type of field "${path}"`);
  const bits = index?.i32(0, 32) ?? 32;
  if (![8, 16, 32, 64].includes(bits)) {
    throw new Corrupt(`field "${path}": dictionary index bit width ${bits}`);
  }
  return {
    name,
    signature: `${sig}:dict${id}/${bits}`,
    nodes: [{ path, buffers: [V, fixed(bits / 8)], top: depth === 0 }],
    dictionary: { id, nodes: top(nodes) },
  };
}

interface Schema {
  fields: FieldInfo[];
  signature: string;
  dictionaries: Map<number, NodeLayout[]>;
}

function readSchema(s: FbTable, version: number): Schema {
  const fields = s.tables(1, "the schema's fields").map((f) => fieldInfo(f, "", version, 0));
  const dictionaries = new Map<number, NodeLayout[]>();
  const collect = (infos: FieldInfo[]) => {
    for (const f of infos) if (f.dictionary) dictionaries.set(f.dictionary.id, f.dictionary.nodes);
  };
  collect(fields);
  return { fields, signature: fields.map((f) => f.signature).join("|"), dictionaries };
}

interface Message {
  headerType: number;
  header: FbTable;
  bodyLength: number;
  version: number;
}

/** Reads the encapsulated message at `at`: continuation (or legacy length-only) prefix and flatbuffer. */
function readMessage(r: Region, at: number): { message: Message | null; metaEnd: number } {
  r.need(at, 4, "a message length");
  let len = r.i32(at);
  let fb = at + 4;
  if (r.u32(at) === CONTINUATION) {
    len = r.i32(at + 4);
    fb = at + 8;
  }
  if (len === 0) return { message: null, metaEnd: fb }; // end-of-stream marker
  if (len < 0) throw new Corrupt(`message at byte ${at} has metadata length ${len}`);
  const meta = new Region(r.view, fb, fb + len, `message metadata at byte ${at}`);
  r.need(fb, len, `the metadata of the message at byte ${at}`);
  const m = meta.root(fb, `the message at byte ${at}`);
  const headerType = m.u8(1);
  // V4 (Arrow 0.8 to 0.17) and V5 (1.0 on) only: readers lay buffers out differently for older versions.
  const version = m.i16(0);
  if (version !== 3 && version !== 4) {
    throw new Corrupt(`message at byte ${at} has metadata version ${version + 1}`);
  }
  const header = m.table(2, `the header of the message at byte ${at}`);
  if (!header) throw new Corrupt(`message at byte ${at} has no header`);
  return {
    message: {
      headerType,
      header,
      bodyLength: m.count(3, `body length of the message at byte ${at}`),
      version,
    },
    metaEnd: fb + len,
  };
}

const CODECS = ["lz4_frame", "zstd"] as const;
const FRAME_MAGIC = { lz4_frame: 0x184d2204, zstd: 0xfd2fb528 } as const;

/** Checks a record batch (or a dictionary batch's data) against the layout and its body. */
function readBatch(
  r: Region,
  rb: FbTable,
  kind: "record" | "dictionary",
  layout: NodeLayout[],
  bodyStart: number,
  bodyLength: number,
  where: string,
): ArrowBatch {
  const rows = rb.count(0, `${where}: row count`);
  const compression = rb.table(3, `${where}: compression`);
  let codec: ArrowBatch["codec"] = null;
  if (compression) {
    const id = compression.u8(0);
    if (id > 1) throw new Corrupt(`${where}: unknown compression codec id ${id}`);
    if (compression.u8(1) !== 0) {
      throw new Corrupt(`${where}: unknown compression method ${compression.u8(1)}`);
    }
    codec = CODECS[id];
  }
  const nodesVec = rb.vector(1, 16, `${where}: field nodes`);
  const bufVec = rb.vector(2, 16, `${where}: buffers`);
  const variadic = rb.vector(4, 8, `${where}: variadic buffer counts`);
  if (nodesVec.n !== layout.length) {
    throw new Corrupt(`${where} has ${nodesVec.n} field nodes; the schema needs ${layout.length}`);
  }
  const body = new Region(r.view, bodyStart, bodyStart + bodyLength, `body of ${where}`);
  const buffers: ArrowBodyBuffer[] = [];
  let b = 0;
  let v = 0;
  for (let k = 0; k < layout.length; k++) {
    const node = layout[k];
    const nodeAt = nodesVec.at + 16 * k;
    const length = r.count(nodeAt, `${where}: length of field "${node.path}"`);
    const nulls = r.count(nodeAt + 8, `${where}: null count of field "${node.path}"`);
    if (nulls > length) {
      throw new Corrupt(`${where}: field "${node.path}" has ${nulls} nulls in ${length} values`);
    }
    if (node.top && length !== rows) {
      throw new Corrupt(`${where}: field "${node.path}" has ${length} values in a batch of ${rows} rows`);
    }
    let kinds = node.buffers;
    if (node.variadic) {
      if (v >= variadic.n) throw new Corrupt(`${where}: field "${node.path}" has no variadic buffer count`);
      const extra = r.count(variadic.at + 8 * v++, `${where}: variadic buffer count`);
      if (extra > bufVec.n) throw new Corrupt(`${where}: variadic buffer count ${extra}`);
      kinds = [...kinds, ...Array<BufferKind>(extra).fill(FREE)];
    }
    for (const bk of kinds) {
      if (b >= bufVec.n) throw new Corrupt(`${where} has ${bufVec.n} buffers; the schema needs more`);
      const at = bufVec.at + 16 * b++;
      const offset = r.count(at, `${where}: buffer offset`);
      const len = r.count(at + 8, `${where}: buffer length`);
      body.need(bodyStart + offset, len, `buffer ${b - 1} of field "${node.path}"`);
      // The format aligns buffers to 8 bytes (writers leave empty ones where they fall): a shifted offset isn't.
      if (len > 0 && offset % 8 !== 0) {
        throw new Corrupt(
          `${where}: buffer ${b - 1} of field "${node.path}" at body offset ${offset}, not 8-aligned`,
        );
      }
      const needed = neededBytes(bk, length, nulls);
      const max = bk.kind === "free" ? Infinity : Math.ceil(neededBytes(bk, length, length) / 64) * 64 + 64;
      const buf: ArrowBodyBuffer = { offset, length: len, start: bodyStart + offset, needed, max };
      let size = len;
      if (codec && len > 0) {
        if (len < 8) {
          throw new Corrupt(`${where}: compressed buffer ${b - 1} is ${len} bytes, shorter than its prefix`);
        }
        buf.prefix = r.count(bodyStart + offset, `${where}: uncompressed length of buffer ${b - 1}`, true);
        // A prefix equal to the stored length may be apache-arrow JS's (wrong) compressed length: checked on decoding.
        size = buf.prefix === -1 ? len - 8 : buf.prefix === len - 8 ? needed : buf.prefix;
        // Marked "stored as is" (-1) yet holding a frame of the batch's codec: the prefix is damaged, and the
        // frame's bytes would be read as values.
        if (buf.prefix === -1 && len >= 12 && r.u32(bodyStart + offset + 8) === FRAME_MAGIC[codec]) {
          throw new Corrupt(
            `${where}: buffer ${
              b - 1
            } of field "${node.path}" is marked uncompressed but holds a ${codec} frame`,
          );
        }
      }
      if (size < needed) tooShort(where, b - 1, node.path, size, needed);
      if (bk.kind === "validity" && len > 0) {
        buf.validity = { length, nulls };
        if (!codec) {
          const bits = new Uint8Array(r.view.buffer, r.view.byteOffset + bodyStart + offset, len);
          checkNulls(bits, buf.validity, `${where}: field "${node.path}"`);
        }
      }
      if (size > max) {
        throw new Corrupt(
          `${where}: buffer ${
            b - 1
          } of field "${node.path}" holds ${size} bytes, far more than its ${length} values need`,
        );
      }
      buffers.push(buf);
    }
  }
  if (b !== bufVec.n) throw new Corrupt(`${where} has ${bufVec.n} buffers; the schema needs ${b}`);
  // Buffers may not overlap (each writer lays them out one after another).
  const sorted = buffers.filter((x) => x.length > 0).sort((x, y) => x.offset - y.offset);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].offset < sorted[i - 1].offset + sorted[i - 1].length) {
      throw new Corrupt(
        `${where}: body buffers at offsets ${sorted[i - 1].offset} and ${sorted[i].offset} overlap`,
      );
    }
  }
  return { kind, rows, codec, buffers, bodyStart, bodyLength };
}

const ONES = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let x = b; x; x >>= 1) n += x & 1;
  return n;
});

/**
 * Checks that a validity bitmap has as many 0 bits in its first `length` bits as the field node's null count:
 * with a damaged count apache-arrow would read nulls as values (or values as nulls). Reads length/8 bytes.
 */
export function checkNulls(bits: Uint8Array, v: { length: number; nulls: number }, where: string): void {
  if (bits.length * 8 < v.length) return; // too short: the size checks say so
  let set = 0;
  const whole = v.length >> 3;
  for (let i = 0; i < whole; i++) set += ONES[bits[i]];
  if (v.length & 7) set += ONES[bits[whole] & ((1 << (v.length & 7)) - 1)];
  if (v.length - set !== v.nulls) {
    throw new Corrupt(`${where}: ${v.length - set} nulls in the validity bitmap, ${v.nulls} in the metadata`);
  }
}

function tooShort(where: string, b: number, path: string, got: number, needed: number): never {
  throw new Corrupt(`${where}: buffer ${b} of field "${path}" holds ${got} bytes; its values need ${needed}`);
}

/** Bytes a buffer needs for `length` values (0 where only the data can tell). */
function neededBytes(b: BufferKind, length: number, nulls: number): number {
  switch (b.kind) {
    case "validity":
      return nulls > 0 ? Math.ceil(length / 8) : 0;
    case "bits":
      return Math.ceil(length / 8);
    case "fixed":
      return length * b.width;
    case "offsets":
      return length > 0 ? (length + 1) * b.width : 0;
    case "free":
      return 0;
  }
}

/**
 * Checks Arrow IPC bytes (file format with ARROW1 magic and footer, incl. Feather v2, or the stream format)
 * structurally and returns their layout. Every offset and length in the footer, the messages, the field nodes
 * and the buffers is checked against the region that must hold it (file, message metadata, message body);
 * node and buffer counts against the schema; buffer sizes against the values the nodes declare; each field
 * node's length against its batch's row count; dictionary batches against the schema's dictionary fields;
 * the footer's schema against the stream's. Throws a `DataError` starting with `${source}: ` on the first
 * defect. O(metadata): body bytes are not read, except the 8-byte prefix of compressed buffers.
 */
export function checkArrowIpc(bytes: Uint8Array, source: string): ArrowLayout {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Positions are relative to `bytes`: a Region over the view starting at 0.
  const file = new Region(view, 0, bytes.length, "file");
  try {
    const isFile = MAGIC.every((c, i) => bytes[i] === c);
    return isFile ? checkFile(file, bytes) : checkStream(file);
  } catch (e) {
    if (!(e instanceof Corrupt)) throw e;
    throw new DataError(
      `${source}: corrupt Arrow IPC / Feather data (${bytes.length} bytes): ${e.message}; the file is damaged ` +
        `or truncated, re-write or re-download it`,
    );
  }
}

function checkFile(file: Region, bytes: Uint8Array): ArrowLayout {
  const n = bytes.length;
  if (n < 8 + 10 || !MAGIC.every((c, i) => bytes[n - 6 + i] === c)) {
    throw new Corrupt(`ARROW1 magic at the start but not at the end (truncated?)`);
  }
  const footerLength = file.i32(n - 10);
  const footerStart = n - 10 - footerLength;
  if (footerLength <= 0 || footerStart < 8) {
    throw new Corrupt(`footer length ${footerLength} does not fit the file`);
  }
  const fr = new Region(file.view, footerStart, n - 10, "footer");
  const footer = fr.root(footerStart, "the footer");
  const schemaTable = footer.table(1, "the footer's schema");
  if (!schemaTable) throw new Corrupt("the footer has no schema");
  const version = footer.i16(0);
  const schema = readSchema(schemaTable, version);
  // The stream part usually starts with its own copy of the schema (apache-arrow JS leaves it out): if
  // there, both must agree.
  const head = readMessage(file, 8);
  if (head.message?.headerType === 1) {
    if (readSchema(head.message.header, head.message.version).signature !== schema.signature) {
      throw new Corrupt("the footer's schema differs from the stream's");
    }
  }
  const batches: ArrowBatch[] = [];
  const blocks: (readonly ["dictionary" | "record", number])[] = [
    ...range(footer.vector(2, 24, "the footer's dictionary blocks")).map((p) => ["dictionary", p] as const),
    ...range(footer.vector(3, 24, "the footer's record batch blocks")).map((p) => ["record", p] as const),
  ];
  const spans: [number, number][] = [];
  const dicts = { seen: new Set<number>(), file: true };
  const stream = new Region(file.view, 8, footerStart, "data between the magic and the footer");
  let rows = 0;
  for (const [kind, p] of blocks) {
    const offset = fr.count(p, `${kind} block offset`);
    const metaLength = fr.i32(p + 8);
    const bodyLength = fr.count(p + 16, `${kind} block body length`);
    const where = `${kind} batch at byte ${offset}`;
    if (metaLength <= 0) throw new Corrupt(`${where}: metadata length ${metaLength}`);
    stream.need(offset, metaLength + bodyLength, where);
    const { message, metaEnd } = readMessage(
      new Region(file.view, offset, offset + metaLength, where),
      offset,
    );
    if (!message) throw new Corrupt(`${where}: an end-of-stream marker where the footer points to a batch`);
    if (metaEnd > offset + metaLength) throw new Corrupt(`${where}: metadata longer than its block`);
    if (message.bodyLength !== bodyLength) {
      throw new Corrupt(
        `${where}: body length ${message.bodyLength} in the message, ${bodyLength} in the footer`,
      );
    }
    spans.push([offset, offset + metaLength + bodyLength]);
    const batch = readBody(file, message, kind, schema, offset + metaLength, where, dicts);
    if (kind === "record") rows += batch.rows;
    batches.push(batch);
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) {
      throw new Corrupt(`batches at bytes ${spans[i - 1][0]} and ${spans[i][0]} overlap`);
    }
  }
  return { format: "file", fields: schema.fields.map((f) => f.name), batches, rows };
}

function range({ at, n }: { at: number; n: number }): number[] {
  return Array.from({ length: n }, (_, k) => at + 24 * k);
}

/** Checks a batch message's header and layout against the schema. */
function readBody(
  file: Region,
  message: Message,
  kind: "dictionary" | "record",
  schema: Schema,
  bodyStart: number,
  where: string,
  dicts: { seen: Set<number>; file: boolean },
): ArrowBatch {
  if (kind === "record") {
    if (message.headerType !== 3) {
      throw new Corrupt(`${where}: message type ${message.headerType}, not a record batch`);
    }
    for (const id of schema.dictionaries.keys()) {
      if (!dicts.seen.has(id)) throw new Corrupt(`${where}: no dictionary batch for dictionary id ${id}`);
    }
    const layout = schema.fields.flatMap((f) => f.nodes);
    return readBatch(file, message.header, "record", layout, bodyStart, message.bodyLength, where);
  }
  if (message.headerType !== 2) {
    throw new Corrupt(`${where}: message type ${message.headerType}, not a dictionary batch`);
  }
  const id = message.header.count(0, `${where}: dictionary id`);
  const layout = schema.dictionaries.get(id);
  if (!layout) throw new Corrupt(`${where}: dictionary id ${id} is not in the schema`);
  // The file format has one dictionary per id (plus deltas); a stream may replace one.
  const delta = message.header.u8(2) !== 0;
  if (delta ? !dicts.seen.has(id) : dicts.file && dicts.seen.has(id)) {
    throw new Corrupt(`${where}: ${delta ? "a delta before" : "a second"} dictionary batch for id ${id}`);
  }
  dicts.seen.add(id);
  const data = message.header.table(1, `${where}: dictionary data`);
  if (!data) throw new Corrupt(`${where}: dictionary batch without data`);
  return readBatch(file, data, "dictionary", layout, bodyStart, message.bodyLength, where);
}

function checkStream(file: Region): ArrowLayout {
  let at = 0;
  const dicts = { seen: new Set<number>(), file: false };
  let schema: Schema | null = null;
  const batches: ArrowBatch[] = [];
  let rows = 0;
  while (at + 4 <= file.hi) {
    const { message, metaEnd } = readMessage(file, at);
    if (!message) {
      // An end-of-stream marker ends the data: anything but padding after it is a damaged message length.
      const rest = new Uint8Array(
        file.view.buffer,
        file.view.byteOffset + metaEnd,
        Math.max(0, file.hi - metaEnd),
      );
      if (rest.some((b) => b !== 0)) {
        throw new Corrupt(`an end-of-stream marker at byte ${at} with data after it`);
      }
      break;
    }
    const where = `message at byte ${at}`;
    file.need(metaEnd, message.bodyLength, `the body of the ${where}`);
    if (!schema) {
      if (message.headerType !== 1) throw new Corrupt(`the stream does not start with a schema message`);
      schema = readSchema(message.header, message.version);
    } else if (message.headerType === 2 || message.headerType === 3) {
      const kind = message.headerType === 2 ? "dictionary" : "record";
      const batch = readBody(file, message, kind, schema, metaEnd, where, dicts);
      if (kind === "record") rows += batch.rows;
      batches.push(batch);
    } else throw new Corrupt(`${where}: unexpected message type ${message.headerType}`);
    at = metaEnd + message.bodyLength;
  }
  if (!schema) throw new Corrupt("no schema message");
  if (at < file.hi && file.hi - at < 4) throw new Corrupt(`${file.hi - at} stray bytes at the end`);
  return { format: "stream", fields: schema.fields.map((f) => f.name), batches, rows };
}
