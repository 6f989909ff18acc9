/**
 * Whole-frame benchmarks (`deno task bench --suite frames`): resampling 1e7 one-minute bars (1e6 with --quick) to
 * 5min and 1h on both paths (rows/s, end to end from f64 columns to the resampled frame); the loader on a
 * Parquet source, cache miss vs hit; the correlation matrix at 256 columns x 1e5 rows on both paths (and on the
 * CPU at 64 x 1e5 and 1024 x 1e4, one and two threads), PCA on top, and the eigensolvers at p = 256.
 */
import { seededNormals } from "../runtime/rng.ts";
import { DiskCache } from "../io/cache.ts";
import { makeFrame } from "../io/frame.ts";
import { load } from "../pipeline/loader.ts";
import { encodeParquet } from "../io/parquet_write.ts";
import { LocalStorage } from "../io/storage.ts";
import { corrMatrixBlas, corrMatrixCpu, corrMatrixGpu, corrMatrixParallel } from "../kernels/corr_matrix.ts";
import { nativeBlas } from "../runtime/blas.ts";
import type { PeerFigure } from "./peers.ts";
import { symmetricEigen, symmetricEigenNative } from "../kernels/eigen.ts";
import { jacobiEigen, pca } from "../kernels/pca.ts";
import { resampleCpu, resampleGpu } from "../kernels/resample.ts";
import { GpuRuntime } from "../runtime/gpu.ts";

/** One timing. */
export interface FrameTiming {
  what: string;
  path: "cpu" | "webgpu";
  /** Input size, e.g. "1e7 rows" or "256 x 1e5". */
  size: string;
  seconds: number;
  /** Input rows per second (resampling, loader). */
  rows_per_s?: number;
  /** Output rows (bars). */
  out_rows?: number;
}

/** Best of up to `reps` runs (one when a run takes over 10 s). */
async function time(f: () => unknown, reps = 3): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await f();
    best = Math.min(best, (performance.now() - t0) / 1e3);
    if (best > 10) break;
  }
  return best;
}

/** Synthetic 1-minute OHLCV bars with weekend gaps. */
function minuteBars(n: number) {
  const e = seededNormals(n, 71);
  const ts = new Float64Array(n), o = new Float64Array(n), h = new Float64Array(n);
  const l = new Float64Array(n), c = new Float64Array(n), v = new Float64Array(n);
  let t = Date.UTC(2000, 0, 3), p = 1.2;
  for (let i = 0; i < n; i++) {
    ts[i] = t;
    const q = p * (1 + 5e-4 * e[i]);
    o[i] = p;
    c[i] = q;
    h[i] = Math.max(p, q) * 1.0001;
    l[i] = Math.min(p, q) * 0.9999;
    v[i] = 100 + (i % 37);
    p = q;
    t += 60_000;
    if ((Math.floor(t / 86_400_000) + 4) % 7 === 6) t += 2 * 86_400_000; // Saturday -> Monday
  }
  return makeFrame(
    "bench",
    n,
    new Map([["open", o], ["high", h], ["low", l], ["close", c], ["volume", v]]),
    [],
    { column: "timestamp", values: ts },
  );
}

const fmt = (v: number) => v.toExponential(2).replace("e+", "e");
const CPU = { choice: "cpu" as const, gpu: null };

