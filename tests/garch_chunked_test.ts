/**
 * The streamed walk-forward GARCH of chunked runs (engines/garch_chunked.ts) equals the in-memory engine bit for
 * bit on the CPU path — columns and report — for several columns and models, NaN and non-positive prices, a
 * flat stretch whose refits have no estimates, and chunk lengths that cut refit windows and fall on refit
 * rows; resumed from a JSON checkpoint before every chunk it fits each refit once. On WebGPU (when an adapter
 * exists) within the f32 search's reach.
 */
import { strict as assert } from "node:assert";
import { type GarchEngineConfig, garchModels } from "../engines/garch.ts";
import { ChunkedGarch, type ChunkedGarchState } from "../engines/garch_chunked.ts";
import { makeFrame } from "../io/frame.ts";
import { percentLogReturns, walkForwardRefits } from "../kernels/garch.ts";
import { simulateGarch } from "../kernels/garch_core.ts";
import { type Compute, sharedGpu } from "../runtime/backend.ts";
import { setLogLevel } from "../runtime/log.ts";
import { seededNormals } from "../runtime/rng.ts";
import { garchConfig, pricesFromReturns } from "./garch_check.ts";

setLogLevel("error");
const opts = { sanitizeResources: false, sanitizeOps: false };
const CPU: Compute = { choice: "cpu", gpu: null };
const N = 2400;

/** Two price columns: NaN and non-positive prices, and in `flat` constant returns for longer than the window. */
function frame() {
  const sim = (seed: number) =>
    pricesFromReturns(
      simulateGarch({ mu: 0.01, omega: 0.02, alpha: 0.08, beta: 0.9 }, seededNormals(N + 499, 7, seed)),
      N,
    );
  const close = sim(1), flat = sim(2);
  for (const g of [3, 130, 131, 132, 600, 601, 950, 1799, 1800, 2203]) close[g] = NaN;
  close[1400] = 0;
  close[1401] = -1;
  // Returns of 1% up to rounding (a window of them is constant) from row 1086; refits are at 121 + 140 k:
  // 1101 is fitted on 135 returns before the stretch, 1241 and 1381 have no estimates, so their rows restart
  // 1101's recursion, which skips the NaN returns at 1150 and 1151 (and rounding keeps its variance moving).
  for (let t = 1086; t < 1400; t++) flat[t] = flat[t - 1] * Math.exp(0.01);
  flat[1150] = NaN;
  flat[1500] = Infinity;
  return makeFrame("mem", N, new Map([["close", close], ["flat", flat]]));
}

const CFG: GarchEngineConfig = garchConfig({
  columns: ["close", "flat"],
  models: ["garch11", "gjr11", "garch11_t"],
  window: 150,
  refit_every: 140,
  min_samples: 120,
  max_iter: 200,
});

/** Drops wall times from a report. */
const untimed = (r: unknown) => JSON.parse(JSON.stringify(r, (k, v) => (k === "ms" ? undefined : v)));

/** A checkpoint through the manifest's JSON (non-finite numbers as text) and back. */
function viaJson(s: ChunkedGarchState): ChunkedGarchState {
  const text = JSON.stringify(s, (_, x) => (typeof x === "number" && !Number.isFinite(x) ? String(x) : x));
  return JSON.parse(text, (_, x) => (x === "NaN" || x === "Infinity" || x === "-Infinity" ? Number(x) : x));
}

/** The engine over `f` in chunks of `rows`, resumed from a JSON checkpoint before each chunk when `resume`. */
async function chunked(cfg: GarchEngineConfig, compute: Compute, rows: number, resume: boolean) {
  const f = frame();
  let g = new ChunkedGarch(cfg, compute, "mem"), fits = 0;
  const cols = new Map(cfg.columns.map((c) => [`${c}_garch_vol`, new Float64Array(N)]));
  for (let s = 0; s < N; s += rows) {
    if (resume) (fits += g.fitted, g = new ChunkedGarch(cfg, compute, "mem", viaJson(g.state())));
    const prices = new Map(cfg.columns.map((c) => [c, f.columns.get(c)!.subarray(s, s + rows)]));
    for (const [k, v] of await g.rows(s, prices)) cols.get(k)!.set(v, s);
  }
  return { cols, report: g.report().report, fits: fits + g.fitted };
}

