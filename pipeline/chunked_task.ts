/**
 * One task in chunks (pipeline/chunked.ts), each chunk written as the next part, and appends: when the
 * committed output was computed with the same configuration from a prefix of today's input (the SHA-256 of
 * the committed rows' inputs still matches), only the new rows are computed. The rows that can change are
 * those whose FFT block pair or target horizon reached past the old last row, so the append restarts at the
 * start of the committed part that holds the first of them, from that part's checkpoint in the manifest (the
 * quality counts, and the GARCH state: engines/garch_chunked.ts, so only the refits from there on are fitted),
 * re-reads the selection's tail from the committed parts, writes the
 * remaining parts and commits a new manifest; the result equals a full recompute bit for bit on the CPU path
 * (tests/append_test.ts). The input's fingerprint is the SHA-256 of each column's f64 bytes ({@link InputsHash}),
 * taken as the rows are read, with the committed rows' kept on the way. Anything else — changed history, fewer rows, another plan — is a full recompute,
 * logged with the reason. The manifest is removed before the first part is written, as for any task: a
 * crash leaves the task uncommitted, and the next run recomputes it.
 */
import { createHash, type Hash } from "node:crypto";
import type { Config } from "../config/schema.ts";
import type { Frame } from "../io/frame.ts";
import { decodeFrame } from "../io/read.ts";
import type { RowSource } from "../io/row_source.ts";
import type { Storage } from "../io/storage.ts";
import type { Compute } from "../runtime/backend.ts";
import { log } from "../runtime/log.ts";
import type { ChunkedGarchState } from "../engines/garch_chunked.ts";
import { parseTarget } from "../engines/target.ts";
import {
  type ChunkPart,
  type ChunkPlan,
  planChunks,
  rowSource,
  runEnginesChunked,
  selectionTailRows,
} from "./chunked.ts";
import type { TaskSummary } from "./summary.ts";
import type { Engine, EngineStep } from "./engines.ts";
import type { InputFingerprint } from "./inputs.ts";
import { type ChunkedManifest, type Manifest, type OutputOptions, TaskOutput } from "./output.ts";
import { type ColumnQuality, InputTally, QualityTally } from "./quality.ts";

/** Inputs of {@link runChunkedTask}. */
export interface ChunkedTaskOptions {
  /** The task's input: in memory, or read chunk by chunk (io/row_source.ts `scanTask`). */
  input: Frame | RowSource;
  /**
   * The input's fingerprints and value tallies, when a pass over it already took them (run.ts: the validation
   * pass, with the committed rows among the hash's marks); else one pass over `input` takes them.
   */
  scanned?: { hash: InputsHash; tally: InputTally };
  /** The task's instrument. */
  instrument: string;
  /** The enabled engines. */
  engines: Engine[];
  /** The configuration. */
  config: Config;
  /** The compute context. */
  compute: Compute;
  /** The chunk plan (pipeline/chunked.ts `planChunks`). */
  plan: ChunkPlan;
  /** The output storage. */
  output: Storage;
  /** Part format and compression (rowsPerPart is the plan's). */
  format: Omit<OutputOptions, "rowsPerPart">;
  /** The committed manifest when it was written with this configuration (an append may resume from it). */
  committed: Manifest | null;
  /** Run id, config hash and input fingerprints of the manifest. */
  meta: { runId: string; configHash: string; inputs?: InputFingerprint[] };
  /** Hears each engine's report once the task is done. */
  done?: (step: EngineStep) => void;
  /** Called after each chunk (the run samples its peak memory): the resident set in bytes, logged with the chunk. */
  sample?: () => number;
}

/** What a chunked task did. */
export interface ChunkedTaskResult {
  /** Quality of every added column over the whole series. */
  quality: Map<string, ColumnQuality>;
  /** Columns added by the engines. */
  features: number;
  /** Parts written by this run, and the first row it computed (0 unless it appended). */
  parts: number;
  /** First row computed (0: the whole series; > 0: an append). */
  from: number;
  /** Time spent writing parts and committing the manifest, in ms (the summary's `write` phase). */
  writeMs: number;
}

