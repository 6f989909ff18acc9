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
 * The f64 CPU path uses a radix-4 FFT into scrambled order and back in WebAssembly SIMD (`ScrambledFft`: no
 * permutation passes), the filter spectra computed once per call. The GPU path
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
import { FFT_RADIX4_WASM_BASE64 } from "./fft_radix4_wasm.ts";

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
 * The CPU path's FFT, in WebAssembly SIMD (kernels/fft_radix4.wat, f64x2 lanes over adjacent indices, no fused
 * multiply-add, so the same bits on every machine): radix-4 decimation in frequency (the last stage
 * twiddle-free, radix 2 when log2 n is odd) from natural order to a scrambled (digit-reversed) order, and its
 * exact reverse back to natural order, run depth first so that blocks of 1024 points finish in L1. A
 * convolution only multiplies spectra point by point, so the order of the bins does not matter and no
 * permutation pass is needed (`FftPlan`, which the GPU path mirrors, stays the plain radix-2 one).
 *
 * The complex arrays (slots) live in the module's memory: write a slot's `re`/`im` views, transform it in
 * place, read it back. Views are valid until {@link reserve} grows the memory.
 */
export class ScrambledFft {
  readonly #memory: WebAssembly.Memory;
  readonly #forward: Transform;
  readonly #inverse: Transform;
  readonly #multiply: (x: number, h: number, y: number, n: number) => void;
  readonly #add: (x: number, n: number, c: number) => number;
  /** Byte address of slot 0 (the twiddles are at 0). */
  readonly #base: number;
  #slots = 0;

