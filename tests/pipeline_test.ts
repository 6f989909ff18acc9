/**
 * The pipeline end to end on local folders: generated bars in, Feather/Parquet + manifests out, the registry,
 * skip/force/clean semantics, feature values equal to the kernels' f64 paths, and every bad-input path with its
 * message and exit code.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { tableFromIPC } from "apache-arrow";
import { cli } from "./cli_harness.ts";
import { generate } from "../generator/generate.ts";
import { registerArrowDecoders } from "../io/arrow.ts";
import { decodeFrame } from "../io/read.ts";
import { LocalStorage } from "../io/storage.ts";
import { zscore } from "../kernels/rolling_moments.ts";
import { fracdiff } from "../kernels/fracdiff.ts";
import type { Manifest } from "../pipeline/output.ts";
import { loadTask } from "../io/validate.ts";
import { encodeParquet } from "../io/parquet_write.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** A config file in `dir` (source dir/bars, output dir/out), with `extra` YAML lines appended per section. */
async function writeConfig(
  dir: string,
  extra: { storage?: string; features?: string; development?: string } = {},
) {
  const path = join(dir, "config.yaml");
  await Deno.writeTextFile(
    path,
    `data:
  source: ${join(dir, "bars")}
storage:
  output: ${join(dir, "out")}
${extra.storage ?? ""}
compute:
  backend: cpu
features:
  rolling_windows: [10, 50]
  frac_diff:
    d_values: [0.4]
  rolling_corr:
    pairs: [[close, volume]]
${extra.features ?? ""}
generator:
  if_empty: false
development:
${extra.development ?? "  debug_mode: false"}
`,
  );
  return path;
}

async function bars(dir: string, instruments = 2, rows = 70_000): Promise<void> {
  await generate({
    kind: "bars",
    storage: new LocalStorage(join(dir, "bars")),
    instruments,
    rows,
    seed: 7,
    workers: 0,
    rowsPerFile: 65_536,
  });
}

const readJson = async <T>(path: string): Promise<T> => JSON.parse(await Deno.readTextFile(path));

Deno.test(
  "run: outputs, manifests and registry; features equal the kernels; re-run skips; --force redoes",
  opts,
  async () => {
    const dir = await Deno.makeTempDir();
    await bars(dir);
    const config = await writeConfig(dir);
    const first = await cli(["run", "--config", config]);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /2 done, 0 skipped, 0 failed; 140000 rows/);
    registerArrowDecoders();
    const source = new LocalStorage(join(dir, "bars"));
    for (const inst of ["SYN0000", "SYN0001"]) {
      const m = await readJson<Manifest>(join(dir, "out", inst, "_manifest.json"));
      assert.equal(m.rows, 70_000);
      assert.deepEqual(m.files.map((f) => f.key), [`${inst}/part-00000.feather`]);
      const bytes = await Deno.readFile(join(dir, "out", m.files[0].key));
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
      assert.equal(Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""), m.files[0].sha256);
      const table = tableFromIPC(bytes);
      assert.equal(table.numRows, 70_000);
      for (
        const c of [
          "timestamp",
          "close",
          "close_fd_0.4",
          "close_z_10",
          "close_z_50",
          "close_logstab",
          "corr_close_volume_50",
        ]
      ) {
        assert.ok(table.getChild(c), `${inst} output lacks ${c}`);
      }
      // The input (two partitions) read independently, and the features recomputed by the kernels.
      const parts = await source.list(`${inst}/`);
      assert.equal(parts.length, 2);
      const close = new Float64Array(70_000);
      let at = 0;
      for (const p of parts) {
        const f = await decodeFrame(await source.get(p.key), p.key);
        close.set(f.columns.get("close")!, at);
        at += f.rows;
      }
      assert.deepEqual(table.getChild("close")!.toArray(), close);
      assert.deepEqual(table.getChild("close_z_50")!.toArray(), zscore.cpu([close], { window: 50, ddof: 1 }));
      const logClose = close.map(Math.log);
      const fd = fracdiff.cpu([logClose], { d: 0.4, threshold: 1e-5 });
      const got = table.getChild("close_fd_0.4")!.toArray() as Float64Array;
      fd.forEach((v, i) =>
        assert.ok(Number.isNaN(v) ? Number.isNaN(got[i]) : Math.abs(v - got[i]) < 1e-12, `fd at ${i}`)
      );
    }
    const db = new DatabaseSync(join(dir, "out", "registry.sqlite"));
    const runs = db.prepare("select id, status, config_hash from runs").all();
    assert.equal(runs.length, 1);
    assert.equal(runs[0].status, "done");
    assert.equal(db.prepare("select count(*) as n from tasks where status = 'done'").get()!.n, 2);
    db.close();
    const summary = await readJson<{ tasks: { status: string }[]; engine_ms: Record<string, number> }>(
      join(dir, "out", "_runs", String(runs[0].id), "summary.json"),
    );
    assert.ok(summary.engine_ms.stationarization >= 0 && summary.tasks.every((t) => t.status === "done"));
    // The selection (statistical_tests) is part of the run output: ranked features, never a y_* column.
    const sel = (summary.tasks[0] as {
      reports?: Record<string, { selected: string[]; ranking: { feature: string }[] }>;
    })
      .reports?.statistical_tests;
    assert.ok(sel && sel.selected.length > 0 && sel.ranking.length >= sel.selected.length);
    assert.ok(sel.ranking.every((r) => !r.feature.startsWith("y_")));
    const md = await Deno.readTextFile(join(dir, "out", "_runs", String(runs[0].id), "summary.md"));
    assert.match(md, /### Selection: dCor with y_ret_fwd_15m/);
    // Where each feature of the set ran (this test runs the CPU path: the worker pool).
    assert.match(md, /feature set minimal \(8 columns\); cpu( \(\d+ workers\))?: mean, median/);

    const again = await cli(["run", "--config", config]);
    assert.equal(again.code, 0);
    assert.match(again.out, /0 done, 2 skipped, 0 failed/);
    const forced = await cli(["run", "--config", config, "--force"]);
    assert.match(forced.out, /2 done, 0 skipped/);
    const listed = await cli(["runs", "--registry", join(dir, "out", "registry.sqlite")]);
    assert.match(listed.out, /3 recent run\(s\)/);
  },
);

