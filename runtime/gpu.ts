/**
 * The WebGPU runtime: adapter and device acquisition, limits, pipeline cache, buffer pool, and `Batch`,
 * which encodes many dispatches into one submit and maps every read-back at once (each awaited GPU
 * promise costs ~11 ms in Deno, so a batch awaits once).
 */
import {
  orderBindings,
  packUniform,
  parseShaderInterface,
  type ShaderInterface,
} from "./shader_interface.ts";
import { GpuError } from "./errors.ts";
import { log } from "./log.ts";
import { BufferPool } from "./pool.ts";
import { loadShader } from "./shaders.ts";

/** Largest workgroup used by any kernel: the browser's maxComputeInvocationsPerWorkgroup is 256. */
export const MAX_WORKGROUP = 256;

/** Options for acquiring a GPU runtime. */
export interface GpuOptions {
  /** Bytes of GPU memory the pool may hold (compute.memory_budget). Default 1 GiB or the adapter's max buffer. */
  memoryBudget?: number;
  /** Override (lower) the adapter's maxStorageBufferBindingSize: used by tests to force chunking. */
  maxBindingBytes?: number;
}

/** The adapter limits the kernels plan against (WebGPU may report BigInt in Deno: coerced to number). */
export interface GpuLimits {
  /** Largest storage buffer binding, in bytes (maxStorageBufferBindingSize, possibly lowered by `GpuOptions`). */
  maxBindingBytes: number;
  /** Largest single buffer, in bytes (maxBufferSize). */
  maxBufferBytes: number;
  /** Most workgroups per dispatch dimension (maxComputeWorkgroupsPerDimension). */
  maxWorkgroupsPerDim: number;
}

/** A WebGPU device with its pool and pipeline cache. */
export class GpuRuntime {
  /** Buffer pool bounded by the memory budget (`GpuOptions.memoryBudget`). */
  readonly pool: BufferPool;
  #pipelines = new Map<string, Promise<GPUComputePipeline>>();
  #lost: string | null = null;

