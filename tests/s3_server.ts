/**
 * A real S3-compatible server for tests: npm `@20minutes/s3rver` run in-process on 127.0.0.1 (a free port),
 * storing into a fresh temp folder, with one bucket and a random key pair. It checks SigV4 signatures (a
 * wrong secret gets 403 SignatureDoesNotMatch), supports ListObjectsV2 continuation tokens and multipart
 * uploads (not AbortMultipartUpload: 405).
 *
 * `stop()` closes the listener and its connections, so tests pass with Deno's op/resource sanitizers on.
 * Pitfall handled here: see `installDesShim`.
 */
import crypto from "node:crypto";
import { Buffer } from "node:buffer";
import S3rver from "@20minutes/s3rver";
import AWSAccount from "@20minutes/s3rver/lib/models/account.js";

/** A running test server and its credentials. */
export interface TestS3Server {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** The bucket created at start. */
  bucket: string;
  /** Region to sign with (s3rver accepts any). */
  region: string;
  /** Access key id registered with the server. */
  accessKeyId: string;
  /** Its secret (random per server). */
  secretAccessKey: string;
  /** Stops the server, unregisters the key pair and removes the temp folder. */
  stop(): Promise<void>;
}

let desShimInstalled = false;

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with DES, which Deno's node:crypto (and OpenSSL 3 without
 * the legacy provider) lacks, so a truncated listing fails with 500. The tokens are opaque to clients, so for
 * the test server an identity "cipher" is enough; only the "des" algorithm is affected.
 */
function installDesShim(): void {
  if (desShimInstalled) return;
  desShimInstalled = true;
  // deno-lint-ignore no-explicit-any
  const c = crypto as any;
  const identity = () => ({
    update: (data: string | Uint8Array, encoding?: BufferEncoding) =>
      typeof data === "string" ? Buffer.from(data, encoding ?? "utf8") : Buffer.from(data),
    final: () => Buffer.alloc(0),
  });
  const cipher = c.createCipheriv;
  const decipher = c.createDecipheriv;
  c.createCipheriv = (alg: string, ...rest: unknown[]) => alg === "des" ? identity() : cipher(alg, ...rest);
  c.createDecipheriv = (alg: string, ...rest: unknown[]) =>
    alg === "des" ? identity() : decipher(alg, ...rest);
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** Starts an s3rver on 127.0.0.1 with bucket `test-bucket` and a fresh random key pair. */
export async function startS3Server(): Promise<TestS3Server> {
  installDesShim();
  const directory = await Deno.makeTempDir({ prefix: "fg-s3rver-" });
  const bucket = "test-bucket";
  const accessKeyId = `TEST${randomHex(8).toUpperCase()}`;
  const secretAccessKey = `secret-${randomHex(16)}`;
  AWSAccount.DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: [{ name: bucket }],
  });
  let address: { port: number };
  try {
    address = await server.run();
  } catch (e) {
    AWSAccount.DUMMY_ACCOUNT.revokeAccessKey(accessKeyId);
    await Deno.remove(directory, { recursive: true }).catch(() => {});
    throw e;
  }
  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    region: "us-east-1",
    accessKeyId,
    secretAccessKey,
    async stop() {
      if (stopped) return;
      stopped = true;
      server.httpServer?.closeAllConnections?.();
      await server.close();
      AWSAccount.DUMMY_ACCOUNT.revokeAccessKey(accessKeyId);
      await Deno.remove(directory, { recursive: true }).catch(() => {});
    },
  };
}
