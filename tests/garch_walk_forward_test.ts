/**
 * The garch_models engine's walk-forward mode (the default): no look-ahead (truncating the input at any row,
 * refit rows included, leaves every earlier row bit-identical on the CPU path and within the f32 search's
 * reach on WebGPU), one refit on an expanding window equals a single fit on the returns before the first
 * value, with the variance recursion started as the README says; NaN before min_samples returns; failed
 * refits; warm starts; the in_sample option's warning; the features.garch config keys.
 */
import { strict as assert } from "node:assert";
import type { GarchEngineConfig } from "../engines/garch.ts";
import { garchConfig, garchVol, pricesFromReturns } from "./garch_check.ts";
import { seededNormals } from "../runtime/rng.ts";
import { fitGarchCpu, type GarchFit, percentLogReturns, walkForwardRefits } from "../kernels/garch.ts";
import { simulateGarch } from "../kernels/garch_core.ts";
import { validateConfig } from "../config/schema.ts";
import { type Compute, sharedGpu } from "../runtime/backend.ts";
import { setLogLevel, setLogSink } from "../runtime/log.ts";

setLogLevel("error");
const gpu = await sharedGpu();
const opts = { sanitizeResources: false, sanitizeOps: false };
const CPU: Compute = { choice: "cpu", gpu: null };
const GPU: Compute = { choice: "webgpu", gpu };

/** Close prices from simulated GARCH(1,1) percent returns; `gaps` rows get a NaN price (two NaN returns each). */
function prices(n: number, seed: number, gaps: number[] = []): Float64Array {
  const r = simulateGarch(
    { mu: 0.01, omega: 0.02, alpha: 0.08, beta: 0.9 },
    seededNormals(n + 499, 77, seed),
  );
  const close = pricesFromReturns(r, n);
  for (const g of gaps) close[g] = NaN;
  return close;
}

const BASE = garchConfig({ window: 1500, refit_every: 700, min_samples: 500 });
const vol = garchVol;

/** Cut rows: the first value's row and every refit row, each -1 / +0 / +1, points between refits, the last rows. */
function cutRows(close: Float64Array, cfg: GarchEngineConfig): number[] {
  const refits = walkForwardRefits(percentLogReturns(close), {
    window: cfg.window,
    refitEvery: cfg.refit_every,
    minSamples: cfg.min_samples,
  });
  const rows = refits.flatMap((f) => [f.row - 1, f.row, f.row + 1, f.row + 350]);
  return [...new Set([250, ...rows, close.length - 2])].filter((c) => c > 0 && c < close.length - 1);
}

for (const window of [1500, "expanding"] as const) {
  Deno.test(`walk_forward (window ${window}), CPU: truncating the input leaves every earlier row bit-identical`, async () => {
    const close = prices(4000, 1, [1234, 2100, 2101, 2800]);
    const cfg = { ...BASE, window };
    const full = await vol(close, cfg, CPU);
    assert.equal(full.report.columns.close.refits, 5); // rows 501, 1201, 1901, 2601, 3301
    assert.equal(full.report.columns.close.refits_failed, 0);
    const cuts = cutRows(close, cfg);
    assert.ok(cuts.length >= 20);
    for (const cut of cuts) {
      const head = await vol(close.subarray(0, cut + 1), cfg, CPU);
      // Strict deepEqual compares with Object.is: NaN rows must stay NaN, values must match to the bit.
      assert.deepEqual(Array.from(head.vol), Array.from(full.vol.subarray(0, cut + 1)), `cut at row ${cut}`);
    }
  });
}

Deno.test(
  "walk_forward, WebGPU: truncations agree within the f32 search's tolerance, and with the CPU path",
  opts,
  async () => {
    const close = prices(4000, 2, [1500]);
    const full = await vol(close, BASE, GPU);
    assert.equal(full.report.columns.close.backend, "webgpu");
    const cpu = await vol(close, BASE, CPU);
    // Both paths end with f64 Newton steps to a decrement below 1e-10 (from different starts: the grid on the
    // GPU, the previous refit on the CPU): estimates agree far below their standard errors, sigma to 1e-6
    // relative (1e-7 measured on llvmpipe). A refit's search depends on its own window only, so truncations
    // are bit-identical there too; the tolerance leaves room for other adapters.
    const close6 = (a: Float64Array, b: Float64Array, what: string) =>
      a.forEach((v, i) =>
        assert.ok(
          Object.is(v, b[i]) || Math.abs(v - b[i]) <= 1e-6 * Math.abs(b[i]),
          `${what}, row ${i}: ${v} vs ${b[i]}`,
        )
      );
    close6(full.vol, cpu.vol, "WebGPU vs CPU");
    for (const cut of [BASE.min_samples + 1, 1200, 1201, 1901, 2500, 3300, 3999]) {
      const head = await vol(close.subarray(0, cut + 1), BASE, GPU);
      close6(head.vol, full.vol.subarray(0, cut + 1), `WebGPU, cut at row ${cut}`);
    }
  },
);

