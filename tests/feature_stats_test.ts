/**
 * The feature-set stats shader (shaders/feature_stats.wgsl via kernels/window_features.ts) against the f64
 * reference (featureSetCpu) on realistic and adversarial series, for rolling windows and per-segment
 * windows, chunked and unchunked, and without look-ahead.
 */
import { strict as assert } from "node:assert";
import { FEATURE_STATS, FEATURE_STATS_TOLERANCE } from "../kernels/feature_stats.ts";
import { windowFeaturesGpu, type WindowSpec } from "../kernels/window_features.ts";
import { sharedGpu } from "../runtime/backend.ts";
import { setLogLevel } from "../runtime/log.ts";
import { checkFeatureShaders } from "./feature_check.ts";
import { cyclingSegments, logPrice, price1e4, returns, ticks, withGaps } from "./data.ts";

setLogLevel("error");
const opts = { sanitizeResources: false, sanitizeOps: false };
const gpu = await sharedGpu();

/** Checks every stats feature of `cols` under `specs` against the f64 path. */
function check(cols: Float64Array[], specs: WindowSpec[], what: string, rt = gpu): Promise<void> {
  return checkFeatureShaders(rt, [FEATURE_STATS], FEATURE_STATS_TOLERANCE, cols, specs, what, {
    tolerance: (tol, c) => {
      if (c.feature === "sum_values") tol.atol *= c.wmax, tol.stol = (tol.stol ?? 0) * c.wmax;
      if (c.feature === "variance") {
        const k = 2 * Math.max(1e-300, ...c.ref.get("standard_deviation")!.filter(Number.isFinite));
        tol.atol *= k, tol.stol = (tol.stol ?? 0) * k;
      }
      return tol;
    },
  });
}

Deno.test("feature stats: WebGPU matches f64 on rolling windows", opts, async () => {
  const cols = [logPrice(3001), price1e4(2500), returns(1000), withGaps(2000), ticks(1500)];
  for (const w of [2, 3, 4, 7, 50, 200]) {
    await check(cols, cols.map(() => ({ window: w })), `w${w}`);
  }
});

Deno.test("feature stats: WebGPU matches f64 per segment and when chunked", opts, async () => {
  const x = logPrice(20000, 5);
  const lens = cyclingSegments(x.length, 10, 400);
  await check([x, ticks(20000)], [{ lens }, { lens }], "segments");
  const small = await sharedGpu({ maxBindingBytes: 4096 * 4 * 16 });
  await check([x], [{ window: 100 }], "chunked", small);
  await check([x], [{ lens }], "chunked segments", small);
});

Deno.test("feature stats: no look-ahead", opts, async () => {
  const x = logPrice(3000, 8);
  const y = x.slice();
  for (let i = 2000; i < y.length; i++) y[i] = 1e6 * Math.sin(i);
  const [a, b] = await windowFeaturesGpu(gpu, [FEATURE_STATS], [x, y], [{ window: 60 }, { window: 60 }]);
  for (const f of FEATURE_STATS.planes) {
    const u = a.get(f)!.subarray(0, 2000), v = b.get(f)!.subarray(0, 2000);
    // x_0 is the same, so the outputs before the change are bit-identical.
    assert.deepEqual(u, v, f);
  }
});
