/**
 * Task outputs: the instrument's frame plus its features as partitioned Feather v2 (LZ4 or ZSTD buffers) or
 * ZSTD Parquet files `<instrument>/part-00000.<ext>`, ..., followed by `<instrument>/_manifest.json` (rows,
 * columns, config hash, SHA-256 of every part), written last: a task is committed exactly when its manifest
 * exists. Re-running a committed task first removes the manifest, so a crash leaves the task uncommitted
 * (and re-run) rather than half old, half new; every object is itself written atomically.
 */
import { encodeFeatherParts, type FeatherCompression } from "../io/feather_write.ts";
import { encodeParquet } from "../io/parquet_write.ts";
import type { Storage } from "../io/storage.ts";
import { byteLength } from "../io/bytes.ts";
import { sha256Hex } from "../io/checksum.ts";
import type { InputFingerprint } from "./inputs.ts";
import type { Counts } from "./quality.ts";
import type { ChunkedGarchState } from "../engines/garch_chunked.ts";
import { UsageError } from "../runtime/errors.ts";
import { instrumentNameProblem } from "../io/discover.ts";

/** Output file format and Feather buffer compression (Parquet is always ZSTD). */
export interface OutputOptions {
  /** Part file format. */
  format: "feather" | "parquet";
  /** Feather buffer compression; ignored for Parquet (always ZSTD). */
  compression: FeatherCompression;
  /** Rows per part file. */
  rowsPerPart: number;
}

/** What marks a task committed. */
export interface Manifest {
  /** The task's instrument (also the output folder name). */
  instrument: string;
  /** Id of the run that committed the task. */
  run_id: string;
  /** Hash of the configuration used; a re-run with the same hash skips the task. */
  config_hash: string;
  /** Total rows over all parts. */
  rows: number;
  /** Column names in file order, timestamp column first. */
  columns: string[];
  /** The part files in order: key, row count, size in bytes and hex SHA-256 of the bytes. */
  files: { key: string; rows: number; bytes: number; sha256: string }[];
  /** Commit time, ISO 8601 (UTC). */
  created: string;
  /** The input files the outputs were computed from; a different set re-processes the task. */
  inputs?: InputFingerprint[];
  /** A task written in chunks: what an append resumes from (pipeline/chunked_task.ts). */
  chunked?: ChunkedManifest;
}

/** What a chunked task's manifest carries so that an append can resume (`Manifest.chunked`). */
export interface ChunkedManifest {
  /** Rows per chunk when it was written. */
  rows: number;
  /** Fingerprint of the committed rows' inputs: `columns:` and the SHA-256 of each input column's, combined. */
  inputs_sha256: string;
  /**
   * Per part, the state at its first row (the quality counts; at the next append's restart row, the GARCH
   * state too), JSON with non-finite numbers as text.
   */
  checkpoints: { row: number; quality: Record<string, Counts>; garch?: ChunkedGarchState }[];
}

/**
 * The task's folder `<instrument>/`. Every key of a task goes through it, so a name that is not one safe path
 * segment (`..`, `_runs`, `a/b`: io/discover.ts `instrumentNameProblem`) can never write or delete
 * outside its own folder, whoever calls this module.
 */
function taskFolder(instrument: string): string {
  const why = instrumentNameProblem(instrument);
  if (why) throw new UsageError(`instrument ${JSON.stringify(instrument)} is not a safe output name: ${why}`);
  return `${instrument}/`;
}

const manifestKey = (instrument: string) => `${taskFolder(instrument)}_manifest.json`;

/** The task's manifest when it is committed, else null. */
export async function readManifest(storage: Storage, instrument: string): Promise<Manifest | null> {
  if (!(await storage.head(manifestKey(instrument)))) return null;
  return JSON.parse(new TextDecoder().decode(await storage.get(manifestKey(instrument))));
}

/** Removes a task's outputs, manifest first (so the task is uncommitted before any data goes). */
export async function removeTaskOutput(storage: Storage, instrument: string): Promise<void> {
  await storage.delete(manifestKey(instrument));
  for (const o of await storage.list(taskFolder(instrument))) await storage.delete(o.key);
}

