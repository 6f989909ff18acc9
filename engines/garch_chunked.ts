/**
 * The garch_models engine in a chunked run (pipeline/chunked.ts), streamed: `rows` takes each chunk's own price
 * rows in order and gives their `<col>_garch_vol` (engines/garch.ts describes the walk-forward refits), holding
 * per column the last price (the chunk's first return needs it), the last `window` finite returns (all of
 * them with `window: expanding`), the refit schedule, each model's warm start and last fit, and the fit serving
 * the rows with its variance recursion. The refits that fall in one chunk are fitted together, each model's
 * refits of every column in one call (one batched search on the GPU, as the in-memory engine batches the whole
 * series'). On the CPU path the columns and the report are the in-memory engine's bit for bit
 * (tests/garch_chunked_test.ts); `state()` is what a part's checkpoint keeps, so that an append fits only the
 * refits from its restart row on.
 */
import {
  fitGarchModelWalkForward,
  type GarchModelFit,
  type GarchModelParams,
  type GarchModelSpec,
  ModelRecursion,
  percentLogReturns,
  type Refit,
} from "../kernels/garch.ts";
import type { Compute } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";
import { log } from "../runtime/log.ts";
import {
  chooseModel,
  type GarchEngineConfig,
  garchModelSpecs,
  type GarchReport,
  garchReport,
  type GarchTally,
  newTally,
  tallyRefit,
} from "./garch.ts";
import type { EngineResult } from "./stationarization.ts";

/** The fit serving a column's rows (see `ChunkedGarchState`). */
type Serving = Omit<NonNullable<ChunkedGarchState["columns"][number]["serving"]>, "serve" | "skip">;

/** One column's state between chunks. */
interface ColumnState {
  /** The last price consumed (NaN before the first row). */
  price: number;
  /** Finite returns so far, counted up to min_samples (the first refit follows the min_samples-th). */
  seen: number;
  /** Row of the next refit (-1 until min_samples finite returns have been seen). */
  next: number;
  /** The carried finite returns, `returns[0, count)`: the last `window` ones, or all with `expanding`. */
  returns: Float64Array;
  count: number;
  /** Per model, the last converged estimates (the CPU's warm start of the next refit). */
  starts: (GarchModelParams | null)[];
  /** What the report counts. */
  tally: GarchTally;
  /** The fit serving the rows (the last refit that chose a model), null before the first. */
  serving: Serving | null;
  /** Its recursion giving sigma_t, and the one over the finite returns only from its window's start (a later
   * refit without estimates restarts the rows from there, as `modelFilterFrom` does). */
  serve: ModelRecursion | null;
  skip: ModelRecursion | null;
}

/** A chunk's returns and refits (`x`: the carried finite returns, then the chunk's; `refits` index it). */
interface Chunk {
  r: Float64Array;
  x: Float64Array;
  refits: Refit[];
  /** Each refit's row. */
  rows: number[];
  /** Finite returns to carry to the next chunk (the last `keep` of `x`). */
  keep: number;
}

/** {@link ChunkedGarch}'s state before a row, as JSON (non-finite numbers aside) for a part's checkpoint. */
export interface ChunkedGarchState {
  /** The next row to consume. */
  row: number;
  /** Per configured column. */
  columns: {
    /** The last price (the next row's return needs it). */
    price: number;
    /** Finite returns seen, up to min_samples. */
    seen: number;
    /** Row of the next refit (-1: none scheduled yet). */
    next: number;
    /** The carried finite returns, f64 little-endian bytes in base64 (exact). */
    returns: string;
    /** Per model, the CPU's warm start of the next refit. */
    starts: (GarchModelParams | null)[];
    /** The report's counts so far. */
    tally: GarchTally;
    /**
     * The fit serving the rows (index in `features.garch.models`, estimates, pre-sample values) and its two
     * recursions' lags (`ModelRecursion.state`), null before the first refit with estimates.
     */
    serving: {
      model: number;
      params: GarchModelParams;
      b: number;
      bn: number;
      serve: number[];
      skip: number[];
    } | null;
  }[];
}

/** Walk-forward GARCH volatility of one instrument, chunk by chunk. */
export class ChunkedGarch {
  readonly #cfg: GarchEngineConfig;
  readonly #specs: GarchModelSpec[];
  readonly #compute: Compute;
  readonly #source: string;
  readonly #cols: ColumnState[];
  #row: number;
  #fitted = 0;
  readonly #from: number;
  #ms = 0;