/** Runs the whole-frame benchmarks, reporting progress lines through `progress`. */
export async function benchFrames(
  opts: { quick: boolean; backend: "webgpu" | "cpu" | "both" },
  progress: (s: string) => void,
): Promise<FrameTiming[]> {
  const out: FrameTiming[] = [];
  const add = (t: FrameTiming) => {
    out.push(t);
    progress(
      `frames ${t.what} ${t.size} ${t.path}: ${t.seconds.toFixed(3)} s` +
        (t.rows_per_s ? ` (${fmt(t.rows_per_s)} rows/s)` : ""),
    );
  };
  const useGpu = opts.backend !== "cpu", useCpu = opts.backend !== "webgpu";
  const rt = useGpu ? await GpuRuntime.create() : null;
  const blas = nativeBlas();
  progress(`frames: native BLAS ${blas ? blas.name : "none (the correlation matrix stays on WebAssembly)"}`);
  try {
    // Resampling.
    const n = opts.quick ? 1e6 : 1e7;
    progress(`frames: generating ${fmt(n)} one-minute bars...`);
    const frame = minuteBars(n);
    const size = `${fmt(n)} rows`;
    if (rt) {
      const head = makeFrame(
        "warm-up",
        1000,
        new Map([...frame.columns].map(([k, v]) => [k, v.subarray(0, 1000)])),
        [],
        {
          column: "timestamp",
          values: frame.timestamps!.subarray(0, 1000),
        },
      );
      await resampleGpu(rt, head, { every: "5min" }); // pipeline compilation
    }
    for (const every of ["5min", "1h"]) {
      if (useCpu) {
        let bars = 0;
        const s = await time(() => (bars = resampleCpu(frame, { every }).rows));
        add({ what: `resample ${every}`, path: "cpu", size, seconds: s, rows_per_s: n / s, out_rows: bars });
      }
      if (rt) {
        let bars = 0;
        const s = await time(async () => (bars = (await resampleGpu(rt, frame, { every })).rows), 2);
        add({
          what: `resample ${every}`,
          path: "webgpu",
          size,
          seconds: s,
          rows_per_s: n / s,
          out_rows: bars,
        });
        rt.pool.trim();
      }
    }

    // Loader: Parquet partitions -> 30min, cache miss then hit (f64 path).
    const ln = opts.quick ? 2e5 : 1e6;
    const dir = await Deno.makeTempDir({ prefix: "fg-bench-loader-" });
    try {
      const src = new LocalStorage(`${dir}/src`);
      const half = ln / 2;
      for (const [k, a, b] of [["part-00000", 0, half], ["part-00001", half, ln]] as const) {
        await src.put(
          `BENCH/${k}.parquet`,
          encodeParquet(
            new Map([...frame.columns].map(([c, v]) => [c, v.subarray(a, b)])),
            { name: "timestamp", values: frame.timestamps!.subarray(a, b) },
          ),
        );
      }
      const cache = new DiskCache(`${dir}/cache`);
      let t0 = performance.now();
      await load(src, "BENCH", "30min", { cache });
      const miss = (performance.now() - t0) / 1e3;
      add({
        what: "load 30min (cache miss)",
        path: "cpu",
        size: `${fmt(ln)} rows`,
        seconds: miss,
        rows_per_s: ln / miss,
      });
      t0 = performance.now();
      await load(src, "BENCH", "30min", { cache });
      const hit = (performance.now() - t0) / 1e3;
      add({
        what: "load 30min (cache hit)",
        path: "cpu",
        size: `${fmt(ln)} rows`,
        seconds: hit,
        rows_per_s: ln / hit,
      });
      t0 = performance.now();
      await load(src, "BENCH", "30min", { cache, fingerprint: "stat" });
      await load(src, "BENCH", "30min", { cache, fingerprint: "stat" });
      const stat = (performance.now() - t0) / 2e3;
      add({
        what: "load 30min (stat fingerprint, mean of miss + hit)",
        path: "cpu",
        size: `${fmt(ln)} rows`,
        seconds: stat,
      });
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }

    // Correlation matrix 256 x 1e5 (quick: 64 x 1e5; without --quick also 64 x 1e5 and 1024 x 1e4 on the CPU),
    // the shapes scripts/bench_peers.py times numpy's corrcoef on: one thread, two (forced, whatever the load)
    // and the default placement (a worker only for an idle core), then PCA on top.
    const shapes = opts.quick ? [[64, 1e5]] : [[256, 1e5], [64, 1e5], [1024, 1e4]];
    for (const [p, rows] of shapes) {
      const f = seededNormals(rows, 3);
      const cols = Array.from({ length: p }, (_, j) => {
        const e = seededNormals(rows, 100 + j);
        return e.map((v, i) => 50 + j + 0.3 * f[i] + v);
      });
      const csize = `${p} x ${fmt(rows)}`;
      if (useCpu) {
        add({
          what: "corr matrix",
          path: "cpu",
          size: csize,
          seconds: await time(() => corrMatrixCpu(cols)),
        });
        add({
          what: "corr matrix, WebAssembly 2 threads",
          path: "cpu",
          size: csize,
          seconds: await time(() =>
            corrMatrixParallel(cols, { threads: 2, respectLoad: false, blas: false })
          ),
        });
        for (const threads of blas ? [1, 2] : []) {
          add({
            what: `corr matrix, BLAS ${threads} thread${threads > 1 ? "s" : ""}`,
            path: "cpu",
            size: csize,
            seconds: await time(() => corrMatrixBlas(cols, blas!, { threads })),
          });
        }
        add({
          what: "corr matrix, auto threads",
          path: "cpu",
          size: csize,
          seconds: await time(() => corrMatrixParallel(cols)),
        });
      }
      if (p !== shapes[0][0]) continue;
      if (rt) {
        await corrMatrixGpu(rt, cols.map((c) => c.subarray(0, 100)));
        add({
          what: "corr matrix",
          path: "webgpu",
          size: csize,
          seconds: await time(() => corrMatrixGpu(rt, cols), 2),
        });
        rt.pool.trim();
      }
      if (useCpu) {
        const names = cols.map((_, j) => `x${j}`);
        add({
          what: "PCA (corr matrix + eigensolver, auto threads)",
          path: "cpu",
          size: csize,
          seconds: await time(() => pca(cols, names, { standardize: true }, CPU, {}), 2),
        });
      }
      const cm = corrMatrixCpu(cols.map((c) => c.subarray(0, 5000)));
      add({
        what: "eigensolver (f64, tridiagonal QL; PCA's without a BLAS)",
        path: "cpu",
        size: `p = ${p}`,
        seconds: await time(() => symmetricEigen(cm.corr, p), 2),
      });
      if (blas?.syevd) {
        add({
          what: "eigensolver (LAPACK dsyevd; PCA's with the BLAS)",
          path: "cpu",
          size: `p = ${p}`,
          seconds: await time(() => symmetricEigenNative(cm.corr, p, blas), 2),
        });
      }
      add({
        what: "Jacobi eigensolver (f64, the reference)",
        path: "cpu",
        size: `p = ${p}`,
        seconds: await time(() => jacobiEigen(cm.corr, p), 2),
      });
    }
  } finally {
    rt?.destroy();
  }
  return out;
}

