/**
 * Distance correlation building blocks shared by the f64 CPU paths and the WebGPU path (kernels/dcor.ts is
 * the public API): complete-pair filtering, argsort, row sums of |v_i - v_j| in O(n log n), the O(n log n)
 * cross sum S1 = Σ_ij |x_i - x_j| |y_i - y_j| of Huo & Székely (2016), the counter-based permutations
 * shared with shaders/dcor_permute.wgsl, and the assembly of dCov²/dCor from these sums.
 *
 * Notation (n complete pairs): a_ij = |x_i - x_j|, R_i = Σ_j a_ij (row sums), T = Σ_i R_i; likewise b, R', T'
 * for y; S1 = Σ_ij a_ij b_ij, S3 = Σ_i R_i R'_i. Then (a_ii = 0)
 *   V-statistic:  n² dCov²_n = S1 - 2 S3 / n + T T' / n²            (= Σ_ij A_ij B_ij, A double-centred)
 *   U-statistic:  n(n-3) Ω_n = S1 - 2 S3 / (n-2) + T T' / ((n-1)(n-2))
 * and Σ_ij a_ij² = 2n Σ_i (x_i - x̄)², so the dVar terms cost O(n) once the row sums are known.
 */
import { mix32 } from "../runtime/rng.ts";
import { UsageError } from "../runtime/errors.ts";
import { DCOR_CROSS_WASM_BASE64 } from "./dcor_cross_wasm.ts";

/** The (x, y) pairs where both values are finite, in order (NaN/Inf rows dropped pairwise). */
export function completePairs(x: Float64Array, y: Float64Array): { x: Float64Array; y: Float64Array } {
  if (x.length !== y.length) {
    throw new RangeError(`dcor: x and y differ in length (${x.length}, ${y.length})`);
  }
  let n = 0;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]) && Number.isFinite(y[i])) n++;
  if (n === x.length) return { x, y };
  const xs = new Float64Array(n), ys = new Float64Array(n);
  for (let i = 0, k = 0; i < x.length; i++) {
    if (Number.isFinite(x[i]) && Number.isFinite(y[i])) xs[k] = x[i], ys[k++] = y[i];
  }
  return { x: xs, y: ys };
}

/** Mean and population standard deviation (two-pass). */
export function meanSd(v: Float64Array): { mean: number; sd: number } {
  const n = v.length;
  if (n === 0) return { mean: NaN, sd: NaN };
  let m = 0;
  for (let i = 0; i < n; i++) m += v[i];
  m /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (v[i] - m) * (v[i] - m);
  return { mean: m, sd: Math.sqrt(ss / n) };
}

/** (v - mean) / sd in f64: dCor is invariant under shifts and scalings, dCov² scales by sd_x sd_y. */
export function standardize(v: Float64Array, mean: number, sd: number): Float64Array {
  const inv = sd > 0 ? 1 / sd : 1;
  return v.map((t) => (t - mean) * inv);
}

const RADIX_MIN = 1024;

/** Indices that sort `v` ascending (finite values; ties in index order). LSD radix sort for large n. */
export function argsort(v: Float64Array): Uint32Array {
  const n = v.length;
  if (n < RADIX_MIN) {
    const idx = new Uint32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    return idx.sort((a, b) => v[a] - v[b] || a - b);
  }
  // Order-preserving map of f64 bits to unsigned 64-bit keys (hi, lo), then four stable 16-bit passes.
  const bits = new Uint32Array(v.buffer, v.byteOffset, 2 * n);
  const lo = new Uint32Array(n), hi = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const h = bits[2 * i + 1], l = bits[2 * i];
    if (h & 0x80000000) hi[i] = ~h >>> 0, lo[i] = ~l >>> 0;
    else hi[i] = (h | 0x80000000) >>> 0, lo[i] = l;
  }
  let idx = new Uint32Array(n), tmp = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const count = new Uint32Array(65537);
  for (let pass = 0; pass < 4; pass++) {
    const key = pass < 2 ? lo : hi;
    const shift = pass % 2 === 0 ? 0 : 16;
    count.fill(0);
    for (let i = 0; i < n; i++) count[((key[idx[i]] >>> shift) & 0xffff) + 1]++;
    if (count[((key[idx[0]] >>> shift) & 0xffff) + 1] === n) continue; // every key has this digit
    for (let d = 0; d < 65536; d++) count[d + 1] += count[d];
    for (let i = 0; i < n; i++) tmp[count[(key[idx[i]] >>> shift) & 0xffff]++] = idx[i];
    [idx, tmp] = [tmp, idx];
  }
  return idx;
}

