/**
 * Rolling feature sets (kernels/feature_sets.ts, kernels/feature_minmax.ts, kernels/feature_frame.ts): the f64
 * path against tsfresh's definitions evaluated with numpy/pandas (tests/fixtures/feature_sets_tsfresh.json, made
 * by scripts/make_feature_sets_fixture.py), the WebGPU features against the f64 path (including chunked
 * series), no look-ahead on both paths, edge lengths, the config section and the feature_engineering engine.
 */
import type { FeatureEngineeringReport } from "../engines/feature_engineering.ts";
import { strict as assert } from "node:assert";
import { defaultConfig, validateConfig } from "../config/schema.ts";
import { extractFeatures } from "../kernels/feature_frame.ts";
import { makeFrame } from "../io/frame.ts";
import {
  FEATURE_SETS,
  featureColumnName,
  featurePlacement,
  featureSetCpu,
  featureSetGpu,
  GPU_TOLERANCE,
} from "../kernels/feature_sets.ts";
import { rollingMinMaxGpu } from "../kernels/feature_minmax.ts";
import { enabledEngines } from "../pipeline/engines.ts";
import { sharedGpu } from "../runtime/backend.ts";
import { setLogLevel } from "../runtime/log.ts";
import {
  assertClose,
  assertFeatureClose,
  inputScale,
  logPrice,
  price1e4,
  returns,
  withGaps,
} from "./data.ts";

setLogLevel("error");
const opts = { sanitizeResources: false, sanitizeOps: false };
const gpu = await sharedGpu();

interface Fixture {
  generator: string;
  windows: number[];
  series: {
    name: string;
    x: (number | null)[];
    features: Record<string, Record<string, (number | string | null)[]>>;
  }[];
}
const fixture: Fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/feature_sets_tsfresh.json", import.meta.url)),
);
const f64 = (a: (number | string | null)[]) => Float64Array.from(a, (v) => (v === null ? NaN : Number(v)));

/** assertClose, with +-Inf required at the same places (then left out). */
function assertCloseInf(
  actual: Float64Array,
  expected: Float64Array,
  tol: { atol: number; rtol: number },
  what: string,
): void {
  const a = actual.slice(), b = expected.slice();
  for (let i = 0; i < b.length; i++) {
    if (Number.isFinite(a[i]) && Number.isFinite(b[i])) continue;
    if (Number.isNaN(a[i]) || Number.isNaN(b[i])) continue;
    assert.equal(a[i], b[i], `${what}: at ${i}`);
    a[i] = b[i] = 0;
  }
  assertClose(a, b, tol, what);
}

/** f64-vs-reference tolerance by feature (see the fixture test). */
function fixtureTolerance(f: string): { atol: number; rtol: number } {
  // Counts, lengths, flags and locations are exact: comparisons of the same values (against the same f64 mean
  // and std, up to summation order, which decides no comparison in the fixture).
  if (
    /count_|longest_strike|number_peaks|length|has_duplicate|location_of|larger_than|ratio_beyond|large_standard|symmetry_looking/
      .test(f)
  ) {
    return { atol: 0, rtol: 0 };
  }
  // Levinson-Durbin divides by 1 - pacf^2 products: near-unit-root windows (walks) lose digits.
  if (f.startsWith("partial_autocorrelation")) return { atol: 1e-9, rtol: 1e-7 };
  // A direct DFT vs pocketfft: errors relative to the DC bin (the level times w).
  if (f.startsWith("fft_aggregated")) return { atol: 1e-9, rtol: 1e-9 };
  return { atol: 1e-12, rtol: 1e-9 };
}

Deno.test("feature sets: names follow tsfresh, each set extends the previous one", () => {
  assert.deepEqual(FEATURE_SETS.minimal, [
    "mean",
    "median",
    "standard_deviation",
    "variance",
    "minimum",
    "maximum",
    "sum_values",
    "length",
  ]);
  assert.deepEqual(FEATURE_SETS.efficient.slice(0, 8), FEATURE_SETS.minimal);
  assert.equal(FEATURE_SETS.efficient.length, 34);
  assert.deepEqual(FEATURE_SETS.comprehensive.slice(0, 34), FEATURE_SETS.efficient);
  // 57 up to ratio_beyond_r_sigma, then 17 more of tsfresh's grids (number_peaks ... symmetry_looking).
  // Plus the entropy grids: approximate_entropy r = 0.1 .. 0.9 (5) and permutation_entropy dimension 4 .. 7.
  assert.equal(FEATURE_SETS.comprehensive.length, 57 + 17 + 9);
  for (
    const f of [
      "autocorrelation__lag_10",
      "partial_autocorrelation__lag_5",
      "fft_aggregated__aggtype_kurtosis",
    ]
  ) {
    assert.ok(FEATURE_SETS.efficient.includes(f), f);
  }
  for (
    const f of [
      "sample_entropy",
      "approximate_entropy__m_2__r_0.2",
      "count_below_mean",
      "abs_energy",
      "cid_ce__normalize_True",
      "ratio_beyond_r_sigma__r_2",
    ]
  ) {
    assert.ok(FEATURE_SETS.comprehensive.includes(f), f);
  }
  assert.equal(
    featureColumnName("close", "autocorrelation__lag_1", 50),
    "close__autocorrelation__lag_1__w50",
  );
  // Every feature of the sets has a WGSL kernel; other approximate-entropy parameters run on the CPU.
  const all = [...FEATURE_SETS.comprehensive, "approximate_entropy__m_3__r_0.5"];
  const placed = featurePlacement(gpu, [50], all);
  for (const f of FEATURE_SETS.comprehensive) assert.equal(placed[f], "webgpu", f);
  assert.equal(placed["approximate_entropy__m_3__r_0.5"], "cpu");
});

