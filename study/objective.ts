/**
 * One trial's objective: for each instrument, the features of the trial's config (from the feature cache or
 * computed by the pipeline's engines), then purged cross-validation (study/cv.ts) of the model on features
 * selected inside each training fold; the score is the mean of the folds' scores over the instruments.
 *
 * The statistical_tests engine does not run in a trial: its dCor ranking uses every row, so a model scored on
 * its choice would be scored on rows used to select. Its keys still apply where they mean the same here:
 * `selection_target_column` (the target), `dcor_top_k` (features kept per fold), `selection_exclude` and
 * `selection_min_coverage` (the candidate features and the common rows every candidate is scored on).
 */
import { canonical } from "../config/print.ts";
import type { Config } from "../config/schema.ts";
import { commonRows, globRegExp, resolveTarget } from "../engines/statistical_tests.ts";
import { parseTarget } from "../engines/target.ts";
import { sha256Hex } from "../io/checksum.ts";
import type { Frame } from "../io/frame.ts";
import type { Task } from "../io/discover.ts";
import { enabledEngines, runEngines } from "../pipeline/engines.ts";
import { openStorage } from "../pipeline/storage.ts";
import { loadTask } from "../io/validate.ts";
import { type Compute, openCompute } from "../runtime/backend.ts";
import { crossValidate, type CvOptions, type FoldScore, purgedFolds } from "./cv.ts";
import { FeatureCache } from "./feature_cache.ts";

/** One instrument of a study: its task and the fingerprint of its input files. */
export interface StudyInput {
  /** The task (instrument and files) as discovered in `data.source`. */
  task: Task;
  /** SHA-256 of its files' fingerprints (pipeline/inputs.ts): a changed file gives new cache keys. */
  fingerprint: string;
}

/** What a trial worker is asked to evaluate. */
export interface TrialJob {
  /** The trial's validated pipeline config. */
  config: Config;
  /** The instruments. */
  inputs: StudyInput[];
  /** Cross-validation settings. */
  cv: CvOptions & { max_rows: number };
  /** The feature cache. */
  cache: { dir: string; ttl: number; max_bytes: number };
}

/** One instrument's result. */
export interface InstrumentScore {
  /** The instrument. */
  instrument: string;
  /** Mean of its finite fold scores (NaN if none). */
  score: number;
  /** Features scored (candidates on the common rows). */
  candidates: number;
  /** Rows scored. */
  rows: number;
  /** Each fold. */
  folds: FoldScore[];
}

/** A trial's outcome. */
export interface TrialOutcome {
  /** Mean of the instruments' scores (IC or AUC). */
  score: number;
  /** Per instrument. */
  instruments: InstrumentScore[];
  /** Instruments whose features came from the cache. */
  cache_hits: number;
  /** Instruments whose features were computed (and cached). */
  cache_misses: number;
  /** The largest instrument's feature bytes (the study sizes its concurrency from it). */
  bytes: number;
}

/** The config subset that shapes an instrument's features: everything but the selection's keys. */
function featureKey(config: Config, adapter: string): unknown {
  const features = Object.fromEntries(
    Object.entries(config.features).filter(([k]) => !k.startsWith("selection_") && k !== "dcor_top_k"),
  );
  const engines = enabledEngines(config).filter((e) => e.name !== "statistical_tests").map((e) => e.name);
  return { data: config.data, features, engines, adapter };
}

let computeFor: { backend: string; compute: Promise<Compute> } | null = null;

/** The pipeline's features of one instrument under `config` (cached by content hash). */
async function features(
  job: TrialJob,
  input: StudyInput,
  compute: Compute,
  cache: FeatureCache,
): Promise<{ frame: Frame; hit: boolean }> {
  const { config } = job;
  const adapter = compute.gpu ? compute.gpu.adapterName : "cpu";
  const key = await sha256Hex(
    new TextEncoder().encode(
      canonical({ input: input.fingerprint, ...featureKey(config, adapter) as object }),
    ),
  );
  const cached = await cache.get(key);
  if (cached) return { frame: cached, hit: true };
  const source = openStorage(config.data.source, config.storage.s3);
  const frame = await loadTask(source, input.task, {
    denyColumns: config.data.deny_columns,
    timestampColumn: config.data.timestamp_column,
    badValues: config.data.bad_values,
    columns: config.data.columns,
  });
  const engines = enabledEngines(config).filter((e) => e.name !== "statistical_tests");
  frame.columns = await runEngines(frame, engines, config, compute);
  await cache.put(key, frame);
  return { frame, hit: false };
}

