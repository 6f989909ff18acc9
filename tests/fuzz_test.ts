/**
 * Seeded fuzzing of the input decoders (decodeFrame): mutants of valid Feather (uncompressed, LZ4), Parquet
 * (ZSTD without page CRCs, Snappy with CRCs) and CSV files, made by bit flips, truncations, length/offset
 * field edits, zeroed ranges and duplicated chunks. Each mutant is decoded in a worker (tests/fuzz_worker.ts)
 * under a per-mutant timeout. Asserted for every mutant: no hang; no crash (only DataError); a one-line message
 * starting with the file name; and no success with garbled structure. A mutant that decodes must either give
 * the original frame exactly, or differ only in ways no reader can detect by design (listed in `UNDETECTABLE`)
 * with the same columns and rows, and only when the changed bytes lie in those regions. A sample of rejected
 * mutants also goes through the CLI (exit 2, one error line naming the file).
 */
import { strict as assert } from "node:assert";
import { encodeFeather } from "../io/feather_write.ts";
import { encodeParquet } from "../io/parquet_write.ts";
import { checkArrowIpc } from "../io/arrow_check.ts";
import { checkColumnChunk, checkParquetFooter } from "../io/parquet_check.ts";
import { parquetMetadata, parquetSchema } from "hyparquet";
import { cli } from "./cli_harness.ts";
import type { FuzzReply, FuzzResult } from "./fuzz_worker.ts";

// Fixed for CI; FUZZ_SEED / FUZZ_MUTANTS run a deeper or different campaign locally.
const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 0x5eed_2026);
const MUTANTS_PER_FILE = Number(Deno.env.get("FUZZ_MUTANTS") ?? 300);
// Per mutant; the valid files decode in a few ms. hyparquet's RLE decoder loops over a damaged run length inside
// a compressed page without a CRC (up to 2^31 steps: about a second), so "a hang" is well above that.
const TIMEOUT_MS = 10_000;

/**
 * What a checksum-free format cannot reveal, so a mutant touching only such bytes may decode to other values
 * (same columns, same rows). Everything else must be rejected or decode to the original frame.
 */
const UNDETECTABLE = {
  "arrow-uncompressed": "value bytes in record batch bodies; column names (Arrow IPC has no checksums)",
  "arrow-lz4": "bytes inside LZ4 frames that still decode to the prefix's length (literals; no content " +
    "checksum); column names",
  "arrow-zstd-stream":
    "bytes inside ZSTD frames that still decode to the prefix's length (no content checksum " +
    "checked); column names; types in the stream's one schema",
  "parquet-no-crc":
    "page data of pages without a CRC (ZSTD payload bytes that still decode); schema flags in " +
    "the footer (e.g. REQUIRED/OPTIONAL: the footer has no checksum)",
  "parquet-crc": "nothing in page data (every page has a CRC); schema flags in the footer",
  csv:
    "characters of values, times and column names; a cut at a line end or inside the last field; whole lines " +
    "duplicated (CSV has no length or checksum; the pipeline rejects the repeated timestamps)",
} as const;

type Kind = keyof typeof UNDETECTABLE;

/** mulberry32: small, fast, seeded. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Input {
  name: string;
  kind: Kind;
  bytes: Uint8Array;
  /** Byte ranges [start, end) of values, where edits are undetectable by design. */
  valueRegions: [number, number][];
  /** Byte ranges of column names (and their lengths), where edits only rename. */
  nameRegions: [number, number][];
  /** Parquet: the data of pages with a CRC, where no change may decode. */
  crcPages?: [number, number][];
  /** Byte ranges of schema flags no checksum covers, where an edit may reinterpret values (same columns, rows). */
  typeRegions?: [number, number][];
  /** Positions of length/offset fields to aim the length edits at (plus random aligned positions). */
  lengthFields: number[];
  /** Read text cells that are not numbers as NaN (pyarrow's fixture has such columns on purpose). */
  badValues?: "nan";
}

const N = 240;
const T0 = Date.UTC(2024, 0, 2, 9, 30);

function columns() {
  const timestamps = {
    name: "timestamp",
    values: Float64Array.from({ length: N }, (_, i) => T0 + i * 60_000),
  };
  let s = 7;
  const cols = new Map([
    ["close", Float64Array.from({ length: N }, (_, i) => 100 + (i % 17) * 0.25)],
    ["volume", Float64Array.from({ length: N }, () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) % 5000)],
  ]);
  return { timestamps, cols };
}

