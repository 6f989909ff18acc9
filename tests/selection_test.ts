/**
 * The statistical_tests engine: the forward-return target (bars vs time horizons), the dCor ranking on common
 * rows, exclusions with reasons, BH q-values and FDR selection, the top-K selection, and the config rejection
 * of bad target names.
 */
import { strict as assert } from "node:assert";
import {
  bhQValues,
  forwardReturn,
  forwardReturnTime,
  globRegExp,
  parseTarget,
  selectFeatures,
  type SelectionConfig,
  type SelectionReport,
} from "../engines/statistical_tests.ts";
import { validateConfig } from "../config/schema.ts";
import { medianSpacing } from "../engines/target.ts";
import { seededNormals } from "../runtime/rng.ts";
import { makeFrame } from "../io/frame.ts";
import { UsageError } from "../runtime/errors.ts";
import { GpuRuntime } from "../runtime/gpu.ts";
import { setLogLevel } from "../runtime/log.ts";
import { returns } from "./data.ts";

setLogLevel("error");
const CPU = { choice: "cpu" as const, gpu: null };

/** A geometric random walk close of n bars. */
function closeOf(n: number, seed: number): Float64Array {
  const r = returns(n, seed), close = new Float64Array(n);
  let p = 100;
  for (let t = 0; t < n; t++) close[t] = p *= Math.exp(r[t]);
  return close;
}

const base: SelectionConfig = {
  target: "y_ret_fwd_3",
  top_k: 10,
  max_samples: 5000,
  permutations: 49,
  seed: 0,
  rolling: false,
  rolling_window: 500,
};

async function run(frame: ReturnType<typeof makeFrame>, cfg: Partial<SelectionConfig> = {}) {
  const r = await selectFeatures(frame, { ...base, ...cfg }, CPU);
  return { columns: r.columns, report: r.report as unknown as SelectionReport };
}

Deno.test("target: y_ret_fwd_<h> is the log return from t to t + h bars; the last h rows are NaN", () => {
  const close = Float64Array.from([100, 101, 99, 102, 104, 103]);
  const y = forwardReturn(close, 2);
  assert.equal(y[0], Math.log(99 / 100));
  assert.equal(y[3], Math.log(103 / 102));
  assert.ok(Number.isNaN(y[4]) && Number.isNaN(y[5]));
  assert.deepEqual(parseTarget("y_ret_fwd_3"), { kind: "bars", bars: 3 });
  assert.deepEqual(parseTarget("y_ret_fwd_3bars"), { kind: "bars", bars: 3 });
  // Changed semantics: `m` is minutes (it used to mean bars, i.e. 15 days on daily data).
  assert.deepEqual(parseTarget("y_ret_fwd_15m"), { kind: "time", ms: 15 * 60_000, text: "15m" });
  assert.deepEqual(parseTarget("y_ret_fwd_1h"), { kind: "time", ms: 3_600_000, text: "1h" });
  assert.deepEqual(parseTarget("y_ret_fwd_1d"), { kind: "time", ms: 86_400_000, text: "1d" });
  assert.deepEqual(parseTarget("y_label"), { kind: "column" });
  for (
    const bad of ["ret_15", "y_ret_fwd_", "y_ret_fwd_0", "y_ret_fwd_15x", "y_ret_fwd_1mo", "y_ret_fwd_-3"]
  ) {
    assert.throws(() => parseTarget(bad), UsageError, bad);
  }
});

Deno.test(
  "target: a time horizon takes the last bar at or before t + h on irregular timestamps (gap), NaN past the data",
  async () => {
    const min = 60_000;
    // Minutes 0..4, a gap, then 10..12.
    const ts = Float64Array.from([0, 1, 2, 3, 4, 10, 11, 12], (m) => 1.7e12 + m * min);
    const close = Float64Array.from([100, 101, 102, 103, 104, 110, 111, 112]);
    const y = forwardReturnTime(close, ts, 2 * min);
    const lr = (a: number, b: number) => Math.log(close[b] / close[a]);
    assert.equal(y[0], lr(0, 2));
    assert.equal(y[3], lr(3, 4)); // 3 + 2 = 5: the last bar at or before it is minute 4
    assert.equal(y[4], 0); // 4 + 2 = 6 falls in the gap: no newer bar, so the price has not moved
    assert.equal(y[5], lr(5, 7));
    assert.ok(Number.isNaN(y[6]) && Number.isNaN(y[7])); // 13 and 14 are past the data
    // Bars ignore the clock: 2 bars from minute 3 is minute 10.
    assert.equal(forwardReturn(close, 2)[3], lr(3, 5));

    // Through the engine: the computed column, and the horizon in bars from the median spacing (1 minute).
    const frame = makeFrame(
      "ts",
      close.length,
      new Map([["close", close]]),
      [],
      { column: "timestamp", values: ts },
    );
    const { columns, report } = await run(frame, { target: "y_ret_fwd_2m" });
    assert.deepEqual(columns.get("y_ret_fwd_2m"), y);
    assert.deepEqual(report.horizon, { kind: "time", bars: 2, ms: 2 * min, median_spacing_ms: min });
    const daily = makeFrame("no-ts", close.length, new Map([["close", close]]));
    await assert.rejects(
      () => run(daily, { target: "y_ret_fwd_2m" }),
      /time horizon but the input has no timestamps/,
    );
  },
);

