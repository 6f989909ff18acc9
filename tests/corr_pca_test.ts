/**
 * Correlation matrix (kernels/corr_matrix.ts), PCA (kernels/pca.ts) and the selection filters
 * (engines/selection_filters.ts): both paths against numpy (fixture from scripts/make_pca_fixture.py: factor
 * structure, scales from 1e-3 to 1e4, near-duplicates, NaN rows), WebGPU vs f64 at tile and split-K
 * boundaries and in row batches, the Jacobi solver on known matrices, and the filters' decisions.
 */
import { strict as assert } from "node:assert";
import { makeFrame } from "../io/frame.ts";
import {
  type CorrMatrix,
  corrMatrix,
  corrMatrixBlas,
  corrMatrixCpu,
  corrMatrixGpu,
  corrMatrixParallel,
  covarianceOf,
  KCHUNK,
} from "../kernels/corr_matrix.ts";
import { nativeBlas } from "../runtime/blas.ts";
import { CORR_GRAM_WASM_BASE64 } from "../kernels/corr_gram_wasm.ts";
import { symmetricEigen, symmetricEigenNative } from "../kernels/eigen.ts";
import { jacobiEigen, pca, pcaFromCorr } from "../kernels/pca.ts";
import { base64Lines, buildCorrGram } from "../scripts/build_wasm.ts";
import { finiteVariance, selectionFilters } from "../engines/selection_filters.ts";
import { sharedGpu } from "../runtime/backend.ts";
import { setLogLevel } from "../runtime/log.ts";
import { seededNormals } from "../runtime/rng.ts";
import { join } from "node:path";
import { cli } from "./cli_harness.ts";
import { returns } from "./data.ts";

setLogLevel("error");
const gpu = await sharedGpu();
const opts = { sanitizeResources: false, sanitizeOps: false };
const CPU = { choice: "cpu" as const, gpu: null };
const GPU = { choice: "webgpu" as const, gpu };

interface Fixture {
  columns: string[];
  data: (number | null)[][];
  n_complete: number;
  corr: number[][];
  cov: number[][];
  cov_eigenvalues: number[];
  cov_ratio: number[];
  cov_components: number[][];
  corr_eigenvalues: number[];
  corr_ratio: number[];
  corr_components: number[][];
}
const fx: Fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/pca_numpy.json", import.meta.url)),
);
const data = fx.data.map((c) => Float64Array.from(c, (v) => (v === null ? NaN : v)));
const p = data.length;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
const flat = (m: number[][]) => m.flat();

/** f32 tolerance of the correlation matrix (kernels/corr_matrix.ts). */
const CORR_TOL = 2e-5;

