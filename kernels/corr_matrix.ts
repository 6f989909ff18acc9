/**
 * Correlation (and covariance) matrix of many columns: C = Z^T Z / (n - 1), Z the standardized data matrix
 * (each column minus its mean, divided by its standard deviation, ddof 1), over the n complete rows (rows where
 * every column is finite: listwise deletion, like `numpy.corrcoef` after dropping NaN rows).
 *
 * Means and standard deviations are computed in f64 on the host, so the GPU only multiplies values of order 1:
 * shaders/corr_matrix.wgsl is a tiled matmul (64 x 64 output tiles per workgroup of 16 x 16 = 256 invocations,
 * 4 x 4 outputs per invocation) with split-K, each
 * partial sum over at most KCHUNK rows in f32, the partial tiles added in f64 on the host. f32 tolerance:
 * |C_gpu - C_f64| <= 2e-5 (measured ~1e-6 at n = 1e5; the f32 rounding of z contributes ~6e-8 and the
 * length-KCHUNK f32 sums the rest). The diagonal is exactly 1 and off-diagonal values are clamped to [-1, 1]
 * on both paths. A constant column (or one with no finite spread) gets NaN in its row and column.
 *
 * The covariance is D C D with D = diag(std), so its f32 error is relative to std_i std_j, whatever the scales.
 */
import { type Compute, withFallback } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";
import type { GpuRuntime } from "../runtime/gpu.ts";
import * as Comlink from "npm:comlink@4.4.2";
import { coreCap, idleCores } from "../runtime/cores.ts";
import { startWorkers } from "../runtime/workers.ts";
import { type NativeBlas, nativeBlas } from "../runtime/blas.ts";
import { gramBlas } from "./corr_blas.ts";
import { gramProduct, PANEL } from "./corr_gram.ts";
import type { CorrGramWorkerApi } from "./corr_gram_worker.ts";
import { defineScalarKernel, type ScalarKernel } from "./kernel.ts";

/** A correlation matrix and the moments it was built from. */
export interface CorrMatrix {
  /** Number of columns. */
  p: number;
  /** Complete rows used. */
  n: number;
  /** Row-major p x p correlation matrix (NaN in the row/column of a constant column). */
  corr: Float64Array;
  /** Column means over the complete rows. */
  mean: Float64Array;
  /** Column standard deviations (ddof 1) over the complete rows. */
  std: Float64Array;
}

/** Rows summed per f32 partial (split-K): bounds both the f32 error and each invocation's loop count. */
export const KCHUNK = 2048;
/** Output tile edge of the shader (64 x 64 per workgroup of 16 x 16 invocations). */
const TILE = 64;

/** The columns' common length (a UsageError when they differ). */
function commonLength(columns: Float64Array[]): number {
  const n = columns[0]?.length ?? 0;
  for (const c of columns) {
    if (c.length !== n) {
      throw new UsageError(`correlation matrix: columns differ in length (${c.length} != ${n})`);
    }
  }
  return n;
}

/** Indices of the rows where every column is finite (marked column by column: sequential reads). */
function completeRows(columns: Float64Array[]): Uint32Array {
  const n = commonLength(columns);
  const bad = new Uint8Array(n);
  for (const c of columns) {
    for (let i = 0; i < n; i++) if (!Number.isFinite(c[i])) bad[i] = 1;
  }
  let m = 0;
  for (let i = 0; i < n; i++) m += bad[i] ^ 1;
  const rows = new Uint32Array(m);
  for (let i = 0, k = 0; i < n; i++) if (!bad[i]) rows[k++] = i;
  return rows;
}

/** Column means over `rows` (or the first n rows when null), four running sums a column (~17 GB/s here). */
function means(columns: Float64Array[], rows: Uint32Array | null, n: number): Float64Array {
  return Float64Array.from(columns, (c) => {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, k = 0;
    if (rows) {
      for (; k + 4 <= n; k += 4) {
        s0 += c[rows[k]], s1 += c[rows[k + 1]], s2 += c[rows[k + 2]], s3 += c[rows[k + 3]];
      }
      for (; k < n; k++) s0 += c[rows[k]];
    } else {
      for (; k + 4 <= n; k += 4) s0 += c[k], s1 += c[k + 1], s2 += c[k + 2], s3 += c[k + 3];
      for (; k < n; k++) s0 += c[k];
    }
    return (s0 + s1 + (s2 + s3)) / n;
  });
}

