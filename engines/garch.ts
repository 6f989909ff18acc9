/**
 * The garch_models engine: fits of each model in `features.garch.models` (default garch11; names and models in
 * kernels/garch_model.ts) per configured column (`features.columns`) and the conditional volatility
 * `<col>_garch_vol`, sigma_t in percent per bar: the standard deviation of the percent log return
 * r_t = 100 log(c_t / c_{t-1}) (the scale `arch` users fit) given the returns up to t-1, from the model with
 * the lowest AIC (or BIC, `select_by`). The choice is made per refit, among the fits on that refit's window
 * (all models see the same returns), so it is as causal as the fits: the model serving a row is chosen on
 * data before it. Every model's fits are in the report.
 *
 * `mode: walk_forward` (default) is causal by construction: the first refit is at the row after the
 * `min_samples`-th finite return (rows before it are NaN), then one every `refit_every` rows; refit k is
 * fitted on the returns of its window before its row (the last `window` finite returns, or all of them with
 * `window: expanding`) and serves the rows up to the next refit. There sigma_t comes from the variance
 * recursion with refit k's parameters, started at the first return of refit k's window with the fit's own
 * pre-sample value e_0^2 = s2_0 = B (the mean squared residual of the window, or `arch`'s backcast) and run
 * through the window as the fit ran it, then on to t - 1 (`garchFilterFrom`): nothing at or after t enters
 * sigma_t, so truncating the input never changes an earlier row. A refit without estimates (constant window,
 * non-finite likelihood) leaves its rows to the last refit that has them (NaN if none); a refit that stopped
 * before convergence keeps its best estimates.
 *
 * `mode: in_sample` is the non-causal option kept for analysis: one fit on the last `max_samples` finite
 * returns filters the whole series (recursion started at the unconditional variance), so every row uses
 * parameters estimated on later data; a warning is logged.
 *
 * A series that cannot be fitted gets a status in the report and NaN rows, never an exception.
 */
import {
  fitGarchModel,
  fitGarchModelWalkForward,
  type GarchMean,
  type GarchModelFit,
  type GarchModelParams,
  type GarchModelSpec,
  type GarchOptions,
  type GarchStatus,
  MODEL_SCHEME,
  modelFilter,
  modelFilterFrom,
  parseModel,
  percentLogReturns,
  type Refit,
  walkForwardRefits,
} from "../kernels/garch.ts";
import type { Frame } from "../io/frame.ts";
import { getColumn } from "../io/frame.ts";
import type { Compute } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";
import { log } from "../runtime/log.ts";
import type { EngineResult, ProgressFn } from "./stationarization.ts";

/** How the parameters behind each row are estimated (see the module comment). */
export type GarchMode = "walk_forward" | "in_sample";

/** `features.garch`: the volatility models, how one is chosen, and the walk-forward refits. */
export interface GarchConfig {
  /** Order p: 1 (other orders are set by model name in `models`, e.g. garch21; other values are an error). */
  p: number;
  /** Order q: 1 (other orders are set by model name in `models`, e.g. garch12; other values are an error). */
  q: number;
  /** Optimizer iteration cap (integer >= 1). */
  max_iter: number;
  /** in_sample mode: most recent samples used for the fit (integer >= 1). */
  max_samples: number;
  /**
   * `"walk_forward"` (causal: the parameters at row t are fitted on returns before t) or
   * `"in_sample"` (one fit on the last max_samples returns filters every row: looks ahead, logs a warning).
   */
  mode: GarchMode;
  /** walk_forward: each refit's window, the last N finite returns (integer >= 100) or `"expanding"`. */
  window: number | "expanding";
  /** walk_forward: rows between refits (integer >= 1). */
  refit_every: number;
  /** walk_forward: finite returns before the first value; earlier rows are NaN (integer >= 100). */
  min_samples: number;
  /**
   * Models fitted per column: garch{p}{q} or gjr{p}{q} (p 1..3 ARCH lags, q 0..3 GARCH lags), suffix _t or
   * _skewt (kernels/garch_model.ts).
   */
  models: string[];
  /** The criterion choosing the model behind `<col>_garch_vol` at each refit: "aic" or "bic". */
  select_by: "aic" | "bic";
  /** Conditional mean: "constant" (mu estimated) or "zero". */
  mean: GarchMean;
}

/**
 * The garch_models engine's input: the `features.garch` section (models, selection and mean default to
 * garch11, aic and constant for library callers) plus the price columns and the pre-sample convention.
 */
