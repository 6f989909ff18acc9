/**
 * WebGPU distance correlation: an exact tiled O(n²) kernel (shaders/dcor_pairs.wgsl) that never stores the
 * n x n matrices, batched over many (x, y) pairs and many permutations per submit, and a rolling dCor kernel
 * (shaders/dcor_rolling.wgsl), one invocation per window.
 *
 * Numerics (f32 on the GPU, f64 on the host):
 * - x and y are standardized in f64 and rounded to f32 on the host; the row means ā_i. of |x_i - x_j| and
 *   the grand mean are then computed on the host in f64 from those f32 values in O(n log n) (sorting), so
 *   the GPU does a single pass: G = Σ_ij A_ij B_ij with the double-centred A_ij = a_ij - ā_i. - ā_j. + ā..
 *   formed on the fly. Because Σ_j A_ij = 0, G is first-order insensitive to the rounding of the means,
 *   unlike S1 - 2 S3/n + T T'/n², which cancels catastrophically in f32.
 * - each invocation sums tiles of 256 terms then adds the tile sums; a second dispatch adds 64 invocation
 *   sums; the host adds those in f64.
 * - dVar² (x with itself) and the U-statistic correction are exact O(n) f64 on the host:
 *   S1 = G + 2 S3/n - T T'/n², then Ω = (S1 - 2 S3/(n-2) + T T'/((n-1)(n-2))) / (n(n-3)).
 * Permutation tests generate replicate b of y in-shader (shaders/dcor_permute.wgsl: Fisher-Yates driven by
 * a counter hash of (seed, b, k), or a circular shift by a hashed s in [L, n - L]; the same permutations as
 * the CPU path's `permutation` / `shiftPermutation`), carrying y's row means along (a permutation only
 * reorders them), so the host never uploads B x n indices. The least shift L is computed on the host from the
 * f64 complete pairs, as on the CPU path.
 */
import {
  argsort,
  bcFrom,
  completePairs,
  dcorFrom,
  type DcorResult,
  type DcorTestOptions,
  type DcorTestResult,
  meanSd,
  nanReason,
  type PermutationScheme,
  rowDot,
  SequentialPValue,
  type SeriesSums,
  seriesSums,
  standardize,
  testBlock,
  testOptions,
  uStat,
  vStat,
} from "./dcor_core.ts";
import { type Batch, type GpuRuntime, grid } from "../runtime/gpu.ts";
import { centre, runSegmented } from "../runtime/segments.ts";

/** Longest window the GPU rolling kernel handles (its per-invocation arrays are this long). */
export const ROLLING_GPU_MAX_WINDOW = 256;

// llvmpipe ends any shader invocation after 65535 loop iterations in all (gallivm's loop limiter), so every
// dcor shader bounds its per-invocation loop count: IPI tiles of TJ offsets (dcor_pairs), FY_CHUNK swaps
// (dcor_permute), one window of <= 256 points in blocks of 4 (dcor_rolling).
const WG = 64; // workgroup size of every dcor shader
const TJ = 256; // j offsets per tile in dcor_pairs.wgsl
const IPI = 64; // most items (row tiles) per invocation: <= 64 x 257 loop iterations
const FY_CHUNK = 16384; // Fisher-Yates swaps per dispatch and invocation
const WG_BUDGET = 16384; // target workgroups per main dispatch, shared by its jobs
const MAX_WG_PER_JOB = 65535; // pairs needing more workgroups are split into row ranges (n > ~3.7e5)
const MAX_JOBS = 65535; // jobs per batch: the main dispatch's y dimension
const PARTIAL_CAP = 1 << 22; // partial sums per batch (16 MiB)
// (row, column) pairs per batch, adapted to the device: the first batch has BATCH_PAIRS, later ones double
// while a batch takes under BATCH_MS[0] ms and halve over BATCH_MS[1], so one submit stays short on any adapter
// (a cancelled run stops after the current batch; a busy GPU still composites the page's frames) without
// many small submits on a fast GPU. Each job's sum does not depend on its batch, so neither do the results.
const BATCH_PAIRS = 2 ** 26;
const BATCH_MS = [100, 400];

