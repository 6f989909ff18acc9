/**
 * Chunked execution (pipeline/chunked.ts) equals the in-memory run bit for bit on the CPU path: every column,
 * the GARCH report and the selection, for chunk lengths that cut through the rolling and FFD windows, the FFT
 * block grid, the UTC-day segments and the GARCH refits.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { generate } from "../generator/generate.ts";
import { LocalStorage } from "../io/storage.ts";
import { loadTask } from "../io/validate.ts";
import { discoverTasks } from "../io/discover.ts";
import type { Frame } from "../io/frame.ts";
import { loadConfig } from "../config/load.ts";
import { openCompute } from "../runtime/backend.ts";
import { enabledEngines, type EngineReports, recordReport, runEngines } from "../pipeline/engines.ts";
import { chunkHalo, planChunks, runEnginesChunked } from "../pipeline/chunked.ts";
import { UsageError } from "../runtime/errors.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

// Windows of 10 and 200 rows, FFD d = 0.3 (66 weights, FFT grid 894 rows) and 0.5 (44, direct), a 50-row
// correlation, Baxter-King (24 rows), 20-row and per-day features, GARCH refits every 300 rows on 400 returns.
export const CHUNK_CONFIG = `
data: { source: /nowhere }
compute: { backend: cpu }
features:
  frac_diff: { d_values: [0.3, 0.5], threshold: 1e-3 }
  rolling_windows: [10, 200]
  log_stabilization: { enabled: true, causal: true }
  rolling_corr: { pairs: [[close, volume]], window: 50 }
  extraction: { set: minimal, windows: [20], columns: [close], segments: [day], workers: 1 }
  garch: { mode: walk_forward, refit_every: 300, min_samples: 500, window: 400, max_iter: 200 }
  selection_max_samples: 700
  selection_permutations: 50
`;

/** `rows` one-minute bars of one instrument. */
export async function bars(rows: number): Promise<Frame> {
  const dir = await Deno.makeTempDir({ prefix: "fg-chunked-" });
  const storage = new LocalStorage(join(dir, "gen"));
  await generate({ kind: "bars", storage, instruments: 1, rows, seed: 5, workers: 0 });
  const [task] = await discoverTasks(storage, "^([^/]+)/", ["parquet"]);
  const frame = await loadTask(storage, task, { denyColumns: [], timestampColumn: "timestamp" });
  await Deno.remove(dir, { recursive: true });
  return frame;
}

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
    }
  },
);

Deno.test("memory budget: in memory when it fits, chunks when not, a clear error when the halo does not fit", () => {
  const config = loadConfig(CHUNK_CONFIG);
  const engines = enabledEngines(config);
  assert.equal(planChunks(config, engines, 6, 3000, 2 ** 30), null);
  const plan = planChunks(config, engines, 6, 10_000_000, 512 * 2 ** 20)!;
  assert.ok(plan.rows > 1024 && plan.rows * plan.bytesPerRow <= 512 * 2 ** 20, JSON.stringify(plan));
  assert.deepEqual({ back: plan.back, ahead: plan.ahead }, chunkHalo(config, engines));
  assert.throws(
    () => planChunks(config, engines, 6, 10_000_000, 2 ** 20),
    (e: Error) => e instanceof UsageError && /compute\.memory_budget: 1 MiB is too small/.test(e.message),
  );
});
