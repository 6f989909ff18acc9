/**
 * Causal convolution of long real filters by FFT (overlap-save), for several filters in one pass.
 *
 * A series is cut into blocks of L = N - M + 1 outputs, where N is the FFT size (a power of two) and M the
 * longest filter; block b reads the N inputs ending at its last output (zeros before the series start), and
 * its circular convolution with a filter is exact at the last L positions. Two real blocks a, b are packed
 * into one complex signal a + i·b: the filters are real, so multiplying its spectrum by a filter's spectrum
 * and inverting gives (a*w) + i·(b*w) with no spectrum separation. Each input spectrum is computed once
 * and reused for every filter.
 *
 * Output conventions are those of `convolveCausalCpu` (kernels/fracdiff.ts): y_t = sum_{k<W} w_k x_{t-k},
 * NaN for t < W - 1 and where a NaN/Inf lies in the window (non-finite inputs are zeroed for the FFT and
 * the affected outputs marked NaN afterwards from the last bad index).
 *
 * The f64 CPU path uses a radix-4 FFT into scrambled order and back (`ScrambledFft`: no permutation
 * passes), the filter spectra computed once per call. The GPU path
 * (shaders/fft_*.wgsl) runs a Stockham radix-2 FFT with one dispatch per stage, ping-ponging between
 * storage buffers (no workgroup barriers); loading/zero-padding is fused into the first forward stage
 * (fft_load), the spectrum product into the first inverse stage (fft_multiply) and the overlap-save
 * extraction into the last one (fft_extract). Filter spectra and twiddles are computed in f64 on the host
 * and uploaded as f32; inputs are centred on the host (conv(x - c) = conv(x) - c·sum(w)).
 *
 * Tolerance (GPU, f32 vs the f64 reference): |gpu - ref| <= 1e-5·max(1, |ref|) on random-walk log prices
 * (around 9, centred on the host) and on returns; the error grows like eps_f32·log2(N)·(spread of the
 * centred inputs)·||w||.
 */
import { type Batch, type GpuRuntime, grid } from "../runtime/gpu.ts";
import { centre, runSegmented, type SegmentIO } from "../runtime/segments.ts";

/** Largest FFT size either path picks. */
export const MAX_FFT_SIZE = 1 << 15;
const MIN_FFT_SIZE = 16;
/** FFT size past which the CPU path's arrays fall out of cache (see `chooseFftSize`). */
const CPU_CACHE_FFT_SIZE = 16384;

/** An in-place iterative radix-2 complex FFT of size `n` (a power of two) with precomputed f64 twiddles. */
export class FftPlan {
  readonly log2n: number;
  /** cos(2πk/n), sin(2πk/n) for k < n/2. */
  readonly cos: Float64Array;
  readonly sin: Float64Array;
  readonly #rev: Uint32Array;

  constructor(readonly n: number) {
    this.log2n = Math.round(Math.log2(n));
    if (n < 2 || 2 ** this.log2n !== n) throw new RangeError(`FFT size ${n} is not a power of two >= 2`);
    const half = n >> 1;
    this.cos = new Float64Array(half);
    this.sin = new Float64Array(half);
    for (let k = 0; k < half; k++) {
      const a = (2 * Math.PI * k) / n;
      this.cos[k] = Math.cos(a);
      this.sin[k] = Math.sin(a);
    }
    this.#rev = new Uint32Array(n);
    for (let i = 1; i < n; i++) this.#rev[i] = (this.#rev[i >> 1] >> 1) | ((i & 1) << (this.log2n - 1));
  }

  /** Forward transform X_k = sum_j x_j e^{-2πijk/n}, in place. */
  forward(re: Float64Array, im: Float64Array): void {
    this.#run(re, im, -1);
  }

  /** Unscaled inverse transform x_j = sum_k X_k e^{+2πijk/n} (n times the inverse DFT), in place. */
  inverse(re: Float64Array, im: Float64Array): void {
    this.#run(re, im, 1);
  }

