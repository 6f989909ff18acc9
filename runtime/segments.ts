/**
 * Chunking with halos and column batching. Columns are cut into segments that fit one storage binding
 * (and the memory budget); each segment after the first starts `halo` points early so windowed kernels
 * see the history they need, and only the points after the halo are kept, so the result equals the
 * unchunked one. Segments of many columns are packed into one buffer and run in one dispatch.
 *
 * GPU layout shared by the segmented shaders: input `k` is an array<f32> of `total` points, segments
 * are `array<Seg>` with `struct Seg { offset: u32, len: u32, init: f32, col: u32 }`, and output plane `p`
 * of segment `s` is at `out[p * total + seg.offset + i]`.
 */
import { GpuError } from "./errors.ts";
import type { Batch, GpuRuntime } from "./gpu.ts";

/** A piece of one column: points [start, end) are computed, [keepFrom, end) are kept. */
export interface Segment {
  /** Index of the column in the job's `columns`. */
  column: number;
  /** First point computed (inclusive), including the halo. */
  start: number;
  /** One past the last point computed and kept. */
  end: number;
  /** First point kept in the output; points in [start, keepFrom) are halo history only. */
  keepFrom: number;
}

/** Splits a column of length `n` into segments of at most `maxLen` points overlapping by `halo`. */
export function planSegments(column: number, n: number, halo: number, maxLen: number): Segment[] {
  if (n > maxLen && maxLen <= halo) {
    throw new GpuError(
      `a window needing ${halo + 1} points does not fit in one GPU chunk of ${maxLen} points ` +
        `(binding limit or compute.memory_budget too small)`,
      "out-of-memory",
    );
  }
  const segs: Segment[] = [];
  let keepFrom = 0;
  while (keepFrom < n) {
    const start = Math.max(0, keepFrom - halo);
    const end = Math.min(n, start + maxLen);
    segs.push({ column, start, end, keepFrom });
    keepFrom = end;
  }
  return segs;
}

/** Buffers a kernel's `encode` receives for one batch. */
export interface SegmentIO {
  /** One packed f32 buffer per input series (`total` points each). */
  inputs: GPUBuffer[];
  /** The `array<Seg>` segment table. */
  segs: GPUBuffer;
  /** Output buffer: `planes * total` f32 values, plane-major. */
  out: GPUBuffer;
  /** Number of segments in the batch (entries of `segs`). */
  nSegs: number;
  /** Points packed in each input buffer (sum of the segment lengths). */
  total: number;
  /** Longest segment in the batch, in points. */
  maxLen: number;
  /** The batch's segments, in table order, with their offsets in the packed buffers. */
  segments: (Segment & { offset: number })[];
}

/** How one column is converted to f32 and its outputs converted back. */
export interface ColumnPrep {
  /** Subtracted (in f64) from each input before the f32 conversion, so f32 keeps the significant digits. */
  offsets: number[];
  /** Per output plane, a constant added to every f32 result to return to the caller's units (default 0). */
  add?: number[];
  /** Optional pass over the finished f64 output planes of the column (e.g. marking NaN windows). */
  finish?: (planes: Float64Array[]) => void;
}

/** A segmented GPU job over columns (each column: one or more equal-length inputs). */
export interface SegmentedJob {
  /** Input columns; each is one or more equal-length series (columns[c][input]). */
  columns: Float64Array[][];
  /** History points each output needs (window - 1). */
  halo: number;
  /** Output planes per column. */
  planes: number;
  /** Largest number of bytes per point held in any single binding (output planes, scratch). */
  bindBytesPerPoint: number;
  /** All GPU bytes per point of a batch (inputs, outputs, scratch, read-back), for the memory budget. */
  totalBytesPerPoint: number;
  /** Longest segment (points, halo included); default: what fits the binding and the budget. */
  maxSegmentLen?: number;
  /** Per-column f32 conversion (offsets) and the mapping of outputs back to f64 (`index`: in `columns`). */
  prepare: (column: Float64Array[], index: number) => ColumnPrep;
  /** Optional per-segment value passed as `Seg.init` (e.g. a carried running minimum). */
  init?: (seg: Segment) => number;
  /** Encodes the dispatches for one batch of segments into `batch` (must not submit or await the GPU). */
  encode: (batch: Batch, io: SegmentIO) => Promise<void>;
}

