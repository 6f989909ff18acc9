/**
 * GARCH(1,1): the DEM/GBP benchmark (Fiorentini, Calzolari and Panattoni 1996; McCullough and Renfro 1998) on
 * both paths, R fGarch on simulated data (fixture by scripts/make_garch_fixture.R), recovery of known
 * parameters, the analytic derivatives against finite differences, the GPU's f32 evaluation against f64,
 * statuses instead of crashes, the causal volatility column, the engine and the `kernel garch` CLI.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { main } from "../cli/main.ts";
import { garchModels } from "../engines/garch.ts";
import { seededNormals } from "../runtime/rng.ts";
import { makeFrame } from "../io/frame.ts";
import {
  fitGarch,
  fitGarchCpu,
  fitGarchGpu,
  garchFilter,
  type GarchFit,
  type GarchParams,
  percentLogReturns,
} from "../kernels/garch.ts";
import {
  garchEvalFull,
  garchEvalGrad,
  garchLogLik,
  PERSISTENCE_MAX,
  prepareSeries,
  presample,
  simulateGarch,
} from "../kernels/garch_core.ts";
import { sharedGpu } from "../runtime/backend.ts";
import { setLogLevel } from "../runtime/log.ts";

setLogLevel("error");
// The runtime the CLI's `--backend webgpu` also uses: one device per process (a second device in the same
// process occasionally aborts at exit in Deno's WebGPU teardown).
const gpu = await sharedGpu();
const opts = { sanitizeResources: false, sanitizeOps: false };
const KEYS = ["mu", "omega", "alpha", "beta"] as const;

/** Reads the benchmark data: ../shared/data/dem2gbp.csv beside the repository, else the fixture copy. */
async function demGbp(): Promise<Float64Array> {
  const shared = new URL("../../shared/data/dem2gbp.csv", import.meta.url);
  const fixture = new URL("./fixtures/dem2gbp.csv", import.meta.url);
  let text: string;
  try {
    text = await Deno.readTextFile(shared);
  } catch {
    console.log("../shared/data/dem2gbp.csv not found; using tests/fixtures/dem2gbp.csv");
    text = await Deno.readTextFile(fixture);
  }
  const lines = text.trim().split("\n");
  assert.equal(lines[0].trim(), "dem2gbp");
  return Float64Array.from(lines.slice(1), Number);
}

/** |a - b| <= 0.5 unit in the 4th significant digit of b (agreement to 4 significant digits). */
function sig4(a: number, b: number, what: string): void {
  const unit = 10 ** (Math.floor(Math.log10(Math.abs(b))) - 3);
  assert.ok(Math.abs(a - b) <= 0.5 * unit, `${what}: ${a} vs ${b} (4 significant digits)`);
}

/** Simulates GARCH(1,1) returns (after a 500-point burn-in). */
function simulate(n: number, p: GarchParams, seed: number): Float64Array {
  return simulateGarch(p, seededNormals(n + 500, 4242, seed));
}

// Published benchmark values (FCP 1996 / McCullough-Renfro 1998).
const DEM = {
  params: { mu: -0.00619041, omega: 0.0107613, alpha: 0.153134, beta: 0.805974 },
  se: { mu: 0.00846, omega: 0.00285, alpha: 0.0265, beta: 0.0336 },
  loglik: -1106.608,
};