  #run(re: Float64Array, im: Float64Array, sign: number): void {
    const n = this.n, rev = this.#rev, cos = this.cos, sin = this.sin;
    for (let i = 0; i < n; i++) {
      const j = rev[i];
      if (j > i) {
        const r = re[i], m = im[i];
        re[i] = re[j], im[i] = im[j];
        re[j] = r, im[j] = m;
      }
    }
    // Size-2 butterflies need no twiddles.
    for (let a = 0; a < n; a += 2) {
      const r = re[a + 1], m = im[a + 1];
      re[a + 1] = re[a] - r, im[a + 1] = im[a] - m;
      re[a] += r, im[a] += m;
    }
    for (let size = 4; size <= n; size <<= 1) {
      const half = size >> 1, step = n / size;
      for (let j = 0, k = 0; j < half; j++, k += step) {
        const wr = cos[k], wi = sign * sin[k];
        for (let a = j; a < n; a += size) {
          const b = a + half;
          const tr = re[b] * wr - im[b] * wi, ti = re[b] * wi + im[b] * wr;
          re[b] = re[a] - tr, im[b] = im[a] - ti;
          re[a] += tr, im[a] += ti;
        }
      }
    }
  }
}

/**
 * Cost model for the FFT size: the number of packed block pairs times (1 forward + `nFilters` inverse)
 * FFTs of N·log2 N, for segments of the given lengths, times max(1, N / cacheSize); the cheapest power of
 * two in [max(16, M), maxSize] (ties go to the smaller size). Blocks per segment are counted exactly, so
 * short series get small sizes. The cache factor is measured: the CPU path's FFT (`ScrambledFft`, depth
 * first) slows down past 16384 points (d = 0.4, W = 1458, 1e6 points: N = 16384 and 32768 ~9% faster than 8192);
 * the GPU stages are memory passes with no such cliff on llvmpipe, so the GPU path uses no factor.
 */
export function chooseFftSize(
  maxW: number,
  lengths: number[],
  nFilters: number,
  maxSize = MAX_FFT_SIZE,
  cacheSize = Infinity,
): number {
  let n = MIN_FFT_SIZE;
  while (n < maxW) n *= 2;
  let best = n, bestCost = Infinity;
  for (; n <= Math.max(maxSize, best); n *= 2) {
    const L = n - maxW + 1;
    const blocks = lengths.reduce((a, len) => a + Math.ceil(len / L), 0);
    const cost = Math.ceil(blocks / 2) * (1 + nFilters) * n * Math.log2(n) * Math.max(1, n / cacheSize);
    if (cost < bestCost) best = n, bestCost = cost;
  }
  return best;
}

/**
 * The CPU path's FFT: radix-4 decimation in frequency (the last stage twiddle-free, radix 2 when log2 n is
 * odd) from natural order to a scrambled (digit-reversed) order, and its exact reverse back to natural order.
 * A convolution only multiplies spectra point by point, so the order of the bins does not matter and no
 * permutation pass is needed; radix 4 halves the passes over the arrays and does ~15% fewer flops than
 * radix 2 (`FftPlan`, which the GPU path mirrors, stays the plain one).
 */
export class ScrambledFft {
  /** Per radix-4 stage: the quarter span s and the twiddles e^{-2πiqj/4s} for j < s, q = 1..3, as (re, im) x 3. */
  readonly #stages: { s: number; tw: Float64Array }[] = [];
  /** The last stage's size: 4 (a twiddle-free radix-4 pass), 2 (a radix-2 pass) or 1 (none, n = 1). */
  readonly #last: number;

  constructor(readonly n: number) {
    if (n < 2 || 2 ** Math.round(Math.log2(n)) !== n) {
      throw new RangeError(`FFT size ${n} is not a power of two >= 2`);
    }
    let len = n;
    for (; len >= 8; len >>= 2) {
      const s = len >> 2, tw = new Float64Array(6 * s);
      for (let j = 0; j < s; j++) {
        for (let q = 1; q <= 3; q++) {
          const a = (-2 * Math.PI * q * j) / len;
          tw[6 * j + 2 * q - 2] = Math.cos(a), tw[6 * j + 2 * q - 1] = Math.sin(a);
        }
      }
      this.#stages.push({ s, tw });
    }
    this.#last = len;
  }

  /** Forward transform (e^{-2πijk/n}) in place, from natural order to the scrambled order. */
  forward(re: Float64Array, im: Float64Array): void {
    this.#forwardBlock(re, im, 0, 0);
  }

