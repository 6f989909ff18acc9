/**
 * The Feather part writer (io/feather_write.ts): the same bytes as the apache-arrow writer it replaced
 * (tests/fixtures/feather_writer, made by scripts/make_feather_writer_fixture.ts before the change), whether
 * joined or as pieces written one by one; values column by column in flechette (an independent Arrow
 * reader) and our reader; timestamps Int64 cannot hold refused by name; pieces stored and hashed as one file.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { tableFromIPC } from "@uwdata/flechette";
import { encodeFeather, encodeFeatherParts } from "../io/feather_write.ts";
import { joinBytes } from "../io/bytes.ts";
import { sha256Hex } from "../io/checksum.ts";
import { decodeFrame } from "../io/read.ts";
import { LocalStorage } from "../io/storage.ts";
import { FEATHER_FIXTURE_ROWS, featherFixtureInput } from "./feather_fixture.ts";

const CODECS = ["zstd", "lz4", "none"] as const;
const fixture = (c: string) =>
  Deno.readFile(new URL(`./fixtures/feather_writer/${c}.feather`, import.meta.url));

Deno.test("feather writer: the replaced apache-arrow writer's bytes, joined or as pieces, for every codec", async () => {
  const { columns, timestamps } = featherFixtureInput();
  for (const compression of CODECS) {
    const before = await fixture(compression);
    const pieces = await encodeFeatherParts(columns, timestamps, compression);
    assert.ok(pieces.length > 4, `${compression}: ${pieces.length} pieces`);
    assert.deepEqual(joinBytes(pieces), before, `${compression}: pieces`);
    assert.deepEqual(encodeFeather(columns, timestamps, compression), before, `${compression}: joined`);
  }
});

Deno.test("feather writer: the fixture's schema and values, column by column, in flechette and our reader", async () => {
  const { columns, timestamps } = featherFixtureInput();
  const rounded = timestamps.values.map(Math.round);
  for (const compression of CODECS) {
    const bytes = joinBytes(await encodeFeatherParts(columns, timestamps, compression));
    // flechette decodes ZSTD and LZ4 only with a registered codec: compare the uncompressed file's schema.
    const table = tableFromIPC(compression === "none" ? bytes : await fixture("none"));
    assert.deepEqual(
      table.schema.fields.map((f) => [f.name, f.type.typeId, f.nullable]),
      [["timestamp", 10, true], ["close", 3, false], ["noise", 3, false], ["odd", 3, false]],
    );
    const frame = await decodeFrame(bytes, `parts_${compression}.feather`);
    assert.equal(frame.rows, FEATHER_FIXTURE_ROWS);
    assert.deepEqual(frame.timestamps, rounded, `${compression}: timestamps rounded to ms`);
    for (const [name, values] of columns) {
      const got = frame.columns.get(name)!;
      for (let i = 0; i < values.length; i++) {
        assert.ok(Object.is(got[i], values[i]), `${compression} ${name}[${i}]`);
      }
    }
  }
  // flechette on the uncompressed file: the Int64 timestamps as written (pre-1970 ones too).
  const ts = tableFromIPC(encodeFeather(columns, timestamps, "none")).getChild("timestamp").toArray();
  assert.deepEqual(Array.from(ts as ArrayLike<number>), Array.from(rounded));
  assert.ok(rounded[0] < 0 && rounded[1] - rounded[0] === 60_001);
});

Deno.test("feather writer: a timestamp that Timestamp[ms] cannot hold is refused with its column and row", () => {
  const columns = new Map([["close", new Float64Array(3)]]);
  for (const bad of [NaN, Infinity, -Infinity, 2 ** 53 + 2]) {
    const values = Float64Array.of(0, 1, bad);
    assert.throws(
      () => encodeFeather(columns, { name: "ts", values }, "zstd"),
      (e: Error) => e instanceof RangeError && /timestamp column "ts" row 3 is /.test(e.message),
      String(bad),
    );
  }
  // The largest magnitudes it takes round-trip exactly (split into two 32-bit words).
  const edge = Float64Array.of(-(2 ** 53) + 1, -(2 ** 32) - 1, -1, 2 ** 32, 2 ** 53 - 1);
  const table = tableFromIPC(encodeFeather(new Map(), { name: "ts", values: edge }, "none"));
  assert.deepEqual(Array.from(table.getChild("ts").toArray() as ArrayLike<number>), Array.from(edge));
});

Deno.test("feather writer: pieces stored by LocalStorage and hashed are the joined file's bytes and checksum", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-feather-" });
  try {
    const { columns, timestamps } = featherFixtureInput();
    const pieces = await encodeFeatherParts(columns, timestamps, "zstd");
    const storage = new LocalStorage(dir);
    await storage.put("A/part-00000.feather", pieces);
    const stored = await Deno.readFile(join(dir, "A/part-00000.feather"));
    assert.deepEqual(stored, await fixture("zstd"));
    assert.equal(await sha256Hex(pieces), await sha256Hex(stored));
    assert.deepEqual([...Deno.readDirSync(join(dir, "A"))].map((e) => e.name), ["part-00000.feather"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
