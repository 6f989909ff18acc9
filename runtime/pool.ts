/**
 * A GPU buffer pool under a memory budget. Buffers are bucketed by power-of-two size and usage so that
 * repeated batches reuse them; when a new allocation would exceed the budget, idle buffers are destroyed
 * first, and if that is not enough the allocation fails with an out-of-memory GpuError.
 */
import { GpuError } from "./errors.ts";

interface Entry {
  buffer: GPUBuffer;
  key: string;
}

/** Pool of reusable GPUBuffers bounded by `budgetBytes`. */
export class BufferPool {
  #free = new Map<string, GPUBuffer[]>();
  #inUse = new Map<GPUBuffer, Entry>();
  #allocated = 0;
  /** Highest number of bytes held at once (for run summaries). */
  peakBytes = 0;

  /** A pool allocating from `device`, holding at most `budgetBytes` bytes of buffers (in use or idle). */
  constructor(private device: GPUDevice, readonly budgetBytes: number) {}

  /** Bytes currently allocated (in use or idle). */
  get allocatedBytes(): number {
    return this.#allocated;
  }

  /** Gets a buffer of at least `size` bytes with exactly `usage`. Release it with `release`. */
  acquire(size: number, usage: number): GPUBuffer {
    const bucket = Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(size, 1))));
    const key = `${usage}:${bucket}`;
    const reuse = this.#free.get(key)?.pop();
    if (reuse) {
      this.#inUse.set(reuse, { buffer: reuse, key });
      return reuse;
    }
    if (this.#allocated + bucket > this.budgetBytes) this.trim();
    if (this.#allocated + bucket > this.budgetBytes) {
      throw new GpuError(
        `GPU memory budget exceeded: need ${bucket} more bytes, ${this.#allocated} of ${this.budgetBytes} in use ` +
          `(raise compute.memory_budget)`,
        "out-of-memory",
      );
    }
    const buffer = this.device.createBuffer({ size: bucket, usage });
    this.#allocated += bucket;
    this.peakBytes = Math.max(this.peakBytes, this.#allocated);
    this.#inUse.set(buffer, { buffer, key });
    return buffer;
  }

  /** Returns a buffer to the pool for reuse. */
  release(buffer: GPUBuffer): void {
    const entry = this.#inUse.get(buffer);
    if (!entry) return;
    this.#inUse.delete(buffer);
    const list = this.#free.get(entry.key) ?? [];
    list.push(buffer);
    this.#free.set(entry.key, list);
  }

  /** Destroys all idle buffers. */
  trim(): void {
    for (const list of this.#free.values()) {
      for (const b of list) {
        this.#allocated -= b.size;
        b.destroy();
      }
    }
    this.#free.clear();
  }
}
