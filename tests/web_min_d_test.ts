/**
 * The page's minimum-d plot (web/min_d_plot.ts, issue 15 §4: AFML Figure 5.5) in Debian's headless Chromium,
 * driven as tests/web_issue13_test.ts does (a child Deno process runs this file with `--web-driver SPEC` and
 * writes what it saw as JSON; the assertions run here): demo bars run with `frac_diff.d_values: auto`, and the
 * plot's data, read back from the uPlot instance, is the stationarization report's min-d table in increasing d:
 * the ADF statistic, its critical value and the correlation with the log price, with the chosen d in the title.
 */
import { strict as assert } from "node:assert";
import type { MinDReport } from "../engines/stationarization.ts";
import { type Any, demoRun, demoRunDriver, type DemoSpec } from "./web_harness.ts";

const CONFIG = "features:\n  columns: [close]\n  rolling_windows: [10]\n" +
  "  frac_diff: { d_values: auto, threshold: 1.0e-3, auto_rows: 2500 }\n" +
  "pipeline:\n  engines:\n    feature_engineering: { enabled: false, order: 2 }\n" +
  "    garch_models: { enabled: false, order: 3 }\n    statistical_tests: { enabled: false, order: 4 }\n";

const driver = (spec: DemoSpec) =>
  demoRunDriver(spec, 60_000, async (page, seen) => {
    seen.plots = await page.evaluate(() => (globalThis as Any).__fg.minD());
    seen.report = await page.evaluate(() => (globalThis as Any).__fg.result?.reports.stationarization.min_d);
    seen.visible = await page.locator("[data-min-d=close] canvas").first().isVisible();
  });

if (Deno.args[0] === "--web-driver") await driver(JSON.parse(Deno.args[1]));

Deno.test(
  "web page: the minimum-d plot (ADF statistic, critical value, correlation vs d) draws the report's table",
  {
    sanitizeResources: false,
    sanitizeOps: false,
  },
  async () => {
    const seen = await demoRun("tests/web_min_d_test.ts", "fg-web-min-d-", CONFIG);
    const report = seen.report.close as MinDReport;
    const table = [...report.table].sort((a, b) => a.d - b.d);
    assert.ok(table.length >= 11, "grid and bisection points");
    assert.equal(seen.plots.length, 1);
    assert.ok(seen.visible);
    const plot = seen.plots[0];
    const nul = (v: number) => (Number.isFinite(v) ? v : null);
    assert.deepEqual(plot.d, table.map((r) => r.d));
    assert.deepEqual(plot.adf, table.map((r) => nul(r.adf_stat)));
    assert.deepEqual(plot.critical, table.map((r) => nul(r.critical)));
    assert.deepEqual(plot.corr, table.map((r) => nul(r.corr)));
    // The picture: d = 0 is the log price itself (correlation 1, no rejection); the chosen d is the first
    // evaluated d whose statistic is below the critical value, and the title names it.
    assert.equal(plot.d[0], 0);
    assert.ok(Math.abs(plot.corr[0] - 1) < 1e-9);
    assert.notEqual(report.d, null);
    const first = plot.d.findIndex((_: number, i: number) => plot.adf[i] < plot.critical[i]);
    assert.equal(plot.d[first], report.d);
    assert.match(plot.title, new RegExp(`close: minimum d = ${report.d!.toFixed(3).replace(/0+$/, "")}`));
  },
);
