/**
 * A task worker (pipeline/task_pool.ts): runs whole tasks of the batch job ({@link runTask}) on its own thread,
 * through Comlink. It opens the source and output from the configuration, as the CLI does; its log records
 * and memory reservations go to the main thread, which holds the registry, the lease and the summary.
 */
import * as Comlink from "npm:comlink@4.4.2";
import type { Config } from "../config/schema.ts";
import type { Task } from "../io/discover.ts";
import { capIdleCores } from "../runtime/cores.ts";
import { type LogLevel, setLogLevel, setLogSink } from "../runtime/log.ts";
import { enabledEngines } from "./engines.ts";
import { openStorage } from "./storage.ts";
import { runTask } from "./task.ts";
import type { TaskSummary } from "./summary.ts";

/** One task as the main thread sends it. */
export interface TaskJob {
  config: Config;
  configHash: string;
  runId: string;
  task: Task;
}

/** What the main thread offers a worker during a task. */
export interface TaskHost {
  /** A log record of the task (the main thread adds the run's fields and applies its log level). */
  log(level: LogLevel, msg: string, fields: Record<string, unknown>): void;
  /** Resolves once `bytes` of the memory budget are this task's. */
  reserve(bytes: number): Promise<void>;
  /** Does nothing: its answer tells the worker that the records sent before it were handled. */
  sync(): void;
}

/** {@link runTask}'s result in a form that crosses threads (a StorageError's class does not). */
export interface TaskWorkerResult {
  row: TaskSummary;
  peakRss: number;
  storageFailure?: { message: string; exitCode: 1 | 2 };
}

/** The API a task worker exposes. */
export const taskWorkerApi = {
  /** Runs one task on this thread (CPU backend; the pools inside the task stay on this thread). */
  async run(job: TaskJob, local: TaskHost): Promise<TaskWorkerResult> {
    const host = local as unknown as Comlink.Remote<TaskHost>; // a proxy of the main thread's host here
    capIdleCores(0);
    setLogLevel("debug");
    const prev = setLogSink((level, msg, fields) =>
      void host.log(level, msg, { ...fields, task: job.task.instrument })
    );
    try {
      return await runOne(job, host);
    } finally {
      // The result travels on another port than the records: wait until they are in, so that none arrives
      // after the main thread has recorded the task (or ended the run).
      await host.sync();
      setLogSink(prev);
      host[Comlink.releaseProxy](); // closes the host's port, which would keep the main thread's event loop alive
    }
  },
};

async function runOne(job: TaskJob, host: Comlink.Remote<TaskHost>): Promise<TaskWorkerResult> {
  const { config } = job;
  const r = await runTask({
    config,
    configHash: job.configHash,
    runId: job.runId,
    source: openStorage(config.data.source, config.storage.s3),
    output: openStorage(config.storage.output, config.storage.s3),
    compute: { choice: config.compute.backend, gpu: null },
    engines: enabledEngines(config),
    reserve: (bytes) => host.reserve(bytes),
  }, job.task);
  const f = r.storageFailure;
  return {
    row: r.row,
    peakRss: r.peakRss,
    ...(f ? { storageFailure: { message: f.message, exitCode: f.exitCode } } : {}),
  };
}

/** The type of `taskWorkerApi`, for Comlink.wrap. */
export type TaskWorkerApi = typeof taskWorkerApi;

// Only expose when running as a worker (importing this module for its type must have no effect).
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
if (typeof g.WorkerGlobalScope !== "undefined" && g instanceof g.WorkerGlobalScope) {
  Comlink.expose(taskWorkerApi);
}
