/**
 * Feature-set extraction over a frame, run by the `feature_engineering` engine after Baxter-King and by
 * `kernel features`: for each
 * configured column, every feature of the chosen set (kernels/feature_sets.ts)
 * - over each trailing window, as `<column>__<feature>__w<window>` (e.g. `close__autocorrelation__lag_1__w50`);
 * - over each segment kind of `segments` (`day`: UTC calendar days of the timestamps; otherwise a column
 *   whose runs of equal values are the segments, e.g. `era`), as `<column>__<feature>__<segment>`: every row
 *   holds the features of the segment before its own (complete by then), NaN in the first segment.
 * Features use the raw column (not its log). All outputs are causal.
 * On the GPU path the features with a WGSL kernel run in f32 on the GPU and the rest on the f64 CPU path in a
 * comlink worker pool beside it; on the CPU path everything runs in the pool. The report's `placement` says
 * where each feature ran.
 */
import { FEATURE_SETS, featureColumnName, featurePlacement, featureSetGpu } from "./feature_sets.ts";
import { featureSetCpuParallel } from "./feature_pool.ts";
import { previousSegment, segmentLens, type WindowSpec } from "./window_features.ts";
import type { Frame } from "../io/frame.ts";
import { getColumn, makeFrame } from "../io/frame.ts";
import { type Compute, withFallback } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";
import { LIMITS } from "../runtime/limits.ts";
import { progressLogger } from "../runtime/log.ts";
import { defineFrameKernel, type FrameKernel } from "./kernel.ts";

/** What the extraction reports (fields beyond `set` and `columns` only when a feature was computed). */
export interface FeatureSetReport {
  /** The feature set. */
  set: string;
  /** Columns added. */
  columns: number;
  /** Trailing windows in rows. */
  windows?: number[];
  /** Segments per segment kind (one window ends at each segment's last row). */
  segments?: Record<string, number>;
  /** The columns features were extracted from. */
  input_columns?: string[];
  /** Features per window or segment. */
  features?: number;
  /** Where each feature ran: `webgpu`, `cpu` or `webgpu+cpu`. */
  placement?: Record<string, string>;
  /** Workers the CPU features used (0: none). */
  cpu_workers?: number;
  /** Wall time, in ms. */
  timings_ms?: Record<string, number>;
}

/** The extraction's new columns (`<column>__<feature>__w<window>` / `__<segment>`) and its report. */
export interface FeatureFrameResult {
  /** New columns by name, each as long as the frame. */
  columns: Map<string, Float64Array>;
  /** Set, windows, segments, placement per feature, CPU workers, timings. */
  report: FeatureSetReport;
}

/** `features.extraction`: which feature set, over which windows, segments and columns. */
export interface FeatureExtractionConfig {
  /** `"none"`, `"minimal"` , `"efficient"` or `"comprehensive"` (kernels/feature_sets.ts). */
  set: "none" | "minimal" | "efficient" | "comprehensive";
  /** Trailing windows in rows, each an integer >= 2. */
  windows: number[];
  /** Columns to extract features from. */
  columns: string[];
  /**
   * Per-segment extraction: each entry `day` (UTC calendar days of the timestamps) or the name of a column
   * whose runs of equal values are the segments (e.g. an `era` column). Each row gets the features of the
   * previous segment (`<col>__<feature>__<segment>`).
   */
  segments?: string[];
  /** Web Workers for the features computed on the CPU; 0  or absent = one per core. */
  workers?: number;
  /** Least interval between progress lines of the CPU features, in ms (default 10 s). */
  progressMs?: number;
}

const DAY_MS = 86_400_000;

/** The segment keys of `kind` for every row: UTC day numbers for `day`, else the column's values. */
function segmentKeys(frame: Frame, kind: string): Float64Array {
  if (kind === "day") {
    if (!frame.timestamps) {
      throw new UsageError(
        `${frame.source}: features.extraction.segments "day" needs a timestamp column (none found)`,
      );
    }
    return frame.timestamps.map((t) => Math.floor(t / DAY_MS));
  }
  if (!frame.columns.has(kind)) {
    throw new UsageError(
      `${frame.source}: features.extraction.segments names column "${kind}", which the data does not have ` +
        `(use "day" or a column name)`,
    );
  }
  const keys = getColumn(frame, kind);
  const bad = keys.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new UsageError(`${frame.source}: segment column "${kind}" has no finite value at row ${bad}`);
  }
  return keys;
}

/** Segments per segment kind of `frame` (one window ends at each segment's last row). */
export function frameSegmentCounts(frame: Frame, kinds: string[]): Record<string, number> {
  return segmentCounts(kinds, kinds.map((k) => segmentLens(segmentKeys(frame, k))));
}

function segmentCounts(kinds: string[], segLens: Int32Array[]): Record<string, number> {
  return Object.fromEntries(kinds.map((k, s) => [k, segLens[s].filter((l) => l > 0).length]));
}

/**
 * Runs the feature-set extraction on one frame.
 *
 * @example The efficient set over 50-row windows of a file's close, and per UTC day
 * ```ts
 * import { extractFeatures, openCompute, readFrameFile } from "@feature-genesis/core";
 *
 * const frame = await readFrameFile("bars.parquet");
 * const compute = await openCompute({ backend: "auto" });
 * const { columns, report } = await extractFeatures(
 *   frame,
 *   { set: "efficient", windows: [50], columns: ["close"], segments: ["day"] },
 *   compute,
 * );
 * console.log(columns.size, report.placement); // e.g. close__mean__w50, close__mean__day, ...
 * ```
 */