/** One (x, y) pair ready for the GPU: f32 values with their row means, and the host's f64 sums. */
interface Prep {
  n: number;
  /** (x_i, ā_i.) interleaved, standardized and rounded to f32. */
  xv: Float32Array;
  /** (y_i, b̄_i.) interleaved. */
  yv: Float32Array;
  /** Grand means ā.., b̄.. (f32 values). */
  gx: number;
  gy: number;
  sa: SeriesSums;
  sb: SeriesSums;
  sdx: number;
  sdy: number;
  /** circular_shift tests: the least shift L. */
  block?: number;
  /** Why the test cannot run (too few rows for the shifts). */
  reason?: string;
}

function prepSeries(v: Float64Array): { v: Float64Array; sums: SeriesSums; sd: number } {
  const { mean, sd } = meanSd(v);
  const r = Float64Array.from(Float32Array.from(standardize(v, mean, sd)));
  return { v: r, sums: seriesSums(r, argsort(r)), sd };
}

/** The pair ready for the GPU, or its number of complete pairs when < 2; `test` sets the shift block. */
function prepare(
  x0: Float64Array,
  y0: Float64Array,
  test?: { scheme: PermutationScheme; minBlock: number },
): Prep | number {
  const { x, y } = completePairs(x0, y0);
  const n = x.length;
  if (n < 2) return n;
  const { block, reason } = test ? testBlock(x, y, test.scheme, test.minBlock) : {};
  const px = prepSeries(x), py = prepSeries(y);
  const pack = (v: Float64Array, rows: Float64Array) => {
    const out = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) out[2 * i] = v[i], out[2 * i + 1] = rows[i] / n;
    return out;
  };
  return {
    n,
    xv: pack(px.v, px.sums.rows),
    yv: pack(py.v, py.sums.rows),
    gx: px.sums.total / (n * n),
    gy: py.sums.total / (n * n),
    sa: px.sums,
    sb: py.sums,
    sdx: px.sd,
    sdy: py.sd,
    block,
    reason,
  };
}

/** The dVar² (V and U) of a prepared series, exact in f64. */
function dvar(n: number, s: SeriesSums): { v: number; u: number } {
  return {
    v: vStat(n, s.squares, s.rowSquares, s.total, s.total),
    u: uStat(n, s.squares, s.rowSquares, s.total, s.total),
  };
}

/** DcorResult from the GPU's G = Σ_ij A_ij B_ij. */
function resultFrom(p: Prep, g: number): DcorResult {
  const { n, sa, sb } = p;
  const vxy = g / (n * n);
  const s3 = rowDot(sa.rows, sb.rows);
  const s1 = g + 2 * s3 / n - sa.total * sb.total / (n * n);
  const dx = dvar(n, sa), dy = dvar(n, sb);
  return {
    dcor: dcorFrom(vxy, dx.v, dy.v),
    dcor2_bc: bcFrom(uStat(n, s1, s3, sa.total, sb.total), dx.u, dy.u),
    dcov2: Math.max(0, vxy) * (p.sdx > 0 ? p.sdx : 1) * (p.sdy > 0 ? p.sdy : 1),
    n,
    method: "gpu",
    reason: nanReason(n),
  };
}

/** Work on one pair: its observed G and/or permutations [b0, b0 + count). */
interface Work {
  pair: number;
  observed: boolean;
  b0: number;
  count: number;
}

/** One job of the main dispatch: rows [r0, r1) of pair `pair` against y (b = -1) or its permutation b. */
interface Unit {
  slot: number;
  pair: number;
  b: number;
  r0: number;
  r1: number;
  wg: number;
}

type Pipes = {
  main: GPUComputePipeline;
  copy: GPUComputePipeline;
  swap: GPUComputePipeline;
  shift: GPUComputePipeline;
  reduce: GPUComputePipeline;
};

const tilesOf = (n: number) => Math.max(1, Math.ceil(Math.floor((n - 1) / 2) / TJ));

