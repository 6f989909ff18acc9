/**
 * Resampling (kernels/resample.ts): both paths against pandas (fixture from scripts/make_resample_fixture.py:
 * gaps, a weekend, NaN values, a partial last bar, empty bins kept with fill "nan"), against an independent
 * naive f64 reference over many timeframes and offsets, WebGPU vs f64 with the stated tolerance (chunked too),
 * gap filling, the partial flag, errors, and the `kernel resample` CLI.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { main } from "../cli/main.ts";
import { decodeCsv } from "../io/csv.ts";
import { type Frame, makeFrame } from "../io/frame.ts";
import { encodeCsv } from "../io/write.ts";
import {
  parseDuration,
  PIECE,
  resample,
  resampleCpu,
  resampleGpu,
  resampleGpuTolerance,
  type ResampleOptions,
} from "../kernels/resample.ts";
import { FRAME_KERNELS } from "../kernels/registry.ts";
import { sharedGpu } from "../runtime/backend.ts";
import { DataError, UsageError } from "../runtime/errors.ts";
import { setLogLevel } from "../runtime/log.ts";
import { seededNormals } from "../runtime/rng.ts";

setLogLevel("error");
const gpu = await sharedGpu();
const opts = { sanitizeResources: false, sanitizeOps: false };
const MIN = 60_000;

type Fix = Record<string, Record<string, (number | null)[]>>;
const fixture: Fix = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/resample_pandas.json", import.meta.url)),
);
const f64 = (a: (number | null)[]) => Float64Array.from(a, (v) => (v === null ? NaN : v));

function barsFrame(cols: Record<string, (number | null)[]>, source = "bars"): Frame {
  const names = ["open", "high", "low", "close", "volume"].filter((n) => cols[n]);
  return makeFrame(
    source,
    cols.timestamp.length,
    new Map(names.map((n) => [n, f64(cols[n])])),
    [],
    { column: "timestamp", values: f64(cols.timestamp) },
  );
}
const input = barsFrame(fixture.input);

/** Max |x - x_0| of a price column: the scale f32 errors of centred prices are relative to. */
function scale(x: Float64Array): number {
  const x0 = x.find(Number.isFinite) ?? 0;
  return x.reduce((a, v) => (Number.isFinite(v) ? Math.max(a, Math.abs(v - x0)) : a), 0);
}

/** Per-column tolerances of the WebGPU path (the kernel record's, kernels/resample.ts). */
function gpuTol(col: string, ref: number, s: number): number {
  const t = resampleGpuTolerance(col);
  return t.atol + t.rtol * Math.abs(ref) + (t.stol ?? 0) * s;
}

function compare(
  got: Frame,
  want: Record<string, (number | null)[]>,
  tol: (col: string, ref: number) => number,
  what: string,
) {
  assert.equal(got.rows, want.timestamp.length, `${what}: bar count`);
  assert.deepEqual(Array.from(got.timestamps!), want.timestamp, `${what}: bar starts`);
  for (const col of ["open", "high", "low", "close", "volume", "vwap", "count"]) {
    const g = got.columns.get(col)!, w = want[col];
    assert.ok(g, `${what}: no column ${col}`);
    for (let i = 0; i < w.length; i++) {
      const ref = w[i];
      if (ref === null) {
        assert.ok(Number.isNaN(g[i]), `${what}: ${col}[${i}] = ${g[i]}, pandas NaN`);
        continue;
      }
      const err = Math.abs(g[i] - ref);
      assert.ok(err <= tol(col, ref), `${what}: ${col}[${i}] = ${g[i]}, pandas ${ref} (err ${err})`);
    }
  }
}

