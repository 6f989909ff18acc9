/**
 * Distance correlation (Székely, Rizzo and Bakirov 2007): the V-statistic dCor (R `energy::dcor`) and the
 * bias-corrected, U-centred dCor² (R `energy::bcdcor`), a permutation test of independence
 * (`energy::dcor.test` with iid permutations, or circular shifts that keep serial dependence: see
 * `PermutationScheme`) and a rolling (trailing-window, causal) dCor.
 *
 * Three ways to the same numbers:
 * - `exact`: the O(n²) definition in f64 (double-centred distance matrices, never stored) — the reference;
 * - `fast`: O(n log n) in f64 (Huo & Székely 2016; kernels/dcor_core.ts, its cross sum in WebAssembly:
 *   kernels/dcor_cross.wat), chosen by `auto` from n >= DCOR_CROSSOVER (measured on the development machine);
 * - `gpu` (kernels/dcor_gpu.ts): an exact tiled O(n²) WGSL kernel in f32, batched over many pairs and many
 *   permutations per submit.
 * exact and fast agree to ~1e-12 relative (tests/dcor_test.ts: 1e-9 at n = 5000 and 1e-10 against energy);
 * the GPU's f32 results are within DCOR_GPU_TOLERANCE of them.
 *
 * Conventions (as energy): NaN/Inf rows (either x or y) are dropped pairwise first; dCor is 0 when either
 * series is constant; fewer than 2 complete pairs give NaN; the bias-corrected dCor² needs n >= 4 (NaN with a
 * `reason` otherwise) and can be negative.
 */
import { log } from "../runtime/log.ts";
import {
  argsort,
  bcFrom,
  circularShift,
  completePairs,
  CrossSum,
  dcorFrom,
  type DcorMethod,
  type DcorResult,
  type DcorTestOptions,
  type DcorTestResult,
  meanSd,
  nanReason,
  permutation,
  type PermutationScheme,
  rowDot,
  rowDotShifted,
  schemePermutation,
  SequentialPValue,
  seriesSums,
  standardize,
  testBlock,
  testOptions,
  uStat,
  vStat,
} from "./dcor_core.ts";
import {
  dcorGpu,
  type DcorGpuOptions,
  dcorTestGpu,
  permutationsGpu,
  ROLLING_GPU_MAX_WINDOW,
  rollingDcorGpu,
} from "./dcor_gpu.ts";
import {
  defineKernel,
  defineScalarKernel,
  type Kernel,
  perPlane,
  type ScalarKernel,
  type Tolerance,
} from "./kernel.ts";
import { withFallback } from "../runtime/backend.ts";
import { LIMITS } from "../runtime/limits.ts";

export {
  circularShift,
  type DcorMethod,
  type DcorResult,
  type DcorTestOptions,
  type DcorTestResult,
  dependenceRange,
  permutation,
  type PermutationScheme,
  shiftBlock,
  shiftPermutation,
} from "./dcor_core.ts";
export {
  dcorGpu,
  type DcorGpuOptions,
  dcorTestGpu,
  permutationsGpu,
  ROLLING_GPU_MAX_WINDOW,
  rollingDcorGpu,
  testOptions,
};

/**
 * n at and above which `auto` uses the O(n log n) algorithm instead of the exact O(n²) one. Measured on the
 * 2-core development machine (one dcor call, both dCor and dcor2_bc): exact 2.7 / 17.7 / 26.8 / 71 / 1037 µs
 * and fast 11.7 / 23.4 / 27.8 / 47 / 157 µs at n = 16 / 64 / 80 / 128 / 512, so they cross at n ≈ 80.
 */
export const DCOR_CROSSOVER = 80;

/**
 * GPU (f32) vs f64 tolerance on dCor and on the bias-corrected dCor²: |gpu - f64| <= atol (dcov2: 1e-4
 * relative). Measured on llvmpipe: <= 4e-7 on the energy fixture (n = 4..2000), <= 4e-8 on normal, x² +
 * noise, heavy-tailed, price-level (1e4 + 1e-3 z) and tied data at n = 100..1e4, ~1e-10 at n = 1e5.
 */
export const DCOR_GPU_TOLERANCE: Tolerance = { atol: 1e-5, rtol: 0 };

