/**
 * Several instruments at once (`compute.task_workers`): each task runs whole — read, engines, write — in a
 * worker thread of its own (pipeline/task_worker.ts), one per core. Tasks are independent and every worker
 * runs the same f64 code, so the outputs are those of one task at a time, bit for bit. The tasks share
 * `compute.memory_budget` through a {@link MemoryLedger}: once a task knows its size (after the validation
 * pass) it waits until that much of the budget is free; a task larger than the budget runs alone.
 */
import { cpus } from "node:os";
import { cpuUsage } from "node:process";
import * as Comlink from "npm:comlink@4.4.2";
import type { Config } from "../config/schema.ts";
import type { Task } from "../io/discover.ts";
import { S3Storage } from "../io/s3.ts";
import { LocalStorage, type Storage } from "../io/storage.ts";
import { StorageError } from "../io/write.ts";
import { log } from "../runtime/log.ts";
import { startWorkers, type WorkerSet } from "../runtime/workers.ts";
import { openStorage } from "./storage.ts";
import type { TaskResult } from "./task.ts";
import type { TaskHost, TaskJob, TaskWorkerApi } from "./task_worker.ts";

/**
 * Input bytes (all pending tasks' files) below which `auto` keeps one task at a time: a worker's start
 * (module graph, JIT warm-up: ~0.3-0.5 s) costs more than a few small tasks take. ~200k one-minute bars of
 * Parquet.
 */
export const MIN_PARALLEL_BYTES = 4 * 2 ** 20;

/** Shares a byte budget between concurrent tasks, first come first served. */
export class MemoryLedger {
  #used = 0;
  #waiting: { bytes: number; grant: () => void }[] = [];

  constructor(
    /** The budget in bytes. */
    readonly budget: number,
  ) {}

  /** Bytes held now. */
  get used(): number {
    return this.#used;
  }

  /**
   * Resolves, with the release, once `bytes` fit beside what others hold (at once when nothing is held, so a
   * task larger than the budget runs alone instead of never).
   */
  reserve(bytes: number): Promise<() => void> {
    return new Promise((resolve) => {
      let released = false;
      const grant = () => {
        this.#used += bytes;
        resolve(() => {
          if (released) return;
          released = true;
          this.#used -= bytes;
          this.#next();
        });
      };
      this.#waiting.push({ bytes, grant });
      this.#next();
    });
  }

  #next(): void {
    while (this.#waiting.length) {
      const head = this.#waiting[0];
      if (this.#used > 0 && this.#used + head.bytes > this.budget) return;
      this.#waiting.shift();
      head.grant();
    }
  }
}

/** Shortest window over which {@link idleMeter} measures (5 clock ticks per core at Linux's 100 Hz: a fifth of a core). */
const IDLE_WINDOW_MS = 50;

/**
 * Starts measuring how many cores this process may use now; the returned function resolves to the cores' worth
 * of time since the call that was idle or spent by this process (2.0: two cores free of other work), waiting
 * until at least IDLE_WINDOW_MS have passed, or to null when the runtime may not read CPU times (Deno without
 * --allow-sys=cpus). The load average lags by minutes (a run started right after another saw load 1.6 on an
 * idle 2-core machine), so `auto` reads the CPU counters instead; this process's own start-up work in the
 * window counts as free.
 */