function checkDem(fit: GarchFit): void {
  assert.equal(fit.status, "converged", fit.message ?? "");
  assert.equal(fit.nobs, 1974);
  for (const k of KEYS) {
    sig4(fit.params![k], DEM.params[k], k);
    // The published standard errors have 3 significant digits.
    const se = fit.se![k];
    assert.ok(
      Math.abs(se - DEM.se[k]) <= 0.5 * 10 ** (Math.floor(Math.log10(DEM.se[k])) - 2),
      `se ${k}: ${se}`,
    );
  }
  sig4(fit.loglik!, DEM.loglik, "log-likelihood");
  assert.ok(Math.abs(fit.loglik! - DEM.loglik) < 5e-4);
  assert.ok(Math.abs(fit.persistence! - (fit.params!.alpha + fit.params!.beta)) < 1e-15);
  assert.ok(Math.abs(fit.half_life! - Math.log(0.5) / Math.log(fit.persistence!)) < 1e-12);
  assert.ok(Math.abs(fit.aic! - (-2 * fit.loglik! + 8)) < 1e-9);
  assert.ok(Math.abs(fit.bic! - (-2 * fit.loglik! + 4 * Math.log(1974))) < 1e-9);
  // Bollerslev-Wooldridge robust standard errors are larger here (fat tails); published by e.g. ARCHModels.jl:
  // 0.00920, 0.00649, 0.0537, 0.0725.
  const robust = [0.0092, 0.00649, 0.0537, 0.0725];
  KEYS.forEach((k, i) => assert.ok(Math.abs(fit.robust_se![k] / robust[i] - 1) < 0.01, `robust se ${k}`));
}

Deno.test("DEM/GBP benchmark, CPU (f64): published estimates, LL and standard errors", async () => {
  const fit = fitGarchCpu(await demGbp());
  assert.equal(fit.backend, "cpu");
  checkDem(fit);
});

Deno.test("DEM/GBP benchmark, WebGPU search + f64 finish: the same", opts, async () => {
  const [fit] = await fitGarchGpu(gpu, [await demGbp()]);
  assert.equal(fit.backend, "webgpu");
  checkDem(fit);
  // Both paths reach the same optimum: within 1e-4 standard errors.
  const cpu = fitGarchCpu(await demGbp());
  for (const k of KEYS) assert.ok(Math.abs(fit.params![k] - cpu.params![k]) < 1e-4 * cpu.se![k], k);
});

Deno.test("the shared benchmark file and the fixture copy are the same data", async () => {
  const shared = new URL("../../shared/data/dem2gbp.csv", import.meta.url);
  let a: string;
  try {
    a = await Deno.readTextFile(shared);
  } catch {
    console.log("../shared/data/dem2gbp.csv not found; skipping the comparison with the fixture copy");
    return;
  }
  assert.equal(
    a.trim(),
    (await Deno.readTextFile(new URL("./fixtures/dem2gbp.csv", import.meta.url))).trim(),
  );
});

Deno.test(
  "R fGarch::garchFit on simulated data: same estimates, LL and close standard errors",
  opts,
  async () => {
    const fx = JSON.parse(await Deno.readTextFile(new URL("./fixtures/garch_fgarch.json", import.meta.url)));
    const r = Float64Array.from(fx.returns as number[]);
    const fits = [fitGarchCpu(r), ...(await fitGarchGpu(gpu, [r]))];
    for (const fit of fits) {
      assert.equal(fit.status, "converged");
      for (const k of KEYS) {
        // fGarch's optimiser (nlminb) stops within ~1e-5 standard errors of the optimum we find.
        assert.ok(Math.abs(fit.params![k] - fx.params[k]) < 1e-3 * fx.se[k], `${fit.backend} ${k}`);
        // fGarch's standard errors come from a finite-difference Hessian: within 1%.
        assert.ok(
          Math.abs(fit.se![k] / fx.se[k] - 1) < 0.01,
          `${fit.backend} se ${k}: ${fit.se![k]} vs ${fx.se[k]}`,
        );
      }
      assert.ok(Math.abs(fit.loglik! - fx.loglik) < 1e-5, `${fit.backend} LL ${fit.loglik} vs ${fx.loglik}`);
    }
  },
);

