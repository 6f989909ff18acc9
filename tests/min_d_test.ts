/**
 * The minimum-d search (kernels/min_d.ts) against AFML snippet 5.4 run with statsmodels (fixture
 * tests/fixtures/adf_statsmodels.json, scripts/make_adf_fixture.py): every evaluated d's ADF statistic,
 * p-value, 5% value, FFD window and correlation, the bisection's path and the chosen d; and the
 * stationarization engine's `d_values: auto` column: chosen on the leading rows, NaN before them, unchanged
 * by truncating the series after them (no look-ahead), a warning flag when the whole series is searched; the
 * pipeline's summary.md table; the `kernel min_d`, `adf` and `kpss` CLI entries.
 */
import { strict as assert } from "node:assert";
import { fracdiff } from "../kernels/fracdiff.ts";
import { evaluateD, MIN_D_DEFAULTS, minD } from "../kernels/min_d.ts";
import { type StationarizationConfig, stationarize } from "../engines/stationarization.ts";
import { makeFrame } from "../io/frame.ts";
import { openCompute } from "../runtime/backend.ts";
import { validateConfig } from "../config/schema.ts";
import { join } from "node:path";
import { barsJob, cli, runReports } from "./cli_harness.ts";
import type { RunSummary } from "../pipeline/run.ts";
import { summaryMarkdown } from "../pipeline/summary.ts";
import type { MinDReport } from "../engines/stationarization.ts";
import { adfuller } from "../kernels/adf.ts";
import { kpss } from "../kernels/kpss.ts";

interface Row {
  d: number;
  adf_stat: number;
  p_value: number;
  nobs: number;
  critical: number;
  ffd_window: number;
  corr: number;
}
const fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/adf_statsmodels.json", import.meta.url)),
) as {
  min_d: {
    name: string;
    x: number[];
    threshold: number;
    grid: number;
    precision: number;
    d: number;
    rows: Row[];
  }[];
};
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

Deno.test("minD reproduces AFML 5.4 with statsmodels: every row, the bisection path and the chosen d", () => {
  let maxStat = 0;
  for (const c of fixture.min_d) {
    const r = minD(c.x, { threshold: c.threshold, grid: c.grid, precision: c.precision });
    assert.equal(r.d, c.d, c.name);
    assert.equal(r.level, "5%");
    assert.deepEqual(r.rows.map((x) => x.d), c.rows.map((x) => x.d), `${c.name}: evaluated d`);
    r.rows.forEach((got, i) => {
      const want = c.rows[i];
      const what = `${c.name} d=${want.d}`;
      assert.equal(got.ffd_window, want.ffd_window, what);
      assert.equal(got.nobs, want.nobs, what);
      assert.ok(rel(got.adf_stat, want.adf_stat) < 1e-8, `${what}: ${got.adf_stat} vs ${want.adf_stat}`);
      assert.ok(Math.abs(got.p_value - want.p_value) < 1e-6, what);
      assert.ok(rel(got.critical, want.critical) < 1e-12, what);
      assert.ok(Math.abs(got.corr - want.corr) < 1e-10, `${what}: corr ${got.corr} vs ${want.corr}`);
      assert.equal(got.rejects, want.adf_stat < want.critical, what);
      maxStat = Math.max(maxStat, rel(got.adf_stat, want.adf_stat));
    });
    // The answer rejects, and a d within the precision below it was evaluated and does not.
    const chosen = r.rows.find((x) => x.d === r.d)!;
    assert.ok(chosen.rejects, c.name);
    const below = r.rows.filter((x) => x.d < r.d!);
    assert.ok(below.every((x) => !x.rejects), c.name);
    assert.ok(r.d! - below.at(-1)!.d <= c.precision + 1e-15, c.name);
    assert.ok(r.rows.some((x) => x.stage === "bisection"), c.name);
    assert.deepEqual(r.above_not_rejecting, [], c.name);
  }
  console.log(`minD vs AFML 5.4 + statsmodels: max rel err of the ADF statistic ${maxStat.toExponential(1)}`);
});

