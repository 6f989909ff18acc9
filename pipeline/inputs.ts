/**
 * Input fingerprints: what a committed task was computed from, so that a re-run notices new, removed or
 * changed input files instead of skipping the task on an unchanged config hash alone. A file is unchanged when
 * its key, size and version (local mtime, S3 ETag) match; a local file whose mtime moved but whose SHA-256 is
 * the recorded one (a copy, a `touch`) is unchanged too. S3 objects are not re-read for a checksum: their ETag
 * is the store's own content hash.
 */
import { createHash } from "node:crypto";
import { LocalStorage, type Storage, type StoredObject } from "../io/storage.ts";

/** One input file as recorded in a task's manifest. */
export interface InputFingerprint {
  /** Key relative to the source. */
  key: string;
  /** Size in bytes. */
  size: number;
  /** Modification time in ms (local) or ETag (S3), when the storage gives one. */
  version?: string;
  /** Hex SHA-256 of the bytes (local files only). */
  sha256?: string;
}

/** SHA-256 of a local file, read 16 MiB at a time (an input file may be larger than the memory budget). */
async function localSha(source: Storage, key: string): Promise<string | undefined> {
  if (!(source instanceof LocalStorage)) return undefined;
  const file = await source.reader(key), h = createHash("sha256");
  for (let a = 0; a < file.byteLength; a += 1 << 24) {
    h.update(new Uint8Array(await file.slice(a, Math.min(file.byteLength, a + (1 << 24)))));
  }
  return h.digest("hex");
}

/** Fingerprints of a task's files (listed by `discoverTasks`), with checksums of the local ones. */
export async function fingerprintInputs(source: Storage, files: StoredObject[]): Promise<InputFingerprint[]> {
  const out: InputFingerprint[] = [];
  for (const f of files) {
    const sha256 = await localSha(source, f.key);
    out.push({
      key: f.key,
      size: f.size,
      ...(f.version !== undefined ? { version: f.version } : {}),
      ...(sha256 ? { sha256 } : {}),
    });
  }
  return out;
}

const list = (keys: string[]) =>
  keys.slice(0, 10).join(", ") + (keys.length > 10 ? `, ... (${keys.length})` : "");

/**
 * Why the task's inputs differ from those its committed output records (new, removed or changed files), or
 * null when they are the same.
 */
export async function inputsChanged(
  source: Storage,
  recorded: InputFingerprint[] | undefined,
  files: StoredObject[],
): Promise<string | null> {
  if (!recorded) return "the committed output does not record its input files (written by an older version)";
  const was = new Map(recorded.map((f) => [f.key, f]));
  const now = new Set(files.map((f) => f.key));
  const added = files.filter((f) => !was.has(f.key)).map((f) => f.key);
  const removed = recorded.filter((f) => !now.has(f.key)).map((f) => f.key);
  const changed: string[] = [];
  for (const f of files) {
    const r = was.get(f.key);
    if (!r || (r.size === f.size && r.version === f.version)) continue;
    if (r.size === f.size && r.sha256 && r.sha256 === await localSha(source, f.key)) continue;
    changed.push(f.key);
  }
  const why = [
    added.length ? `new input file(s) ${list(added)}` : "",
    removed.length ? `input file(s) gone ${list(removed)}` : "",
    changed.length ? `changed input file(s) ${list(changed)}` : "",
  ].filter(Boolean);
  return why.length ? why.join("; ") : null;
}
