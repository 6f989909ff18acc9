/**
 * Synthetic 1-minute OHLCV bars for demos and tests: log returns follow a GARCH(1,1) with Student-like
 * fat tails, OHLC are consistent (low <= open, close <= high), volume rises with volatility. Deterministic
 * for a seed. (The parallel Parquet generator with regimes and weekend gaps is `generator/`.)
 */
import { type Frame, makeFrame } from "./frame.ts";
import { normalFrom, seededUniform } from "./random.ts";

/** Parameters of the synthetic bar process. */
export interface SyntheticBarsOptions {
  /** Number of bars (one per minute). */
  rows: number;
  /** PRNG seed; the same seed gives the same bars. */
  seed: number;
  /** Starting price (default 1.1, a EUR/USD-like level). */
  start?: number;
  /** First bar's time, epoch ms (default 2024-01-01T00:00Z). */
  t0?: number;
  /** GARCH(1,1) parameters of 1-minute log returns (defaults: omega 1e-10, alpha 0.05, beta 0.93). */
  omega?: number;
  /** GARCH ARCH coefficient: weight of the last squared return (default 0.05). */
  alpha?: number;
  /** GARCH persistence: weight of the last conditional variance (default 0.93). */
  beta?: number;
}

/** Generates `rows` consistent OHLCV bars named `name`. */
export function syntheticBars(name: string, o: SyntheticBarsOptions): Frame {
  const { rows, omega = 1e-10, alpha = 0.05, beta = 0.93 } = o;
  const u = seededUniform(o.seed);
  const normal = () => normalFrom(u);
  const cols = ["open", "high", "low", "close", "volume"].map(() => new Float64Array(rows));
  const [open, high, low, close, volume] = cols;
  const ts = new Float64Array(rows);
  const t0 = o.t0 ?? Date.UTC(2024, 0, 1);
  let h = omega / (1 - alpha - beta), e = 0, p = Math.log(o.start ?? 1.1);
  for (let i = 0; i < rows; i++) {
    h = omega + alpha * e * e + beta * h;
    // A scaled t(5)-like shock: normal over the root of a chi-square(5)/5 mix keeps unit variance.
    const chi = (normal() ** 2 + normal() ** 2 + normal() ** 2 + normal() ** 2 + normal() ** 2) / 5;
    e = Math.sqrt(h) * normal() / Math.sqrt(chi) * Math.sqrt(3 / 5);
    const prev = p;
    p += e;
    const range = Math.abs(e) + Math.sqrt(h) * Math.abs(normal()) * 0.5;
    open[i] = Math.exp(prev);
    close[i] = Math.exp(p);
    high[i] = Math.exp(Math.max(prev, p) + range * u());
    low[i] = Math.exp(Math.min(prev, p) - range * u());
    volume[i] = Math.round(100 * (1 + Math.abs(e) / Math.sqrt(h)) * (0.5 + u()));
    ts[i] = t0 + i * 60_000;
  }
  return makeFrame(
    `synthetic:${name}`,
    rows,
    new Map([["open", open], ["high", high], ["low", low], ["close", close], ["volume", volume]]),
    [],
    { column: "timestamp", values: ts },
  );
}
