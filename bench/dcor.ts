/**
 * Distance-correlation benchmarks: dCor at n = 1e3..1e6 by method and path, a B = 999 permutation test at
 * n = 1e4, and ranking 256 features x 1e5 rows by dCor. Reference: the `dcor` Python package on this machine
 * (mergesort 7.8 ms at 1e4 and 2.78 s at 1e6; permutation test B = 999: 4.7 s at 1e3, ~715 s at 1e4).
 */
import { dcorExact, dcorFast, dcorGpu, dcorTest } from "../kernels/dcor.ts";
import { dcorTestParallel } from "../kernels/dcor_pool.ts";
import { GpuRuntime } from "../runtime/gpu.ts";
import { seededNormals } from "../runtime/rng.ts";

/** One timing. */
export interface DcorTiming {
  what: string;
  n: number;
  path: "cpu" | "webgpu";
  method: string;
  seconds: number;
  reference_seconds?: number;
}

/** Best of up to 5 runs while a run takes under 0.2 s (JIT warm-up), else one run. */
async function time(f: () => unknown | Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await f();
    best = Math.min(best, (performance.now() - t0) / 1000);
    if (best > 0.2) break;
  }
  return best;
}

/** Runs the dCor benchmarks (smaller with `quick`), reporting progress lines through `progress`. */
export async function benchDcor(
  opts: { quick: boolean; backend: "webgpu" | "cpu" | "both" },
  progress: (s: string) => void,
): Promise<DcorTiming[]> {
  const out: DcorTiming[] = [];
  const add = (t: DcorTiming) => {
    out.push(t);
    progress(`dcor ${t.what} n=${t.n} ${t.path}/${t.method}: ${t.seconds.toFixed(4)} s`);
  };
  const pair = (n: number) => {
    const x = seededNormals(n, 1, n), e = seededNormals(n, 2, n);
    return [x, x.map((v, i) => v * v + e[i])];
  };
  const ref: Record<number, number> = { 1e4: 0.0078, 1e6: 2.78 };
  const sizes = opts.quick ? [1e3, 1e4, 1e5] : [1e3, 1e4, 1e5, 1e6];
  const rt = opts.backend === "cpu" ? null : await GpuRuntime.create();
  try {
    for (const n of sizes) {
      const [x, y] = pair(n);
      dcorFast(x.subarray(0, 100), y.subarray(0, 100));
      add({
        what: "dcor",
        n,
        path: "cpu",
        method: "fast",
        seconds: await time(() => dcorFast(x, y)),
        reference_seconds: ref[n],
      });
      if (n <= 1e4) {
        add({
          what: "dcor",
          n,
          path: "cpu",
          method: "exact",
          seconds: await time(() => dcorExact(x, y)),
        });
      }
      if (rt && n <= (opts.quick ? 1e4 : 1e5)) {
        await dcorGpu(rt, [[x.subarray(0, 64), y.subarray(0, 64)]]);
        add({
          what: "dcor",
          n,
          path: "webgpu",
          method: "exact",
          seconds: await time(() => dcorGpu(rt, [[x, y]])),
        });
      }
    }
    const [x, y] = pair(1e4);
    add({
      what: "permutation test B=999",
      n: 1e4,
      path: "cpu",
      method: "fast",
      seconds: await time(() => dcorTest(x, y, { permutations: 999, seed: 1 })),
      reference_seconds: 715,
    });
    // One feature's test as the statistical_tests stage draws it when the dependence is real: all 199 circular
    // shifts at n = 5000 (each one cross sum, kernels/dcor_cross.wat, and a row-sum dot product).
    {
      const [x5, y5] = pair(5000);
      const o = { permutations: 199, seed: 0, scheme: "circular_shift" as const, minBlock: 15 };
      add({
        what: "permutation test B=199 shifts",
        n: 5000,
        path: "cpu",
        method: "fast",
        seconds: await time(() => dcorTest(x5, y5, o)),
      });
    }
    // The statistical_tests stage's permutation tests (issue 18): 22 features x 5000 rows x 199 circular
    // shifts (the default job's selection per instrument), one thread vs every core (kernels/dcor_pool.ts,
    // ignoring the load) vs the pool as the engine runs it (workers only for idle cores: runtime/cores.ts) vs
    // sequential stopping at 10 exceedances (features.selection_stop_after; two of the features dependent).
    {
      const n = 5000, F = opts.quick ? 8 : 22;
      const yy = seededNormals(n, 5, 0);
      const pairs = Array.from({ length: F }, (_, f) => {
        const e = seededNormals(n, 6, f);
        return [f < 2 ? e.map((v, i) => v + 0.3 * yy[i] ** 2) : e, yy] as const;
      });
      const o = { permutations: 199, seed: 0, scheme: "circular_shift" as const, minBlock: 15 };
      const threads = navigator.hardwareConcurrency || 1;
      for (
        const [method, f] of [
          ["1 thread", () => dcorTestParallel(pairs, o, { threads: 1 })],
          [`${threads} threads`, () => dcorTestParallel(pairs, o, { threads, respectLoad: false })],
          [`pool (load-aware)`, () => dcorTestParallel(pairs, o, { threads })],
          ["1 thread, stop_after 10", () => dcorTestParallel(pairs, { ...o, stopAfter: 10 }, { threads: 1 })],
        ] as const
      ) add({ what: `selection tests ${F} x B=199`, n, path: "cpu", method, seconds: await time(f) });
    }
    const rows = opts.quick ? 2e4 : 1e5, features = 256;
    const target = seededNormals(rows, 3, 0);
    const cols = Array.from(
      { length: features },
      (_, f) => seededNormals(rows, 4, f).map((v, i) => v + (f % 8) * 0.05 * target[i] ** 2),
    );
    add({
      what: `rank ${features} features by dCor`,
      n: rows,
      path: "cpu",
      method: "fast",
      seconds: await time(() => cols.map((c) => dcorFast(c, target).dcor).sort((a, b) => b - a)),
    });
  } finally {
    rt?.destroy();
  }
  return out;
}

/** The human table of the dCor timings. */
export function dcorTable(rows: DcorTiming[]): string[] {
  return [
    "distance correlation (seconds; reference = the dcor Python package):",
    ...rows.map((r) =>
      `  ${r.what.padEnd(30)} n=${r.n.toExponential(0).padEnd(5)} ${r.path.padEnd(6)} ${
        r.method.padEnd(5)
      } ` +
      `${r.seconds.toFixed(4)} s` + (r.reference_seconds
        ? `  (reference ${r.reference_seconds} s: ${(r.reference_seconds / r.seconds).toFixed(1)}x faster)`
        : "")
    ),
  ];
}
