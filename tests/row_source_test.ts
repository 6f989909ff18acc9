/**
 * The lazily read input of a chunked run (io/row_source.ts): an instrument in several files, each of several
 * Parquet row groups (and a CSV file), validated piece by piece with the messages of the whole-frame path, read
 * back by row ranges that cut through row groups and files, and run in chunks bit for bit as in memory.
 */
import { strict as assert } from "node:assert";
import { parquetWriteBuffer } from "hyparquet-writer";
import { bars, CHUNK_CONFIG } from "./chunk_fixture.ts";
import { loadConfig } from "../config/load.ts";
import { openCompute } from "../runtime/backend.ts";
import { enabledEngines, runEngines } from "../pipeline/engines.ts";
import { chunkHalo, runEnginesChunked } from "../pipeline/chunked.ts";
import { InputsHash } from "../pipeline/chunked_task.ts";
import { discoverTasks } from "../io/discover.ts";
import { encodeCsv } from "../io/write.ts";
import type { Frame } from "../io/frame.ts";
import { scanTask } from "../io/row_source.ts";
import { LocalStorage, type RangeReader, type Storage } from "../io/storage.ts";
import { loadTask, validatedPieces } from "../io/validate.ts";
import { DataError } from "../runtime/errors.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const load = { denyColumns: [], timestampColumn: "timestamp" };

/** Rows [a, b) of the frame as a Parquet file with row groups of `group` rows. */
function parquet(frame: Frame, a: number, b: number, group: number): Uint8Array {
  const columnData = [
    {
      name: "timestamp",
      data: Array.from(frame.timestamps!.subarray(a, b), (v) => BigInt(v)),
      type: "TIMESTAMP" as const,
    },
    ...[...frame.columns].map(([name, v]) => ({ name, data: v.slice(a, b), type: "DOUBLE" as const })),
  ];
  return new Uint8Array(parquetWriteBuffer({ columnData, rowGroupSize: group }));
}

/** Rows [a, b) of the frame as CSV (epoch-ms timestamps; numbers print and parse back to the same f64). */
function csv(frame: Frame, a: number, b: number): Uint8Array {
  const columns = [...frame.columns].map(([name, v]) => ({ name, values: v.subarray(a, b) }));
  return encodeCsv(columns, { values: frame.timestamps!.subarray(a, b), format: "ms" });
}

/** The frame as three Parquet files of 300-row groups (1,100 + 900 + 600 rows) and a CSV file (the rest). */
async function partitioned(frame: Frame, dir: string, edit?: (f: Frame) => void): Promise<LocalStorage> {
  const storage = new LocalStorage(dir);
  const copy: Frame = {
    ...frame,
    columns: new Map([...frame.columns].map(([k, v]) => [k, v.slice()])),
    timestamps: frame.timestamps!.slice(),
  };
  edit?.(copy);
  await storage.put("SYN/a.parquet", parquet(copy, 0, 1100, 300));
  await storage.put("SYN/b.parquet", parquet(copy, 1100, 2000, 300));
  await storage.put("SYN/c.parquet", parquet(copy, 2000, 2600, 300));
  await storage.put("SYN/d.csv", csv(copy, 2600, frame.rows));
  return storage;
}

/** A storage that counts the bytes its range readers read before the footer's (the last) range. */
function counting(storage: Storage): { storage: Storage; bytes: () => number } {
  let bytes = 0;
  return {
    storage: Object.assign(Object.create(storage), {
      reader: async (key: string): Promise<RangeReader> => {
        const r = await storage.reader(key);
        return {
          byteLength: r.byteLength,
          slice: async (s: number, e?: number) => {
            const got = await r.slice(s, e);
            if ((e ?? r.byteLength) < r.byteLength) bytes += got.byteLength;
            return got;
          },
        };
      },
    }),
    bytes: () => bytes,
  };
}

function sameBits(name: string, a: Float64Array, b: Float64Array): void {
  assert.equal(a.length, b.length, name);
  for (let t = 0; t < a.length; t++) {
    if (!Object.is(a[t], b[t])) assert.fail(`${name} row ${t}: ${a[t]} expected, ${b[t]} got`);
  }
}

