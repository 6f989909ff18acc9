/**
 * Issue 17 on a real scheduler: a one-node Slurm cluster (tests/slurm_cluster.ts; skipped with a message
 * where it cannot run) runs deploy/slurm/feature-genesis.sbatch as an array of 4 shards, 2 at a time, over
 * the loopback S3 server. One array task is killed with SIGKILL after its first commit, while it processes
 * its next instrument, and requeued with `scontrol requeue`. Then every instrument is committed exactly once
 * (one `done` task in the run's registry), each part's SHA-256 matches its manifest, no other object is left
 * (no torn or temporary object), `runs slurm-<job>` shows the killed attempt abandoned and the retry done,
 * and a re-submitted array only skips.
 */
import { strict as assert } from "node:assert";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { generate } from "../generator/generate.ts";
import { LocalStorage } from "../io/storage.ts";
import { S3Storage } from "../io/s3.ts";
import { sha256Hex } from "../io/checksum.ts";
import type { Manifest } from "../pipeline/output.ts";
import type { RunOverview } from "../pipeline/run_overview.ts";
import { cli } from "./cli_harness.ts";
import { startS3Server } from "./s3_server.ts";
import { type SlurmCluster, startSlurm } from "./slurm_cluster.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const INSTRUMENTS = 12; // 3 per shard: the killed shard still has work after its first commit
const SHARDS = 4;
const LONG_ROWS = 300_000;

/** Submits the shipped batch script as an array of SHARDS tasks, 2 at a time; returns the array job id. */
async function submit(slurm: SlurmCluster, dir: string, config: string, env: Record<string, string>) {
  const exports = Object.entries({
    ...env,
    FG_CONFIG: config,
    FG_SHARD_COUNT: String(SHARDS),
    DENO: Deno.execPath(),
  })
    .map(([k, v]) => `${k}=${v}`);
  const out = await slurm.run("sbatch", [
    "--parsable",
    `--array=0-${SHARDS - 1}%2`,
    "--cpus-per-task=1", // the script asks for a production node's 4 CPUs and 8 GB
    "--mem=200",
    `--chdir=${REPO}`,
    `--output=${dir}/fg-%A_%a.log`,
    `--export=ALL,${exports.join(",")}`,
    join(REPO, "deploy", "slurm", "feature-genesis.sbatch"),
  ]);
  return out.trim().split(";")[0];
}

/** Each array task's state and restart count, by index (`scontrol show job -o`). */
async function tasks(
  slurm: SlurmCluster,
  job: string,
): Promise<Map<number, { id: string; state: string; restarts: number }>> {
  const out = await slurm.run("scontrol", ["show", "job", "-o", job]);
  const m = new Map<number, { id: string; state: string; restarts: number }>();
  for (const line of out.trim().split("\n")) {
    const f = Object.fromEntries(line.split(/\s+/).map((kv) => kv.split("=", 2)));
    if (/^\d+$/.test(f.ArrayTaskId ?? "")) {
      m.set(Number(f.ArrayTaskId), { id: f.JobId, state: f.JobState, restarts: Number(f.Restarts) });
    }
  }
  return m;
}

/** The array tasks' logs and the tail of the daemons' (which say why an attempt failed), for failure messages. */
function logs(dir: string, slurmDir?: string): string {
  const tasks = [...Deno.readDirSync(dir)].filter((e) => e.name.startsWith("fg-")).map((e) => e.name).sort()
    .map((name) => `--- ${name}\n${Deno.readTextFileSync(join(dir, name))}`);
  const daemons = slurmDir
    ? ["slurmctld.log", "slurmd.log"].map((name) => {
      const text = (() => {
        try {
          return Deno.readTextFileSync(join(slurmDir, name));
        } catch {
          return "(none)";
        }
      })();
      return `--- ${name} (last 30 lines)\n${text.trim().split("\n").slice(-30).join("\n")}`;
    })
    : [];
  return [...tasks, ...daemons].join("\n");
}

