/**
 * Files written by pyarrow (tests/fixtures/arrow_pyarrow, tests/fixtures/parquet_pyarrow, made by
 * scripts/make_arrow_fixtures.py) read by our decoders to the values pyarrow wrote, column by column.
 */
import { strict as assert } from "node:assert";
import { decodeFrame } from "../io/read.ts";
import type { Frame } from "../io/frame.ts";
import { DataError } from "../runtime/errors.ts";

interface Expected {
  files: Record<string, { batches?: number; rowGroups?: number }>;
  table: {
    rows: number;
    timestampColumn: string;
    timestamps: number[];
    columns: Record<string, (number | null)[]>;
    skipped: string[];
    badCells: Record<string, { row: number; value: string; count: number }>;
  };
}

const FIXTURES = new URL("./fixtures/", import.meta.url);

async function load(dir: string): Promise<Expected> {
  return JSON.parse(await Deno.readTextFile(new URL(`${dir}/expected.json`, FIXTURES)));
}

/** Exact comparison: sub-millisecond timestamps (us, ns) too, as epoch ms computed as pyarrow's script does. */
function assertColumn(actual: Float64Array | undefined, expected: (number | null)[], what: string): void {
  assert.ok(actual, `${what} missing`);
  assert.equal(actual.length, expected.length, `${what} length`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    if (e === null) {
      assert.ok(Number.isNaN(actual[i]), `${what}[${i}]: got ${actual[i]}, expected a missing value`);
    } else assert.equal(actual[i], e, `${what}[${i}]`);
  }
}

function assertFrame(f: Frame, exp: Expected["table"], file: string): void {
  assert.equal(f.rows, exp.rows, file);
  assert.equal(f.timestampColumn, exp.timestampColumn, file);
  assertColumn(f.timestamps, exp.timestamps, `${file} timestamps`);
  assert.deepEqual([...f.columns.keys()].sort(), Object.keys(exp.columns).sort(), `${file} numeric columns`);
  for (const [name, values] of Object.entries(exp.columns)) {
    assertColumn(f.columns.get(name), values, `${file} ${name}`);
  }
  // Text and boolean columns are reported as skipped, with a reason, never dropped silently.
  assert.deepEqual(f.skipped.map((s) => s.name).sort(), [...exp.skipped].sort(), `${file} skipped`);
  for (const s of f.skipped) assert.ok(s.reason.length > 0, `${file} ${s.name} has a reason`);
  assert.deepEqual(
    Object.fromEntries(
      (f.badCells ?? []).map(({ name, row, value, count }) => [name, { row, value, count }]),
    ),
    exp.badCells,
    `${file} non-numeric cells`,
  );
}

Deno.test("pyarrow Feather/IPC (uncompressed, LZ4, ZSTD, stream; nulls, ts ms/us/ns ± tz, ints, floats, decimals, dictionary/text prices) read to pyarrow's values", async () => {
  const exp = await load("arrow_pyarrow");
  assert.equal(Object.keys(exp.files).length, 4);
  for (const file of Object.keys(exp.files)) {
    const bytes = await Deno.readFile(new URL(`arrow_pyarrow/${file}`, FIXTURES));
    // ZSTD files failed here with "start offset of Float64Array should be a multiple of 8".
    assertFrame(await decodeFrame(bytes, file, { badValues: "nan" }), exp.table, file);
  }
});

Deno.test("pyarrow Parquet (ZSTD with dictionary pages, Snappy plain, gzip data page v2; several row groups) read to pyarrow's values", async () => {
  const exp = await load("parquet_pyarrow");
  assert.ok(Object.values(exp.files).some((f) => (f.rowGroups ?? 0) > 1), "fixtures hold several row groups");
  for (const file of Object.keys(exp.files)) {
    const bytes = await Deno.readFile(new URL(`parquet_pyarrow/${file}`, FIXTURES));
    assertFrame(await decodeFrame(bytes, file, { badValues: "nan" }), exp.table, file);
  }
});

Deno.test("a numeric text column with a non-numeric cell is an error naming the cell, not a vanished column (Arrow and Parquet)", async () => {
  for (const file of ["arrow_pyarrow/bars_zstd.feather", "parquet_pyarrow/bars_zstd_dict.parquet"]) {
    const bytes = await Deno.readFile(new URL(file, FIXTURES));
    await assert.rejects(decodeFrame(bytes, file), (e: unknown) => {
      assert.ok(e instanceof DataError, String(e));
      assert.match(e.message, /column "bid_text": non-numeric value "—" at row 5 \(2 such cells/);
      return true;
    });
  }
});