/**
 * Mean and standard deviation (ddof 1) of each column over `rows`: two passes in f64, the second also summing
 * the deviations to correct the first pass's mean (corrected two-pass, Chan, Golub and LeVeque 1983: at an
 * offset of 1e9 the plain mean's error moved correlations by ~1e-12).
 */
function moments(columns: Float64Array[], rows: Uint32Array) {
  const p = columns.length, n = rows.length;
  const mean = means(columns, rows, n), std = new Float64Array(p);
  columns.forEach((c, j) => {
    const m = mean[j];
    let ss = 0, d = 0;
    for (let k = 0; k < n; k++) {
      const t = c[rows[k]] - m;
      d += t;
      ss += t * t;
    }
    mean[j] = m + d / n;
    std[j] = n > 1 ? Math.sqrt(Math.max(0, ss - (d * d) / n) / (n - 1)) : NaN;
  });
  return { mean, std };
}

/** Usable scale: positive, finite and not negligible against the mean (a constant in floating point). */
function usable(std: number, mean: number): boolean {
  return Number.isFinite(std) && std > 1e-14 * Math.max(1, Math.abs(mean));
}

/**
 * Divides the Gram matrix's upper triangle by n - 1 (of standardized columns; of centered ones, multiplies
 * element (i, j) by norm_i norm_j = 1 / sqrt(g_ii g_jj) instead), sets the diagonal to 1, clamps, NaNs
 * constant columns and mirrors it into the lower triangle in 64 x 64 blocks (so the column-order writes stay
 * within a few cached rows when p x p x 8 bytes outgrows the cache). In place: a fresh p x p array costs page
 * faults (~25 ms at p = 1024 here).
 */
function finish(
  g: Float64Array,
  p: number,
  n: number,
  mean: Float64Array,
  std: Float64Array,
  norm?: Float64Array,
): Float64Array {
  const ok = Uint8Array.from(std, (s, j) => (n >= 2 && usable(s, mean[j]) ? 1 : 0));
  // A column that is not usable scales by NaN, so its row and column come out NaN without a test per element.
  const nanIfBad = (v: number, j: number) => (ok[j] ? v : NaN);
  const scale = norm ? norm.map(nanIfBad) : Float64Array.from(ok, (_, j) => nanIfBad(1, j));
  const d = n - 1;
  for (let i = 0; i < p; i++) {
    const si = scale[i], row = i * p;
    g[row + i] = ok[i] ? 1 : NaN;
    for (let j = i + 1, at = row + i + 1; j < p; j++, at++) {
      const r = norm ? g[at] * si * scale[j] : (g[at] / d) * si * scale[j];
      g[at] = r > 1 ? 1 : r < -1 ? -1 : r;
    }
  }
  const B = 64;
  for (let i0 = 0; i0 < p; i0 += B) {
    for (let j0 = i0; j0 < p; j0 += B) {
      for (let i = i0; i < Math.min(i0 + B, p); i++) {
        for (let j = Math.max(j0, i + 1); j < Math.min(j0 + B, p); j++) g[j * p + i] = g[i * p + j];
      }
    }
  }
  return g; // in place: every caller's Gram matrix is its own
}

/**
 * Writes z = (x - mean) * scale of columns j0..j0+3 (those that exist) over rows[r0..r0+m) into `panel` from
 * `at` as [row][4]: the four columns in one pass, each row index read once.
 */
