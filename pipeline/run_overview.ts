/**
 * One run as a whole, from the registry: the shards of an array job (each shard's latest attempt decides its
 * state; earlier attempts, e.g. a killed shard that the scheduler requeued, are kept as history), the merged
 * task outcomes (each instrument's latest outcome), rows and wall time. `deno task cli runs RUN_ID` prints it.
 */
import type { Registry, RunRow, TaskRow } from "./registry.ts";

/** One shard's attempts, newest last. */
export interface ShardOverview {
  /** 0-based shard index. */
  index: number;
  /** State of its latest attempt: running, done, failed, interrupted, abandoned; `missing` when never started. */
  state: string;
  /** Its attempts, oldest first (one process each). */
  attempts: RunRow[];
}

/** A run's overview (see the module comment). */
export interface RunOverview {
  /** The run id (shared by the shards). */
  run: string;
  /** Number of shards (from the job recorded with the shards; 1 when unsharded). */
  shard_count: number;
  /** Config hashes of its shards (one, unless the run mixed configs). */
  config_hashes: string[];
  /** Outputs written. */
  outputs: string[];
  /** Every shard, missing ones included. */
  shards: ShardOverview[];
  /** Number of shards per state of their latest attempt. */
  states: Record<string, number>;
  /** Each instrument's latest outcome, by instrument. */
  tasks: Record<string, TaskRow>;
  /** Instruments per outcome. */
  task_counts: { done: number; skipped: number; failed: number };
  /** Rows of the instruments processed (done) in the run. */
  rows: number;
  /** First start, ISO 8601. */
  started: string;
  /** Last end, ISO 8601; null while a shard is running. */
  ended: string | null;
  /** Wall time from the first start to the last end (or now), in seconds. */
  seconds: number;
}

/** The overview of run `run` (a shared run id or one process's id); null when the registry does not know it. */
export async function runOverview(
  registry: Registry,
  run: string,
  now: Date = new Date(),
): Promise<RunOverview | null> {
  const rows = await registry.runShards(run);
  if (!rows.length) return null;
  const count = Math.max(1, ...rows.map((r) => Number(r.job?.split("/")[1] ?? 1)));
  const shards: ShardOverview[] = [];
  for (let index = 0; index < count; index++) {
    const attempts = rows.filter((r) => (r.shard ?? 0) === index);
    shards.push({ index, state: attempts.at(-1)?.status ?? "missing", attempts });
  }
  const states: Record<string, number> = {};
  for (const s of shards) states[s.state] = (states[s.state] ?? 0) + 1;
  const tasks: Record<string, TaskRow> = {};
  for (const r of rows) { // oldest first: a later attempt's outcome replaces an earlier one's...
    for (const t of await registry.tasks(r.id)) {
      // ...except a retry skipping what the killed attempt had committed: that instrument was done in this run.
      if (!(t.status === "skipped" && tasks[t.instrument]?.status === "done")) tasks[t.instrument] = t;
    }
  }
  const list = Object.values(tasks);
  const n = (s: string) => list.filter((t) => t.status === s).length;
  const running = rows.some((r) => r.status === "running");
  const ends = rows.map((r) => r.ended).filter((e): e is string => e !== null).sort();
  const ended = running || !ends.length ? null : ends.at(-1)!;
  return {
    run: rows[0].run,
    shard_count: count,
    config_hashes: [...new Set(rows.map((r) => r.config_hash))],
    outputs: [...new Set(rows.map((r) => r.output).filter((o): o is string => o !== null))],
    shards,
    states,
    tasks,
    task_counts: { done: n("done"), skipped: n("skipped"), failed: n("failed") },
    rows: list.filter((t) => t.status === "done").reduce((a, t) => a + Number(t.rows), 0),
    started: rows[0].started,
    ended,
    seconds: Math.round((Date.parse(ended ?? now.toISOString()) - Date.parse(rows[0].started)) / 10) / 100,
  };
}