  /**
   * Unscaled inverse (n times the inverse DFT) in place, from the scrambled order back to natural order: the
   * forward stages' conjugate transposes in reverse order (conjugate twiddles, then the inverse butterfly).
   */
  inverse(re: Float64Array, im: Float64Array): void {
    this.#inverseBlock(re, im, 0, 0);
  }

  /** Points in the block that stage `st` splits (the last stage's size past the radix-4 stages). */
  #blockLength(st: number): number {
    return st < this.#stages.length ? 4 * this.#stages[st].s : this.#last;
  }

  // Depth first: a block's stage, then each quarter's later stages, so that once a block fits in L1
  // (CACHE_LEAF points) its remaining passes stay there instead of streaming the whole array per stage.
  #forwardBlock(re: Float64Array, im: Float64Array, base: number, st: number): void {
    const stages = this.#stages, len = this.#blockLength(st);
    if (len <= CACHE_LEAF) {
      for (let t = st; t < stages.length; t++) {
        forwardStage(re, im, base, base + len, stages[t].s, stages[t].tw);
      }
      lastStage(re, im, base, base + len, this.#last, -1);
      return;
    }
    const { s, tw } = stages[st];
    forwardStage(re, im, base, base + len, s, tw);
    for (let q = 0; q < 4; q++) this.#forwardBlock(re, im, base + q * s, st + 1);
  }

  #inverseBlock(re: Float64Array, im: Float64Array, base: number, st: number): void {
    const stages = this.#stages, len = this.#blockLength(st);
    if (len <= CACHE_LEAF) {
      lastStage(re, im, base, base + len, this.#last, 1);
      for (let t = stages.length - 1; t >= st; t--) {
        inverseStage(re, im, base, base + len, stages[t].s, stages[t].tw);
      }
      return;
    }
    const { s, tw } = stages[st];
    for (let q = 0; q < 4; q++) this.#inverseBlock(re, im, base + q * s, st + 1);
    inverseStage(re, im, base, base + len, s, tw);
  }
}

/** Points per block below which `ScrambledFft` runs the remaining stages breadth first (16 KiB of re + im). */
const CACHE_LEAF = 1024;

/** One radix-4 DIF stage (quarter span s) on the blocks of [from, to). */
function forwardStage(
  re: Float64Array,
  im: Float64Array,
  from: number,
  to: number,
  s: number,
  tw: Float64Array,
) {
  for (let b = from; b < to; b += 4 * s) {
    for (let j = 0, k = 0; j < s; j++, k += 6) {
      const i0 = b + j, i1 = i0 + s, i2 = i1 + s, i3 = i2 + s;
      const ar = re[i0], ai = im[i0], br = re[i1], bi = im[i1];
      const cr = re[i2], ci = im[i2], dr = re[i3], di = im[i3];
      const t0r = ar + cr, t0i = ai + ci, t1r = ar - cr, t1i = ai - ci;
      const t2r = br + dr, t2i = bi + di, t3r = br - dr, t3i = bi - di;
      re[i0] = t0r + t2r, im[i0] = t0i + t2i;
      // y1 = t1 - i·t3, y2 = t0 - t2, y3 = t1 + i·t3, each times its twiddle.
      const y1r = t1r + t3i, y1i = t1i - t3r, y2r = t0r - t2r, y2i = t0i - t2i;
      const y3r = t1r - t3i, y3i = t1i + t3r;
      const w1r = tw[k], w1i = tw[k + 1], w2r = tw[k + 2], w2i = tw[k + 3], w3r = tw[k + 4], w3i = tw[k + 5];
      re[i1] = y1r * w1r - y1i * w1i, im[i1] = y1r * w1i + y1i * w1r;
      re[i2] = y2r * w2r - y2i * w2i, im[i2] = y2r * w2i + y2i * w2r;
      re[i3] = y3r * w3r - y3i * w3i, im[i3] = y3r * w3i + y3i * w3r;
    }
  }
}

