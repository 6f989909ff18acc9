/**
 * The GARCH family's fit throughput (part of `deno task bench --suite garch`): seconds to fit 1, 64 and 1024
 * simulated series of 10,000 percent returns (GJR-GARCH(1,1) with Student-t(5) shocks: mu 0.01, omega 0.02,
 * alpha 0.04, gamma 0.1, beta 0.88) per model, on the WebGPU path (one batched f32 search for all series + the
 * f64 host finish) and the f64 CPU path (one series after another, one thread), beside Python `arch`'s: its
 * median seconds per fit of the same process's series (bench/arch_garch_models.json, measured by
 * scripts/bench_arch_garch_models.py, one process) times the number of series, as arch fits one at a time.
 */
import { fitGarchModelCpu, fitGarchModelGpu, parseModel } from "../kernels/garch.ts";
import { seededNormals } from "../runtime/rng.ts";
import type { GpuRuntime } from "../runtime/gpu.ts";
import { repeat } from "./measure.ts";

/** The models timed. */
export const BENCH_MODELS = ["garch11_t", "gjr11", "gjr11_t", "garch11_skewt", "garch21"];

type PathTiming = { seconds: number; fitsPerSec: number; converged: number } | { error: string } | null;

/** One model at one series count. */
export interface GarchModelBenchRow {
  model: string;
  series: number;
  points: number;
  webgpu: PathTiming;
  cpu: PathTiming;
  /** arch's seconds per fit x series (null when the model is not in its file). */
  archSeconds: number | null;
}

/** What `benchGarchModels` returns. */
export interface GarchModelsBench {
  /** Where arch's figures come from, with its version and machine. */
  arch: { source: string; arch_version: string; machine: string; seconds_per_fit: Record<string, number> };
  rows: GarchModelBenchRow[];
}

/** GJR-GARCH(1,1) percent returns with standardized Student-t(5) shocks (the arch script's process). */
export function simulateGjrT(n: number, seed: number): Float64Array {
  const z = seededNormals((n + 500) * 6, 4242, seed);
  const r = new Float64Array(n);
  let h = 0.5, e = 0;
  for (let t = 0; t < n + 500; t++) {
    h = 0.02 + (0.04 + (e < 0 ? 0.1 : 0)) * e * e + 0.88 * h;
    let chi = 0;
    for (let k = 1; k <= 5; k++) chi += z[t * 6 + k] ** 2;
    e = Math.sqrt(h) * z[t * 6] / Math.sqrt(chi / 5) * Math.sqrt(3 / 5);
    if (t >= 500) r[t - 500] = 0.01 + e;
  }
  return r;
}

/** Times every model of BENCH_MODELS (`quick`: 1 and 64 series only). */
export async function benchGarchModels(
  rt: GpuRuntime | null,
  gpuError: string | null,
  opts: { quick: boolean; budget: number; backend: "webgpu" | "cpu" | "both" },
  progress: (s: string) => void,
): Promise<GarchModelsBench> {
  const arch = JSON.parse(await Deno.readTextFile(new URL("./arch_garch_models.json", import.meta.url)));
  const points = 10_000;
  const counts = opts.quick ? [1, 64] : [1, 64, 1024];
  const all = Array.from({ length: Math.max(...counts) }, (_, i) => simulateGjrT(points, i));
  const rows: GarchModelBenchRow[] = [];
  for (const name of BENCH_MODELS) {
    const m = parseModel(name)!;
    fitGarchModelCpu(all[0], m); // JIT warm-up
    if (rt) await fitGarchModelGpu(rt, all.slice(0, 2), m); // pipeline compilation
    for (const series of counts) {
      const data = all.slice(0, series);
      const perFit = arch.seconds_per_fit[name];
      const row: GarchModelBenchRow = {
        model: name,
        series,
        points,
        webgpu: gpuError ? { error: gpuError } : null,
        cpu: null,
        archSeconds: perFit === undefined ? null : perFit * series,
      };
      const time = async (fit: () => Promise<{ status: string }[]>) => {
        let converged = 0;
        const t = await repeat(
          async () => {
            converged = (await fit()).filter((f) => f.status === "converged").length;
          },
          opts.budget,
          1,
          series >= 64 ? 1 : 3,
        );
        return { seconds: t.seconds, fitsPerSec: series / t.seconds, converged };
      };
      if (rt) row.webgpu = await time(() => fitGarchModelGpu(rt, data, m));
      if (opts.backend !== "webgpu") {
        row.cpu = await time(() => Promise.resolve(data.map((r) => fitGarchModelCpu(r, m))));
      }
      const s = (
        p: PathTiming,
      ) => (p && "seconds" in p ? `${p.seconds.toFixed(3)} s (${p.converged} converged)` : "-");
      progress(`garch ${name} ${series} x ${points}: webgpu ${s(row.webgpu)}, cpu f64 ${s(row.cpu)}`);
      rows.push(row);
    }
  }
  return { arch, rows };
}

/** The human table for `benchGarchModels`' result: ours, arch's, and the ratio arch / ours (> 1: faster). */
export function garchModelsTable(b: GarchModelsBench): string[] {
  const f = (v: number | null | undefined, d = 3) => (v === null || v === undefined ? "-" : v.toFixed(d));
  const sec = (p: PathTiming) => (p && "seconds" in p ? p.seconds : null);
  const rows = [["model", "series", "webgpu s", "cpu f64 s", "arch s", "arch/webgpu", "arch/cpu"]];
  for (const r of b.rows) {
    const g = sec(r.webgpu), c = sec(r.cpu), a = r.archSeconds;
    rows.push([
      r.model,
      String(r.series),
      r.webgpu && g === null ? "error" : f(g),
      f(c),
      f(a),
      a !== null && g ? f(a / g, 2) : "-",
      a !== null && c ? f(a / c, 2) : "-",
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return [
    `GARCH family, 10,000-point series (arch ${b.arch.arch_version}: ${b.arch.source}, x series):`,
    ...rows.map((r) => "  " + r.map((cell, c) => cell.padStart(widths[c])).join("  ")),
  ];
}
