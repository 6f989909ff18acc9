/**
 * Bar resampling: 1-minute (or any) bars to a coarser timeframe (5min, 30min, 1h, 1d, ...) as segmented
 * reductions (shaders/resample.wgsl), with an f64 CPU path that has the same conventions.
 *
 * - Buckets are epoch-aligned: a row at t belongs to the bar starting at floor((t - offset) / every) * every +
 *   offset (offset 0 by default: 5min bars start at :00, :05, ...; 1d bars at 00:00 UTC). Bars are labelled by
 *   their start. The bucket of every row is computed on the host in f64 (exact for epoch milliseconds).
 * - open = first, high = max, low = min, close = last, volume = sum (the defaults by column name; any other
 *   column takes its last value unless `agg` says otherwise). NaN and ±Inf are missing values: first/last are
 *   the first/last finite values of the bar, max/min/sum skip them (a bar with no finite value gives NaN,
 *   except sum, which gives 0 as in pandas).
 * - vwap = Σ p·v / Σ v over the bar's rows where price p and volume v are finite, with p the typical price
 *   (high + low + close) / 3 by default (`vwap: "close"` uses close; without high/low close is used); NaN when
 *   Σ v = 0. count = number of input rows in the bar.
 * - Gaps stay gaps: a bucket without rows gives no bar, unless `fill` asks for one (`nan`: pandas' empty-bin
 *   convention, NaN prices, volume 0, count 0; `ffill`: open = high = low = close = the previous close, other
 *   columns their previous value, sums 0). Filled bars lie between the first and last real bar only.
 * - partial = 1 on the last bar when the data end before that bar does: last timestamp + `base` (the input bar
 *   length, 1min by default) < bar start + every; 0 elsewhere. Only the last bar is flagged (an earlier bar with
 *   missing minutes is a gap inside a finished bar; `count` shows it).
 *
 * GPU path: rows are cut into pieces of at most 64 rows, each inside one bar; one invocation reduces one piece
 * for one (column, op) job, and the host merges the pieces of each bar in f64. first/last/max/min return a row
 * index, and the value is read from the f64 input, so open and close are exact and high/low are always one of
 * the bar's inputs (the f32 comparison of centred prices can only pick a row within one f32 rounding, ~6e-8 S,
 * of the true extreme). Sums are f32 over at most 64 rows (relative error <= 64 * 2^-24 ~ 4e-6 of Σ|v|), merged
 * in f64. VWAP is computed from centred prices (p - p_0): its error is ~4e-6 S, S = max |p - p_0|.
 */
import type { Frame } from "../io/frame.ts";
import { makeFrame } from "../io/frame.ts";
import { type Compute, withFallback } from "../runtime/backend.ts";
import { DataError, UsageError } from "../runtime/errors.ts";
import { LIMITS } from "../runtime/limits.ts";
import { defineFrameKernel, type FrameKernel, type Tolerance } from "./kernel.ts";
import { type GpuRuntime, grid } from "../runtime/gpu.ts";
import { centre } from "../runtime/segments.ts";

/** How a column is reduced over a bar. */
export type Agg = "first" | "last" | "max" | "min" | "sum";

/** Resampling options. */
export interface ResampleOptions {
  /** Bar length: "5min", "30min", "1h", "1d", "1w", "30s" (units ms, s, min/T, h, d, w) or milliseconds. */
  every: string | number;
  /** Shift of the bucket grid from the epoch (e.g. "30min" for bars at :30), default 0. */
  offset?: string | number;
  /** Length of one input bar, for the partial flag (default "1min"). */
  base?: string | number;
  /** Empty buckets between bars: "none" (default: no bar), "nan" or "ffill" (see the module doc). */
  fill?: "none" | "nan" | "ffill";
  /** VWAP price: "typical" (default), "close", or "none" (no vwap column). */
  vwap?: "typical" | "close" | "none";
  /** Reduction per column name, overriding the defaults (open first, high max, low min, close last, volume sum). */
  agg?: Record<string, Agg>;
}