/**
 * Table lines for the human summary, with numpy's corrcoef beside ours (one thread, two, the default) for each
 * shape the peers measured.
 */
export function framesTable(
  rows: FrameTiming[],
  corrPeers: PeerFigure[] = [],
  pcaPeer?: PeerFigure,
): string[] {
  const side = corrPeers.flatMap((peer) => {
    const size = `${peer.cols} x ${fmt(peer.rows ?? 1e5)}`;
    const ours = rows.filter((r) => r.what.startsWith("corr matrix") && r.path === "cpu" && r.size === size);
    if (!peer.seconds || !ours.length) return [];
    return [
      `  ${peer.what} (peer, this run): ${peer.seconds.toFixed(3)} s; ours (x the peer's speed): ` +
      ours.map((r) =>
        `${r.what.replace("corr matrix, ", "").replace("corr matrix", "WebAssembly 1 thread")} ${
          r.seconds.toFixed(3)
        } s = ${(peer.seconds! / r.seconds).toFixed(2)}x`
      ).join(", "),
    ];
  });
  const pcaSize = pcaPeer && `${pcaPeer.cols} x ${fmt(pcaPeer.rows ?? 1e5)}`;
  const ourPca = rows.find((r) => r.what.startsWith("PCA") && r.size === pcaSize);
  if (pcaPeer?.seconds && ourPca) {
    side.push(
      `  ${pcaPeer.what} (peer, this run): ${pcaPeer.seconds.toFixed(3)} s; our PCA ${
        ourPca.seconds.toFixed(3)
      } s = ${(pcaPeer.seconds / ourPca.seconds).toFixed(2)}x`,
    );
  }
  return [
    "frames (resampling, loader, correlation matrix, PCA):",
    ...rows.map((r) =>
      `  ${`${r.what} ${r.size}`.padEnd(58)} ${r.path.padEnd(6)} ${r.seconds.toFixed(3).padStart(8)} s` +
      (r.rows_per_s ? `  ${fmt(r.rows_per_s)} rows/s` : "") + (r.out_rows ? `  (${r.out_rows} bars)` : "")
    ),
    ...side,
  ];
}
