/**
 * `deno task bench --suite memory`: one instrument of growing length through the default pipeline (CPU path)
 * under a memory budget, each run in its own process so that its peak RSS is its own: the process's peak
 * resident set (VmHWM, polled from /proc while it runs; Linux) and the run summary's, the rows per second, and
 * the chunk plan. Full: 5M, 20M and 50M rows under 512 MiB and 2 GiB; --quick: 250k and 1M rows under 128 MiB
 * and 512 MiB.
 */
import { join } from "node:path";
import { generate } from "../generator/generate.ts";
import { LocalStorage } from "../io/storage.ts";

/** One measured run. */
export interface MemoryCase {
  /** Rows of the instrument. */
  rows: number;
  /** compute.memory_budget in MiB. */
  budget_mb: number;
  /** Peak resident set of the run's process (VmHWM), MiB; null where /proc is not available. */
  peak_rss_mb: number | null;
  /** Peak RSS the run sampled itself (summary.json), MiB. */
  summary_peak_rss_mb: number;
  /** Rows per second of the whole task (read, engines, write). */
  rows_per_s: number;
  /** Wall time of the run, in seconds. */
  seconds: number;
  /** Rows per chunk, history and look-ahead rows, parts written (null: ran in memory). */
  chunks: { rows: number; back: number; ahead: number; parts: number } | null;
}

/** Runs the memory suite (or the given rows and budgets in MiB); `progress` hears one line per case. */
export async function benchMemory(
  quick: boolean,
  progress: (s: string) => void,
  sizes = quick ? [250_000, 1_000_000] : [5_000_000, 20_000_000, 50_000_000],
  budgets = quick ? [128, 512] : [512, 2048],
): Promise<MemoryCase[]> {
  const dir = await Deno.makeTempDir({ prefix: "fg-bench-memory-" });
  const cases: MemoryCase[] = [];
  try {
    for (const rows of sizes) {
      const source = join(dir, `bars-${rows}`);
      await generate({
        kind: "bars",
        storage: new LocalStorage(source),
        instruments: 1,
        rows,
        seed: 4,
        workers: 2,
      });
      for (const budget of budgets) {
        const c = await runCase(dir, source, rows, budget);
        cases.push(c);
        progress(
          `memory: ${rows} rows, budget ${budget} MiB: peak RSS ${c.peak_rss_mb ?? "?"} MiB ` +
            `(summary ${c.summary_peak_rss_mb}), ${c.rows_per_s} rows/s, chunks ${JSON.stringify(c.chunks)}`,
        );
      }
      await Deno.remove(source, { recursive: true });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return cases;
}

async function runCase(dir: string, source: string, rows: number, budget: number): Promise<MemoryCase> {
  const out = join(dir, `out-${rows}-${budget}`);
  const config = join(dir, `config-${rows}-${budget}.yaml`);
  await Deno.writeTextFile(
    config,
    `data: { source: ${source} }\nstorage: { output: ${out} }\ngenerator: { if_empty: false }\n` +
      `compute: { backend: cpu, memory_budget: ${budget}MiB }\n`,
  );
  const cli = new URL("../cli/main.ts", import.meta.url).pathname;
  // A shell polls the run's peak resident set (Deno may not read /proc without --allow-all); Linux only.
  const poll = `"$@" >/dev/null & pid=$!; hwm=0; while kill -0 $pid 2>/dev/null; do ` +
    `h=$(sed -n 's/^VmHWM:[^0-9]*\\([0-9]*\\) kB/\\1/p' /proc/$pid/status 2>/dev/null); ` +
    `[ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h; sleep 0.1; done; wait $pid; rc=$?; echo $hwm; exit $rc`;
  const { success, stdout } = await new Deno.Command("bash", {
    args: ["-c", poll, "bash", Deno.execPath(), "run", "-A", cli, "run", "--config", config],
    stdout: "piped",
    stderr: "null",
  }).output();
  const kb = Number(new TextDecoder().decode(stdout).trim());
  const hwm = kb > 0 ? kb : null;
  if (!success) throw new Error(`bench memory: the run of ${rows} rows under ${budget} MiB failed`);
  const [run] = [...Deno.readDirSync(join(out, "_runs"))];
  const s = JSON.parse(await Deno.readTextFile(join(out, "_runs", run.name, "summary.json")));
  const task = s.tasks[0];
  await Deno.remove(out, { recursive: true });
  return {
    rows,
    budget_mb: budget,
    peak_rss_mb: hwm === null ? null : Math.round(hwm / 1024),
    summary_peak_rss_mb: s.peak_rss_mb,
    rows_per_s: s.rows_per_s,
    seconds: s.seconds,
    chunks: task.chunks
      ? { rows: task.chunks.rows, back: task.chunks.back, ahead: task.chunks.ahead, parts: task.chunks.parts }
      : null,
  };
}
