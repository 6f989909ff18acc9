/**
 * The run registry's SQLite database (node:sqlite): the single-machine default, a file beside the output.
 * Concurrent processes wait for each other's transactions (busy timeout) instead of failing with "database
 * is locked"; SQLite failures become a StorageError naming the file and what to do.
 */
import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";
import { StorageError, storageError } from "../io/write.ts";
import type { SqlDb } from "./sql_db.ts";

/** How long a registry call waits for another process's transaction before failing (ms). */
const BUSY_TIMEOUT_MS = 15_000;

type Param = string | number | null;

/**
 * Puts a new database file in WAL mode (a no-op once it is). Two processes switching one new file at once can
 * deadlock on its locks, and SQLite then fails one of them at once with SQLITE_BUSY instead of calling the busy
 * handler (about 1 in 10 pairs here): that one tries again, within the busy timeout.
 */
async function switchToWal(db: DatabaseSync): Promise<void> {
  const end = Date.now() + BUSY_TIMEOUT_MS;
  while (true) {
    try {
      db.exec("pragma journal_mode = wal;");
      return;
    } catch (e) {
      if (!/locked|busy/i.test((e as Error)?.message ?? "") || Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
    }
  }
}

/** A registry database in the SQLite file at `path`. */
export class SqliteDb implements SqlDb {
  readonly where: string;

  private constructor(readonly db: DatabaseSync, readonly path: string) {
    this.where = path;
  }

  /** Opens (creating if needed) the database at `path`, translating failures (see {@link registryError}). */
  static async open(path: string): Promise<SqliteDb> {
    try {
      await Deno.mkdir(dirname(path), { recursive: true });
    } catch (e) {
      throw storageError(
        e,
        dirname(path),
        "creating the folder of the run registry",
        "storage.output or storage.registry",
      );
    }
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
      // The busy timeout is set when the connection opens (DatabaseSync's timeout), before switching to WAL:
      // that switch takes a lock, and without the timeout a second process fails at once with "database is locked".
      await switchToWal(db);
      return new SqliteDb(db, path);
    } catch (e) {
      db?.close();
      throw registryError(e, path, "opening");
    }
  }

  livenessPath(id: string): string {
    return `${this.path}-${id}.lock`;
  }

  #do<T>(doing: string, fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(registryError(e, this.path, doing));
    }
  }

  all<T>(doing: string, sql: string, params: Param[] = []): Promise<T[]> {
    return this.#do(doing, () => this.db.prepare(sql).all(...params) as T[]);
  }

  run(doing: string, sql: string, params: Param[] = []): Promise<void> {
    return this.#do(doing, () => void this.db.prepare(sql).run(...params));
  }

  async exclusive<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    await this.#do(doing, () => this.db.exec("begin immediate"));
    try {
      const result = await fn();
      await this.#do(doing, () => this.db.exec("commit"));
      return result;
    } catch (e) {
      this.db.exec("rollback");
      throw e;
    }
  }

  async columns(table: string): Promise<string[]> {
    const cols = await this.all<{ name: string }>("opening", `pragma table_info(${table})`);
    return cols.map((c) => c.name);
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}

/**
 * A SQLite failure on the registry at `path` as a StorageError naming it and what to do. SQLite's own words
 * ("unable to open database file") do not say why, so the folder is probed with a small file: the operating
 * system's answer (read-only, no space, a file in the way) names the cause.
 */
function registryError(e: unknown, path: string, doing: string): unknown {
  if (e instanceof StorageError) return e;
  const setting = "storage.output or storage.registry";
  let isFolder = false;
  try {
    isFolder = Deno.statSync(path).isDirectory;
  } catch { /* absent or unreadable: the probe below says why */ }
  if (isFolder) {
    return new StorageError(
      `run registry ${path} is a folder, not a file; remove it or choose another path (${setting})`,
      2,
      { cause: e },
    );
  }
  const probe = `${dirname(path)}/.registry-probe-${crypto.randomUUID().slice(0, 8)}`;
  try {
    Deno.writeFileSync(probe, new Uint8Array(1), { createNew: true });
    Deno.removeSync(probe);
  } catch (p) {
    const mapped = storageError(p, path, `${doing} the run registry`, setting);
    if (mapped instanceof StorageError) return mapped;
  }
  const msg = (e as Error)?.message ?? String(e);
  const where = `run registry ${path}`;
  if (/locked|busy/i.test(msg)) {
    return new StorageError(
      `${where} stayed locked by another process for ${BUSY_TIMEOUT_MS / 1000} s (while ${doing} it); ` +
        "retry when the other run has finished, or give this run its own registry (storage.registry)",
      1,
      { cause: e },
    );
  }
  if (/full/i.test(msg)) {
    return new StorageError(
      `no space left for the ${where} (while ${doing} it); free space there, then re-run`,
      1,
      { cause: e },
    );
  }
  if (/readonly|read-only/i.test(msg)) {
    return new StorageError(
      `${where} is read-only (while ${doing} it); make it writable or choose another path (${setting})`,
      2,
      { cause: e },
    );
  }
  if (/not a database|malformed|unable to open/i.test(msg)) {
    return new StorageError(
      `${where} cannot be used: ${msg.replace(/:\s*\/.*$/, "")} (while ${doing} it); it must be a SQLite ` +
        `database this user can read and write: move it away or choose another path (${setting})`,
      2,
      { cause: e },
    );
  }
  return e;
}
