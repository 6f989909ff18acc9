/**
 * `Storage` on an S3-compatible service (AWS S3, Cloudflare R2, MinIO) over plain HTTP(S) with SigV4
 * signatures (npm `aws4fetch`). Objects live under `s3://bucket/prefix/`; keys given to the methods are
 * relative to that prefix, as with `LocalStorage`.
 *
 * Data safety: a `put` is one PUT (below `multipartThreshold`) or a multipart upload that only becomes
 * visible when CompleteMultipartUpload succeeds, so readers never see a torn object; a failed multipart
 * upload is aborted (best effort). Every body is sent with its SHA-256 in `x-amz-content-sha256`, so the
 * service rejects a corrupted transfer.
 *
 * Secrets: the secret key is held in a private field and is never part of a message, `url`, `inspect`
 * output or JSON; signatures travel in the Authorization header, never in URLs.
 */
import { AwsClient } from "npm:aws4fetch@1.0.20";
import { UsageError } from "../runtime/errors.ts";
import { sha256Hex } from "./checksum.ts";
import { type Bytes, joinBytes } from "./bytes.ts";
import { LocalStorage, type RangeReader, type Storage, type StoredObject } from "./storage.ts";

const MiB = 1024 * 1024;
/** S3's smallest part size for every part but the last. */
const MIN_PART_SIZE = 5 * MiB;
/** S3's largest part count. */
const MAX_PARTS = 10_000;

/** Connection settings for an S3-compatible service, without the bucket and prefix. */
export interface S3Connection {
  /** Service URL, e.g. `https://s3.eu-west-1.amazonaws.com`, `https://<account>.r2.cloudflarestorage.com`. */
  endpoint: string;
  /** Signing region (`auto` for R2, `us-east-1` for MinIO unless configured otherwise). */
  region: string;
  /** Access key id (not secret; may appear in server error bodies). */
  accessKeyId: string;
  /** Secret access key; never logged or put in a message. */
  secretAccessKey: string;
  /** `https://endpoint/bucket/key` when true (default; MinIO, R2), `https://bucket.endpoint/key` when false. */
  forcePathStyle?: boolean;
  /** Objects of at least this many bytes are sent by multipart upload (default 16 MiB). */
  multipartThreshold?: number;
  /** Multipart part size in bytes (default 8 MiB; at least 5 MiB, raised when an object needs > 10000 parts). */
  partSize?: number;
  /** Parts uploaded at the same time (default 4). */
  partConcurrency?: number;
  /** Retries of a request after a transient failure: 5xx, 429, network error, timeout (default 3). */
  maxRetries?: number;
  /** First retry delay in ms, doubled on each retry, with jitter (default 200). */
  retryDelayMs?: number;
  /** Time limit of one request attempt in ms, body included (default 300000). */
  requestTimeoutMs?: number;
  /** `max-keys` of each ListObjectsV2 page (default 1000, the S3 maximum). */
  listPageSize?: number;
}

/** Options of `S3Storage`: the connection plus where the objects live. */
export interface S3Options extends S3Connection {
  /** Bucket name. */
  bucket: string;
  /** Key prefix acting as the storage root ("" for the bucket root); leading/trailing slashes are ignored. */
  prefix: string;
}

/** A failed S3 request that is not the caller's input error: a 5xx after retries or an unreachable endpoint. */
export class S3Error extends Error {
  /** Always "S3Error". */
  override name = "S3Error";
  /** Creates an S3Error; `status` is the HTTP status (absent for network failures), `code` the S3 error Code. */
  constructor(message: string, readonly status?: number, readonly code?: string) {
    super(message);
  }
}

/**
 * Splits `s3://bucket/some/prefix` into `{ bucket: "bucket", prefix: "some/prefix" }` (trailing slashes
 * dropped; `prefix` is "" for `s3://bucket`). Throws a UsageError for anything else.
 */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!m || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(m[1])) {
    throw new UsageError(`"${url}" is not an S3 URL (expected s3://bucket or s3://bucket/prefix)`);
  }
  return { bucket: m[1], prefix: normalizePrefix(m[2] ?? "") };
}

