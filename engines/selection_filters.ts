/**
 * Selection filters over a frame's feature columns, in order:
 * 1. variance filter: drop columns whose variance (ddof 0, over their finite values, as sklearn's
 *    VarianceThreshold) is <= `variance_threshold` (default 0: constant and all-NaN columns);
 * 2. near-duplicate filter: the correlation matrix of the remaining columns (kernels/corr_matrix.ts, a tiled
 *    matmul of the standardized data on the GPU, f64 on the CPU path; complete rows only) and a greedy pass
 *    over the columns in rank order (by dCor, highest first, when a ranking is given — columns it does not
 *    rank follow in frame order — else frame order): a column is dropped when |corr| >= `corr_threshold` with
 *    a column already kept, and the report names that column;
 * 3. PCA of the kept columns (kernels/pca.ts: the same GPU matrix product, Jacobi in f64 on the host) with
 *    explained variance and loadings in the report (optional).
 * Target columns (`y_*`) are never candidates. The engine adds no columns; its report lists what it kept and why
 * it dropped the rest.
 */
import type { Frame } from "../io/frame.ts";
import { corrMatrix } from "../kernels/corr_matrix.ts";
import { pcaFromCorr, type PcaResult } from "../kernels/pca.ts";
import type { Compute } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";
import type { EngineResult } from "./stationarization.ts";

/** Configuration of the selection filters. */
export interface SelectionFiltersConfig {
  /** Drop columns with variance <= this (default 0). */
  variance_threshold?: number;
  /** Drop a column whose |correlation| with a kept column is >= this (default 0.95; 1 keeps all but exact duplicates). */
  corr_threshold?: number;
  /** Run PCA on the kept columns (default true). */
  pca?: boolean;
  /** PCA on standardized columns (correlation matrix) rather than the covariance (default true: features differ in scale). */
  pca_standardize?: boolean;
  /** Components reported (default: enough for `pca_variance`). */
  pca_components?: number;
  /** Cumulative explained variance the reported components reach (default 0.95). */
  pca_variance?: number;
  /** Candidate columns (default: every column except targets `y_*`). */
  columns?: string[];
}

/** Why a column was dropped. */
export interface DroppedFeature {
  /** The dropped column's name. */
  feature: string;
  /** The filter that dropped it. */
  stage: "variance" | "correlation";
  /** Its variance (variance stage). */
  variance?: number;
  /** The kept column it nearly duplicates (correlation stage) and their correlation. */
  duplicate_of?: string;
  /** Correlation with `duplicate_of` (correlation stage; |corr| >= `corr_threshold`). */
  corr?: number;
}

/** The filters' report. */
export interface SelectionFiltersReport {
  /** Number of candidate columns (targets `y_*` excluded). */
  candidates: number;
  /** Columns that passed both filters. */
  kept: string[];
  /** Columns dropped, with the stage and reason. */
  dropped: DroppedFeature[];
  /** Rank order used by the correlation stage. */
  order: "dcor" | "frame";
  /** Complete rows the correlation matrix used. */
  corr_rows: number;
  /** Pairs at or over the threshold (kept column first), strongest first (at most 100). */
  correlated_pairs: { a: string; b: string; corr: number }[];
  /** PCA of the kept columns, or null when `pca` is false or there is nothing to decompose. */
  pca: PcaResult | null;
  /** Backend of the matrix products. */
  backend: "webgpu" | "cpu";
}

/** Variance (ddof 0) of the finite values; NaN when there are none. */
export function finiteVariance(x: Float64Array): number {
  let n = 0, mean = 0, m2 = 0;
  for (const v of x) {
    if (!Number.isFinite(v)) continue;
    n++;
    const d = v - mean;
    mean += d / n;
    m2 += d * (v - mean);
  }
  return n ? m2 / n : NaN;
}

