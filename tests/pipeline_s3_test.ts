/**
 * The `run` command end to end on S3 (a real SigV4-checking s3rver on 127.0.0.1): bars generated into an
 * s3:// source prefix, the pipeline reading from and writing to S3, outputs read back, a re-run that skips
 * every task, a wrong secret (exit 2, signature message, no secret), an unreachable endpoint, and no secret
 * anywhere in what the run prints, writes to S3 or stores in the registry. Credentials reach the config
 * through `${VAR}` substitution from environment variables set here.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { main } from "../cli/main.ts";
import { generate } from "../generator/generate.ts";
import { registerArrowDecoders } from "../io/arrow.ts";
import { decodeFrame } from "../io/read.ts";
import { S3Storage } from "../io/s3.ts";
import type { Manifest } from "../pipeline/output.ts";
import type { RunSummary } from "../pipeline/run.ts";
import { startS3Server, type TestS3Server } from "./s3_server.ts";

const INSTRUMENTS = 2;
/** Rows per instrument: large enough that each Feather part (~17 MB) goes up as a multipart upload. */
const ROWS = 160_000;
const ENV = {
  endpoint: "FG_TEST_S3_ENDPOINT",
  keyId: "FG_TEST_S3_KEY_ID",
  secret: "FG_TEST_S3_SECRET",
};

/** What `main` printed (console.log, console.error, direct stderr writes) and its exit code. */
interface Captured {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in-process, capturing everything it prints; restores the console afterwards. */
async function runCli(argv: string[]): Promise<Captured> {
  const out: string[] = [], err: string[] = [];
  const { log, error } = console;
  const stderrWrite = Deno.stderr.writeSync;
  const text = (args: unknown[]) => args.map((a) => typeof a === "string" ? a : Deno.inspect(a)).join(" ");
  console.log = (...args: unknown[]) => void out.push(text(args));
  console.error = (...args: unknown[]) => void err.push(text(args));
  Deno.stderr.writeSync = (p: Uint8Array) => (err.push(new TextDecoder().decode(p)), p.length);
  try {
    const code = await main(argv);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
    Deno.stderr.writeSync = stderrWrite;
  }
}

/** True when `needle` occurs in `bytes`. */
function contains(bytes: Uint8Array, needle: string): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(needle) >= 0;
}

function runId(c: Captured): string {
  const m = /^run (\S+): /m.exec(c.out);
  assert.ok(m, `no "run <id>:" line in the output:\n${c.out}\n${c.err}`);
  return m[1];
}

/** A free TCP port on 127.0.0.1 with nothing listening on it. */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function writeConfig(dir: string, name: string, bucket: string, extra = ""): string {
  const path = join(dir, name);
  Deno.writeTextFileSync(
    path,
    `data:
  source: s3://${bucket}/bars
storage:
  output: s3://${bucket}/out
  registry: ${join(dir, "registry", "registry.sqlite")}
  s3:
    endpoint: \${${ENV.endpoint}}
    region: us-east-1
    access_key_id: \${${ENV.keyId}}
    secret_access_key: \${${ENV.secret}}
    force_path_style: true
compute:
  backend: cpu
  task_workers: 2
generator:
  if_empty: false
${extra}`,
  );
  return path;
}