/** The conjugate transpose of `forwardStage`: conjugate twiddles, then the inverse butterfly. */
function inverseStage(
  re: Float64Array,
  im: Float64Array,
  from: number,
  to: number,
  s: number,
  tw: Float64Array,
) {
  for (let b = from; b < to; b += 4 * s) {
    for (let j = 0, k = 0; j < s; j++, k += 6) {
      const i0 = b + j, i1 = i0 + s, i2 = i1 + s, i3 = i2 + s;
      const w1r = tw[k], w1i = tw[k + 1], w2r = tw[k + 2], w2i = tw[k + 3], w3r = tw[k + 4], w3i = tw[k + 5];
      const ar = re[i0], ai = im[i0];
      const xr = re[i1], xi = im[i1], br = xr * w1r + xi * w1i, bi = xi * w1r - xr * w1i;
      const yr = re[i2], yi = im[i2], cr = yr * w2r + yi * w2i, ci = yi * w2r - yr * w2i;
      const zr = re[i3], zi = im[i3], dr = zr * w3r + zi * w3i, di = zi * w3r - zr * w3i;
      const t0r = ar + cr, t0i = ai + ci, t1r = ar - cr, t1i = ai - ci;
      const t2r = br + dr, t2i = bi + di, t3r = br - dr, t3i = bi - di;
      // x0 = t0 + t2, x1 = t1 + i·t3, x2 = t0 - t2, x3 = t1 - i·t3.
      re[i0] = t0r + t2r, im[i0] = t0i + t2i;
      re[i1] = t1r - t3i, im[i1] = t1i + t3r;
      re[i2] = t0r - t2r, im[i2] = t0i - t2i;
      re[i3] = t1r + t3i, im[i3] = t1i - t3r;
    }
  }
}

/**
 * The twiddle-free last stage on adjacent groups of `size` (4 or 2) points of [from, to), forward (sign -1)
 * or inverse (sign 1); each is its own stage's conjugate transpose.
 */
function lastStage(re: Float64Array, im: Float64Array, from: number, to: number, size: number, sign: number) {
  if (size === 2) {
    for (let a = from; a < to; a += 2) {
      const r = re[a + 1], m = im[a + 1];
      re[a + 1] = re[a] - r, im[a + 1] = im[a] - m;
      re[a] += r, im[a] += m;
    }
    return;
  }
  for (let a = from; a < to; a += 4) {
    const ar = re[a], ai = im[a], br = re[a + 1], bi = im[a + 1];
    const cr = re[a + 2], ci = im[a + 2], dr = re[a + 3], di = im[a + 3];
    const t0r = ar + cr, t0i = ai + ci, t1r = ar - cr, t1i = ai - ci;
    const t2r = br + dr, t2i = bi + di, t3r = (br - dr) * sign, t3i = (bi - di) * sign;
    // Output 1 is t1 + sign·i·t3 and output 3 is t1 - sign·i·t3.
    re[a] = t0r + t2r, im[a] = t0i + t2i;
    re[a + 1] = t1r - t3i, im[a + 1] = t1i + t3r;
    re[a + 2] = t0r - t2r, im[a + 2] = t0i - t2i;
    re[a + 3] = t1r + t3i, im[a + 3] = t1i - t3r;
  }
}

/** Spectra of the zero-padded filters, scaled by 1/N so that `inverse` returns the convolution. */
function filterSpectra(
  plan: FftPlan | ScrambledFft,
  filters: Float64Array[],
): { re: Float64Array; im: Float64Array }[] {
  return filters.map((w) => {
    const re = new Float64Array(plan.n), im = new Float64Array(plan.n);
    re.set(w);
    plan.forward(re, im);
    for (let i = 0; i < plan.n; i++) re[i] /= plan.n, im[i] /= plan.n;
    return { re, im };
  });
}

function checkFilters(filters: Float64Array[]): number {
  if (!filters.length || filters.some((w) => w.length === 0)) throw new RangeError("empty filter");
  return Math.max(...filters.map((w) => w.length));
}

/** Plans by size: their twiddles cost ~16k sin/cos at N = 8192, as much as a few blocks' FFTs. */
const scrambledPlans = new Map<number, ScrambledFft>();
function scrambledPlan(n: number): ScrambledFft {
  let p = scrambledPlans.get(n);
  if (!p) scrambledPlans.set(n, p = new ScrambledFft(n));
  return p;
}

/**
 * FFT size of the CPU path for M weights: chosen as for a long series whatever the input's length, so that
 * the block split (and with it the rounding) of a chunk is the whole series' (a short series pays for a
 * larger transform than it needs, once).
 */
export function cpuFftSize(M: number, nFilters: number): number {
  return chooseFftSize(M, [2 ** 26], nFilters, MAX_FFT_SIZE, CPU_CACHE_FFT_SIZE);
}

