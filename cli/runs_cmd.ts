/**
 * `runs [RUN_ID] [--registry FILE|URL] [--config FILE] [--limit N] [--json]`: recent runs from the registry
 * (SQLite file or PostgreSQL) and their failures; with RUN_ID, that run as a whole: every shard of an array
 * job with its attempts, host, state and heartbeat, the merged task outcomes, rows and time.
 */
import { join } from "node:path";
import {
  isPostgresUrl,
  loadConfigFile,
  Registry,
  registryPath,
  type RunOverview,
  runOverview,
  UsageError,
} from "../mod.ts";
import { type Args, rejectRest, take, takeInt } from "./args.ts";
import { DEFAULT_CONFIG } from "./config_cmd.ts";

/** Where the registry lives when the output is not a local folder. */
export const FALLBACK_REGISTRY = join(".feature-genesis", "registry.sqlite");

/** Runs the `runs` command. */
export async function runsCommand(args: Args): Promise<void> {
  const explicit = take(args, "registry");
  const configPath = take(args, "config");
  const limit = takeInt(args, "limit", 10);
  const json = take(args, "json") === "true";
  const run = args.positional[1];
  rejectRest(args, "runs", 2);
  const path = explicit ??
    registryPath((await loadConfigFile(configPath ?? DEFAULT_CONFIG)).storage) ?? FALLBACK_REGISTRY;
  if (!isPostgresUrl(path)) {
    try {
      await Deno.stat(path);
    } catch {
      throw new UsageError(`runs: no registry at ${path} (run the pipeline first, or pass --registry FILE)`);
    }
  }
  const registry = await Registry.open(path);
  try {
    await registry.markAbandoned(Deno.hostname());
    if (run !== undefined) {
      const o = await runOverview(registry, run);
      if (!o) throw new UsageError(`runs: registry ${path} has no run ${JSON.stringify(run)}`);
      console.log(json ? JSON.stringify(o, null, 2) : overviewText(o));
      return;
    }
    const runs = await registry.recentRuns(limit);
    if (json) return console.log(JSON.stringify(runs, null, 2));
    console.log(`registry ${path}: ${runs.length} recent run(s)`);
    for (const r of runs) {
      const shard = r.job && Number(r.job.split("/")[1]) > 1
        ? `  shard ${r.shard}/${r.job.split("/")[1]}`
        : "";
      console.log(
        `${r.id}  ${r.status.padEnd(8)} ${r.started}  done ${r.tasks_done}, skipped ${r.tasks_skipped}, ` +
          `failed ${r.tasks_failed}  (${r.adapter}; config ${r.config_hash.slice(0, 12)}${shard})`,
      );
      for (const t of (await registry.tasks(r.id)).filter((t) => t.status === "failed")) {
        console.log(`    failed ${t.instrument}: ${t.error}`);
      }
    }
  } finally {
    await registry.close();
  }
}

/** A run's overview as text: one line per shard attempt, then the merged outcome. */
function overviewText(o: RunOverview, now = Date.now()): string {
  const lines = [
    `run ${o.run}: ${o.shard_count} shard(s), config ${
      o.config_hashes.map((h) => h.slice(0, 12)).join(", ")
    }, ` +
    `output ${o.outputs.join(", ") || "-"}`,
  ];
  for (const s of o.shards) {
    if (!s.attempts.length) lines.push(`  shard ${s.index}/${o.shard_count}  missing (never started)`);
    for (const a of s.attempts) {
      const beat = a.status === "running" && a.heartbeat
        ? `, heartbeat ${Math.round((now - Date.parse(a.heartbeat)) / 1000)} s ago`
        : "";
      const secs = a.ended
        ? `${((Date.parse(a.ended) - Date.parse(a.started)) / 1000).toFixed(1)} s`
        : "running";
      lines.push(
        `  shard ${s.index}/${o.shard_count}  ${a.status.padEnd(10)} ${a.id}  host ${a.host}, pid ${
          a.pid ?? "?"
        }` +
          `, ${a.started}, ${secs}${beat}; done ${a.tasks_done}, skipped ${a.tasks_skipped}, failed ` +
          `${a.tasks_failed}, ${a.rows} rows`,
      );
    }
  }
  const states = Object.entries(o.states).map(([k, v]) => `${v} ${k}`).join(", ");
  const c = o.task_counts;
  lines.push(
    `shards: ${states}`,
    `instruments: ${c.done} done, ${c.skipped} skipped, ${c.failed} failed; ${o.rows} rows in ${o.seconds} s` +
      `${o.ended ? "" : " so far"} (${Math.round(o.rows / Math.max(o.seconds, 1e-3))} rows/s)`,
  );
  for (const out of o.outputs) lines.push(`summaries: ${out}/_runs/<shard id>/summary.json (and summary.md)`);
  for (const t of Object.values(o.tasks).filter((t) => t.status === "failed")) {
    lines.push(`  failed ${t.instrument} (${t.run_id}): ${t.error}`);
  }
  return lines.join("\n");
}
