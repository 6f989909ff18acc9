/**
 * The f64 Gram product Z^T Z of the correlation matrix (kernels/corr_matrix.ts) in WebAssembly SIMD:
 * kernels/corr_gram.wat, shipped as bytes in kernels/corr_gram_wasm.ts. The caller writes panels of PANEL rows
 * into {@link GramProduct.panel} by groups of 4 columns ([group][row][4]) and adds each one; the upper
 * triangle's 4 x 4 tiles accumulate in the module's memory, each tile's sum over the panels in order.
 */
import { UsageError } from "../runtime/errors.ts";
import { CORR_GRAM_WASM_BASE64 } from "./corr_gram_wasm.ts";

/** Rows per packed panel: 4 columns x PANEL rows x 8 bytes = 8 KiB per column group (the gi group in L1). */
export const PANEL = 256;

/** One product's memory: the packed panel at the start, the tiles after it. */
export interface GramProduct {
  /** The panel, PANEL rows of every group ([group][row][4], f64); write z here before {@link add}. */
  panel: Float64Array;
  /**
   * Adds the panel's `rows` rows (even: pad with a zero row; the groups laid out `rows` apart) into tile rows
   * 0..giEnd-1 (default every one; fewer when another thread takes the rest).
   */
  add: (rows: number, giEnd?: number) => void;
  /** Tile (gi, gj) element (a, b) at ((gi * groups + gj) * 16 + a * 4 + b); upper triangle only. */
  tiles: () => Float64Array;
}

let compiled: WebAssembly.Module | undefined;

/**
 * A fresh instance of kernels/corr_gram.wat for `groups` groups of 4 columns (the module is compiled once;
 * each product has its own memory, freed with it). `what` names the caller in the error when the memory
 * cannot grow that far.
 */
export function gramProduct(groups: number, what: string): GramProduct {
  compiled ??= new WebAssembly.Module(Uint8Array.from(atob(CORR_GRAM_WASM_BASE64), (ch) => ch.charCodeAt(0)));
  const { exports } = new WebAssembly.Instance(compiled);
  const memory = exports.memory as WebAssembly.Memory;
  const gram = exports.gram as (
    groups: number,
    rows: number,
    panel: number,
    gram: number,
    giEnd: number,
  ) => void;
  const panelBytes = groups * PANEL * 32, bytes = panelBytes + groups * groups * 128;
  try {
    const pages = Math.ceil(bytes / 65536) - memory.buffer.byteLength / 65536;
    if (pages > 0) memory.grow(pages);
  } catch {
    throw new UsageError(
      `${what}: ${groups * 4} columns need ${Math.ceil(bytes / 2 ** 20)} MiB of WebAssembly memory, ` +
        "more than the runtime grants (4 GiB at most): pass fewer columns",
    );
  }
  return {
    panel: new Float64Array(memory.buffer, 0, panelBytes / 8),
    add: (rows, giEnd = groups) => gram(groups, rows, 0, panelBytes, giEnd),
    tiles: () => new Float64Array(memory.buffer, panelBytes, groups * groups * 16),
  };
}