Deno.test(
  "simulated GARCH(1,1) series: known parameters recovered within 3 standard errors",
  opts,
  async () => {
    const truths: GarchParams[] = [
      { mu: 0.01, omega: 0.02, alpha: 0.08, beta: 0.9 },
      { mu: -0.05, omega: 0.2, alpha: 0.15, beta: 0.6 },
      { mu: 0.0, omega: 1e-6, alpha: 0.05, beta: 0.94 }, // tiny scale: the host rescaling handles it
      { mu: 3.0, omega: 0.5, alpha: 0.3, beta: 0.5 },
    ];
    const series = truths.map((p, i) => simulate(5000, p, i));
    const gpuFits = await fitGarchGpu(gpu, series);
    series.forEach((r, i) => {
      const cpu = fitGarchCpu(r);
      for (const fit of [cpu, gpuFits[i]]) {
        assert.equal(fit.status, "converged", `${fit.backend} series ${i}: ${fit.message}`);
        for (const k of KEYS) {
          const z = (fit.params![k] - truths[i][k]) / fit.se![k];
          assert.ok(Math.abs(z) < 3, `${fit.backend} series ${i} ${k}: z = ${z.toFixed(2)}`);
        }
        for (const k of KEYS) {
          assert.ok(Math.abs(fit.params![k] - cpu.params![k]) <= 1e-4 * cpu.se![k], `paths agree, ${i} ${k}`);
        }
      }
    });
  },
);

Deno.test("analytic gradient and Hessian match central differences of the f64 log-likelihood", () => {
  const r = simulate(1500, { mu: 0.1, omega: 0.05, alpha: 0.1, beta: 0.85 }, 9);
  const p = prepareSeries(r, 1e9);
  assert.ok(!("status" in p));
  for (const init of ["sample", "backcast"] as const) {
    const th = Float64Array.of(0.03, 0.08, 0.12, 0.8);
    const ev = garchEvalFull(p.x, th, ...presample(p, init, th[0]));
    const ll = (t: Float64Array) => garchLogLik(p.x, t, presample(p, init, t[0])[0]);
    const grad = (t: Float64Array) => {
      const [b, db] = presample(p, init, t[0]);
      return garchEvalGrad(p.x, t, b, db).g;
    };
    assert.ok(Math.abs(ev.ll - ll(th)) < 1e-9 * Math.abs(ev.ll));
    const tri = [[0], [1, 2], [3, 4, 5], [6, 7, 8, 9]];
    for (let i = 0; i < 4; i++) {
      const h = 1e-6;
      const up = th.slice(), dn = th.slice();
      up[i] += h;
      dn[i] -= h;
      const fd = (ll(up) - ll(dn)) / (2 * h);
      assert.ok(
        Math.abs(fd - ev.g[i]) < 1e-4 * (1 + Math.abs(ev.g[i])),
        `${init} gradient ${i}: ${fd} vs ${ev.g[i]}`,
      );
      assert.ok(Math.abs(grad(th)[i] - ev.g[i]) < 1e-9 * (1 + Math.abs(ev.g[i])));
      const gu = grad(up), gd = grad(dn);
      for (let j = 0; j <= i; j++) {
        const fdh = (gu[j] - gd[j]) / (2 * h), an = ev.h[tri[i][j]];
        assert.ok(
          Math.abs(fdh - an) < 1e-5 * (1 + Math.abs(an)),
          `${init} Hessian ${i}${j}: ${fdh} vs ${an}`,
        );
      }
    }
  }
});

