/**
 * The multi-timeframe loader (pipeline/loader.ts) and its cache (io/cache.ts): an instrument read from partitioned
 * CSV and Parquet sources, validated and resampled; cache misses and hits, keys that follow content and
 * parameters, LRU eviction under a size limit, atomic writes, recovery from a corrupt entry, the stat
 * fingerprint, idempotence, and errors.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { decodeFrameEntry, DiskCache, encodeFrameEntry } from "../io/cache.ts";
import { type Frame, makeFrame } from "../io/frame.ts";
import { load } from "../pipeline/loader.ts";
import { encodeParquet } from "../io/parquet_write.ts";
import { LocalStorage } from "../io/storage.ts";
import { encodeCsv } from "../io/write.ts";
import { resampleCpu } from "../kernels/resample.ts";
import { sharedGpu } from "../runtime/backend.ts";
import { DataError, UsageError } from "../runtime/errors.ts";
import { setLogLevel } from "../runtime/log.ts";
import { seededNormals } from "../runtime/rng.ts";

setLogLevel("error");
const opts = { sanitizeResources: false, sanitizeOps: false };
const MIN = 60_000;

/** n one-minute bars from `start`, with a weekend gap, as columns. */
function bars(n: number, seed: number, start: number) {
  const e = seededNormals(n, seed);
  const ts = new Float64Array(n), o = new Float64Array(n), h = new Float64Array(n);
  const l = new Float64Array(n), c = new Float64Array(n), v = new Float64Array(n);
  let t = start, p = 100;
  for (let i = 0; i < n; i++) {
    ts[i] = t;
    const q = p * (1 + 1e-3 * e[i]);
    [o[i], c[i], h[i], l[i], v[i]] = [p, q, Math.max(p, q) + 0.01, Math.min(p, q) - 0.01, 10 + (i % 7)];
    p = q;
    t += MIN;
    if (new Date(t).getUTCDay() === 6) t += 2 * 86_400_000;
  }
  return { ts, cols: new Map([["open", o], ["high", h], ["low", l], ["close", c], ["volume", v]]) };
}

function csv(ts: Float64Array, cols: Map<string, Float64Array>, from: number, to: number): Uint8Array {
  return encodeCsv(
    [...cols].map(([name, values]) => ({ name, values: values.slice(from, to) })),
    { name: "timestamp", values: ts.slice(from, to) },
  );
}

/** A source folder: EURUSD in two CSV partitions, GBPUSD in one Parquet file. */
async function makeSource() {
  const root = await Deno.makeTempDir({ prefix: "fg-loader-" });
  const src = new LocalStorage(root);
  const a = bars(6000, 1, Date.UTC(2024, 0, 4, 20, 3));
  await src.put("EURUSD/part-00000.csv", csv(a.ts, a.cols, 0, 3500));
  await src.put("EURUSD/part-00001.csv", csv(a.ts, a.cols, 3500, 6000));
  const b = bars(3000, 2, Date.UTC(2024, 0, 2, 0, 0));
  await src.put(
    "GBPUSD/part-00000.parquet",
    encodeParquet(b.cols, { name: "timestamp", values: b.ts }),
  );
  const whole = (x: ReturnType<typeof bars>, name: string): Frame =>
    makeFrame(name, x.ts.length, x.cols, [], { column: "timestamp", values: x.ts });
  return { root, src, eurusd: whole(a, "EURUSD"), gbpusd: whole(b, "GBPUSD") };
}

function assertSameFrame(a: Frame, b: Frame, what: string) {
  assert.equal(a.rows, b.rows, `${what}: rows`);
  assert.deepEqual(Array.from(a.timestamps!), Array.from(b.timestamps!), `${what}: timestamps`);
  assert.deepEqual([...a.columns.keys()], [...b.columns.keys()], `${what}: columns`);
  for (const [k, v] of a.columns) {
    assert.deepEqual(Array.from(v), Array.from(b.columns.get(k)!), `${what}: ${k}`);
  }
}

