/**
 * The dispatch shared by the feature-set shaders (kernels/feature_*.ts, shaders/feature_*.wgsl): each
 * invocation evaluates one window of one column and writes one value per output plane. A window ends at row
 * t and holds either the W rows before it (rolling: `window: W`) or `lens[t]` rows (per segment: the window
 * of a segment ending at t, 0 where no window ends at t), so rolling and per-segment extraction are the same
 * kernels. Every plane is NaN where no window ends at t, where the window would start before row 0, and
 * where it holds a NaN/Inf; otherwise the shaders compute from the window's f32 values only (causal).
 *
 * Shader contract: bindings 0 `x: array<f32>` (x - x_0, x_0 the column's first finite value, passed as
 * `Seg.init` for the shaders whose features are not shift-invariant), 1 `segs: array<Seg>`, 2 `out`,
 * 3 `lens: array<f32>` (read when `P.window` is 0), 4 `P: Params { window, plane, total, pad }`; plane p of
 * the shader is written at `out[(P.plane + p) * P.total + seg.offset + t]`; workgroups of 64 over the points
 * of a segment (x; segments are cut to 65,535 x 64 rows) and the segments (y).
 */
import { GpuError } from "../runtime/errors.ts";
import type { GpuRuntime } from "../runtime/gpu.ts";
import { centre, runSegmented, segmentGroups } from "../runtime/segments.ts";

/** One feature shader: its file and the features it writes, one output plane each, in plane order. */
export interface WindowShader {
  /** `shaders/<shader>.wgsl`. */
  shader: string;
  /** Feature names (tsfresh's), one plane each, in the order the shader writes them. */
  planes: readonly string[];
  /** Features measured in the input's units (shift-equivariant, e.g. quantiles): x_0 is added back. */
  shifted?: readonly string[];
  /** Loop iterations one invocation runs for a window of `w` rows (guard for llvmpipe's 65,535). */
  loops: (w: number) => number;
  /** Longest window the shader handles (e.g. a fixed-size private array); unlimited when absent. */
  maxWindow?: number;
}

/** Whether `shader` can run windows of up to `w` rows on `rt` (its window limit and the loop budget). */
export function shaderFits(rt: GpuRuntime, shader: WindowShader, w: number): boolean {
  return w <= (shader.maxWindow ?? Infinity) && rt.withinLoopBudget(shader.loops(w));
}

/** Which windows to evaluate: trailing windows of `window` rows, or `lens[t]` rows ending at each row t. */
export type WindowSpec = { window: number } | { lens: Int32Array };

/** Longest window of a spec. */
export function specMaxWindow(spec: WindowSpec): number {
  if ("window" in spec) return spec.window;
  let m = 0;
  for (const l of spec.lens) if (l > m) m = l;
  return m;
}

/**
 * Runs `shaders` over every column for the windows of `spec` (per column: `specs[c]`), all in one submit per
 * batch of segments. Returns out[column] as a map from feature name to its values (f64, one per row).
 */
export async function windowFeaturesGpu(
  rt: GpuRuntime,
  shaders: readonly WindowShader[],
  columns: Float64Array[],
  specs: WindowSpec[],
): Promise<Map<string, Float64Array>[]> {
  const names = shaders.flatMap((s) => s.planes);
  const out = columns.map(() => new Map<string, Float64Array>());
  if (names.length === 0 || columns.length === 0) return out;
  const wmax = Math.max(2, ...specs.map(specMaxWindow));
  for (const s of shaders) {
    if (wmax > (s.maxWindow ?? Infinity)) {
      throw new GpuError(
        `${s.shader}: window ${wmax} exceeds the shader's limit (${s.maxWindow})`,
        "internal",
      );
    }
    rt.checkLoopBudget(s.loops(wmax), `${s.shader} window ${wmax}`);
  }
  const pipelines = await Promise.all(shaders.map((s) => rt.pipeline(s.shader)));
  const shifted = new Set(shaders.flatMap((s) => s.shifted ?? []));
  // One rolling window for all columns goes in the uniform; anything else as per-row lengths (an input).
  const first = specs[0];
  const uniform = "window" in first && specs.every((s) => "window" in s && s.window === first.window)
    ? first.window
    : 0;
  const lensOf = (s: WindowSpec, n: number) =>
    "lens" in s ? Float64Array.from(s.lens) : new Float64Array(n).fill(s.window);
  const offsets = columns.map(centre);
  const planes = names.length;
  const res = await runSegmented(rt, {
    columns: columns.map((x, c) => uniform ? [x] : [x, lensOf(specs[c], x.length)]),
    halo: wmax - 1,
    planes,
    // One invocation per row: a segment never needs the row loop to stride (which would multiply the
    // loop count that llvmpipe limits).
    maxSegmentLen: rt.limits.maxWorkgroupsPerDim * 64,
    bindBytesPerPoint: 4 * planes,
    totalBytesPerPoint: (uniform ? 8 : 16) + 8 * planes,
    prepare: (_, c) => ({
      offsets: [offsets[c], 0],
      add: names.map((n) => (shifted.has(n) ? offsets[c] : 0)),
    }),
    init: (seg) => offsets[seg.column],
    encode: (b, io) => {
      const lensBuf = uniform ? io.inputs[0] : io.inputs[1];
      const gx = segmentGroups(rt, io.maxLen);
      let plane = 0;
      shaders.forEach((s, i) => {
        b.dispatchNamed(pipelines[i], {
          x: io.inputs[0],
          segs: io.segs,
          out: io.out,
          lens: lensBuf,
          P: { window: uniform, plane, total: io.total },
        }, [gx, io.nSegs]);
        plane += s.planes.length;
      });
      return Promise.resolve();
    },
  });
  res.forEach((cols, c) => names.forEach((n, p) => out[c].set(n, cols[p])));
  return out;
}

/**
 * Window lengths for per-segment extraction: segments are the runs of equal `keys`; the window of a segment
 * ends at its last row and holds the whole segment (lens = its length there, 0 elsewhere). The data's last
 * run is included although it may still grow (callers that need completed segments use the previous one).
 */
export function segmentLens(keys: Float64Array): Int32Array {
  const lens = new Int32Array(keys.length);
  let start = 0;
  for (let t = 0; t < keys.length; t++) {
    if (t + 1 === keys.length || keys[t + 1] !== keys[t]) {
      lens[t] = t - start + 1;
      start = t + 1;
    }
  }
  return lens;
}

/**
 * Broadcasts per-segment values (at each segment's last row, as computed with {@link segmentLens}) so that
 * every row holds the value of the segment before its own: known once that segment is complete, which is
 * when the row's own segment begins. Rows of the first segment get NaN. Causal: row t uses rows before its
 * segment only, and segment boundaries up to t.
 */
export function previousSegment(values: Float64Array, keys: Float64Array): Float64Array {
  const out = new Float64Array(values.length).fill(NaN);
  let prev = NaN;
  for (let t = 0; t < values.length; t++) {
    if (t > 0 && keys[t] !== keys[t - 1]) prev = values[t - 1];
    out[t] = prev;
  }
  return out;
}
