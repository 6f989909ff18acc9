/**
 * The Baxter-King kernel against statsmodels' bkfilter (tests/fixtures/bk_statsmodels.json, made by
 * scripts/make_bk_fixture.py): weights and the symmetric output on the f64 path and on WebGPU, the causal
 * mode as the symmetric output lagged by k, no look-ahead in causal mode (and look-ahead in the others), the
 * band-pass on a sum of sinusoids (periods 4, 12, 60), edge filling, parameter errors, and the
 * feature-engineering engine.
 */
import { strict as assert } from "node:assert";
import {
  bkColumnName,
  engineerFeatures,
  FEATURE_ENGINEERING_DEFAULTS,
} from "../engines/feature_engineering.ts";
import { main } from "../cli/main.ts";
import { makeFrame } from "../io/frame.ts";
import { bk, bkCpu, bkGpu, type BkParams, bkWeights } from "../kernels/baxter_king.ts";
import { parseParams } from "../kernels/kernel.ts";
import { KERNELS } from "../kernels/registry.ts";
import { defaultConfig, validateConfig } from "../config/schema.ts";
import { enabledEngines } from "../pipeline/engines.ts";
import { openCompute } from "../runtime/backend.ts";
import { sharedGpu } from "../runtime/backend.ts";
import { setLogLevel } from "../runtime/log.ts";
import { assertClose, inputScale, logPrice, price1e4, withGaps } from "./data.ts";

setLogLevel("error");
const opts = { sanitizeResources: false, sanitizeOps: false };
const gpu = await sharedGpu();

interface BkFixture {
  generator: string;
  weights: { low: number; high: number; k: number; w: number[] }[];
  series: { name: string; x: number[]; outputs: { low: number; high: number; k: number; y: number[] }[] }[];
}
const fixture: BkFixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/bk_statsmodels.json", import.meta.url)),
);

const params = (low: number, high: number, k: number, more: Partial<BkParams> = {}): BkParams =>
  parseParams(bk, { low, high, k, ...more });

/** statsmodels' output (n - 2k points) placed at its centres in a length-n series, NaN elsewhere. */
function statsmodelsFull(n: number, k: number, y: number[]): Float64Array {
  const out = new Float64Array(n).fill(NaN);
  out.set(y, k);
  return out;
}

/** Largest |a - b| over the points where both are numbers (and the same points are NaN). */
function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    assert.equal(Number.isNaN(a[i]), Number.isNaN(b[i]), `NaN mismatch at ${i}`);
    if (!Number.isNaN(a[i])) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
  return worst;
}

Deno.test("bk is registered with --low --high --k --mode --fill", () => {
  assert.equal(KERNELS.get("bk"), bk);
  assert.deepEqual(Object.keys(bk.params), ["low", "high", "k", "mode", "fill"]);
  const p = parseParams(bk, {});
  assert.deepEqual(p, { low: 6, high: 32, k: 12, mode: "causal", fill: false });
  assert.equal(bk.causal(p), true);
  assert.equal(bk.causal({ ...p, mode: "symmetric" }), false);
  assert.equal(bk.causal({ ...p, fill: true }), false);
  assert.equal(bk.history(p), 24);
});

Deno.test("bk weights equal statsmodels' (to 1e-16) and sum to zero", () => {
  assert.equal(fixture.weights.length, 2);
  for (const { low, high, k, w } of fixture.weights) {
    const ours = bkWeights(low, high, k);
    assert.equal(ours.length, 2 * k + 1);
    // Math.sin and numpy's sin differ in the last bit for a few j: ~5.6e-17 measured.
    assertClose(ours, Float64Array.from(w), { atol: 1e-16, rtol: 0 }, `weights ${low} ${high} ${k}`);
    assert.ok(Math.abs(ours.reduce((a, b) => a + b, 0)) < 1e-15, "weights do not sum to zero");
    for (let j = 0; j < k; j++) assert.equal(ours[j], ours[2 * k - j], "weights are not symmetric");
  }
});