Deno.test("the lag rule matters: AIC-chosen lags need a larger d than maxlag 1 on both fixture series", () => {
  for (const c of fixture.min_d) {
    const fixed = minD(c.x, { threshold: c.threshold });
    const aic = minD(c.x, { threshold: c.threshold, autolag: "AIC", maxlag: null });
    assert.ok(aic.d! > fixed.d! + 0.05, `${c.name}: AIC ${aic.d} vs maxlag 1 ${fixed.d}`);
    // At the d where maxlag 1 rejects, the AIC test (more lags) does not.
    const at = evaluateD(Float64Array.from(c.x), fixed.d!, {
      ...MIN_D_DEFAULTS,
      threshold: c.threshold,
      autolag: "AIC",
      maxlag: null,
    });
    assert.ok(at.usedlag > 1 && !at.rejects, `${c.name}: lag ${at.usedlag}, stat ${at.adf_stat}`);
  }
});

Deno.test("minD: d = 0 when the level rejects, null when nothing does, non-monotone curves flagged, bad options refused", () => {
  let s = 11;
  const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
  let v = 0;
  const stationary = Float64Array.from({ length: 2000 }, () => (v = 0.5 * v + rnd()));
  const r0 = minD(stationary, { threshold: 1e-3 });
  assert.equal(r0.d, 0);
  assert.equal(r0.rows.length, 11); // no bisection
  // A cubic trend: every FFD order in [0, 1] leaves a trend, nothing rejects.
  const cubic = Float64Array.from({ length: 300 }, (_, t) => (t / 100) ** 3 + 0.001 * rnd());
  const r1 = minD(cubic, { threshold: 1e-2 });
  assert.equal(r1.d, null);
  assert.equal(r1.rows.length, 11);
  // Rows whose FFD window leaves too few rows for the regression are reported untested, with the reason,
  // and count as not rejecting: here only d = 0 and d ~ 1 (2 weights) can be tested.
  const short = Float64Array.from({ length: 30 }, (_, i) => Math.log(100 + i + Math.sin(i)));
  const r2 = minD(short, { threshold: 1e-5 });
  const untested = r2.rows.filter((x) => Number.isNaN(x.adf_stat));
  assert.ok(
    untested.length >= 9 && untested.every((x) => !x.rejects && /FFD rows: adf: maxlag 1/.test(x.note!)),
  );
  assert.equal(r2.d, 1);
  // Not monotone: this random walk's level rejects by chance (ADF about -2.93 against -2.86), d = 0.1 does not.
  // The answer is the first crossing, d = 0, and the tested orders above it that do not reject are listed.
  let w = 0, s2 = 301;
  const walk = Float64Array.from(
    { length: 1500 },
    () => (w += ((s2 = (s2 * 16807) % 2147483647) / 2147483647) - 0.5),
  );
  const r3 = minD(walk, { threshold: 1e-3 });
  assert.equal(r3.d, 0);
  assert.deepEqual(r3.above_not_rejecting, r3.rows.filter((x) => x.d > 0 && !x.rejects).map((x) => x.d));
  assert.ok(r3.above_not_rejecting.length > 0 && r3.rows[0].rejects);
  assert.throws(() => minD(stationary, { confidence: 0.8 }), /0.9, 0.95 or 0.99/);
  assert.throws(() => minD(stationary, { grid: 1 }), /grid/);
});

function prices(n: number, seed: number): Float64Array {
  let s = seed, v = Math.log(100), a = 0;
  const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
  return Float64Array.from(
    { length: n },
    () => Math.exp((v += 0.002 * rnd()) + (a = 0.98 * a + 0.002 * rnd())),
  );
}

const AUTO: StationarizationConfig = {
  columns: ["close"],
  d_values: "auto",
  threshold: 1e-4,
  rolling_windows: [],
  logstab: null,
  corr_pairs: [],
  corr_window: 50,
  min_d: { rows: 3000 },
};

