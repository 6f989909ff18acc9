/** S3Storage against a real SigV4-checking S3 server (s3rver, in-process on 127.0.0.1). */
import assert from "node:assert/strict";
import { parseS3Url, S3Error, type S3Options, S3Storage, storageFor } from "../io/s3.ts";
import { LocalStorage } from "../io/storage.ts";
import { UsageError } from "../runtime/errors.ts";
import { startS3Server, type TestS3Server } from "./s3_server.ts";

const MiB = 1024 * 1024;

function options(server: TestS3Server, extra: Partial<S3Options> = {}): S3Options {
  return {
    endpoint: server.endpoint,
    region: server.region,
    bucket: server.bucket,
    prefix: "runs/one",
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    retryDelayMs: 10,
    ...extra,
  };
}

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

/** Runs `fn` while recording "METHOD url" of every fetch (aws4fetch calls the global fetch). */
async function recordingFetches<T>(fn: () => Promise<T>): Promise<{ result: T; calls: string[] }> {
  const original = globalThis.fetch;
  const calls: string[] = [];
  globalThis.fetch = (input, init) => {
    const r = input instanceof Request ? input : new Request(input, init);
    calls.push(`${r.method} ${r.url}`);
    return original(input, init);
  };
  try {
    return { result: await fn(), calls };
  } finally {
    globalThis.fetch = original;
  }
}

/** A free TCP port on 127.0.0.1 with nothing listening on it. */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("parseS3Url and storageFor", () => {
  assert.deepEqual(parseS3Url("s3://bucket/some/prefix"), { bucket: "bucket", prefix: "some/prefix" });
  assert.deepEqual(parseS3Url("s3://bucket/some/prefix/"), { bucket: "bucket", prefix: "some/prefix" });
  assert.deepEqual(parseS3Url("s3://bucket"), { bucket: "bucket", prefix: "" });
  assert.throws(() => parseS3Url("s3:///x"), UsageError);
  assert.throws(() => parseS3Url("/tmp/x"), UsageError);
  assert.ok(storageFor("/tmp/x") instanceof LocalStorage);
  const conn = {
    endpoint: "http://127.0.0.1:1",
    region: "us-east-1",
    accessKeyId: "AK",
    secretAccessKey: "SK-x",
  };
  const s = storageFor("s3://b/p/q", conn);
  assert.ok(s instanceof S3Storage);
  assert.equal(s.url, "s3://b/p/q");
  assert.ok(!Deno.inspect(s).includes("SK-x") && !JSON.stringify(s).includes("SK-x"));
});

