/** Error types with a stable meaning for exit codes and backend fallback. */

/** Bad input from a user (unknown kernel/parameter/column, bad file): exit code 2. */
export class UsageError extends Error {
  /** Always "UsageError". */
  override name = "UsageError";
}

/** Bad data in an input file or array (wrong type, non-monotonic timestamps...): exit code 1 or 2 by caller. */
export class DataError extends Error {
  /** Always "DataError". */
  override name = "DataError";
}

/** A WebGPU failure (no adapter, device lost, validation or out-of-memory error). `auto` falls back to CPU. */
export class GpuError extends Error {
  /** Always "GpuError". */
  override name = "GpuError";
  /** Creates a GpuError; `kind` says what failed (`no-adapter` when WebGPU is unavailable). */
  constructor(
    message: string,
    readonly kind: "no-adapter" | "device-lost" | "validation" | "out-of-memory" | "internal",
  ) {
    super(message);
  }
}
