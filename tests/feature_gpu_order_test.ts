/**
 * The order-statistic and entropy feature shaders (shaders/feature_quantiles.wgsl, feature_entropy.wgsl via
 * kernels/window_features.ts) against the f64 reference (featureSetCpu) on realistic and adversarial series
 * (ties, constant stretches, NaN/Inf gaps), for rolling and per-segment windows, chunked and unchunked,
 * without look-ahead, and within llvmpipe's loop budget.
 */
import { strict as assert } from "node:assert";
import { featureSetCpu } from "../kernels/feature_sets.ts";
import { FEATURE_ENTROPY, FEATURE_ENTROPY_TOLERANCE } from "../kernels/feature_entropy.ts";
import { FEATURE_QUANTILES, FEATURE_QUANTILES_TOLERANCE } from "../kernels/feature_quantiles.ts";
import { windowFeaturesGpu, type WindowShader, type WindowSpec } from "../kernels/window_features.ts";
import type { Tolerance } from "../kernels/kernel.ts";
import { sharedGpu } from "../runtime/backend.ts";
import { GpuError } from "../runtime/errors.ts";
import type { GpuRuntime } from "../runtime/gpu.ts";
import { setLogLevel } from "../runtime/log.ts";
import { checkFeatureShaders } from "./feature_check.ts";
import { cyclingSegments, inputScale, logPrice, price1e4, returns, ticks, withGaps } from "./data.ts";

setLogLevel("error");
const opts = { sanitizeResources: false, sanitizeOps: false };
const gpu = await sharedGpu();

const SHADERS: [WindowShader, Readonly<Record<string, Tolerance>>][] = [
  [FEATURE_QUANTILES, FEATURE_QUANTILES_TOLERANCE],
  [FEATURE_ENTROPY, FEATURE_ENTROPY_TOLERANCE],
];

/** A log price with constant stretches (a halted market) of 3, 10 and 150 rows. */
function halted(n: number): Float64Array {
  const x = logPrice(n, 31);
  for (const [a, len] of [[50, 3], [300, 10], [600, 150]]) if (a + len <= n) x.fill(x[a], a, a + len);
  return x;
}

/** Checks every plane of `shader` for `cols` under `specs` against the f64 path. */
function check(
  [shader, tols]: [WindowShader, Readonly<Record<string, Tolerance>>],
  cols: Float64Array[],
  specs: WindowSpec[],
  what: string,
  rt: GpuRuntime = gpu,
): Promise<void> {
  return checkFeatureShaders(rt, [shader], tols, cols, specs, what);
}

Deno.test("feature quantiles: WebGPU matches f64 on rolling windows", opts, async () => {
  const cols = [
    logPrice(3001),
    price1e4(2500),
    returns(1000),
    withGaps(2000),
    ticks(1500),
    halted(1000),
    new Float64Array(300).fill(7.5),
  ];
  for (const w of [1, 2, 3, 4, 5, 7, 10, 11, 20, 21, 50, 100]) {
    await check(SHADERS[0], cols, cols.map(() => ({ window: w })), `w${w}`);
  }
  // O(w^2) per row: shorter series for w = 200.
  const short = cols.map((x) => x.subarray(0, 600));
  await check(SHADERS[0], short, short.map(() => ({ window: 200 })), "w200");
});

Deno.test("feature quantiles: hand-checked tenths and range flags on both paths", opts, async () => {
  // Window 1, 5, 2, 3, 9, 4, 3, 2, 8, 1, 0, 2 (w = 12): numpy's quantiles; std 2.61 > 0.25 * 9;
  // |mean - median| = |3.33 - 2.5| >= 0.05 * 9.
  const x = Float64Array.from([1, 5, 2, 3, 9, 4, 3, 2, 8, 1, 0, 2]);
  const ref = featureSetCpu(x, 12, FEATURE_QUANTILES.planes);
  const [g] = await windowFeaturesGpu(gpu, [FEATURE_QUANTILES], [x], [{ window: 12 }]);
  const want: Record<string, number> = {
    "quantile__q_0.2": 1.2,
    "quantile__q_0.3": 2,
    "quantile__q_0.4": 2,
    "quantile__q_0.6": 3,
    "quantile__q_0.7": 3.7,
    "quantile__q_0.8": 4.8,
    "large_standard_deviation__r_0.25": 1,
    "symmetry_looking__r_0.05": 0,
  };
  for (const [f, v] of Object.entries(want)) {
    assert.ok(Math.abs(ref.get(f)![11] - v) < 1e-12, `cpu ${f}: ${ref.get(f)![11]} != ${v}`);
    assert.ok(Math.abs(g.get(f)![11] - v) < 1e-6, `gpu ${f}: ${g.get(f)![11]} != ${v}`);
  }
  // 1, 2, 3, 4 (w = 4): symmetric (mean = median), std 1.118 > 0.25 * 3; a constant window has neither.
  const y = Float64Array.from([1, 2, 3, 4, 7, 7, 7, 7]);
  const ry = featureSetCpu(y, 4, FEATURE_QUANTILES.planes);
  const [gy] = await windowFeaturesGpu(gpu, [FEATURE_QUANTILES], [y], [{ window: 4 }]);
  for (const r of [ry, gy]) {
    assert.equal(r.get("symmetry_looking__r_0.05")![3], 1);
    assert.equal(r.get("large_standard_deviation__r_0.25")![3], 1);
    assert.equal(r.get("symmetry_looking__r_0.05")![7], 0);
    assert.equal(r.get("large_standard_deviation__r_0.25")![7], 0);
  }
});

