/**
 * The garch_models engine over an instrument chunk by chunk (pipeline/chunked.ts): the walk-forward refits are
 * fitted as the chunks reach their rows, each warm-started from the last converged one as in one pass, and
 * sigma_t of a chunk's rows comes from the variance recursion of the refit serving them (engines/garch.ts);
 * so the chunks' columns are the whole-series columns, bit for bit on the CPU path. The state carried between
 * chunks is the last converged fit, the last fit with estimates and the report's counts; the returns are
 * those of the instrument's close (one column, as the inputs).
 */
import {
  fitGarchWalkForward,
  type GarchFit,
  percentLogReturns,
  type Refit,
  walkForwardRefits,
} from "../kernels/garch.ts";
import type { Frame } from "../io/frame.ts";
import { getColumn } from "../io/frame.ts";
import type { Compute } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";
import {
  emptyTally,
  filterRefitRows,
  type FitTally,
  type GarchEngineConfig,
  type GarchReport,
  garchReport,
  tallyFit,
  type UsedFit,
} from "./garch.ts";
import type { EngineResult } from "./stationarization.ts";

/** What a chunked run carries for one column between chunks (JSON: an append resumes from it). */
export interface GarchColumnState {
  /** Refits before this index are fitted. */
  fitted: number;
  /** Last converged fit (the warm start of the next refit on the CPU path). */
  warm: GarchFit | null;
  /** Fits of the refits not yet behind every chunk, by refit index. */
  fits: [number, GarchFit][];
  /** Refits before this index serve only rows already emitted. */
  done: number;
  /** The fit serving refit `done - 1` (the last with estimates up to it). */
  used: UsedFit | null;
  /** The report's counts and last fit. */
  tally: FitTally;
}

/** One column's state with its returns and refit schedule (recomputed from the input). */
interface ColumnState extends Omit<GarchColumnState, "fits"> {
  r: Float64Array;
  refits: Refit[];
  fits: Map<number, GarchFit>;
}

/** Walk-forward GARCH for the rows [s, e) of one instrument, chunk after chunk in row order. */
export class ChunkedGarch {
  readonly #cfg: GarchEngineConfig;
  readonly #compute: Compute;
  readonly #cols: ColumnState[];
  #ms = 0;

  /**
   * `frame` is the whole instrument's input (its close columns give the returns); `resume` the
   * {@link state} at the first row the next call will ask for (an append), else the start of the series.
   */
  constructor(frame: Frame, cfg: GarchEngineConfig, compute: Compute, resume?: GarchColumnState[]) {
    if (cfg.mode !== "walk_forward") {
      throw new UsageError("features.garch.mode: in_sample fits on the last rows; it cannot run in chunks");
    }
    this.#cfg = cfg, this.#compute = compute;
    const wf = { window: cfg.window, refitEvery: cfg.refit_every, minSamples: cfg.min_samples };
    this.#cols = cfg.columns.map((c) => {
      const r = percentLogReturns(getColumn(frame, c));
      return { r, refits: walkForwardRefits(r, wf), ...startState(), fits: new Map() };
    });
    resume?.forEach((st, i) => Object.assign(this.#cols[i], { ...st, fits: new Map(st.fits) }));
  }

  /** The state to resume from at the row the next call starts at. */
  state(): GarchColumnState[] {
    return this.#cols.map(({ fitted, warm, fits, done, used, tally }) =>
      structuredClone({ fitted, warm, fits: [...fits], done, used, tally })
    );
  }

  /** The `<col>_garch_vol` columns of the rows [s, e) (s = the previous call's e). */
  async rows(s: number, e: number): Promise<Map<string, Float64Array>> {
    const t0 = performance.now();
    const out = new Map<string, Float64Array>();
    for (const [i, c] of this.#cols.entries()) {
      let upTo = c.fitted;
      while (upTo < c.refits.length && c.refits[upTo].row < e) upTo++;
      if (upTo > c.fitted) {
        const opts = {
          maxIter: this.#cfg.max_iter,
          maxSamples: this.#cfg.max_samples,
          init: this.#cfg.init ?? "sample",
        };
        const [fits] = await fitGarchWalkForward(
          [c.r],
          [c.refits.slice(c.fitted, upTo)],
          opts,
          this.#compute,
          undefined,
          [c.warm],
        );
        fits.forEach((f, k) => {
          c.fits.set(c.fitted + k, f);
          tallyFit(c.tally, f, c.refits[c.fitted + k].row);
          if (f.status === "converged") c.warm = f;
        });
        c.fitted = upTo;
      }
      const vol = new Float64Array(e - s).fill(NaN);
      let used = c.used;
      for (let k = c.done; k < c.fitted; k++) {
        const refit = c.refits[k], fit = c.fits.get(k)!;
        if (fit.params) used = { fit, refit };
        if (used) filterRefitRows(c.r, used, refit, s, e, vol);
        if (refit.end <= e) { // behind every later chunk
          c.done = k + 1, c.used = used;
          c.fits.delete(k);
        }
      }
      if (c.tally.firstRow === null) {
        const first = vol.findIndex(Number.isFinite);
        if (first >= 0) c.tally.firstRow = s + first;
      }
      out.set(`${this.#cfg.columns[i]}_garch_vol`, vol);
    }
    this.#ms += performance.now() - t0;
    return out;
  }

  /** The engine's report and notes after the last chunk. */
  report(source: string): Pick<EngineResult<GarchReport>, "report" | "notes"> {
    return garchReport(this.#cfg, this.#cols.map((c) => c.tally), source, performance.now() - this.#ms);
  }
}

function startState(): Omit<GarchColumnState, "fits"> {
  return { fitted: 0, warm: null, done: 0, used: null, tally: emptyTally() };
}