function arrowInput(name: string, compression: "none" | "lz4", file?: Uint8Array, names?: string[]): Input {
  const { timestamps, cols } = columns();
  const bytes = file ?? encodeFeather(cols, timestamps, compression);
  const layout = checkArrowIpc(bytes, name);
  const valueRegions: [number, number][] = [];
  const lengthFields = [bytes.length - 10];
  for (const b of layout.batches) {
    lengthFields.push(b.bodyStart - 8); // near the message's metadata
    if (compression === "none") valueRegions.push([b.bodyStart, b.bodyStart + b.bodyLength]);
    for (const buf of b.buffers) {
      if (buf.prefix === undefined) continue;
      lengthFields.push(buf.start);
      valueRegions.push([buf.start + 8, buf.start + buf.length]);
    }
  }
  return {
    name,
    kind: compression === "none" ? "arrow-uncompressed" : "arrow-lz4",
    bytes,
    valueRegions,
    nameRegions: nameRegions(bytes, names ?? ["timestamp", ...cols.keys()]),
    // apache-arrow JS (our writer) stores the schema once, in the footer: a type edited there (e.g. a time unit,
    // or timestamp into interval) reinterprets values, and Arrow metadata has no checksum. pyarrow's two copies
    // are compared by io/arrow_check.ts, so its file gets no such allowance.
    typeRegions: file ? [] : footerSchema(bytes, layout.batches.map((b) => b.bodyLength)),
    lengthFields,
  };
}

/** The footer minus its blocks (offsets and lengths of the batches, 24 bytes each, found by body length). */
function footerSchema(bytes: Uint8Array, bodyLengths: number[]): [number, number][] {
  const start = bytes.length - 10 -
    new DataView(bytes.buffer, bytes.byteOffset).getInt32(bytes.length - 10, true);
  const cuts: [number, number][] = [];
  for (const len of bodyLengths) {
    const v = new Uint8Array(BigInt64Array.of(BigInt(len)).buffer);
    for (let p = start; p + 8 <= bytes.length; p++) {
      if (v.every((c, i) => bytes[p + i] === c)) cuts.push([p - 16, p + 8]);
    }
  }
  cuts.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  let at = start;
  for (const [a, b] of cuts) {
    if (a > at) out.push([at, a]);
    at = Math.max(at, b);
  }
  out.push([at, bytes.length - 10]);
  return out;
}

function parquetInput(name: string, bytes: Uint8Array, kind: Kind): Input {
  const meta = parquetMetadata(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
  );
  const all = new Set(parquetSchema(meta).children.map((c) => c.element.name));
  const valueRegions: [number, number][] = [];
  const crcPages: [number, number][] = [];
  const lengthFields = [bytes.length - 8];
  for (const chunk of checkParquetFooter(meta, bytes.length, name, all)) {
    for (const p of checkColumnChunk(bytes.subarray(chunk.start, chunk.end), chunk, name)) {
      lengthFields.push(p.header, p.header + 2, p.header + 4);
      (p.crc ? crcPages : valueRegions).push([p.data, p.end]);
    }
  }
  // The footer's schema (its first field, up to the last column's name): a flag edited there (e.g. REQUIRED to
  // OPTIONAL, a type annotation) reinterprets the pages, and a Parquet footer has no checksum.
  const footer = bytes.length - 8 - meta.metadata_length;
  const last = new TextEncoder().encode([...all].pop()!);
  let end = footer;
  while (end < bytes.length && !last.every((c, i) => bytes[end + i] === c)) end++;
  const typeRegions: [number, number][] = [[footer, end + last.length + 1]];
  return { name, kind, bytes, valueRegions, nameRegions: [], typeRegions, crcPages, lengthFields };
}

/**
 * pyarrow's Feather (tests/fixtures/arrow_pyarrow): 3 record batches, dictionary batches, a schema message as
 * well as the footer's, nulls, ints, decimals, time units, text columns.
 */
function pyarrowInput(bytes: Uint8Array): Input {
  const names = checkArrowIpc(bytes, "pyarrow.feather").fields;
  return { ...arrowInput("pyarrow.feather", "none", bytes, names), badValues: "nan" };
}

/**
 * pyarrow's ZSTD IPC stream: no footer, one schema (its first message, where a type edit reinterprets values as
 * in a footer stored once), ZSTD buffers (fzstd checks no content checksum: payload bytes are values).
 */