/** Options with every duration resolved to milliseconds. */
export interface ResolvedResample {
  /** Bar length in ms (> 0). */
  every: number;
  /** Grid offset in ms, reduced modulo `every` (default 0). */
  offset: number;
  /** Length of one input bar in ms, for the partial flag (default 60000, i.e. "1min"). */
  base: number;
  /** Empty-bucket handling (default "none"). */
  fill: "none" | "nan" | "ffill";
  /** VWAP price source (default "typical"). */
  vwap: "typical" | "close" | "none";
  /** Per-column reduction overrides (columns not listed use the defaults). */
  agg: Record<string, Agg>;
}

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  min: 60_000,
  m: 60_000,
  t: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses a duration ("5min", "1h", "1d", "90s", "1w" or a number of milliseconds) to whole milliseconds. */
export function parseDuration(v: string | number, what = "every", allowZero = false): number {
  let ms: number;
  if (typeof v === "number") ms = v;
  else {
    const m = /^\s*(\d+(?:\.\d+)?)?\s*([a-zA-Z]+)?\s*$/.exec(v);
    const unit = m?.[2] ? UNITS[m[2].toLowerCase()] : m?.[1] !== undefined ? 1 : undefined;
    ms = m && unit !== undefined ? Number(m[1] ?? 1) * unit : NaN;
    if (m?.[2] && /^(mo|mon|month|months|y|year|years)$/i.test(m[2])) {
      throw new UsageError(`${what}: calendar units (months, years) have no fixed length; got "${v}"`);
    }
  }
  if (!Number.isFinite(ms) || !Number.isInteger(ms) || ms < 0 || (!allowZero && ms === 0)) {
    throw new UsageError(
      `${what}: expected a duration such as 5min, 30min, 1h, 1d, 1w, 30s or a whole number of ms, got ${
        JSON.stringify(v)
      }`,
    );
  }
  return ms;
}

const DEFAULT_AGG: Record<string, Agg> = {
  open: "first",
  high: "max",
  low: "min",
  close: "last",
  volume: "sum",
};
const AGGS: readonly Agg[] = ["first", "last", "max", "min", "sum"];

/** Validates options and resolves durations. */
export function resolveResample(o: ResampleOptions): ResolvedResample {
  const every = parseDuration(o.every, "every");
  const offset = parseDuration(o.offset ?? 0, "offset", true) % every;
  const base = parseDuration(o.base ?? "1min", "base");
  const fill = o.fill ?? "none", vwap = o.vwap ?? "typical";
  if (!["none", "nan", "ffill"].includes(fill)) {
    throw new UsageError(`fill: expected none, nan or ffill, got ${JSON.stringify(fill)}`);
  }
  if (!["typical", "close", "none"].includes(vwap)) {
    throw new UsageError(`vwap: expected typical, close or none, got ${JSON.stringify(vwap)}`);
  }
  for (const [k, a] of Object.entries(o.agg ?? {})) {
    if (!AGGS.includes(a)) throw new UsageError(`agg.${k}: expected one of ${AGGS.join(", ")}, got "${a}"`);
  }
  return { every, offset, base, fill, vwap, agg: { ...o.agg } };
}

/** The bars of a timestamp series: bar k holds rows [bounds[k], bounds[k + 1]) and starts at starts[k]. */
export interface BarPlan {
  /** Start time of each bar (epoch ms, on the `every`/`offset` grid), one per bar. */
  starts: Float64Array;
  /** Row boundaries: bar k holds rows [bounds[k], bounds[k + 1]); length is bars + 1. */
  bounds: Uint32Array;
}

/** Buckets rows by floor((t - offset) / every) (host, f64); checks timestamps are finite and increasing. */
export function planBars(ts: Float64Array, every: number, offset: number, source = "input"): BarPlan {
  const starts: number[] = [], bounds: number[] = [];
  let prev = -Infinity, cur = NaN;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    if (!Number.isFinite(t) || !(t > prev)) {
      throw new DataError(
        `${source}: timestamps must be finite and strictly increasing to resample; row ${i} (${t}) is not`,
      );
    }
    prev = t;
    const s = Math.floor((t - offset) / every) * every + offset;
    if (s !== cur) {
      starts.push(s);
      bounds.push(i);
      cur = s;
    }
  }
  bounds.push(ts.length);
  return { starts: Float64Array.from(starts), bounds: Uint32Array.from(bounds) };
}

