/**
 * Memory-bandwidth ceiling of the adapter: a vec4<f32> copy kernel (shaders/copy.wgsl) timed as GPU work
 * only. The source is uploaded once; each repetition encodes `iterations` copy dispatches in one submit and
 * awaits `queue.onSubmittedWorkDone()` once, and the cost of an empty submit + await (the ~11 ms promise
 * overhead in Deno) is measured separately and subtracted. GB/s = 2 * bytes * iterations / time (one read
 * and one write of every byte); the best repetition is reported.
 */
import { type GpuRuntime, grid, MAX_WORKGROUP } from "../runtime/gpu.ts";

/** Result of the copy-bandwidth probe. */
export interface CopyResult {
  /** Bytes of one buffer (read once and written once per iteration). */
  bytes: number;
  workgroupSize: number;
  /** Workgroups dispatched per iteration, as [x, y] (2D-folded when over the per-dimension limit). */
  groups: [number, number];
  iterations: number;
  repetitions: number;
  /** Best time of one submit of `iterations` copies, overhead included, in seconds. */
  bestSubmitSeconds: number;
  /** Best time of an empty submit + await, subtracted from the above. */
  overheadSeconds: number;
  /** 2 * bytes * iterations / (bestSubmitSeconds - overheadSeconds) / 1e9. */
  gbPerSec: number;
  /** Same without subtracting the overhead (a lower bound). */
  gbPerSecRaw: number;
}

/** Measures the copy kernel's bandwidth on `rt`'s adapter. */
export async function measureCopy(
  rt: GpuRuntime,
  opts: { bytes?: number; iterations?: number; repetitions?: number } = {},
): Promise<CopyResult> {
  const { device } = rt;
  const bytes = Math.min(opts.bytes ?? 64 * 2 ** 20, rt.limits.maxBindingBytes) & ~15;
  const iterations = opts.iterations ?? 16;
  const repetitions = opts.repetitions ?? 5;
  const pipeline = await rt.pipeline("copy", { WG: MAX_WORKGROUP });
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const src = device.createBuffer({ size: bytes, usage });
  const dst = device.createBuffer({ size: bytes, usage });
  const probe = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const data = new Float32Array(bytes / 4);
    for (let i = 0; i < data.length; i++) data[i] = i;
    device.queue.writeBuffer(src, 0, data);
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: src } }, { binding: 1, resource: { buffer: dst } }],
    });
    const groups = grid(bytes / 16, MAX_WORKGROUP, rt.limits.maxWorkgroupsPerDim);
    const submit = async (n: number): Promise<number> => {
      const enc = device.createCommandEncoder();
      if (n > 0) {
        // One pass, n dispatches: WebGPU orders dispatches within a pass (each is its own usage scope).
        const pass = enc.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        for (let i = 0; i < n; i++) pass.dispatchWorkgroups(groups[0], groups[1]);
        pass.end();
      }
      const cmd = enc.finish();
      const t0 = performance.now();
      device.queue.submit([cmd]);
      await device.queue.onSubmittedWorkDone();
      return (performance.now() - t0) / 1e3;
    };
    await submit(1); // warm-up: pipeline, first touch of the buffers
    let best = Infinity, overhead = Infinity;
    for (let r = 0; r < repetitions; r++) {
      overhead = Math.min(overhead, await submit(0));
      best = Math.min(best, await submit(iterations));
    }
    // Check the copy really happened (the last element of the last vec4).
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(dst, bytes - 16, probe, 0, 16);
    device.queue.submit([enc.finish()]);
    await probe.mapAsync(GPUMapMode.READ);
    const tail = new Float32Array(probe.getMappedRange().slice(0));
    probe.unmap();
    if (tail[3] !== data[data.length - 1]) {
      throw new Error(`copy kernel check failed: got ${tail[3]}, expected ${data[data.length - 1]}`);
    }
    const moved = 2 * bytes * iterations;
    return {
      bytes,
      workgroupSize: MAX_WORKGROUP,
      groups,
      iterations,
      repetitions,
      bestSubmitSeconds: best,
      overheadSeconds: overhead,
      gbPerSec: moved / Math.max(best - overhead, 1e-9) / 1e9,
      gbPerSecRaw: moved / best / 1e9,
    };
  } finally {
    src.destroy();
    dst.destroy();
    probe.destroy();
  }
}