for (const [path, compute] of [["cpu", CPU], ["webgpu", GPU]] as const) {
  Deno.test(`correlation matrix (${path}) matches numpy.corrcoef on the complete rows`, opts, async () => {
    const c = await corrMatrix(data, compute);
    assert.equal(c.n, fx.n_complete);
    const tol = path === "cpu" ? 1e-13 : CORR_TOL;
    const err = maxDiff(c.corr, flat(fx.corr));
    assert.ok(err <= tol, `corr max error ${err}`);
    // Covariance: relative to std_i std_j.
    const cov = covarianceOf(c);
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) {
        const ref = fx.cov[i][j], s = Math.sqrt(fx.cov[i][i] * fx.cov[j][j]);
        assert.ok(Math.abs(cov[i * p + j] - ref) <= tol * s, `cov[${i}][${j}] ${cov[i * p + j]} vs ${ref}`);
      }
    }
  });

  for (const standardize of [false, true]) {
    const kind = standardize ? "corr" : "cov";
    Deno.test(`PCA of the ${kind} matrix (${path}) matches numpy eigh`, opts, async () => {
      const r = await pca(data, fx.columns, { standardize, components: p }, compute);
      const values = fx[`${kind}_eigenvalues`], ratio = fx[`${kind}_ratio`], comps = fx[`${kind}_components`];
      const big = values[0];
      const vtol = path === "cpu" ? 1e-11 * big : 2 * CORR_TOL * big;
      assert.ok(
        maxDiff(r.explained_variance, values) <= vtol,
        `eigenvalues ${r.explained_variance} vs ${values}`,
      );
      assert.ok(maxDiff(r.explained_variance_ratio, ratio) <= (path === "cpu" ? 1e-12 : 2 * CORR_TOL));
      assert.ok(Math.abs(r.cumulative_ratio[p - 1] - 1) < 1e-12);
      // Eigenvectors (sign-normalized alike) for eigenvalues separated from their neighbours.
      for (let k = 0; k < p; k++) {
        const gap = Math.min(
          k > 0 ? values[k - 1] - values[k] : Infinity,
          k < p - 1 ? values[k] - values[k + 1] : Infinity,
        ) / big;
        if (gap < 1e-3) continue;
        const tol = path === "cpu" ? 1e-8 : Math.max(1e-4, 5 * CORR_TOL / gap);
        const err = maxDiff(r.components[k], comps[k]);
        assert.ok(err <= tol, `component ${k}: error ${err} (relative gap ${gap})`);
        // Loadings = component * sqrt(eigenvalue).
        r.loadings[k].forEach((l, j) =>
          assert.ok(Math.abs(l - r.components[k][j] * Math.sqrt(values[k])) <= 1e-3)
        );
      }
    });
  }
}

Deno.test("PCA: components to keep by cumulative variance; constant columns have zero variance", () => {
  const c = corrMatrixCpu([...data, new Float64Array(data[0].length).fill(3)]);
  assert.ok(Number.isNaN(c.corr[p]), "a constant column gets NaN correlations");
  const r = pcaFromCorr(c, [...fx.columns, "const"], { standardize: true, varianceToKeep: 0.9 });
  const k = r.cumulative_ratio.findIndex((v) => v >= 0.9) + 1;
  assert.equal(r.n_components, k);
  assert.equal(r.components.length, k);
  assert.equal(r.explained_variance.at(-1), 0);
  for (const row of r.components) {
    const big = row.reduce((a, v, i) => (Math.abs(v) > Math.abs(row[a]) ? i : a), 0);
    assert.ok(row[big] > 0, "largest entry of each component is positive");
    assert.ok(Math.abs(Math.hypot(...row) - 1) < 1e-12);
  }
});

const nativeLapack = nativeBlas()?.syevd ? nativeBlas()! : null;

