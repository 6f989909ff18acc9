/**
 * The batch job: discover one task per instrument, skip committed ones, and for the rest load + validate the
 * partitions, run the enabled engines in order, write the outputs and commit them with a manifest. Every task
 * is recorded in the run registry (SQLite or PostgreSQL); a failed task is recorded and the others go on
 * (unless fail-fast).
 * Logs are JSON lines carrying the run id and task; the summary (JSON + Markdown) goes to `_runs/<id>/`.
 */
import type { Config } from "../config/schema.ts";
import { LocalStorage, type Storage } from "../io/storage.ts";
import { openCompute } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";
import { log, setLogSink } from "../runtime/log.ts";
import { discoverTasks, shardTasks, type Task } from "../io/discover.ts";
import { enabledEngines } from "./engines.ts";
import { checkMemoryBudget } from "./chunked.ts";
import { removeTaskOutput } from "./output.ts";
import { Progress } from "./progress.ts";
import { HEARTBEAT_MS, Registry } from "./registry.ts";
import { acquireOutputLease, type OutputLease } from "./lease.ts";
import type { StorageError } from "../io/write.ts";
import { runTask, type TaskContext } from "./task.ts";
import { idleMeter, MemoryLedger, taskWorkerCount, TaskWorkers } from "./task_pool.ts";
import { type RunSummary, summaryMarkdown, type TaskSummary } from "./summary.ts";

export type { RunSummary, TaskSummary };

/** Inputs of one run. */
export interface RunOptions {
  /** The validated configuration. */
  config: Config;
  /** Hash of `config` (see `configHash`); recorded in manifests and used to skip committed tasks. */
  configHash: string;
  /** Where the input bar files are read from. */
  source: Storage;
  /** Where task outputs and `_runs/<id>/` summaries are written. */
  output: Storage;
  /** The run registry: a SQLite file path (created if needed) or a `postgres://` URL (see Registry.open). */
  registryPath: string;
  /**
   * The run id the shards of an array job share (pipeline/array_job.ts). This process's own id is then
   * `<runId>.<shard>-<random>`, and `runs RUN_ID` lists every shard. Default: none (the run's own id).
   */
  runId?: string;
  /** Stop after the first failed task. Default false. */
  failFast?: boolean;
  /** Process only this shard of the tasks (0-based `index` of `count`, see `shardTasks`). Default: all. */
  shard?: { index: number; count: number };
  /** Where progress lines go (default stderr). */
  progress?: (s: string) => void;
  /** How long to wait (ms) when another run holds the output (pipeline/lease.ts). Default 0: exit 2 at once. */
  waitMs?: number;
}

function newRunId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `r${t}-${crypto.randomUUID().slice(0, 6)}`;
}

/**
 * Runs the pipeline; the caller maps the summary's status to the exit code.
 *
 * @example The batch job from your own code (what `deno task run --config job.yaml` does)
 * ```ts
 * import { configHash, loadConfigFile, openStorage, registryPath, runPipeline } from "@feature-genesis/core";
 *
 * const config = await loadConfigFile("job.yaml");
 * const summary = await runPipeline({
 *   config,
 *   configHash: await configHash(config),
 *   source: openStorage(config.data.source, config.storage.s3),
 *   output: openStorage(config.storage.output, config.storage.s3),
 *   registryPath: registryPath(config.storage) ?? "registry.sqlite",
 * });
 * for (const t of summary.tasks) console.log(t.instrument, t.status, t.rows, t.error ?? "");
 * ```
 */