Deno.test("engine d_values auto: close_fd_auto from the chosen d, NaN before the search sample ends", async () => {
  const compute = await openCompute({ backend: "cpu" });
  const close = prices(6000, 3);
  const r = await stationarize(makeFrame("t", close.length, new Map([["close", close]])), AUTO, compute);
  const rep =
    (r.report.min_d as Record<string, { d: number; looks_ahead: boolean; first_row: number }>).close;
  const col = r.columns.get("close_fd_auto")!;
  assert.ok(rep.d > 0 && rep.d <= 1, `d ${rep.d}`);
  assert.equal(rep.looks_ahead, false);
  assert.equal(rep.first_row, 2999);
  assert.ok(col.subarray(0, 2999).every(Number.isNaN));
  // The d is the search's on the first 3000 rows, and the values are FFD of the whole log series at that d.
  const logs = close.map(Math.log);
  assert.equal(rep.d, minD(logs.subarray(0, 3000), { threshold: 1e-4 }).d);
  const direct = fracdiff.cpu([logs], { d: rep.d, threshold: 1e-4 });
  for (let t = 2999; t < 6000; t++) assert.equal(col[t], direct[t]);
  assert.deepEqual([...r.columns.keys()], ["close_fd_auto"]);
});

Deno.test("engine d_values auto has no look-ahead; rows: all searches everything and says it looks ahead", async () => {
  const compute = await openCompute({ backend: "cpu" });
  const close = prices(6000, 9);
  const run = (n: number, cfg = AUTO) =>
    stationarize(makeFrame("t", n, new Map([["close", close.slice(0, n)]])), cfg, compute);
  const full = (await run(6000)).columns.get("close_fd_auto")!;
  for (const cut of [3000, 4500]) {
    const part = (await run(cut)).columns.get("close_fd_auto")!;
    assert.deepEqual([...part], [...full.subarray(0, cut)].map((v) => v), `cut ${cut}`);
  }
  const short = await run(2000);
  assert.ok(short.columns.get("close_fd_auto")!.every(Number.isNaN));
  assert.match(short.notes!["close_fd_auto"], /needs 3000 rows/);
  const all = await run(6000, { ...AUTO, min_d: { rows: "all" } });
  const rep = (all.report.min_d as Record<string, { looks_ahead: boolean; sample_rows: number }>).close;
  assert.equal(rep.looks_ahead, true);
  assert.equal(rep.sample_rows, 6000);
});