  /**
   * Starts at row 0, or where `state` (a checkpoint's, same configuration) left off; `source` names the
   * instrument in the log.
   */
  constructor(cfg: GarchEngineConfig, compute: Compute, source: string, state?: ChunkedGarchState) {
    if (cfg.mode !== "walk_forward") {
      throw new UsageError("features.garch.mode: in_sample fits on the last rows; it cannot run in chunks");
    }
    this.#cfg = cfg;
    this.#specs = garchModelSpecs(cfg.models);
    this.#compute = compute;
    this.#source = source;
    if (state && state.columns.length !== cfg.columns.length) {
      throw new Error(`GARCH checkpoint: ${state.columns.length} columns, configured ${cfg.columns.length}`);
    }
    this.#row = this.#from = state?.row ?? 0;
    this.#cols = cfg.columns.map((_, i) => {
      const s = state?.columns[i];
      const returns = s ? decodeF64(s.returns) : new Float64Array(0);
      const sv = s?.serving ?? null;
      const recursion = (lags: number[]) => sv && this.#recursion(sv).restore(lags);
      return {
        price: s?.price ?? NaN,
        seen: s?.seen ?? 0,
        next: s?.next ?? -1,
        returns,
        count: returns.length,
        starts: s?.starts ?? this.#specs.map(() => null),
        tally: s?.tally ?? newTally(this.#specs.length),
        serving: sv && { model: sv.model, params: sv.params, b: sv.b, bn: sv.bn },
        serve: recursion(sv?.serve ?? []),
        skip: recursion(sv?.skip ?? []),
      };
    });
  }

  /**
   * The `<col>_garch_vol` columns of the chunk starting at row `start` (the row after the last chunk's), from
   * its prices: `prices.get(col)` holds the chunk's rows of each configured column.
   */
  async rows(
    start: number,
    prices: ReadonlyMap<string, ArrayLike<number>>,
  ): Promise<Map<string, Float64Array>> {
    if (start !== this.#row) {
      throw new Error(`ChunkedGarch: chunk at row ${start}, expected row ${this.#row}`);
    }
    const t0 = performance.now();
    const cfg = this.#cfg, specs = this.#specs;
    const columns = cfg.columns.map((c) => {
      const v = prices.get(c);
      if (!v) {
        throw new UsageError(
          `features.columns: no prices of "${c}" (given: ${[...prices.keys()].join(", ")})`,
        );
      }
      return v;
    });
    const chunks = columns.map((v, i) => this.#schedule(this.#cols[i], start, v));
    const n = columns[0]?.length ?? 0;
    // fits[model][column][refit], every column's refits of one model in one call.
    const fits: GarchModelFit[][][] = [];
    if (chunks.some((c) => c.refits.length)) {
      const init = cfg.init ?? "sample", mean = cfg.mean ?? "constant";
      const opts = { maxIter: cfg.max_iter, maxSamples: cfg.max_samples, init, mean };
      for (const [k, m] of specs.entries()) {
        const x = chunks.map((c) => c.x), refits = chunks.map((c) => c.refits);
        const starts = this.#cols.map((st) => st.starts[k]);
        fits.push(await fitGarchModelWalkForward(x, refits, m, opts, this.#compute, undefined, starts));
        this.#fitted += refits.reduce((a, r) => a + r.length, 0);
      }
    }
    const out = new Map<string, Float64Array>();
    cfg.columns.forEach((c, i) => {
      out.set(`${c}_garch_vol`, this.#filter(this.#cols[i], start, chunks[i], fits.map((f) => f[i])));
    });
    this.#row += n;
    this.#ms += performance.now() - t0;
    return out;
  }

  /**
   * A chunk's returns, the refits in it and their windows: `x` is the carried finite returns followed by the
   * chunk's (each refit's window a view of it, as the fit skips non-finite returns anyway).
   */
  #schedule(st: ColumnState, start: number, prices: ArrayLike<number>): Chunk {
    const { window, refit_every: every, min_samples: min } = this.#cfg;
    const withPrev = new Float64Array(prices.length + 1);
    withPrev[0] = st.price;
    withPrev.set(prices, 1);
    const r = percentLogReturns(withPrev).subarray(1);
    if (prices.length) st.price = prices[prices.length - 1];
    const finite = r.reduce((a, v) => a + (Number.isFinite(v) ? 1 : 0), 0);
    if (st.returns.length < st.count + finite) {
      // Grown by a quarter at least (amortised copies; pipeline/chunked.ts GARCH_HELD_BYTES counts the peak).
      const grown = new Float64Array(Math.max(Math.ceil(1.25 * st.returns.length), st.count + finite));
      grown.set(st.returns.subarray(0, st.count));
      st.returns = grown;
    }
    const refits: Refit[] = [], rows: number[] = [];
    let at = st.count;
    for (let t = 0; t < r.length; t++) {
      if (start + t === st.next) {
        refits.push({ lo: window === "expanding" ? 0 : Math.max(0, at - window), row: at, end: at });
        rows.push(start + t);
        st.next += every;
      }
      if (!Number.isFinite(r[t])) continue;
      st.returns[at++] = r[t];
      if (st.seen < min && ++st.seen === min) st.next = start + t + 1;
    }
    const x = st.returns.subarray(0, at);
    return { r, x, refits, rows, keep: window === "expanding" ? at : Math.min(at, window) };
  }

  /** sigma_t of a chunk's rows (`modelFilterFrom` per refit, as the in-memory engine runs it), the tally updated. */
  #filter(
    st: ColumnState,
    start: number,
    chunk: Chunk,
    fits: GarchModelFit[][],
  ): Float64Array {
    const { r, x, refits, rows } = chunk;
    const out = new Float64Array(r.length).fill(NaN);
    // Row segments between refits: the serving recursion over every row, the skip one over the finite returns.
    for (let t = 0, k = 0; t < r.length;) {
      if (k < refits.length && rows[k] === start + t) {
        const at = fits.map((f) => f[k]);
        const m = chooseModel(at, this.#cfg.select_by ?? "aic");
        tallyRefit(st.tally, at, m, rows[k]);
        if (m >= 0) {
          const f = at[m];
          st.serving = { model: m, params: f.params!, b: f.presample!, bn: f.presample_neg! };
          st.skip = this.#recursion(st.serving);
          st.skip.replay(x, refits[k].lo, refits[k].row);
        }
        if (st.serving) st.serve = this.#recursion(st.serving).restore(st.skip!.state);
        k++;
      }
      const end = k < refits.length ? rows[k] - start : r.length;
      if (st.serve) {
        st.serve.filter(r, t, end, out);
        st.skip!.replay(r, t, end);
        for (let u = t; u < end && st.tally.firstRow === null; u++) {
          if (Number.isFinite(out[u])) st.tally.firstRow = start + u;
        }
      }
      t = end;
    }
    fits.forEach((f, k) => {
      for (const fit of f) if (fit.status === "converged") st.starts[k] = fit.params;
    });
    // Keep the last `window` finite returns (all with expanding) at the front of the buffer.
    st.returns.copyWithin(0, x.length - chunk.keep, x.length);
    st.count = chunk.keep;
    return out;
  }

  #recursion(s: Serving): ModelRecursion {
    return new ModelRecursion(this.#specs[s.model], s.params, s.b, s.bn);
  }

  /** The state before the next row (a copy: later chunks do not change it). */
  state(): ChunkedGarchState {
    return {
      row: this.#row,
      columns: this.#cols.map((st) => ({
        price: st.price,
        seen: st.seen,
        next: st.next,
        returns: encodeF64(st.returns.subarray(0, st.count)),
        starts: structuredClone(st.starts),
        tally: structuredClone(st.tally),
        serving: st.serving && { ...st.serving, serve: st.serve!.state, skip: st.skip!.state },
      })),
    };
  }

  /** Fits this instance ran (refits x models x columns; a resumed one fits only the refits from its row on). */
  get fitted(): number {
    return this.#fitted;
  }

  /** The engine's report and notes (after the last chunk); logs the refits this run fitted. */
  report(): Pick<EngineResult<GarchReport>, "report" | "notes"> {
    log("info", `garch_models: ${this.#fitted} fits from row ${this.#from} (refits x models x columns)`, {
      source: this.#source,
      fits: this.#fitted,
      from: this.#from,
    });
    return garchReport(
      this.#source,
      this.#cfg,
      this.#cols.map((st) => st.tally),
      performance.now() - this.#ms,
    );
  }
}

/** f64 values as base64 of their little-endian bytes. */
function encodeF64(v: Float64Array): string {
  const bytes = new Uint8Array(v.length * 8);
  const dv = new DataView(bytes.buffer);
  v.forEach((x, i) => dv.setFloat64(8 * i, x, true));
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function decodeF64(s: string): Float64Array {
  const bin = atob(s);
  const dv = new DataView(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) dv.setUint8(i, bin.charCodeAt(i));
  return Float64Array.from({ length: bin.length / 8 }, (_, i) => dv.getFloat64(8 * i, true));
}
