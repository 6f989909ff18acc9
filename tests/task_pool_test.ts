/**
 * Several instruments at once (compute.task_workers, pipeline/task_pool.ts): the outputs equal one task at a
 * time byte for byte, the summary keeps the tasks' order, a failed task fails alone (or stops the run with
 * fail-fast), the workers' log records reach the run's log with their task, and the memory ledger shares the
 * budget first come first served.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { cli } from "./cli_harness.ts";
import { generate } from "../generator/generate.ts";
import { LocalStorage } from "../io/storage.ts";
import type { RunSummary } from "../pipeline/run.ts";
import { idleMeter, MemoryLedger, MIN_PARALLEL_BYTES, taskWorkerCount } from "../pipeline/task_pool.ts";
import { validateConfig } from "../config/schema.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

async function setup(instruments: number, workers: number | "auto", extra = ""): Promise<string> {
  const dir = await Deno.makeTempDir();
  await generate({
    kind: "bars",
    storage: new LocalStorage(join(dir, "bars")),
    instruments,
    rows: 6_000,
    seed: 11,
    workers: 0,
  });
  await Deno.writeTextFile(
    join(dir, "config.yaml"),
    `data:
  source: ${join(dir, "bars")}
storage:
  output: ${join(dir, "out")}
compute:
  backend: cpu
  task_workers: ${workers}
${extra}
features:
  rolling_windows: [10, 50]
  frac_diff:
    d_values: [0.4]
  garch:
    window: 2000
    refit_every: 1000
    min_samples: 1000
  selection_max_samples: 2000
  selection_permutations: 39
generator:
  if_empty: false
`,
  );
  return dir;
}

/** `v` without its timings (keys `ms`, `*_ms`), which differ from run to run. */
function untimed(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(untimed);
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(
    Object.entries(v).filter(([k]) => !/(^|_)ms$/.test(k)).map(([k, x]) => [k, untimed(x)]),
  );
}

/** The summary of the only run in `dir` (run ids of one second do not sort by time). */
async function summaryOf(dir: string): Promise<RunSummary> {
  const runs = [...Deno.readDirSync(join(dir, "out", "_runs"))].map((e) => e.name);
  assert.equal(runs.length, 1, `one run in ${dir}`);
  return JSON.parse(await Deno.readTextFile(join(dir, "out", "_runs", runs[0], "summary.json")));
}

async function parts(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (
    const inst of [...Deno.readDirSync(join(dir, "out"))].map((e) => e.name).filter((n) =>
      n.startsWith("SYN")
    )
  ) {
    for (const f of Deno.readDirSync(join(dir, "out", inst))) {
      if (f.name.startsWith("part-")) {
        out.set(`${inst}/${f.name}`, await Deno.readFile(join(dir, "out", inst, f.name)));
      }
    }
  }
  return out;
}

Deno.test(
  "task_workers 3: the same parts byte for byte as one at a time, summary in task order",
  opts,
  async () => {
    const one = await setup(5, 1);
    const three = await setup(5, 3);
    const a = await cli(["run", "--config", join(one, "config.yaml")]);
    const b = await cli(["run", "--config", join(three, "config.yaml")]);
    assert.equal(a.code, 0, a.err);
    assert.equal(b.code, 0, b.err);
    assert.doesNotMatch(a.err, /tasks at a time/);
    assert.match(b.err, /3 tasks at a time, each in a worker thread/);
    const [pa, pb] = [await parts(one), await parts(three)];
    assert.equal(pa.size, 5);
    assert.deepEqual([...pb.keys()].sort(), [...pa.keys()].sort());
    for (const [k, bytes] of pa) assert.deepEqual(pb.get(k), bytes, k);
    const [sa, sb] = [await summaryOf(one), await summaryOf(three)];
    assert.deepEqual([sa.task_workers, sb.task_workers], [1, 3]);
    assert.deepEqual(sb.tasks.map((t) => t.instrument), [
      "SYN0000",
      "SYN0001",
      "SYN0002",
      "SYN0003",
      "SYN0004",
    ]);
    assert.deepEqual(sb.tasks.map((t) => [t.status, t.rows]), sa.tasks.map((t) => [t.status, t.rows]));
    assert.deepEqual(sb.tasks.map((t) => untimed(t.reports)), sa.tasks.map((t) => untimed(t.reports)));
    assert.deepEqual(Object.keys(sb.engine_ms).sort(), Object.keys(sa.engine_ms).sort());
    // The workers' records reach the run's log, each with its task and the run id.
    const committed = b.err.split("\n").filter((l) => l.includes('"task committed"')).map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(committed.map((r) => r.task).sort(), [
      "SYN0000",
      "SYN0001",
      "SYN0002",
      "SYN0003",
      "SYN0004",
    ]);
    assert.ok(committed.every((r) => r.run_id === sb.run_id));
    // A second run skips every task (the hash leaves task_workers out, so 1 and 3 are the same configuration).
    const again = await cli(["run", "--config", join(three, "config.yaml")]);
    assert.match(again.out, /0 done, 5 skipped, 0 failed/);
    const text = await Deno.readTextFile(join(three, "config.yaml"));
    await Deno.writeTextFile(join(three, "config.yaml"), text.replace("task_workers: 3", "task_workers: 1"));
    const one_again = await cli(["run", "--config", join(three, "config.yaml")]);
    assert.match(one_again.out, /0 done, 5 skipped, 0 failed/);
  },
);

