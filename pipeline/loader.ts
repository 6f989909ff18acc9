/**
 * The multi-timeframe loader: one call gives an instrument at a timeframe.
 *
 *   const { frame } = await load(new LocalStorage("data/bars"), "EURUSD", "30min", { cache: ".cache/bars" });
 *
 * It finds the instrument's files in the source (pipeline/discover: one folder per instrument by default, or
 * files named after it), fingerprints them, and looks the result up in a content-addressed on-disk cache
 * (io/cache.ts) keyed by the fingerprints and every parameter that changes the result. On a miss it reads and
 * validates the partitions (pipeline/validate's `loadTask`: strictly increasing timestamps across partitions,
 * consistent OHLC, volume >= 0), resamples them (kernels/resample.ts) and stores the bars.
 *
 * Fingerprints: `checksum` (default) is the SHA-256 of each file's bytes (a miss reuses the bytes it read, so
 * nothing is read twice); `stat` is size + modification time for a local folder (no read on a hit; a file
 * rewritten with the same size within the filesystem's time resolution would be missed) and falls back to
 * `checksum` for other storages. The cache key also holds the precision of the path that computed the bars
 * (f64 on the CPU, f32 reductions on WebGPU), so the two never mix.
 */
import { join } from "node:path";
import { discoverTasks, quoted } from "../io/discover.ts";
import { type ColumnMapping, loadTask } from "../io/validate.ts";
import type { Compute } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";
import { log } from "../runtime/log.ts";
import { resample, type ResampleOptions, resolveResample } from "../kernels/resample.ts";
import { decodeFrameEntry, DiskCache, encodeFrameEntry } from "../io/cache.ts";
import { sha256Hex } from "../io/checksum.ts";
import type { Frame } from "../io/frame.ts";
import { LocalStorage, type Storage } from "../io/storage.ts";

/** Loader options: where and how to read, how to resample, and the cache. */
export interface LoaderOptions extends Omit<ResampleOptions, "every"> {
  /** A cache, or a folder for one (with `cacheMaxBytes`); null/absent: no cache. */
  cache?: DiskCache | string | null;
  /** Size limit of a cache created from a folder name (default 1 GiB). */
  cacheMaxBytes?: number;
  /** Instrument regex with one capture group over keys (default `^([^/]+)/`, data.instrument_pattern). */
  pattern?: string;
  /** File types to read (default parquet, feather, arrow, csv). */
  formats?: string[];
  /** Timestamp column (default "timestamp"). */
  timestampColumn?: string;
  /** Columns to drop (data.deny_columns). */
  denyColumns?: string[];
  /** Role -> the file's column (data.columns); unset roles are found by name. */
  columns?: ColumnMapping;
  /** How source files are fingerprinted for the cache key (default "checksum"). */
  fingerprint?: "checksum" | "stat";
  /** Backend (default: the f64 CPU path). */
  compute?: Compute;
}

/** What `load` returns. */
export interface LoadResult {
  /** The bars: timestamps = bar starts; open, high, low, close, volume, vwap, count, partial, other columns. */
  frame: Frame;
  /** Whether the bars came from the cache. */
  cached: boolean;
  /** The cache key (SHA-256 hex of the fingerprints and parameters). */
  key: string;
  /** The source files and their fingerprints. */
  files: { key: string; size: number; fingerprint: string }[];
  /** Input rows (only known on a miss; from the entry's metadata on a hit). */
  inputRows: number;
}

/** Version of the cached result's definition: bump when resampling semantics change. */
const FORMAT = 1;

