/**
 * Synthetic 1-minute OHLCV bars for many instruments, built to be generated in parallel.
 *
 * The process per instrument: log returns follow a GARCH(1,1) whose intercept and drift switch between
 * volatility regimes (calm / normal / stressed) at random times, with fat-tailed shocks (a normal scale
 * mixture), a weekend gap (no bars from Friday 22:00 UTC to Sunday 22:00 UTC, FX-like) and a price jump
 * at each weekly open. Bars are consistent (low <= open, close <= high), prices are rounded to a tick,
 * volume is a non-negative integer that rises with the shock size and the trading session.
 *
 * Determinism: the series is cut into chunks of `BAR_CHUNK_ROWS` rows; each chunk draws from its own
 * random streams keyed by (seed, instrument, chunk, stream), while the process state (conditional
 * variance, last shock, log price, regime and its remaining length) carries across chunks. The cheap
 * state-only recursion (`barChunkStates`) gives the exact state at every chunk start, after which any
 * worker can generate any chunk-aligned range (`generateBars`) with the result independent of how the
 * work is split.
 */

import { Rng } from "../runtime/rng.ts";

/** Rows per random-stream chunk; part files of bars start at multiples of this. */
export const BAR_CHUNK_ROWS = 65_536;

/** Trading minutes per week: Sunday 22:00 UTC to Friday 22:00 UTC. */
export const MINUTES_PER_WEEK = 5 * 1440;

/** Default first bar: Sunday 2024-01-07 22:00 UTC (a weekly open). */
export const BAR_EPOCH_MS: number = Date.UTC(2024, 0, 7, 22);

const WEEK_MS = 7 * 86_400_000;
const MINUTE_MS = 60_000;

/** Number of values in a serialized process state (see `BarState`). */
export const BAR_STATE_SIZE = 5;

/** One volatility/drift regime of the bar process. */
export interface BarRegime {
  /** Regime label. */
  name: string;
  /** Volatility multiplier (the GARCH intercept scales with its square). */
  vol: number;
  /** Drift of the 1-minute log return. */
  drift: number;
  /** Mean length in bars (lengths are geometric-like: 1 + floor(Exp * mean)). */
  meanBars: number;
  /** Volume multiplier. */
  volume: number;
}

/** Regimes every instrument switches between (a switch always moves to a different regime). */
export const BAR_REGIMES: readonly BarRegime[] = [
  { name: "calm", vol: 0.6, drift: 3e-7, meanBars: 4 * 1440, volume: 0.7 },
  { name: "normal", vol: 1.0, drift: 0, meanBars: 3 * 1440, volume: 1.0 },
  { name: "stressed", vol: 2.2, drift: -6e-7, meanBars: 1440, volume: 1.8 },
];

/** Per-instrument parameters, derived from (seed, instrument). */
export interface BarParams {
  /** Seed of the whole data set. */
  seed: number;
  /** Instrument index. */
  instrument: number;
  /** First bar's time (a Sunday 22:00 UTC), epoch ms. */
  t0: number;
  /** Starting price. */
  start: number;
  /** Price tick (prices are multiples of it). */
  tick: number;
  /** Long-run 1-minute return standard deviation in the normal regime. */
  sigma: number;
  /** GARCH ARCH coefficient. */
  alpha: number;
  /** GARCH persistence coefficient. */
  beta: number;
  /** Base volume per bar. */
  baseVolume: number;
}

/** The name of instrument `i` (also its folder name): SYN0000, SYN0001, ... */
export function instrumentName(i: number): string {
  return `SYN${String(i).padStart(4, "0")}`;
}

/** The parameters of instrument `instrument` for `seed` (first bar at `t0`, default `BAR_EPOCH_MS`). */
export function barParams(seed: number, instrument: number, t0: number = BAR_EPOCH_MS): BarParams {
  if ((t0 - BAR_EPOCH_MS) % WEEK_MS !== 0) {
    throw new RangeError(`bars t0 ${new Date(t0).toISOString()} must be a Sunday 22:00 UTC (a weekly open)`);
  }
  const r = new Rng(seed, instrument, 0x7fffffff);
  const start = Math.exp(Math.log(0.5) + r.uniform() * Math.log(400)); // 0.5 .. 200, log-uniform
  const tick = 10 ** (Math.floor(Math.log10(start)) - 5);
  const sigma = 1.5e-4 * Math.exp((r.uniform() - 0.5) * Math.log(4)); // x0.5 .. x2
  const alpha = 0.03 + 0.05 * r.uniform();
  const persistence = 0.95 + 0.035 * r.uniform();
  return {
    seed,
    instrument,
    t0,
    start,
    tick,
    sigma,
    alpha,
    beta: persistence - alpha,
    baseVolume: Math.round(50 + 450 * r.uniform()),
  };
}