/** G for every job of `works` (per work: the observed G first when asked, then its permutations). */
async function runWorks(
  rt: GpuRuntime,
  preps: Prep[],
  works: Work[],
  seed: number,
  maxRows = Infinity,
  progress?: (done: number, total: number) => void,
): Promise<Float64Array[]> {
  const [main, permute, reduce] = await Promise.all([
    rt.pipeline("dcor_pairs"),
    permutePipes(rt),
    rt.pipeline("dcor_reduce"),
  ]);
  const capBytes = Math.min(rt.limits.maxBindingBytes, Math.floor(rt.pool.budgetBytes / 4));
  const offsets: number[] = [];
  let slots = 0;
  for (const w of works) offsets.push(slots), slots += (w.observed ? 1 : 0) + w.count;
  // Jobs: a pair too large for MAX_WG_PER_JOB workgroups of IPI items per invocation is split by rows.
  const units: Unit[] = [];
  works.forEach((w, k) => {
    const n = preps[w.pair].n, tiles = tilesOf(n);
    const rowsPer = Math.max(1, Math.min(maxRows, Math.floor((MAX_WG_PER_JOB * WG * IPI) / tiles)));
    const add = (slot: number, b: number) => {
      for (let r0 = 0; r0 < n; r0 += rowsPer) {
        units.push({ slot, pair: w.pair, b, r0, r1: Math.min(n, r0 + rowsPer), wg: 0 });
      }
    };
    let s = offsets[k];
    if (w.observed) add(s++, -1);
    for (let q = 0; q < w.count; q++) add(s++, w.b0 + q);
  });
  // Workgroups per job: enough for <= IPI items per invocation, more (up to a shared budget) for parallelism.
  const wgCap = Math.max(1, Math.floor(WG_BUDGET / units.length));
  for (const u of units) {
    const items = (u.r1 - u.r0) * tilesOf(preps[u.pair].n);
    u.wg = Math.max(Math.ceil(items / (WG * IPI)), Math.min(Math.ceil(items / WG), wgCap));
  }
  const g = new Float64Array(slots);
  const pipes = { main, ...permute, reduce };
  // Progress in replicates: a unit is rows r0..r1 of one replicate (b < 0: the observed statistic, not counted).
  const total = works.reduce((a, w) => a + w.count, 0);
  let done = 0;
  const share = (u: Unit) => (u.b < 0 ? 0 : (u.r1 - u.r0) / preps[u.pair].n);
  progress?.(0, total);
  let cap = BATCH_PAIRS;
  for (let i = 0; i < units.length;) {
    // A batch: <= MAX_JOBS jobs, <= PARTIAL_CAP partials, its y values and permuted copies in one binding.
    let j = i, parts = 0, bytes = 0, work = 0;
    const t0 = performance.now();
    const pairs = new Set<number>(), perms = new Set<string>();
    for (; j < units.length; j++) {
      const u = units[j], n = preps[u.pair].n, key = `${u.pair}:${u.b}`;
      const more = (pairs.has(u.pair) ? 0 : 8 * n) + (u.b < 0 || perms.has(key) ? 0 : 8 * n);
      const p = u.wg * WG, w = (u.r1 - u.r0) * n;
      if (
        j > i &&
        (j - i >= MAX_JOBS || parts + p > PARTIAL_CAP || bytes + more > capBytes || work + w > cap)
      ) break;
      parts += p, bytes += more, work += w;
      pairs.add(u.pair);
      if (u.b >= 0) perms.add(key);
    }
    const batch = units.slice(i, j);
    const sums = await runBatch(rt, pipes, preps, batch, seed);
    batch.forEach((u, k) => (g[u.slot] += sums[k], done += share(u)));
    const ms = performance.now() - t0;
    if (ms < BATCH_MS[0] && cap < 2 ** 36) cap *= 2;
    else if (ms > BATCH_MS[1] && cap > 2 ** 20) cap /= 2;
    i = j;
    progress?.(Math.min(total, Math.round(done)), total);
  }
  return works.map((w, k) => g.slice(offsets[k], offsets[k] + (w.observed ? 1 : 0) + w.count));
}

/** The dcor_permute.wgsl entry points. */
async function permutePipes(rt: GpuRuntime): Promise<Pick<Pipes, "copy" | "swap" | "shift">> {
  const [copy, swap, shift] = await Promise.all([
    rt.pipeline("dcor_permute", {}, "copy"),
    rt.pipeline("dcor_permute"),
    rt.pipeline("dcor_permute", {}, "shift"),
  ]);
  return { copy, swap, shift };
}