Deno.test("load: an instrument at a timeframe, then the same from the cache", opts, async () => {
  const { src, eurusd, gbpusd } = await makeSource();
  const cache = new DiskCache(await Deno.makeTempDir({ prefix: "fg-cache-" }));
  const first = await load(src, "EURUSD", "30min", { cache });
  assert.equal(first.cached, false);
  assert.equal(first.inputRows, 6000);
  assertSameFrame(first.frame, resampleCpu(eurusd, { every: "30min" }), "EURUSD 30min vs resampleCpu");
  assert.equal(first.frame.columns.get("partial")!.at(-1), 1);
  const second = await load(src, "EURUSD", "30min", { cache });
  assert.equal(second.cached, true);
  assert.equal(second.key, first.key);
  assert.equal(second.inputRows, 6000);
  assertSameFrame(second.frame, first.frame, "cache hit vs miss");
  assert.deepEqual(cache.stats, { hits: 1, misses: 1, writes: 1, evictions: 0 });
  // Parquet partitions (read by ranges) go through the same path.
  const g = await load(src, "GBPUSD", "1h", { cache });
  assertSameFrame(g.frame, resampleCpu(gbpusd, { every: "1h" }), "GBPUSD 1h");
  assert.equal((await load(src, "GBPUSD", "1h", { cache })).cached, true);
  // A cache folder given by name works the same way.
  const dir = await Deno.makeTempDir();
  assert.equal((await load(src, "EURUSD", "1h", { cache: dir })).cached, false);
  assert.equal((await load(src, "EURUSD", "1h", { cache: dir })).cached, true);
});

Deno.test("load: keys follow the content and the parameters; idempotent results", opts, async () => {
  const { src, root } = await makeSource();
  const cache = new DiskCache(await Deno.makeTempDir());
  const base = await load(src, "EURUSD", "5min", { cache });
  const keys = new Set([base.key]);
  for (
    const [every, o] of [
      ["5min", { fill: "nan" as const }],
      ["5min", { offset: "1min" }],
      ["5min", { vwap: "close" as const }],
      ["15min", {}],
      [300_001, {}],
    ] as const
  ) {
    const r = await load(src, "EURUSD", every, { cache, ...o });
    assert.equal(r.cached, false, `${every} ${JSON.stringify(o)}`);
    keys.add(r.key);
  }
  assert.equal(keys.size, 6);
  // "5min" and 300000 ms are the same parameters: the same entry.
  assert.equal((await load(src, "EURUSD", 300_000, { cache })).key, base.key);
  // Without a cache the result is recomputed identically; the encoded entry is byte-identical.
  const again = await load(src, "EURUSD", "5min");
  assert.equal(again.cached, false);
  assert.deepEqual(encodeFrameEntry(again.frame), encodeFrameEntry(base.frame));
  // Rewriting a partition with other content changes the key (checksum), even at the same size.
  const path = join(root, "EURUSD", "part-00001.csv");
  const text = await Deno.readTextFile(path);
  // The last volume digit changes: same size, other content.
  await Deno.writeTextFile(path, text.replace(/(\d)\n$/, (_, d) => `${(Number(d) + 1) % 10}\n`));
  const changed = await load(src, "EURUSD", "5min", { cache });
  assert.equal(changed.cached, false);
  assert.notEqual(changed.key, base.key);
});

Deno.test("load: the stat fingerprint hits without reading and misses after a rewrite", opts, async () => {
  const { src, root } = await makeSource();
  const cache = new DiskCache(await Deno.makeTempDir());
  const a = await load(src, "EURUSD", "1h", { cache, fingerprint: "stat" });
  const b = await load(src, "EURUSD", "1h", { cache, fingerprint: "stat" });
  assert.deepEqual([a.cached, b.cached], [false, true]);
  assert.match(a.files[0].fingerprint, /^stat:\d+:\d+$/);
  const path = join(root, "EURUSD", "part-00000.csv");
  await Deno.utime(path, new Date(), new Date(Date.now() + 5000));
  assert.equal((await load(src, "EURUSD", "1h", { cache, fingerprint: "stat" })).cached, false);
});

