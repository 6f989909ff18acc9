/**
 * One task of the batch job: an instrument's inputs read and validated, the engines run, the outputs written and
 * committed with a manifest (or the task skipped when its committed outputs are current). The same code runs on
 * the main thread and in a task worker (pipeline/task_worker.ts); the caller records the returned row.
 */
import type { Config } from "../config/schema.ts";
import type { Storage } from "../io/storage.ts";
import type { Compute } from "../runtime/backend.ts";
import { DataError, UsageError } from "../runtime/errors.ts";
import { log } from "../runtime/log.ts";
import type { Task } from "../io/discover.ts";
import { printable } from "../io/discover.ts";
import { type EngineReports, type EngineStep, recordReport, runEngines } from "./engines.ts";
import type { Engine } from "./engines.ts";
import { planChunks, unchunkable } from "./chunked.ts";
import { InputsHash, runTaskInChunks } from "./chunked_task.ts";
import { fingerprintInputs, inputsChanged } from "./inputs.ts";
import { readManifest, writeTaskOutput } from "./output.ts";
import { assessColumns, type ColumnQuality, InputTally } from "./quality.ts";
import { StorageError } from "../io/write.ts";
import { loadTask, type LoadTimings } from "../io/validate.ts";
import { scanTask } from "../io/row_source.ts";
import type { Frame } from "../io/frame.ts";
import type { TaskSummary } from "./summary.ts";

/** What a task needs besides its files. */
export interface TaskContext {
  /** The validated configuration. */
  config: Config;
  /** The configuration's hash (manifests; committed tasks with the same hash are skipped). */
  configHash: string;
  /** The run's id (manifests). */
  runId: string;
  /** Where the inputs are read from. */
  source: Storage;
  /** Where the outputs go. */
  output: Storage;
  /** The compute backend. */
  compute: Compute;
  /** The enabled engines, in order. */
  engines: Engine[];
  /**
   * Waits until `bytes` of `compute.memory_budget` are free for this task (pipeline/task_pool.ts
   * `MemoryLedger`), once its size is known; absent when tasks run one at a time.
   */
  reserve?: (bytes: number) => Promise<void>;
}

/** What {@link runTask} returns. */
export interface TaskResult {
  /** The task's summary row (status done, skipped or failed). */
  row: TaskSummary;
  /** The highest resident set size seen during the task, in bytes. */
  peakRss: number;
  /**
   * Set when the task failed for want of disk space, file handles or a working device: every later task would
   * fail the same way, so the run stops (a task-specific storage error fails that task only).
   */
  storageFailure?: StorageError;
}

/** Runs one task; never throws for the task's own failure (the row says `failed` with the message). */
export async function runTask(ctx: TaskContext, t: Task): Promise<TaskResult> {
  const t1 = performance.now();
  const row: TaskSummary = { instrument: t.instrument, status: "done", rows: 0, ms: 0 };
  let peakRss = Deno.memoryUsage().rss;
  const sample = () => {
    const rss = Deno.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    return rss;
  };
  let storageFailure: StorageError | undefined;
  try {
    await processTask(ctx, t, row, sample);
  } catch (e) {
    if (!(e instanceof DataError || e instanceof UsageError) && ctx.config.development.debug_mode) {
      console.error(e);
    }
    // printable: a file name with a newline or ESC must not break the summary, the log or a terminal.
    Object.assign(row, { status: "failed", error: printable((e as Error).message) });
    if (e instanceof StorageError && e.exitCode === 1) storageFailure = e;
    log("error", "task failed", { error: row.error });
  }
  row.ms = Math.round(performance.now() - t1);
  sample();
  return { row, peakRss, ...(storageFailure ? { storageFailure } : {}) };
}

async function processTask(ctx: TaskContext, t: Task, row: TaskSummary, sample: () => number): Promise<void> {
  const { config, source, output, compute, engines, runId, configHash } = ctx;
  if (t.problem) throw new DataError(t.problem); // an unsafe instrument name: nothing read or written
  const committed = await readManifest(output, t.instrument);
  const sameConfig = committed?.config_hash === configHash && !config.development.force_reprocessing;
  const changed = sameConfig ? await inputsChanged(source, committed!.inputs, t.files) : null;
  if (sameConfig && !changed) {
    Object.assign(row, { status: "skipped", rows: committed!.rows });
    log("info", "already committed with this config and these inputs; skipped", { run: committed!.run_id });
    return;
  }
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
  };
  // In chunks under the memory budget, appending when it can (pipeline/chunked_task.ts), unless the
  // configuration needs the whole series at once. A chunked task reads its input as it goes: one
  // validation pass (fingerprints and input tallies taken on the way), then each chunk's rows.
  const whole = unchunkable(config, engines);
  if (!whole) {
    const appendable = sameConfig && committed?.chunked ? committed : null;
    const scanned = { hash: new InputsHash(appendable ? [appendable.rows] : []), tally: new InputTally() };
    const input = await scanTask(source, t, loadOptions, (piece) => {
      scanned.hash.add(piece);
      scanned.tally.add(piece.columns);
    }, load);
    log("info", `input validated: ${input.rows} rows, read again chunk by chunk`, {
      rss_mb: Math.round(Deno.memoryUsage().rss / 2 ** 20),
    });
    reportInputs(input, row);
    Object.assign(phases_ms, load);
    Object.assign(row, { engines_ms, phases_ms, reports, quality });
    const plan = planChunks(config, engines, input.columns.length, input.rows);
    await ctx.reserve?.(
      (Math.min(input.rows, plan.rows) + plan.back + plan.ahead) * plan.bytesPerRow + plan.held,
    );
    await runTaskInChunks(
      {
        input,
        scanned,
        instrument: t.instrument,
        engines,
        config,
        compute,
        output,
        committed: sameConfig ? committed : null,
        meta: { runId, configHash, inputs: await fingerprintInputs(source, t.files) },
        done: onStep,
      },
      row,
      sample,
    );
    return;
  }
  log("info", `in memory, not in chunks: ${whole}`);
  const frame = await loadTask(source, t, loadOptions, load);
  reportInputs(frame, row);
  Object.assign(phases_ms, load);
  Object.assign(row, { engines_ms, phases_ms, reports, quality });
  await ctx.reserve?.(frame.rows * planChunks(config, engines, frame.columns.size, frame.rows).bytesPerRow);
  const columns = await runEngines(frame, engines, config, compute, {
    done: (step) => {
      const { engine, result } = step;
      onStep(step);
      const features = new Map([...result.columns].filter(([k]) => !k.startsWith("y_")));
      for (const [name, q] of assessColumns(features, frame.columns, result.notes)) {
        quality[name] = q;
        if (q.problem) log("warn", `feature ${name}: ${q.problem}`, { engine: engine.name, feature: name });
      }
    },
  });
  const tw = performance.now();
  const inputs = await fingerprintInputs(source, t.files);
  await writeTaskOutput(
    output,
    t.instrument,
    columns,
    { name: frame.timestampColumn!, values: frame.timestamps! },
    { runId, configHash, inputs },
    { format: config.storage.format, compression: config.storage.compression, rowsPerPart: 1_000_000 },
  );
  phases_ms.write = Math.round(performance.now() - tw);
  Object.assign(row, { rows: frame.rows, features: columns.size - frame.columns.size });
  log("info", "task committed", { rows: frame.rows, features: row.features });
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