/**
 * S3 connection settings from the environment: `AWS_ENDPOINT_URL` (or `S3_ENDPOINT`), `AWS_REGION`
 * (or `AWS_DEFAULT_REGION`, default `us-east-1`), `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`. Throws a
 * UsageError naming the missing variables (never their values). Needs `--allow-env`.
 */
export function s3ConnectionFromEnv(): S3Connection {
  const env = (name: string) => Deno.env.get(name) || undefined;
  const endpoint = env("AWS_ENDPOINT_URL") ?? env("S3_ENDPOINT");
  const region = env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? "us-east-1";
  const accessKeyId = env("AWS_ACCESS_KEY_ID");
  const secretAccessKey = env("AWS_SECRET_ACCESS_KEY");
  const missing = [
    endpoint ? "" : "AWS_ENDPOINT_URL",
    accessKeyId ? "" : "AWS_ACCESS_KEY_ID",
    secretAccessKey ? "" : "AWS_SECRET_ACCESS_KEY",
  ].filter(Boolean);
  if (missing.length) throw new UsageError(`S3 access needs the environment variables ${missing.join(", ")}`);
  return { endpoint: endpoint!, region, accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey! };
}

/**
 * The storage for `location`: an `S3Storage` for an `s3://bucket/prefix` URL (connection settings from
 * `s3` or, when absent, from the environment via `s3ConnectionFromEnv`), otherwise a `LocalStorage` folder.
 */
export function storageFor(location: string, s3?: S3Connection): Storage {
  if (!location.startsWith("s3://")) return new LocalStorage(location);
  return new S3Storage({ ...(s3 ?? s3ConnectionFromEnv()), ...parseS3Url(location) });
}

/** An S3-compatible bucket prefix; see the module documentation. */
export class S3Storage implements Storage {
  /** Bucket name. */
  readonly bucket: string;
  /** Key prefix of the root, without leading or trailing slash ("" for the bucket root). */
  readonly prefix: string;
  /** Service URL without a trailing slash (contains no credentials). */
  readonly endpoint: string;
  readonly #client: AwsClient;
  readonly #secret: string;
  readonly #pathStyle: boolean;
  readonly #threshold: number;
  readonly #partSize: number;
  readonly #concurrency: number;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #timeoutMs: number;
  readonly #pageSize: number;

