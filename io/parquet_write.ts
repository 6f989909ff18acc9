/**
 * Parquet encoding of a frame with hyparquet-writer: DOUBLE columns (NaN kept as NaN), the timestamp as
 * INT64 TIMESTAMP_MILLIS, ZSTD pages through node:zlib's zstd (Deno and Node; the browser passes its own).
 */
import { ByteWriter, parquetWrite } from "npm:hyparquet-writer@0.17.0";
import { zstdCompress } from "./zstd.ts";

/** A page compressor as hyparquet-writer expects it. */
export type Compressor = (input: Uint8Array) => Uint8Array;

/**
 * Encodes named f64 columns (and optional epoch-ms timestamps, written first) as a ZSTD Parquet file. The
 * result is a view into a larger buffer: use its bytes, not its `.buffer`.
 */
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
  // Sized for the data stored uncompressed (untouched capacity costs nothing) and handed back as a view:
  // parquetWriteBuffer grows its buffer from 1 KiB by doubling and then copies the file out of it, four copies
  // of a part's bytes in all.
  const rows = timestamps?.values.length ?? columns.values().next().value?.length ?? 0;
  const writer = new ByteWriter(Math.ceil(8 * rows * (columns.size + 1) * 1.01) + 2 ** 20);
  parquetWrite({ writer, columnData, codec: "ZSTD", compressors: { ZSTD: compress } });
  return writer.getBytes();
}
