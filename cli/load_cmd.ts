/**
 * `load INSTRUMENT --every 30min [--config FILE] [--output FILE] [--cache DIR | --no-cache]`: one instrument of
 * the configured source at a timeframe through the loader (validated, resampled, cached in DIR, by default
 * .feature-genesis/cache), as CSV to stdout or --output.
 */
import {
  encodeCsv,
  load,
  loadConfigFile,
  log,
  openCompute,
  openStorage,
  UsageError,
  writeFileAtomic,
} from "../mod.ts";
import { type Args, rejectRest, take } from "./args.ts";
import { DEFAULT_CONFIG } from "./config_cmd.ts";

/** Where `load` caches resampled bars. */
export const CACHE_DIR = ".feature-genesis/cache";

/** Runs the `load` command. */
export async function loadCommand(args: Args): Promise<void> {
  const instrument = args.positional[1];
  if (!instrument) throw new UsageError("load: name an instrument (load INSTRUMENT --every 30min)");
  const every = take(args, "every");
  if (!every) throw new UsageError("load: --every is required (e.g. 5min, 1h, 1d)");
  const path = take(args, "config") ?? DEFAULT_CONFIG;
  const output = take(args, "output");
  const noCache = take(args, "no-cache") === "true";
  const cacheDir = take(args, "cache") ?? CACHE_DIR;
  rejectRest(args, "load", 2);
  const config = await loadConfigFile(path);
  const source = openStorage(config.data.source, config.storage.s3);
  const r = await load(source, instrument, every, {
    cache: noCache ? null : cacheDir,
    pattern: config.data.instrument_pattern,
    formats: config.data.formats,
    timestampColumn: config.data.timestamp_column,
    denyColumns: config.data.deny_columns,
    columns: config.data.columns,
    compute: await openCompute({
      backend: config.compute.backend,
      memoryBudget: config.compute.memory_budget,
    }),
  });
  log(
    "info",
    `${instrument} at ${every}: ${r.frame.rows} bars (${
      r.cached ? "from the cache" : `from ${r.inputRows} rows`
    })`,
  );
  const csv = encodeCsv(
    [...r.frame.columns].map(([name, values]) => ({ name, values })),
    { name: r.frame.timestampColumn ?? "timestamp", values: r.frame.timestamps! },
  );
  if (output) await writeFileAtomic(output, csv);
  else await Deno.stdout.write(csv);
}
