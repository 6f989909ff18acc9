/**
 * A content-addressed on-disk cache with a size limit and LRU eviction, plus the binary frame format its
 * entries use.
 *
 * - An entry is one file `DIR/<key>.fgc`; `key` is a hex digest the caller derives from the content it caches
 *   (pipeline/loader.ts: the source files' checksums and the parameters), so an entry never goes stale: changed
 *   inputs give another key, and the old entry ages out.
 * - Writes are atomic (temporary file + rename, `writeFileAtomic`): a reader, or another process writing the
 *   same key, sees the old entry or the complete new one. A crash leaves at most a `*.tmp-*` file, removed by
 *   a later eviction pass once it is an hour old.
 * - LRU: an entry's modification time is its last use (set on `put` and on every hit); after each `put` the
 *   least recently used entries are removed until the total is within `maxBytes`. An entry larger than
 *   `maxBytes` on its own is not stored. Several processes may share a folder: a read that races an eviction
 *   is a miss.
 *
 * Frame entries (`encodeFrameEntry`): the magic `FGFRAME1`, a little-endian u32 header length, a UTF-8 JSON
 * header (source, rows, timestamp column, column names, caller metadata) padded to 8 bytes, then the
 * timestamps and each column as little-endian f64 (`rows` values each). Exact: f64 in, f64 out.
 */
import { join } from "node:path";
import { type Frame, makeFrame } from "./frame.ts";
import { writeFileAtomic } from "./write.ts";
import { log } from "../runtime/log.ts";

/** Cache options. */
export interface CacheOptions {
  /** Total bytes the entries may use (default 1 GiB). */
  maxBytes?: number;
}

/** One cache entry as listed by `entries()`. */
export interface CacheEntry {
  /** The entry's key (hex digest; the file is `<key>.fgc`). */
  key: string;
  /** File size in bytes. */
  size: number;
  /** Last use, epoch ms. */
  used: number;
}

const EXT = ".fgc";
const KEY_RE = /^[0-9a-f]{16,128}$/;
const STALE_TMP_MS = 3_600_000;

let clock = 0;
/** A strictly increasing millisecond stamp within this process (orders uses made in the same ms). */
function stamp(): Date {
  clock = Math.max(Date.now(), clock + 1);
  return new Date(clock);
}

/** A size-limited LRU cache of byte strings in a folder. */
export class DiskCache {
  /** Bytes the entries may use in total. */
  readonly maxBytes: number;
  /** Counters since this instance was created. */
  readonly stats = { hits: 0, misses: 0, writes: 0, evictions: 0 };

  /** Opens a cache in `dir` limited to `opts.maxBytes` (default 1 GiB); throws RangeError if that is not > 0. */
  constructor(
    /** The cache folder (created on the first write). */
    readonly dir: string,
    opts: CacheOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? 2 ** 30;
    if (!(this.maxBytes > 0)) throw new RangeError(`cache maxBytes must be > 0, got ${opts.maxBytes}`);
  }

