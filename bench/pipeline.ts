/**
 * Pipeline benchmarks: the generator's rows/s and MB/s with 1 and 2 workers, and the batch pipeline end to
 * end (read + validate, engines, Feather output) in rows/s with its per-phase time, on generated bars in a
 * temporary folder: the default configuration with one task at a time and with `compute.task_workers: auto`,
 * in the same run, against the issue's 4.5e4 rows/s (4 x 250,000 bars, default configuration, same machine).
 */
import { join } from "node:path";
import { configHash } from "../config/print.ts";
import { defaultConfig } from "../config/schema.ts";
import { generate } from "../generator/generate.ts";
import { LocalStorage } from "../io/storage.ts";
import { runPipeline } from "../pipeline/run.ts";
import { setLogSink } from "../runtime/log.ts";

/** What `benchPipeline` measures. */
export interface PipelineBench {
  generator: { workers: number; rows: number; seconds: number; rows_per_s: number; mb_per_s: number }[];
  pipeline: PipelineRun[];
}

/** One end-to-end run of the default configuration. */
export interface PipelineRun {
  /** `compute.task_workers` as set, and the workers it started (1: this thread). */
  task_workers: number | "auto";
  workers: number;
  instruments: number;
  rows: number;
  seconds: number;
  rows_per_s: number;
  /** Each phase (read, validate, the engines, write) summed over the tasks: CPU time when tasks overlap. */
  phases_ms: Record<string, number>;
  adapter: string;
}

/** The default job's speed when issue 18 was filed (4 x 250,000 bars, this development machine). */
export const ISSUE_ROWS_PER_S = 4.5e4;

/** Runs the pipeline benchmarks (smaller with `quick`), reporting progress lines through `progress`. */
export async function benchPipeline(quick: boolean, progress: (s: string) => void): Promise<PipelineBench> {
  const dir = await Deno.makeTempDir({ prefix: "fg-bench-" });
  try {
    const rows = quick ? 500_000 : 2_000_000;
    const generator = [];
    for (const workers of [1, 2]) {
      const r = await generate({
        kind: "bars",
        storage: new LocalStorage(join(dir, `gen${workers}`)),
        instruments: 2,
        rows: rows / 2,
        seed: 1,
        workers,
      });
      generator.push({
        workers,
        rows: r.rows,
        seconds: r.seconds,
        rows_per_s: r.rowsPerSecond,
        mb_per_s: r.mbPerSecond,
      });
      progress(
        `generator, ${workers} worker(s): ${Math.round(r.rowsPerSecond)} rows/s, ${
          r.mbPerSecond.toFixed(1)
        } MB/s`,
      );
    }
    const config = defaultConfig();
    const instruments = 4, perInstrument = quick ? 100_000 : 250_000;
    config.data.source = join(dir, "bars");
    config.storage.output = join(dir, "out");
    await generate({
      kind: "bars",
      storage: new LocalStorage(config.data.source),
      instruments,
      rows: perInstrument,
      seed: 2,
      workers: 2,
    });
    const runs: PipelineRun[] = [];
    for (const task_workers of [1, "auto"] as const) {
      config.compute.task_workers = task_workers;
      config.storage.output = join(dir, `out-${task_workers}`);
      const quiet = setLogSink(() => {});
      try {
        const s = await runPipeline({
          config,
          configHash: await configHash(config),
          source: new LocalStorage(config.data.source),
          output: new LocalStorage(config.storage.output),
          registryPath: join(dir, `registry-${task_workers}.sqlite`),
          progress: () => {},
        });
        const phases_ms: Record<string, number> = {};
        for (const t of s.tasks) {
          for (const [k, v] of Object.entries(t.phases_ms ?? {})) phases_ms[k] = (phases_ms[k] ?? 0) + v;
        }
        runs.push({
          task_workers,
          workers: s.task_workers ?? 1,
          instruments,
          rows: s.rows,
          seconds: s.seconds,
          rows_per_s: s.rows_per_s,
          phases_ms,
          adapter: s.adapter,
        });
        progress(
          `pipeline (${s.adapter}, task_workers ${task_workers}: ${s.task_workers} at a time): ${s.rows} rows in ${s.seconds} s = ${s.rows_per_s} rows/s; phases ${
            JSON.stringify(phases_ms)
          } ms`,
        );
      } finally {
        setLogSink(quiet);
      }
    }
    return { generator, pipeline: runs };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
