/** Timestamp parsing shared by the decoders: ISO-8601 strings and epoch numbers to epoch milliseconds. */

import { DataError } from "../runtime/errors.ts";
import { type Frame, makeFrame, type SkippedColumn, TIMESTAMP_NAMES } from "./frame.ts";

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

const DAY_MS = 86_400_000;

/**
 * Parses an ISO-8601 date or date-time (`2024-01-02`, `2024-01-02T09:30:00.123Z`, `2024-01-02 09:30:00+01:00`)
 * to epoch milliseconds. A time without an offset is taken as UTC (never local time). Returns NaN when
 * `text` is not such a timestamp.
 */
export function parseIsoTimestamp(text: string): number {
  const m = ISO_RE.exec(text.trim());
  if (!m) return NaN;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return NaN;
  if (hour > 23 || minute > 59 || second > 60) return NaN;
  let ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (m[7]) ms += Number(m[7]) * 1000;
  const zone = m[8];
  if (zone && zone !== "Z" && zone !== "z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    const offH = Number(digits.slice(0, 2));
    const offM = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (offH > 23 || offM > 59) return NaN;
    ms -= sign * (offH * 60 + offM) * 60_000;
  }
  return ms;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The unit `epochToMs` inferred for a numeric timestamp column. */
export type EpochUnit = "s" | "ms" | "us" | "ns" | "yyyymmdd";

/**
 * Infers the unit of numeric timestamps from their magnitude: integers that all read as valid
 * `yyyymmdd` dates are dates; otherwise the largest |value| decides: < 1e11 seconds, < 1e14
 * milliseconds, < 1e17 microseconds, else nanoseconds.
 */
export function inferEpochUnit(values: ArrayLike<number>): EpochUnit {
  let maxAbs = 0;
  let allDates = values.length > 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    const a = Math.abs(v);
    if (a > maxAbs) maxAbs = a;
    if (allDates && !isYyyymmdd(v)) allDates = false;
  }
  if (allDates) return "yyyymmdd";
  if (maxAbs < 1e11) return "s";
  if (maxAbs < 1e14) return "ms";
  if (maxAbs < 1e17) return "us";
  return "ns";
}

function isYyyymmdd(v: number): boolean {
  if (!Number.isInteger(v) || v < 1000_01_01 || v > 9999_12_31) return false;
  const month = Math.floor(v / 100) % 100;
  const day = v % 100;
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(Math.floor(v / 10000), month);
}

/** Converts numeric timestamps in `unit` (see `inferEpochUnit`) to epoch milliseconds, in a new array. */
export function epochToMs(values: ArrayLike<number>, unit: EpochUnit = inferEpochUnit(values)): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    switch (unit) {
      case "s":
        out[i] = v * 1000;
        break;
      case "ms":
        out[i] = v;
        break;
      case "us":
        out[i] = v / 1000;
        break;
      case "ns":
        out[i] = v / 1e6;
        break;
      case "yyyymmdd":
        out[i] = Date.UTC(Math.floor(v / 10000), (Math.floor(v / 100) % 100) - 1, v % 100);
        break;
    }
  }
  return out;
}

/** Converts days since the epoch to epoch milliseconds. */
export function daysToMs(days: number): number {
  return days * DAY_MS;
}

/**
 * Picks the timestamp column among `names`: the first whose lower-cased name matches, trying
 * timestamp, datetime, time, date, ts in that order. Returns undefined when none matches.
 */
export function pickTimestampName(names: readonly string[]): string | undefined {
  for (const wanted of TIMESTAMP_NAMES) {
    const hit = names.find((n) => n.trim().toLowerCase() === wanted);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** Throws a `DataError` when a timestamp is missing (NaN), naming the file, column and row (1-based). */
export function requireTimestamps(values: Float64Array, source: string, column: string): void {
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) {
      throw new DataError(
        `${source}: timestamp column "${column}" has a missing or unreadable value at row ${i + 1}; ` +
          `expected an ISO-8601 date-time or an epoch number on every row`,
      );
    }
  }
}

/**
 * Builds a frame from decoded columns, picking the timestamp column: a typed time column (values already
 * epoch ms) by name or first, else a numeric column with a timestamp name (epoch unit inferred). The
 * timestamp column leaves `columns` and is validated.
 */
export function frameWithTimestamps(
  source: string,
  rows: number,
  data: Map<string, Float64Array>,
  timeCols: string[],
  skipped: SkippedColumn[],
): Frame {
  let tsName: string | undefined = pickTimestampName(timeCols) ?? timeCols[0];
  let tsValues = tsName === undefined ? undefined : data.get(tsName);
  if (tsName === undefined) {
    tsName = pickTimestampName([...data.keys()]);
    if (tsName !== undefined) tsValues = epochToMs(data.get(tsName)!);
  }
  const columns = new Map([...data].filter(([n]) => n !== tsName));
  if (tsName !== undefined && tsValues) {
    requireTimestamps(tsValues, source, tsName);
    return makeFrame(source, rows, columns, skipped, { column: tsName, values: tsValues });
  }
  return makeFrame(source, rows, columns, skipped);
}