function packGroup(
  panel: Float64Array,
  at: number,
  columns: Float64Array[],
  j0: number,
  mean: Float64Array,
  scale: Float64Array,
  rows: Uint32Array,
  r0: number,
  m: number,
): void {
  if (j0 + 4 > columns.length) { // the last, partial group: padded lanes stay 0
    for (let j = j0; j < columns.length; j++) {
      const c = columns[j], mu = mean[j], s = scale[j];
      for (let k = 0, o = at + j - j0; k < m; k++, o += 4) panel[o] = (c[rows[r0 + k]] - mu) * s;
    }
    return;
  }
  const c0 = columns[j0], c1 = columns[j0 + 1], c2 = columns[j0 + 2], c3 = columns[j0 + 3];
  const m0 = mean[j0], m1 = mean[j0 + 1], m2 = mean[j0 + 2], m3 = mean[j0 + 3];
  const s0 = scale[j0], s1 = scale[j0 + 1], s2 = scale[j0 + 2], s3 = scale[j0 + 3];
  for (let k = 0, o = at; k < m; k++, o += 4) {
    const r = rows[r0 + k];
    panel[o] = (c0[r] - m0) * s0;
    panel[o + 1] = (c1[r] - m1) * s1;
    panel[o + 2] = (c2[r] - m2) * s2;
    panel[o + 3] = (c3[r] - m3) * s3;
  }
}

/** The complete rows, their moments and the groups of 4 columns: what both CPU paths start from. */
function prepare(columns: Float64Array[]) {
  const p = columns.length;
  const rows = completeRows(columns);
  const { mean, std } = moments(columns, rows);
  const scale = Float64Array.from(std, (s, j) => (usable(s, mean[j]) ? 1 / s : 0));
  return { p, n: rows.length, rows, mean, std, scale, groups: Math.ceil(p / 4) };
}

/**
 * Standardizes the complete rows into `panel`, PANEL rows at a time, and yields each panel's row count
 * (padded to even with a zero row; the groups laid out that many rows apart).
 */
function* panels(columns: Float64Array[], prep: ReturnType<typeof prepare>, panel: Float64Array) {
  const { n, rows, mean, scale, groups } = prep;
  for (let r0 = 0; r0 < n; r0 += PANEL) {
    const m = Math.min(PANEL, n - r0), padded = m + (m & 1), span = padded * 4;
    // A shorter last panel moves the groups' offsets: clear what earlier panels left in its padding.
    if (m < PANEL) panel.fill(0, 0, groups * span);
    for (let g = 0; g < groups; g++) packGroup(panel, g * span, columns, g * 4, mean, scale, rows, r0, m);
    yield padded;
  }
}

/** The correlation matrix from the Gram tiles (tile (gi, gj) at (gi * groups + gj) * 16, upper triangle). */
function fromTiles(tiles: Float64Array, prep: ReturnType<typeof prepare>): CorrMatrix {
  const { p, n, mean, std, groups } = prep;
  const g = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      g[i * p + j] = tiles[((i >> 2) * groups + (j >> 2)) * 16 + (i & 3) * 4 + (j & 3)];
    }
  }
  return { p, n, corr: finish(g, p, n, mean, std), mean, std };
}

/**
 * f64 CPU path, one thread: the upper triangle of Z^T Z as a blocked matrix product in WebAssembly SIMD
 * (kernels/corr_gram.ts). Each panel of PANEL complete rows is standardized once, by groups of 4 columns,
 * into the module's memory, and every 4 x 4 tile of the upper triangle adds its sums over the panel (register
 * tiles, the gi group in L1 while the gj groups stream from L2: the panel is p x PANEL x 8 bytes, 512 KiB at
 * p = 256). Same z values as a column-at-a-time product, summed in another order (tests/corr_pca_test.ts
 * checks 1e-12 against a naive reference).
 */
export function corrMatrixCpu(columns: Float64Array[]): CorrMatrix {
  const prep = prepare(columns);
  const product = gramProduct(prep.groups, "correlation matrix");
  for (const rows of panels(columns, prep, product.panel)) product.add(rows);
  return fromTiles(product.tiles(), prep);
}