/** Row sums R_i = Σ_j |v_i - v_j| in O(n) given the ascending order of v. */
export function rowSums(v: Float64Array, order: Uint32Array): Float64Array {
  const n = v.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += v[i];
  const r = new Float64Array(n);
  let prefix = 0; // sum of the k smallest values
  for (let k = 0; k < n; k++) {
    const i = order[k], vi = v[i];
    // k smaller values: k vi - prefix; n-1-k larger: (total - prefix - vi) - (n-1-k) vi.
    r[i] = vi * (2 * k - n + 1) + (total - 2 * prefix - vi);
    prefix += vi;
  }
  return r;
}

/** One instance of kernels/dcor_cross.wat: its memory holds the data of `owner`, the CrossSum that last ran. */
interface CrossModule {
  memory: WebAssembly.Memory;
  cross: (
    n: number,
    x: number,
    xo: number,
    yr: number,
    ys: number,
    src: number,
    pt: number,
    py: number,
    tree: number,
  ) => number;
  shift: (n: number, s: number, ox: number, oy: number, src: number, pt: number) => void;
  owner: CrossSum | null;
}

let crossCompiled: WebAssembly.Module | undefined;
let crossShared: CrossModule | undefined;

/**
 * Memory up to which the CrossSums of a thread share one instance (n <~ 2.8e5): the permutation tests and the
 * rolling dCor's windows then cost no instantiation, while the memory of a larger one goes with its CrossSum.
 */
const CROSS_SHARED_BYTES = 1 << 25;

/** An instance with at least `bytes` of memory: the thread's shared one, or a fresh one for large n. */
function crossModule(bytes: number): CrossModule {
  crossCompiled ??= new WebAssembly.Module(
    Uint8Array.from(atob(DCOR_CROSS_WASM_BASE64), (ch) => ch.charCodeAt(0)),
  );
  const fresh = (): CrossModule => {
    const { exports } = new WebAssembly.Instance(crossCompiled!);
    return {
      memory: exports.memory as WebAssembly.Memory,
      cross: exports.cross as CrossModule["cross"],
      shift: exports.shift as CrossModule["shift"],
      owner: null,
    };
  };
  const m = bytes <= CROSS_SHARED_BYTES ? (crossShared ??= fresh()) : fresh();
  const pages = Math.ceil(bytes / 65536) - m.memory.buffer.byteLength / 65536;
  try {
    if (pages > 0) m.memory.grow(pages);
  } catch {
    throw new UsageError(
      `dcor: ${Math.ceil(bytes / 2 ** 20)} MiB of WebAssembly memory for the cross sums is more than the ` +
        "runtime grants (4 GiB at most): use fewer rows",
    );
  }
  return m;
}

/**
 * O(n log n) cross sums S1 = Σ_ij |x_i - x_j| |y_i - y_j| for x against y and against permutations of y
 * (Huo & Székely 2016): each pair contributes +(x_i - x_j)(y_i - y_j) when concordant and minus that when
 * discordant, so S1 = Σ_ij (x_i - x_j)(y_i - y_j) - 2 Σ_discordant (...). Points are visited in x order while a
 * Fenwick tree over y ranks accumulates (1, x, y, xy) of the points already visited, which gives for every i
 * the sums over {x_j < x_i, y_j < y_i}; the other quadrants follow from prefix sums in x and in y order.
 * Ties contribute 0 whichever quadrant they fall in. Sorting is done once; each permutation costs one tree pass,
 * in WebAssembly (kernels/dcor_cross.wat: the same f64 operations in the same order on every machine).
 */
