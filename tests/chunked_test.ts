/**
 * Chunked execution (pipeline/chunked.ts) equals the in-memory run bit for bit on the CPU path: every column,
 * the GARCH report and the selection, for chunk lengths that cut through the rolling and FFD windows, the FFT
 * block grid, the UTC-day segments and the GARCH refits.
 */
import { strict as assert } from "node:assert";
import { bars, CHUNK_CONFIG } from "./chunk_fixture.ts";
import { loadConfig } from "../config/load.ts";
import { openCompute } from "../runtime/backend.ts";
import { enabledEngines, type EngineReports, recordReport, runEngines } from "../pipeline/engines.ts";
import {
  checkMemoryBudget,
  chunkHalo,
  GARCH_HELD_BYTES,
  planChunks,
  runEnginesChunked,
} from "../pipeline/chunked.ts";
import { UsageError } from "../runtime/errors.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

function sameBits(name: string, a: Float64Array, b: Float64Array): void {
  assert.equal(a.length, b.length, name);
  for (let t = 0; t < a.length; t++) {
    if (!Object.is(a[t], b[t])) assert.fail(`${name} row ${t}: ${a[t]} in memory, ${b[t]} chunked`);
  }
}

/** Drops wall times from a report, recursively. */
function untimed(r: unknown): unknown {
  return JSON.parse(JSON.stringify(r, (k, v) => (k === "ms" || k === "timings_ms" ? undefined : v)));
}

Deno.test(
  "chunked == in memory, bit for bit on the CPU path, across every window, segment and refit",
  opts,
  async () => {
    const frame = await bars(3000);
    const config = loadConfig(CHUNK_CONFIG);
    const compute = await openCompute({ backend: "cpu" });
    const engines = enabledEngines(config);
    const want: EngineReports = {};
    const whole = await runEngines(frame, engines, config, compute, { done: (s) => recordReport(want, s) });
    assert.ok([...whole.values()].every((v) => v.some(Number.isFinite)), "every column has values");
    for (const rows of [257, 1000]) {
      const got = new Map<string, Float64Array[]>();
      const reports: EngineReports = {};
      const progress: number[] = [];
      await runEnginesChunked(frame, engines, config, compute, {
        rows,
        ...chunkHalo(config, engines),
        part: (p) => {
          assert.equal(p.start, [...got.values()][0]?.reduce((a, v) => a + v.length, 0) ?? 0);
          for (const [k, v] of p.columns) got.set(k, [...got.get(k) ?? [], v]);
          return Promise.resolve();
        },
        done: (s) => recordReport(reports, s),
        progress: (done) => progress.push(done),
      });
      assert.deepEqual([...got.keys()], [...whole.keys()], "same columns in the same order");
      for (const [k, parts] of got) {
        const v = new Float64Array(frame.rows);
        parts.reduce((at, p) => (v.set(p, at), at + p.length), 0);
        sameBits(`${k} (chunks of ${rows})`, whole.get(k)!, v);
      }
      assert.equal(progress.at(-1), 3000);
      assert.equal(progress.length, Math.ceil(3000 / rows));
      assert.deepEqual(untimed(reports.garch_models), untimed(want.garch_models));
      assert.ok(want.garch_models!.columns.close.refits >= 8);
      assert.deepEqual(untimed(reports.statistical_tests), untimed(want.statistical_tests));
      // The window engines' reports describe the series too (segment counts included), not the last chunk.
      assert.deepEqual(untimed(reports.stationarization), untimed(want.stationarization));
      assert.deepEqual(untimed(reports.feature_engineering), untimed(want.feature_engineering));
    }
  },
);

Deno.test("memory budget: chunk rows from the budget, a clear error when the halo does not fit", () => {
  const config = loadConfig(CHUNK_CONFIG);
  const engines = enabledEngines(config);
  assert.equal(planChunks(config, engines, 6, 3000, 2 ** 30).rows, 1_000_000);
  assert.equal(planChunks(config, engines, 6, 1000, 2 ** 20).rows, 1024, "fits whole: no error");
  const plan = planChunks(config, engines, 6, 10_000_000, 512 * 2 ** 20)!;
  assert.ok(plan.rows > 1024 && plan.rows * plan.bytesPerRow <= 512 * 2 ** 20, JSON.stringify(plan));
  assert.deepEqual({ back: plan.back, ahead: plan.ahead }, chunkHalo(config, engines));
  assert.throws(
    () => planChunks(config, engines, 6, 10_000_000, 2 ** 20),
    (e: Error) => e instanceof UsageError && /compute\.memory_budget: 1 MiB is too small/.test(e.message),
  );
  // Before any task, whatever the instruments' lengths: the run exits 2 naming the key.
  const small = loadConfig(CHUNK_CONFIG.replace("backend: cpu", "backend: cpu, memory_budget: 1MiB"));
  assert.throws(() => checkMemoryBudget(small, engines), /compute\.memory_budget: 1 MiB is too small/);
  checkMemoryBudget(config, engines);
  // GARCH's expanding window holds every return: counted, and a budget that cannot hold them says so.
  const expanding = loadConfig(CHUNK_CONFIG.replace("window: 400", "window: expanding"));
  const held = planChunks(expanding, engines, 6, 1_000_000, 2 ** 30);
  assert.equal(held.held, GARCH_HELD_BYTES * 1_000_000);
  // The chunk length does not follow the series' length (an append keeps the plan).
  assert.equal(held.rows, planChunks(expanding, engines, 6, 2_000_000, 2 ** 30).rows);
  assert.throws(
    () => planChunks(expanding, engines, 6, 50_000_000, 512 * 2 ** 20),
    (e: Error) =>
      e instanceof UsageError && /features\.garch\.window: expanding keeps \(859 MiB/.test(e.message),
  );
});

Deno.test(
  "chunked on WebGPU (the software adapter in CI) stays within f32 tolerance of the whole series",
  opts,
  async () => {
    const compute = await openCompute({ backend: "webgpu" }).catch(() => null);
    if (!compute?.gpu) return; // no adapter: the CPU test above is the check
    const frame = await bars(3000);
    const config = loadConfig(CHUNK_CONFIG.replace("backend: cpu", "backend: webgpu"));
    const engines = enabledEngines(config);
    const whole = await runEngines(frame, engines, config, compute);
    const got = new Map<string, Float64Array[]>();
    await runEnginesChunked(frame, engines, config, compute, {
      rows: 257,
      ...chunkHalo(config, engines),
      part: (p) => {
        for (const [k, v] of p.columns) got.set(k, [...got.get(k) ?? [], v]);
        return Promise.resolve();
      },
    });
    for (const [k, parts] of got) {
      const w = whole.get(k)!, v = new Float64Array(frame.rows);
      parts.reduce((at, p) => (v.set(p, at), at + p.length), 0);
      // f32 rounding depends on where a chunk starts (each centres its own window): the kernels' tolerances
      // (1e-3 relative for the z-scores, the loosest) bound the difference.
      const scale = Math.max(1, ...w.filter(Number.isFinite).map(Math.abs));
      for (let t = 0; t < v.length; t++) {
        const ok = Number.isNaN(v[t]) ? Number.isNaN(w[t]) : Math.abs(v[t] - w[t]) <= 1e-4 * scale;
        if (!ok) assert.fail(`${k} row ${t}: ${w[t]} whole, ${v[t]} chunked (WebGPU)`);
      }
    }
  },
);
