/**
 * The parallel data generator: synthetic 1-minute bars for N instruments or payment transactions with
 * fraud labels, written as ZSTD Parquet part files to a Storage (local folder or S3 prefix).
 *
 * Work is split into part files of `rowsPerFile` rows (rounded up to a multiple of the 65,536-row chunk).
 * Web Workers (driven through Comlink) generate and encode parts and transfer the bytes back; the main
 * thread writes each with `storage.put` (atomic). Bars need the process state at each part's first row:
 * a cheap state-only "advance" task per part boundary forms a chain per instrument, scheduled ahead of the
 * part tasks, so parts start as soon as their state is known. Every part's bytes depend only on
 * (seed, kind, options, part index), never on the worker count or the scheduling order.
 */
import * as Comlink from "npm:comlink@4.4.2";
import type { Storage } from "../io/storage.ts";
import { UsageError } from "../runtime/errors.ts";
import {
  BAR_CHUNK_ROWS,
  BAR_EPOCH_MS,
  type BarParams,
  barParams,
  initialBarState,
  instrumentName,
} from "./bars.ts";
import { barAdvance, barPartBytes, txPartBytes } from "./parts.ts";
import { DEFAULT_ZSTD_LEVEL } from "./parquet.ts";
import { TX_CHUNK_ROWS, txParams } from "./transactions.ts";
import type { WorkerApi } from "./worker.ts";

/** Default rows per part file (16 chunks). */
export const DEFAULT_ROWS_PER_FILE = 1_048_576;

/** Options of `generate`. */
export interface GenerateOptions {
  /** What to generate. */
  kind: "bars" | "transactions";
  /** Where part files go. */
  storage: Storage;
  /** Key prefix inside the storage (default none): files go to `<prefix>/<instrument>/part-00000.parquet`. */
  prefix?: string;
  /** Bars: number of instruments (default 1), named SYN0000, SYN0001, ... */
  instruments?: number;
  /** Bars: rows per instrument; transactions: total rows. */
  rows: number;
  /** Seed; the same seed and options give byte-identical files. */
  seed: number;
  /** Web Workers to use (>= 1); 0 generates in-process on the calling thread (same bytes). */
  workers: number;
  /** Transactions: target fraud fraction (default 0.01, at most 0.5). */
  fraudRate?: number;
  /** Transactions: number of customers (default max(100, rows / 200)). */
  customers?: number;
  /** Transactions: mean events per day (default 200,000). */
  txPerDay?: number;
  /** Rows per part file (default 1,048,576; rounded up to a multiple of 65,536). */
  rowsPerFile?: number;
  /** ZSTD level (default 1). */
  zstdLevel?: number;
  /** Called after each part file is written, with rows written so far and the total. */
  onProgress?: (rowsDone: number, total: number) => void;
}

/** What `generate` wrote and how fast. */
export interface GenerateResult {
  /** Keys written, sorted. */
  files: string[];
  /** Rows written in total (all instruments). */
  rows: number;
  /** Bytes written in total. */
  bytes: number;
  /** Wall-clock seconds, from the call to the last write. */
  seconds: number;
  /** rows / seconds. */
  rowsPerSecond: number;
  /** Written megabytes (1e6 bytes) per second. */
  mbPerSecond: number;
}

/** A part of the output: where it goes and how to make it. */
interface PartTask {
  key: string;
  rows: number;
  run: (api: PartRunner) => Promise<Uint8Array>;
}

/** The functions a worker (or the in-process runner) offers; results may be promises. */
interface PartRunner {
  barAdvance(p: BarParams, rowStart: number, rowEnd: number, state: Float64Array): Promise<Float64Array>;
  barPart(
    p: BarParams,
    rowStart: number,
    rowEnd: number,
    state: Float64Array,
    lvl?: number,
  ): Promise<Uint8Array>;
  txPart(p: ReturnType<typeof txParams>, rowStart: number, rowEnd: number, lvl?: number): Promise<Uint8Array>;
}

const inProcess: PartRunner = {
  barAdvance: (p, a, b, s) => Promise.resolve(barAdvance(p, a, b, s)),
  barPart: (p, a, b, s, l) => Promise.resolve(barPartBytes(p, a, b, s, l)),
  txPart: (p, a, b, l) => Promise.resolve(txPartBytes(p, a, b, l)),
};

function checkInt(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) {
    throw new UsageError(`generate: ${name} must be an integer >= ${min}, got ${v}`);
  }
  return v;
}

/** The key of part `index` under `folder`: folder/part-00000.parquet. */
export function partKey(folder: string, index: number): string {
  return `${folder}/part-${String(index).padStart(5, "0")}.parquet`;
}

/**
 * Generates a data set and writes it as ZSTD Parquet part files: bars to `<instrument>/part-NNNNN.parquet`
 * (columns timestamp (INT64 TIMESTAMP_MILLIS), open, high, low, close, volume (DOUBLE)), transactions to
 * `transactions/part-NNNNN.parquet` (transaction_id, timestamp, customer_id, device_id, amount,
 * merchant_category, country, is_fraud). Output bytes are identical for any `workers`.
 * Throws UsageError for bad options.
 */
