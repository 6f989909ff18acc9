/**
 * The page's minimum-d plot (web/min_d_plot.ts, issue 15 §4: AFML Figure 5.5) in Debian's headless Chromium,
 * driven as tests/web_issue13_test.ts does (a child Deno process runs this file with `--web-driver SPEC` and
 * writes what it saw as JSON; the assertions run here): demo bars run with `frac_diff.d_values: auto`, and the
 * plot's data, read back from the uPlot instance, is the stationarization report's min-d table in increasing d:
 * the ADF statistic, its critical value and the correlation with the log price, with the chosen d in the title.
 */
import { strict as assert } from "node:assert";
import type { MinDReport } from "../engines/stationarization.ts";
import { buildWeb } from "../web/build.ts";
import { serveStatic } from "../web/serve.ts";
import { type Any, BROWSER_ARGS, CHROMIUM, pageHooks, requireChromium, runDriver } from "./web_harness.ts";

interface Spec {
  url: string;
  out: string;
  config: string;
}

const CONFIG = "features:\n  columns: [close]\n  rolling_windows: [10]\n" +
  "  frac_diff: { d_values: auto, threshold: 1.0e-3, auto_rows: 2500 }\n" +
  "pipeline:\n  engines:\n    feature_engineering: { enabled: false, order: 2 }\n" +
  "    garch_models: { enabled: false, order: 3 }\n    statistical_tests: { enabled: false, order: 4 }\n";

async function driver(spec: Spec): Promise<void> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...BROWSER_ARGS] });
  const seen: Record<string, Any> = { console: [] as string[] };
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("console", (m) => seen.console.push(`${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => seen.console.push(`pageerror: ${e.message}`));
    page.setDefaultTimeout(60_000);
    const { seq, settle } = pageHooks(page);
    await page.goto(spec.url);
    seen.ready = await settle(0, ["ready", "error"]);
    await page.selectOption("#backend", "cpu");
    await page.fill("#demo-rows", "3000");
    let s = await seq();
    await page.click("#demo");
    seen.loaded = await settle(s, ["loaded", "error"]);
    await page.fill("#config", spec.config);
    s = await seq();
    await page.click("#run");
    seen.run = await settle(s, ["done", "error"], 60_000);
    seen.error = await page.evaluate(() => (globalThis as Any).__fg.error);
    seen.plots = await page.evaluate(() => (globalThis as Any).__fg.minD());
    seen.report = await page.evaluate(() => (globalThis as Any).__fg.result?.reports.stationarization.min_d);
    seen.visible = await page.locator("[data-min-d=close] canvas").first().isVisible();
  } finally {
    await Deno.writeTextFile(spec.out, JSON.stringify(seen));
    await browser.close();
  }
}

if (Deno.args[0] === "--web-driver") await driver(JSON.parse(Deno.args[1]));

Deno.test(
  "web page: the minimum-d plot (ADF statistic, critical value, correlation vs d) draws the report's table",
  {
    sanitizeResources: false,
    sanitizeOps: false,
  },
  async () => {
    requireChromium();
    const dir = await Deno.makeTempDir({ prefix: "fg-web-min-d-" });
    const server = serveStatic(await buildWeb({ outDir: `${dir}/site` }), { hostname: "127.0.0.1", port: 0 });
    try {
      const spec: Spec = {
        url: `http://127.0.0.1:${server.addr.port}/`,
        out: `${dir}/seen.json`,
        config: CONFIG,
      };
      const child = await runDriver("tests/web_min_d_test.ts", spec, spec.out);
      const seen = child.seen;
      assert.ok(child.success && seen, `the browser driver failed (exit ${child.code}):\n${child.stderr}`);
      assert.equal(seen.run, "done", `${seen.error}\n${seen.console.join("\n")}`);
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
    } finally {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);
