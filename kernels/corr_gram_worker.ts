/**
 * The correlation matrix's Web Worker (kernels/corr_matrix.ts `corrMatrixParallel`): the Gram product of the
 * last column groups (kernels/corr_gram.ts), one packed panel per message, the tiles sent back at the end.
 */
import * as Comlink from "npm:comlink@4.4.2";
import { type GramProduct, gramProduct, PANEL } from "./corr_gram.ts";

let product: GramProduct | undefined;

/** The API the worker exposes. */
export const corrGramWorkerApi = {
  /** A fresh product over `groups` groups of 4 columns. */
  start(groups: number): void {
    product = gramProduct(groups, "correlation matrix worker");
  },
  /**
   * Adds one packed panel ([group][row][4], `rows` rows per group, at the start of `panel`) into every tile;
   * returns `panel` for the next one.
   */
  add(panel: Float64Array<ArrayBuffer>, rows: number): Float64Array<ArrayBuffer> {
    product!.panel.set(panel.subarray(0, product!.panel.length / PANEL * rows));
    product!.add(rows);
    return Comlink.transfer(panel, [panel.buffer]);
  },
  /** The tiles ((gi * groups + gj) * 16, upper triangle); the product is released. */
  tiles(): Float64Array {
    const t = product!.tiles().slice();
    product = undefined;
    return Comlink.transfer(t, [t.buffer]);
  },
};

/** The type of `corrGramWorkerApi`, for Comlink.wrap. */
export type CorrGramWorkerApi = typeof corrGramWorkerApi;

// Only expose when running as a worker (importing this module for its type must have no effect).
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
if (typeof g.WorkerGlobalScope !== "undefined" && g instanceof g.WorkerGlobalScope) {
  Comlink.expose(corrGramWorkerApi);
}
