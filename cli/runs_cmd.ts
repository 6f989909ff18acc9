/** `runs [--registry FILE] [--config FILE] [--limit N]`: recent runs from the SQLite registry and their failures. */
import { join } from "node:path";
import { loadConfigFile, Registry, registryPath, UsageError } from "../mod.ts";
import { type Args, rejectRest, take, takeInt } from "./args.ts";
import { DEFAULT_CONFIG } from "./config_cmd.ts";

/** Where the registry lives when the output is not a local folder. */
export const FALLBACK_REGISTRY = join(".feature-genesis", "registry.sqlite");

/** Runs the `runs` command. */
export async function runsCommand(args: Args): Promise<void> {
  const explicit = take(args, "registry");
  const configPath = take(args, "config");
  const limit = takeInt(args, "limit", 10);
  rejectRest(args, "runs");
  const path = explicit ??
    registryPath((await loadConfigFile(configPath ?? DEFAULT_CONFIG)).storage) ?? FALLBACK_REGISTRY;
  try {
    await Deno.stat(path);
  } catch {
    throw new UsageError(`runs: no registry at ${path} (run the pipeline first, or pass --registry FILE)`);
  }
  const registry = await Registry.open(path);
  try {
    registry.markAbandoned(Deno.hostname());
    const runs = registry.recentRuns(limit);
    console.log(`registry ${path}: ${runs.length} recent run(s)`);
    for (const r of runs) {
      console.log(
        `${r.id}  ${r.status.padEnd(8)} ${r.started}  done ${r.tasks_done}, skipped ${r.tasks_skipped}, ` +
          `failed ${r.tasks_failed}  (${r.adapter}; config ${r.config_hash.slice(0, 12)})`,
      );
      for (const t of registry.tasks(r.id).filter((t) => t.status === "failed")) {
        console.log(`    failed ${t.instrument}: ${t.error}`);
      }
    }
  } finally {
    registry.close();
  }
}