Deno.test("bk symmetric (f64) equals statsmodels' bkfilter to 1e-14, NaN for the first and last k", () => {
  for (const s of fixture.series) {
    const x = Float64Array.from(s.x);
    for (const o of s.outputs) {
      const ours = bkCpu(x, params(o.low, o.high, o.k, { mode: "symmetric" }));
      const ref = statsmodelsFull(x.length, o.k, o.y);
      // statsmodels convolves by FFT: its own rounding is ~1e-15 |x|; measured worst 3.6e-15 (log price ~9).
      const err = maxAbsDiff(ours, ref);
      assert.ok(err <= 1e-14, `${s.name} (${o.low}, ${o.high}, ${o.k}): |err| ${err.toExponential(2)}`);
      assert.ok(
        ours.subarray(0, o.k).every(Number.isNaN) && ours.subarray(x.length - o.k).every(Number.isNaN),
      );
    }
  }
});

Deno.test(
  "bk symmetric on WebGPU equals statsmodels' bkfilter within the kernel tolerance",
  opts,
  async () => {
    for (const o of fixture.series[0].outputs) {
      const xs = fixture.series.map((s) => Float64Array.from(s.x));
      const outs = await bkGpu(gpu, xs, params(o.low, o.high, o.k, { mode: "symmetric" }));
      fixture.series.forEach((s, i) => {
        const y = s.outputs.find((q) => q.low === o.low && q.high === o.high && q.k === o.k)!.y;
        const what = `${s.name} (${o.low}, ${o.high}, ${o.k}) WebGPU vs statsmodels`;
        assertClose(outs[i], statsmodelsFull(xs[i].length, o.k, y), bk.tolerance, what, inputScale([xs[i]]));
      });
    }
  },
);

Deno.test("bk causal is the symmetric output lagged by k (f64 and WebGPU)", opts, async () => {
  const xs = [logPrice(3000, 41), withGaps(3000, 42), price1e4(1000, 43)];
  for (const [low, high, k] of [[6, 32, 12], [6, 24, 30], [2, 8, 1]]) {
    const sym = params(low, high, k, { mode: "symmetric" }), cau = params(low, high, k);
    const gs = await bkGpu(gpu, xs, sym), gc = await bkGpu(gpu, xs, cau);
    xs.forEach((x, i) => {
      const s = bkCpu(x, sym), c = bkCpu(x, cau);
      for (let t = 0; t < x.length; t++) {
        const lagged = t >= k ? s[t - k] : NaN;
        assert.ok(Object.is(c[t], lagged), `f64 causal[${t}] = ${c[t]}, symmetric[${t - k}] = ${lagged}`);
        const gl = t >= k ? gs[i][t - k] : NaN;
        assert.ok(Object.is(gc[i][t], gl), `WebGPU causal[${t}] = ${gc[i][t]}, symmetric[${t - k}] = ${gl}`);
      }
      assert.ok(c.subarray(0, 2 * k).every(Number.isNaN), "causal warm-up is not NaN");
    });
  }
});

Deno.test("bk causal does not look ahead; symmetric and filled outputs do", opts, async () => {
  const n = 2000, t = 1000;
  const base = logPrice(n, 51);
  const changed = base.map((v, i) => (i <= t ? v : 50 + 100 * Math.sin(i)));
  const p = params(6, 32, 12);
  for (
    const [name, run] of [
      ["f64", (x: Float64Array, q: BkParams) => Promise.resolve(bkCpu(x, q))],
      ["WebGPU", async (x: Float64Array, q: BkParams) => (await bkGpu(gpu, [x], q))[0]],
    ] as const
  ) {
    const [a, b] = [await run(base, p), await run(changed, p)];
    assert.deepEqual(b.subarray(0, t + 1), a.subarray(0, t + 1), `${name} causal looks ahead`);
    assert.ok(b[t + 1] !== a[t + 1], `${name}: the change had no effect`);
    // The symmetric filter uses k points after t, so outputs t-k+1..t move; a filled series moves its warm-up.
    const sym = params(6, 32, 12, { mode: "symmetric" });
    const [sa, sb] = [await run(base, sym), await run(changed, sym)];
    assert.ok(sb[t] !== sa[t] && sb[t - 12] === sa[t - 12], `${name}: symmetric should look exactly k ahead`);
    const fill = params(6, 32, 12, { fill: true });
    // Row 0 of a filled causal series is the output at 2k = 24, so it moves when x_24 does.
    const short = base.subarray(0, 30), shortChanged = short.map((v, i) => (i < 24 ? v : v + 1));
    const [fa, fb] = [await run(short, fill), await run(shortChanged, fill)];
    assert.ok(fa[0] !== fb[0], `${name}: the backward fill should copy a later output into row 0`);
  }
});