/** Polls `cond` until it gives a value; on time-out throws naming `what`, with the array tasks' logs. */
async function until<T>(
  what: string,
  dir: string,
  cond: () => Promise<T | undefined | false>,
  ms: number,
): Promise<T> {
  const end = Date.now() + ms;
  while (true) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}\n${logs(dir)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until every array task has finished; returns their states. */
function finished(slurm: SlurmCluster, job: string, dir: string) {
  return until("the array finished", dir, async () => {
    const t = await tasks(slurm, job);
    if (t.size < SHARDS || [...t.values()].some((x) => !/COMPLETED|FAILED|CANCELLED|TIMEOUT/.test(x.state))) {
      return undefined;
    }
    if ([...t.values()].some((x) => x.state !== "COMPLETED")) {
      throw new Error(`array ${job}: ${JSON.stringify([...t])}\n${logs(dir, slurm.dir)}`);
    }
    return t;
  }, 240_000);
}

Deno.test("Slurm job array: 4 shards 2 at a time over S3, one SIGKILLed and requeued, each instrument committed once; a re-submit only skips", async () => {
  const slurm = await startSlurm();
  if (!("run" in slurm)) {
    console.warn(`skipped: ${slurm.skip}`);
    return;
  }
  const s3 = await startS3Server();
  const dir = await Deno.makeTempDir({ prefix: "fg-slurm-test-" });
  try {
    const env = {
      FG_SL_S3_ENDPOINT: s3.endpoint,
      FG_SL_S3_KEY: s3.accessKeyId,
      FG_SL_S3_SECRET: s3.secretAccessKey,
    };
    await generate({
      kind: "bars",
      storage: new LocalStorage(join(dir, "bars")),
      instruments: INSTRUMENTS,
      rows: 20_000,
      seed: 11,
      workers: 0,
    });
    // Shard 1's later instruments are long, so the kill after its first commit lands while it processes them
    // (one task at a time, in order: task workers would start the longest first).
    const long = join(dir, "long");
    await generate({
      kind: "bars",
      storage: new LocalStorage(long),
      instruments: 10,
      rows: LONG_ROWS,
      seed: 12,
      workers: 0,
    });
    for (const name of ["SYN0005", "SYN0009"]) {
      await Deno.remove(join(dir, "bars", name), { recursive: true });
      await Deno.rename(join(long, name), join(dir, "bars", name));
    }
    const registry = join(dir, "registry.sqlite");
    const config = join(dir, "config.yaml");
    await Deno.writeTextFile(
      config,
      `data: { source: ${join(dir, "bars")} }
storage:
  output: s3://${s3.bucket}/out
  registry: ${registry}
  s3: { endpoint: "\${FG_SL_S3_ENDPOINT}", region: us-east-1, access_key_id: "\${FG_SL_S3_KEY}", secret_access_key: "\${FG_SL_S3_SECRET}" }
compute: { backend: cpu, task_workers: 1 }
generator: { if_empty: false }
features: { rolling_windows: [10, 50] }
pipeline:
  engines:
    feature_engineering: { enabled: false }
    garch_models: { enabled: false }
    statistical_tests: { enabled: false }
`,
    );
    const out = new S3Storage({ ...s3, prefix: "out" });
    const has = (key: string) => out.head(key).then((size) => size !== null);
    const job = await submit(slurm, dir, config, env);
    // Shard 1 (SYN0001, SYN0005, SYN0009): killed once its first instrument is committed.
    await until("shard 1 committed its first instrument", dir, () => has("SYN0001/_manifest.json"), 120_000);
    const pids = (await slurm.run("scontrol", ["listpids", (await tasks(slurm, job)).get(1)!.id])).trim()
      .split("\n").slice(1)
      .map((l) => Number(l.trim().split(/\s+/)[0])).filter((p) => p > 0);
    assert.ok(pids.length, "array task 1 has processes");
    for (const pid of pids) Deno.kill(pid, "SIGKILL");
    // Requeue it once Slurm has seen it end, and let it start soon (a requeued job waits 2 minutes otherwise).
    await until("array task 1 ended", dir, async () => {
      const t = (await tasks(slurm, job)).get(1)!;
      return /^(FAILED|CANCELLED|NODE_FAIL|OUT_OF_MEMORY)$/.test(t.state);
    }, 60_000);
    await until("array task 1 requeued", dir, async () => {
      const r = await new Deno.Command("scontrol", {
        args: ["requeue", `${job}_1`],
        env: slurm.env,
        stdout: "null",
        stderr: "null",
      }).output();
      return r.success;
    }, 30_000);
    await until("array task 1 pending again", dir, async () => {
      const t = (await tasks(slurm, job)).get(1)!;
      return t.restarts === 1 && /PENDING|RUNNING/.test(t.state);
    }, 30_000);
    // Not at once: slurmd refuses a batch credential created in the same second its job was killed ("Job
    // credential revoked", seen here as a FAILED retry with an empty log), which is why Slurm itself waits.
    await slurm.run("scontrol", ["update", `JobId=${job}_1`, "StartTime=now+3"]);
    const states = await finished(slurm, job, dir);
    assert.equal(states.get(1)!.restarts, 1, "task 1 ran twice");

    // Every instrument committed exactly once, whole: one done task each in the run, parts matching manifests.
    const db = new DatabaseSync(registry);
    const done = db.prepare(
      "select t.instrument, count(*) as n from tasks t join runs r on r.id = t.run_id where r.run = ? and t.status = 'done' group by t.instrument",
    ).all(`slurm-${job}`) as { instrument: string; n: number }[];
    db.close();
    const names = Array.from({ length: INSTRUMENTS }, (_, i) => `SYN${String(i).padStart(4, "0")}`);
    assert.deepEqual(done.map((d) => [d.instrument, d.n]).sort(), names.map((n) => [n, 1]));
    const keys = (await out.list()).map((o) => o.key);
    const expected = new Set<string>();
    const runIds = new Map<string, string>();
    for (const name of names) {
      const m = JSON.parse(new TextDecoder().decode(await out.get(`${name}/_manifest.json`))) as Manifest;
      runIds.set(name, m.run_id);
      expected.add(`${name}/_manifest.json`);
      for (const f of m.files) {
        expected.add(f.key);
        const bytes = await out.get(f.key);
        assert.equal(bytes.length, f.bytes, f.key);
        assert.equal(await sha256Hex(bytes), f.sha256, f.key);
      }
    }
    const stray = keys.filter((k) => !expected.has(k) && !k.startsWith("_runs/") && k !== "_lease.json");
    assert.deepEqual(stray, [], "no torn, temporary or duplicate object");
    // The run as the registry shows it: the killed attempt abandoned, its retry done.
    const o = JSON.parse(
      (await cli(["runs", `slurm-${job}`, "--registry", registry, "--json"])).out,
    ) as RunOverview;
    assert.deepEqual(o.states, { done: SHARDS });
    assert.deepEqual(o.shards[1].attempts.map((a) => a.status), ["abandoned", "done"]);
    assert.deepEqual(o.task_counts, { done: INSTRUMENTS, skipped: 0, failed: 0 });
    assert.equal(o.rows, (INSTRUMENTS - 2) * 20_000 + 2 * LONG_ROWS);

    // A re-submitted array only skips, and leaves every commit as it was.
    const again = await submit(slurm, dir, config, env);
    await finished(slurm, again, dir);
    const o2 = JSON.parse(
      (await cli(["runs", `slurm-${again}`, "--registry", registry, "--json"])).out,
    ) as RunOverview;
    assert.deepEqual(o2.task_counts, { done: 0, skipped: INSTRUMENTS, failed: 0 });
    for (const name of names) {
      const m = JSON.parse(new TextDecoder().decode(await out.get(`${name}/_manifest.json`))) as Manifest;
      assert.equal(m.run_id, runIds.get(name));
    }
  } finally {
    await slurm.stop();
    await s3.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
