/**
 * One part file's work, shared by the Web Worker and the in-process path: generate a row range and
 * encode it as ZSTD Parquet bytes. Pure functions of their arguments, so the bytes of a part never depend
 * on which thread made them.
 */
import { type BarParams, type BarState, generateBars, simulateBars } from "./bars.ts";
import { encodeColumns } from "./parquet.ts";
import { generateTransactions, type TxParams } from "./transactions.ts";

/** Bars [rowStart, rowEnd) of one instrument from `state` (the state at rowStart) as Parquet bytes. */
export function barPartBytes(
  p: BarParams,
  rowStart: number,
  rowEnd: number,
  state: BarState,
  zstdLevel?: number,
): Uint8Array {
  const b = generateBars(p, rowStart, rowEnd, state);
  return encodeColumns([
    { name: "timestamp", type: "TIMESTAMP", data: b.timestamp },
    { name: "open", type: "DOUBLE", data: b.open },
    { name: "high", type: "DOUBLE", data: b.high },
    { name: "low", type: "DOUBLE", data: b.low },
    { name: "close", type: "DOUBLE", data: b.close },
    { name: "volume", type: "DOUBLE", data: b.volume },
  ], zstdLevel);
}

/** The bar process state at `rowEnd`, advanced (state only, no output) from `state` at `rowStart`. */
export function barAdvance(p: BarParams, rowStart: number, rowEnd: number, state: BarState): BarState {
  const s = Float64Array.from(state);
  simulateBars(p, s, rowStart, rowEnd);
  return s;
}

/** Transactions [rowStart, rowEnd) as Parquet bytes. */
export function txPartBytes(p: TxParams, rowStart: number, rowEnd: number, zstdLevel?: number): Uint8Array {
  const t = generateTransactions(p, rowStart, rowEnd);
  return encodeColumns([
    { name: "transaction_id", type: "INT64", data: t.transaction_id },
    { name: "timestamp", type: "TIMESTAMP", data: t.timestamp },
    { name: "customer_id", type: "INT32", data: t.customer_id },
    { name: "device_id", type: "INT32", data: t.device_id },
    { name: "amount", type: "DOUBLE", data: t.amount },
    { name: "merchant_category", type: "STRING", data: t.merchant_category },
    { name: "country", type: "STRING", data: t.country },
    { name: "is_fraud", type: "INT32", data: t.is_fraud },
  ], zstdLevel);
}