Deno.test("feature entropy: WebGPU matches f64 on rolling windows", opts, async () => {
  const cols = [
    logPrice(2000),
    price1e4(1500),
    returns(1000),
    withGaps(1500),
    ticks(1500),
    halted(1000),
    new Float64Array(300).fill(7.5),
  ];
  for (const w of [1, 2, 3, 4, 5, 7, 20]) {
    await check(SHADERS[1], cols, cols.map(() => ({ window: w })), `w${w}`);
  }
  // O(w^2) per row: shorter series for the long windows.
  const short = cols.map((x) => x.subarray(0, 700));
  for (const w of [50, 100]) await check(SHADERS[1], short, short.map(() => ({ window: w })), `w${w}`);
});

Deno.test(
  "feature entropy: points outside the rounding tolerance are near-threshold pairs",
  opts,
  async () => {
    const w = 100, f32 = 2 ** -24;
    const cols = [logPrice(3001), withGaps(2000)];
    const g = await windowFeaturesGpu(gpu, [FEATURE_ENTROPY], cols, cols.map(() => ({ window: w })));
    let flips = 0;
    cols.forEach((x, c) => {
      const ref = featureSetCpu(x, { window: w }, FEATURE_ENTROPY.planes);
      const scale = inputScale([x]);
      // Sample entropy (r = 0.2) and approximate entropy at every r of the grid.
      for (const f of FEATURE_ENTROPY.planes) {
        const rf = f === "sample_entropy" ? 0.2 : Number(/__r_([\d.]+)$/.exec(f)![1]);
        const tol = FEATURE_ENTROPY_TOLERANCE[f];
        const a = g[c].get(f)!, b = ref.get(f)!;
        for (let t = 0; t < x.length; t++) {
          if (Number.isNaN(b[t]) || Math.abs(a[t] - b[t]) <= tol.atol + tol.rtol * Math.abs(b[t])) continue;
          flips++;
          // Some |x_i - x_j| of the window lies within the f32 error of the distances (2^-24 S per value)
          // and of r std (~1e-6 relative) from r std.
          const win = x.subarray(t - w + 1, t + 1);
          const mean = win.reduce((s, v) => s + v, 0) / w;
          const r = rf * Math.sqrt(win.reduce((s, v) => s + (v - mean) ** 2, 0) / w);
          const band = 4 * f32 * scale + 2e-6 * r;
          let near = Infinity;
          for (let i = 0; i < w; i++) {
            for (let j = i + 1; j < w; j++) near = Math.min(near, Math.abs(Math.abs(win[i] - win[j]) - r));
          }
          assert.ok(
            near <= band,
            `column ${c} ${f} at ${t}: nearest distance ${near} from r std, band ${band}`,
          );
        }
      }
    });
    assert.ok(flips > 0, "the series exercise near-threshold pairs");
  },
);

Deno.test(
  "feature quantiles and entropy: WebGPU matches f64 per segment and when chunked",
  opts,
  async () => {
    // ~180 segment windows of up to 240 rows per column: the entropies' near-threshold flips (~3e-3 of the
    // windows of ~240 rows per r) stay within their 1e-2 (one flip among 88 windows would not).
    const x = logPrice(24000, 5);
    const lens = cyclingSegments(x.length, 1, 240);
    const cols = [x, ticks(24000), withGaps(24000)];
    for (const s of SHADERS) await check(s, cols, cols.map(() => ({ lens })), `${s[0].shader} segments`);
    // 1024 rows of 3 planes of 4 bytes (fewer rows for more planes) per chunk, with a 99-row halo for w = 100.
    const small = await sharedGpu({ maxBindingBytes: 1024 * 4 * 3 });
    const y = x.subarray(0, 4000);
    for (const s of SHADERS) {
      await check(s, [y], [{ window: 100 }], `${s[0].shader} chunked`, small);
      await check(s, [y], [{ lens: lens.subarray(0, 4000) }], `${s[0].shader} chunked segments`, small);
    }
  },
);

Deno.test("feature quantiles and entropy: no look-ahead", opts, async () => {
  const x = logPrice(2500, 8);
  const y = x.slice();
  for (let i = 2000; i < y.length; i++) y[i] = 1e6 * Math.sin(i);
  for (const [shader] of SHADERS) {
    const [a, b] = await windowFeaturesGpu(gpu, [shader], [x, y], [{ window: 60 }, { window: 60 }]);
    for (const f of shader.planes) {
      // x_0 is the same, so the outputs before the change are bit-identical.
      assert.deepEqual(a.get(f)!.subarray(0, 2000), b.get(f)!.subarray(0, 2000), f);
    }
  }
});

Deno.test({
  name: "feature quantiles and entropy: llvmpipe's loop budget",
  ...opts,
  // Only a software adapter stops loops (and has checkLoopBudget throw).
  ignore: !gpu.isSoftware,
  fn: async () => {
    for (const s of SHADERS) {
      // The longest window whose per-invocation iterations stay within checkLoopBudget's 60,000 runs fully
      // (llvmpipe would silently cut an invocation short past 65,535) ...
      let w = 2;
      while (s[0].loops(w + 1) <= 60_000) w++;
      assert.ok(w >= 200, `${s[0].shader}: longest window ${w}`);
      const x = logPrice(w + 30, 12);
      await check(s, [x], [{ window: w }], `${s[0].shader} w${w}`);
      // ... and the next one is refused up front, rolling or per segment.
      await assert.rejects(windowFeaturesGpu(gpu, [s[0]], [x], [{ window: w + 1 }]), GpuError);
      const lens = new Int32Array(x.length);
      lens[w] = w + 1;
      await assert.rejects(windowFeaturesGpu(gpu, [s[0]], [x], [{ lens }]), GpuError);
    }
  },
});
