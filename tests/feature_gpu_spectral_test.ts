/**
 * The autocorrelation and fft_aggregated shaders (shaders/feature_autocorr.wgsl, shaders/feature_fft.wgsl
 * via kernels/window_features.ts) against the f64 reference (featureSetCpu) on realistic and adversarial
 * series, for rolling and per-segment windows (including the short ones where tsfresh's NaN rules apply),
 * chunked and unchunked, and without look-ahead.
 */
import { strict as assert } from "node:assert";
import { FEATURE_AUTOCORR, FEATURE_AUTOCORR_TOLERANCE } from "../kernels/feature_autocorr.ts";
import { FEATURE_FFT, FEATURE_FFT_TOLERANCE } from "../kernels/feature_fft.ts";
import { featureSetCpu } from "../kernels/feature_sets.ts";
import { windowFeaturesGpu, type WindowShader, type WindowSpec } from "../kernels/window_features.ts";
import type { Tolerance } from "../kernels/kernel.ts";
import { sharedGpu } from "../runtime/backend.ts";
import { setLogLevel } from "../runtime/log.ts";
import { checkFeatureShaders } from "./feature_check.ts";
import {
  assertFeatureClose,
  cyclingSegments,
  inputScale,
  logPrice,
  price1e4,
  returns,
  ticks,
  withGaps,
} from "./data.ts";

setLogLevel("error");
const opts = { sanitizeResources: false, sanitizeOps: false };
const gpu = await sharedGpu();
const SHADERS = [FEATURE_AUTOCORR, FEATURE_FFT];
const FEATURES = SHADERS.flatMap((s) => s.planes);
const TOLERANCE: Record<string, Tolerance> = {
  ...FEATURE_AUTOCORR_TOLERANCE,
  ...FEATURE_FFT_TOLERANCE,
};

/** A log price halted for 200 rows at a value whose f64 window mean is inexact (w 11+): acf/pacf NaN on both. */
function haltedLogPrice(n: number): Float64Array {
  const x = logPrice(n, 13);
  x.fill(x[150], 150, 350);
  return x;
}

/** Returns with a run of exact zeros: every |rfft| bin is 0 there (fft_aggregated NaN) and acf/pacf NaN. */
function returnsWithZeros(n: number): Float64Array {
  const r = returns(n, 9);
  r.fill(0, 300, 420);
  return r;
}

/** Smallest Levinson-Durbin residual variance (over acov_0) of orders 1..k-1 of a window, in f64. */
function ldResidual(x: Float64Array, k: number): number {
  const n = x.length;
  const mean = x.reduce((a, v) => a + v, 0) / n;
  const acov = Array.from({ length: k }, (_, j) => {
    let a = 0;
    for (let i = 0; i + j < n; i++) a += (x[i] - mean) * (x[i + j] - mean);
    return a / (n - j);
  });
  let phi = [0], sig = acov[0], least = Infinity;
  for (let j = 1; j < k; j++) {
    let dot = 0;
    for (let i = 1; i < j; i++) dot += phi[i] * acov[j - i];
    const p = (acov[j] - dot) / sig;
    phi = [0, ...phi.slice(1).map((v, i) => v - p * phi[j - 1 - i]), p];
    sig *= 1 - p * p;
    least = Math.min(least, Math.abs(sig) / acov[0]);
  }
  return least;
}

