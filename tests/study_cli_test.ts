/**
 * `search` end to end (cli/search_cmd.ts, study/): a study killed with SIGKILL mid-run and resumed ends with the
 * same leaderboard as an uninterrupted run with the same seed; feature cache hits are counted; status, best,
 * export and import; and the study file's errors name the key.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generate } from "../generator/generate.ts";
import { LocalStorage } from "../io/storage.ts";
import { loadStudyFile } from "../study/definition.ts";
import { leaderboard } from "../study/run.ts";
import { StudyStore, type TrialRow } from "../study/store.ts";
import { cli } from "./cli_harness.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));

/**
 * The CLI in a child process (`deno run`: its trial workers start without the type check `deno test` gives
 * each worker module, which is most of a small study's time).
 */
async function spawnCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(REPO, "cli/main.ts"), ...args],
  })
    .output();
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: r.code, out: dec(r.stdout), err: dec(r.stderr) };
}

async function studyDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "fg-study-" });
  await generate({
    kind: "bars",
    storage: new LocalStorage(join(dir, "bars")),
    instruments: 2,
    rows: 1000,
    seed: 5,
    workers: 0,
  });
  return dir;
}

/** A study file: 8 trials of TPE in batches of 2 over two feature settings and the selection's top-k. */
async function studyFile(dir: string, name: string, extra = ""): Promise<string> {
  const path = join(dir, `${name}.yaml`);
  await Deno.writeTextFile(
    path,
    `name: ${name}
base:
  data: { source: ${join(dir, "bars")} }
  storage: { output: ${join(dir, "out")} }
  compute: { backend: cpu }
  features:
    frac_diff: { d_values: [0.4], threshold: 1.0e-3 }
    extraction: { set: none }
    selection_target_column: y_ret_fwd_5
  pipeline: { engines: { garch_models: { enabled: false, order: 3 } } }
sampler: tpe
seed: 3
trials: 8
parallel: 2
space:
  features.rolling_windows: { type: choice, choices: [[5, 10], [10, 20, 50]] }
  features.dcor_top_k: { type: int, low: 1, high: 4 }
cv: { scheme: walk_forward, folds: 3, embargo: 5 }
${extra}`,
  );
  return path;
}

const board = (trials: TrialRow[]) =>
  trials.map((t) => ({
    number: t.number,
    params: t.params,
    state: t.state,
    score: t.score,
    detail: t.detail,
  }));

async function trials(dir: string, name: string): Promise<TrialRow[]> {
  const store = await StudyStore.open(join(dir, "out", "studies.sqlite"));
  try {
    return store.trials(name);
  } finally {
    store.close();
  }
}