interface Spec {
  /** Output name. */
  name: string;
  agg: Agg;
  values: Float64Array;
}

const COMPUTED = ["vwap", "count", "partial"];
const ORDER = ["open", "high", "low", "close", "volume"];

/** Columns to reduce, in output order (OHLCV first), and the VWAP inputs. */
function specsOf(frame: Frame, o: ResolvedResample) {
  const specs: Spec[] = [];
  const names = [...frame.columns.keys()];
  const sorted = [
    ...ORDER.filter((n) => frame.columns.has(n)),
    ...names.filter((n) => !ORDER.includes(n)),
  ];
  for (const n of sorted) {
    // An input column named like a computed one (vendors ship "vwap", "count") is kept as <name>_in.
    const name = COMPUTED.includes(n) ? `${n}_in` : n;
    specs.push({ name, agg: o.agg[n] ?? DEFAULT_AGG[n] ?? "last", values: frame.columns.get(n)! });
  }
  const [high, low, close, volume] = ["high", "low", "close", "volume"].map((n) => frame.columns.get(n));
  let price: Float64Array | null = null;
  if (o.vwap !== "none" && close && volume) {
    if (o.vwap === "typical" && high && low) {
      price = new Float64Array(close.length);
      for (let i = 0; i < price.length; i++) price[i] = (high[i] + low[i] + close[i]) / 3;
    } else price = close;
  }
  return { specs, price, volume: price ? volume! : null };
}

/** f64 reduction of one column over the bars. */
function reduceCpu(x: Float64Array, agg: Agg, bounds: Uint32Array): Float64Array {
  const m = bounds.length - 1;
  const out = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const a = bounds[k], b = bounds[k + 1];
    let r = agg === "sum" ? 0 : NaN;
    if (agg === "first") {
      for (let i = a; i < b; i++) {
        if (Number.isFinite(x[i])) {
          r = x[i];
          break;
        }
      }
    } else if (agg === "last") {
      for (let i = b - 1; i >= a; i--) {
        if (Number.isFinite(x[i])) {
          r = x[i];
          break;
        }
      }
    } else if (agg === "max") {
      for (let i = a; i < b; i++) if (Number.isFinite(x[i]) && !(x[i] <= r)) r = x[i];
    } else if (agg === "min") {
      for (let i = a; i < b; i++) if (Number.isFinite(x[i]) && !(x[i] >= r)) r = x[i];
    } else {
      for (let i = a; i < b; i++) if (Number.isFinite(x[i])) r += x[i];
    }
    out[k] = r;
  }
  return out;
}

function vwapCpu(p: Float64Array, v: Float64Array, bounds: Uint32Array): Float64Array {
  const m = bounds.length - 1;
  const out = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    let num = 0, den = 0;
    for (let i = bounds[k]; i < bounds[k + 1]; i++) {
      if (Number.isFinite(p[i]) && Number.isFinite(v[i])) {
        num += p[i] * v[i];
        den += v[i];
      }
    }
    out[k] = den !== 0 ? num / den : NaN;
  }
  return out;
}

