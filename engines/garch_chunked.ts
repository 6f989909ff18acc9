/**
 * The garch_models engine in a chunked run (pipeline/chunked.ts): the walk-forward fits of the model family
 * (engines/garch.ts) run once over the instrument's returns — one f64 column per configured price column, as
 * the inputs, which a chunked run holds whole — and each chunk takes its rows of `<col>_garch_vol`, so the
 * columns and the report are the in-memory run's by construction. The fits are not yet carried between
 * runs: an append refits the whole history (the rows of the other engines are computed from the new ones).
 */
import type { Frame } from "../io/frame.ts";
import type { Compute } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";
import { type GarchEngineConfig, garchModels, type GarchReport } from "./garch.ts";
import type { EngineResult } from "./stationarization.ts";

/** Walk-forward GARCH volatility for the rows [s, e) of one instrument. */
export class ChunkedGarch {
  readonly #run: () => Promise<EngineResult<GarchReport>>;
  #result?: Promise<EngineResult<GarchReport>>;

  /** `frame` is the whole instrument's input (its price columns give the returns). */
  constructor(frame: Frame, cfg: GarchEngineConfig, compute: Compute) {
    if (cfg.mode !== "walk_forward") {
      throw new UsageError("features.garch.mode: in_sample fits on the last rows; it cannot run in chunks");
    }
    this.#run = () => garchModels(frame, cfg, compute);
  }

  /** The `<col>_garch_vol` columns of the rows [s, e) (fitted on the first call). */
  async rows(s: number, e: number): Promise<Map<string, Float64Array>> {
    const { columns } = await (this.#result ??= this.#run());
    return new Map([...columns].map(([k, v]) => [k, v.slice(s, e)]));
  }

  /** The engine's report and notes (after the last chunk). */
  async report(): Promise<Pick<EngineResult<GarchReport>, "report" | "notes">> {
    const { report, notes } = await (this.#result ??= this.#run());
    return { report, notes };
  }
}
