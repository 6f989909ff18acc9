/**
 * One writer per output location: the output lease a run takes before it reads any input, so two runs with
 * different configurations can never interleave their tasks in one output.
 *
 * - **Who may share it.** The lease belongs to a *job*: the config hash plus the shard count
 *   (`<hash>/<N>`). The shards of one job (`--shard i/N`, same config, same N) hold it together; a run of
 *   another configuration, an unsharded run beside a sharded job, or a second copy of the same shard is
 *   refused.
 * - **Where it lives.** (1) The run registry (SQLite or PostgreSQL): the run's row records the output, job
 *   and shard, and `Registry.startRun` checks and records them in one transaction, so runs that share a
 *   registry (the default for a local output: `<output>/registry.sqlite`) are serialized exactly. (2) A lock object,
 *   `_lease.json` at the output's root, for writers that do not share a registry (S3 outputs written from
 *   several machines, or a `storage.registry` elsewhere): created only when absent (local: hard link; S3:
 *   `If-None-Match: *`, which AWS S3, R2 and recent MinIO enforce; on stores that ignore it, such as s3rver,
 *   the object is read back and the last writer wins: best effort), refreshed with every heartbeat.
 * - **A dead holder.** On the same host a run keeps a liveness lock (an OS file lock, dropped however the
 *   process ends), so a killed run's lease is taken over at once; elsewhere, once its heartbeat (every 30 s)
 *   is 2 minutes old. A takeover is logged as a warning naming the former holder.
 * - **A refused run** exits 2 naming the holder (run id, host, pid, since when), or with `--wait [SECONDS]`
 *   polls until the lease is free.
 * - **Release.** At the end of the run (done or failed) its registry row stops holding the output; an
 *   unsharded run deletes `_lease.json`, a shard marks itself done in it and the last shard deletes it (a
 *   mark lost to two shards finishing together only leaves the object to go stale).
 */
import { LocalStorage, type Storage } from "../io/storage.ts";
import { UsageError } from "../runtime/errors.ts";
import { log } from "../runtime/log.ts";
import { holderGone, type LeaseHolder, type Registry, type RunStart } from "./registry.ts";
import { resolve } from "node:path";

/** Key of the lock object at the output's root. */
export const LEASE_OBJECT = "_lease.json";

/** What `_lease.json` holds. */
export interface LeaseRecord {
  /** Run that created it. */
  run_id: string;
  /** That run's host. */
  host: string;
  /** That run's process id. */
  pid: number;
  /** When it was created, ISO 8601 (UTC). */
  since: string;
  /** Last heartbeat of any run of the job, ISO 8601 (UTC). */
  heartbeat: string;
  /** Config hash and shard count, `<hash>/<N>`. */
  job: string;
  /** Shard count of the job. */
  shards: number;
  /** Shards of the job that have finished. */
  done: number[];
  /** The creating run's liveness lock file (meaningful on its host). */
  alive_lock?: string;
}

/** A run refused because another run holds the output (exit 2). */
export class LeaseHeldError extends UsageError {
  /** Creates the error; the message names the output, the holder and what to do. */
  constructor(readonly output: string, readonly holder: LeaseHolder, waitedS = 0) {
    super(
      `${output} is being written by ${describeHolder(holder)}${waitedS ? ` (waited ${waitedS} s)` : ""}; ` +
        "one run writes an output at a time: wait for it (run --wait [SECONDS]) or set storage.output to " +
        "another location",
    );
  }
}

/** `run <id> (host h, pid p, since t, last heartbeat n s ago[, shard i/N])` for messages. */
export function describeHolder(h: LeaseHolder, now = Date.now()): string {
  const [, count] = h.job.split("/");
  const beat = h.heartbeat
    ? `, last heartbeat ${Math.max(0, Math.round((now - Date.parse(h.heartbeat)) / 1000))} s ago`
    : "";
  const shard = Number(count) > 1 ? `, shard ${h.shard >= 0 ? h.shard : "?"}/${count}` : "";
  return `run ${h.run_id} (host ${h.host}, pid ${h.pid ?? "unknown"}, since ${h.since}${beat}${shard})`;
}

/** The identity of an output location in the registry: an absolute folder path or the s3:// URL. */
export function outputId(output: Storage): string {
  return output instanceof LocalStorage ? resolve(output.root) : output.url;
}

