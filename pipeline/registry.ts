/**
 * The run registry: a SQLite database (node:sqlite) with one row per run (id, start, end, host, config hash,
 * adapter, status) and one per task attempt (instrument, status, rows, duration, error). Secrets never reach
 * it: only the config hash and error messages (which never contain credentials) are stored.
 *
 * A run killed before it could record its end (SIGKILL, power loss) would stay "running" forever: a running
 * run refreshes its `heartbeat` every 30 s, and {@link Registry.markAbandoned} (called when a run starts and
 * by `runs`) marks "running" runs as "abandoned" when their heartbeat is older than 2 minutes, or sooner when
 * their process on this host is known to be gone (/proc/<pid>, readable with --allow-all on Linux).
 *
 * The registry also holds the output lease (pipeline/lease.ts): a running run records the output it writes
 * and its job (config hash + shard count) and shard index; {@link Registry.startRun} refuses, in one
 * transaction, a run whose output is held by a live run of another job (or by the same shard of the same job).
 * Concurrent processes wait for each other's transactions (busy timeout) instead of failing with "database
 * is locked".
 */
import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";
import { StorageError, storageError } from "../io/write.ts";

/** A run as listed by `deno task cli runs`. */
export interface RunRow {
  /** Run id. */
  id: string;
  /** Start time, ISO 8601 (UTC). */
  started: string;
  /** End time, ISO 8601 (UTC); null while running or if the process died. */
  ended: string | null;
  /** Host name of the machine that ran it. */
  host: string;
  /** Hash of the run's configuration. */
  config_hash: string;
  /** GPU adapter name, or `"cpu"`. */
  adapter: string;
  /** `"running"`, `"done"`, `"failed"`, `"interrupted"` or `"abandoned"` (its process died). */
  status: string;
  /** Number of tasks recorded as done. */
  tasks_done: number;
  /** Number of tasks recorded as failed. */
  tasks_failed: number;
  /** Number of tasks skipped (already committed with the same config). */
  tasks_skipped: number;
}

/** A task attempt. */
export interface TaskRow {
  /** Id of the run this attempt belongs to. */
  run_id: string;
  /** The task's instrument. */
  instrument: string;
  /** Outcome; `skipped` = already committed with the same config. */
  status: "done" | "failed" | "skipped";
  /** Rows processed (for a skipped task, the committed row count). */
  rows: number;
  /** Wall time in milliseconds (stored rounded). */
  duration_ms: number;
  /** Error message when failed, else null. */
  error: string | null;
}

/** A live run holding an output location (see pipeline/lease.ts). */
export interface LeaseHolder {
  /** Run id. */
  run_id: string;
  /** Host name of its machine. */
  host: string;
  /** Its process id (null for runs recorded before pids). */
  pid: number | null;
  /** When it started, ISO 8601 (UTC). */
  since: string;
  /** Its last heartbeat, ISO 8601 (UTC). */
  heartbeat: string | null;
  /** Its job: config hash and shard count (`<hash>/<N>`). */
  job: string;
  /** Its shard index (0 when unsharded; -1 when unknown: a holder known from the lock object only). */
  shard: number;
}

/** The output lease a run asks for when it starts: shards of one job share `output`. */
export interface LeaseRequest {
  /** Output location (absolute folder path or s3:// URL). */
  output: string;
  /** Config hash and shard count, `<hash>/<N>`: runs with the same job and different shards work together. */
  job: string;
  /** Shard index (0 when unsharded). */
  shard: number;
}

/** How long a registry call waits for another process's transaction before failing (ms). */
const BUSY_TIMEOUT_MS = 15_000;

const SCHEMA = `
create table if not exists runs (
  id text primary key, started text not null, ended text, host text not null, config_hash text not null,
  adapter text not null, status text not null, pid integer, heartbeat text
);
create table if not exists tasks (
  run_id text not null references runs(id), instrument text not null, status text not null,
  rows integer not null, duration_ms integer not null, error text, primary key (run_id, instrument)
);`;

