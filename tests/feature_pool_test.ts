/**
 * The feature-set worker pool (kernels/feature_pool.ts, kernels/feature_sets_worker.ts): chunked, parallel
 * featureSetCpu equals the single-threaded one bit for bit (rolling windows and per-row lengths, NaN gaps,
 * the comprehensive set), with 2 workers and in-process; progress, errors and worker cleanup. Runs with
 * Deno's default sanitizers: every worker is terminated before the call settles.
 */
import { strict as assert } from "node:assert";
import { featureSetCpuParallel, planFeatureChunks } from "../kernels/feature_pool.ts";
import { FEATURE_SETS, featureSetCpu } from "../kernels/feature_sets.ts";
import type { WindowSpec } from "../kernels/window_features.ts";
import { UsageError } from "../runtime/errors.ts";
import { logPrice, price1e4, withGaps } from "./data.ts";

const FEATURES = FEATURE_SETS.comprehensive;

/** Asserts two outputs are identical bit for bit (NaN payloads and the sign of zero included). */
function assertBitsEqual(
  actual: Map<string, Float64Array>,
  expected: Map<string, Float64Array>,
  what: string,
) {
  assert.deepEqual([...actual.keys()], [...expected.keys()], `${what}: feature names`);
  for (const [f, e] of expected) {
    const a = actual.get(f)!;
    assert.equal(a.length, e.length, `${what} ${f}: length`);
    const ab = new BigUint64Array(a.buffer, a.byteOffset, a.length);
    const eb = new BigUint64Array(e.buffer, e.byteOffset, e.length);
    const i = ab.findIndex((v, k) => v !== eb[k]);
    assert.equal(i, -1, `${what} ${f}: row ${i} is ${a[i]}, featureSetCpu gives ${e[i]}`);
  }
}

/** Per-segment lengths: segments of 5..80 rows; `expanding` gives every row its segment-to-date window. */
function segmentLens(n: number, expanding: boolean, seed: number): Int32Array {
  const lens = new Int32Array(n);
  let s = seed, start = 0;
  while (start < n) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const len = 5 + (s % 76);
    const end = Math.min(n, start + len);
    for (let t = start; t < end; t++) if (expanding || t === end - 1) lens[t] = t - start + 1;
    start = end;
  }
  // A window reaching before row 0 (featureSetCpu leaves it NaN).
  if (n > 3) lens[2] = 10;
  return lens;
}

const rollingJobs = (window: number) => [
  { x: logPrice(1500), spec: { window } },
  { x: withGaps(1500), spec: { window } },
  { x: price1e4(1200), spec: { window } },
  { x: logPrice(window - 1, 9), spec: { window } }, // shorter than the window: all NaN
  { x: new Float64Array(0), spec: { window } },
];

const lensJobs = () => [
  { x: logPrice(1500), spec: { lens: segmentLens(1500, true, 1) } },
  { x: withGaps(1500), spec: { lens: segmentLens(1500, true, 2) } },
  { x: price1e4(1200), spec: { lens: segmentLens(1200, false, 3) } },
  { x: withGaps(700, 5), spec: { lens: segmentLens(700, false, 4) } },
];

async function checkJobs(jobs: { x: Float64Array; spec: WindowSpec }[], what: string) {
  const expected = jobs.map((j) => featureSetCpu(j.x, j.spec, FEATURES));
  // The plan must actually split columns, with history before the cut.
  const plan = planFeatureChunks(jobs, FEATURES, 2);
  assert.ok(plan.some((c) => c.from > 0 && c.halo > 0), `${what}: no column was split`);
  for (const workers of [2, 0]) {
    const inputs = jobs.map((j) => Float64Array.from(j.x));
    const got = await featureSetCpuParallel(jobs, FEATURES, { workers, minWork: 0 });
    got.forEach((m, i) => assertBitsEqual(m, expected[i], `${what}, ${workers} workers, job ${i}`));
    jobs.forEach((j, i) => assert.deepEqual(j.x, inputs[i], `${what}: job ${i}'s column was modified`));
  }
}

Deno.test("feature pool: rolling windows equal featureSetCpu bit for bit (2 workers and in-process)", async () => {
  await checkJobs(rollingJobs(20), "rolling 20");
  await checkJobs(rollingJobs(50).slice(0, 2), "rolling 50");
});

Deno.test("feature pool: per-row window lengths equal featureSetCpu bit for bit", async () => {
  await checkJobs(lensJobs(), "lens");
});

Deno.test("feature pool: a chunk's first window (re-sorted) equals the sorted-insert path at every cut", () => {
  // Every cut point of one column, on the features that read the sorted window.
  const x = withGaps(400, 6);
  const f = ["median", "minimum", "maximum", "quantile__q_0.1", "quantile__q_0.9", "count_above_mean"];
  const w = 12;
  const whole = featureSetCpu(x, w, f);
  for (let a = 1; a < x.length; a++) {
    const halo = Math.min(a, w - 1);
    const part = featureSetCpu(x.slice(a - halo), w, f);
    const trimmed = new Map([...part].map(([k, v]) => [k, v.subarray(halo)]));
    const tail = new Map([...whole].map(([k, v]) => [k, v.subarray(a)]));
    assertBitsEqual(trimmed, tail, `cut at ${a}`);
  }
});

