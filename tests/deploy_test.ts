/**
 * Issue 17: what a user deploys (deploy/) holds together. The Kubernetes Indexed Job and its ConfigMap
 * validate against the Kubernetes OpenAPI schemas (npm kubernetes-models); the AWS Batch job definition
 * against the RegisterJobDefinition request shapes of botocore's service model
 * (tests/fixtures/aws_batch_register_job_definition.json, scripts/make_batch_shape.py); each passes the shard
 * count explicitly and takes credentials from a secret store; their configurations validate; the Dockerfile
 * caches the CLI's entry points and runs it unprivileged with the `run` task's permissions; the Slurm script
 * parses and runs `--shard auto`.
 */
import { strict as assert } from "node:assert";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Job } from "kubernetes-models/batch/v1/Job";
import { validateConfig } from "../config/schema.ts";
import { resolveRunId, resolveShard } from "../pipeline/array_job.ts";

const root = (p: string) => fileURLToPath(new URL(`../${p}`, import.meta.url));
const read = (p: string) => Deno.readTextFileSync(root(p));
const env = (vars: Record<string, string>) => (name: string) => vars[name];
/** What the deploy/ examples' environment fills in. */
const CLUSTER_ENV = {
  FG_SOURCE: "s3://my-bucket/bars",
  FG_OUTPUT: "s3://my-bucket/features",
  FG_REGISTRY: "postgres://fg@db:5432/fg",
};

type Env = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };

Deno.test("deploy/kubernetes: the Indexed Job and ConfigMap validate against the Kubernetes schemas", () => {
  const docs = parseAllDocuments(read("deploy/kubernetes/indexed-job.yaml")).map((d) => d.toJS());
  assert.deepEqual(docs.map((d) => d.kind), ["ConfigMap", "Job"]);
  const [cm, job] = docs;
  new ConfigMap(cm).validate();
  new Job(job).validate();
  // A mistyped field is caught: the validation is real.
  assert.throws(
    () => new Job({ ...job, spec: { ...job.spec, backoffLimitPerIndex: "2" } }).validate(),
    /must be integer/,
  );

  const spec = job.spec;
  assert.equal(spec.completionMode, "Indexed");
  assert.ok(spec.parallelism >= 1 && spec.parallelism <= spec.completions);
  assert.ok(spec.backoffLimitPerIndex >= 1);
  assert.equal(spec.template.spec.restartPolicy, "Never", "backoffLimitPerIndex needs restartPolicy Never");
  assert.equal(spec.template.spec.securityContext.runAsNonRoot, true);
  const [c] = spec.template.spec.containers;
  assert.ok(c.resources.requests.cpu && c.resources.requests.memory, "resource requests");
  const vars = new Map((c.env as Env[]).map((e) => [e.name, e]));
  assert.equal(vars.get("FG_SHARD_COUNT")!.value, String(spec.completions), "N = completions");
  for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PGPASSWORD"]) {
    assert.ok(vars.get(name)!.valueFrom?.secretKeyRef, `${name} comes from a Secret`);
  }
  assert.deepEqual(c.args, ["run", "--config", "/config/config.yaml", "--shard", "auto"]);
  assert.deepEqual(
    resolveShard(
      "auto",
      env({
        JOB_COMPLETION_INDEX: String(spec.completions - 1),
        FG_SHARD_COUNT: vars.get("FG_SHARD_COUNT")!.value!,
      }),
    ),
    {
      index: spec.completions - 1,
      count: spec.completions,
    },
  );
  // FG_RUN_ID = k8s-$(JOB_UID), the Job's uid: a valid run id.
  assert.equal(vars.get("FG_RUN_ID")!.value, "k8s-$(JOB_UID)");
  const uid = "3f1c2a9e-4b7d-4c1e-9a55-0123456789ab";
  assert.equal(resolveRunId(undefined, env({ FG_RUN_ID: `k8s-${uid}` })), `k8s-${uid}`);
  const config = validateConfig(parseAllDocuments(cm.data["config.yaml"])[0].toJS(), {
    env: env(CLUSTER_ENV),
  });
  assert.equal(config.storage.registry, CLUSTER_ENV.FG_REGISTRY);
  assert.equal(config.generator.if_empty, false);
});

/** A botocore shape (structure, list, map, string, integer, long, boolean, enum, min/max). */
interface Shape {
  type: string;
  required?: string[];
  members?: Record<string, { shape: string }>;
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  enum?: string[];
  min?: number;
  max?: number;
}

/** The problems of `v` against botocore shape `name`: wrong types, missing required or unknown members. */
function shapeErrors(shapes: Record<string, Shape>, name: string, v: unknown, path: string): string[] {
  const s = shapes[name];
  const is = (
    ok: boolean,
    what: string,
  ) => (ok ? [] : [`${path}: expected ${what}, got ${JSON.stringify(v)}`]);
  switch (s.type) {
    case "structure": {
      if (typeof v !== "object" || v === null || Array.isArray(v)) return is(false, `a ${name} object`);
      const o = v as Record<string, unknown>;
      return [
        ...(s.required ?? []).filter((k) => !(k in o)).map((k) => `${path}: missing ${k}`),
        ...Object.entries(o).flatMap(([k, x]) =>
          s.members![k]
            ? shapeErrors(shapes, s.members![k].shape, x, `${path}.${k}`)
            : [`${path}: unknown member ${k}`]
        ),
      ];
    }
    case "list":
      return Array.isArray(v)
        ? v.flatMap((x, i) => shapeErrors(shapes, s.member!.shape, x, `${path}[${i}]`))
        : is(false, "a list");
    case "map":
      return typeof v === "object" && v !== null
        ? Object.entries(v).flatMap(([k, x]) => [
          ...shapeErrors(shapes, s.key!.shape, k, `${path} key`),
          ...shapeErrors(shapes, s.value!.shape, x, `${path}.${k}`),
        ])
        : is(false, "a map");
    case "string":
      return typeof v !== "string"
        ? is(false, "a string")
        : is(!s.enum || s.enum.includes(v), `one of ${s.enum?.join(", ")}`);
    case "integer":
    case "long":
      return is(
        Number.isInteger(v) && (s.min === undefined || (v as number) >= s.min) &&
          (s.max === undefined || (v as number) <= s.max),
        `an integer${s.min !== undefined ? ` >= ${s.min}` : ""}`,
      );
    case "boolean":
      return is(typeof v === "boolean", "a boolean");
    default:
      return [`${path}: shape type ${s.type} not checked`];
  }
}

