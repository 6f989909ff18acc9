/**
 * The garch_models engine with several models (features.garch.models, select_by, mean): no look-ahead with a
 * non-default model chosen per refit, the choice is the lowest criterion among the fits on each refit's window,
 * every model's fits in the report, the config keys' defaults and errors, and `kernel garch --model --dist`.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { main } from "../cli/main.ts";
import type { GarchEngineConfig } from "../engines/garch.ts";
import { garchConfig, garchVol } from "./garch_check.ts";
import { seededNormals } from "../runtime/rng.ts";
import { fitGarchModelCpu, parseModel, percentLogReturns, walkForwardRefits } from "../kernels/garch.ts";
import { validateConfig } from "../config/schema.ts";
import type { RunSummary } from "../pipeline/run.ts";
import { summaryMarkdown } from "../pipeline/summary.ts";
import type { Compute } from "../runtime/backend.ts";
import { setLogLevel } from "../runtime/log.ts";

setLogLevel("error");
const CPU: Compute = { choice: "cpu", gpu: null };

/** Close prices from a GJR-GARCH(1,1) with Student-t (nu 5) shocks: asymmetric and fat-tailed. */
function prices(n: number, seed: number): Float64Array {
  const z = seededNormals(n * 6, 91, seed);
  const close = new Float64Array(n);
  close[0] = 100;
  let h = 0.5, e = 0;
  for (let t = 1; t < n; t++) {
    h = 0.02 + (0.04 + (e < 0 ? 0.1 : 0)) * e * e + 0.88 * h;
    // t(5) scaled to variance 1: N / sqrt(chi2_5 / 5) * sqrt(3 / 5).
    let chi = 0;
    for (let k = 1; k <= 5; k++) chi += z[t * 6 + k] ** 2;
    e = Math.sqrt(h) * z[t * 6] / Math.sqrt(chi / 5) * Math.sqrt(3 / 5);
    close[t] = close[t - 1] * Math.exp((0.01 + e) / 100);
  }
  return close;
}

const BASE = garchConfig({
  window: 1200,
  refit_every: 600,
  min_samples: 600,
  models: ["garch11", "gjr11_t"],
});
const run = (close: Float64Array, cfg: GarchEngineConfig) => garchVol(close, cfg, CPU);

const close = prices(2000, 3);
const dem = Float64Array.from(
  (await Deno.readTextFile(new URL("./fixtures/dem2gbp.csv", import.meta.url))).trim().split("\n").slice(1),
  Number,
);
const full = await run(close, BASE);

Deno.test("several models: each refit's rows come from the lowest-AIC fit on its window; all fits reported", () => {
  const col = full.report.columns.close;
  assert.deepEqual(full.report.models, ["garch11", "gjr11_t"]);
  assert.deepEqual(Object.keys(col.models), ["garch11", "gjr11_t"]);
  const r = percentLogReturns(close);
  const refits = walkForwardRefits(r, { window: 1200, refitEvery: 600, minSamples: 600 });
  assert.equal(col.refits, refits.length);
  let gjr = 0;
  for (const f of refits) {
    const w = r.subarray(f.lo, f.row);
    const a = fitGarchModelCpu(w, parseModel("garch11")!), b = fitGarchModelCpu(w, parseModel("gjr11_t")!);
    if (b.aic! < a.aic!) gjr++;
  }
  // The simulated series is GJR with t shocks: the t model wins on these windows.
  assert.ok(gjr > 0, "gjr11_t never chosen");
  assert.equal(col.models.gjr11_t.selected, gjr);
  assert.equal(col.models.garch11.selected, refits.length - gjr);
  assert.equal(col.model, col.models.gjr11_t.aic! < col.models.garch11.aic! ? "gjr11_t" : "garch11");
  assert.deepEqual(col.params, col.models[col.model].params);
  assert.ok(col.models.gjr11_t.params!.nu > 2 && "gamma" in col.models.gjr11_t.params!);
  assert.ok(col.models.gjr11_t.robust_se!.gamma > 0);
  assert.ok(full.vol.slice(col.first_row!).every((v) => v > 0));
});

Deno.test("no look-ahead with a non-default model: truncating the input leaves earlier rows bit-identical", async () => {
  for (const cut of [600, 601, 1200, 1500]) {
    const part = await run(close.slice(0, cut), BASE);
    assert.deepEqual(part.vol, full.vol.slice(0, cut), `cut at ${cut}`);
  }
  // The same with the t model alone and BIC.
  const cfg = { ...BASE, models: ["gjr11_t"], select_by: "bic" as const };
  const whole = await run(close, cfg), part = await run(close.slice(0, 1300), cfg);
  assert.deepEqual(part.vol, whole.vol.slice(0, 1300));
});