/** The resampled frame from the per-bar reductions: counts, the partial flag and optional gap filling. */
function assemble(
  frame: Frame,
  o: ResolvedResample,
  plan: BarPlan,
  specs: Spec[],
  reduced: Float64Array[],
  vwap: Float64Array | null,
): Frame {
  const m = plan.starts.length;
  const count = new Float64Array(m), partial = new Float64Array(m);
  for (let k = 0; k < m; k++) count[k] = plan.bounds[k + 1] - plan.bounds[k];
  if (m > 0 && frame.timestamps![frame.rows - 1] + o.base < plan.starts[m - 1] + o.every) partial[m - 1] = 1;
  // Output columns: OHLCV (those present), vwap, count, partial, then any other column.
  const head = specs.filter((s) => ORDER.includes(s.name)).length;
  const cols: { name: string; agg: Agg | "vwap" | "count" | "partial"; v: Float64Array }[] = [
    ...specs.slice(0, head).map((s, i) => ({ name: s.name, agg: s.agg, v: reduced[i] })),
    ...(vwap ? [{ name: "vwap", agg: "vwap" as const, v: vwap }] : []),
    { name: "count", agg: "count", v: count },
    { name: "partial", agg: "partial", v: partial },
    ...specs.slice(head).map((s, i) => ({ name: s.name, agg: s.agg, v: reduced[head + i] })),
  ];
  let starts = plan.starts;
  if (o.fill !== "none" && m > 1) {
    const total = (plan.starts[m - 1] - plan.starts[0]) / o.every + 1;
    // A fine grid over a long span (every: 1 ms over a year) would allocate billions of bars.
    if (total > LIMITS.resampledBars) {
      throw new UsageError(
        `${frame.source}: every ${o.every} ms with fill ${o.fill} gives ${total} bars from the first to the last ` +
          `(at most ${LIMITS.resampledBars}); use a longer every or fill none`,
      );
    }
    if (total > m) {
      starts = new Float64Array(total);
      for (let j = 0; j < total; j++) starts[j] = plan.starts[0] + j * o.every;
      const closeCol = cols.find((c) => c.name === "close");
      const filled = cols.map((c) => ({ ...c, v: new Float64Array(total) }));
      let k = 0;
      for (let j = 0; j < total; j++) {
        if (k < m && plan.starts[k] === starts[j]) {
          for (let c = 0; c < cols.length; c++) filled[c].v[j] = cols[c].v[k];
          k++;
          continue;
        }
        for (let c = 0; c < cols.length; c++) {
          const { name, agg } = cols[c];
          let v = NaN;
          if (agg === "sum" || agg === "count" || agg === "partial") v = 0;
          else if (o.fill === "ffill" && agg !== "vwap") {
            const src = closeCol && ["open", "high", "low"].includes(name) ? closeCol.v : cols[c].v;
            v = src[k - 1];
          }
          filled[c].v[j] = v;
        }
      }
      cols.splice(0, cols.length, ...filled);
    }
  }
  return makeFrame(
    `${frame.source}@${o.every}ms`,
    starts.length,
    new Map(cols.map((c) => [c.name, c.v])),
    [],
    { column: frame.timestampColumn ?? "timestamp", values: starts },
  );
}

function prepare(frame: Frame, opts: ResampleOptions) {
  const o = resolveResample(opts);
  if (!frame.timestamps) {
    throw new DataError(`${frame.source}: no timestamp column; resampling needs one`);
  }
  const plan = planBars(frame.timestamps, o.every, o.offset, frame.source);
  return { o, plan, ...specsOf(frame, o) };
}

/** f64 CPU path. */
export function resampleCpu(frame: Frame, opts: ResampleOptions): Frame {
  const { o, plan, specs, price, volume } = prepare(frame, opts);
  const reduced = specs.map((s) => reduceCpu(s.values, s.agg, plan.bounds));
  const vwap = price && volume ? vwapCpu(price, volume, plan.bounds) : null;
  return assemble(frame, o, plan, specs, reduced, vwap);
}

/** Rows per GPU piece: each invocation loops over at most this many rows (f32 sums stay short). */
export const PIECE = 64;
const NONE = 0xffffffff;
const OPS: Record<Agg, number> = { first: 0, last: 1, max: 2, min: 3, sum: 4 };

