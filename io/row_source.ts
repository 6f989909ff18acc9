/**
 * An instrument's input as rows served on demand, so a chunked run (pipeline/chunked.ts) holds one chunk's
 * input rows rather than the whole series: {@link scanTask} validates the partitions in one pass, piece by
 * piece (io/validate.ts `validatedPieces`: a file, or a Parquet row group), keeping only an index of the pieces;
 * `read(a, b)` then decodes the pieces that hold rows [a, b) again. A Parquet piece is read by ranges (footer and
 * its row group's column chunks, ranged GETs on S3); a CSV or Arrow file is one piece, read whole.
 */
import { type BadCells, concatFrames, type Frame, makeFrame, type SkippedColumn } from "./frame.ts";
import { DataError } from "../runtime/errors.ts";
import type { Task } from "./discover.ts";
import type { Storage } from "./storage.ts";
import {
  decodePiece,
  type InputPiece,
  type LoadTaskOptions,
  type LoadTimings,
  validatedPieces,
} from "./validate.ts";

/** Rows of one instrument's input, read on demand. */
export interface RowSource {
  /** Where the rows come from, for messages. */
  readonly source: string;
  /** Rows in all. */
  readonly rows: number;
  /** The timestamp column's name. */
  readonly timestampColumn?: string;
  /** The value columns, in file order. */
  readonly columns: string[];
  /** Columns the files hold but that were not loaded, and why. */
  readonly skipped: SkippedColumn[];
  /** Cells read as NaN (data.bad_values: nan), each naming its file. */
  readonly badCells?: BadCells[];
  /**
   * Rows [a, b) as a frame whose `origin` is a, with the timestamps and `columns` (default: every value
   * column); the arrays are the caller's.
   */
  read(a: number, b: number, columns?: string[]): Promise<Frame>;
}

/** A frame already in memory as a {@link RowSource} (its rows are copied out on each read). */
export function frameSource(frame: Frame): RowSource {
  return {
    source: frame.source,
    rows: frame.rows,
    timestampColumn: frame.timestampColumn,
    columns: [...frame.columns.keys()],
    skipped: frame.skipped,
    badCells: frame.badCells,
    read: (a, b, columns) => {
      const names = columns ?? [...frame.columns.keys()];
      const ts = frame.timestamps && { column: frame.timestampColumn!, values: frame.timestamps.slice(a, b) };
      const out = makeFrame(
        frame.source,
        b - a,
        new Map(names.map((n) => [n, frame.columns.get(n)!.slice(a, b)])),
        frame.skipped,
        ts,
      );
      out.origin = a;
      return Promise.resolve(out);
    },
  };
}

/**
 * Validates a task's input in one pass (the checks and messages of `loadTask`) and returns it as a
 * {@link RowSource}; `onPiece` sees each piece's rows in order (fingerprints, input tallies) before they are
 * dropped.
 */
export async function scanTask(
  storage: Storage,
  task: Task,
  opts: LoadTaskOptions,
  onPiece?: (frame: Frame) => void,
  timings?: LoadTimings,
): Promise<RowSource> {
  const seen = { skipped: [] as SkippedColumn[], badCells: [] as BadCells[] };
  const pieces: (Omit<InputPiece, "frame"> & { rows: number })[] = [];
  let rows = 0, columns: string[] = [], timestampColumn: string | undefined;
  for await (const p of validatedPieces(storage, task, opts, seen, timings)) {
    onPiece?.(p.frame);
    pieces.push({ key: p.key, range: p.range, first: p.first, rows: p.frame.rows });
    rows = p.first + p.frame.rows;
    columns = [...p.frame.columns.keys()];
    timestampColumn = p.frame.timestampColumn;
  }
  const source = `${storage.url}/${task.instrument}`;
  // The pieces last decoded: a window straddling two pieces reads both, and the next starts in the second.
  const cache = new Map<Omit<InputPiece, "frame">, Frame>();
  const piece = async (p: (typeof pieces)[number]) => {
    let frame = cache.get(p);
    if (!frame) {
      frame = (await decodePiece(storage, p.key, opts, p.range)).frame;
      if (frame.rows !== p.rows) {
        throw new DataError(
          `${
            storage.url.replace(/\/$/, "")
          }/${p.key}: changed while the task read it (${frame.rows} rows where ` +
            `validation read ${p.rows}); run the task again`,
        );
      }
      if (cache.size >= 2) cache.delete(cache.keys().next().value!);
      cache.set(p, frame);
    }
    return frame;
  };
  return {
    source,
    rows,
    timestampColumn,
    columns,
    skipped: seen.skipped,
    badCells: seen.badCells.length ? seen.badCells : undefined,
    read: async (a, b, names = columns) => {
      // The last piece starting at or before a (pieces are in row order).
      let lo = 0, hi = pieces.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (pieces[mid].first <= a) lo = mid;
        else hi = mid - 1;
      }
      const parts: Frame[] = [];
      for (let i = lo; i < pieces.length && pieces[i].first < b; i++) {
        const p = pieces[i], frame = await piece(p);
        const from = Math.max(0, a - p.first), to = Math.min(frame.rows, b - p.first);
        const cols = new Map(names.map((n) => [n, frame.columns.get(n)!.subarray(from, to)]));
        const ts = { column: frame.timestampColumn!, values: frame.timestamps!.subarray(from, to) };
        parts.push(makeFrame(source, to - from, cols, [], ts));
      }
      const out = concatFrames(parts, source);
      out.origin = a;
      return out;
    },
  };
}
