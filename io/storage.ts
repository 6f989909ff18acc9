/**
 * Where data is read from and written to: a local folder or an S3-compatible prefix, behind one interface.
 * Keys are '/'-separated paths relative to the storage root. `put` is atomic per object: a reader sees the
 * old object or the new one, never a torn one (local: temp file + rename; S3: a PUT or a completed multipart
 * upload). Task-level commits (data objects first, then a manifest) are built on top of this.
 */
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { UsageError } from "../runtime/errors.ts";
import { log } from "../runtime/log.ts";
import { StorageError, storageError, writeFileAtomic } from "./write.ts";
import type { Bytes } from "./bytes.ts";

/** Names of in-flight (or abandoned) atomic writes: `writeFileAtomic` writes `<path>.tmp-<hex>` first. */
const TEMP = /\.tmp-[0-9a-f]+$/;

/** Whether the real path `p` is `root` or lies below it (both resolved). */
function isInside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r !== ".." && !r.startsWith(`..${sep}`) && !isAbsolute(r);
}

/** One stored object. */
export interface StoredObject {
  /** '/'-separated path relative to the storage root. */
  key: string;
  /** Size in bytes. */
  size: number;
  /** A marker that changes when the object does, without reading it: mtime in ms (local) or the ETag (S3). */
  version?: string;
}

/** Random access to one object's bytes (the shape of hyparquet's AsyncBuffer). */
export interface RangeReader {
  /** Object size in bytes. */
  byteLength: number;
  /** Bytes [start, end) (end defaults to the object's end). */
  slice(start: number, end?: number): Promise<ArrayBuffer>;
}

/** A folder or bucket prefix. */
export interface Storage {
  /** Where it points, for logs (never contains credentials). */
  readonly url: string;
  /** Every object under `prefix` (recursive), sorted by key. */
  list(prefix?: string): Promise<StoredObject[]>;
  /** The object's bytes; throws UsageError naming the key when it does not exist. */
  get(key: string): Promise<Uint8Array>;
  /** The object's size, or null when absent. */
  head(key: string): Promise<{ size: number } | null>;
  /** Ranged reads of an object (Parquet row groups are read this way, never the whole file at once). */
  reader(key: string): Promise<RangeReader>;
  /** Writes an object atomically (replacing any old one): one byte array, or pieces that form it in order. */
  put(key: string, bytes: Bytes): Promise<void>;
  /**
   * Writes an object only when none exists under `key`; true when this call created it. Atomic where the
   * store supports it (local: hard link; S3: `If-None-Match: *`); see each implementation.
   */
  putIfAbsent?(key: string, bytes: Uint8Array): Promise<boolean>;
  /** Removes an object (absent is fine). */
  delete(key: string): Promise<void>;
}

/**
 * A local folder.
 *
 * Symbolic links: a link whose target lies inside the root is followed (a file is listed under the link's
 * key, a folder is walked once: link loops are cut); a link that points outside the root, a broken link and
 * anything that is not a regular file or folder (FIFO, socket, device) is skipped, and each skipped entry is
 * logged once per storage as a warning with its path and the reason. Outside targets are skipped so that a
 * data folder cannot pull in files from elsewhere on the machine (e.g. a link to a home folder).
 */
export class LocalStorage implements Storage {
  /** Paths already reported as skipped, so repeated listings warn once. */
  #reported = new Set<string>();

  /** A storage rooted at the folder `root` (created on first write). */
  constructor(
    /** The folder that keys are resolved against. */
    readonly root: string,
  ) {}

  get url(): string {
    return this.root;
  }

  #skip(path: string, reason: string): void {
    if (this.#reported.has(path)) return;
    this.#reported.add(path);
    log("warn", `${path}: skipped: ${reason}`, { path, reason });
  }