for (
  const [solver, solve] of [
    ["symmetricEigen (tridiagonal QL)", symmetricEigen],
    ...(nativeLapack
      ? [[
        "symmetricEigenNative (LAPACK dsyevd)",
        (a: Float64Array, n: number) => symmetricEigenNative(a, n, nativeLapack),
      ]] as const
      : []),
  ] as const
) {
  Deno.test(`${solver} equals the Jacobi reference: random, repeated, singular, tiny`, () => {
    const check = (a: Float64Array, n: number, what: string) => {
      const got = solve(a, n), ref = jacobiEigen(a, n);
      // The native solver must have solved it itself, not fallen back to QL.
      if (solve !== symmetricEigen && n >= 2) {
        assert.equal(nativeLapack!.syevd!(n, a.slice(), new Float64Array(n)), 0, `${what}: dsyevd INFO`);
        assert.equal(got.sweeps, 0, `${what}: LAPACK's result`);
      }
      const big = Math.max(1, ...Array.from(ref.values, Math.abs));
      assert.ok(
        maxDiff(got.values, ref.values) <= 1e-13 * big,
        `${what}: values ${got.values} vs ${ref.values}`,
      );
      // A = V^T diag(values) V and V V^T = I, whatever the basis chosen inside repeated eigenvalues.
      const v = got.vectors;
      let recon = 0, ortho = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0, o = 0;
          for (let k = 0; k < n; k++) {
            s += v[k * n + i] * got.values[k] * v[k * n + j];
            o += v[i * n + k] * v[j * n + k];
          }
          recon = Math.max(recon, Math.abs(s - a[i * n + j]));
          ortho = Math.max(ortho, Math.abs(o - (i === j ? 1 : 0)));
        }
      }
      assert.ok(
        recon <= 1e-12 * big && ortho <= 1e-12,
        `${what}: reconstruction ${recon}, orthogonality ${ortho}`,
      );
      // Separated eigenvalues: the same sign-normalized vectors as Jacobi.
      for (let k = 0; k < n; k++) {
        const gap = Math.min(
          k > 0 ? ref.values[k - 1] - ref.values[k] : Infinity,
          k < n - 1 ? ref.values[k] - ref.values[k + 1] : Infinity,
        ) / big;
        if (gap < 1e-6) continue;
        const err = maxDiff(v.subarray(k * n, (k + 1) * n), ref.vectors.subarray(k * n, (k + 1) * n));
        assert.ok(err <= 1e-12 / gap, `${what}: vector ${k} differs by ${err} (gap ${gap})`);
      }
    };
    for (const n of [1, 2, 3, 17, 60]) {
      const e = seededNormals(n * n, 40 + n);
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = e[i * n + j];
      check(a, n, `random ${n}`);
    }
    // The fixture's correlation matrix (factor structure), a rank-2 matrix (repeated zeros), the identity and 0.
    const fixture = Float64Array.from(flat(fx.corr));
    check(fixture, p, "fixture correlation");
    const [u, w] = [seededNormals(9, 1), seededNormals(9, 2)];
    check(
      Float64Array.from({ length: 81 }, (_, i) => u[i % 9] * u[(i / 9) | 0] + w[i % 9] * w[(i / 9) | 0]),
      9,
      "rank 2",
    );
    check(Float64Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 1 : 0)), 4, "identity");
    check(new Float64Array(9), 3, "zero");
    assert.deepEqual(Array.from(symmetricEigen(new Float64Array(0), 0).values), []);
    assert.throws(() => symmetricEigen(new Float64Array(3), 2), /symmetricEigen: expected 4 values, got 3/);
  });
}

Deno.test("Jacobi: known spectra, reconstruction, repeated eigenvalues", () => {
  const two = jacobiEigen(Float64Array.of(2, 1, 1, 2), 2);
  assert.ok(maxDiff(two.values, [3, 1]) < 1e-15);
  assert.ok(maxDiff(two.vectors, [Math.SQRT1_2, Math.SQRT1_2, Math.SQRT1_2, -Math.SQRT1_2]) < 1e-15);
  const id = jacobiEigen(Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1), 3);
  assert.deepEqual(Array.from(id.values), [1, 1, 1]);
  assert.equal(id.sweeps, 0);
  assert.deepEqual(Array.from(jacobiEigen(new Float64Array(0), 0).values), []);
  // A random symmetric 60 x 60 matrix: A = V^T diag(values) V and V orthonormal.
  const n = 60, e = seededNormals(n * n, 5);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = e[i * n + j];
  const { values, vectors: v } = jacobiEigen(a, n);
  for (let k = 1; k < n; k++) assert.ok(values[k] <= values[k - 1]);
  let recon = 0, ortho = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, d = 0;
      for (let k = 0; k < n; k++) {
        s += v[k * n + i] * values[k] * v[k * n + j];
        d += v[i * n + k] * v[j * n + k];
      }
      recon = Math.max(recon, Math.abs(s - a[i * n + j]));
      ortho = Math.max(ortho, Math.abs(d - (i === j ? 1 : 0)));
    }
  }
  assert.ok(recon < 1e-12 && ortho < 1e-13, `reconstruction ${recon}, orthogonality ${ortho}`);
});

/** p columns of n rows: a common factor, various scales and offsets, some NaN. */
function matrix(p: number, n: number, seed: number): Float64Array[] {
  const f = seededNormals(n, seed);
  return Array.from({ length: p }, (_, j) => {
    const e = seededNormals(n, seed + 1 + j);
    const s = 10 ** ((j % 7) - 3);
    return e.map((v, i) => 1e3 * (j % 3) + s * ((j % 4) * 0.3 * f[i] + v));
  });
}

