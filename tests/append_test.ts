/**
 * Appends (pipeline/chunked_task.ts): an instrument that gains rows — a new partition file, then rows appended
 * to it — is computed from its committed state and equals a full recompute bit for bit on the CPU path (every
 * column, the GARCH and selection reports), across FFD, FFT-grid, window, day-segment, GARCH-refit and target
 * boundaries, fitting only the GARCH refits from the restart row on; a changed row before the committed end,
 * or a checkpoint without GARCH state, recomputes the whole series, logged with the reason.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { cli, logRecords, runReports } from "./cli_harness.ts";
import { encodeCsv } from "../io/write.ts";
import { decodeFrame } from "../io/read.ts";
import type { Manifest } from "../pipeline/output.ts";
import type { Frame } from "../io/frame.ts";
import { bars, CHUNK_CONFIG } from "./chunk_fixture.ts";
import { percentLogReturns, walkForwardRefits } from "../kernels/garch.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** Writes rows [a, b) of `frame` as CSV to `path`. */
async function writeRows(path: string, frame: Frame, a: number, b: number): Promise<void> {
  const columns = [...frame.columns].map(([name, v]) => ({ name, values: v.subarray(a, b) }));
  await Deno.writeFile(path, encodeCsv(columns, { values: frame.timestamps!.subarray(a, b), format: "ms" }));
}

/** Runs the job on `dir` (bars/ -> out/); returns the output columns, the summary and the log. */
async function run(dir: string) {
  const config = join(dir, "config.yaml");
  // ~1,350-row chunks: a budget of 2.4 MB at ~744 bytes per row, minus the halo.
  const text = CHUNK_CONFIG.replace("data: { source: /nowhere }", `data: { source: ${join(dir, "bars")} }`)
    .replace("compute: { backend: cpu }", "compute: { backend: cpu, memory_budget: 2400000 }") +
    `storage: { output: ${join(dir, "out")} }\ngenerator: { if_empty: false }\n`;
  await Deno.writeTextFile(config, text);
  const r = await cli(["run", "--config", config]);
  assert.equal(r.code, 0, r.err.slice(-3000));
  const out = join(dir, "out");
  const m: Manifest = JSON.parse(await Deno.readTextFile(join(out, "SYN", "_manifest.json")));
  const columns = new Map<string, number[]>();
  for (const f of m.files) {
    const part = await decodeFrame(await Deno.readFile(join(out, f.key)), f.key);
    for (const [k, v] of part.columns) columns.set(k, [...columns.get(k) ?? [], ...v]);
  }
  const { summary } = await runReports(out, r.err);
  return {
    columns,
    manifest: m,
    task: summary.tasks[0],
    runId: summary.run_id,
    log: logRecords(r.err).map((l) => String(l.msg)),
  };
}

/** The GARCH fits a run logged, and the row they started from. */
function garchFits(log: string[]): { fits: number; from: number } | undefined {
  const m = log.map((l) => /^garch_models: (\d+) fits from row (\d+)/.exec(l)).find((x) => x);
  return m ? { fits: Number(m[1]), from: Number(m[2]) } : undefined;
}

function sameOutputs(a: Awaited<ReturnType<typeof run>>, b: Awaited<ReturnType<typeof run>>, what: string) {
  assert.deepEqual([...a.columns.keys()], [...b.columns.keys()], what);
  for (const [k, v] of a.columns) {
    const w = b.columns.get(k)!;
    assert.equal(v.length, w.length, `${what}: ${k} rows`);
    for (let t = 0; t < v.length; t++) {
      if (!Object.is(v[t], w[t])) assert.fail(`${what}: ${k} row ${t}: ${v[t]} appended, ${w[t]} recomputed`);
    }
  }
  const untimed = (r: unknown) =>
    JSON.parse(JSON.stringify(r, (k, v) => (k === "ms" || k === "timings_ms" ? undefined : v)));
  for (const e of ["garch_models", "statistical_tests"] as const) {
    assert.deepEqual(untimed(a.task.reports?.[e]), untimed(b.task.reports?.[e]), `${what}: ${e} report`);
  }
  assert.deepEqual(a.task.quality, b.task.quality, `${what}: quality`);
}

