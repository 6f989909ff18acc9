/**
 * Parquet encoding of generated columns through hyparquet-writer, tuned for throughput: one row group per
 * file, large pages (fewer compressor calls), no statistics, PLAIN doubles (tick-rounded prices repeat
 * often, which ZSTD finds better in PLAIN than in BYTE_STREAM_SPLIT layout), DELTA_BINARY_PACKED
 * timestamps and ids (a constant step packs to almost nothing), dictionary-encoded strings, and ZSTD at
 * a fast level through node:zlib.
 */
import { type ColumnSource, parquetWriteBuffer } from "npm:hyparquet-writer@0.17.0";
import { zstdAt } from "../io/zstd.ts";

/** Default ZSTD level (1: fast; 3 is zstd's default and ~10% smaller, ~25% slower here). */
export const DEFAULT_ZSTD_LEVEL = 1;

/** One column to encode. */
export type GenColumn =
  | { name: string; type: "TIMESTAMP"; data: Float64Array }
  | { name: string; type: "INT64"; data: Float64Array }
  | { name: string; type: "DOUBLE"; data: Float64Array }
  | { name: string; type: "INT32"; data: Int32Array }
  | { name: string; type: "STRING"; data: string[] };

/** Encodes `columns` (all of the same length) as one ZSTD Parquet file with a single row group. */
export function encodeColumns(columns: GenColumn[], zstdLevel = DEFAULT_ZSTD_LEVEL): Uint8Array {
  const rows = columns[0]?.data.length ?? 0;
  const columnData: ColumnSource[] = columns.map((c): ColumnSource => {
    switch (c.type) {
      case "TIMESTAMP":
        return {
          name: c.name,
          type: "TIMESTAMP",
          data: c.data,
          nullable: false,
          encoding: "DELTA_BINARY_PACKED",
        };
      case "INT64":
        return {
          name: c.name,
          type: "INT64",
          data: Array.from(c.data, (v) => BigInt(v)),
          nullable: false,
          encoding: "DELTA_BINARY_PACKED",
        };
      case "DOUBLE":
        return { name: c.name, type: "DOUBLE", data: c.data, nullable: false, encoding: "PLAIN" };
      case "INT32":
        return { name: c.name, type: "INT32", data: c.data, nullable: false };
      case "STRING":
        return { name: c.name, type: "STRING", data: c.data, nullable: false };
    }
  });
  const buf = parquetWriteBuffer({
    columnData,
    codec: "ZSTD",
    compressors: { ZSTD: zstdAt(zstdLevel) },
    statistics: false,
    rowGroupSize: Math.max(1, rows),
    pageSize: 8 << 20,
    createdBy: "feature-genesis generator",
  });
  return new Uint8Array(buf);
}
