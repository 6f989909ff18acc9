/**
 * The feature-engineering engine: the Baxter-King band-pass filter (kernels/baxter_king.ts) of the log of each
 * configured column, as `<col>_bk_<low>_<high>_<k>`. All columns go through the filter in one pass (one
 * batched submit per batch of segments) on the GPU, or through the f64 CPU path.
 *
 * The pipeline's default is `causal` (the symmetric filter lagged by k: every output uses only rows at or
 * before it), since features must not look ahead. `symmetric` (statsmodels' bkfilter, k rows of future) and
 * `fill` (edge filling, which copies later outputs into the warm-up) are available for analysis but look ahead;
 * the report's `bk.causal` says which, and a warning is logged when it is false.
 */
import { bk as bkKernel, bkIsCausal, type BkParams } from "../kernels/baxter_king.ts";
import { runKernel } from "../kernels/kernel.ts";
import type { Frame } from "../io/frame.ts";
import { getColumn } from "../io/frame.ts";
import type { Compute } from "../runtime/backend.ts";
import { log } from "../runtime/log.ts";
import { type EngineResult, windowNotes } from "./stationarization.ts";
import type { FeatureSetReport } from "../kernels/feature_frame.ts";

/** Configuration of the feature-engineering engine (features.columns and features.baxter_king). */
export interface FeatureEngineeringConfig {
  /** Columns to filter (their logs; default ["close"]). */
  columns: string[];
  /** Baxter-King parameters (features.baxter_king). */
  baxter_king: {
    /** Shortest period kept, in rows (default 6). */
    low_freq: number;
    /** Longest period kept, in rows (default 32). */
    high_freq: number;
    /** Filter half-length (default 12). */
    k: number;
    /** `causal` (default) or `symmetric` (looks k rows ahead). */
    mode: "causal" | "symmetric";
    /** Fill the NaN warm-up at the edges (looks ahead; default false). */
    fill: boolean;
  };
}

/** The defaults of the original system (seeds/000), in the causal mode. */
export const FEATURE_ENGINEERING_DEFAULTS: FeatureEngineeringConfig = {
  columns: ["close"],
  baxter_king: { low_freq: 6, high_freq: 32, k: 12, mode: "causal", fill: false },
};

/** Name of the Baxter-King column of `column`: `<column>_bk_<low>_<high>_<k>`. */
export function bkColumnName(column: string, bk: FeatureEngineeringConfig["baxter_king"]): string {
  return `${column}_bk_${bk.low_freq}_${bk.high_freq}_${bk.k}`;
}

/** The Baxter-King part of the feature_engineering report. */
export interface BkReport {
  /** Band and weights of the filter. */
  low: number;
  /** Upper period of the band. */
  high: number;
  /** Lead/lag length K. */
  k: number;
  /** `causal` (one-sided) or `symmetric`. */
  mode: string;
  /** Whether edge rows were filled. */
  fill: boolean;
  /** Whether the output uses only past data. */
  causal: boolean;
  /** 2K + 1. */
  weights: number;
  /** The filtered series (`log`). */
  input: string;
  /** Rows at each edge without a value (before filling). */
  warmup: { start: number; end: number };
}

/** The feature_engineering report: Baxter-King, and the feature sets' extraction when one ran. */
export interface FeatureEngineeringReport {
  /** Wall time per step, in ms. */
  timings_ms: Record<string, number>;
  /** The band-pass filter. */
  bk: BkReport;
  /** Columns added. */
  columns: number;
  /** The feature-set extraction (pipeline/engines.ts adds it). */
  extraction?: FeatureSetReport;
}

/**
 * Runs the engine on one frame. The filter is applied to log(x) (NaN where x <= 0), as FFD is in the
 * stationarization engine: the output is a cycle in log units, comparable across instruments.
 */
export async function engineerFeatures(
  frame: Frame,
  cfg: FeatureEngineeringConfig,
  compute: Compute,
): Promise<EngineResult<FeatureEngineeringReport>> {
  const bk = cfg.baxter_king;
  const p: BkParams = { low: bk.low_freq, high: bk.high_freq, k: bk.k, mode: bk.mode, fill: bk.fill };
  const causal = bkIsCausal(p);
  if (!causal) {
    log("warn", "feature_engineering: the Baxter-King features look ahead (not causal)", {
      mode: bk.mode,
      fill: bk.fill,
    });
  }
  const logs = cfg.columns.map((c) => getColumn(frame, c).map((v) => (v > 0 ? Math.log(v) : NaN)));
  const t0 = performance.now();
  const y = await runKernel(bkKernel, logs.map((x) => [x]), p, compute);
  const ms = Math.round(performance.now() - t0);
  const out = new Map<string, Float64Array>();
  cfg.columns.forEach((c, i) => out.set(bkColumnName(c, bk), y[i]));
  return {
    columns: out,
    report: {
      timings_ms: { bk: ms },
      bk: {
        low: bk.low_freq,
        high: bk.high_freq,
        k: bk.k,
        mode: bk.mode,
        fill: bk.fill,
        causal,
        weights: 2 * bk.k + 1,
        input: "log",
        // Rows at each edge without a value (before filling): 2k at the start (causal), or k at each end.
        warmup: bk.mode === "causal" ? { start: 2 * bk.k, end: 0 } : { start: bk.k, end: bk.k },
      },
      columns: out.size,
    },
    notes: windowNotes(
      frame.rows,
      cfg.columns.map((c) => [bkColumnName(c, bk), 2 * bk.k + 1, `Baxter-King (k = ${bk.k})`]),
    ),
  };
}