Deno.test(
  "run: a changed config re-runs; clean_existing_output removes stale parts; parquet output reads back",
  opts,
  async () => {
    const dir = await Deno.makeTempDir();
    await bars(dir, 1, 20_000);
    assert.equal((await cli(["run", "--config", await writeConfig(dir)])).code, 0);
    const stale = join(dir, "out", "SYN0000", "part-00009.feather");
    await Deno.writeFile(stale, new Uint8Array([1, 2, 3]));
    const changed = await writeConfig(dir, {
      storage: "  format: parquet",
      development: "  clean_existing_output: true",
    });
    const r = await cli(["run", "--config", changed]);
    assert.match(r.out, /1 done, 0 skipped/);
    const files = [...Deno.readDirSync(join(dir, "out", "SYN0000"))].map((e) => e.name).sort();
    assert.deepEqual(files, ["_manifest.json", "part-00000.parquet"]);
    const f = await decodeFrame(
      await Deno.readFile(join(dir, "out", "SYN0000", "part-00000.parquet")),
      "p.parquet",
    );
    assert.equal(f.rows, 20_000);
    assert.ok(f.columns.has("close_z_50") && f.timestamps![1] > f.timestamps![0]);
  },
);

Deno.test(
  "bad inputs: each task failure is named and recorded, the others go on (exit 1); --fail-fast stops",
  opts,
  async () => {
    const dir = await Deno.makeTempDir();
    await bars(dir, 1, 5_000);
    const src = join(dir, "bars");
    const csv = (rows: string[]) => "timestamp,open,high,low,close,volume\n" + rows.join("\n") + "\n";
    await Deno.mkdir(join(src, "AAA_CORRUPT"));
    await Deno.writeFile(
      join(src, "AAA_CORRUPT", "p.parquet"),
      new TextEncoder().encode("PAR1 this is not parquet PAR1"),
    );
    await Deno.mkdir(join(src, "BBB_ORDER"));
    await Deno.writeTextFile(
      join(src, "BBB_ORDER", "p.csv"),
      csv(["2024-01-02T00:01:00Z,1,2,0.5,1.5,10", "2024-01-02T00:00:00Z,1,2,0.5,1.5,10"]),
    );
    await Deno.mkdir(join(src, "CCC_EMPTY"));
    await Deno.writeTextFile(join(src, "CCC_EMPTY", "p.csv"), "");
    await Deno.mkdir(join(src, "DDD_OHLC"));
    await Deno.writeTextFile(join(src, "DDD_OHLC", "p.csv"), csv(["2024-01-02T00:00:00Z,1,0.5,2,1.5,10"]));
    const config = await writeConfig(dir);
    const r = await cli(["run", "--config", config]);
    assert.equal(r.code, 1);
    assert.match(r.out, /1 done, 0 skipped, 4 failed/);
    const db = new DatabaseSync(join(dir, "out", "registry.sqlite"));
    const errors = Object.fromEntries(
      db.prepare("select instrument, error from tasks where status = 'failed'").all().map((
        t,
      ) => [t.instrument, t.error]),
    );
    db.close();
    assert.match(String(errors.AAA_CORRUPT), /AAA_CORRUPT\/p\.parquet.*Parquet/);
    assert.match(
      String(errors.BBB_ORDER),
      /BBB_ORDER\/p\.csv: column timestamp: timestamps must be strictly increasing; row 1/,
    );
    assert.match(String(errors.CCC_EMPTY), /CCC_EMPTY\/p\.csv.*empty/);
    assert.match(String(errors.DDD_OHLC), /DDD_OHLC\/p\.csv: column low: low 2 > high 0\.5 at row 0/);

    const ff = await cli(["run", "--config", config, "--fail-fast"]);
    assert.equal(ff.code, 1);
    assert.match(ff.out, /0 done, 0 skipped, 1 failed, 4 not started;/);
    assert.match(
      ff.err,
      /"4 instrument\(s\) not started: the run stopped after a failure".*"DDD_OHLC","SYN0000"/,
    );
    const stopped = join(dir, "out", "_runs", /^run (\S+):/m.exec(ff.out)![1]);
    const sf = JSON.parse(await Deno.readTextFile(join(stopped, "summary.json")));
    assert.deepEqual(sf.not_started, ["BBB_ORDER", "CCC_EMPTY", "DDD_OHLC", "SYN0000"]);
    assert.match(
      await Deno.readTextFile(join(stopped, "summary.md")),
      /Not started \(the run stopped after a failure\): BBB_ORDER, CCC_EMPTY, DDD_OHLC, SYN0000/,
    );

    const missing = await writeConfig(dir, { features: "  columns: [nope]" });
    const m = await cli(["run", "--config", missing]);
    assert.equal(m.code, 1);
    const db2 = new DatabaseSync(join(dir, "out", "registry.sqlite"));
    const last = db2.prepare(
      "select error from tasks where instrument = 'SYN0000' order by rowid desc limit 1",
    ).get();
    db2.close();
    assert.match(String(last!.error), /no column "nope"/);
  },
);

