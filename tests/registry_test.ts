/**
 * The run registry (pipeline/registry.ts): runs whose process died are marked abandoned (only on this host,
 * never the current process, never when liveness is unknown), and a registry from before the pid column
 * opens and gains it.
 */
import { strict as assert } from "node:assert";
import { DatabaseSync } from "node:sqlite";
import { Registry } from "../pipeline/registry.ts";

Deno.test("registry: dead runs of this host are marked abandoned; old registries gain the pid column", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-registry-" });
  try {
    // A registry written before the pid column, holding a run that never ended.
    const path = `${dir}/registry.sqlite`;
    const old = new DatabaseSync(path);
    old.exec(`create table runs (id text primary key, started text not null, ended text, host text not null,
      config_hash text not null, adapter text not null, status text not null);`);
    old.prepare("insert into runs values ('old', '2026-01-01T00:00:00Z', null, 'h', 'c', 'cpu', 'running')")
      .run();
    old.close();
    const r = await Registry.open(path);
    try {
      r.startRun({ id: "mine", host: "h", configHash: "c", adapter: "cpu" });
      r.startRun({ id: "other-host", host: "elsewhere", configHash: "c", adapter: "cpu" });
      // Only runs with a known, dead pid on this host change; the pre-pid run stays as it was.
      assert.deepEqual(r.markAbandoned("h", () => false), []);
      const db = new DatabaseSync(path);
      db.prepare("update runs set pid = 999999999 where id in ('old', 'other-host')").run();
      db.close();
      assert.deepEqual(r.markAbandoned("h", () => undefined), []);
      assert.deepEqual(r.markAbandoned("h", (pid) => pid !== 999999999), ["old"]);
      const status = Object.fromEntries(r.recentRuns().map((x) => [x.id, [x.status, x.ended !== null]]));
      assert.deepEqual(status, {
        old: ["abandoned", true],
        mine: ["running", false],
        "other-host": ["running", false],
      });
    } finally {
      r.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