/** WebGPU path (f32 reductions, merged in f64 on the host; see the module doc for the tolerance). */
export async function resampleGpu(rt: GpuRuntime, frame: Frame, opts: ResampleOptions): Promise<Frame> {
  const { o, plan, specs, price, volume } = prepare(frame, opts);
  const m = plan.starts.length;
  // Pieces: each bar cut into runs of at most PIECE rows; barPieces[k] is bar k's first piece.
  const barPieces = new Uint32Array(m + 1);
  let nP = 0;
  for (let k = 0; k < m; k++) {
    barPieces[k] = nP;
    nP += Math.ceil((plan.bounds[k + 1] - plan.bounds[k]) / PIECE);
  }
  barPieces[m] = nP;
  const pieceRows = new Uint32Array(nP + 1);
  for (let k = 0, p = 0; k < m; k++) {
    for (let r = plan.bounds[k]; r < plan.bounds[k + 1]; r += PIECE) pieceRows[p++] = r;
  }
  pieceRows[nP] = frame.rows;

  // Planes (f32, centred unless summed) and jobs (plane, plane2, op).
  const planes = specs.map((s) => ({ x: s.values, off: s.agg === "sum" ? 0 : centre(s.values) }));
  const jobs = specs.map((s, i) => [i, 0, OPS[s.agg]]);
  let pOff = 0;
  if (price && volume) {
    pOff = centre(price);
    // The volume plane is shared with the volume column when that one is summed (uncentred).
    let vi = specs.findIndex((s) => s.values === volume && s.agg === "sum");
    if (vi < 0) vi = planes.push({ x: volume, off: 0 }) - 1;
    const pi = planes.push({ x: price, off: pOff }) - 1;
    jobs.push([pi, vi, 5], [pi, vi, 6]);
  }
  const nJobs = jobs.length, nPlanes = planes.length;
  const idx = jobs.map(() => new Uint32Array(nP));
  const sums = jobs.map(() => new Float64Array(nP));

  if (nP > 0 && nJobs > 0) {
    const pipe = await rt.pipeline("resample");
    const capacity = Math.floor(
      Math.min(
        rt.limits.maxBindingBytes / (4 * Math.max(nPlanes, nJobs)),
        rt.pool.budgetBytes / (4 * (nPlanes + 2 * nJobs) + 8),
      ),
    );
    if (capacity < PIECE) {
      throw new UsageError(`resample: GPU memory budget too small for ${nPlanes} columns`);
    }
    const jobTable = new Uint32Array(nJobs * 4);
    jobs.forEach((j, i) => jobTable.set(j, i * 4));
    for (let p0 = 0; p0 < nP;) {
      // The longest run of whole pieces within `capacity` rows.
      let p1 = p0 + 1;
      const r0 = pieceRows[p0];
      let lo = p1, hi = nP;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (pieceRows[mid] - r0 <= capacity) lo = mid;
        else hi = mid - 1;
      }
      p1 = lo;
      const rows = pieceRows[p1] - r0, np = p1 - p0;
      const xs = new Float32Array(nPlanes * rows);
      planes.forEach((pl, q) => {
        const base = q * rows;
        for (let r = 0; r < rows; r++) xs[base + r] = pl.x[r0 + r] - pl.off;
      });
      const bounds = new Uint32Array(np + 1);
      for (let p = 0; p <= np; p++) bounds[p] = pieceRows[p0 + p] - r0;
      const [gx, gy] = grid(np, 64, rt.limits.maxWorkgroupsPerDim);
      const b = rt.batch();
      const out = b.storage(nJobs * np * 4);
      b.dispatchNamed(pipe, {
        x: b.upload(xs),
        bounds: b.upload(bounds),
        jobs: b.upload(jobTable),
        out,
        P: { rows, pieces: np, stride: gx * 64 },
      }, [
        gx,
        gy,
        nJobs,
      ]);
      b.read(out, nJobs * np * 4);
      const [res] = await b.run();
      const u = new Uint32Array(res.buffer, res.byteOffset, res.length);
      for (let j = 0; j < nJobs; j++) {
        const src = u.subarray(j * np, (j + 1) * np);
        if (jobs[j][2] < 4) {
          for (let p = 0; p < np; p++) idx[j][p0 + p] = src[p] === NONE ? NONE : src[p] + r0;
        } else {
          const f = new Float32Array(src.buffer, src.byteOffset, np);
          for (let p = 0; p < np; p++) sums[j][p0 + p] = f[p];
        }
      }
      p0 = p1;
    }
  }

  // Merge the pieces of each bar in f64.
  const reduced = specs.map((s, j) => mergePieces(s.values, s.agg, idx[j], sums[j], barPieces));
  let vwap: Float64Array | null = null;
  if (price && volume) {
    const num = mergePieces(price, "sum", idx[nJobs - 2], sums[nJobs - 2], barPieces);
    const den = mergePieces(volume, "sum", idx[nJobs - 1], sums[nJobs - 1], barPieces);
    vwap = num.map((n, k) => (den[k] !== 0 ? pOff + n / den[k] : NaN));
  }
  return assemble(frame, o, plan, specs, reduced, vwap);
}

