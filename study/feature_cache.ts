/**
 * The study's feature cache: each instrument's feature frame under the content hash of (its input files'
 * fingerprints, the config subset that shapes its features), in a size-bounded LRU folder (io/cache.ts) with
 * a time-to-live: an entry older than the TTL is removed and counts as a miss. Trials that share those
 * parameters share the work, across trials, worker threads and resumed runs.
 */
import { decodeFrameEntry, DiskCache, encodeFrameEntry } from "../io/cache.ts";
import type { Frame } from "../io/frame.ts";

/** A feature cache with a TTL on top of a size-bounded disk cache. */
export class FeatureCache {
  readonly #disk: DiskCache;

  /** Opens the cache in `dir`: entries live `ttlMs`, the folder stays within `maxBytes`. */
  constructor(dir: string, readonly ttlMs: number, maxBytes: number) {
    this.#disk = new DiskCache(dir, { maxBytes });
  }

  /** The frame under `key` when present and younger than the TTL, else null (an expired entry is removed). */
  async get(key: string, now = Date.now()): Promise<Frame | null> {
    const bytes = await this.#disk.get(key);
    if (!bytes) return null;
    const { frame, meta } = decodeFrameEntry(bytes);
    if (!(now - Number(meta.created) < this.ttlMs)) {
      await this.#disk.delete(key);
      return null;
    }
    return frame;
  }

  /** Stores `frame` under `key`, stamped now. */
  async put(key: string, frame: Frame, now = Date.now()): Promise<void> {
    await this.#disk.put(key, encodeFrameEntry(frame, { created: now }));
  }
}