Deno.test(
  "task_workers 2: a bad instrument fails alone; fail-fast stops handing out tasks",
  opts,
  async () => {
    const dir = await setup(4, 2);
    // SYN0001's file is not Parquet: its task fails with a message naming the file; the others are done.
    const bad = join(dir, "bars", "SYN0001");
    const [file] = [...Deno.readDirSync(bad)].map((e) => e.name);
    await Deno.writeTextFile(join(bad, file), "not parquet");
    const r = await cli(["run", "--config", join(dir, "config.yaml")]);
    assert.equal(r.code, 1);
    const s = await summaryOf(dir);
    assert.deepEqual(s.tasks.map((t) => [t.instrument, t.status]), [
      ["SYN0000", "done"],
      ["SYN0001", "failed"],
      ["SYN0002", "done"],
      ["SYN0003", "done"],
    ]);
    assert.match(s.tasks[1].error!, new RegExp(`SYN0001/${file}`));
    const failed = r.err.split("\n").filter((l) => l.includes('"task failed"')).map((l) => JSON.parse(l));
    assert.deepEqual(failed.map((x) => x.task), ["SYN0001"]);

    const ff = await setup(6, 2, "pipeline:\n  fail_fast: true");
    // Bytes appended after the footer, more than any other input holds: the largest input, so taken first by
    // the first worker, and no longer Parquet (its failure comes within milliseconds, the other worker's task
    // takes the whole pipeline).
    const first = join(ff, "bars", "SYN0000");
    const path = join(first, [...Deno.readDirSync(first)][0].name);
    const sizes = [...Deno.readDirSync(join(ff, "bars"))].flatMap((d) =>
      [...Deno.readDirSync(join(ff, "bars", d.name))].map((f) =>
        Deno.statSync(join(ff, "bars", d.name, f.name)).size
      )
    );
    await Deno.writeFile(path, new Uint8Array(Math.max(...sizes) + 4096).fill(88), { append: true });
    const f = await cli(["run", "--config", join(ff, "config.yaml")]);
    assert.equal(f.code, 1);
    const sf = await summaryOf(ff);
    assert.deepEqual([sf.tasks[0].instrument, sf.tasks[0].status], ["SYN0000", "failed"]);
    // The other worker ends the task it has; no task starts after the failure, and those not started are named.
    assert.ok(sf.tasks.length <= 2, `${sf.tasks.length} tasks ran after a fail-fast failure`);
    const ran = sf.tasks.map((t) => t.instrument);
    assert.deepEqual(
      [...ran, ...sf.not_started!].sort(),
      ["SYN0000", "SYN0001", "SYN0002", "SYN0003", "SYN0004", "SYN0005"],
    );
    assert.match(f.out, new RegExp(`, ${sf.not_started!.length} not started;`));
  },
);