/**
 * `deno task run`'s task in chunks: plans them under `compute.memory_budget`, runs {@link runChunkedTask},
 * and records rows, features, quality (warnings logged) and the chunking in the task's summary row;
 * `sample` is called after each chunk (peak memory) and gives the resident set the chunk's log line reports.
 */
export async function runTaskInChunks(
  o: Omit<ChunkedTaskOptions, "plan" | "format">,
  row: TaskSummary,
  sample: () => number,
): Promise<void> {
  const { config } = o;
  const input = rowSource(o.input);
  const plan = planChunks(config, o.engines, input.columns.length, input.rows);
  const storage = config.storage;
  const r = await runChunkedTask({
    ...o,
    plan,
    format: { format: storage.format, compression: storage.compression },
    sample,
  });
  const quality: Record<string, ColumnQuality> = row.quality ?? {};
  for (const [name, q] of r.quality) {
    quality[name] = q;
    if (q.problem) log("warn", `feature ${name}: ${q.problem}`, { feature: name });
  }
  const chunks = { rows: plan.rows, back: plan.back, ahead: plan.ahead, parts: r.parts, from: r.from };
  Object.assign(row, { rows: input.rows, features: r.features, quality, chunks });
  if (row.phases_ms) row.phases_ms.write = Math.round(r.writeMs);
  log("info", r.from ? "task committed (appended)" : "task committed", {
    rows: input.rows,
    features: r.features,
    chunks,
  });
}

/** Runs the task in chunks, appending to the committed output when it can. */
export async function runChunkedTask(o: ChunkedTaskOptions): Promise<ChunkedTaskResult> {
  const { plan } = o;
  const input = rowSource(o.input);
  const scanned = o.scanned ?? await scan(input, o.committed?.chunked ? [o.committed.rows] : []);
  const resume = await appendPoint(o, input, scanned.hash);
  const out = await TaskOutput.open(
    o.output,
    o.instrument,
    { ...o.format, rowsPerPart: plan.rows },
    resume?.keep,
  );
  const checkpoints = resume?.checkpoints ?? [];
  const quality = new QualityTally(resume?.quality);
  const inputNames = new Set(input.columns);
  let parts = 0, writeMs = 0;
  const notes: Record<string, string> = {};
  // A series longer than one chunk ends a part where the next append restarts (a shorter one stays one part).
  const boundary = input.rows > plan.rows ? await restartRow(o, input, input.rows) : undefined;
  await runEnginesChunked(input, o.engines, o.config, o.compute, {
    ...plan,
    resume: resume ? { from: resume.from, tail: resume.tail, garch: resume.garch } : undefined,
    boundary,
    checkpoint: (row, garch) => {
      // Only the next append's restart row needs the GARCH state (later appends restart later still).
      const carried = garch && row === boundary ? garch() : undefined;
      if (carried) { for (const c of checkpoints) delete c.garch; }
      checkpoints.push({ row, quality: quality.snapshot(), ...(carried && { garch: carried }) });
    },
    part: async (p) => {
      quality.add(new Map([...p.columns].filter(([k]) => !inputNames.has(k) && !k.startsWith("y_"))));
      const t0 = performance.now();
      await out.part(p.columns, { name: input.timestampColumn!, values: p.timestamps! });
      writeMs += performance.now() - t0;
      parts++;
    },
    progress: (rows, total, ms) => {
      const rss = o.sample?.();
      log("info", `rows ${rows} of ${total} (${Math.round((100 * rows) / total)}%)`, {
        engine_ms: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, Math.round(v)])),
        ...(rss === undefined ? {} : { rss_mb: Math.round(rss / 2 ** 20) }),
      });
    },
    done: (step) => {
      // A window engine's note (a window longer than the rows) holds for the series: a chunk's window holds
      // the declared history, so it can only be shorter than a window when it is the whole series.
      Object.assign(notes, step.result.notes);
      o.done?.(step);
    },
  });
  const chunked: ChunkedManifest = {
    rows: plan.rows,
    inputs_sha256: scanned.hash.digest(input.rows)!,
    checkpoints: encodeNonFinite(checkpoints),
  };
  const t0 = performance.now();
  const manifest = await out.commit(o.meta, { chunked });
  writeMs += performance.now() - t0;
  return {
    quality: quality.assess(scanned.tally, notes),
    features: manifest.columns.length - 1 - input.columns.length,
    parts,
    from: resume?.from ?? 0,
    writeMs,
  };
}

