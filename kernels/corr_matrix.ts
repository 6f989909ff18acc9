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

/** Rows per packed panel of the CPU path: 4 columns x PANEL rows x 8 bytes = 8 KiB per column group. */
const PANEL = 256;

/**
 * f64 CPU path: the upper triangle of Z^T Z as a blocked matrix product. Each panel of PANEL complete rows is
 * standardized once into a contiguous buffer laid out by groups of 4 columns ([group][row][4], the last group
 * padded with zeros), so one 4 x 4 output tile reads two contiguous streams of 32-byte rows and keeps its 16
 * sums in registers (0.5 loads per multiply-add instead of 2). The panel (p x PANEL x 8 bytes, 512 KiB at
 * p = 256) stays in cache while every tile of the upper triangle passes over it; each tile's panel sum is then
 * added to the f64 Gram matrix. Same z values as the column-at-a-time product, summed in another order
 * (agrees to ~1e-15; tests/corr_pca_test.ts checks 1e-12 against a naive reference).
 */
export function corrMatrixCpu(columns: Float64Array[]): CorrMatrix {
  const p = columns.length;
  const rows = completeRows(columns);
  const n = rows.length;
  const { mean, std } = moments(columns, rows);
  const scale = Float64Array.from(std, (s, j) => (usable(s, mean[j]) ? 1 / s : 0));
  const groups = Math.ceil(p / 4);
  const gram = new Float64Array(groups * groups * 16); // tile (gi, gj >= gi), row-major 4 x 4 inside
  const panel = new Float64Array(groups * PANEL * 4); // padded columns stay 0
  const span = PANEL * 4;
  for (let r0 = 0; r0 < n; r0 += PANEL) {
    const m = Math.min(PANEL, n - r0);
    for (let j = 0; j < p; j++) {
      const c = columns[j], mu = mean[j], s = scale[j];
      let at = (j >> 2) * span + (j & 3);
      for (let k = 0; k < m; k++, at += 4) panel[at] = (c[rows[r0 + k]] - mu) * s;
    }
    for (let gi = 0; gi < groups; gi++) {
      const a0 = gi * span;
      for (let gj = gi; gj < groups; gj++) {
        const b0 = gj * span;
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        for (let k = 0, a = a0, b = b0; k < m; k++, a += 4, b += 4) {
          const x0 = panel[a], x1 = panel[a + 1], x2 = panel[a + 2], x3 = panel[a + 3];
          const y0 = panel[b], y1 = panel[b + 1], y2 = panel[b + 2], y3 = panel[b + 3];
          s00 += x0 * y0, s01 += x0 * y1, s02 += x0 * y2, s03 += x0 * y3;
          s10 += x1 * y0, s11 += x1 * y1, s12 += x1 * y2, s13 += x1 * y3;
          s20 += x2 * y0, s21 += x2 * y1, s22 += x2 * y2, s23 += x2 * y3;
          s30 += x3 * y0, s31 += x3 * y1, s32 += x3 * y2, s33 += x3 * y3;
        }
        const t = (gi * groups + gj) * 16;
        gram[t] += s00, gram[t + 1] += s01, gram[t + 2] += s02, gram[t + 3] += s03;
        gram[t + 4] += s10, gram[t + 5] += s11, gram[t + 6] += s12, gram[t + 7] += s13;
        gram[t + 8] += s20, gram[t + 9] += s21, gram[t + 10] += s22, gram[t + 11] += s23;
        gram[t + 12] += s30, gram[t + 13] += s31, gram[t + 14] += s32, gram[t + 15] += s33;
      }
    }
  }
  const g = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      g[i * p + j] = gram[((i >> 2) * groups + (j >> 2)) * 16 + (i & 3) * 4 + (j & 3)];
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
    const c = await corrMatrix(inputs, compute);
    const rows = Array.from({ length: c.p }, (_, i) => Array.from(c.corr.subarray(i * c.p, (i + 1) * c.p)));
    return { columns: names, n: c.n, corr: rows, mean: Array.from(c.mean), std: Array.from(c.std) };
  },
});
