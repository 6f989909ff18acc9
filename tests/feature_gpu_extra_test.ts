/**
 * The feature-set extra shader (shaders/feature_extra.wgsl via kernels/window_features.ts: abs_energy,
 * changes, extremum locations, cid_ce, ratios beyond r std) against the f64 reference (featureSetCpu) on
 * realistic and adversarial series, for rolling windows and per-segment windows, chunked and unchunked, and
 * without look-ahead.
 */
import { strict as assert } from "node:assert";
import { featureSetCpu } from "../kernels/feature_sets.ts";
import { FEATURE_EXTRA, FEATURE_EXTRA_TOLERANCE } from "../kernels/feature_extra.ts";
import { windowFeaturesGpu, type WindowSpec } from "../kernels/window_features.ts";
import { sharedGpu } from "../runtime/backend.ts";
import { setLogLevel } from "../runtime/log.ts";
import { checkFeatureShaders } from "./feature_check.ts";
import { cyclingSegments, logPrice, price1e4, returns, ticks, withGaps } from "./data.ts";

setLogLevel("error");
const opts = { sanitizeResources: false, sanitizeOps: false };
const gpu = await sharedGpu();

/** Checks every extra feature of `cols` under `specs` against the f64 path. */
function check(cols: Float64Array[], specs: WindowSpec[], what: string, rt = gpu): Promise<void> {
  return checkFeatureShaders(rt, [FEATURE_EXTRA], FEATURE_EXTRA_TOLERANCE, cols, specs, what, {
    tolerance: (tol, c) => {
      // At w = 2 both points lie exactly 1 std from their mean: r = 1 is decided by rounding on both paths.
      if (c.wmax === 2 && c.feature === "ratio_beyond_r_sigma__r_1") return null;
      if (c.feature === "absolute_sum_of_changes") tol.atol *= c.wmax, tol.stol = (tol.stol ?? 0) * c.wmax;
      return tol;
    },
  });
}

Deno.test("feature extra: WebGPU matches f64 on rolling windows", opts, async () => {
  const cols = [logPrice(3001), price1e4(2500), returns(1000), withGaps(2000), ticks(1500)];
  for (const w of [2, 3, 4, 7, 50, 200]) {
    await check(cols, cols.map(() => ({ window: w })), `w${w}`);
  }
});

Deno.test("feature extra: WebGPU matches f64 per segment and when chunked", opts, async () => {
  const x = logPrice(20000, 5);
  const lens = cyclingSegments(x.length, 10, 400);
  await check([x, ticks(20000)], [{ lens }, { lens }], "segments");
  // Segments of 1, 2, 3, ... rows first: mean_change NaN below 2 rows, mean_second_derivative_central below 3.
  const short = cyclingSegments(3000, 10, 60, 12);
  await check([price1e4(3000), returns(3000)], [{ lens: short }, { lens: short }], "short segments");
  const small = await sharedGpu({ maxBindingBytes: 4096 * 4 * 16 });
  await check([x], [{ window: 100 }], "chunked", small);
  await check([x], [{ lens }], "chunked segments", small);
});

Deno.test("feature extra: hand-checked values on both paths", opts, async () => {
  // Window 1, 3, 3, -4, 2 (w = 5): max 3 twice (first at 1/5, last at 1 - 2/5), min -4 once at 3/5.
  const x = Float64Array.from([1, 3, 3, -4, 2]);
  const ref = featureSetCpu(x, 5, FEATURE_EXTRA.planes);
  const [g] = await windowFeaturesGpu(gpu, [FEATURE_EXTRA], [x], [{ window: 5 }]);
  const want: Record<string, number> = {
    abs_energy: 39,
    root_mean_square: Math.sqrt(39 / 5),
    absolute_maximum: 4,
    absolute_sum_of_changes: 15,
    mean_change: 0.25,
    mean_second_derivative_central: (2 - -4 - 3 + 1) / 6,
    variance_larger_than_standard_deviation: 1,
    has_duplicate_max: 1,
    has_duplicate_min: 0,
    first_location_of_maximum: 0.2,
    first_location_of_minimum: 0.6,
    last_location_of_maximum: 0.6,
    last_location_of_minimum: 0.8,
    ratio_beyond_r_sigma__r_1: 0.2,
    ratio_beyond_r_sigma__r_2: 0,
  };
  for (const [f, v] of Object.entries(want)) {
    assert.ok(Math.abs(ref.get(f)![4] - v) < 1e-12, `cpu ${f}: ${ref.get(f)![4]} != ${v}`);
    assert.ok(Math.abs(g.get(f)![4] - v) < 1e-5 * Math.max(1, v), `gpu ${f}: ${g.get(f)![4]} != ${v}`);
    assert.ok(Number.isNaN(g.get(f)![3]) && Number.isNaN(ref.get(f)![3]), f);
  }
  // A constant window: no spread, so cid_ce and the ratios are 0 and every point is a duplicate extremum.
  const flat = new Float64Array(8).fill(7.25);
  const rf = featureSetCpu(flat, 4, FEATURE_EXTRA.planes);
  const [gf] = await windowFeaturesGpu(gpu, [FEATURE_EXTRA], [flat], [{ window: 4 }]);
  for (
    const [f, v] of [["cid_ce__normalize_True", 0], ["ratio_beyond_r_sigma__r_1", 0], [
      "has_duplicate_min",
      1,
    ]]
  ) {
    assert.equal(rf.get(f as string)![7], v, `cpu ${f}`);
    assert.equal(gf.get(f as string)![7], v, `gpu ${f}`);
  }
  assert.equal(gf.get("abs_energy")![7], 4 * 7.25 * 7.25);
});

Deno.test("feature extra: no look-ahead", opts, async () => {
  const x = logPrice(3000, 8);
  const y = x.slice();
  for (let i = 2000; i < y.length; i++) y[i] = 1e6 * Math.sin(i);
  const [a, b] = await windowFeaturesGpu(gpu, [FEATURE_EXTRA], [x, y], [{ window: 60 }, { window: 60 }]);
  for (const f of FEATURE_EXTRA.planes) {
    const u = a.get(f)!.subarray(0, 2000), v = b.get(f)!.subarray(0, 2000);
    // x_0 is the same, so the outputs before the change are bit-identical.
    assert.deepEqual(u, v, f);
  }
});
