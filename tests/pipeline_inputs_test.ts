/**
 * Nothing dropped or degraded silently (issue 11 §4), at the pipeline level: a non-numeric cell fails the task
 * naming file, column, row and value (or, with `data.bad_values: nan`, becomes a counted NaN) instead of removing
 * the column; a text column is reported; a feature without values (an FFD window longer than the series, a log
 * of non-positive prices) gets a warning with its cause and a line in the summary; and new, removed or changed
 * input files re-process a committed task instead of leaving stale outputs.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { cli, logRecords, runReports } from "./cli_harness.ts";
import { decodeFrame } from "../io/read.ts";
import { barsCsv } from "./data.ts";
import type { RunSummary } from "../pipeline/run.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** A folder with a config running only the stationarization engine on `dir/bars`. */
async function setup(extraData = "", dValues = "[0.4]"): Promise<{ dir: string; config: string }> {
  const dir = await Deno.makeTempDir({ prefix: "fg-inputs-" });
  await Deno.mkdir(join(dir, "bars", "AAA"), { recursive: true });
  const config = join(dir, "config.yaml");
  await Deno.writeTextFile(
    config,
    `data:
  source: ${join(dir, "bars")}
${extraData}
storage:
  output: ${join(dir, "out")}
compute:
  backend: cpu
features:
  rolling_windows: [20]
  frac_diff:
    d_values: ${dValues}
pipeline:
  engines:
    feature_engineering: { enabled: false }
    garch_models: { enabled: false }
    statistical_tests: { enabled: false }
generator:
  if_empty: false
`,
  );
  return { dir, config };
}

/** The summary of the run whose log is `err`. */
async function summaryOf(dir: string, err: string): Promise<RunSummary> {
  return (await runReports(join(dir, "out"), err)).summary;
}