Deno.test("statuses, not crashes: constant, too short, NaN gaps, all NaN, iteration cap", opts, async () => {
  const good = simulate(3000, { mu: 0, omega: 0.05, alpha: 0.1, beta: 0.85 }, 3);
  const gapped = good.slice();
  for (let i = 100; i < 140; i++) gapped[i] = NaN;
  const inputs = [
    new Float64Array(500).fill(0.25),
    good.slice(0, 99),
    new Float64Array(300).fill(NaN),
    new Float64Array(0),
    gapped,
  ];
  for (const fits of [inputs.map((r) => fitGarchCpu(r)), await fitGarchGpu(gpu, inputs)]) {
    assert.deepEqual(fits.map((f) => f.status), [
      "constant",
      "too_short",
      "too_short",
      "too_short",
      "converged",
    ]);
    assert.equal(fits[0].params, null);
    assert.equal(fits[1].nobs, 99);
    assert.equal(fits[4].nobs, 2960); // NaNs are skipped
    JSON.stringify(fits); // JSON-safe
  }
  const capped = fitGarchCpu(good, { maxIter: 1 });
  assert.equal(capped.status, "not_converged");
  assert.ok(capped.params && capped.message);
  const [cappedGpu] = await fitGarchGpu(gpu, [good], { maxIter: 1 });
  assert.equal(cappedGpu.status, "not_converged");
  // max_samples: the fit uses the last N finite points.
  const last = fitGarchCpu(good, { maxSamples: 1000 });
  const direct = fitGarchCpu(good.slice(2000));
  assert.equal(last.nobs, 1000);
  assert.equal(last.loglik, direct.loglik);
});

Deno.test(
  "an optimum on the alpha + beta bound: the search moves along it and converges there",
  opts,
  async () => {
    // Variance trending up through the sample: the likelihood rises towards alpha + beta = 1. (The search used
    // to land every projected step back on the bound and stop "not_converged".)
    const series = [2, 4, 6].map((k) =>
      seededNormals(3000, 7, k).map((z, t) => z * Math.exp((k * t) / 3000))
    );
    const gpuFits = await fitGarchGpu(gpu, series);
    series.forEach((r, i) => {
      for (const fit of [fitGarchCpu(r), gpuFits[i]]) {
        assert.equal(fit.status, "converged", `${fit.backend} ${i}: ${fit.message}`);
        assert.ok(
          Math.abs(fit.persistence! - PERSISTENCE_MAX) < 1e-12,
          `${fit.backend} ${i}: ${fit.persistence}`,
        );
        const { mu, omega, alpha, beta } = fit.params!;
        const ll = (a: number, b: number) => {
          let s2 = 0;
          r.forEach((v) => (s2 += (v - mu) ** 2));
          return garchLogLik(r, [mu, omega, a, b], s2 / r.length);
        };
        assert.ok(Math.abs(ll(alpha, beta) - fit.loglik!) < 1e-9 * Math.abs(fit.loglik!));
        // Feasible moves (along the bound, or inside it) lose likelihood.
        for (const [da, db] of [[1e-3, -1e-3], [-1e-3, 1e-3], [0, -1e-3], [-1e-3, 0]]) {
          assert.ok(ll(alpha + da, beta + db) < fit.loglik!, `${fit.backend} ${i}: move (${da}, ${db})`);
        }
      }
    });
  },
);

Deno.test(
  "fitGarch: the WebGPU search + f64 finish and the CPU path reach the same optimum",
  opts,
  async () => {
    // 8 series of different lengths in one batched search; the f64 finish makes the GPU's f32 noise vanish.
    const series = Array.from(
      { length: 8 },
      (_, i) => simulate(4000 + 317 * i, { mu: 0.02, omega: 0.03, alpha: 0.07, beta: 0.9 }, 20 + i),
    );
    const fits = await fitGarch(series, {}, { choice: "webgpu", gpu });
    const cpu = await fitGarch(series, {}, { choice: "cpu", gpu: null });
    fits.forEach((f, i) => {
      assert.equal(f.status, "converged");
      assert.equal(f.backend, "webgpu");
      assert.equal(cpu[i].backend, "cpu");
      assert.ok(Math.abs(f.loglik! - cpu[i].loglik!) < 1e-8 * Math.abs(cpu[i].loglik!));
    });
  },
);

