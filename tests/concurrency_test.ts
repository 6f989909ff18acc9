/**
 * One writer per output (pipeline/lease.ts), with real `run` processes started together, as a scheduler or two
 * people would start them. Each test names the failure it guards against:
 * - two runs of different configurations on one output both succeeding and mixing their tasks (or one dying
 *   with a bare "database is locked"): one runs, the others exit 2 naming the holder, and every task in the
 *   output carries the winner's config hash; a second copy of the same unsharded run is refused as well;
 * - the shards of one job (`--shard i/N`) locking each other out: they run together, a run of another config
 *   beside them is refused;
 * - `--wait`: a waiting run starts when the holder ends; a short wait gives up with exit 2;
 * - a holder killed with SIGKILL blocking the output for ever: the next run takes over with a warning;
 * - runs that share no registry (another machine, `storage.registry` elsewhere): the lock object
 *   `_lease.json` refuses them, a stale or unreadable one is taken over, on a local folder and on S3;
 * - SQLite's "database is locked" when another process holds a registry transaction: the registry waits.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { generate } from "../generator/generate.ts";
import { LocalStorage } from "../io/storage.ts";
import { Registry } from "../pipeline/registry.ts";
import { acquireOutputLease, LEASE_OBJECT, type LeaseRecord } from "../pipeline/lease.ts";
import { cli, spawnCli } from "./cli_harness.ts";
import { startS3Server } from "./s3_server.ts";

const INSTRUMENTS = 4;
/** Rows per instrument: a run takes a few seconds, so runs started together overlap. */
const ROWS = 60_000;
/** The holder line of a refused run (pipeline/lease.ts LeaseHeldError). */
const HELD =
  /^error: (\S+) is being written by run (r\S+) \(host \S+, pid \d+, since \S+Z, last heartbeat \d+ s ago(, shard \S+)?\)( \(waited \d+ s\))?; one run writes an output at a time: wait for it \(run --wait \[SECONDS\]\) or set storage\.output to another location$/;

let source: Promise<string> | undefined;
/** A dataset shared by the tests of this file (generated once). */
function dataset(): Promise<string> {
  return source ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "fg-concurrency-src-" });
    await generate({
      kind: "bars",
      storage: new LocalStorage(dir),
      instruments: INSTRUMENTS,
      rows: ROWS,
      seed: 5,
      workers: 1,
    });
    return dir;
  })();
}

/** A config file: stationarization only (fast), `windows` makes configurations differ. */
async function config(
  dir: string,
  name: string,
  output: string,
  opts: { windows?: number[]; registry?: string; s3?: boolean; slow?: boolean } = {},
): Promise<string> {
  const path = join(dir, name);
  await Deno.writeTextFile(
    path,
    [
      "data:",
      `  source: ${await dataset()}`,
      "storage:",
      `  output: ${output}`,
      ...(opts.registry ? [`  registry: ${opts.registry}`] : []),
      ...(opts.s3
        ? [
          "  s3:",
          "    endpoint: ${FG_CC_S3_ENDPOINT}",
          "    region: us-east-1",
          "    access_key_id: ${FG_CC_S3_KEY}",
          "    secret_access_key: ${FG_CC_S3_SECRET}",
        ]
        : []),
      "compute:",
      "  backend: cpu",
      "features:",
      `  rolling_windows: [${(opts.windows ?? [10, 20]).join(", ")}]`,
      ...(opts.slow ? ["  selection_permutations: 2999", "  selection_stop_after: 0"] : []),
      "generator:",
      "  if_empty: false",
      "pipeline:",
      "  engines:",
      "    feature_engineering: { enabled: false }",
      "    garch_models: { enabled: false }",
      // slow: a holder that certainly outlasts another process's start plus a 1 s wait, on any machine load.
      `    statistical_tests: { enabled: ${opts.slow ? "true" : "false"} }`,
      "",
    ].join("\n"),
  );
  return path;
}

/** Starts `run --config <config> ...` as its own process (see `spawnCli`). */
function spawnRun(configPath: string, extra: string[] = [], env: Record<string, string> = {}, cwd?: string) {
  return spawnCli(["run", "--config", configPath, ...extra], env, cwd);
}