const MAX_SEGMENTS_PER_BATCH = 65535;

/** Runs a segmented job; returns outputs[column][plane], each as long as the column. */
export async function runSegmented(rt: GpuRuntime, job: SegmentedJob): Promise<Float64Array[][]> {
  const capacity = Math.floor(
    Math.min(
      rt.limits.maxBindingBytes / job.bindBytesPerPoint,
      rt.pool.budgetBytes / job.totalBytesPerPoint,
      job.maxSegmentLen ?? Infinity,
    ),
  );
  const preps = job.columns.map((c, i) => job.prepare(c, i));
  const outputs = job.columns.map((c) =>
    Array.from({ length: job.planes }, () => new Float64Array(c[0].length))
  );
  const segments = job.columns.flatMap((c, i) => planSegments(i, c[0].length, job.halo, capacity));
  let batch: Segment[] = [];
  let used = 0;
  for (const seg of segments) {
    const len = seg.end - seg.start;
    if (batch.length && (used + len > capacity || batch.length === MAX_SEGMENTS_PER_BATCH)) {
      await runBatch(rt, job, batch, preps, outputs);
      batch = [];
      used = 0;
    }
    batch.push(seg);
    used += len;
  }
  if (batch.length) await runBatch(rt, job, batch, preps, outputs);
  preps.forEach((prep, c) => prep.finish?.(outputs[c]));
  return outputs;
}

async function runBatch(
  rt: GpuRuntime,
  job: SegmentedJob,
  segs: Segment[],
  preps: ColumnPrep[],
  outputs: Float64Array[][],
): Promise<void> {
  const total = segs.reduce((a, s) => a + s.end - s.start, 0);
  const nInputs = job.columns[0].length;
  const inputs = Array.from({ length: nInputs }, () => new Float32Array(total));
  const table = new ArrayBuffer(segs.length * 16);
  const u32 = new Uint32Array(table);
  const f32 = new Float32Array(table);
  let offset = 0;
  const offsets: number[] = [];
  segs.forEach((s, i) => {
    const prep = preps[s.column];
    for (let k = 0; k < nInputs; k++) {
      const src = job.columns[s.column][k];
      const dst = inputs[k];
      const off = prep.offsets[k] ?? 0;
      for (let j = s.start; j < s.end; j++) dst[offset + j - s.start] = src[j] - off;
    }
    u32[i * 4] = offset;
    u32[i * 4 + 1] = s.end - s.start;
    f32[i * 4 + 2] = job.init ? job.init(s) : 0;
    u32[i * 4 + 3] = s.column;
    offsets.push(offset);
    offset += s.end - s.start;
  });
  const b = rt.batch();
  const io: SegmentIO = {
    inputs: inputs.map((a) => b.upload(a)),
    segs: b.upload(u32),
    out: b.storage(total * job.planes * 4),
    nSegs: segs.length,
    total,
    maxLen: Math.max(...segs.map((s) => s.end - s.start)),
    segments: segs.map((s, i) => ({ ...s, offset: offsets[i] })),
  };
  await job.encode(b, io);
  b.read(io.out, total * job.planes * 4);
  const [out] = await b.run();
  segs.forEach((s, i) => {
    const prep = preps[s.column];
    for (let p = 0; p < job.planes; p++) {
      const dst = outputs[s.column][p];
      const base = p * total + offsets[i] - s.start;
      const add = prep.add?.[p] ?? 0;
      for (let j = s.keepFrom; j < s.end; j++) dst[j] = out[base + j] + add;
    }
  });
}

/**
 * Offset subtracted before the f32 conversion so f32 keeps the significant digits: the column's first
 * finite value (0 when none). It depends only on the past, so centring cannot leak the future into an output.
 */
export function centre(x: Float64Array): number {
  for (const v of x) if (Number.isFinite(v)) return v;
  return 0;
}

/**
 * Workgroups along x for `items` per segment (blocks, rows) of `wg` invocations each: one per `wg` items, at
 * most the adapter's per-dimension limit; the segmented shaders stride over the blocks beyond it and take the
 * segment from the y index, so a dispatch is `[segmentGroups(...), io.nSegs]`.
 */
export function segmentGroups(rt: GpuRuntime, items: number, wg = 64): number {
  return Math.min(Math.ceil(items / wg), rt.limits.maxWorkgroupsPerDim);
}