Deno.test(
  "cache: LRU eviction under the size limit, atomic files, corrupt entries recomputed",
  opts,
  async () => {
    const { src } = await makeSource();
    const dir = await Deno.makeTempDir();
    const probe = await load(src, "EURUSD", "5min");
    const entry = encodeFrameEntry(probe.frame).length;
    // Room for about two 5-minute entries: a third evicts the least recently used.
    const cache = new DiskCache(dir, { maxBytes: Math.floor(2.5 * entry) });
    const k5 = (await load(src, "EURUSD", "5min", { cache })).key;
    const k5b = (await load(src, "EURUSD", "5min", { cache, offset: "1min" })).key;
    assert.equal((await load(src, "EURUSD", "5min", { cache })).cached, true); // k5 is now the most recent
    const k5c = (await load(src, "EURUSD", "5min", { cache, offset: "2min" })).key;
    const held = (await cache.entries()).map((e) => e.key);
    assert.deepEqual(
      held.sort(),
      [k5, k5c].sort(),
      "the least recently used entry (offset 1min) was evicted",
    );
    assert.ok(!(await cache.has(k5b)));
    assert.equal(cache.stats.evictions, 1);
    assert.ok((await cache.size()) <= cache.maxBytes);
    assert.equal((await load(src, "EURUSD", "5min", { cache, offset: "1min" })).cached, false);
    // No temporary files are left behind; only <key>.fgc entries.
    for await (const e of Deno.readDir(dir)) assert.match(e.name, /^[0-9a-f]{64}\.fgc$/);
    // An entry larger than the whole cache is not stored.
    const tiny = new DiskCache(await Deno.makeTempDir(), { maxBytes: 100 });
    await load(src, "EURUSD", "5min", { cache: tiny });
    assert.deepEqual(await tiny.entries(), []);
    // A corrupt (truncated) entry is a miss: recomputed and rewritten.
    assert.deepEqual((await cache.entries()).map((e) => e.key).sort(), [k5b, k5c].sort());
    const path = join(dir, `${k5b}.fgc`);
    const bytes = await Deno.readFile(path);
    await Deno.writeFile(path, bytes.subarray(0, bytes.length - 8));
    const r = await load(src, "EURUSD", "5min", { cache, offset: "1min" });
    assert.equal(r.cached, false);
    assertSameFrame(r.frame, (await load(src, "EURUSD", "5min", { offset: "1min" })).frame, "recomputed");
    assert.equal((await load(src, "EURUSD", "5min", { cache, offset: "1min" })).cached, true);
  },
);

Deno.test("cache: the frame entry format round-trips exactly; bad keys are refused", async () => {
  const f = makeFrame(
    "x",
    3,
    new Map([["a", Float64Array.of(1.5, NaN, -Infinity)], ["b", Float64Array.of(0, 1e-300, 7)]]),
    [],
    {
      column: "ts",
      values: Float64Array.of(1, 2, 3),
    },
  );
  const { frame, meta } = decodeFrameEntry(encodeFrameEntry(f, { k: 1 }));
  assertSameFrame(frame, f, "round trip");
  assert.equal(frame.timestampColumn, "ts");
  assert.deepEqual(meta, { k: 1 });
  assert.throws(() => decodeFrameEntry(new Uint8Array(20)), RangeError);
  const cache = new DiskCache(await Deno.makeTempDir());
  await assert.rejects(() => cache.put("../../etc/passwd", new Uint8Array(1)), RangeError);
  assert.equal(await cache.get("ab".repeat(32)), null);
});

Deno.test(
  "load: WebGPU results are cached apart from f64 ones and agree within tolerance",
  opts,
  async () => {
    const { src } = await makeSource();
    const cache = new DiskCache(await Deno.makeTempDir());
    const gpu = { choice: "webgpu" as const, gpu: await sharedGpu() };
    const g = await load(src, "EURUSD", "1h", { cache, compute: gpu });
    const c = await load(src, "EURUSD", "1h", { cache });
    assert.notEqual(g.key, c.key);
    assert.equal(c.cached, false);
    assert.equal((await load(src, "EURUSD", "1h", { cache, compute: gpu })).cached, true);
    for (const [k, v] of c.frame.columns) {
      const w = g.frame.columns.get(k)!;
      v.forEach((x, i) => assert.ok(Math.abs(x - w[i]) <= 1e-5 * Math.abs(x), `${k}[${i}] ${w[i]} vs ${x}`));
    }
  },
);

Deno.test("load: errors name the instrument or the file", opts, async () => {
  const { src, root } = await makeSource();
  await assert.rejects(
    () => load(src, "USDJPY", "5min"),
    (e) => e instanceof UsageError && /EURUSD, GBPUSD/.test(e.message),
  );
  await assert.rejects(() => load(src, "EURUSD", "5 fortnights"), UsageError);
  // A partition whose timestamps overlap the previous one fails validation.
  const p0 = await Deno.readTextFile(join(root, "EURUSD", "part-00000.csv"));
  await Deno.writeTextFile(join(root, "EURUSD", "part-00002.csv"), p0);
  await assert.rejects(
    () => load(src, "EURUSD", "5min"),
    (e) => e instanceof DataError && /part-00002\.csv.*strictly increasing/.test(e.message),
  );
});