/** Runs the filters on the frame's columns (optionally ranked by dCor). */
export async function selectionFilters(
  frame: Frame,
  cfg: SelectionFiltersConfig,
  compute: Compute,
  ranking?: { feature: string; dcor: number }[],
): Promise<SelectionFiltersReport> {
  const varT = cfg.variance_threshold ?? 0, corrT = cfg.corr_threshold ?? 0.95;
  if (!(varT >= 0)) throw new UsageError(`selection: variance_threshold must be >= 0, got ${varT}`);
  if (!(corrT > 0 && corrT <= 1)) {
    throw new UsageError(`selection: corr_threshold must be in (0, 1], got ${corrT}`);
  }
  const candidates = (cfg.columns ?? [...frame.columns.keys()]).filter((n) => !n.startsWith("y_"));
  for (const n of candidates) {
    if (!frame.columns.has(n)) throw new UsageError(`selection: no column "${n}" in ${frame.source}`);
  }
  const dropped: DroppedFeature[] = [];

  // 1. Variance.
  const survivors: string[] = [];
  for (const n of candidates) {
    const v = finiteVariance(frame.columns.get(n)!);
    if (!(v > varT)) dropped.push({ feature: n, stage: "variance", variance: v });
    else survivors.push(n);
  }

  // 2. Near-duplicates, in rank order.
  const rank = new Map((ranking ?? []).map((r) => [r.feature, r.dcor]));
  const order = ranking?.length ? "dcor" : "frame";
  const pos = new Map(survivors.map((n, i) => [n, i]));
  const ranked = [...survivors].sort((a, b) => {
    const ra = rank.get(a) ?? -Infinity, rb = rank.get(b) ?? -Infinity;
    return ra !== rb ? rb - ra : pos.get(a)! - pos.get(b)!;
  });
  const cols = survivors.map((n) => frame.columns.get(n)!);
  const cm = cols.length ? await corrMatrix(cols, compute) : null;
  const p = survivors.length;
  const r = (a: string, b: string) => cm!.corr[pos.get(a)! * p + pos.get(b)!];
  const kept: string[] = [];
  const pairs: SelectionFiltersReport["correlated_pairs"] = [];
  for (const n of ranked) {
    let dup: string | null = null, worst = 0;
    for (const k of kept) {
      const c = r(k, n);
      if (Math.abs(c) >= corrT) {
        pairs.push({ a: k, b: n, corr: c });
        if (Math.abs(c) > Math.abs(worst)) {
          dup = k;
          worst = c;
        }
      }
    }
    if (dup) dropped.push({ feature: n, stage: "correlation", duplicate_of: dup, corr: worst });
    else kept.push(n);
  }
  pairs.sort((x, y) => Math.abs(y.corr) - Math.abs(x.corr));

  // 3. PCA of the kept columns (the matrix is a sub-matrix of the one above: no second product).
  let pca: PcaResult | null = null;
  if ((cfg.pca ?? true) && cm && kept.length) {
    const idx = kept.map((n) => pos.get(n)!);
    const q = idx.length;
    const sub = new Float64Array(q * q);
    idx.forEach((i, a) => idx.forEach((j, b) => (sub[a * q + b] = cm.corr[i * p + j])));
    pca = pcaFromCorr(
      {
        p: q,
        n: cm.n,
        corr: sub,
        mean: Float64Array.from(idx, (i) => cm.mean[i]),
        std: Float64Array.from(idx, (i) => cm.std[i]),
      },
      kept,
      {
        standardize: cfg.pca_standardize ?? true,
        components: cfg.pca_components,
        varianceToKeep: cfg.pca_variance,
      },
    );
  }
  return {
    candidates: candidates.length,
    kept,
    dropped,
    order,
    corr_rows: cm?.n ?? 0,
    correlated_pairs: pairs.slice(0, 100),
    pca,
    backend: compute.gpu ? "webgpu" : "cpu",
  };
}

/** The filters as an engine step: no new columns, the report as above. */
export async function runSelectionFilters(
  frame: Frame,
  cfg: SelectionFiltersConfig,
  compute: Compute,
  ranking?: { feature: string; dcor: number }[],
): Promise<EngineResult<SelectionFiltersReport>> {
  return { columns: new Map(), report: await selectionFilters(frame, cfg, compute, ranking) };
}