/** Options for `dcor`. */
export interface DcorOptions {
  /** Algorithm (default `auto`). */
  method?: DcorMethod;
}

/** The result for fewer than 2 complete pairs. */
function emptyResult(n: number, method: DcorResult["method"]): DcorResult {
  return { dcor: NaN, dcor2_bc: NaN, dcov2: NaN, n, method, reason: nanReason(n) };
}

/**
 * The O(n²) sums of the definition in f64: V-statistic dCov² of (x, y), (x, x), (y, y) from the double-centred
 * A_ij = a_ij - ā_i. - ā_.j + ā.., and the U-statistic ones from the U-centred Ã_ij (i != j). O(n) memory.
 */
function exactStats(x: Float64Array, y: Float64Array) {
  const n = x.length;
  const ra = new Float64Array(n), rb = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = Math.abs(x[i] - x[j]), b = Math.abs(y[i] - y[j]);
      ra[i] += a, ra[j] += a, rb[i] += b, rb[j] += b;
    }
  }
  let ta = 0, tb = 0;
  for (let i = 0; i < n; i++) ta += ra[i], tb += rb[i];
  const u = n >= 4;
  // V-centring constants, then U-centring ones: Ã_ij = a_ij - R_i/(n-2) - R_j/(n-2) + T/((n-1)(n-2)).
  const ga = ta / (n * n), gb = tb / (n * n);
  const ua = u ? ta / ((n - 1) * (n - 2)) : 0, ub = u ? tb / ((n - 1) * (n - 2)) : 0;
  let vab = 0, vaa = 0, vbb = 0, uab = 0, uaa = 0, ubb = 0;
  for (let i = 0; i < n; i++) {
    const mi = ra[i] / n, ni = rb[i] / n;
    const pi = u ? ra[i] / (n - 2) : 0, qi = u ? rb[i] / (n - 2) : 0;
    let rvab = 0, rvaa = 0, rvbb = 0, ruab = 0, ruaa = 0, rubb = 0;
    for (let j = i + 1; j < n; j++) {
      const a = Math.abs(x[i] - x[j]), b = Math.abs(y[i] - y[j]);
      const A = a - mi - ra[j] / n + ga, B = b - ni - rb[j] / n + gb;
      rvab += A * B, rvaa += A * A, rvbb += B * B;
      if (u) {
        const At = a - pi - ra[j] / (n - 2) + ua, Bt = b - qi - rb[j] / (n - 2) + ub;
        ruab += At * Bt, ruaa += At * At, rubb += Bt * Bt;
      }
    }
    const Ad = ga - 2 * mi, Bd = gb - 2 * ni; // the diagonal: a_ii = 0
    vab += 2 * rvab + Ad * Bd, vaa += 2 * rvaa + Ad * Ad, vbb += 2 * rvbb + Bd * Bd;
    uab += 2 * ruab, uaa += 2 * ruaa, ubb += 2 * rubb;
  }
  const nn = n * n, nu = u ? n * (n - 3) : NaN;
  return { vxy: vab / nn, vxx: vaa / nn, vyy: vbb / nn, uxy: uab / nu, uxx: uaa / nu, uyy: ubb / nu };
}

/** Exact O(n²) f64 distance correlation (the reference); NaN rows dropped pairwise. */
export function dcorExact(x: Float64Array, y: Float64Array): DcorResult {
  ({ x, y } = completePairs(x, y));
  const n = x.length;
  if (n < 2) return emptyResult(n, "exact");
  const s = exactStats(x, y);
  return {
    dcor: dcorFrom(s.vxy, s.vxx, s.vyy),
    dcor2_bc: bcFrom(s.uxy, s.uxx, s.uyy),
    dcov2: Math.max(0, s.vxy),
    n,
    method: "exact",
    reason: nanReason(n),
  };
}

/** Everything the O(n log n) path needs about a standardized pair: orders, row sums, the cross-sum engine. */
class FastPair {
  readonly n: number;
  readonly sdx: number;
  readonly sdy: number;
  readonly sa: ReturnType<typeof seriesSums>;
  readonly sb: ReturnType<typeof seriesSums>;
  readonly cross: CrossSum;

