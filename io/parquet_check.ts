/**
 * Structural checks of a Parquet file around hyparquet: the footer (row counts, column chunk offsets and sizes
 * against the file, chunk paths and types against the schema) before any data is read, and each column chunk's
 * page headers (sizes within the chunk, value and row counts adding up to the footer's, page CRC-32s where the
 * writer stored them) when its bytes arrive. A bit flip inside a data page without a stored CRC changes values
 * and cannot be detected; most writers (pyarrow unless `write_page_checksum=True`, hyparquet-writer) store none.
 */
import type { ColumnMetaData, FileMetaData, SchemaTree } from "npm:hyparquet@1.31.5";
import { parquetSchema } from "npm:hyparquet@1.31.5";
import { parquetHeader } from "npm:hyparquet@1.31.5/src/column.js";
import { DataError } from "../runtime/errors.ts";

/** One column chunk to read, with the byte range the footer gives it. */
export interface ChunkRange {
  /** Column path (dot-joined) and row group index, for messages. */
  column: string;
  rowGroup: number;
  /** First and past-the-end byte of the chunk's pages in the file. */
  start: number;
  end: number;
  /** Values (incl. nulls) and rows the footer declares; `flat` when one value per row. */
  values: number;
  rows: number;
  flat: boolean;
  codec: string;
  /** Bytes per PLAIN value for fixed-width physical types, else 0. */
  width: number;
  /** The leaf and its ancestors are REQUIRED: no definition or repetition levels. */
  required: boolean;
  /** Maximum definition level (the number of non-REQUIRED fields on the path). */
  maxDef: number;
}

/** One page of a column chunk: absolute positions of its header, its data and the data's end. */
export interface PageSpan {
  /** Page type, e.g. "DATA_PAGE". */
  type: string;
  header: number;
  data: number;
  end: number;
  /** Whether the header stores a CRC of the data. */
  crc: boolean;
  /**
   * Data pages: what `checkPageRuns` needs to bound the page's RLE runs once decompressed: the values'
   * encoding, the values (v2: non-null values) and, for v2, the byte length of the levels before the values.
   */
  runs?: { encoding: string; values: number; v2Levels?: number; maxDef: number; flat: boolean };
}

const CODECS = new Set(["UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"]);

function safeCount(v: bigint | number | undefined, what: string): number {
  const n = typeof v === "bigint" ? Number(v) : v;
  if (n === undefined || !Number.isSafeInteger(n) || n < 0) throw new Error(`${what} is ${v}`);
  return n;
}

/** Leaf columns in schema order: dot-joined path, physical type, and whether every ancestor is non-repeated. */
function leaves(
  tree: SchemaTree,
  prefix: string[] = [],
  flat = true,
  required = true,
  maxDef = 0,
): { path: string; type?: string; flat: boolean; width: number; required: boolean; maxDef: number }[] {
  return tree.children.flatMap((c) => {
    const path = [...prefix, c.element.name];
    const f = flat && c.element.repetition_type !== "REPEATED";
    const r = required && c.element.repetition_type === "REQUIRED";
    const d = maxDef + (c.element.repetition_type === "REQUIRED" ? 0 : 1);
    const t = c.element.type;
    const width = t === "FIXED_LEN_BYTE_ARRAY" ? c.element.type_length ?? 0 : WIDTH[t ?? ""] ?? 0;
    return c.children.length
      ? leaves(c, path, f, r, d)
      : [{ path: path.join("."), type: t, flat: f, width, required: r, maxDef: d }];
  });
}

const WIDTH: Record<string, number> = { INT32: 4, INT64: 8, INT96: 12, FLOAT: 4, DOUBLE: 8 };

/**
 * Checks a Parquet footer against the file's size and itself: row groups' rows add up to the file's, every row
 * group has one chunk per schema leaf with the leaf's path and type, every chunk's byte range lies between the
 * leading magic and the footer without overlapping another, its codec is known and a flat column holds one
 * value per row. Returns the chunks of the `wanted` top-level columns. Throws a `DataError` naming `source`.
 * O(metadata).
 */
