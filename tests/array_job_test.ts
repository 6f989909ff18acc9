/**
 * Issue 17: the shard and the shared run id from the command line or a scheduler's array job
 * (pipeline/array_job.ts): 0-based `--shard i/N`, `--shard auto[/N]` and the default shard of an array job
 * under Slurm, Kubernetes Indexed Jobs and AWS Batch, and every error naming its flag and variables.
 */
import { strict as assert } from "node:assert";
import { parseShard, resolveRunId, resolveShard } from "../pipeline/array_job.ts";
import { UsageError } from "../runtime/errors.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];
const fails = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (e) => e instanceof UsageError && message.test(e.message) || assert.fail(String(e)));

Deno.test("--shard i/N is 0-based; the old 1-based last shard N/N is refused with a message saying so", () => {
  assert.deepEqual(parseShard("0/4"), { index: 0, count: 4 });
  assert.deepEqual(parseShard("3/4"), { index: 3, count: 4 });
  fails(
    () => parseShard("4/4"),
    /^--shard expects i\/N with 0 <= i < N, got "4\/4" \(shards are 0-based: the last of 4 is 3\/4\)$/,
  );
  for (const bad of ["5/4", "0/0", "-1/4", "a/4", "1", "1/2/3", "1.5/4"]) {
    fails(
      () => parseShard(bad),
      new RegExp(`^--shard expects i/N with 0 <= i < N, got "${bad.replace(".", "\\.")}"$`),
    );
  }
  // Explicit flags win over the environment.
  assert.deepEqual(resolveShard("1/2", env({ SLURM_ARRAY_TASK_ID: "7", FG_SHARD_COUNT: "8" })), {
    index: 1,
    count: 2,
  });
  assert.equal(resolveShard(undefined, env({})), undefined, "no flag, no array job: every task");
});

Deno.test("--shard auto and the default under Slurm, Kubernetes and AWS Batch take N explicitly", () => {
  const cases: [Record<string, string>, string | undefined, { index: number; count: number }][] = [
    [{ SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_COUNT: "1" }, "auto/4", { index: 3, count: 4 }],
    [{ SLURM_ARRAY_TASK_ID: "0", FG_SHARD_COUNT: "4" }, undefined, { index: 0, count: 4 }],
    [{ JOB_COMPLETION_INDEX: "2", FG_SHARD_COUNT: "3" }, "auto", { index: 2, count: 3 }],
    [{ AWS_BATCH_JOB_ARRAY_INDEX: "9" }, "auto/10", { index: 9, count: 10 }],
    // auto/N wins over FG_SHARD_COUNT; two schedulers agreeing on the index are fine.
    [{ JOB_COMPLETION_INDEX: "1", SLURM_ARRAY_TASK_ID: "1", FG_SHARD_COUNT: "9" }, "auto/2", {
      index: 1,
      count: 2,
    }],
  ];
  for (const [vars, flag, want] of cases) {
    assert.deepEqual(resolveShard(flag, env(vars)), want, JSON.stringify(vars));
  }
});

Deno.test("--shard auto errors name the flag and the variables (exit 2 via UsageError)", () => {
  fails(
    () => resolveShard("auto/4", env({})),
    /^--shard auto\/4: none of SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX is set; /,
  );
  // Slurm's own count is not trusted: re-submitting one index sets it to 1.
  fails(
    () => resolveShard(undefined, env({ SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_COUNT: "4" })),
    /^SLURM_ARRAY_TASK_ID is set \(an array job\): the shard count is missing; pass --shard auto\/N or set FG_SHARD_COUNT=N .*re-submitting one index changes it/,
  );
  fails(
    () => resolveShard("auto", env({ JOB_COMPLETION_INDEX: "4", FG_SHARD_COUNT: "4" })),
    /^--shard auto: JOB_COMPLETION_INDEX="4" is not a shard index in \[0, 4\) \(FG_SHARD_COUNT="4"; shards are 0-based/,
  );
  fails(
    () => resolveShard("auto/2", env({ AWS_BATCH_JOB_ARRAY_INDEX: "-1" })),
    /^--shard auto\/2: AWS_BATCH_JOB_ARRAY_INDEX="-1" is not a shard index in \[0, 2\) \(--shard auto\/2; shards/,
  );
  fails(
    () => resolveShard(undefined, env({ SLURM_ARRAY_TASK_ID: "0", FG_SHARD_COUNT: "zero" })),
    /^SLURM_ARRAY_TASK_ID is set \(an array job\): the shard count \(FG_SHARD_COUNT="zero"\) is not an integer >= 1$/,
  );
  fails(
    () => resolveShard("auto/0", env({ SLURM_ARRAY_TASK_ID: "0" })),
    /the shard count \(--shard auto\/0\) is not an integer >= 1/,
  );
  fails(
    () => resolveShard("auto/4", env({ SLURM_ARRAY_TASK_ID: "0", JOB_COMPLETION_INDEX: "1" })),
    /more than one scheduler's array index is set, with different values \(SLURM_ARRAY_TASK_ID="0", JOB_COMPLETION_INDEX="1"\)/,
  );
  fails(
    () => resolveShard("autox", env({ SLURM_ARRAY_TASK_ID: "0" })),
    /^--shard expects i\/N \(0-based\), auto or auto\/N, got "autox"$/,
  );
});

Deno.test("the run id shared by an array's shards: --run-id, FG_RUN_ID, the Slurm array job, the Batch parent", () => {
  assert.equal(resolveRunId(undefined, env({})), undefined);
  assert.equal(resolveRunId("nightly-1", env({ SLURM_ARRAY_JOB_ID: "7" })), "nightly-1");
  assert.equal(resolveRunId(undefined, env({ FG_RUN_ID: "k8s-0f9e", SLURM_ARRAY_JOB_ID: "7" })), "k8s-0f9e");
  assert.equal(
    resolveRunId(undefined, env({ SLURM_ARRAY_JOB_ID: "4242", SLURM_ARRAY_TASK_ID: "1" })),
    "slurm-4242",
  );
  const batch = {
    AWS_BATCH_JOB_ID: "6a1b2c3d-aaaa-bbbb-cccc-0123456789ab:7",
    AWS_BATCH_JOB_ARRAY_INDEX: "7",
  };
  assert.equal(resolveRunId(undefined, env(batch)), "batch-6a1b2c3d-aaaa-bbbb-cccc-0123456789ab");
  assert.equal(
    resolveRunId(undefined, env({ AWS_BATCH_JOB_ID: "x" })),
    undefined,
    "a plain Batch job has no array",
  );
  fails(() => resolveRunId("../etc", env({})), /^--run-id: run id "\.\.\/etc" must be 1 to 80 ASCII letters/);
  fails(() => resolveRunId(undefined, env({ FG_RUN_ID: "a b" })), /^FG_RUN_ID: run id "a b" must be/);
});
