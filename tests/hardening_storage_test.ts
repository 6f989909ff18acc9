/**
 * Storage failures and symbolic links. Each test names the failure it guards against and asserts the exit
 * code and the one-line message, which must name the path and say what to do:
 * - a full disk (a real 700 KiB tmpfs where the machine allows mounting, and everywhere an output whose
 *   writes fail with the operating system's own ENOSPC error): exit 1, committed tasks intact, no torn or
 *   temporary files, the run stops instead of failing every later task, and a re-run finishes;
 * - a read-only output (read-only tmpfs as root, a 0555 folder otherwise): exit 2;
 * - an output (or registry) path that is, or lies under, a file; a registry that is not a database;
 *   a source that is a file: exit 2;
 * - `kernel --output` into a missing folder, onto a folder, under a file: exit 2 before reading the input;
 * - the OS errors themselves (ENOSPC from /dev/full, ENOTDIR, EEXIST, EISDIR, a missing folder) as messages;
 * - symbolic links in a source: inside ones followed, outside, broken, looping ones and FIFOs skipped, each
 *   logged once with its path and why.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { loadConfigFile } from "../config/load.ts";
import { configHash } from "../config/print.ts";
import { generate } from "../generator/generate.ts";
import { sha256Hex } from "../io/checksum.ts";
import { type Bytes, joinBytes } from "../io/bytes.ts";
import { LocalStorage } from "../io/storage.ts";
import { StorageError, storageError, writeFileAtomic } from "../io/write.ts";
import { Registry } from "../pipeline/registry.ts";
import { runPipeline } from "../pipeline/run.ts";
import { setLogSink } from "../runtime/log.ts";
import { cli } from "./cli_harness.ts";

const INSTRUMENTS = 4;
const ROWS = 3000;
const TMP = /\.tmp-[0-9a-f]+$/;

/** Escapes a path for a RegExp. */
const re = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The CLI's one-line error (the last stderr line that is not a JSON log record). */
function errorLine(err: string): string {
  return err.trim().split("\n").filter((l) => !l.startsWith("{")).at(-1) ?? "";
}

let source: Promise<string> | undefined;
function dataset(): Promise<string> {
  return source ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "fg-hardening-src-" });
    await generate({
      kind: "bars",
      storage: new LocalStorage(dir),
      instruments: INSTRUMENTS,
      rows: ROWS,
      seed: 9,
      workers: 1,
    });
    return dir;
  })();
}

/** A fast config (stationarization only) writing to `output`. */
async function config(
  dir: string,
  output: string,
  extra: { registry?: string; source?: string } = {},
): Promise<string> {
  const path = join(dir, `config-${crypto.randomUUID().slice(0, 6)}.yaml`);
  await Deno.writeTextFile(
    path,
    `data:\n  source: ${extra.source ?? await dataset()}\nstorage:\n  output: ${output}\n` +
      (extra.registry ? `  registry: ${extra.registry}\n` : "") +
      "compute:\n  backend: cpu\ngenerator:\n  if_empty: false\npipeline:\n  engines:\n" +
      "    feature_engineering: { enabled: false }\n    garch_models: { enabled: false }\n" +
      "    statistical_tests: { enabled: false }\n",
  );
  return path;
}

/** Every file below `root` (relative), temporary ones included. */
function walk(root: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(join(root, rel))) {
    const key = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...walk(root, key));
    else out.push(key);
  }
  return out.sort();
}

/** Checks every committed task in `out`: its parts exist with the manifest's size and hash; returns them. */
async function committedIntact(out: string): Promise<string[]> {
  const committed: string[] = [];
  for (let i = 0; i < INSTRUMENTS; i++) {
    const inst = `SYN000${i}`;
    let manifest: { files: { key: string; bytes: number; sha256: string }[] };
    try {
      manifest = JSON.parse(await Deno.readTextFile(join(out, inst, "_manifest.json")));
    } catch {
      continue;
    }
    for (const f of manifest.files) {
      const bytes = await Deno.readFile(join(out, f.key));
      assert.equal(bytes.length, f.bytes, `${f.key}: size differs from its manifest`);
      assert.equal(await sha256Hex(bytes), f.sha256, `${f.key}: torn or changed`);
    }
    committed.push(inst);
  }
  return committed;
}