Deno.test("feature sets: f64 path equals tsfresh's definitions (numpy/pandas/statsmodels fixture)", () => {
  assert.match(fixture.generator, /pandas/);
  assert.match(fixture.generator, /statsmodels/);
  assert.equal(fixture.series.length, 4);
  let infinities = 0;
  for (const s of fixture.series) {
    const x = f64(s.x);
    for (const w of fixture.windows) {
      const ours = featureSetCpu(x, w, FEATURE_SETS.comprehensive);
      const ref = s.features[String(w)];
      assert.deepEqual(Object.keys(ref), [...FEATURE_SETS.comprehensive]);
      for (const f of FEATURE_SETS.comprehensive) {
        // Moments of windows of 24 points summed in a different order: ~1e-15 relative; the slope and
        // autocorrelation of a near-linear stretch can lose a few more digits.
        const e = f64(ref[f]);
        infinities += e.filter((v) => v === Infinity).length;
        assertCloseInf(ours.get(f)!, e, fixtureTolerance(f), `${s.name} w${w} ${f}`);
      }
    }
  }
  assert.ok(infinities > 0, "the fixture covers sample_entropy = +Inf");
});

Deno.test("feature sets: pacf, FFT summaries and entropies on hand-checked inputs", () => {
  // x = 0, 1, 0, 1, ...: |rfft| of w = 8 has only DC (4) and Nyquist (4): centroid 2, variance 4.
  const alt = Float64Array.from({ length: 8 }, (_, i) => i % 2);
  const r = featureSetCpu(alt, 8, FEATURE_SETS.comprehensive);
  const at = (f: string) => r.get(f)![7];
  assert.ok(Math.abs(at("fft_aggregated__aggtype_centroid") - 2) < 1e-12);
  assert.ok(Math.abs(at("fft_aggregated__aggtype_variance") - 4) < 1e-12);
  // statsmodels' "ld" uses the adjusted autocovariance: lag 1 of an alternating series is -1.
  assert.ok(Math.abs(at("partial_autocorrelation__lag_1") + 1) < 1e-12);
  // Only the patterns (0,1,0) and (1,0,1) occur, 3 times each: ln 2.
  assert.ok(Math.abs(at("permutation_entropy__dimension_3__tau_1") - Math.LN2) < 1e-12);
  assert.equal(at("count_above_mean"), 4);
  assert.equal(at("longest_strike_below_mean"), 1);
  // A strictly increasing window: no template pairs within 0.2 std at all for w = 8 -> 0 / 0.
  const inc = Float64Array.from({ length: 8 }, (_, i) => i);
  assert.ok(Number.isNaN(featureSetCpu(inc, 8, ["sample_entropy"]).get("sample_entropy")![7]));
  // w // 2 - 1 < 5: pacf lags above w // 2 - 1 are NaN, as tsfresh.
  const p = featureSetCpu(logPrice(40), 8, FEATURE_SETS.efficient);
  assert.ok(Number.isFinite(p.get("partial_autocorrelation__lag_3")![20]));
  assert.ok(Number.isNaN(p.get("partial_autocorrelation__lag_4")![20]));
});

Deno.test("feature sets: zero variance gives tsfresh's values (skew/kurt 0, autocorrelation NaN)", () => {
  const x = new Float64Array(20).fill(3);
  const r = featureSetCpu(x, 5, FEATURE_SETS.comprehensive);
  const at = (f: string) => r.get(f)![10];
  assert.equal(at("skewness"), 0);
  assert.equal(at("kurtosis"), 0);
  assert.ok(Number.isNaN(at("autocorrelation__lag_1")));
  assert.equal(at("median"), 3);
  assert.equal(at("sum_values"), 15);
  assert.equal(at("length"), 5);
  assert.equal(at("number_peaks__n_1"), 0);
  assert.ok(Number.isNaN(at("partial_autocorrelation__lag_1")));
  // Every pair matches: A / B = (w - 2)(w - 3) / ((w - 1)(w - 2)) = 1 / 2 for w = 5.
  assert.equal(at("sample_entropy"), Math.LN2);
  assert.equal(at("approximate_entropy__m_2__r_0.2"), 0);
  assert.ok(at("permutation_entropy__dimension_3__tau_1") === 0); // numpy: -0
  assert.equal(at("count_above_mean"), 0);
  assert.equal(at("longest_strike_below_mean"), 0);
});