/** Checks every feature of both shaders on `cols` under `specs` against the f64 path. */
function check(cols: Float64Array[], specs: WindowSpec[], what: string, rt = gpu): Promise<void> {
  return checkFeatureShaders(rt, SHADERS, TOLERANCE, cols, specs, what, {
    after: (tol, c) => {
      const b = c.ref.get(c.feature)!;
      const k = Number(/^partial_autocorrelation__lag_(\d+)$/.exec(c.feature)?.[1] ?? 0);
      for (let t = 0; t < b.length; t++) {
        if (Number.isNaN(b[t])) continue;
        const r = Math.abs(c.gpu[t] - b[t]) /
          (tol.atol + tol.rtol * Math.abs(b[t]) + (tol.stol ?? 0) * c.scale);
        if (r > 1) {
          // pacf's flips: its f32 error grows like 1 / (the residual variance), unbounded where the
          // adjusted autocovariance is near singular; every point outside the tolerance must be such a one.
          const w = "lens" in c.spec ? c.spec.lens[t] : c.spec.window;
          const res = ldResidual(c.x.subarray(t - w + 1, t + 1), k);
          assert.ok(
            res < 1e-2,
            `${what} column ${c.column} ${c.feature} at ${t}: outside (${r}), residual ${res}`,
          );
        }
      }
    },
  });
}

Deno.test("spectral features: WebGPU matches f64 on rolling windows", opts, async () => {
  const cols = [
    logPrice(3001),
    price1e4(2500),
    returns(1000),
    withGaps(2000),
    ticks(1500),
    returnsWithZeros(800),
    haltedLogPrice(600),
  ];
  for (const w of [2, 3, 4, 7, 11, 12, 50, 128]) {
    await check(cols, cols.map(() => ({ window: w })), `w${w}`);
  }
});

Deno.test("spectral features: WebGPU matches f64 per segment and when chunked", opts, async () => {
  const x = logPrice(20000, 5);
  // Segments of 1..13 rows (tsfresh's short-window NaN rules), then of 10..400 rows; the window of each
  // ends at its last row.
  const lens = cyclingSegments(x.length, 10, 400, 13);
  await check([x, ticks(20000), returns(20000, 6)], [{ lens }, { lens }, { lens }], "segments");
  // 4096-row chunks: the halo makes every window see the same f32 values, so the result is bit-identical
  // (rolling windows are checked against f64 above).
  const small = await sharedGpu({ maxBindingBytes: 4096 * 4 * FEATURES.length });
  for (const spec of [{ window: 100 }, { lens }]) {
    const [whole] = await windowFeaturesGpu(gpu, SHADERS, [x], [spec]);
    const [chunked] = await windowFeaturesGpu(small, SHADERS, [x], [spec]);
    for (const f of FEATURES) assert.deepEqual(chunked.get(f), whole.get(f), `chunked ${f}`);
  }
});

Deno.test("spectral features: no look-ahead", opts, async () => {
  const x = logPrice(3000, 8);
  const y = x.slice();
  for (let i = 2000; i < y.length; i++) y[i] = 1e6 * Math.sin(i);
  const [a, b] = await windowFeaturesGpu(gpu, SHADERS, [x, y], [{ window: 60 }, { window: 60 }]);
  for (const f of FEATURES) {
    // x_0 is the same, so the outputs before the change are bit-identical.
    assert.deepEqual(a.get(f)!.subarray(0, 2000), b.get(f)!.subarray(0, 2000), f);
  }
});

/** The longest window whose loops() stays within checkLoopBudget's 60,000. */
function largestWindow(s: WindowShader): number {
  let w = 2;
  while (s.loops(w + 1) <= 60_000) w++;
  return w;
}

Deno.test(
  "spectral features: correct at the largest windows within llvmpipe's loop budget",
  opts,
  async () => {
    // An undercounting loops() would let llvmpipe cut invocations short (at 65,535 iterations): wrong values.
    const cases = [[FEATURE_AUTOCORR, 5000], [FEATURE_FFT, 700]] as const;
    for (const [s, n] of cases) {
      const w = largestWindow(s);
      const x = logPrice(n, 12);
      const [g] = await windowFeaturesGpu(gpu, [s], [x], [{ window: w }]);
      const ref = featureSetCpu(x, { window: w }, s.planes);
      for (const f of s.planes) {
        assertFeatureClose(g.get(f)!, ref.get(f)!, TOLERANCE[f], `${s.shader} w${w} ${f}`, inputScale([x]));
      }
    }
  },
);