Deno.test("search: SIGKILL mid-study, then --resume, gives the uninterrupted run's leaderboard; cache hits counted", async () => {
  const dir = await studyDir();
  try {
    const whole = await spawnCli(["search", "--config", await studyFile(dir, "whole")]);
    assert.equal(whole.code, 0, whole.err);
    const expected = await trials(dir, "whole");
    assert.equal(expected.length, 8);
    assert(expected.every((t) => t.state === "complete"));
    // Cache: the features depend on rolling_windows only (top-k is the in-fold selection's): 2 settings x 2
    // instruments at most are computed, the rest hit; status reports the same counts.
    const hits = expected.reduce((a, t) => a + t.cache_hits, 0);
    const misses = expected.reduce((a, t) => a + t.cache_misses, 0);
    assert.equal(hits + misses, 16);
    const settings = new Set(expected.map((t) => JSON.stringify(t.params["features.rolling_windows"])));
    // (Two trials at once may both compute a setting they are the first to use: at most twice per instrument.)
    assert(misses >= settings.size * 2 && misses <= settings.size * 4, `misses ${misses}`);
    assert(hits >= 8, `hits ${hits}`);
    assert.match(whole.out, new RegExp(`feature cache hits ${hits} of 16`));

    // The same study under another name (same seed: the same trials), killed after its first trial finished.
    // Its own cache folder, so that it computes features again.
    const killed = await studyFile(dir, "killed", `cache: { dir: ${join(dir, "cache2")} }`);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(REPO, "cli/main.ts"), "search", "--config", killed],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!/trial \d+ complete/.test(seen)) {
      const { value, done } = await reader.read();
      if (done) assert.fail(`the study ended before it was killed:\n${seen}`);
      seen += value;
    }
    child.kill("SIGKILL");
    await child.status;
    await reader.cancel();
    const atKill = await trials(dir, "killed");
    const finished = atKill.filter((t) => t.state !== "running").length;
    assert(finished >= 1 && finished < 8, `killed mid-study: ${finished} finished`);
    console.log(`killed with ${finished} finished, ${atKill.length - finished} running`);

    const resumed = await spawnCli(["search", "--config", killed, "--resume"]);
    assert.equal(resumed.code, 0, resumed.err);
    if (atKill.some((t) => t.state === "running")) {
      assert.match(resumed.err, /lost with an earlier process run again/);
    }
    assert.deepEqual(board(await trials(dir, "killed")), board(expected));
    assert.deepEqual(
      leaderboard(await trials(dir, "killed")).map((t) => [t.number, t.score]),
      leaderboard(expected).map((t) => [t.number, t.score]),
    );

    // A finished study run again without --resume is refused; --resume on an unknown name too.
    const again = await cli(["search", "--config", killed]);
    assert.equal(again.code, 2);
    assert.match(again.err, /already exists .* pass --resume/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("search status, best, export and import; study file errors name the key (exit 2)", async () => {
  const dir = await studyDir();
  try {
    const file = await studyFile(dir, "s");
    await Deno.writeTextFile(file, (await Deno.readTextFile(file)).replace("trials: 8", "trials: 2"));
    assert.equal((await spawnCli(["search", "--config", file])).code, 0);
    const status = await cli(["search", "status", "--config", file]);
    assert.equal(status.code, 0);
    assert.match(status.out, /study s: 2 trials \(2 complete, 0 failed/);
    const best = leaderboard(await trials(dir, "s"))[0];
    // The best trial's config is written beside the database and is a runnable config with its parameters.
    const bestYaml = join(dir, "best.yaml");
    assert.equal((await cli(["search", "best", "--config", file, "--output", bestYaml])).code, 0);
    const text = await Deno.readTextFile(bestYaml);
    assert.match(text, new RegExp(`dcor_top_k: ${best.params["features.dcor_top_k"]}`));
    assert.equal((await cli(["config", "--print", "--config", bestYaml])).code, 0);
    assert.equal(await Deno.readTextFile(join(dir, "out", "s.best.yaml")), text);

    const backup = join(dir, "s.jsonl"), db2 = join(dir, "other.sqlite");
    assert.equal((await cli(["search", "export", "--config", file, "--output", backup])).code, 0);
    assert.equal((await Deno.readTextFile(backup)).trim().split("\n").length, 3);
    assert.equal((await cli(["search", "import", "--input", backup, "--db", db2])).code, 0);
    const store = await StudyStore.open(db2);
    assert.deepEqual(board(store.trials("s")), board(await trials(dir, "s")));
    store.close();
    const twice = await cli(["search", "import", "--input", backup, "--db", db2]);
    assert.equal(twice.code, 2);
    assert.match(twice.err, /study "s" already exists/);

    const bad = async (yaml: string, re: RegExp) => {
      const f = await studyFile(dir, "bad");
      await Deno.writeTextFile(
        f,
        (await Deno.readTextFile(f)).replace(/space:\n( {2}.*\n)+/, `space:\n${yaml}\n`),
      );
      const r = await cli(["search", "--config", f]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, re);
    };
    await bad(
      "  features.nope: { type: int, low: 1, high: 2 }",
      /bad\.yaml: space\.features\.nope: not a config key/,
    );
    await bad(
      "  storage.output: { type: choice, choices: [a] }",
      /space\.storage\.output: unknown search key/,
    );
    await bad(
      "  features.dcor_top_k: { type: int, low: 0, high: 4 }",
      /space\.features\.dcor_top_k: the value 0 is refused by the config: features\.dcor_top_k: expected an integer in \[1,/,
    );
    await bad(
      "  features.frac_diff.threshold: { type: log_float, low: 0, high: 1 }",
      /log_float needs low > 0/,
    );
    // The documented example is a valid study.
    const example = await loadStudyFile(join(REPO, "examples/study.yaml"));
    assert.equal(Object.keys(example.space).length, 6);
    const resumeNew = await cli(["search", "--config", await studyFile(dir, "fresh"), "--resume"]);
    assert.equal(resumeNew.code, 2);
    assert.match(resumeNew.err, /--resume: no study named "fresh"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
