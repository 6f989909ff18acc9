/**
 * The run registry: one row per run (id, start, end, host, config hash, adapter, status) and one per task
 * attempt (instrument, status, rows, duration, error), in a SQLite file (the single-machine default,
 * pipeline/registry_sqlite.ts) or a PostgreSQL database shared by many machines (`storage.registry:
 * postgres://...`, pipeline/registry_pg.ts), with one schema and one set of statements. Secrets never reach
 * it: only the config hash and error messages (which never contain credentials) are stored.
 *
 * The shards of one array job share a run id (pipeline/array_job.ts): each shard's process is a row of its own
 * (`id`, unique) whose `run` column holds the shared id, so {@link Registry.runShards} lists a whole run.
 *
 * A run killed before it could record its end (SIGKILL, power loss) would stay "running" forever: a running
 * run refreshes its `heartbeat` every 30 s, and {@link Registry.markAbandoned} (called when a run starts and
 * by `runs`) marks "running" runs as "abandoned" when their heartbeat is older than 2 minutes, or sooner when
 * their process on this host is known to be gone (/proc/<pid>, readable with --allow-all on Linux).
 *
 * The registry also holds the output lease (pipeline/lease.ts): a running run records the output it writes
 * and its job (config hash + shard count) and shard index; {@link Registry.startRun} refuses, in one
 * exclusive transaction, a run whose output is held by a live run of another job (or by the same shard of
 * the same job).
 */
import type { SqlDb } from "./sql_db.ts";
import { SqliteDb } from "./registry_sqlite.ts";
import { isPostgresUrl, PostgresDb } from "./registry_pg.ts";

/** A run (one process; one shard of an array job) as listed by `deno task cli runs`. */
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
  /** The run id its array job's shards share (its own id when it ran alone). */
  run: string;
  /** Its process id (null for runs recorded before pids). */
  pid: number | null;
  /** Its last heartbeat, ISO 8601 (UTC). */
  heartbeat: string | null;
  /** The output it wrote (absolute folder or s3:// URL). */
  output: string | null;
  /** Config hash and shard count, `<hash>/<N>`. */
  job: string | null;
  /** Its 0-based shard index. */
  shard: number | null;
  /** Rows of the tasks it recorded as done. */
  rows: number;
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

const SCHEMA = [
  `create table if not exists runs (
    id text primary key, started text not null, ended text, host text not null, config_hash text not null,
    adapter text not null, status text not null, pid integer, heartbeat text
  )`,
  `create table if not exists tasks (
    run_id text not null references runs(id), instrument text not null, status text not null,
    rows bigint not null, duration_ms bigint not null, error text, primary key (run_id, instrument)
  )`,
];

/** Columns added after the first registries were written, with their types. */
const ADDED_COLUMNS = [
  ["pid", "integer"],
  ["heartbeat", "text"],
  ["output", "text"],
  ["job", "text"],
  ["shard", "integer"],
  ["run", "text"],
];

/** The run as {@link Registry.startRun} records it. */
export interface RunStart {
  /** This process's run id (unique). */
  id: string;
  /** The run id shared by the shards of an array job; default `id`. */
  run?: string;
  /** Host name. */
  host: string;
  /** Config hash. */
  configHash: string;
  /** GPU adapter name, or `"cpu"`. */
  adapter: string;
  /** The output lease it asks for. */
  lease?: LeaseRequest;
}

/** An open registry database. */
export class Registry {
  #db: SqlDb;
  /** Liveness locks held by runs of this process, by run id. */
  #locks = new Map<string, { file: Deno.FsFile; path: string }>();

  private constructor(db: SqlDb) {
    this.#db = db;
  }

  /**
   * Opens (creating the tables if needed) the registry at `location`: a SQLite file path, or a
   * `postgres://user@host[:port]/db` URL (password from PGPASSWORD). A location that cannot hold it (a
   * read-only folder, a file in the way, an unreachable server) is a StorageError naming it and what to do.
   */
  static async open(location: string): Promise<Registry> {
    const db = isPostgresUrl(location) ? await PostgresDb.open(location) : await SqliteDb.open(location);
    try {
      await db.exclusive("opening", async () => {
        for (const stmt of SCHEMA) await db.run("opening", stmt);
        // Registries created before the liveness, lease and shared-run columns.
        const cols = await db.columns("runs");
        for (const [col, type] of ADDED_COLUMNS) {
          if (!cols.includes(col)) await db.run("opening", `alter table runs add column ${col} ${type}`);
        }
      });
    } catch (e) {
      await db.close().catch(() => {});
      throw e;
    }
    return new Registry(db);
  }

