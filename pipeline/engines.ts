/**
 * The engines of the pipeline, in `pipeline.engines` order. An engine takes a Frame (the input plus every
 * column earlier engines added) and the configuration, and returns new columns plus a report; it never does
 * I/O. `runEngines` is the one loop over them, for `deno task run`'s tasks and the page's worker alike.
 */
import type { Config, EngineName, EngineToggle } from "../config/schema.ts";
import { engineerFeatures, type FeatureEngineeringReport } from "../engines/feature_engineering.ts";
import { extractFeatures } from "../kernels/feature_frame.ts";
import { selectFeatures, type SelectionReport } from "../engines/statistical_tests.ts";
import { garchModels, type GarchReport } from "../engines/garch.ts";
import {
  type EngineResult,
  minDConfig,
  type ProgressFn,
  type StationarizationReport,
  stationarize,
} from "../engines/stationarization.ts";
import type { Frame } from "../io/frame.ts";
import type { Compute } from "../runtime/backend.ts";

/** Each engine's report, by engine name (a task's `reports` in summary.json). */
export interface EngineReports {
  /** FFD windows, z-scores, the minimum-d search. */
  stationarization?: StationarizationReport;
  /** Baxter-King and the feature sets. */
  feature_engineering?: FeatureEngineeringReport;
  /** The GARCH fits. */
  garch_models?: GarchReport;
  /** The dCor ranking and selection. */
  statistical_tests?: SelectionReport;
}

/** One pipeline stage. */
export interface Engine<K extends EngineName = EngineName> {
  /** Engine name as in `pipeline.engines` (e.g. `"stationarization"`); also keys per-engine timings. */
  name: K;
  /**
   * Computes the engine's new columns and report from the frame so far; does no I/O. `progress`, when given,
   * hears about long steps (garch_models: refits done; statistical_tests: features or permutations done).
   */
  run: (
    frame: Frame,
    config: Config,
    compute: Compute,
    progress?: ProgressFn,
  ) => Promise<EngineResult<NonNullable<EngineReports[K]>>>;
}

const ENGINES: { [K in EngineName]: Engine<K> } = {
  stationarization: {
    name: "stationarization",
    run: (frame, c, compute) =>
      stationarize(frame, {
        columns: c.features.columns,
        d_values: c.features.frac_diff.d_values,
        threshold: c.features.frac_diff.threshold,
        min_d: minDConfig(c.features.frac_diff),
        rolling_windows: c.features.rolling_windows,
        logstab: c.features.log_stabilization.enabled
          ? { shift: c.features.log_stabilization.shift, causal: c.features.log_stabilization.causal }
          : null,
        corr_pairs: c.features.rolling_corr.pairs,
        corr_window: c.features.rolling_corr.window,
      }, compute),
  },
  feature_engineering: {
    name: "feature_engineering",
    run: async (frame, c, compute) => {
      const bk = await engineerFeatures(
        frame,
        { columns: c.features.columns, baxter_king: c.features.baxter_king },
        compute,
      );
      const sets = await extractFeatures(frame, c.features.extraction, compute);
      return {
        columns: new Map([...bk.columns, ...sets.columns]),
        report: { ...bk.report, extraction: sets.report, columns: bk.columns.size + sets.columns.size },
        notes: bk.notes,
      };
    },
  },
  garch_models: {
    name: "garch_models",
    run: (frame, c, compute, progress) =>
      garchModels(frame, { columns: c.features.columns, ...c.features.garch }, compute, progress),
  },
  statistical_tests: {
    name: "statistical_tests",
    run: (frame, c, compute, progress) =>
      selectFeatures(
        frame,
        {
          target: c.features.selection_target_column,
          top_k: c.features.dcor_top_k,
          max_samples: c.features.selection_max_samples,
          permutations: c.features.selection_permutations,
          seed: c.features.selection_seed,
          rolling: c.features.stage1_rolling_enabled,
          rolling_window: c.features.selection_rolling_window,
          filters: {
            variance_threshold: c.features.selection_variance_threshold,
            corr_threshold: c.features.selection_corr_threshold,
            pca: c.features.selection_pca,
          },
          scheme: c.features.selection_permutation,
          exclude: c.features.selection_exclude,
          min_coverage: c.features.selection_min_coverage,
          fdr_level: c.features.selection_fdr_level,
          stop_after: c.features.selection_stop_after,
          // The CLI runs the permutation tests on every core (the page's bundle has no test worker module).
          threads: "Deno" in globalThis ? navigator.hardwareConcurrency || 1 : 1,
        },
        compute,
        progress,
      ),
  },
};

/** The enabled engines in order (the schema admits only ENGINE_NAMES under `pipeline.engines`). */
export function enabledEngines(config: Config): Engine[] {
  return (Object.entries(config.pipeline.engines) as [EngineName, EngineToggle][])
    .filter(([, e]) => e.enabled)
    .sort(([, a], [, b]) => a.order - b.order)
    .map(([name]) => ENGINES[name] as Engine);
}

/** One engine's outcome, as {@link runEngines} hands it on. */
export type EngineStep = {
  [K in EngineName]: {
    /** The engine. */
    engine: Engine<K>;
    /** Its new columns, report and notes. */
    result: EngineResult<NonNullable<EngineReports[K]>>;
    /** Its wall time in milliseconds. */
    ms: number;
  };
}[EngineName];

/** Files a step's report under its engine's name. */
export function recordReport(reports: EngineReports, step: EngineStep): void {
  // The step's engine name and report type are one union member; TypeScript cannot correlate them here.
  (reports as Record<EngineName, unknown>)[step.engine.name] = step.result.report;
}

/**
 * Runs `engines` in order on `frame`, each on the input plus every column the earlier ones added (one task of
 * `deno task run`, the page's file); `progress(engine)`, called as an engine starts, gives its progress
 * callback; `done` hears each engine's result and time. Returns the input and added columns.
 */
export async function runEngines(
  frame: Frame,
  engines: Engine[],
  config: Config,
  compute: Compute,
  o: { progress?: (engine: Engine) => ProgressFn | undefined; done?: (step: EngineStep) => void } = {},
): Promise<Map<string, Float64Array>> {
  const columns = new Map(frame.columns);
  for (const engine of engines) {
    const progress = o.progress?.(engine);
    const t0 = performance.now();
    const result = await engine.run({ ...frame, columns }, config, compute, progress);
    for (const [k, v] of result.columns) columns.set(k, v);
    o.done?.({ engine, result, ms: Math.round(performance.now() - t0) } as EngineStep);
  }
  return columns;
}
