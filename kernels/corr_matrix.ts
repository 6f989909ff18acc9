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

/** Indices of the rows where every column is finite. */
function completeRows(columns: Float64Array[]): Uint32Array {
  const n = columns[0]?.length ?? 0;
  for (const c of columns) {
    if (c.length !== n) {
      throw new UsageError(`correlation matrix: columns differ in length (${c.length} != ${n})`);
    }
  }
  const rows: number[] = [];
  for (let i = 0; i < n; i++) {
    let ok = true;
    for (const c of columns) {
      if (!Number.isFinite(c[i])) {
        ok = false;
        break;
      }
    }
    if (ok) rows.push(i);
  }
  return Uint32Array.from(rows);
}

/** Mean and standard deviation (ddof 1; two passes, f64) of each column over `rows`. */
function moments(columns: Float64Array[], rows: Uint32Array) {
  const p = columns.length, n = rows.length;
  const mean = new Float64Array(p), std = new Float64Array(p);
  columns.forEach((c, j) => {
    let s = 0;
    for (let k = 0; k < n; k++) s += c[rows[k]];
    const m = s / n;
    let ss = 0;
    for (let k = 0; k < n; k++) ss += (c[rows[k]] - m) ** 2;
    mean[j] = m;
    std[j] = n > 1 ? Math.sqrt(ss / (n - 1)) : NaN;
  });
  return { mean, std };
}

/** Usable scale: positive, finite and not negligible against the mean (a constant in floating point). */
function usable(std: number, mean: number): boolean {
  return Number.isFinite(std) && std > 1e-14 * Math.max(1, Math.abs(mean));
}

/** Divides the Gram matrix by n - 1, sets the diagonal to 1, clamps, NaNs constant columns, symmetrizes. */
function finish(g: Float64Array, p: number, n: number, mean: Float64Array, std: Float64Array): Float64Array {
  const c = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      let v: number;
      if (!usable(std[i], mean[i]) || !usable(std[j], mean[j]) || n < 2) v = NaN;
      else if (i === j) v = 1;
      else v = Math.max(-1, Math.min(1, g[i * p + j] / (n - 1)));
      c[i * p + j] = v;
      c[j * p + i] = v;
    }
  }
  return c;
}

/** f64 CPU path. */
export function corrMatrixCpu(columns: Float64Array[]): CorrMatrix {
  const p = columns.length;
  const rows = completeRows(columns);
  const n = rows.length;
  const { mean, std } = moments(columns, rows);
  const z = columns.map((c, j) => {
    const s = usable(std[j], mean[j]) ? 1 / std[j] : 0;
    const out = new Float64Array(n);
    for (let k = 0; k < n; k++) out[k] = (c[rows[k]] - mean[j]) * s;
    return out;
  });
  // Upper triangle of Z^T Z, blocked over rows so a block of every column stays in cache.
  const g = new Float64Array(p * p);
  const BLOCK = 1024;
  for (let r0 = 0; r0 < n; r0 += BLOCK) {
    const r1 = Math.min(n, r0 + BLOCK);
    for (let i = 0; i < p; i++) {
      const zi = z[i];
      for (let j = i; j < p; j++) {
        const zj = z[j];
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        let k = r0;
        for (; k + 3 < r1; k += 4) {
          s0 += zi[k] * zj[k];
          s1 += zi[k + 1] * zj[k + 1];
          s2 += zi[k + 2] * zj[k + 2];
          s3 += zi[k + 3] * zj[k + 3];
        }
        for (; k < r1; k++) s0 += zi[k] * zj[k];
        g[i * p + j] += (s0 + s1) + (s2 + s3);
      }
    }
  }
  return { p, n, corr: finish(g, p, n, mean, std), mean, std };
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
      const params = new Uint32Array([m, p, KCHUNK, 0]);
      b.dispatch(pipe, [b.upload(z), out, b.uniform(params.buffer)], [tiles, tiles, kc]);
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

/** Correlation matrix with the context's backend (WebGPU with CPU fallback under `auto`). */
export function corrMatrix(columns: Float64Array[], compute: Compute): Promise<CorrMatrix> {
  return withFallback(
    compute,
    "corr_matrix",
    (rt) => corrMatrixGpu(rt, columns),
    () => corrMatrixCpu(columns),
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