/** f64 merge of per-piece results (row indices into `x`, or f32 sums) into per-bar values. */
function mergePieces(
  x: Float64Array,
  agg: Agg,
  idx: Uint32Array,
  sums: Float64Array,
  barPieces: Uint32Array,
): Float64Array {
  const m = barPieces.length - 1;
  const out = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const a = barPieces[k], b = barPieces[k + 1];
    let r = agg === "sum" ? 0 : NaN;
    if (agg === "sum") { for (let p = a; p < b; p++) r += sums[p]; }
    else if (agg === "first") {
      for (let p = a; p < b; p++) {
        if (idx[p] !== NONE) {
          r = x[idx[p]];
          break;
        }
      }
    } else if (agg === "last") {
      for (let p = b - 1; p >= a; p--) {
        if (idx[p] !== NONE) {
          r = x[idx[p]];
          break;
        }
      }
    } else {
      for (let p = a; p < b; p++) {
        if (idx[p] === NONE) continue;
        const v = x[idx[p]];
        if (Number.isNaN(r) || (agg === "max" ? v > r : v < r)) r = v;
      }
    }
    out[k] = r;
  }
  return out;
}

/** Resamples with the context's backend (WebGPU with CPU fallback under `auto`). */
export function resample(frame: Frame, opts: ResampleOptions, compute: Compute): Promise<Frame> {
  return withFallback(
    compute,
    "resample",
    (rt) => resampleGpu(rt, frame, opts),
    () => resampleCpu(frame, opts),
  );
}

/** `kernel resample`'s parameters. */
export type ResampleKernelParams = {
  every: string;
  offset: string;
  base: string;
  fill: "none" | "nan" | "ffill";
  vwap: "typical" | "close" | "none";
};

/**
 * The WebGPU path's tolerance per output column, S the price scale (module doc): open, close, count and
 * partial are exact, high/low within one f32 rounding of centred prices, sums of f32 partial sums relative.
 */
export function resampleGpuTolerance(column: string): Tolerance {
  if (["open", "close", "count", "partial"].includes(column)) return { atol: 0, rtol: 0 };
  if (column === "high" || column === "low") return { atol: 0, rtol: 0, stol: 1.2e-7 };
  if (column === "volume") return { atol: 1e-9, rtol: 5e-6 };
  if (column === "vwap") return { atol: 0, rtol: 1e-12, stol: 1e-5 };
  return { atol: 0, rtol: 0, stol: 1e-5 };
}

/** The `kernel resample` entry of the registry (FRAME_KERNELS). */
export const resampleKernel: FrameKernel<ResampleKernelParams> = defineFrameKernel({
  name: "resample",
  summary: "OHLCV bars to a coarser timeframe (epoch-aligned, labelled by start) + vwap, count, partial",
  params: {
    every: { type: "text", doc: "bar length, e.g. 5min, 1h, 1d" },
    offset: { type: "text", default: "0", doc: "shift of the bar grid from the epoch, e.g. 30min" },
    base: { type: "text", default: "1min", doc: "length of one input bar (for the partial flag)" },
    fill: { type: "choice", choices: ["none", "nan", "ffill"], default: "none", doc: "empty buckets" },
    vwap: { type: "choice", choices: ["typical", "close", "none"], default: "typical", doc: "VWAP price" },
  },
  tolerance: resampleGpuTolerance,
  conformance: [{ every: "5min" }, { every: "1h", offset: "30min", fill: "nan" }, {
    every: "1d",
    vwap: "close",
  }],
  check: (p) => {
    try {
      resolveResample(p);
    } catch (e) {
      if (e instanceof UsageError) return `--${e.message}`;
      throw e;
    }
  },
  run: (frame, p, compute) => resample(frame, p, compute),
});
