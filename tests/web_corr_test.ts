/**
 * The correlation matrix's WebAssembly product (kernels/corr_gram.wat) and PCA's eigensolver in the page: demo
 * bars run on the CPU backend in Debian's headless Chromium with statistical_tests on, driven as
 * tests/web_min_d_test.ts does (a child Deno process runs this file with `--web-driver SPEC` and writes what it
 * saw as JSON; the assertions run here). The selection filters' report must hold the correlation matrix's
 * verdicts and a PCA of the kept features: the module compiled and ran in the page's worker.
 */
import { strict as assert } from "node:assert";
import type { SelectionFiltersReport } from "../engines/selection_filters.ts";
import { type Any, demoRun, demoRunDriver, type DemoSpec } from "./web_harness.ts";

const CONFIG = "features:\n  columns: [close]\n  rolling_windows: [10, 20, 50]\n" +
  "  frac_diff: { d_values: [0.3, 0.5] }\n  selection_permutations: 19\n  selection_max_samples: 1500\n" +
  "  selection_corr_threshold: 0.6\n" +
  "pipeline:\n  engines:\n    feature_engineering: { enabled: false, order: 2 }\n" +
  "    garch_models: { enabled: false, order: 3 }\n    statistical_tests: { enabled: true, order: 4 }\n";

const driver = (spec: DemoSpec) =>
  demoRunDriver(spec, 120_000, async (page, seen) => {
    seen.filters = await page.evaluate(() =>
      (globalThis as Any).__fg.result?.reports.statistical_tests?.filters
    );
  });

if (Deno.args[0] === "--web-driver") await driver(JSON.parse(Deno.args[1]));

Deno.test(
  "web page: the selection filters' correlation matrix (WebAssembly) and PCA run on the CPU in Chromium",
  {
    sanitizeResources: false,
    sanitizeOps: false,
  },
  async () => {
    const seen = await demoRun("tests/web_corr_test.ts", "fg-web-corr-", CONFIG);
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
  },
);