function pyarrowStream(bytes: Uint8Array): Input {
  const name = "pyarrow.arrows";
  const layout = checkArrowIpc(bytes, name);
  const valueRegions: [number, number][] = [];
  const lengthFields: number[] = [];
  for (const b of layout.batches) {
    lengthFields.push(b.bodyStart - 8);
    for (const buf of b.buffers) {
      if (buf.prefix === undefined) continue;
      lengthFields.push(buf.start);
      valueRegions.push([buf.start + 8, buf.start + buf.length]);
    }
  }
  const schemaEnd = layout.batches[0].bodyStart - 8; // the schema message ends before the first batch's
  return {
    name,
    kind: "arrow-zstd-stream",
    bytes,
    valueRegions,
    nameRegions: nameRegions(bytes, layout.fields),
    typeRegions: [[0, schemaEnd]],
    lengthFields,
    badValues: "nan",
  };
}

function csvInput(): Input {
  const { timestamps, cols } = columns();
  const lines = ["timestamp,close,volume"];
  for (let i = 0; i < N; i++) {
    lines.push(
      `${new Date(timestamps.values[i]).toISOString()},${cols.get("close")![i]},${cols.get("volume")![i]}`,
    );
  }
  const bytes = new TextEncoder().encode(lines.join("\n") + "\n");
  // Value regions: the data lines (a changed digit is another number or time; a changed separator is caught).
  const valueRegions: [number, number][] = [];
  let at = lines[0].length + 1;
  for (const line of lines.slice(1)) {
    valueRegions.push([at, at + line.length]);
    at += line.length + 1;
  }
  // The header's letters (not its commas) are names.
  const names = [...lines[0].matchAll(/[^,]+/g)].map((
    m,
  ): [number, number] => [m.index, m.index + m[0].length]);
  return { name: "bars.csv", kind: "csv", bytes, valueRegions, nameRegions: names, lengthFields: [] };
}

type Mutation = { what: string; bytes: Uint8Array };

function mutate(input: Input, rand: () => number): Mutation {
  const b = input.bytes;
  const int = (k: number) => Math.floor(rand() * k);
  const m = b.slice();
  const view = new DataView(m.buffer);
  switch (int(5)) {
    case 0: { // bit flips
      const flips = 1 + int(3);
      const at: number[] = [];
      for (let i = 0; i < flips; i++) {
        const p = int(b.length);
        m[p] ^= 1 << int(8);
        at.push(p);
      }
      return { what: `flip@${at.join(",")}`, bytes: m };
    }
    case 1: { // truncation
      const len = int(b.length);
      return { what: `truncate@${len}`, bytes: b.slice(0, len) };
    }
    case 2: { // length/offset field edit
      if (input.kind === "csv") { // CSV's "length fields" are its separators
        const p = int(b.length);
        m[p] = [0x2c, 0x0a, 0x22, 0x0d][int(4)];
        return { what: `separator@${p}`, bytes: m };
      }
      const fields = input.lengthFields;
      const p = rand() < 0.6 && fields.length ? fields[int(fields.length)] : int(b.length - 8) & ~3;
      const old = view.getInt32(p, true);
      const v = [old + 1, old - 1, old + 8, old * 2, 0, -1, 0x7fffffff, old ^ (1 << int(31))][int(8)];
      view.setInt32(p, v, true);
      if (rand() < 0.3) view.setInt32(p + 4, int(2) ? -1 : 0x100, true);
      return { what: `length@${p}:${old}->${v}`, bytes: m };
    }
    case 3: { // zeroed range
      const p = int(b.length), len = 1 + int(48);
      m.fill(0, p, p + len);
      return { what: `zero@${p}+${len}`, bytes: m };
    }
    default: { // a duplicated chunk inserted elsewhere
      const p = int(b.length), len = 1 + int(48), q = int(b.length);
      const chunk = b.slice(p, p + len);
      const out = new Uint8Array(b.length + chunk.length);
      out.set(b.subarray(0, q));
      out.set(chunk, q);
      out.set(b.subarray(q), q + chunk.length);
      return { what: `dup@${p}+${len}->${q}`, bytes: out };
    }
  }
}

/** The original's byte range [start, end) a mutant changed (common prefix and suffix left out). */
function changedRange(a: Uint8Array, b: Uint8Array): [number, number] {
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  return [p, a.length - s];
}

