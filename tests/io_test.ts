import { strict as assert } from "node:assert";
import {
  compressionRegistry,
  CompressionType,
  Decimal,
  Float64,
  Int32,
  Int64,
  makeVector,
  Table,
  tableToIPC,
  TimestampMillisecond,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import { parquetWriteBuffer } from "hyparquet-writer";
import { decompressZstd } from "hyparquet-compressors";
import { DataError, UsageError } from "../runtime/errors.ts";
import { getColumn } from "../io/frame.ts";
import { decodeCsv } from "../io/csv.ts";
import lz4 from "lz4js";
import * as zlib from "node:zlib";
import { decodeFrame, formatFromBytes, readFrameFile } from "../io/read.ts";
import { epochToMs, inferEpochUnit, parseIsoTimestamp } from "../io/timestamps.ts";
import { encodeCsv, writeFileAtomic } from "../io/write.ts";
import { registerArrowDecoders } from "../io/arrow.ts";
import { checkArrowIpc } from "../io/arrow_check.ts";
import { lz4FrameDecode } from "../io/lz4.ts";
import { checkColumnChunk, checkParquetFooter, crc32 } from "../io/parquet_check.ts";
import { decodeParquet } from "../io/parquet.ts";
import { encodeFeather } from "../io/feather_write.ts";
import { encodeParquet } from "../io/parquet_write.ts";
import { parquetMetadata } from "hyparquet";

const enc = new TextEncoder();
const T0 = Date.UTC(2024, 0, 2, 9, 30); // 2024-01-02T09:30:00Z

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "io_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function assertSameF64(actual: Float64Array | undefined, expected: number[], what: string): void {
  assert.ok(actual, `${what} missing`);
  assert.equal(actual.length, expected.length, `${what} length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Object.is(actual[i], expected[i]), `${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}

async function rejectsWith(
  p: Promise<unknown>,
  type: typeof DataError | typeof UsageError,
  ...fragments: string[]
): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof type, `expected ${type.name}, got ${e}`);
    for (const f of fragments) {
      assert.ok((e as Error).message.includes(f), `"${(e as Error).message}" lacks "${f}"`);
    }
    return true;
  });
}

// ---------- CSV ----------