  constructor(readonly n: number, slots = 1) {
    if (n < 2 || 2 ** Math.round(Math.log2(n)) !== n) {
      throw new RangeError(`FFT size ${n} is not a power of two >= 2`);
    }
    fftModule ??= new WebAssembly.Module(
      Uint8Array.from(atob(FFT_RADIX4_WASM_BASE64), (c) => c.charCodeAt(0)),
    );
    const { exports } = new WebAssembly.Instance(fftModule);
    this.#memory = exports.memory as WebAssembly.Memory;
    this.#forward = exports.forward as Transform;
    this.#inverse = exports.inverse as Transform;
    this.#multiply = exports.multiply as (x: number, h: number, y: number, n: number) => void;
    this.#add = exports.add as (x: number, n: number, c: number) => number;
    // Per radix-4 stage (block length len >= 8, quarter span s = len / 4): for each pair j, j + 1 of indices
    // below s, the twiddles e^{-2πiqj/len}, q = 1..3, as (re, im) f64x2 with j in lane 0 (see the WAT).
    const tw: number[] = [];
    for (let len = n; len >= 8; len >>= 2) {
      const s = len >> 2;
      for (let j = 0; j < s; j += 2) {
        for (let q = 1; q <= 3; q++) {
          const a0 = (-2 * Math.PI * q * j) / len, a1 = (-2 * Math.PI * q * (j + 1)) / len;
          tw.push(Math.cos(a0), Math.cos(a1), Math.sin(a0), Math.sin(a1));
        }
      }
    }
    this.#base = Math.ceil(tw.length / 2) * 16;
    this.reserve(slots);
    new Float64Array(this.#memory.buffer, 0, tw.length).set(tw);
  }

  /** Makes room for `slots` complex arrays (growing the memory detaches earlier views). */
  reserve(slots: number): void {
    if (slots <= this.#slots) return;
    const bytes = this.#base + slots * 16 * this.n;
    const pages = Math.ceil(bytes / 65536) - this.#memory.buffer.byteLength / 65536;
    if (pages > 0) this.#memory.grow(pages);
    this.#slots = slots;
  }

  /** Complex array `k`: views of its n real and n imaginary parts in the module's memory. */
  slot(k: number): { re: Float64Array; im: Float64Array } {
    const at = this.#address(k);
    return {
      re: new Float64Array(this.#memory.buffer, at, this.n),
      im: new Float64Array(this.#memory.buffer, at + 8 * this.n, this.n),
    };
  }

  /** Forward transform (e^{-2πijk/n}) of slot k in place, from natural order to the scrambled order. */
  forward(k: number): void {
    this.#forward(this.#address(k), this.n, 0);
  }

  /**
   * Unscaled inverse (n times the inverse DFT) of slot k in place, from the scrambled order back to natural
   * order: the forward stages' conjugate transposes in reverse order.
   */
  inverse(k: number): void {
    this.#inverse(this.#address(k), this.n, 0);
  }

  /** Slot y = slot x times slot h, point by point (y may be x). */
  multiply(x: number, h: number, y: number): void {
    this.#multiply(this.#address(x), this.#address(h), this.#address(y), this.n);
  }

  /**
   * Adds c to points [from, to) of slot k's real (part 0) or imaginary (part 1) parts; returns 0, or NaN when
   * one of the sums is not finite.
   */
  add(k: number, part: 0 | 1, from: number, to: number, c: number): number {
    return this.#add(this.#address(k) + 8 * (part * this.n + from), to - from, c);
  }

  #address(k: number): number {
    if (!(k >= 0 && k < this.#slots)) throw new RangeError(`FFT slot ${k} of ${this.#slots}`);
    return this.#base + k * 16 * this.n;
  }
}

let fftModule: WebAssembly.Module | undefined;
/** A transform of the array at byte address x, n points, twiddles at byte address tw. */
type Transform = (x: number, n: number, tw: number) => void;

/** Spectra of the zero-padded filters, scaled by 1/N so that `inverse` returns the convolution. */
function filterSpectra(
  plan: FftPlan,
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

/**
 * Plans by size, with room for `slots` arrays: their twiddles cost ~16k sin/cos at N = 8192, as much as a few
 * blocks' FFTs, and their memory is touched once.
 */
const scrambledPlans = new Map<number, ScrambledFft>();
function scrambledPlan(n: number, slots: number): ScrambledFft {
  let p = scrambledPlans.get(n);
  if (!p) scrambledPlans.set(n, p = new ScrambledFft(n, slots));
  p.reserve(slots);
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
  const N = cpuFftSize(M, filters.length), F = filters.length;
  // Slots: 0 the block pair's spectrum, 1..F the filters' spectra / N, F + 1 a product (when F > 1).
  const fft = scrambledPlan(N, F + 2);
  filters.forEach((w, f) => {
    const { re, im } = fft.slot(1 + f);
    re.fill(0).set(w), im.fill(0);
    fft.forward(1 + f);
    for (let i = 0; i < N; i++) re[i] /= N, im[i] /= N;
  });
  const L = N - M + 1, lead = M - 1;
  const { re, im } = fft.slot(0);
  // Each block subtracts its own anchor (its first output's input, a causal choice), so the FFT's rounding
  // is relative to the block's spread rather than the series' level; padding and NaN/Inf count as the anchor.
  // An inside block is copied and shifted in the module (which tells whether all its points are finite); a
  // block at an end or with a NaN/Inf goes point by point.
  let finite = true;
  const load = (part: 0 | 1, t0: number): number => {
    const a = t0 < n && Number.isFinite(x[t0]) ? x[t0] : 0;
    const from = t0 - lead, dst = part === 0 ? re : im;
    if (from >= 0 && from + N <= n) {
      dst.set(x.subarray(from, from + N));
      if (fft.add(0, part, 0, N, -a) === 0) return a;
    }
    for (let i = 0; i < N; i++) {
      const j = from + i, v = j >= 0 && j < n ? x[j] : a;
      if (!Number.isFinite(v)) finite = false;
      dst[i] = Number.isFinite(v) ? v - a : 0;
    }
    return a;
  };
  const sums = filters.map((w) => w.reduce((a, b) => a + b, 0));
  // Block pairs start at absolute multiples of 2L (`origin` is x[0]'s row), so a chunk of a longer series
  // transforms the same blocks as the whole series; a pair reads [t0 - lead, t0 + 2L) and no further.
  const first = (2 * L - (origin % (2 * L))) % (2 * L);
  for (let t0 = first > 0 ? first - 2 * L : 0; t0 < n; t0 += 2 * L) {
    const a0 = load(0, t0), a1 = load(1, t0 + L);
    fft.forward(0);
    filters.forEach((_, f) => {
      // The last filter's product overwrites the pair's spectrum.
      const k = f === F - 1 ? 0 : F + 1;
      fft.multiply(0, 1 + f, k);
      fft.inverse(k);
      const { re: yr, im: yi } = fft.slot(k), y = outs[f];
      // Outputs [i0, m) of each block (a pair before x[0], a chunk's first, writes only its rows from x[0] on),
      // plus the anchor times sum(w).
      const i0 = Math.max(0, -t0),
        m0 = Math.min(L, n - t0),
        i1 = Math.max(0, -t0 - L),
        m1 = Math.min(L, n - t0 - L);
      if (i0 < m0) {
        fft.add(k, 0, lead + i0, lead + m0, a0 * sums[f]);
        y.set(yr.subarray(lead + i0, lead + m0), t0 + i0);
      }
      if (i1 < m1) {
        fft.add(k, 1, lead + i1, lead + m1, a1 * sums[f]);
        y.set(yi.subarray(lead + i1, lead + m1), t0 + L + i1);
      }
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
