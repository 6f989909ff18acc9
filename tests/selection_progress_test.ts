/**
 * The engines' optional progress callbacks (the page's live progress and its Cancel). statistical_tests: on
 * the CPU features done of those scored, on WebGPU permutations done of features x permutations, monotone and
 * ending at the total; a throw from the callback stops the engine (on WebGPU before the next batch is
 * submitted). garch_models: walk-forward refits done. Without a callback the results are the same.
 */
import { strict as assert } from "node:assert";
import { garchModels } from "../engines/garch.ts";
import { selectFeatures, type SelectionConfig, type SelectionReport } from "../engines/statistical_tests.ts";
import { makeFrame } from "../io/frame.ts";
import { GpuRuntime } from "../runtime/gpu.ts";
import { returns } from "./data.ts";

const n = 600;
const close = new Float64Array(n);
{
  let p = 100;
  const r = returns(n, 7);
  for (let t = 0; t < n; t++) close[t] = p *= Math.exp(r[t]);
}
const frame = makeFrame(
  "progress",
  n,
  new Map([
    ["close", close],
    ["a", returns(n, 8)],
    ["b", returns(n, 9)],
    ["c", returns(n, 10)],
  ]),
);
const cfg: SelectionConfig = {
  target: "y_ret_fwd_2",
  top_k: 2,
  max_samples: 500,
  permutations: 49,
  seed: 1,
  rolling: false,
  rolling_window: 100,
};

Deno.test("selection progress on the CPU: features done of those scored; a throw stops the engine", async () => {
  const seen: [number, number, string][] = [];
  const CPU = { choice: "cpu" as const, gpu: null };
  const r = await selectFeatures(frame, cfg, CPU, (d, t, u) => seen.push([d, t, u]));
  const rep = r.report as unknown as SelectionReport;
  assert.equal(rep.ranking.length, 3);
  assert.deepEqual(seen, [[0, 3, "features"], [1, 3, "features"], [2, 3, "features"], [3, 3, "features"]]);
  const quiet = (await selectFeatures(frame, cfg, CPU)).report as unknown as SelectionReport;
  assert.deepEqual(quiet.ranking, rep.ranking, "the callback does not change the result");
  await assert.rejects(
    () =>
      selectFeatures(frame, cfg, CPU, (d) => {
        if (d === 1) throw new Error("cancelled");
      }),
    /cancelled/,
  );
});

Deno.test(
  "selection progress on WebGPU: permutations done after each batch, up to features x permutations; a throw stops it",
  { sanitizeResources: false, sanitizeOps: false },
  async () => {
    const gpu = await GpuRuntime.create();
    try {
      const seen: [number, number, string][] = [];
      // Small jobs (maxRowsPerJob is not reachable from here): many permutations make several batches.
      const big = { ...cfg, permutations: 999 };
      await selectFeatures(frame, big, { choice: "webgpu", gpu }, (d, t, u) => seen.push([d, t, u]));
      const total = 3 * 999;
      assert.ok(seen.length >= 2, `progress calls: ${JSON.stringify(seen)}`);
      assert.deepEqual(seen[0], [0, total, "permutations"]);
      assert.deepEqual(seen.at(-1), [total, total, "permutations"]);
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i][0] >= seen[i - 1][0], "monotone");
      let calls = 0;
      await assert.rejects(
        () =>
          selectFeatures(frame, big, { choice: "webgpu", gpu }, () => {
            if (++calls === 1) throw new Error("cancelled");
          }),
        /cancelled/,
      );
      assert.equal(calls, 1, "nothing more after the throw");
    } finally {
      gpu.destroy();
    }
  },
);

Deno.test("garch_models progress on the CPU: walk-forward refits done of the total; same result without it", async () => {
  const cfg = {
    columns: ["close"],
    p: 1,
    q: 1,
    max_iter: 200,
    max_samples: 10_000,
    mode: "walk_forward" as const,
    window: 300,
    refit_every: 100,
    min_samples: 200,
  };
  const CPU = { choice: "cpu" as const, gpu: null };
  const seen: [number, number, string][] = [];
  const r = await garchModels(frame, cfg, CPU, (d, t, u) => seen.push([d, t, u]));
  const refits = r.report.columns.close.refits;
  assert.ok(refits >= 3, `${refits} refits`);
  assert.deepEqual(seen, Array.from({ length: refits + 1 }, (_, i) => [i, refits, "refits"]));
  const quiet = await garchModels(frame, cfg, CPU);
  assert.deepEqual(quiet.columns.get("close_garch_vol"), r.columns.get("close_garch_vol"));
});
