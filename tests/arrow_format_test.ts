/**
 * Our Feather v2 output (io/feather_write.ts encodeFeather: the CLI's parts and the page's export) checked
 * against the Arrow format itself and read back by an independent Arrow implementation (flechette, not
 * apache-arrow JS), so a writer bug our own reader tolerates cannot pass again.
 */
import { strict as assert } from "node:assert";
import {
  compressionRegistry,
  CompressionType as ArrowJsCompression,
  makeVector,
  Table,
  tableToIPC,
} from "apache-arrow";
import { CompressionType, setCompressionCodec, tableFromIPC } from "@uwdata/flechette";
import lz4 from "lz4js";
import * as zlib from "node:zlib";
import { encodeFeather } from "../io/feather_write.ts";
import { decodeFrame } from "../io/read.ts";
import { inspectArrowFile } from "./arrow_ipc_check.ts";

const T0 = Date.UTC(2024, 0, 2, 9, 30);

/** A frame with a smooth (compressible) column, a scrambled (incompressible) one and NaN gaps. */
function sample(n: number) {
  const timestamps = {
    name: "timestamp",
    values: Float64Array.from({ length: n }, (_, i) => T0 + i * 60_000),
  };
  let s = 12345;
  const noise = Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
  const columns = new Map([
    ["close", Float64Array.from({ length: n }, (_, i) => 100 + (i % 50) * 0.25)],
    ["noise", noise],
    ["gappy", Float64Array.from({ length: n }, (_, i) => (i % 7 === 0 ? NaN : i / 3))],
  ]);
  return { timestamps, columns };
}

/**
 * Like pyarrow (which fails with "Lz4 decompression buffer too small" otherwise), this codec trusts the
 * prefix flechette hands it and rejects a buffer that does not decompress to exactly that many bytes.
 */
function strictCodec(decode: (b: Uint8Array) => Uint8Array) {
  return {
    encode: (): Uint8Array => {
      throw new Error("not used");
    },
    decode: (bytes: Uint8Array, uncompressedLength: number): Uint8Array => {
      const out = decode(bytes);
      if (out.length !== uncompressedLength) {
        throw new Error(`prefix says ${uncompressedLength} bytes, buffer decompresses to ${out.length}`);
      }
      return out;
    },
  };
}
setCompressionCodec(CompressionType.LZ4_FRAME, strictCodec((b) => lz4.decompress(b)));
setCompressionCodec(CompressionType.ZSTD, strictCodec((b) => new Uint8Array(zlib.zstdDecompressSync(b))));

const CODECS = [["lz4", "lz4_frame"], ["zstd", "zstd"], ["none", null]] as const;

Deno.test("feather output (CLI parts and the page's export): compressed buffer prefixes hold the uncompressed length, as pyarrow/polars need", () => {
  const n = 3000;
  const { timestamps, columns } = sample(n);
  for (const [compression, codec] of CODECS) {
    const batches = inspectArrowFile(encodeFeather(columns, timestamps, compression));
    assert.equal(batches.length, 1, compression);
    const [batch] = batches;
    assert.equal(batch.rows, n, compression);
    assert.equal(batch.codec, codec, compression);
    const filled = batch.buffers.filter((b) => b.length > 0);
    // No nulls: only the four data buffers (timestamp + 3 columns, 8 bytes a row) hold bytes.
    assert.equal(filled.length, 4, compression);
    if (codec === null) {
      for (const b of filled) assert.equal(b.length, n * 8, `${compression} buffer length`);
      continue;
    }
    for (const b of filled) {
      assert.equal(b.decodedLength, n * 8, `${compression}: buffer decodes to its column's bytes`);
      assert.ok(b.prefix === -1 || b.prefix === b.decodedLength, `${compression}: prefix ${b.prefix}`);
    }
    const compressed = filled.filter((b) => b.prefix !== -1);
    assert.ok(compressed.length >= 2, `${compression}: the smooth columns are stored compressed`);
    assert.ok(compressed.every((b) => b.length < n * 8), `${compression}: compressed buffers are smaller`);
    // Stored as-is (-1) only where compressing did not shrink the bytes, as the format allows.
    for (const b of filled.filter((b) => b.prefix === -1)) assert.equal(b.length, 8 + n * 8);
  }
});

Deno.test("feather output: an empty part (0 rows) is still a valid Arrow file", () => {
  const { timestamps, columns } = sample(0);
  for (const [compression, codec] of CODECS) {
    const [batch] = inspectArrowFile(encodeFeather(columns, timestamps, compression));
    assert.equal(batch.rows, 0);
    assert.equal(batch.codec, codec);
    assert.ok(batch.buffers.every((b) => b.length === 0), compression);
  }
});

Deno.test("arrow_ipc_check and flechette catch apache-arrow JS 21's compressed-length prefix (the bug encodeFeather works around)", () => {
  // When this fails, apache-arrow writes correct prefixes (apache/arrow-js PR #470 released): the comment on
  // io/feather_write.ts's FeatherWriter, which compresses the buffers itself, can say so.
  const n = 3000;
  const { columns } = sample(n);
  const lz4Frame = ArrowJsCompression.LZ4_FRAME;
  compressionRegistry.set(lz4Frame, { ...compressionRegistry.get(lz4Frame), encode: (b) => lz4.compress(b) });
  const table = new Table(Object.fromEntries([...columns].map(([k, v]) => [k, makeVector(v)])));
  const bytes = tableToIPC(table, "file", ArrowJsCompression.LZ4_FRAME);
  const compressed = inspectArrowFile(bytes)[0].buffers.filter((b) => b.length > 0 && b.prefix !== -1);
  assert.ok(compressed.length > 0);
  for (const b of compressed) {
    assert.equal(b.decodedLength, n * 8);
    assert.equal(b.prefix, b.length - 8, "apache-arrow JS prefix is the compressed length");
  }
  assert.throws(() => tableFromIPC(bytes), /prefix says \d+ bytes, buffer decompresses to 24000/);
});

Deno.test("feather output reads back in flechette (an independent Arrow implementation) with identical values", async () => {
  const n = 2500;
  const { timestamps, columns } = sample(n);
  for (const [compression] of CODECS) {
    const bytes = encodeFeather(columns, timestamps, compression);
    const table = tableFromIPC(bytes);
    assert.equal(table.numRows, n, compression);
    assert.deepEqual(table.names, ["timestamp", ...columns.keys()], compression);
    const ts = table.getChild("timestamp").toArray() as ArrayLike<number>;
    for (let i = 0; i < n; i++) assert.equal(ts[i], timestamps.values[i], `${compression} timestamp[${i}]`);
    for (const [name, values] of columns) {
      const got = table.getChild(name).toArray();
      assert.ok(got instanceof Float64Array, `${compression} ${name} is float64`);
      for (let i = 0; i < n; i++) assert.ok(Object.is(got[i], values[i]), `${compression} ${name}[${i}]`);
    }
    // Our own reader agrees.
    const frame = await decodeFrame(bytes, `out_${compression}.feather`);
    assert.deepEqual(frame.timestamps, timestamps.values, compression);
    for (const [name, values] of columns) assert.deepEqual(frame.columns.get(name), values, compression);
  }
});
