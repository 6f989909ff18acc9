/**
 * The run registry (pipeline/registry.ts): runs whose process died are marked abandoned (only on this host,
 * never the current process, never when liveness is unknown), and a registry from before the pid column
 * opens and gains it; the shards of a shared run id merge into one overview (pipeline/run_overview.ts,
 * `runs RUN_ID`).
 */
import { strict as assert } from "node:assert";
import { DatabaseSync } from "node:sqlite";
import { Registry } from "../pipeline/registry.ts";
import { runOverview } from "../pipeline/run_overview.ts";
import { cli } from "./cli_harness.ts";

Deno.test("registry: stale or dead running runs are marked abandoned; old registries gain the columns", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-registry-" });
  try {
    // A registry written before the liveness columns, holding a run that never ended.
    const path = `${dir}/registry.sqlite`;
    const old = new DatabaseSync(path);
    old.exec(`create table runs (id text primary key, started text not null, ended text, host text not null,
      config_hash text not null, adapter text not null, status text not null);`);
    old.prepare("insert into runs values ('old', '2026-01-01T00:00:00Z', null, 'h', 'c', 'cpu', 'running')")
      .run();
    old.close();
    const r = await Registry.open(path);
    try {
      const t0 = new Date();
      const later = (ms: number) => new Date(t0.getTime() + ms);
      await r.startRun({ id: "beating", host: "h", configHash: "c", adapter: "cpu" });
      await r.startRun({ id: "silent", host: "elsewhere", configHash: "c", adapter: "cpu" });
      await r.startRun({ id: "dead", host: "h", configHash: "c", adapter: "cpu" });
      const db = new DatabaseSync(path);
      db.prepare("update runs set pid = 999999999 where id = 'dead'").run();
      db.close();
      // The pre-heartbeat run is stale at once; a dead process on this host is abandoned before going stale.
      const alive = (pid: number) => pid !== 999999999;
      assert.deepEqual((await r.markAbandoned("h", { alive, now: later(1000) })).sort(), ["dead", "old"]);
      // Runs of this process are never marked; the others go stale after 2 minutes without a beat.
      await r.beat("beating", later(100_000));
      assert.deepEqual(await r.markAbandoned("h", { alive: () => undefined, now: later(150_000) }), [
        "silent",
      ]);
      const status = Object.fromEntries(
        (await r.recentRuns()).map((x) => [x.id, [x.status, x.ended !== null]]),
      );
      assert.deepEqual(status, {
        old: ["abandoned", true],
        beating: ["running", false],
        silent: ["abandoned", true],
        dead: ["abandoned", true],
      });
      await r.beat("silent");
      assert.equal((await r.recentRuns()).find((x) => x.id === "silent")!.status, "abandoned");
    } finally {
      await r.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("registry: a run's shards and attempts merge into one overview; a shard claiming another N is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-registry-" });
  const path = `${dir}/registry.sqlite`;
  const r = await Registry.open(path);
  try {
    const start = (id: string, shard: number, job = "c/3") =>
      r.startRun({
        id,
        run: "R",
        host: "elsewhere",
        configHash: "c",
        adapter: "cpu",
        lease: { output: "/o", job, shard },
      });
    const task = (run_id: string, instrument: string, status: "done" | "skipped" | "failed", rows = 10) =>
      r.recordTask({
        run_id,
        instrument,
        status,
        rows,
        duration_ms: 5,
        error: status === "failed" ? "bad" : null,
      });
    assert.deepEqual(await start("R.0-a", 0), { takenOver: [] });
    await task("R.0-a", "A", "done");
    await task("R.0-a", "D", "failed", 0);
    await r.endRun("R.0-a", "failed");
    // Shard 1 dies after committing B (its heartbeat goes stale); the retry skips B and does E.
    await start("R.1-a", 1);
    await task("R.1-a", "B", "done", 20);
    assert.deepEqual(await r.markAbandoned("here", { now: new Date(Date.now() + 200_000) }), ["R.1-a"]);
    await start("R.1-b", 1);
    await task("R.1-b", "B", "skipped", 20);
    await task("R.1-b", "E", "done", 30);
    await r.endRun("R.1-b", "done");
    // Shard 2 of another count would split the tasks differently.
    const wrong = await start("R.2-a", 2, "c/4");
    assert.equal(wrong.mismatch, "c/3");
    const o = (await runOverview(r, "R"))!;
    assert.equal(o.shard_count, 3);
    assert.deepEqual(o.shards.map((s) => [s.state, s.attempts.map((a) => a.id)]), [
      ["failed", ["R.0-a"]],
      ["done", ["R.1-a", "R.1-b"]],
      ["missing", []],
    ]);
    assert.deepEqual(o.states, { failed: 1, done: 1, missing: 1 });
    assert.deepEqual(o.task_counts, { done: 3, skipped: 0, failed: 1 });
    assert.equal(o.rows, 60);
    assert.deepEqual(Object.keys(o.tasks).sort(), ["A", "B", "D", "E"]);
    assert.equal(await runOverview(r, "nope"), null);
    assert.equal((await runOverview(r, "R.0-a"))!.run, "R", "a shard's own id finds its run");
  } finally {
    await r.close();
  }
  try {
    const text = await cli(["runs", "R", "--registry", path]);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /^run R: 3 shard\(s\), config c, output \/o$/m);
    assert.match(
      text.out,
      /^ {2}shard 1\/3 {2}abandoned +R\.1-a {2}host elsewhere, pid \d+, \S+, [\d.]+ s; done 1, /m,
    );
    assert.match(text.out, /^ {2}shard 2\/3 {2}missing \(never started\)$/m);
    assert.match(text.out, /^shards: 1 failed, 1 done, 1 missing$/m);
    assert.match(
      text.out,
      /^instruments: 3 done, 0 skipped, 1 failed; 60 rows in [\d.]+ s \(\d+ rows\/s\)$/m,
    );
    assert.match(text.out, /^ {2}failed D \(R\.0-a\): bad$/m);
    const missing = await cli(["runs", "nope", "--registry", path]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /^error: runs: registry \S+ has no run "nope"$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
