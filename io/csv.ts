/** CSV decoding: header row, comma separated, RFC 4180 quoting, numbers as f64. */

import { DataError } from "../runtime/errors.ts";
import { type BadCells, type Frame, makeFrame, type SkippedColumn } from "./frame.ts";
import { epochToMs, parseIsoTimestamp, pickTimestampName } from "./timestamps.ts";
import { toCommaSeparated } from "./csv_dialect.ts";

const MISSING = new Set(["", "nan", "null"]);

/**
 * Parses one CSV field as a number. Empty, "NaN", "nan" and "null" (any case) give NaN; "inf",
 * "+inf", "-inf" and "Infinity" give infinities. Returns undefined when the field is not a number.
 */
export function parseCsvNumber(field: string): number | undefined {
  const t = field.trim();
  const lower = t.toLowerCase();
  if (MISSING.has(lower)) return NaN;
  if (lower === "inf" || lower === "+inf") return Infinity;
  if (lower === "-inf") return -Infinity;
  const v = Number(t);
  if (Number.isNaN(v) || /^[+-]?0[xob]/i.test(t)) return undefined;
  return v;
}

/** Splits CSV text into records (arrays of fields), honouring double-quoted fields with "" escapes. */
export function* csvRecords(text: string): Generator<string[]> {
  if (!text.includes('"')) {
    for (const line of text.split("\n")) {
      const l = line.endsWith("\r") ? line.slice(0, -1) : line;
      yield l.split(",");
    }
    return;
  }
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      fields.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      fields.push(field);
      yield fields;
      fields = [];
      field = "";
    } else field += c;
  }
  fields.push(field);
  yield fields;
}

function isBlank(record: string[]): boolean {
  return record.length === 1 && record[0].trim() === "";
}

/**
 * Decodes CSV bytes (UTF-8, optional BOM) into a Frame. A column without a single number (a symbol or name
 * column) is skipped and listed in `frame.skipped`; a numeric column with some non-numeric cells keeps its
 * numbers, has NaN in those cells and is listed in `frame.badCells` (first row and value, count), so the
 * caller decides whether that is an error (`decodeFrame`'s default) — a column never vanishes for one bad
 * cell. A timestamp/time/date/datetime/ts column is parsed from ISO-8601 or epoch numbers (unit inferred) into
 * `frame.timestamps`. Throws `DataError` for an empty file, a NUL byte (binary data), an unterminated quote, a
 * missing header (also a first line of numbers), ragged rows or an unreadable timestamp.
 */
export function decodeCsv(bytes: Uint8Array, source: string): Frame {
  // Text never holds a NUL byte: one means binary data or a damaged (zero-filled) stretch of the file.
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    throw new DataError(
      `${source}: binary data in a CSV file (a NUL byte at byte ${nul}); the file is damaged or not CSV`,
    );
  }
  const text = toCommaSeparated(new TextDecoder("utf-8").decode(bytes)); // `;`, tab, `|`: io/csv_dialect.ts
  // A lone '"' (quotes come in pairs, "" inside a field too) would swallow the rest of the file into one field.
  if (oddQuotes(text)) {
    const line = text.slice(0, text.lastIndexOf('"')).split("\n").length;
    throw new DataError(
      `${source}: an unterminated quoted field (an odd number of '"' characters; the last on line ${line})`,
    );
  }
  const it = csvRecords(text);
  let first = it.next();
  while (!first.done && isBlank(first.value)) first = it.next();
  if (first.done) throw new DataError(`${source}: file is empty; expected a CSV header row and data rows`);
  const header = first.value.map((h, i) => h.trim() || `column_${i + 1}`);
  if (first.value.every((h) => Number.isFinite(parseCsvNumber(h)))) {
    throw new DataError(
      `${source}: the first line ${
        JSON.stringify(first.value.join(",").slice(0, 80))
      } holds numbers, not column ` +
        `names; expected a header row`,
    );
  }
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup !== undefined) throw new DataError(`${source}: column "${dup}" appears twice in the CSV header`);

  const tsName = pickTimestampName(header);
  const tsIndex = tsName === undefined ? -1 : header.indexOf(tsName);
  const ncol = header.length;
  const capacity = countNewlines(bytes) + 1;
  const values = header.map(() => new Float64Array(capacity));
  const numbers = new Array<number>(ncol).fill(0);
  const bad = new Map<number, BadCells>();
  const tsText: string[] = [];
  let rows = 0;
  let line = 1;
  for (const record of it) {
    line++;
    if (isBlank(record)) continue;
    if (record.length !== ncol) {
      throw new DataError(
        `${source}: line ${line} has ${record.length} fields; expected ${ncol} (one per header column)`,
      );
    }
    for (let c = 0; c < ncol; c++) {
      if (c === tsIndex) {
        tsText.push(record[c].trim());
        continue;
      }
      const v = parseCsvNumber(record[c]);
      if (v === undefined) {
        values[c][rows] = NaN;
        const b = bad.get(c);
        if (b) b.count++;
        else bad.set(c, { name: header[c], row: rows + 1, value: record[c], count: 1 });
      } else {
        values[c][rows] = v;
        if (!Number.isNaN(v)) numbers[c]++;
      }
    }
    rows++;
  }
  const columns = new Map<string, Float64Array>();
  const skipped: SkippedColumn[] = [];
  const badCells: BadCells[] = [];
  for (let c = 0; c < ncol; c++) {
    if (c === tsIndex) continue;
    const b = bad.get(c);
    if (b && numbers[c] === 0) {
      skipped.push({
        name: header[c],
        reason: `non-numeric value ${JSON.stringify(b.value)} at row ${b.row} (a text column)`,
      });
      continue;
    }
    if (b) badCells.push(b);
    columns.set(header[c], values[c].slice(0, rows));
  }
  const timestamps = tsName === undefined
    ? undefined
    : { column: tsName, values: parseTimestamps(tsText, source, tsName) };
  const frame = makeFrame(source, rows, columns, skipped, timestamps);
  if (badCells.length) frame.badCells = badCells;
  return frame;
}

/** Whether `text` holds an odd number of '"' characters (counted in place, no split of the whole text). */
function oddQuotes(text: string): boolean {
  let odd = false;
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i + 1)) odd = !odd;
  return odd;
}

function countNewlines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10 || bytes[i] === 13) n++;
  return n;
}

function parseTimestamps(texts: string[], source: string, column: string): Float64Array {
  const firstValue = texts.find((t) => t !== "");
  const numericMode = firstValue !== undefined && Number.isFinite(parseCsvNumber(firstValue));
  const out = new Float64Array(texts.length);
  for (let i = 0; i < texts.length; i++) {
    const t = texts[i];
    const v = t === "" ? NaN : numericMode ? (parseCsvNumber(t) ?? NaN) : parseIsoTimestamp(t);
    if (!Number.isFinite(v)) {
      const what = t === "" ? "an empty value" : `unreadable value ${JSON.stringify(t)}`;
      const expected = numericMode
        ? "epoch numbers like the first row's"
        : "ISO-8601 (e.g. 2024-01-02T09:30:00Z)";
      throw new DataError(
        `${source}: timestamp column "${column}" has ${what} at row ${
          i + 1
        }; expected ${expected} on every row`,
      );
    }
    out[i] = v;
  }
  return numericMode ? epochToMs(out) : out;
}
