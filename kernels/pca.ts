/**
 * Principal component analysis: the covariance matrix (or the correlation matrix with `standardize`) comes from
 * kernels/corr_matrix.ts (a tiled matmul on the GPU, or f64 on the CPU), and its eigen-decomposition in f64 on
 * the host (kernels/eigen.ts: Householder tridiagonalization and implicit QL, O(p^3) once; the cyclic Jacobi
 * solver `jacobiEigen` here, O(p^3) per sweep, is the reference it is tested against).
 *
 * Conventions (as sklearn's PCA on the complete rows): eigenvalues in decreasing order are the explained
 * variances (ddof 1), explained_variance_ratio = eigenvalue / trace, components are unit eigenvectors with
 * their sign fixed so that the entry of largest magnitude is positive (the first one on ties), and loadings =
 * component * sqrt(eigenvalue) (for standardized PCA: the correlation of each column with the component).
 * A constant column contributes zero variance. f32 (WebGPU) tolerance: the covariance carries a relative
 * error ~1e-6 of std_i std_j (see corr_matrix.ts), so eigenvalues move by ~1e-6 of the largest eigenvalue
 * and well-separated eigenvectors by ~1e-6 / relative gap.
 */
import type { Compute } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";
import { type CorrMatrix, corrMatrix, type CorrMatrixPoolOptions } from "./corr_matrix.ts";
import { nativeBlas } from "../runtime/blas.ts";
import { type Eigen, orderedEigen, symmetricEigen, symmetricEigenNative } from "./eigen.ts";
import { defineScalarKernel, type ScalarKernel } from "./kernel.ts";
import { LIMITS } from "../runtime/limits.ts";

/**
 * Cyclic Jacobi eigensolver for a symmetric p x p matrix (row-major; only symmetry is assumed, the input is
 * not modified). Sweeps until the off-diagonal Frobenius norm is below `tol` times the matrix's norm (or
 * `maxSweeps`); rotations use Rutishauser's stable formulas.
 */
export function jacobiEigen(matrix: Float64Array, p: number, tol = 1e-15, maxSweeps = 60): Eigen {
  if (matrix.length !== p * p) {
    throw new UsageError(`jacobiEigen: expected ${p * p} values, got ${matrix.length}`);
  }
  const a = Float64Array.from(matrix);
  const v = new Float64Array(p * p);
  for (let i = 0; i < p; i++) v[i * p + i] = 1;
  let norm = 0;
  for (const x of a) norm += x * x;
  norm = Math.sqrt(norm);
  let sweeps = 0;
  for (; sweeps < maxSweeps; sweeps++) {
    let off = 0;
    for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) off += a[i * p + j] ** 2;
    if (Math.sqrt(2 * off) <= tol * norm || off === 0) break;
    for (let i = 0; i < p - 1; i++) {
      for (let j = i + 1; j < p; j++) {
        const aij = a[i * p + j];
        if (aij === 0) continue;
        const aii = a[i * p + i], ajj = a[j * p + j];
        // Skip rotations that cannot change the diagonal in f64 (after the first sweeps).
        if (sweeps > 3 && Math.abs(aij) < 1e-18 * Math.max(Math.abs(aii), Math.abs(ajj))) {
          a[i * p + j] = a[j * p + i] = 0;
          continue;
        }
        const theta = (ajj - aii) / (2 * aij);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c, tau = s / (1 + c);
        a[i * p + i] = aii - t * aij;
        a[j * p + j] = ajj + t * aij;
        a[i * p + j] = a[j * p + i] = 0;
        for (let k = 0; k < p; k++) {
          if (k === i || k === j) continue;
          const aki = a[k * p + i], akj = a[k * p + j];
          const ni = aki - s * (akj + tau * aki), nj = akj + s * (aki - tau * akj);
          a[k * p + i] = a[i * p + k] = ni;
          a[k * p + j] = a[j * p + k] = nj;
        }
        // Eigenvectors as rows of v: v_i, v_j rotated.
        for (let k = 0; k < p; k++) {
          const vi = v[i * p + k], vj = v[j * p + k];
          v[i * p + k] = vi - s * (vj + tau * vi);
          v[j * p + k] = vj + s * (vi - tau * vj);
        }
      }
    }
  }
  return orderedEigen(Float64Array.from({ length: p }, (_, i) => a[i * p + i]), v, p, sweeps);
}

/** PCA options. */
export interface PcaOptions {
  /** PCA of the correlation matrix (standardized columns) instead of the covariance (default false). */
  standardize?: boolean;
  /** Components to report (default: enough for `varianceToKeep`). */
  components?: number;
  /** Report the fewest components whose cumulative explained variance ratio reaches this (default 0.95). */
  varianceToKeep?: number;
}