Deno.test("no look-ahead: the volatility at t depends on returns before t only", () => {
  const r = simulate(2000, { mu: 0.01, omega: 0.02, alpha: 0.08, beta: 0.9 }, 11);
  const p = { mu: 0.01, omega: 0.02, alpha: 0.08, beta: 0.9 };
  const full = garchFilter(r, p);
  const head = garchFilter(r.subarray(0, 1000), p);
  assert.deepEqual(Array.from(head), Array.from(full.subarray(0, 1000)));
  // Changing r_t changes sigma at t + 1 onwards, never at t or before.
  const bumped = r.slice();
  bumped[700] += 5;
  const b = garchFilter(bumped, p);
  assert.deepEqual(Array.from(b.subarray(0, 701)), Array.from(full.subarray(0, 701)));
  assert.notEqual(b[701], full[701]);
  // A missing return keeps sigma defined and advances with E[e^2] = s2.
  const gap = r.slice();
  gap[900] = NaN;
  const g = garchFilter(gap, p);
  assert.ok(Number.isFinite(g[900]) && Number.isFinite(g[901]));
  assert.ok(Math.abs(g[901] ** 2 - (p.omega + (p.alpha + p.beta) * g[900] ** 2)) < 1e-12);
});

Deno.test("garch_models engine, in_sample mode: one fit per column filters every row", opts, async () => {
  // The engine's default is now walk_forward (tests/garch_walk_forward_test.ts); in_sample keeps the old output.
  const r = simulate(3000, { mu: 0.001, omega: 0.0005, alpha: 0.06, beta: 0.92 }, 5);
  const close = new Float64Array(r.length + 1);
  close[0] = 100;
  r.forEach((v, i) => (close[i + 1] = close[i] * Math.exp(v / 100)));
  const flat = new Float64Array(close.length).fill(50);
  const frame = makeFrame("mem", close.length, new Map([["close", close], ["flat", flat]]));
  const cfg = {
    columns: ["close", "flat"],
    p: 1,
    q: 1,
    max_iter: 1000,
    max_samples: 2000,
    mode: "in_sample" as const,
    window: 10000,
    refit_every: 1000,
    min_samples: 1000,
  };
  for (const compute of [{ choice: "cpu" as const, gpu: null }, { choice: "webgpu" as const, gpu }]) {
    const res = await garchModels(frame, cfg, compute);
    const vol = res.columns.get("close_garch_vol")!;
    assert.equal(vol.length, frame.rows);
    assert.ok(Number.isNaN(vol[0]));
    const fits = res.report.columns;
    assert.equal(fits.close.status, "converged");
    assert.equal(fits.close.nobs, 2000);
    assert.equal(fits.close.refits, 1);
    assert.deepEqual(Array.from(vol), Array.from(garchFilter(percentLogReturns(close), fits.close.params!)));
    assert.equal(fits.flat.status, "constant");
    assert.equal(fits.flat.refits_failed, 1);
    assert.ok(res.columns.get("flat_garch_vol")!.every(Number.isNaN));
  }
  await assert.rejects(
    () => garchModels(frame, { ...cfg, p: 2 }, { choice: "cpu", gpu: null }),
    /GARCH\(1,1\)/,
  );
});

Deno.test("kernel garch via the CLI prints the fit as JSON (both backends)", opts, async () => {
  const dir = await Deno.makeTempDir();
  const input = new URL("./fixtures/dem2gbp.csv", import.meta.url).pathname;
  for (const backend of ["cpu", "webgpu"]) {
    const out = join(dir, `garch-${backend}.json`);
    const code = await main([
      "kernel",
      "garch",
      "--input",
      input,
      "--column",
      "dem2gbp",
      "--returns",
      "false",
      "--max-samples",
      "10000",
      "--backend",
      backend,
      "--output",
      out,
    ]);
    assert.equal(code, 0);
    const doc = JSON.parse(await Deno.readTextFile(out));
    assert.equal(doc.kernel, "garch");
    assert.equal(doc.rows, 1974);
    checkDem(doc.result);
  }
  assert.equal(await main(["kernel", "garch", "--input", input, "--column", "dem2gbp", "--init", "x"]), 2);
  assert.equal(await main(["kernel", "garch", "--input", input, "--column", "nope"]), 2);
});