export class CrossSum {
  /** Number of points. */
  readonly n: number;
  readonly #x: Float64Array;
  readonly #y: Float64Array;
  readonly #ox: Uint32Array;
  readonly #oy: Uint32Array;
  readonly #at: Record<"x" | "xo" | "ox" | "oy" | "yr" | "ys" | "src" | "pt" | "py" | "tree", number>;
  readonly #module: CrossModule;
  #inverse?: Uint32Array;

  /** Prepares x and y (finite, equal length; best centred and scaled); `ox`/`oy` are their ascending orders. */
  constructor(x: Float64Array, y: Float64Array, ox: Uint32Array, oy: Uint32Array) {
    const n = this.n = x.length;
    this.#x = x, this.#y = y, this.#ox = ox, this.#oy = oy;
    // Byte offsets of the module's arrays (kernels/dcor_cross.wat), each 16-byte aligned.
    let end = 0;
    const region = (bytes: number) => [end, end += Math.ceil(bytes / 16) * 16][0];
    this.#at = {
      x: region(8 * n),
      xo: region(8 * n),
      ox: region(4 * n),
      oy: region(4 * n),
      yr: region(16 * n),
      ys: region(8 * n),
      src: region(4 * n),
      pt: region(4 * n),
      py: region(32 * n),
      tree: region(32 * (n + 1)),
    };
    this.#module = crossModule(end);
  }

  /** S1 for x against y, or against y permuted (y'_k = y[perm[k]]) when `perm` is given. */
  sum(perm?: Uint32Array): number {
    if (!perm) return this.sumShifted(0);
    const m = this.#load(), n = this.n, at = this.#at;
    // Point ox[k] of y' is point perm[ox[k]] of y; the point of y' with y rank r is the inverse of oy[r].
    const inv = this.#inverse ??= new Uint32Array(n);
    for (let k = 0; k < n; k++) inv[perm[k]] = k;
    const src = new Uint32Array(m.memory.buffer, at.src, n), pt = new Uint32Array(m.memory.buffer, at.pt, n);
    for (let k = 0; k < n; k++) src[k] = perm[this.#ox[k]], pt[k] = inv[this.#oy[k]];
    return this.#cross(m);
  }

  /** S1 for x against y rotated by `s` (y'_k = y[(k + s) mod n], 0 <= s < n): `sum(shiftPermutation(...))`. */
  sumShifted(s: number): number {
    const m = this.#load(), at = this.#at;
    m.shift(this.n, s, at.ox, at.oy, at.src, at.pt);
    return this.#cross(m);
  }

  #cross(m: CrossModule): number {
    const at = this.#at;
    return m.cross(this.n, at.x, at.xo, at.yr, at.ys, at.src, at.pt, at.py, at.tree);
  }

  /** The module with this pair's data in its memory (written again when another CrossSum ran since). */
  #load(): CrossModule {
    const m = this.#module;
    if (m.owner === this) return m;
    const n = this.n, x = this.#x, y = this.#y, ox = this.#ox, oy = this.#oy, at = this.#at;
    const buf = m.memory.buffer;
    new Float64Array(buf, at.x, n).set(x);
    new Uint32Array(buf, at.ox, n).set(ox);
    new Uint32Array(buf, at.oy, n).set(oy);
    const xo = new Float64Array(buf, at.xo, n), ys = new Float64Array(buf, at.ys, n);
    const yv = new Float64Array(buf, at.yr, 2 * n), yr = new Uint32Array(buf, at.yr, 4 * n);
    for (let k = 0; k < n; k++) {
      const j = oy[k];
      xo[k] = x[ox[k]], ys[k] = y[j], yv[2 * j] = y[j], yr[4 * j + 2] = k; // (y_j, rank of y_j)
    }
    m.owner = this;
    return m;
  }
}