Deno.test("pipeline end to end on S3: outputs, skip on re-run, bad credentials and endpoint, no leaks", async (t) => {
  let server: TestS3Server | undefined;
  const dir = await Deno.makeTempDir({ prefix: "fg-pipeline-s3-" });
  const wrongSecret = `wrong-${crypto.randomUUID()}`;
  const printed: string[] = [];
  try {
    server = await startS3Server();
    const conn = {
      endpoint: server.endpoint,
      region: server.region,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      bucket: server.bucket,
      retryDelayMs: 10,
    };
    const source = new S3Storage({ ...conn, prefix: "bars" });
    const output = new S3Storage({ ...conn, prefix: "out" });
    const gen = await generate({
      kind: "bars",
      storage: source,
      instruments: INSTRUMENTS,
      rows: ROWS,
      seed: 11,
      workers: 2,
    });
    assert.equal(gen.rows, INSTRUMENTS * ROWS);
    Deno.env.set(ENV.endpoint, server.endpoint);
    Deno.env.set(ENV.keyId, server.accessKeyId);
    Deno.env.set(ENV.secret, server.secretAccessKey);
    const config = writeConfig(dir, "config.yaml", server.bucket);
    const instruments = Array.from({ length: INSTRUMENTS }, (_, i) => `SYN${String(i).padStart(4, "0")}`);

    await t.step(
      "run: exit 0, parts + manifests + summary on S3, rows and close equal the input",
      async () => {
        const r = await runCli(["run", "--config", config]);
        printed.push(r.out, r.err);
        assert.equal(r.code, 0, `exit ${r.code}:\n${r.out}\n${r.err}`);
        // Both instruments at once, each worker opening the bucket from the configuration.
        assert.match(r.err, /2 tasks at a time, each in a worker thread/);
        const id = runId(r);
        const keys = (await output.list()).map((o) => o.key);
        assert.ok(keys.includes(`_runs/${id}/summary.json`), `no summary.json in ${keys}`);
        assert.ok(keys.includes(`_runs/${id}/summary.md`), `no summary.md in ${keys}`);
        const summary: RunSummary = JSON.parse(
          new TextDecoder().decode(await output.get(`_runs/${id}/summary.json`)),
        );
        assert.equal(summary.status, "done");
        assert.equal(summary.output, `s3://${server!.bucket}/out`);
        assert.deepEqual(
          summary.tasks.map((x) => [x.instrument, x.status, x.rows]),
          instruments.map((i) => [i, "done", ROWS]),
        );
        registerArrowDecoders();
        for (const inst of instruments) {
          assert.ok(keys.includes(`${inst}/_manifest.json`), `no manifest for ${inst}`);
          const manifest: Manifest = JSON.parse(
            new TextDecoder().decode(await output.get(`${inst}/_manifest.json`)),
          );
          assert.equal(manifest.run_id, id);
          assert.equal(manifest.rows, ROWS);
          assert.ok(manifest.files.length >= 1);
          const input = await Promise.all(
            gen.files.filter((k) => k.startsWith(`${inst}/`)).map(async (k) =>
              decodeFrame(await source.get(k), k)
            ),
          );
          const inputClose = Float64Array.from(input.flatMap((f) => [...f.columns.get("close")!]));
          const inputTs = Float64Array.from(input.flatMap((f) => [...f.timestamps!]));
          assert.equal(inputClose.length, ROWS);
          let at = 0;
          for (const f of manifest.files) {
            assert.match(f.key, new RegExp(`^${inst}/part-\\d{5}\\.feather$`));
            assert.ok(keys.includes(f.key), `manifest part ${f.key} is not on S3`);
            const bytes = await output.get(f.key);
            assert.equal(bytes.length, f.bytes);
            const table = tableFromIPC(bytes);
            assert.equal(table.numRows, f.rows);
            assert.deepEqual(table.schema.fields.map((x) => x.name), manifest.columns);
            const close = table.getChild("close")!.toArray() as Float64Array;
            assert.deepEqual(close, inputClose.subarray(at, at + f.rows));
            const ts = table.getChild("timestamp")!.toArray() as BigInt64Array;
            assert.equal(Number(ts[0]), inputTs[at]);
            assert.equal(Number(ts[ts.length - 1]), inputTs[at + f.rows - 1]);
            at += f.rows;
          }
          assert.equal(at, ROWS, `${inst}: parts hold ${at} rows, input ${ROWS}`);
        }
      },
    );

    await t.step("re-run skips every committed task", async () => {
      const before = await output.list();
      const r = await runCli(["run", "--config", config]);
      printed.push(r.out, r.err);
      assert.equal(r.code, 0, `exit ${r.code}:\n${r.out}\n${r.err}`);
      const id = runId(r);
      const summary: RunSummary = JSON.parse(
        new TextDecoder().decode(await output.get(`_runs/${id}/summary.json`)),
      );
      assert.deepEqual(
        summary.tasks.map((x) => [x.instrument, x.status]),
        instruments.map((i) => [i, "skipped"]),
      );
      assert.equal(summary.rows, 0);
      // Nothing but the new run's summary was written.
      const after = (await output.list()).filter((o) => !o.key.startsWith(`_runs/${id}/`));
      assert.deepEqual(after, before);
    });

    await t.step("config --print masks the secret", async () => {
      const r = await runCli(["config", "--print", "--config", config]);
      printed.push(r.out, r.err);
      assert.equal(r.code, 0);
      assert.ok(r.out.includes("***"));
      assert.ok(!r.out.includes(server!.secretAccessKey));
    });

    await t.step("a wrong secret: exit 2, names the signature problem, shows no secret", async () => {
      Deno.env.set(ENV.secret, wrongSecret);
      try {
        const r = await runCli(["run", "--config", config]);
        printed.push(r.out, r.err);
        assert.equal(r.code, 2, `exit ${r.code}:\n${r.out}\n${r.err}`);
        assert.match(r.err, /SignatureDoesNotMatch/);
        assert.match(r.err, /secret access key is wrong/);
        assert.match(r.err, /s3:\/\/test-bucket\//);
        for (const s of [wrongSecret, server!.secretAccessKey]) {
          assert.ok(!r.err.includes(s) && !r.out.includes(s), "a secret was printed");
        }
      } finally {
        Deno.env.set(ENV.secret, server!.secretAccessKey);
      }
    });

    await t.step("an unreachable endpoint: clear error, non-zero exit", async () => {
      const port = closedPort();
      Deno.env.set(ENV.endpoint, `http://127.0.0.1:${port}`);
      try {
        const t0 = performance.now();
        const r = await runCli(["run", "--config", config]);
        printed.push(r.out, r.err);
        assert.notEqual(r.code, 0);
        assert.match(
          r.err,
          new RegExp(`^error: .*endpoint http://127\\.0\\.0\\.1:${port} is unreachable`, "m"),
        );
        assert.ok(!r.err.includes(server!.secretAccessKey));
        assert.ok(performance.now() - t0 < 30_000, "gave up too slowly");
      } finally {
        Deno.env.set(ENV.endpoint, server!.endpoint);
      }
    });

    await t.step("no secret in printed output, S3 objects or the registry", async () => {
      const secrets = [server!.secretAccessKey, wrongSecret];
      const all = printed.join("\n");
      assert.ok(all.length > 0);
      assert.match(all, /"msg":"run started"/); // the JSON-lines logs were captured
      for (const s of secrets) assert.ok(!all.includes(s), "a secret was printed");
      const objects = await output.list();
      assert.ok(objects.some((o) => o.key.endsWith("summary.md")));
      for (const o of objects) {
        const bytes = await output.get(o.key);
        for (const s of secrets) assert.ok(!contains(bytes, s), `${o.key} contains a secret`);
      }
      const registryFiles = [...Deno.readDirSync(join(dir, "registry"))].map((e) => e.name);
      assert.ok(registryFiles.includes("registry.sqlite"), `${registryFiles}`);
      for (const name of registryFiles) {
        const bytes = Deno.readFileSync(join(dir, "registry", name));
        for (const s of secrets) assert.ok(!contains(bytes, s), `registry file ${name} contains a secret`);
      }
      // The registry did record the runs (two good ones and the failed ones).
      const runs = await runCli(["runs", "--registry", join(dir, "registry", "registry.sqlite")]);
      assert.equal(runs.code, 0);
      assert.match(runs.out, /: 4 recent run\(s\)/);
      for (const s of secrets) assert.ok(!runs.out.includes(s));
    });
  } finally {
    for (const v of Object.values(ENV)) Deno.env.delete(v);
    await server?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