/** The last series row each row's label uses (the target's horizon; an as-of index for time horizons). */
export function labelEnds(frame: Frame, config: Config, bars: number): Int32Array {
  const n = frame.rows, spec = parseTarget(config.features.selection_target_column);
  const end = Int32Array.from({ length: n }, (_, t) => Math.min(n - 1, t + bars));
  if (spec.kind === "time" && frame.timestamps) {
    const ts = frame.timestamps;
    for (let t = 0, j = 0; t < n; t++) {
      if (j < t) j = t;
      while (j + 1 < n && ts[j + 1] <= ts[t] + spec.ms) j++;
      end[t] = j;
    }
  }
  return end;
}

/** Scores one instrument's features (see the module doc). */
export function scoreInstrument(frame: Frame, config: Config, cv: TrialJob["cv"]): InstrumentScore {
  const f = config.features;
  const { target, horizon } = resolveTarget(frame, f.selection_target_column);
  const candidates: number[] = [];
  for (let t = frame.rows - 1; t >= 0 && candidates.length < cv.max_rows; t--) {
    if (Number.isFinite(target[t])) candidates.push(t);
  }
  candidates.reverse();
  const patterns = f.selection_exclude.map(globRegExp);
  const names = [...frame.columns.keys()].filter((n) =>
    !n.startsWith("y_") && !patterns.some((re) => re.test(n))
  );
  const cols = names.map((n) => frame.columns.get(n)!);
  const common = commonRows(names, cols, candidates, f.selection_min_coverage, 10 * cv.folds);
  const folds = purgedFolds(common.rows, labelEnds(frame, config, horizon.bars), cv);
  const scores = crossValidate(
    common.scored.map((i) => names[i]),
    common.scored.map((i) => cols[i]),
    target,
    folds,
    f.dcor_top_k,
    cv,
  );
  const finite = scores.filter((s) => Number.isFinite(s.score));
  return {
    instrument: frame.source,
    score: finite.length ? finite.reduce((a, s) => a + s.score, 0) / finite.length : NaN,
    candidates: common.scored.length,
    rows: common.rows.length,
    folds: scores,
  };
}

/** Evaluates one trial (in a trial worker, study/trial_worker.ts); throws when no instrument can be scored. */
export async function evaluateTrial(job: TrialJob): Promise<TrialOutcome> {
  const { backend, memory_budget } = job.config.compute;
  if (computeFor?.backend !== backend) {
    computeFor = { backend, compute: openCompute({ backend, memoryBudget: memory_budget }) };
  }
  const compute = await computeFor.compute;
  const cache = new FeatureCache(job.cache.dir, job.cache.ttl * 1000, job.cache.max_bytes);
  const out: TrialOutcome = { score: NaN, instruments: [], cache_hits: 0, cache_misses: 0, bytes: 0 };
  for (const input of job.inputs) {
    const { frame, hit } = await features(job, input, compute, cache);
    hit ? out.cache_hits++ : out.cache_misses++;
    out.bytes = Math.max(out.bytes, (frame.columns.size + 1) * frame.rows * 8);
    out.instruments.push({
      ...scoreInstrument(frame, job.config, job.cv),
      instrument: input.task.instrument,
    });
  }
  const finite = out.instruments.filter((i) => Number.isFinite(i.score));
  if (!finite.length) {
    throw new Error(
      `no instrument could be scored: ${
        out.instruments.map((i) => `${i.instrument} (${i.rows} rows with every feature and the target)`).join(
          ", ",
        )
      }`,
    );
  }
  out.score = finite.reduce((a, i) => a + i.score, 0) / finite.length;
  return out;
}
