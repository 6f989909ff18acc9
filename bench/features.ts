/**
 * Feature-set benchmarks (`deno task bench --suite features`, issue 7 §4): each set's throughput (rows x
 * columns per second) at window 50 on the f64 CPU path (featureSetCpu, one column at a time) and on the
 * WebGPU path (featureSetGpu: mean / sum / std / variance / min / max in f32 on the GPU, every other feature
 * on the f64 CPU path in the same call), reported for 1e6 rows x 16 columns. Runs that would take minutes
 * are timed on fewer rows / columns and scaled linearly (every feature is O(w) or O(w^2) per row and
 * columns are independent), marked `scaled` and `~` in the table: the comprehensive set (O(w^2) entropies)
 * always, the efficient set on both paths, the minimal set's CPU path. A `gpu-features` row times only the
 * six GPU features, where the two paths differ.
 */
import { FEATURE_SETS, featureSetCpu, featureSetGpu, GPU_FEATURES } from "../kernels/feature_sets.ts";
import { GpuRuntime } from "../runtime/gpu.ts";
import { marketData } from "./measure.ts";

/** One timing. */
export interface FeaturesTiming {
  set: string;
  path: "cpu" | "webgpu";
  window: number;
  features: number;
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
  // [set, features, cpu measured (rows, cols), webgpu measured (rows, cols)]
  const plan: [string, readonly string[], [number, number], [number, number]][] = [
    ["gpu-features", [...GPU_FEATURES], [ROWS * q, 2], [ROWS, COLS]],
    ["minimal", FEATURE_SETS.minimal, [ROWS * q, 2], [ROWS, COLS]],
    ["efficient", FEATURE_SETS.efficient, [2e5 * q, 1], [2e5 * q, 4]],
    ["comprehensive", FEATURE_SETS.comprehensive, [2e4 * q, 1], [2e4 * q, 2]],
  ];
  const data = marketData(ROWS * COLS).price;
  const cols = (rows: number, n: number) =>
    Array.from({ length: n }, (_, c) => data.subarray(c * ROWS, c * ROWS + rows));
  const rt = opts.backend !== "cpu" ? await GpuRuntime.create() : null;
  if (rt) await featureSetGpu(rt, cols(20_000, 2), [W], FEATURE_SETS.minimal); // pipeline compilation
  featureSetCpu(data.subarray(0, 20_000), W, FEATURE_SETS.comprehensive); // JIT
  const out: FeaturesTiming[] = [];
  for (const [set, features, cpuSize, gpuSize] of plan) {
    const runs: ["cpu" | "webgpu", [number, number]][] = [];
    if (opts.backend !== "webgpu") runs.push(["cpu", cpuSize]);
    if (rt) runs.push(["webgpu", gpuSize]);
    for (const [path, [rows, n]] of runs) {
      const xs = cols(rows, n);
      const s = path === "cpu"
        ? await time(() => xs.forEach((x) => featureSetCpu(x, W, features)))
        : await time(() => featureSetGpu(rt!, xs, [W], features));
      rt?.pool.trim();
      const seconds = s * (ROWS / rows) * (COLS / n);
      const t: FeaturesTiming = {
        set,
        path,
        window: W,
        features: features.length,
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
        `features ${set} (${features.length}) ${path}: ${t.points_per_s.toExponential(2)} rows x cols/s` +
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
    "feature sets, window 50, 1e6 rows x 16 columns (rows x columns / s; ~ = timed smaller and scaled):",
    ...rows.map((r) =>
      `  ${r.set.padEnd(14)} ${String(r.features).padStart(2)} features  ${r.path.padEnd(6)} ` +
      `${(r.scaled ? "~" : "") + fmt(r.points_per_s)}`.padStart(10) + ` pts/s  ${r.seconds.toFixed(2)} s` +
      (r.scaled ? `  (timed ${fmt(r.measured_rows)} x ${r.measured_columns})` : "")
    ),
  ];
}
