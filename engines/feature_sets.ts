/**
 * Rolling feature-set extraction (issue 7 §2), run by the `feature_engineering` engine after Baxter-King:
 * for each configured column and window, every feature of the chosen set (kernels/feature_sets.ts) over the
 * trailing window, as `<column>__<feature>__w<window>` (e.g. `close__mean__w50`,
 * `close__autocorrelation__lag_1__w50`). Features use the raw column (not its log). All features are causal.
 * On the GPU, the moment and min/max features run in f32 WGSL and the rest (including every efficient /
 * comprehensive addition: autocorrelations, pacf, FFT summaries, entropies, strikes) on the f64 CPU path;
 * the report's `placement` says where each ran. Only rolling (per-window) extraction exists; per-segment
 * extraction (per day, per "era" column) is not implemented.
 */
import {
  FEATURE_SETS,
  featureColumnName,
  featurePlacement,
  featureSetCpu,
  featureSetGpu,
} from "../kernels/feature_sets.ts";
import type { Frame } from "../io/frame.ts";
import { getColumn } from "../io/frame.ts";
import { type Compute, withFallback } from "../runtime/backend.ts";
import type { EngineResult } from "./stationarization.ts";

/** `features.extraction`: which feature set, over which windows and columns. */
export interface FeatureExtractionConfig {
  /** `none`, `minimal` (default), `efficient` or `comprehensive`. */
  set: "none" | "minimal" | "efficient" | "comprehensive";
  /** Trailing windows in rows (each >= 2; default [50]). */
  windows: number[];
  /** Columns to extract from (default ["close"]). */
  columns: string[];
}

/** Runs the feature-set extraction on one frame. */
export async function extractFeatures(
  frame: Frame,
  cfg: FeatureExtractionConfig,
  compute: Compute,
): Promise<EngineResult> {
  const features = FEATURE_SETS[cfg.set];
  const out = new Map<string, Float64Array>();
  if (features.length === 0 || cfg.windows.length === 0 || cfg.columns.length === 0) {
    return { columns: out, report: { set: cfg.set, columns: 0 } };
  }
  const xs = cfg.columns.map((c) => getColumn(frame, c));
  const t0 = performance.now();
  let backend = "cpu" as "webgpu" | "cpu";
  const res = await withFallback(
    compute,
    "feature_sets",
    (rt) => {
      backend = "webgpu";
      return featureSetGpu(rt, xs, cfg.windows, features);
    },
    () => {
      backend = "cpu";
      return Promise.resolve(xs.map((x) => cfg.windows.map((w) => featureSetCpu(x, w, features))));
    },
  );
  const ms = Math.round(performance.now() - t0);
  cfg.columns.forEach((c, i) =>
    cfg.windows.forEach((w, j) => {
      for (const f of features) out.set(featureColumnName(c, f, w), res[i][j].get(f)!);
    })
  );
  const placement = backend === "webgpu"
    ? featurePlacement(features)
    : Object.fromEntries(features.map((f) => [f, "cpu"]));
  return {
    columns: out,
    report: {
      set: cfg.set,
      windows: cfg.windows,
      input_columns: cfg.columns,
      features: features.length,
      placement,
      timings_ms: { feature_sets: ms },
      columns: out.size,
    },
  };
}