/** Pearson correlations the textbook way (complete rows, then two-pass moments and one sum per pair). */
function naiveCorr(cols: Float64Array[]): { n: number; corr: Float64Array } {
  const q = cols.length;
  const keep = [...cols[0].keys()].filter((i) => cols.every((c) => Number.isFinite(c[i])));
  const z = cols.map((c) => {
    const v = keep.map((i) => c[i]);
    const m0 = v.reduce((a, b) => a + b, 0) / v.length;
    const m = m0 + v.reduce((a, b) => a + (b - m0), 0) / v.length; // corrected two-pass
    const d = v.map((t) => t - m);
    const norm = Math.sqrt(d.reduce((a, b) => a + b * b, 0));
    return d.map((t) => t / norm);
  });
  const corr = new Float64Array(q * q);
  for (let i = 0; i < q; i++) {
    for (let j = 0; j < q; j++) corr[i * q + j] = z[i].reduce((a, t, k) => a + t * z[j][k], 0);
  }
  return { n: keep.length, corr };
}

Deno.test("correlation matrix: the blocked f64 product vs a naive reference, with and without NaN rows", () => {
  // Column counts around the 4-column groups, row counts around the 256-row panels.
  for (const [q, n] of [[1, 3], [3, 255], [4, 256], [5, 257], [9, 1000], [33, 2100]] as const) {
    for (const holes of [false, true]) {
      const cols = matrix(q, n, 7 * q + n);
      if (holes) {
        // NaN / Inf in scattered rows of different columns: those rows are dropped for every column.
        for (let k = 0; k < Math.ceil(n / 50); k++) {
          cols[(k * 7) % q][(k * 37 + 11) % n] = k % 3 === 0 ? Infinity : NaN;
        }
      }
      const got = corrMatrixCpu(cols), ref = naiveCorr(cols);
      assert.equal(got.n, ref.n, `${q} x ${n}`);
      if (ref.n < 2) continue;
      for (let i = 0; i < q; i++) {
        assert.equal(got.corr[i * q + i], 1);
        for (let j = 0; j < q; j++) {
          if (i === j) continue;
          const e = Math.abs(got.corr[i * q + j] - ref.corr[i * q + j]);
          assert.ok(e <= 1e-12, `${q} x ${n} (${holes ? "NaN rows" : "complete"}) [${i}, ${j}]: ${e}`);
          assert.equal(got.corr[i * q + j], got.corr[j * q + i]);
        }
      }
    }
  }
});

/** Realistic and adversarial column sets: offsets of 1e9, near-constant and constant columns, NaN and Inf rows. */
function adversarialCases(): [string, Float64Array[]][] {
  const cases: [string, Float64Array[]][] = [];
  for (const [q, n] of [[1, 2], [2, 3], [2, 513], [7, 257], [13, 1031]] as const) {
    const base = matrix(q, n, 100 + q * n);
    const noise = seededNormals(n, 5);
    cases.push([`${q} x ${n}`, base]);
    // Prices around 1e9 (the two-pass mean centres them before the product).
    cases.push([`${q} x ${n} offset 1e9`, base.map((c) => c.map((v, i) => 1e9 + v + (i % 3)))]);
    // Near-constant columns (spread 1e-9 around 5) beside ordinary ones, and an exact constant: NaN.
    cases.push([
      `${q} x ${n} near-constant`,
      base.map((c, j) =>
        j % 3 === 1 ? c.map((_, i) => 5 + 1e-9 * noise[i]) : j % 3 === 2 ? c.map(() => 5) : c
      ),
    ]);
    // NaN in every other row of the first column, Inf in the last row of the last.
    const holes = base.map((c) => c.slice());
    for (let i = 0; i < n; i += 2) holes[0][i] = NaN;
    holes[q - 1][n - 1] = -Infinity;
    cases.push([`${q} x ${n} NaN rows`, holes]);
  }
  return cases;
}