  private constructor(
    readonly device: GPUDevice,
    readonly adapterName: string,
    readonly limits: GpuLimits,
    budget: number,
    /** True for a software (CPU-emulated) adapter such as llvmpipe or SwiftShader. */
    readonly isSoftware: boolean,
  ) {
    this.pool = new BufferPool(device, budget);
    device.lost.then((info) => {
      this.#lost = `${info.reason}: ${info.message}`;
      // "destroyed" is our own destroy(); anything else is a real loss worth an error line.
      if (info.reason !== "destroyed") {
        log("error", "WebGPU device lost", { adapter: adapterName, reason: this.#lost });
      }
    });
  }

  /** Requests an adapter and device; throws GpuError("no-adapter") when WebGPU is unavailable. */
  static async create(opts: GpuOptions = {}): Promise<GpuRuntime> {
    quietVulkanLoader();
    const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
    if (!gpu) throw new GpuError("WebGPU is not available in this runtime", "no-adapter");
    const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
    if (!adapter) throw new GpuError("no WebGPU adapter found", "no-adapter");
    const al = adapter.limits;
    const maxBinding = Number(al.maxStorageBufferBindingSize);
    const maxBuffer = Number(al.maxBufferSize);
    const device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: maxBinding,
        maxBufferSize: maxBuffer,
        maxStorageBuffersPerShaderStage: Math.min(8, Number(al.maxStorageBuffersPerShaderStage)),
      },
    });
    const info = adapter.info;
    const name = [info.description || info.device, info.vendor ? `vendor ${info.vendor}` : ""]
      .filter(Boolean).join(", ") + (info.isFallbackAdapter ? " (software)" : "");
    const limits: GpuLimits = {
      maxBindingBytes: Math.min(maxBinding, opts.maxBindingBytes ?? Infinity),
      maxBufferBytes: maxBuffer,
      maxWorkgroupsPerDim: Number(al.maxComputeWorkgroupsPerDimension),
    };
    const budget = opts.memoryBudget ?? Math.min(2 ** 30, maxBuffer * 4);
    log("info", `WebGPU adapter: ${name}`, { maxBindingBytes: limits.maxBindingBytes, budget });
    return new GpuRuntime(device, name, limits, budget, Boolean(info.isFallbackAdapter));
  }

  /**
   * A runtime on the same device with a lower binding limit and/or another memory budget (its own pool):
   * plans against other limits without opening another device. Do not `destroy()` a view.
   */
  withLimits(opts: GpuOptions): GpuRuntime {
    const maxBindingBytes = Math.min(this.limits.maxBindingBytes, opts.maxBindingBytes ?? Infinity);
    const budget = opts.memoryBudget ?? this.pool.budgetBytes;
    return new GpuRuntime(
      this.device,
      this.adapterName,
      { ...this.limits, maxBindingBytes },
      budget,
      this.isSoftware,
    );
  }

  /**
   * Mesa's llvmpipe silently stops an invocation after 65,535 loop iterations in total (all loops together)
   * and returns wrong numbers. Kernels whose per-invocation loop count grows with a parameter call this
   * first: on a software adapter it throws a GpuError (so `auto` falls back to the CPU path) instead.
   */
  checkLoopBudget(iterations: number, what: string): void {
    if (!this.withinLoopBudget(iterations)) {
      throw new GpuError(
        `${what}: ${iterations} loop iterations per invocation exceed the software adapter's limit (65,535)`,
        "internal",
      );
    }
  }

  /** False where a kernel running `iterations` loop iterations per invocation would hit llvmpipe's limit. */
  withinLoopBudget(iterations: number): boolean {
    return !this.isSoftware || iterations <= 60_000;
  }

  /** Throws if the device was lost (a lost device never comes back; `auto` falls back to CPU). */
  checkAlive(): void {
    if (this.#lost) throw new GpuError(`WebGPU device lost (${this.#lost})`, "device-lost");
  }

  /** A compute pipeline for entry point `entry` of `shaders/NAME.wgsl`, specialized by override constants; cached. */
  pipeline(
    shader: string,
    constants: Record<string, number> = {},
    entry = "main",
  ): Promise<GPUComputePipeline> {
    const key = `${shader}:${entry}:${JSON.stringify(constants)}`;
    let p = this.#pipelines.get(key);
    if (!p) {
      const source = loadShader(shader).catch((e) => {
        throw new GpuError(`cannot load shader ${shader}.wgsl: ${(e as Error).message}`, "internal");
      });
      p = source.then(async (code) => {
        const iface = parseShaderInterface(shader, code);
        this.device.pushErrorScope("validation");
        const module = this.device.createShaderModule({ code, label: shader });
        const pipe = this.device.createComputePipeline({
          layout: "auto",
          label: shader,
          compute: { module, entryPoint: entry, constants },
        });
        const err = await this.device.popErrorScope();
        if (err) throw new GpuError(`shader ${shader}.wgsl failed to compile: ${err.message}`, "validation");
        interfaces.set(pipe, iface);
        return pipe;
      });
      p.catch(() => this.#pipelines.delete(key));
      this.#pipelines.set(key, p);
    }
    return p;
  }

  /** Starts a batch of uploads, dispatches and read-backs that is submitted once. */
  batch(): Batch {
    this.checkAlive();
    return new Batch(this);
  }

  /** Releases the device. */
  destroy(): void {
    this.pool.trim();
    this.device.destroy();
  }
}

/** The WGSL interface of each pipeline `GpuRuntime.pipeline` made (for `Batch.dispatchNamed`). */
const interfaces = new WeakMap<GPUComputePipeline, ShaderInterface>();

const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
const READBACK = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;

/** Collects GPU work and runs it with one submit and one await. */
export class Batch {
  /** Command encoder the batch's copies and compute passes are recorded into. */
  readonly encoder: GPUCommandEncoder;
  #held: GPUBuffer[] = [];
  #sizes = new Map<GPUBuffer, number>();
  #reads: { buffer: GPUBuffer; bytes: number }[] = [];

  /** Starts a batch on `rt` (prefer `rt.batch()`, which first checks the device is alive). */
  constructor(readonly rt: GpuRuntime) {
    rt.device.pushErrorScope("out-of-memory");
    rt.device.pushErrorScope("validation");
    this.encoder = rt.device.createCommandEncoder();
  }

  /** A storage buffer holding `data` (uploaded before the batch's dispatches run). */
  upload(data: Float32Array | Uint32Array | Int32Array): GPUBuffer {
    const buf = this.storage(data.byteLength);
    this.rt.device.queue.writeBuffer(buf, 0, data as Float32Array<ArrayBuffer>);
    return buf;
  }

  /** A uniform buffer holding `data` (16-byte aligned). */
  uniform(data: ArrayBuffer): GPUBuffer {
    const buf = this.#take(
      Math.ceil(data.byteLength / 16) * 16,
      GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    );
    this.rt.device.queue.writeBuffer(buf, 0, data);
    return buf;
  }

  /** An uninitialized storage buffer of at least `bytes` bytes (outputs, scratch). */
  storage(bytes: number): GPUBuffer {
    if (bytes > this.rt.limits.maxBindingBytes) {
      throw new GpuError(
        `buffer of ${bytes} bytes exceeds the binding limit ${this.rt.limits.maxBindingBytes}`,
        "internal",
      );
    }
    return this.#take(Math.max(bytes, 16), STORAGE);
  }

  /** Encodes one compute dispatch binding `buffers[i]` to @binding(i) of group 0 (null: binding unused). */
  #dispatch(
    pipeline: GPUComputePipeline,
    buffers: (GPUBuffer | null)[],
    groups: [number, number?, number?],
  ): void {
    const max = this.rt.limits.maxWorkgroupsPerDim;
    if (groups.some((g) => (g ?? 1) > max)) {
      throw new GpuError(`dispatch ${groups.join("x")} exceeds ${max} workgroups per dimension`, "internal");
    }
    if (groups.some((g) => g === 0)) return;
    const bindGroup = this.rt.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.flatMap((buffer, binding) =>
        buffer ? [{ binding, resource: { buffer, size: this.#sizes.get(buffer) } }] : []
      ),
    });
    const pass = this.encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(groups[0], groups[1] ?? 1, groups[2] ?? 1);
    pass.end();
  }

  /**
   * Encodes one compute dispatch binding buffers by their WGSL variable names; the uniform variable takes its
   * struct's fields by name (e.g. `{ x, segs, out, P: { window: 20, total } }`), packed as the WGSL declares
   * them. A name the shader lacks, or a binding or field left out, is an error naming it.
   */
  dispatchNamed(
    pipeline: GPUComputePipeline,
    named: Record<string, GPUBuffer | null | Record<string, number>>,
    groups: [number, number?, number?],
  ): void {
    const iface = interfaces.get(pipeline);
    if (!iface) {
      throw new GpuError("dispatchNamed: the pipeline was not made by GpuRuntime.pipeline", "internal");
    }
    const buffers: Record<string, GPUBuffer | null> = {};
    for (const [name, v] of Object.entries(named)) {
      buffers[name] = v === null || v instanceof GPUBuffer ? v : this.uniform(packUniform(iface, v));
    }
    this.#dispatch(pipeline, orderBindings(iface, buffers), groups);
  }

  /** Schedules a copy of the first `bytes` of `src` back to the host; returns its index in `run()`'s result. */
  read(src: GPUBuffer, bytes: number): number {
    const dst = this.#take(bytes, READBACK);
    this.encoder.copyBufferToBuffer(src, 0, dst, 0, Math.ceil(bytes / 4) * 4);
    this.#reads.push({ buffer: dst, bytes });
    return this.#reads.length - 1;
  }

  /** Submits everything, waits once, and returns each read-back as a Float32Array (in `read` order). */
  async run(): Promise<Float32Array[]> {
    const { device } = this.rt;
    try {
      device.queue.submit([this.encoder.finish()]);
      const [validation, oom] = await Promise.all([
        device.popErrorScope(),
        device.popErrorScope(),
        ...this.#reads.map((r) => r.buffer.mapAsync(GPUMapMode.READ, 0, Math.ceil(r.bytes / 4) * 4)),
      ]);
      if (oom) throw new GpuError(`GPU out of memory: ${oom.message}`, "out-of-memory");
      if (validation) throw new GpuError(`WebGPU validation error: ${validation.message}`, "validation");
      return this.#reads.map((r) => {
        const copy = new Float32Array(r.bytes / 4);
        copy.set(new Float32Array(r.buffer.getMappedRange(0, Math.ceil(r.bytes / 4) * 4), 0, r.bytes / 4));
        r.buffer.unmap();
        return copy;
      });
    } catch (e) {
      this.rt.checkAlive();
      if (e instanceof GpuError) throw e;
      throw new GpuError(`WebGPU batch failed: ${(e as Error).message}`, "internal");
    } finally {
      for (const b of this.#held) this.rt.pool.release(b);
    }
  }

  #take(bytes: number, usage: number): GPUBuffer {
    const b = this.rt.pool.acquire(bytes, usage);
    this.#held.push(b);
    this.#sizes.set(b, Math.ceil(bytes / 16) * 16);
    return b;
  }
}

/** Workgroup counts for `n` invocations of size `wg`, folded into 2D when over the per-dimension limit. */
export function grid(n: number, wg: number, maxPerDim: number): [number, number] {
  const groups = Math.ceil(n / wg);
  if (groups <= maxPerDim) return [groups, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y];
}

/**
 * Mesa's Vulkan loader prints "XDG_RUNTIME_DIR is invalid" to stderr when the variable is unset (CI,
 * containers); give this process a private one so the log stays clean. A no-op in the browser.
 */
function quietVulkanLoader(): void {
  const deno = (globalThis as { Deno?: typeof Deno }).Deno;
  try {
    if (deno && !deno.env.get("XDG_RUNTIME_DIR")) {
      deno.env.set("XDG_RUNTIME_DIR", deno.makeTempDirSync({ prefix: "fg-xdg-" }));
    }
  } catch {
    // Without env/write permission the warning is only cosmetic.
  }
}