Deno.test("MemoryLedger: first come first served, a task larger than the budget runs alone", async () => {
  const ledger = new MemoryLedger(100);
  const order: string[] = [];
  const a = await ledger.reserve(60);
  const pb = ledger.reserve(50).then((r) => (order.push("b"), r));
  const pc = ledger.reserve(10).then((r) => (order.push("c"), r));
  await Promise.resolve();
  assert.equal(ledger.used, 60);
  assert.deepEqual(order, []); // c would fit, but b asked first
  a();
  a(); // a second release changes nothing
  const [b, c] = await Promise.all([pb, pc]);
  assert.deepEqual(order, ["b", "c"]);
  assert.equal(ledger.used, 60);
  b(), c();
  assert.equal(ledger.used, 0);
  const huge = await ledger.reserve(1_000); // nothing held: granted at once
  let small = false;
  const ps = ledger.reserve(1).then((r) => (small = true, r));
  await Promise.resolve();
  assert.equal(small, false);
  huge();
  (await ps)();
  assert.equal(ledger.used, 0);
});

Deno.test("taskWorkerCount: auto needs enough input, the CPU backend and storages a worker can reopen", () => {
  const config = validateConfig({ data: { source: "/data/bars" }, storage: { output: "/data/out" } });
  const file = (size: number) => ({ key: "x", size });
  const tasks = (n: number, size: number) =>
    Array.from({ length: n }, (_, i) => ({ instrument: `I${i}`, files: [file(size)] }));
  const source = new LocalStorage("/data/bars"), output = new LocalStorage("/data/out");
  const cores = navigator.hardwareConcurrency;
  const big = tasks(8, MIN_PARALLEL_BYTES);
  assert.equal(taskWorkerCount(config, { gpu: false, tasks: big, source, output }), Math.min(8, cores));
  assert.equal(taskWorkerCount(config, { gpu: false, tasks: tasks(8, 1000), source, output }), 1);
  assert.equal(taskWorkerCount(config, { gpu: true, tasks: big, source, output }), 1);
  assert.equal(taskWorkerCount(config, { gpu: false, tasks: big.slice(0, 1), source, output }), 1);
  // A Storage built in code (here: another folder, or a wrapper class) is not what a worker would open.
  class Wrapped extends LocalStorage {}
  for (const s of [new LocalStorage("/elsewhere"), new Wrapped("/data/bars")]) {
    assert.equal(taskWorkerCount(config, { gpu: false, tasks: big, source: s, output }), 1);
  }
  // auto uses the idle cores only (a busy core would run a second task's warm-up for nothing).
  assert.equal(taskWorkerCount(config, { gpu: false, tasks: big, source, output, idle: 0.2 }), 1);
  assert.equal(taskWorkerCount(config, { gpu: false, tasks: big, source, output, idle: 1.3 }), 1);
  assert.equal(
    taskWorkerCount(config, { gpu: false, tasks: big, source, output, idle: 64 }),
    Math.min(8, cores),
  );
  assert.equal(
    taskWorkerCount(config, { gpu: false, tasks: big, source, output, idle: null }),
    Math.min(8, cores),
  );
  config.compute.task_workers = 3;
  assert.equal(taskWorkerCount(config, { gpu: false, tasks: tasks(2, 10), source, output }), 2);
  assert.equal(taskWorkerCount(config, { gpu: false, tasks: tasks(2, 10), source, output, idle: 0 }), 2);
  config.compute.task_workers = 0;
  assert.equal(taskWorkerCount(config, { gpu: false, tasks: big, source, output }), 1);
  assert.throws(() => validateConfig({ compute: { task_workers: -1 } }), /compute\.task_workers/);
  assert.throws(() => validateConfig({ compute: { task_workers: "many" } }), /compute\.task_workers/);
});

Deno.test("idleMeter: idle cores from the CPU counters with --allow-sys=cpus, null without", async () => {
  const script = `import { idleMeter } from ${
    JSON.stringify(new URL("../pipeline/task_pool.ts", import.meta.url).href)
  };
    console.log(JSON.stringify(await idleMeter()()));`;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, script);
  const measure = async (perm: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...perm, file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    return JSON.parse(new TextDecoder().decode(out.stdout));
  };
  const cores = navigator.hardwareConcurrency;
  const idle = await measure(["--allow-sys=cpus"]);
  assert.ok(typeof idle === "number" && idle >= 0 && idle <= cores + 1e-9, `idle ${idle} of ${cores} cores`);
  assert.equal(await measure([]), null);
  assert.equal(await idleMeter()(), null); // this test process has no --allow-sys=cpus
});
