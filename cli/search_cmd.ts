/**
 * `search`: parameter studies (study/). `search --config study.yaml [--resume]` runs or continues one;
 * `search status`, `search best`, `search export` and `search import` read and back up the study database.
 */
import {
  bestConfigPath,
  leaderboard,
  loadStudyFile,
  runStudy,
  type StudyDefinition,
  StudyStore,
  trialConfigYaml,
  type TrialRow,
  UsageError,
  writeFileAtomic,
} from "../mod.ts";
import { type Args, rejectRest, take, takeInt } from "./args.ts";

/** The `search` lines of the CLI's help. */
export const SEARCH_HELP =
  `search    --config STUDY.yaml [--resume]   a parameter study (examples/study.yaml): random or TPE
            search over config keys, scored by purged walk-forward CV; --resume continues a stopped one
  search    status|best|export  --config STUDY.yaml | --db FILE --study NAME  [--top 10] [--output FILE]
            the leaderboard; the best trial as a runnable config; the study as JSON lines
  search    import --input FILE.jsonl (--config STUDY.yaml | --db FILE)   restores an exported study`;

/** The database and study name from `--config` or `--db` / `--study`. */
async function where(
  args: Args,
  needStudy = true,
): Promise<{ db: string; name: string; def?: StudyDefinition }> {
  const config = take(args, "config"), db = take(args, "db"), name = take(args, "study");
  if (config) {
    if (db || name) throw new UsageError("search: give --config or --db/--study, not both");
    const def = await loadStudyFile(config);
    return { db: def.db, name: def.name, def };
  }
  if (!db || (needStudy && !name)) {
    throw new UsageError(
      `search: expected --config STUDY.yaml or --db FILE${needStudy ? " --study NAME" : ""}`,
    );
  }
  return { db, name: name ?? "" };
}

async function openExisting(db: string): Promise<StudyStore> {
  try {
    await Deno.stat(db);
  } catch {
    throw new UsageError(`search: no study database at ${db} (run the study first, or pass --db FILE)`);
  }
  return await StudyStore.open(db);
}

function stored(store: StudyStore, name: string) {
  const s = store.study(name);
  if (!s) {
    const known = store.studies();
    throw new UsageError(
      `search: no study named ${JSON.stringify(name)} in ${store.path} (studies: ${
        known.join(", ") || "none"
      })`,
    );
  }
  return s;
}

const fmtParams = (p: Record<string, unknown>) =>
  Object.entries(p).map(([k, v]) =>
    `${k.replace(/^features\./, "")}=${
      typeof v === "number" && !Number.isInteger(v) ? v.toPrecision(4) : JSON.stringify(v)
    }`
  ).join(" ");

/** The leaderboard as text: counts, cache hits, then the top trials and any failures. */
export function formatLeaderboard(name: string, trials: TrialRow[], top: number): string {
  const count = (s: string) => trials.filter((t) => t.state === s).length;
  const hits = trials.reduce((a, t) => a + t.cache_hits, 0),
    misses = trials.reduce((a, t) => a + t.cache_misses, 0);
  const lines = [
    `study ${name}: ${trials.length} trials (${count("complete")} complete, ${count("failed")} failed, ` +
    `${count("running")} running or lost); feature cache hits ${hits} of ${hits + misses}`,
    "rank  trial  score      ms  params",
  ];
  leaderboard(trials).slice(0, top).forEach((t, i) =>
    lines.push(
      `${String(i + 1).padStart(4)}  ${String(t.number).padStart(5)}  ${t.score!.toFixed(4).padStart(7)}  ` +
        `${String(t.ms).padStart(6)}  ${fmtParams(t.params)}`,
    )
  );
  for (const t of trials.filter((t) => t.state === "failed")) {
    lines.push(`failed trial ${t.number}: ${t.error}`);
  }
  return lines.join("\n");
}

/** Runs the `search` command. */
export async function searchCommand(args: Args): Promise<number> {
  const sub = args.positional[1];
  if (sub === undefined) {
    const resume = take(args, "resume") !== undefined;
    const config = take(args, "config");
    rejectRest(args, "search");
    if (!config) throw new UsageError("search: expected --config STUDY.yaml (see examples/study.yaml)");
    const def = await loadStudyFile(config);
    const r = await runStudy(def, { resume });
    console.log(formatLeaderboard(def.name, r.trials, 10));
    if (r.bestConfig) console.log(`best trial ${r.best!.number}: config written to ${r.bestConfig}`);
    return r.best ? 0 : 1;
  }
  if (sub === "status") {
    const w = await where(args);
    const top = takeInt(args, "top", 10);
    rejectRest(args, "search status", 2);
    const store = await openExisting(w.db);
    try {
      stored(store, w.name);
      console.log(formatLeaderboard(w.name, store.trials(w.name), top));
    } finally {
      store.close();
    }
    return 0;
  }
  if (sub === "best") {
    const w = await where(args);
    const output = take(args, "output");
    rejectRest(args, "search best", 2);
    const store = await openExisting(w.db);
    try {
      const s = stored(store, w.name);
      const best = leaderboard(store.trials(w.name))[0];
      if (!best) throw new UsageError(`search best: study ${w.name} has no complete trial yet`);
      const text = trialConfigYaml(
        { name: w.name, base: s.definition.base as Record<string, unknown> },
        best,
      );
      const path = output ?? bestConfigPath({ name: w.name, db: w.db });
      await writeFileAtomic(path, new TextEncoder().encode(text));
      console.log(`best trial ${best.number} (score ${best.score}): config written to ${path}`);
    } finally {
      store.close();
    }
    return 0;
  }
  if (sub === "export") {
    const w = await where(args);
    const output = take(args, "output");
    rejectRest(args, "search export", 2);
    if (!output) throw new UsageError("search export: expected --output FILE.jsonl");
    const store = await openExisting(w.db);
    try {
      stored(store, w.name);
      await writeFileAtomic(output, new TextEncoder().encode(store.exportLines(w.name)));
      console.log(`study ${w.name}: ${store.trials(w.name).length} trials exported to ${output}`);
    } finally {
      store.close();
    }
    return 0;
  }
  if (sub === "import") {
    const input = take(args, "input");
    const w = await where(args, false);
    rejectRest(args, "search import", 2);
    if (!input) throw new UsageError("search import: expected --input FILE.jsonl");
    let text: string;
    try {
      text = await Deno.readTextFile(input);
    } catch (e) {
      throw new UsageError(`search import: cannot read ${input}: ${(e as Error).message}`);
    }
    const store = await StudyStore.open(w.db);
    try {
      const name = store.importLines(text, input);
      console.log(`study ${name}: ${store.trials(name).length} trials imported into ${w.db}`);
    } finally {
      store.close();
    }
    return 0;
  }
  throw new UsageError(
    `search: unknown subcommand "${sub}" (status, best, export, import; or none to run a study)`,
  );
}
