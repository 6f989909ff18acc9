/** Error types with a stable meaning for exit codes and backend fallback. */

/** Bad input from a user (unknown kernel/parameter/column, bad file): exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Bad data in an input file or array (wrong type, non-monotonic timestamps...): exit code 1 or 2 by caller. */
export class DataError extends Error {
  override name = "DataError";
}

/** A WebGPU failure (no adapter, device lost, validation or out-of-memory error). `auto` falls back to CPU. */
export class GpuError extends Error {
  override name = "GpuError";
  constructor(
    message: string,
    readonly kind: "no-adapter" | "device-lost" | "validation" | "out-of-memory" | "internal",
  ) {
    super(message);
  }
}