  /** Checks the options (UsageError naming the bad one); makes no request. */
  constructor(options: S3Options) {
    const { endpoint, region, bucket, accessKeyId, secretAccessKey } = options;
    let parsed: URL;
    try {
      parsed = new URL(endpoint);
    } catch {
      throw new UsageError(`S3 endpoint "${endpoint}" is not a URL (expected e.g. https://host:port)`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new UsageError(`S3 endpoint "${endpoint}" must be an http:// or https:// URL`);
    }
    if (parsed.username || parsed.password || parsed.search) {
      throw new UsageError(`S3 endpoint must not contain credentials or a query string`);
    }
    if (!bucket || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(bucket)) {
      throw new UsageError(`S3 bucket name "${bucket}" is not valid`);
    }
    if (!region) throw new UsageError("S3 region is empty (use e.g. us-east-1, or auto for R2)");
    if (!accessKeyId || !secretAccessKey) {
      throw new UsageError("S3 access key id or secret access key is empty");
    }
    const positive = (name: string, v: number | undefined, fallback: number, min = 1) => {
      if (v === undefined) return fallback;
      if (!Number.isInteger(v) || v < min) {
        throw new UsageError(`S3 option ${name} must be an integer >= ${min}`);
      }
      return v;
    };
    this.endpoint = `${parsed.origin}${parsed.pathname.replace(/\/+$/, "")}`;
    this.bucket = bucket;
    this.prefix = normalizePrefix(options.prefix ?? "");
    this.#secret = secretAccessKey;
    this.#pathStyle = options.forcePathStyle ?? true;
    this.#threshold = positive("multipartThreshold", options.multipartThreshold, 16 * MiB);
    this.#partSize = positive("partSize", options.partSize, 8 * MiB, MIN_PART_SIZE);
    this.#concurrency = positive("partConcurrency", options.partConcurrency, 4);
    this.#retries = positive("maxRetries", options.maxRetries, 3, 0);
    this.#retryDelayMs = positive("retryDelayMs", options.retryDelayMs, 200, 0);
    this.#timeoutMs = positive("requestTimeoutMs", options.requestTimeoutMs, 300_000);
    this.#pageSize = Math.min(1000, positive("listPageSize", options.listPageSize, 1000));
    // Retries are done here (they also cover network errors); aws4fetch's own are off.
    this.#client = new AwsClient({ accessKeyId, secretAccessKey, region, service: "s3", retries: 0 });
  }

  /** `s3://bucket/prefix` (never credentials). */
  get url(): string {
    return this.prefix ? `s3://${this.bucket}/${this.prefix}` : `s3://${this.bucket}`;
  }

  /** Every object whose key (relative to the root) starts with `prefix`, sorted by key; folder markers skipped. */
  async list(prefix = ""): Promise<StoredObject[]> {
    const full = this.#fullKey(prefix);
    const out: StoredObject[] = [];
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ "list-type": "2", "max-keys": String(this.#pageSize) });
      if (full) query.set("prefix", full);
      if (token) query.set("continuation-token", token);
      const xml = await this.#request("list", `${this.#bucketUrl()}?${query}`, { method: "GET" }, full, {
        read: "text",
      });
      for (const block of xmlBlocks(xml, "Contents")) {
        const key = xmlText(block, "Key");
        if (key === undefined || key.endsWith("/")) continue;
        const rel = this.prefix ? key.slice(this.prefix.length + 1) : key;
        const etag = xmlText(block, "ETag")?.replaceAll('"', ""); // xmlText decodes &quot;
        out.push({ key: rel, size: Number(xmlText(block, "Size") ?? 0), ...(etag ? { version: etag } : {}) });
      }
      const truncated = xmlText(xml, "IsTruncated") === "true";
      const next = xmlText(xml, "NextContinuationToken");
      if (truncated && !next) {
        throw new S3Error(`S3 list ${this.#s3url(full)}: truncated listing without NextContinuationToken`);
      }
      token = truncated ? next : undefined;
    } while (token);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** The object's bytes; a missing object is a UsageError naming its s3:// URL. */
  async get(key: string): Promise<Uint8Array> {
    const full = this.#fullKey(key);
    return await this.#request("get", this.#objectUrl(full), { method: "GET" }, full, { read: "bytes" });
  }