Deno.test("bk keeps period 12 and removes periods 4 and 60 (sinusoids)", () => {
  const s = fixture.series.find((q) => q.name.startsWith("sinusoids"))!;
  const x = Float64Array.from(s.x);
  const comps = [{ period: 4, phase: 0.5 }, { period: 12, phase: 1 }, { period: 60, phase: 2 }];
  // The filter is linear and time-invariant: on sin(w t + phi) it returns G(w) sin(w t + phi) with the gain
  // G(w) = sum_j a_j cos(w j) (the weights are symmetric: no phase shift). Check that exactly, then G.
  const gainsBy: Record<string, number[]> = {};
  for (const [low, high, k] of [[6, 32, 12], [6, 24, 30]]) {
    const w = bkWeights(low, high, k);
    const gains = comps.map(({ period }) =>
      w.reduce((acc, a, m) => acc + a * Math.cos(2 * Math.PI / period * (m - k)), 0)
    );
    gainsBy[`${low},${high},${k}`] = gains;
    const y = bkCpu(x, params(low, high, k, { mode: "symmetric" }));
    const expected = x.map((_, t) =>
      t < k || t >= x.length - k ? NaN : comps.reduce(
        (acc, { period, phase }, i) => acc + gains[i] * Math.sin(2 * Math.PI * t / period + phase),
        0,
      )
    );
    assert.ok(maxAbsDiff(y, expected) < 1e-12, `(${low}, ${high}, ${k}) is not G(w) times each sinusoid`);
    // Causal: the same, delayed by k.
    const c = bkCpu(x, params(low, high, k));
    for (let t = 2 * k; t < x.length; t++) assert.equal(c[t], y[t - k]);
  }
  const [g4, g12, g60] = gainsBy["6,32,12"];
  assert.ok(g12 > 0.96 && g12 < 1.01, `gain at period 12: ${g12}`);
  assert.ok(Math.abs(g4) < 0.04, `gain at period 4: ${g4}`);
  // K = 12 is short for a 60-point cycle: the band edge leaks (Baxter & King's K = 12 trade-off).
  assert.ok(Math.abs(g60) < 0.21, `gain at period 60: ${g60}`);
  const [h4, h12, h60] = gainsBy["6,24,30"];
  assert.ok(
    h12 > 0.99 && Math.abs(h4) < 0.01 && Math.abs(h60) < 0.02,
    `gains (6, 24, 30): ${gainsBy["6,24,30"]}`,
  );
});

Deno.test("bk NaN/Inf in the window gives NaN; fill fills only the edges", () => {
  const x = logPrice(200, 61);
  x[100] = NaN;
  x[150] = Infinity;
  const k = 5;
  const c = bkCpu(x, params(6, 32, k));
  for (let t = 0; t < x.length; t++) {
    const bad = t < 2 * k || (t >= 100 && t <= 100 + 2 * k) || (t >= 150 && t <= 150 + 2 * k);
    assert.equal(Number.isNaN(c[t]), bad, `causal NaN at ${t}`);
  }
  const s = bkCpu(x, params(6, 32, k, { mode: "symmetric", fill: true }));
  assert.ok(s.subarray(0, k + 1).every((v) => v === s[k]), "leading warm-up not backward-filled");
  assert.ok(
    s.subarray(x.length - k - 1).every((v) => v === s[x.length - k - 1]),
    "trailing not forward-filled",
  );
  assert.ok(Number.isNaN(s[100]) && Number.isNaN(s[150]), "interior NaNs must stay NaN");
  const f = bkCpu(x, params(6, 32, k, { fill: true }));
  assert.ok(f.subarray(0, 2 * k).every((v) => v === f[2 * k]), "causal warm-up not filled");
  assert.ok(bkCpu(new Float64Array(0), params(6, 32, k, { fill: true })).length === 0);
  assert.ok(bkCpu(new Float64Array(5).fill(NaN), params(6, 32, k, { fill: true })).every(Number.isNaN));
});