Deno.test("feature sets: lengths 0, 1 and w - 1 give all NaN; NaN until the window is full", () => {
  for (const n of [0, 1, 9]) {
    for (const [f, v] of featureSetCpu(logPrice(n), 10, FEATURE_SETS.comprehensive)) {
      assert.equal(v.length, n);
      assert.ok(v.every(Number.isNaN), `${f} n=${n}`);
    }
  }
  const r = featureSetCpu(logPrice(60), 24, FEATURE_SETS.comprehensive);
  for (const [f, v] of r) {
    assert.ok(v.subarray(0, 23).every(Number.isNaN), f);
    // FFT skew/kurtosis are NaN below a spectral variance of 0.5 (the DC bin of a level dominates),
    // sample_entropy is NaN where no template pair matches (0 / 0) and +Inf where none of length 3 does.
    if (/fft_aggregated__aggtype_(skew|kurtosis)|sample_entropy/.test(f)) continue;
    assert.ok(v.subarray(23).every((u) => !Number.isNaN(u)), f);
  }
});

Deno.test("feature sets: WebGPU moment and min/max features match the f64 path", opts, async () => {
  const windows = [2, 7, 50, 64];
  const cols = [logPrice(3001), price1e4(2500), returns(1000), withGaps(2000)];
  const features = FEATURE_SETS.minimal;
  const g = await featureSetGpu(gpu, cols, windows, features);
  cols.forEach((x, c) => {
    const scale = inputScale([x]);
    windows.forEach((w, i) => {
      const ref = featureSetCpu(x, w, features);
      for (const f of features) {
        const tol = GPU_TOLERANCE[f] ?? { atol: 0, rtol: 0, stol: 0 };
        let k = 1;
        if (f === "sum_values") k = w;
        if (f === "variance") {
          // d(s^2) = 2 s ds: scale the std's tolerance by 2 max s.
          k = 2 * Math.max(1e-300, ...ref.get("standard_deviation")!.filter(Number.isFinite));
        }
        assertClose(
          g[c][i].get(f)!,
          ref.get(f)!,
          { atol: tol.atol * k, rtol: tol.rtol, stol: (tol.stol ?? 0) * k },
          `column ${c} w${w} ${f}`,
          scale,
        );
      }
    });
  });
});

Deno.test("feature sets: WebGPU min/max is the same when chunked with halos", opts, async () => {
  const x = logPrice(20000, 9);
  const small = await sharedGpu({ maxBindingBytes: 4096 * 4 * 4 });
  const [whole] = await rollingMinMaxGpu(gpu, [x], [3, 100]);
  const [chunked] = await rollingMinMaxGpu(small, [x], [3, 100]);
  const ref3 = featureSetCpu(x, 3, ["minimum", "maximum"]);
  const ref100 = featureSetCpu(x, 100, ["minimum", "maximum"]);
  for (let p = 0; p < 4; p++) assertClose(chunked[p], whole[p], { atol: 0, rtol: 0 }, `plane ${p}`);
  const s = inputScale([x]);
  assertClose(whole[0], ref3.get("minimum")!, { atol: 0, rtol: 0, stol: 1e-7 }, "min w3", s);
  assertClose(whole[3], ref100.get("maximum")!, { atol: 0, rtol: 0, stol: 1e-7 }, "max w100", s);
});

Deno.test(
  "feature sets: no look-ahead (head of 2000 rows equals 1000 rows) on both paths",
  opts,
  async () => {
    const x = withGaps(2000, 11);
    const head = x.slice(0, 1000);
    for (const w of [5, 50]) {
      const full = featureSetCpu(x, w, FEATURE_SETS.comprehensive);
      const part = featureSetCpu(head, w, FEATURE_SETS.comprehensive);
      for (const f of FEATURE_SETS.comprehensive) {
        assert.deepEqual(part.get(f), full.get(f)!.slice(0, 1000), `cpu ${f} w${w}`);
      }
    }
    const [[gFull], [gPart]] = [
      await featureSetGpu(gpu, [x], [50], FEATURE_SETS.minimal),
      await featureSetGpu(gpu, [head], [50], FEATURE_SETS.minimal),
    ];
    for (const f of FEATURE_SETS.minimal) {
      assert.deepEqual(gPart[0].get(f), gFull[0].get(f)!.slice(0, 1000), `gpu ${f}`);
    }
    // Changing the future leaves the past unchanged.
    const y = x.slice();
    y.fill(1e6, 1500);
    const changed = featureSetCpu(y, 50, FEATURE_SETS.comprehensive);
    const orig = featureSetCpu(x, 50, FEATURE_SETS.comprehensive);
    for (const f of FEATURE_SETS.comprehensive) {
      assert.deepEqual(changed.get(f)!.slice(0, 1500), orig.get(f)!.slice(0, 1500), f);
    }
  },
);