Deno.test("S3Storage against s3rver", async (t) => {
  const server = await startS3Server();
  try {
    const s3 = new S3Storage(options(server));
    assert.equal(s3.url, `s3://${server.bucket}/runs/one`);

    await t.step("wrong secret is rejected by the server (it checks signatures)", async () => {
      const wrongSecret = "definitely-wrong-secret-123";
      const bad = new S3Storage(options(server, { secretAccessKey: wrongSecret }));
      for (const call of [() => bad.put("x", new Uint8Array([1])), () => bad.get("x"), () => bad.list()]) {
        const e = await rejects(call());
        assert.ok(e instanceof UsageError, String(e));
        assert.match(e.message, /SignatureDoesNotMatch/);
        assert.match(e.message, /secret access key is wrong/);
        assert.ok(e.message.includes(`s3://${server.bucket}/runs/one/`), e.message);
        assert.ok(!e.message.includes(wrongSecret) && !e.message.includes(server.secretAccessKey));
        assert.ok(!/AWS4-HMAC-SHA256|Signature=/.test(e.message), e.message);
      }
      const h = await rejects(bad.head("x"));
      assert.match(h.message, /HTTP 403.*signature/);
      assert.ok(!h.message.includes(wrongSecret));
      const unknown = await rejects(new S3Storage(options(server, { accessKeyId: "NOPE" })).get("x"));
      assert.match(unknown.message, /InvalidAccessKeyId/);
    });

    await t.step("put, get, head, delete", async () => {
      const bytes = new TextEncoder().encode("hello, s3");
      await s3.put("a/b.txt", bytes);
      assert.deepEqual(await s3.get("a/b.txt"), bytes);
      assert.deepEqual(await s3.head("a/b.txt"), { size: bytes.length });
      assert.equal(await s3.head("a/missing.txt"), null);
      await s3.put("a/b.txt", new Uint8Array([1, 2, 3])); // replace
      assert.deepEqual(await s3.get("a/b.txt"), new Uint8Array([1, 2, 3]));
      await s3.put("empty", new Uint8Array(0));
      assert.deepEqual(await s3.head("empty"), { size: 0 });
      assert.equal((await s3.get("empty")).length, 0);
      const odd = "we ird/k+e=y(1)!.bin";
      await s3.put(odd, new Uint8Array([9]));
      assert.deepEqual(await s3.get(odd), new Uint8Array([9]));
      await s3.delete(odd);
      await s3.delete("a/b.txt");
      await s3.delete("empty");
      await s3.delete("never/existed");
      assert.equal(await s3.head("a/b.txt"), null);
    });

    await t.step("get of a missing key is a UsageError naming the s3:// URL", async () => {
      const e = await rejects(s3.get("no/such/key.parquet"));
      assert.ok(e instanceof UsageError);
      assert.match(e.message, new RegExp(`s3://${server.bucket}/runs/one/no/such/key\\.parquet`));
      assert.match(e.message, /no such object/);
    });

    await t.step("list: recursive, relative to the prefix, sorted, across continuation pages", async () => {
      const paged = new S3Storage(options(server, { listPageSize: 7 }));
      const keys = Array.from({ length: 30 }, (_, i) => `part/${String(29 - i).padStart(3, "0")}.bin`);
      keys.push("other/x.bin", "part/sub/deep.bin");
      await Promise.all(keys.map((k, i) => paged.put(k, new Uint8Array(i % 5))));
      // A sibling prefix must not leak into this root's listing.
      await new S3Storage(options(server, { prefix: "runs/one-other" })).put(
        "part/zzz.bin",
        new Uint8Array(1),
      );
      const { result: all, calls } = await recordingFetches(() => paged.list());
      assert.equal(calls.length, 5, "32 keys in pages of 7");
      assert.equal(calls.filter((c) => c.includes("continuation-token=")).length, 4);
      assert.deepEqual(all.map((o) => o.key), [...keys].sort());
      assert.equal(all.find((o) => o.key === "other/x.bin")!.size, 30 % 5);
      const part = await paged.list("part/");
      assert.equal(part.length, 31);
      assert.ok(part.every((o) => o.key.startsWith("part/")));
      assert.deepEqual(await paged.list("nothing/"), []);
      // The same result with the default page size.
      assert.deepEqual(await s3.list(), all);
      // A root at the bucket level sees the full keys.
      const root = new S3Storage(options(server, { prefix: "" }));
      assert.ok((await root.list("runs/one/part/")).some((o) => o.key === "runs/one/part/000.bin"));
      await Promise.all(keys.map((k) => paged.delete(k)));
      assert.deepEqual(await paged.list(), []);
    });

    await t.step("multipart upload above a lowered threshold reads back byte-identical", async () => {
      const mp = new S3Storage(
        options(server, { multipartThreshold: 6 * MiB, partSize: 5 * MiB, partConcurrency: 2 }),
      );
      const big = new Uint8Array(13 * MiB + 12345);
      for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
      const { calls } = await recordingFetches(() => mp.put("big/object.bin", big));
      assert.equal(calls.filter((c) => c.startsWith("POST ") && c.endsWith("?uploads")).length, 1);
      assert.equal(calls.filter((c) => c.startsWith("PUT ") && c.includes("partNumber=")).length, 3);
      assert.equal(calls.filter((c) => c.startsWith("POST ") && c.includes("uploadId=")).length, 1);
      assert.deepEqual(await mp.head("big/object.bin"), { size: big.length });
      const back = await mp.get("big/object.bin");
      assert.equal(back.length, big.length);
      assert.ok(back.every((v, i) => v === big[i]), "multipart object differs");
      // Below the threshold: a single PUT.
      const small = big.subarray(0, 6 * MiB - 1);
      const single = await recordingFetches(() => mp.put("big/small.bin", small));
      assert.deepEqual(single.calls.map((c) => c.split(" ")[0]), ["PUT"]);
      assert.deepEqual(await mp.get("big/small.bin"), small);
      await mp.delete("big/object.bin");
      await mp.delete("big/small.bin");
    });

    await t.step("a part size below the S3 minimum is refused", () => {
      assert.throws(() => new S3Storage(options(server, { partSize: MiB })), /partSize/);
    });

    await t.step("a missing bucket names NoSuchBucket", async () => {
      const e = await rejects(new S3Storage(options(server, { bucket: "no-such-bucket" })).list());
      assert.match(e.message, /NoSuchBucket/);
      assert.match(e.message, /s3:\/\/no-such-bucket\//);
    });
  } finally {
    await server.stop();
  }
});

Deno.test("an unreachable endpoint gives a clear error, after retries", async () => {
  const secret = "unreachable-secret-456";
  const s3 = new S3Storage({
    endpoint: `http://127.0.0.1:${closedPort()}`,
    region: "us-east-1",
    bucket: "b",
    prefix: "p",
    accessKeyId: "AK",
    secretAccessKey: secret,
    maxRetries: 2,
    retryDelayMs: 5,
  });
  const calls = [
    () => s3.get("k"),
    () => s3.put("k", new Uint8Array(4)),
    () => s3.list(),
    () => s3.head("k"),
    () => s3.delete("k"),
  ];
  for (const call of calls) {
    const e = await rejects(call());
    assert.ok(e instanceof S3Error, String(e));
    assert.match(e.message, /unreachable/);
    assert.match(e.message, /s3:\/\/b\/p\//);
    assert.ok(e.message.includes(s3.endpoint));
    assert.ok(!e.message.includes(secret));
  }
});

/** A fake S3 endpoint on 127.0.0.1 answering with `handler`; records "METHOD path?query" of each request. */
function fakeS3(handler: (req: Request, n: number) => Response | Promise<Response>) {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const u = new URL(req.url);
    seen.push(`${req.method} ${u.pathname}${u.search}`);
    await req.body?.cancel();
    return handler(req, seen.length);
  });
  const storage = (extra: Partial<S3Options> = {}) =>
    new S3Storage({
      endpoint: `http://127.0.0.1:${server.addr.port}`,
      region: "us-east-1",
      bucket: "b",
      prefix: "p",
      accessKeyId: "AK",
      secretAccessKey: "fake-secret-789",
      retryDelayMs: 5,
      ...extra,
    });
  return { seen, storage, close: () => server.shutdown() };
}