/**
 * Why a mutant that decoded to other values than the original is not explained by undetectable edits, or
 * undefined when it is. Explained: every changed byte lies in a value region (then columns and rows are the
 * original's), in a column name (then rows are; a renamed timestamp column may stop being one), or changed
 * alone gives the original's values (a byte no reader looks at, e.g. padding, or one that only renames). A cut
 * CSV may give the original's first rows; whole CSV lines duplicated repeat a timestamp. Mutants of another
 * length count as one changed range.
 */
async function unexplained(
  decoder: Decoder,
  input: Input,
  bytes: Uint8Array,
  orig: Decoded,
  got: Decoded,
  what: string,
): Promise<string | undefined> {
  if (input.kind === "csv" && what.startsWith("truncate") && csvPrefix(got, orig)) return undefined;
  // Whole CSV lines duplicated: the decoder cannot tell, the pipeline's validation (strictly increasing
  // timestamps) can, and must be able to.
  if (
    input.kind === "csv" && got.rows > orig.rows &&
    got.timestamps?.some((t, i) => i > 0 && !(t > got.timestamps![i - 1]))
  ) {
    return undefined;
  }
  const within = (regions: [number, number][], from: number, to: number) =>
    regions.some(([a, b]) => from >= a && to <= b);
  const changed: [number, number][] = [];
  if (bytes.length !== input.bytes.length) changed.push(changedRange(input.bytes, bytes));
  else {
    // Runs of changed bytes (a zeroed range, an edited field; up to 8 bytes apart) are judged as a whole.
    for (let p = 0; p < bytes.length; p++) {
      if (bytes[p] === input.bytes[p]) continue;
      const last = changed[changed.length - 1];
      if (last && p - last[1] < 8) last[1] = p + 1;
      else changed.push([p, p + 1]);
    }
  }
  const renamed = changed.some(([a, b]) => within(input.nameRegions, a, b));
  // A schema flag edited (e.g. a leaf made REPEATED) may turn a column into a skipped one, listed with its reason.
  // Every field still there (as a column, the timestamps or a skipped one), if renamed or retyped.
  const fields = (d: Decoded) =>
    d.columns.length + d.skipped.length + (d.timestampColumn === undefined ? 0 : 1);
  const retyped = changed.some(([a, b]) => within(input.typeRegions ?? [], a, b)) &&
    fields(got) === fields(orig);
  if (renamed || retyped ? got.rows !== orig.rows : !sameShape(got, orig)) return "columns or rows changed";
  const regions = [...input.valueRegions, ...input.nameRegions, ...(input.typeRegions ?? [])];
  for (const [from, to] of changed) {
    if (within(regions, from, to)) continue; // (sameShape held above unless only names changed)
    if (bytes.length !== input.bytes.length) return `changed bytes ${from}..${to}`;
    // The run's bytes outside every region (e.g. an end-of-stream marker after a value buffer), applied alone.
    const alone = input.bytes.slice();
    for (let p = from; p < to; p++) if (!within(regions, p, p + 1)) alone[p] = bytes[p];
    const r = await decoder.decode(input.name, alone, input.badValues);
    if (r === "timeout" || !r.ok || !(sameValues(r, orig) || unitChanged(r, orig))) {
      return `bytes ${from}..${to} changed`;
    }
  }
  return undefined;
}

/** Decodes in a worker; a mutant that runs past the timeout terminates the worker (a fresh one takes over). */
class Decoder {
  #worker!: Worker;
  #ready!: Promise<void>;
  #pending?: (r: FuzzResult) => void;
  #id = 0;
  constructor() {
    this.#start();
  }
  #start() {
    this.#worker = new Worker(new URL("./fuzz_worker.ts", import.meta.url), { type: "module" });
    let go!: () => void;
    this.#ready = new Promise((r) => (go = r));
    this.#worker.onmessage = (
      e: MessageEvent<FuzzReply>,
    ) => ("ready" in e.data ? go() : this.#pending?.(e.data));
  }
  async decode(name: string, bytes: Uint8Array, badValues?: "nan"): Promise<FuzzResult | "timeout"> {
    await this.#ready;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#worker.terminate();
        this.#start();
        resolve("timeout");
      }, TIMEOUT_MS);
      this.#pending = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
      this.#worker.postMessage({ id: ++this.#id, name, bytes, badValues });
    });
  }
  close() {
    this.#worker.terminate();
  }
}