Deno.test("config: frac_diff.d_values auto with its auto_* keys; bad confidence refused", () => {
  const c = validateConfig({
    features: { frac_diff: { d_values: "auto", auto_rows: "all", auto_maxlag: "default" } },
  });
  assert.equal(c.features.frac_diff.d_values, "auto");
  assert.equal(c.features.frac_diff.auto_rows, "all");
  assert.equal(c.features.frac_diff.auto_maxlag, "default");
  assert.equal(
    validateConfig({ features: { frac_diff: { d_values: "${DS:auto}" } } }, { env: () => undefined })
      .features.frac_diff.d_values,
    "auto",
  );
  assert.throws(
    () => validateConfig({ features: { frac_diff: { auto_confidence: 0.93 } } }),
    /auto_confidence: expected 0.9, 0.95 or 0.99/,
  );
  assert.throws(
    () => validateConfig({ features: { frac_diff: { d_values: "some" } } }),
    /d_values: expected a list of numbers in \[0, 2\] or "auto"/,
  );
});

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "pipeline: d_values auto gives close_fd_auto and the minimum-d table in summary.md",
  opts,
  async () => {
    const { dir, config } = await barsJob({
      prefix: "fg-min-d-",
      rows: 4000,
      seed: 5,
      yaml: `features:
  frac_diff: { d_values: auto, threshold: 1e-4, auto_rows: 2000 }
  rolling_windows: [20]
pipeline:
  engines:
    feature_engineering: { enabled: false }
    garch_models: { enabled: false }
    statistical_tests: { enabled: false }
`,
    });
    const r = await cli(["run", "--config", config]);
    assert.equal(r.code, 0, r.err.slice(-2000));
    const { summary, md } = await runReports(join(dir, "out"), r.err);
    const rep =
      (summary.tasks[0].reports!.stationarization as { min_d: Record<string, MinDReport> }).min_d.close;
    assert.ok(rep.d !== null && rep.d > 0 && rep.d <= 1 && rep.first_row === 1999 && !rep.looks_ahead);
    const d = String(Number(rep.d.toFixed(5)));
    assert.match(
      md,
      new RegExp(
        `### Minimum d of close: d = ${
          d.replace(".", "\\.")
        } \\(ADF maxlag 1, constant, 5% critical value; ` +
          `the first 2000 rows, values from row 1999\\)`,
      ),
    );
    // One table row per evaluated d; the chosen one rejects.
    const rows = md.split("\n").filter((l) => /^\| [\d.]+( \(bisection\))? \| -?[\d.]+ \|/.test(l));
    assert.equal(rows.length, rep.table.length);
    assert.match(rows.find((l) => l.startsWith(`| ${d} `))!, /\| yes \|/);
    assert.match(md, new RegExp(`FFD window length \\(rows\\) per d: ${d.replace(".", "\\.")}: \\d+`));
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test(
  "kernel min_d prints the table as JSON; kernel adf / kpss print one JSON document",
  opts,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "fg-min-d-cli-" });
    const close = prices(5000, 21);
    const file = join(dir, "bars.csv");
    await Deno.writeTextFile(file, "close\n" + [...close].join("\n") + "\n");
    // The kernel command writes to stdout directly; --output gives the same document in a file.
    const run = async (...args: string[]) => {
      const out = join(dir, "out.json");
      const r = await cli(["kernel", ...args, "--input", file, "--column", "close", "--output", out]);
      assert.equal(r.code, 0, r.err);
      return JSON.parse(await Deno.readTextFile(out));
    };
    const doc = await run("min_d", "--threshold", "1e-4");
    const want = minD(close.map(Math.log), { threshold: 1e-4 });
    assert.ok(want.d !== null);
    assert.equal(doc.result.d, want.d);
    assert.deepEqual(doc.result.rows.map((x: { d: number }) => x.d), want.rows.map((x) => x.d));
    const a = await run("adf", "--autolag", "BIC");
    assert.deepEqual(Object.keys(a.result), ["adf_stat", "p_value", "usedlag", "nobs", "crit", "icbest"]);
    assert.equal(a.result.adf_stat, adfuller(close, { autolag: "BIC" }).adf_stat);
    const k = await run("kpss", "--regression", "ct");
    assert.equal(k.result.kpss_stat, kpss(close, { regression: "ct" }).kpss_stat);
    const bad = await cli(["kernel", "adf", "--input", file, "--column", "close", "--autolag", "HQIC"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /--autolag expects one of AIC, BIC, t-stat, none/);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test("summary.md flags a minimum-d curve that is not monotone", async () => {
  let w = 0, s2 = 301;
  const close = Float64Array.from(
    { length: 1500 },
    () => Math.exp(0.01 * (w += ((s2 = (s2 * 16807) % 2147483647) / 2147483647) - 0.5)),
  );
  const compute = await openCompute({ backend: "cpu" });
  const r = await stationarize(makeFrame("t", close.length, new Map([["close", close]])), {
    ...AUTO,
    threshold: 1e-3,
    min_d: { rows: 1500 },
  }, compute);
  const summary = {
    run_id: "r1",
    status: "done",
    engine_ms: {},
    tasks: [{ instrument: "W", status: "done", rows: 1500, ms: 1, reports: { stationarization: r.report } }],
  } as unknown as RunSummary;
  const md = summaryMarkdown(summary);
  assert.match(
    md,
    /### Minimum d of close: d = 0 \(ADF maxlag 1, constant, 5% critical value; the first 1500 rows/,
  );
  assert.match(md, /^- not monotone: d = 0\.1 above the answer do not reject$/m);
});