for (const every of ["5min", "1h", "1d"]) {
  for (const path of ["cpu", "webgpu"] as const) {
    Deno.test(
      `resample ${every} (${path}) matches pandas (gaps, weekend, NaN, partial last bar)`,
      opts,
      async () => {
        const run = (o: ResampleOptions) =>
          path === "cpu" ? Promise.resolve(resampleCpu(input, o)) : resampleGpu(gpu, input, o);
        const s = Math.max(...["open", "high", "low", "close"].map((c) => scale(input.columns.get(c)!)));
        const tol = path === "cpu"
          ? (_: string, ref: number) => 1e-12 * Math.abs(ref) + 1e-12
          : (col: string, ref: number) => gpuTol(col, ref, s);
        const bars = await run({ every });
        compare(bars, fixture[every], tol, `${every} ${path}`);
        // Only the last bar is partial: the data end at 03:16, before 03:20 / 04:00 / the next midnight.
        const partial = bars.columns.get("partial")!;
        assert.deepEqual(Array.from(partial).map((v, i) => [i, v]).filter(([, v]) => v), [[
          bars.rows - 1,
          1,
        ]]);
        // Gaps stay gaps: no bar inside the weekend (Fri 22:00 - Sun 22:00) or the 15:10 - 16:10 hole.
        for (const t of bars.timestamps!) {
          assert.ok(!(t >= Date.UTC(2024, 0, 5, 22) && t < Date.UTC(2024, 0, 7, 22) && every !== "1d"));
        }
        assert.equal(bars.columns.get("count")!.reduce((a, v) => a + v, 0), input.rows);
        // fill "nan" keeps empty bins as pandas does (NaN prices, volume 0, count 0).
        const filled = await run({ every, fill: "nan" });
        compare(filled, fixture[`${every}_filled`], tol, `${every} ${path} filled`);
      },
    );
  }
}

/** Synthetic 1-minute bars: weekend gaps, random missing minutes, an occasional long gap and NaN values. */
function synthetic(n: number, seed: number, start = Date.UTC(2024, 0, 3, 9, 17)): Frame {
  const e = seededNormals(n, seed), u = seededNormals(n, seed + 1);
  const ts = new Float64Array(n);
  const o = new Float64Array(n), h = new Float64Array(n), l = new Float64Array(n), c = new Float64Array(n);
  const v = new Float64Array(n);
  let t = start, p = 1.2345;
  for (let i = 0; i < n; i++) {
    ts[i] = t;
    const q = p * Math.exp(1e-3 * e[i]);
    o[i] = p;
    c[i] = q;
    h[i] = Math.max(p, q) * (1 + 1e-4 * Math.abs(u[i]));
    l[i] = Math.min(p, q) * (1 - 1e-4 * Math.abs(u[(i + 7) % n]));
    v[i] = Math.round(100 * Math.abs(u[i])) + (i % 3);
    p = q;
    t += MIN * (Math.abs(u[i]) > 2.2 ? 3 : 1) + (i % 5000 === 4999 ? 97 * MIN : 0);
    const d = new Date(t);
    if (d.getUTCDay() === 6) t += 2 * 86_400_000; // Saturday -> Monday: a weekend gap
  }
  for (const i of [10, 11, 500, n - 2]) if (i < n) c[i] = NaN;
  for (const i of [12, 800]) if (i < n) v[i] = NaN;
  for (let i = 1000; i < Math.min(n, 1010); i++) {
    o[i] =
      h[i] =
      l[i] =
      c[i] =
        NaN; // a bar with no prices
  }
  return makeFrame(
    "synthetic",
    n,
    new Map([["open", o], ["high", h], ["low", l], ["close", c], ["volume", v]]),
    [],
    { column: "timestamp", values: ts },
  );
}

