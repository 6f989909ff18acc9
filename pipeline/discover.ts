/**
 * Task discovery: one task per instrument, each with its input files (partitions) in key order. The
 * instrument comes from a regex over the key relative to the source (one capture group), or for files
 * directly under the source from the file's base name.
 */
import { UsageError } from "../runtime/errors.ts";
import type { Storage, StoredObject } from "../io/storage.ts";

/** One instrument's input files. */
export interface Task {
  /** Instrument name (from `data.instrument_pattern`, or the file's base name). */
  instrument: string;
  /** Its input files (key relative to the source, size, version), in key order. */
  files: StoredObject[];
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
    const instrument = m?.[1] ??
      (obj.key.includes("/") ? undefined : base.slice(0, base.length - ext.length - 1));
    if (!instrument) continue;
    const task = tasks.get(instrument) ?? { instrument, files: [] };
    task.files.push(obj);
    tasks.set(instrument, task);
  }
  return [...tasks.values()].sort((a, b) => (a.instrument < b.instrument ? -1 : 1));
}

/** The tasks of shard `index` of `count` (0-based): a deterministic split by position in the sorted list. */
export function shardTasks(tasks: Task[], index: number, count: number): Task[] {
  return tasks.filter((_, i) => i % count === index);
}

/** Parses `--shard i/N` (1-based i, as users count shards) into a 0-based index and a count. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const i = m ? Number(m[1]) : NaN, n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || i < 1 || i > n) {
    throw new UsageError(`--shard expects i/N with 1 <= i <= N, got "${text}"`);
  }
  return { index: i - 1, count: n };
}
