/**
 * `deno task bench --suite append`: one instrument of 2^20 one-minute bars under a 512 MiB budget (--quick: 2^18
 * under 128 MiB; either is chunked) through the default pipeline (CPU path), then one day of bars (1,440 rows) appended as a
 * new partition file: each run's seconds, the rows it computed, the GARCH fits it ran (its log line) and the
 * GARCH engine's share of the task's time.
 */
import { join } from "node:path";
import { generate } from "../generator/generate.ts";
import { LocalStorage } from "../io/storage.ts";

/** One run of the append suite. */
export interface AppendRun {
  /** Rows of the instrument. */
  rows: number;
  /** First row computed (0: the whole series). */
  from: number;
  /** Wall time of the task, in seconds. */
  seconds: number;
  /** GARCH fits run (refits x models x columns; null when the log does not say). */
  garch_fits: number | null;
  /** Time of the garch_models engine, in seconds. */
  garch_seconds: number;
  /** Its share of the task's time. */
  garch_share: number;
  /** The task's time per phase (read, each engine, write), in ms. */
  phases_ms: Record<string, number>;
}

/** The first run and the append. */
export interface AppendCase {
  /** compute.memory_budget in MiB. */
  budget_mb: number;
  /** Rows appended. */
  appended: number;
  full: AppendRun;
  append: AppendRun;
}

/** A day of one-minute bars. */
const DAY = 1440;

/** Runs the append suite; `progress` hears one line per run; `cli` is the CLI entry measured (this tree's). */
export async function benchAppend(
  quick: boolean,
  progress: (s: string) => void,
  cli = new URL("../cli/main.ts", import.meta.url).pathname,
): Promise<AppendCase> {
  const rows = quick ? 2 ** 18 : 2 ** 20, budget = quick ? 128 : 512;
  const dir = await Deno.makeTempDir({ prefix: "fg-bench-append-" });
  try {
    const source = join(dir, "bars");
    // Two part files: the history, then the day that is appended.
    const gen = await generate({
      kind: "bars",
      storage: new LocalStorage(source),
      instruments: 1,
      rows: rows + DAY,
      seed: 4,
      workers: 2,
      rowsPerFile: rows,
    });
    const [, day] = gen.files;
    const aside = join(dir, "day.parquet");
    await Deno.rename(join(source, day), aside);
    const config = join(dir, "config.yaml");
    await Deno.writeTextFile(
      config,
      `data: { source: ${source} }\nstorage: { output: ${
        join(dir, "out")
      } }\ngenerator: { if_empty: false }\n` +
        `compute: { backend: cpu, memory_budget: ${budget}MiB }\n`,
    );
    const full = await runOnce(cli, config, join(dir, "out"));
    progress(`append: first run of ${full.rows} rows: ${JSON.stringify(full)}`);
    await Deno.rename(aside, join(source, day));
    const append = await runOnce(cli, config, join(dir, "out"));
    progress(`append: ${DAY} rows appended: ${JSON.stringify(append)}`);
    return { budget_mb: budget, appended: DAY, full, append };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function runOnce(cli: string, config: string, out: string): Promise<AppendRun> {
  const { success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, "run", "--config", config],
    stdout: "null",
    stderr: "piped",
  }).output();
  const log = new TextDecoder().decode(stderr);
  if (!success) throw new Error(`bench append: the run failed\n${log.slice(-2000)}`);
  const runs = [...Deno.readDirSync(join(out, "_runs"))].map((e) => e.name).sort();
  const s = JSON.parse(await Deno.readTextFile(join(out, "_runs", runs.at(-1)!, "summary.json")));
  const task = s.tasks[0];
  const fits = /garch_models: (\d+) fits from row/.exec(log);
  const garch = (task.engines_ms?.garch_models ?? 0) / 1e3;
  return {
    rows: task.rows,
    from: task.chunks?.from ?? 0,
    seconds: task.ms / 1e3,
    garch_fits: fits ? Number(fits[1]) : null,
    garch_seconds: garch,
    garch_share: Math.round((1000 * garch) / (task.ms / 1e3)) / 1000,
    phases_ms: task.phases_ms ?? {},
  };
}
