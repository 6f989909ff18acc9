/**
 * The selection target: what a name like `y_ret_fwd_15m` means and how the column is computed.
 * - `y_ret_fwd_<h>` (or `<h>bar`/`<h>bars`): the log return of close over h bars;
 * - `y_ret_fwd_<d>` with a duration unit (`30s`, `15m`/`15min`, `1h`, `1d`, `1w`, kernels/resample.ts
 *   `parseDuration`): the log return from t to the last bar at or before t + d, resolved against the
 *   timestamps (NaN where the data does not reach t + d);
 * - any other `y_*` name: a target column the input supplies (never computed).
 * Anything else is rejected (config/schema.ts checks `features.selection_target_column` with `parseTarget`).
 */
import { parseDuration } from "../kernels/resample.ts";
import { UsageError } from "../runtime/errors.ts";

/** What a target name means. */
export type TargetSpec =
  /** A horizon of `bars` rows. */
  | { kind: "bars"; bars: number }
  /** A horizon of `ms` milliseconds (`text` as written, e.g. `15m`). */
  | { kind: "time"; ms: number; text: string }
  /** A `y_*` column supplied by the input. */
  | { kind: "column" };

const FORWARD = /^y_ret_fwd_(.*)$/;

/** What `name` means, or why it is not a target name (the message names no config key). */
function describe(name: string): TargetSpec | string {
  const bad = (why: string) =>
    `${JSON.stringify(name)} ${why}; expected y_ret_fwd_<bars> (e.g. y_ret_fwd_15), ` +
    `y_ret_fwd_<duration> (e.g. y_ret_fwd_15m, y_ret_fwd_1h, y_ret_fwd_1d) or another y_* column of the input`;
  const m = FORWARD.exec(name);
  if (!m) {
    return name.startsWith("y_") ? { kind: "column" } : bad("is not a target name (targets start with y_)");
  }
  const bars = /^(\d+)(?:bars?)?$/.exec(m[1]);
  if (bars) {
    return Number(bars[1]) >= 1 ? { kind: "bars", bars: Number(bars[1]) } : bad("has a horizon of 0 bars");
  }
  // Durations only: a bare number is bars (above), so parseDuration's "number of ms" form never applies.
  if (!/^\d+(\.\d+)?[a-zA-Z]+$/.test(m[1])) return bad("has no horizon");
  try {
    return { kind: "time", ms: parseDuration(m[1]), text: m[1] };
  } catch {
    return bad(`has an unknown horizon "${m[1]}"`);
  }
}

/** Why `name` is not a valid `features.selection_target_column` (undefined when it is). */
export function targetNameProblem(name: string): string | undefined {
  const d = describe(name);
  return typeof d === "string" ? d : undefined;
}

/** Parses a target name (see the module doc); UsageError naming `features.selection_target_column` if invalid. */
export function parseTarget(name: string): TargetSpec {
  const d = describe(name);
  if (typeof d === "string") throw new UsageError(`features.selection_target_column: ${d}`);
  return d;
}

/** Forward log return over `h` bars: log(close[t + h] / close[t]); NaN where t + h is past the end. */
export function forwardReturn(close: Float64Array, h: number): Float64Array {
  return close.map((
    c,
    t,
  ) => (t + h < close.length && c > 0 && close[t + h] > 0 ? Math.log(close[t + h] / c) : NaN));
}

/**
 * Forward log return over `ms` milliseconds: log(close[j] / close[t]) with j the last row whose timestamp is
 * at or before ts[t] + ms (an as-of join: over a gap longer than the horizon j = t and the return is 0); NaN
 * where the last timestamp is before ts[t] + ms. Timestamps are non-decreasing (validated on read).
 */
export function forwardReturnTime(close: Float64Array, ts: Float64Array, ms: number): Float64Array {
  const n = close.length, out = new Float64Array(n).fill(NaN);
  let j = 0;
  for (let t = 0; t < n; t++) {
    const until = ts[t] + ms;
    if (!(ts[n - 1] >= until)) continue;
    if (j < t) j = t;
    while (j + 1 < n && ts[j + 1] <= until) j++;
    if (close[t] > 0 && close[j] > 0) out[t] = Math.log(close[j] / close[t]);
  }
  return out;
}

/** Median spacing of consecutive timestamps in ms (NaN with fewer than 2; timestamps are never NaN). */
export function medianSpacing(ts: Float64Array): number {
  if (ts.length < 2) return NaN;
  const d = ts.subarray(1).map((t, i) => t - ts[i]);
  const m = d.length >> 1, upper = selectInPlace(d, m);
  if (d.length % 2) return upper;
  let lower = d[0]; // selectInPlace left the m smallest before index m
  for (let i = 1; i < m; i++) if (d[i] > lower) lower = d[i];
  return (lower + upper) / 2;
}

/**
 * The k-th smallest of `v` (0-based; no NaN) by Hoare's quickselect, O(n) on average where a sort of a quarter
 * million bars' spacings took ~60 ms; `v` is reordered so that v[0..k-1] <= v[k] <= v[k+1..].
 */
function selectInPlace(v: Float64Array, k: number): number {
  let lo = 0, hi = v.length - 1;
  while (lo < hi) {
    const pivot = v[(lo + hi) >> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        const t = v[i];
        v[i++] = v[j], v[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return v[k];
}