/**
 * Encodes `count` permuted copies (replicates b0.. of `seed`) of the n (value, mean) pairs at `src` of
 * `ys`, written at dst, dst + n, ...: with `block` (circular_shift) one shift dispatch; else one copy
 * dispatch, then Fisher-Yates in chunks of FY_CHUNK swaps.
 */
function encodePermutations(
  b: Batch,
  pipes: Pick<Pipes, "copy" | "swap" | "shift">,
  ys: GPUBuffer,
  src: number,
  n: number,
  seed: number,
  b0: number,
  count: number,
  dst: number,
  block: number | undefined,
): void {
  const P = (k_hi: number, k_lo: number) => ({ src, n, seed, b0, count, dst, k_hi, k_lo, block: block ?? 0 });
  const copies = grid(count * n, WG, b.rt.limits.maxWorkgroupsPerDim);
  if (block !== undefined) {
    b.dispatchNamed(pipes.shift, { ys, P: P(0, 0) }, copies);
    return;
  }
  b.dispatchNamed(pipes.copy, { ys, P: P(0, 0) }, copies);
  for (let hi = n - 1; hi > 0; hi -= FY_CHUNK) {
    b.dispatchNamed(pipes.swap, { ys, P: P(hi, Math.max(0, hi - FY_CHUNK)) }, [Math.ceil(count / WG)]);
  }
}

/**
 * Permutations b0 .. b0 + count - 1 of 0..n-1 for `seed` as made on the GPU by shaders/dcor_permute.wgsl
 * (n < 2^24): a check that they equal `permutation`, or with `block` `shiftPermutation`
 * (kernels/dcor_core.ts), bit for bit.
 */
export async function permutationsGpu(
  rt: GpuRuntime,
  n: number,
  seed: number,
  b0: number,
  count: number,
  block?: number,
): Promise<Uint32Array[]> {
  const pipes = await permutePipes(rt);
  const src = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) src[2 * i] = i;
  const b = rt.batch();
  const ys = b.storage(8 * n * (count + 1));
  rt.device.queue.writeBuffer(ys, 0, src);
  encodePermutations(b, pipes, ys, 0, n, seed, b0, count, n, block);
  b.read(ys, 8 * n * (count + 1));
  const [out] = await b.run();
  return Array.from({ length: count }, (_, q) => {
    const p = new Uint32Array(n);
    for (let k = 0; k < n; k++) p[k] = out[2 * (n * (q + 1) + k)];
    return p;
  });
}

async function runBatch(
  rt: GpuRuntime,
  pipes: Pipes,
  preps: Prep[],
  units: Unit[],
  seed: number,
): Promise<Float64Array> {
  // Layout: xs = the pairs' (x, ā) back to back; ys = their (y, b̄), then the permuted copies.
  const off = new Map<number, number>();
  let len = 0;
  for (const u of units) if (!off.has(u.pair)) off.set(u.pair, len), len += preps[u.pair].n;
  const xs = new Float32Array(2 * len), yHead = new Float32Array(2 * len);
  for (const [pair, at] of off) xs.set(preps[pair].xv, 2 * at), yHead.set(preps[pair].yv, 2 * at);
  // Permuted copies, grouped in runs of consecutive b per pair (one copy + swap dispatches per run).
  const permAt = new Map<string, number>();
  const runs: { pair: number; b0: number; count: number; dst: number }[] = [];
  let yLen = len;
  for (const u of units) {
    const key = `${u.pair}:${u.b}`;
    if (u.b < 0 || permAt.has(key)) continue;
    const n = preps[u.pair].n, last = runs[runs.length - 1];
    if (last && last.pair === u.pair && last.b0 + last.count === u.b) last.count++;
    else runs.push({ pair: u.pair, b0: u.b, count: 1, dst: yLen });
    permAt.set(key, yLen);
    yLen += n;
  }
  // Jobs: (xoff, yoff, n, tiles, poff, ninv, r0, rows, gx, gy, 0, 0).
  const table = new ArrayBuffer(units.length * 48);
  const u32 = new Uint32Array(table), f32 = new Float32Array(table);
  let partials = 0, maxWg = 1;
  units.forEach((u, k) => {
    const p = preps[u.pair];
    const yoff = u.b < 0 ? off.get(u.pair)! : permAt.get(`${u.pair}:${u.b}`)!;
    u32.set([off.get(u.pair)!, yoff, p.n, tilesOf(p.n), partials, u.wg * WG, u.r0, u.r1 - u.r0], k * 12);
    f32[k * 12 + 8] = p.gx, f32[k * 12 + 9] = p.gy;
    partials += u.wg * WG, maxWg = Math.max(maxWg, u.wg);
  });

  const b = rt.batch();
  const maxDim = rt.limits.maxWorkgroupsPerDim;
  const xsBuf = b.upload(xs);
  const ysBuf = b.storage(8 * yLen);
  rt.device.queue.writeBuffer(ysBuf, 0, yHead);
  for (const r of runs) {
    const p = preps[r.pair];
    encodePermutations(b, pipes, ysBuf, off.get(r.pair)!, p.n, seed, r.b0, r.count, r.dst, p.block);
  }
  const partBuf = b.storage(4 * partials);
  b.dispatchNamed(pipes.main, { xs: xsBuf, ys: ysBuf, jobs: b.upload(u32), partials: partBuf }, [
    maxWg,
    units.length,
  ]);
  const nSums = partials / WG;
  const sumBuf = b.storage(4 * nSums);
  b.dispatchNamed(
    pipes.reduce,
    { partials: partBuf, sums: sumBuf, P: { count: partials } },
    grid(nSums, WG, maxDim),
  );
  b.read(sumBuf, 4 * nSums);
  const [sums] = await b.run();

  // Per job: the f64 sum of its workgroups' sums.
  const g = new Float64Array(units.length);
  let at = 0;
  units.forEach((u, k) => {
    let s = 0;
    for (let q = 0; q < u.wg; q++) s += sums[at + q];
    g[k] = s, at += u.wg;
  });
  return g;
}

