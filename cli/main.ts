/**
 * The `feature-genesis` command line. Errors print one clear line; exit codes: 0 ok, 1 a task or run failed
 * (or the machine ran out of disk space), 2 usage, configuration or input error (a read-only or mistyped
 * output location, an output held by another run).
 */
import { DataError, StorageError, UsageError } from "../mod.ts";
import { parseArgs } from "./args.ts";
import { configCommand } from "./config_cmd.ts";
import { GENERATE_HELP, generateCommand } from "./generate_cmd.ts";
import { kernelCommand, kernelHelp } from "./kernel_cmd.ts";
import { loadCommand } from "./load_cmd.ts";
import { runCommand } from "./run_cmd.ts";
import { runsCommand } from "./runs_cmd.ts";
import { SEARCH_HELP, searchCommand } from "./search_cmd.ts";

const HELP = `usage: deno task cli COMMAND [options]

commands:
  run       [--config FILE] [--fail-fast] [--shard i/N|auto|auto/N] [--run-id ID] [--backend auto|webgpu|cpu]
            [--force] [--wait [SECONDS]]
            the batch pipeline (default config examples/config.yaml; generates data when the source is empty);
            one run writes an output at a time: --wait waits for the run holding it instead of exiting 2;
            shards are 0-based; auto (the default in a Slurm, Kubernetes or AWS Batch array job) reads the
            index from the scheduler and N from auto/N or FG_SHARD_COUNT
  ${GENERATE_HELP}
  config    --print [--config FILE]       the resolved configuration, secrets masked
  runs      [RUN_ID] [--registry FILE|postgres://...] [--config FILE] [--limit 10] [--json]
            recent runs and their failures; RUN_ID: every shard of that run, merged
  load      INSTRUMENT --every 30min [--config FILE] [--output FILE] [--cache DIR | --no-cache]
            one instrument of data.source resampled (OHLCV, VWAP, count, partial), cached; CSV out
  kernel    NAME --input FILE --column X [--column2 Y] [--PARAM VALUE ...] [--backend auto|webgpu|cpu] [--output FILE]
            one kernel on a column of a CSV, Parquet or Arrow/Feather file; CSV out
  ${SEARCH_HELP}

${kernelHelp()}`;

const COMMANDS: Record<string, (args: ReturnType<typeof parseArgs>) => Promise<number | void>> = {
  run: runCommand,
  generate: async (a) => void (await generateCommand(a)),
  config: configCommand,
  runs: runsCommand,
  kernel: kernelCommand,
  load: loadCommand,
  search: searchCommand,
};

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseArgs(argv);
    const command = args.positional[0];
    if (!command || command === "help" || args.options.has("help")) {
      console.log(HELP);
      return command || args.options.has("help") ? 0 : 2;
    }
    const run = COMMANDS[command];
    if (!run) {
      throw new UsageError(
        `unknown command "${command}" (commands: ${Object.keys(COMMANDS).join(", ")}; try --help)`,
      );
    }
    return (await run(args)) ?? 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof DataError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    if (e instanceof StorageError) {
      console.error(`error: ${e.message}`);
      return e.exitCode;
    }
    console.error(`error: ${(e as Error).message ?? e}`);
    if (Deno.env.get("FG_DEBUG")) console.error(e);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