/** Per-series sums the dCov formulas need: row sums, their total, and Σ_ij a_ij² = 2n Σ (v - v̄)². */
export interface SeriesSums {
  /** Row sums R_i = Σ_j |v_i - v_j|. */
  rows: Float64Array;
  /** T = Σ_i R_i. */
  total: number;
  /** Σ_ij |v_i - v_j|². */
  squares: number;
  /** Σ_i R_i² (S3 of the series with itself). */
  rowSquares: number;
}

/** Row sums and the closed-form sums of one series, given its ascending order. */
export function seriesSums(v: Float64Array, order: Uint32Array): SeriesSums {
  const n = v.length;
  const rows = rowSums(v, order);
  let total = 0, rowSquares = 0, mean = 0, ss = 0;
  for (let i = 0; i < n; i++) total += rows[i], rowSquares += rows[i] * rows[i], mean += v[i];
  mean /= n;
  for (let i = 0; i < n; i++) ss += (v[i] - mean) * (v[i] - mean);
  return { rows, total, squares: 2 * n * ss, rowSquares };
}

/** Σ_i R_i R'_i, with R' read through `perm` when given (y permuted). */
export function rowDot(ra: Float64Array, rb: Float64Array, perm?: Uint32Array): number {
  let s = 0;
  if (perm) { for (let i = 0; i < ra.length; i++) s += ra[i] * rb[perm[i]]; }
  else for (let i = 0; i < ra.length; i++) s += ra[i] * rb[i];
  return s;
}

/** Σ_i R_i R'_{(i + s) mod n}: `rowDot` through `shiftPermutation`'s rotation by s (0 <= s < n), in the same order. */
export function rowDotShifted(ra: Float64Array, rb: Float64Array, s: number): number {
  const n = ra.length, split = n - s;
  let t = 0;
  for (let i = 0; i < split; i++) t += ra[i] * rb[i + s];
  for (let i = split; i < n; i++) t += ra[i] * rb[i - split];
  return t;
}

/** V-statistic dCov² from S1, S3 and the totals (n² dCov² = S1 - 2 S3/n + T T'/n²). */
export function vStat(n: number, s1: number, s3: number, ta: number, tb: number): number {
  return (s1 - 2 * s3 / n + ta * tb / (n * n)) / (n * n);
}

/** U-statistic (unbiased) dCov² Ω_n from the same sums; NaN for n < 4. */
export function uStat(n: number, s1: number, s3: number, ta: number, tb: number): number {
  if (n < 4) return NaN;
  return (s1 - 2 * s3 / (n - 2) + ta * tb / ((n - 1) * (n - 2))) / (n * (n - 3));
}

/** dCor = sqrt(dCov² / sqrt(dVar²_x dVar²_y)), 0 when a dVar is 0 (energy's convention); clamped to [0, 1]. */
export function dcorFrom(vxy: number, vxx: number, vyy: number): number {
  if (!(vxx > 0 && vyy > 0)) return Number.isNaN(vxx) || Number.isNaN(vyy) ? NaN : 0;
  return Math.min(1, Math.sqrt(Math.max(0, vxy) / Math.sqrt(vxx * vyy)));
}

/** Bias-corrected dCor² = Ω_xy / sqrt(Ω_xx Ω_yy), 0 when a dVar is 0 (energy's bcdcor); NaN for n < 4. */
export function bcFrom(uxy: number, uxx: number, uyy: number): number {
  if (Number.isNaN(uxy) || Number.isNaN(uxx) || Number.isNaN(uyy)) return NaN;
  return uxx > 0 && uyy > 0 ? uxy / Math.sqrt(uxx * uyy) : 0;
}

/**
 * The random draw r_k of permutation `b` for `seed` (counter-based: any permutation can be rebuilt on its own,
 * by the CPU or by shaders/dcor_permute.wgsl, bit for bit).
 */
