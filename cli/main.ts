/**
 * The `feature-genesis` command line: `run` (the job on generated data) and `kernel` (one kernel on one
 * column of a file). Errors print one clear line; exit codes: 0 ok, 1 failure, 2 usage or input error.
 */
import { DataError, UsageError } from "../runtime/errors.ts";
import { parseArgs } from "./args.ts";
import { demoCommand } from "./demo.ts";
import { kernelCommand, kernelHelp } from "./kernel_cmd.ts";

const HELP = `usage: deno task cli COMMAND [options]

commands:
  run     [--instruments 4] [--rows 100000] [--output out/demo] [--backend auto|webgpu|cpu]
          generate 1-minute bars and compute the stationarization features (Parquet per instrument)
  kernel  NAME --input FILE --column X [--column2 Y] [--PARAM VALUE ...] [--backend auto|webgpu|cpu] [--output FILE]
          run one kernel on a column of a CSV, Parquet or Arrow/Feather file; CSV out

${kernelHelp()}`;

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseArgs(argv);
    const command = args.positional[0];
    if (!command || command === "help" || args.options.has("help")) {
      console.log(HELP);
      return command || args.options.has("help") ? 0 : 2;
    }
    if (command === "run") await demoCommand(args);
    else if (command === "kernel") await kernelCommand(args);
    else throw new UsageError(`unknown command "${command}" (commands: run, kernel; try --help)`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof DataError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    console.error(`error: ${(e as Error).message ?? e}`);
    if (Deno.env.get("FG_DEBUG")) console.error(e);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
