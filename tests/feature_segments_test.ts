/**
 * Per-segment feature extraction (kernels/feature_frame.ts with kernels/window_features.ts' segmentLens and
 * previousSegment): per UTC day and per "era" column, on both paths, each row holding the previous
 * segment's features; no look-ahead; clear errors for a missing timestamp or segment column.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { main } from "../cli/main.ts";
import { extractFeatures } from "../kernels/feature_frame.ts";
import { decodeCsv } from "../io/csv.ts";
import { encodeCsv } from "../io/write.ts";
import { makeFrame } from "../io/frame.ts";
import { FEATURE_SETS, featureSetCpu, GPU_TOLERANCE } from "../kernels/feature_sets.ts";
import { previousSegment, segmentLens } from "../kernels/window_features.ts";
import { sharedGpu } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";
import { setLogLevel, setLogSink } from "../runtime/log.ts";
import { assertFeatureClose, inputScale, price1e4 } from "./data.ts";

setLogLevel("error");
const opts = { sanitizeResources: false, sanitizeOps: false };
const gpu = await sharedGpu();
const cpu = { choice: "cpu" as const, gpu: null };

/** 1-minute bars over 3.5 days starting at 2024-01-01 12:00 UTC, with an era column of 500-row runs. */
function bars() {
  const n = 5040;
  const t0 = Date.UTC(2024, 0, 1, 12);
  const ts = Float64Array.from({ length: n }, (_, i) => t0 + i * 60_000);
  const close = price1e4(n, 21);
  const era = Float64Array.from({ length: n }, (_, i) => Math.floor(i / 500));
  const frame = makeFrame("bars.parquet", n, new Map([["close", close], ["era", era]]), [], {
    column: "timestamp",
    values: ts,
  });
  return { frame, ts, close, era, n };
}

Deno.test("segments: lengths at each segment's last row, values of the previous segment", () => {
  const keys = Float64Array.from([1, 1, 1, 2, 2, 5, 5, 5, 5, 7]);
  assert.deepEqual(Array.from(segmentLens(keys)), [0, 0, 3, 0, 2, 0, 0, 0, 4, 1]);
  const v = Float64Array.from(keys, (_, i) => i * 10);
  assert.deepEqual(
    Array.from(previousSegment(v, keys)),
    [NaN, NaN, NaN, 20, 20, 40, 40, 40, 40, 80],
  );
});

Deno.test("segments: per day and per era on the CPU and WebGPU paths", opts, async () => {
  const { frame, close, n, ts } = bars();
  const cfg = {
    set: "efficient" as const,
    windows: [],
    columns: ["close"],
    segments: ["day", "era"],
    workers: 2,
  };
  const c = await extractFeatures(frame, cfg, cpu);
  assert.equal(c.columns.size, 2 * FEATURE_SETS.efficient.length);
  assert.deepEqual(c.report.segments, { day: 4, era: 11 });
  // Day 2 (2024-01-02) rows hold day 1's features: day 1 is rows 0..719 (12:00 to 23:59).
  const day2 = ts.findIndex((t) => t >= Date.UTC(2024, 0, 2));
  assert.equal(day2, 720);
  const mean = c.columns.get("close__mean__day")!;
  assert.ok(mean.subarray(0, 720).every(Number.isNaN));
  const day1 = close.subarray(0, 720);
  assert.ok(Math.abs(mean[720] - day1.reduce((a, v) => a + v, 0) / 720) < 1e-9);
  assert.equal(mean[720 + 1439], mean[720]);
  assert.equal(c.columns.get("close__length__day")![3000], 1440);
  // Era rows 1000..1499 hold era 1's (rows 500..999) features, exactly as the f64 reference.
  const ref = featureSetCpu(close.subarray(500, 1000), 500, FEATURE_SETS.efficient);
  for (const f of FEATURE_SETS.efficient) {
    const got = c.columns.get(`close__${f}__era`)!;
    assert.ok(Object.is(got[1000], ref.get(f)![499]) && Object.is(got[1499], got[1000]), f);
  }
  const g = await extractFeatures(frame, cfg, { choice: "webgpu", gpu });
  const scale = inputScale([close]);
  for (const f of FEATURE_SETS.efficient) {
    for (const k of ["day", "era"]) {
      const tol = { ...GPU_TOLERANCE[f] ?? { atol: 0, rtol: 0, stol: 0 } };
      if (f === "sum_values") tol.atol *= 1440, tol.stol = (tol.stol ?? 0) * 1440;
      if (f === "variance") tol.atol *= 400, tol.stol = (tol.stol ?? 0) * 400, tol.rtol *= 4;
      // Few segments: a single flipped comparison is allowed where the tolerance allows flips at all.
      if (tol.flips) tol.flips = 1 / 3;
      assertFeatureClose(
        g.columns.get(`close__${f}__${k}`)!,
        c.columns.get(`close__${f}__${k}`)!,
        tol,
        f,
        scale,
      );
    }
  }
  assert.equal(n, 5040);
});