export function permBase(seed: number, b: number): number {
  return mix32(mix32((seed ^ 0x2545f491) >>> 0) ^ ((b + 0x9e3779b9) >>> 0));
}

/** Draw `k` of the stream started by `permBase`. */
export function permDraw(base: number, k: number): number {
  return mix32((base + Math.imul(k, 0x9e3779b9)) >>> 0);
}

/**
 * Permutation `b` of 0..n-1 for `seed` (Fisher-Yates: for k = n-1..1 swap k with draw(k) mod (k+1); the
 * modulo bias is below n / 2^32). Writes into `out` and returns it.
 */
export function permutation(seed: number, b: number, n: number, out = new Uint32Array(n)): Uint32Array {
  for (let i = 0; i < n; i++) out[i] = i;
  const base = permBase(seed, b);
  for (let k = n - 1; k >= 1; k--) {
    const j = permDraw(base, k) % (k + 1);
    const t = out[k];
    out[k] = out[j], out[j] = t;
  }
  return out;
}

/**
 * Permutation schemes of the independence test:
 * - `iid`: uniform permutations of y (`permutation`), as energy::dcor.test — exact when the rows are
 *   exchangeable, far too small p-values when both series are autocorrelated (overlapping forward returns
 *   against persistent features);
 * - `circular_shift`: y rotated by a random shift s in [L, n - L] (`shiftPermutation`), which keeps every
 *   serial dependence of y (and of x, which is not moved) except across the one wrap point, so under
 *   independence of the two series each rotated copy is (up to that seam) a draw from the same null. It is a
 *   permutation, so y's row sums are only reordered (the GPU path carries them along as for `iid`). L is at
 *   least the caller's minimum block (the target horizon in bars) and the data-driven dependence range of
 *   both series (`shiftBlock`), so no replicate is a near-copy of the observed alignment.
 */
export type PermutationScheme = "iid" | "circular_shift";

/** Which algorithm computes dCor: `auto` picks `exact` below DCOR_CROSSOVER points, else `fast`. */
export type DcorMethod = "auto" | "exact" | "fast";

/** Distance correlation of one (x, y) pair. */
export interface DcorResult {
  /** V-statistic distance correlation in [0, 1] (energy::dcor); NaN when n < 2. */
  dcor: number;
  /** Bias-corrected (U-centred) squared distance correlation (energy::bcdcor), may be < 0; NaN when n < 4. */
  dcor2_bc: number;
  /** V-statistic squared distance covariance in the inputs' units (energy::dcov squared). */
  dcov2: number;
  /** Complete (finite x and y) pairs used. */
  n: number;
  /** The algorithm that produced the result. */
  method: "exact" | "fast" | "gpu";
  /** Why a value is NaN, when one is. */
  reason?: string;
}

/** Options for the permutation test. */
export interface DcorTestOptions {
  /** Number of permutations B (default 999). */
  permutations?: number;
  /** Seed of the permutations (a non-negative integer; default 0). The same seed gives the same p-value. */
  seed?: number;
  /** CPU algorithm for the replicates (default `auto`, as `dcor`). */
  method?: DcorMethod;
  /** How replicates of y are drawn (default `iid`, as energy::dcor.test). */
  scheme?: PermutationScheme;
  /** `circular_shift`: the least shift in rows (e.g. the target horizon in bars; default 1). */
  minBlock?: number;
  /**
   * Sequential Monte Carlo (Besag & Clifford 1991): stop after this many replicates >= the observed statistic
   * (h), with p = h / L for the L replicates drawn; when fewer than h are seen in all B, the p-value is the
   * full-B one exactly. 0 or undefined: always draw all B (default). The CPU path draws only L replicates;
   * the GPU path draws all B in its batches and applies the same rule to them in order (the same p-values up
   * to f32 ties).
   */
  stopAfter?: number;
}

