/**
 * The correlation matrix's Gram product on the system's BLAS (runtime/blas.ts): the centered columns are packed
 * a chunk of rows at a time (one column per row of the chunk, x - mean in f64) into reused buffers, and the
 * upper triangle of (X - mean)^T (X - mean) accumulates over the chunks in two f64 accumulators (syrk), added
 * at the end. On two threads the accumulators' single-threaded calls run at once while this thread packs the
 * next chunk: at 256 x 1e5 on the development machine (OpenBLAS 0.3.21, Haswell kernels) the product takes
 * 130-140 ms, against 116-125 ms for one two-threaded syrk on data already centered in one matrix (which costs
 * a 205 MB copy, ~0.6 s of fresh pages on this VM) and ~150-200 ms with OpenBLAS's own threads on the chunks.
 */
import type { NativeBlas } from "../runtime/blas.ts";

/** Bytes of one packed chunk: a few MiB, so the chunk being packed and the one being multiplied stay in cache. */
const CHUNK_BYTES = 8 << 20;
/** Fewest rows per chunk (OpenBLAS's k-blocks are 256 rows: narrower chunks re-read C more than A). */
const MIN_CHUNK_ROWS = 256;

/**
 * The last product's chunk buffers (3 x 8 MiB at most) and scratch accumulator, kept for the next one on this
 * thread (fresh pages cost ~12 µs each on this VM: ~75 ms for 24 MiB); a product takes them while it runs, so
 * concurrent products never share them.
 */
let spare: { bufs: Float64Array[]; acc: Float64Array } | undefined;

/** Writes x - mean of every column over rows r0..r0+m (of `rows`, or consecutive when null) into `a`, m apart. */
function pack(
  a: Float64Array,
  columns: Float64Array[],
  mean: Float64Array,
  rows: Uint32Array | null,
  r0: number,
  m: number,
): void {
  for (let j = 0; j < columns.length; j++) {
    const c = columns[j], mu = mean[j], o = j * m;
    if (rows) { for (let k = 0; k < m; k++) a[o + k] = c[rows[r0 + k]] - mu; }
    else for (let k = 0; k < m; k++) a[o + k] = c[r0 + k] - mu;
  }
}

/**
 * The upper triangle of the centered Gram matrix (row-major p x p; the lower triangle is left unspecified): the
 * sum over the `n` rows (`rows`, or the first n when null) of (x_i - mu_i)(x_j - mu_j), with mu = mean + shift.
 * A row of ones rides along in the product, so the same pass also sums x_j - mean_j (n times the error of the
 * given mean): the Gram matrix is corrected by that error and `shift` returned (the corrected two-pass algorithm
 * of Chan, Golub and LeVeque, 1983, so a mean off by d costs nothing rather than n d_i d_j).
 *
 * Chunk i adds into accumulator i mod 2 and the two are added at the end, whatever `threads` is, so the result
 * does not depend on it: with 2 or more threads the accumulators' single-threaded syrk calls run at once (each
 * on half the threads when more than 2), this thread packing ahead into one of three buffers; with 1 the calls
 * run one after the other. `chunkRows` (default: 8 MiB of packed rows, at least 256) is for tests of the chunk
 * boundaries.
 */
export async function gramBlas(
  blas: NativeBlas,
  columns: Float64Array[],
  mean: Float64Array,
  rows: Uint32Array | null,
  n: number,
  threads: number,
  chunkRows = Math.max(MIN_CHUNK_ROWS, Math.floor(CHUNK_BYTES / 8 / columns.length)),
): Promise<{ gram: Float64Array; shift: Float64Array }> {
  const p = columns.length, q = p + 1, chunk = Math.min(n, chunkRows);
  const kept = spare && spare.bufs[0].length >= q * chunk && spare.acc.length >= q * q ? spare : undefined;
  spare = undefined;
  const bufs = kept?.bufs ?? [0, 1, 2].map(() => new Float64Array(q * chunk));
  // The result is fresh (it is returned); the second accumulator is scratch, kept with the buffers.
  const acc = [new Float64Array(q * q), kept?.acc ?? new Float64Array(q * q)];
  const parallel = threads >= 2;
  blas.setThreads(Math.max(1, threads >> 1));
  const lane: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
  const reading: Promise<void>[] = [];
  let chunks = 0;
  try {
    for (let r0 = 0; r0 < n; chunks++, r0 += chunk) {
      const i = chunks,
        m = Math.min(chunk, n - r0),
        b = i % bufs.length,
        l = parallel ? i & 1 : 0,
        a = bufs[b];
      await reading[b]; // the call that last read this buffer
      pack(a, columns, mean, rows, r0, m);
      a.fill(1, p * m, q * m);
      reading[b] = lane[l] = lane[l].then(() => blas.syrkUpper(q, m, a, m, i < 2 ? 0 : 1, acc[i & 1], q));
    }
    await Promise.all(lane);
  } finally {
    await Promise.allSettled(lane);
    spare = { bufs, acc: acc[1] };
  }
  const [g, h] = acc;
  for (let i = 0; chunks > 1 && i < q; i++) for (let at = i * q + i; at < (i + 1) * q; at++) g[at] += h[at];
  // Row i's last element is sum_k (x_ik - mean_i); correct, and close the rows up to stride p in place (each
  // element moves to a lower index, after every element before it has moved).
  const sums = Float64Array.from(mean, (_, i) => g[i * q + p]);
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) g[i * p + j] = g[i * q + j] - (sums[i] * sums[j]) / n;
  }
  return { gram: g.subarray(0, p * p), shift: sums.map((s) => s / n) };
}