export async function extractFeatures(
  frame: Frame,
  cfg: FeatureExtractionConfig,
  compute: Compute,
): Promise<FeatureFrameResult> {
  const features = FEATURE_SETS[cfg.set];
  const segments = cfg.segments ?? [];
  const out = new Map<string, Float64Array>();
  if (features.length === 0 || cfg.columns.length === 0 || cfg.windows.length + segments.length === 0) {
    return { columns: out, report: { set: cfg.set, columns: 0 } };
  }
  const xs = cfg.columns.map((c) => getColumn(frame, c));
  const keys = segments.map((k) => segmentKeys(frame, k));
  const segLens = keys.map(segmentLens);
  const specs: WindowSpec[] = [
    ...cfg.windows.map((window) => ({ window })),
    ...segLens.map((lens) => ({ lens })),
  ];
  const workers = cfg.workers || navigator.hardwareConcurrency || 1;
  let started = 0; // workers the pool actually started (none for small jobs or busy cores)
  // Long CPU work reports its progress in the run's log (rows of all jobs of one pool call).
  const pool = (jobs: { x: Float64Array; spec: WindowSpec }[], fs: readonly string[]) =>
    featureSetCpuParallel(jobs, fs, {
      workers,
      onStart: (w) => (started = Math.max(started, w)),
      onProgress: progressLogger("feature_sets (cpu)", cfg.progressMs),
    });
  const t0 = performance.now();
  let backend = "cpu" as "webgpu" | "cpu";
  const res = await withFallback(
    compute,
    "feature_sets",
    (rt) => {
      backend = "webgpu";
      return featureSetGpu(rt, xs, specs, features, pool);
    },
    async () => {
      backend = "cpu";
      const flat = await pool(xs.flatMap((x) => specs.map((spec) => ({ x, spec }))), features);
      return xs.map((_, c) => specs.map((_, i) => flat[c * specs.length + i]));
    },
  );
  const ms = Math.round(performance.now() - t0);
  cfg.columns.forEach((c, i) => {
    cfg.windows.forEach((w, j) => {
      for (const f of features) out.set(featureColumnName(c, f, w), res[i][j].get(f)!);
    });
    segments.forEach((kind, s) => {
      const r = res[i][cfg.windows.length + s];
      for (const f of features) out.set(`${c}__${f}__${kind}`, previousSegment(r.get(f)!, keys[s]));
    });
  });
  const placement: Record<string, string> = backend === "webgpu"
    ? featurePlacement(compute.gpu!, specs, features)
    : Object.fromEntries(features.map((f) => [f, "cpu"]));
  return {
    columns: out,
    report: {
      set: cfg.set,
      windows: cfg.windows,
      // One window ends at each segment's last row.
      segments: segmentCounts(segments, segLens),
      input_columns: cfg.columns,
      features: features.length,
      placement,
      cpu_workers: Object.values(placement).some((p) => p.includes("cpu")) ? started : 0,
      timings_ms: { feature_sets: ms },
      columns: out.size,
    },
  };
}

/**
 * The `kernel features` entry of the registry (FRAME_KERNELS): the feature-set extraction of the
 * feature_engineering engine on one file, written with the file's timestamps and one column per feature.
 */
export const featuresKernel: FrameKernel<{
  set: "minimal" | "efficient" | "comprehensive";
  windows: readonly number[];
  segments: readonly string[];
  columns: readonly string[];
  workers: number;
}> = defineFrameKernel({
  name: "features",
  summary: "tsfresh-style feature sets over trailing windows or per segment (day / a column)",
  params: {
    set: {
      type: "choice",
      choices: ["minimal", "efficient", "comprehensive"],
      default: "minimal",
      doc: "the feature set",
    },
    windows: {
      type: "ints",
      min: 2,
      max: LIMITS.featureWindow,
      default: [],
      doc: "trailing windows in rows (default 50 without --segments)",
    },
    segments: { type: "names", default: [], doc: "segment kinds: day or a column name" },
    columns: { type: "names", default: ["close"], doc: "columns to extract from" },
    workers: { type: "int", min: 0, max: LIMITS.workers, default: 0, doc: "CPU workers (0: one per core)" },
  },
  // Each feature shader's GPU-vs-f64 tolerance depends on the feature, window and data scale; the shader
  // tests (tests/feature_gpu_*_test.ts) check them with tests/feature_check.ts.
  conformance: [{ windows: [20] }, { set: "efficient", windows: [], segments: ["day"], workers: 1 }],
  run: async (frame, p, compute) => {
    const windows = p.windows.length || p.segments.length ? [...p.windows] : [50];
    const cfg: FeatureExtractionConfig = {
      set: p.set,
      windows,
      columns: [...p.columns],
      segments: [...p.segments],
      workers: p.workers,
    };
    // As for the series kernels (cli/kernel_cmd.ts): a window longer than the file would print only NaN.
    const long = windows.find((w) => w > frame.rows);
    if (long !== undefined) {
      throw new UsageError(
        `kernel features: ${frame.source} has ${frame.rows} rows, fewer than --windows ${long} needs for a ` +
          `first value (every output would be NaN); use a shorter window or a longer input`,
      );
    }
    const n = cfg.columns.length * (windows.length + cfg.segments!.length) * FEATURE_SETS[cfg.set].length;
    if (n > LIMITS.featureColumns) {
      throw new UsageError(
        `kernel features: --columns x (--windows + --segments) x the ${cfg.set} set's features is ${n} ` +
          `feature columns (at most ${LIMITS.featureColumns})`,
      );
    }
    const res = await extractFeatures(frame, cfg, compute);
    const ts = frame.timestamps
      ? { column: frame.timestampColumn ?? "timestamp", values: frame.timestamps }
      : undefined;
    return makeFrame(frame.source, frame.rows, res.columns, [], ts);
  },
});