Deno.test("config: features.extraction defaults, values and errors", () => {
  assert.deepEqual(defaultConfig().features.extraction, {
    set: "minimal",
    windows: [50],
    columns: ["close"],
    segments: [],
    workers: 0,
  });
  const c = validateConfig({
    features: { extraction: { set: "efficient", windows: [10, 20], columns: ["a"], segments: ["day"] } },
  });
  assert.deepEqual(c.features.extraction, {
    set: "efficient",
    windows: [10, 20],
    columns: ["a"],
    segments: ["day"],
    workers: 0,
  });
  assert.equal(
    validateConfig({ features: { extraction: { set: "comprehensive" } } }).features.extraction.set,
    "comprehensive",
  );
  assert.throws(
    () => validateConfig({ features: { extraction: { set: "huge" } } }, { source: "t.yaml" }),
    /t\.yaml: features\.extraction\.set: expected/,
  );
  assert.throws(
    () => validateConfig({ features: { extraction: { windows: [1] } } }, { source: "t.yaml" }),
    /t\.yaml: features\.extraction\.windows\[0\]: expected an integer in \[2, 10000\]/,
  );
});

Deno.test("engine: feature_engineering adds the feature-set columns after Baxter-King", opts, async () => {
  const n = 400;
  const close = price1e4(n);
  const frame = makeFrame("test.csv", n, new Map([["close", close]]));
  const cfg = validateConfig({ features: { extraction: { set: "efficient", windows: [20, 50] } } });
  const [, fe] = enabledEngines(cfg);
  assert.equal(fe.name, "feature_engineering");
  for (const compute of [{ choice: "cpu" as const, gpu: null }, { choice: "webgpu" as const, gpu }]) {
    const r = await fe.run(frame, cfg, compute);
    assert.ok(r.columns.has("close_bk_6_32_12"));
    assert.ok(r.columns.has("close__mean__w50"));
    assert.ok(r.columns.has("close__autocorrelation__lag_1__w20"));
    assert.equal(r.columns.size, 1 + 2 * 34);
    const ext = (r.report as FeatureEngineeringReport).extraction!;
    assert.equal(ext.columns, 68);
    const placement = ext.placement!;
    for (const f of FEATURE_SETS.efficient) assert.equal(placement[f], compute.gpu ? "webgpu" : "cpu", f);
    const ref = featureSetCpu(close, 50, ["median", "skewness"]);
    for (const f of ["median", "skewness"]) {
      const got = r.columns.get(`close__${f}__w50`)!;
      if (compute.gpu) assertFeatureClose(got, ref.get(f)!, GPU_TOLERANCE[f], f, inputScale([close]));
      else assert.deepEqual(got, ref.get(f));
    }
  }
  const none = await extractFeatures(frame, { set: "none", windows: [50], columns: ["close"] }, {
    choice: "cpu",
    gpu: null,
  });
  assert.equal(none.columns.size, 0);
  const comp = await extractFeatures(frame, { set: "comprehensive", windows: [20], columns: ["close"] }, {
    choice: "webgpu",
    gpu,
  });
  assert.equal(comp.columns.size, FEATURE_SETS.comprehensive.length);
  const placement = comp.report.placement as Record<string, string>;
  assert.equal(placement.sample_entropy, "webgpu");
  assert.equal(placement.mean, "webgpu");
  assertFeatureClose(
    comp.columns.get("close__sample_entropy__w20")!,
    featureSetCpu(close, 20, ["sample_entropy"]).get("sample_entropy")!,
    GPU_TOLERANCE.sample_entropy,
    "sample_entropy",
  );
  // A window past llvmpipe's loop budget sends the O(w^2) features to the CPU (placement says so).
  const long = await extractFeatures(
    frame,
    { set: "comprehensive", windows: [20, 300], columns: ["close"] },
    {
      choice: "webgpu",
      gpu,
    },
  );
  const lp = long.report.placement as Record<string, string>;
  assert.equal(lp.mean, "webgpu");
  if (gpu.isSoftware) {
    assert.equal(lp.sample_entropy, "webgpu+cpu");
    assert.deepEqual(
      long.columns.get("close__sample_entropy__w300"),
      featureSetCpu(close, 300, ["sample_entropy"]).get("sample_entropy"),
    );
  }
});
