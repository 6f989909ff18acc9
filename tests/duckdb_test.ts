/**
 * The pipeline's Parquet output read by an independent reader: DuckDB (npm `@duckdb/node-api`, a native
 * Node-API addon) must see the same columns, types, row count, sums and NaN counts as hyparquet (io/read.ts).
 *
 * Loading a native addon needs --allow-ffi, which the test task does not grant, so DuckDB runs in a child
 * process: this same file started with `deno run` (`import.meta.main`) queries the files and prints JSON.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parquetMetadata, parquetSchema } from "hyparquet";
import { main } from "../cli/main.ts";
import { generate } from "../generator/generate.ts";
import { decodeFrame } from "../io/read.ts";
import { LocalStorage } from "../io/storage.ts";

/** What the DuckDB child reports. */
interface DuckReport {
  columns: { name: string; type: string }[];
  rows: number;
  files: number;
  firstMs: number;
  lastMsMax: number;
  /** Per DOUBLE column: sum of the non-NaN values and the NaN count. */
  stats: Record<string, { sum: number; nan: number }>;
}

const quoteId = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Child mode: `deno run --allow-read --allow-ffi --allow-env tests/duckdb_test.ts GLOB` prints a DuckReport. */
async function duckdbReport(glob: string): Promise<DuckReport> {
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const instance = await DuckDBInstance.create(":memory:");
  const c = await instance.connect();
  try {
    const query = async (sql: string) => (await c.runAndReadAll(sql)).getRowObjectsJson();
    const src = `read_parquet('${glob.replaceAll("'", "''")}', filename = true)`;
    const columns = (await query(`DESCRIBE SELECT * EXCLUDE (filename) FROM ${src}`)).map((r) => ({
      name: String(r.column_name),
      type: String(r.column_type),
    }));
    const doubles = columns.filter((c) => c.type === "DOUBLE").map((c) => c.name);
    const ts = quoteId(columns[0].name);
    const aggregates = doubles.flatMap((n, i) => [
      `sum(${quoteId(n)}) FILTER (WHERE NOT isnan(${quoteId(n)})) AS s${i}`,
      `count(*) FILTER (WHERE isnan(${quoteId(n)})) AS n${i}`,
    ]);
    const [row] = await query(
      `SELECT count(*) AS rows, count(DISTINCT filename) AS files, epoch_ms(min(${ts})) AS first_ms,
        epoch_ms(max(${ts})) AS last_ms, ${aggregates.join(", ")} FROM ${src}`,
    );
    return {
      columns,
      rows: Number(row.rows),
      files: Number(row.files),
      firstMs: Number(row.first_ms),
      lastMsMax: Number(row.last_ms),
      stats: Object.fromEntries(
        doubles.map((n, i) => [n, { sum: Number(row[`s${i}`] ?? 0), nan: Number(row[`n${i}`]) }]),
      ),
    };
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

if (import.meta.main) {
  console.log(JSON.stringify(await duckdbReport(Deno.args[0])));
}

const INSTRUMENTS = 2;
const ROWS = 70_000;

Deno.test("parquet output: DuckDB and hyparquet agree on columns, types, rows, sums and NaNs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-duckdb-" });
  try {
    const src = join(dir, "bars"), out = join(dir, "out");
    await generate({
      kind: "bars",
      storage: new LocalStorage(src),
      instruments: INSTRUMENTS,
      rows: ROWS,
      seed: 5,
      workers: 1,
    });
    const config = join(dir, "config.yaml");
    await Deno.writeTextFile(
      config,
      `data:\n  source: ${src}\nstorage:\n  output: ${out}\n  format: parquet\ncompute:\n  backend: cpu\n` +
        `generator:\n  if_empty: false\n`,
    );
    const { log, error } = console;
    const stderrWrite = Deno.stderr.writeSync;
    const printed: string[] = [];
    console.log = console.error = (...a: unknown[]) => void printed.push(a.map(String).join(" "));
    Deno.stderr.writeSync = (p: Uint8Array) => (printed.push(new TextDecoder().decode(p)), p.length);
    let code: number;
    try {
      code = await main(["run", "--config", config]);
    } finally {
      console.log = log;
      console.error = error;
      Deno.stderr.writeSync = stderrWrite;
    }
    assert.equal(code, 0, printed.join("\n"));

    // hyparquet: schema types and decoded frames.
    const storage = new LocalStorage(out);
    const parts = (await storage.list()).filter((o) => /^[^/]+\/part-\d{5}\.parquet$/.test(o.key));
    assert.equal(parts.length, INSTRUMENTS);
    let names: string[] | undefined;
    let rows = 0, first = Infinity, last = -Infinity;
    const sums = new Map<string, { sum: number; nan: number }>();
    for (const p of parts) {
      const bytes = await storage.get(p.key);
      const types = parquetSchema(parquetMetadata(bytes.buffer as ArrayBuffer)).children.map((c) => ({
        name: c.element.name,
        type: c.element.type,
        converted: c.element.converted_type,
      }));
      const frame = await decodeFrame(bytes, p.key);
      const frameNames = [frame.timestampColumn!, ...frame.columns.keys()];
      assert.deepEqual(types.map((t) => t.name), frameNames);
      assert.deepEqual(types[0], { name: "timestamp", type: "INT64", converted: "TIMESTAMP_MILLIS" });
      for (const t of types.slice(1)) assert.equal(t.type, "DOUBLE", `${t.name}`);
      names ??= frameNames;
      assert.deepEqual(frameNames, names, `${p.key}: columns differ between parts`);
      rows += frame.rows;
      first = Math.min(first, frame.timestamps![0]);
      last = Math.max(last, frame.timestamps![frame.rows - 1]);
      for (const [name, values] of frame.columns) {
        const s = sums.get(name) ?? { sum: 0, nan: 0 };
        for (const v of values) Number.isNaN(v) ? s.nan++ : (s.sum += v);
        sums.set(name, s);
      }
    }
    assert.equal(rows, INSTRUMENTS * ROWS);
    assert.ok([...sums.values()].some((s) => s.nan > 0), "expected warm-up NaNs in some feature column");

    // DuckDB, in a child process allowed to load its native addon.
    const child = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-env",
        "--allow-ffi",
        "--allow-sys",
        fileURLToPath(import.meta.url),
        join(out, "*", "part-*.parquet"),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(child.stderr);
    assert.equal(child.code, 0, `DuckDB child failed:\n${stderr}`);
    const duck: DuckReport = JSON.parse(new TextDecoder().decode(child.stdout));

    assert.deepEqual(duck.columns.map((c) => c.name), names);
    assert.match(duck.columns[0].type, /^TIMESTAMP/);
    assert.deepEqual(duck.columns.slice(1).map((c) => c.type), names!.slice(1).map(() => "DOUBLE"));
    assert.equal(duck.rows, rows);
    assert.equal(duck.files, INSTRUMENTS);
    assert.equal(duck.firstMs, first);
    assert.equal(duck.lastMsMax, last);
    assert.deepEqual(Object.keys(duck.stats), names!.slice(1));
    for (const [name, s] of sums) {
      const d = duck.stats[name];
      assert.equal(d.nan, s.nan, `${name}: NaN count`);
      const tol = 1e-9 * Math.max(1, Math.abs(s.sum));
      assert.ok(Math.abs(d.sum - s.sum) <= tol, `${name}: DuckDB sum ${d.sum}, hyparquet sum ${s.sum}`);
    }
    assert.ok(duck.stats.close.sum > 0);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
