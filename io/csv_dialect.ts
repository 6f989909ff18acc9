/**
 * CSV dialects: files separated by `;` (spreadsheets in locales with a decimal comma), tabs or `|` are
 * detected from the header line and rewritten as the comma-separated text io/csv.ts parses, so the decoder
 * itself stays one dialect. In a file separated by something other than commas, a field that is a number with
 * a decimal comma (`1,5`) is read as `1.5`. Dates in the timestamp column written day or month first
 * (`13.01.2024`, `01/13/2024 09:30`) or year first with slashes are rewritten as ISO-8601 (`2024-01-13`); which
 * order was read is decided over the whole column and reported by {@link csvDialect}.
 */
import { pickTimestampName } from "./timestamps.ts";

/** Delimiters tried, in order of preference when counts tie. */
const CANDIDATES = [",", ";", "\t", "|"] as const;

/** The delimiter of CSV text: the candidate found most often outside quotes in its first non-blank line. */
export function detectDelimiter(text: string): string {
  const start = text.search(/\S/);
  if (start < 0) return ",";
  const end = text.indexOf("\n", start);
  const line = text.slice(start, end < 0 ? text.length : end);
  let best = ",", most = 0, quoted = false;
  const counts = new Map<string, number>();
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && (CANDIDATES as readonly string[]).includes(c)) {
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
  }
  for (const c of CANDIDATES) {
    const n = counts.get(c) ?? 0;
    if (n > most) [best, most] = [c, n];
  }
  return best;
}

/** The order of a date's parts: year-month-day (with slashes or dots), day first, month first. */
export type DateOrder = "YMD" | "DMY" | "MDY";

/** What was detected in a CSV text. */
export interface CsvDialect {
  /** The field delimiter: `,`, `;`, tab or `|`. */
  delimiter: string;
  /** The timestamp column's date order when it is not ISO-8601 (null: ISO, epoch numbers or no such column). */
  dates: DateOrder | null;
  /** True when every date read both ways (days <= 12): day first for `.`, else month first, by convention. */
  ambiguous: boolean;
}

const DECIMAL_COMMA = /^\s*[+-]?\d*,\d+(?:[eE][+-]?\d+)?\s*$/;
/** A date with `/`, `.` or `-` between its parts (4-digit year first or last), optionally a time after it. */
const DATE = /^\s*(\d{1,4})([./-])(\d{1,2})\2(\d{1,4})(?:[ T]+(\d{1,2}):(\d\d)(?::(\d\d(?:\.\d+)?))?)?\s*$/;

/** Splits text into records of raw fields (quotes removed) with `d` between fields; keeps line structure. */
function* records(text: string, d: string): Generator<{ fields: string[]; quoted: boolean[]; eol: string }> {
  let fields: string[] = [], quotedFields: boolean[] = [], field = "", quoted = false, was = false;
  const push = () => (fields.push(field), quotedFields.push(was), field = "", was = false);
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') field += '"', i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = was = true;
    else if (c === d) push();
    else if (c === "\n" || (c === "\r" && text[i + 1] === "\n")) {
      const eol = c === "\r" ? "\r\n" : "\n";
      if (c === "\r") i++;
      push();
      yield { fields, quoted: quotedFields, eol };
      fields = [], quotedFields = [];
    } else field += c;
  }
  push();
  yield { fields, quoted: quotedFields, eol: "" };
}

/** The date order that reads every value of `dates` (non-ISO dates only), or null when none or mixed. */
function dateOrder(dates: string[]): { order: DateOrder; ambiguous: boolean } | null {
  let yearFirst = 0, dayFirstOk = true, monthFirstOk = true, dots = 0;
  for (const t of dates) {
    const m = DATE.exec(t);
    if (!m) return null;
    if (m[1].length === 4) {
      yearFirst++;
      continue;
    }
    if (m[4].length !== 4) return null; // two-digit years are not guessed
    const [a, b] = [Number(m[1]), Number(m[3])];
    if (a > 12) monthFirstOk = false;
    if (b > 12) dayFirstOk = false;
    if (m[2] === ".") dots++;
  }
  if (yearFirst) return yearFirst === dates.length ? { order: "YMD", ambiguous: false } : null;
  if (dayFirstOk && !monthFirstOk) return { order: "DMY", ambiguous: false };
  if (monthFirstOk && !dayFirstOk) return { order: "MDY", ambiguous: false };
  if (!dayFirstOk) return null;
  return { order: dots ? "DMY" : "MDY", ambiguous: true };
}