  constructor(x: Float64Array, y: Float64Array) {
    this.n = x.length;
    const mx = meanSd(x), my = meanSd(y);
    this.sdx = mx.sd, this.sdy = my.sd;
    const xs = standardize(x, mx.mean, mx.sd), ys = standardize(y, my.mean, my.sd);
    const ox = argsort(xs), oy = argsort(ys);
    this.sa = seriesSums(xs, ox), this.sb = seriesSums(ys, oy);
    this.cross = new CrossSum(xs, ys, ox, oy);
  }

  /** V-statistic dCov² of the standardized x and y (permuted by `perm` when given). */
  vxy(perm?: Uint32Array): number {
    const { n, sa, sb } = this;
    return vStat(n, this.cross.sum(perm), rowDot(sa.rows, sb.rows, perm), sa.total, sb.total);
  }

  /** `vxy` against y rotated by `s` (y'_k = y[(k + s) mod n]), without the permutation array. */
  vxyShifted(s: number): number {
    const { n, sa, sb } = this;
    return vStat(n, this.cross.sumShifted(s), rowDotShifted(sa.rows, sb.rows, s), sa.total, sb.total);
  }

  /** The full result (standardized units converted back for dcov2). */
  result(): DcorResult {
    const { n, sa, sb } = this;
    const s1 = this.cross.sum(), s3 = rowDot(sa.rows, sb.rows);
    const vxy = vStat(n, s1, s3, sa.total, sb.total);
    const vxx = vStat(n, sa.squares, sa.rowSquares, sa.total, sa.total);
    const vyy = vStat(n, sb.squares, sb.rowSquares, sb.total, sb.total);
    const uxy = uStat(n, s1, s3, sa.total, sb.total);
    const uxx = uStat(n, sa.squares, sa.rowSquares, sa.total, sa.total);
    const uyy = uStat(n, sb.squares, sb.rowSquares, sb.total, sb.total);
    return {
      dcor: dcorFrom(vxy, vxx, vyy),
      dcor2_bc: bcFrom(uxy, uxx, uyy),
      dcov2: Math.max(0, vxy) * (this.sdx > 0 ? this.sdx : 1) * (this.sdy > 0 ? this.sdy : 1),
      n,
      method: "fast",
      reason: nanReason(n),
    };
  }
}

/** O(n log n) f64 distance correlation (Huo & Székely 2016); NaN rows dropped pairwise. */
export function dcorFast(x: Float64Array, y: Float64Array): DcorResult {
  ({ x, y } = completePairs(x, y));
  const n = x.length;
  if (n < 2) return emptyResult(n, "fast");
  return new FastPair(x, y).result();
}

/** Distance correlation on the CPU in f64: exact below DCOR_CROSSOVER complete pairs, O(n log n) above. */
export function dcor(x: Float64Array, y: Float64Array, opts: DcorOptions = {}): DcorResult {
  const method = opts.method ?? "auto";
  ({ x, y } = completePairs(x, y));
  if (method === "exact" || (method === "auto" && x.length < DCOR_CROSSOVER)) return dcorExact(x, y);
  return dcorFast(x, y);
}

/**
 * Permutation test of independence with dCor on the CPU (f64). Replicate b of y is `permutation(seed, b, n)`
 * or `shiftPermutation(seed, b, n, L)` (kernels/dcor_core.ts), the same as the GPU path's, so both give the
 * same p-value up to f32 ties. Replicates
 * use the exact O(n²) sums (centred distance matrices held once, n < DCOR_CROSSOVER) or the O(n log n) ones,
 * reusing the sorted x, the y ranks and the row sums, which a permutation only reorders.
 *
 * @example A nonlinear dependence that correlation misses, tested with circular shifts (serially dependent data)
 * ```ts
 * import { dcorTest } from "@feature-genesis/core";
 *
 * const x = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i * 0.37) + Math.cos(i * 1.3));
 * const y = x.map((v) => v * v);
 * const r = dcorTest(x, y, { permutations: 199, seed: 1, scheme: "circular_shift", minBlock: 10 });
 * console.log(r.statistic, r.p_value); // p = 1/200 when no shift beats the observed dCor
 * ```
 */
