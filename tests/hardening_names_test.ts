/**
 * Issue 12, "instrument names are used as paths unchecked": an instrument name becomes an output folder or S3
 * prefix, so discovery refuses any name that is not one plain path segment (io/discover.ts
 * `instrumentNameProblem`). A refused instrument is a failed task (exit 1) with one printable line naming the
 * key and the rule; nothing is read, written or deleted for it, `_runs` survives `clean_existing_output`, and
 * no report (summary.md, progress lines, the registry, error lines) carries a raw control character.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { cli } from "./cli_harness.ts";
import { generate } from "../generator/generate.ts";
import { LocalStorage, type Storage, type StoredObject } from "../io/storage.ts";
import { discoverTasks, instrumentNameProblem, MAX_INSTRUMENT_LENGTH } from "../io/discover.ts";
import { removeTaskOutput, writeTaskOutput } from "../pipeline/output.ts";
import { UsageError } from "../runtime/errors.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const DEFAULT_PATTERN = "^([^/]+)/";
/** A control, format or separator character: what must never reach a report raw. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** Generated bars of one instrument (SYN0000) under `bars`, its file copied into a folder per name in `names`. */
async function barsWithCopies(bars: string, rows: number, names: string[]): Promise<void> {
  await generate({
    kind: "bars",
    storage: new LocalStorage(bars),
    instruments: 1,
    rows,
    seed: 3,
    workers: 0,
  });
  for (const name of names) {
    await Deno.mkdir(join(bars, name));
    await Deno.copyFile(join(bars, "SYN0000", "part-00000.parquet"), join(bars, name, "part-00000.parquet"));
  }
}

/** A listing-only store, as S3 lists keys: any byte sequence is a possible key. */
function keysOnly(url: string, keys: string[]): Storage {
  const objects: StoredObject[] = keys.sort().map((key) => ({ key, size: 1 }));
  const no = () => Promise.reject(new Error("discovery must not read objects"));
  return { url, list: () => Promise.resolve(objects), get: no, head: no, reader: no, put: no, delete: no };
}

Deno.test("names: the policy accepts plain ticker names and refuses everything that is not one safe segment", () => {
  for (
    const ok of [
      "SYN0000",
      "BRK.B",
      "ES=F",
      "^GSPC",
      "EUR-USD",
      "a_b",
      "x~1",
      "A@B",
      "1,2",
      "b+c",
      "x..y",
      "CONSOLE",
      "NULL",
    ]
  ) {
    assert.equal(instrumentNameProblem(ok), undefined, ok);
  }
  const refused: [string, RegExp][] = [
    ["..", /starts with "\."/],
    [".", /starts with "\."/],
    [".git", /starts with "\."/],
    ["_runs", /starts with "_"/],
    ["_manifest.json", /starts with "_"/],
    ["a/b", /contains "\/"/],
    ["a\\b", /contains "\\\\"/],
    ["a\nb", /contains "\\n"/],
    ["a\rb", /contains "\\r"/],
    ["a|b", /contains "\|"/],
    ["a b", /contains " "/],
    ["a:b", /contains ":"/],
    ["a\u001b[31m", /contains "\\u001b"/],
    ["a\u202eb", /contains "\\u202e"/], // a bidi override that would reverse what a terminal shows
    ["a\u0085b", /contains "\\u0085"/],
    ["日経", /contains "日"/],
    ["ES.", /ends with "\."/],
    ["CON", /device name on Windows/],
    ["nul.txt", /device name on Windows/],
    ["COM1", /device name on Windows/],
    ["registry.sqlite", /run registry/],
    ["registry.sqlite-wal", /run registry/],
    ["", /empty/],
    ["x".repeat(MAX_INSTRUMENT_LENGTH + 1), new RegExp(`longer than ${MAX_INSTRUMENT_LENGTH}`)],
  ];
  for (const [name, rule] of refused) {
    const why = instrumentNameProblem(name);
    assert.ok(why, `accepted ${JSON.stringify(name)}`);
    assert.match(why, rule);
    assert.doesNotMatch(
      why,
      UNPRINTABLE,
      `the rule for ${JSON.stringify(name)} prints a raw control character`,
    );
  }
  // Every character outside the allowed set, at any position, is refused (a sweep, not only the examples).
  for (let c = 0; c < 0x3100; c++) {
    const ch = String.fromCharCode(c);
    const allowed = /[A-Za-z0-9._\-+=@^~,]/.test(ch);
    for (const name of [`a${ch}`, `${ch}a`, `a${ch}b`]) {
      const ok = instrumentNameProblem(name) === undefined;
      assert.equal(ok, allowed && !/^[._]|\.$/.test(name), `${JSON.stringify(name)}: accepted ${ok}`);
    }
  }
});