/** Period of the CPU path's block-pair grid for M weights (the `grid` of kernels that use it). */
export function cpuFftGrid(M: number, nFilters: number): number {
  return 2 * (cpuFftSize(M, nFilters) - M + 1);
}

/**
 * f64 CPU path: `x` convolved causally with every filter (overlap-save FFT), one output per filter with the
 * conventions of `convolveCausalCpu`; `origin` is the absolute row of x[0] (see {@link cpuFftGrid}).
 */
export function fftConvolveCausalCpu(x: Float64Array, filters: Float64Array[], origin = 0): Float64Array[] {
  const M = checkFilters(filters);
  const n = x.length;
  const outs = filters.map(() => new Float64Array(n));
  if (n === 0) return outs;
  const N = cpuFftSize(M, filters.length);
  const plan = scrambledPlan(N);
  const spectra = filterSpectra(plan, filters);
  const L = N - M + 1, lead = M - 1;
  const re = new Float64Array(N), im = new Float64Array(N);
  const yr = new Float64Array(N), yi = new Float64Array(N);
  // Each block subtracts its own anchor (its first output's input, a causal choice), so the FFT's rounding
  // is relative to the block's spread rather than the series' level; padding and NaN/Inf count as the anchor.
  let finite = true;
  for (let t = 0; t < n && finite; t++) finite = Number.isFinite(x[t]);
  const load = (dst: Float64Array, t0: number): number => {
    const a = t0 < n && Number.isFinite(x[t0]) ? x[t0] : 0;
    const from = t0 - lead;
    if (finite && from >= 0 && from + N <= n) {
      for (let i = 0; i < N; i++) dst[i] = x[from + i] - a; // an inside block of a finite series
    } else {
      for (let i = 0; i < N; i++) {
        const j = from + i;
        dst[i] = j >= 0 && j < n && Number.isFinite(x[j]) ? x[j] - a : 0;
      }
    }
    return a;
  };
  const sums = filters.map((w) => w.reduce((a, b) => a + b, 0));
  // Block pairs start at absolute multiples of 2L (`origin` is x[0]'s row), so a chunk of a longer series
  // transforms the same blocks as the whole series; a pair reads [t0 - lead, t0 + 2L) and no further.
  const first = (2 * L - (origin % (2 * L))) % (2 * L);
  for (let t0 = first > 0 ? first - 2 * L : 0; t0 < n; t0 += 2 * L) {
    const a0 = load(re, t0), a1 = load(im, t0 + L);
    plan.forward(re, im);
    filters.forEach((_, f) => {
      const { re: hr, im: hi } = spectra[f];
      for (let i = 0; i < N; i++) {
        yr[i] = re[i] * hr[i] - im[i] * hi[i];
        yi[i] = re[i] * hi[i] + im[i] * hr[i];
      }
      plan.inverse(yr, yi);
      const y = outs[f], b0 = a0 * sums[f], b1 = a1 * sums[f];
      // A pair before x[0] (a chunk's first) writes only its rows from x[0] on.
      const m0 = Math.min(L, n - t0), m1 = Math.min(L, n - t0 - L);
      for (let i = Math.max(0, -t0); i < m0; i++) y[t0 + i] = yr[lead + i] + b0;
      for (let i = Math.max(0, -t0 - L); i < m1; i++) y[t0 + L + i] = yi[lead + i] + b1;
    });
  }
  filters.forEach((w, f) => {
    const y = outs[f], W = w.length;
    y.fill(NaN, 0, Math.min(n, W - 1));
    if (finite) return;
    let lastBad = -1;
    for (let t = 0; t < n; t++) {
      if (!Number.isFinite(x[t])) lastBad = t;
      if (lastBad > t - W) y[t] = NaN;
    }
  });
  return outs;
}

const WG = 64;
/** Shaders of the load (first forward stage), plain, multiply (first inverse) and extract (last) stages. */
const STAGES = ["fft_load", "fft_stage", "fft_multiply", "fft_extract"];

interface GpuPlan {
  plan: FftPlan;
  /** e^{-2πik/N} for k < N/2, interleaved (re, im). */
  tw: Float32Array;
  /** Filter spectra / N, interleaved (re, im). */
  spectra: Float32Array[];
}

