/**
 * The run registry (pipeline/registry.ts): runs whose process died are marked abandoned (only on this host,
 * never the current process, never when liveness is unknown), and a registry from before the pid column
 * opens and gains it.
 */
import { strict as assert } from "node:assert";
import { DatabaseSync } from "node:sqlite";
import { Registry } from "../pipeline/registry.ts";

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