/** `got` against the naive f64 reference: 1e-12 off the diagonal, 1 on it, NaN for a constant column. */
function assertNearReference(got: CorrMatrix, cols: Float64Array[], name: string): void {
  const ref = naiveCorr(cols), q = cols.length;
  assert.equal(got.n, ref.n, name);
  for (let i = 0; i < q * q; i++) {
    const [r, c] = [Math.floor(i / q), i % q];
    const constant = got.std[r] === 0 || got.std[c] === 0 || got.n < 2;
    if (constant) assert.ok(Number.isNaN(got.corr[i]), `${name} [${r}, ${c}]: NaN for a constant column`);
    else if (r === c) assert.equal(got.corr[i], 1, name);
    else {
      const e = Math.abs(got.corr[i] - ref.corr[i]);
      assert.ok(e <= 1e-12, `${name} [${r}, ${c}]: ${got.corr[i]} vs ${ref.corr[i]} (${e})`);
    }
  }
}

Deno.test("correlation matrix: the WebAssembly product on adversarial data vs a naive reference", () => {
  for (const [name, cols] of adversarialCases()) assertNearReference(corrMatrixCpu(cols), cols, name);
});

const blas = nativeBlas();

Deno.test({
  name:
    "correlation matrix: the BLAS product on adversarial data vs a naive reference, any threads or chunks",
  ignore: !blas,
  fn: async () => {
    for (const [name, cols] of adversarialCases()) {
      const one = await corrMatrixBlas(cols, blas!);
      assertNearReference(one, cols, `${name} (BLAS)`);
      // The sum order does not depend on the threads; 256-row chunks cross chunk boundaries (odd counts too).
      for (const o of [{ threads: 2 }, { threads: 3 }, { threads: 2, chunkRows: 256 }]) {
        const got = await corrMatrixBlas(cols, blas!, o);
        if (o.chunkRows) assertNearReference(got, cols, `${name} (BLAS, ${JSON.stringify(o)})`);
        else assert.deepStrictEqual(got, one, `${name} ${JSON.stringify(o)}`);
      }
    }
  },
});

Deno.test({
  name:
    "correlation matrix: BLAS products at once keep their own buffers; the default placement uses the BLAS",
  ignore: !blas,
  fn: async () => {
    const a = matrix(40, 3000, 11), b = matrix(7, 5000, 12);
    b[3][10] = NaN;
    const alone = [await corrMatrixBlas(a, blas!, { chunkRows: 300 }), await corrMatrixBlas(b, blas!)];
    const together = await Promise.all([
      corrMatrixBlas(a, blas!, { chunkRows: 300, threads: 2 }),
      corrMatrixBlas(b, blas!, { threads: 2 }),
    ]);
    assert.deepStrictEqual(together, alone);
    const placed = await corrMatrixParallel(a, { threads: 2, respectLoad: false });
    assert.deepStrictEqual(placed, await corrMatrixBlas(a, blas!));
    assert.ok(maxDiff(placed.corr, corrMatrixCpu(a).corr) <= 1e-14);
  },
});

Deno.test("correlation matrix: FEATURE_GENESIS_BLAS off keeps the WebAssembly path, a bad path is one clear error", async () => {
  const probe = `import { nativeBlas } from ${
    JSON.stringify(new URL("../runtime/blas.ts", import.meta.url).href)
  };
    console.log(nativeBlas() === null ? "none" : "loaded");`;
  const run = async (value: string) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--allow-ffi", "--allow-env", probe],
      env: { FEATURE_GENESIS_BLAS: value, NO_COLOR: "1" },
    }).output();
    return {
      code: out.code,
      out: new TextDecoder().decode(out.stdout),
      err: new TextDecoder().decode(out.stderr),
    };
  };
  assert.equal((await run("off")).out.trim(), "none");
  const bad = await run("/nonexistent/libblas-fg.so");
  assert.notEqual(bad.code, 0);
  assert.match(
    bad.err,
    /FEATURE_GENESIS_BLAS=\/nonexistent\/libblas-fg\.so: cannot load it as a CBLAS library/,
  );
});