Deno.test("feature pool: columns with +0 and -0 agree up to the sign of zero", async () => {
  // featureSetCpu's sorted-insert update removes the first element >= v, which for v = +0 may be a -0: the
  // sorted window then holds +0 where the window has -0, so its minimum/median/quantiles can be +0 where a
  // fresh sort (a chunk's first window) gives -0. Values are equal (===); only the sign of zero can differ.
  // (At HEAD this column gives a median of +0 vs -0 at 6 rows with 2 workers.)
  const x = logPrice(3000, 8).map((v, i) => (i % 3 === 0 ? 0 : i % 3 === 1 ? -0 : v - 9));
  const jobs = [{ x, spec: { window: 20 } }];
  const expected = featureSetCpu(x, 20, FEATURES);
  const [got] = await featureSetCpuParallel(jobs, FEATURES, { workers: 2, minWork: 0 });
  for (const [f, e] of expected) {
    const a = got.get(f)!;
    for (let i = 0; i < e.length; i++) {
      assert.ok(
        a[i] === e[i] || (Number.isNaN(a[i]) && Number.isNaN(e[i])),
        `${f} row ${i}: ${a[i]} vs ${e[i]}`,
      );
    }
  }
});

Deno.test("feature pool: progress reaches the total rows, monotonically", async () => {
  for (const workers of [2, 0]) {
    const jobs = rollingJobs(20);
    const total = jobs.reduce((a, j) => a + j.x.length, 0);
    const calls: [number, number][] = [];
    await featureSetCpuParallel(jobs, FEATURE_SETS.efficient, {
      workers,
      minWork: 0,
      onProgress: (done, t) => calls.push([done, t]),
    });
    assert.ok(calls.length > 1, `${workers} workers: ${calls.length} progress calls`);
    assert.ok(calls.every(([, t]) => t === total));
    assert.ok(calls.every(([d], i) => i === 0 || d > calls[i - 1][0]), "progress is not increasing");
    assert.equal(calls.at(-1)![0], total);
  }
  // Nothing to compute: one call, at the total.
  const calls: number[] = [];
  await featureSetCpuParallel([{ x: logPrice(10), spec: { window: 20 } }], ["mean"], {
    workers: 2,
    minWork: 0,
    onProgress: (d) => calls.push(d),
  });
  assert.deepEqual(calls, [10]);
});

Deno.test("feature pool: errors reject with the CPU path's message and stop every worker", async () => {
  const jobs = rollingJobs(20);
  let cpuMessage = "";
  try {
    featureSetCpu(jobs[0].x, jobs[0].spec, ["mean", "no_such_feature"]);
  } catch (e) {
    cpuMessage = (e as Error).message;
  }
  assert.match(cpuMessage, /no_such_feature/);
  for (const workers of [2, 0]) {
    await assert.rejects(
      featureSetCpuParallel(jobs, ["mean", "no_such_feature"], { workers, minWork: 0 }),
      (e: Error) => e.message === cpuMessage,
    );
  }
  // A worker module that cannot load rejects instead of hanging.
  await assert.rejects(
    featureSetCpuParallel(jobs, ["mean"], {
      workers: 2,
      minWork: 0,
      workerUrl: "data:text/javascript,throw new Error('boom')",
    }),
    /a worker failed: .*boom/,
  );
  // Below minWork (default MIN_POOL_WORK) no worker starts: the same chunks run on this thread.
  const starts: number[] = [];
  const small = await featureSetCpuParallel(jobs, ["mean"], {
    workers: 2,
    workerUrl: "data:text/javascript,throw new Error('boom')",
    onStart: (w) => starts.push(w),
  });
  assert.deepEqual(starts, [0]);
  small.forEach((m, i) => assertBitsEqual(m, featureSetCpu(jobs[i].x, jobs[i].spec, ["mean"]), "small job"));
  await assert.rejects(featureSetCpuParallel(jobs, ["mean"], { workers: -1 }), UsageError);
  await assert.rejects(
    featureSetCpuParallel([{ x: logPrice(10), spec: { lens: new Int32Array(9) } }], ["mean"], { workers: 0 }),
    UsageError,
  );
});

Deno.test("feature pool: chunk plan covers every row once, costliest first, default worker count", async () => {
  const jobs = [...rollingJobs(20), ...lensJobs()];
  for (const workers of [1, 2, 8]) {
    const plan = planFeatureChunks(jobs, FEATURES, workers);
    jobs.forEach((j, i) => {
      const mine = plan.filter((c) => c.job === i).sort((a, b) => a.from - b.from);
      let at = 0;
      for (const c of mine) {
        assert.equal(c.from, at, `job ${i}: gap or overlap at ${at}`);
        assert.ok(c.to > c.from && c.halo >= 0 && c.halo <= c.from);
        at = c.to;
      }
      assert.equal(at, j.x.length, `job ${i}: rows not covered`);
    });
    assert.ok(plan.every((c, i) => i === 0 || c.cost <= plan[i - 1].cost), "not costliest first");
  }
  // Default (navigator.hardwareConcurrency) workers; no features: empty maps, nothing started.
  const got = await featureSetCpuParallel(jobs.slice(0, 2), ["mean", "median"]);
  got.forEach((m, i) =>
    assertBitsEqual(m, featureSetCpu(jobs[i].x, jobs[i].spec, ["mean", "median"]), "default")
  );
  const none = await featureSetCpuParallel(jobs, [], {});
  assert.ok(none.every((m) => m.size === 0));
});
