/**
 * The feature-set lag shader (shaders/feature_lags.wgsl via kernels/window_features.ts: number_peaks with
 * n = 3, 5, 10, c3 and time_reversal_asymmetry_statistic with lag 1, 2, 3) against the f64 reference
 * (featureSetCpu) on realistic and adversarial series, for rolling windows and per-segment windows, chunked
 * and unchunked, and without look-ahead.
 */
import { strict as assert } from "node:assert";
import { featureSetCpu } from "../kernels/feature_sets.ts";
import { FEATURE_LAGS, FEATURE_LAGS_TOLERANCE } from "../kernels/feature_lags.ts";
import { windowFeaturesGpu, type WindowSpec } from "../kernels/window_features.ts";
import { sharedGpu } from "../runtime/backend.ts";
import { setLogLevel } from "../runtime/log.ts";
import { checkFeatureShaders } from "./feature_check.ts";
import { cyclingSegments, logPrice, price1e4, returns, ticks, withGaps } from "./data.ts";

setLogLevel("error");
const opts = { sanitizeResources: false, sanitizeOps: false };
const gpu = await sharedGpu();

/** max |x| over the finite points (c3 and the asymmetry statistic are cubic in x). */
const maxAbs = (x: Float64Array) =>
  x.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);

/** Checks every lag feature of `cols` under `specs` against the f64 path. */
function check(cols: Float64Array[], specs: WindowSpec[], what: string, rt = gpu): Promise<void> {
  return checkFeatureShaders(rt, [FEATURE_LAGS], FEATURE_LAGS_TOLERANCE, cols, specs, what, {
    // stol counts in units of S X^2 (kernels/feature_lags.ts).
    tolerance: (tol, c) => ({ ...tol, stol: (tol.stol ?? 0) * maxAbs(c.x) ** 2 }),
  });
}

Deno.test("feature lags: WebGPU matches f64 on rolling windows", opts, async () => {
  const cols = [logPrice(3001), price1e4(2500), returns(1000), withGaps(2000), ticks(1500)];
  for (const w of [2, 3, 4, 7, 21, 50, 200]) {
    await check(cols, cols.map(() => ({ window: w })), `w${w}`);
  }
});

Deno.test("feature lags: WebGPU matches f64 per segment and when chunked", opts, async () => {
  const x = logPrice(20000, 5);
  const lens = cyclingSegments(x.length, 10, 400);
  await check([x, ticks(20000)], [{ lens }, { lens }], "segments");
  // Segments of 1, 2, 3, ... rows first: c3 and the statistic are 0 where 2 lag >= w, peaks 0 where w <= 2n.
  const short = cyclingSegments(3000, 25, 60, 25);
  await check([price1e4(3000), returns(3000)], [{ lens: short }, { lens: short }], "short segments");
  // 9 planes of 4 bytes: chunks of 4096 rows, with a 99-row halo for w = 100.
  const small = await sharedGpu({ maxBindingBytes: 4096 * 4 * 9 });
  await check([x], [{ window: 100 }], "chunked", small);
  await check([x], [{ lens }], "chunked segments", small);
});

Deno.test("feature lags: hand-checked values on both paths", opts, async () => {
  // Window 1, 5, 2, 3, 9, 4, 3, 2, 8, 1, 0, 2 (w = 12): 9 and 8 top their 3 neighbours on each side, no point
  // its 5 (only points 5 and 6 have 5 on each side); values from numpy (tsfresh's calculators).
  const x = Float64Array.from([1, 5, 2, 3, 9, 4, 3, 2, 8, 1, 0, 2]);
  const ref = featureSetCpu(x, 12, FEATURE_LAGS.planes);
  const [g] = await windowFeaturesGpu(gpu, [FEATURE_LAGS], [x], [{ window: 12 }]);
  const want: Record<string, number> = {
    number_peaks__n_3: 2,
    number_peaks__n_5: 0,
    number_peaks__n_10: 0,
    c3__lag_1: 39.8,
    c3__lag_2: 48,
    c3__lag_3: 39.333333333333336,
    time_reversal_asymmetry_statistic__lag_1: -2.5,
    time_reversal_asymmetry_statistic__lag_2: 0.625,
    time_reversal_asymmetry_statistic__lag_3: -34.5,
  };
  for (const [f, v] of Object.entries(want)) {
    assert.ok(Math.abs(ref.get(f)![11] - v) < 1e-12, `cpu ${f}: ${ref.get(f)![11]} != ${v}`);
    assert.ok(
      Math.abs(g.get(f)![11] - v) < 1e-4 * Math.max(1, Math.abs(v)),
      `gpu ${f}: ${g.get(f)![11]} != ${v}`,
    );
    assert.ok(Number.isNaN(g.get(f)![10]) && Number.isNaN(ref.get(f)![10]), f);
  }
  // w = 6 (1, 5, 2, 3, 9, 4): lag 3 has 2 lag >= w (0, as tsfresh); lag 2 averages 2 products.
  const r6 = featureSetCpu(x, 6, FEATURE_LAGS.planes);
  const [g6] = await windowFeaturesGpu(gpu, [FEATURE_LAGS], [x], [{ window: 6 }]);
  assert.equal(r6.get("c3__lag_3")![5], 0);
  assert.equal(g6.get("c3__lag_3")![5], 0);
  assert.equal(g6.get("time_reversal_asymmetry_statistic__lag_3")![5], 0);
  assert.equal(r6.get("c3__lag_2")![5], (9 * 2 * 1 + 4 * 3 * 5) / 2);
  assert.ok(Math.abs(g6.get("c3__lag_2")![5] - 39) < 1e-5);
  // A level of 1e4 with tiny moves: c3 ~ 1e12 keeps ~1e-7 relative, the statistic stays near its true size.
  const lvl = Float64Array.from({ length: 40 }, (_, i) => 1e4 + Math.sin(i));
  const rl = featureSetCpu(lvl, 20, FEATURE_LAGS.planes);
  const [gl] = await windowFeaturesGpu(gpu, [FEATURE_LAGS], [lvl], [{ window: 20 }]);
  for (let t = 19; t < 40; t++) {
    const c = rl.get("c3__lag_1")![t], tr = rl.get("time_reversal_asymmetry_statistic__lag_1")![t];
    assert.ok(Math.abs(gl.get("c3__lag_1")![t] - c) < 1e-6 * c, `c3 at ${t}`);
    // |tras| ~ 1e8 here; the error bound is ~5e-7 S X^2 = 5e-7 * 2 * 1e8.
    assert.ok(Math.abs(gl.get("time_reversal_asymmetry_statistic__lag_1")![t] - tr) < 100, `tras at ${t}`);
  }
});

Deno.test("feature lags: no look-ahead", opts, async () => {
  const x = logPrice(3000, 8);
  const y = x.slice();
  for (let i = 2000; i < y.length; i++) y[i] = 1e6 * Math.sin(i);
  const [a, b] = await windowFeaturesGpu(gpu, [FEATURE_LAGS], [x, y], [{ window: 60 }, { window: 60 }]);
  for (const f of FEATURE_LAGS.planes) {
    // x_0 is the same, so the outputs before the change are bit-identical.
    assert.deepEqual(a.get(f)!.subarray(0, 2000), b.get(f)!.subarray(0, 2000), f);
  }
});