export function dcorTest(x: Float64Array, y: Float64Array, opts: DcorTestOptions = {}): DcorTestResult {
  const { B, seed, scheme, minBlock, stopAfter } = testOptions(opts);
  ({ x, y } = completePairs(x, y));
  const n = x.length;
  const method = opts.method ?? "auto";
  const exact = method === "exact" || (method === "auto" && n < DCOR_CROSSOVER);
  const { block, reason } = n < 2
    ? { block: undefined, reason: nanReason(n) }
    : testBlock(x, y, scheme, minBlock);
  if (reason) {
    return { statistic: NaN, p_value: NaN, B, n, method: exact ? "exact" : "fast", scheme, block, reason };
  }
  const perm = new Uint32Array(n);
  let observed: number, statistic: number;
  // Draws replicates in order until the sequential rule stops the test (or all B).
  let seq!: SequentialPValue;
  const draw = (rep: (b: number) => number) => {
    seq = new SequentialPValue(observed, stopAfter);
    for (let b = 0; b < B && !seq.add(rep(b)); b++);
  };
  if (exact) {
    const A = centredMatrix(x), Bm = centredMatrix(y);
    const stat = (p?: Uint32Array) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const pi = p ? p[i] : i;
        let r = 0;
        for (let j = 0; j < n; j++) r += A[i * n + j] * Bm[pi * n + (p ? p[j] : j)];
        s += r;
      }
      return s / (n * n);
    };
    observed = stat();
    draw((b) => stat(schemePermutation(seed, b, n, block, perm)));
    statistic = dcorExact(x, y).dcor;
  } else {
    const fp = new FastPair(x, y);
    observed = fp.vxy();
    draw((b) =>
      block === undefined
        ? fp.vxy(permutation(seed, b, n, perm))
        : fp.vxyShifted(circularShift(seed, b, n, block))
    );
    statistic = fp.result().dcor;
  }
  const { p_value, stopped_at } = seq.result();
  return {
    statistic,
    p_value,
    B,
    ...(stopped_at === undefined ? {} : { stopped_at }),
    n,
    method: exact ? "exact" : "fast",
    scheme,
    ...(block === undefined ? {} : { block }),
  };
}

/** The double-centred distance matrix A_ij of v (n x n, f64) — the small-n exact permutation test only. */
function centredMatrix(v: Float64Array): Float64Array {
  const n = v.length;
  const a = new Float64Array(n * n), r = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) r[i] += a[i * n + j] = Math.abs(v[i] - v[j]);
  }
  let t = 0;
  for (let i = 0; i < n; i++) t += r[i];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) a[i * n + j] += t / (n * n) - r[i] / n - r[j] / n;
  }
  return a;
}

/**
 * Rolling dCor (V-statistic) of x and y over a trailing window of `w` points, f64: out[t] is the dCor of
 * points t-w+1..t, NaN for t < w - 1 or when the window holds a NaN/Inf in either series, 0 for a constant
 * window. Causal. O(w²) per step (exact) below DCOR_CROSSOVER, O(w log w) per step above.
 */
export function rollingDcorCpu(x: Float64Array, y: Float64Array, w: number): Float64Array {
  if (x.length !== y.length) throw new RangeError("rolling_dcor: x and y differ in length");
  if (!Number.isInteger(w) || w < 2) {
    throw new RangeError(`rolling_dcor: window must be an integer >= 2, got ${w}`);
  }
  const n = x.length;
  const out = new Float64Array(n).fill(NaN);
  let lastBad = -1;
  for (let t = 0; t < n; t++) {
    if (!Number.isFinite(x[t]) || !Number.isFinite(y[t])) lastBad = t;
    if (t + 1 < w || lastBad > t - w) continue;
    const xs = x.subarray(t + 1 - w, t + 1), ys = y.subarray(t + 1 - w, t + 1);
    if (w < DCOR_CROSSOVER) {
      const s = exactStats(xs, ys);
      out[t] = dcorFrom(s.vxy, s.vxx, s.vyy);
    } else {
      out[t] = new FastPair(xs, ys).result().dcor;
    }
  }
  return out;
}

/** Parameters of the rolling_dcor kernel. */
export type RollingDcorParams = { window: number };