/** What a run needs to take the lease. */
export interface LeaseOptions {
  /** The open run registry. */
  registry: Registry;
  /** The output location. */
  output: Storage;
  /** The run as recorded in the registry. */
  run: RunStart;
  /** The shard this run processes (0/1 when unsharded). */
  shard: { index: number; count: number };
  /** How long to wait for a held lease, in ms (0: refuse at once; Infinity: wait as long as it takes). */
  waitMs?: number;
  /** How often to look again while waiting, in ms (default 2000). */
  pollMs?: number;
  /** On object stores, how long to wait before reading a created lock object back, in ms (default 1000). */
  settleMs?: number;
}

/** A held output lease; the pipeline beats it with its heartbeat and releases it at the end. */
export interface OutputLease {
  /** Refreshes the heartbeat (registry row and lock object). */
  beat(): Promise<void>;
  /** Throws when another job has taken the lease over (this run's heartbeat stalled too long). */
  assertHeld(): void;
  /** Ends the run in the registry with `status` and releases the lock object (best effort). */
  release(status: "done" | "failed" | "interrupted"): Promise<void>;
}

/**
 * Takes the output lease for a run and records its start in the registry (see the module comment), waiting
 * up to `waitMs`; throws {@link LeaseHeldError} when the output stays held.
 */
export async function acquireOutputLease(o: LeaseOptions): Promise<OutputLease> {
  const output = outputId(o.output);
  const job = `${o.run.configHash}/${o.shard.count}`;
  const t0 = Date.now();
  const waitMs = o.waitMs ?? 0;
  let waitingFor = "";
  while (true) {
    const started = await o.registry.startRun({ ...o.run, lease: { output, job, shard: o.shard.index } });
    if (started.mismatch) {
      const [hash, count] = started.mismatch.split("/");
      throw new UsageError(
        `run id ${o.run.run} was started with ${count} shard(s) and config ${
          hash.slice(0, 12)
        }, this shard ` +
          `has ${o.shard.count} and ${o.run.configHash.slice(0, 12)}: its shards would split the tasks ` +
          "differently; give every shard the same --shard auto/N (or FG_SHARD_COUNT) and config, or use a new " +
          "run id (--run-id, FG_RUN_ID)",
      );
    }
    for (const h of started.takenOver) {
      log("warn", `${output}: took over the lease of ${describeHolder(h)}: its process is gone or silent`);
    }
    let holder = started.conflict;
    if (!holder) {
      const me: LeaseRecord = {
        run_id: o.run.id,
        host: o.run.host,
        pid: Deno.pid,
        since: new Date().toISOString(),
        heartbeat: new Date().toISOString(),
        job,
        shards: o.shard.count,
        done: [],
        alive_lock: o.registry.livenessPath(o.run.id),
      };
      try {
        const other = await takeLeaseObject(o.output, me, o.shard.index, o.registry, o.settleMs ?? 1000);
        if (!other) return new HeldLease(o.registry, o.output, me, o.shard.index);
        holder = { ...other, shard: -1 };
      } catch (e) {
        // The output is unreachable or unwritable: the run is recorded as failed, as any run that fails.
        await o.registry.endRun(o.run.id, "failed");
        throw e;
      }
      await o.registry.cancelRun(o.run.id);
    }
    const waited = Math.round((Date.now() - t0) / 1000);
    if (Date.now() - t0 >= waitMs) throw new LeaseHeldError(output, holder, waitMs > 0 ? waited : 0);
    if (waitingFor !== holder.run_id) {
      waitingFor = holder.run_id;
      log("info", `${output} is being written by ${describeHolder(holder)}; waiting (--wait)`);
    }
    await new Promise((r) =>
      setTimeout(r, Math.min(o.pollMs ?? 2000, Math.max(0, t0 + waitMs - Date.now())))
    );
  }
}

function encodeLease(r: LeaseRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(r, null, 2));
}

/** Creates `_lease.json` unless it exists (see `Storage.putIfAbsent`); true when this call created it. */
async function createLease(output: Storage, r: LeaseRecord): Promise<boolean> {
  if (output.putIfAbsent) return await output.putIfAbsent(LEASE_OBJECT, encodeLease(r));
  if (await output.head(LEASE_OBJECT)) return false;
  await output.put(LEASE_OBJECT, encodeLease(r));
  return true;
}

/** Reads `_lease.json`; null when absent. An unreadable one (not JSON) counts as stale. */
async function readLease(output: Storage): Promise<LeaseRecord | "corrupt" | null> {
  let bytes: Uint8Array;
  try {
    bytes = await output.get(LEASE_OBJECT);
  } catch (e) {
    if (e instanceof UsageError && /no such/.test(e.message)) return null; // released in between
    throw e;
  }
  try {
    const r = JSON.parse(new TextDecoder().decode(bytes)) as LeaseRecord;
    return typeof r.run_id === "string" && typeof r.job === "string"
      ? { ...r, done: r.done ?? [] }
      : "corrupt";
  } catch {
    return "corrupt";
  }
}