Deno.test("expanding window, one refit: the single fit on the returns before the first value, recursion from its start", async () => {
  const close = prices(3000, 3);
  const cfg = { ...BASE, window: "expanding" as const, refit_every: 1e9, min_samples: 800 };
  const { vol: v, report } = await vol(close, cfg, CPU);
  const r = percentLogReturns(close);
  // r_0 is NaN (no previous price): the 800th return is r_800, so row 801 is the first value.
  const t0 = cfg.min_samples + 1;
  const col = report.columns.close;
  assert.equal(col.refits, 1);
  assert.equal(col.first_row, t0);
  assert.equal(col.last_refit_row, t0);
  assert.ok(v.subarray(0, t0).every(Number.isNaN));
  const single = fitGarchCpu(r.subarray(0, t0));
  assert.equal(single.nobs, cfg.min_samples);
  assert.deepEqual(col.params, single.params);
  assert.deepEqual(col.se, single.se);
  assert.equal(col.loglik, single.loglik);
  // The README's recursion, written out: e_0^2 = s2_0 = B, the mean squared residual of the window
  // r_1..r_800 at the fitted mu; s2_t = omega + alpha e_{t-1}^2 + beta s2_{t-1} through the window (its
  // log-likelihood is the fit's) and on: sigma_t = sqrt(s2_t) for t >= 801.
  const { mu, omega, alpha, beta } = single.params!;
  let b = 0;
  for (let t = 1; t < t0; t++) b += (r[t] - mu) ** 2;
  b /= t0 - 1;
  let h = b, e2 = b, ll = 0;
  for (let t = 1; t < close.length; t++) {
    h = omega + alpha * e2 + beta * h;
    const e = r[t] - mu;
    if (t < t0) ll -= 0.5 * (Math.log(2 * Math.PI) + Math.log(h) + (e * e) / h);
    else {assert.ok(
        Math.abs(v[t] - Math.sqrt(h)) <= 1e-12 * Math.sqrt(h),
        `row ${t}: ${v[t]} vs ${Math.sqrt(h)}`,
      );}
    e2 = e * e;
  }
  assert.ok(Math.abs(ll - single.loglik!) <= 1e-9 * Math.abs(single.loglik!), `LL ${ll} vs ${single.loglik}`);
});

Deno.test(
  "NaN until min_samples finite returns; too few returns give an all-NaN column and status too_short",
  opts,
  async () => {
    // Gaps remove returns: the first value is the row after the min_samples-th finite return.
    const close = prices(1500, 4, [100, 101, 300]);
    const r = percentLogReturns(close);
    let seen = 0, t0 = 0;
    while (seen < BASE.min_samples) if (Number.isFinite(r[t0++])) seen++;
    for (const compute of [CPU, GPU]) {
      const { vol: v, report } = await vol(close, BASE, compute);
      assert.ok(v.subarray(0, t0).every(Number.isNaN), "NaN before min_samples returns");
      assert.ok(Number.isFinite(v[t0]));
      assert.equal(report.columns.close.first_row, t0);
      const short = await vol(close.subarray(0, t0), BASE, compute);
      assert.ok(short.vol.every(Number.isNaN));
      assert.equal(short.report.columns.close.status, "too_short");
      assert.equal(short.report.columns.close.refits, 0);
    }
  },
);