  /** Ranged reads of the object (one GET with a Range header per slice). */
  async reader(key: string): Promise<RangeReader> {
    const full = this.#fullKey(key);
    const size = (await this.head(key))?.size;
    if (size === undefined) throw new UsageError(`${this.#s3url(full)}: no such object`);
    return {
      byteLength: size,
      slice: async (start, end = size) => {
        const init = { method: "GET", headers: { Range: `bytes=${start}-${end - 1}` } };
        const bytes: Uint8Array = await this.#request("get", this.#objectUrl(full), init, full, {
          read: "bytes",
        });
        return bytes.slice().buffer;
      },
    };
  }

  /** The object's size, or null when it does not exist. */
  async head(key: string): Promise<{ size: number } | null> {
    const full = this.#fullKey(key);
    const res = await this.#request("head", this.#objectUrl(full), { method: "HEAD" }, full, {
      read: "none",
      allow404: true,
    });
    if (res === null) return null;
    const size = Number(res.headers.get("content-length"));
    if (!Number.isFinite(size)) {
      throw new S3Error(`S3 head ${this.#s3url(full)}: no Content-Length in the reply`);
    }
    return { size };
  }

  /** Writes the object atomically: one PUT below `multipartThreshold`, else a multipart upload. */
  async put(key: string, parts: Bytes): Promise<void> {
    const full = this.#fullKey(key);
    const bytes = joinBytes(parts); // one body to sign and to slice into upload parts
    if (bytes.byteLength >= this.#threshold) return await this.#putMultipart(full, bytes);
    await this.#request("put", this.#objectUrl(full), await signedBody("PUT", bytes), full, { read: "none" });
  }

  /**
   * Creates the object only when it does not exist: a listing of the key, then a PUT with `If-None-Match: *`
   * (AWS S3 since 2024, R2 and MinIO answer 412 or 409 when the key exists, atomically). Stores that ignore
   * the header (older MinIO, s3rver) leave a race between the listing and the PUT: best effort there, so
   * callers that need certainty read the object back. (A listing rather than a HEAD: a refused HEAD has no
   * body, so it could not say why, e.g. SignatureDoesNotMatch.)
   */
  async putIfAbsent(key: string, bytes: Uint8Array): Promise<boolean> {
    if ((await this.list(key)).some((o) => o.key === key)) return false;
    const full = this.#fullKey(key);
    const init = await signedBody("PUT", bytes);
    init.headers = { ...init.headers as Record<string, string>, "if-none-match": "*" };
    const res = await this.#request("put if absent", this.#objectUrl(full), init, full, {
      read: "none",
      preconditionFails: true,
    });
    return res !== null;
  }

  /** Removes the object (absent is fine). */
  async delete(key: string): Promise<void> {
    const full = this.#fullKey(key);
    await this.#request("delete", this.#objectUrl(full), { method: "DELETE" }, full, {
      read: "none",
      allow404: true,
    });
  }

  /** Shows only the URL, so logging the object never prints credentials. */
  [Symbol.for("Deno.customInspect")](): string {
    return `S3Storage(${this.url})`;
  }

  /** JSON form: only the URL and endpoint. */
  toJSON(): { url: string; endpoint: string } {
    return { url: this.url, endpoint: this.endpoint };
  }

  async #putMultipart(full: string, bytes: Uint8Array): Promise<void> {
    const url = this.#objectUrl(full);
    const partSize = Math.max(this.#partSize, Math.ceil(bytes.byteLength / MAX_PARTS));
    const count = Math.ceil(bytes.byteLength / partSize);
    const created = await this.#request(
      "create multipart upload",
      `${url}?uploads`,
      { method: "POST" },
      full,
      {
        read: "text",
      },
    );
    const uploadId = xmlText(created, "UploadId");
    if (!uploadId) {
      throw new S3Error(`S3 create multipart upload ${this.#s3url(full)}: no UploadId in the reply`);
    }
    const uploadQuery = `uploadId=${encodeURIComponent(uploadId)}`;
    try {
      const etags = new Array<string>(count);
      let nextPart = 0;
      let failed = false;
      const worker = async () => {
        while (!failed && nextPart < count) {
          const i = nextPart++;
          const body = bytes.subarray(i * partSize, Math.min(bytes.byteLength, (i + 1) * partSize));
          try {
            const res = await this.#request(
              `upload part ${i + 1}/${count}`,
              `${url}?partNumber=${i + 1}&${uploadQuery}`,
              await signedBody("PUT", body),
              full,
              { read: "none" },
            );
            const etag = res.headers.get("etag");
            if (!etag) {
              throw new S3Error(`S3 upload part ${i + 1} ${this.#s3url(full)}: no ETag in the reply`);
            }
            etags[i] = etag;
          } catch (e) {
            failed = true;
            throw e;
          }
        }
      };
      const results = await Promise.allSettled(
        Array.from({ length: Math.min(this.#concurrency, count) }, worker),
      );
      const rejected = results.find((r) => r.status === "rejected");
      if (rejected) throw (rejected as PromiseRejectedResult).reason;
      const xml = `<CompleteMultipartUpload>${
        etags.map((etag, i) =>
          `<Part><PartNumber>${i + 1}</PartNumber><ETag>${xmlEscape(etag)}</ETag></Part>`
        )
          .join("")
      }</CompleteMultipartUpload>`;
      const done = await this.#request(
        "complete multipart upload",
        `${url}?${uploadQuery}`,
        await signedBody("POST", new TextEncoder().encode(xml), "application/xml"),
        full,
        { read: "text" },
      );
      // S3 may answer 200 and still report an error in the body.
      const code = xmlText(done, "Code");
      if (/<Error[\s>]/.test(done) && code) {
        throw this.#httpError("complete multipart upload", full, 200, code, xmlText(done, "Message"));
      }
    } catch (e) {
      // Best effort: some servers (s3rver) do not implement AbortMultipartUpload; the original error matters.
      await this.#request("abort multipart upload", `${url}?${uploadQuery}`, { method: "DELETE" }, full, {
        read: "none",
        allow404: true,
        retries: 1,
      }).catch(() => {});
      throw e;
    }
  }

  #fullKey(key: string): string {
    const k = key.replace(/^\/+/, "");
    return this.prefix ? (k ? `${this.prefix}/${k}` : `${this.prefix}/`) : k;
  }

  #s3url(fullKey: string): string {
    return `s3://${this.bucket}/${fullKey}`;
  }

  #bucketUrl(): string {
    if (this.#pathStyle) return `${this.endpoint}/${encodeSegment(this.bucket)}`;
    const u = new URL(this.endpoint);
    return `${u.protocol}//${this.bucket}.${u.host}${u.pathname.replace(/\/+$/, "")}`;
  }

  #objectUrl(fullKey: string): string {
    return `${this.#bucketUrl()}/${fullKey.split("/").map(encodeSegment).join("/")}`;
  }

  /** Removes the secret from a text, in case a server ever echoes it (real secrets are 40 characters). */
  #redact(text: string): string {
    return this.#secret.length >= 8 ? text.split(this.#secret).join("[redacted]") : text;
  }

  #httpError(op: string, fullKey: string, status: number, code?: string, message?: string): Error {
    const what = code ? `: ${code}${message ? `: ${message}` : ""}` : "";
    const hint = HINTS[code ?? ""] ?? (!code && (status === 403 || status === 401) ? HINTS.NoBody403 : "");
    const text = this.#redact(
      `S3 ${op} ${this.#s3url(fullKey)} failed (HTTP ${status})${what}${hint ? ` (${hint})` : ""}`,
    );
    if (status >= 400 && status < 500) return new UsageError(text);
    return new S3Error(text, status, code);
  }

  #request(
    op: string,
    url: string,
    init: RequestInit,
    fullKey: string,
    opts: { read: "text"; allow404?: false; retries?: number },
  ): Promise<string>;
  #request(
    op: string,
    url: string,
    init: RequestInit,
    fullKey: string,
    opts: { read: "bytes"; allow404?: false; retries?: number },
  ): Promise<Uint8Array>;
  #request(
    op: string,
    url: string,
    init: RequestInit,
    fullKey: string,
    opts: { read: "none"; allow404?: false; retries?: number },
  ): Promise<Response>;
  #request(
    op: string,
    url: string,
    init: RequestInit,
    fullKey: string,
    opts: { read: "none"; allow404: true; retries?: number } | {
      read: "none";
      preconditionFails: true;
      retries?: number;
    },
  ): Promise<Response | null>;
  /** One S3 call with retries of transient failures; reads the body inside the attempt. */
  async #request(
    op: string,
    url: string,
    init: RequestInit,
    fullKey: string,
    opts: {
      read: "text" | "bytes" | "none";
      allow404?: boolean;
      retries?: number;
      /** A conditional write's 412 Precondition Failed / 409 ConditionalRequestConflict returns null. */
      preconditionFails?: boolean;
    },
  ): Promise<string | Uint8Array | Response | null> {
    const retries = opts.retries ?? this.#retries;
    let lastError: Error | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) {
        const delay = this.#retryDelayMs * 2 ** (attempt - 1);
        await new Promise((r) => setTimeout(r, delay / 2 + Math.random() * delay / 2));
      }
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
      try {
        let res: Response;
        try {
          res = await this.#client.fetch(url, { ...init, signal: controller.signal });
        } catch (e) {
          lastError = this.#networkError(op, fullKey, e, controller.signal.aborted);
          continue;
        }
        if (res.ok) {
          try {
            if (opts.read === "text") return await res.text();
            if (opts.read === "bytes") return new Uint8Array(await res.arrayBuffer());
            await res.body?.cancel();
            return res;
          } catch (e) {
            lastError = this.#networkError(op, fullKey, e, controller.signal.aborted);
            continue;
          }
        }
        const body = init.method === "HEAD" ? "" : await res.text().catch(() => "");
        if (res.status === 404 && opts.allow404) return null;
        if ((res.status === 412 || res.status === 409) && opts.preconditionFails) return null;
        const code = xmlText(body, "Code");
        const message = xmlText(body, "Message");
        if (res.status === 404 && (code === "NoSuchKey" || (!code && op === "get"))) {
          throw new UsageError(`${this.#s3url(fullKey)}: no such object`);
        }
        const error = this.#httpError(op, fullKey, res.status, code, message);
        if (res.status >= 500 || res.status === 429) {
          lastError = error;
          continue;
        }
        throw error;
      } finally {
        clearTimeout(timer);
      }
    }
    throw lastError!;
  }

  #networkError(op: string, fullKey: string, e: unknown, timedOut: boolean): S3Error {
    const messages: string[] = [];
    for (let c: unknown = e, depth = 0; c !== undefined && depth < 4; c = (c as Error)?.cause, depth++) {
      messages.push(c instanceof Error ? c.message : String(c));
    }
    const detail = messages.join(": ");
    const what = timedOut
      ? `timed out after ${this.#timeoutMs} ms`
      : `endpoint ${this.endpoint} is unreachable (${detail})`;
    return new S3Error(this.#redact(`S3 ${op} ${this.#s3url(fullKey)} failed: ${what}`));
  }
}