/** JSON with object keys sorted, so equal parameters always hash equally. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${
      Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) =>
        `${JSON.stringify(k)}:${canonical(o[k])}`
      )
        .join(",")
    }}`;
  }
  return JSON.stringify(v);
}

/** Loads `instrument` from `source` resampled to `every` (e.g. "30min"), through the cache when one is given. */
export async function load(
  source: Storage,
  instrument: string,
  every: string | number,
  opts: LoaderOptions = {},
): Promise<LoadResult> {
  const r = resolveResample({ ...opts, every });
  const pattern = opts.pattern ?? "^([^/]+)/";
  const formats = opts.formats ?? ["parquet", "feather", "arrow", "csv"];
  const tasks = await discoverTasks(source, pattern, formats);
  // A refused name (io/discover.ts) is listed quoted: say why rather than "no instrument".
  const refused = tasks.find((t) => t.problem && t.instrument === quoted(instrument));
  if (refused) throw new UsageError(refused.problem!);
  const task = tasks.find((t) => t.instrument === instrument && !t.problem);
  if (!task) {
    const known = tasks.map((t) => t.instrument);
    throw new UsageError(
      `${source.url}: no instrument ${quoted(instrument)} (instruments: ${
        known.length ? known.slice(0, 50).join(", ") : "none"
      })`,
    );
  }

  // Fingerprints; in checksum mode the bytes are kept for loadTask on a miss.
  const read = new Map<string, Uint8Array>();
  const files: LoadResult["files"] = [];
  for (const f of task.files) {
    let fp: string;
    if (opts.fingerprint === "stat" && source instanceof LocalStorage) {
      const st = await Deno.stat(join(source.root, f.key));
      fp = `stat:${st.size}:${st.mtime?.getTime() ?? 0}`;
    } else {
      const bytes = await source.get(f.key);
      read.set(f.key, bytes);
      fp = `sha256:${await sha256Hex(bytes)}`;
    }
    files.push({ key: f.key, size: f.size, fingerprint: fp });
  }
  const precision = opts.compute?.gpu ? "f32" : "f64";
  const timestampColumn = opts.timestampColumn ?? "timestamp";
  const denyColumns = opts.denyColumns ?? [];
  // Only a mapping that names a column changes the bars, so only such a mapping enters the cache key.
  const columns = Object.values(opts.columns ?? {}).some((c) => c) ? opts.columns : undefined;
  const key = await sha256Hex(new TextEncoder().encode(canonical({
    format: FORMAT,
    instrument,
    files: files.map((f) => [f.key, f.fingerprint]),
    resample: r,
    timestampColumn,
    denyColumns,
    precision,
    columns,
  })));

  const cache = typeof opts.cache === "string"
    ? new DiskCache(opts.cache, { maxBytes: opts.cacheMaxBytes })
    : opts.cache ?? null;
  const label = `${source.url.replace(/\/$/, "")}/${instrument}@${
    typeof every === "number" ? `${every}ms` : every
  }`;
  if (cache) {
    const hit = await cache.get(key);
    if (hit) {
      try {
        const { frame, meta } = decodeFrameEntry(hit);
        frame.source = label;
        return { frame, cached: true, key, files, inputRows: Number(meta.inputRows ?? NaN) };
      } catch (e) {
        log("warn", `cache: unreadable entry ${key} (${(e as Error).message}); recomputing`);
        await cache.delete(key);
      }
    }
  }

  // Miss: read (reusing fingerprinted bytes), validate, resample.
  const memo: Storage = {
    url: source.url,
    list: (p) => source.list(p),
    get: (k) => (read.has(k) ? Promise.resolve(read.get(k)!) : source.get(k)),
    head: (k) => source.head(k),
    reader: (k) => {
      const bytes = read.get(k);
      if (!bytes) return source.reader(k);
      return Promise.resolve({
        byteLength: bytes.length,
        slice: (start: number, end = bytes.length) => Promise.resolve(bytes.slice(start, end).buffer),
      });
    },
    put: (k, b) => source.put(k, b),
    delete: (k) => source.delete(k),
  };
  const input = await loadTask(memo, task, { timestampColumn, denyColumns, columns });
  read.clear();
  const frame = await resample(input, { ...opts, every }, opts.compute ?? { choice: "cpu", gpu: null });
  frame.source = label;
  if (cache) {
    await cache.put(
      key,
      encodeFrameEntry(frame, { inputRows: input.rows, instrument, every: r.every, precision }),
    );
  }
  return { frame, cached: false, key, files, inputRows: input.rows };
}
