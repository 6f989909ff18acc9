/** The study's feature cache (time-to-live, size bound) and its memory-bounded concurrency. */
import { strict as assert } from "node:assert";
import { makeFrame } from "../io/frame.ts";
import { FeatureCache } from "../study/feature_cache.ts";
import { trialConcurrency } from "../study/run.ts";

const frame = (rows: number) =>
  makeFrame("x", rows, new Map([["close", Float64Array.from({ length: rows }, (_, i) => i + 0.5)]]), [], {
    column: "timestamp",
    values: Float64Array.from({ length: rows }, (_, i) => i * 60_000),
  });

Deno.test("FeatureCache: exact round trip, expiry after the TTL (entry removed), LRU size bound", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-study-cache-" });
  try {
    const key = (i: number) => String(i).repeat(16);
    const cache = new FeatureCache(dir, 1000, 3 * 8 * 100 + 600);
    await cache.put(key(1), frame(100), 10_000);
    const got = await cache.get(key(1), 10_999);
    assert.deepEqual(got?.columns.get("close"), frame(100).columns.get("close"));
    assert.equal(await cache.get(key(1), 11_000), null, "expired at the TTL");
    assert.equal((await Array.fromAsync(Deno.readDir(dir))).length, 0, "the expired entry is removed");
    // Each entry is ~2 x 100 f64 plus a header: the bound holds one, so the older is evicted.
    await cache.put(key(2), frame(100), 20_000);
    await cache.put(key(3), frame(100), 20_001);
    assert.equal(await cache.get(key(2), 20_002), null);
    assert.ok(await cache.get(key(3), 20_002));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trialConcurrency: one until a trial reports its size, then what the memory budget holds", () => {
  assert.equal(trialConcurrency(8, 2 ** 30, 0), 1);
  assert.equal(trialConcurrency(8, 1000, 100), 5);
  assert.equal(trialConcurrency(4, 1000, 100), 4);
  assert.equal(trialConcurrency(8, 1000, 5000), 1, "at least one even over the budget");
});