/**
 * The process state at a row boundary: [conditional variance h, last shock e, log price, regime index,
 * bars left in the regime].
 */
export type BarState = Float64Array;

/** The state before the first bar. */
export function initialBarState(p: BarParams): BarState {
  // Regime 1 ("normal") with 0 bars left: the first bar draws a fresh regime from chunk 0's stream.
  return Float64Array.of(p.sigma * p.sigma, 0, Math.log(p.start), 1, 0);
}

/** The epoch-ms time of row `row` (weekends skipped). */
export function barTimestamp(t0: number, row: number): number {
  const week = Math.floor(row / MINUTES_PER_WEEK);
  return t0 + week * WEEK_MS + (row - week * MINUTES_PER_WEEK) * MINUTE_MS;
}

/** Generated bar columns for a row range. */
export interface BarColumns {
  /** Epoch ms per bar. */
  timestamp: Float64Array;
  /** Open price. */
  open: Float64Array;
  /** High price. */
  high: Float64Array;
  /** Low price. */
  low: Float64Array;
  /** Close price. */
  close: Float64Array;
  /** Volume (integer valued, >= 0). */
  volume: Float64Array;
}

// Fat tails: with probability TAIL_P the shock is scaled by TAIL_S, otherwise by TAIL_C (unit variance).
const TAIL_P = 0.02;
const TAIL_S = 2.5;
const TAIL_C = Math.sqrt((1 - TAIL_P * TAIL_S * TAIL_S) / (1 - TAIL_P));
/** Variance of the weekend gap in units of the current conditional variance (about an hour of trading). */
const GAP_VARIANCE = 60;
/** Intraday volume profile by UTC hour (Asia, London, London/New York overlap). */
const SESSION_VOLUME = Float64Array.from(
  { length: 24 },
  (_, h) => (h >= 13 && h < 17 ? 1.8 : h >= 7 && h < 13 ? 1.4 : h >= 17 && h < 21 ? 1.0 : 0.6),
);

/** Stream ids within a chunk: return shocks, regime switches, cosmetic (OHLC range, volume) draws. */
const Stream = { Returns: 1, Regime: 2, Cosmetic: 3 } as const;

/**
 * Advances `state` over rows [rowStart, rowEnd) (rowStart a multiple of `BAR_CHUNK_ROWS`), writing bars at
 * offset `outOffset` of `out` when given. The state-only run (no `out`) draws exactly the same return and
 * regime numbers, so it reaches exactly the same state.
 */