/** Where an append resumes, or null (a full run) with the reason logged. */
async function appendPoint(o: ChunkedTaskOptions, input: RowSource, hash: InputsHash): Promise<
  {
    from: number;
    keep: Manifest["files"];
    checkpoints: ChunkedManifest["checkpoints"];
    quality: ChunkedManifest["checkpoints"][number]["quality"];
    tail: ChunkPart[];
    garch?: ChunkedGarchState;
  } | null
> {
  const c = o.committed;
  const state = c?.chunked;
  if (!c || !state) return null;
  const full = (why: string) => (log("info", `recomputing the whole series: ${why}`), null);
  if (state.rows !== o.plan.rows) return full(`chunk length changed (${state.rows} -> ${o.plan.rows} rows)`);
  if (input.rows < c.rows) {
    return full(`the input has ${input.rows} rows, fewer than the ${c.rows} committed`);
  }
  if (!state.inputs_sha256.startsWith(INPUTS_HASH_SCHEME)) {
    return full("the committed manifest fingerprints its inputs as an earlier release did");
  }
  if (hash.digest(c.rows) !== state.inputs_sha256) {
    return full(`the input's first ${c.rows} rows (the committed history) changed`);
  }
  if (input.rows === c.rows) return full("the input files changed but not their rows");
  // Recompute from the part that holds the first row that can change (the full run ended a part there).
  const stale = await restartRow(o, input, c.rows);
  let k = 0;
  while (k + 1 < c.files.length && state.checkpoints[k + 1].row <= stale) k++;
  const from = state.checkpoints[k].row;
  const cp = decodeNonFinite(state.checkpoints.slice(0, k + 1));
  if (from > 0 && o.engines.some((e) => e.name === "garch_models") && !cp[k].garch) {
    return full(`the checkpoint at row ${from} has no GARCH state (written before appends carried it)`);
  }
  const tail = await readTail(o, input, c, k, from);
  log("info", `appending ${input.rows - c.rows} rows: computing rows ${from}.. (committed ${c.rows})`, {
    rewritten_parts: c.files.length - k,
  });
  return {
    from,
    keep: c.files.slice(0, k),
    checkpoints: cp.slice(0, k),
    quality: cp[k].quality,
    tail,
    garch: cp[k].garch,
  };
}

/**
 * The first row an append after row `end` can change: rows whose FFT block pair (plan.ahead) or target
 * horizon reach past `end`; the rows before it keep their values.
 */
async function restartRow(
  o: Pick<ChunkedTaskOptions, "config" | "plan" | "engines">,
  input: RowSource,
  end: number,
): Promise<number> {
  let t = Math.max(0, end - o.plan.ahead - 1);
  if (!o.engines.some((e) => e.name === "statistical_tests")) return t;
  // A later bar at ts > ts[end - 1] enters the target of t when ts[t] + horizon > ts[end - 1].
  const spec = parseTarget(o.config.features.selection_target_column);
  if (spec.kind === "bars") return Math.max(0, Math.min(t, end - spec.bars));
  if (spec.kind !== "time" || !input.timestampColumn) return t;
  // The timestamps from t back to the first row outside the horizon, in blocks.
  for (let k = 4096, last = NaN; t > 0; k *= 2) {
    const lo = Math.max(0, t - k), f = await input.read(lo, Number.isNaN(last) ? end : t, []);
    const ts = f.timestamps!;
    if (Number.isNaN(last)) last = ts[end - 1 - lo];
    while (t > lo && ts[t - 1 - lo] + spec.ms > last) t--;
    if (t > lo) break;
  }
  return t;
}