type Decoded = Extract<FuzzResult, { ok: true }>;

const same = (a: ArrayLike<number> | undefined, b: ArrayLike<number> | undefined) =>
  a?.length === b?.length &&
  Array.prototype.every.call(a ?? [], (x: number, i: number) => Object.is(x, b![i]));

function identical(a: Decoded, b: Decoded): boolean {
  return a.rows === b.rows && a.timestampColumn === b.timestampColumn && same(a.timestamps, b.timestamps) &&
    a.columns.length === b.columns.length &&
    a.columns.every(([n, v], i) => n === b.columns[i][0] && same(v, b.columns[i][1])) &&
    a.skipped.join() === b.skipped.join();
}

/** As many fields, the timestamps in place, the same rows (names and values are checked in `unexplained`). */
function sameShape(a: Decoded, b: Decoded): boolean {
  // A text column whose every value turned non-numeric is skipped and listed with the reason: still there.
  return a.rows === b.rows && (a.timestampColumn === undefined) === (b.timestampColumn === undefined) &&
    a.columns.length + a.skipped.length === b.columns.length + b.skipped.length;
}

/**
 * The timestamps scaled by a power of 1000, all else equal: the time unit in a schema stored once (apache-arrow
 * JS writes no schema message before the batches, only the footer's) was edited. Undetectable: Arrow metadata
 * has no checksum; files with both schema copies (pyarrow's) are cross-checked by io/arrow_check.ts.
 */
function unitChanged(a: Decoded, b: Decoded): boolean {
  if (!a.timestamps || !b.timestamps || a.rows !== b.rows) return false;
  const k = a.timestamps[0] / b.timestamps[0];
  const ratio = [1e-9, 1e-6, 1e-3, 1e3, 1e6, 1e9].find((r) => Math.abs(k / r - 1) < 1e-9);
  return ratio !== undefined &&
    a.timestamps.every((t, i) => Math.abs(t / (b.timestamps![i] * ratio) - 1) < 1e-9) &&
    sameValues({ ...a, timestamps: b.timestamps }, b);
}

/** The same values in the same places: only names may differ. */
function sameValues(a: Decoded, b: Decoded): boolean {
  return a.rows === b.rows && same(a.timestamps, b.timestamps) && a.columns.length === b.columns.length &&
    a.columns.every(([, v], i) => same(v, b.columns[i][1])) && a.skipped.length === b.skipped.length;
}

/**
 * Positions of every occurrence of each name's UTF-8 bytes, with the 4-byte length before it (flatbuffer
 * strings): a changed letter or length is a renamed column.
 */
function nameRegions(bytes: Uint8Array, names: string[]): [number, number][] {
  const out: [number, number][] = [];
  for (const name of names) {
    const n = new TextEncoder().encode(name);
    for (let p = 0; p + n.length <= bytes.length; p++) {
      if (n.every((c, i) => bytes[p + i] === c)) out.push([p - 4, p + n.length]);
    }
  }
  return out;
}

/** A CSV cut inside or after the last complete line: the original's first rows, the last row possibly short. */
function csvPrefix(got: Decoded, orig: Decoded): boolean {
  if (got.rows > orig.rows || got.columns.map((c) => c[0]).join() !== orig.columns.map((c) => c[0]).join()) {
    return false;
  }
  const k = got.rows - 1; // the last row may hold a cut number
  const head = (v: ArrayLike<number> | undefined) => Array.prototype.slice.call(v ?? [], 0, k);
  return same(head(got.timestamps), head(orig.timestamps)) &&
    got.columns.every(([, v], i) => same(head(v), head(orig.columns[i][1])));
}

interface Stats {
  mutants: number;
  rejected: number;
  identical: number;
  undetectable: number;
}