Deno.test(
  "a non-numeric cell fails the task naming file, column, row and value (the column used to vanish)",
  opts,
  async () => {
    const { dir, config } = await setup();
    const lines = barsCsv(300);
    lines[100] = lines[100].replace(/,[^,]+,([^,]+)$/, ",n/a,$1"); // close of data row 100
    await Deno.writeTextFile(join(dir, "bars", "AAA", "a.csv"), lines.join("\n"));
    const r = await cli(["run", "--config", config]);
    assert.equal(r.code, 1);
    const s = await summaryOf(dir, r.err);
    assert.equal(s.tasks[0].status, "failed");
    assert.match(
      s.tasks[0].error!,
      /a\.csv: column "close": non-numeric value "n\/a" at row 100; .*bad_values: nan/,
    );

    // A stray non-UTF-8 byte in a number is named the same way.
    const bytes = new TextEncoder().encode(barsCsv(300).join("\n"));
    const at = new TextDecoder().decode(bytes).indexOf("\n", 2000) - 2; // inside the last field (volume) of a row
    bytes[at] = 0xff;
    await Deno.writeFile(join(dir, "bars", "AAA", "a.csv"), bytes);
    const r2 = await cli(["run", "--config", config]);
    assert.equal(r2.code, 1);
    assert.match(
      (await summaryOf(dir, r2.err)).tasks[0].error!,
      /column "volume": non-numeric value "\d*\uFFFD\d*" at row \d+/,
    );
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test(
  "data.bad_values: nan reads the cell as NaN, counted in the log and the summary; a text column is reported",
  opts,
  async () => {
    const { dir, config } = await setup("  bad_values: nan");
    const lines = barsCsv(300, { extra: "symbol" });
    lines[100] = lines[100].replace(/^([^,]+,[^,]+,[^,]+,[^,]+,)[^,]+/, "$1n/a"); // close of data row 100
    await Deno.writeTextFile(join(dir, "bars", "AAA", "a.csv"), lines.join("\n"));
    const r = await cli(["run", "--config", config]);
    assert.equal(r.code, 0, r.err);
    const t = (await summaryOf(dir, r.err)).tasks[0];
    assert.deepEqual(t.bad_cells, [{ name: "close", row: 100, value: "n/a", count: 1, file: "AAA/a.csv" }]);
    assert.deepEqual(t.skipped_columns?.map((c) => c.name), ["symbol"]);
    const warns = logRecords(r.err).filter((l) => l.level === "warn").map((l) => String(l.msg));
    assert.ok(
      warns.some((m) => /column close: 1 non-numeric cell\(s\) read as NaN/.test(m)),
      warns.join("\n"),
    );
    assert.ok(warns.some((m) => /input columns not loaded: symbol/.test(m)), warns.join("\n"));
    const out = await decodeFrame(await Deno.readFile(join(dir, "out", "AAA", "part-00000.feather")), "out");
    const close = out.columns.get("close")!;
    assert.ok(Number.isNaN(close[99]) && Number.isFinite(close[98]) && Number.isFinite(close[100]));
    const { md } = await runReports(join(dir, "out"), r.err);
    assert.match(md, /close.*1 cell.*n\/a/);
    assert.match(md, /symbol/);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test(
  "a feature without values warns with its cause: FFD window longer than the series, log of prices <= 0, 1e300 prices",
  opts,
  async () => {
    const { dir, config } = await setup("", "[0.1, 0.4]");
    await Deno.writeTextFile(join(dir, "bars", "AAA", "a.csv"), barsCsv(3000).join("\n"));
    await Deno.mkdir(join(dir, "bars", "NEG"));
    await Deno.writeTextFile(join(dir, "bars", "NEG", "a.csv"), barsCsv(3000, { start: -50 }).join("\n"));
    await Deno.mkdir(join(dir, "bars", "BIG"));
    await Deno.writeTextFile(join(dir, "bars", "BIG", "a.csv"), barsCsv(3000, { start: 1e300 }).join("\n"));
    const r = await cli(["run", "--config", config]);
    assert.equal(r.code, 0, r.err);
    const { summary: s, md } = await runReports(join(dir, "out"), r.err);
    const [aaa, big, neg] = s.tasks;
    // 1e300 prices: the rolling variance overflows and every z-score is 0 — flagged, not passed on silently.
    assert.match(big.quality!["close_z_20"].problem!, /constant \(0\) after the warm-up: .*above 1e150/);
    // d = 0.1 at threshold 1e-5 needs 4,076 weights: longer than the 3,000 rows.
    assert.match(aaa.quality!["close_fd_0.1"].problem!, /FFD d = 0.1 .*needs 4076 rows; the series has 3000/);
    assert.equal(aaa.quality!["close_fd_0.1"].nan, 3000);
    assert.equal(aaa.quality!["close_fd_0.4"].problem, undefined);
    assert.equal(aaa.quality!["close_z_20"].warmup, 19);
    assert.match(neg.quality!["close_fd_0.4"].problem!, /input column close has 3000 value\(s\) <= 0/);
    const warns = logRecords(r.err).filter((l) => l.level === "warn");
    assert.ok(warns.some((l) => l.task === "AAA" && l.feature === "close_fd_0.1"));
    assert.ok(
      warns.some((l) => l.task === "NEG" && l.feature === "close_fd_0.4" && /<= 0/.test(String(l.msg))),
    );
    assert.match(md, /close_fd_0\.1.*needs 4076 rows/);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test(
  "new, removed or changed input files re-process a committed task; an untouched or merely touched one is skipped",
  opts,
  async () => {
    const { dir, config } = await setup();
    const file = (n: string) => join(dir, "bars", "AAA", n);
    await Deno.writeTextFile(file("a.csv"), barsCsv(300).join("\n"));
    const status = async () => {
      const r = await cli(["run", "--config", config]);
      assert.equal(r.code, 0, r.err);
      const t = (await summaryOf(dir, r.err)).tasks[0];
      return { status: t.status, why: t.reprocessed ?? "", rows: t.rows };
    };
    assert.deepEqual(await status(), { status: "done", why: "", rows: 300 });
    assert.equal((await status()).status, "skipped");
    // A new partition (later bars) used to be ignored because the config hash had not changed.
    const later = barsCsv(200, { seed: 5, t0: Date.UTC(2024, 0, 2) });
    await Deno.writeTextFile(file("b.csv"), later.join("\n"));
    assert.deepEqual(await status(), { status: "done", why: "new input file(s) AAA/b.csv", rows: 500 });
    // Same bytes, new mtime: the checksum says unchanged.
    await Deno.utime(file("a.csv"), new Date(), new Date(Date.now() + 5000));
    assert.deepEqual(await status(), { status: "skipped", why: "", rows: 500 });
    // Same size, other bytes.
    const text = await Deno.readTextFile(file("b.csv"));
    await Deno.writeTextFile(file("b.csv"), text.replace(/,1001\n/, ",1002\n"));
    assert.deepEqual(await status(), { status: "done", why: "changed input file(s) AAA/b.csv", rows: 500 });
    await Deno.remove(file("b.csv"));
    assert.deepEqual(await status(), { status: "done", why: "input file(s) gone AAA/b.csv", rows: 300 });
    const manifest = JSON.parse(await Deno.readTextFile(join(dir, "out", "AAA", "_manifest.json")));
    assert.equal(manifest.inputs.length, 1);
    assert.match(manifest.inputs[0].sha256, /^[0-9a-f]{64}$/);
    await Deno.remove(dir, { recursive: true });
  },
);