/** An ISO-8601 form of a date read in `order` (the time kept), or the text unchanged if it is not one. */
function isoDate(text: string, order: DateOrder): string {
  const m = DATE.exec(text);
  if (!m) return text;
  const [y, mo, d] = order === "YMD"
    ? [m[1], m[3], m[4]]
    : order === "DMY"
    ? [m[4], m[3], m[1]]
    : [m[4], m[1], m[3]];
  const time = m[5] ? `T${m[5].padStart(2, "0")}:${m[6]}${m[7] ? `:${m[7]}` : ""}` : "";
  return `${y}-${mo.padStart(2, "0")}-${d.padStart(2, "0")}${time}`;
}

/** The timestamp column's index and, when its dates are not ISO-8601, their order. */
function scan(text: string, d: string): CsvDialect & { tsIndex: number } {
  let header: string[] | null = null, tsIndex = -1;
  const dates: string[] = [];
  for (const r of records(text, d)) {
    if (r.fields.length === 1 && r.fields[0].trim() === "") continue;
    if (!header) {
      header = r.fields.map((h) => h.trim());
      const ts = pickTimestampName(header);
      tsIndex = ts === undefined ? -1 : header.indexOf(ts);
      if (tsIndex < 0) break;
      continue;
    }
    const v = r.fields[tsIndex]?.trim() ?? "";
    // ISO-8601 (dashes, year first) and epoch numbers are io/timestamps.ts's: nothing to rewrite.
    if (/^\d{4}-\d\d-\d\d/.test(v) || /^[+-]?\d+(\.\d+)?$/.test(v)) {
      return { delimiter: d, dates: null, ambiguous: false, tsIndex };
    }
    dates.push(v);
  }
  const o = dates.length ? dateOrder(dates) : null;
  return { delimiter: d, dates: o?.order ?? null, ambiguous: o?.ambiguous ?? false, tsIndex };
}

/** The delimiter and the timestamp column's date order of CSV text (for showing what was detected). */
export function csvDialect(text: string): CsvDialect {
  const { delimiter, dates, ambiguous } = scan(text, detectDelimiter(text));
  return { delimiter, dates, ambiguous };
}

/**
 * `text` as comma-separated CSV with ISO-8601 dates: unchanged when it already is, else re-joined with commas
 * (fields quoted where they hold a comma, a quote or a line break; decimal commas made points when the
 * delimiter is not a comma) and the timestamp column's dates rewritten. Line breaks are kept, so line numbers
 * in messages stay the file's.
 */
export function toCommaSeparated(text: string): string {
  const d = detectDelimiter(text);
  // A comma-separated file needs the full scan only when its first timestamp is not ISO-8601 or epoch.
  const probe = d === "," ? firstTimestamp(text) : null;
  const needsDates = d !== "," || (probe !== null && DATE.test(probe) && !/^\d{4}-\d\d-\d\d/.test(probe));
  if (d === "," && !needsDates) return text;
  const { dates, tsIndex } = scan(text, d);
  if (d === "," && !dates) return text;
  const out: string[] = [];
  let header = true;
  for (const r of records(text, d)) {
    const blank = r.fields.length === 1 && r.fields[0].trim() === "";
    out.push(
      r.fields.map((f, i) => {
        if (!header && dates && i === tsIndex) f = isoDate(f, dates);
        else if (d !== "," && !r.quoted[i] && DECIMAL_COMMA.test(f)) f = f.replace(",", ".");
        return /[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f;
      }).join(","),
      r.eol,
    );
    if (!blank) header = false;
  }
  return out.join("");
}

/** The first data row's timestamp field of comma-separated text (null: no timestamp column or no rows). */
function firstTimestamp(text: string): string | null {
  const lines = text.split("\n", 200).filter((l) => l.trim() !== "");
  if (lines.length < 2) return null;
  const header = lines[0].split(",").map((h) => h.trim().replace(/^"|"$/g, ""));
  const ts = pickTimestampName(header);
  return ts === undefined
    ? null
    : (lines[1].split(",")[header.indexOf(ts)] ?? "").trim().replace(/^"|"$/g, "");
}
