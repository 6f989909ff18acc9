/**
 * Distance correlation (kernels/dcor.ts) against R energy's dcor, bcdcor, dcov and dcor.test
 * (tests/fixtures/dcor_energy.json, made by scripts/make_dcor_fixture.R) on the exact and O(n log n) f64
 * paths and on WebGPU; fast = exact at n = 5000; the conventions (NaN rows, n < 4, constants); the
 * permutation test (same permutations on CPU and GPU, p-values uniform under independence, y = x² + noise
 * detected where Pearson is blind); the circular-shift scheme (shifts equal on the GPU, calibrated where iid
 * permutations are not: an AR(1) feature against overlapping forward sums of an independent series); rolling
 * dCor against per-window dCor, GPU vs f64, and no look-ahead.
 */
import { strict as assert } from "node:assert";
import {
  dcor,
  DCOR_CROSSOVER,
  DCOR_GPU_TOLERANCE,
  dcorExact,
  dcorFast,
  dcorGpu,
  dcorTest,
  dcorTestGpu,
  dependenceRange,
  permutation,
  permutationsGpu,
  rollingDcor,
  rollingDcorCpu,
  rollingDcorGpu,
  type RollingDcorParams,
  shiftBlock,
  shiftPermutation,
} from "../kernels/dcor.ts";
import { parseParams } from "../kernels/kernel.ts";
import { seededNormals } from "../runtime/rng.ts";
import { GpuRuntime } from "../runtime/gpu.ts";
import { setLogLevel } from "../runtime/log.ts";
import { fixtureMatrix, logPrice, returns, withGaps } from "./data.ts";

setLogLevel("error");
const opts = { sanitizeResources: false, sanitizeOps: false };
const gpu = await GpuRuntime.create();

interface Case {
  name: string;
  n: number;
  x: number[];
  y: number[];
  dcor: number;
  dcov2: number;
  bcdcor: number;
  test_statistic: number;
  test_p: number;
  test_R: number;
  pearson: number;
}
const fixture: { energy_version: string; cases: Case[] } = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/dcor_energy.json", import.meta.url)),
);
const pairsOf = (c: Case) => [Float64Array.from(c.x), Float64Array.from(c.y)];
const F64 = 1e-10;

