/**
 * Parquet encoding of a frame with hyparquet-writer: DOUBLE columns (NaN kept as NaN), the timestamp as
 * INT64 TIMESTAMP_MILLIS, ZSTD pages through node:zlib's zstd (Deno and Node; the browser passes its own).
 */
import { parquetWriteBuffer } from "npm:hyparquet-writer@0.17.0";
import { zstdCompress } from "./zstd.ts";

/** A page compressor as hyparquet-writer expects it. */
export type Compressor = (input: Uint8Array) => Uint8Array;

/** Encodes named f64 columns (and optional epoch-ms timestamps, written first) as a ZSTD Parquet file. */
export function encodeParquet(
  columns: Map<string, Float64Array>,
  timestamps?: { name: string; values: Float64Array },
  compress: Compressor = zstdCompress,
): Uint8Array {
  const columnData = [
    ...(timestamps
      ? [{
        name: timestamps.name,
        data: Array.from(timestamps.values, (v) => BigInt(Math.round(v))),
        type: "TIMESTAMP" as const,
      }]
      : []),
    ...[...columns].map(([name, data]) => ({ name, data, type: "DOUBLE" as const, nullable: false })),
  ];
  return new Uint8Array(parquetWriteBuffer({ columnData, codec: "ZSTD", compressors: { ZSTD: compress } }));
}