Deno.test("csv: ISO timestamps, numbers, missing values, skipped text column", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/bars.csv`;
    await Deno.writeTextFile(
      path,
      "\ufeffTimestamp,symbol,open,close,volume\r\n" +
        "2024-01-02T09:30:00Z,AAPL,185.5,186.25,1000\r\n" +
        "2024-01-02 09:31:00,AAPL,,NaN,1e3\r\n" +
        "2024-01-02T10:32:00.250+01:00,AAPL,null,nan,-2.5\r\n",
    );
    const f = await readFrameFile(path);
    assert.equal(f.rows, 3);
    assert.equal(f.source, path);
    assert.equal(f.timestampColumn, "Timestamp");
    assertSameF64(f.timestamps, [T0, T0 + 60_000, T0 + 120_250], "timestamps");
    assert.deepEqual([...f.columns.keys()], ["open", "close", "volume"]);
    assertSameF64(f.columns.get("open"), [185.5, NaN, NaN], "open");
    assertSameF64(f.columns.get("close"), [186.25, NaN, NaN], "close");
    assertSameF64(f.columns.get("volume"), [1000, 1000, -2.5], "volume");
    assert.deepEqual(f.skipped.map((s) => s.name), ["symbol"]);
    assert.match(f.skipped[0].reason, /non-numeric value "AAPL" at row 1/);
  });
});

Deno.test("csv: epoch-second timestamps, quoted fields, blank trailing lines", async () => {
  const s = T0 / 1000;
  const text = `ts,"close, adj",x\n${s},"1.25",3\n${s + 60},"-0.5",4\n\n`;
  const f = await decodeFrame(enc.encode(text), "q.csv");
  assertSameF64(f.timestamps, [T0, T0 + 60_000], "ts");
  assertSameF64(f.columns.get("close, adj"), [1.25, -0.5], "close, adj");
  assertSameF64(f.columns.get("x"), [3, 4], "x");
});

Deno.test("csv: ragged row and bad timestamp are DataErrors naming file and position", async () => {
  await rejectsWith(
    decodeFrame(enc.encode("a,b\n1,2\n3\n"), "r.csv"),
    DataError,
    "r.csv",
    "line 3",
    "expected 2",
  );
  await rejectsWith(
    decodeFrame(enc.encode("time,a\n2024-01-02,1\nyesterday,2\n"), "t.csv"),
    DataError,
    "t.csv",
    '"time"',
    '"yesterday"',
    "row 2",
  );
  await rejectsWith(
    decodeFrame(enc.encode("sym\nAAPL\n"), "s.csv"),
    DataError,
    "s.csv",
    "no numeric columns",
    "sym",
  );
  await rejectsWith(decodeFrame(enc.encode("a,b\n"), "h.csv"), DataError, "h.csv", "no data rows");
});

Deno.test("timestamps: ISO parsing and epoch unit inference", () => {
  assert.equal(parseIsoTimestamp("2024-01-02"), Date.UTC(2024, 0, 2));
  assert.equal(parseIsoTimestamp("2024-01-02T09:30:00-0530"), T0 + 5.5 * 3_600_000);
  assert.ok(Number.isNaN(parseIsoTimestamp("2024-02-30")));
  assert.ok(Number.isNaN(parseIsoTimestamp("Jan 2 2024")));
  assert.equal(inferEpochUnit([T0 / 1000]), "s");
  assert.equal(inferEpochUnit([T0]), "ms");
  assert.equal(inferEpochUnit([T0 * 1000]), "us");
  assert.equal(inferEpochUnit([T0 * 1e6]), "ns");
  assert.equal(inferEpochUnit([20240102, 20240103]), "yyyymmdd");
  assertSameF64(epochToMs([20240102]), [Date.UTC(2024, 0, 2)], "yyyymmdd");
});

// ---------- Parquet ----------

Deno.test("parquet: timestamp, double, int32, int64 (BigInt), decimal, nulls and text", async () => {
  await withTempDir(async (dir) => {
    const n = 5;
    const times = Array.from({ length: n }, (_, i) => new Date(T0 + i * 60_000));
    const close = [100.25, 101.5, null, 99.75, 1e-9];
    const buf = parquetWriteBuffer({
      columnData: [
        { name: "timestamp", data: times },
        { name: "close", data: close },
        { name: "volume", data: [1, 2, 3, 4, 2147483647] },
        { name: "trades", data: [9007199254740991n, -5n, 0n, null, 7n] },
        { name: "price", data: [12.34, -0.01, 0, 5, 99.99] },
        { name: "symbol", data: ["A", "B", "C", "D", "E"] },
      ],
      schema: [
        { name: "root", num_children: 6 },
        { name: "timestamp", type: "INT64", converted_type: "TIMESTAMP_MILLIS", repetition_type: "REQUIRED" },
        { name: "close", type: "DOUBLE", repetition_type: "OPTIONAL" },
        { name: "volume", type: "INT32", repetition_type: "REQUIRED" },
        { name: "trades", type: "INT64", repetition_type: "OPTIONAL" },
        {
          name: "price",
          type: "INT64",
          converted_type: "DECIMAL",
          scale: 2,
          precision: 10,
          repetition_type: "REQUIRED",
        },
        { name: "symbol", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
      ],
    });
    const path = `${dir}/bars.parquet`;
    await Deno.writeFile(path, new Uint8Array(buf));
    const f = await readFrameFile(path);
    assert.equal(f.rows, n);
    assert.equal(f.timestampColumn, "timestamp");
    assertSameF64(f.timestamps, times.map((d) => d.getTime()), "timestamps");
    assert.deepEqual([...f.columns.keys()], ["close", "volume", "trades", "price"]);
    assertSameF64(f.columns.get("close"), [100.25, 101.5, NaN, 99.75, 1e-9], "close");
    assertSameF64(f.columns.get("volume"), [1, 2, 3, 4, 2147483647], "volume");
    assertSameF64(f.columns.get("trades"), [9007199254740991, -5, 0, NaN, 7], "trades");
    const price = f.columns.get("price")!;
    [12.34, -0.01, 0, 5, 99.99].forEach((v, i) => assert.ok(Math.abs(price[i] - v) < 1e-12, `price[${i}]`));
    assert.deepEqual(f.skipped.map((s) => s.name), ["symbol"]);
    assert.match(f.skipped[0].reason, /text/);
  });
});

Deno.test("parquet: ZSTD pages over several row groups, detected by magic bytes", async () => {
  const n = 2500;
  const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 1e3);
  const ts = Array.from({ length: n }, (_, i) => BigInt(T0 + i * 1000) * 1000n); // epoch microseconds
  const buf = parquetWriteBuffer({
    columnData: [{ name: "ts", data: ts, type: "INT64" }, { name: "x", data: x, type: "DOUBLE" }],
    codec: "ZSTD",
    compressors: { ZSTD: zstdFrameEncode }, // decoded by hyparquet-compressors (fzstd)
    rowGroupSize: 1000,
  });
  const bytes = new Uint8Array(buf);
  assert.equal(formatFromBytes(bytes), "parquet");
  const f = await decodeFrame(bytes, "upload.bin");
  assert.equal(f.rows, n);
  assertSameF64(f.columns.get("x"), [...x], "x");
  assert.equal(f.timestampColumn, "ts"); // plain INT64 named ts: unit inferred (microseconds)
  assertSameF64(f.timestamps, Array.from({ length: n }, (_, i) => T0 + i * 1000), "ts");
});

// ---------- Arrow / Feather ----------

function arrowTable(n: number): { table: Table; close: number[]; times: number[] } {
  const times = Array.from({ length: n }, (_, i) => T0 + i * 60_000);
  const close = Array.from({ length: n }, (_, i) => (i % 10) * 0.5 + 100);
  const table = new Table({
    time: vectorFromArray(times.map((t) => new Date(t)), new TimestampMillisecond()),
    close: vectorFromArray(close, new Float64()),
    volume: vectorFromArray(Array.from({ length: n }, (_, i) => (i === 1 ? null : i % 7)), new Int32()),
    big: vectorFromArray(Array.from({ length: n }, (_, i) => BigInt(i) * 3n), new Int64()),
    symbol: vectorFromArray(Array.from({ length: n }, () => "AAPL"), new Utf8()),
  });
  return { table, close, times };
}

Deno.test("arrow: IPC file, IPC stream and Feather v2 round-trip", async () => {
  await withTempDir(async (dir) => {
    const n = 50;
    const { table, close, times } = arrowTable(n);
    const cases: [string, Uint8Array][] = [
      [`${dir}/bars.arrow`, tableToIPC(table, "file")],
      [`${dir}/bars.feather`, tableToIPC(table, "file")],
      [`${dir}/bars.ipc`, tableToIPC(table, "stream")],
      [`${dir}/bars_stream.data`, tableToIPC(table, "stream")], // unknown extension: 0xFFFFFFFF marker
    ];
    for (const [path, bytes] of cases) {
      await Deno.writeFile(path, bytes);
      const f = await readFrameFile(path);
      assert.equal(f.rows, n, path);
      assert.equal(f.timestampColumn, "time", path);
      assertSameF64(f.timestamps, times, `${path} time`);
      assertSameF64(f.columns.get("close"), close, `${path} close`);
      assertSameF64(
        f.columns.get("volume"),
        Array.from({ length: n }, (_, i) => (i === 1 ? NaN : i % 7)),
        `${path} volume`,
      );
      assertSameF64(f.columns.get("big"), Array.from({ length: n }, (_, i) => i * 3), `${path} big`);
      assert.deepEqual(f.skipped.map((s) => s.name), ["symbol"], path);
    }
  });
});

Deno.test("arrow: decimal column is scaled to f64", async () => {
  const words = new Uint32Array([12345, 0, 0, 0, 0xffffffff - 99, 0xffffffff, 0xffffffff, 0xffffffff]);
  const price = makeVector({ type: new Decimal(2, 10, 128), data: words, length: 2 });
  const table = new Table({ price, x: vectorFromArray([1, 2], new Float64()) });
  const f = await decodeFrame(tableToIPC(table, "file"), "d.arrow");
  assertSameF64(f.columns.get("price"), [123.45, -1], "price");
});

const lz4FrameEncode = (b: Uint8Array): Uint8Array => lz4.compress(b);
const zstdFrameEncode = (b: Uint8Array): Uint8Array => new Uint8Array(zlib.zstdCompressSync(b));

Deno.test("lz4: decodes real lz4 CLI frames (with and without content size / linked blocks)", () => {
  const expected = "open,high,low,close\n" + "1.5,2.5,1.0,2.0\n".repeat(5) + "end\n";
  const hex = [
    "04224d186440a72e000000ff146f70656e2c686967682c6c6f772c636c6f73650a312e352c322e352c312e302c322e30" +
    "10002d500a656e640a00000000fcaf8efd",
    "04224d186c406800000000000000182e000000ff146f70656e2c686967682c6c6f772c636c6f73650a312e352c322e35" +
    "2c312e302c322e3010002d500a656e640a00000000fcaf8efd",
  ];
  for (const h of hex) {
    const bytes = Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)));
    assert.equal(new TextDecoder().decode(lz4.decompress(bytes)), expected);
  }
  const data = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7) % 13);
  const packed = lz4FrameEncode(data);
  assert.ok(packed.length < data.length / 4, "lz4js compresses");
  assert.deepEqual(lz4.decompress(packed), data);
  assert.deepEqual(decompressZstd(zstdFrameEncode(data)), data);
});

// apache-arrow JS 21 writes the compressed length in each buffer's prefix, as our outputs did before
// encodeFeather's workaround: such files (and pyarrow's, tests/arrow_interop_test.ts) must still decode.
Deno.test("arrow: LZ4_FRAME and ZSTD Feather v2 written by apache-arrow JS (compressed-length prefixes) decode", async () => {
  await withTempDir(async (dir) => {
    const n = 4000;
    const { table, close, times } = arrowTable(n);
    registerArrowDecoders();
    const encoders: [CompressionType, (b: Uint8Array) => Uint8Array, string][] = [
      [CompressionType.LZ4_FRAME, lz4FrameEncode, "lz4"],
      [CompressionType.ZSTD, zstdFrameEncode, "zstd"],
    ];
    for (const [type, encode, label] of encoders) {
      const decoder = compressionRegistry.get(type)!;
      compressionRegistry.set(type, { encode, decode: decoder.decode });
      const bytes = tableToIPC(table, "file", type);
      const plain = tableToIPC(table, "file");
      assert.ok(bytes.length < plain.length, `${label} file is actually compressed`);
      const path = `${dir}/bars_${label}.feather`;
      await Deno.writeFile(path, bytes);
      const f = await readFrameFile(path);
      assert.equal(f.rows, n);
      assertSameF64(f.timestamps, times, `${label} time`);
      assertSameF64(f.columns.get("close"), close, `${label} close`);
      assertSameF64(f.columns.get("big"), Array.from({ length: n }, (_, i) => i * 3), `${label} big`);
    }
  });
});

// ---------- bad paths ----------

Deno.test("errors: missing file, empty file, garbage parquet, truncated arrow, unknown binary", async () => {
  await withTempDir(async (dir) => {
    await rejectsWith(readFrameFile(`${dir}/nope.parquet`), UsageError, `${dir}/nope.parquet`, "not found");
    await rejectsWith(readFrameFile(dir), UsageError, dir);
    await Deno.writeFile(`${dir}/empty.csv`, new Uint8Array());
    await rejectsWith(readFrameFile(`${dir}/empty.csv`), DataError, "empty.csv", "empty");
    const garbage = Uint8Array.from({ length: 300 }, (_, i) => (i * 31 + 7) & 255);
    await Deno.writeFile(`${dir}/bad.parquet`, garbage);
    await rejectsWith(readFrameFile(`${dir}/bad.parquet`), DataError, "bad.parquet", "Parquet");
    const fakePar = new Uint8Array([...enc.encode("PAR1"), ...garbage, 50, 0, 0, 0, ...enc.encode("PAR1")]);
    await rejectsWith(decodeFrame(fakePar, "fake.parquet"), DataError, "fake.parquet", "Parquet");
    const arrow = tableToIPC(arrowTable(10).table, "file");
    await rejectsWith(decodeFrame(arrow.subarray(0, 100), "cut.feather"), DataError, "cut.feather", "Arrow");
    await rejectsWith(
      decodeFrame(new Uint8Array([1, 0, 2, 0]), "blob"),
      DataError,
      "blob",
      "unknown file format",
    );
  });
});

Deno.test("errors: missing column names the file, the column and the available columns", async () => {
  const f = await decodeFrame(enc.encode("timestamp,open,close,sym\n2024-01-02,1,2,X\n"), "data/bars.csv");
  assertSameF64(getColumn(f, "close"), [2], "close");
  assert.throws(() => getColumn(f, "volume"), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /data\/bars\.csv/);
    assert.match(e.message, /"volume"/);
    assert.match(e.message, /"open", "close"/);
    return true;
  });
  assert.throws(() => getColumn(f, "sym"), /"sym" is not numeric/);
});

// ---------- writing ----------

Deno.test("write: encodeCsv round-trips through decodeCsv and writeFileAtomic leaves no temp file", async () => {
  await withTempDir(async (dir) => {
    const a = new Float64Array([0.1 + 0.2, NaN, -1e-300, 123456789.123456789, Infinity]);
    const b = new Float64Array([1, 2, 3, 4, 5]);
    const ts = Float64Array.from({ length: 5 }, (_, i) => T0 + i * 1500);
    const bytes = encodeCsv([{ name: "a", values: a }, { name: "b,c", values: b }], { values: ts });
    const text = new TextDecoder().decode(bytes);
    assert.equal(text.split("\n")[0], 'timestamp,a,"b,c"');
    assert.equal(text.split("\n")[2], "2024-01-02T09:30:01.500Z,NaN,2");
    const path = `${dir}/out.csv`;
    await Deno.writeTextFile(path, "old contents");
    await writeFileAtomic(path, bytes);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["out.csv"]);
    const f = decodeCsv(await Deno.readFile(path), path);
    assertSameF64(f.timestamps, [...ts], "ts");
    assertSameF64(f.columns.get("a"), [...a], "a");
    assertSameF64(f.columns.get("b,c"), [...b], "b,c");
    const msText = new TextDecoder().decode(
      encodeCsv([{ name: "a", values: a }], { values: ts, format: "ms" }),
    );
    assert.equal(msText.split("\n")[1], `${T0},0.30000000000000004`);
  });
});

// ---------- corrupt files (issue 12; tests/fuzz_test.ts mutates at random, these aim at each kind of field) ----------

/** A one-line DataError starting with the file name, never a bare library message. */
async function corrupt(p: Promise<unknown>, file: string, ...fragments: string[]): Promise<string> {
  let message = "";
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DataError, `expected DataError, got ${e}`);
    message = e.message;
    assert.ok(message.startsWith(`${file}: `) && !message.includes("\n"), message);
    for (const f of fragments) assert.ok(message.includes(f), `"${message}" lacks "${f}"`);
    return true;
  });
  return message;
}

/** Position of the first occurrence of `pattern` in bytes[from, to). */
function find(bytes: Uint8Array, pattern: Uint8Array, from = 0, to = bytes.length): number {
  for (let p = from; p + pattern.length <= to; p++) if (pattern.every((b, i) => bytes[p + i] === b)) return p;
  throw new Error("pattern not found");
}

const i64 = (v: bigint) => new Uint8Array(BigInt64Array.of(v).buffer);

function feather(n: number, compression: "none" | "lz4") {
  const times = Float64Array.from({ length: n }, (_, i) => T0 + i * 60_000);
  const close = Float64Array.from({ length: n }, (_, i) => 100 + (i % 9) * 0.5);
  return encodeFeather(new Map([["close", close]]), { name: "timestamp", values: times }, compression);
}

Deno.test("corrupt Arrow/Feather: impossible offsets, lengths and counts in the footer and batch metadata are rejected naming the file", async () => {
  const n = 100;
  const bytes = feather(n, "none");
  const [batch] = checkArrowIpc(bytes, "ok.feather").batches;
  const footer = bytes.length - 10 - new DataView(bytes.buffer).getInt32(bytes.length - 10, true);
  const edit = (at: number, value: Uint8Array) => {
    const m = bytes.slice();
    m.set(value, at);
    return m;
  };
  // The example: a huge int64 where the footer holds a batch's body length.
  const bodyAt = find(bytes, i64(BigInt(batch.bodyLength)), footer);
  const msg = await corrupt(
    decodeFrame(edit(bodyAt, i64(3890828605435287310n)), "huge.feather"),
    "huge.feather",
    "body length is 3890828605435287310",
  );
  assert.ok(!/safe to convert/.test(msg), msg);
  // Footer length beyond the file; a batch body past the footer; a body length that disagrees with the message.
  await corrupt(
    decodeFrame(edit(bytes.length - 10, i64(1n << 20n).subarray(0, 4)), "f.feather"),
    "f.feather",
    "footer length",
  );
  await corrupt(
    decodeFrame(edit(bodyAt, i64(BigInt(batch.bodyLength + 8))), "b.feather"),
    "b.feather",
    "body length",
  );
  // In the batch's metadata: a buffer past the body, a field node with fewer values than the batch's rows.
  const meta = [batch.bodyStart - 400, batch.bodyStart] as const;
  const dataLen = find(bytes, i64(BigInt(n * 8)), ...meta);
  await corrupt(
    decodeFrame(edit(dataLen, i64(BigInt(n * 8 * 100))), "buf.feather"),
    "buf.feather",
    "lies outside the body",
  );
  const node = find(bytes, new Uint8Array([...i64(BigInt(n)), ...i64(0n)]), ...meta);
  await corrupt(
    decodeFrame(edit(node, i64(BigInt(n - 1))), "node.feather"),
    "node.feather",
    `99 values in a batch of ${n} rows`,
  );
  // Truncated anywhere: magic, footer or body gone.
  for (const cut of [bytes.length - 3, footer + 5, batch.bodyStart + 10, 7]) {
    await corrupt(decodeFrame(bytes.subarray(0, cut), "cut.feather"), "cut.feather", "Arrow");
  }
});

Deno.test("corrupt Arrow/Feather: a compressed buffer's prefix or LZ4 frame that disagrees with its length is rejected", async () => {
  const n = 2000;
  const bytes = feather(n, "lz4");
  const buffers = checkArrowIpc(bytes, "ok.feather").batches[0].buffers.filter((b) => b.prefix! > 0);
  assert.ok(buffers.length > 0, "LZ4-compressed buffers");
  const b = buffers[0];
  const prefix = bytes.slice();
  prefix.set(i64(BigInt(b.prefix! + 8)), b.start);
  await corrupt(decodeFrame(prefix, "prefix.feather"), "prefix.feather", "damaged compressed buffer");
  // A prefix that is neither -1 nor a plausible length for the values.
  prefix.set(i64(BigInt(n * 8 * 100)), b.start);
  await corrupt(decodeFrame(prefix, "big.feather"), "big.feather", "far more than its 2000 values need");
  // The LZ4 frame's end mark cut off: lz4js read past it silently, the strict decoder refuses.
  const frame = bytes.slice();
  frame.fill(0xff, b.start + b.length - 4, b.start + b.length);
  await corrupt(decodeFrame(frame, "frame.feather"), "frame.feather", "LZ4 frame");
});

Deno.test("lz4FrameDecode: real lz4 CLI frames (content size, content checksum) decode; damaged ones and wrong sizes throw", () => {
  const expected = "open,high,low,close\n" + "1.5,2.5,1.0,2.0\n".repeat(5) + "end\n";
  const hex =
    "04224d186440a72e000000ff146f70656e2c686967682c6c6f772c636c6f73650a312e352c322e352c312e302c322e30" +
    "10002d500a656e640a00000000fcaf8efd";
  const frame = Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));
  assert.equal(new TextDecoder().decode(lz4FrameDecode(frame)), expected);
  assert.equal(lz4FrameDecode(frame, expected.length).length, expected.length);
  assert.throws(
    () => lz4FrameDecode(frame, expected.length + 1),
    /LZ4 frame: \d+ bytes decoded|more data|past the end/,
  );
  const sum = frame.slice();
  sum[sum.length - 1] ^= 1;
  assert.throws(() => lz4FrameDecode(sum), /content checksum mismatch/);
  const header = frame.slice();
  header[6] ^= 1;
  assert.throws(() => lz4FrameDecode(header), /header checksum mismatch/);
  const data = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) % 13);
  assert.deepEqual(lz4FrameDecode(lz4.compress(data), data.length), data);
});

Deno.test("corrupt Parquet: a damaged page is caught by its CRC-32 (from bytes and by ranges); impossible footers and pages are rejected naming the file", async () => {
  const fixtures = new URL("./fixtures/parquet_crc/", import.meta.url);
  const bytes = await Deno.readFile(new URL("bars_crc_dict.parquet", fixtures));
  const expected = JSON.parse(await Deno.readTextFile(new URL("expected.json", fixtures)));
  const ok = await decodeFrame(bytes, "ok.parquet");
  assert.deepEqual(Array.from(ok.timestamps!), expected.timestamps);
  const meta = parquetMetadata(bytes.buffer.slice(0) as ArrayBuffer);
  const chunks = checkParquetFooter(
    meta,
    bytes.length,
    "ok.parquet",
    new Set(["timestamp", "close", "volume"]),
  );
  assert.equal(chunks.length, 3 * 2, "3 columns in 2 row groups");
  const pages = chunks.flatMap((c) => checkColumnChunk(bytes.subarray(c.start, c.end), c, "ok.parquet"));
  assert.ok(pages.length >= 12 && pages.every((p) => p.crc), "pyarrow stored a CRC in every page");
  // One flipped bit in a data page (where a value sits, so without the CRC it would decode silently).
  const data = pages.find((p) => p.type === "DATA_PAGE")!;
  const flipped = bytes.slice();
  flipped[data.end - 3] ^= 0x10;
  await corrupt(
    decodeFrame(flipped, "flip.parquet"),
    "flip.parquet",
    "CRC-32 mismatch",
    `page at byte ${data.header}`,
  );
  const reader = {
    byteLength: flipped.length,
    slice: (s: number, e?: number) => Promise.resolve(flipped.slice(s, e).buffer as ArrayBuffer),
  };
  await corrupt(decodeParquet(reader, "s3://b/flip.parquet"), "s3://b/flip.parquet", "CRC-32 mismatch");
  assert.equal(crc32(enc.encode("123456789")) >>> 0, 0xcbf43926, "CRC-32 check value");

  // Footer fields no checksum covers, checked for consistency (metadata objects edited as a damaged footer reads).
  const clone = () => structuredClone(meta);
  const footer = (m: typeof meta) => checkParquetFooter(m, bytes.length, "f.parquet", new Set(["close"]));
  const rows = clone();
  rows.num_rows += 1n;
  assert.throws(
    () => footer(rows),
    /f\.parquet: corrupt Parquet file: the row groups hold 64 rows; the footer says 65/,
  );
  const offset = clone();
  offset.row_groups[1].columns[1].meta_data!.data_page_offset = BigInt(bytes.length + 10);
  assert.throws(() => footer(offset), /row group 1, column "close": .* do not fit/);
  const count = clone();
  count.row_groups[0].columns[2].meta_data!.num_values -= 1n;
  assert.throws(() => footer(count), /row group 0, column "volume": 31 values in a row group of 32 rows/);
  const renamed = clone();
  renamed.row_groups[0].columns[1].meta_data!.path_in_schema = ["clos"];
  assert.throws(() => footer(renamed), /chunk metadata names "clos"/);
  // A page's sizes beyond its chunk, and a chunk cut short.
  const c = chunks[1];
  assert.throws(
    () => checkColumnChunk(bytes.subarray(c.start, c.end - 5), c, "p.parquet"),
    /p\.parquet: corrupt Parquet file: row group 0, column "close": .*(run past|unreadable)/,
  );
  assert.throws(
    () => checkColumnChunk(bytes.subarray(c.start, c.end), { ...c, values: c.values + 1 }, "p.parquet"),
    /the pages hold 32 values; the footer says 33/,
  );
  // Truncated files: the footer or its magic gone.
  for (const cut of [bytes.length - 1, bytes.length - 20, 100]) {
    await corrupt(decodeFrame(bytes.subarray(0, cut), "cut.parquet"), "cut.parquet", "Parquet");
  }
});

Deno.test("corrupt CSV: NUL bytes, a numeric first line, a damaged separator, a bad timestamp and a lone quote each give one line naming the file", async () => {
  const text = "timestamp,close\n2024-01-02T09:30:00Z,100.5\n2024-01-02T09:31:00Z,100.75\n";
  const withNul = enc.encode(text);
  withNul.fill(0, 20, 30);
  await corrupt(decodeFrame(withNul, "nul.csv"), "nul.csv", "NUL byte at byte 20");
  await corrupt(
    decodeFrame(enc.encode("100.5,7\n100.75,8\n"), "nohead.csv"),
    "nohead.csv",
    "holds numbers, not column names",
  );
  await corrupt(decodeFrame(enc.encode(text.replace("Z,100.5", "Z;100.5")), "sep.csv"), "sep.csv", "line 2");
  await corrupt(
    decodeFrame(enc.encode(text.replace("09:31", "09:3\u00ff")), "ts.csv"),
    "ts.csv",
    "timestamp",
  );
  await corrupt(
    decodeFrame(enc.encode(text.replace(",100.5", ',"100.5')), "q.csv"),
    "q.csv",
    "unterminated quoted field",
  );
});

Deno.test("encodeParquet: hyparquet-writer's own parquetWriteBuffer bytes, written into a buffer sized up front", () => {
  const n = 5000;
  const times = Float64Array.from({ length: n }, (_, i) => T0 + i * 60_000);
  let s = 3;
  const noise = Float64Array.from(
    { length: n },
    () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32,
  );
  const close = Float64Array.from({ length: n }, (_, i) => (i % 9 === 0 ? NaN : 100 + (i % 17) * 0.25));
  const bytes = encodeParquet(new Map([["close", close], ["noise", noise]]), {
    name: "timestamp",
    values: times,
  });
  const stock = parquetWriteBuffer({
    columnData: [
      { name: "timestamp", data: Array.from(times, BigInt), type: "TIMESTAMP" },
      { name: "close", data: close, type: "DOUBLE", nullable: false },
      { name: "noise", data: noise, type: "DOUBLE", nullable: false },
    ],
    codec: "ZSTD",
    compressors: { ZSTD: (b: Uint8Array) => new Uint8Array(zlib.zstdCompressSync(b)) },
  });
  assert.deepEqual(bytes, new Uint8Array(stock));
});

Deno.test("corrupt Parquet: a damaged run length in a compressed dictionary-index page is rejected at once, not decoded into a 2^31-entry array", async () => {
  const n = 240;
  const times = Float64Array.from({ length: n }, (_, i) => T0 + i * 60_000);
  const close = Float64Array.from({ length: n }, (_, i) => 100 + (i % 17) * 0.25); // dictionary-encoded
  const bytes = encodeParquet(new Map([["close", close]]), { name: "timestamp", values: times });
  const meta = parquetMetadata(bytes.slice().buffer); // a view into the writer's buffer: its own bytes only
  const [chunk] = checkParquetFooter(meta, bytes.length, "ok.parquet", new Set(["close"]));
  const page = checkColumnChunk(bytes.subarray(chunk.start, chunk.end), chunk, "ok.parquet")
    .find((p) => p.runs?.encoding === "RLE_DICTIONARY");
  assert.ok(page, "hyparquet-writer dictionary-encodes a column of 17 distinct values");
  let rejected = 0;
  for (let p = page.data; p < page.end; p++) {
    for (const bit of [3, 4]) {
      const m = bytes.slice();
      m[p] ^= 1 << bit;
      const t = performance.now();
      try {
        await decodeFrame(m, "runs.parquet");
      } catch (e) {
        assert.ok(e instanceof DataError && e.message.startsWith("runs.parquet: "), String(e));
        rejected++;
      }
      // Before: up to 35 s for one flipped bit (hyparquet filling a JavaScript array run by run).
      assert.ok(performance.now() - t < 2000, `byte ${p} bit ${bit}: ${performance.now() - t} ms`);
    }
  }
  assert.ok(rejected > 0);
});
