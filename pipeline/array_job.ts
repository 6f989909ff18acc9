/**
 * Which shard of the task list this process runs, and the run id its shards share, read from the command line
 * or from a scheduler's array job: Slurm job arrays, Kubernetes Indexed Jobs, AWS Batch array jobs.
 *
 * Shards are 0-based (`--shard i/N`, 0 <= i < N), as every scheduler numbers its array tasks, so
 * `--shard $SLURM_ARRAY_TASK_ID/4` is the same shard as `--shard auto/4`. The shard count N is always given
 * explicitly (`--shard auto/N` or `FG_SHARD_COUNT`): a scheduler's own array size is not reliable — re-submitting
 * one index of a Slurm array (`sbatch --array=3`) sets SLURM_ARRAY_TASK_COUNT to 1 — and a wrong N would
 * silently process another split of the tasks. The registry records N with each shard (the lease's job,
 * `<config hash>/<N>`), and a shard of a run id recorded with another N is refused (pipeline/lease.ts).
 */
import type { EnvLookup } from "../config/env.ts";
import { UsageError } from "../runtime/errors.ts";

/** A shard of the task list: 0-based `index` of `count`. */
export interface Shard {
  /** 0-based shard index, 0 <= index < count. */
  index: number;
  /** Number of shards. */
  count: number;
}

/** The array index variables of the supported schedulers, in the order they are looked for. */
export const ARRAY_INDEX_VARS = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"];

/** The variable giving the shard count N to `--shard auto` (or to the default shard of an array job). */
export const SHARD_COUNT_VAR = "FG_SHARD_COUNT";

/** The variable giving the run id shared by all shards (as `--run-id`); the Kubernetes manifest sets it. */
export const RUN_ID_VAR = "FG_RUN_ID";

const INT = /^\d{1,9}$/;

/**
 * The shard to run: `--shard i/N` (0-based), `--shard auto` / `auto/N` (the index from the scheduler), or, when
 * no `--shard` is given, the scheduler's index when one of {@link ARRAY_INDEX_VARS} is set; undefined (all
 * tasks) otherwise. Bad or missing values are a UsageError naming the flag and variables.
 */
export function resolveShard(flag: string | undefined, env: EnvLookup): Shard | undefined {
  if (flag !== undefined && !flag.startsWith("auto")) return parseShard(flag);
  const found = ARRAY_INDEX_VARS.filter((v) => env(v) !== undefined);
  if (flag === undefined && !found.length) return undefined;
  const m = flag === undefined ? [] : /^auto(?:\/(.*))?$/.exec(flag);
  if (!m) throw new UsageError(`--shard expects i/N (0-based), auto or auto/N, got "${flag}"`);
  const how = flag === undefined ? `${found[0]} is set (an array job)` : `--shard ${flag}`;
  if (!found.length) {
    throw new UsageError(
      `--shard ${flag}: none of ${ARRAY_INDEX_VARS.join(", ")} is set; run it as a Slurm array, a ` +
        "Kubernetes Indexed Job or an AWS Batch array job, or give the shard as --shard i/N",
    );
  }
  const set = found.map((v) => `${v}=${JSON.stringify(env(v))}`).join(", ");
  if (found.length > 1 && new Set(found.map(env)).size > 1) {
    throw new UsageError(
      `${how}: more than one scheduler's array index is set, with different values (${set})`,
    );
  }
  const indexText = env(found[0])!;
  const countText = m[1] ?? env(SHARD_COUNT_VAR);
  const countFrom = m[1] !== undefined
    ? `--shard ${flag}`
    : `${SHARD_COUNT_VAR}=${JSON.stringify(countText)}`;
  if (countText === undefined) {
    throw new UsageError(
      `${how}: the shard count is missing; pass --shard auto/N or set ${SHARD_COUNT_VAR}=N (N = the array's ` +
        `size, e.g. sbatch --array=0-(N-1), the Job's completions or the Batch array size; the scheduler's ` +
        `own count is not used: re-submitting one index changes it)`,
    );
  }
  if (!INT.test(countText) || Number(countText) < 1) {
    throw new UsageError(`${how}: the shard count (${countFrom}) is not an integer >= 1`);
  }
  const count = Number(countText);
  if (!INT.test(indexText) || Number(indexText) >= count) {
    throw new UsageError(
      `${how}: ${found[0]}=${JSON.stringify(indexText)} is not a shard index in [0, ${count}) ` +
        `(${countFrom}; shards are 0-based, as the scheduler numbers array tasks)`,
    );
  }
  return { index: Number(indexText), count };
}

/**
 * Parses `--shard i/N`: 0-based i (0 <= i < N), as schedulers number array tasks. Earlier releases counted
 * from 1; `N/N` (their last shard) is refused with a message saying so, rather than read as another shard.
 */
export function parseShard(text: string): Shard {
  const m = /^(\d{1,9})\/(\d{1,9})$/.exec(text);
  const i = m ? Number(m[1]) : NaN, n = m ? Number(m[2]) : NaN;
  if (m && n >= 1 && i < n) return { index: i, count: n };
  const old = m && n >= 1 && i === n ? ` (shards are 0-based: the last of ${n} is ${n - 1}/${n})` : "";
  throw new UsageError(`--shard expects i/N with 0 <= i < N, got "${text}"${old}`);
}

/** What a run id may be: it names a folder (`_runs/<id>`) and a lock file, and appears in every log line. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;

/**
 * The run id all shards of an array share: `--run-id`, else {@link RUN_ID_VAR}, else the scheduler's job id
 * (`slurm-<SLURM_ARRAY_JOB_ID>`, `batch-<parent job id>` from AWS_BATCH_JOB_ID `<parent>:<index>`);
 * undefined when none is set (the run gets a fresh id of its own). A malformed id is a UsageError naming it.
 */
export function resolveRunId(flag: string | undefined, env: EnvLookup): string | undefined {
  const pick = (): [string, string] | undefined => {
    if (flag !== undefined) return ["--run-id", flag];
    const own = env(RUN_ID_VAR);
    if (own !== undefined) return [RUN_ID_VAR, own];
    const slurm = env("SLURM_ARRAY_JOB_ID");
    if (slurm !== undefined) return ["SLURM_ARRAY_JOB_ID", `slurm-${slurm}`];
    const batch = env("AWS_BATCH_JOB_ID");
    if (batch !== undefined && env("AWS_BATCH_JOB_ARRAY_INDEX") !== undefined) {
      return ["AWS_BATCH_JOB_ID", `batch-${batch.split(":")[0]}`];
    }
    return undefined;
  };
  const got = pick();
  if (!got) return undefined;
  const [from, id] = got;
  if (!RUN_ID.test(id)) {
    throw new UsageError(
      `${from}: run id ${JSON.stringify(id)} must be 1 to 80 ASCII letters, digits, '.', '_' or '-', ` +
        "starting with a letter or digit",
    );
  }
  return id;
}