export interface GarchEngineConfig
  extends
    Omit<GarchConfig, "models" | "select_by" | "mean">,
    Partial<Pick<GarchConfig, "models" | "select_by" | "mean">> {
  /** Price columns to model (their percent log returns are fitted). */
  columns: string[];
  /** Pre-sample variance convention (default "sample", see kernels/garch_core.ts). */
  init?: GarchOptions["init"];
}

/**
 * One model's fits of a column (an entry of `GarchColumnReport.models`): its last refit's status, estimates,
 * standard errors and criteria (as in `GarchModelFit`), and counts over the refits.
 */
export interface GarchModelReport extends
  Pick<
    GarchModelFit,
    "status" | "message" | "params" | "se" | "robust_se" | "loglik" | "aic" | "bic" | "persistence"
  > {
  /** Fits without estimates. */
  refits_failed: number;
  /** Fits that stopped before convergence. */
  refits_not_converged: number;
  /** Refits at which this model had the lowest criterion (its rows are this model's). */
  selected: number;
  /** Which path searched the last fit. */
  backend: "cpu" | "webgpu" | null;
}

/** One column's entry of the garch_models report (the GARCH table of summary.md). */
export interface GarchColumnReport {
  /** How the column was estimated. */
  mode: GarchMode;
  /** The model chosen at the last refit (the fields below are its fits'). */
  model: string;
  /** Every model's fits, by name. */
  models: Record<string, GarchModelReport>;
  /** Status of the last refit (in_sample: of the fit); "too_short" when no refit was due. */
  status: GarchStatus;
  /** Why, for any status but "converged". */
  message: string | null;
  /** Estimates of the last refit (mu, omega, alpha, beta, ... by name; percent returns). */
  params: GarchModelParams | null;
  /** Their standard errors (inverse Hessian). */
  se: GarchModelParams | null;
  /** Their Bollerslev-Wooldridge robust standard errors. */
  robust_se: GarchModelParams | null;
  /** alpha + beta of the last refit. */
  persistence: number | null;
  /** ln(0.5) / ln(alpha + beta), in bars (null unless 0 < alpha + beta < 1). */
  half_life: number | null;
  /** Log-likelihood of the last refit. */
  loglik: number | null;
  /** Returns in the last refit's window. */
  nobs: number;
  /** Fits run (in_sample: 1). */
  refits: number;
  /** Fits without estimates (too short, constant, failed): their rows use the last refit that has them. */
  refits_failed: number;
  /** Fits that stopped before convergence (their best estimates are used). */
  refits_not_converged: number;
  /** First row with a value (null: none). */
  first_row: number | null;
  /** Row of the last refit (in_sample: null). */
  last_refit_row: number | null;
  /** Which path searched the last fit. */
  backend: "cpu" | "webgpu" | null;
}

/** The garch_models report. */
export interface GarchReport {
  /** How the volatility was estimated. */
  mode: GarchMode;
  /** walk_forward: each refit's window (null in in_sample mode). */
  window: number | "expanding" | null;
  /** walk_forward: rows between refits (null in in_sample mode). */
  refit_every: number | null;
  /** walk_forward: finite returns before the first refit (null in in_sample mode). */
  min_samples: number | null;
  /** in_sample's fit window (null in walk_forward mode). */
  max_samples: number | null;
  /** The models fitted. */
  models: string[];
  /** The criterion choosing among them. */
  select_by: "aic" | "bic";
  /** The conditional mean. */
  mean: GarchMean;
  /** Per configured column. */
  columns: Record<string, GarchColumnReport>;
  /** The fitted series. */
  returns: string;
  /** Wall time of the engine. */
  ms: number;
}

/** The models of the configuration (UsageError naming the key and value for a name off the scheme). */
export function garchModelSpecs(names: string[] | undefined): GarchModelSpec[] {
  const list = names ?? ["garch11"];
  if (!list.length) throw new UsageError("features.garch.models: expected at least one model");
  return list.map((name, i) => {
    const m = parseModel(name);
    if (!m) {
      throw new UsageError(
        `features.garch.models[${i}]: unknown model ${JSON.stringify(name)}; expected ${MODEL_SCHEME}`,
      );
    }
    return m;
  });
}