const xmlError = (status: number, code: string) =>
  new Response(`<?xml version="1.0"?><Error><Code>${code}</Code><Message>m</Message></Error>`, { status });

Deno.test("transient 5xx replies are retried, then reported with the S3 code", async () => {
  const flaky = fakeS3((
    _req,
    n,
  ) => (n <= 2 ? xmlError(503, "SlowDown") : new Response(null, { status: 200 })));
  try {
    await flaky.storage({ maxRetries: 3 }).put("k", new Uint8Array([1]));
    assert.equal(flaky.seen.length, 3);
  } finally {
    await flaky.close();
  }
  const down = fakeS3(() => xmlError(500, "InternalError"));
  try {
    const e = await rejects(down.storage({ maxRetries: 2 }).get("k"));
    assert.ok(e instanceof S3Error);
    assert.equal(e.status, 500);
    assert.match(e.message, /S3 get s3:\/\/b\/p\/k failed \(HTTP 500\): InternalError/);
    assert.equal(down.seen.length, 3);
  } finally {
    await down.close();
  }
});

Deno.test("a failed multipart upload is aborted and not completed", async () => {
  const fake = fakeS3((req) => {
    const u = new URL(req.url);
    if (req.method === "POST" && u.searchParams.has("uploads")) {
      return new Response(
        "<InitiateMultipartUploadResult><UploadId>up-1</UploadId></InitiateMultipartUploadResult>",
      );
    }
    if (req.method === "PUT" && u.searchParams.get("partNumber") === "2") return xmlError(400, "InvalidPart");
    if (req.method === "PUT") return new Response(null, { headers: { etag: '"e"' } });
    return new Response(null, { status: 204 });
  });
  try {
    const s3 = fake.storage({ multipartThreshold: 6 * MiB, partSize: 5 * MiB, partConcurrency: 1 });
    const e = await rejects(s3.put("big", new Uint8Array(16 * MiB)));
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /upload part 2\/4 s3:\/\/b\/p\/big failed \(HTTP 400\): InvalidPart/);
    assert.ok(fake.seen.includes("DELETE /b/p/big?uploadId=up-1"), fake.seen.join("\n"));
    assert.ok(!fake.seen.some((c) => c.startsWith("POST /b/p/big?uploadId")), "must not complete");
    assert.ok(!fake.seen.some((c) => c.includes("partNumber=3")), "stops after the failure");
  } finally {
    await fake.close();
  }
});
