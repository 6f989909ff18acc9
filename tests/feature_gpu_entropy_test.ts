/**
 * The permutation-entropy shader (shaders/feature_permutation.wgsl via kernels/window_features.ts: tau 1,
 * dimension 3 .. 7) against the f64 reference (featureSetCpu) on realistic and adversarial series (ties,
 * constant stretches, NaN/Inf gaps), for rolling windows from 1 row (NaN below D rows) to 100 and per-segment
 * windows, chunked and unchunked, without look-ahead, and within its window limit (the private code array)
 * and llvmpipe's loop budget. The template-matching entropies' r grid (shaders/feature_entropy.wgsl) is
 * checked in tests/feature_gpu_order_test.ts with the rest of that shader.
 */
import { strict as assert } from "node:assert";
import { featurePlacement, featureSetCpu } from "../kernels/feature_sets.ts";
import {
  FEATURE_PERMUTATION,
  FEATURE_PERMUTATION_TOLERANCE,
  PERMUTATION_DIMENSIONS,
} from "../kernels/feature_permutation.ts";
import { windowFeaturesGpu, type WindowSpec } from "../kernels/window_features.ts";
import { sharedGpu } from "../runtime/backend.ts";
import { GpuError } from "../runtime/errors.ts";
import type { GpuRuntime } from "../runtime/gpu.ts";
import { setLogLevel } from "../runtime/log.ts";
import { checkFeatureShaders } from "./feature_check.ts";
import { cyclingSegments, logPrice, price1e4, returns, ticks, withGaps } from "./data.ts";

setLogLevel("error");
const opts = { sanitizeResources: false, sanitizeOps: false };
const gpu = await sharedGpu();
const P = FEATURE_PERMUTATION;

/** A log price with constant stretches of 3, 10 and 150 rows and a zigzag of exact ties (0, 1, 0, 1, ...). */
function adversarial(n: number): Float64Array {
  const x = logPrice(n, 31);
  for (const [a, len] of [[50, 3], [300, 10], [600, 150]]) if (a + len <= n) x.fill(x[a], a, a + len);
  for (let i = 800; i < Math.min(n, 900); i++) x[i] = 9 + 1e-3 * (i % 2);
  return x;
}

/** Checks every dimension for `cols` under `specs` against the f64 path (NaN wherever w < D). */
function check(cols: Float64Array[], specs: WindowSpec[], what: string, rt: GpuRuntime = gpu): Promise<void> {
  return checkFeatureShaders(rt, [P], FEATURE_PERMUTATION_TOLERANCE, cols, specs, what, {
    after: (_, c) => {
      const d = PERMUTATION_DIMENSIONS[P.planes.indexOf(c.feature)];
      if (c.wmax < d) assert.ok(c.gpu.every(Number.isNaN), `${what} ${c.feature}: w < ${d} is NaN`);
    },
  });
}

Deno.test("permutation entropy: WebGPU matches f64 on rolling windows", opts, async () => {
  const cols = [
    logPrice(2000),
    price1e4(1500),
    returns(1000),
    withGaps(1500),
    ticks(1500),
    adversarial(1000),
    new Float64Array(300).fill(7.5),
  ];
  for (const w of [1, 2, 3, 4, 5, 6, 7, 8, 10, 20]) {
    await check(cols, cols.map(() => ({ window: w })), `w${w}`);
  }
  // O(w^2) per row: shorter series for the long windows.
  const short = cols.map((x) => x.subarray(0, 700));
  for (const w of [50, 100]) await check(short, short.map(() => ({ window: w })), `w${w}`);
});

Deno.test("permutation entropy: hand-checked values on WebGPU", opts, async () => {
  // 0, 1, 0, 1, ... (ties ranked by position): two patterns, alternating, for every D: of the k = w - D + 1
  // subchunks, ceil(k / 2) have one and floor(k / 2) the other. A constant window has one pattern: 0
  // (exactly: every c_i / k is 1).
  const w = 12, n = 30;
  const alt = Float64Array.from({ length: n }, (_, i) => i % 2);
  const [a, c] = await windowFeaturesGpu(gpu, [P], [alt, new Float64Array(n).fill(3)], [{ window: w }, {
    window: w,
  }]);
  PERMUTATION_DIMENSIONS.forEach((d, i) => {
    const k = w - d + 1, p = Math.ceil(k / 2) / k, q = 1 - p;
    const h = -p * Math.log(p) - q * Math.log(q);
    const f = P.planes[i];
    for (let t = w - 1; t < n; t++) {
      assert.ok(Math.abs(a.get(f)![t] - h) < 1e-6, `${f} at ${t}: ${a.get(f)![t]}`);
    }
    assert.ok(c.get(f)!.subarray(w - 1).every((v) => v === 0), f);
  });
});

Deno.test("permutation entropy: WebGPU matches f64 per segment and when chunked", opts, async () => {
  const x = logPrice(12000, 5);
  const lens = cyclingSegments(x.length, 1, 240, 10);
  const cols = [x, ticks(12000), withGaps(12000)];
  await check(cols, cols.map(() => ({ lens })), "segments");
  // 5 planes of 4 bytes: chunks of 1024 rows, with a 99-row halo for w = 100.
  const small = await sharedGpu({ maxBindingBytes: 1024 * 4 * 5 });
  const y = x.subarray(0, 4000);
  await check([y], [{ window: 100 }], "chunked", small);
  await check([y], [{ lens: lens.subarray(0, 4000) }], "chunked segments", small);
});

Deno.test("permutation entropy: no look-ahead", opts, async () => {
  const x = logPrice(2500, 8);
  const y = x.slice();
  for (let i = 2000; i < y.length; i++) y[i] = 1e6 * Math.sin(i);
  const [a, b] = await windowFeaturesGpu(gpu, [P], [x, y], [{ window: 60 }, { window: 60 }]);
  for (const f of P.planes) {
    // x_0 is the same, so the outputs before the change are bit-identical.
    assert.deepEqual(a.get(f)!.subarray(0, 2000), b.get(f)!.subarray(0, 2000), f);
  }
});

Deno.test("permutation entropy: window limit and llvmpipe's loop budget", opts, async () => {
  // The longest window that fits both the private code array (maxWindow) and, on a software adapter, the
  // 60,000 iterations checkLoopBudget allows (llvmpipe would silently cut an invocation short past 65,535)
  // runs fully ...
  let w = 2;
  while (w < P.maxWindow! && gpu.withinLoopBudget(P.loops(w + 1))) w++;
  assert.equal(w, gpu.isSoftware ? 245 : 256);
  const x = logPrice(w + 30, 12);
  await check([x], [{ window: w }], `w${w}`);
  // ... and the next one is refused up front, rolling or per segment.
  await assert.rejects(windowFeaturesGpu(gpu, [P], [x], [{ window: w + 1 }]), GpuError);
  const lens = new Int32Array(x.length);
  lens[w] = w + 1;
  await assert.rejects(windowFeaturesGpu(gpu, [P], [x], [{ lens }]), GpuError);
  // Past the array on any adapter; the feature sets send such windows to the CPU path.
  await assert.rejects(windowFeaturesGpu(gpu, [P], [x], [{ window: 257 }]), /exceeds the shader's limit/);
  const placed = featurePlacement(gpu, [50, 257], P.planes);
  for (const f of P.planes) assert.equal(placed[f], "webgpu+cpu", f);
  // The f64 path has no limit.
  const long = featureSetCpu(logPrice(300), 300, P.planes);
  for (const f of P.planes) assert.ok(Number.isFinite(long.get(f)![299]), f);
});
