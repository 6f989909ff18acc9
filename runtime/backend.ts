/**
 * Backend choice: `webgpu`, `cpu`, or `auto` (WebGPU when a hardware adapter exists, else CPU: on a software
 * adapter the CPU path is faster, see `deno task bench`). One GPU runtime is
 * shared per process and options; with `auto`, a GPU failure falls back to the CPU path with a warning.
 */
import { GpuError, UsageError } from "./errors.ts";
import { type GpuOptions, GpuRuntime } from "./gpu.ts";
import { log } from "./log.ts";

/** The user's backend choice. */
export type BackendChoice = "auto" | "webgpu" | "cpu";

/** Options shared by everything that computes. */
export interface ComputeOptions extends GpuOptions {
  /** Which backend to use (default "auto"). */
  backend?: BackendChoice;
}

/** A resolved compute context: the GPU runtime, or null for the CPU path. */
export interface Compute {
  /** The backend that was requested (`auto` stays `auto` even when resolved to CPU). */
  choice: BackendChoice;
  /** The GPU runtime in use, or null when computing on the CPU. */
  gpu: GpuRuntime | null;
}

let device: Promise<GpuRuntime> | null = null;

/**
 * The process-wide GPU runtime: one device per process (several devices in one process have crashed
 * wgpu at exit), with views for other limits or budgets.
 */
export async function sharedGpu(opts: GpuOptions = {}): Promise<GpuRuntime> {
  if (!device) {
    device = GpuRuntime.create();
    device.catch(() => (device = null));
  }
  const rt = await device;
  return opts.maxBindingBytes === undefined && opts.memoryBudget === undefined ? rt : rt.withLimits(opts);
}

/** Resolves the backend choice to a Compute context, logging which backend is used. */
export async function openCompute(opts: ComputeOptions = {}): Promise<Compute> {
  const choice = opts.backend ?? "auto";
  if (choice === "cpu") {
    log("info", "backend: cpu (f64)");
    return { choice, gpu: null };
  }
  try {
    const gpu = await sharedGpu(opts);
    // Measured by `deno task bench` on llvmpipe: the f64 CPU path is 2-10x faster than WebGPU emulated on
    // the same cores, so `auto` only uses a software adapter when asked to (`webgpu`).
    if (choice === "auto" && gpu.isSoftware) {
      log(
        "info",
        `backend: cpu (f64); ${gpu.adapterName} is a software adapter, slower than the CPU path here`,
      );
      return { choice, gpu: null };
    }
    return { choice, gpu };
  } catch (e) {
    if (choice === "webgpu") {
      // An explicit choice the machine cannot honour is a setting to change (exit 2), so say which and how.
      if (e instanceof GpuError && e.kind === "no-adapter") throw new UsageError(noAdapterMessage(e.message));
      throw e;
    }
    log("warn", `no usable WebGPU adapter (${(e as Error).message}); using the CPU backend`);
    return { choice, gpu: null };
  }
}

/**
 * The message for `webgpu` requested where no adapter exists: names the setting (`compute.backend` in the config,
 * `--backend` on the command line), the alternatives and the usual fix.
 */
export function noAdapterMessage(cause: string): string {
  return `backend "webgpu" was requested (compute.backend or --backend) but ${cause}; use backend "auto" ` +
    `(WebGPU when an adapter exists, else the CPU path) or "cpu", or install a WebGPU driver (Linux without a ` +
    `GPU: apt-get install mesa-vulkan-drivers)`;
}

/**
 * Runs `gpuFn` on the GPU when the context has one, else `cpuFn`. With `auto`, a GpuError (device lost,
 * validation, out of memory) is logged as a warning and the CPU path runs instead.
 */
export async function withFallback<T>(
  compute: Compute,
  what: string,
  gpuFn: (rt: GpuRuntime) => Promise<T>,
  cpuFn: () => T | Promise<T>,
): Promise<T> {
  if (!compute.gpu) return await cpuFn();
  try {
    return await gpuFn(compute.gpu);
  } catch (e) {
    if (compute.choice !== "auto" || !(e instanceof GpuError)) throw e;
    log("warn", `${what}: WebGPU failed (${e.message}); falling back to the CPU path`);
    return await cpuFn();
  }
}
