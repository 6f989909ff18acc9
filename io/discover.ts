/**
 * Task discovery: one task per instrument, each with its input files (partitions) in key order. The
 * instrument comes from a regex over the key relative to the source (one capture group), or for files
 * directly under the source from the file's base name. The name becomes an output folder or S3 prefix, so it
 * must pass {@link instrumentNameProblem}; a task whose name does not carries the reason in `problem`.
 */
import { UsageError } from "../runtime/errors.ts";
import type { Storage, StoredObject } from "./storage.ts";

/** One instrument's input files. */
export interface Task {
  /**
   * Instrument name (from `data.instrument_pattern`, or the file's base name); it names the output folder or S3
   * prefix. When {@link Task.problem} is set it is the name as a JSON string literal (printable, never a path).
   */
  instrument: string;
  /** Its input files (key relative to the source, size, version), in key order. */
  files: StoredObject[];
  /**
   * Why the instrument's name is refused (see {@link instrumentNameProblem}): the run records the task as
   * failed with this message and never reads, writes or deletes anything for it.
   */
  problem?: string;
}

/** The longest instrument name: `pca/<name, URI-encoded>.json` must fit a 255-byte file name. */
export const MAX_INSTRUMENT_LENGTH = 80;

/**
 * The instrument name policy (issue 12): a name becomes a folder (or S3 prefix) under the output, next to
 * `_runs/` and the registry, so it must be one plain path segment on every file system and store. Allowed:
 * 1 to 80 ASCII letters, digits and `. _ - + = @ ^ ~ ,`, not starting with `.` or `_` (reserved for
 * `_runs`, `_manifest.json`, `_lease.json`, hidden files, `.` and `..`), not ending with `.`, not a Windows
 * device name (CON, NUL, COM1...) nor the registry's `registry.sqlite`. Returns the rule broken, or undefined.
 */
export function instrumentNameProblem(name: string): string | undefined {
  if (name.length === 0) return "it is empty";
  if (name.length > MAX_INSTRUMENT_LENGTH) {
    return `it is longer than ${MAX_INSTRUMENT_LENGTH} characters (${name.length})`;
  }
  const bad = [...name].find((ch) => !/[A-Za-z0-9._\-+=@^~,]/.test(ch));
  if (bad !== undefined) {
    return `it contains ${quoted(bad)} (allowed: ASCII letters, digits and . _ - + = @ ^ ~ ,)`;
  }
  if (name.startsWith(".") || name.startsWith("_")) {
    return `it starts with "${name[0]}" (reserved: _runs, _manifest.json, hidden files, . and ..)`;
  }
  // Windows drops a trailing dot (ES. and ES would share a folder) and refuses device names as folders.
  if (name.endsWith(".")) return `it ends with "." (Windows drops it, so it would share a folder)`;
  if (/^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i.test(name)) return `it is a device name on Windows`;
  if (/^registry\.sqlite/i.test(name)) return `it is the run registry's file name`;
  return undefined;
}

// Control, format (bidi overrides, zero-width) and line/paragraph separator characters: never printed raw.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
const escapeChar = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/**
 * Text as reports print it (messages, registry errors, progress lines): control and format characters (a
 * newline, ESC, a bidi override in a file name) escaped as `\uXXXX`, so no name can break a line or a
 * terminal.
 */
export function printable(s: string): string {
  return s.replace(UNPRINTABLE, escapeChar);
}

/** A name quoted for reports: JSON string syntax with every unprintable character escaped (one-to-one). */
export function quoted(s: string): string {
  return JSON.stringify(s).replace(UNPRINTABLE, escapeChar);
}

const EXTENSIONS: Record<string, string> = {
  parquet: "parquet",
  pq: "parquet",
  feather: "feather",
  arrow: "arrow",
  ipc: "arrow",
  csv: "csv",
};

/** Groups the source's data files into tasks, sorted by instrument; `formats` filters by file type. */
export async function discoverTasks(source: Storage, pattern: string, formats: string[]): Promise<Task[]> {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (e) {
    throw new UsageError(`data.instrument_pattern: not a valid regular expression (${(e as Error).message})`);
  }
  const tasks = new Map<string, Task>();
  for (const obj of await source.list()) {
    const base = obj.key.split("/").pop()!;
    if (base.startsWith("_") || base.startsWith(".")) continue; // manifests, hidden files
    const ext = base.includes(".") ? base.split(".").pop()!.toLowerCase() : "";
    if (!EXTENSIONS[ext] || !formats.includes(EXTENSIONS[ext])) continue;
    const m = re.exec(obj.key);
    const fromPattern = m?.[1] !== undefined;
    const instrument = m?.[1] ??
      (obj.key.includes("/") ? undefined : base.slice(0, base.length - ext.length - 1));
    if (instrument === undefined) continue; // not an instrument's file (an empty capture is refused below)
    let task = tasks.get(instrument);
    if (!task) {
      // Refused names stay tasks (failed, exit 1) so that nothing is dropped silently.
      const why = instrumentNameProblem(instrument);
      task = why
        ? {
          instrument: quoted(instrument),
          files: [],
          problem: `${printable(`${source.url.replace(/\/+$/, "")}/${obj.key}`)}: instrument ` +
            `${quoted(instrument)} (${
              fromPattern ? `from data.instrument_pattern ${quoted(pattern)}` : "from the file name"
            }) is not a safe output name: ${why}; rename the folder or file, or change data.instrument_pattern`,
        }
        : { instrument, files: [] };
      tasks.set(instrument, task);
    }
    task.files.push(obj);
  }
  const sorted = [...tasks.values()].sort((a, b) => (a.instrument < b.instrument ? -1 : 1));
  // Names that differ only in case share one folder on case-insensitive file systems (macOS, Windows).
  const byFolded = new Map<string, Task[]>();
  for (const t of sorted) {
    if (t.problem) continue;
    const k = t.instrument.toLowerCase();
    byFolded.set(k, [...(byFolded.get(k) ?? []), t]);
  }
  for (const same of byFolded.values()) {
    if (same.length < 2) continue;
    for (const t of same) {
      t.problem = `${source.url}: instruments ${
        same.map((o) => JSON.stringify(o.instrument)).join(" and ")
      } ` +
        `differ only in case: they would share one output folder on a case-insensitive file system ` +
        `(macOS, Windows); rename one`;
    }
  }
  return sorted;
}

/** The tasks of shard `index` of `count` (0-based): a deterministic split by position in the sorted list. */
export function shardTasks(tasks: Task[], index: number, count: number): Task[] {
  return tasks.filter((_, i) => i % count === index);
}