Deno.test("bad configs exit 2 with one clear message", opts, async () => {
  const dir = await Deno.makeTempDir();
  const write = async (name: string, text: string) => {
    const p = join(dir, name);
    await Deno.writeTextFile(p, text);
    return p;
  };
  const cases: [string, RegExp][] = [
    [await write("bad.yaml", "data:\n  source: [unclosed\n"), /bad\.yaml:\d+:\d+: YAML syntax error/],
    [
      await write("unknown.yaml", "features:\n  rolling_windowz: [10]\n"),
      /unknown key features\.rolling_windowz/,
    ],
    [
      await write("var.yaml", "data:\n  source: ${FG_TEST_UNSET_VARIABLE}\n"),
      /FG_TEST_UNSET_VARIABLE is not set/,
    ],
    [
      await write("value.yaml", "features:\n  rolling_windows: [10, 1.5]\n"),
      /features\.rolling_windows\[1\]: expected an integer/,
    ],
  ];
  for (const [path, re] of cases) {
    const r = await cli(["run", "--config", path]);
    assert.equal(r.code, 2, path);
    assert.match(r.err, re);
    assert.equal(r.err.trim().split("\n").length, 1, r.err);
  }
  const none = await cli(["run", "--config", join(dir, "absent.yaml")]);
  assert.equal(none.code, 2);
  assert.match(none.err, /absent\.yaml/);
});