Deno.test(
  "appends compute only the new rows and equal a full recompute; changed history recomputes",
  opts,
  async () => {
    const frame = await bars(3600);
    const tmp = await Deno.makeTempDir({ prefix: "fg-append-" });
    const inc = join(tmp, "inc"), ref = (n: number) => join(tmp, `full-${n}`);
    const folder = (d: string) => join(d, "bars", "SYN");
    await Deno.mkdir(folder(inc), { recursive: true });

    await writeRows(join(folder(inc), "a.csv"), frame, 0, 2400);
    const first = await run(inc);
    let last: Awaited<ReturnType<typeof run>> | undefined;
    assert.ok(
      first.manifest.files.length >= 2 && first.task.chunks?.from === 0,
      JSON.stringify(first.task.chunks),
    );

    // A new partition (rows 2400..3000), then rows appended to it (..3300): each compared with a full run.
    for (const [before, end] of [[2400, 3000], [3000, 3300]]) {
      await writeRows(join(folder(inc), "b.csv"), frame, 2400, end);
      const appended = await run(inc);
      const from = appended.task.chunks!.from;
      assert.ok(from > 0 && from <= before, `appended from row ${from}`);
      const says = `appending ${end - before} rows`;
      assert.ok(appended.log.some((m) => m.startsWith(says)), appended.log.join("\n"));
      await Deno.mkdir(folder(ref(end)), { recursive: true });
      await writeRows(join(folder(ref(end)), "a.csv"), frame, 0, end);
      const full = await run(ref(end));
      sameOutputs(appended, full, `append to ${end} rows`);
      // GARCH fits only the refits from the restart row on (the fixture's refits are 300 rows apart).
      const refits = walkForwardRefits(percentLogReturns(frame.columns.get("close")!.subarray(0, end)), {
        window: 400,
        refitEvery: 300,
        minSamples: 500,
      });
      const since = refits.filter((f) => f.row >= from).length;
      assert.deepEqual(garchFits(appended.log), { fits: since, from }, "refits from the restart row");
      assert.deepEqual(garchFits(full.log), { fits: refits.length, from: 0 });
      assert.ok(since >= 1 && since < refits.length, `${since} of ${refits.length} refits`);
      last = appended;
    }

    // What the summary says about it.
    const md = await Deno.readTextFile(join(tmp, "inc", "out", "_runs", last!.runId, "summary.md"));
    assert.match(
      md,
      /- chunks of \d+ rows \(\+\d+ rows of history, \d+ ahead\): \d part\(s\) written, appended from row \d+/,
    );
    assert.match(md, /memory budget 2 MiB/);

    // A manifest fingerprinting its inputs as an earlier release did: the whole series, not "changed history".
    const key = join(inc, "out", "SYN", "_manifest.json");
    const earlier: Manifest = JSON.parse(await Deno.readTextFile(key));
    assert.match(earlier.chunked!.inputs_sha256, /^columns:[0-9a-f]{64}$/);
    earlier.chunked!.inputs_sha256 = earlier.chunked!.inputs_sha256.slice("columns:".length);
    await Deno.writeTextFile(key, JSON.stringify(earlier));
    await writeRows(join(folder(inc), "b.csv"), frame, 2400, 3450);
    const scheme = await run(inc);
    assert.equal(scheme.task.chunks?.from, 0);
    assert.ok(
      scheme.log.some((m) => m.includes("fingerprints its inputs as an earlier release did")),
      scheme.log.join("\n"),
    );

    // A manifest whose checkpoints carry no GARCH state (written before they did): the whole series again.
    const old: Manifest = JSON.parse(await Deno.readTextFile(key));
    for (const c of old.chunked!.checkpoints) delete c.garch;
    await Deno.writeTextFile(key, JSON.stringify(old));
    await writeRows(join(folder(inc), "b.csv"), frame, 2400, 3600);
    const stateless = await run(inc);
    assert.equal(stateless.task.chunks?.from, 0);
    assert.ok(
      stateless.log.some((m) => /checkpoint at row \d+ has no GARCH state/.test(m)),
      stateless.log.join("\n"),
    );

    // A changed bar before the committed end: the whole series again, and the log says why.
    frame.columns.get("volume")![100] += 1;
    await writeRows(join(folder(inc), "a.csv"), frame, 0, 2400);
    const changed = await run(inc);
    assert.equal(changed.task.chunks?.from, 0);
    assert.ok(
      changed.log.some((m) => m.includes("the input's first 3600 rows (the committed history) changed")),
      changed.log.join("\n"),
    );
    await Deno.remove(tmp, { recursive: true });
  },
);

Deno.test(
  "a memory budget too small for the kernels' history: exit 2 naming the key, before any task",
  opts,
  async () => {
    const tmp = await Deno.makeTempDir({ prefix: "fg-budget-" });
    const config = join(tmp, "config.yaml");
    await Deno.writeTextFile(
      config,
      CHUNK_CONFIG.replace("data: { source: /nowhere }", `data: { source: ${join(tmp, "bars")} }`)
        .replace("compute: { backend: cpu }", "compute: { backend: cpu, memory_budget: 1MiB }") +
        `storage: { output: ${join(tmp, "out")} }\ngenerator: { if_empty: false }\n`,
    );
    const r = await cli(["run", "--config", config]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /compute\.memory_budget: 1 MiB is too small for this configuration/);
    await Deno.remove(tmp, { recursive: true });
  },
);