/** Result of a distance correlation permutation test (energy::dcor.test). */
export interface DcorTestResult {
  /** The observed dCor (V-statistic). */
  statistic: number;
  /** (1 + #{T_b >= T}) / (1 + B): T the observed dCov², T_b the one of x and the b-th permutation of y. */
  p_value: number;
  /** Number of permutations. */
  B: number;
  /** Replicates drawn when the test stopped early (`stopAfter`; p = stopAfter / this); absent otherwise. */
  stopped_at?: number;
  /** Complete pairs used. */
  n: number;
  /** The algorithm that computed the replicates. */
  method: "exact" | "fast" | "gpu";
  /** The permutation scheme. */
  scheme: PermutationScheme;
  /** `circular_shift`: the least shift L (shifts are drawn from [L, n - L]). */
  block?: number;
  /** Why the result is NaN, when it is. */
  reason?: string;
}

/**
 * Dependence range of `v` (Politis & White 2004, the m̂ of their automatic block length): the smallest lag m
 * such that the K_n autocorrelations after it are all below 2 sqrt(log10(n) / n), K_n = max(5,
 * ceil(sqrt(log10 n))); `maxLag` when none is found up to it. 0 for a constant series. O(n m̂).
 */
export function dependenceRange(v: Float64Array, maxLag: number): number {
  const n = v.length;
  const { mean } = meanSd(v);
  const c = v.map((t) => t - mean);
  let c0 = 0;
  for (let t = 0; t < n; t++) c0 += c[t] * c[t];
  if (!(c0 > 0) || n < 3) return 0;
  const bound = 2 * Math.sqrt(Math.log10(n) / n);
  const K = Math.max(5, Math.ceil(Math.sqrt(Math.log10(n))));
  const last = Math.min(n - 1, maxLag + K);
  const s = new Float64Array(4);
  let quiet = 0; // consecutive lags with |rho| < bound
  // Four lags per pass over c: four independent sums (each still added in t order) instead of one chain.
  for (let k = 1; k <= last; k += 4) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, t = 0;
    for (; t + k + 3 < n; t++) {
      const ct = c[t];
      s0 += ct * c[t + k], s1 += ct * c[t + k + 1], s2 += ct * c[t + k + 2], s3 += ct * c[t + k + 3];
    }
    s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3;
    for (let j = 0; j < 3; j++) for (let u = t; u + k + j < n; u++) s[j] += c[u] * c[u + k + j];
    for (let j = 0; j < 4 && k + j <= last; j++) {
      quiet = Math.abs(s[j] / c0) < bound ? quiet + 1 : 0;
      if (quiet === K) return Math.min(maxLag, k + j - K);
    }
  }
  return maxLag;
}

/**
 * The least circular shift L for the pair (x, y) of n complete rows: max(minBlock, the dependence range of x
 * and of y, capped at floor(n / 4)). Shifts are drawn from [L, n - L], so the test needs n >= 2L.
 */
export function shiftBlock(x: Float64Array, y: Float64Array, minBlock: number): number {
  const cap = Math.floor(x.length / 4);
  return Math.max(minBlock, dependenceRange(x, cap), dependenceRange(y, cap));
}

/** The shift of replicate `b` for `seed`: L + draw mod (n - 2L + 1) (shaders/dcor_permute.wgsl `shift`). */
export function circularShift(seed: number, b: number, n: number, block: number): number {
  return block + permDraw(permBase(seed, b), 0) % (n - 2 * block + 1);
}

/** Replicate `b` of the circular-shift scheme as a permutation: out[k] = (k + s) mod n. */
export function shiftPermutation(
  seed: number,
  b: number,
  n: number,
  block: number,
  out = new Uint32Array(n),
): Uint32Array {
  const s = circularShift(seed, b, n, block) % n; // s <= n - L < n already; % n only guards n = 0
  const split = n - s; // out[k] = k + s before the wrap, k + s - n after it (no division per element)
  for (let k = 0; k < split; k++) out[k] = k + s;
  for (let k = split; k < n; k++) out[k] = k - split;
  return out;
}