Deno.test("names: discovery keeps refused S3 keys and pattern captures as tasks with a one-line reason", async () => {
  const source = keysOnly("s3://bucket/bars", [
    "../part-0.parquet", // ".." would write beside the output prefix
    "_runs/part-0.parquet", // would write into the run summaries
    ".hidden/part-0.parquet",
    "a\nb/part-0.parquet",
    "a|b/part-0.csv",
    "esc\u001b[2J/part-0.parquet",
    "GOOD/part-0.parquet",
    "GOOD/part-1.parquet",
    "BRK.B/part-0.parquet",
  ]);
  const tasks = await discoverTasks(source, DEFAULT_PATTERN, ["parquet", "csv"]);
  const byName = new Map(tasks.map((t) => [t.instrument, t]));
  assert.deepEqual(byName.get("GOOD")?.files.length, 2);
  assert.equal(byName.get("GOOD")?.problem, undefined);
  assert.equal(byName.get("BRK.B")?.problem, undefined);
  const refused = tasks.filter((t) => t.problem);
  assert.deepEqual(
    refused.map((t) => t.instrument).sort(),
    ['".."', '".hidden"', '"_runs"', '"a\\nb"', '"a|b"', '"esc\\u001b[2J"'].sort(),
  );
  for (const t of refused) {
    assert.match(t.problem!, /^s3:\/\/bucket\/bars\/.+: instrument ".+" \(from data\.instrument_pattern /);
    assert.match(t.problem!, /is not a safe output name: /);
    assert.match(t.problem!, /rename the folder or file, or change data\.instrument_pattern$/);
    assert.doesNotMatch(t.problem!, UNPRINTABLE, t.problem);
    assert.doesNotMatch(t.instrument, UNPRINTABLE, t.instrument);
  }
  // A capture that spans folders, and an empty capture, are refused too (never silently dropped).
  const deep = await discoverTasks(keysOnly("s3://b/p", ["x/y/z.parquet", "/w.parquet"]), "^(.*)/", [
    "parquet",
  ]);
  assert.deepEqual(deep.map((t) => [t.instrument, Boolean(t.problem)]), [['""', true], ['"x/y"', true]]);
  assert.match(deep[1].problem!, /contains "\/"/);
  // Files directly under the source name their instrument after the file: the same policy applies.
  const flat = await discoverTasks(keysOnly("s3://b/p", ["a b.csv", "OK.csv"]), DEFAULT_PATTERN, ["csv"]);
  assert.match(flat.find((t) => t.instrument === '"a b"')!.problem!, /\(from the file name\).*contains " "/);
  assert.equal(flat.find((t) => t.instrument === "OK")!.problem, undefined);
});

Deno.test("names: instruments that differ only in case are refused (one folder on macOS and Windows)", async () => {
  const tasks = await discoverTasks(
    keysOnly("/data", ["abc/p.csv", "ABC/p.csv", "xyz/p.csv"]),
    DEFAULT_PATTERN,
    [
      "csv",
    ],
  );
  assert.deepEqual(tasks.map((t) => [t.instrument, Boolean(t.problem)]), [
    ["ABC", true],
    ["abc", true],
    ["xyz", false],
  ]);
  assert.match(tasks[0].problem!, /instruments "ABC" and "abc" differ only in case/);
});

Deno.test("names: the output module refuses unsafe names itself, so _runs and ../ are never written or deleted", async () => {
  const dir = await Deno.makeTempDir();
  const out = new LocalStorage(join(dir, "out"));
  await out.put("_runs/r1/summary.json", new TextEncoder().encode("{}"));
  await out.put("_runs/_manifest.json", new TextEncoder().encode("{}"));
  for (const name of ["_runs", "..", ".", "../evil", "a/b", ""]) {
    await assert.rejects(removeTaskOutput(out, name), (e: Error) => e instanceof UsageError, name);
    await assert.rejects(
      writeTaskOutput(
        out,
        name,
        new Map([["x", new Float64Array(1)]]),
        {
          name: "timestamp",
          values: new Float64Array(1),
        },
        { runId: "r", configHash: "h" },
        { format: "feather", compression: "none", rowsPerPart: 10 },
      ),
      /is not a safe output name/,
      name,
    );
  }
  assert.deepEqual((await out.list()).map((o) => o.key), ["_runs/_manifest.json", "_runs/r1/summary.json"]);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["out"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test(
  "names: run on hostile local folders: exit 1, refused tasks failed with their rule, nothing written for " +
    "them, _runs survives clean_existing_output, every report stays one printable line per entry",
  opts,
  async () => {
    const dir = await Deno.makeTempDir();
    const bars = join(dir, "bars");
    const hostile = ["_runs", ".hidden", "a|b", "a\nb", "esc\u001b[31m", "a b", "x\u202ey"];
    await barsWithCopies(bars, 400, hostile);
    const out = join(dir, "out");
    // An earlier run's summary: clean_existing_output must not delete it.
    await Deno.mkdir(join(out, "_runs", "r-earlier"), { recursive: true });
    await Deno.writeTextFile(join(out, "_runs", "r-earlier", "summary.json"), "{}");
    const config = join(dir, "config.yaml");
    await Deno.writeTextFile(
      config,
      `data:\n  source: ${bars}\nstorage:\n  output: ${out}\ncompute:\n  backend: cpu\nfeatures:\n` +
        `  rolling_windows: [10]\n  frac_diff:\n    d_values: [0.5]\n    threshold: 0.001\n` +
        `pipeline:\n  engines:\n    feature_engineering: {enabled: false}\n    garch_models: {enabled: false}\n` +
        `    statistical_tests: {enabled: false}\ngenerator:\n  if_empty: false\n` +
        `development:\n  clean_existing_output: true\n`,
    );
    // Progress lines go straight to stderr: capture them too.
    const progress: string[] = [];
    const write = Deno.stderr.writeSync;
    Deno.stderr.writeSync = (p: Uint8Array) => (progress.push(new TextDecoder().decode(p)), p.length);
    const r = await cli(["run", "--config", config]).finally(() => Deno.stderr.writeSync = write);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /1 done, 0 skipped, 7 failed/);
    // Nothing but the good instrument's folder, the summaries and the registry in the output.
    const entries = [...Deno.readDirSync(out)].map((e) => e.name).filter((n) =>
      !n.startsWith("registry.sqlite")
    );
    assert.deepEqual(entries.sort(), ["SYN0000", "_runs"]);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["bars", "config.yaml", "out"]);
    assert.equal(await Deno.readTextFile(join(out, "_runs", "r-earlier", "summary.json")), "{}");
    // Progress and error lines: one per task, no raw control character anywhere in what the run printed.
    const lines = [r.out, r.err, progress.join("")].join("\n").split("\n");
    for (const line of lines) assert.doesNotMatch(line, UNPRINTABLE, line);
    const failed = lines.filter((l) => l.startsWith("progress: ") && l.includes(" failed "));
    assert.equal(failed.length, hostile.length, lines.join("\n"));
    // summary.md: the task table has exactly one line per task, each a well-formed row of 5 cells.
    const id = /^run (\S+):/m.exec(r.out)![1];
    const md = await Deno.readTextFile(join(out, "_runs", id, "summary.md"));
    for (const line of md.split("\n")) assert.doesNotMatch(line, UNPRINTABLE, line);
    const start = md.indexOf("| instrument | status |");
    const table = md.slice(start).split("\n\n")[0].split("\n").slice(2);
    assert.equal(table.length, hostile.length + 1, table.join("\n"));
    for (const row of table) assert.equal(row.split(/(?<!\\)\|/).length, 7, row);
    assert.match(
      md,
      /\| "_runs" \| failed \| 0 \| \d+ \| .*_runs\/part-00000\.parquet: instrument "_runs" .*starts with "_"/,
    );
    assert.match(md, /\| "a\\\|b" \| failed .*contains "\\\|"/);
    // The registry: the refused tasks are recorded as failed with their reason (the `runs` command prints it).
    const runs = await cli(["runs", "--config", config]);
    assert.equal(runs.code, 0, runs.err);
    assert.match(runs.out, /failed "\.hidden": .*is not a safe output name: it starts with "\."/);
    assert.match(runs.out, /failed "a\\nb": .*contains "\\n"/);
    for (const line of runs.out.split("\n")) assert.doesNotMatch(line, UNPRINTABLE, line);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test(
  "names: load names the rule for a refused instrument instead of 'no instrument'",
  opts,
  async () => {
    const dir = await Deno.makeTempDir();
    const bars = join(dir, "bars");
    await barsWithCopies(bars, 100, ["_runs"]);
    const config = join(dir, "config.yaml");
    await Deno.writeTextFile(config, `data:\n  source: ${bars}\ncompute:\n  backend: cpu\n`);
    const r = await cli(["load", "_runs", "--every", "5min", "--config", config, "--no-cache"]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /^error: .*bars\/_runs\/part-00000\.parquet: instrument "_runs" .*starts with "_"/m);
    const ok = await cli([
      "load",
      "SYN0000",
      "--every",
      "5min",
      "--config",
      config,
      "--no-cache",
      "--output",
      join(dir, "o.csv"),
    ]);
    assert.equal(ok.code, 0, ok.err);
    await Deno.remove(dir, { recursive: true });
  },
);
