/**
 * Crash safety of the `run` command: a CLI child process is killed with SIGKILL while it writes a local
 * dataset's outputs (after at least one task is committed, preferably while a temporary file is open). What
 * it leaves must be consistent: every manifest's parts exist with the manifest's size and SHA-256 and decode,
 * every file at a final `part-*` name decodes, temporary files are invisible to LocalStorage.list, and a
 * re-run skips exactly the committed tasks, does the rest and commits every instrument.
 */
import assert from "node:assert/strict";
import { Registry } from "../pipeline/registry.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tableFromIPC } from "apache-arrow";
import { main } from "../cli/main.ts";
import { generate } from "../generator/generate.ts";
import { registerArrowDecoders } from "../io/arrow.ts";
import { LocalStorage } from "../io/storage.ts";
import type { Manifest } from "../pipeline/output.ts";
import type { RunSummary } from "../pipeline/run.ts";

const INSTRUMENTS = 6;
const ROWS = 300_000;
const REPO = fileURLToPath(new URL("..", import.meta.url));
const TMP = /\.tmp-[0-9a-f]+$/;

async function sha256(bytes: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Every file under `root` (relative paths), temporary files included. */
function walk(root: string, rel = ""): string[] {
  const out: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(join(root, rel))];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return out;
    throw e;
  }
  for (const e of entries) {
    const key = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...walk(root, key));
    else out.push(key);
  }
  return out.sort();
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Runs the CLI in-process with console output captured (returned) instead of printed. */
async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const { log, error } = console;
  const stderrWrite = Deno.stderr.writeSync;
  console.log = (...a: unknown[]) => void out.push(a.map(String).join(" "));
  console.error = (...a: unknown[]) => void err.push(a.map(String).join(" "));
  Deno.stderr.writeSync = (p: Uint8Array) => (err.push(new TextDecoder().decode(p)), p.length);
  try {
    return { code: await main(argv), out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
    Deno.stderr.writeSync = stderrWrite;
  }
}

