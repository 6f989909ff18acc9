/**
 * The GARCH family on WebGPU (kernels/garch_model_gpu.ts, shaders/garch_model_llh.wgsl): the f32 log-likelihood,
 * gradient and score outer product against the f64 recursion (tolerances below; the series is longer than the
 * software adapter's per-invocation loop budget, so the chunked dispatches are covered), the batched search with
 * the f64 finish reaching the CPU path's optimum, and the engine's walk-forward on the GPU.
 */
import { strict as assert } from "node:assert";
import { garchModels } from "../engines/garch.ts";
import { garchConfig, pricesFromReturns } from "./garch_check.ts";
import { makeFrame } from "../io/frame.ts";
import { fitGarchModel, parseModel } from "../kernels/garch.ts";
import { prepareSeries } from "../kernels/garch_core.ts";
import { evalModel, layout, modelPresample } from "../kernels/garch_model.ts";
import { fitGarchModelCpu } from "../kernels/garch_model_fit.ts";
import { Mode, modelEvaluator } from "../kernels/garch_model_gpu.ts";
import { type Compute, sharedGpu } from "../runtime/backend.ts";
import { setLogLevel } from "../runtime/log.ts";

setLogLevel("error");
const gpu = await sharedGpu();
const opts = { sanitizeResources: false, sanitizeOps: false, ignore: !gpu };
const GPU: Compute = { choice: "webgpu", gpu };
const CPU: Compute = { choice: "cpu", gpu: null };
const dem = Float64Array.from(
  (await Deno.readTextFile(new URL("./fixtures/dem2gbp.csv", import.meta.url))).trim().split("\n").slice(1),
  Number,
);

Deno.test({
  name:
    "f32 LL (rel 1e-5), gradient (1e-3 (|g| + sqrt n)) and score outer product (1e-4 of its scale) vs f64",
  ...opts,
  fn: async () => {
    const p = prepareSeries(dem, 1e6);
    if ("status" in p) throw new Error(p.message);
    const n = p.x.length;
    // Parameters in scaled units: (mu, omega, alphas, gammas, betas, nu, lambda).
    const cases: [string, number[]][] = [
      ["gjr21_skewt", [-0.02, 0.05, 0.06, 0.04, 0.05, 0.02, 0.8, 4.5, -0.3]],
      ["garch12", [0, 0.05, 0.15, 0.5, 0.3]],
      ["gjr33_skewt", [0.01, 0.04, 0.05, 0.02, 0.01, 0.04, 0.01, 0.01, 0.5, 0.2, 0.1, 7, 0.2]],
      ["garch10", [0.01, 0.6, 0.35]],
    ];
    for (const [name, th] of cases) {
      const m = parseModel(name)!, k = layout(m).k;
      assert.equal(th.length, k, name);
      const t = Float64Array.from(th);
      const ev = modelEvaluator(gpu!, [p], m, "sample");
      try {
        const [full, ll] = await ev.evaluate([{ series: 0, th: t, mode: Mode.Full }, {
          series: 0,
          th: t,
          mode: Mode.Ll,
        }]);
        const ref = evalModel(p.x, m, t, modelPresample(p, "sample", t[0], m.family === "gjr"), true);
        for (const v of [full[0], ll[0]]) {
          assert.ok(Math.abs(v / ref.ll - 1) <= 1e-5, `${name}: LL ${v} vs ${ref.ll}`);
        }
        let o = 1 + k;
        for (let a = 0; a < k; a++) {
          const g = ref.g![a];
          assert.ok(
            Math.abs(full[1 + a] - g) <= 1e-3 * (Math.abs(g) + Math.sqrt(n)),
            `${name} g${a}: ${full[1 + a]} vs ${g}`,
          );
          for (let c = 0; c <= a; c++, o++) {
            const scale = Math.sqrt(ref.opg![a * k + a] * ref.opg![c * k + c]);
            assert.ok(Math.abs(full[o] - ref.opg![a * k + c]) <= 1e-4 * scale, `${name} opg ${a},${c}`);
          }
        }
      } finally {
        ev.destroy();
      }
    }
  },
});

Deno.test({
  name: "batched GPU search + f64 finish reaches the CPU path's optimum (LL 1e-9 rel, estimates 1e-3 SE)",
  ...opts,
  fn: async () => {
    const series = [dem, dem.subarray(0, 1200), dem.subarray(700)];
    for (const name of ["gjr11_t", "garch21_skewt", "garch12"]) {
      const m = parseModel(name)!;
      const fits = await fitGarchModel(series, m, {}, GPU);
      fits.forEach((g, i) => {
        const c = fitGarchModelCpu(series[i], m);
        assert.equal(g.backend, "webgpu");
        assert.equal(g.status, "converged", `${name} ${i}: ${g.message}`);
        assert.ok(
          Math.abs(g.loglik! - c.loglik!) <= 1e-9 * Math.abs(c.loglik!),
          `${name} ${i}: ${g.loglik} vs ${c.loglik}`,
        );
        // The standard errors come from the same f64 Hessian at (nearly) the same point.
        for (const [key, v] of Object.entries(c.se ?? {})) {
          assert.ok(Math.abs(g.se![key] / v - 1) < 1e-4, `se ${key}`);
        }
        for (const [key, v] of Object.entries(c.params!)) {
          // Without standard errors (a coefficient on its bound), 1e-6 relative.
          const tol = c.se ? 1e-3 * c.se[key] : 1e-6 * Math.max(1, Math.abs(v));
          assert.ok(Math.abs(g.params![key] - v) <= tol, `${name} ${i} ${key}: ${g.params![key]} vs ${v}`);
        }
      });
    }
  },
});

Deno.test({
  name: "engine on WebGPU: walk-forward with garch11 and gjr11_t within 1e-4 of the CPU path",
  ...opts,
  fn: async () => {
    const close = pricesFromReturns(dem);
    const frame = makeFrame("mem", close.length, new Map([["close", close]]));
    const cfg = garchConfig({
      window: 1000,
      refit_every: 400,
      min_samples: 800,
      models: ["garch11", "gjr11_t"],
    });
    const [g, c] = [await garchModels(frame, cfg, GPU), await garchModels(frame, cfg, CPU)];
    assert.equal(g.report.columns.close.models.gjr11_t.backend, "webgpu");
    assert.equal(g.report.columns.close.model, c.report.columns.close.model);
    const a = g.columns.get("close_garch_vol")!, b = c.columns.get("close_garch_vol")!;
    b.forEach((v, t) =>
      assert.ok(Number.isNaN(v) ? Number.isNaN(a[t]) : Math.abs(a[t] / v - 1) <= 1e-4, `row ${t}`)
    );
  },
});