/** Whether the holder recorded in `r` is gone: ended in our registry, its liveness lock free, or silent. */
async function leaseStale(r: LeaseRecord, registry: Registry, host: string): Promise<boolean> {
  const status = await registry.runStatus(r.run_id);
  if (status !== null && status !== "running") return true;
  return holderGone({ ...r, lock: r.alive_lock }, host);
}

/**
 * Creates `_lease.json` for `me` or joins the job's; returns null when held, else the other job's record.
 * A stale lease is deleted (with a warning) and the creation tried again.
 */
async function takeLeaseObject(
  output: Storage,
  me: LeaseRecord,
  shard: number,
  registry: Registry,
  settleMs: number,
): Promise<LeaseRecord | null> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const created = await createLease(output, me);
    // Stores that ignore If-None-Match let a writer that listed before our PUT overwrite it: read back after
    // that writer's PUT would have landed, and the last writer wins (see the module comment).
    if (created && !(output instanceof LocalStorage)) await new Promise((r) => setTimeout(r, settleMs));
    const cur = await readLease(output);
    if (created && cur !== "corrupt" && cur?.run_id === me.run_id) return null;
    if (cur === null) continue; // released in between: try again
    if (cur === "corrupt" || await leaseStale(cur, registry, me.host)) {
      log(
        "warn",
        `${output.url}/${LEASE_OBJECT}: took over a stale lease` +
          (cur === "corrupt" ? " (unreadable)" : ` of run ${cur.run_id} (host ${cur.host}, pid ${cur.pid}, ` +
            `since ${cur.since}, last heartbeat ${cur.heartbeat})`),
      );
      await output.delete(LEASE_OBJECT);
      continue;
    }
    if (cur.job === me.job && cur.shards > 1) {
      // Another shard of this job holds it: share it (this shard is not done any more, if it was).
      if (cur.done.includes(shard)) {
        await output.put(LEASE_OBJECT, encodeLease({ ...cur, done: cur.done.filter((i) => i !== shard) }));
      }
      return null;
    }
    return cur;
  }
  throw new UsageError(
    `${output.url}/${LEASE_OBJECT}: the lease kept changing while taking it; retry the run`,
  );
}

/** A lease this process holds. */
class HeldLease implements OutputLease {
  #lost: LeaseRecord | null = null;

  constructor(
    readonly registry: Registry,
    readonly output: Storage,
    readonly me: LeaseRecord,
    readonly shard: number,
  ) {}

  async beat(): Promise<void> {
    await this.registry.beat(this.me.run_id);
    if (this.#lost) return;
    const cur = await readLease(this.output);
    const now = new Date().toISOString();
    if (cur === null || cur === "corrupt") {
      // Released by the shard that created it (or removed by hand): hold it again.
      await createLease(this.output, { ...this.me, heartbeat: now });
    } else if (cur.job !== this.me.job) {
      this.#lost = cur;
      log("error", `${this.output.url}/${LEASE_OBJECT}: the lease was taken over by run ${cur.run_id}`);
    } else {
      await this.output.put(LEASE_OBJECT, encodeLease({ ...cur, heartbeat: now }));
    }
  }

  assertHeld(): void {
    if (!this.#lost) return;
    const h = this.#lost;
    throw new UsageError(
      `${this.output.url}: the output lease was taken over by run ${h.run_id} (host ${h.host}, pid ${h.pid}, ` +
        `since ${h.since}) while this run's heartbeat stalled; stopping so the two runs do not mix outputs`,
    );
  }

  async release(status: "done" | "failed" | "interrupted"): Promise<void> {
    await this.registry.endRun(this.me.run_id, status);
    try {
      const cur = await readLease(this.output);
      if (cur === null || cur === "corrupt" || cur.job !== this.me.job) return;
      const done = [...new Set([...cur.done, this.shard])];
      if (cur.shards <= 1 || done.length >= cur.shards) await this.output.delete(LEASE_OBJECT);
      else await this.output.put(LEASE_OBJECT, encodeLease({ ...cur, done }));
    } catch (e) {
      log(
        "warn",
        `${this.output.url}/${LEASE_OBJECT}: could not release the lease (${(e as Error).message}); ` +
          "it goes stale in 2 minutes",
      );
    }
  }
}