Deno.test("target: the median bar spacing (quickselect) equals the median of the sorted spacings", () => {
  for (let n = 2; n <= 200; n++) {
    const e = seededNormals(n, 11, n);
    // Real-valued, tied (whole minutes) and regular spacings; odd and even counts.
    for (
      const step of [
        (v: number) => Math.abs(v),
        (v: number) => Math.round(Math.abs(v) * 2) * 60_000,
        () => 60_000,
      ]
    ) {
      let t = 1.7e12;
      const ts = e.map((v) => t += step(v));
      const d = ts.subarray(1).map((v, i) => v - ts[i]).sort(), m = d.length >> 1;
      assert.equal(medianSpacing(ts), d.length % 2 ? d[m] : (d[m - 1] + d[m]) / 2, `n ${n}`);
    }
  }
  assert.ok(Number.isNaN(medianSpacing(new Float64Array(1))));
});

Deno.test("config: a target name that is neither bars, time nor a y_* column is rejected, naming the key", () => {
  for (const bad of ["ret_15", "y_ret_fwd_15x", "y_ret_fwd_0"]) {
    assert.throws(
      () => validateConfig({ features: { selection_target_column: bad } }, { env: () => undefined }),
      (e: Error) =>
        e instanceof UsageError && e.message.includes(`features.selection_target_column: "${bad}"`),
      bad,
    );
  }
  const c = validateConfig({ features: { selection_target_column: "y_ret_fwd_1h" } }, {
    env: () => undefined,
  });
  assert.equal(c.features.selection_target_column, "y_ret_fwd_1h");
  assert.deepEqual(c.features.selection_exclude, ["open", "high", "low", "close"]);
  assert.equal(c.features.selection_permutation, "circular_shift");
  assert.equal(c.features.selection_min_coverage, 0.75);
  assert.equal(c.features.selection_fdr_level, null);
  const f = validateConfig({ features: { selection_fdr_level: "${FDR:0.1}" } }, { env: () => undefined });
  assert.equal(f.features.selection_fdr_level, 0.1);
  assert.throws(
    () => validateConfig({ features: { selection_fdr_level: 0 } }, { env: () => undefined }),
    /selection_fdr_level: expected a number > 0 <= 1 or null, got 0/,
  );
});

/** 3000 closes, their 5-bar forward return and a nonlinear signal of it (|y| + noise: Pearson near 0, dCor > 0). */
function signalCase() {
  const n = 3000, h = 5;
  const close = closeOf(n + h, 91).subarray(0, n);
  const target = forwardReturn(close, h);
  const noise = returns(n, 92);
  const signal = target.map((v, t) => (Number.isFinite(v) ? Math.abs(v) + 0.3 * Math.abs(noise[t]) : NaN));
  return { n, h, close, target, signal };
}

Deno.test(
  "selection: threads give the same report bit for bit; stop_after (Besag-Clifford) stops clear nulls early, " +
    "reports it, and keeps the dependent feature's full p-value",
  async () => {
    const { n, h, close, signal: dependent } = signalCase();
    const cols = new Map([["close", close], ["signal", dependent]]);
    for (let k = 0; k < 6; k++) cols.set(`noise${k}`, returns(n, 100 + k));
    const frame = makeFrame("test", n, cols);
    const cfg = { target: `y_ret_fwd_${h}`, permutations: 199, max_samples: 2000 };
    const one = (await run(frame, cfg)).report;
    const two = (await run(frame, { ...cfg, threads: 2 })).report;
    assert.deepStrictEqual(two, one);
    assert.equal(one.permutation.stop_after, undefined);
    assert.ok(one.ranking.every((r) => r.stopped_at === undefined));

    const seq = (await run(frame, { ...cfg, stop_after: 10, threads: 2 })).report;
    const stopped = seq.ranking.filter((r) => r.stopped_at !== undefined);
    assert.equal(seq.permutation.stop_after, 10);
    assert.equal(seq.permutation.stopped_early, stopped.length);
    assert.ok(stopped.length >= 1, "some noise feature stops early");
    for (const r of seq.ranking) {
      const full = one.ranking.find((f) => f.feature === r.feature)!;
      assert.equal(r.dcor, full.dcor);
      if (r.stopped_at === undefined) assert.equal(r.p_value, full.p_value, r.feature);
      else assert.equal(r.p_value, 10 / r.stopped_at, r.feature);
    }
    const signal = seq.ranking.find((r) => r.feature === "signal")!;
    assert.ok(signal.p_value < 0.01 && signal.stopped_at === undefined);
  },
);