Deno.test(
  "row source: pieces per row group, reads across groups and files, chunked == in memory",
  opts,
  async () => {
    const frame = await bars(3000);
    const dir = await Deno.makeTempDir({ prefix: "fg-rows-" });
    try {
      const storage = await partitioned(frame, dir);
      const [task] = await discoverTasks(storage, "^([^/]+)/", ["parquet", "csv"]);
      const whole = await loadTask(storage, task, load);
      sameBits("timestamps", frame.timestamps!, whole.timestamps!);

      // Parquet files are validated a row group at a time, a CSV file whole.
      const pieces = [];
      for await (const p of validatedPieces(storage, task, load)) pieces.push([p.key, p.first, p.frame.rows]);
      assert.deepEqual(pieces.map(([k]) => k), [
        ...Array(4).fill("SYN/a.parquet"),
        ...Array(3).fill("SYN/b.parquet"),
        ...Array(2).fill("SYN/c.parquet"),
        "SYN/d.csv",
      ]);
      assert.deepEqual(pieces.slice(0, 5).map(([, first, rows]) => [first, rows]), [
        [0, 300],
        [300, 300],
        [600, 300],
        [900, 200],
        [1100, 300],
      ]);

      // The fingerprints do not depend on how the rows are cut; a mark keeps the prefix's.
      const seen = new InputsHash([1234]);
      const c = counting(storage);
      const source = await scanTask(c.storage, task, load, (p) => seen.add(p));
      const once = new InputsHash([1234]);
      once.add(whole);
      assert.equal(seen.digest(3000), once.digest(3000));
      assert.equal(seen.digest(1234), once.digest(1234));
      const prefix = new InputsHash();
      prefix.add({ ...whole, ...(await source.read(0, 1234)) });
      assert.equal(prefix.digest(1234), once.digest(1234));
      assert.notEqual(once.digest(1234), once.digest(3000));

      assert.equal(source.rows, 3000);
      assert.deepEqual(source.columns, [...whole.columns.keys()]);
      for (const [a, b] of [[0, 3000], [250, 350], [1050, 2650], [2999, 3000], [900, 1100]]) {
        const f = await source.read(a, b);
        assert.equal(f.origin, a);
        sameBits(`timestamps [${a}, ${b})`, whole.timestamps!.subarray(a, b), f.timestamps!);
        for (const [k, v] of whole.columns) {
          sameBits(
            `${k} [${a}, ${b})`,
            v.subarray(a, b),
            f.columns.get(k)!,
          );
        }
      }
      // One row group's rows read only that group's column chunks (besides the footer), not the file's.
      const before = c.bytes();
      await source.read(1450, 1460, ["close"]);
      const size = (await storage.head("SYN/b.parquet"))!.size;
      assert.ok(
        c.bytes() > before && c.bytes() - before < size / 2,
        `${c.bytes() - before} bytes read of a ${size}-byte file`,
      );

      const config = loadConfig(CHUNK_CONFIG);
      const compute = await openCompute({ backend: "cpu" });
      const engines = enabledEngines(config);
      const want = await runEngines(whole, engines, config, compute);
      const got = new Map<string, Float64Array[]>();
      await runEnginesChunked(source, engines, config, compute, {
        rows: 257,
        ...chunkHalo(config, engines),
        part: (p) => {
          for (const [k, v] of p.columns) got.set(k, [...got.get(k) ?? [], v]);
          return Promise.resolve();
        },
      });
      assert.deepEqual([...got.keys()], [...want.keys()]);
      for (const [k, parts] of got) {
        const v = new Float64Array(3000);
        parts.reduce((at, p) => (v.set(p, at), at + p.length), 0);
        sameBits(`${k} (chunks of 257 over the files)`, want.get(k)!, v);
      }

      // A file rewritten between the validation pass and a chunk's read is an error, not a short chunk.
      const again = await scanTask(storage, task, load);
      await storage.put("SYN/d.csv", csv(whole, 2600, 2900));
      await assert.rejects(
        () => again.read(2800, 3000),
        (e) =>
          e instanceof DataError &&
          e.message.endsWith(
            "SYN/d.csv: changed while the task read it (300 rows where validation read 400); run the task again",
          ),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "row source: errors in a later row group name the file and its row, as the whole-frame path",
  opts,
  async () => {
    const frame = await bars(3000);
    const cases: [string, (f: Frame) => void, RegExp][] = [
      [
        "timestamp order",
        (f) => (f.timestamps![1100 + 650] = f.timestamps![1100 + 640]),
        /b\.parquet: column timestamp: timestamps must be strictly increasing; row 650, .* is not after the previous row$/,
      ],
      [
        "low above high",
        (f) => (f.columns.get("low")![1100 + 700] = f.columns.get("high")![1100 + 700] + 1),
        /b\.parquet: column low: low .* > high .* at row 700$/,
      ],
      [
        "order across files",
        (f) => (f.timestamps![2000] = f.timestamps![1999]),
        /c\.parquet: column timestamp: timestamps must be strictly increasing; row 0, /,
      ],
    ];
    for (const [what, edit, message] of cases) {
      const dir = await Deno.makeTempDir({ prefix: "fg-rows-" });
      try {
        const storage = await partitioned(frame, dir, edit);
        const [task] = await discoverTasks(storage, "^([^/]+)/", ["parquet", "csv"]);
        const whole = await loadTask(storage, task, load).then(() => null, (e) => e);
        assert.ok(whole instanceof DataError, what);
        assert.match(whole.message, message, what);
        const streamed = await scanTask(storage, task, load).then(() => null, (e) => e);
        assert.ok(streamed instanceof DataError, what);
        assert.equal(streamed.message, whole.message, what);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
);