/** Runs `mount ARGS`; true when it worked (root on Linux, with tmpfs allowed). */
async function mount(...args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command("mount", { args, stdout: "null", stderr: "null" }).output()).success;
  } catch {
    return false;
  }
}

/** Whether this machine lets the test mount a tmpfs (root, Linux); decided once. */
const canMount = (async () => {
  if (Deno.build.os !== "linux") return false;
  const dir = await Deno.makeTempDir({ prefix: "fg-mount-probe-" });
  const ok = await mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", dir);
  if (ok) await new Deno.Command("umount", { args: [dir] }).output();
  await Deno.remove(dir);
  return ok;
})();

/** A real ENOSPC from the operating system (writing /dev/full), or an equivalent where there is none. */
function realEnospc(): Error {
  try {
    Deno.writeFileSync("/dev/full", new Uint8Array(1));
  } catch (e) {
    if ((e as { code?: string }).code === "ENOSPC") return e as Error;
  }
  return Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" });
}

const FULL = "; free space there or write to another location, then re-run \\(committed work is kept\\)$";

Deno.test({
  name:
    "disk full (real 700 KiB tmpfs): exit 1 naming the file, committed tasks intact, no temp files; re-run finishes",
  ignore: !(await canMount),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "fg-hardening-" });
    const out = join(dir, "out");
    await Deno.mkdir(out);
    assert.ok(await mount("-t", "tmpfs", "-o", "size=700k", "tmpfs", out));
    try {
      // The registry elsewhere, so the data files are what fills the disk.
      const cfg = await config(dir, out, { registry: join(dir, "reg", "registry.sqlite") });
      const r = await cli(["run", "--config", cfg]);
      assert.equal(r.code, 1, r.err);
      assert.match(
        errorLine(r.err),
        new RegExp(
          `^error: no space left on the device of ${re(out)}/SYN000\\d \\(while writing ${
            re(out)
          }/SYN000\\d/\\S+\\)${FULL}`,
        ),
      );
      const committed = await committedIntact(out);
      assert.ok(committed.length >= 1 && committed.length < INSTRUMENTS, `committed: ${committed}`);
      assert.deepEqual(walk(out).filter((k) => TMP.test(k)), [], "temporary files left on the full disk");
      // Room again: the re-run skips what was committed and does the rest.
      assert.ok(await mount("-o", "remount,size=16m", out));
      const again = await cli(["run", "--config", cfg]);
      assert.equal(again.code, 0, again.err);
      assert.match(
        again.out,
        new RegExp(`\\(${INSTRUMENTS - committed.length} done, ${committed.length} skipped, 0 failed`),
      );
      assert.equal((await committedIntact(out)).length, INSTRUMENTS);
    } finally {
      await new Deno.Command("umount", { args: [out] }).output();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("disk full (an output failing with the OS's ENOSPC): the run stops with a StorageError, commits intact", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-hardening-" });
  try {
    const out = join(dir, "out");
    const enospc = realEnospc();
    /** Fills up while writing the third instrument, half-way through its part file. */
    class FillingUp extends LocalStorage {
      override async put(key: string, parts: Bytes): Promise<void> {
        if (key.startsWith("SYN0002/")) {
          const bytes = joinBytes(parts);
          const path = join(this.root, key);
          await Deno.mkdir(dirname(path), { recursive: true });
          await Deno.writeFile(`${path}.tmp-0badf00d`, bytes.subarray(0, bytes.length >> 1)); // torn temp
          await Deno.remove(`${path}.tmp-0badf00d`); // what writeFileAtomic does on failure
          throw storageError(enospc, path, "writing");
        }
        return await super.put(key, parts);
      }
    }
    const cfg = await loadConfigFile(await config(dir, out));
    const registryPath = join(dir, "registry.sqlite");
    const err = await runPipeline({
      config: cfg,
      configHash: await configHash(cfg),
      source: new LocalStorage(await dataset()),
      output: new FillingUp(out),
      registryPath,
      progress: () => {},
    }).then(() => null, (e) => e);
    assert.ok(err instanceof StorageError, `expected a StorageError, got ${err}`);
    assert.equal(err.exitCode, 1);
    assert.match(
      err.message,
      new RegExp(
        `^no space left on the device of ${re(out)}/SYN0002 \\(while writing ${
          re(out)
        }/SYN0002/\\S+\\)${FULL}`,
      ),
    );
    assert.deepEqual(await committedIntact(out), ["SYN0000", "SYN0001"]);
    assert.deepEqual(walk(out).filter((k) => TMP.test(k) || k.startsWith("SYN0003")), []);
    // The run stopped at the full disk (SYN0003 not attempted) and is recorded as failed.
    const registry = await Registry.open(registryPath);
    try {
      const [run] = await registry.recentRuns(1);
      assert.equal(run.status, "failed");
      assert.deepEqual(
        (await registry.tasks(run.id)).map((t) => [t.instrument, t.status]),
        [["SYN0002", "failed"], ["SYN0000", "done"], ["SYN0001", "done"]],
      );
    } finally {
      await registry.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("read-only output: exit 2 naming the folder and what to do (registry in it, or elsewhere)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-hardening-" });
  const ro = join(dir, "ro");
  await Deno.mkdir(ro);
  // As root a 0555 folder is still writable: use a read-only tmpfs there.
  const mounted = await canMount && await mount("-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", ro);
  if (!mounted) await Deno.chmod(ro, 0o555);
  try {
    let probe = true;
    try {
      await Deno.writeTextFile(join(ro, "probe"), "x");
    } catch {
      probe = false;
    }
    if (probe) return void console.log("skipped: cannot make a read-only folder here (root without mount)");
    const why = `(${re(ro)} is on a read-only file system|permission denied on ${re(ro)}\\S*)`;
    const fix =
      "(choose a writable location|make it \\(and its folder\\) writable by this user or choose another location)";
    const a = await cli(["run", "--config", await config(dir, ro)]);
    assert.equal(a.code, 2, a.err);
    assert.match(
      errorLine(a.err),
      new RegExp(
        `^error: ${why} \\(while opening the run registry ${
          re(ro)
        }/registry\\.sqlite\\); ${fix} \\(storage\\.output or storage\\.registry\\)$`,
      ),
    );
    const b = await cli([
      "run",
      "--config",
      await config(dir, ro, { registry: join(dir, "reg", "r.sqlite") }),
    ]);
    assert.equal(b.code, 2, b.err);
    assert.match(
      errorLine(b.err),
      new RegExp(`^error: ${why} \\(while writing ${re(ro)}/_lease\\.json\\); ${fix}$`),
    );
  } finally {
    if (mounted) await new Deno.Command("umount", { args: [ro] }).output();
    else await Deno.chmod(ro, 0o755);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a file where a folder should be, a registry that is not a database, a source that is a file: exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-hardening-" });
  try {
    const file = join(dir, "a-file");
    await Deno.writeTextFile(file, "not a folder");
    const fix = "remove or rename that file, or choose another location";
    // The output is a file (the registry would go inside it).
    const a = await cli(["run", "--config", await config(dir, file)]);
    assert.equal(a.code, 2);
    assert.equal(
      errorLine(a.err),
      `error: ${file} is a file, not a folder (while creating the folder of the run registry ${file}); ${fix} ` +
        "(storage.output or storage.registry)",
    );
    // The output lies under a file.
    const b = await cli(["run", "--config", await config(dir, join(file, "out"))]);
    assert.equal(b.code, 2);
    assert.match(
      errorLine(b.err),
      new RegExp(
        `^error: ${re(file)} is a file, not a folder \\(while creating the folder of the run registry ${
          re(file)
        }/out\\); `,
      ),
    );
    // The output is a file, the registry elsewhere: the output's own first write says it.
    const c = await cli([
      "run",
      "--config",
      await config(dir, file, { registry: join(dir, "reg", "r.sqlite") }),
    ]);
    assert.equal(c.code, 2);
    assert.equal(
      errorLine(c.err),
      `error: ${file} is a file, not a folder (while creating the folder ${file}); ${fix}`,
    );
    // The registry is not a SQLite database.
    const junk = join(dir, "junk.sqlite");
    await Deno.writeTextFile(
      junk,
      "this is not a database, but it is long enough to have a header".repeat(20),
    );
    const d = await cli(["run", "--config", await config(dir, join(dir, "out"), { registry: junk })]);
    assert.equal(d.code, 2);
    assert.match(
      errorLine(d.err),
      new RegExp(
        `^error: run registry ${
          re(junk)
        } cannot be used: file is not a database \\(while opening it\\); it must be a SQLite database this user can read and write: move it away or choose another path \\(storage\\.output or storage\\.registry\\)$`,
      ),
    );
    // The registry is a folder.
    const regDir = join(dir, "regdir");
    await Deno.mkdir(regDir);
    const f = await cli(["run", "--config", await config(dir, join(dir, "out3"), { registry: regDir })]);
    assert.equal(f.code, 2);
    assert.equal(
      errorLine(f.err),
      `error: run registry ${regDir} is a folder, not a file; remove it or choose another path ` +
        "(storage.output or storage.registry)",
    );
    // The source is a file.
    const e = await cli(["run", "--config", await config(dir, join(dir, "out2"), { source: file })]);
    assert.equal(e.code, 2);
    assert.match(
      errorLine(e.err),
      new RegExp(`^error: ${re(file)}.*(is a file, not a folder|no input files)`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("one task's output folder blocked by a file: that task fails naming the file, the others are done", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-hardening-" });
  try {
    const out = join(dir, "out");
    await Deno.mkdir(out);
    await Deno.writeTextFile(join(out, "SYN0001"), "a file where the task's folder goes");
    const r = await cli(["run", "--config", await config(dir, out)]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /\(3 done, 0 skipped, 1 failed/);
    const failed = JSON.parse(r.err.split("\n").find((l) => l.includes('"task failed"'))!);
    assert.equal(failed.task, "SYN0001");
    assert.match(
      failed.error,
      new RegExp(
        `^${
          re(join(out, "SYN0001"))
        } is a file, not a folder \\(while \\S+ .*\\); remove or rename that file`,
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Whether this process is refused a file it made unreadable (false as root, which reads everything). */
const permissionsApply = (async () => {
  const f = await Deno.makeTempFile();
  await Deno.chmod(f, 0o000);
  const refused = await Deno.readFile(f).then(() => false, () => true);
  await Deno.remove(f);
  return refused;
})();

Deno.test({
  name: "an unreadable input file (no permission): its task fails naming the file and asking for read access",
  ignore: !(await permissionsApply),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "fg-hardening-" });
    const src = join(dir, "src");
    try {
      await Deno.mkdir(src);
      const data = await dataset();
      for (const i of ["SYN0000", "SYN0001"]) {
        await Deno.mkdir(join(src, i));
        for (const e of Deno.readDirSync(join(data, i))) {
          await Deno.copyFile(join(data, i, e.name), join(src, i, e.name));
        }
      }
      const locked = join(src, "SYN0001", [...Deno.readDirSync(join(src, "SYN0001"))][0].name);
      await Deno.chmod(locked, 0o000);
      const r = await cli(["run", "--config", await config(dir, join(dir, "out"), { source: src })]);
      assert.equal(r.code, 1, r.err);
      assert.match(
        r.err,
        new RegExp(
          `permission denied on ${re(locked)} \\(while reading ${
            re(locked)
          }\\); make it readable by this user`,
        ),
      );
    } finally {
      await Deno.chmod(src, 0o755).catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("kernel --output into a missing folder, onto a folder or under a file: exit 2 before reading the input", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-hardening-" });
  try {
    const file = join(dir, "f.txt");
    await Deno.writeTextFile(file, "x");
    // The input does not exist either: the output is checked first, before any reading or computing.
    const base = [
      "kernel",
      "zscore",
      "--input",
      join(dir, "missing.csv"),
      "--column",
      "close",
      "--window",
      "5",
    ];
    const cases: [string, string][] = [
      [
        join(dir, "nope", "out.csv"),
        `--output ${join(dir, "nope", "out.csv")}: the folder ${
          join(dir, "nope")
        } does not exist; create it or choose another path`,
      ],
      [dir, `--output ${dir} is a folder; name a file in it instead`],
      [
        join(file, "out.csv"),
        `--output ${join(file, "out.csv")}: ${file} is not a folder; choose another path`,
      ],
      // Renaming over a device would replace it (as root, /dev/null would become a plain file).
      [
        "/dev/null",
        "--output /dev/null is not a regular file (a device, FIFO or socket); name a file, or leave out " +
        "--output to write to stdout",
      ],
    ];
    for (const [output, message] of cases) {
      const r = await cli([...base, "--output", output]);
      assert.equal(r.code, 2, r.err);
      assert.equal(errorLine(r.err), `error: ${message}`);
    }
    // A read-only folder (where this machine can mount one read-only).
    if (await canMount) {
      const ro = join(dir, "ro");
      await Deno.mkdir(ro);
      assert.ok(await mount("-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", ro));
      try {
        const r = await cli([...base, "--output", join(ro, "out.csv")]);
        assert.equal(r.code, 2, r.err);
        assert.equal(
          errorLine(r.err),
          `error: ${ro} is on a read-only file system (while checking --output ${join(ro, "out.csv")}); ` +
            "choose a writable location",
        );
      } finally {
        await new Deno.Command("umount", { args: [ro] }).output();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("OS storage errors become one line naming the path and the fix (ENOSPC, ENOTDIR, EEXIST, EISDIR, no folder)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-hardening-" });
  try {
    const full = storageError(realEnospc(), "/data/out/x.feather", "writing") as StorageError;
    assert.ok(full instanceof StorageError);
    assert.equal(full.exitCode, 1);
    assert.match(
      full.message,
      new RegExp(
        `^no space left on the device of /data/out \\(while writing /data/out/x\\.feather\\)${FULL}`,
      ),
    );
    const file = join(dir, "file");
    await Deno.writeTextFile(file, "x");
    // A folder under a file (ENOTDIR), a folder where a file is (EEXIST): name the file.
    for (const target of [join(file, "sub", "x.feather"), join(file, "x.feather")]) {
      const e = await new LocalStorage(dir).put(target.slice(dir.length + 1), new Uint8Array(1)).then(
        () => null,
        (e) => e,
      );
      assert.ok(e instanceof StorageError, String(e));
      assert.equal(e.exitCode, 2);
      assert.match(
        e.message,
        new RegExp(
          `^${re(file)} is a file, not a folder \\(while creating the folder ${
            re(file)
          }\\S*\\); remove or rename that file`,
        ),
      );
    }
    // Writing a file where a folder is (EISDIR), into a missing folder (ENOENT): the final path, not the temp name.
    await Deno.mkdir(join(dir, "folder"));
    const isDir = await writeFileAtomic(join(dir, "folder"), new Uint8Array(1)).then(() => null, (e) => e);
    assert.ok(isDir instanceof StorageError);
    assert.equal(
      isDir.message,
      `${join(dir, "folder")} is a folder, not a file (while writing ${
        join(dir, "folder")
      }); name a file path instead`,
    );
    const missing = await writeFileAtomic(join(dir, "no", "x"), new Uint8Array(1)).then(() => null, (e) => e);
    assert.ok(missing instanceof StorageError);
    assert.equal(
      missing.message,
      `cannot write ${join(dir, "no", "x")}: the folder ${
        join(dir, "no")
      } does not exist; create it or choose another path`,
    );
    const device = await writeFileAtomic("/dev/null", new Uint8Array(1)).then(() => null, (e) => e);
    assert.ok(device instanceof StorageError);
    assert.equal(
      device.message,
      "/dev/null is not a regular file (a device, FIFO or socket); name a file instead",
    );
    assert.ok(Deno.statSync("/dev/null").isCharDevice, "/dev/null is still a device");
    assert.deepEqual(walk(dir).filter((k) => TMP.test(k)), [], "a failed write left its temporary file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("symlinks in a source: inside ones followed; outside, broken, looping ones and FIFOs skipped and logged once", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "fg-hardening-" }));
  const logs: string[] = [];
  const prev = setLogSink((level, msg) => void logs.push(`${level}: ${msg}`));
  try {
    const root = join(dir, "src"), outside = join(dir, "elsewhere");
    await Deno.mkdir(join(root, "sub"), { recursive: true });
    await Deno.mkdir(outside);
    await Deno.writeTextFile(join(root, "A.csv"), "a");
    await Deno.writeTextFile(join(root, "sub", "B.csv"), "b");
    await Deno.writeTextFile(join(outside, "secret.csv"), "s");
    await Deno.symlink(join(root, "A.csv"), join(root, "alias.csv")); // inside: followed
    await Deno.symlink("sub", join(root, "subalias")); // a folder already listed: not walked twice
    await Deno.symlink(join(outside, "secret.csv"), join(root, "leak.csv")); // outside
    await Deno.symlink(outside, join(root, "leakdir")); // outside folder
    await Deno.symlink("../../elsewhere/secret.csv", join(root, "sub", "relleak.csv")); // outside, relative
    await Deno.symlink(join(root, "nothing"), join(root, "broken.csv")); // broken
    await Deno.symlink(root, join(root, "sub", "loop")); // a loop back to the root
    const fifo = new Deno.Command("mkfifo", { args: [join(root, "pipe.csv")] }).outputSync().success;
    const storage = new LocalStorage(root);
    const keys = (await storage.list()).map((o) => o.key);
    assert.deepEqual(keys, ["A.csv", "alias.csv", "sub/B.csv"]);
    await storage.list(); // listed again: warned once
    const expected = [
      `warn: ${join(root, "leak.csv")}: skipped: symbolic link to ${
        join(outside, "secret.csv")
      }, outside ${root}`,
      `warn: ${join(root, "leakdir")}: skipped: symbolic link to ${outside}, outside ${root}`,
      `warn: ${join(root, "sub", "relleak.csv")}: skipped: symbolic link to ${
        join(outside, "secret.csv")
      }, outside ${root}`,
      `warn: ${join(root, "broken.csv")}: skipped: broken symbolic link (its target does not exist)`,
      `warn: ${join(root, "subalias")}: skipped: symbolic link to ${
        join(root, "sub")
      }, a folder already listed`,
      `warn: ${join(root, "sub", "loop")}: skipped: symbolic link to ${root}, a folder already listed`,
      ...(fifo
        ? [`warn: ${join(root, "pipe.csv")}: skipped: not a regular file or folder (FIFO, socket or device)`]
        : []),
    ];
    assert.deepEqual([...logs].sort(), expected.sort());
  } finally {
    setLogSink(prev);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("symlinks in a run's source: the skipped instrument file is named in the run's log, the run goes on", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "fg-hardening-" }));
  try {
    const src = join(dir, "src");
    await Deno.mkdir(src);
    const data = await Deno.realPath(await dataset());
    for (const i of ["SYN0000", "SYN0001"]) await Deno.symlink(join(data, i), join(src, i)); // real data, outside src
    await Deno.mkdir(join(src, "SYN0002"));
    for (const e of Deno.readDirSync(join(data, "SYN0002"))) {
      await Deno.copyFile(join(data, "SYN0002", e.name), join(src, "SYN0002", e.name));
    }
    const r = await cli(["run", "--config", await config(dir, join(dir, "out"), { source: src })]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\(1 done, 0 skipped, 0 failed/);
    for (const i of ["SYN0000", "SYN0001"]) {
      assert.match(
        r.err,
        new RegExp(
          `"msg":"${re(join(src, i))}: skipped: symbolic link to ${re(join(data, i))}, outside ${re(src)}"`,
        ),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a symlink planted in the output never makes a write land outside it: that task fails, the rest run", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "fg-hardening-" }));
  try {
    const out = join(dir, "out"), elsewhere = join(dir, "elsewhere");
    await Deno.mkdir(out);
    await Deno.mkdir(elsewhere);
    await Deno.symlink(elsewhere, join(out, "SYN0001"));
    const r = await cli(["run", "--config", await config(dir, out)]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /\(3 done, 0 skipped, 1 failed/);
    const failed = JSON.parse(r.err.split("\n").find((l) => l.includes('"task failed"'))!);
    assert.equal(failed.task, "SYN0001");
    assert.match(
      failed.error,
      new RegExp(
        `^${re(out)}/SYN0001/\\S+: ${re(out)}/SYN0001 leads to ${re(elsewhere)}, outside ${
          re(out)
        } \\(a symbolic ` +
          "link\\); remove the link: writes stay inside the storage folder$",
      ),
    );
    assert.deepEqual([...Deno.readDirSync(elsewhere)], [], "nothing was written through the link");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