Deno.test('BH q-values: a hand-checked example, monotone in p, capped at 1, as R\'s p.adjust(method = "BH")', () => {
  // m = 5; sorted p 0.005, 0.01, 0.03, 0.04, 0.5 -> m p / rank = 0.025, 0.025, 0.05, 0.05, 0.5 (then running
  // minimum from the top). R: p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.5), "BH") = 0.025 0.050 0.050 0.025 0.500.
  const q = bhQValues([0.01, 0.04, 0.03, 0.005, 0.5]);
  [0.025, 0.05, 0.05, 0.025, 0.5].forEach((v, i) => assert.ok(Math.abs(q[i] - v) < 1e-15, `${q[i]} vs ${v}`));
  // Monotone: 0.02 * 3 / 2 = 0.03 > 0.025 * 3 / 3, so the smaller p gets the larger one's q.
  const mono = bhQValues([0.025, 0.02, 0.001]);
  [0.025, 0.025, 0.003].forEach((v, i) => assert.ok(Math.abs(mono[i] - v) < 1e-15, `${mono[i]} vs ${v}`));
  // NaN is not a hypothesis (R removes NAs before counting m); nothing exceeds 1.
  const withNaN = bhQValues([NaN, 0.5, 0.9]);
  assert.ok(Number.isNaN(withNaN[0]));
  assert.deepEqual([...withNaN.subarray(1)], [0.9, 0.9]);
  assert.ok(bhQValues([1, 1, 0.99]).every((v) => v <= 1));
  assert.equal(bhQValues([]).length, 0);
});

Deno.test(
  "selection: a dependent feature ranks first with p < 0.01, noise does not; q-values; FDR selection; " +
    "y_* columns are never features and close is excluded by default",
  async () => {
    const { n, h, close, target, signal } = signalCase();
    // Beside the signal, pure noise.
    const noise2 = returns(n, 93);
    const frame = makeFrame(
      "test",
      n,
      new Map([["close", close], ["signal", signal], ["noise", noise2], ["y_other_target", target]]),
    );
    const cfg = {
      target: `y_ret_fwd_${h}`,
      top_k: 2,
      max_samples: 2000,
      permutations: 199,
      seed: 1,
      rolling: true,
      rolling_window: 250,
    };
    const { columns, report } = await run(frame, cfg);
    assert.deepEqual([...columns.keys()], ["y_ret_fwd_5"]);
    assert.deepEqual(columns.get("y_ret_fwd_5"), target);
    const ranking = report.ranking;
    // Changed: close (a raw price level) is no longer ranked; it is excluded with its reason.
    assert.deepEqual(ranking.map((x) => x.feature).sort(), ["noise", "signal"]);
    assert.deepEqual(report.excluded, [
      { feature: "close", cause: "pattern", reason: 'matches features.selection_exclude "close"' },
    ]);
    assert.equal(ranking[0].feature, "signal");
    assert.ok(ranking[0].p_value < 0.01 && ranking[0].dcor > 0.2, JSON.stringify(ranking[0]));
    const noiseRow = ranking.find((x) => x.feature === "noise")!;
    assert.ok(noiseRow.p_value > 0.01 && noiseRow.dcor < 0.1, JSON.stringify(noiseRow));
    assert.deepEqual(ranking.map((r) => r.q_value), [...bhQValues(ranking.map((r) => r.p_value))]);
    assert.ok(ranking.every((r) => r.n === 2000 && r.block! >= h));
    assert.equal(report.rows, 2000);
    assert.deepEqual(report.permutation, {
      scheme: "circular_shift",
      permutations: 199,
      seed: 1,
      min_block: h,
    });
    assert.ok(ranking[0].rolling_mean! > 0.2);
    assert.deepEqual(report.selected, ranking.slice(0, 2).map((x) => x.feature));
    // Same seed, same p-values.
    assert.deepEqual((await run(frame, cfg)).report.ranking, ranking);
    // FDR selection: only features with q <= level.
    const fdr = (await run(frame, { ...cfg, fdr_level: 0.05 })).report;
    assert.equal(fdr.fdr_level, 0.05);
    assert.deepEqual(fdr.selected, ["signal"]);
    // iid permutations remain available and are reported as such.
    const iid = (await run(frame, { ...cfg, scheme: "iid" })).report;
    assert.deepEqual(iid.permutation, { scheme: "iid", permutations: 199, seed: 1 });
    assert.ok(iid.ranking.every((r) => r.block === undefined));
  },
);