/** Options of the GPU dCor paths. */
export interface DcorGpuOptions {
  /**
   * Split each pair's O(n²) sum into jobs of at most this many rows (default: only as the dispatch limits
   * require, n > ~3.7e5). The result does not depend on it beyond f32 rounding; tests use it.
   */
  maxRowsPerJob?: number;
  /**
   * Called before the first batch of dispatches and after each (`dcorTestGpu`: permutations done of pairs x
   * permutations); a throw from it stops the test before the next batch is submitted.
   */
  progress?: (done: number, total: number) => void;
}

/**
 * Distance correlation of many (x, y) pairs on the GPU in one submit (more only when the pairs exceed one
 * storage binding): exact O(n²) per pair in f32, within DCOR_GPU_TOLERANCE of the f64 paths.
 * Same conventions as `dcor` (NaN rows dropped pairwise, n < 2 NaN, n < 4 NaN dcor2_bc, constant -> 0).
 */
export async function dcorGpu(
  rt: GpuRuntime,
  pairs: Float64Array[][],
  opts: DcorGpuOptions = {},
): Promise<DcorResult[]> {
  const preps = pairs.map(([x, y]) => prepare(x, y));
  const live = preps.flatMap((p, i) => (typeof p === "number" ? [] : [i]));
  const results: DcorResult[] = preps.map((p) =>
    typeof p === "number"
      ? { dcor: NaN, dcor2_bc: NaN, dcov2: NaN, n: p, method: "gpu", reason: nanReason(p) }
      : (undefined as unknown as DcorResult)
  );
  if (live.length) {
    const g = await runWorks(
      rt,
      live.map((i) => preps[i] as Prep),
      live.map((_, k) => ({ pair: k, observed: true, b0: 0, count: 0 })),
      0,
      opts.maxRowsPerJob,
    );
    live.forEach((i, k) => (results[i] = resultFrom(preps[i] as Prep, g[k][0])));
  }
  return results;
}

/**
 * Permutation tests of independence for many (x, y) pairs on the GPU: for each pair the observed G and B
 * permuted ones, many permutations per dispatch, permutations (iid or circular shifts) generated in-shader
 * (the same as the CPU path's for the same seed and scheme). `statistic` is the observed dCor from the GPU's
 * f32 G; the p-value compares G_b >= G on the GPU's values, in order, with the CPU path's sequential rule
 * (`stopAfter`).
 */
