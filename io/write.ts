/**
 * Output encoding helpers: CSV text, atomic file commits, and the translation of operating-system storage
 * errors (disk full, read-only, a file where a folder should be) into one line naming the path and the fix.
 */
import { dirname } from "node:path";
import { type Bytes, pieces } from "./bytes.ts";

/** One named f64 column to write. */
export interface OutputColumn {
  /** Column header. */
  name: string;
  /** Values; NaN is written as "NaN" (an empty field would make a one-column row a blank line). */
  values: Float64Array;
}

/** Timestamps to write as the first CSV column. */
export interface OutputTimestamps {
  /** Header of the timestamp column (default "timestamp"). */
  name?: string;
  /** Epoch milliseconds. */
  values: Float64Array;
  /** "iso" writes ISO-8601 UTC (default), "ms" writes the epoch-ms number. */
  format?: "iso" | "ms";
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function formatTs(ms: number, format: "iso" | "ms"): string {
  if (Number.isNaN(ms)) return "";
  if (format === "ms") return String(ms);
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/**
 * Encodes columns as UTF-8 CSV with a header row and "\n" line ends. Numbers are written with full
 * precision via `String(v)` (round-trips exactly), NaN as "NaN" (never a blank line), ±Infinity as "Infinity"/"-Infinity".
 * Timestamps, when given, form the first column. Throws when column lengths differ.
 */
export function encodeCsv(columns: OutputColumn[], timestamps?: OutputTimestamps): Uint8Array {
  const rows = timestamps?.values.length ?? columns[0]?.values.length ?? 0;
  for (const c of columns) {
    if (c.values.length !== rows) {
      throw new RangeError(`encodeCsv: column "${c.name}" has ${c.values.length} values, expected ${rows}`);
    }
  }
  const header = [...(timestamps ? [timestamps.name ?? "timestamp"] : []), ...columns.map((c) => c.name)];
  const lines: string[] = [header.map(csvField).join(",")];
  const tsFormat = timestamps?.format ?? "iso";
  const fields = new Array<string>(header.length);
  for (let r = 0; r < rows; r++) {
    let k = 0;
    if (timestamps) fields[k++] = formatTs(timestamps.values[r], tsFormat);
    for (const c of columns) {
      const v = c.values[r];
      fields[k++] = String(v);
    }
    lines.push(fields.join(","));
  }
  return new TextEncoder().encode(lines.join("\n") + "\n");
}

/**
 * A storage failure the operator has to fix: disk full, read-only file system, no permission, a file where a
 * folder should be. The message names the path and what to do. `exitCode` is 2 when the location itself is
 * wrong (read-only, not a folder, permissions: fix the configuration) and 1 when the machine ran out of
 * something (space, file handles: the same command may work later).
 */
export class StorageError extends Error {
  /** Always "StorageError". */
  override name = "StorageError";
  /** Creates a StorageError; `cause` is the original operating-system error. */
  constructor(message: string, readonly exitCode: 1 | 2, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Whether `info` is a device, FIFO or socket (null: absent). */
function isSpecial(info: Deno.FileInfo | null): boolean {
  return !!(info?.isBlockDevice || info?.isCharDevice || info?.isFifo || info?.isSocket);
}

/** The nearest existing ancestor of `path` (itself included), with whether it is a file; null at the root. */
function existingAncestor(path: string): { path: string; isFile: boolean } | null {
  for (let p = path;; p = dirname(p)) {
    try {
      return { path: p, isFile: Deno.statSync(p).isFile };
    } catch {
      if (dirname(p) === p) return null;
    }
  }
}

/**
 * Translates an operating-system error met while `doing` something to `path` (e.g. "writing") into a
 * {@link StorageError} naming the path and what to do (and the `setting` that chooses the location, when
 * given); any other error (missing file, Deno permission) is returned unchanged. Use as
 * `throw storageError(e, path, "writing")`.
 */
export function storageError(e: unknown, path: string, doing: string, setting?: string): unknown {
  if (e instanceof StorageError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const fail = (what: string, fix: string, exitCode: 1 | 2) =>
    new StorageError(`${what} (while ${doing} ${path}); ${fix}${setting ? ` (${setting})` : ""}`, exitCode, {
      cause: e,
    });
  switch (code) {
    case "ENOSPC":
    case "EDQUOT":
      return fail(
        `no space left on the device of ${dirname(path)}`,
        "free space there or write to another location, then re-run (committed work is kept)",
        1,
      );
    case "EROFS":
      return fail(`${dirname(path)} is on a read-only file system`, "choose a writable location", 2);
    case "EACCES":
    case "EPERM":
      return fail(
        `permission denied on ${path}`,
        /^(read|list)/.test(doing)
          ? "make it readable by this user or choose another location"
          : "make it (and its folder) writable by this user or choose another location",
        2,
      );
    case "ELOOP":
      return fail("a loop of symbolic links", "fix or remove the links on that path", 2);
    case "EEXIST":
    case "ENOTDIR": {
      // mkdir/readdir met a file where the path needs a folder: name that file, not only the full path.
      const file = existingAncestor(path);
      if (code === "EEXIST" && !file?.isFile) return e;
      return fail(
        `${file?.path ?? path} is a file, not a folder`,
        "remove or rename that file, or choose another location",
        2,
      );
    }
    case "EISDIR":
      return fail(`${path} is a folder, not a file`, "name a file path instead", 2);
    case "ENAMETOOLONG":
      return fail("the file name is too long for this file system", "use a shorter location or name", 2);
    case "EMFILE":
    case "ENFILE":
      return fail("too many open files", "raise the open-file limit (ulimit -n) and re-run", 1);
    case "EIO":
      return fail("input/output error from the device", "check the disk or mount, then re-run", 1);
    default:
      return e;
  }
}

/**
 * Writes `bytes` (one array, or pieces written one after another) to `path` atomically: first to
 * `path + ".tmp-<random>"` in the same folder, flushed to disk, then renamed over `path`, so readers see either
 * the old file or the complete new one. The temporary
 * file is removed if writing fails; an operating-system failure (disk full, read-only, a file where the folder
 * should be) is a {@link StorageError} naming the path.
 */
export async function writeFileAtomic(path: string, bytes: Bytes): Promise<void> {
  // A rename would replace a device or FIFO (e.g. /dev/null, as root) by a plain file: refuse.
  if (isSpecial(await Deno.lstat(path).catch(() => null))) {
    throw new StorageError(
      `${path} is not a regular file (a device, FIFO or socket); name a file instead`,
      2,
    );
  }
  const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const file = await Deno.open(tmp, { write: true, createNew: true });
    try {
      for (const piece of pieces(bytes)) {
        for (let at = 0; at < piece.length;) at += await file.write(piece.subarray(at));
      }
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    if (e instanceof Deno.errors.NotFound) {
      throw new StorageError(
        `cannot write ${path}: the folder ${dirname(path)} does not exist; create it or choose another path`,
        2,
        { cause: e },
      );
    }
    throw storageError(e, path, "writing");
  }
}

/**
 * Checks, before any work, that a file can be written at `path`: its folder exists, is a folder and takes a
 * new file (probed with an empty temporary file), and `path` is not a folder. Throws a {@link StorageError}
 * naming the path and the fix.
 */
export async function checkOutputFile(path: string, what = "--output"): Promise<void> {
  const target = await Deno.lstat(path).catch(() => null);
  if (target?.isDirectory) {
    throw new StorageError(`${what} ${path} is a folder; name a file in it instead`, 2);
  }
  if (isSpecial(target)) {
    throw new StorageError(
      `${what} ${path} is not a regular file (a device, FIFO or socket); name a file, or leave out ${what} ` +
        "to write to stdout",
      2,
    );
  }
  const dir = dirname(path);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw storageError(e, dir, "checking");
    throw new StorageError(
      `${what} ${path}: the folder ${dir} does not exist; create it or choose another path`,
      2,
    );
  }
  if (!info.isDirectory) {
    throw new StorageError(`${what} ${path}: ${dir} is not a folder; choose another path`, 2);
  }
  const probe = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    (await Deno.open(probe, { write: true, createNew: true })).close();
  } catch (e) {
    throw storageError(e, path, `checking ${what}`);
  } finally {
    await Deno.remove(probe).catch(() => {});
  }
}
