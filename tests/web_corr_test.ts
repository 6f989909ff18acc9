/**
 * The correlation matrix's WebAssembly product (kernels/corr_gram.wat) and PCA's eigensolver in the page: demo
 * bars run on the CPU backend in Debian's headless Chromium with statistical_tests on, driven as
 * tests/web_min_d_test.ts does (a child Deno process runs this file with `--web-driver SPEC` and writes what it
 * saw as JSON; the assertions run here). The selection filters' report must hold the correlation matrix's
 * verdicts and a PCA of the kept features: the module compiled and ran in the page's worker.
 */
import { strict as assert } from "node:assert";
import type { SelectionFiltersReport } from "../engines/selection_filters.ts";
import { buildWeb } from "../web/build.ts";
import { serveStatic } from "../web/serve.ts";
import { type Any, BROWSER_ARGS, CHROMIUM, pageHooks, requireChromium, runDriver } from "./web_harness.ts";

interface Spec {
  url: string;
  out: string;
  config: string;
}

const CONFIG = "features:\n  columns: [close]\n  rolling_windows: [10, 20, 50]\n" +
  "  frac_diff: { d_values: [0.3, 0.5] }\n  selection_permutations: 19\n  selection_max_samples: 1500\n" +
  "  selection_corr_threshold: 0.6\n" +
  "pipeline:\n  engines:\n    feature_engineering: { enabled: false, order: 2 }\n" +
  "    garch_models: { enabled: false, order: 3 }\n    statistical_tests: { enabled: true, order: 4 }\n";

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
    seen.run = await settle(s, ["done", "error"], 120_000);
    seen.error = await page.evaluate(() => (globalThis as Any).__fg.error);
    seen.filters = await page.evaluate(() =>
      (globalThis as Any).__fg.result?.reports.statistical_tests?.filters
    );
  } finally {
    await Deno.writeTextFile(spec.out, JSON.stringify(seen));
    await browser.close();
  }
}

if (Deno.args[0] === "--web-driver") await driver(JSON.parse(Deno.args[1]));

Deno.test(
  "web page: the selection filters' correlation matrix (WebAssembly) and PCA run on the CPU in Chromium",
  {
    sanitizeResources: false,
    sanitizeOps: false,
  },
  async () => {
    requireChromium();
    const dir = await Deno.makeTempDir({ prefix: "fg-web-corr-" });
    const server = serveStatic(await buildWeb({ outDir: `${dir}/site` }), { hostname: "127.0.0.1", port: 0 });
    try {
      const spec: Spec = {
        url: `http://127.0.0.1:${server.addr.port}/`,
        out: `${dir}/seen.json`,
        config: CONFIG,
      };
      const child = await runDriver("tests/web_corr_test.ts", spec, spec.out);
      const seen = child.seen;
      assert.ok(child.success && seen, `the browser driver failed (exit ${child.code}):\n${child.stderr}`);
      assert.equal(seen.run, "done", `${seen.error}\n${seen.console.join("\n")}`);
      const f = seen.filters as SelectionFiltersReport;
      assert.ok(f && f.corr_rows > 100, `filters: ${JSON.stringify(f)}`);
      assert.ok(f.kept.length >= 2 && f.kept.length <= f.candidates);
      // Z-scores of one price at windows 10, 20 and 50 correlate over the 0.6 threshold: some are dropped.
      const dup = f.dropped.filter((d) => d.stage === "correlation");
      assert.ok(
        dup.length >= 1,
        JSON.stringify({ kept: f.kept, pairs: f.correlated_pairs, c: f.candidates }),
      );
      for (const d of dup) {
        assert.ok(Math.abs(d.corr!) >= 0.6 && Math.abs(d.corr!) <= 1, `${d.feature}: ${d.corr}`);
      }
      // PCA of the kept features: unit components, ratios summing to 1.
      const pca = f.pca!;
      assert.deepEqual(pca.features, f.kept);
      assert.ok(Math.abs(pca.cumulative_ratio.at(-1)! - 1) < 1e-9, `${pca.cumulative_ratio}`);
      for (const row of pca.components) assert.ok(Math.abs(Math.hypot(...row) - 1) < 1e-9);
    } finally {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);
