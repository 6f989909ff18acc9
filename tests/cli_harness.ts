/** Runs the CLI in-process for tests, capturing what it prints (stdout lines, stderr log lines). */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../cli/main.ts";
import { generate } from "../generator/generate.ts";
import { LocalStorage } from "../io/storage.ts";
import type { RunSummary } from "../pipeline/run.ts";

/** The CLI's exit code and output. */
export interface CliResult {
  /** Exit code. */
  code: number;
  /** What went to stdout. */
  out: string;
  /** What went to stderr (JSON log lines, progress). */
  err: string;
}

/** Runs `main(argv)`, capturing console output. */
export async function cli(argv: string[]): Promise<CliResult> {
  const out: string[] = [], err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    return { code: await main(argv), out: out.join("\n"), err: err.join("\n") };
  } finally {
    [console.log, console.error] = [log, error];
  }
}

/**
 * Starts the CLI (`main.ts ARGV...`) as its own process, with the permissions of `deno task run` (no /proc), in
 * `cwd` (default the repository; a config without `storage.registry` keeps its registry there, as on separate
 * machines) with only `env` set.
 */
export function spawnCli(argv: string[], env: Record<string, string> = {}, cwd = REPO) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-ffi",
      "--allow-write",
      "--allow-env",
      "--allow-net",
      "--allow-sys=hostname",
      join(REPO, "cli", "main.ts"),
      ...argv,
    ],
    cwd,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const dec = new TextDecoder();
  return {
    child,
    result: child.output().then((o) => ({
      code: o.code,
      out: dec.decode(o.stdout),
      err: dec.decode(o.stderr),
    })),
  };
}

const REPO = fileURLToPath(new URL("..", import.meta.url));

/** The JSON log records among captured stderr lines. */
export function logRecords(err: string): Record<string, unknown>[] {
  return err.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

/** What a pipeline run left under `<output>/_runs/<id>`: the folder, summary.json and summary.md. */
export interface RunReports {
  /** `<output>/_runs/<id>`. */
  runDir: string;
  /** summary.json. */
  summary: RunSummary;
  /** summary.md. */
  md: string;
}

/**
 * The reports of the run whose log is `err` (its first record names the run: run ids order by second only,
 * so not by listing `_runs`), under the output folder `output`.
 */
export async function runReports(output: string, err: string): Promise<RunReports> {
  const runDir = join(output, "_runs", logRecords(err)[0].run_id as string);
  return {
    runDir,
    summary: JSON.parse(await Deno.readTextFile(join(runDir, "summary.json"))),
    md: await Deno.readTextFile(join(runDir, "summary.md")),
  };
}

/**
 * A temp folder with `rows` generated bars of one instrument (SYN0000) under `bars/` and `config.yaml`: source
 * `bars/`, output `out/`, the CPU backend, no generation on an empty source, then `yaml` (more sections).
 */
export async function barsJob(
  o: { prefix: string; rows: number; seed: number; yaml: string },
): Promise<{ dir: string; config: string }> {
  const dir = await Deno.makeTempDir({ prefix: o.prefix });
  await generate({
    kind: "bars",
    storage: new LocalStorage(join(dir, "bars")),
    instruments: 1,
    rows: o.rows,
    seed: o.seed,
    workers: 0,
  });
  const config = join(dir, "config.yaml");
  await Deno.writeTextFile(
    config,
    `data: { source: ${join(dir, "bars")} }
storage: { output: ${join(dir, "out")} }
compute: { backend: cpu }
generator: { if_empty: false }
${o.yaml}`,
  );
  return { dir, config };
}