export function checkParquetFooter(
  meta: FileMetaData,
  fileSize: number,
  source: string,
  wanted: Set<string>,
): ChunkRange[] {
  try {
    const footerStart = fileSize - 8 - meta.metadata_length;
    const rows = safeCount(meta.num_rows, "the file's row count");
    const cols = leaves(parquetSchema(meta));
    const chunks: ChunkRange[] = [];
    const spans: [number, number, string][] = [];
    let sum = 0;
    meta.row_groups.forEach((rg, g) => {
      const rgRows = safeCount(rg.num_rows, `row group ${g}'s row count`);
      sum += rgRows;
      if (rg.columns.length !== cols.length) {
        throw new Error(
          `row group ${g} has ${rg.columns.length} column chunks; the schema has ${cols.length} columns`,
        );
      }
      rg.columns.forEach((cc, i) => {
        const where = `row group ${g}, column "${cols[i].path}"`;
        if (cc.file_path) throw new Error(`${where}: data in another file (${JSON.stringify(cc.file_path)})`);
        const m: ColumnMetaData | undefined = cc.meta_data;
        if (!m) throw new Error(`${where}: no column metadata`);
        if (m.path_in_schema?.join(".") !== cols[i].path || m.type !== cols[i].type) {
          throw new Error(
            `${where}: chunk metadata names ${JSON.stringify(m.path_in_schema?.join("."))} (${m.type})`,
          );
        }
        if (!CODECS.has(m.codec)) throw new Error(`${where}: unknown compression codec`);
        const values = safeCount(m.num_values, `${where}: value count`);
        if (cols[i].flat && values !== rgRows) {
          throw new Error(`${where}: ${values} values in a row group of ${rgRows} rows`);
        }
        // As hyparquet reads it: from the dictionary page when there is one, total_compressed_size bytes.
        const start = safeCount(m.dictionary_page_offset || m.data_page_offset, `${where}: page offset`);
        const size = safeCount(m.total_compressed_size, `${where}: compressed size`);
        const dataAt = safeCount(m.data_page_offset, `${where}: data page offset`);
        if (
          start < 4 || size === 0 || start + size > footerStart || dataAt < start || dataAt >= start + size
        ) {
          throw new Error(
            `${where}: pages at bytes ${start}..${
              start + size
            } (data page at ${dataAt}) do not fit between the ` +
              `magic and the footer (bytes 4..${footerStart})`,
          );
        }
        spans.push([start, start + size, where]);
        if (wanted.has(cols[i].path.split(".")[0])) {
          chunks.push({
            column: cols[i].path,
            rowGroup: g,
            start,
            end: start + size,
            values,
            rows: rgRows,
            flat: cols[i].flat,
            codec: m.codec,
            width: cols[i].width,
            required: cols[i].required,
            maxDef: cols[i].maxDef,
          });
        }
      });
    });
    if (sum !== rows) throw new Error(`the row groups hold ${sum} rows; the footer says ${rows}`);
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) {
      if (spans[i][0] < spans[i - 1][1]) throw new Error(`${spans[i - 1][2]} and ${spans[i][2]} overlap`);
    }
    return chunks;
  } catch (e) {
    throw corrupt(source, e);
  }
}

function corrupt(source: string, e: unknown): DataError {
  const msg = e instanceof Error ? e.message : String(e);
  return new DataError(
    `${source}: corrupt Parquet file: ${msg}; the file is damaged or truncated, re-write or re-download it`,
  );
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib and Parquet's PageHeader.crc) of bytes[start, end), as a signed int32. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = -1;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c;
}

/**
 * Walks one column chunk's pages (`bytes` = the chunk, from `chunk.start` to `chunk.end`): every page header
 * must parse, its page must end inside the chunk and the pages must fill it exactly; at most one dictionary
 * page, first; data page values (and v2 rows) must add up to the footer's counts; an uncompressed page's two
 * sizes must agree; a page with a stored CRC must match the CRC-32 of its bytes. Throws a `DataError` naming
 * `source`, the row group, the column and the byte. O(page headers), plus one CRC pass over pages that have one.
 * Returns the pages found.
 */