/** An independent f64 reference: group rows by bucket in a Map, reduce each group with array methods. */
function naive(frame: Frame, every: number, offset = 0) {
  const groups = new Map<number, number[]>();
  frame.timestamps!.forEach((t, i) => {
    const k = Math.floor((t - offset) / every) * every + offset;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(i);
  });
  const col = (n: string) => frame.columns.get(n)!;
  const fin = (rows: number[], x: Float64Array) => rows.map((i) => x[i]).filter(Number.isFinite);
  const out: Record<string, number[]> = {
    timestamp: [],
    open: [],
    high: [],
    low: [],
    close: [],
    volume: [],
    vwap: [],
    count: [],
  };
  for (const [k, rows] of groups) {
    const o = fin(rows, col("open")), c = fin(rows, col("close"));
    const h = fin(rows, col("high")), l = fin(rows, col("low"));
    out.timestamp.push(k);
    out.open.push(o.length ? o[0] : NaN);
    out.close.push(c.length ? c[c.length - 1] : NaN);
    out.high.push(h.length ? Math.max(...h) : NaN);
    out.low.push(l.length ? Math.min(...l) : NaN);
    out.volume.push(fin(rows, col("volume")).reduce((a, v) => a + v, 0));
    const pv = rows.map((i) => [(col("high")[i] + col("low")[i] + col("close")[i]) / 3, col("volume")[i]])
      .filter(([p, v]) => Number.isFinite(p) && Number.isFinite(v));
    const den = pv.reduce((a, [, v]) => a + v, 0);
    out.vwap.push(den ? pv.reduce((a, [p, v]) => a + p * v, 0) / den : NaN);
    out.count.push(rows.length);
  }
  return out;
}

const synth = synthetic(30_000, 41);

Deno.test(
  "resample: both paths match an independent f64 reference over timeframes and offsets",
  opts,
  async () => {
    const s = Math.max(...["open", "high", "low", "close"].map((c) => scale(synth.columns.get(c)!)));
    const cases: [string, string][] = [
      ["1min", "0"],
      ["2min", "0"],
      ["5min", "0"],
      ["15min", "0"],
      [
        "30min",
        "0",
      ],
      ["1h", "0"],
      ["1h", "30min"],
      ["4h", "0"],
      ["1d", "0"],
      ["1d", "22h"],
      ["1w", "0"],
    ];
    for (const [every, offset] of cases) {
      const ref = naive(synth, parseDuration(every), parseDuration(offset, "offset", true));
      const want = Object.fromEntries(
        Object.entries(ref).map(([k, v]) => [k, v.map((x) => (Number.isNaN(x) ? null : x))]),
      );
      compare(
        resampleCpu(synth, { every, offset }),
        want,
        (_, r) => 1e-12 * Math.abs(r) + 1e-13,
        `${every}+${offset} cpu`,
      );
      compare(
        await resampleGpu(gpu, synth, { every, offset }),
        want,
        (c, r) => gpuTol(c, r, s),
        `${every} gpu`,
      );
    }
  },
);

Deno.test(
  "resample: a series longer than one binding (chunked) gives the unchunked result",
  opts,
  async () => {
    const small = gpu.withLimits({ maxBindingBytes: 1 << 16 }); // 16,384 f32: ~2,700 rows of 6 planes per chunk
    for (const every of ["5min", "1d"]) {
      const a = await resampleGpu(small, synth, { every }), b = await resampleGpu(gpu, synth, { every });
      assert.deepEqual([...a.columns.keys()], [...b.columns.keys()]);
      for (const [k, v] of a.columns) {
        assert.deepEqual(
          Array.from(v),
          Array.from(b.columns.get(k)!),
          `${every} ${k}`,
        );
      }
    }
  },
);

Deno.test(
  "resample: open/close exact and high/low one of the inputs on the GPU; bars longer than a piece",
  opts,
  async () => {
    // 1d bars hold up to 1,440 rows: ~23 pieces of 64 merged on the host.
    const bars = await resampleGpu(gpu, synth, { every: "1d" });
    const ref = resampleCpu(synth, { every: "1d" });
    assert.ok(Math.max(...ref.columns.get("count")!) > 10 * PIECE);
    for (const c of ["open", "close"]) {
      assert.deepEqual(
        Array.from(bars.columns.get(c)!),
        Array.from(ref.columns.get(c)!),
      );
    }
    const inputs = new Set([...synth.columns.get("high")!, ...synth.columns.get("low")!]);
    for (const c of ["high", "low"]) {
      for (const v of bars.columns.get(c)!) {
        assert.ok(
          Number.isNaN(v) || inputs.has(v),
          `${c} ${v} is not an input`,
        );
      }
    }
  },
);