/** The last non-JSON line of stderr: the CLI's one-line error. */
function errorLine(err: string): string {
  return err.trim().split("\n").filter((l) => !l.startsWith("{")).at(-1) ?? "";
}

function runIdOf(out: string): string {
  const m = /^run (\S+): done/m.exec(out);
  assert.ok(m, `no "run <id>: done" line:\n${out}`);
  return m[1];
}

/** The config hash of every committed task in a local output. */
async function manifestHashes(out: string): Promise<string[]> {
  const hashes: string[] = [];
  for (let i = 0; i < INSTRUMENTS; i++) {
    const m = JSON.parse(await Deno.readTextFile(join(out, `SYN000${i}`, "_manifest.json")));
    hashes.push(m.config_hash);
  }
  return hashes;
}

async function until(cond: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("timed out waiting for a condition");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const exists = (p: string) => Deno.stat(p).then(() => true, () => false);

/** Whether `_lease.json` in `out` is process `pid`'s (not one an earlier job's shards left to go stale). */
const leaseOf = (out: string, pid: number) =>
  Deno.readTextFile(join(out, LEASE_OBJECT)).then((t) => JSON.parse(t).pid === pid, () => false);

Deno.test("concurrent runs on one output: one writes, the others exit 2 naming it; the output is one config's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-concurrency-" });
  try {
    const out = join(dir, "out");
    const a = await config(dir, "a.yaml", out, { windows: [10, 20], slow: true });
    const b = await config(dir, "b.yaml", out, { windows: [5, 30], slow: true });
    // Two configurations and a second copy of the first, started together (slow: the winner outlasts the
    // others' start on any machine load).
    const runs = [spawnRun(a), spawnRun(b), spawnRun(a)];
    const results = await Promise.all(runs.map((r) => r.result));
    const codes = results.map((r) => r.code);
    assert.deepEqual(
      [...codes].sort(),
      [0, 2, 2],
      results.map((r) => `${r.code}: ${errorLine(r.err)}`).join("\n"),
    );
    const winner = results.find((r) => r.code === 0)!;
    const winnerId = runIdOf(winner.out);
    for (const r of results.filter((r) => r.code === 2)) {
      const line = errorLine(r.err);
      const m = HELD.exec(line);
      assert.ok(m, `not the holder message: ${line}`);
      assert.equal(m[1], out);
      assert.equal(m[2], winnerId, "the message names the run that holds the output");
      assert.ok(!r.err.includes("database is locked"), r.err);
    }
    // Every task was written by the winner's configuration: nothing mixed.
    const summary = JSON.parse(await Deno.readTextFile(join(out, "_runs", winnerId, "summary.json")));
    assert.deepEqual(await manifestHashes(out), Array(INSTRUMENTS).fill(summary.config_hash));
    assert.ok(!(await exists(join(out, LEASE_OBJECT))), "the lease is released at the end");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shards of one job share the output; a run of another config beside them exits 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-concurrency-" });
  try {
    const out = join(dir, "out");
    // A slow job: its shards (and the duplicate below) still run when the other process starts.
    const a = await config(dir, "a.yaml", out, { slow: true });
    const b = await config(dir, "b.yaml", out, { windows: [7] });
    const shards = [spawnRun(a, ["--shard", "0/2"]), spawnRun(a, ["--shard", "1/2"])];
    await until(() => exists(join(out, LEASE_OBJECT)));
    const other = await spawnRun(b).result;
    const [s1, s2] = await Promise.all(shards.map((s) => s.result));
    assert.equal(s1.code, 0, errorLine(s1.err));
    assert.equal(s2.code, 0, errorLine(s2.err));
    assert.equal(other.code, 2);
    const m = HELD.exec(errorLine(other.err));
    assert.ok(m, errorLine(other.err));
    assert.match(m[3] ?? "", /, shard [01]\/2/, "the holder is named as a shard of its job");
    const hashes = await manifestHashes(out);
    assert.equal(new Set(hashes).size, 1, `every task from the sharded job: ${hashes}`);
    // The same shard twice is a duplicate, not a partner. Two shards finishing together may leave the lease
    // object behind (stale): wait for the first copy's own.
    const first = spawnRun(a, ["--shard", "1/2", "--force"]);
    await until(() => leaseOf(out, first.child.pid));
    const dup = await spawnRun(a, ["--shard", "1/2", "--force"]).result;
    assert.equal((await first.result).code, 0);
    assert.equal(dup.code, 2, errorLine(dup.err));
    assert.match(errorLine(dup.err), HELD);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--wait: a waiting run starts when the holder ends; --wait 1 gives up with exit 2 after waiting", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-concurrency-" });
  try {
    const out = join(dir, "out");
    const a = await config(dir, "a.yaml", out, { slow: true });
    const b = await config(dir, "b.yaml", out, { windows: [15] });
    const holder = spawnRun(a);
    await until(() => exists(join(out, LEASE_OBJECT)));
    const patient = spawnRun(b, ["--wait", "300"]);
    const impatient = await spawnRun(b, ["--wait", "1"]).result;
    assert.equal(impatient.code, 2);
    assert.match(errorLine(impatient.err), / \(waited [12] s\); /);
    assert.match(errorLine(impatient.err), HELD);
    const [h, p] = [await holder.result, await patient.result];
    assert.equal(h.code, 0, errorLine(h.err));
    assert.equal(p.code, 0, errorLine(p.err));
    assert.match(p.err, /is being written by run r\S+ .*; waiting \(--wait\)/);
    // The waiting run ran after the holder: the output is now wholly its configuration's.
    const summary = JSON.parse(await Deno.readTextFile(join(out, "_runs", runIdOf(p.out), "summary.json")));
    assert.deepEqual(await manifestHashes(out), Array(INSTRUMENTS).fill(summary.config_hash));
    const bad = await cli(["run", "--config", b, "--wait", "soon"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /^error: --wait expects a number of seconds >= 0 .*got "soon"$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a holder killed with SIGKILL does not block the output: the next run takes over with a warning", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-concurrency-" });
  try {
    const out = join(dir, "out");
    const a = await config(dir, "a.yaml", out);
    const b = await config(dir, "b.yaml", out, { windows: [12] });
    const victim = spawnRun(a);
    await until(() => exists(join(out, LEASE_OBJECT)));
    const lease: LeaseRecord = JSON.parse(await Deno.readTextFile(join(out, LEASE_OBJECT)));
    victim.child.kill("SIGKILL");
    await victim.result;
    // Without /proc access: the holder's liveness lock, released by the OS, tells it is gone at once.
    const next = await spawnRun(b).result;
    assert.equal(next.code, 0, errorLine(next.err));
    assert.match(next.err, new RegExp(`took over .*${lease.run_id}`));
    const registry = await Registry.open(join(out, "registry.sqlite"));
    try {
      assert.equal(await registry.runStatus(lease.run_id), "abandoned");
    } finally {
      await registry.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A lock object as another machine's run would leave it. */
function foreignLease(heartbeatAgoMs: number): LeaseRecord {
  const t = new Date(Date.now() - heartbeatAgoMs).toISOString();
  return {
    run_id: "r20260101-000000-other",
    host: "other-host",
    pid: 4242,
    since: t,
    heartbeat: t,
    job: "f00d/1",
    shards: 1,
    done: [],
  };
}

Deno.test("runs that share no registry: a live lock object refuses, a stale or unreadable one is taken over (local folder)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-concurrency-" });
  try {
    const out = join(dir, "out");
    // Its own registry: only the lock object in the output can tell that another machine writes there.
    const a = await config(dir, "a.yaml", out, { registry: join(dir, "mine", "registry.sqlite") });
    await Deno.mkdir(out);
    await Deno.writeTextFile(join(out, LEASE_OBJECT), JSON.stringify(foreignLease(10_000)));
    const held = await cli(["run", "--config", a]);
    assert.equal(held.code, 2);
    assert.match(
      held.err,
      new RegExp(
        `^error: ${out} is being written by run r20260101-000000-other \\(host other-host, pid 4242, since \\S+, last heartbeat 1\\d s ago\\); `,
        "m",
      ),
    );
    assert.equal(
      JSON.parse(await Deno.readTextFile(join(out, LEASE_OBJECT))).run_id,
      "r20260101-000000-other",
    );
    // Stale: no heartbeat for 3 minutes.
    await Deno.writeTextFile(join(out, LEASE_OBJECT), JSON.stringify(foreignLease(180_000)));
    const stale = await cli(["run", "--config", a]);
    assert.equal(stale.code, 0, stale.err);
    assert.match(
      stale.err,
      /took over a stale lease of run r20260101-000000-other \(host other-host, pid 4242/,
    );
    // Unreadable (not JSON): taken over too, said so.
    await Deno.writeTextFile(join(out, LEASE_OBJECT), "{garbage");
    const corrupt = await cli(["run", "--config", a, "--force"]);
    assert.equal(corrupt.code, 0, corrupt.err);
    assert.match(corrupt.err, /took over a stale lease \(unreadable\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runs that share no registry on S3: the lock object refuses a second writer, concurrent or planted", async () => {
  const server = await startS3Server();
  const dir = await Deno.makeTempDir({ prefix: "fg-concurrency-" });
  const env = {
    FG_CC_S3_ENDPOINT: server.endpoint,
    FG_CC_S3_KEY: server.accessKeyId,
    FG_CC_S3_SECRET: server.secretAccessKey,
  };
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  try {
    const out = `s3://${server.bucket}/out`;
    const a = await config(dir, "a.yaml", out, { s3: true, registry: join(dir, "ra", "registry.sqlite") });
    const b = await config(dir, "b.yaml", out, { s3: true, registry: join(dir, "rb", "registry.sqlite") });
    // Two machines (two registries) started together on one prefix.
    const results = await Promise.all([spawnRun(a, [], env).result, spawnRun(b, [], env).result]);
    assert.deepEqual(
      results.map((r) => r.code).sort(),
      [0, 2],
      results.map((r) => errorLine(r.err)).join("\n"),
    );
    const loser = results.find((r) => r.code === 2)!;
    const m = HELD.exec(errorLine(loser.err));
    assert.ok(m, errorLine(loser.err));
    assert.equal(m[1], out);
    assert.equal(m[2], runIdOf(results.find((r) => r.code === 0)!.out));
    // The two shards of one job on two machines, started together, share the prefix: one config without
    // storage.registry, so each keeps its registry in its own working folder (.feature-genesis/).
    const job = await config(dir, "job.yaml", out, { s3: true, windows: [9] });
    const [m1, m2] = [join(dir, "machine1"), join(dir, "machine2")];
    await Promise.all([Deno.mkdir(m1), Deno.mkdir(m2)]);
    const shards = await Promise.all([
      spawnRun(job, ["--shard", "0/2"], env, m1).result,
      spawnRun(job, ["--shard", "1/2"], env, m2).result,
    ]);
    assert.deepEqual(shards.map((r) => r.code), [0, 0], shards.map((r) => errorLine(r.err)).join("\n"));
    // A live lock object from elsewhere, then a stale one.
    const { S3Storage } = await import("../io/s3.ts");
    const s3 = new S3Storage({ ...server, prefix: "out" });
    await s3.put(LEASE_OBJECT, new TextEncoder().encode(JSON.stringify(foreignLease(5_000))));
    const held = await cli(["run", "--config", a]);
    assert.equal(held.code, 2);
    assert.match(
      held.err,
      new RegExp(
        `^error: ${out} is being written by run r20260101-000000-other \\(host other-host, pid 4242,`,
        "m",
      ),
    );
    await s3.put(LEASE_OBJECT, new TextEncoder().encode(JSON.stringify(foreignLease(300_000))));
    const stale = await cli(["run", "--config", a, "--force"]);
    assert.equal(stale.code, 0, stale.err);
    assert.match(stale.err, /took over a stale lease of run r20260101-000000-other/);
    assert.equal(await s3.head(LEASE_OBJECT), null, "released at the end");
  } finally {
    for (const k of Object.keys(env)) Deno.env.delete(k);
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the registry waits for another process's transaction instead of failing with 'database is locked'", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-concurrency-" });
  try {
    const path = join(dir, "registry.sqlite");
    await (await Registry.open(path)).close();
    // Another process takes the write lock and keeps it for 1.5 s.
    const holder = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { DatabaseSync } from "node:sqlite"; const db = new DatabaseSync(${JSON.stringify(path)});
         db.exec("begin exclusive"); console.log("locked"); const t = Date.now(); while (Date.now() - t < 1500) {}
         db.exec("commit");`,
      ],
      stdout: "piped",
    }).spawn();
    const reader = holder.stdout.getReader();
    assert.match(new TextDecoder().decode((await reader.read()).value), /locked/);
    await reader.cancel();
    const t0 = performance.now();
    const r = await Registry.open(path);
    try {
      const started = await r.startRun({
        id: "r1",
        host: "h",
        configHash: "c",
        adapter: "cpu",
        lease: { output: "/o", job: "c/1", shard: 0 },
      });
      assert.equal(started.conflict, undefined);
      assert.ok(performance.now() - t0 > 500, "it did wait for the other transaction");
    } finally {
      await r.close();
    }
    assert.equal((await holder.status).code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("processes opening one new registry at once all open it (none fails with 'database is locked')", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-concurrency-" });
  const registry = JSON.stringify(new URL("../pipeline/registry.ts", import.meta.url).href);
  try {
    // Shards of a job start together on a fresh output: each switches the new file to WAL mode.
    for (let round = 0; round < 8; round++) {
      // Each process loads its modules, then opens at an agreed moment, 1-4 ms apart (the race SQLite loses).
      const path = JSON.stringify(join(dir, `registry-${round}.sqlite`)), at = Date.now() + 1200;
      const opens = Array.from({ length: 4 }, (_, k) =>
        new Deno.Command(Deno.execPath(), {
          args: [
            "eval",
            `import { Registry } from ${registry}; while (Date.now() < ${at + k * (1 + (round % 4))}) {}
             await (await Registry.open(${path})).close();`,
          ],
          stderr: "piped",
        }).output());
      for (const o of await Promise.all(opens)) {
        assert.equal(o.code, 0, `round ${round}: ${new TextDecoder().decode(o.stderr)}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lease lifecycle: shards share and release together; a run whose lease was taken over stops", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-concurrency-" });
  const registry = await Registry.open(join(dir, "registry.sqlite"));
  try {
    const output = new LocalStorage(join(dir, "out"));
    const run = (id: string) => ({ id, host: "here", configHash: "h", adapter: "cpu" });
    const lease = join(dir, "out", LEASE_OBJECT);
    const read = async (): Promise<LeaseRecord> => JSON.parse(await Deno.readTextFile(lease));
    // Two shards of one job hold it together; the lock object goes when the last one is done.
    const s0 = await acquireOutputLease({ registry, output, run: run("s0"), shard: { index: 0, count: 2 } });
    const s1 = await acquireOutputLease({ registry, output, run: run("s1"), shard: { index: 1, count: 2 } });
    await s0.release("done");
    assert.deepEqual((await read()).done, [0], "the first shard to finish is marked done");
    await s1.release("done");
    assert.ok(!(await exists(lease)), "the last shard removes the lock object");
    // A holder whose lease another job took over (its heartbeat stalled) stops before its next task.
    const slow = await acquireOutputLease({
      registry,
      output,
      run: run("slow"),
      shard: { index: 0, count: 1 },
    });
    await Deno.writeTextFile(lease, JSON.stringify({ ...foreignLease(0), run_id: "rTHIEF" }));
    await slow.beat();
    assert.throws(
      () => slow.assertHeld(),
      new RegExp(
        `^UsageError: ${
          join(dir, "out")
        }: the output lease was taken over by run rTHIEF \\(host other-host, pid 4242, since \\S+\\) while this run's heartbeat stalled; stopping so the two runs do not mix outputs$`,
      ),
    );
    await slow.release("failed");
    assert.equal(
      JSON.parse(await Deno.readTextFile(lease)).run_id,
      "rTHIEF",
      "another job's lease is left alone",
    );
  } finally {
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});