export function checkColumnChunk(bytes: Uint8Array, chunk: ChunkRange, source: string): PageSpan[] {
  const where = `row group ${chunk.rowGroup}, column "${chunk.column}"`;
  try {
    const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
    let values = 0, rowsV2 = 0, dataPages = 0, v2 = false;
    const pages: PageSpan[] = [];
    while (reader.offset < bytes.length) {
      const at = chunk.start + reader.offset;
      const here = `${where}: page at byte ${at}`;
      let h: ReturnType<typeof parquetHeader>;
      try {
        h = parquetHeader(reader);
      } catch (e) {
        throw new Error(`${here}: unreadable page header (${e instanceof Error ? e.message : e})`);
      }
      const size = h.compressed_page_size, full = h.uncompressed_page_size;
      const body = reader.offset;
      if (!Number.isSafeInteger(size) || size < 0 || body + size > bytes.length) {
        throw new Error(`${here}: ${size} bytes of page data run past the chunk's end (byte ${chunk.end})`);
      }
      if (!Number.isSafeInteger(full) || full < 0) throw new Error(`${here}: uncompressed size ${full}`);
      const stored = chunk.codec === "UNCOMPRESSED" ||
        (h.type === "DATA_PAGE_V2" && h.data_page_header_v2?.is_compressed === false);
      if (stored && full !== size) {
        throw new Error(`${here}: uncompressed page of ${size} bytes says ${full}`);
      }
      if (h.type === "DICTIONARY_PAGE") {
        if (pages.length > 0) throw new Error(`${here}: a dictionary page after other pages`);
        const d = h.dictionary_page_header;
        if (!d || !isCount(d.num_values) || !d.encoding) {
          throw new Error(`${here}: bad dictionary page header`);
        }
        // Dictionary values are PLAIN: fixed-width ones fill the page exactly.
        if (chunk.width && full !== d.num_values * chunk.width) {
          throw new Error(
            `${here}: ${full} bytes for ${d.num_values} dictionary values of ${chunk.width} bytes`,
          );
        }
      } else if (h.type === "DATA_PAGE") {
        const d = h.data_page_header;
        if (!d || !isCount(d.num_values) || !d.encoding || !d.definition_level_encoding) {
          throw new Error(`${here}: bad data page header`);
        }
        // Without nulls or repetition (a required column) a v1 page holds only its values.
        if (d.encoding === "PLAIN" && chunk.width && chunk.required && full !== d.num_values * chunk.width) {
          throw new Error(`${here}: ${full} bytes for ${d.num_values} values of ${chunk.width} bytes`);
        }
        values += d.num_values;
        dataPages++;
      } else if (h.type === "DATA_PAGE_V2") {
        const d = h.data_page_header_v2;
        const levels = (d?.definition_levels_byte_length ?? -1) + (d?.repetition_levels_byte_length ?? -1);
        if (
          !d || !isCount(d.num_values) || !isCount(d.num_rows) || !isCount(d.num_nulls) ||
          d.num_nulls > d.num_values || !d.encoding || typeof d.is_compressed !== "boolean"
        ) {
          throw new Error(`${here}: bad data page v2 header`);
        }
        if (
          !isCount(d.definition_levels_byte_length) || !isCount(d.repetition_levels_byte_length) ||
          levels > size
        ) {
          throw new Error(`${here}: level lengths ${levels} exceed the page's ${size} bytes`);
        }
        // Levels are outside the values (and their lengths outside the CRC): PLAIN fixed-width values must fill
        // exactly the rest of the page.
        const width = chunk.width;
        if (d.encoding === "PLAIN" && width && full - levels !== (d.num_values - d.num_nulls) * width) {
          throw new Error(
            `${here}: ${full - levels} bytes of values for ${
              d.num_values - d.num_nulls
            } non-null ${width}-byte values`,
          );
        }
        // v2 levels are stored uncompressed: check their runs, which hyparquet's decoder trusts (a damaged run
        // length made it loop for seconds).
        if (chunk.flat && chunk.maxDef > 0 && d.definition_levels_byte_length > 0) {
          const at = body + d.repetition_levels_byte_length;
          const why = rleRuns(
            bytes,
            at,
            at + d.definition_levels_byte_length,
            bitWidth(chunk.maxDef),
            d.num_values,
          );
          if (why) throw new Error(`${here}: definition levels: ${why}`);
        }
        values += d.num_values;
        rowsV2 += d.num_rows;
        v2 = true;
        dataPages++;
      } else if (h.type !== "INDEX_PAGE") throw new Error(`${here}: unknown page type`);
      if (h.crc !== undefined && h.crc !== null) {
        const got = crc32(bytes, body, body + size);
        if (got !== (h.crc | 0)) {
          throw new Error(
            `${here}: CRC-32 mismatch (stored ${hex(h.crc)}, computed ${
              hex(got)
            }): the page's bytes are damaged`,
          );
        }
      }
      reader.offset = body + size;
      const page: PageSpan = {
        type: h.type,
        header: at,
        data: chunk.start + body,
        end: chunk.start + body + size,
        crc: h.crc !== undefined,
      };
      const v1 = h.data_page_header, v2p = h.data_page_header_v2;
      const { maxDef, flat } = chunk;
      if (v1) page.runs = { encoding: v1.encoding, values: v1.num_values, maxDef, flat };
      if (v2p) {
        const v2Levels = v2p.definition_levels_byte_length + v2p.repetition_levels_byte_length;
        page.runs = {
          encoding: v2p.encoding,
          values: v2p.num_values - v2p.num_nulls,
          v2Levels,
          maxDef,
          flat,
        };
      }
      // Stored uncompressed, the page's runs can be checked here; compressed ones when hyparquet inflates them.
      const plain = chunk.codec === "UNCOMPRESSED" || v2p?.is_compressed === false;
      if (page.runs && plain) {
        const why = checkPageRuns(bytes.subarray(body + (page.runs.v2Levels ?? 0), body + size), page.runs);
        if (why) throw new Error(`${here}: ${why}`);
      }
      pages.push(page);
    }
    if (dataPages === 0 && chunk.values > 0) throw new Error(`${where}: no data page`);
    if (values !== chunk.values) {
      throw new Error(`${where}: the pages hold ${values} values; the footer says ${chunk.values}`);
    }
    if (v2 && chunk.flat && rowsV2 !== chunk.rows) {
      throw new Error(`${where}: the pages hold ${rowsV2} rows; the row group has ${chunk.rows}`);
    }
    return pages;
  } catch (e) {
    throw corrupt(source, e);
  }
}