Deno.test("deploy/aws-batch: the array job definition matches AWS Batch's RegisterJobDefinition request shape", () => {
  const model = JSON.parse(read("tests/fixtures/aws_batch_register_job_definition.json"));
  const def = JSON.parse(read("deploy/aws-batch/job-definition.json"));
  const check = (d: unknown) => shapeErrors(model.shapes, model.root, d, "job-definition");
  assert.deepEqual(check(def), []);
  // The check is real: a typo, a wrong type and a bad enum are each caught.
  assert.deepEqual(check({ ...def, retryStrategy: { attempts: "3" }, type: "pod", containerProperty: {} }), [
    'job-definition.type: expected one of container, multinode, got "pod"',
    'job-definition.retryStrategy.attempts: expected an integer, got "3"',
    "job-definition: unknown member containerProperty",
  ]);
  assert.match(def.jobDefinitionName, /^[A-Za-z0-9_-]{1,128}$/);
  const c = def.containerProperties;
  const vars = Object.fromEntries(
    (c.environment as { name: string; value: string }[]).map((e) => [e.name, e.value]),
  );
  assert.ok(Number(vars.FG_SHARD_COUNT) >= 1, "N explicit (= the array size given to submit-job)");
  assert.deepEqual((c.secrets as { name: string }[]).map((s) => s.name).sort(), [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "PGPASSWORD",
  ]);
  for (const secret of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PGPASSWORD"]) {
    assert.ok(!(secret in vars));
  }
  assert.ok(
    def.retryStrategy.evaluateOnExit.some((e: { onExitCode?: string; action: string }) =>
      e.onExitCode === "2" && e.action === "EXIT"
    ),
    "a config error (exit 2) is not retried",
  );
  assert.deepEqual(c.command, ["run", "--config", "/app/deploy/config.yaml", "--shard", "auto"]);
  // Each array child: AWS_BATCH_JOB_ARRAY_INDEX, AWS_BATCH_JOB_ID <parent>:<index>.
  const child = {
    AWS_BATCH_JOB_ARRAY_INDEX: "15",
    AWS_BATCH_JOB_ID: "0f9e8d7c-1111-2222-3333-444455556666:15",
    FG_SHARD_COUNT: vars.FG_SHARD_COUNT,
  };
  assert.deepEqual(resolveShard("auto", env(child)), { index: 15, count: 16 });
  assert.equal(resolveRunId(undefined, env(child)), "batch-0f9e8d7c-1111-2222-3333-444455556666");
  const config = validateConfig(parseAllDocuments(read("deploy/config.yaml"))[0].toJS(), {
    env: env({ ...CLUSTER_ENV, ...vars }),
  });
  assert.equal(config.storage.output, vars.FG_OUTPUT);
});

Deno.test("deploy/Dockerfile and the Slurm script: cached entry points, unprivileged, the run task's permissions", async () => {
  const docker = read("deploy/Dockerfile").replace(/\\\n\s*/g, " ");
  assert.match(docker, /apt-get install .*mesa-vulkan-drivers/);
  assert.match(docker, /^USER 10001$/m);
  const cached = /deno cache --frozen ([^&\n]+)/.exec(docker)![1].trim().split(/\s+/);
  for (const file of cached) assert.ok(Deno.statSync(root(file)).isFile, file);
  // Every worker module the CLI may start is in the image's cache (the entry point runs --cached-only).
  for (const dir of ["generator", "kernels", "pipeline", "study"]) {
    for (const e of Deno.readDirSync(root(dir))) {
      if (e.name.endsWith("worker.ts")) {
        assert.ok(cached.includes(`${dir}/${e.name}`), `${dir}/${e.name} not cached`);
      }
    }
  }
  const entry = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(docker)![1]) as string[];
  const task = JSON.parse(read("deno.json")).tasks.run.split(" ") as string[];
  const perms = (argv: string[]) => argv.filter((a) => a.startsWith("--allow-")).sort();
  assert.deepEqual(perms(entry), perms(task), "the image grants what `deno task run` grants");
  assert.match(docker, /^CMD \["run", "--config", "\/app\/deploy\/config.yaml", "--shard", "auto"\]$/m);

  const sbatch = read("deploy/slurm/feature-genesis.sbatch");
  const syntax = await new Deno.Command("bash", { args: ["-n", root("deploy/slurm/feature-genesis.sbatch")] })
    .output();
  assert.ok(syntax.success, new TextDecoder().decode(syntax.stderr));
  assert.match(sbatch, /^#SBATCH --array=0-\d+%\d+$/m);
  assert.match(sbatch, /^##SBATCH --gres=gpu:1$/m, "the GPU request is there, commented");
  assert.match(sbatch, /--shard auto$/m);
  assert.deepEqual(perms(sbatch.replace(/\\\n/g, " ").split(/\s+/)), perms(task));
});
