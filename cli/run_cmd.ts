/**
 * `run [--config FILE] [--fail-fast] [--shard i/N|auto|auto/N] [--run-id ID] [--backend B] [--force]
 * [--wait [SECONDS]]`: the batch pipeline. The shard (0-based) and the run id shared by an array job's shards
 * come from the flags or from the scheduler's environment (pipeline/array_job.ts). One run writes an output at a time (pipeline/lease.ts): when another run holds it, exit 2 naming
 * that run, or with --wait poll until it is free (for SECONDS at most; no value: as long as it takes). Without
 * --config it uses examples/config.yaml; when the configured source has no data files and
 * `generator.if_empty` is set, it first generates a dataset there. Prints where the outputs, the summary and
 * the registry are; exit code 0 when every task is done or skipped, 1 when one failed.
 */
import {
  configHash,
  discoverTasks,
  generate,
  loadConfigFile,
  log,
  openStorage,
  registryPath,
  resolveRunId,
  resolveShard,
  runPipeline,
  UsageError,
} from "../mod.ts";
import { type Args, rejectRest, take, takeBackend } from "./args.ts";
import { DEFAULT_CONFIG } from "./config_cmd.ts";
import { FALLBACK_REGISTRY } from "./runs_cmd.ts";

/** Runs the `run` command; returns the exit code. */
export async function runCommand(args: Args): Promise<number> {
  const path = take(args, "config") ?? DEFAULT_CONFIG;
  const failFast = take(args, "fail-fast") === "true";
  const force = take(args, "force") === "true";
  const shardText = take(args, "shard");
  const backend = args.options.has("backend") ? takeBackend(args) : undefined;
  const wait = take(args, "wait");
  const runIdText = take(args, "run-id");
  rejectRest(args, "run");
  const waitS = wait === undefined ? 0 : wait === "true" ? Infinity : Number(wait);
  if (!(waitS >= 0)) {
    throw new UsageError(
      `--wait expects a number of seconds >= 0 (or no value: wait as long as it takes), got "${wait}"`,
    );
  }
  if (runIdText === "true") throw new UsageError("--run-id expects an id");
  const env = (name: string) => Deno.env.get(name);
  const shard = resolveShard(shardText, env);
  const runId = resolveRunId(runIdText, env);
  const config = await loadConfigFile(path);
  if (backend) config.compute.backend = backend;
  if (force) config.development.force_reprocessing = true;
  const source = openStorage(config.data.source, config.storage.s3);
  const output = openStorage(config.storage.output, config.storage.s3);

  if (
    config.generator.if_empty &&
    !(await discoverTasks(source, config.data.instrument_pattern, config.data.formats)).length
  ) {
    const g = config.generator;
    log(
      "info",
      `${source.url} has no data files: generating ${g.instruments} instruments x ${g.rows} bars there`,
    );
    const r = await generate({
      kind: "bars",
      storage: source,
      instruments: g.instruments,
      rows: g.rows,
      seed: g.seed,
      workers: g.workers,
    });
    log(
      "info",
      `generated ${r.rows} rows in ${r.seconds.toFixed(1)} s (${Math.round(r.rowsPerSecond)} rows/s)`,
    );
  }

  const summary = await runPipeline({
    config,
    configHash: await configHash(config),
    source,
    output,
    registryPath: registryPath(config.storage) ?? FALLBACK_REGISTRY,
    failFast: failFast || config.pipeline.fail_fast,
    shard,
    runId,
    waitMs: waitS * 1000,
  });
  const counts = ["done", "skipped", "failed"].map((s) =>
    `${summary.tasks.filter((t) => t.status === s).length} ${s}`
  );
  if (summary.not_started) counts.push(`${summary.not_started.length} not started`);
  console.log(
    [
      `run ${summary.run_id}: ${summary.status} (${
        counts.join(", ")
      }; ${summary.rows} rows in ${summary.seconds} s)`,
      `outputs:  ${summary.output}/<instrument>/part-*.${config.storage.format}`,
      `summary:  ${summary.output}/_runs/${summary.run_id}/summary.json (and summary.md)`,
      `registry: ${summary.registry} (deno task cli runs${
        summary.run === summary.run_id ? "" : ` ${summary.run}`
      })`,
    ].join("\n"),
  );
  return summary.status === "done" ? 0 : 1;
}