/**
 * f64 CPU path on the system's BLAS (runtime/blas.ts, kernels/corr_blas.ts): the same complete rows, the Gram
 * product of the centered columns with the means corrected in the same pass (corrected two-pass), normalized
 * by its diagonal (as `numpy.corrcoef`), so the standard deviations are sqrt(g_jj / (n - 1)). It sums in the
 * BLAS's order rather than the WebAssembly product's: results agree with {@link corrMatrixCpu}'s to ~1e-15,
 * not bit for bit, and may differ in the last bits between machines (the BLAS picks its kernel for the CPU).
 * The first pass sums every column; only when a sum is not finite are the complete rows looked for (one more
 * pass), so complete data is read twice.
 */
export async function corrMatrixBlas(
  columns: Float64Array[],
  blas: NativeBlas,
  { threads = 1, chunkRows }: { threads?: number; chunkRows?: number } = {},
): Promise<CorrMatrix> {
  const p = columns.length, n0 = commonLength(columns);
  let rows: Uint32Array | null = null, n = n0, mean = means(columns, null, n0);
  if (!mean.every(Number.isFinite)) {
    rows = completeRows(columns);
    n = rows.length;
    mean = means(columns, rows, n);
  }
  const product = n >= 2 ? await gramBlas(blas, columns, mean, rows, n, threads, chunkRows) : null;
  const g = product?.gram ?? new Float64Array(p * p);
  if (product) mean = mean.map((m, j) => m + product.shift[j]);
  const std = Float64Array.from(mean, (_, j) => (n > 1 ? Math.sqrt(g[j * p + j] / (n - 1)) : NaN));
  const norm = Float64Array.from(mean, (_, j) => 1 / Math.sqrt(g[j * p + j]));
  return { p, n, corr: finish(g, p, n, mean, std, norm), mean, std };
}

/** Options of {@link corrMatrixParallel}. */
export interface CorrMatrixPoolOptions {
  /**
   * Threads in all, this one included (default navigator.hardwareConcurrency); at most 2 are used (this thread
   * and one Web Worker), 1 (or 0) computes on this thread.
   */
  threads?: number;
  /** Start the worker only when {@link idleCores} finds a core idle (default true); false ignores the load. */
  respectLoad?: boolean;
  /** The worker module (default kernels/corr_gram_worker.ts next to this file). */
  workerUrl?: string | URL;
  /** Tile-rows below which no worker starts (default {@link MIN_PARALLEL_TILE_ROWS}). */
  minTileRows?: number;
  /**
   * Use the system's BLAS when runtime/blas.ts finds one (default true); false keeps the WebAssembly product,
   * whose results are the same bit for bit on every machine.
   */
  blas?: boolean;
}

const DEFAULT_WORKER = new URL(
  import.meta.url.endsWith(".ts") ? "./corr_gram_worker.ts" : "./corr_gram_worker.js",
  import.meta.url,
);

/**
 * Tile-rows (4 x 4 tiles of the upper triangle x complete rows) below which no worker starts: ~1.5 ns each on
 * the development machine, so ~150 ms of product, a few times what a worker start (50-150 ms) and the panel
 * copies cost.
 */
export const MIN_PARALLEL_TILE_ROWS = 1e8;

/**
 * Share of the tiles the worker takes: this thread also packs every panel (~1/4 of its product's time at
 * p = 256) and copies the worker's part of it.
 */
const WORKER_SHARE = 0.6;

/** Panels in flight to the worker: bounds the copies waiting in its queue. */
const IN_FLIGHT = 4;

/**
 * The f64 CPU correlation matrix on the best placement: {@link corrMatrixBlas} when the system's BLAS loads
 * (`pool.blas` not false; on `threads` threads, one inside a pipeline task worker), else
 * {@link corrMatrixCpu} on this thread and a Web Worker (kernels/corr_gram_worker.ts): the worker takes the last
 * tile rows of the upper triangle (a triangle of the last column groups, ~60% of the tiles), this thread the
 * first ones, and each packed panel's last groups go to the worker as a copy. Every tile is summed by one
 * thread over the panels in order, so the result equals corrMatrixCpu's bit for bit. Small products (under
 * {@link MIN_PARALLEL_TILE_ROWS}), fewer than 8 columns, `threads` 1 and a busy machine run corrMatrixCpu on
 * this thread.
 */