/**
 * The rolling distance correlation kernel (causal): f64 CPU path `rollingDcorCpu`, WebGPU path
 * `rollingDcorGpu` (windows up to ROLLING_GPU_MAX_WINDOW points; longer windows run the CPU path with a
 * warning). Registered in kernels/registry.ts as `rolling_dcor --window`.
 */
export const rollingDcor: Kernel<RollingDcorParams> = defineKernel<RollingDcorParams>({
  name: "rolling_dcor",
  summary: "rolling distance correlation (V-statistic) of --column and --column2",
  inputs: 2,
  params: { window: { type: "int", min: 2, max: LIMITS.dcorWindow, doc: "window length in points" } },
  causal: () => true,
  tolerance: { atol: 1e-5, rtol: 0 }, // measured <= 6e-7 on the conformance matrix, w = 3..256
  conformance: [{ window: 3 }, { window: 50 }],
  typical: { window: 50 },
  // O(window²) per point: ~60 s per 1e6 points at window 50 on the 2-core development machine.
  benchMaxPoints: 1e5,
  history: (p) => p.window - 1,
  cpu: ([x, y], p) => rollingDcorCpu(x, y, p.window),
  gpu: (rt, cols, planes) =>
    perPlane(planes, (p) => {
      if (p.window > ROLLING_GPU_MAX_WINDOW) {
        log("warn", `rolling_dcor: window ${p.window} > ${ROLLING_GPU_MAX_WINDOW} runs on the CPU path`);
        return Promise.resolve(cols.map(([x, y]) => rollingDcorCpu(x, y, p.window)));
      }
      return rollingDcorGpu(rt, cols, p.window);
    }),
});

/** `kernel dcor --column X --column2 Y`: dCor, bias-corrected dCor² and the method (JSON). */
export const dcorKernel: ScalarKernel<{ method: DcorMethod }> = defineScalarKernel({
  name: "dcor",
  summary: "distance correlation of --column and --column2 (JSON: dcor, dcor2_bc, n, method)",
  inputs: 2,
  params: {
    method: { type: "choice", choices: ["auto", "exact", "fast"], default: "auto", doc: "algorithm" },
  },
  tolerance: DCOR_GPU_TOLERANCE,
  conformance: [{}, { method: "exact" }, { method: "fast" }],
  input: "returns",
  varying: ["method"],
  run: (inputs, p, compute) =>
    withFallback(
      compute,
      "dcor",
      async (rt) => (await dcorGpu(rt, [inputs]))[0],
      () => dcor(inputs[0], inputs[1], { method: p.method }),
    ),
});

/** `kernel dcor_test --column X --column2 Y --permutations B --seed S`: permutation test of independence (JSON). */
export const dcorTestKernel: ScalarKernel<
  { permutations: number; seed: number; scheme: PermutationScheme; min_block: number }
> = defineScalarKernel({
  name: "dcor_test",
  summary: "dCor permutation test of independence (JSON: statistic, p_value, B)",
  inputs: 2,
  params: {
    permutations: {
      type: "int",
      min: 1,
      max: LIMITS.permutations,
      default: 999,
      doc: "number of permutations B",
    },
    seed: { type: "int", min: 0, max: LIMITS.seed, default: 0, doc: "seed of the permutations" },
    scheme: {
      type: "choice",
      choices: ["iid", "circular_shift"],
      default: "iid",
      doc: "iid permutations (energy) or circular shifts of y (keeps serial dependence)",
    },
    min_block: {
      type: "int",
      min: 1,
      max: LIMITS.samples,
      default: 1,
      doc: "circular_shift: the least shift in rows",
    },
  },
  // Both paths draw the same permutations; the p-value can differ only where an f32 replicate ties the
  // observed statistic, which the conformance data avoid.
  tolerance: DCOR_GPU_TOLERANCE,
  conformance: [{ permutations: 99, seed: 3 }, { permutations: 49, scheme: "circular_shift", min_block: 20 }],
  input: "returns",
  varying: ["method"],
  run: (inputs, p, compute) => {
    const opts = {
      permutations: p.permutations,
      seed: p.seed,
      scheme: p.scheme,
      minBlock: p.min_block,
    };
    return withFallback(
      compute,
      "dcor_test",
      async (rt) => (await dcorTestGpu(rt, [inputs], opts))[0],
      () => dcorTest(inputs[0], inputs[1], opts),
    );
  },
});