/** Short advice for the S3 error codes a user can fix. */
const HINTS: Record<string, string> = {
  SignatureDoesNotMatch: "the secret access key is wrong, or the region/endpoint does not match",
  InvalidAccessKeyId: "the access key id is unknown to this endpoint",
  AccessDenied: "the credentials lack permission for this bucket or prefix",
  NoSuchBucket: "check the bucket name and endpoint",
  AuthorizationHeaderMalformed: "check the region",
  RequestTimeTooSkewed: "the local clock is off",
  NoBody403: "access denied or signature mismatch; check the secret access key, region and permissions",
};

/** A request init whose body is signed with its SHA-256 (S3 then rejects a corrupted transfer). */
async function signedBody(method: string, body: Uint8Array, type?: string): Promise<RequestInit> {
  const headers: Record<string, string> = { "x-amz-content-sha256": await sha256Hex(body) };
  if (type) headers["content-type"] = type;
  return { method, body: body as Uint8Array<ArrayBuffer>, headers };
}

function normalizePrefix(prefix: string): string {
  return prefix.replace(/^\/+|\/+$/g, "");
}

/** encodeURIComponent plus the RFC 3986 reserved characters, as SigV4 wants. */
function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The decoded text of the first `<tag>` element, or undefined. */
function xmlText(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`).exec(xml);
  return m ? xmlDecode(m[1]) : undefined;
}

/** The raw contents of every `<tag>` element. */
function xmlBlocks(xml: string, tag: string): string[] {
  return Array.from(xml.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, "g")), (m) => m[1]);
}

function xmlDecode(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e[0] === "#") {
      return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1)));
    }
    return { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }[e]!;
  });
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