Deno.test("fuzz: mutated Feather, Parquet and CSV files are rejected with one line naming the file, or decode to values no checksum-free format can vouch for; never hang, crash or garble", async () => {
  const started = performance.now();
  const fixtures = new URL("./fixtures/parquet_crc/", import.meta.url);
  const { timestamps, cols } = columns();
  const inputs: Input[] = [
    arrowInput("bars.feather", "none"),
    arrowInput("bars_lz4.feather", "lz4"),
    parquetInput("bars_zstd.parquet", encodeParquet(cols, timestamps), "parquet-no-crc"),
    parquetInput(
      "bars_crc_dict.parquet",
      await Deno.readFile(new URL("bars_crc_dict.parquet", fixtures)),
      "parquet-crc",
    ),
    parquetInput(
      "bars_crc_v2.parquet",
      await Deno.readFile(new URL("bars_crc_v2.parquet", fixtures)),
      "parquet-crc",
    ),
    csvInput(),
    pyarrowInput(await Deno.readFile(new URL("../arrow_pyarrow/bars_uncompressed.feather", fixtures))),
    pyarrowStream(await Deno.readFile(new URL("../arrow_pyarrow/bars_zstd_stream.arrows", fixtures))),
  ];
  const decoder = new Decoder();
  const rand = prng(SEED);
  const stats = new Map<string, Stats>();
  const failures: string[] = [];
  const cliSamples: { name: string; bytes: Uint8Array; message: string }[] = [];
  try {
    for (const input of inputs) {
      const orig = await decoder.decode(input.name, input.bytes, input.badValues);
      if (orig === "timeout" || !orig.ok) {
        throw new Error(`${input.name}: the unmutated file does not decode`);
      }
      const s: Stats = { mutants: 0, rejected: 0, identical: 0, undetectable: 0 };
      stats.set(input.name, s);
      for (let i = 0; i < MUTANTS_PER_FILE; i++) {
        const { what, bytes } = mutate(input, rand);
        s.mutants++;
        const got = await decoder.decode(input.name, bytes, input.badValues);
        const tag = `${input.name} ${what}`;
        if (got === "timeout") {
          failures.push(`${tag}: no answer within ${TIMEOUT_MS} ms`);
        } else if (!got.ok) {
          s.rejected++;
          if (got.error !== "DataError") failures.push(`${tag}: ${got.error} leaked: ${got.message}`);
          else if (!got.message.startsWith(`${input.name}: `) || got.message.includes("\n")) {
            failures.push(`${tag}: message is not one line starting with the file name: ${got.message}`);
          } else if (cliSamples.filter((c) => c.name === input.name).length < 2) {
            cliSamples.push({ name: input.name, bytes, message: got.message });
          }
        } else if (identical(got, orig)) {
          s.identical++;
        } else {
          const why = await unexplained(decoder, input, bytes, orig, got, what);
          // Pages with a CRC: no changed byte in them gets through.
          const crc = input.crcPages?.find(([a, b]) =>
            bytes.length === input.bytes.length &&
            bytes.some((x, p) => p >= a && p < b && x !== input.bytes[p])
          );
          if (crc) {
            failures.push(
              `${tag}: a change inside the CRC-checked page at bytes ${crc[0]}..${crc[1]} decoded`,
            );
          } else if (why === undefined) s.undetectable++;
          else {
            failures.push(
              `${tag}: decoded to ${got.rows} rows [${
                got.columns.map((c) => c[0])
              }] (original ${orig.rows}): ` +
                `${why}, outside what is undetectable (${UNDETECTABLE[input.kind]})`,
            );
          }
        }
      }
    }
  } finally {
    decoder.close();
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`fuzz: ${seconds.toFixed(1)} s`);
  for (const [name, s] of stats) console.log(`  ${name}: ${JSON.stringify(s)}`);
  assert.deepEqual(failures, [], `${failures.length} bad outcomes:\n${failures.join("\n")}`);
  for (const [name, s] of stats) {
    assert.equal(s.rejected + s.identical + s.undetectable, s.mutants, name);
    assert.ok(s.rejected > s.mutants / 4, `${name}: most mutants break the structure and are rejected`);
  }

  // Through the CLI: exit 2 and one error line that names the file.
  const dir = await Deno.makeTempDir({ prefix: "fuzz_test_" });
  try {
    for (const sample of cliSamples) {
      const path = `${dir}/${sample.name}`;
      await Deno.writeFile(path, sample.bytes);
      const r = await cli(["kernel", "zscore", "--input", path, "--column", "close", "--window", "10"]);
      assert.equal(r.code, 2, `${sample.name}: exit ${r.code} (a DataError exits 2)`);
      const lines = r.err.split("\n").filter((l) => l.startsWith("error:"));
      assert.equal(lines.length, 1, `${sample.name}: one error line: ${r.err}`);
      assert.ok(lines[0].startsWith(`error: ${path}: `), lines[0]);
      assert.equal(r.out, "", `${sample.name}: nothing on stdout`);
    }
    assert.ok(cliSamples.length >= inputs.length, "CLI samples from every file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
