/**
 * Feature-set benchmarks (`deno task bench --suite features`): each set's throughput (rows x
 * columns per second) at window 50, reported for 1e6 rows x 16 columns, on three paths:
 * - `cpu`: featureSetCpu (f64), one column at a time on one thread;
 * - `cpu-pool`: the same in the comlink worker pool (kernels/feature_pool.ts), one worker per core;
 * - `webgpu`: featureSetGpu, every feature with a WGSL kernel in f32 on the adapter, the rest in the pool.
 * Runs that would take minutes are timed on fewer rows / columns and scaled linearly (every feature is O(w)
 * or O(w^2) per row and columns are independent), marked `scaled` and `~` in the table. A last row times
 * the efficient set per segment (`day`: one window per 1,440 one-minute rows, as features.extraction.segments).
 */
import { FEATURE_SETS, featureSetCpu, featureSetGpu } from "../kernels/feature_sets.ts";
import { featureSetCpuParallel } from "../kernels/feature_pool.ts";
import type { WindowSpec } from "../kernels/window_features.ts";
import { GpuRuntime } from "../runtime/gpu.ts";
import { marketData } from "./measure.ts";

/** One timing. */
export interface FeaturesTiming {
  set: string;
  path: "cpu" | "cpu-pool" | "webgpu";
  /** Rolling window in rows, or "day" (per-segment windows of 1,440 rows). */
  window: number | "day";
  features: number;
  /** Workers of the pool (cpu-pool, and the CPU share of webgpu). */
  workers: number;
  /** The configuration reported (rows per column, columns). */
  rows: number;
  columns: number;
  /** What was timed. */
  measured_rows: number;
  measured_columns: number;
  scaled: boolean;
  /** Seconds for the reported configuration (measured or scaled). */
  seconds: number;
  /** rows x columns / seconds. */
  points_per_s: number;
}

/** Best of up to 3 runs (one when a run takes over 5 s). */
async function time(f: () => unknown): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await f();
    best = Math.min(best, (performance.now() - t0) / 1e3);
    if (best > 5) break;
  }
  return best;
}

/** Runs the feature-set benchmarks, reporting progress lines through `progress`. */
export async function benchFeatures(
  opts: { quick: boolean; backend: "webgpu" | "cpu" | "both" },
  progress: (s: string) => void,
): Promise<FeaturesTiming[]> {
  const W = 50, ROWS = 1e6, COLS = 16;
  const q = opts.quick ? 0.25 : 1;
  const workers = navigator.hardwareConcurrency || 1;
  // [set, measured (rows, cols) for cpu, cpu-pool, webgpu]: sized for a few seconds on a 2-core llvmpipe.
  const plan: [keyof typeof FEATURE_SETS, number | "day", [number, number][]][] = [
    ["minimal", W, [[2.5e5 * q, 2], [2.5e5 * q, 4], [2.5e5 * q, 4]]],
    ["efficient", W, [[5e4 * q, 1], [5e4 * q, 4], [2.5e4 * q, 4]]],
    ["comprehensive", W, [[1e4 * q, 1], [1e4 * q, 4], [5e3 * q, 4]]],
    ["efficient", "day", [[2.88e5 * q, 2], [2.88e5 * q, 4], [2.88e5 * q, 4]]],
  ];
  const DAY = 1440;
  const specOf = (window: number | "day", rows: number): WindowSpec =>
    window === "day"
      ? { lens: Int32Array.from({ length: rows }, (_, t) => ((t + 1) % DAY === 0 ? DAY : 0)) }
      : { window };
  const data = marketData(ROWS * COLS).price;
  const cols = (rows: number, n: number) =>
    Array.from({ length: n }, (_, c) => data.subarray(c * ROWS, c * ROWS + rows));
  const pool = (
    jobs: { x: Float64Array; spec: { window: number } | { lens: Int32Array } }[],
    fs: readonly string[],
  ) => featureSetCpuParallel(jobs, fs, { workers });
  const rt = opts.backend !== "cpu" ? await GpuRuntime.create() : null;
  if (rt) await featureSetGpu(rt, cols(2_000, 2), [W], FEATURE_SETS.comprehensive, pool); // compile shaders
  featureSetCpu(data.subarray(0, 20_000), W, FEATURE_SETS.comprehensive); // JIT
  const out: FeaturesTiming[] = [];
  for (const [set, window, sizes] of plan) {
    const features = FEATURE_SETS[set];
    const paths: FeaturesTiming["path"][] = opts.backend === "webgpu" ? [] : ["cpu", "cpu-pool"];
    if (rt) paths.push("webgpu");
    for (const path of paths) {
      const [rows, n] = sizes[path === "cpu" ? 0 : path === "cpu-pool" ? 1 : 2];
      const xs = cols(rows, n);
      const spec = specOf(window, rows);
      const s = await time(() =>
        path === "cpu"
          ? xs.forEach((x) => featureSetCpu(x, spec, features))
          : path === "cpu-pool"
          ? pool(xs.map((x) => ({ x, spec })), features)
          : featureSetGpu(rt!, xs, [spec], features, pool)
      );
      rt?.pool.trim();
      const seconds = s * (ROWS / rows) * (COLS / n);
      const t: FeaturesTiming = {
        set,
        path,
        window,
        features: features.length,
        workers: path === "cpu" ? 0 : workers,
        rows: ROWS,
        columns: COLS,
        measured_rows: rows,
        measured_columns: n,
        scaled: rows !== ROWS || n !== COLS,
        seconds,
        points_per_s: ROWS * COLS / seconds,
      };
      out.push(t);
      progress(
        `features ${set} (${features.length}) ${window === "day" ? "per day" : `w${window}`} ${path}: ${
          t.points_per_s.toExponential(2)
        } rows x cols/s` +
          (t.scaled ? ` (timed ${rows.toExponential(0)} x ${n}: ${s.toFixed(3)} s, scaled)` : ""),
      );
    }
  }
  return out;
}

/** The human table lines. */
export function featuresTable(rows: FeaturesTiming[]): string[] {
  const fmt = (v: number) => v.toExponential(2).replace("e+", "e");
  return [
    "feature sets, 1e6 rows x 16 columns (rows x columns / s; ~ = timed smaller and scaled):",
    ...rows.map((r) =>
      `  ${r.set.padEnd(14)} ${String(r.features).padStart(2)} features  ` +
      `${(r.window === "day" ? "per day" : `w${r.window}`).padEnd(8)} ${r.path.padEnd(8)} ` +
      `${(r.scaled ? "~" : "") + fmt(r.points_per_s)}`.padStart(10) + ` pts/s  ${r.seconds.toFixed(2)} s` +
      (r.scaled ? `  (timed ${fmt(r.measured_rows)} x ${r.measured_columns})` : "")
    ),
  ];
}
