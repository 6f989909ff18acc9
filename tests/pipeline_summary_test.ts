/**
 * The run summary a quant reads (issue 11 §5), from the default job on a short series: per instrument the
 * time per phase, FFD window per d, the GARCH table (estimates, standard errors, persistence, half-life, status,
 * refits), warm-up and NaN counts per feature, and the selection table with n, p, q and the reason (and cause)
 * of every feature not ranked; summary.json stays compact (the PCA in its own file, named for the instrument).
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { barsJob, cli, runReports } from "./cli_harness.ts";
import { summaryMarkdown } from "../pipeline/summary.ts";
import type { RunSummary } from "../pipeline/run.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "summary.md: phases, FFD windows, GARCH table, feature warm-ups, selection with n/p/q and reasons",
  opts,
  async () => {
    // Generated bars have volatility clustering (regimes), so the GARCH fit is interior, with standard errors.
    const { dir, config } = await barsJob({
      prefix: "fg-summary-",
      rows: 3000,
      seed: 3,
      yaml: `features:
  frac_diff: { d_values: [0.1, 0.4] }
  garch: { min_samples: 500, refit_every: 500 }
  selection_target_column: y_ret_fwd_5
  selection_permutations: 19
`,
    });
    await Deno.rename(join(dir, "bars", "SYN0000"), join(dir, "bars", "ES+H5"));
    const r = await cli(["run", "--config", config]);
    assert.equal(r.code, 0, r.err.slice(-2000));
    const { runDir, summary, md } = await runReports(join(dir, "out"), r.err);
    assert.match(md, /^## ES\+H5$/m);
    assert.match(md, /^\| ES\+H5 \| done \| 3000 \|/m);
    assert.match(md, /time per phase \(ms\): read \d+, validate \d+, stationarization \d+, .*write \d+/);
    assert.match(md, /FFD window length \(rows\) per d: 0\.1: 4076, 0\.4: 1458/);
    // GARCH: estimates with standard errors, persistence, half-life, status and refits (3000 rows: 5 refits).
    assert.match(md, /### GARCH\(1,1\) .*walk-forward: window 10000, refit every 500 bars/);
    assert.match(
      md,
      /^\| close \| \S+ \(\S+\) \| \S+ \(\S+\) \| \S+ \(\S+\) \| \S+ \(\S+\) \| [\d.]+ \| [\d.]* \| \w+/m,
    );
    assert.match(md, /\| 5 \(\d+, \d+\) \|$/m);
    // Every feature's warm-up and NaN count; the unusable FFD column with its cause.
    assert.match(md, /^\| close_fd_0\.4 \| 1457 \| 1457 \| 0 \| {2}\|$/m);
    assert.match(
      md,
      /^\| close_fd_0\.1 \| 3000 \| 3000 \| 0 \| FFD d = 0\.1 .*needs 4076 rows; the series has 3000 \|$/m,
    );
    // Selection: n, p and q per ranked feature; the FFD column set aside with the selection's reason and the cause.
    assert.match(
      md,
      /### Selection: dCor with y_ret_fwd_5 \(\d+ rows; p-values: 19 circular_shift permutations/,
    );
    assert.match(md, /^\| 1 \| \S+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| \d+ \|/m);
    assert.match(md, /^\| close_fd_0\.1 \| no finite value .* \| FFD d = 0\.1 .*needs 4076 rows.* \|$/m);
    assert.match(md, /^\| close \| matches features\.selection_exclude "close" \|/m);

    // summary.json keeps a reference to pca/<instrument>.json in place of the PcaResult (pipeline/run.ts).
    const sel = summary.tasks[0].reports!.statistical_tests as unknown as {
      filters: { pca: Record<string, unknown> };
    };
    assert.equal(sel.filters.pca.file, "pca/ES+H5.json");
    assert.equal(sel.filters.pca.loadings, undefined, "loadings live in their own file");
    const pca = JSON.parse(await Deno.readTextFile(join(runDir, "pca", "ES+H5.json")));
    assert.equal(pca.loadings.length, pca.n_components);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test("summary.md cells escape control and format characters from the data (column names)", () => {
  const s = {
    run_id: "r1",
    status: "done",
    source: "src",
    output: "out",
    adapter: "cpu",
    rows: 1,
    seconds: 0,
    rows_per_s: 0,
    peak_rss_mb: 0,
    gpu_peak_mb: 0,
    engine_ms: {},
    tasks: [{
      instrument: "AAA",
      status: "done",
      rows: 1,
      ms: 0,
      skipped_columns: [{ name: "sym\u001b[31m\u202e|x\ny", reason: "text" }],
    }],
  } as unknown as RunSummary;
  const md = summaryMarkdown(s);
  assert.ok(!md.includes("\u001b") && !md.includes("\u202e"), md);
  assert.match(md, /input column not loaded: sym\\u001b\[31m\\u202e\\\|x y \(text\)/);
});
