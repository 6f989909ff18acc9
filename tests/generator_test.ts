/**
 * The parallel data generator: byte-identical output for any worker count, bars that are consistent OHLC
 * without weekend rows, continuous across part files and GARCH-like, transactions with the requested
 * fraud rate and fraud that deviates from the customer profile.
 */
import assert from "node:assert/strict";
import { LocalStorage } from "../io/storage.ts";
import { decodeFrame } from "../io/read.ts";
import type { Frame } from "../io/frame.ts";
import { UsageError } from "../runtime/errors.ts";
import { generate, type GenerateOptions } from "../generator/generate.ts";
import {
  BAR_CHUNK_ROWS,
  barChunkStates,
  barParams,
  generateBars,
  MINUTES_PER_WEEK,
} from "../generator/bars.ts";
import { generateTransactions, TX_CHUNK_ROWS, txParams } from "../generator/transactions.ts";

async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "fg-gen-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs generate into a fresh temp dir and returns every file's bytes by key. */
async function run(opts: Omit<GenerateOptions, "storage">): Promise<Map<string, Uint8Array>> {
  return await withTemp(async (dir) => {
    const storage = new LocalStorage(dir);
    const res = await generate({ ...opts, storage });
    const listed = (await storage.list()).map((o) => o.key);
    assert.deepEqual(res.files, listed);
    const out = new Map<string, Uint8Array>();
    for (const k of listed) out.set(k, await storage.get(k));
    assert.equal(res.bytes, [...out.values()].reduce((a, b) => a + b.length, 0));
    return out;
  });
}

/** Concatenates the decoded part files of one folder, in key order. */
async function readFolder(files: Map<string, Uint8Array>, folder: string): Promise<Frame[]> {
  const keys = [...files.keys()].filter((k) => k.startsWith(folder + "/")).sort();
  return await Promise.all(keys.map((k) => decodeFrame(files.get(k)!, k)));
}