/** Runs the engine on one frame; `progress` hears the walk-forward refits done of all columns' and models' refits. */
export async function garchModels(
  frame: Frame,
  cfg: GarchEngineConfig,
  compute: Compute,
  progress?: ProgressFn,
): Promise<EngineResult<GarchReport>> {
  if (cfg.p !== 1 || cfg.q !== 1) {
    throw new UsageError(
      `features.garch: p and q stay GARCH(1,1)'s (p: 1, q: 1); other orders are chosen by name in features.garch.models (e.g. garch21), got p: ${cfg.p}, q: ${cfg.q}`,
    );
  }
  const specs = garchModelSpecs(cfg.models);
  const by = cfg.select_by ?? "aic", mean = cfg.mean ?? "constant";
  const t0 = performance.now();
  const walk = cfg.mode === "walk_forward";
  const opts = { maxIter: cfg.max_iter, maxSamples: cfg.max_samples, init: cfg.init ?? "sample", mean };
  const returns = cfg.columns.map((c) => percentLogReturns(getColumn(frame, c)));
  // fits[model][column][refit]
  const fits: GarchModelFit[][][] = [];
  let refits: Refit[][] | null = null;
  if (walk) {
    const wf = { window: cfg.window, refitEvery: cfg.refit_every, minSamples: cfg.min_samples };
    refits = returns.map((r) => walkForwardRefits(r, wf));
    for (const [k, m] of specs.entries()) {
      const report = progress &&
        ((done: number, total: number) => progress(k * total + done, specs.length * total, "refits"));
      fits.push(await fitGarchModelWalkForward(returns, refits, m, opts, compute, report));
    }
  } else {
    log(
      "warn",
      "garch_models: mode in_sample looks ahead (not causal): every row uses parameters fitted on later returns",
      {
        source: frame.source,
        max_samples: cfg.max_samples,
      },
    );
    for (const m of specs) fits.push((await fitGarchModel(returns, m, opts, compute)).map((f) => [f]));
  }
  // chosen[column][refit]: the model index with the lowest criterion among the fits with estimates.
  const chosen = returns.map((_, c) => fits[0][c].map((_, k) => chooseModel(fits.map((f) => f[c][k]), by)));
  const vols = returns.map((r, c) => {
    if (refits) return walkForwardVol(r, refits[c], specs, fits.map((f) => f[c]), chosen[c]);
    const m = chosen[c][0];
    return m < 0 ? new Float64Array(frame.rows).fill(NaN) : modelFilter(r, specs[m], fits[m][c][0].params!);
  });
  const tallies = returns.map((_, c) => {
    const t = newTally(specs.length);
    chosen[c].forEach((m, k) => tallyRefit(t, fits.map((f) => f[c][k]), m, refits?.[c][k].row ?? null));
    const first = vols[c].findIndex(Number.isFinite);
    t.firstRow = first < 0 ? null : first;
    return t;
  });
  const { report, notes } = garchReport(frame.source, cfg, tallies, t0);
  return { columns: new Map(cfg.columns.map((c, i) => [`${c}_garch_vol`, vols[i]])), report, notes };
}

/** The model with the lowest criterion among one refit's fits with estimates (index in the specs; -1: none). */
export function chooseModel(fits: GarchModelFit[], by: "aic" | "bic"): number {
  let best = -1;
  fits.forEach((f, m) => {
    const v = f[by];
    if (f.params && v !== null && (best < 0 || v < fits[best][by]!)) best = m;
  });
  return best;
}

/**
 * What the report says of one column's refits, counted refit by refit (a chunked run carries it from chunk to
 * chunk, and between runs in its checkpoints).
 */
export interface GarchTally {
  /** Each model's last fit (null before the first refit). */
  last: (GarchModelFit | null)[];
  /** Per model: its fits without estimates. */
  failed: number[];
  /** Per model: its fits that stopped before convergence. */
  notConverged: number[];
  /** Per model: the refits that chose it. */
  selected: number[];
  /** Refits run. */
  refits: number;
  /** The model chosen at the last refit (-1: none had estimates, or no refit yet). */
  chosen: number;
  /** First row with a value (null: none yet). */
  firstRow: number | null;
  /** Row of the last refit (null: none, or in_sample). */
  lastRefitRow: number | null;
}

/** The tally of a column before any refit, for `models` models. */
export function newTally(models: number): GarchTally {
  const zeros = () => new Array<number>(models).fill(0);
  return {
    last: new Array(models).fill(null),
    failed: zeros(),
    notConverged: zeros(),
    selected: zeros(),
    refits: 0,
    chosen: -1,
    firstRow: null,
    lastRefitRow: null,
  };
}

/** Counts one refit (every model's fit at `row`, and the model it chose) into `t`. */
export function tallyRefit(t: GarchTally, fits: GarchModelFit[], chosen: number, row: number | null): void {
  fits.forEach((f, k) => {
    t.last[k] = f;
    if (!f.params) t.failed[k]++;
    if (f.status === "not_converged") t.notConverged[k]++;
    if (chosen === k) t.selected[k]++;
  });
  t.refits++;
  t.chosen = chosen;
  t.lastRefitRow = row;
}