Deno.test("run with an empty source and generator.if_empty generates the data first", opts, async () => {
  const dir = await Deno.makeTempDir();
  const config = await writeConfig(dir);
  await Deno.writeTextFile(
    config,
    (await Deno.readTextFile(config)).replace(
      "  if_empty: false",
      "  if_empty: true\n  instruments: 2\n  rows: 3000\n  workers: 1",
    ),
  );
  const r = await cli(["run", "--config", config]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /2 done/);
  assert.equal((await new LocalStorage(join(dir, "bars")).list()).length, 2);
});

Deno.test(
  "--shard i/N (0-based) splits the tasks deterministically; the shards together cover every instrument",
  opts,
  async () => {
    const dir = await Deno.makeTempDir();
    await bars(dir, 3, 3_000);
    const config = await writeConfig(dir);
    const a = await cli(["run", "--config", config, "--shard", "0/2"]);
    const b = await cli(["run", "--config", config, "--shard", "1/2"]);
    assert.match(a.out, /2 done, 0 skipped/);
    assert.match(b.out, /1 done, 0 skipped/);
    const all = await cli(["run", "--config", config]);
    assert.match(all.out, /0 done, 3 skipped/);
    const bad = await cli(["run", "--config", config, "--shard", "2/2"]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.err,
      /--shard expects i\/N with 0 <= i < N, got "2\/2" \(shards are 0-based: the last of 2 is 1\/2\)/,
    );
  },
);

Deno.test(
  "Parquet inputs are read by ranges (footer + column chunks per row group), never whole",
  opts,
  async () => {
    const dir = await Deno.makeTempDir();
    const inner = new LocalStorage(dir);
    const n = 250_000;
    const close = Float64Array.from({ length: n }, (_, i) => 100 + Math.sin(i / 50));
    const ts = Float64Array.from({ length: n }, (_, i) => Date.UTC(2024, 0, 1) + i * 60_000);
    // hyparquet-writer's default row groups: 1000 rows, then 100,000 at a time.
    await inner.put(
      "AAA/part-0.parquet",
      encodeParquet(new Map([["close", close]]), { name: "timestamp", values: ts }),
    );
    const slices: [number, number, number][] = [];
    let gets = 0;
    const counting = Object.assign(Object.create(inner), {
      get: (key: string) => (gets++, inner.get(key)),
      reader: async (key: string) => {
        const r = await inner.reader(key);
        return {
          byteLength: r.byteLength,
          slice: (
            s: number,
            e?: number,
          ) => (slices.push([s, e ?? r.byteLength, r.byteLength]), r.slice(s, e)),
        };
      },
    });
    const frame = await loadTask(counting, { instrument: "AAA", files: await inner.list("AAA/") }, {
      denyColumns: [],
      timestampColumn: "timestamp",
    });
    assert.deepEqual(frame.columns.get("close"), close);
    assert.equal(gets, 0);
    assert.ok(slices.length >= 4, JSON.stringify(slices));
    const size = slices[0][2];
    assert.ok(slices.every(([s, e]) => e - s < size * 0.6), JSON.stringify(slices));
  },
);

Deno.test(
  "temporary files older than an hour are swept at the start of a run; fresh ones are kept",
  opts,
  async () => {
    const dir = await Deno.makeTempDir();
    const out = new LocalStorage(dir);
    await Deno.mkdir(join(dir, "X"));
    const old = join(dir, "X", "part-00000.feather.tmp-0a1b2c3d"),
      fresh = join(dir, "X", "part-00001.feather.tmp-99");
    await Deno.writeTextFile(old, "torn");
    await Deno.writeTextFile(fresh, "in progress");
    await Deno.utime(old, new Date(Date.now() - 2 * 3_600_000), new Date(Date.now() - 2 * 3_600_000));
    assert.equal(await out.sweepTemp(), 1);
    assert.deepEqual([...Deno.readDirSync(join(dir, "X"))].map((e) => e.name), ["part-00001.feather.tmp-99"]);
    // A writer that renames its temporary file between the sweep's listing and its look at the file (another
    // shard committing its lease) is not an error: the file is simply no longer there to sweep.
    const stat = Deno.stat;
    Deno.stat = async (p: string | URL) => {
      await Deno.rename(p, `${p}`.replace(/\.tmp-99$/, "")).catch(() => {});
      return stat(p);
    };
    try {
      assert.equal(await out.sweepTemp(), 0);
    } finally {
      Deno.stat = stat;
    }
    assert.deepEqual([...Deno.readDirSync(join(dir, "X"))].map((e) => e.name), ["part-00001.feather"]);
  },
);