const bitWidth = (max: number) => 32 - Math.clz32(max);

/**
 * Walks an RLE / bit-packed hybrid stream of `count` values of `width` bits in bytes[start, end): why it is
 * damaged (a run past the values or the bytes, an empty run), or undefined. `atMost`: `count` is only an upper
 * bound (the stream may end before). O(runs).
 */
function rleRuns(
  bytes: Uint8Array,
  start: number,
  end: number,
  width: number,
  count: number,
  atMost = false,
): string | undefined {
  let p = start, seen = 0;
  while (seen < count) {
    let header = 0, shift = 0, b: number;
    // With `atMost`, count is an upper bound (v1 pages: values incl. nulls): the bytes may end first.
    if (atMost && p >= end) return undefined;
    do {
      if (p >= end || shift > 28) return `a run header past the ${end - start} bytes`;
      b = bytes[p++];
      header += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    const n = Math.floor(header / 2);
    if (header % 2) { // bit-packed groups of 8 values (the last may be padded)
      p += n * width;
      seen += n * 8;
      if (n === 0 || seen >= count + 8) {
        return `a bit-packed run of ${n * 8} values where ${count} are declared`;
      }
    } else {
      p += (width + 7) >> 3;
      seen += n;
      if (n === 0 && atMost) return undefined; // trailing bytes hyparquet never reads
      if (n === 0 || seen > count) return `a run of ${n} values where ${count} are declared`;
    }
    if (p > end) return `runs past the ${end - start} bytes`;
  }
  return undefined;
}

/**
 * Bounds the RLE / bit-packed runs of a decompressed data page (v1: definition levels, then the values; v2: the
 * values) by the page's value count: hyparquet's decoder trusts run lengths, and a damaged one made it fill a
 * JavaScript array of up to 2^31 entries (tens of seconds). Returns why the page is damaged, or undefined.
 * Only flat columns (the ones read); O(runs).
 */
export function checkPageRuns(page: Uint8Array, runs: NonNullable<PageSpan["runs"]>): string | undefined {
  if (!runs.flat) return undefined;
  let p = 0;
  if (runs.v2Levels === undefined && runs.maxDef > 0) {
    if (page.length < 4) return "definition levels cut short";
    const len = (page[0] | (page[1] << 8) | (page[2] << 16) | (page[3] << 24)) >>> 0;
    if (4 + len > page.length) return `definition levels of ${len} bytes in a page of ${page.length}`;
    const why = rleRuns(page, 4, 4 + len, bitWidth(runs.maxDef), runs.values, true);
    if (why) return `definition levels: ${why}`;
    p = 4 + len;
  }
  if (runs.encoding === "RLE_DICTIONARY" || runs.encoding === "PLAIN_DICTIONARY") {
    const width = page[p];
    if (width === undefined || width > 32) return `dictionary index width ${width}`;
    const why = rleRuns(page, p + 1, page.length, width, runs.values, true);
    if (why) return `dictionary indices: ${why}`;
  }
  return undefined;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const hex = (v: number) => "0x" + (v >>> 0).toString(16).padStart(8, "0");