function near(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (tol ${tol})`);
}

Deno.test("exact and O(n log n) f64 paths equal energy's dcor, bcdcor and dcov² to 1e-10", () => {
  assert.equal(fixture.cases.length, 11);
  for (const c of fixture.cases) {
    const [x, y] = pairsOf(c);
    for (const r of [dcorExact(x, y), dcorFast(x, y), dcor(x, y)]) {
      const what = `${c.name} (${r.method})`;
      assert.equal(r.n, c.n);
      near(r.dcor, c.dcor, F64, `${what} dcor`);
      near(r.dcor2_bc, c.bcdcor, F64, `${what} bcdcor`);
      near(r.dcov2, c.dcov2, F64 * Math.max(1, c.dcov2), `${what} dcov2`);
    }
  }
});

Deno.test(
  "WebGPU dcor equals energy within DCOR_GPU_TOLERANCE (one submit for all pairs)",
  opts,
  async () => {
    const res = await dcorGpu(gpu, fixture.cases.map(pairsOf));
    let worst = 0;
    fixture.cases.forEach((c, k) => {
      const r = res[k];
      assert.equal(r.method, "gpu");
      assert.equal(r.n, c.n);
      near(r.dcor, c.dcor, DCOR_GPU_TOLERANCE.atol, `${c.name} dcor`);
      near(r.dcor2_bc, c.bcdcor, DCOR_GPU_TOLERANCE.atol, `${c.name} bcdcor`);
      near(r.dcov2 / c.dcov2, 1, 1e-4, `${c.name} dcov2 (relative)`);
      worst = Math.max(worst, Math.abs(r.dcor - c.dcor), Math.abs(r.dcor2_bc - c.bcdcor));
    });
    // Measured ~4e-7 on llvmpipe: the stated tolerance has a 25x margin.
    assert.ok(worst < DCOR_GPU_TOLERANCE.atol / 10, `worst ${worst}`);
  },
);

Deno.test("the O(n log n) algorithm equals the exact one at n = 5000 to 1e-9 (ties, heavy tails)", () => {
  const n = 5000;
  const x = seededNormals(n, 51), e = seededNormals(n, 52);
  const cases = [
    [x, x.map((v, i) => v * v + 0.5 * e[i])],
    [x.map((v) => Math.round(3 * v)), e.map((v) => Math.round(v))], // many ties in both
    [x.map((v, i) => v / (Math.abs(e[i]) + 1e-3)), e.map((v, i) => v + 0.1 * x[i] ** 3)], // heavy tails
  ];
  for (const [a, b] of cases) {
    const ex = dcorExact(a, b), fa = dcorFast(a, b);
    near(fa.dcor, ex.dcor, 1e-9, "dcor");
    near(fa.dcor2_bc, ex.dcor2_bc, 1e-9, "dcor2_bc");
    near(fa.dcov2 / ex.dcov2, 1, 1e-9, "dcov2");
  }
});

Deno.test("auto picks exact below DCOR_CROSSOVER complete pairs and fast from it on", () => {
  const x = seededNormals(DCOR_CROSSOVER + 5, 3), y = seededNormals(DCOR_CROSSOVER + 5, 4);
  assert.equal(dcor(x.subarray(0, DCOR_CROSSOVER - 1), y.subarray(0, DCOR_CROSSOVER - 1)).method, "exact");
  assert.equal(dcor(x.subarray(0, DCOR_CROSSOVER), y.subarray(0, DCOR_CROSSOVER)).method, "fast");
  // NaN rows do not count: 5 of them bring n + 5 points below the crossover.
  const xn = x.slice(0, DCOR_CROSSOVER + 4);
  xn.fill(NaN, 0, 5);
  assert.equal(dcor(xn, y.subarray(0, DCOR_CROSSOVER + 4)).method, "exact");
});

Deno.test(
  "conventions: NaN rows dropped pairwise, n < 2 NaN, n < 4 NaN dcor2_bc, constant 0, scale-free",
  opts,
  async () => {
    const c = fixture.cases[1]; // independent normals n = 500
    const [x, y] = pairsOf(c);
    const xs = new Float64Array(x.length + 3), ys = new Float64Array(y.length + 3);
    xs.set(x, 3), ys.set(y, 3);
    xs[0] = NaN, ys[1] = Infinity, xs[2] = -Infinity, ys[0] = 1; // three bad rows
    const gpuRes = await dcorGpu(gpu, [
      [xs, ys],
      [new Float64Array([1]), new Float64Array([2])],
      [new Float64Array([1, 2, 4]), new Float64Array([2, 1, 0])],
      [x, new Float64Array(x.length).fill(3.25)],
      [x.map((v) => 1e-12 * v + 3e-12), y.map((v) => 1e12 * v - 5e12)],
    ]);
    for (const r of [dcorExact(xs, ys), dcorFast(xs, ys), gpuRes[0]]) {
      assert.equal(r.n, c.n);
      near(r.dcor, c.dcor, r.method === "gpu" ? DCOR_GPU_TOLERANCE.atol : F64, `${r.method} NaN rows`);
    }
    for (const r of [dcorExact(new Float64Array([1]), new Float64Array([2])), gpuRes[1]]) {
      assert.ok(Number.isNaN(r.dcor) && Number.isNaN(r.dcor2_bc) && r.n === 1);
      assert.match(r.reason!, /at least 2 complete pairs/);
    }
    for (const f of [dcorExact, dcorFast]) {
      const r = f(new Float64Array([1, 2, 4]), new Float64Array([2, 1, 0]));
      assert.ok(r.dcor > 0 && Number.isNaN(r.dcor2_bc));
      assert.match(r.reason!, /dcor2_bc needs at least 4/);
    }
    assert.ok(gpuRes[2].dcor > 0 && Number.isNaN(gpuRes[2].dcor2_bc));
    for (const r of [dcorExact(x, x.map(() => 3.25)), dcorFast(x, x.map(() => 3.25)), gpuRes[3]]) {
      assert.equal(r.dcor, 0, `${r.method} constant`);
      assert.equal(r.dcor2_bc, 0);
    }
    // Shift and scale: dCor unchanged, dCov² scaled by the product of the scales.
    for (const r of [dcorFast(x.map((v) => 1e-12 * v + 3e-12), y.map((v) => 1e12 * v - 5e12)), gpuRes[4]]) {
      const tol = r.method === "gpu" ? DCOR_GPU_TOLERANCE.atol : 1e-9;
      near(r.dcor, c.dcor, tol, `${r.method} scaled dcor`);
      near(r.dcov2 / c.dcov2, 1, r.method === "gpu" ? 1e-4 : 1e-9, `${r.method} scaled dcov2`);
    }
    assert.throws(() => dcor(new Float64Array(3), new Float64Array(4)), /differ in length/);
  },
);

Deno.test(
  "permutations: Fisher-Yates from a counter hash, deterministic, equal on the GPU bit for bit",
  opts,
  async () => {
    const p = permutation(7, 3, 1000);
    assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
    assert.deepEqual(permutation(7, 3, 1000), p);
    assert.notDeepEqual(permutation(8, 3, 1000), p);
    assert.notDeepEqual(permutation(7, 4, 1000), p);
    // n = 40000 takes three Fisher-Yates dispatches (llvmpipe's loop limit), b0 != 0.
    for (const [n, b0, count] of [[5, 0, 3], [1000, 0, 4], [40000, 17, 2]]) {
      const got = await permutationsGpu(gpu, n, 12345, b0, count);
      got.forEach((g, q) => assert.deepEqual(g, permutation(12345, b0 + q, n), `n ${n} b ${b0 + q}`));
    }
  },
);

Deno.test(
  "permutation test: statistic = energy's dcor.test, p-values agree with R's and between paths",
  opts,
  async () => {
    const cases = fixture.cases.filter((c) => c.n <= 1000);
    const gpuRes = await dcorTestGpu(gpu, cases.map(pairsOf), { permutations: 999, seed: 42 });
    cases.forEach((c, k) => {
      const [x, y] = pairsOf(c);
      const cpu = dcorTest(x, y, { permutations: 999, seed: 42 });
      const g = gpuRes[k];
      assert.equal(cpu.B, 999);
      assert.equal(cpu.method, c.n < DCOR_CROSSOVER ? "exact" : "fast");
      near(cpu.statistic, c.test_statistic, F64, `${c.name} statistic`);
      near(g.statistic, c.test_statistic, DCOR_GPU_TOLERANCE.atol, `${c.name} GPU statistic`);
      // The same permutations: only a replicate within f32 rounding of the statistic could flip.
      near(g.p_value, cpu.p_value, 2 / 1000, `${c.name} CPU vs GPU p`);
      // R permutes with its own RNG: the two p-values are independent estimates of the same p.
      const sd = Math.sqrt(Math.max(c.test_p * (1 - c.test_p), 0.01) / 999);
      near(cpu.p_value, c.test_p, 5 * Math.SQRT2 * sd + 2 / 1000, `${c.name} p vs R`);
      if (c.test_p === 0.001) assert.equal(cpu.p_value, 0.001, `${c.name}: no permutation beats it`);
    });
    // Deterministic for a seed; a different seed gives a different (but close) p-value.
    const [x, y] = pairsOf(fixture.cases[1]);
    assert.deepEqual(
      dcorTest(x, y, { seed: 5, permutations: 199 }),
      dcorTest(x, y, { seed: 5, permutations: 199 }),
    );
    assert.notEqual(
      dcorTest(x, y, { seed: 6, permutations: 199 }).p_value,
      dcorTest(x, y, { seed: 5, permutations: 199 }).p_value,
    );
    assert.throws(() => dcorTest(x, y, { permutations: 0 }), /permutations must be an integer >= 1/);
    assert.throws(() => dcorTest(x, y, { seed: -1 }), /seed must be an integer/);
    const short = dcorTest(new Float64Array([1]), new Float64Array([NaN]));
    assert.ok(Number.isNaN(short.p_value) && short.n === 0 && /at least 2/.test(short.reason!));
  },
);

Deno.test(
  "permutation test: the GPU result does not depend on batching (row-split jobs, chunked permutations)",
  opts,
  async () => {
    const n = 300, x = seededNormals(n, 61), e = seededNormals(n, 62);
    const pairs = [[x, e], [x, e.map((v, i) => v + 0.1 * x[i] ** 2)]];
    const whole = await dcorTestGpu(gpu, pairs, { permutations: 99, seed: 9 });
    const small = await GpuRuntime.create({ maxBindingBytes: 64 * 1024 });
    try {
      const split = await dcorTestGpu(small, pairs, { permutations: 99, seed: 9, maxRowsPerJob: 37 });
      split.forEach((s, k) => {
        near(s.statistic, whole[k].statistic, 1e-6, "statistic");
        near(s.p_value, whole[k].p_value, 2 / 100, "p");
        near(
          s.p_value,
          dcorTest(pairs[k][0], pairs[k][1], { permutations: 99, seed: 9 }).p_value,
          2 / 100,
          "CPU p",
        );
      });
      const [a] = await dcorGpu(small, [pairs[1]], { maxRowsPerJob: 10 });
      near(a.dcor, dcorExact(pairs[1][0], pairs[1][1]).dcor, DCOR_GPU_TOLERANCE.atol, "row-split dcor");
    } finally {
      small.destroy();
    }
  },
);

Deno.test(
  "independent series: p-values roughly uniform over 200 seeds (KS and deciles, CPU and GPU)",
  opts,
  async () => {
    const S = 200, n = 60, B = 199;
    const pairs = Array.from(
      { length: S },
      (_, s) => [seededNormals(n, 1000 + s), seededNormals(n, 5000 + s)],
    );
    const cpu = pairs.map(([x, y], s) => dcorTest(x, y, { permutations: B, seed: s }).p_value);
    // One GPU submit: 200 pairs x 200 jobs. Same seed for all pairs here (the data differ).
    const gpuP = (await dcorTestGpu(gpu, pairs, { permutations: B, seed: 77 })).map((r) => r.p_value);
    for (const [what, ps] of [["cpu", cpu], ["gpu", gpuP]] as const) {
      const sorted = [...ps].sort((a, b) => a - b);
      let d = 0;
      sorted.forEach((p, i) => (d = Math.max(d, Math.abs(p - i / S), Math.abs(p - (i + 1) / S))));
      // KS critical value at 5%: 1.36 / sqrt(200) = 0.096 (p-values on a grid of 1/200 add <= 0.005).
      assert.ok(d < 0.096 + 0.005, `${what}: KS distance ${d}`);
      const deciles = new Array(10).fill(0);
      for (const p of ps) deciles[Math.min(9, Math.floor(p * 10))]++;
      assert.ok(deciles.every((k) => k >= 6 && k <= 36), `${what}: deciles ${deciles}`);
    }
  },
);

/** Kolmogorov-Smirnov distance of the p-values from the uniform distribution. */
function ksUniform(ps: number[]): number {
  const sorted = [...ps].sort((a, b) => a - b), S = ps.length;
  let d = 0;
  sorted.forEach((p, i) => (d = Math.max(d, Math.abs(p - i / S), Math.abs(p - (i + 1) / S))));
  return d;
}

/** x_t = phi x_{t-1} + e_t after a burn-in of 100. */
function ar1(n: number, phi: number, seed: number): Float64Array {
  const e = seededNormals(n + 100, 31, seed), x = new Float64Array(n);
  let v = 0;
  for (let t = 0; t < n + 100; t++) {
    v = phi * v + e[t];
    if (t >= 100) x[t - 100] = v;
  }
  return x;
}

/** y_t = e_{t+1} + ... + e_{t+h}: an h-bar forward return of an iid series (overlapping for h > 1). */
function forwardSums(n: number, h: number, seed: number): Float64Array {
  const e = seededNormals(n + h, 32, seed);
  return Float64Array.from({ length: n }, (_, t) => e.subarray(t + 1, t + h + 1).reduce((a, b) => a + b, 0));
}

Deno.test(
  "circular shifts: rotations by s in [L, n - L], equal on the GPU bit for bit; L from the dependence range",
  opts,
  async () => {
    const n = 1000, L = 40;
    for (let b = 0; b < 50; b++) {
      const p = shiftPermutation(3, b, n, L), s = p[0];
      assert.ok(s >= L && s <= n - L, `shift ${s}`);
      assert.deepEqual(p, Uint32Array.from({ length: n }, (_, k) => (k + s) % n));
    }
    for (const [m, b0, count, block] of [[5, 0, 3, 2], [1000, 7, 4, L], [40000, 0, 2, 300]]) {
      const got = await permutationsGpu(gpu, m, 99, b0, count, block);
      got.forEach((g, q) =>
        assert.deepEqual(g, shiftPermutation(99, b0 + q, m, block), `n ${m} b ${b0 + q}`)
      );
    }
    // Politis-White dependence range: ~0 for white noise, ~log(0.05) / log(phi) for an AR(1), capped.
    const white = seededNormals(5000, 33), x = ar1(5000, 0.9, 1);
    assert.ok(dependenceRange(white, 1250) <= 3, `white ${dependenceRange(white, 1250)}`);
    const m9 = dependenceRange(x, 1250);
    assert.ok(m9 >= 15 && m9 <= 60, `AR(1) 0.9: ${m9}`);
    assert.equal(dependenceRange(new Float64Array(100).fill(2), 25), 0);
    assert.equal(dependenceRange(Float64Array.from({ length: 400 }, (_, t) => t), 100), 100);
    assert.equal(shiftBlock(white, white, 7), 7);
    assert.equal(shiftBlock(white, x, 7), m9);
    // The test needs n >= 2L: NaN with the reason on both paths.
    const short = dcorTest(white.subarray(0, 30), x.subarray(0, 30), {
      scheme: "circular_shift",
      minBlock: 16,
    });
    const [gShort] = await dcorTestGpu(gpu, [[white.subarray(0, 30), x.subarray(0, 30)]], {
      scheme: "circular_shift",
      minBlock: 16,
    });
    for (const r of [short, gShort]) {
      assert.ok(
        Number.isNaN(r.p_value) && r.block === 16 && /need n >= 32, got 30/.test(r.reason!),
        r.reason,
      );
    }
  },
);

Deno.test(
  "calibration: AR(1) feature vs overlapping forward sums of an independent series — circular shifts give " +
    "uniform p-values (KS < 0.125) where iid permutations do not (KS > 0.4); GPU = f64",
  opts,
  async () => {
    const S = 200, n = 200, B = 99, h = 10;
    const pairs = Array.from({ length: S }, (_, s) => [ar1(n, 0.9, s), forwardSums(n, h, s)]);
    const test = (scheme: "iid" | "circular_shift") =>
      pairs.map(([x, y], s) => dcorTest(x, y, { permutations: B, seed: s, scheme, minBlock: h }));
    const block = test("circular_shift"), iid = test("iid");
    const ksBlock = ksUniform(block.map((r) => r.p_value)), ksIid = ksUniform(iid.map((r) => r.p_value));
    // 1% KS critical value for 200 draws: 1.63 / sqrt(200) = 0.115, plus 0.01 for p-values on a 1/100 grid.
    assert.ok(ksBlock < 0.125, `circular_shift KS ${ksBlock}`);
    assert.ok(ksIid > 0.4, `iid KS ${ksIid}`);
    assert.ok(block.every((r) => r.block! >= h && r.scheme === "circular_shift"));
    // The GPU draws the same shifts: one submit for all pairs, with one seed (the CPU uses it too here).
    const cpuShared = pairs.map(([x, y]) =>
      dcorTest(x, y, { permutations: B, seed: 5, scheme: "circular_shift", minBlock: h })
    );
    const gpuShared = await dcorTestGpu(gpu, pairs, {
      permutations: B,
      seed: 5,
      scheme: "circular_shift",
      minBlock: h,
    });
    gpuShared.forEach((g, k) => {
      assert.equal(g.block, cpuShared[k].block);
      // The same shifts: only a replicate within f32 rounding of the statistic could flip.
      near(g.p_value, cpuShared[k].p_value, 2 / (B + 1), `pair ${k} GPU vs f64 p`);
    });
    assert.ok(ksUniform(gpuShared.map((r) => r.p_value)) < 0.125);
  },
);

Deno.test(
  "sequential stopping (Besag-Clifford): p = h / L at the h-th exceedance, else the full-B p-value; " +
    "circular-shift calibration kept (KS < 0.125, P(p <= a) <= a); the GPU applies the same rule",
  opts,
  async () => {
    const S = 200, n = 200, B = 99, h = 10;
    const pairs = Array.from({ length: S }, (_, s) => [ar1(n, 0.9, s), forwardSums(n, h, s)]);
    const base = { permutations: B, scheme: "circular_shift" as const, minBlock: h };
    let stoppedCount = 0;
    const ps = pairs.map(([x, y], s) => {
      const full = dcorTest(x, y, { ...base, seed: s });
      assert.deepStrictEqual(dcorTest(x, y, { ...base, seed: s, stopAfter: 0 }), full, "0 = off");
      const seq = dcorTest(x, y, { ...base, seed: s, stopAfter: h });
      // Exceedances in the full run: (1 + ge) / (1 + B) = p.
      const ge = Math.round(full.p_value * (1 + B)) - 1;
      if (ge < h) {
        assert.deepStrictEqual(seq, full, `pair ${s}: not stopped, same result`);
      } else {
        stoppedCount++;
        assert.ok(seq.stopped_at! >= h && seq.stopped_at! <= B, `pair ${s}: L = ${seq.stopped_at}`);
        assert.equal(seq.p_value, h / seq.stopped_at!);
        // The first L replicates of the full run hold exactly h exceedances: rerunning with B = L stops at L.
        const cut = dcorTest(x, y, { ...base, seed: s, permutations: seq.stopped_at! });
        assert.equal(Math.round(cut.p_value * (1 + seq.stopped_at!)) - 1, h);
        assert.equal(seq.statistic, full.statistic);
      }
      return seq.p_value;
    });
    assert.ok(stoppedCount > S / 2, `most null pairs stop early (${stoppedCount} of ${S})`);
    // 1% KS critical value for 200 draws (0.115) plus 0.01 for p-values on a grid, as the full-B test.
    const ks = ksUniform(ps);
    assert.ok(ks < 0.125, `sequential circular_shift KS ${ks}`);
    for (const a of [0.05, 0.1, 0.2]) {
      const share = ps.filter((p) => p <= a).length / S;
      // Binomial(200, a) 1% upper tail: a + 2.33 sqrt(a (1 - a) / 200).
      assert.ok(share <= a + 2.33 * Math.sqrt((a * (1 - a)) / S), `P(p <= ${a}) = ${share}`);
    }
    assert.throws(() => dcorTest(pairs[0][0], pairs[0][1], { ...base, stopAfter: 1.5 }), /stopAfter/);

    // The GPU draws all B of the same shifts and reads them in order with the same rule: the same stops and
    // p-values, except where an f32 replicate lands on the other side of the statistic (a tie within rounding).
    const shared = { ...base, seed: 5, stopAfter: h };
    const cpu = pairs.map(([x, y]) => dcorTest(x, y, shared));
    const gpuSeq = await dcorTestGpu(gpu, pairs, shared);
    let same = 0;
    gpuSeq.forEach((g, k) => {
      if (g.stopped_at === cpu[k].stopped_at && g.p_value === cpu[k].p_value) same++;
      if (g.stopped_at !== undefined) assert.equal(g.p_value, h / g.stopped_at, `pair ${k}: GPU p = h / L`);
      else {assert.ok(
          g.p_value >= 1 / (B + 1) && g.p_value <= h / (B + 1),
          `pair ${k}: GPU full p ${g.p_value}`,
        );}
    });
    assert.ok(same >= 0.95 * S, `GPU = CPU sequential results for ${same} of ${S} pairs`);
    assert.ok(gpuSeq.filter((g) => g.stopped_at !== undefined).length > S / 2, "the GPU's nulls stop too");
    await assert.rejects(() => dcorTestGpu(gpu, pairs.slice(0, 1), { ...base, stopAfter: -1 }), /stopAfter/);
  },
);

Deno.test("y = x² + noise: dCor well above 0 and p < 0.01 where Pearson is near 0", opts, async () => {
  const c = fixture.cases.find((k) => k.name === "y = x^2 + noise n=1000")!;
  const [x, y] = pairsOf(c);
  assert.ok(Math.abs(c.pearson) < 0.05, `Pearson ${c.pearson}`);
  const cpu = dcorTest(x, y, { permutations: 199, seed: 1 });
  const [g] = await dcorTestGpu(gpu, [[x, y]], { permutations: 199, seed: 1 });
  for (const r of [cpu, g]) {
    assert.ok(r.statistic > 0.4, `${r.method} dcor ${r.statistic}`);
    assert.equal(r.p_value, 1 / 200, `${r.method} p`);
  }
});

/** dcor of each trailing window by the exact reference (NaN before w - 1 and for windows with NaN/Inf). */
function naiveRolling(x: Float64Array, y: Float64Array, w: number): Float64Array {
  return Float64Array.from({ length: x.length }, (_, t) => {
    if (t + 1 < w) return NaN;
    const a = x.subarray(t + 1 - w, t + 1), b = y.subarray(t + 1 - w, t + 1);
    if (![...a, ...b].every(Number.isFinite)) return NaN;
    return dcorExact(a, b).dcor;
  });
}

function maxDiff(a: Float64Array, b: Float64Array, what: string): number {
  assert.equal(a.length, b.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    assert.equal(Number.isNaN(a[i]), Number.isNaN(b[i]), `${what}: NaN mismatch at ${i} (${a[i]}, ${b[i]})`);
    if (!Number.isNaN(a[i])) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
  return worst;
}

Deno.test("rolling dCor (f64) equals the per-window exact dCor, both below and above the crossover", () => {
  const x = withGaps(700), r = returns(700);
  const y = x.map((v, i) => (Number.isFinite(v) ? (v - 9) ** 2 : v) + 1e-3 * r[i]);
  y.fill(2.5, 560, 690); // a constant stretch: windows inside it are 0
  for (const w of [2, 5, 33, DCOR_CROSSOVER + 20]) {
    const got = rollingDcorCpu(x, y, w);
    assert.ok(maxDiff(got, naiveRolling(x, y, w), `w ${w}`) < 1e-10);
    if (w < 100) assert.equal(got[689], 0);
  }
  assert.throws(() => rollingDcorCpu(x, y, 1), /window must be an integer >= 2/);
});

Deno.test(
  "rolling dCor on WebGPU matches f64 over the fixture matrix (NaN runs, constants, short series)",
  opts,
  async () => {
    const p = parseParams<RollingDcorParams>(rollingDcor, { window: 50 });
    assert.equal(rollingDcor.history(p), 49);
    assert.equal(rollingDcor.causal(p), true);
    // fixtureMatrix is slow to build (its "returns" case is O(n²)): build it once, add the short cases per w.
    const matrix = fixtureMatrix(2, 255).map((c) => c.inputs);
    for (const w of [3, 50, 256]) {
      // Windows cost O(w²) per point on the software adapter: the head of each long case is enough.
      const head = w > 100 ? 700 : 2000;
      const short = [w - 1, w, w + 1].map((n) => [logPrice(n, 15), logPrice(n, 16)]);
      const cases = [...matrix.map((c) => c.map((v) => v.slice(0, Math.max(head, w + 1)))), ...short];
      const got = await rollingDcorGpu(gpu, cases, w);
      cases.forEach(([x, y], k) => {
        const d = maxDiff(got[k], rollingDcorCpu(x, y, w), `w ${w} case ${k}`);
        assert.ok(d <= rollingDcor.tolerance.atol, `w ${w} case ${k}: ${d}`);
      });
    }
    // Windows over 256 run the CPU path inside the kernel's gpu entry.
    const x = logPrice(400, 3), y = logPrice(400, 4);
    const big = await rollingDcor.gpu(
      gpu,
      [[x, y]],
      [parseParams<RollingDcorParams>(rollingDcor, { window: 300 })],
    );
    assert.deepEqual(big[0][0], rollingDcorCpu(x, y, 300));
  },
);

Deno.test("rolling dCor has no look-ahead (f64 and WebGPU)", opts, async () => {
  const x = logPrice(2000, 21), y = logPrice(2000, 22).map((v, i) => v + 0.3 * (x[i] - 9) ** 2);
  for (const w of [20, 120]) {
    const full = rollingDcorCpu(x, y, w), head = rollingDcorCpu(x.slice(0, 1000), y.slice(0, 1000), w);
    assert.deepEqual(head, full.slice(0, 1000));
    const [gFull, gHead] = await rollingDcorGpu(gpu, [[x, y], [x.slice(0, 1000), y.slice(0, 1000)]], w);
    assert.deepEqual(gHead, gFull.slice(0, 1000));
    // Changing the future leaves the past unchanged.
    const x2 = x.slice(), y2 = y.slice();
    for (let i = 1000; i < 2000; i++) x2[i] = 100 + i, y2[i] = NaN;
    const [g2] = await rollingDcorGpu(gpu, [[x2, y2]], w);
    assert.deepEqual(g2.slice(0, 1000), gFull.slice(0, 1000));
    assert.deepEqual(rollingDcorCpu(x2, y2, w).slice(0, 1000), full.slice(0, 1000));
  }
});