/** Why a dCor result is NaN for n complete pairs (undefined when nothing is). */
export function nanReason(n: number): string | undefined {
  if (n < 2) return `dcor needs at least 2 complete pairs, got ${n}`;
  if (n < 4) return `the bias-corrected dcor2_bc needs at least 4 complete pairs, got ${n}`;
  return undefined;
}

/** Validates and fills the permutation test options. */
export function testOptions(
  opts: {
    permutations?: number;
    seed?: number;
    scheme?: PermutationScheme;
    minBlock?: number;
    stopAfter?: number;
  },
): { B: number; seed: number; scheme: PermutationScheme; minBlock: number; stopAfter: number } {
  const B = opts.permutations ?? 999, seed = opts.seed ?? 0, stopAfter = opts.stopAfter ?? 0;
  const scheme = opts.scheme ?? "iid", minBlock = opts.minBlock ?? 1;
  if (scheme !== "iid" && scheme !== "circular_shift") {
    throw new RangeError(
      `dcor test: scheme must be "iid" or "circular_shift", got ${JSON.stringify(scheme)}`,
    );
  }
  if (!Number.isInteger(minBlock) || minBlock < 1) {
    throw new RangeError(`dcor test: minBlock must be an integer >= 1, got ${minBlock}`);
  }
  if (!Number.isInteger(B) || B < 1) {
    throw new RangeError(`dcor test: permutations must be an integer >= 1, got ${B}`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`dcor test: seed must be an integer in [0, 2^32), got ${seed}`);
  }
  if (!Number.isInteger(stopAfter) || stopAfter < 0) {
    throw new RangeError(`dcor test: stopAfter must be an integer >= 0, got ${stopAfter}`);
  }
  return { B, seed, scheme, minBlock, stopAfter };
}

/**
 * The least shift L of a circular-shift test on the complete pairs (undefined for `iid`), or the reason
 * the test cannot run (n < 2L: no shift in [L, n - L]).
 */
export function testBlock(
  x: Float64Array,
  y: Float64Array,
  scheme: PermutationScheme,
  minBlock: number,
): { block?: number; reason?: string } {
  if (scheme === "iid") return {};
  const block = shiftBlock(x, y, minBlock);
  return 2 * block > x.length
    ? { block, reason: `circular shifts of at least ${block} rows need n >= ${2 * block}, got ${x.length}` }
    : { block };
}

/** Permutation `b` of the scheme (`block`: the least shift, circular_shift only). */
export function schemePermutation(
  seed: number,
  b: number,
  n: number,
  block: number | undefined,
  out: Uint32Array<ArrayBuffer>,
): Uint32Array {
  return block === undefined ? permutation(seed, b, n, out) : shiftPermutation(seed, b, n, block, out);
}

/**
 * A permutation p-value over replicates taken in order (Besag & Clifford 1991): with `h` > 0 the test stops at
 * the h-th replicate >= the observed statistic, p = h / replicates drawn; otherwise, or when h is never
 * reached, (1 + #{>=}) / (1 + replicates). The one rule of both backends' tests.
 */
export class SequentialPValue {
  #ge = 0;
  #drawn = 0;
  constructor(readonly observed: number, readonly h: number) {}

  /** Takes the next replicate; true once the test has stopped (take no more). */
  add(replicate: number): boolean {
    this.#drawn++;
    if (replicate >= this.observed) this.#ge++;
    return this.h > 0 && this.#ge === this.h;
  }

  /** The p-value, and the replicates drawn when the test stopped early. */
  result(): { p_value: number; stopped_at?: number } {
    return this.h > 0 && this.#ge === this.h
      ? { p_value: this.h / this.#drawn, stopped_at: this.#drawn }
      : { p_value: (1 + this.#ge) / (1 + this.#drawn) };
  }
}
