/**
 * GARCH(1,1) fit throughput (`deno task bench --suite garch`, also part of `--suite all`): fits/s for 1, 64
 * and 1024 simulated series of 10,000 percent returns each (mu 0.01, omega 0.02, alpha 0.08, beta 0.9), on
 * the WebGPU path (one batched f32 search for all series + the f64 host finish) and on the f64 CPU path (one
 * series after another, one thread). Reference: the `arch` package fits 64 such series in 0.735 s with two
 * processes (25 ms per fit per process); the goals are half that time at 64 series and a quarter of the
 * extrapolated 1024-series time (16 x 0.735 s) at 1024. The walk-forward row times the garch_models engine
 * on one 200,000-bar series with the default features.garch (walk_forward: 199 refits of 10,000 returns and
 * their variance recursions) against its in_sample mode (one fit), the cost of the causal default. The other
 * models of the family follow (bench/garch_models.ts).
 */
import { defaultConfig } from "../config/schema.ts";
import { garchModels } from "../engines/garch.ts";
import { makeFrame } from "../io/frame.ts";
import { fitGarchCpu, fitGarchGpu } from "../kernels/garch.ts";
import { simulateGarch } from "../kernels/garch_core.ts";
import { seededNormals } from "../runtime/rng.ts";
import { GpuRuntime } from "../runtime/gpu.ts";
import { repeat } from "./measure.ts";
import { benchGarchModels, type GarchModelsBench, garchModelsTable } from "./garch_models.ts";

/** One configuration's timings (seconds are the best of the repetitions). */
export interface GarchBenchRow {
  series: number;
  points: number;
  webgpu: { seconds: number; fitsPerSec: number; converged: number } | { error: string } | null;
  cpu: { seconds: number; fitsPerSec: number; converged: number } | null;
  /** The goal in seconds (null where the issue sets none). */
  goalSeconds: number | null;
  /** Whether the faster path met the goal. */
  met: boolean | null;
}

/** The garch_models engine on one series: walk_forward (the default) against in_sample, seconds per path. */
export interface GarchWalkForwardRow {
  rows: number;
  refits: number;
  webgpu: { walkForward: number; inSample: number } | null;
  cpu: { walkForward: number; inSample: number } | null;
}

/** What `benchGarch` returns. */
export interface GarchBench {
  adapter: string | null;
  reference: { archSeconds64: number; note: string };
  rows: GarchBenchRow[];
  walkForward: GarchWalkForwardRow;
  /** The other models of the family beside arch (bench/garch_models.ts). */
  models: GarchModelsBench;
}

/** `arch`: 64 series x 10,000 points in 0.735 s (two processes). */
export const ARCH_SECONDS_64 = 0.735;

function simulate(n: number, seed: number): Float64Array {
  return simulateGarch(
    { mu: 0.01, omega: 0.02, alpha: 0.08, beta: 0.9 },
    seededNormals(n + 500, 31337, seed),
  );
}

/** Runs the GARCH benchmark (`quick`: 1 and 64 series only). */
export async function benchGarch(
  opts: { quick: boolean; budget: number; backend: "webgpu" | "cpu" | "both" },
  progress: (s: string) => void,
): Promise<GarchBench> {
  const points = 10_000;
  const counts = opts.quick ? [1, 64] : [1, 64, 1024];
  const all = Array.from({ length: Math.max(...counts) }, (_, i) => simulate(points, i));
  let rt: GpuRuntime | null = null;
  let gpuError: string | null = null;
  if (opts.backend !== "cpu") {
    try {
      rt = await GpuRuntime.create();
      await fitGarchGpu(rt, all.slice(0, 2)); // pipeline compilation
    } catch (e) {
      gpuError = (e as Error).message;
      progress(`garch: WebGPU unavailable (${gpuError})`);
    }
  }
  fitGarchCpu(all[0]); // JIT warm-up
  const rows: GarchBenchRow[] = [];
  for (const series of counts) {
    const data = all.slice(0, series);
    const goalSeconds = series === 64
      ? ARCH_SECONDS_64 / 2
      : series === 1024
      ? (ARCH_SECONDS_64 * 16) / 4
      : null;
    const row: GarchBenchRow = { series, points, webgpu: null, cpu: null, goalSeconds, met: null };
    const reps = series >= 1024 ? 1 : 2;
    if (rt) {
      let converged = 0;
      const t = await repeat(
        async () => {
          converged = (await fitGarchGpu(rt!, data)).filter((f) => f.status === "converged").length;
        },
        opts.budget,
        reps,
        5,
      );
      row.webgpu = { seconds: t.seconds, fitsPerSec: series / t.seconds, converged };
      progress(`garch ${series} x ${points}, webgpu: ${t.seconds.toFixed(3)} s (${converged} converged)`);
    } else if (gpuError) row.webgpu = { error: gpuError };
    if (opts.backend !== "webgpu") {
      let converged = 0;
      const t = await repeat(
        () => {
          converged = data.map((r) => fitGarchCpu(r)).filter((f) => f.status === "converged").length;
        },
        opts.budget,
        reps,
        5,
      );
      row.cpu = { seconds: t.seconds, fitsPerSec: series / t.seconds, converged };
      progress(`garch ${series} x ${points}, cpu f64: ${t.seconds.toFixed(3)} s (${converged} converged)`);
    }
    const best = Math.min(
      row.webgpu && "seconds" in row.webgpu ? row.webgpu.seconds : Infinity,
      row.cpu ? row.cpu.seconds : Infinity,
    );
    row.met = goalSeconds === null || !Number.isFinite(best) ? null : best <= goalSeconds;
    rows.push(row);
  }
  const walkForward = await benchWalkForward(rt, opts, progress);
  const models = await benchGarchModels(rt, gpuError, opts, progress);
  const adapter = rt?.adapterName ?? null;
  rt?.destroy();
  return {
    adapter,
    reference: {
      archSeconds64: ARCH_SECONDS_64,
      note:
        "arch: 64 series x 10,000 points in 0.735 s with two processes; goals: 64 in half, 1024 in a quarter " +
        "of 16 x 0.735 s",
    },
    rows,
    walkForward,
    models,
  };
}