export async function dcorTestGpu(
  rt: GpuRuntime,
  pairs: Float64Array[][],
  opts: DcorTestOptions & DcorGpuOptions = {},
): Promise<DcorTestResult[]> {
  const { B, seed, scheme, minBlock, stopAfter } = testOptions(opts);
  const preps = pairs.map(([x, y]) => prepare(x, y, { scheme, minBlock }));
  const live = preps.flatMap((p, i) => (typeof p === "number" || p.reason ? [] : [i]));
  const results: DcorTestResult[] = preps.map((p) =>
    typeof p === "number"
      ? { statistic: NaN, p_value: NaN, B, n: p, method: "gpu", scheme, reason: nanReason(p) }
      : { statistic: NaN, p_value: NaN, B, n: p.n, method: "gpu", scheme, block: p.block, reason: p.reason }
  );
  if (live.length) {
    const g = await runWorks(
      rt,
      live.map((i) => preps[i] as Prep),
      live.map((_, k) => ({ pair: k, observed: true, b0: 0, count: B })),
      seed,
      opts.maxRowsPerJob,
      opts.progress,
    );
    live.forEach((i, k) => {
      const p = preps[i] as Prep, n = p.n;
      const observed = g[k][0];
      // All B were drawn; the sequential rule reads them in order, as the CPU path draws them.
      const seq = new SequentialPValue(observed, stopAfter);
      for (let b = 1; b <= B && !seq.add(g[k][b]); b++);
      const { p_value, stopped_at } = seq.result();
      results[i] = {
        statistic: dcorFrom(observed / (n * n), dvar(n, p.sa).v, dvar(n, p.sb).v),
        p_value,
        B,
        ...(stopped_at === undefined ? {} : { stopped_at }),
        n,
        method: "gpu",
        scheme,
        ...(p.block === undefined ? {} : { block: p.block }),
      };
    });
  }
  return results;
}

/**
 * Rolling dCor (V-statistic) of many (x, y) pairs over trailing windows of `w` <= ROLLING_GPU_MAX_WINDOW
 * points, one GPU invocation per window (O(w²) each), many windows and pairs per dispatch; same conventions
 * as `rollingDcorCpu`. Each input is stored as two f32 (hi, lo) relative to the column's first finite value
 * (which only depends on the past), and each window works relative to its own first point, so f32 keeps the
 * window's own scale: tolerance 1e-5 absolute on dCor (measured <= 6e-7).
 */
export async function rollingDcorGpu(
  rt: GpuRuntime,
  pairs: Float64Array[][],
  w: number,
): Promise<Float64Array[]> {
  if (!Number.isInteger(w) || w < 2 || w > ROLLING_GPU_MAX_WINDOW) {
    throw new RangeError(
      `rolling_dcor on WebGPU: window must be an integer in [2, ${ROLLING_GPU_MAX_WINDOW}]`,
    );
  }
  for (const [x, y] of pairs) {
    if (x.length !== y.length) throw new RangeError("rolling_dcor: x and y differ in length");
  }
  const pipeline = await rt.pipeline("dcor_rolling");
  const split = (v: Float64Array) => {
    const c = centre(v);
    return { c, lo: v.map((t) => (t - c) - Math.fround(t - c)) };
  };
  const columns = pairs.map(([x, y]) => {
    const sx = split(x), sy = split(y);
    return { inputs: [x, sx.lo, y, sy.lo], offsets: [sx.c, 0, sy.c, 0] };
  });
  const out = await runSegmented(rt, {
    columns: columns.map((c) => c.inputs),
    halo: w - 1,
    planes: 1,
    // One invocation per point: keep segments within maxWorkgroupsPerDim x 64 points.
    bindBytesPerPoint: Math.max(
      4,
      Math.ceil(rt.limits.maxBindingBytes / (rt.limits.maxWorkgroupsPerDim * WG)),
    ),
    totalBytesPerPoint: 4 * 4 + 4 + 4,
    prepare: (c) => ({ offsets: columns.find((k) => k.inputs === c)!.offsets }),
    encode: (b, io) => {
      const gx = Math.ceil(io.maxLen / WG);
      const [xh, xl, yh, yl] = io.inputs;
      b.dispatchNamed(pipeline, {
        xh,
        xl,
        yh,
        yl,
        segs: io.segs,
        out: io.out,
        P: { window: w, total: io.total },
      }, [
        gx,
        io.nSegs,
      ]);
      return Promise.resolve();
    },
  });
  return out.map((o) => o[0]);
}