/** Writes a task's parts, then its manifest (the commit); returns the manifest. */
export async function writeTaskOutput(
  storage: Storage,
  instrument: string,
  columns: Map<string, Float64Array>,
  timestamps: { name: string; values: Float64Array },
  meta: { runId: string; configHash: string; inputs?: InputFingerprint[] },
  opts: OutputOptions,
): Promise<Manifest> {
  const out = await TaskOutput.open(storage, instrument, opts);
  const rows = timestamps.values.length;
  for (let start = 0; start < rows || start === 0; start += opts.rowsPerPart) {
    const end = Math.min(rows, start + opts.rowsPerPart);
    await out.part(
      new Map([...columns].map(([k, v]) => [k, v.subarray(start, end)])),
      { name: timestamps.name, values: timestamps.values.subarray(start, end) },
    );
    if (end === rows) break;
  }
  return await out.commit(meta);
}

/**
 * A task's output written part by part (a chunked run writes each chunk as it is done): `open` uncommits the
 * task (removes its manifest), `part` writes the next `part-NNNNN` file, `commit` removes the parts of an
 * earlier, longer output and writes the manifest. `keep` are the committed parts an append leaves in place.
 */
export class TaskOutput {
  readonly #storage: Storage;
  readonly #instrument: string;
  readonly #opts: OutputOptions;
  readonly #files: Manifest["files"];
  #columns: string[] = [];

  private constructor(storage: Storage, instrument: string, opts: OutputOptions, keep: Manifest["files"]) {
    this.#storage = storage, this.#instrument = instrument, this.#opts = opts, this.#files = [...keep];
  }

  /** Uncommits the task and returns a writer whose first part follows `keep`. */
  static async open(
    storage: Storage,
    instrument: string,
    opts: OutputOptions,
    keep: Manifest["files"] = [],
  ): Promise<TaskOutput> {
    await storage.delete(manifestKey(instrument));
    return new TaskOutput(storage, instrument, opts, keep);
  }

  /** Rows written so far (kept parts included). */
  get rows(): number {
    return this.#files.reduce((a, f) => a + f.rows, 0);
  }

  /** Writes the next part; returns its manifest entry. */
  async part(
    columns: Map<string, Float64Array>,
    timestamps: { name: string; values: Float64Array },
  ): Promise<Manifest["files"][number]> {
    // Feather comes as the writer's pieces: written and hashed one by one, never joined.
    const bytes = this.#opts.format === "feather"
      ? await encodeFeatherParts(columns, timestamps, this.#opts.compression)
      : encodeParquet(columns, timestamps);
    const ext = this.#opts.format === "feather" ? "feather" : "parquet";
    const part = String(this.#files.length).padStart(5, "0");
    const key = `${taskFolder(this.#instrument)}part-${part}.${ext}`;
    await this.#storage.put(key, bytes);
    const entry = {
      key,
      rows: timestamps.values.length,
      bytes: byteLength(bytes),
      sha256: await sha256Hex(bytes),
    };
    this.#files.push(entry);
    this.#columns = [timestamps.name, ...columns.keys()];
    return entry;
  }

  /** Removes parts no longer listed and writes the manifest (the commit); `extra` joins the manifest. */
  async commit(
    meta: { runId: string; configHash: string; inputs?: InputFingerprint[] },
    extra: Partial<Manifest> = {},
  ): Promise<Manifest> {
    const keep = new Set(this.#files.map((f) => f.key));
    for (const o of await this.#storage.list(taskFolder(this.#instrument))) {
      if (!keep.has(o.key) && /\/part-\d+\./.test(o.key)) await this.#storage.delete(o.key);
    }
    const manifest: Manifest = {
      instrument: this.#instrument,
      run_id: meta.runId,
      config_hash: meta.configHash,
      rows: this.rows,
      columns: this.#columns,
      files: this.#files,
      created: new Date().toISOString(),
      ...(meta.inputs ? { inputs: meta.inputs } : {}),
      ...extra,
    };
    const text = JSON.stringify(manifest, null, 2);
    await this.#storage.put(manifestKey(this.#instrument), new TextEncoder().encode(text));
    return manifest;
  }
}