  /** Refreshes a running run's heartbeat (the pipeline does so every {@link HEARTBEAT_MS}). */
  async beat(id: string, now: Date = new Date()): Promise<void> {
    await this.#db.run(
      "recording a heartbeat in",
      "update runs set heartbeat = ? where id = ? and status = 'running'",
      [now.toISOString(), id],
    );
  }

  /**
   * Marks as "abandoned" (ended = now) the "running" runs whose heartbeat is older than `staleMs` (or that
   * have none: runs from before heartbeats), and those of `host` whose process `alive` says is gone; returns
   * their ids. The current process's runs are never marked. On this host a run's liveness lock, when it has
   * one, decides before `alive`. With `output`, only the runs holding that output are considered.
   */
  async markAbandoned(
    host: string,
    opts: { staleMs?: number; now?: Date; alive?: (pid: number) => boolean | undefined; output?: string } =
      {},
  ): Promise<string[]> {
    const now = opts.now ?? new Date();
    const doing = "marking abandoned runs in";
    const running = await this.#db.all<
      { id: string; host: string; pid: number | null; heartbeat: string | null }
    >(
      doing,
      "select id, host, pid, heartbeat from runs where status = 'running'" +
        (opts.output === undefined ? "" : " and output = ?"),
      opts.output === undefined ? [] : [opts.output],
    );
    const dead = running.filter((r) =>
      !(r.host === host && r.pid === Deno.pid) &&
      holderGone({ ...r, lock: this.#locks.has(r.id) ? undefined : this.#db.livenessPath(r.id) }, host, {
        ...opts,
        now: now.getTime(),
      })
    );
    for (const r of dead) {
      await this.#db.run(doing, "update runs set status = 'abandoned', ended = ? where id = ?", [
        now.toISOString(),
        r.id,
      ]);
      if (r.host === host) Deno.remove(this.#db.livenessPath(r.id)).catch(() => {});
    }
    return dead.map((r) => r.id);
  }

  /** Removes a run that {@link startRun} recorded but that did not go ahead (its output lease was refused). */
  async cancelRun(id: string): Promise<void> {
    this.#releaseLiveness(id);
    await this.#db.run("cancelling a run in", "delete from runs where id = ?", [id]);
  }

  /** A run's status, or null when this registry does not know it. */
  async runStatus(id: string): Promise<string | null> {
    const [row] = await this.#db.all<{ status: string }>("reading", "select status from runs where id = ?", [
      id,
    ]);
    return row?.status ?? null;
  }

  /** The file a running run keeps locked (exclusive flock) while its process lives; see {@link lockHolderAlive}. */
  livenessPath(id: string): string {
    return this.#db.livenessPath(id);
  }

  /** Takes the liveness lock of run `id` (released by {@link endRun} or when the process ends). */
  #holdLiveness(id: string): void {
    const path = this.#db.livenessPath(id);
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
   * Records the start of a run. With a `lease`, in one exclusive transaction: runs whose holder died are
   * marked abandoned (see {@link markAbandoned}; those that held this output are returned as `takenOver`), and
   * when a live run of another job (or the same shard of this job) holds the output nothing is recorded and
   * that run is returned as `conflict`. A shard of a shared run id recorded with another job (config hash and
   * shard count) is refused as `mismatch`: its shards would split the tasks differently.
   */
  startRun(
    run: RunStart,
    opts: { alive?: (pid: number) => boolean | undefined } = {},
  ): Promise<{ conflict?: LeaseHolder; mismatch?: string; takenOver: LeaseHolder[] }> {
    return this.#db.exclusive("starting a run in", () => this.#startRun(run, opts.alive));
  }

  async #startRun(
    run: RunStart,
    alive?: (pid: number) => boolean | undefined,
  ): Promise<{ conflict?: LeaseHolder; mismatch?: string; takenOver: LeaseHolder[] }> {
    const doing = "starting a run in";
    const holders = (output: string) =>
      this.#db.all<LeaseHolder>(
        doing,
        "select id as run_id, host, pid, started as since, heartbeat, job, shard from runs " +
          "where output = ? and status = 'running' order by started",
        [output],
      );
    const { lease } = run;
    let takenOver: LeaseHolder[] = [];
    if (lease) {
      if (run.run !== undefined && run.run !== run.id) {
        const [other] = await this.#db.all<{ id: string; job: string }>(
          doing,
          "select id, job from runs where run = ? and job <> ? order by started limit 1",
          [run.run, lease.job],
        );
        if (other) return { mismatch: other.job, takenOver };
      }
      const before = await holders(lease.output);
      const abandoned = new Set(await this.markAbandoned(run.host, { alive, output: lease.output }));
      takenOver = before.filter((h) => abandoned.has(h.run_id));
      const conflict = (await holders(lease.output)).find((h) =>
        h.job !== lease.job || h.shard === lease.shard
      );
      if (conflict) return { conflict, takenOver };
    }
    const now = new Date().toISOString();
    await this.#db.run(
      doing,
      "insert into runs(id, started, host, config_hash, adapter, status, pid, heartbeat, output, job, shard, run) " +
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      [
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
        run.run ?? run.id,
      ],
    );
    this.#holdLiveness(run.id);
    return { takenOver };
  }

  /** Records one task's outcome. */
  async recordTask(t: TaskRow): Promise<void> {
    await this.#db.run(
      "recording a task in",
      "insert into tasks(run_id, instrument, status, rows, duration_ms, error) values (?, ?, ?, ?, ?, ?) " +
        "on conflict (run_id, instrument) do update set status = excluded.status, rows = excluded.rows, " +
        "duration_ms = excluded.duration_ms, error = excluded.error",
      [t.run_id, t.instrument, t.status, t.rows, Math.round(t.duration_ms), t.error],
    );
  }

  /** Records the end of a run with its final status (which also releases its output lease). */
  async endRun(id: string, status: "done" | "failed" | "interrupted"): Promise<void> {
    this.#releaseLiveness(id);
    await this.#db.run(
      "recording the end of a run in",
      "update runs set ended = ?, status = ? where id = ?",
      [
        new Date().toISOString(),
        status,
        id,
      ],
    );
  }

  /** The most recent runs (one row per process: each shard of an array job is one) with their task counts. */
  recentRuns(limit = 10): Promise<RunRow[]> {
    return this.#db.all<RunRow>("reading", `${RUN_ROWS} order by r.started desc limit ?`, [limit]);
  }

  /**
   * The processes of run `run` (the id shared by an array job's shards, or one process's own id), oldest
   * first: each shard's attempts, with their task counts and rows.
   */
  runShards(run: string): Promise<RunRow[]> {
    return this.#db.all<RunRow>("reading", `${RUN_ROWS} where r.run = ? or r.id = ? order by r.started`, [
      run,
      run,
    ]);
  }

  /** The tasks of a run (failures first). */
  tasks(runId: string): Promise<TaskRow[]> {
    return this.#db.all<TaskRow>(
      "reading",
      "select * from tasks where run_id = ? order by status = 'failed' desc, instrument",
      [runId],
    );
  }

  /** Closes the database. */
  async close(): Promise<void> {
    for (const id of [...this.#locks.keys()]) this.#releaseLiveness(id);
    await this.#db.close();
  }
}

/** Each run with its task counts and rows (cast: PostgreSQL counts are bigint). */
const RUN_ROWS = `select r.*, coalesce(r.run, r.id) as run,
  cast((select count(*) from tasks t where t.run_id = r.id and t.status = 'done') as integer) as tasks_done,
  cast((select count(*) from tasks t where t.run_id = r.id and t.status = 'failed') as integer) as tasks_failed,
  cast((select count(*) from tasks t where t.run_id = r.id and t.status = 'skipped') as integer) as tasks_skipped,
  coalesce((select sum(t.rows) from tasks t where t.run_id = r.id and t.status = 'done'), 0) as rows
  from runs r`;

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
