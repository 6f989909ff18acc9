/**
 * `generate`: the parallel data generator on the command line.
 *
 *   generate [--kind bars|transactions] [--instruments 4] [--rows 1000000] [--seed 42] [--workers 2]
 *            [--fraud-rate 0.01] [--customers N] [--rows-per-file 1048576] [--zstd-level 1]
 *            [--output out/generated]
 *
 * Writes through a Storage (a local folder, or an s3:// prefix with credentials from the AWS_* environment),
 * logs progress on stderr and prints the summary (files, rows, bytes, rows/s, MB/s) as JSON on stdout.
 */
import { type Args, rejectRest, take, takeInt } from "./args.ts";
import { generate, type GenerateResult, LIMITS, log, type Storage, storageFor, UsageError } from "../mod.ts";

/** Usage text of the generate command. */
export const GENERATE_HELP =
  `generate [--kind bars|transactions] [--instruments 1] [--rows 1000000] [--seed 42] [--workers 2]
          [--fraud-rate 0.01] [--customers N] [--rows-per-file 1048576] [--zstd-level 1] [--output out/generated]
          synthetic 1-minute bars (GARCH, regimes, weekend gaps) per instrument, or payment transactions with
          fraud labels, as ZSTD Parquet part files; --rows is per instrument for bars, in total for transactions`;

function takeNumber(args: Args, key: string): number | undefined {
  const v = take(args, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${key} expects a number, got "${v}"`);
  return n;
}

/**
 * Runs `generate` from parsed arguments (see `GENERATE_HELP`). `openStorage` turns --output into a Storage
 * (default: a local folder). Returns the summary it printed.
 */
export async function generateCommand(
  args: Args,
  openStorage: (url: string) => Storage | Promise<Storage> = (url) => storageFor(url),
): Promise<GenerateResult> {
  const kind = take(args, "kind") ?? "bars";
  if (kind !== "bars" && kind !== "transactions") {
    throw new UsageError(`--kind expects bars or transactions, got "${kind}"`);
  }
  const instruments = takeInt(args, "instruments", 1, LIMITS.instruments);
  const rows = takeInt(args, "rows", 1_000_000, LIMITS.generatedRows);
  const seed = takeNumber(args, "seed") ?? 42;
  const workers = takeNumber(args, "workers") ?? Math.max(1, Math.min(8, navigator.hardwareConcurrency ?? 2));
  if (workers > LIMITS.workers) {
    throw new UsageError(`--workers expects at most ${LIMITS.workers} workers, got ${workers}`);
  }
  const fraudRate = takeNumber(args, "fraud-rate");
  const customers = takeNumber(args, "customers");
  const rowsPerFile = takeNumber(args, "rows-per-file");
  const zstdLevel = takeNumber(args, "zstd-level");
  const output = take(args, "output") ?? "out/generated";
  rejectRest(args, "generate");
  const storage = await openStorage(output);
  let lastLog = 0;
  const res = await generate({
    kind,
    storage,
    instruments,
    rows,
    seed,
    workers,
    fraudRate,
    customers,
    rowsPerFile,
    zstdLevel,
    onProgress: (done, total) => {
      const now = performance.now();
      if (now - lastLog > 1000 || done === total) {
        lastLog = now;
        log("info", "generate", { rows: done, total, pct: Math.round((done / total) * 100) });
      }
    },
  });
  const summary = { ...res, files: res.files.length, output: storage.url };
  console.log(JSON.stringify(summary));
  return res;
}
