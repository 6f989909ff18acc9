/**
 * The system's BLAS (OpenBLAS) through Deno's FFI, for the f64 CPU path's large matrix products (the correlation
 * matrix's Gram product): WebAssembly SIMD is 128-bit without a deterministic fused multiply-add, a quarter of
 * what OpenBLAS's AVX2/AVX-512 kernels do per instruction. Optional: without Deno, without `--allow-ffi` or
 * without the library, {@link nativeBlas} returns null and callers keep their WebAssembly path.
 *
 * `FEATURE_GENESIS_BLAS` picks the library: unset or `auto` tries OpenBLAS's usual names, `off` disables it, a
 * path loads that file (a file that does not load is a UsageError naming it).
 */
import { UsageError } from "./errors.ts";

/** CBLAS enums (cblas.h). */
const ROW_MAJOR = 101, NO_TRANS = 111, UPPER = 121;

const SYMBOLS = {
  cblas_dsyrk: {
    parameters: ["i32", "i32", "i32", "i32", "i32", "f64", "buffer", "i32", "f64", "buffer", "i32"],
    result: "void",
    nonblocking: true,
  },
  // LAPACK's Fortran entry (OpenBLAS bundles LAPACK): every argument by reference, then the two CHARACTER
  // arguments' lengths (gfortran's hidden trailing size_t arguments).
  dsyevd_: {
    parameters: [
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "usize",
      "usize",
    ],
    result: "void",
    optional: true,
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
  openblas_get_config: { parameters: [], result: "pointer", optional: true },
} as const;

/** Library names tried under `auto`, per platform (Debian/Ubuntu/Fedora, Homebrew, MSYS2/vcpkg). */
const CANDIDATES: Record<string, string[]> = {
  linux: ["libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0"],
  darwin: [
    "libopenblas.dylib",
    "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
    "/usr/local/opt/openblas/lib/libopenblas.dylib",
  ],
  windows: ["libopenblas.dll", "openblas.dll"],
};

/** Row-major f64 operations of a native BLAS; each runs on a thread of its own and resolves when done. */
export interface NativeBlas {
  /** What was loaded: the file and, for OpenBLAS, its configuration string. */
  name: string;
  /**
   * The upper triangle of C (n x n, row stride ldc) += A A^T, A n x k row-major with row stride lda (k-long
   * rows: one column of the data per row). `beta` 0 overwrites C.
   */
  syrkUpper(
    n: number,
    k: number,
    a: Float64Array,
    lda: number,
    beta: number,
    c: Float64Array,
    ldc: number,
  ): Promise<void>;
  /**
   * LAPACK's dsyevd (divide and conquer) on the symmetric n x n matrix `a` (either triangle; row- and
   * column-major alike), on this thread: the eigenvalues into `w` in increasing order, `a` overwritten so that
   * its row k is the unit eigenvector of w[k]. Returns LAPACK's INFO (0: converged); absent when the library
   * has no LAPACK.
   */
  syevd?: (n: number, a: Float64Array, w: Float64Array) => number;
  /**
   * Threads each call may use from now on, process-wide (OpenBLAS's own pool); a library without
   * `openblas_set_num_threads` keeps its own setting.
   */
  setThreads(n: number): void;
}

let loaded: NativeBlas | null | undefined;

/**
 * The native BLAS, loaded once per thread; null without Deno's FFI (the page, no `--allow-ffi`), with
 * `FEATURE_GENESIS_BLAS=off`, or when no candidate library loads.
 */
export function nativeBlas(): NativeBlas | null {
  if (loaded !== undefined) return loaded;
  // deno-lint-ignore no-explicit-any
  const D = (globalThis as any).Deno;
  let choice = "auto";
  try {
    if (typeof D?.dlopen !== "function") return (loaded = null);
    if (D.permissions.querySync({ name: "env", variable: "FEATURE_GENESIS_BLAS" }).state === "granted") {
      choice = D.env.get("FEATURE_GENESIS_BLAS")?.trim() || "auto";
    }
    if (choice === "off" || D.permissions.querySync({ name: "ffi" }).state !== "granted") {
      return (loaded = null);
    }
  } catch {
    return (loaded = null);
  }
  const names = choice === "auto" ? CANDIDATES[D.build.os] ?? [] : [choice];
  for (const file of names) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = D.dlopen(file, SYMBOLS);
    } catch (e) {
      if (choice === "auto") continue;
      throw new UsageError(
        `FEATURE_GENESIS_BLAS=${file}: cannot load it as a CBLAS library (${
          (e as Error).message.split("\n")[0]
        })`,
      );
    }
    loaded = wrap(lib, file);
    return loaded;
  }
  return (loaded = null);
}

function wrap(lib: Deno.DynamicLibrary<typeof SYMBOLS>, file: string): NativeBlas {
  const s = lib.symbols;
  const config = s.openblas_get_config?.();
  const chars = new TextEncoder().encode("VU");
  const int = (v: number) => Int32Array.of(v);
  const syevd = s.dsyevd_ &&
    ((n: number, a: Float64Array, w: Float64Array) => {
      // Workspace sizes from dsyevd's documentation for JOBZ = 'V'.
      const lwork = 1 + 6 * n + 2 * n * n, liwork = 3 + 5 * n, info = int(0);
      s.dsyevd_!(
        chars.subarray(0, 1),
        chars.subarray(1, 2),
        int(n),
        a,
        int(Math.max(1, n)),
        w,
        new Float64Array(lwork),
        int(lwork),
        new Int32Array(liwork),
        int(liwork),
        info,
        1n,
        1n,
      );
      return info[0];
    });
  return {
    name: config ? `${file} (${Deno.UnsafePointerView.getCString(config)})` : file,
    syrkUpper: (n, k, a, lda, beta, c, ldc) =>
      s.cblas_dsyrk(ROW_MAJOR, UPPER, NO_TRANS, n, k, 1, a, lda, beta, c, ldc),
    ...(syevd ? { syevd } : {}),
    setThreads: (n) => s.openblas_set_num_threads?.(n),
  };
}
