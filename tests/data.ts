/** Deterministic test series: realistic market data and adversarial shapes. */
import { seededNormals as normals } from "../runtime/rng.ts";

/** A random-walk log price around 9 (1-minute bars, sd 1e-3 per step). */
export function logPrice(n: number, seed = 1): Float64Array {
  const e = normals(n, seed);
  let p = 9;
  return e.map((v) => (p += 1e-3 * v));
}

/** I.i.d. returns with sd 1e-2. */
export function returns(n: number, seed = 2): Float64Array {
  return normals(n, seed).map((v) => 1e-2 * v);
}

/** A price around 1e4 (geometric random walk). */
export function price1e4(n: number, seed = 3): Float64Array {
  return logPrice(n, seed).map((v) => 1e4 * Math.exp(v - 9));
}

/** A log price with NaN runs, isolated NaNs and an Inf. */
export function withGaps(n: number, seed = 4): Float64Array {
  const x = logPrice(n, seed);
  for (let i = 0; i < n; i++) {
    if ((i >= 100 && i < 130) || i % 997 === 500 || (i >= n - 3 && n > 400)) x[i] = NaN;
  }
  if (n > 300) x[300] = Infinity;
  return x;
}

/** A named input (one or two series) for the conformance matrix. */
export interface Case {
  name: string;
  inputs: Float64Array[];
}

/** The fixture matrix for a kernel with `inputs` series and `history` points of warm-up. */
export function fixtureMatrix(inputs: 1 | 2, history: number): Case[] {
  const pair = (x: Float64Array, seed: number): Float64Array[] => {
    if (inputs === 1) return [x];
    const e = normals(x.length, seed);
    return [x, x.map((v, i) => 0.6 * v + 0.4 * (Number.isFinite(v) ? 1e-3 * e[i] + v : v))];
  };
  const ret2 = (n: number) => [returns(n), returns(n, 7).map((v, i) => 0.5 * v + 0.5 * returns(n)[i])];
  return [
    { name: "log price ~9", inputs: pair(logPrice(5000), 11) },
    { name: "returns", inputs: inputs === 1 ? [returns(5000)] : ret2(5000) },
    { name: "price ~1e4", inputs: pair(price1e4(5000), 12) },
    { name: "NaN runs and Inf", inputs: pair(withGaps(3000), 13) },
    { name: "constant", inputs: Array.from({ length: inputs }, () => new Float64Array(777).fill(7.5)) },
    { name: "length 0", inputs: Array.from({ length: inputs }, () => new Float64Array(0)) },
    { name: "length 1", inputs: pair(logPrice(1), 14) },
    { name: "length = history", inputs: pair(logPrice(history), 15) },
    { name: "length = history + 1", inputs: pair(logPrice(history + 1), 16) },
    { name: "length 1001 (not a workgroup multiple)", inputs: pair(logPrice(1001), 17) },
  ];
}

/** max |x - x_0| over the finite points of the inputs (the scale f32 storage errors are relative to). */
export function inputScale(inputs: Float64Array[]): number {
  let s = 0;
  for (const x of inputs) {
    const x0 = x.find(Number.isFinite) ?? 0;
    for (const v of x) if (Number.isFinite(v)) s = Math.max(s, Math.abs(v - x0));
  }
  return s;
}

/** Asserts two series agree: same NaN positions, |a - b| <= atol + rtol |b| elsewhere. Returns the max error. */
export function assertClose(
  actual: Float64Array,
  expected: Float64Array,
  tol: { atol: number; rtol: number; stol?: number },
  what: string,
  scale = 0,
): number {
  const base = tol.atol + (tol.stol ?? 0) * scale;
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length} != ${expected.length}`);
  }
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], b = expected[i];
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (Number.isNaN(a) !== Number.isNaN(b)) {
        throw new Error(`${what}: NaN mismatch at ${i}: got ${a}, expected ${b}`);
      }
      continue;
    }
    const err = Math.abs(a - b);
    if (!(err <= base + tol.rtol * Math.abs(b))) {
      throw new Error(`${what}: at ${i} got ${a}, expected ${b} (|err| ${err.toExponential(2)})`);
    }
    worst = Math.max(worst, err / (base + tol.rtol * Math.abs(b)));
  }
  return worst;
}

/**
 * Asserts a GPU feature against its f64 reference under a Tolerance (kernels/window_features.ts):
 * the same NaN positions and +-Inf at the same places, and |a - b| <= atol + rtol |b| + stol scale except at
 * no more than `flips` of the defined points (f32 comparisons near a threshold). Returns the points outside.
 */
export function assertFeatureClose(
  actual: Float64Array,
  expected: Float64Array,
  tol: { atol: number; rtol: number; stol?: number; flips?: number },
  what: string,
  scale = 0,
): number {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length} != ${expected.length}`);
  }
  let defined = 0, outside = 0, first = "";
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], b = expected[i];
    if (Number.isNaN(a) !== Number.isNaN(b)) {
      throw new Error(`${what}: NaN mismatch at ${i}: got ${a}, expected ${b}`);
    }
    if (Number.isNaN(b)) continue;
    defined++;
    const ok = Number.isFinite(b)
      ? Math.abs(a - b) <= tol.atol + tol.rtol * Math.abs(b) + (tol.stol ?? 0) * scale
      : a === b;
    if (!ok) {
      outside++;
      first ||= `at ${i} got ${a}, expected ${b}`;
    }
  }
  const allowed = Math.floor((tol.flips ?? 0) * defined);
  if (outside > allowed) {
    throw new Error(
      `${what}: ${outside} of ${defined} points outside the tolerance (allowed ${allowed}); ${first}`,
    );
  }
  return outside;
}

/** Tick-rounded prices near 1e4 (quarter ticks: many ties) with a constant stretch at rows 200..299. */
export function ticks(n: number, seed = 11): Float64Array {
  const p = price1e4(n, seed).map((v) => Math.round(v * 4) / 4);
  if (n > 300) p.fill(p[200], 200, 300);
  return p;
}

/**
 * Per-segment window lengths for n rows (kernels/window_features.ts' `{ lens }`): segments of `short`
 * rows first (1, 2, ..., short), then of lengths cycling through [min, max]; each segment's window ends at
 * its last row.
 */
export function cyclingSegments(n: number, min: number, max: number, short = 0): Int32Array {
  const lens = new Int32Array(n);
  for (let start = 0, k = 0; start < n; k++) {
    const len = Math.min(k < short ? k + 1 : min + (k * 37) % (max - min + 1), n - start);
    lens[start + len - 1] = len;
    start += len;
  }
  return lens;
}

/** One-minute bars as CSV lines (header first): a random walk of `rows` closes from `start` (negative prices allowed). */
export function barsCsv(
  rows: number,
  o: { seed?: number; start?: number; t0?: number; extra?: string } = {},
): string[] {
  let s = o.seed ?? 1, c = o.start ?? 100;
  const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
  const t0 = o.t0 ?? Date.UTC(2024, 0, 1);
  const lines = [`timestamp,open,high,low,close,volume${o.extra ? `,${o.extra}` : ""}`];
  for (let i = 0; i < rows; i++) {
    const open = c;
    c = c + Math.abs(c) * 0.002 * rnd();
    const hi = Math.max(open, c) + 0.01, lo = Math.min(open, c) - 0.01;
    const row = [new Date(t0 + i * 60_000).toISOString(), open, hi, lo, c, 1000 + i % 7];
    lines.push(row.join(",") + (o.extra ? ",X" : ""));
  }
  return lines;
}
