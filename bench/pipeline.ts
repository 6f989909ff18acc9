/**
 * Pipeline benchmarks: the generator's rows/s and MB/s with 1 and 2 workers, and the batch pipeline end to
 * end (read + validate, engines, Feather output) in rows/s with its per-phase time, on generated bars in a
 * temporary folder: the default configuration with one task at a time and with `compute.task_workers: auto`,
 * in the same run, against the issue's 4.5e4 rows/s (4 x 250,000 bars, default configuration, same machine);
 * and the write phase alone: one of the run's output parts written again per format (encode, atomic write
 * with fsync, SHA-256), side by side with pyarrow writing the same table.
 */
import { join } from "node:path";
import process from "node:process";
import { configHash } from "../config/print.ts";
import { defaultConfig } from "../config/schema.ts";
import { generate } from "../generator/generate.ts";
import { LocalStorage } from "../io/storage.ts";
import { decodeFrame } from "../io/read.ts";
import { type OutputOptions, TaskOutput } from "../pipeline/output.ts";
import { runPipeline } from "../pipeline/run.ts";
import { peer, runPeers } from "./peers.ts";
import { setLogSink } from "../runtime/log.ts";

/** What `benchPipeline` measures. */
export interface PipelineBench {
  generator: { workers: number; rows: number; seconds: number; rows_per_s: number; mb_per_s: number }[];
  pipeline: PipelineRun[];
  write: WriteTiming[];
}

/** One output part written again (best of 3): what the summary's `write` phase spends on it. */
export interface WriteTiming {
  /** Format and compression, e.g. "feather zstd". */
  what: string;
  rows: number;
  columns: number;
  /** Size of the part written. */
  bytes: number;
  /** Wall time of TaskOutput.part: encode, atomic write with fsync, SHA-256. */
  seconds: number;
  /** CPU time (user + system) of the same call. */
  cpu_seconds: number;
  /** pyarrow writing the same table to the same format (no fsync, no checksum), this run. */
  peer?: { what: string; seconds: number; bytes: number };
}

const WRITE_FORMATS: [string, OutputOptions][] = [
  ["feather zstd", { format: "feather", compression: "zstd", rowsPerPart: Infinity }],
  ["feather lz4", { format: "feather", compression: "lz4", rowsPerPart: Infinity }],
  ["feather none", { format: "feather", compression: "none", rowsPerPart: Infinity }],
  ["parquet", { format: "parquet", compression: "zstd", rowsPerPart: Infinity }],
];

/** Writes the committed Feather part `file` again in each format; pyarrow writes the same table alongside. */
async function benchWrite(dir: string, file: string, quick: boolean, progress: (s: string) => void) {
  const frame = await decodeFrame(await Deno.readFile(file), file);
  const ts = { name: frame.timestampColumn!, values: frame.timestamps! };
  const peers = await runPeers(["feather_write"], quick, progress, ["--feather", file]);
  const cpu = () => {
    const u = process.cpuUsage(); // µs, this process
    return u.user + u.system;
  };
  const out: WriteTiming[] = [];
  for (const [what, opts] of WRITE_FORMATS) {
    let best = { seconds: Infinity, cpu_seconds: Infinity, bytes: 0 };
    for (let rep = 0; rep < 3; rep++) {
      const task = await TaskOutput.open(new LocalStorage(join(dir, "write")), "W", opts);
      const c0 = cpu(), t0 = performance.now();
      const entry = await task.part(frame.columns, ts);
      const seconds = (performance.now() - t0) / 1e3, cpuSeconds = (cpu() - c0) / 1e6;
      if (seconds < best.seconds) best = { seconds, cpu_seconds: cpuSeconds, bytes: entry.bytes };
    }
    const p = peer(peers, `write ${what}`);
    const t: WriteTiming = { what, rows: frame.rows, columns: frame.columns.size + 1, ...best };
    if (p?.seconds) t.peer = { what: p.what, seconds: p.seconds, bytes: p.bytes ?? 0 };
    out.push(t);
    progress(
      `write ${what}, ${t.rows} x ${t.columns}: ${(t.seconds * 1e3).toFixed(0)} ms (cpu ${
        (t.cpu_seconds * 1e3).toFixed(0)
      } ms), ${(t.bytes / 1e6).toFixed(1)} MB` +
        (t.peer ? `; ${t.peer.what} ${(t.peer.seconds * 1e3).toFixed(0)} ms` : ""),
    );
  }
  return out;
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
    const instrument = (await Array.fromAsync(Deno.readDir(config.data.source)))[0].name;
    const part = join(dir, "out-1", instrument, "part-00000.feather");
    return { generator, pipeline: runs, write: await benchWrite(dir, part, quick, progress) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