/** PCA result (JSON-friendly). */
export interface PcaResult {
  /** Column names, in input order. */
  features: string[];
  /** Complete rows used. */
  n: number;
  /** Whether the correlation (true) or covariance (false) matrix was decomposed. */
  standardize: boolean;
  /** Every eigenvalue (explained variance), decreasing. */
  explained_variance: number[];
  /** explained_variance / total variance. */
  explained_variance_ratio: number[];
  /** Cumulative explained variance ratio. */
  cumulative_ratio: number[];
  /** Number of reported components. */
  n_components: number;
  /** Reported components: unit eigenvectors, one row per component (sign-normalized). */
  components: number[][];
  /** component * sqrt(eigenvalue), one row per reported component. */
  loadings: number[][];
  /** Column means (over the complete rows) the components apply to. */
  mean: number[];
  /** Column scales: std (ddof 1) with `standardize`, else 1. */
  scale: number[];
  /** Implicit QL steps of the eigensolver (kernels/eigen.ts); 0 when LAPACK's dsyevd solved it. */
  sweeps: number;
}

/** PCA of a correlation matrix result (covariance unless `standardize`). */
export function pcaFromCorr(c: CorrMatrix, features: string[], opts: PcaOptions = {}): PcaResult {
  const { p, corr, std } = c;
  const standardize = opts.standardize ?? false;
  const m = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      const v = corr[i * p + j];
      // A constant column (NaN correlations) has zero variance and no covariance.
      m[i * p + j] = Number.isNaN(v) ? 0 : standardize ? v : v * std[i] * std[j];
    }
  }
  const blas = nativeBlas();
  const eig = blas ? symmetricEigenNative(m, p, blas) : symmetricEigen(m, p);
  const values = Array.from(eig.values, (v) => Math.max(0, v));
  const total = values.reduce((a, v) => a + v, 0);
  const ratio = values.map((v) => (total > 0 ? v / total : NaN));
  const cumulative: number[] = [];
  ratio.reduce((a, r, i) => (cumulative[i] = a + r), 0);
  let k = opts.components ?? NaN;
  if (!Number.isFinite(k)) {
    const keep = opts.varianceToKeep ?? 0.95;
    k = cumulative.findIndex((c) => c >= keep - 1e-12) + 1 || p;
  }
  k = Math.max(0, Math.min(p, Math.floor(k)));
  const components = Array.from({ length: k }, (_, r) => Array.from(eig.vectors.subarray(r * p, r * p + p)));
  return {
    features,
    n: c.n,
    standardize,
    explained_variance: values,
    explained_variance_ratio: ratio,
    cumulative_ratio: cumulative,
    n_components: k,
    components,
    loadings: components.map((row, r) => row.map((v) => v * Math.sqrt(values[r]))),
    mean: Array.from(c.mean),
    scale: Array.from(std, (s) => (standardize ? s : 1)),
    sweeps: eig.sweeps,
  };
}

/**
 * PCA of named columns with the context's backend for the covariance (f64 Jacobi on the host); `pool` places
 * the CPU product ({@link corrMatrix}).
 */
export async function pca(
  columns: Float64Array[],
  features: string[],
  opts: PcaOptions,
  compute: Compute,
  pool?: CorrMatrixPoolOptions,
): Promise<PcaResult> {
  return pcaFromCorr(await corrMatrix(columns, compute, pool), features, opts);
}

/** `kernel pca --columns a,b,c [--standardize true] [--components K | --variance 0.95]`: PCA as JSON. */
export const pcaKernel: ScalarKernel<{ standardize: boolean; components: number; variance: number }> =
  defineScalarKernel({
    name: "pca",
    summary: "principal components of --columns over their complete rows (JSON: variance ratios, components)",
    inputs: "many",
    params: {
      standardize: {
        type: "bool",
        default: false,
        doc: "decompose the correlation instead of the covariance",
      },
      components: { type: "int", min: 0, max: LIMITS.featureColumns, default: 0, doc: "0: by --variance" },
      variance: { type: "float", min: 0, exclusiveMin: true, max: 1, default: 0.95, doc: "variance to keep" },
    },
    // The covariance's f32 error (corr_matrix) carries into the eigenvalues; eigenvectors of close eigenvalues
    // rotate with it, so the suite compares the spectrum (tests/corr_pca_test.ts checks vectors by their gap).
    tolerance: { atol: 1e-4, rtol: 1e-4 },
    conformance: [{}, { standardize: true, components: 2 }],
    varying: ["sweeps", "components", "loadings"],
    run: (inputs, p, compute, names) =>
      pca(inputs, names, {
        standardize: p.standardize,
        components: p.components || undefined,
        varianceToKeep: p.variance,
      }, compute),
  });