export async function corrMatrixParallel(
  columns: Float64Array[],
  pool: CorrMatrixPoolOptions = {},
): Promise<CorrMatrix> {
  const threads = pool.threads ?? globalThis.navigator?.hardwareConcurrency ?? 1;
  if (!Number.isInteger(threads) || threads < 0) {
    throw new UsageError(`corrMatrixParallel: threads must be an integer >= 0, got ${threads}`);
  }
  const groups = Math.ceil(columns.length / 4), n = columns[0]?.length ?? 0;
  const blas = pool.blas === false ? null : nativeBlas();
  if (blas && columns.length >= 2) {
    // Native threads start in microseconds, and beside a busy process two still beat one here (256 x 1e5:
    // 0.20-0.23 s against 0.23-0.34 s): only a task worker's cap (this thread alone) holds them back.
    return corrMatrixBlas(columns, blas, { threads: Math.max(1, Math.min(threads, coreCap() + 1, 64)) });
  }
  const free = pool.respectLoad === false ? Infinity : idleCores();
  const work = (groups * (groups + 1)) / 2 * n;
  if (threads < 2 || free < 1 || groups < 2 || work < (pool.minTileRows ?? MIN_PARALLEL_TILE_ROWS)) {
    return corrMatrixCpu(columns);
  }
  // The worker starts (module load, compile) while this thread finds the complete rows and the moments.
  const set = startWorkers<CorrGramWorkerApi>(pool.workerUrl ?? DEFAULT_WORKER, 1, "correlation matrix");
  try {
    const prep = prepare(columns);
    // The worker's last `tail` groups: a tail x tail triangle, WORKER_SHARE of the tiles.
    const tail = Math.min(groups - 1, Math.round(Math.sqrt(WORKER_SHARE * groups * (groups + 1))));
    const split = groups - tail;
    const remote = set.remotes[0];
    const started = remote.start(tail);
    const product = gramProduct(groups, "correlation matrix");
    const sent: Promise<void>[] = [];
    // Copy buffers for the worker's groups, transferred there and back (no allocation per panel).
    const free: Float64Array<ArrayBuffer>[] = [];
    for (const rows of panels(columns, prep, product.panel)) {
      const part = free.pop() ?? new Float64Array(tail * PANEL * 4);
      part.set(product.panel.subarray(split * rows * 4, groups * rows * 4));
      sent.push(
        started.then(() => remote.add(Comlink.transfer(part, [part.buffer]), rows)).then((back) => {
          free.push(back);
        }),
      );
      product.add(rows, split);
      if (sent.length >= IN_FLIGHT) await Promise.race([sent.shift()!, set.failure]);
    }
    await Promise.race([Promise.all(sent), set.failure]);
    const theirs = await Promise.race([remote.tiles(), set.failure]);
    const tiles = product.tiles();
    for (let a = 0; a < tail; a++) {
      for (let b = a; b < tail; b++) {
        tiles.set(
          theirs.subarray((a * tail + b) * 16, (a * tail + b + 1) * 16),
          ((split + a) * groups + split + b) * 16,
        );
      }
    }
    return fromTiles(tiles, prep);
  } finally {
    set.close();
  }
}

