/**
 * Runs a study: draws each trial's parameters (random or TPE), evaluates trials in worker threads, records
 * every trial in the study database, and writes the best trial's config.
 *
 * Determinism: trials run in batches of `parallel`; trial n of batch b is drawn from the random stream
 * (seed, n) given the trials of batches before b only. So the parameters, and with a deterministic objective
 * the leaderboard, do not depend on how many trials run at once, on their finishing order, or on where a
 * study was killed and resumed: a trial recorded `running` (lost with its process) runs again with its
 * recorded parameters, finished trials are kept, and the study goes on from there.
 *
 * Concurrency: at most `workers` threads (0: the cores), never more than `parallel`, and only as many as
 * `compute.memory_budget` holds given the largest feature frame a trial has reported (one trial at a time
 * until the first reports).
 */
import { dirname, join } from "node:path";
import { stringify } from "npm:yaml@2.9.1";
import type { Remote } from "npm:comlink@4.4.2";
import { canonical } from "../config/print.ts";
import { Rng } from "../runtime/rng.ts";
import { sha256Hex } from "../io/checksum.ts";
import { writeFileAtomic } from "../io/write.ts";
import { discoverTasks } from "../io/discover.ts";
import { fingerprintInputs } from "../pipeline/inputs.ts";
import { openStorage } from "../pipeline/storage.ts";
import { DataError, UsageError } from "../runtime/errors.ts";
import { log } from "../runtime/log.ts";
import { startWorkers } from "../runtime/workers.ts";
import type { StudyDefinition } from "./definition.ts";
import type { StudyInput, TrialJob, TrialOutcome } from "./objective.ts";
import { applyParams, trialConfig, type TrialParams } from "./space.ts";
import { StudyStore, type TrialRow } from "./store.ts";
import { sampleRandom, sampleTpe } from "./tpe.ts";
import type { TrialWorkerApi } from "./trial_worker.ts";

/** Options of {@link runStudy}. */
export interface RunStudyOptions {
  /** Continue the stored study of this name (else a stored study of this name is an error). */
  resume?: boolean;
  /** Where progress lines go (default stderr). */
  progress?: (line: string) => void;
}

/** What {@link runStudy} returns. */
export interface StudyResult {
  /** Every trial, by number. */
  trials: TrialRow[];
  /** The best complete trial, or null. */
  best: TrialRow | null;
  /** The best trial's config file (written beside the database), or null. */
  bestConfig: string | null;
  /** Whether the time limit stopped it before `trials`. */
  timedOut: boolean;
}

/**
 * Trials to run at once: up to `threads`, as many as `budget` bytes hold at twice the largest feature frame a
 * trial has reported (`trialBytes`; the frame plus the CV's copies), at least 1; 1 until a trial has reported.
 */
export function trialConcurrency(threads: number, budget: number, trialBytes: number): number {
  return trialBytes ? Math.max(1, Math.min(threads, Math.floor(budget / (2 * trialBytes)))) : 1;
}

/** The complete trials by score, best first (ties: lower number first). */
export function leaderboard(trials: TrialRow[]): TrialRow[] {
  return trials.filter((t) => t.state === "complete" && t.score !== null)
    .sort((a, b) => b.score! - a.score! || a.number - b.number);
}

/** The runnable pipeline config of a trial: the base config with its parameters, as YAML. */
export function trialConfigYaml(def: Pick<StudyDefinition, "name" | "base">, t: TrialRow): string {
  const raw = applyParams(def.base, t.params);
  trialConfig(def.base, t.params, `study ${def.name} trial ${t.number}`); // refuses what the pipeline would
  return `# study ${def.name}, trial ${t.number}: score ${t.score}\n# parameters: ${
    JSON.stringify(t.params)
  }\n` +
    stringify(raw);
}

/** The path of a study's best-config file: `<db folder>/<name>.best.yaml`. */
export function bestConfigPath(def: Pick<StudyDefinition, "name" | "db">): string {
  return join(dirname(def.db), `${def.name}.best.yaml`);
}

/** The study's instruments with their input fingerprints. */
async function studyInputs(def: StudyDefinition): Promise<StudyInput[]> {
  const c = def.baseConfig;
  const source = openStorage(c.data.source, c.storage.s3);
  const tasks = await discoverTasks(source, c.data.instrument_pattern, c.data.formats);
  if (!tasks.length) {
    throw new UsageError(`${source.url}: no input files found (the base config's data.source)`);
  }
  const bad = tasks.find((t) => t.problem);
  if (bad) throw new DataError(`instrument ${bad.instrument}: ${bad.problem}`);
  return await Promise.all(tasks.map(async (task) => ({
    task,
    fingerprint: await sha256Hex(
      new TextEncoder().encode(canonical(await fingerprintInputs(source, task.files))),
    ),
  })));
}

/** Opens the study's record: creates it, or (resume) checks that it is the same study. */
function openRecord(store: StudyStore, def: StudyDefinition, resume: boolean): void {
  const stored = store.study(def.name);
  if (stored && !resume) {
    throw new UsageError(
      `study ${JSON.stringify(def.name)} already exists in ${store.path} ` +
        `(${store.trials(def.name).length} trials): pass --resume to continue it, or choose another name`,
    );
  }
  if (!stored && resume) {
    throw new UsageError(`--resume: no study named ${JSON.stringify(def.name)} in ${store.path}`);
  }
  if (stored && stored.hash !== def.hash) {
    throw new UsageError(
      `--resume: study ${
        JSON.stringify(def.name)
      } in ${store.path} was run with another base config, space, ` +
        "sampler, seed, parallel or cv; resume it with its own file, or give the changed study another name",
    );
  }
  if (!stored) {
    const { baseConfig: _c, hash, ...definition } = def;
    store.createStudy({ name: def.name, hash, definition, created: new Date().toISOString() });
  }
}

