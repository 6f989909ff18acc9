/**
 * CSV dialects: files separated by `;` (spreadsheets in locales with a decimal comma), tabs or `|` are
 * detected from the header line and rewritten as the comma-separated text io/csv.ts parses, so the decoder
 * itself stays one dialect. In a file separated by something other than commas, a field that is a number with
 * a decimal comma (`1,5`) is read as `1.5`.
 */

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

const DECIMAL_COMMA = /^\s*[+-]?\d*,\d+(?:[eE][+-]?\d+)?\s*$/;

/**
 * `text` as comma-separated CSV: unchanged when its delimiter is a comma, else re-joined with commas (fields
 * quoted where they hold a comma, a quote or a line break; decimal commas made points). Line breaks are kept,
 * so line numbers in messages stay the file's.
 */
export function toCommaSeparated(text: string): string {
  const d = detectDelimiter(text);
  if (d === ",") return text;
  const out: string[] = [];
  let field = "", quoted = false, wasQuoted = false;
  const flush = () => {
    let f = !wasQuoted && DECIMAL_COMMA.test(field) ? field.replace(",", ".") : field;
    if (/[",\r\n]/.test(f)) f = `"${f.replace(/"/g, '""')}"`;
    out.push(f);
    field = "";
    wasQuoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') field += '"', i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = wasQuoted = true;
    else if (c === d) flush(), out.push(",");
    else if (c === "\n") flush(), out.push("\n");
    else if (c === "\r" && text[i + 1] === "\n") flush(), out.push("\r\n"), i++;
    else field += c;
  }
  flush();
  return out.join("");
}