Deno.test("correlation matrix: the WebAssembly product on two threads equals one thread bit for bit", async () => {
  const force = { threads: 2, respectLoad: false, minTileRows: 0, blas: false };
  for (const [q, n] of [[5, 1000], [8, 513], [13, 3 * 256 + 1], [33, 2100]] as const) {
    const cols = matrix(q, n, q * n);
    cols[q - 1][7] = NaN;
    cols[2] = cols[2].map(() => 4); // a constant column: NaN row and column on both
    assert.deepStrictEqual(await corrMatrixParallel(cols, force), corrMatrixCpu(cols), `${q} x ${n}`);
  }
  // A worker that cannot load fails the call, naming it; below the threshold no worker starts.
  const bogus = new URL("./no_such_worker.ts", import.meta.url);
  const cols = matrix(9, 300, 1);
  await assert.rejects(
    corrMatrixParallel(cols, { ...force, workerUrl: bogus }),
    /correlation matrix: a worker failed/,
  );
  const small = await corrMatrixParallel(cols, {
    threads: 2,
    respectLoad: false,
    workerUrl: bogus,
    blas: false,
  });
  assert.deepStrictEqual(small, corrMatrixCpu(cols));
});

Deno.test("correlation matrix: kernels/corr_gram_wasm.ts is the build of kernels/corr_gram.wat", async () => {
  const built = await buildCorrGram();
  assert.equal(base64Lines(built).join(""), CORR_GRAM_WASM_BASE64, "run scripts/build_wasm.ts");
  // Chromium compiles at most 4 KiB synchronously on a page's main thread (new WebAssembly.Module).
  assert.ok(built.length <= 4096, `${built.length} bytes`);
});

Deno.test("correlation matrix: WebGPU vs f64 at tile, split-K and batch boundaries", opts, async () => {
  const small = gpu.withLimits({ maxBindingBytes: 1 << 20 }); // forces several row batches at p = 65
  for (
    const [q, n, rt] of [
      [1, 50, gpu],
      [2, 3, gpu],
      [16, 17, gpu],
      [63, 1001, gpu],
      [64, KCHUNK, gpu],
      [65, 2 * KCHUNK + 17, gpu],
      [65, 3 * KCHUNK + 5, small],
      [130, 5000, gpu],
    ] as const
  ) {
    const cols = matrix(q, n, q + n);
    if (n > 100) cols[q - 1][7] = NaN; // one incomplete row
    const ref = corrMatrixCpu(cols), got = await corrMatrixGpu(rt, cols);
    assert.equal(got.n, ref.n);
    const err = maxDiff(got.corr, ref.corr);
    assert.ok(err <= CORR_TOL, `${q} x ${n}: max error ${err}`);
  }
  // No complete rows / one row: NaN off the diagonal, no crash.
  const none = await corrMatrixGpu(gpu, [Float64Array.of(NaN, 1), Float64Array.of(1, NaN)]);
  assert.equal(none.n, 0);
  assert.ok(none.corr.every(Number.isNaN));
});