/** Runs (or resumes) a study to `trials` finished trials or its time limit. */
export async function runStudy(def: StudyDefinition, o: RunStudyOptions = {}): Promise<StudyResult> {
  const say = o.progress ?? ((s: string) => console.error(s));
  const store = await StudyStore.open(def.db);
  try {
    openRecord(store, def, o.resume ?? false);
    const inputs = await studyInputs(def);
    const byNumber = new Map(store.trials(def.name).map((t) => [t.number, t]));
    const lost = [...byNumber.values()].filter((t) => t.state === "running").length;
    if (lost) say(`study ${def.name}: ${lost} trial(s) lost with an earlier process run again`);
    const cores = navigator.hardwareConcurrency || 1;
    const maxThreads = Math.min(def.workers || cores, def.parallel);
    const pool = startWorkers<TrialWorkerApi>(
      new URL("./trial_worker.ts", import.meta.url),
      maxThreads,
      "search",
    );
    // A worker that cannot start stops the study (its trials stay running, so --resume redoes them).
    const down = pool.failure.catch((e) => Promise.reject(Object.assign(e, { poolDown: true })));
    down.catch(() => {});
    const idle = [...pool.remotes];
    const deadline = def.time_limit === null ? Infinity : performance.now() + def.time_limit * 1000;
    let trialBytes = 0, timedOut = false;
    const budget = def.baseConfig.compute.memory_budget;
    const concurrency = () => trialConcurrency(maxThreads, budget, trialBytes);
    try {
      for (let b = 0; b * def.parallel < def.trials && !timedOut; b++) {
        const first = b * def.parallel, last = Math.min(def.trials, first + def.parallel);
        const history = [...byNumber.values()]
          .filter((t) => t.number < first && t.state === "complete" && t.score !== null)
          .sort((x, y) => x.number - y.number).map((t) => ({ params: t.params, score: t.score! }));
        const pending: { number: number; params: TrialParams }[] = [];
        for (let n = first; n < last; n++) {
          const t = byNumber.get(n);
          if (t && t.state !== "running") continue;
          const rng = new Rng(def.seed, n);
          const params = t?.params ??
            (def.sampler === "tpe" ? sampleTpe(def.space, history, rng) : sampleRandom(def.space, rng));
          pending.push({ number: n, params });
        }
        const running = new Set<Promise<void>>();
        for (const p of pending) {
          if (performance.now() > deadline) {
            timedOut = true;
            break;
          }
          while (running.size >= concurrency() || !idle.length) await Promise.race(running);
          const worker = idle.pop()!;
          const job = runTrial(store, def, inputs, p.number, p.params, worker, down, say)
            .then((row) => {
              byNumber.set(row.number, row);
              trialBytes = Math.max(trialBytes, row.bytes);
              if (2 * trialBytes > budget) {
                log(
                  "warn",
                  `one trial's features take ${trialBytes} bytes, over half of compute.memory_budget`,
                );
              }
            })
            .finally(() => {
              idle.push(worker);
              running.delete(job);
            });
          running.add(job);
        }
        await Promise.all(running);
      }
    } finally {
      pool.close();
    }
    const trials = store.trials(def.name);
    const best = leaderboard(trials)[0] ?? null;
    let bestConfig: string | null = null;
    if (best) {
      bestConfig = bestConfigPath(def);
      await writeFileAtomic(bestConfig, new TextEncoder().encode(trialConfigYaml(def, best)));
    }
    if (timedOut) say(`study ${def.name}: time limit of ${def.time_limit} s reached; --resume continues it`);
    return { trials, best, bestConfig, timedOut };
  } finally {
    store.close();
  }
}

/** Runs one trial in `worker` and records it; a failing objective is a failed trial, not a failed study. */
async function runTrial(
  store: StudyStore,
  def: StudyDefinition,
  inputs: StudyInput[],
  number: number,
  params: TrialParams,
  worker: Remote<TrialWorkerApi>,
  down: Promise<never>,
  say: (s: string) => void,
): Promise<TrialRow & { bytes: number }> {
  store.startTrial(def.name, number, params);
  const t0 = performance.now();
  let outcome: TrialOutcome | null = null, error: string | null = null;
  try {
    const config = trialConfig(def.base, params, `trial ${number}`);
    const job: TrialJob = { config, inputs, cv: def.cv, cache: def.cache };
    outcome = await Promise.race([worker.evaluate(job), down]);
  } catch (e) {
    if ((e as { poolDown?: boolean }).poolDown) throw e;
    error = (e as Error).message;
  }
  const ms = Math.round(performance.now() - t0);
  const row = {
    state: outcome ? "complete" as const : "failed" as const,
    score: outcome?.score ?? null,
    detail: outcome?.instruments ?? null,
    ms,
    cache_hits: outcome?.cache_hits ?? 0,
    cache_misses: outcome?.cache_misses ?? 0,
    error,
  };
  store.finishTrial(def.name, number, row);
  say(
    `trial ${number} ${row.state}` + (outcome ? ` score ${outcome.score.toFixed(4)}` : `: ${error}`) +
      ` (${ms} ms, features cached ${row.cache_hits}/${row.cache_hits + row.cache_misses})  ${
        JSON.stringify(params)
      }`,
  );
  return { number, params, started: "", ...row, bytes: outcome?.bytes ?? 0 };
}
