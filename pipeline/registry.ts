/**
 * The run registry: a SQLite database (node:sqlite) with one row per run (id, start, end, host, config hash,
 * adapter, status) and one per task attempt (instrument, status, rows, duration, error). Secrets never reach
 * it: only the config hash and error messages (which never contain credentials) are stored.
 *
 * A run killed before it could record its end (SIGKILL, power loss) would stay "running" forever: a running
 * run refreshes its `heartbeat` every 30 s, and {@link Registry.markAbandoned} (called when a run starts and
 * by `runs`) marks "running" runs as "abandoned" when their heartbeat is older than 2 minutes, or sooner when
 * their process on this host is known to be gone (/proc/<pid>, readable with --allow-all on Linux).
 */
import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";

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

  private constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec("pragma journal_mode = wal; pragma busy_timeout = 5000;");
    db.exec(SCHEMA);
    // Registries created before the liveness columns.
    const cols = (db.prepare("pragma table_info(runs)").all() as { name: string }[]).map((c) => c.name);
    if (!cols.includes("pid")) db.exec("alter table runs add column pid integer");
    if (!cols.includes("heartbeat")) db.exec("alter table runs add column heartbeat text");
  }

  /** Opens (creating if needed) the registry at `path`. */
  static async open(path: string): Promise<Registry> {
    await Deno.mkdir(dirname(path), { recursive: true });
    return new Registry(new DatabaseSync(path));
  }

  /** Refreshes a running run's heartbeat (the pipeline does so every {@link HEARTBEAT_MS}). */
  beat(id: string, now: Date = new Date()): void {
    this.#db.prepare("update runs set heartbeat = ? where id = ? and status = 'running'").run(
      now.toISOString(),
      id,
    );
  }

  /**
   * Marks as "abandoned" (ended = now) the "running" runs whose heartbeat is older than `staleMs` (or that
   * have none: runs from before heartbeats), and those of `host` whose process `alive` says is gone; returns
   * their ids. The current process's runs are never marked.
   */
  markAbandoned(
    host: string,
    opts: { staleMs?: number; now?: Date; alive?: (pid: number) => boolean | undefined } = {},
  ): string[] {
    const now = opts.now ?? new Date();
    const stale = new Date(now.getTime() - (opts.staleMs ?? STALE_MS)).toISOString();
    const alive = opts.alive ?? processAlive;
    const running = this.#db.prepare("select id, host, pid, heartbeat from runs where status = 'running'")
      .all() as { id: string; host: string; pid: number | null; heartbeat: string | null }[];
    const dead = running.filter((r) =>
      !(r.host === host && r.pid === Deno.pid) &&
      ((r.heartbeat ?? "") < stale || (r.host === host && r.pid !== null && alive(r.pid) === false))
    );
    const mark = this.#db.prepare("update runs set status = 'abandoned', ended = ? where id = ?");
    for (const r of dead) mark.run(now.toISOString(), r.id);
    return dead.map((r) => r.id);
  }

  /** Records the start of a run. */
  startRun(run: { id: string; host: string; configHash: string; adapter: string }): void {
    const now = new Date().toISOString();
    this.#db.prepare(
      "insert into runs(id, started, host, config_hash, adapter, status, pid, heartbeat) " +
        "values (?, ?, ?, ?, ?, ?, ?, ?)",
    )
      .run(run.id, now, run.host, run.configHash, run.adapter, "running", Deno.pid, now);
  }

  /** Records one task's outcome. */
  recordTask(t: TaskRow): void {
    this.#db.prepare(
      "insert or replace into tasks(run_id, instrument, status, rows, duration_ms, error) values (?, ?, ?, ?, ?, ?)",
    ).run(t.run_id, t.instrument, t.status, t.rows, Math.round(t.duration_ms), t.error);
  }

  /** Records the end of a run with its final status. */
  endRun(id: string, status: "done" | "failed" | "interrupted"): void {
    this.#db.prepare("update runs set ended = ?, status = ? where id = ?").run(
      new Date().toISOString(),
      status,
      id,
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
    this.#db.close();
  }
}

/** How often a running run refreshes its heartbeat. */
export const HEARTBEAT_MS = 30_000;

/** A running run whose heartbeat is older than this is abandoned (four missed beats). */
const STALE_MS = 4 * HEARTBEAT_MS;

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