export async function generate(opts: GenerateOptions): Promise<GenerateResult> {
  const t0 = performance.now();
  const rows = checkInt("rows", opts.rows, 1);
  const seed = checkInt("seed", opts.seed, 0);
  const workers = checkInt("workers", opts.workers, 0);
  const level = opts.zstdLevel ?? DEFAULT_ZSTD_LEVEL;
  if (!Number.isInteger(level) || level < -7 || level > 22) {
    throw new UsageError(`generate: zstdLevel must be an integer in [-7, 22], got ${level}`);
  }
  const chunk = opts.kind === "bars" ? BAR_CHUNK_ROWS : TX_CHUNK_ROWS;
  const perFile = Math.ceil(checkInt("rowsPerFile", opts.rowsPerFile ?? DEFAULT_ROWS_PER_FILE, 1) / chunk) *
    chunk;
  const prefix = opts.prefix ? opts.prefix.replace(/\/+$/, "") + "/" : "";
  const nParts = Math.ceil(rows / perFile);
  const range = (j: number): [number, number] => [j * perFile, Math.min(rows, (j + 1) * perFile)];

  // Task graph: ready part tasks, plus bar "advance" tasks (the state chain) that unlock more parts.
  const ready: PartTask[] = [];
  const advances: { run: (api: PartRunner) => Promise<void> }[] = [];
  let total = 0;
  if (opts.kind === "bars") {
    const instruments = checkInt("instruments", opts.instruments ?? 1, 1);
    total = rows * instruments;
    for (let i = 0; i < instruments; i++) {
      const p = barParams(seed, i, BAR_EPOCH_MS);
      const folder = prefix + instrumentName(i);
      const addPart = (j: number, state: Float64Array) => {
        const [a, b] = range(j);
        ready.push({
          key: partKey(folder, j),
          rows: b - a,
          run: (api) => api.barPart(p, a, b, state, level),
        });
        if (j + 1 < nParts) {
          advances.push({
            run: async (api) => addPart(j + 1, await api.barAdvance(p, a, b, Float64Array.from(state))),
          });
        }
      };
      addPart(0, initialBarState(p));
    }
  } else if (opts.kind === "transactions") {
    let p: ReturnType<typeof txParams>;
    try {
      p = txParams({
        seed,
        rows,
        fraudRate: opts.fraudRate,
        customers: opts.customers,
        txPerDay: opts.txPerDay,
      });
    } catch (e) {
      throw new UsageError(`generate: ${(e as Error).message}`);
    }
    total = rows;
    for (let j = 0; j < nParts; j++) {
      const [a, b] = range(j);
      ready.push({
        key: partKey(prefix + "transactions", j),
        rows: b - a,
        run: (api) => api.txPart(p, a, b, level),
      });
    }
  } else {
    throw new UsageError(`generate: kind must be "bars" or "transactions", got "${opts.kind}"`);
  }

  const pool: { api: PartRunner; close: () => void }[] = [];
  if (workers === 0) pool.push({ api: inProcess, close: () => {} });
  for (let w = 0; w < workers; w++) {
    const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
    const remote = Comlink.wrap<WorkerApi>(worker);
    pool.push({
      api: remote as unknown as PartRunner,
      close: () => {
        remote[Comlink.releaseProxy]();
        worker.terminate();
      },
    });
  }

  const files: string[] = [];
  let bytes = 0;
  let done = 0;
  let running = 0;
  let failed: unknown = undefined;
  const waiters: (() => void)[] = [];
  const wakeAll = () => waiters.splice(0).forEach((w) => w());
  const writes: Promise<void>[] = [];
  const loop = async (api: PartRunner) => {
    while (failed === undefined) {
      // Advances first: they are the critical path of the bar state chains.
      const adv = advances.shift();
      const part = adv ? undefined : ready.shift();
      if (!adv && !part) {
        if (running === 0) break;
        await new Promise<void>((r) => waiters.push(r));
        continue;
      }
      running++;
      try {
        if (adv) await adv.run(api);
        else if (part) {
          const data = await part.run(api);
          writes.push(
            opts.storage.put(part.key, data).then(() => {
              files.push(part.key);
              bytes += data.byteLength;
              done += part.rows;
              opts.onProgress?.(done, total);
            }),
          );
        }
      } catch (e) {
        failed ??= e;
      } finally {
        running--;
        wakeAll();
      }
    }
    // Wake any other loop that is waiting so it can see the end (or the failure).
    wakeAll();
  };
  try {
    await Promise.all(pool.map((p) => loop(p.api)));
    const results = await Promise.allSettled(writes);
    const bad = results.find((r) => r.status === "rejected");
    if (failed !== undefined) throw failed;
    if (bad) throw (bad as PromiseRejectedResult).reason;
  } finally {
    for (const p of pool) p.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    files: files.sort(),
    rows: done,
    bytes,
    seconds,
    rowsPerSecond: done / seconds,
    mbPerSecond: bytes / 1e6 / seconds,
  };
}