export function simulateBars(
  p: BarParams,
  state: BarState,
  rowStart: number,
  rowEnd: number,
  out?: BarColumns,
  outOffset = 0,
): void {
  if (rowStart % BAR_CHUNK_ROWS !== 0) {
    throw new RangeError(`bar ranges must start at a multiple of ${BAR_CHUNK_ROWS}, got ${rowStart}`);
  }
  const { alpha, beta, tick, baseVolume } = p;
  const omega = p.sigma * p.sigma * (1 - alpha - beta);
  // Prices are integer ticks divided by an exact power of ten: the nearest double to the decimal price.
  const invTick = Math.round(1 / tick);
  const nReg = BAR_REGIMES.length;
  const regVar = BAR_REGIMES.map((r) => omega * r.vol * r.vol);
  const regDrift = BAR_REGIMES.map((r) => r.drift);
  const regMean = BAR_REGIMES.map((r) => r.meanBars);
  const regVolume = BAR_REGIMES.map((r) => r.volume * baseVolume);
  let h = state[0], e = state[1], lp = state[2], reg = state[3], left = state[4];
  let lastClose = out ? Math.round(Math.exp(lp) * invTick) / invTick : 0;
  for (let c0 = rowStart; c0 < rowEnd; c0 += BAR_CHUNK_ROWS) {
    const chunk = c0 / BAR_CHUNK_ROWS;
    const zr = new Rng(p.seed, p.instrument, chunk, Stream.Returns);
    const rr = new Rng(p.seed, p.instrument, chunk, Stream.Regime);
    const cr = out ? new Rng(p.seed, p.instrument, chunk, Stream.Cosmetic) : undefined;
    const c1 = Math.min(rowEnd, c0 + BAR_CHUNK_ROWS);
    for (let row = c0; row < c1; row++) {
      if (left <= 0) {
        reg = (reg + 1 + rr.int(nReg - 1)) % nReg;
        left = 1 + Math.floor(rr.exponential() * regMean[reg]);
      }
      left--;
      h = regVar[reg] + alpha * e * e + beta * h;
      const sd = Math.sqrt(h);
      const minute = row % MINUTES_PER_WEEK;
      let prev = lp;
      const gap = minute === 0 && row > 0;
      if (gap) prev += sd * Math.sqrt(GAP_VARIANCE) * zr.normal();
      const z = zr.normal() * (zr.uniform() < TAIL_P ? TAIL_S : TAIL_C);
      e = sd * z;
      lp = prev + regDrift[reg] + e;
      if (cr && out) {
        const i = row - rowStart + outOffset;
        const open = gap ? Math.round(Math.exp(prev) * invTick) / invTick : lastClose;
        const close = Math.round(Math.exp(lp) * invTick) / invTick;
        const hi = Math.round(Math.exp((prev > lp ? prev : lp) + sd * 0.4 * cr.exponential()) * invTick) /
          invTick;
        const lo = Math.round(Math.exp((prev < lp ? prev : lp) - sd * 0.4 * cr.exponential()) * invTick) /
          invTick;
        const top = open > close ? open : close;
        const bottom = open < close ? open : close;
        out.open[i] = open;
        out.close[i] = close;
        out.high[i] = hi > top ? hi : top;
        out.low[i] = lo < bottom ? lo : bottom;
        const hour = ((minute + 1320) % 1440) / 60 | 0;
        out.volume[i] = Math.round(
          regVolume[reg] * SESSION_VOLUME[hour] * (0.5 + cr.uniform()) * (1 + 0.8 * Math.abs(z)),
        );
        out.timestamp[i] = barTimestamp(p.t0, row);
        lastClose = close;
      }
    }
  }
  state[0] = h;
  state[1] = e;
  state[2] = lp;
  state[3] = reg;
  state[4] = left;
}

/**
 * The exact process state at the start of every chunk of a `rows`-bar series: a Float64Array of
 * ceil(rows / BAR_CHUNK_ROWS) * BAR_STATE_SIZE values (chunk k's state at offset k * BAR_STATE_SIZE).
 * Cost: one normal and one uniform per bar, no output; sequential by nature, one call per instrument.
 */
export function barChunkStates(p: BarParams, rows: number): Float64Array {
  const chunks = Math.ceil(rows / BAR_CHUNK_ROWS);
  const out = new Float64Array(chunks * BAR_STATE_SIZE);
  const state = initialBarState(p);
  for (let k = 0; k < chunks; k++) {
    out.set(state, k * BAR_STATE_SIZE);
    if (k + 1 < chunks) simulateBars(p, state, k * BAR_CHUNK_ROWS, (k + 1) * BAR_CHUNK_ROWS);
  }
  return out;
}

/** Allocates empty bar columns for `rows` bars. */
export function allocBarColumns(rows: number): BarColumns {
  return {
    timestamp: new Float64Array(rows),
    open: new Float64Array(rows),
    high: new Float64Array(rows),
    low: new Float64Array(rows),
    close: new Float64Array(rows),
    volume: new Float64Array(rows),
  };
}

/**
 * Bars [rowStart, rowEnd) of one instrument, starting from `state` (the process state at `rowStart`,
 * e.g. from `barChunkStates`; default: computed here from the start of the series).
 */
export function generateBars(p: BarParams, rowStart: number, rowEnd: number, state?: BarState): BarColumns {
  let s: BarState;
  if (state) s = Float64Array.from(state);
  else {
    s = initialBarState(p);
    if (rowStart > 0) simulateBars(p, s, 0, rowStart);
  }
  const out = allocBarColumns(rowEnd - rowStart);
  simulateBars(p, s, rowStart, rowEnd, out);
  return out;
}