Deno.test("bk parameter errors name the parameter", () => {
  assert.throws(() => bk.cpu([logPrice(100)], params(8, 8, 3)), /low < high/);
  assert.throws(() => parseParams(bk, { mode: "centred" }), /--mode expects one of causal, symmetric/);
  assert.throws(() => parseParams(bk, { low: 1 }), /--low expects a number in \[2, 1000000\], got 1/);
  assert.throws(() => parseParams(bk, { k: 0 }), /--k expects an integer in \[1, 10000\], got 0/);
  assert.throws(() => parseParams(bk, { k: "2.5" }), /--k expects an integer/);
});

Deno.test(
  "feature_engineering engine: <col>_bk_<low>_<high>_<k> of log prices, causal by default",
  opts,
  async () => {
    const n = 3000;
    const close = price1e4(n, 71), open = price1e4(n, 72);
    const frame = makeFrame("test", n, new Map([["close", close], ["open", open]]));
    const cfg = { ...FEATURE_ENGINEERING_DEFAULTS, columns: ["close", "open"] };
    const cpu = await engineerFeatures(frame, cfg, await openCompute({ backend: "cpu" }));
    const web = await engineerFeatures(frame, cfg, await openCompute({ backend: "webgpu" }));
    assert.deepEqual([...cpu.columns.keys()], ["close_bk_6_32_12", "open_bk_6_32_12"]);
    for (const [name, x] of [["close", close], ["open", open]] as const) {
      const logx = x.map(Math.log);
      const ref = bkCpu(logx, params(6, 32, 12));
      const col = bkColumnName(name, cfg.baxter_king);
      assert.deepEqual(cpu.columns.get(col), ref);
      assertClose(web.columns.get(col)!, ref, bk.tolerance, `${col} WebGPU`, inputScale([logx]));
    }
    const report = cpu.report.bk;
    assert.equal(report.causal, true);
    assert.equal(report.mode, "causal");
    assert.deepEqual(report.warmup, { start: 24, end: 0 });
    // NaN counts are the quality table's (pipeline/quality.ts, over the whole series also when chunked).
    const nanRows = (c: string) => cpu.columns.get(c)!.filter(Number.isNaN).length;
    assert.deepEqual([nanRows("close_bk_6_32_12"), nanRows("open_bk_6_32_12")], [24, 24]);
    const sym = await engineerFeatures(
      frame,
      { columns: ["close"], baxter_king: { ...cfg.baxter_king, mode: "symmetric" } },
      await openCompute({ backend: "cpu" }),
    );
    assert.equal(sym.report.bk.causal, false);
    assert.deepEqual(
      sym.columns.get("close_bk_6_32_12"),
      bkCpu(close.map(Math.log), params(6, 32, 12, { mode: "symmetric" })),
    );
  },
);

Deno.test("feature_engineering is wired into the pipeline with config features.baxter_king", () => {
  assert.deepEqual(defaultConfig().features.baxter_king, {
    low_freq: 6,
    high_freq: 32,
    k: 12,
    mode: "causal",
    fill: false,
  });
  const c = validateConfig({
    features: { baxter_king: { mode: "symmetric", k: 8 } },
    pipeline: {
      engines: {
        garch_models: { enabled: false, order: 3 },
        statistical_tests: { enabled: false, order: 4 },
      },
    },
  });
  assert.deepEqual(enabledEngines(c).map((e) => e.name), ["stationarization", "feature_engineering"]);
  assert.equal(c.features.baxter_king.mode, "symmetric");
  assert.throws(
    () => validateConfig({ features: { baxter_king: { mode: "centred" } } }),
    /features\.baxter_king\.mode: expected one of "causal", "symmetric", got "centred"/,
  );
});

Deno.test("kernel bk CLI: low >= high is one clear message and exit code 2", opts, async () => {
  const dir = await Deno.makeTempDir();
  const input = `${dir}/bars.csv`;
  await Deno.writeTextFile(input, "close\n" + Array.from(logPrice(100, 81)).join("\n") + "\n");
  const lines: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    const argv = ["kernel", "bk", "--input", input, "--column", "close", "--low", "10", "--high", "8"];
    assert.equal(await main([...argv, "--backend", "cpu"]), 2);
  } finally {
    console.error = orig;
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(lines.length, 1, lines.join(" | "));
  assert.match(lines[0], /bk: expected periods 2 <= low < high, got low 10, high 8/);
});
