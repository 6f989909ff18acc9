/**
 * Timing helpers and synthetic market data for the bench.
 */
import process from "node:process";
import type { Kernel, Params } from "../kernels/kernel.ts";
import { seededNormals as normals } from "../runtime/rng.ts";

/**
 * Long synthetic series that benchmark columns are cut from (column c of n points is points [c n, (c + 1) n)):
 * `price`, a random-walk log price around 9 (1-minute bars, sd 1e-3 per step), and `other`, a second log
 * price whose returns have correlation 0.6 with the first (for pairwise kernels).
 */
export function marketData(total: number): { price: Float64Array; other: Float64Array } {
  const e1 = normals(total, 1), e2 = normals(total, 2);
  const price = new Float64Array(total), other = new Float64Array(total);
  let p = 9, q = 9;
  for (let i = 0; i < total; i++) {
    p += 1e-3 * e1[i];
    q += 1e-3 * (0.6 * e1[i] + 0.8 * e2[i]);
    price[i] = p;
    other[i] = q;
  }
  return { price, other };
}

/** Inputs of `cols` columns of `n` points each for a kernel taking `inputs` series (views, not copies). */
export function columnsOf(
  data: { price: Float64Array; other: Float64Array },
  inputs: 1 | 2,
  n: number,
  cols: number,
): Float64Array[][] {
  return Array.from({ length: cols }, (_, c) => {
    const x = data.price.subarray(c * n, (c + 1) * n);
    return inputs === 1 ? [x] : [x, data.other.subarray(c * n, (c + 1) * n)];
  });
}

/** Best-of-repetitions timing. */
export interface Timing {
  /** Best wall time of one repetition, in seconds. */
  seconds: number;
  /** Median wall time, in seconds. */
  median: number;
  reps: number;
}

/**
 * Runs `fn` repeatedly: at least `minReps` times, then until `budgetS` seconds have passed or `maxReps`
 * repetitions are done; only once when that one run took more than 4x the budget. Returns the best and
 * median times.
 */
export async function repeat(
  fn: () => unknown,
  budgetS: number,
  minReps = 2,
  maxReps = 7,
): Promise<Timing> {
  const times: number[] = [];
  const start = performance.now();
  while (times.length < maxReps) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1e3);
    if (times.length >= minReps && (performance.now() - start) / 1e3 >= budgetS) break;
    // A single repetition far over the budget is already a steady-state measurement: do not double it.
    if (times.length === 1 && times[0] > 4 * budgetS) break;
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { seconds: sorted[0], median: sorted[Math.floor((sorted.length - 1) / 2)], reps: times.length };
}

/** A CPU measurement, possibly on a subset of the columns (or a prefix of one column) and scaled. */
export interface CpuTiming {
  pointsPerSec: number;
  /** Seconds for the whole configuration (measured, or extrapolated from the subset when `scaled`). */
  seconds: number;
  /**
   * Process CPU seconds (user + system, every thread) of the timed run, scaled like `seconds`: much less than
   * `seconds` when the run waited for a loaded machine's cores.
   */
  cpuSeconds: number;
  /** What was actually timed. */
  measuredColumns: number;
  measuredPointsPerColumn: number;
  scaled: boolean;
}

/**
 * Times `kernel.cpu` on every column when that fits in `budgetS`; otherwise on as many whole columns as fit
 * (at least one), or on a prefix of the first column when even one column would take more than twice the
 * budget. A pilot run on a prefix (which also warms up the JIT) estimates the cost first.
 */
export function timeCpu<P extends Params>(
  kernel: Kernel<P>,
  params: P,
  columns: Float64Array[][],
  budgetS: number,
): CpuTiming {
  const n = columns[0][0].length, cols = columns.length;
  const history = kernel.history(params);
  // CPU seconds of the run that `time` last returned the wall time of.
  let cpu = 0;
  const time = (inputs: Float64Array[][]): number => {
    const u0 = process.cpuUsage(), t0 = performance.now();
    for (const c of inputs) kernel.cpu(c, params);
    const wall = (performance.now() - t0) / 1e3, u = process.cpuUsage(u0);
    cpu = (u.user + u.system) / 1e6;
    return wall;
  };
  const prefix = (len: number): Float64Array[][] => [columns[0].map((x) => x.subarray(0, len))];
  // Pilot: long enough past the warm-up that per-point costs are those of the steady state.
  const pilotLen = Math.min(n, Math.max(100_000, 20 * (history + 1)));
  time(prefix(Math.min(pilotLen, 20_000))); // JIT warm-up
  const pilot = time(prefix(pilotLen)), pilotCpu = cpu;
  const rate = pilotLen / Math.max(pilot, 1e-6);
  let measuredColumns: number, measuredPointsPerColumn: number, seconds: number, cpuSeconds: number;
  if (n * cols / rate <= budgetS) {
    measuredColumns = cols, measuredPointsPerColumn = n;
    seconds = time(columns), cpuSeconds = cpu;
    // Short runs: repeat within the budget (up to 20 times) and keep the best, so a loaded machine's
    // interruptions and the JIT's later tiers do not decide the figure.
    for (let r = 0, spent = seconds; r < 19 && spent + seconds <= budgetS; r++) {
      const s = time(columns);
      if (s < seconds) seconds = s, cpuSeconds = cpu;
      spent += s;
    }
  } else if (n / rate <= 2 * budgetS) {
    measuredColumns = Math.max(1, Math.min(cols, Math.floor(budgetS * rate / n))),
      measuredPointsPerColumn = n;
    seconds = time(columns.slice(0, measuredColumns)), cpuSeconds = cpu;
  } else {
    measuredColumns = 1,
      measuredPointsPerColumn = Math.max(pilotLen, Math.min(n, Math.floor(budgetS * rate)));
    if (measuredPointsPerColumn === pilotLen) seconds = pilot, cpuSeconds = pilotCpu;
    else seconds = time(prefix(measuredPointsPerColumn)), cpuSeconds = cpu;
  }
  const pointsPerSec = measuredColumns * measuredPointsPerColumn / seconds;
  return {
    pointsPerSec,
    seconds: n * cols / pointsPerSec,
    cpuSeconds: cpuSeconds * (n * cols / pointsPerSec) / seconds,
    measuredColumns,
    measuredPointsPerColumn,
    scaled: measuredColumns !== cols || measuredPointsPerColumn !== n,
  };
}