Deno.test("resample: gap filling (nan / ffill), the partial flag and labels", () => {
  const t0 = Date.UTC(2024, 0, 5, 9, 0);
  const ts = [0, 1, 2, 3, 4, 15, 16, 17, 18, 19].map((m) => t0 + m * MIN);
  const frame = makeFrame(
    "f",
    ts.length,
    new Map([
      ["open", Float64Array.from(ts, (_, i) => 10 + i)],
      ["high", Float64Array.from(ts, (_, i) => 12 + i)],
      ["low", Float64Array.from(ts, (_, i) => 9 + i)],
      ["close", Float64Array.from(ts, (_, i) => 11 + i)],
      ["volume", Float64Array.from(ts, () => 1)],
      ["spread", Float64Array.from(ts, (_, i) => i)],
    ]),
    [],
    { column: "timestamp", values: Float64Array.from(ts) },
  );
  const none = resampleCpu(frame, { every: "5min" });
  assert.deepEqual(Array.from(none.timestamps!), [t0, t0 + 15 * MIN]);
  assert.deepEqual([...none.columns.keys()], [
    "open",
    "high",
    "low",
    "close",
    "volume",
    "vwap",
    "count",
    "partial",
    "spread",
  ]);
  // The 09:15 bar is complete (data through 09:19 + 1min = 09:20): not partial.
  assert.deepEqual(Array.from(none.columns.get("partial")!), [0, 0]);
  assert.deepEqual(Array.from(none.columns.get("spread")!), [4, 9]); // other columns: last
  const nan = resampleCpu(frame, { every: "5min", fill: "nan" });
  assert.deepEqual(Array.from(nan.timestamps!), [0, 5, 10, 15].map((m) => t0 + m * MIN));
  assert.deepEqual(Array.from(nan.columns.get("count")!), [5, 0, 0, 5]);
  assert.deepEqual(Array.from(nan.columns.get("volume")!), [5, 0, 0, 5]);
  assert.ok(Number.isNaN(nan.columns.get("close")![1]) && Number.isNaN(nan.columns.get("vwap")![2]));
  const ff = resampleCpu(frame, { every: "5min", fill: "ffill" });
  for (const c of ["open", "high", "low", "close"]) assert.equal(ff.columns.get(c)![1], 15, c); // previous close
  assert.equal(ff.columns.get("spread")![2], 4);
  assert.ok(Number.isNaN(ff.columns.get("vwap")![1]));
  // Dropping the last minute makes the last bar partial; a larger base (5-minute input) does not.
  const cut = makeFrame("f", 9, new Map([...frame.columns].map(([k, v]) => [k, v.slice(0, 9)])), [], {
    column: "timestamp",
    values: Float64Array.from(ts.slice(0, 9)),
  });
  assert.deepEqual(Array.from(resampleCpu(cut, { every: "5min" }).columns.get("partial")!), [0, 1]);
  assert.deepEqual(Array.from(resampleCpu(cut, { every: "5min", base: "2min" }).columns.get("partial")!), [
    0,
    0,
  ]);
  // Offset: 5min bars starting at :02.
  assert.deepEqual(
    Array.from(resampleCpu(frame, { every: "5min", offset: "2min" }).timestamps!),
    [-3, 2, 12, 17].map((m) => t0 + m * MIN),
  );
});

Deno.test("resample: weekend gaps at 1d (no Saturday bar unless filled)", async () => {
  const bars = resampleCpu(synth, { every: "1d" });
  const days = Array.from(bars.timestamps!, (t) => new Date(t).getUTCDay());
  assert.ok(!days.includes(6), "a Saturday bar was invented");
  const filled = await resample(synth, { every: "1d", fill: "nan" }, { choice: "cpu", gpu: null });
  const sat = Array.from(filled.timestamps!).findIndex((t) => new Date(t).getUTCDay() === 6);
  assert.ok(sat > 0 && filled.columns.get("count")![sat] === 0);
});