/**
 * WebGPU path: every column convolved causally with every filter, out[column][filter] (same conventions
 * as `fftConvolveCausalCpu`). Long columns are chunked by `runSegmented` with a halo of max(W) - 1; all
 * dispatches of a chunk batch go into one submit.
 */
export async function fftConvolveCausalGpu(
  rt: GpuRuntime,
  columns: Float64Array[],
  filters: Float64Array[],
): Promise<Float64Array[][]> {
  const M = checkFilters(filters);
  const planes = filters.length;
  const sums = filters.map((w) => w.reduce((a, b) => a + b, 0));
  const pipes = await Promise.all(STAGES.map((name) => rt.pipeline(name)));
  // One complex f32 buffer must hold at least one block pair.
  const maxSize = Math.min(MAX_FFT_SIZE, 2 ** Math.floor(Math.log2(rt.limits.maxBindingBytes / 8)));
  if (maxSize < M) {
    throw new RangeError(
      `a filter of ${M} weights needs more than the ${rt.limits.maxBindingBytes}-byte binding`,
    );
  }
  const plans = new Map<number, GpuPlan>();
  const planFor = (N: number): GpuPlan => {
    let p = plans.get(N);
    if (!p) {
      const plan = new FftPlan(N);
      const tw = new Float32Array(N);
      for (let k = 0; k < N / 2; k++) tw[2 * k] = plan.cos[k], tw[2 * k + 1] = -plan.sin[k];
      const spectra = filterSpectra(plan, filters).map(({ re, im }) => {
        const s = new Float32Array(2 * N);
        for (let i = 0; i < N; i++) s[2 * i] = re[i], s[2 * i + 1] = im[i];
        return s;
      });
      plans.set(N, p = { plan, tw, spectra });
    }
    return p;
  };
  // Scratch per point at the least efficient useful size (N = 2M, blocks of about M points): 3 buffers of
  // N complex f32 per block pair. encodeFft also bounds it per batch by groups of block pairs.
  const scratchPerPoint = Math.ceil((3 * 8 * Math.max(2 * M, MIN_FFT_SIZE)) / (2 * M));
  const offsets = columns.map((x) => centre(x));
  return runSegmented(rt, {
    columns: columns.map((x) => [x]),
    halo: M - 1,
    planes,
    bindBytesPerPoint: 4 * planes,
    totalBytesPerPoint: 8 + 8 * planes + scratchPerPoint,
    prepare: (col) => {
      const x = col[0];
      const off = offsets[columns.indexOf(x)];
      // A value that is not finite in f32 after centring is zeroed by the shader: its windows are NaN.
      let lastBad: Int32Array | null = null;
      for (let t = 0, last = -1; t < x.length; t++) {
        if (!Number.isFinite(Math.fround(x[t] - off))) {
          lastBad ??= new Int32Array(x.length).fill(-1);
          last = t;
        }
        if (lastBad) lastBad[t] = last;
      }
      const widths = filters.map((w) => w.length);
      return {
        offsets: [off],
        add: sums.map((s) => off * s),
        finish: (out) =>
          out.forEach((y, p) => {
            const W = widths[p];
            y.fill(NaN, 0, Math.min(W - 1, y.length));
            if (lastBad) { for (let t = W - 1; t < y.length; t++) if (lastBad[t] > t - W) y[t] = NaN; }
          }),
      };
    },
    encode: (b, io) => {
      encodeFft(b, io, pipes, M, sums, maxSize, planFor, (c, t) => Math.fround(columns[c][t] - offsets[c]));
      return Promise.resolve();
    },
  });
}

