/** The statistical_tests engine: the forward-return target, the dCor ranking and the top-K selection. */
import { strict as assert } from "node:assert";
import { forwardReturn, selectFeatures, targetHorizon } from "../engines/statistical_tests.ts";
import { makeFrame } from "../io/frame.ts";
import { UsageError } from "../runtime/errors.ts";
import { returns } from "./data.ts";

Deno.test("target: y_ret_fwd_<h> is the log return from t to t + h; the last h rows are NaN", () => {
  const close = Float64Array.from([100, 101, 99, 102, 104, 103]);
  const y = forwardReturn(close, 2);
  assert.equal(y[0], Math.log(99 / 100));
  assert.equal(y[3], Math.log(103 / 102));
  assert.ok(Number.isNaN(y[4]) && Number.isNaN(y[5]));
  assert.equal(targetHorizon("y_ret_fwd_15m"), 15);
  assert.equal(targetHorizon("y_ret_fwd_3"), 3);
  assert.throws(() => targetHorizon("ret_15"), UsageError);
});

Deno.test("selection: a dependent feature ranks first with p < 0.01, noise does not; y_* columns are never features", async () => {
  const n = 3000, h = 5;
  const r = returns(n + h, 91);
  const close = new Float64Array(n);
  let p = 100;
  for (let t = 0; t < n; t++) close[t] = p *= Math.exp(r[t]);
  const target = forwardReturn(close, h);
  // A nonlinear signal of the target (|y| + noise: Pearson near 0, dCor clearly > 0) and pure noise.
  const noise = returns(n, 92), noise2 = returns(n, 93);
  const signal = target.map((v, t) => (Number.isFinite(v) ? Math.abs(v) + 0.3 * Math.abs(noise[t]) : NaN));
  const frame = makeFrame(
    "test",
    n,
    new Map([
      ["close", close],
      ["signal", signal],
      ["noise", noise2],
      ["y_other_target", target],
    ]),
  );
  const cfg = {
    target: `y_ret_fwd_${h}`,
    top_k: 2,
    max_samples: 2000,
    permutations: 199,
    seed: 1,
    rolling: true,
    rolling_window: 250,
  };
  const { columns, report } = await selectFeatures(frame, cfg, { choice: "cpu", gpu: null });
  assert.deepEqual([...columns.keys()], ["y_ret_fwd_5"]);
  assert.deepEqual(columns.get("y_ret_fwd_5"), target);
  const ranking = report.ranking as {
    feature: string;
    dcor: number;
    p_value: number;
    n: number;
    rolling_mean: number;
  }[];
  assert.deepEqual(ranking.map((x) => x.feature).sort(), ["close", "noise", "signal"]);
  assert.equal(ranking[0].feature, "signal");
  assert.ok(ranking[0].p_value < 0.01 && ranking[0].dcor > 0.2, JSON.stringify(ranking[0]));
  const noiseRow = ranking.find((x) => x.feature === "noise")!;
  assert.ok(noiseRow.p_value > 0.01 && noiseRow.dcor < 0.1, JSON.stringify(noiseRow));
  assert.equal(ranking[0].n, 2000);
  assert.ok(ranking[0].rolling_mean > 0.2);
  assert.deepEqual(report.selected, ranking.slice(0, 2).map((x) => x.feature));
  // Same seed, same p-values.
  const again = await selectFeatures(frame, cfg, { choice: "cpu", gpu: null });
  assert.deepEqual(again.report.ranking, report.ranking);
});

Deno.test("selection filters: a near-duplicate of a better-ranked feature is dropped; PCA is reported", async () => {
  const n = 2000, h = 3;
  const r = returns(n + h, 94);
  const close = new Float64Array(n);
  let p = 100;
  for (let t = 0; t < n; t++) close[t] = p *= Math.exp(r[t]);
  const target = forwardReturn(close, h);
  const noise = returns(n, 95);
  const signal = target.map((v, t) => (Number.isFinite(v) ? Math.abs(v) + 0.3 * Math.abs(noise[t]) : NaN));
  const twin = signal.map((v, t) => 2 * v + 1e-6 * noise[(t * 7) % n]);
  const frame = makeFrame(
    "test",
    n,
    new Map([["close", close], ["signal", signal], ["twin", twin], ["flat", new Float64Array(n).fill(1)]]),
  );
  const { report } = await selectFeatures(frame, {
    target: `y_ret_fwd_${h}`,
    top_k: 10,
    max_samples: 5000,
    permutations: 49,
    seed: 0,
    rolling: false,
    rolling_window: 500,
    filters: { variance_threshold: 0, corr_threshold: 0.95, pca: true },
  }, { choice: "cpu", gpu: null });
  const f = report.filters as {
    kept: string[];
    dropped: { feature: string; stage: string; duplicate_of?: string }[];
    pca: unknown;
  };
  const twinDrop = f.dropped.find((d) => d.feature === "twin" || d.feature === "signal")!;
  assert.equal(twinDrop.stage, "correlation");
  assert.ok(["signal", "twin"].includes(twinDrop.duplicate_of!));
  assert.ok(f.dropped.some((d) => d.feature === "flat" && d.stage === "variance"));
  assert.ok(f.pca);
  const selected = report.selected as string[];
  assert.ok(!selected.includes(twinDrop.feature) && !selected.includes("flat"));
  assert.equal(selected.filter((x) => x === "signal" || x === "twin").length, 1);
});