Deno.test("selection: every feature is scored on the same rows; sparse and all-NaN features are set aside with reasons", async () => {
  const n = 1000, h = 3;
  const close = closeOf(n, 40);
  const a = returns(n, 41), b = returns(n, 42), c = returns(n, 43), d = returns(n, 44);
  b.fill(NaN, 0, 130); // a warm-up: 33 of the 900 candidate rows (97..996)
  c.forEach((_, t) => (t % 20 === 7 ? (c[t] = NaN) : 0)); // 5% scattered: with b, 91.6% complete
  d.forEach((_, t) => (t % 2 ? (d[t] = NaN) : 0)); // 50%: under min_coverage
  const empty = new Float64Array(n).fill(NaN), inf = new Float64Array(n).fill(Infinity);
  const frame = makeFrame(
    "rows",
    n,
    new Map([["close", close], ["a", a], ["b", b], ["c", c], ["d", d], ["empty", empty], ["inf", inf]]),
  );
  const { report } = await run(frame, { target: `y_ret_fwd_${h}`, max_samples: 900 });
  const candidates = Array.from({ length: n - h }, (_, t) => t).slice(-900);
  const common = candidates.filter((t) => [a, b, c].every((v) => Number.isFinite(v[t])));
  assert.equal(report.candidate_rows, 900);
  assert.equal(report.rows, common.length);
  assert.ok(common.length >= 0.75 * 900);
  assert.deepEqual(report.ranking.map((r) => r.feature).sort(), ["a", "b", "c"]);
  assert.ok(report.ranking.every((r) => r.n === common.length && Number.isFinite(r.p_value)));
  const why = new Map(report.excluded.map((e) => [e.feature, e]));
  assert.deepEqual([...why.keys()], ["close", "d", "empty", "inf"]); // column order
  assert.equal(why.get("empty")!.reason, "no finite value on the 900 candidate rows");
  assert.equal(why.get("inf")!.cause, "coverage");
  assert.match(
    why.get("d")!.reason,
    /^finite on 450 of 900 candidate rows \(50\.0%\), under features\.selection_min_coverage \(75%\)$/,
  );

  // Two features each finite on 93% of the rows, on disjoint rows: together only 86% are complete, so with
  // min_coverage 0.9 the one with fewer finite values (then by name) is set aside, with a reason saying why.
  const e = returns(n, 45), f = returns(n, 46);
  e.forEach((_, t) => (t % 100 < 7 ? (e[t] = NaN) : 0));
  f.forEach((_, t) => (t % 100 >= 50 && t % 100 < 57 ? (f[t] = NaN) : 0));
  const both = makeFrame("disjoint", n, new Map([["close", close], ["e", e], ["f", f]]));
  const r2 = (await run(both, { target: `y_ret_fwd_${h}`, max_samples: 900, min_coverage: 0.9 })).report;
  assert.equal(r2.ranking.length, 1);
  const dropped = r2.excluded.find((x) => x.cause === "coverage")!;
  assert.match(
    dropped.reason,
    /but with it fewer than 90% of the candidate rows are finite in every feature$/,
  );
  assert.ok(r2.rows >= 0.9 * 900);

  // Too few complete rows for the test: nothing is ranked, every feature says why.
  const tiny = makeFrame("tiny", 8, new Map([["close", close.subarray(0, 8)], ["a", a.subarray(0, 8)]]));
  const r3 = (await run(tiny, { target: "y_ret_fwd_3" })).report;
  assert.deepEqual(r3.ranking, []);
  assert.deepEqual(r3.selected, []);
  assert.deepEqual(r3.excluded.find((x) => x.feature === "a"), {
    feature: "a",
    cause: "rows",
    finite: 5,
    reason: "only 5 rows where the target and every feature are finite; the test needs 6",
  });
});

