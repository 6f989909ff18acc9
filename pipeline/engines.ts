/**
 * The engines of the pipeline, in `pipeline.engines` order. An engine takes a Frame (the input plus every
 * column earlier engines added) and the configuration, and returns new columns plus a report; it never does
 * I/O. `runEngines` is the one loop over them, for `deno task run`'s tasks and the page's worker alike.
 */
import type { Config } from "../config/schema.ts";
import { engineerFeatures } from "../engines/feature_engineering.ts";
import { extractFeatures } from "../kernels/feature_frame.ts";
import { selectFeatures } from "../engines/statistical_tests.ts";
import { garchModels } from "../engines/garch.ts";
import { type EngineResult, minDConfig, type ProgressFn, stationarize } from "../engines/stationarization.ts";
import type { Frame } from "../io/frame.ts";
import type { Compute } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";

/** One pipeline stage. */
export interface Engine {
  /** Engine name as in `pipeline.engines` (e.g. `"stationarization"`); also keys per-engine timings. */
  name: string;
  /**
   * Computes the engine's new columns and report from the frame so far; does no I/O. `progress`, when given,
   * hears about long steps (garch_models: refits done; statistical_tests: features or permutations done).
   */
  run: (frame: Frame, config: Config, compute: Compute, progress?: ProgressFn) => Promise<EngineResult>;
}

const ENGINES: Record<string, Engine | null> = {
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

/** The enabled engines in order; an enabled engine that does not exist yet is a configuration error. */
export function enabledEngines(config: Config): Engine[] {
  return Object.entries(config.pipeline.engines)
    .filter(([, e]) => e.enabled)
    .sort(([, a], [, b]) => a.order - b.order)
    .map(([name]) => {
      const engine = ENGINES[name];
      if (!engine) {
        throw new UsageError(
          `pipeline.engines.${name}: this engine is not available yet; set enabled: false`,
        );
      }
      return engine;
    });
}

/** One engine's outcome, as {@link runEngines} hands it on. */
export interface EngineStep {
  /** The engine. */
  engine: Engine;
  /** Its new columns, report and notes. */
  result: EngineResult;
  /** Its wall time in milliseconds. */
  ms: number;
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
    o.done?.({ engine, result, ms: Math.round(performance.now() - t0) });
  }
  return columns;
}