Deno.test("a run killed with SIGKILL leaves only whole committed outputs; the re-run finishes the rest", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-pipeline-crash-" });
  try {
    const src = join(dir, "bars"), out = join(dir, "out");
    await generate({
      kind: "bars",
      storage: new LocalStorage(src),
      instruments: INSTRUMENTS,
      rows: ROWS,
      seed: 3,
      workers: 2,
    });
    const config = join(dir, "config.yaml");
    await Deno.writeTextFile(
      config,
      `data:\n  source: ${src}\nstorage:\n  output: ${out}\ncompute:\n  backend: cpu\n` +
        `generator:\n  if_empty: false\n`,
    );
    const instruments = Array.from({ length: INSTRUMENTS }, (_, i) => `SYN${String(i).padStart(4, "0")}`);
    const manifestPath = (inst: string) => join(out, inst, "_manifest.json");

    // The killed run.
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "cli/main.ts", "run", "--config", config],
      cwd: REPO,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    let exited = false;
    child.status.then(() => exited = true);
    let committed: string[] = [];
    let sawTmp = false;
    const deadline = Date.now() + 120_000;
    while (true) {
      committed = instruments.filter((i) => exists(manifestPath(i)));
      // Kill as soon as a temporary file is being written after a commit, or at the last task at the latest.
      sawTmp = committed.length > 0 && walk(out).some((k) => TMP.test(k));
      if (sawTmp || committed.length >= INSTRUMENTS - 1) break;
      if (exited || Date.now() > deadline) {
        child.kill("SIGKILL");
        await child.status;
        assert.fail(`the child ${exited ? "exited" : "timed out"} before being killed:\n${await stderr}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill("SIGKILL");
    const status = await child.status;
    await stderr;
    assert.equal(status.signal, "SIGKILL");
    committed = instruments.filter((i) => exists(manifestPath(i)));
    assert.ok(committed.length >= 1 && committed.length < INSTRUMENTS, `committed: ${committed}`);

    // What the killed run left: committed manifests point at whole parts.
    registerArrowDecoders();
    const manifests = new Map<string, { text: string; manifest: Manifest }>();
    let killedRun = "";
    for (const inst of committed) {
      const text = await Deno.readTextFile(manifestPath(inst));
      const manifest: Manifest = JSON.parse(text);
      manifests.set(inst, { text, manifest });
      killedRun ||= manifest.run_id;
      assert.equal(manifest.run_id, killedRun);
      assert.equal(manifest.rows, ROWS);
      assert.equal(manifest.files.reduce((a, f) => a + f.rows, 0), ROWS);
      for (const f of manifest.files) {
        const bytes = await Deno.readFile(join(out, f.key));
        assert.equal(bytes.length, f.bytes, `${f.key}: size differs from the manifest`);
        assert.equal(await sha256(bytes), f.sha256, `${f.key}: SHA-256 differs from the manifest`);
        assert.equal(tableFromIPC(bytes).numRows, f.rows);
      }
    }
    // Every file at a final part name (committed or not) is whole.
    const files = walk(out);
    const parts = files.filter((k) => /\/part-\d{5}\.feather$/.test(k));
    assert.ok(parts.length >= committed.length);
    for (const k of parts) {
      const table = tableFromIPC(await Deno.readFile(join(out, k)));
      assert.ok(table.numRows > 0 && table.numRows <= ROWS, `${k}: ${table.numRows} rows`);
    }
    // Temporary files (if the kill hit a write) are not listed as objects.
    const tmps = files.filter((k) => TMP.test(k));
    const listed = (await new LocalStorage(out).list()).map((o) => o.key);
    assert.ok(!listed.some((k) => TMP.test(k)), `LocalStorage.list shows temporary files: ${listed}`);
    assert.deepEqual(listed, files.filter((k) => !TMP.test(k)));
    console.log(
      `killed after ${committed.length}/${INSTRUMENTS} commits; ${parts.length} part files, ` +
        `${tmps.length} temporary file(s) left${sawTmp ? " (killed during a write)" : ""}`,
    );

    // The re-run: committed tasks skipped (their manifests untouched), the rest done, all committed.
    const r = await runCli(["run", "--config", config]);
    assert.equal(r.code, 0, `re-run exit ${r.code}:\n${r.out}\n${r.err}`);
    const id = /^run (\S+): done/m.exec(r.out)?.[1];
    assert.ok(id, r.out);
    const summary: RunSummary = JSON.parse(await Deno.readTextFile(join(out, "_runs", id, "summary.json")));
    assert.deepEqual(
      summary.tasks.map((x) => [x.instrument, x.status, x.rows]),
      instruments.map((i) => [i, committed.includes(i) ? "skipped" : "done", ROWS]),
    );
    for (const inst of instruments) {
      const text = await Deno.readTextFile(manifestPath(inst));
      const manifest: Manifest = JSON.parse(text);
      if (committed.includes(inst)) assert.equal(text, manifests.get(inst)!.text, `${inst} was rewritten`);
      else assert.equal(manifest.run_id, id);
      for (const f of manifest.files) {
        const bytes = await Deno.readFile(join(out, f.key));
        assert.equal(await sha256(bytes), f.sha256, `${f.key}: SHA-256 differs from the manifest`);
      }
    }
    // No part file outside the manifests is left behind.
    const inManifests = new Set(
      instruments.flatMap((i) =>
        (JSON.parse(Deno.readTextFileSync(manifestPath(i))) as Manifest).files.map((f) => f.key)
      ),
    );
    const finalParts = walk(out).filter((k) => /\/part-\d{5}\.feather$/.test(k));
    assert.deepEqual(finalParts, [...inManifests].sort());
    // The killed run is not left "running" in the registry: the re-run found its liveness lock released
    // (its process is gone) and marked it abandoned before taking over its output lease; the finished run is not.
    const registry = await Registry.open(join(out, "registry.sqlite"));
    try {
      assert.equal(await registry.runStatus(killedRun), "abandoned");
      assert.deepEqual(
        await registry.markAbandoned(Deno.hostname(), { now: new Date(Date.now() + 121_000) }),
        [],
      );
    } finally {
      await registry.close();
    }
    const runs = await runCli(["runs", "--config", config]);
    assert.equal(runs.code, 0, runs.err);
    assert.match(runs.out, new RegExp(`${killedRun}\\s+abandoned`));
    assert.match(runs.out, new RegExp(`${id}\\s+done`));
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