  /** Every file below the root: its path and its key (relative, '/'-separated); see the class comment. */
  async *#files(): AsyncGenerator<{ path: string; key: string }> {
    let realRoot: string;
    try {
      realRoot = await Deno.realPath(this.root);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw storageError(e, this.root, "reading");
    }
    const inside = (p: string) => isInside(realRoot, p);
    // Real paths of the folders walked: a link to one of them (a loop, or an alias) is not walked again.
    const walked = new Set<string>([realRoot]);
    const stack: [string, string][] = [[this.root, ""]];
    while (stack.length) {
      const [dir, rel] = stack.pop()!;
      let entries: Deno.DirEntry[];
      try {
        entries = await Array.fromAsync(Deno.readDir(dir));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue;
        throw storageError(e, dir, "listing");
      }
      // Real folders before links, so a link aliasing a sibling folder is the one skipped.
      entries.sort((a, b) => Number(a.isSymlink) - Number(b.isSymlink));
      for (const e of entries) {
        const key = rel ? `${rel}/${e.name}` : e.name;
        const path = join(dir, e.name);
        if (e.isDirectory) {
          walked.add(await Deno.realPath(path).catch(() => path));
          stack.push([path, key]);
        } else if (e.isFile) yield { path, key };
        else if (e.isSymlink) {
          let target: string, info: Deno.FileInfo;
          try {
            target = await Deno.realPath(path);
            info = await Deno.stat(target);
          } catch {
            this.#skip(path, "broken symbolic link (its target does not exist)");
            continue;
          }
          if (!inside(target)) {
            this.#skip(path, `symbolic link to ${target}, outside ${realRoot}`);
          } else if (info.isFile) yield { path, key };
          else if (!info.isDirectory) {
            this.#skip(path, "symbolic link to something that is not a file or folder");
          } else if (walked.has(target)) {
            this.#skip(path, `symbolic link to ${target}, a folder already listed`);
          } else {
            walked.add(target);
            stack.push([path, key]);
          }
        } else this.#skip(path, "not a regular file or folder (FIFO, socket or device)");
      }
    }
  }

  async list(prefix = ""): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    for await (const { path, key } of this.#files()) {
      if (!key.startsWith(prefix) || TEMP.test(key)) continue;
      const st = await Deno.stat(path);
      out.push({ key, size: st.size, ...(st.mtime ? { version: String(st.mtime.getTime()) } : {}) });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      return await Deno.readFile(join(this.root, key));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new UsageError(`${join(this.root, key)}: no such file`);
      throw storageError(e, join(this.root, key), "reading");
    }
  }

  async head(key: string): Promise<{ size: number } | null> {
    try {
      return { size: (await Deno.stat(join(this.root, key))).size };
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw storageError(e, join(this.root, key), "reading");
    }
  }

  async reader(key: string): Promise<RangeReader> {
    const path = join(this.root, key);
    const size = (await this.head(key))?.size;
    if (size === undefined) throw new UsageError(`${path}: no such file`);
    return {
      byteLength: size,
      slice: async (start, end = size) => {
        using file = await Deno.open(path).catch((e) => {
          throw storageError(e, path, "reading");
        });
        await file.seek(start, Deno.SeekMode.Start);
        const buf = new Uint8Array(end - start);
        for (let at = 0; at < buf.length;) {
          const n = await file.read(buf.subarray(at));
          if (n === null) throw new Error(`${path}: file shorter than ${end} bytes`);
          at += n;
        }
        return buf.buffer;
      },
    };
  }

  async put(key: string, bytes: Bytes): Promise<void> {
    const path = join(this.root, key);
    await this.#prepareFolder(path);
    await writeFileAtomic(path, bytes);
  }

  /**
   * Creates the file only when `key` does not exist: the bytes go to a temporary file that is hard-linked to
   * the final name (link fails when the name exists), so the check and the creation are one atomic step and
   * a reader never sees a partial file.
   */
  async putIfAbsent(key: string, bytes: Uint8Array): Promise<boolean> {
    const path = join(this.root, key);
    await this.#prepareFolder(path);
    const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
    try {
      await Deno.writeFile(tmp, bytes, { createNew: true });
      await Deno.link(tmp, path);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) return false;
      throw storageError(e, path, "writing");
    } finally {
      await Deno.remove(tmp).catch(() => {});
    }
  }

  /** Creates the folder of `path`, refusing one that a symbolic link leads outside the root. */
  async #prepareFolder(path: string): Promise<void> {
    await this.#mkdir(this.root);
    await this.#checkInside(path);
    await this.#mkdir(dirname(path));
  }

  /**
   * Throws when the nearest existing folder of `path` resolves outside the root: a symbolic link planted in
   * the storage folder must not make a write or removal land elsewhere on the machine.
   */
  async #checkInside(path: string): Promise<void> {
    const realRoot = await Deno.realPath(this.root);
    const base = join(this.root); // normalized, as the paths built with join
    for (let p = dirname(path); p.length >= base.length; p = dirname(p)) {
      const real = await Deno.realPath(p).catch(() => null);
      if (real === null) continue;
      if (isInside(realRoot, real)) return;
      throw new StorageError(
        `${path}: ${p} leads to ${real}, outside ${realRoot} (a symbolic link); remove the link: ` +
          "writes stay inside the storage folder",
        2,
      );
    }
  }

  async #mkdir(dir: string): Promise<void> {
    try {
      await Deno.mkdir(dir, { recursive: true });
    } catch (e) {
      throw storageError(e, dir, "creating the folder");
    }
  }

  /**
   * Removes temporary files (`*.tmp-<hex>`) older than `maxAgeMs` that a killed writer left behind; younger
   * ones may belong to a writer still running (another shard). Returns how many were removed.
   */
  async sweepTemp(maxAgeMs = 3_600_000): Promise<number> {
    let removed = 0;
    for await (const { path, key } of this.#files()) {
      if (!TEMP.test(key)) continue;
      // A running writer (another shard) may rename or remove its temporary file between the listing and here.
      const info = await Deno.stat(path).catch((e) => {
        if (e instanceof Deno.errors.NotFound) return null;
        throw e;
      });
      if (!info) continue;
      const age = Date.now() - (info.mtime?.getTime() ?? Date.now());
      if (age > maxAgeMs) await Deno.remove(path).then(() => removed++, () => {});
    }
    return removed;
  }

  async delete(key: string): Promise<void> {
    if (!(await this.head(key))) return;
    await this.#checkInside(join(this.root, key));
    await Deno.remove(join(this.root, key)).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw storageError(e, join(this.root, key), "removing");
    });
  }
}
