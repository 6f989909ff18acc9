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
import { DataError, UsageError } from "../runtime/errors.ts";
import { log, setLogSink } from "../runtime/log.ts";
import { discoverTasks, printable, shardTasks } from "../io/discover.ts";
import { enabledEngines, type EngineReports, type EngineStep, recordReport, runEngines } from "./engines.ts";
import { checkMemoryBudget, unchunkable } from "./chunked.ts";
import { InputsHash, runTaskInChunks } from "./chunked_task.ts";
import { fingerprintInputs, inputsChanged } from "./inputs.ts";
import { readManifest, removeTaskOutput, writeTaskOutput } from "./output.ts";
import { assessColumns, type ColumnQuality, InputTally } from "./quality.ts";
import { Progress } from "./progress.ts";
import { HEARTBEAT_MS, Registry } from "./registry.ts";
import { acquireOutputLease, type OutputLease } from "./lease.ts";
import { StorageError } from "../io/write.ts";
import { loadTask, type LoadTimings } from "../io/validate.ts";
import { scanTask } from "../io/row_source.ts";
import type { Frame } from "../io/frame.ts";
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
  const prevSink = setLogSink((level, msg, fields) => {
    const rec = {
      ts: new Date().toISOString(),
      level,
      run_id: runId,
      ...(o.runId === undefined ? {} : { run: o.runId }),
      ...(task ? { task } : {}),
      msg,
      ...fields,
    };
    console.error(JSON.stringify(rec));
  });
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
    for (const t of tasks) {
      lease.assertHeld();
      task = t.instrument;
      const t1 = performance.now();
      const row: TaskSummary = { instrument: t.instrument, status: "done", rows: 0, ms: 0 };
      try {
        if (t.problem) throw new DataError(t.problem); // an unsafe instrument name: nothing read or written
        const committed = await readManifest(o.output, t.instrument);
        const sameConfig = committed?.config_hash === o.configHash && !config.development.force_reprocessing;
        const changed = sameConfig ? await inputsChanged(o.source, committed!.inputs, t.files) : null;
        if (sameConfig && !changed) {
          Object.assign(row, { status: "skipped", rows: committed!.rows });
          log("info", "already committed with this config and these inputs; skipped", {
            run: committed!.run_id,
          });
        } else {
          if (changed) {
            row.reprocessed = changed;
            log("info", `inputs changed since the committed run; processing again: ${changed}`, {
              run: committed!.run_id,
            });
          }
          const load: LoadTimings = { read: 0, validate: 0 };
          const loadOptions = {
            denyColumns: config.data.deny_columns,
            timestampColumn: config.data.timestamp_column,
            badValues: config.data.bad_values,
            columns: config.data.columns,
          };
          const engines_ms: Record<string, number> = {};
          const phases_ms: Record<string, number> = {};
          const reports: EngineReports = {};
          const quality: Record<string, ColumnQuality> = {};
          const onStep = (step: EngineStep) => {
            recordReport(reports, step);
            engines_ms[step.engine.name] = phases_ms[step.engine.name] = step.ms;
            engineMs[step.engine.name] = (engineMs[step.engine.name] ?? 0) + step.ms;
          };
          // In chunks under the memory budget, appending when it can (pipeline/chunked_task.ts), unless the
          // configuration needs the whole series at once. A chunked task reads its input as it goes: one
          // validation pass (fingerprints and input tallies taken on the way), then each chunk's rows.
          const whole = unchunkable(config, engines);
          if (!whole) {
            const appendable = sameConfig && committed?.chunked ? committed : null;
            const scanned = {
              hash: new InputsHash(appendable ? [appendable.rows] : []),
              tally: new InputTally(),
            };
            const input = await scanTask(o.source, t, loadOptions, (piece) => {
              scanned.hash.add(piece);
              scanned.tally.add(piece.columns);
            }, load);
            log("info", `input validated: ${input.rows} rows, read again chunk by chunk`, {
              rss_mb: Math.round(Deno.memoryUsage().rss / 2 ** 20),
            });
            reportInputs(input, row);
            Object.assign(phases_ms, load);
            Object.assign(row, { engines_ms, phases_ms, reports, quality });
            await runTaskInChunks(
              {
                input,
                scanned,
                instrument: t.instrument,
                engines,
                config,
                compute,
                output: o.output,
                committed: sameConfig ? committed : null,
                meta: { runId, configHash: o.configHash, inputs: await fingerprintInputs(o.source, t.files) },
                done: onStep,
              },
              row,
              () => {
                const rss = Deno.memoryUsage().rss;
                peakRss = Math.max(peakRss, rss);
                return rss;
              },
            );
          } else {
            log("info", `in memory, not in chunks: ${whole}`);
            const frame = await loadTask(o.source, t, loadOptions, load);
            reportInputs(frame, row);
            Object.assign(phases_ms, load);
            Object.assign(row, { engines_ms, phases_ms, reports, quality });
            const columns = await runEngines(frame, engines, config, compute, {
              done: (step) => {
                const { engine, result } = step;
                onStep(step);
                const features = new Map([...result.columns].filter(([k]) => !k.startsWith("y_")));
                for (const [name, q] of assessColumns(features, frame.columns, result.notes)) {
                  quality[name] = q;
                  if (q.problem) {
                    log("warn", `feature ${name}: ${q.problem}`, { engine: engine.name, feature: name });
                  }
                }
              },
            });
            const tw = performance.now();
            const inputs = await fingerprintInputs(o.source, t.files);
            await writeTaskOutput(
              o.output,
              t.instrument,
              columns,
              {
                name: frame.timestampColumn!,
                values: frame.timestamps!,
              },
              { runId, configHash: o.configHash, inputs },
              {
                format: config.storage.format,
                compression: config.storage.compression,
                rowsPerPart: 1_000_000,
              },
            );
            phases_ms.write = Math.round(performance.now() - tw);
            Object.assign(row, { rows: frame.rows, features: columns.size - frame.columns.size });
            log("info", "task committed", { rows: frame.rows, features: row.features });
          }
        }
      } catch (e) {
        if (!(e instanceof DataError || e instanceof UsageError) && config.development.debug_mode) {
          console.error(e);
        }
        // printable: a file name with a newline or ESC must not break the summary, the log or a terminal.
        Object.assign(row, { status: "failed", error: printable((e as Error).message) });
        status = "failed";
        // Out of disk space (or file handles, or a failing device): every later task would fail the same
        // way, so the run stops here. A task-specific storage error (a file in the way) fails that task only.
        if (e instanceof StorageError && e.exitCode === 1) storageFailure = e;
        log("error", "task failed", { error: row.error });
      }
      row.ms = Math.round(performance.now() - t1);
      await registry.recordTask({
        run_id: runId,
        instrument: t.instrument,
        status: row.status,
        rows: row.rows,
        duration_ms: row.ms,
        error: row.error ?? null,
      });
      summaries.push(row);
      peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
      progress.tick(t.instrument, row.status, row.rows);
      task = "";
      if (row.status === "failed" && (o.failFast || storageFailure)) break;
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
      engine_ms: engineMs,
      tasks: summaries,
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

/** Logs and records the input columns that were not loaded and the cells read as NaN. */
function reportInputs(frame: Pick<Frame, "skipped" | "badCells">, row: TaskSummary): void {
  if (frame.skipped.length) {
    row.skipped_columns = frame.skipped;
    log(
      "warn",
      `input columns not loaded: ${frame.skipped.map((c) => `${c.name} (${c.reason})`).join("; ")}`,
    );
  }
  if (frame.badCells?.length) {
    row.bad_cells = frame.badCells;
    for (const b of frame.badCells) {
      log("warn", `column ${b.name}: ${b.count} non-numeric cell(s) read as NaN (data.bad_values: nan)`, {
        file: b.file,
        first_row: b.row,
        first_value: b.value,
      });
    }
  }
}