export async function runPipeline(o: RunOptions): Promise<RunSummary> {
  const { config } = o;
  // With a shared run id, each shard (and each retry of one) is a process of its own in the registry.
  const runId = o.runId === undefined
    ? newRunId()
    : `${o.runId}.${o.shard?.index ?? 0}-${crypto.randomUUID().slice(0, 6)}`;
  let task = "";
  // A task worker's records carry their task; this thread's carry the task it runs (one at a time).
  const prevSink = setLogSink((level, msg, { task: own, ...fields }) => {
    const t = own ?? task;
    const rec = {
      ts: new Date().toISOString(),
      level,
      run_id: runId,
      ...(o.runId === undefined ? {} : { run: o.runId }),
      ...(t ? { task: t } : {}),
      msg,
      ...fields,
    };
    console.error(JSON.stringify(rec));
  });
  const idle = idleMeter(); // over the run's start-up: how many cores task workers may use
  const registry = await Registry.open(o.registryPath);
  const started = new Date();
  const t0 = performance.now();
  let peakRss = Deno.memoryUsage().rss;
  const summaries: TaskSummary[] = [];
  const engineMs: Record<string, number> = {};
  let status: RunSummary["status"] = "done";
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let lease: OutputLease | undefined;
  try {
    const engines = enabledEngines(config);
    checkMemoryBudget(config, engines);
    const compute = await openCompute({
      backend: config.compute.backend,
      memoryBudget: config.compute.memory_budget,
    });
    const adapter = compute.gpu ? compute.gpu.adapterName : "cpu";
    const abandoned = await registry.markAbandoned(Deno.hostname());
    if (abandoned.length) {
      log("warn", "earlier runs that stopped without recording their end marked abandoned", {
        runs: abandoned,
      });
    }
    // One writer per output (pipeline/lease.ts): taken before any input is read; records the run's start.
    lease = await acquireOutputLease({
      registry,
      output: o.output,
      run: { id: runId, run: o.runId, host: Deno.hostname(), configHash: o.configHash, adapter },
      shard: o.shard ?? { index: 0, count: 1 },
      waitMs: o.waitMs,
    });
    const held = lease;
    heartbeat = setInterval(
      () => held.beat().catch((e) => log("warn", `heartbeat failed: ${(e as Error).message}`)),
      HEARTBEAT_MS,
    );
    Deno.unrefTimer(heartbeat);
    log("info", "run started", {
      source: o.source.url,
      output: o.output.url,
      adapter,
      engines: engines.map((e) => e.name),
    });

    let tasks = await discoverTasks(o.source, config.data.instrument_pattern, config.data.formats);
    if (o.shard) tasks = shardTasks(tasks, o.shard.index, o.shard.count);
    if (!tasks.length) {
      throw new UsageError(`${o.source.url}: no input files found (data.source, data.formats)`);
    }
    if (o.output instanceof LocalStorage) {
      const swept = await o.output.sweepTemp();
      if (swept) log("info", `removed ${swept} temporary file(s) left by an interrupted run`);
    }
    if (config.development.clean_existing_output) {
      for (const t of tasks) if (!t.problem) await removeTaskOutput(o.output, t.instrument);
    }
    const progress = new Progress(tasks.length, o.progress);
    let storageFailure: StorageError | undefined;
    const ctx: TaskContext = {
      config,
      configHash: o.configHash,
      runId,
      source: o.source,
      output: o.output,
      compute,
      engines,
    };
    const workers = taskWorkerCount(config, {
      gpu: !!compute.gpu,
      tasks,
      source: o.source,
      output: o.output,
      idle: config.compute.task_workers === "auto" && tasks.length > 1 ? await idle() : null,
    });
    const pool = workers > 1
      ? new TaskWorkers(
        workers,
        new MemoryLedger(config.compute.memory_budget),
        (level, msg, fields) => log(level, msg, fields),
      )
      : null;
    if (pool) log("info", `${workers} tasks at a time, each in a worker thread (compute.task_workers)`);
    const byTask: TaskSummary[] = new Array(tasks.length);
    // Several at a time: the largest inputs first, so that a long instrument does not start last and run alone.
    const size = (t: Task) => t.files.reduce((a, f) => a + f.size, 0);
    const order = tasks.map((_, i) => i);
    if (pool) order.sort((a, b) => size(tasks[b]) - size(tasks[a]) || a - b);
    let next = 0, stop = false;
    // One lane per worker (or one on this thread), each taking the next task when its last one ends.
    const lane = async (slot: number) => {
      while (!stop && next < tasks.length) {
        lease!.assertHeld();
        const i = order[next++], t = tasks[i];
        if (!pool) task = t.instrument;
        const r = pool
          ? await pool.run(slot, { config, configHash: o.configHash, runId, task: t })
          : await runTask(ctx, t);
        const row = r.row;
        if (row.status === "failed") status = "failed";
        storageFailure ??= r.storageFailure;
        // Decided before the awaits below, so that no other lane takes a task once the failure is known.
        if (row.status === "failed" && (o.failFast || storageFailure)) stop = true;
        for (const [k, ms] of Object.entries(row.engines_ms ?? {})) engineMs[k] = (engineMs[k] ?? 0) + ms;
        await registry.recordTask({
          run_id: runId,
          instrument: t.instrument,
          status: row.status,
          rows: row.rows,
          duration_ms: row.ms,
          error: row.error ?? null,
        });
        byTask[i] = row;
        peakRss = Math.max(peakRss, r.peakRss, Deno.memoryUsage().rss);
        progress.tick(t.instrument, row.status, row.rows);
        task = "";
      }
    };
    try {
      // Every lane ends its task before the run ends, even when another lane fails.
      const ends = await Promise.allSettled(Array.from({ length: workers }, (_, s) =>
        lane(s).catch((e) => {
          stop = true;
          throw e;
        })));
      const failed = ends.find((e) => e.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
    } finally {
      pool?.close();
    }
    summaries.push(...byTask.filter((r) => r)); // the tasks' order, whatever order they ended in
    // Tasks a fail-fast (or storage) stop never handed out: named, so that none goes missing silently.
    const notStarted = order.slice(next).sort((a, b) => a - b).map((i) => tasks[i].instrument);
    if (notStarted.length) {
      log("warn", `${notStarted.length} instrument(s) not started: the run stopped after a failure`, {
        instruments: notStarted,
      });
    }
    if (storageFailure) throw storageFailure;
    const seconds = (performance.now() - t0) / 1000;
    const rows = summaries.filter((s) => s.status === "done").reduce((a, s) => a + s.rows, 0);
    const summary: RunSummary = {
      run_id: runId,
      run: o.runId ?? runId,
      ...(o.shard ? { shard: o.shard } : {}),
      status,
      adapter,
      source: o.source.url,
      output: o.output.url,
      registry: o.registryPath,
      config_hash: o.configHash,
      started: started.toISOString(),
      seconds: Math.round(seconds * 1000) / 1000,
      rows,
      rows_per_s: Math.round(rows / Math.max(seconds, 1e-9)),
      peak_rss_mb: Math.round(peakRss / 2 ** 20),
      memory_budget_mb: Math.round(config.compute.memory_budget / 2 ** 20),
      gpu_peak_mb: Math.round((compute.gpu?.pool.peakBytes ?? 0) / 2 ** 20),
      task_workers: workers,
      engine_ms: engineMs,
      tasks: summaries,
      ...(notStarted.length ? { not_started: notStarted } : {}),
    };
    const enc = new TextEncoder();
    for (const [key, pca] of splitPca(summary)) {
      await o.output.put(`_runs/${runId}/${key}`, enc.encode(JSON.stringify(pca, null, 2)));
    }
    await o.output.put(`_runs/${runId}/summary.json`, enc.encode(JSON.stringify(summary, null, 2)));
    await o.output.put(`_runs/${runId}/summary.md`, enc.encode(summaryMarkdown(summary)));
    await lease.release(status);
    log("info", "run finished", { status, seconds: summary.seconds, rows });
    return summary;
  } catch (e) {
    // Best effort: the original error (often a full disk that also stops the registry) is what matters.
    await lease?.release("failed").catch(() => {});
    throw e;
  } finally {
    clearInterval(heartbeat);
    await registry.close();
    setLogSink(prevSink);
  }
}

/**
 * Moves each task's PCA (components and loadings: features x components numbers) out of the summary into its
 * own file `pca/<instrument>.json`, leaving the explained variance and the file's name; returns the files.
 */
function splitPca(summary: RunSummary): [string, unknown][] {
  const files: [string, unknown][] = [];
  for (const t of summary.tasks) {
    const filters = t.reports?.statistical_tests?.filters;
    const pca = filters?.pca;
    if (!pca) continue;
    const key = `pca/${t.instrument}.json`; // instrument names are safe path segments (discover.ts)
    files.push([key, pca]);
    // summary.json keeps a reference to the file in the report's place.
    (filters as { pca: unknown }).pca = {
      file: key,
      n: pca.n,
      n_components: pca.n_components,
      explained_variance_ratio: pca.explained_variance_ratio.slice(0, pca.n_components),
      cumulative_ratio: pca.cumulative_ratio.slice(0, pca.n_components),
    };
  }
  return files;
}
