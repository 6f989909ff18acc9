/**
 * The garch_models engine: a GARCH(1,1) fit per configured column (`features.columns`) and its conditional
 * volatility. The model is fitted to percent log returns r_t = 100 log(c_t / c_{t-1}) — the scale `arch` users
 * fit — on the last `max_samples` finite returns; the whole series is then filtered with the fitted
 * parameters into `<col>_garch_vol`, sigma_t in percent per bar: the standard deviation of r_t given the
 * returns up to t-1 (`garchFilter`: causal for fixed parameters; the parameters themselves are estimated
 * on the fit window). Row 0 (no return) is NaN. A series that cannot be fitted (fewer than 100 returns,
 * constant, non-finite likelihood) gets a status in the report and an all-NaN column, never an exception;
 * a fit that stopped before convergence keeps its best estimates and its column, with status
 * "not_converged". All columns are fitted in one batched call (one GPU search for all of them).
 */
import {
  fitGarch,
  garchFilter,
  type GarchFit,
  type GarchOptions,
  percentLogReturns,
} from "../kernels/garch.ts";
import type { Frame } from "../io/frame.ts";
import { getColumn } from "../io/frame.ts";
import type { Compute } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";
import { log } from "../runtime/log.ts";
import type { EngineResult } from "./stationarization.ts";

/** Configuration of the garch_models engine (features.garch and features.columns). */
export interface GarchEngineConfig {
  /** Price columns to model (their percent log returns are fitted). */
  columns: string[];
  /** GARCH order p; only 1 is implemented. */
  p: number;
  /** ARCH order q; only 1 is implemented. */
  q: number;
  /** Newton iterations at most per fit. */
  max_iter: number;
  /** Fit on the last max_samples returns. */
  max_samples: number;
  /** Pre-sample variance convention (default "sample", see kernels/garch.ts). */
  init?: GarchOptions["init"];
}

/** Runs the engine on one frame. */
export async function garchModels(
  frame: Frame,
  cfg: GarchEngineConfig,
  compute: Compute,
): Promise<EngineResult> {
  if (cfg.p !== 1 || cfg.q !== 1) {
    throw new UsageError(
      `features.garch: only GARCH(1,1) is implemented (p: 1, q: 1), got p: ${cfg.p}, q: ${cfg.q}`,
    );
  }
  const t0 = performance.now();
  const returns = cfg.columns.map((c) => percentLogReturns(getColumn(frame, c)));
  const fits = await fitGarch(returns, {
    maxIter: cfg.max_iter,
    maxSamples: cfg.max_samples,
    init: cfg.init ?? "sample",
  }, compute);
  const columns = new Map<string, Float64Array>();
  const report: Record<string, GarchFit> = {};
  cfg.columns.forEach((c, i) => {
    const fit = fits[i];
    report[c] = fit;
    columns.set(
      `${c}_garch_vol`,
      fit.params ? garchFilter(returns[i], fit.params) : new Float64Array(frame.rows).fill(NaN),
    );
    if (fit.status === "converged") {
      const q = fit.params!;
      log("info", `garch_models: ${c}: alpha ${q.alpha.toPrecision(4)}, beta ${q.beta.toPrecision(4)}`, {
        source: frame.source,
        ...q,
        loglik: fit.loglik,
        nobs: fit.nobs,
        iterations: fit.iterations,
      });
    } else {
      log("warn", `garch_models: ${c}: ${fit.status}${fit.message ? ` (${fit.message})` : ""}`, {
        source: frame.source,
      });
    }
  });
  return {
    columns,
    report: {
      fits: report,
      returns: "100 * log(close_t / close_{t-1})",
      ms: Math.round(performance.now() - t0),
    },
  };
}