Deno.test("resample: edge cases and errors", opts, async () => {
  const empty = makeFrame("e", 0, new Map([["close", new Float64Array(0)]]), [], {
    column: "timestamp",
    values: new Float64Array(0),
  });
  for (const r of [resampleCpu(empty, { every: "5min" }), await resampleGpu(gpu, empty, { every: "5min" })]) {
    assert.equal(r.rows, 0);
  }
  const one = makeFrame(
    "o",
    1,
    new Map([["close", Float64Array.of(3)], ["volume", Float64Array.of(2)]]),
    [],
    {
      column: "timestamp",
      values: Float64Array.of(Date.UTC(2024, 0, 1, 0, 7)),
    },
  );
  const g1 = await resampleGpu(gpu, one, { every: "5min" });
  assert.deepEqual(Array.from(g1.timestamps!), [Date.UTC(2024, 0, 1, 0, 5)]);
  assert.deepEqual([...g1.columns].map(([k, v]) => [k, v[0]]), [
    ["close", 3],
    ["volume", 2],
    ["vwap", 3],
    ["count", 1],
    ["partial", 1],
  ]);
  const noTs = makeFrame("n", 1, new Map([["close", Float64Array.of(1)]]));
  assert.throws(() => resampleCpu(noTs, { every: "5min" }), DataError);
  const back = makeFrame("b", 2, new Map([["close", Float64Array.of(1, 2)]]), [], {
    column: "timestamp",
    values: Float64Array.of(2 * MIN, MIN),
  });
  assert.throws(() => resampleCpu(back, { every: "5min" }), /strictly increasing/);
  for (const bad of ["0min", "5 parsecs", "1mo", "-5min", "1.5ms"]) {
    assert.throws(() => resampleCpu(synth, { every: bad }), UsageError, bad);
  }
  assert.throws(() => resampleCpu(synth, { every: "5min", fill: "zero" as "nan" }), UsageError);
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration(300_000), 300_000);
});

Deno.test(
  "kernel resample via the CLI writes bars as CSV (bar start, OHLCV, vwap, count, partial)",
  opts,
  async () => {
    assert.ok(FRAME_KERNELS.has("resample"));
    const dir = await Deno.makeTempDir();
    const file = join(dir, "bars.csv");
    await Deno.writeFile(
      file,
      encodeCsv(
        [...input.columns].map(([name, values]) => ({ name, values })),
        { name: "timestamp", values: input.timestamps! },
      ),
    );
    for (const backend of ["cpu", "webgpu"]) {
      const out = join(dir, `out-${backend}.csv`);
      const code = await main([
        "kernel",
        "resample",
        "--input",
        file,
        "--every",
        "1h",
        "--backend",
        backend,
        "--output",
        out,
      ]);
      assert.equal(code, 0);
      const text = await Deno.readTextFile(out);
      assert.equal(text.split("\n")[0], "timestamp,open,high,low,close,volume,vwap,count,partial");
      const bars = decodeCsv(await Deno.readFile(out), out);
      const want = fixture["1h"];
      assert.deepEqual(Array.from(bars.timestamps!), want.timestamp);
      assert.deepEqual(Array.from(bars.columns.get("count")!), want.count);
    }
    const lines: string[] = [];
    const orig = console.error;
    console.error = (...a: unknown[]) => lines.push(a.join(" "));
    try {
      assert.equal(await main(["kernel", "resample", "--input", file]), 2);
      assert.equal(
        await main(["kernel", "resample", "--input", file, "--every", "5min", "--column", "close"]),
        2,
      );
      assert.equal(await main(["kernel", "resample", "--input", file, "--every", "5min", "--fil", "nan"]), 2);
    } finally {
      console.error = orig;
    }
    assert.match(lines[0], /--every is required/);
    assert.match(lines[1], /drop --column/);
    assert.match(lines[2], /unknown parameter --fil/);
  },
);