function concat(frames: Frame[], col: string): Float64Array {
  const parts = frames.map((f) => (col === "timestamp" ? f.timestamps! : f.columns.get(col)!));
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const BARS = { kind: "bars", instruments: 2, rows: 200_000, seed: 11, rowsPerFile: BAR_CHUNK_ROWS } as const;

Deno.test("generator bars: byte-identical for 0 (in-process), 1 and 2 workers", async () => {
  const one = await run({ ...BARS, workers: 1 });
  const two = await run({ ...BARS, workers: 2 });
  const zero = await run({ ...BARS, workers: 0 });
  assert.deepEqual([...one.keys()], [
    "SYN0000/part-00000.parquet",
    "SYN0000/part-00001.parquet",
    "SYN0000/part-00002.parquet",
    "SYN0000/part-00003.parquet",
    "SYN0001/part-00000.parquet",
    "SYN0001/part-00001.parquet",
    "SYN0001/part-00002.parquet",
    "SYN0001/part-00003.parquet",
  ]);
  for (const [k, v] of one) {
    assert.deepEqual(two.get(k), v, `${k} differs between 1 and 2 workers`);
    assert.deepEqual(zero.get(k), v, `${k} differs between in-process and 1 worker`);
  }
  // A different seed gives different data.
  const other = await run({ ...BARS, instruments: 1, seed: 12, workers: 1 });
  assert.notDeepEqual(other.get("SYN0000/part-00000.parquet"), one.get("SYN0000/part-00000.parquet"));
});

Deno.test("generator bars: OHLC consistent, no weekend bars, continuous increasing timestamps", async () => {
  const files = await run({ ...BARS, workers: 2 });
  for (const inst of ["SYN0000", "SYN0001"]) {
    const frames = await readFolder(files, inst);
    assert.deepEqual(frames.map((f) => f.rows), [65_536, 65_536, 65_536, 3_392]);
    assert.deepEqual([...frames[0].columns.keys()], ["open", "high", "low", "close", "volume"]);
    assert.equal(frames[0].timestampColumn, "timestamp");
    const [ts, open, high, low, close, volume] = ["timestamp", "open", "high", "low", "close", "volume"]
      .map((c) => concat(frames, c));
    assert.equal(ts.length, BARS.rows);
    for (let i = 0; i < ts.length; i++) {
      if (i > 0) assert.ok(ts[i] > ts[i - 1], `${inst}: timestamps not increasing at row ${i}`);
      assert.ok(low[i] <= open[i] && low[i] <= close[i] && open[i] <= high[i] && close[i] <= high[i]);
      assert.ok(low[i] > 0 && volume[i] >= 0 && Number.isInteger(volume[i]));
      const d = new Date(ts[i]);
      const day = d.getUTCDay(), hour = d.getUTCHours();
      const weekend = day === 6 || (day === 5 && hour >= 22) || (day === 0 && hour < 22);
      assert.ok(!weekend, `${inst}: weekend bar at ${d.toISOString()}`);
      assert.equal(ts[i] % 60_000, 0);
      // A bar opens at the previous close, except at the weekly open (weekend gap).
      if (i > 0 && i % MINUTES_PER_WEEK !== 0) assert.equal(open[i], close[i - 1], `${inst}: row ${i}`);
    }
    // Weekend gaps exist: 200k minutes span several weeks.
    let gaps = 0;
    for (let i = 1; i < ts.length; i++) if (ts[i] - ts[i - 1] > 60_000) gaps++;
    assert.equal(gaps, Math.floor((ts.length - 1) / MINUTES_PER_WEEK));
  }
});

Deno.test("generator bars: volatility clustering (lag-1 autocorrelation of squared returns > 0)", () => {
  for (const inst of [0, 1, 2]) {
    const p = barParams(5, inst);
    const b = generateBars(p, 0, 300_000);
    const r2: number[] = [];
    for (let i = 1; i < b.close.length; i++) {
      if (i % MINUTES_PER_WEEK === 0) continue; // skip the weekend gap
      r2.push(Math.log(b.close[i] / b.close[i - 1]) ** 2);
    }
    const n = r2.length;
    const mean = r2.reduce((a, v) => a + v, 0) / n;
    let num = 0, den = 0;
    for (let i = 0; i < n; i++) {
      den += (r2[i] - mean) ** 2;
      if (i > 0) num += (r2[i] - mean) * (r2[i - 1] - mean);
    }
    const acf1 = num / den;
    assert.ok(acf1 > 0.05, `instrument ${inst}: acf1 of squared returns ${acf1}`);
  }
});

Deno.test("generator bars: any chunk-aligned range from its chunk state equals the full series", () => {
  const p = barParams(3, 4);
  const rows = 3 * BAR_CHUNK_ROWS + 100;
  const full = generateBars(p, 0, rows);
  const states = barChunkStates(p, rows);
  const k = 2;
  const part = generateBars(p, k * BAR_CHUNK_ROWS, rows, states.subarray(k * 5, k * 5 + 5));
  assert.deepEqual(part.close, full.close.subarray(k * BAR_CHUNK_ROWS));
  assert.deepEqual(part.high, full.high.subarray(k * BAR_CHUNK_ROWS));
  assert.deepEqual(part.timestamp, full.timestamp.subarray(k * BAR_CHUNK_ROWS));
  assert.deepEqual(generateBars(p, k * BAR_CHUNK_ROWS, rows).volume, part.volume);
});

Deno.test("generator transactions: identical for 1 and 2 workers, fraud rate and fraud deviations", async () => {
  // 400k rows at the default 200k events/day: exactly two days, so the night weighting averages out.
  const opts = {
    kind: "transactions",
    rows: 400_000,
    seed: 21,
    fraudRate: 0.05,
    rowsPerFile: 131_072,
  } as const;
  const one = await run({ ...opts, workers: 1 });
  const two = await run({ ...opts, workers: 2 });
  assert.deepEqual([...one.keys()], [0, 1, 2, 3].map((i) => `transactions/part-0000${i}.parquet`));
  for (const [k, v] of one) assert.deepEqual(two.get(k), v, `${k} differs between 1 and 2 workers`);

  const frames = await readFolder(one, "transactions");
  assert.deepEqual(frames[0].skipped.map((s) => s.name), ["merchant_category", "country"]);
  const [ts, id, customer, device, amount, fraud] = [
    "timestamp",
    "transaction_id",
    "customer_id",
    "device_id",
    "amount",
    "is_fraud",
  ].map((c) => concat(frames, c));
  assert.equal(ts.length, opts.rows);
  const customers = txParams(opts).customers;
  let nFraud = 0, newDevFraud = 0, newDevLegit = 0;
  for (let i = 0; i < ts.length; i++) {
    assert.equal(id[i], i);
    if (i > 0) assert.ok(ts[i] >= ts[i - 1], `timestamps decrease at row ${i}`);
    assert.ok(amount[i] >= 0.01 && customer[i] >= 0 && customer[i] < customers);
    const isNew = device[i] >= 4 * customers;
    if (fraud[i] === 1) {
      nFraud++;
      if (isNew) newDevFraud++;
    } else {
      assert.equal(fraud[i], 0);
      if (isNew) newDevLegit++;
    }
  }
  const rate = nFraud / ts.length;
  assert.ok(Math.abs(rate - 0.05) < 0.004, `fraud rate ${rate}, requested 0.05`);
  assert.equal(newDevLegit, 0);
  assert.ok(newDevFraud / nFraud > 0.5, `new device share among fraud ${newDevFraud / nFraud}`);
  const span = (ts[ts.length - 1] - ts[0]) / 86_400_000;
  assert.ok(span > 1.99 && span <= 2, `span ${span} days`);
});

Deno.test("generator transactions: fraud is foreign, unusual in amount and more frequent at night", () => {
  const p = txParams({ seed: 9, rows: 4 * TX_CHUNK_ROWS, fraudRate: 0.1 });
  const t = generateTransactions(p, 0, p.rows);
  const stat = {
    fraud: { n: 0, foreign: 0, night: 0, logAmount: 0 },
    legit: { n: 0, foreign: 0, night: 0, logAmount: 0 },
  };
  // Customer home countries are not a column: infer each customer's home as their most frequent country.
  const counts = new Map<number, Map<string, number>>();
  for (let i = 0; i < t.country.length; i++) {
    const m = counts.get(t.customer_id[i]) ?? new Map<string, number>();
    m.set(t.country[i], (m.get(t.country[i]) ?? 0) + 1);
    counts.set(t.customer_id[i], m);
  }
  const home = new Map([...counts].map(([c, m]) => [c, [...m].sort((a, b) => b[1] - a[1])[0][0]]));
  for (let i = 0; i < t.country.length; i++) {
    const s = t.is_fraud[i] ? stat.fraud : stat.legit;
    s.n++;
    s.logAmount += Math.log(t.amount[i]);
    if (t.country[i] !== home.get(t.customer_id[i])) s.foreign++;
    if (new Date(t.timestamp[i] - 3 * 3_600_000).getUTCHours() < 6) s.night++; // BR local time
  }
  assert.ok(stat.fraud.foreign / stat.fraud.n > 5 * (stat.legit.foreign / stat.legit.n));
  assert.ok(stat.fraud.night / stat.fraud.n > 1.5 * (stat.legit.night / stat.legit.n));
  // Amounts: fraud is on average several times the legitimate amount (log scale difference > ln 2).
  assert.ok(stat.fraud.logAmount / stat.fraud.n - stat.legit.logAmount / stat.legit.n > Math.log(2));
});

Deno.test("generator: bad options are UsageErrors", async () => {
  await withTemp(async (dir) => {
    const storage = new LocalStorage(dir);
    const base = { kind: "bars", storage, rows: 10, seed: 1, workers: 0 } as const;
    await assert.rejects(generate({ ...base, rows: 0 }), UsageError);
    await assert.rejects(generate({ ...base, workers: -1 }), UsageError);
    await assert.rejects(generate({ ...base, instruments: 1.5 }), UsageError);
    await assert.rejects(generate({ ...base, kind: "transactions", fraudRate: 0.9 }), UsageError);
    // deno-lint-ignore no-explicit-any
    await assert.rejects(generate({ ...base, kind: "ticks" as any }), UsageError);
    assert.deepEqual(await storage.list(), []);
  });
});
