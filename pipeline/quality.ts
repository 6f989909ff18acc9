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
  const tally = new QualityTally();
  tally.add(new Map([["", values]]));
  const { warmup, nan, inf } = tally.assess(new Map()).get("")!;
  return { warmup, nan, inf };
}

/**
 * Counts of the values of input columns that break a log or overflow a kernel, over rows fed in order (an input
 * read piece by piece, io/row_source.ts).
 */
export class InputTally {
  readonly #counts = new Map<string, { nonPositive: number; nonFinite: number; huge: number }>();

  /** Counts the next rows of each column. */
  add(columns: Map<string, Float64Array>): void {
    for (const [name, x] of columns) {
      let c = this.#counts.get(name);
      if (!c) this.#counts.set(name, c = { nonPositive: 0, nonFinite: 0, huge: 0 });
      for (const v of x) {
        if (!Number.isFinite(v)) c.nonFinite++;
        else if (v <= 0) c.nonPositive++;
        else if (Math.abs(v) > 1e150) c.huge++;
      }
    }
  }

  /** The columns counted. */
  names(): string[] {
    return [...this.#counts.keys()];
  }

  /** What is wrong with column `name`, in words, or undefined. */
  trouble(name: string): string | undefined {
    const { nonPositive, nonFinite, huge } = this.#counts.get(name)!;
    const parts = [
      nonPositive ? `${nonPositive} value(s) <= 0 (no log)` : "",
      nonFinite ? `${nonFinite} missing or infinite value(s)` : "",
      huge ? `${huge} value(s) above 1e150 (squares overflow)` : "",
    ].filter(Boolean);
    return parts.length ? `input column ${name} has ${parts.join(", ")}` : undefined;
  }
}

/** The input columns a feature is computed from, by its name (`close_fd_0.4`, `corr_close_volume_50`). */
function sources(feature: string, inputs: string[]): string[] {
  return inputs.filter((c) => feature.startsWith(`${c}_`) || feature.includes(`_${c}_`));
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
  const tally = new QualityTally();
  tally.add(added);
  return tally.assess(inputs, notes);
}

/** Running counts of one column: warm-up, NaN, infinities, and whether it varies after the warm-up. */
export interface Counts extends ColumnQuality {
  /** Rows counted. */
  rows: number;
  /** The first finite value (at the end of the warm-up). */
  first: number;
  /** Whether a later finite value differs from `first`. */
  varies: boolean;
}

/**
 * {@link assessColumns} over a series that arrives in row chunks (pipeline/chunked.ts): `add` each chunk's
 * columns in row order, then `assess` once.
 */
export class QualityTally {
  readonly #counts: Map<string, Counts>;

  /** A tally continuing from a {@link snapshot} (an append), or empty. */
  constructor(snapshot: Record<string, Counts> = {}) {
    this.#counts = new Map(Object.entries(structuredClone(snapshot)));
  }

  /** The counts so far (JSON with non-finite numbers encoded, see pipeline/chunked_task.ts). */
  snapshot(): Record<string, Counts> {
    return structuredClone(Object.fromEntries(this.#counts));
  }

  /** Counts the next rows of each column. */
  add(columns: Map<string, Float64Array>): void {
    for (const [name, values] of columns) {
      let c = this.#counts.get(name);
      if (!c) {
        c = { warmup: -1, nan: 0, inf: 0, rows: 0, first: NaN, varies: false };
        this.#counts.set(name, c);
      }
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (v !== v) c.nan++;
        else if (v === Infinity || v === -Infinity) c.inf++;
        else if (c.warmup < 0) c.warmup = c.rows + i, c.first = v;
        else if (v !== c.first) c.varies = true;
      }
      c.rows += values.length;
    }
  }

  /** Each column's quality and problem (see {@link assessColumns}). */
  assess(
    inputs: Map<string, Float64Array> | InputTally,
    notes: Record<string, string> = {},
  ): Map<string, ColumnQuality> {
    const out = new Map<string, ColumnQuality>();
    let tally: InputTally | undefined = inputs instanceof InputTally ? inputs : undefined;
    const why = (feature: string) => {
      if (!tally) (tally = new InputTally()).add(inputs as Map<string, Float64Array>);
      const causes = sources(feature, tally.names()).map((c) => tally!.trouble(c)).filter(Boolean);
      return causes.length ? causes.join("; ") : undefined;
    };
    for (const [name, c] of this.#counts) {
      const rows = c.rows;
      const q: ColumnQuality = { warmup: c.warmup < 0 ? rows : c.warmup, nan: c.nan, inf: c.inf };
      if (rows > 0 && q.warmup === rows && q.inf === 0) {
        q.problem = notes[name] ?? why(name) ??
          `no finite value in ${rows} rows (the warm-up is at least as long as the series)`;
      } else if (q.nan > q.warmup && why(name)) {
        q.problem = `${q.nan - q.warmup} NaN row(s) after the warm-up: ${why(name)}`;
      } else if (q.inf > 0) {
        q.problem = `${q.inf} infinite value(s)` +
          (notes[name] || why(name) ? `: ${notes[name] ?? why(name)}` : "");
      } else if (q.warmup < rows && why(name) && !c.varies) {
        // e.g. z-scores of 1e300 prices: the variance overflows and every z is 0.
        q.problem = `constant (${c.first}) after the warm-up: ${why(name)}`;
      }
      out.set(name, q);
    }
    return out;
  }
}
