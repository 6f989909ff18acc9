/**
 * The generator's Web Worker: exposes the part functions through Comlink. Part bytes are transferred
 * (not copied) back to the main thread, which writes them through its Storage.
 */
import * as Comlink from "npm:comlink@4.4.2";
import type { BarParams } from "./bars.ts";
import { barAdvance, barPartBytes, txPartBytes } from "./parts.ts";
import type { TxParams } from "./transactions.ts";

/** The API a generator worker exposes. */
export const workerApi = {
  /** The bar state at rowEnd from the state at rowStart. */
  barAdvance(p: BarParams, rowStart: number, rowEnd: number, state: Float64Array): Float64Array {
    const s = barAdvance(p, rowStart, rowEnd, state);
    return Comlink.transfer(s, [s.buffer as ArrayBuffer]);
  },
  /** One bar part file's bytes. */
  barPart(
    p: BarParams,
    rowStart: number,
    rowEnd: number,
    state: Float64Array,
    zstdLevel?: number,
  ): Uint8Array {
    const bytes = barPartBytes(p, rowStart, rowEnd, state, zstdLevel);
    return Comlink.transfer(bytes, [bytes.buffer as ArrayBuffer]);
  },
  /** One transaction part file's bytes. */
  txPart(p: TxParams, rowStart: number, rowEnd: number, zstdLevel?: number): Uint8Array {
    const bytes = txPartBytes(p, rowStart, rowEnd, zstdLevel);
    return Comlink.transfer(bytes, [bytes.buffer as ArrayBuffer]);
  },
};

/** The type of `workerApi`, for Comlink.wrap. */
export type WorkerApi = typeof workerApi;

// Only expose when running as a worker (importing this module for its type must have no effect).
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
if (typeof g.WorkerGlobalScope !== "undefined" && g instanceof g.WorkerGlobalScope) Comlink.expose(workerApi);
