/**
 * Shared by the GARCH engine tests: prices from percent log returns, a garch_models config with the schema's
 * defaults (so the tests follow the documented ones), and the engine's volatility column of a price series.
 */
import { defaultConfig } from "../config/schema.ts";
import { type GarchEngineConfig, garchModels } from "../engines/garch.ts";
import { makeFrame } from "../io/frame.ts";
import type { Compute } from "../runtime/backend.ts";

/** Close prices from percent log returns: close[0] = 100, close[t] = close[t - 1] exp(r[t - 1] / 100). */
export function pricesFromReturns(r: ArrayLike<number>, n = r.length + 1): Float64Array {
  const close = new Float64Array(n);
  close[0] = 100;
  for (let t = 1; t < n; t++) close[t] = close[t - 1] * Math.exp(r[t - 1] / 100);
  return close;
}

/** `features.garch` as configured by default, on column `close`, with `o` on top. */
export function garchConfig(o: Partial<GarchEngineConfig>): GarchEngineConfig {
  return { ...defaultConfig().features.garch, columns: ["close"], ...o };
}

/** The engine on a `close` series: `close_garch_vol` and the report. */
export async function garchVol(close: Float64Array, cfg: GarchEngineConfig, compute: Compute) {
  const frame = makeFrame("mem", close.length, new Map([["close", close]]));
  const res = await garchModels(frame, cfg, compute);
  return { vol: res.columns.get("close_garch_vol")!, report: res.report };
}