Deno.test(
  "chunked GARCH == in memory, bit for bit on the CPU path, resumed before every chunk",
  opts,
  async () => {
    const want = await garchModels(frame(), CFG, CPU);
    const close = want.report.columns.close, flat = want.report.columns.flat;
    assert.ok(close.refits >= 15 && close.first_row! > 120, JSON.stringify(close));
    assert.equal(flat.models.garch11.refits_failed, 2, "the flat stretch leaves refits without estimates");
    assert.ok(Object.values(close.models).every((m) => m.selected > 0 || m.refits_failed), "models compete");
    const refits = CFG.columns.map((c) =>
      walkForwardRefits(percentLogReturns(frame().columns.get(c)!), {
        window: 150,
        refitEvery: 140,
        minSamples: 120,
      }).length
    );
    // 140 and 150 are the refit spacing and window; 1 row per chunk feeds the state row by row.
    for (const [rows, resume] of [[140, false], [150, true], [1000, true], [N, false], [1, false]] as const) {
      const got = await chunked(CFG, CPU, rows, resume);
      for (const [k, w] of want.columns) {
        const v = got.cols.get(k)!;
        for (let t = 0; t < N; t++) {
          if (!Object.is(v[t], w[t])) {
            assert.fail(
              `${k} row ${t} (chunks of ${rows}): ${w[t]} in memory, ${v[t]}`,
            );
          }
        }
      }
      assert.deepEqual(untimed(got.report), untimed(want.report), `report, chunks of ${rows}`);
      assert.equal(
        got.fits,
        3 * (refits[0] + refits[1]),
        `each refit fitted once per model (chunks of ${rows})`,
      );
    }
  },
);

Deno.test(
  "chunked GARCH: a checkpoint of an expanding window carries every finite return",
  opts,
  async () => {
    const cfg = { ...CFG, window: "expanding" as const, models: ["garch11"], refit_every: 400 };
    const want = await garchModels(frame(), cfg, CPU);
    const got = await chunked(cfg, CPU, 333, true);
    for (const [k, w] of want.columns) assert.deepEqual([...got.cols.get(k)!], [...w], k);
    const g = new ChunkedGarch(cfg, CPU, "mem");
    const f = frame();
    await g.rows(0, new Map(cfg.columns.map((c) => [c, f.columns.get(c)!])));
    const finite = percentLogReturns(f.columns.get("close")!).filter(Number.isFinite);
    assert.equal(atob(g.state().columns[0].returns).length, 8 * finite.length);
  },
);

Deno.test(
  "chunked GARCH on WebGPU stays within the f32 search's reach of the whole series",
  opts,
  async () => {
    const gpu = await sharedGpu();
    if (!gpu) return; // no adapter: the CPU tests above are the check
    const GPU: Compute = { choice: "webgpu", gpu };
    const cfg = { ...CFG, models: ["garch11", "gjr11"] };
    const want = await garchModels(frame(), cfg, GPU);
    const got = await chunked(cfg, GPU, 500, true);
    for (const [k, w] of want.columns) {
      const v = got.cols.get(k)!;
      for (let t = 0; t < N; t++) {
        const ok = Number.isNaN(w[t]) ? Number.isNaN(v[t]) : Math.abs(v[t] - w[t]) <= 1e-4 * Math.abs(w[t]);
        if (!ok) assert.fail(`${k} row ${t}: ${w[t]} whole, ${v[t]} chunked (WebGPU)`);
      }
    }
    assert.equal(got.report.columns.close.refits, want.report.columns.close.refits);
  },
);