Deno.test(
  "selection filters: variance, near-duplicates (frame order or dCor rank), PCA report; both paths",
  opts,
  async () => {
    const n = 3000;
    const [a, b, c] = [1, 2, 3].map((s) => seededNormals(n, s));
    const noise = seededNormals(n, 9);
    const cols = new Map<string, Float64Array>([
      ["a", a],
      ["const", new Float64Array(n).fill(2)],
      ["b", b],
      ["a_dup", a.map((v, i) => 3 * v + 1e-3 * noise[i] + 5)], // corr ~0.99999 with a
      ["c", c],
      ["b_neg", b.map((v, i) => -v + 0.01 * noise[i])], // corr ~ -0.99995 with b
      ["mix", a.map((v, i) => v + b[i])],
      ["y_ret_fwd_15", c.map((v) => 0.1 * v)],
    ]);
    cols.get("a")![5] = NaN; // NaN rows are left out of the matrix
    const frame = makeFrame("sel", n, cols);
    assert.equal(finiteVariance(Float64Array.of(1, NaN, 3)), 1);
    for (const compute of [CPU, GPU]) {
      const r = await selectionFilters(frame, { corr_threshold: 0.95 }, compute);
      assert.equal(r.candidates, 7, "targets are not candidates");
      assert.deepEqual(r.kept, ["a", "b", "c", "mix"]);
      assert.deepEqual(
        r.dropped.map((d) => [d.feature, d.stage, d.duplicate_of ?? null]),
        [["const", "variance", null], ["a_dup", "correlation", "a"], ["b_neg", "correlation", "b"]],
      );
      assert.ok(r.dropped[2].corr! < -0.99);
      assert.equal(r.corr_rows, n - 1);
      assert.ok(r.pca && r.pca.features.length === 4 && r.pca.loadings.length === r.pca.n_components);
      // a, b, c independent and mix = a + b: rank 3, the last eigenvalue ~0.
      assert.ok(r.pca!.explained_variance[3] < 1e-3, `${r.pca!.explained_variance}`);
      // With a dCor ranking the higher-ranked duplicate is kept.
      const ranked = await selectionFilters(frame, {}, compute, [
        { feature: "a_dup", dcor: 0.3 },
        { feature: "a", dcor: 0.1 },
        { feature: "b_neg", dcor: 0.2 },
      ]);
      assert.equal(ranked.order, "dcor");
      assert.deepEqual(ranked.kept, ["a_dup", "b_neg", "c", "mix"]);
      assert.deepEqual(
        ranked.dropped.filter((d) => d.stage === "correlation").map((d) => [d.feature, d.duplicate_of]),
        [["a", "a_dup"], ["b", "b_neg"]],
      );
    }
    const strict = await selectionFilters(frame, { variance_threshold: 1.5, pca: false }, CPU);
    assert.ok(strict.dropped.some((d) => d.feature === "a" && d.stage === "variance"));
    assert.equal(strict.pca, null);
  },
);

Deno.test("kernel corr_matrix / pca on the CLI: --columns (or every column), JSON equal to the library's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-corr-cli-" });
  const n = 600;
  const a = returns(n, 71), b = returns(n, 72).map((v, i) => v + 0.5 * a[i]), c = returns(n, 73);
  const file = join(dir, "x.csv");
  await Deno.writeTextFile(
    file,
    "a,b,c\n" + Array.from({ length: n }, (_, i) => `${a[i]},${b[i]},${c[i]}`).join("\n"),
  );
  const out = join(dir, "out.json");
  const run = async (...args: string[]) => {
    const r = await cli(["kernel", ...args, "--input", file, "--backend", "cpu", "--output", out]);
    assert.equal(r.code, 0, r.err);
    return JSON.parse(await Deno.readTextFile(out)).result;
  };
  const corr = await run("corr_matrix", "--columns", "a,b");
  const want = await corrMatrixParallel([a, b]); // the CLI's placement (the BLAS when it loads)
  assert.deepEqual(corr.columns, ["a", "b"]);
  assert.equal(corr.n, n);
  assert.deepEqual(corr.corr.flat(), Array.from(want.corr));
  const all = await run("pca", "--standardize", "true");
  assert.deepEqual(all.features, ["a", "b", "c"]);
  const lib = pcaFromCorr(await corrMatrixParallel([a, b, c]), ["a", "b", "c"], {
    standardize: true,
    varianceToKeep: 0.95,
  });
  assert.deepEqual(all.explained_variance_ratio, lib.explained_variance_ratio);
  const bad = await cli(["kernel", "corr_matrix", "--input", file, "--column", "a"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /kernel corr_matrix: takes --columns a,b,c; drop --column/);
  await Deno.remove(dir, { recursive: true });
});
