/**
 * Issue 17: one PostgreSQL registry for a whole run, on a real throwaway server (tests/pg_server.ts; skipped
 * with a message where PostgreSQL cannot be started). The shards of one run id register concurrently from
 * separate processes, a shard killed with SIGKILL is marked abandoned and its requeued attempt completes the
 * run, `runs RUN_ID` summarises it all, a shard claiming another shard count is refused, and the password
 * (PGPASSWORD) reaches no row, no log line and no error.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import postgres from "postgres";
import { generate } from "../generator/generate.ts";
import { LocalStorage } from "../io/storage.ts";
import { validateConfig } from "../config/schema.ts";
import type { RunOverview } from "../pipeline/run_overview.ts";
import { cli, spawnCli } from "./cli_harness.ts";
import { startPostgres } from "./pg_server.ts";

const RUN = "pgrun-1";

function spawnShard(config: string, shard: string, password: string) {
  const run = spawnCli(["run", "--config", config, "--shard", shard, "--run-id", RUN], {
    PGPASSWORD: password,
  });
  return { child: run.child, result: run.result.then((r) => ({ code: r.code, text: r.out + r.err })) };
}

Deno.test("PostgreSQL registry: concurrent shards of one run id, a killed shard abandoned and requeued, no secret anywhere", async () => {
  const pg = await startPostgres();
  if (!("url" in pg)) {
    console.warn(`skipped: ${pg.skip}`);
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "fg-registry-pg-" });
  const before = Deno.env.get("PGPASSWORD");
  const sql = postgres(pg.url, { password: pg.password, onnotice: () => {} });
  try {
    assert.throws(
      () => validateConfig({ storage: { registry: `postgres://fg:${pg.password}@127.0.0.1/postgres` } }),
      (e: Error) =>
        /storage\.registry: the URL holds a password/.test(e.message) && !e.message.includes(pg.password),
    );
    await generate({
      kind: "bars",
      storage: new LocalStorage(join(dir, "bars")),
      instruments: 4,
      rows: 20_000,
      seed: 3,
      workers: 0,
    });
    const config = join(dir, "config.yaml");
    await Deno.writeTextFile(
      config,
      `data: { source: ${join(dir, "bars")} }
storage: { output: ${join(dir, "out")}, registry: "${pg.url}" }
compute: { backend: cpu }
generator: { if_empty: false }
pipeline:
  engines:
    garch_models: { enabled: false }
    statistical_tests: { enabled: false }
`,
    );
    // Two shards start together; shard 1 is killed (SIGKILL) as soon as it has registered.
    const s0 = spawnShard(config, "0/2", pg.password);
    const s1 = spawnShard(config, "1/2", pg.password);
    const end = Date.now() + 60_000;
    const registered = () =>
      sql`select 1 from runs where run = ${RUN} and shard = 1`.then((r) => r.length > 0, () => false);
    while (!(await registered())) {
      if (Date.now() > end) throw new Error("shard 1 never registered");
      await new Promise((r) => setTimeout(r, 25));
    }
    s1.child.kill("SIGKILL");
    const [r0, r1] = await Promise.all([s0.result, s1.result]);
    assert.equal(r0.code, 0, r0.text);
    assert.equal(r1.code, 137, "shard 1 died by SIGKILL");

    Deno.env.set("PGPASSWORD", pg.password);
    const killed = JSON.parse((await cli(["runs", RUN, "--registry", pg.url, "--json"])).out) as RunOverview;
    assert.deepEqual(
      killed.states,
      { done: 1, abandoned: 1 },
      "its liveness lock is gone: abandoned at once",
    );
    // The scheduler requeues it: the same shard and run id, a new process.
    const again = await spawnShard(config, "1/2", pg.password).result;
    assert.equal(again.code, 0, again.text);
    const runs = await cli(["runs", RUN, "--registry", pg.url]);
    assert.equal(runs.code, 0, runs.err);
    assert.match(
      runs.out,
      new RegExp(`^run ${RUN}: 2 shard\\(s\\), config \\w{12}, output ${join(dir, "out")}$`, "m"),
    );
    assert.match(runs.out, /^ {2}shard 1\/2 {2}abandoned .*\n {2}shard 1\/2 {2}done /m);
    assert.match(runs.out, /^shards: 2 done$/m);
    assert.match(
      runs.out,
      /^instruments: 4 done, 0 skipped, 0 failed; 80000 rows in [\d.]+ s \(\d+ rows\/s\)$/m,
    );
    const o = JSON.parse((await cli(["runs", RUN, "--registry", pg.url, "--json"])).out) as RunOverview;
    assert.deepEqual(o.shards.map((s) => s.attempts.map((a) => a.status)), [["done"], ["abandoned", "done"]]);
    assert.equal(o.rows, 80_000);

    // A shard of this run id claiming another shard count would split the tasks differently: exit 2.
    const wrong = await cli(["run", "--config", config, "--shard", "0/3", "--run-id", RUN]);
    assert.equal(wrong.code, 2);
    assert.match(
      wrong.err,
      /^error: run id pgrun-1 was started with 2 shard\(s\) and config \w{12}, this shard has 3 /m,
    );

    // The password is in no row, no output and no error; a wrong one is exit 2 naming the registry only.
    const rows = JSON.stringify([await sql`select * from runs`, await sql`select * from tasks`]);
    for (const text of [rows, r0.text, r1.text, again.text, runs.out, runs.err, wrong.err]) {
      assert.ok(!text.includes(pg.password), "the password leaked");
    }
    Deno.env.set("PGPASSWORD", "not-the-password-x");
    const denied = await cli(["runs", "--registry", pg.url]);
    assert.equal(denied.code, 2);
    assert.match(
      denied.err,
      new RegExp(
        `^error: run registry ${pg.url}: password authentication failed for user "fg" \\(while connecting to it\\); check the server`,
        "m",
      ),
    );
    assert.ok(!denied.err.includes("not-the-password-x"));
  } finally {
    if (before === undefined) Deno.env.delete("PGPASSWORD");
    else Deno.env.set("PGPASSWORD", before);
    await sql.end();
    await pg.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