Deno.test(
  "selection on WebGPU: the same circular shifts, p-values within 2 / (B + 1) of the f64 path, same rows",
  { sanitizeResources: false, sanitizeOps: false },
  async () => {
    const n = 800, h = 4, close = closeOf(n + h, 60).subarray(0, n), target = forwardReturn(close, h);
    const ar = new Float64Array(n), e = returns(n, 61);
    for (let t = 1; t < n; t++) ar[t] = 0.9 * ar[t - 1] + e[t];
    const signal = target.map((v, t) => (Number.isFinite(v) ? Math.abs(v) + 0.3 * Math.abs(e[t]) : NaN));
    const frame = makeFrame("gpu", n, new Map([["close", close], ["ar", ar], ["signal", signal]]));
    const cfg = { ...base, target: `y_ret_fwd_${h}`, permutations: 99, seed: 3 };
    const cpu = (await run(frame, cfg)).report;
    const gpu = await GpuRuntime.create();
    try {
      const g = (await selectFeatures(frame, cfg, { choice: "webgpu", gpu }))
        .report as unknown as SelectionReport;
      assert.equal(g.rows, cpu.rows);
      for (const r of cpu.ranking) {
        const o = g.ranking.find((x) => x.feature === r.feature)!;
        assert.equal(o.block, r.block, r.feature);
        assert.ok(Math.abs(o.p_value - r.p_value) <= 2 / 100, `${r.feature}: ${o.p_value} vs ${r.p_value}`);
        assert.ok(Math.abs(o.dcor - r.dcor) <= 1e-12, `${r.feature} dcor`); // dCor itself is f64 on the host
      }
    } finally {
      gpu.destroy();
    }
  },
);

Deno.test("selection: exclusion patterns are globs over whole names, configurable", async () => {
  assert.ok(globRegExp("close_*").test("close_fd_0.4") && !globRegExp("close_*").test("close"));
  assert.ok(globRegExp("?ow").test("low") && !globRegExp("low").test("low_z_20"));
  assert.ok(globRegExp("a.b").test("a.b") && !globRegExp("a.b").test("axb"));
  const n = 400, close = closeOf(n, 50);
  const cols = new Map([
    ["open", close],
    ["high", close],
    ["low", close],
    ["close", close],
    ["volume", returns(n, 51)],
    ["close_fd_0.4", returns(n, 52)],
  ]);
  const frame = makeFrame("pat", n, cols);
  const def = (await run(frame)).report;
  assert.deepEqual(def.excluded.map((e) => e.feature), ["open", "high", "low", "close"]);
  assert.deepEqual(def.ranking.map((r) => r.feature).sort(), ["close_fd_0.4", "volume"]);
  const custom = (await run(frame, { exclude: ["close*", "vol?me"] })).report;
  assert.deepEqual(custom.excluded.map((e) => [e.feature, e.reason]), [
    ["close", 'matches features.selection_exclude "close*"'],
    ["volume", 'matches features.selection_exclude "vol?me"'],
    ["close_fd_0.4", 'matches features.selection_exclude "close*"'],
  ]);
  assert.deepEqual(custom.ranking.map((r) => r.feature).sort(), ["high", "low", "open"]);
});

Deno.test("selection filters: a near-duplicate of a better-ranked feature is dropped; PCA is reported", async () => {
  const n = 2000, h = 3;
  const close = closeOf(n + h, 94).subarray(0, n);
  const target = forwardReturn(close, h);
  const noise = returns(n, 95);
  const signal = target.map((v, t) => (Number.isFinite(v) ? Math.abs(v) + 0.3 * Math.abs(noise[t]) : NaN));
  const twin = signal.map((v, t) => 2 * v + 1e-6 * noise[(t * 7) % n]);
  const frame = makeFrame(
    "test",
    n,
    new Map([["close", close], ["signal", signal], ["twin", twin], ["flat", new Float64Array(n).fill(1)]]),
  );
  const { report } = await run(frame, {
    target: `y_ret_fwd_${h}`,
    filters: { variance_threshold: 0, corr_threshold: 0.95, pca: true },
  });
  const f = report.filters!;
  const twinDrop = f.dropped.find((d) => d.feature === "twin" || d.feature === "signal")!;
  assert.equal(twinDrop.stage, "correlation");
  assert.ok(["signal", "twin"].includes(twinDrop.duplicate_of!));
  assert.ok(f.dropped.some((d) => d.feature === "flat" && d.stage === "variance"));
  assert.ok(f.pca);
  const selected = report.selected;
  assert.ok(!selected.includes(twinDrop.feature) && !selected.includes("flat"));
  assert.equal(selected.filter((x) => x === "signal" || x === "twin").length, 1);
});