/** An open registry database. */
export class Registry {
  #db: DatabaseSync;
  /** Liveness locks held by runs of this process, by run id. */
  #locks = new Map<string, { file: Deno.FsFile; path: string }>();

  readonly #path: string;

  private constructor(db: DatabaseSync, path: string) {
    this.#db = db;
    this.#path = path;
    // The busy timeout is set when the connection opens (DatabaseSync's timeout), before switching to WAL:
    // that switch takes a lock, and without the timeout a second process fails at once with "database is locked".
    db.exec("pragma journal_mode = wal;");
    db.exec("begin immediate");
    try {
      db.exec(SCHEMA);
      // Registries created before the liveness and lease columns.
      const cols = (db.prepare("pragma table_info(runs)").all() as { name: string }[]).map((c) => c.name);
      for (
        const [col, type] of [
          ["pid", "integer"],
          ["heartbeat", "text"],
          ["output", "text"],
          ["job", "text"],
          ["shard", "integer"],
        ]
      ) {
        if (!cols.includes(col)) db.exec(`alter table runs add column ${col} ${type}`);
      }
      db.exec("commit");
    } catch (e) {
      db.exec("rollback");
      throw e;
    }
  }

  /**
   * Opens (creating if needed) the registry at `path`. A folder that cannot hold it (read-only, full, a file
   * in the way) is a StorageError naming the path and what to do.
   */
  static async open(path: string): Promise<Registry> {
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
      return new Registry(db, path);
    } catch (e) {
      db?.close();
      throw registryError(e, path, "opening");
    }
  }

  /** Runs one registry statement group, translating SQLite failures into a StorageError naming the file. */
  #sql<T>(doing: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw registryError(e, this.#path, doing);
    }
  }

  /** Refreshes a running run's heartbeat (the pipeline does so every {@link HEARTBEAT_MS}). */
  beat(id: string, now: Date = new Date()): void {
    this.#sql(
      "recording a heartbeat in",
      () =>
        this.#db.prepare("update runs set heartbeat = ? where id = ? and status = 'running'").run(
          now.toISOString(),
          id,
        ),
    );
  }

  /**
   * Marks as "abandoned" (ended = now) the "running" runs whose heartbeat is older than `staleMs` (or that
   * have none: runs from before heartbeats), and those of `host` whose process `alive` says is gone; returns
   * their ids. The current process's runs are never marked. On this host a run's liveness lock, when it has
   * one, decides before `alive`. With `output`, only the runs holding that output are considered.
   */
  markAbandoned(
    host: string,
    opts: { staleMs?: number; now?: Date; alive?: (pid: number) => boolean | undefined; output?: string } =
      {},
  ): string[] {
    const now = opts.now ?? new Date();
    const running =
      (opts.output === undefined
        ? this.#db.prepare("select id, host, pid, heartbeat from runs where status = 'running'").all()
        : this.#db.prepare(
          "select id, host, pid, heartbeat from runs where status = 'running' and output = ?",
        )
          .all(opts.output)) as { id: string; host: string; pid: number | null; heartbeat: string | null }[];
    const dead = running.filter((r) =>
      !(r.host === host && r.pid === Deno.pid) &&
      holderGone({ ...r, lock: this.#locks.has(r.id) ? undefined : this.#livenessPath(r.id) }, host, {
        ...opts,
        now: now.getTime(),
      })
    );
    const mark = this.#db.prepare("update runs set status = 'abandoned', ended = ? where id = ?");
    for (const r of dead) {
      mark.run(now.toISOString(), r.id);
      if (r.host === host) Deno.remove(this.#livenessPath(r.id)).catch(() => {});
    }
    return dead.map((r) => r.id);
  }

  /** Removes a run that {@link startRun} recorded but that did not go ahead (its output lease was refused). */
  cancelRun(id: string): void {
    this.#releaseLiveness(id);
    this.#sql("cancelling a run in", () => this.#db.prepare("delete from runs where id = ?").run(id));
  }

  /** A run's status, or null when this registry does not know it. */
  runStatus(id: string): string | null {
    const row = this.#db.prepare("select status from runs where id = ?").get(id) as
      | { status: string }
      | undefined;
    return row?.status ?? null;
  }

  /** The file a running run keeps locked (exclusive flock) while its process lives; see {@link lockHolderAlive}. */
  livenessPath(id: string): string {
    return this.#livenessPath(id);
  }

  #livenessPath(id: string): string {
    return `${this.#path}-${id}.lock`;
  }

  /** Takes the liveness lock of run `id` (released by {@link endRun} or when the process ends). */
  #holdLiveness(id: string): void {
    const path = this.#livenessPath(id);
    try {
      const file = Deno.openSync(path, { write: true, create: true, truncate: true });
      if (file.tryLockSync(true)) this.#locks.set(id, { file, path });
      else file.close();
    } catch {
      // Without the lock, liveness falls back to the pid and the heartbeat.
    }
  }

  #releaseLiveness(id: string): void {
    const held = this.#locks.get(id);
    if (!held) return;
    this.#locks.delete(id);
    try {
      Deno.removeSync(held.path);
      held.file.close();
    } catch {
      // Best effort: a leftover unlocked file reads as "process gone", which is true.
    }
  }

  /**
   * Records the start of a run. With a `lease`, in one transaction: runs whose holder died are marked
   * abandoned (see {@link markAbandoned}; those that held this output are returned as `takenOver`), and when a
   * live run of another job (or the same shard of this job) holds the output nothing is recorded and that run
   * is returned as `conflict`.
   */
  startRun(
    run: { id: string; host: string; configHash: string; adapter: string; lease?: LeaseRequest },
    opts: { alive?: (pid: number) => boolean | undefined } = {},
  ): { conflict?: LeaseHolder; takenOver: LeaseHolder[] } {
    return this.#sql("starting a run in", () => {
      this.#db.exec("begin immediate");
      try {
        const result = this.#startRun(run, opts.alive);
        this.#db.exec(result.conflict ? "rollback" : "commit");
        return result;
      } catch (e) {
        this.#db.exec("rollback");
        throw e;
      }
    });
  }

  #startRun(
    run: { id: string; host: string; configHash: string; adapter: string; lease?: LeaseRequest },
    alive?: (pid: number) => boolean | undefined,
  ): { conflict?: LeaseHolder; takenOver: LeaseHolder[] } {
    const holders = (output: string, status: string) =>
      this.#db.prepare(
        "select id as run_id, host, pid, started as since, heartbeat, job, shard from runs " +
          "where output = ? and status = ? order by started",
      ).all(output, status) as unknown as LeaseHolder[];
    const { lease } = run;
    let takenOver: LeaseHolder[] = [];
    if (lease) {
      const before = holders(lease.output, "running");
      const abandoned = new Set(this.markAbandoned(run.host, { alive, output: lease.output }));
      takenOver = before.filter((h) => abandoned.has(h.run_id));
      const conflict = holders(lease.output, "running").find((h) =>
        h.job !== lease.job || h.shard === lease.shard
      );
      if (conflict) return { conflict, takenOver };
    }
    const now = new Date().toISOString();
    this.#db.prepare(
      "insert into runs(id, started, host, config_hash, adapter, status, pid, heartbeat, output, job, shard) " +
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ).run(
      run.id,
      now,
      run.host,
      run.configHash,
      run.adapter,
      "running",
      Deno.pid,
      now,
      lease?.output ?? null,
      lease?.job ?? null,
      lease?.shard ?? null,
    );
    this.#holdLiveness(run.id);
    return { takenOver };
  }

  /** Records one task's outcome. */
  recordTask(t: TaskRow): void {
    this.#sql("recording a task in", () =>
      this.#db.prepare(
        "insert or replace into tasks(run_id, instrument, status, rows, duration_ms, error) values (?, ?, ?, ?, ?, ?)",
      ).run(t.run_id, t.instrument, t.status, t.rows, Math.round(t.duration_ms), t.error));
  }

  /** Records the end of a run with its final status (which also releases its output lease). */
  endRun(id: string, status: "done" | "failed" | "interrupted"): void {
    this.#releaseLiveness(id);
    this.#sql(
      "recording the end of a run in",
      () =>
        this.#db.prepare("update runs set ended = ?, status = ? where id = ?").run(
          new Date().toISOString(),
          status,
          id,
        ),
    );
  }

  /** The most recent runs with their task counts. */
  recentRuns(limit = 10): RunRow[] {
    return this.#db.prepare(`
      select r.*, 
        (select count(*) from tasks t where t.run_id = r.id and t.status = 'done') as tasks_done,
        (select count(*) from tasks t where t.run_id = r.id and t.status = 'failed') as tasks_failed,
        (select count(*) from tasks t where t.run_id = r.id and t.status = 'skipped') as tasks_skipped
      from runs r order by r.started desc limit ?`).all(limit) as unknown as RunRow[];
  }

  /** The tasks of a run (failures first). */
  tasks(runId: string): TaskRow[] {
    return this.#db.prepare(
      "select * from tasks where run_id = ? order by status = 'failed' desc, instrument",
    ).all(runId) as unknown as TaskRow[];
  }

  /** Closes the database. */
  close(): void {
    for (const id of [...this.#locks.keys()]) this.#releaseLiveness(id);
    this.#db.close();
  }
}

/** How often a running run refreshes its heartbeat. */
export const HEARTBEAT_MS = 30_000;

/** A running run whose heartbeat is older than this is abandoned (four missed beats). */
const STALE_MS = 4 * HEARTBEAT_MS;

/**
 * Whether the run recorded as `h` is gone: its heartbeat is older than `staleMs` (or it has none), or it ran on
 * `host` (and in another process) and its liveness lock is free or, without a lock file, its process `alive`
 * says it is gone. On this host the lock (held until its process ends, however it ends) is the surest sign; the
 * pid check needs /proc (--allow-all). Used by {@link Registry.markAbandoned} and the lease object
 * (pipeline/lease.ts).
 */
export function holderGone(
  h: { host: string; pid: number | null; heartbeat: string | null; lock?: string },
  host: string,
  o: { staleMs?: number; now?: number; alive?: (pid: number) => boolean | undefined } = {},
): boolean {
  if (!(Date.parse(h.heartbeat ?? "") >= (o.now ?? Date.now()) - (o.staleMs ?? STALE_MS))) return true;
  if (h.host !== host || h.pid === Deno.pid) return false;
  const alive = (h.lock ? lockHolderAlive(h.lock) : undefined) ??
    (h.pid === null ? undefined : (o.alive ?? processAlive)(h.pid));
  return alive === false;
}

/**
 * Whether the process holding the liveness lock file at `path` is alive: true when the file is locked,
 * false when it exists unlocked (its holder ended: the OS drops the lock however a process ends), undefined
 * when there is no such file (a run from before these locks, or one on another host).
 */
function lockHolderAlive(path: string): boolean | undefined {
  let file: Deno.FsFile;
  try {
    // Only a regular file: the path may come from a lock object, and opening a FIFO would block.
    if (!Deno.statSync(path).isFile) return undefined;
    file = Deno.openSync(path, { read: true, write: true });
  } catch {
    return undefined;
  }
  try {
    if (!file.tryLockSync(true)) return true;
    file.unlockSync();
    return false;
  } catch {
    return undefined;
  } finally {
    file.close();
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

/**
 * Whether process `pid` exists: /proc on Linux (Deno needs --allow-all to read it); undefined (unknown)
 * elsewhere or without that access.
 */
function processAlive(pid: number): boolean | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (e) {
    return e instanceof Deno.errors.NotFound ? false : undefined;
  }
}