  #path(key: string): string {
    if (!KEY_RE.test(key)) throw new RangeError(`cache key must be a hex digest, got "${key}"`);
    return join(this.dir, key + EXT);
  }

  /** The entry's bytes (and marks it used), or null when absent. */
  async get(key: string): Promise<Uint8Array | null> {
    const path = this.#path(key);
    try {
      const bytes = await Deno.readFile(path);
      await Deno.utime(path, stamp(), stamp()).catch(() => {});
      this.stats.hits++;
      return bytes;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      this.stats.misses++;
      return null;
    }
  }

  /** Whether the entry exists (does not count as a use). */
  async has(key: string): Promise<boolean> {
    try {
      await Deno.stat(this.#path(key));
      return true;
    } catch {
      return false;
    }
  }

  /** Stores an entry atomically, then evicts least recently used entries down to `maxBytes`. */
  async put(key: string, bytes: Uint8Array): Promise<void> {
    const path = this.#path(key);
    if (bytes.length > this.maxBytes) {
      log("warn", `cache: entry of ${bytes.length} bytes exceeds the limit ${this.maxBytes}; not cached`);
      return;
    }
    await Deno.mkdir(this.dir, { recursive: true });
    await writeFileAtomic(path, bytes);
    // Another process's eviction may already have removed it: then it is simply not cached.
    await Deno.utime(path, stamp(), stamp()).catch(() => {});
    this.stats.writes++;
    await this.evict(key);
  }

  /** Removes an entry (absent is fine). */
  async delete(key: string): Promise<void> {
    await Deno.remove(this.#path(key)).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }

  /** Every entry, least recently used first. */
  async entries(): Promise<CacheEntry[]> {
    const out: CacheEntry[] = [];
    let list: Deno.DirEntry[];
    try {
      list = await Array.fromAsync(Deno.readDir(this.dir));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
    for (const e of list) {
      if (!e.isFile) continue;
      const path = join(this.dir, e.name);
      if (e.name.includes(`${EXT}.tmp-`)) {
        // A write that crashed before its rename: remove once it is surely not in progress.
        const st = await Deno.stat(path).catch(() => null);
        if (st?.mtime && Date.now() - st.mtime.getTime() > STALE_TMP_MS) {
          await Deno.remove(path).catch(() => {});
        }
        continue;
      }
      if (!e.name.endsWith(EXT) || !KEY_RE.test(e.name.slice(0, -EXT.length))) continue;
      const st = await Deno.stat(path).catch(() => null);
      if (st) out.push({ key: e.name.slice(0, -EXT.length), size: st.size, used: st.mtime?.getTime() ?? 0 });
    }
    return out.sort((a, b) => a.used - b.used || (a.key < b.key ? -1 : 1));
  }

  /** Total bytes held. */
  async size(): Promise<number> {
    return (await this.entries()).reduce((a, e) => a + e.size, 0);
  }

  /** Removes least recently used entries (never `keep`) until the total is within `maxBytes`. */
  async evict(keep?: string): Promise<string[]> {
    const all = await this.entries();
    let total = all.reduce((a, e) => a + e.size, 0);
    const removed: string[] = [];
    for (const e of all) {
      if (total <= this.maxBytes) break;
      if (e.key === keep) continue;
      await this.delete(e.key);
      total -= e.size;
      removed.push(e.key);
      this.stats.evictions++;
    }
    if (removed.length) log("debug", `cache: evicted ${removed.length} entries`, { dir: this.dir });
    return removed;
  }

  /** Removes every entry. */
  async clear(): Promise<void> {
    for (const e of await this.entries()) await this.delete(e.key);
  }
}

const MAGIC = new TextEncoder().encode("FGFRAME1");

/** Serializes a frame (and JSON-able metadata) to the cache's binary frame format. */
export function encodeFrameEntry(frame: Frame, meta: Record<string, unknown> = {}): Uint8Array {
  const names = [...frame.columns.keys()];
  const header = new TextEncoder().encode(JSON.stringify({
    source: frame.source,
    rows: frame.rows,
    timestampColumn: frame.timestamps ? frame.timestampColumn ?? "timestamp" : null,
    columns: names,
    meta,
  }));
  const headEnd = Math.ceil((12 + header.length) / 8) * 8;
  const arrays = [
    ...(frame.timestamps ? [frame.timestamps] : []),
    ...names.map((n) => frame.columns.get(n)!),
  ];
  const bytes = new Uint8Array(headEnd + arrays.length * frame.rows * 8);
  bytes.set(MAGIC, 0);
  new DataView(bytes.buffer).setUint32(8, header.length, true);
  bytes.set(header, 12);
  const body = new Float64Array(bytes.buffer, headEnd);
  arrays.forEach((a, i) => body.set(a, i * frame.rows));
  return bytes;
}

/** Decodes `encodeFrameEntry` output; throws RangeError on a malformed or truncated entry. */
export function decodeFrameEntry(bytes: Uint8Array): { frame: Frame; meta: Record<string, unknown> } {
  if (bytes.length < 12 || MAGIC.some((b, i) => bytes[i] !== b)) throw new RangeError("not a frame entry");
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  if (12 + len > bytes.length) throw new RangeError("truncated frame entry header");
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as {
    source: string;
    rows: number;
    timestampColumn: string | null;
    columns: string[];
    meta: Record<string, unknown>;
  };
  const headEnd = Math.ceil((12 + len) / 8) * 8;
  const count = h.columns.length + (h.timestampColumn ? 1 : 0);
  if (bytes.length !== headEnd + count * h.rows * 8) throw new RangeError("truncated frame entry");
  // Copy into an aligned buffer (the bytes may sit at any offset of a larger one).
  const body = new Float64Array(bytes.slice(headEnd).buffer);
  const at = (i: number) => body.subarray(i * h.rows, (i + 1) * h.rows);
  const ts = h.timestampColumn ? at(0) : undefined;
  const first = ts ? 1 : 0;
  const columns = new Map(h.columns.map((n, i) => [n, at(first + i)]));
  const frame = makeFrame(
    h.source,
    h.rows,
    columns,
    [],
    ts ? { column: h.timestampColumn!, values: ts } : undefined,
  );
  return { frame, meta: h.meta };
}