export function idleMeter(): () => Promise<number | null> {
  const t0 = performance.now();
  const sample = () => {
    try {
      const cs = cpus();
      const sum = (f: (t: (typeof cs)[number]["times"]) => number) => cs.reduce((a, c) => a + f(c.times), 0);
      const own = cpuUsage();
      return {
        idle: sum((t) => t.idle),
        total: sum((t) => t.user + t.nice + t.sys + t.idle + t.irq),
        ownMs: (own.user + own.system) / 1000,
        at: performance.now(),
      };
    } catch {
      return null; // PermissionDenied: no --allow-sys=cpus
    }
  };
  const a = sample();
  return async () => {
    if (!a) return null;
    const wait = IDLE_WINDOW_MS - (performance.now() - t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const b = sample();
    if (!b || b.total <= a.total) return null;
    const idle = (cpus().length * (b.idle - a.idle)) / (b.total - a.total);
    // Clamped: the counters tick at 100 Hz, this process's own time is exact.
    return Math.min(cpus().length, idle + (b.ownMs - a.ownMs) / (b.at - a.at));
  };
}

/** Whether a worker opening `location` from the configuration gets the same storage as `s` (a plain folder or S3 prefix). */
function reopens(s: Storage, location: string, config: Config): boolean {
  const proto = Object.getPrototypeOf(s);
  if (proto !== LocalStorage.prototype && proto !== S3Storage.prototype) return false;
  try {
    return openStorage(location, config.storage.s3).url === s.url;
  } catch {
    return false;
  }
}

/**
 * How many tasks run at once: `compute.task_workers`, or for `auto` one per free core (`idle`: cores' worth of
 * free time from {@link idleMeter}; null: unknown, every core) when the backend is the CPU, there are several
 * tasks and their inputs reach {@link MIN_PARALLEL_BYTES}: on a core another process keeps busy, a second
 * task's start and JIT warm-up cost more than it wins (4 x 100,000 bars beside one busy process: 6.1 s against
 * 5.0 s one at a time). One (this thread) with WebGPU
 * (one device) or when the source or output is not the configured location (a Storage built in code, which a
 * worker cannot reopen).
 */
export function taskWorkerCount(
  config: Config,
  o: { gpu: boolean; tasks: Task[]; source: Storage; output: Storage; idle?: number | null },
): number {
  const setting = config.compute.task_workers;
  const most = Math.max(1, o.tasks.length);
  let n: number;
  if (setting === "auto") {
    const bytes = o.tasks.reduce((a, t) => a + t.files.reduce((b, f) => b + f.size, 0), 0);
    const cores = navigator.hardwareConcurrency || 1;
    const free = o.idle === undefined || o.idle === null ? cores : Math.max(1, Math.round(o.idle));
    n = o.gpu || bytes < MIN_PARALLEL_BYTES ? 1 : Math.min(most, cores, free);
    if (!o.gpu && bytes >= MIN_PARALLEL_BYTES && free < Math.min(most, cores)) {
      log(
        "info",
        `compute.task_workers auto: ${n} task(s) at a time, ${
          o.idle!.toFixed(1)
        } of ${cores} cores free of other work`,
      );
    }
  } else n = Math.min(most, Math.max(1, setting));
  if (n > 1 && o.gpu) {
    log("info", "compute.task_workers: tasks run one at a time on the WebGPU backend (one device)");
    return 1;
  }
  if (
    n > 1 &&
    !(reopens(o.source, config.data.source, config) && reopens(o.output, config.storage.output, config))
  ) {
    log(
      "info",
      "compute.task_workers: tasks run one at a time (the source or output is not the configured one)",
    );
    return 1;
  }
  return n;
}

/** The task workers of one run: `count` threads, each running one task at a time. */
export class TaskWorkers {
  readonly #set: WorkerSet<TaskWorkerApi>;

  /** Starts `count` workers; tasks' log records go to `onLog` (on this thread), reservations to `ledger`. */
  constructor(
    count: number,
    readonly ledger: MemoryLedger,
    readonly onLog: TaskHost["log"],
  ) {
    this.#set = startWorkers<TaskWorkerApi>(
      new URL("./task_worker.ts", import.meta.url),
      count,
      "task_workers",
    );
  }

  /** Runs `job` on worker `slot`; rejects when the worker itself fails (its module does not load, it dies). */
  async run(slot: number, job: TaskJob): Promise<TaskResult> {
    const releases: (() => void)[] = [];
    const host: TaskHost = {
      log: this.onLog,
      reserve: async (bytes) => void releases.push(await this.ledger.reserve(bytes)),
      sync: () => {},
    };
    try {
      const r = await Promise.race([
        this.#set.remotes[slot].run(job, Comlink.proxy(host)),
        this.#set.failure,
      ]);
      const f = r.storageFailure;
      return {
        row: r.row,
        peakRss: r.peakRss,
        ...(f ? { storageFailure: new StorageError(f.message, f.exitCode) } : {}),
      };
    } finally {
      releases.forEach((release) => release());
    }
  }

  /** Terminates the workers. */
  close(): void {
    this.#set.close();
  }
}