/** The committed parts before part `k` that the selection's tail needs, read back (newest last). */
async function readTail(
  o: ChunkedTaskOptions,
  input: RowSource,
  c: Manifest,
  k: number,
  from: number,
): Promise<ChunkPart[]> {
  if (!o.engines.some((e) => e.name === "statistical_tests")) return [];
  const need = await selectionTailRows(input, o.config);
  const tail: ChunkPart[] = [];
  for (let i = k - 1, start = from; i >= 0 && input.rows - start < need; i--) {
    const f = c.files[i];
    const part = await decodeFrame(await o.output.get(f.key), f.key);
    start -= f.rows;
    // In the manifest's column order; the timestamp column (first) is decoded by type or by name.
    const [tsName, ...names] = c.columns;
    const columns = new Map(names.map((k) => [k, part.columns.get(k)!]));
    tail.unshift({ start, columns, timestamps: part.timestamps ?? part.columns.get(tsName) });
  }
  return tail;
}

/**
 * Marks the fingerprint's scheme (a SHA-256 per column, combined): a manifest from a release that hashed the
 * inputs otherwise is recomputed with that reason, not as changed history.
 */
const INPUTS_HASH_SCHEME = "columns:";

/**
 * SHA-256 fingerprint of an input's rows fed in order (any pieces): per stream — the timestamps, then each value
 * column by name — the SHA-256 of its f64 bytes, hashed together. `marks` are row counts whose fingerprint is
 * kept as the rows pass them (the committed rows of an append).
 */
export class InputsHash {
  #rows = 0;
  #ts: Hash | undefined;
  readonly #columns = new Map<string, Hash>();
  readonly #at = new Map<number, string>();
  /** Marks: the row counts whose fingerprints {@link digest} gives besides the current one. */
  constructor(readonly marks: number[] = []) {}

  /** Feeds the next rows. */
  add(frame: Frame): void {
    const feed = (from: number, to: number) => {
      const bytes = (v: Float64Array) => new Uint8Array(v.buffer, v.byteOffset + 8 * from, 8 * (to - from));
      if (frame.timestamps) (this.#ts ??= createHash("sha256")).update(bytes(frame.timestamps));
      for (const [name, v] of frame.columns) {
        let h = this.#columns.get(name);
        if (!h) this.#columns.set(name, h = createHash("sha256"));
        h.update(bytes(v));
      }
    };
    let from = 0;
    for (const m of [...this.marks].sort((a, b) => a - b)) {
      if (m <= this.#rows || m > this.#rows + frame.rows) continue;
      feed(from, m - this.#rows);
      this.#at.set(m, this.#now());
      from = m - this.#rows;
    }
    feed(from, frame.rows);
    this.#rows += frame.rows;
  }

  /** The fingerprint of the first `rows` rows: those fed so far, or a mark; undefined for other counts. */
  digest(rows: number): string | undefined {
    return rows === this.#rows ? this.#now() : this.#at.get(rows);
  }

  #now(): string {
    const h = createHash("sha256");
    if (this.#ts) h.update(this.#ts.copy().digest());
    for (const [name, c] of this.#columns) h.update(name), h.update(c.copy().digest());
    return INPUTS_HASH_SCHEME + h.digest("hex");
  }
}

/** One pass over the input (block by block): its fingerprints (`marks` kept) and value tallies. */
async function scan(input: RowSource, marks: number[]): Promise<{ hash: InputsHash; tally: InputTally }> {
  const hash = new InputsHash(marks), tally = new InputTally();
  for (let a = 0; a < input.rows; a += 1 << 16) {
    const f = await input.read(a, Math.min(input.rows, a + (1 << 16)));
    hash.add(f);
    tally.add(f.columns);
  }
  return { hash, tally };
}

/** JSON cannot hold NaN or infinities: they travel as the strings "NaN", "Infinity", "-Infinity". */
function encodeNonFinite<T>(v: T): T {
  return JSON.parse(
    JSON.stringify(v, (_, x) => (typeof x === "number" && !Number.isFinite(x) ? String(x) : x)),
  );
}

function decodeNonFinite<T>(v: T): T {
  return JSON.parse(
    JSON.stringify(v),
    (_, x) => (x === "NaN" || x === "Infinity" || x === "-Infinity" ? Number(x) : x),
  );
}
