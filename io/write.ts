/** Output encoding helpers: CSV text and atomic file commits. */

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
 * Writes `bytes` to `path` atomically: first to `path + ".tmp-<random>"` in the same folder, flushed to disk, then
 * renamed over `path`, so readers see either the old file or the complete new one. The temporary
 * file is removed if writing fails.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const file = await Deno.open(tmp, { write: true, createNew: true });
    try {
      for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