Deno.test("segments: no look-ahead (later rows and keys changed)", opts, async () => {
  const { frame, close, era, n } = bars();
  const T = 3100;
  const close2 = close.slice(), era2 = era.slice();
  for (let i = T + 1; i < n; i++) close2[i] = 1e6 * Math.sin(i), era2[i] = 99;
  const ts = frame.timestamps!.slice();
  for (let i = T + 1; i < n; i++) ts[i] += 86_400_000 * 3;
  const frame2 = makeFrame("bars.parquet", n, new Map([["close", close2], ["era", era2]]), [], {
    column: "timestamp",
    values: ts,
  });
  const cfg = { set: "efficient" as const, windows: [30], columns: ["close"], segments: ["day", "era"] };
  for (const compute of [cpu, { choice: "webgpu" as const, gpu }]) {
    const a = await extractFeatures(frame, cfg, compute);
    const b = await extractFeatures(frame2, cfg, compute);
    for (const [name, v] of a.columns) {
      assert.deepEqual(b.columns.get(name)!.subarray(0, T + 1), v.subarray(0, T + 1), name);
    }
  }
});

Deno.test("segments: missing timestamps or segment column is a clear error", async () => {
  const { close, n } = bars();
  const noTs = makeFrame("x.csv", n, new Map([["close", close]]));
  const cfg = { set: "minimal" as const, windows: [], columns: ["close"] };
  await assert.rejects(
    () => extractFeatures(noTs, { ...cfg, segments: ["day"] }, cpu),
    (e) =>
      e instanceof UsageError &&
      /x\.csv: features\.extraction\.segments "day" needs a timestamp/.test(e.message),
  );
  await assert.rejects(
    () => extractFeatures(noTs, { ...cfg, segments: ["era"] }, cpu),
    (e) => e instanceof UsageError && /column "era", which the data does not have/.test(e.message),
  );
});

Deno.test("feature sets: the CPU share logs its progress", opts, async () => {
  const { frame } = bars();
  const lines: string[] = [];
  setLogLevel("info");
  const prev = setLogSink((_, msg) => lines.push(msg));
  try {
    const cfg = { set: "efficient" as const, windows: [20], columns: ["close"], workers: 2, progressMs: 0 };
    await extractFeatures(frame, cfg, cpu);
  } finally {
    setLogSink(prev);
    setLogLevel("error");
  }
  const pcts = lines.filter((l) => l.startsWith("feature_sets (cpu): ")).map((l) =>
    Number(/(\d+)%/.exec(l)![1])
  );
  assert.ok(pcts.length >= 2, lines.join("\n"));
  assert.deepEqual(pcts, [...pcts].sort((a, b) => a - b));
  assert.equal(pcts.at(-1), 100);
});

Deno.test("kernel features via the CLI: windows and segments as CSV; bad options exit 2", opts, async () => {
  const { close, ts } = bars();
  const dir = await Deno.makeTempDir({ prefix: "fg-features-" });
  const lines: string[] = [];
  const orig = console.error;
  try {
    const file = join(dir, "bars.csv"), out = join(dir, "features.csv");
    await Deno.writeFile(
      file,
      encodeCsv([{ name: "close", values: close }], { name: "timestamp", values: ts }),
    );
    const args = ["kernel", "features", "--input", file, "--set", "efficient", "--windows", "20,50"];
    assert.equal(await main([...args, "--segments", "day", "--backend", "cpu", "--output", out]), 0);
    const got = decodeCsv(await Deno.readFile(out), out);
    assert.deepEqual(Array.from(got.timestamps!), Array.from(ts));
    assert.equal(got.columns.size, 3 * FEATURE_SETS.efficient.length);
    const ref = featureSetCpu(close, 50, FEATURE_SETS.efficient);
    for (const f of ["median", "autocorrelation__lag_3", "fft_aggregated__aggtype_centroid"]) {
      assert.deepEqual(got.columns.get(`close__${f}__w50`), ref.get(f), f);
    }
    assert.ok(Number.isFinite(got.columns.get("close__kurtosis__day")![800]));
    console.error = (...a: unknown[]) => void lines.push(a.join(" "));
    assert.equal(await main([...args.slice(0, 4), "--set", "huge"]), 2);
    assert.equal(await main([...args.slice(0, 6), "--windows", "1"]), 2);
    assert.equal(await main([...args, "--window", "20"]), 2);
    assert.equal(await main([...args, "--segments", "era"]), 2);
  } finally {
    console.error = orig;
    await Deno.remove(dir, { recursive: true });
  }
  assert.match(lines[0], /--set expects one of minimal, efficient, comprehensive, got "huge"/);
  assert.match(lines[1], /--windows expects integers in \[2, 10000\]/);
  assert.match(lines[2], /unknown parameter --window \(parameters: --set, --windows/);
  assert.match(lines[3], /bars\.csv: features\.extraction\.segments names column "era"/);
});