/** WebGPU path (f32 tiles, f64 host accumulation of the split-K partials). */
export async function corrMatrixGpu(rt: GpuRuntime, columns: Float64Array[]): Promise<CorrMatrix> {
  const p = columns.length;
  const rows = completeRows(columns);
  const n = rows.length;
  const { mean, std } = moments(columns, rows);
  const g = new Float64Array(p * p);
  if (p > 0 && n > 0) {
    rt.checkLoopBudget(KCHUNK + KCHUNK / 16 + 16, "correlation matrix tile");
    const pipe = await rt.pipeline("corr_matrix");
    const tiles = Math.ceil(p / TILE);
    const maxBind = rt.limits.maxBindingBytes;
    // Rows per batch: z (p x rows f32) and the partial tiles (ceil(rows / KCHUNK) x p x p f32) must each fit a
    // binding, and both (plus the read-back) the memory budget.
    const byZ = Math.floor(maxBind / (4 * p));
    const byOut = Math.floor(maxBind / (4 * p * p)) * KCHUNK;
    const byBudget = Math.floor(rt.pool.budgetBytes / (4 * p + (8 * p * p) / KCHUNK));
    let batchRows = Math.min(byZ, byOut, byBudget);
    if (batchRows >= KCHUNK) batchRows -= batchRows % KCHUNK;
    if (batchRows < 1 || (batchRows < KCHUNK && batchRows < n)) {
      throw new UsageError(
        `correlation matrix: ${p} columns do not fit the GPU binding limit or memory budget`,
      );
    }
    const scale = Float64Array.from(std, (s, j) => (usable(s, mean[j]) ? 1 / s : 0));
    for (let r0 = 0; r0 < n; r0 += batchRows) {
      const m = Math.min(batchRows, n - r0);
      const z = new Float32Array(p * m);
      for (let j = 0; j < p; j++) {
        const c = columns[j], mu = mean[j], s = scale[j], base = j * m;
        for (let k = 0; k < m; k++) z[base + k] = (c[rows[r0 + k]] - mu) * s;
      }
      const kc = Math.ceil(m / KCHUNK);
      const b = rt.batch();
      const out = b.storage(kc * p * p * 4);
      b.dispatchNamed(pipe, { z: b.upload(z), out, P: { rows: m, cols: p, kchunk: KCHUNK } }, [
        tiles,
        tiles,
        kc,
      ]);
      b.read(out, kc * p * p * 4);
      const [res] = await b.run();
      for (let k = 0; k < kc; k++) {
        for (let i = 0; i < p; i++) {
          const at = (k * p + i) * p;
          for (let j = i; j < p; j++) g[i * p + j] += res[at + j];
        }
      }
    }
  }
  return { p, n, corr: finish(g, p, n, mean, std), mean, std };
}

/**
 * Correlation matrix with the context's backend (WebGPU with CPU fallback under `auto`); the CPU path through
 * {@link corrMatrixParallel} with `pool` (default one thread: a page's bundle has no worker module for it).
 */
export function corrMatrix(
  columns: Float64Array[],
  compute: Compute,
  pool: CorrMatrixPoolOptions = { threads: 1 },
): Promise<CorrMatrix> {
  return withFallback(
    compute,
    "corr_matrix",
    (rt) => corrMatrixGpu(rt, columns),
    () => corrMatrixParallel(columns, pool),
  );
}

/** The covariance matrix (row-major, p x p) from a correlation matrix: cov_ij = corr_ij std_i std_j. */
export function covarianceOf(c: CorrMatrix): Float64Array {
  const { p, corr, std } = c;
  const cov = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) cov[i * p + j] = corr[i * p + j] * std[i] * std[j];
  }
  return cov;
}

/** `kernel corr_matrix --columns a,b,c`: the correlation matrix over the rows where every column is finite. */
export const corrMatrixKernel: ScalarKernel<Record<string, never>> = defineScalarKernel({
  name: "corr_matrix",
  summary: "Pearson correlation matrix of --columns over their complete rows (JSON: columns, n, corr rows)",
  inputs: "many",
  params: {},
  // f32 products of standardized columns, summed in KCHUNK-row partials and merged in f64 (tests/corr_pca_test).
  tolerance: { atol: 2e-5, rtol: 0 },
  conformance: [{}],
  run: async (inputs, _p, compute, names) => {
    // In Deno a worker takes part of a large product when a core is idle (the page has no worker module).
    const c = await corrMatrix(inputs, compute, { threads: "Deno" in globalThis ? undefined : 1 });
    const rows = Array.from({ length: c.p }, (_, i) => Array.from(c.corr.subarray(i * c.p, (i + 1) * c.p)));
    return { columns: names, n: c.n, corr: rows, mean: Array.from(c.mean), std: Array.from(c.std) };
  },
});
