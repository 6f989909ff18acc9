/** The in-memory table every decoder produces: named f64 columns plus optional epoch-ms timestamps. */

import { UsageError } from "../runtime/errors.ts";

/** Cells of a numeric column that held no number (read as NaN): the first one and how many. */
export interface BadCells {
  /** Column name as written in the file. */
  name: string;
  /** 1-based data row of the first bad cell. */
  row: number;
  /** Its text as written. */
  value: string;
  /** How many cells of the column were not numbers. */
  count: number;
  /** The input file (key) they were in, when a task has several. */
  file?: string;
}

/** A column present in the input file that was not loaded, and why (e.g. it holds text). */
export interface SkippedColumn {
  /** Column name as written in the file. */
  name: string;
  /** Human-readable reason, e.g. `non-numeric value "AAPL" at row 1`. */
  reason: string;
}

/** A decoded input file: numeric columns as Float64Array (missing values are NaN). */
export interface Frame {
  /** Numeric columns in file order. The timestamp column is not included here. */
  columns: Map<string, Float64Array>;
  /** Row timestamps in epoch milliseconds (UTC), when the file has a timestamp column. */
  timestamps?: Float64Array;
  /** Name of the column `timestamps` was taken from. */
  timestampColumn?: string;
  /** Number of rows; every column and `timestamps` has this length. */
  rows: number;
  /** Where the frame came from (file name or path), used in error messages. */
  source: string;
  /** Columns that were present but not loaded (text, booleans, nested types...). */
  skipped: SkippedColumn[];
  /** Numeric columns with non-numeric cells read as NaN (CSV); `decodeFrame` rejects them unless told not to. */
  badCells?: BadCells[];
  /**
   * When the frame is a chunk of a longer series (pipeline/chunked.ts): the absolute row of its first row,
   * so kernels split it on the whole series' block grid. Absent: 0.
   */
  origin?: number;
  /** For a chunk: per column, the minimum of its finite values before `origin` (expanding minima). */
  priorMin?: Record<string, number>;
}

/** Column names a timestamp column may have (compared case-insensitively), in priority order. */
export const TIMESTAMP_NAMES: readonly string[] = ["timestamp", "datetime", "time", "date", "ts"];

/** Names of the frame's numeric columns, in file order. */
export function columnNames(frame: Frame): string[] {
  return [...frame.columns.keys()];
}

/**
 * Returns the numeric column `name`, or throws a `UsageError` naming the source file, the missing
 * column and the columns that are available (and any skipped non-numeric column of that name).
 */
export function getColumn(frame: Frame, name: string): Float64Array {
  const col = frame.columns.get(name);
  if (col) return col;
  const skipped = frame.skipped.find((s) => s.name === name);
  if (skipped) {
    throw new UsageError(
      `${frame.source}: column "${name}" is not numeric (${skipped.reason}); ` +
        `numeric columns: ${listNames(columnNames(frame))}`,
    );
  }
  if (name === frame.timestampColumn) {
    throw new UsageError(
      `${frame.source}: column "${name}" is the timestamp column, not a value column; ` +
        `numeric columns: ${listNames(columnNames(frame))}`,
    );
  }
  throw new UsageError(
    `${frame.source}: no column "${name}"; available columns: ${listNames(columnNames(frame))}`,
  );
}

/** Builds a frame and checks that every column (and the timestamps) has `rows` values. */
export function makeFrame(
  source: string,
  rows: number,
  columns: Map<string, Float64Array>,
  skipped: SkippedColumn[] = [],
  timestamps?: { column: string; values: Float64Array },
): Frame {
  for (const [name, values] of columns) {
    if (values.length !== rows) {
      throw new Error(
        `internal: column "${name}" of ${source} has ${values.length} values, expected ${rows}`,
      );
    }
  }
  if (timestamps && timestamps.values.length !== rows) {
    throw new Error(
      `internal: timestamps of ${source} have ${timestamps.values.length} values, expected ${rows}`,
    );
  }
  const frame: Frame = { columns, rows, source, skipped };
  if (timestamps) {
    frame.timestamps = timestamps.values;
    frame.timestampColumn = timestamps.column;
  }
  return frame;
}

function listNames(names: string[]): string {
  if (names.length === 0) return "(none)";
  const shown = names.slice(0, 50).map((n) => `"${n}"`).join(", ");
  return names.length > 50 ? `${shown}, ... (${names.length} in all)` : shown;
}

/** The frames' rows one after another, as one frame named `source` (the first frame's columns and timestamp column). */
export function concatFrames(parts: Frame[], source: string): Frame {
  if (parts.length === 0) return makeFrame(source, 0, new Map());
  const rows = parts.reduce((a, p) => a + p.rows, 0);
  const concat = (get: (p: Frame) => Float64Array) => {
    const out = new Float64Array(rows);
    let at = 0;
    for (const p of parts) out.set(get(p), at), at += p.rows;
    return out;
  };
  const columns = new Map([...parts[0].columns.keys()].map((n) => [n, concat((p) => p.columns.get(n)!)]));
  return makeFrame(source, rows, columns, [], {
    column: parts[0].timestampColumn!,
    values: concat((p) => p.timestamps!),
  });
}