/** The engine's report and notes from each column's tally (`t0`: the engine's start), each column logged. */
export function garchReport(
  source: string,
  cfg: GarchEngineConfig,
  tallies: GarchTally[],
  t0: number,
): { report: GarchReport; notes: Record<string, string> } {
  const specs = garchModelSpecs(cfg.models);
  const by = cfg.select_by ?? "aic", mean = cfg.mean ?? "constant";
  const walk = cfg.mode === "walk_forward";
  const report: Record<string, GarchColumnReport> = {};
  const notes: Record<string, string> = {};
  const tooShort = `fewer than min_samples (${cfg.min_samples}) finite returns`;
  cfg.columns.forEach((c, i) => {
    const t = tallies[i];
    const sel = Math.max(0, t.chosen);
    const last = t.last[sel];
    const models: Record<string, GarchModelReport> = {};
    specs.forEach((m, k) => {
      const l = t.last[k];
      models[m.name] = {
        status: l?.status ?? "too_short",
        message: l ? l.message : tooShort,
        params: l?.params ?? null,
        se: l?.se ?? null,
        robust_se: l?.robust_se ?? null,
        loglik: l?.loglik ?? null,
        aic: l?.aic ?? null,
        bic: l?.bic ?? null,
        persistence: l?.persistence ?? null,
        refits_failed: t.failed[k],
        refits_not_converged: t.notConverged[k],
        selected: t.selected[k],
        backend: l?.backend ?? null,
      };
    });
    const entry: GarchColumnReport = {
      mode: cfg.mode,
      model: specs[sel].name,
      models,
      status: last?.status ?? "too_short",
      message: last ? last.message : tooShort,
      params: last?.params ?? null,
      se: last?.se ?? null,
      robust_se: last?.robust_se ?? null,
      persistence: last?.persistence ?? null,
      half_life: last?.half_life ?? null,
      loglik: last?.loglik ?? null,
      nobs: last?.nobs ?? 0,
      refits: t.refits,
      refits_failed: t.failed[sel],
      refits_not_converged: t.notConverged[sel],
      first_row: t.firstRow,
      last_refit_row: t.lastRefitRow,
      backend: last?.backend ?? null,
    };
    report[c] = entry;
    if (entry.first_row === null) {
      notes[`${c}_garch_vol`] = `GARCH ${entry.status}: ${entry.message ?? "no estimates"}`;
    }
    const q = entry.params;
    const level = entry.status === "converged" && !entry.refits_failed && !entry.refits_not_converged
      ? "info"
      : "warn";
    log(
      level,
      `garch_models: ${c}: ${
        specs.length > 1 ? `${entry.model} (lowest ${by.toUpperCase()}) ` : ""
      }${entry.status}${q ? `, alpha ${q.alpha.toPrecision(4)}, beta ${(q.beta ?? 0).toPrecision(4)}` : ""}` +
        (walk
          ? ` (${entry.refits} refits, ${entry.refits_failed} failed, ${entry.refits_not_converged} not converged)`
          : "") +
        (entry.message ? ` (${entry.message})` : ""),
      { source, ...q, loglik: entry.loglik, nobs: entry.nobs },
    );
  });
  return {
    report: {
      mode: cfg.mode,
      window: walk ? cfg.window : null,
      refit_every: walk ? cfg.refit_every : null,
      min_samples: walk ? cfg.min_samples : null,
      max_samples: walk ? null : cfg.max_samples,
      models: specs.map((m) => m.name),
      select_by: by,
      mean,
      columns: report,
      returns: "100 * log(close_t / close_{t-1})",
      ms: Math.round(performance.now() - t0),
    },
    notes,
  };
}

/**
 * sigma_t of each refit's rows from the model chosen at the last refit up to it that has one (NaN before the
 * first): its fit's parameters and pre-sample values, the recursion run from its window's start.
 */
function walkForwardVol(
  r: Float64Array,
  refits: Refit[],
  specs: GarchModelSpec[],
  fits: GarchModelFit[][],
  chosen: number[],
): Float64Array {
  const out = new Float64Array(r.length).fill(NaN);
  let used: { m: GarchModelSpec; fit: GarchModelFit; refit: Refit } | null = null;
  refits.forEach((refit, k) => {
    if (chosen[k] >= 0) used = { m: specs[chosen[k]], fit: fits[chosen[k]][k], refit };
    if (used) {
      const { m, fit } = used;
      modelFilterFrom(
        r,
        m,
        fit.params!,
        fit.presample!,
        fit.presample_neg!,
        used.refit.lo,
        refit.row,
        refit.end,
        out,
      );
    }
  });
  return out;
}