Deno.test("in_sample with several models and a zero mean: one fit each, the lowest BIC filters", async () => {
  const res = await run(close, { ...BASE, mode: "in_sample", select_by: "bic", mean: "zero" });
  const col = res.report.columns.close;
  const bic = Object.values(col.models).map((m) => m.bic!);
  assert.equal(col.models[col.model].bic, Math.min(...bic));
  assert.equal(res.report.mean, "zero");
  assert.ok(!("mu" in col.params!));
  assert.equal(res.vol.filter(Number.isFinite).length, close.length - 1);
});

Deno.test("config: features.garch.models, select_by and mean: defaults and errors naming the key", () => {
  const garch = (g: unknown) =>
    validateConfig({ features: { garch: g } }, { env: () => undefined }).features.garch;
  const d = garch({});
  assert.deepEqual(d.models, ["garch11"]);
  assert.equal(d.select_by, "aic");
  assert.equal(d.mean, "constant");
  assert.deepEqual(garch({ models: ["garch21_skewt", "gjr13_t", "garch10"] }).models, [
    "garch21_skewt",
    "gjr13_t",
    "garch10",
  ]);
  const bad: [unknown, RegExp][] = [
    [
      { models: ["garch11", "egarch11"] },
      /features\.garch\.models\[1\].*unknown model "egarch11"; expected garch\{p\}\{q\}/,
    ],
    [{ models: ["garch41"] }, /features\.garch\.models\[0\].*"garch41"/],
    [{ models: [] }, /features\.garch\.models/],
    [{ select_by: "hqic" }, /features\.garch\.select_by: expected one of "aic", "bic", got "hqic"/],
    [{ mean: "ar1" }, /features\.garch\.mean: expected one of "constant", "zero", got "ar1"/],
  ];
  for (const [g, re] of bad) assert.throws(() => garch(g), re);
});

Deno.test("kernel garch CLI: --model gjr11 --dist t, --model gjr --p 2 --q 0, and bad values exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const input = new URL("./fixtures/dem2gbp.csv", import.meta.url).pathname;
    const base = [
      "kernel",
      "garch",
      "--input",
      input,
      "--column",
      "dem2gbp",
      "--returns",
      "false",
      "--backend",
      "cpu",
    ];
    const cases: [string[], string, string[]][] = [
      [["--model", "gjr11", "--dist", "t"], "gjr11_t", ["mu", "omega", "alpha", "gamma", "beta", "nu"]],
      [["--model", "gjr", "--p", "2", "--q", "0", "--mean", "zero"], "gjr20", [
        "omega",
        "alpha",
        "alpha2",
        "gamma",
        "gamma2",
      ]],
    ];
    for (const [args, name, keys] of cases) {
      const out = join(dir, `${name}.json`);
      assert.equal(await main([...base, ...args, "--output", out]), 0);
      const fit = JSON.parse(await Deno.readTextFile(out)).result;
      assert.equal(fit.model, name);
      assert.equal(fit.status, "converged");
      assert.deepEqual(Object.keys(fit.params), keys);
      assert.deepEqual(fit, fitGarchModelCpu(dem, parseModel(name)!, { mean: fit.mean }));
    }
    for (
      const bad of [["--model", "egarch11"], ["--dist", "ged"], ["--model", "gjr11", "--p", "2"], [
        "--q",
        "4",
      ]]
    ) {
      assert.equal(await main([...base, ...bad]), 2, bad.join(" "));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("summary.md: the chosen model's estimates and a table of every model's last fit", () => {
  const run = {
    run_id: "r",
    status: "done",
    engine_ms: {},
    tasks: [{
      instrument: "X",
      status: "done",
      rows: close.length,
      ms: 1,
      error: null,
      reports: { garch_models: full.report },
    }],
  } as unknown as RunSummary;
  const md = summaryMarkdown(run);
  assert.match(md, /### GARCH\(1,1\), GJR\(1,1\)-t \(lowest AIC per refit\) of /);
  const col = full.report.columns.close;
  for (const [name, m] of Object.entries(col.models)) {
    const row = md.split("\n").find((l) => l.startsWith(`| close | ${name}`))!;
    assert.ok(row, `no row for ${name}`);
    assert.ok(row.includes(`| ${m.selected} |`) && row.includes(m.loglik!.toPrecision(8)), row);
    if (name === col.model) assert.ok(row.includes("(selected)"), row);
  }
  assert.match(md, /\| close \| gjr11_t[^|]*\|[^\n]*gamma \S+ \(\S+\), nu \S+ \(\S+\)/);
});
