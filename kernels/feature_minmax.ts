/**
 * Rolling minimum and maximum over trailing windows on WebGPU (shaders/feature_minmax.wgsl), for the
 * feature sets (kernels/feature_sets.ts; the f64 reference is `featureSetCpu`'s minimum/maximum). Block
 * prefix/suffix decomposition (van Herk / Gil-Werman): O(1) work per point for any window, 2W loop
 * iterations per invocation. NaN while t < W - 1 and where the window holds a NaN/Inf. The f32 values are
 * copies of x - x_0 (x_0 the column's first finite value), so the error is at most ~6e-8 |x - x_0|.
 */
import type { GpuRuntime } from "../runtime/gpu.ts";
import { centre, runSegmented, segmentGroups } from "../runtime/segments.ts";

/**
 * The rolling minimum and maximum of every column for every window, in one submit per batch.
 * Returns out[column][2 * window index] (minimum) and out[column][2 * window index + 1] (maximum).
 */
export async function rollingMinMaxGpu(
  rt: GpuRuntime,
  columns: Float64Array[],
  windows: number[],
): Promise<Float64Array[][]> {
  const planes = 2 * windows.length;
  const wmax = Math.max(...windows);
  rt.checkLoopBudget(2 * wmax, `rolling min/max window ${wmax}`);
  const pipeline = await rt.pipeline("feature_minmax");
  return runSegmented(rt, {
    columns: columns.map((x) => [x]),
    halo: wmax - 1,
    planes,
    bindBytesPerPoint: Math.max(16, 4 * planes),
    totalBytesPerPoint: 8 + 8 * planes + 16,
    prepare: (c) => {
      const off = centre(c[0]);
      return { offsets: [off], add: Array.from({ length: planes }, () => off) };
    },
    encode: (b, io) => {
      const scratch = b.storage(io.total * 16);
      windows.forEach((w, i) => {
        const gx = segmentGroups(rt, Math.ceil(io.maxLen / w));
        b.dispatchNamed(pipeline, {
          x: io.inputs[0],
          segs: io.segs,
          out: io.out,
          scratch,
          P: { window: w, plane: 2 * i, total: io.total },
        }, [gx, io.nSegs]);
      });
      return Promise.resolve();
    },
  });
}
