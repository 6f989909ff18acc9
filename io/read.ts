/** Input decoding entry points: bytes (+ file name) to Frame, and a thin Deno file reader. */

import { DataError, UsageError } from "../runtime/errors.ts";
import { decodeArrow } from "./arrow.ts";
import { decodeCsv } from "./csv.ts";
import type { Frame } from "./frame.ts";
import { decodeParquet } from "./parquet.ts";

/** Input formats `decodeFrame` understands. */
export type InputFormat = "csv" | "parquet" | "arrow";

const EXTENSIONS: Record<string, InputFormat> = {
  csv: "csv",
  parquet: "parquet",
  pq: "parquet",
  arrow: "arrow",
  arrows: "arrow",
  feather: "arrow",
  ipc: "arrow",
};

const PAR1 = [0x50, 0x41, 0x52, 0x31];
const ARROW1 = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31];

function startsWith(bytes: Uint8Array, magic: number[], at = 0): boolean {
  return at >= 0 && bytes.length >= at + magic.length && magic.every((b, i) => bytes[at + i] === b);
}

/** The format implied by a file name's extension (case-insensitive), or undefined when unknown. */
export function formatFromName(name: string): InputFormat | undefined {
  const base = name.split(/[\\/]/).pop() ?? name;
  const dot = base.lastIndexOf(".");
  return dot < 0 ? undefined : EXTENSIONS[base.slice(dot + 1).toLowerCase()];
}

/**
 * The format implied by the content: PAR1 magic (Parquet), ARROW1 magic or an IPC stream's 0xFFFFFFFF
 * continuation marker (Arrow), otherwise CSV when the first 4 KiB hold no NUL byte; else undefined.
 */
export function formatFromBytes(bytes: Uint8Array): InputFormat | undefined {
  if (startsWith(bytes, PAR1) && startsWith(bytes, PAR1, bytes.length - 4)) return "parquet";
  if (startsWith(bytes, ARROW1) || startsWith(bytes, [0xff, 0xff, 0xff, 0xff])) return "arrow";
  return bytes.subarray(0, 4096).includes(0) ? undefined : "csv";
}

/** What `decodeFrame` does with non-numeric cells in a numeric column. */
export interface DecodeOptions {
  /** `"error"` (default): a DataError naming the file, column, row and value; `"nan"`: NaN, listed in `frame.badCells`. */
  badValues?: "error" | "nan";
}

/**
 * Decodes an input file's bytes into a Frame. The format comes from the extension of `name`
 * (.csv; .parquet/.pq; .arrow/.arrows/.feather/.ipc) or, when that is unknown, from the content
 * (see `formatFromBytes`). `name` is also used in every error message. Works without Deno APIs
 * (browser-safe). Throws `DataError` for an empty or unreadable file, a file with no data rows or
 * no numeric columns, bad timestamps, and (unless `opts.badValues` is "nan") non-numeric cells in a numeric column.
 */
export async function decodeFrame(bytes: Uint8Array, name: string, opts: DecodeOptions = {}): Promise<Frame> {
  if (bytes.length === 0) {
    throw new DataError(`${name}: file is empty; expected CSV, Parquet or Arrow/Feather data`);
  }
  const format = formatFromName(name) ?? formatFromBytes(bytes);
  let frame: Frame;
  switch (format) {
    case "csv":
      frame = decodeCsv(bytes, name);
      break;
    case "parquet":
      if (!startsWith(bytes, PAR1) || !startsWith(bytes, PAR1, bytes.length - 4)) {
        throw new DataError(
          `${name}: not a Parquet file (no PAR1 magic at start and end); expected Parquet data`,
        );
      }
      frame = await decodeParquet(bytes, name);
      break;
    case "arrow":
      frame = decodeArrow(bytes, name);
      break;
    default:
      throw new DataError(
        `${name}: unknown file format (binary data without a Parquet or Arrow signature); ` +
          `expected .csv, .parquet, .arrow, .feather or .ipc`,
      );
  }
  if (frame.rows === 0) throw new DataError(`${name}: no data rows; expected at least one row of values`);
  const bad = frame.badCells?.[0];
  if (bad && (opts.badValues ?? "error") === "error") {
    const more = bad.count > 1 ? ` (${bad.count} such cells in the column)` : "";
    throw new DataError(
      `${name}: column "${bad.name}": non-numeric value ${
        JSON.stringify(bad.value)
      } at row ${bad.row}${more}; ` +
        `fix the file, or set data.bad_values: nan to read such cells as NaN`,
    );
  }
  if (frame.columns.size === 0) {
    const skipped = frame.skipped.map((s) => `"${s.name}" (${s.reason})`).join(", ") || "none";
    throw new DataError(
      `${name}: no numeric columns; expected at least one number column. Skipped: ${skipped}`,
    );
  }
  return frame;
}

/**
 * Reads and decodes a local file (Deno only). A missing, unreadable or directory path gives a
 * `UsageError` naming the path; decoding errors are as for `decodeFrame`.
 */
export async function readFrameFile(path: string): Promise<Frame> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UsageError(`${path}: file not found`);
    if (e instanceof Deno.errors.IsADirectory) {
      throw new UsageError(`${path}: is a directory; expected a data file`);
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new UsageError(`${path}: permission denied (${e.message})`);
    }
    throw new UsageError(`${path}: cannot read file (${e instanceof Error ? e.message : String(e)})`);
  }
  return await decodeFrame(bytes, path);
}