Deno.test("a refit without estimates leaves its rows to the previous refit; the report counts it", async () => {
  // Refits at rows 401, 801, ..., 2801; returns r_401..r_800 are 0, so the refit at 801 sees a constant window
  // and rows 801..1200 are served by the refit at 401, its recursion continued.
  const close = prices(3200, 5);
  close.fill(close[400], 401, 801);
  const cfg = { ...BASE, window: 400, refit_every: 400, min_samples: 400 };
  const { vol: v, report } = await vol(close, cfg, CPU);
  const col = report.columns.close;
  assert.equal(col.refits, 7);
  assert.equal(col.refits_failed, 1);
  assert.equal(col.status, "converged");
  assert.ok(v.subarray(401).every(Number.isFinite));
  // Bit for bit what a schedule without the refit at 801 gives (the refit at 401 is the first in both).
  const alone = await vol(close, { ...cfg, refit_every: 800 }, CPU);
  assert.equal(alone.report.columns.close.refits_failed, 0);
  assert.deepEqual(Array.from(v.subarray(0, 1201)), Array.from(alone.vol.subarray(0, 1201)));
});

Deno.test("warm starts: each CPU refit from the previous estimates reaches the cold fit's optimum in fewer iterations", () => {
  const r = percentLogReturns(prices(8000, 6));
  const refits = walkForwardRefits(r, { window: 2000, refitEvery: 500, minSamples: 1000 });
  let prev: GarchFit | null = null, warmIt = 0, coldIt = 0;
  for (const f of refits) {
    const w = r.subarray(f.lo, f.row);
    const cold = fitGarchCpu(w), warm = fitGarchCpu(w, {}, prev?.params);
    assert.equal(warm.status, "converged");
    assert.ok(Math.abs(warm.loglik! - cold.loglik!) <= 1e-9 * Math.abs(cold.loglik!));
    warmIt += warm.iterations;
    coldIt += cold.iterations;
    prev = warm;
  }
  assert.ok(warmIt < coldIt, `warm ${warmIt} vs cold ${coldIt} iterations`);
});

Deno.test("in_sample mode logs that it looks ahead; walk_forward does not", async () => {
  const close = prices(1500, 7);
  const warnings: string[] = [];
  const prevSink = setLogSink((level, msg) => level === "warn" && warnings.push(msg));
  setLogLevel("warn");
  try {
    await vol(close, BASE, CPU);
    assert.deepEqual(warnings, []);
    const res = await vol(close, { ...BASE, mode: "in_sample" }, CPU);
    assert.equal(res.report.mode, "in_sample");
    assert.equal(res.report.columns.close.refits, 1);
    assert.ok(warnings.some((m) => /in_sample.*looks ahead/.test(m)), warnings.join("\n"));
  } finally {
    setLogSink(prevSink);
    setLogLevel("error");
  }
});

Deno.test("config: features.garch walk-forward keys, defaults and errors naming the key", () => {
  const garch = (g: unknown) =>
    validateConfig({ features: { garch: g } }, { env: () => undefined }).features.garch;
  const d = garch({});
  assert.equal(d.mode, "walk_forward");
  assert.equal(d.window, 10000);
  assert.equal(d.refit_every, 1000);
  assert.equal(d.min_samples, 1000);
  assert.equal(garch({ window: "expanding" }).window, "expanding");
  assert.equal(garch({ window: 250, mode: "in_sample" }).window, 250);
  const env = (k: string) => ({ W: "expanding", R: "50" } as Record<string, string>)[k];
  const sub = validateConfig({ features: { garch: { window: "${W}", refit_every: "${R}" } } }, { env });
  assert.equal(sub.features.garch.window, "expanding");
  assert.equal(sub.features.garch.refit_every, 50);
  const bad: [unknown, RegExp][] = [
    [
      { window: "rolling" },
      /features\.garch\.window: expected an integer in \[100, 10000000\] or "expanding", got "rolling"/,
    ],
    [
      { window: 50 },
      /features\.garch\.window: expected an integer in \[100, 10000000\] or "expanding", got 50/,
    ],
    [{ mode: "causal" }, /features\.garch\.mode: expected one of "walk_forward", "in_sample", got "causal"/],
    [{ refit_every: 0 }, /features\.garch\.refit_every: expected an integer in \[1, 10000000\], got 0/],
    [{ min_samples: 99 }, /features\.garch\.min_samples: expected an integer in \[100, 10000000\], got 99/],
    [{ refit_every: 1.5 }, /features\.garch\.refit_every/],
    [{ every: 5 }, /unknown key features\.garch\.every/],
  ];
  for (const [g, re] of bad) assert.throws(() => garch(g), re);
});