/** Times the engine's two modes on 200,000 simulated bars (close prices from percent returns). */
async function benchWalkForward(
  rt: GpuRuntime | null,
  opts: { budget: number; backend: "webgpu" | "cpu" | "both" },
  progress: (s: string) => void,
): Promise<GarchWalkForwardRow> {
  const n = 200_000;
  const r = simulate(n - 1, 7);
  const close = new Float64Array(n);
  close[0] = 100;
  r.forEach((v, i) => (close[i + 1] = close[i] * Math.exp(v / 100)));
  const frame = makeFrame("bench", n, new Map([["close", close]]));
  const cfg = { columns: ["close"], ...defaultConfig().features.garch };
  const row: GarchWalkForwardRow = { rows: n, refits: 0, webgpu: null, cpu: null };
  const paths = [
    ...(rt ? [["webgpu", { choice: "webgpu" as const, gpu: rt }] as const] : []),
    ...(opts.backend !== "webgpu" ? [["cpu", { choice: "cpu" as const, gpu: null }] as const] : []),
  ];
  for (const [name, compute] of paths) {
    const time = async (mode: "walk_forward" | "in_sample") =>
      (await repeat(
        async () => {
          const res = await garchModels(frame, { ...cfg, mode }, compute);
          if (mode === "walk_forward") row.refits = res.report.columns.close.refits;
        },
        opts.budget,
        1,
        3,
      )).seconds;
    row[name] = { walkForward: await time("walk_forward"), inSample: await time("in_sample") };
    progress(
      `garch engine, ${n} rows, ${name}: walk_forward ${
        row[name]!.walkForward.toFixed(3)
      } s (${row.refits} ` +
        `refits), in_sample ${row[name]!.inSample.toFixed(3)} s`,
    );
  }
  return row;
}

/** The human table for `benchGarch`'s result. */
export function garchTable(b: GarchBench): string[] {
  const out = [`GARCH(1,1) fits of 10,000-point series (adapter: ${b.adapter ?? "-"}):`];
  const f = (v: number | null | undefined, d = 3) => (v === null || v === undefined ? "-" : v.toFixed(d));
  const rows = [["series", "webgpu s", "fits/s", "cpu f64 s", "fits/s", "goal s", "met"]];
  for (const r of b.rows) {
    const g = r.webgpu && "seconds" in r.webgpu ? r.webgpu : null;
    rows.push([
      String(r.series),
      r.webgpu && !g ? "error" : f(g?.seconds),
      f(g?.fitsPerSec, 0),
      f(r.cpu?.seconds),
      f(r.cpu?.fitsPerSec, 0),
      f(r.goalSeconds),
      r.met === null ? "-" : r.met ? "yes" : "no",
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) out.push("  " + r.map((cell, c) => cell.padStart(widths[c])).join("  "));
  const w = b.walkForward;
  const mode = (p: { walkForward: number; inSample: number } | null) =>
    p ? `walk_forward ${f(p.walkForward)} s / in_sample ${f(p.inSample)} s` : "-";
  out.push(
    `garch_models engine, ${w.rows} rows, default features.garch (${w.refits} refits): ` +
      `webgpu ${mode(w.webgpu)}; cpu f64 ${mode(w.cpu)}`,
  );
  out.push(...garchModelsTable(b.models));
  return out;
}
