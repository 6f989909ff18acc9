/**
 * Eigen-decomposition of a symmetric matrix in f64 for PCA (kernels/pca.ts): Householder reduction to
 * tridiagonal form, then the implicit QL algorithm with Wilkinson-type shifts (tred2 / tql2 of EISPACK, as in
 * JAMA's EigenvalueDecomposition, public domain). O(p^3) once, ~10x fewer operations than cyclic Jacobi's
 * sweeps (kernels/pca.ts `jacobiEigen`, kept as the reference it is tested against); backward stable, so
 * eigenvalues are within ~p * 2^-52 * ||A|| of the exact ones.
 */
import type { NativeBlas } from "../runtime/blas.ts";
import { UsageError } from "../runtime/errors.ts";

/** Eigenvalues and eigenvectors of a symmetric matrix. */
export interface Eigen {
  /** Eigenvalues, in decreasing order. */
  values: Float64Array;
  /** Row-major p x p: row k is the unit eigenvector of values[k] (sign-normalized). */
  vectors: Float64Array;
  /** Iterations: Jacobi sweeps (`jacobiEigen`) or implicit QL steps ({@link symmetricEigen}). */
  sweeps: number;
}

/**
 * Eigenvalues in decreasing order (ties: the first index first) with their vectors (row `src` of `rows`), each
 * vector's sign fixed so that its entry of largest magnitude is positive (the first one on ties).
 */
export function orderedEigen(diag: Float64Array, rows: Float64Array, p: number, sweeps: number): Eigen {
  const order = Array.from({ length: p }, (_, i) => i).sort((x, y) => diag[y] - diag[x] || x - y);
  const values = Float64Array.from(order, (i) => diag[i]);
  const vectors = new Float64Array(p * p);
  order.forEach((src, r) => {
    const row = rows.subarray(src * p, src * p + p);
    let big = 0;
    for (let k = 1; k < p; k++) if (Math.abs(row[k]) > Math.abs(row[big]) * (1 + 1e-12)) big = k;
    const sign = row[big] < 0 ? -1 : 1;
    for (let k = 0; k < p; k++) vectors[r * p + k] = sign * row[k];
  });
  return { values, vectors, sweeps };
}

/**
 * {@link symmetricEigen} on the system's LAPACK (dsyevd, divide and conquer, runtime/blas.ts): the same ordering
 * and sign normalization, ~1e-14 relative from the QL solver's values; `sweeps` is 0 (LAPACK does not report
 * its steps). Falls back to {@link symmetricEigen} when the library has no LAPACK, the matrix is not finite or
 * LAPACK does not converge.
 */
export function symmetricEigenNative(matrix: Float64Array, p: number, blas: NativeBlas): Eigen {
  if (!blas.syevd || p < 2 || matrix.length !== p * p || !matrix.every(Number.isFinite)) {
    return symmetricEigen(matrix, p);
  }
  const a = matrix.slice(), w = new Float64Array(p);
  blas.setThreads(1); // dsyevd's tridiagonal reduction is mostly matrix-vector work: 2 threads gained nothing
  if (blas.syevd(p, a, w) !== 0) return symmetricEigen(matrix, p);
  return orderedEigen(w, a, p, 0);
}

/** Most implicit QL steps for one eigenvalue (2-3 are typical); beyond it the value is taken as it stands. */
const MAX_STEPS = 60;

/**
 * Eigen-decomposition of a symmetric p x p matrix (row-major; only symmetry is assumed, the input is not
 * modified): Householder tridiagonalization, then implicit QL.
 */
export function symmetricEigen(matrix: Float64Array, p: number): Eigen {
  if (matrix.length !== p * p) {
    throw new UsageError(`symmetricEigen: expected ${p * p} values, got ${matrix.length}`);
  }
  if (p === 0) return { values: new Float64Array(0), vectors: new Float64Array(0), sweeps: 0 };
  // V's transpose (the matrix is symmetric: itself), whose rows end up the eigenvectors.
  const w = Float64Array.from(matrix);
  const d = new Float64Array(p), e = new Float64Array(p);
  tridiagonalize(w, d, e, p);
  const steps = implicitQl(w, d, e, p);
  return orderedEigen(d, w, p, steps);
}

/**
 * tred2 on V's transpose (`v[j * n + k]` = V[k][j], so the inner loops run along rows): V <- the orthogonal
 * transform, d the diagonal, e the subdiagonal (e[0] = 0).
 */
function tridiagonalize(v: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = v[j * n + n - 1];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0, h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = v[j * n + i - 1];
        v[j * n + i] = 0;
        v[i * n + j] = 0;
      }
    } else {
      // The Householder vector, scaled against under- and overflow.
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        v[i * n + j] = f;
        g = e[j] + v[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += v[j * n + k] * d[k];
          e[k] += v[j * n + k] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) v[j * n + k] -= f * e[k] + g * d[k];
        d[j] = v[j * n + i - 1];
        v[j * n + i] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    v[i * n + n - 1] = v[i * n + i];
    v[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = v[(i + 1) * n + k] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += v[(i + 1) * n + k] * v[j * n + k];
        for (let k = 0; k <= i; k++) v[j * n + k] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) v[(i + 1) * n + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = v[j * n + n - 1];
    v[j * n + n - 1] = 0;
  }
  v[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** tql2 on the tridiagonal (d, e); `w` holds V transposed (row k = column k of V). Returns the steps taken. */
function implicitQl(w: Float64Array, d: Float64Array, e: Float64Array, n: number): number {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0, tst1 = 0, steps = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    // The first negligible subdiagonal element at or after l.
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      for (let iter = 0; iter < MAX_STEPS; iter++) {
        steps++;
        // Implicit shift.
        let g = d[l];
        let q = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(q, 1);
        if (q < 0) r = -r;
        d[l] = e[l] / (q + r);
        d[l + 1] = e[l] * (q + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        // Implicit QL transformation.
        q = d[m];
        let c = 1, c2 = 1, c3 = 1, s = 0, s2 = 0;
        const el1 = e[l + 1];
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * q;
          r = Math.hypot(q, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = q / r;
          q = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          // Rotate eigenvector rows i and i + 1.
          const a = i * n, b = a + n;
          for (let k = 0; k < n; k++) {
            const hk = w[b + k];
            w[b + k] = s * w[a + k] + c * hk;
            w[a + k] = c * w[a + k] - s * hk;
          }
        }
        q = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * q;
        d[l] = c * q;
        if (!(Math.abs(e[l]) > eps * tst1)) break;
      }
    }
    d[l] += f;
    e[l] = 0;
  }
  return steps;
}
