/**
 * What the engines' columns hold, so nothing degrades silently: per feature the warm-up (leading rows without
 * a finite value), NaN and infinite counts, and — for a column without a single finite value or with
 * infinities — the cause, from the engine when it knows it (an FFD window longer than the series, a failed
 * GARCH fit) or from its input column (non-positive prices under a log, overflowing values); NaN rows after
 * the warm-up, and a column that is constant after it, are flagged when the input column explains them.
 */

/** One output column's quality. */
export interface ColumnQuality {
  /** Leading rows without a finite value. */
  warmup: number;
  /** Rows that are NaN. */
  nan: number;
  /** Rows that are +-Infinity. */
  inf: number;
  /** Why the column has no finite value, or infinities; absent when it is fine. */
  problem?: string;
}

/** Warm-up, NaN and infinity counts of one column. */
export function columnQuality(values: Float64Array): ColumnQuality {
  let warmup = -1, nan = 0, inf = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) nan++;
    else if (v === Infinity || v === -Infinity) inf++;
    else if (warmup < 0) warmup = i;
  }
  return { warmup: warmup < 0 ? values.length : warmup, nan, inf };
}

/** True when every finite value from `start` on equals the one at `start`. */
function constantAfter(values: Float64Array, start: number): boolean {
  const v0 = values[start];
  for (let i = start + 1; i < values.length; i++) {
    if (Number.isFinite(values[i]) && values[i] !== v0) return false;
  }
  return true;
}

/** Counts of the values of an input column that break a log or overflow a kernel. */
function inputTrouble(name: string, x: Float64Array): string | undefined {
  let nonPositive = 0, nonFinite = 0, huge = 0;
  for (const v of x) {
    if (!Number.isFinite(v)) nonFinite++;
    else if (v <= 0) nonPositive++;
    else if (Math.abs(v) > 1e150) huge++;
  }
  const parts = [
    nonPositive ? `${nonPositive} value(s) <= 0 (no log)` : "",
    nonFinite ? `${nonFinite} missing or infinite value(s)` : "",
    huge ? `${huge} value(s) above 1e150 (squares overflow)` : "",
  ].filter(Boolean);
  return parts.length ? `input column ${name} has ${parts.join(", ")}` : undefined;
}

/** The input columns a feature is computed from, by its name (`close_fd_0.4`, `corr_close_volume_50`). */
function sources(feature: string, inputs: Map<string, Float64Array>): string[] {
  return [...inputs.keys()].filter((c) => feature.startsWith(`${c}_`) || feature.includes(`_${c}_`));
}

/**
 * Quality of every column in `added`, with a cause for each column that has no finite value or has
 * infinities: `notes[column]` (the engine's own explanation) first, else what is wrong with its input
 * columns, else a warm-up longer than the series.
 */
export function assessColumns(
  added: Map<string, Float64Array>,
  inputs: Map<string, Float64Array>,
  notes: Record<string, string> = {},
): Map<string, ColumnQuality> {
  const out = new Map<string, ColumnQuality>();
  const trouble = new Map<string, string | undefined>();
  const why = (feature: string) => {
    const causes = sources(feature, inputs).map((c) => {
      if (!trouble.has(c)) trouble.set(c, inputTrouble(c, inputs.get(c)!));
      return trouble.get(c);
    }).filter(Boolean);
    return causes.length ? causes.join("; ") : undefined;
  };
  for (const [name, values] of added) {
    const q = columnQuality(values);
    const rows = values.length;
    if (rows > 0 && q.warmup === rows && q.inf === 0) {
      q.problem = notes[name] ?? why(name) ??
        `no finite value in ${rows} rows (the warm-up is at least as long as the series)`;
    } else if (q.nan > q.warmup && why(name)) {
      q.problem = `${q.nan - q.warmup} NaN row(s) after the warm-up: ${why(name)}`;
    } else if (q.inf > 0) {
      q.problem = `${q.inf} infinite value(s)` +
        (notes[name] || why(name) ? `: ${notes[name] ?? why(name)}` : "");
    } else if (q.warmup < rows && why(name) && constantAfter(values, q.warmup)) {
      // e.g. z-scores of 1e300 prices: the variance overflows and every z is 0.
      q.problem = `constant (${values[q.warmup]}) after the warm-up: ${why(name)}`;
    }
    out.set(name, q);
  }
  return out;
}