function encodeFft(
  b: Batch,
  io: SegmentIO,
  pipes: GPUComputePipeline[],
  M: number,
  sums: number[],
  maxSize: number,
  planFor: (N: number) => GpuPlan,
  input: (column: number, t: number) => number,
): void {
  const rt = b.rt, planes = sums.length;
  const N = chooseFftSize(M, io.segments.map((s) => s.end - s.start), planes, maxSize);
  const { plan, tw, spectra } = planFor(N);
  const L = N - M + 1, half = N / 2, m = plan.log2n;
  // Block table (offset, len, t0, anchor) in segment coordinates. Pairs never mix segments (a segment
  // with an odd block count gets an empty partner): the packed FFT's rounding is shared by the real and
  // imaginary parts, so a column of prices around 1e4 would otherwise spoil a log-price block. The anchor (the f32 input at the block's first output, 0 if not finite: causal) is subtracted
  // in fft_load and added back times sum(w) in fft_extract, so the FFT's rounding is relative to the
  // block's spread.
  const blocks: number[] = [];
  for (const s of io.segments) {
    const len = s.end - s.start;
    for (let t0 = 0; t0 < len; t0 += L) {
      const a = input(s.column, s.start + t0);
      blocks.push(s.offset, len, t0, Number.isFinite(a) ? a : 0);
    }
    if ((blocks.length / 4) % 2) blocks.push(0, 0, 0, 0);
  }
  const pairs = blocks.length / 8;
  const table = new Uint32Array(blocks.length);
  const tableF32 = new Float32Array(table.buffer);
  blocks.forEach((v, i) => (i % 4 === 3 ? (tableF32[i] = v) : (table[i] = v)));
  const blockBuf = b.upload(table);
  const twBuf = b.upload(tw);
  const specBufs = spectra.map((s) => b.upload(s));
  // Pair groups bounded by the binding limit and a share of the memory budget; scratch is reused per group.
  const perPair = N * 8;
  const groupPairs = Math.max(
    1,
    Math.min(
      pairs,
      Math.floor(rt.limits.maxBindingBytes / perPair),
      Math.floor(rt.pool.budgetBytes / 8 / perPair),
    ),
  );
  const scratch = [0, 1, 2].map(() => b.storage(groupPairs * perPair));
  const [pLoad, pStage, pMul, pExtract] = pipes;
  for (let base = 0; base < pairs; base += groupPairs) {
    const count = Math.min(groupPairs, pairs - base) * half;
    const groups = grid(count, WG, rt.limits.maxWorkgroupsPerDim);
    // One stage s (twiddle stride 1 << s, shift log2 of it) of plane `plane`'s transform, sign +1 forward.
    const stage = (
      pipe: GPUComputePipeline,
      s: number,
      sign: number,
      plane: number,
      bufs: Record<string, GPUBuffer>,
    ) => {
      const P = {
        n: N,
        half,
        p: 1 << s,
        shift: m - 1 - s,
        log_half: m - 1,
        count,
        base,
        sign,
        total: io.total,
        plane,
        lead: M - 1,
        sumw: sums[plane],
      };
      b.dispatchNamed(pipe, { ...bufs, P }, groups);
    };
    // Forward FFT of the packed block pairs: load (stage 0) then stages 1..m-1, ping-ponging.
    stage(pLoad, 0, 1, 0, { x: io.inputs[0], dst: scratch[0], blocks: blockBuf });
    let cur = 0;
    for (let s = 1; s < m; s++) {
      const nxt = cur === 0 ? 1 : 0;
      stage(pStage, s, 1, 0, { src: scratch[cur], dst: scratch[nxt], tw: twBuf });
      cur = nxt;
    }
    // Per filter: spectrum product (stage 0 of the inverse), stages 1..m-2, then the last stage writes out.
    const X = cur, [A, B] = [0, 1, 2].filter((i) => i !== X);
    for (let f = 0; f < planes; f++) {
      stage(pMul, 0, -1, f, { src: scratch[X], dst: scratch[A], spec: specBufs[f] });
      let src = A, dst = B;
      for (let s = 1; s < m - 1; s++) {
        stage(pStage, s, -1, f, { src: scratch[src], dst: scratch[dst], tw: twBuf });
        [src, dst] = [dst, src];
      }
      stage(pExtract, m - 1, -1, f, { src: scratch[src], out: io.out, blocks: blockBuf, tw: twBuf });
    }
  }
}

/**
 * Filters with at least this many weights go to the GPU FFT path, shorter ones to the direct shader.
 * Measured on llvmpipe (2 cores), 1e6 points, one filter: direct and FFT tie at 48-64 weights (~0.07-0.1 s,
 * mostly host work), FFT is 1.1x faster at 80, 1.8x at 128 and 4x at 512 weights.
 */
export const GPU_FFT_MIN_WEIGHTS = 65;

/**
 * Filters with at least this many weights go to the CPU FFT path. Measured (1e6 points): direct and FFT
 * tie around 48-56 weights, FFT is 1.5x faster at 64, 7x at 256 and 7x at 512.
 */
export const CPU_FFT_MIN_WEIGHTS = 49;
