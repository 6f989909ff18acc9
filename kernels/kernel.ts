/**
 * The kernel contract: one kernel = a WGSL shader + a batched GPU dispatch + an f64 CPU path with the same
 * output conventions (NaN where history is missing). Parameters are declared once and validated here, so the
 * CLI, the conformance tests and the bench all derive from the same definition.
 */
import { type Compute, withFallback } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";
import type { GpuRuntime } from "../runtime/gpu.ts";
import type { Frame } from "../io/frame.ts";

/** A declared kernel parameter. */
export type ParamSpec =
  | { type: "int"; doc: string; default?: number; min?: number; max?: number }
  | { type: "float"; doc: string; default?: number; min?: number; max?: number; exclusiveMin?: boolean }
  | { type: "bool"; doc: string; default: boolean }
  | { type: "choice"; doc: string; default: string; choices: readonly string[] }
  /** Free text that the kernel's `check` validates (e.g. a duration like `5min`). */
  | { type: "text"; doc: string; default?: string }
  /** Comma-separated names (`--segments day,era`). */
  | { type: "names"; doc: string; default: readonly string[] }
  /** Comma-separated integers in [min, max] (`--windows 50,200`). */
  | { type: "ints"; doc: string; default: readonly number[]; min: number; max: number };

/**
 * The `origin` parameter of kernels with a {@link Kernel.grid}: the absolute row of the input's first point,
 * so a chunk of a series splits on the same grid as the whole (0 for a whole series).
 */
export const ORIGIN_PARAM = {
  type: "int",
  min: 0,
  max: Number.MAX_SAFE_INTEGER,
  default: 0,
  doc: "absolute row of the first input point (chunked runs align the block grid to it)",
} as const satisfies ParamSpec;

/** Parameter values by name. */
export type Params = Record<string, number | boolean | string | readonly string[] | readonly number[]>;

/**
 * f32-vs-f64 tolerance of a GPU path: |gpu - ref| <= atol + rtol |ref| + stol S, where S = max |x - x_0| over
 * the inputs: f32 stores a centred input with an error proportional to S, so kernels whose output is a linear
 * combination of inputs (FFD) state that part relative to the input's scale. `flips` allows a fraction of the
 * points outside, where an f32 comparison near a threshold (a value against the window mean, a distance
 * against r std) may decide the other way than f64 (feature shaders).
 */
export interface Tolerance {
  /** Absolute tolerance, in output units. */
  atol: number;
  /** Relative tolerance, as a fraction of |ref|. */
  rtol: number;
  /** Tolerance relative to the input's scale S (default 0). */
  stol?: number;
  /** Fraction of the defined points allowed outside (near-threshold comparisons); 0 when absent. */
  flips?: number;
}

/** A kernel producing one output series per input column (or per pair of columns). */
export interface Kernel<P extends Params = Params> {
  /** Name used on the CLI (`kernel NAME`) and in the registry, e.g. "rolling_mean". */
  name: string;
  /** One line for `--help`. */
  summary: string;
  /** 1 for single-series kernels, 2 for pairwise ones (rolling correlation). */
  inputs: 1 | 2;
  /** Declared parameters by name; `parseParams` validates against them and fills defaults. */
  params: Record<string, ParamSpec>;
  /**
   * Checks across parameters after each is in range (e.g. low < high, FFD's weight count): the problem, as
   * `--flag: what is wrong and what is allowed`, or undefined. `parseParams` runs it.
   */
  check?: (p: P) => string | undefined;
  /** Whether outputs at t use only inputs at or before t for these parameters (property-tested when true). */
  causal: (p: P) => boolean;
  /** GPU (f32) vs CPU (f64) tolerance used by the conformance suite. */
  tolerance: Tolerance;
  /**
   * Parameter sets the conformance suite (tests/conformance_test.ts) runs on both backends, chunked vs
   * whole and for look-ahead; `parseParams` fills the rest with defaults. Pick edge cases (window 1 or 2, the
   * longest history that fits the fixture matrix) beside typical values.
   */
  conformance: readonly Record<string, unknown>[];
  /** Typical parameters the bench measures (`deno task bench`; defaults, or window 200, otherwise). */
  typical?: Record<string, unknown>;
  /** Cap on the points one bench case feeds this kernel (kernels whose cost grows with the window). */
  benchMaxPoints?: number;
  /** History (points before t) an output needs; the chunker's halo. */
  history: (p: P) => number;
  /**
   * Period of the block grid the CPU path splits the series on (rolling moments: the window; FFT
   * convolution: its block pair), aligned to absolute row 0 through the `origin` parameter. Rounding depends
   * on the split, so a chunk (pipeline/chunked.ts) reads up to one period more on each side to cover the
   * blocks of its rows whole, and its outputs are then the same doubles as the whole series'. Absent: the
   * output at t depends on the rows [t - history, t] alone.
   */
  grid?: (p: P) => number;
  /** f64 CPU path: inputs (one array per input series) to one output series. */
  cpu: (inputs: Float64Array[], p: P) => Float64Array;
  /**
   * WebGPU path for many columns (columns[c][input]) and parameter sets ("planes") at once: the output for
   * column c and plane j is result[c][j]. Kernels whose shader takes several planes in one dispatch (FFD's d
   * values, rolling windows) batch them; the others run one batch per plane ({@link perPlane}).
   */
  gpu: (rt: GpuRuntime, columns: Float64Array[][], planes: readonly P[]) => Promise<Float64Array[][]>;
}

/**
 * A kernel whose result is one JSON value per input series (a model fit) rather than an output series: the
 * `kernel` CLI validates `params` with `parseParams` and prints the result as JSON.
 */
export interface ScalarKernel<P extends Params = Params> {
  /** Name used on the CLI (`kernel NAME`). */
  name: string;
  /** One line for `--help`. */
  summary: string;
  /** 1 for one column, 2 for a pair (--column2), `many` for a set of columns (--columns a,b,c). */
  inputs: 1 | 2 | "many";
  /** Declared parameters by name. */
  params: Record<string, ParamSpec>;
  /** Checks across parameters, as `Kernel.check` (`parseParams` runs it). */
  check?: (p: P) => string | undefined;
  /** Computes the result for the column(s), named `names`, with the context's backend. */
  run: (inputs: Float64Array[], params: P, compute: Compute, names: string[]) => Promise<unknown>;
  /**
   * GPU (f32) vs f64 tolerance on every number of the result, which the conformance suite checks on both
   * backends; absent when the kernel has only the f64 path (the suite then checks it is deterministic).
   */
  tolerance?: Tolerance;
  /** Parameter sets the conformance suite (tests/conformance_scalar_test.ts) runs; defaults fill the rest. */
  conformance: readonly Record<string, unknown>[];
  /** What the inputs are: price levels (default) or returns (e.g. a GARCH fit). */
  input?: "level" | "returns";
  /** Result fields that vary between runs or name the path taken (`ms`, `method: "gpu"`): not compared. */
  varying?: readonly string[];
}

/**
 * A kernel from a whole frame to another frame (resampling, feature sets): the `kernel` CLI reads the
 * file, validates every `--PARAM VALUE` with `parseParams`, and writes the result as CSV with the frame's
 * timestamps first.
 */
export interface FrameKernel<P extends Params = Params> {
  /** Name used on the CLI (`kernel NAME`). */
  name: string;
  /** One line for `--help`. */
  summary: string;
  /** Declared parameters by name; `parseParams` validates the CLI's `--PARAM VALUE`s against them. */
  params: Record<string, ParamSpec>;
  /** Checks across parameters, as `Kernel.check` (`parseParams` runs it). */
  check?: (p: P) => string | undefined;
  /** Computes the output frame with the context's backend. */
  run: (frame: Frame, params: P, compute: Compute) => Promise<Frame>;
  /**
   * GPU (f32) vs f64 tolerance of each output column (S: the f64 column's max |x - x_0|), which the
   * conformance suite checks on both backends; absent: only the f64 path's determinism is checked there.
   */
  tolerance?: (column: string) => Tolerance;
  /** Parameter sets the conformance suite (tests/conformance_frame_test.ts) runs on one-minute bars. */
  conformance: readonly Record<string, unknown>[];
}

/** The values a parameter declaration yields: numbers, booleans, or the literal choices. */
export type ParamsOf<S extends Record<string, ParamSpec>> = {
  [K in keyof S]: S[K] extends { type: "bool" } ? boolean
    // The default may lie outside the choices (e.g. "" for "not given").
    : S[K] extends
      { type: "choice"; choices: readonly (infer C extends string)[]; default: infer D extends string }
      ? C | D
    : S[K] extends { type: "text" } ? string
    : S[K] extends { type: "names" } ? readonly string[]
    : S[K] extends { type: "ints" } ? readonly number[]
    : number;
};

/**
 * Declares a scalar kernel whose `run` and `check` see typed values inferred from `params` (choices as their
 * literal union), so no kernel casts what `parseParams` already checked.
 */
export function defineScalarKernel<const S extends Record<string, ParamSpec>>(
  k: Omit<ScalarKernel<ParamsOf<S>>, "params"> & { params: S },
): ScalarKernel<ParamsOf<S>> {
  return k;
}

/** Declares a frame kernel whose `run` and `check` see typed values inferred from `params`. */
export function defineFrameKernel<const S extends Record<string, ParamSpec>>(
  k: Omit<FrameKernel<ParamsOf<S>>, "params"> & { params: S },
): FrameKernel<ParamsOf<S>> {
  return k;
}

/** Declares a kernel (identity helper that fixes the types). */
export function defineKernel<P extends Params>(k: Kernel<P>): Kernel<P> {
  return k;
}

/**
 * Validates raw parameter values (numbers, booleans or CLI strings) against the kernel's declaration,
 * filling defaults. Throws UsageError naming the parameter and what was expected.
 */
export function parseParams<P extends Params>(
  kernel: Pick<Kernel<P>, "name" | "params" | "check">,
  raw: Record<string, unknown>,
): P {
  const out: Params = {};
  for (const key of Object.keys(raw)) {
    if (!(key in kernel.params)) {
      const known = Object.keys(kernel.params).map((k) => `--${k}`).join(", ") || "none";
      throw new UsageError(`kernel ${kernel.name}: unknown parameter --${key} (parameters: ${known})`);
    }
  }
  for (const [key, spec] of Object.entries(kernel.params)) {
    const v = raw[key];
    const where = `kernel ${kernel.name}: --${key}`;
    if (v === undefined) {
      if (spec.default === undefined) throw new UsageError(`${where} is required (${spec.doc})`);
      out[key] = spec.default;
      continue;
    }
    if (spec.type === "bool") {
      if (typeof v === "boolean") out[key] = v;
      else if (v === "true" || v === "false") out[key] = v === "true";
      else throw new UsageError(`${where} expects true or false, got ${JSON.stringify(v)}`);
    } else if (spec.type === "text") {
      out[key] = String(v);
    } else if (spec.type === "names" || spec.type === "ints") {
      const items = Array.isArray(v)
        ? v.map(String)
        : String(v).split(",").map((x) => x.trim()).filter(Boolean);
      if (spec.type === "names") out[key] = items;
      else {
        const ns = items.map(Number);
        if (ns.some((n) => !Number.isInteger(n) || n < spec.min || n > spec.max)) {
          throw new UsageError(
            `${where} expects integers in [${spec.min}, ${spec.max}] separated by commas, got ${
              JSON.stringify(Array.isArray(v) ? v.join(",") : v)
            }`,
          );
        }
        out[key] = ns;
      }
    } else if (spec.type === "choice") {
      if (!spec.choices.includes(String(v))) {
        throw new UsageError(`${where} expects one of ${spec.choices.join(", ")}, got ${JSON.stringify(v)}`);
      }
      out[key] = String(v);
    } else {
      const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
      const tooLow = spec.min !== undefined &&
        (n < spec.min || (spec.type === "float" && spec.exclusiveMin && n === spec.min));
      if (
        !Number.isFinite(n) || (spec.type === "int" && !Number.isInteger(n)) || tooLow ||
        (spec.max !== undefined && n > spec.max)
      ) {
        throw new UsageError(`${where} expects ${expectedNumber(spec)}, got ${JSON.stringify(v)}`);
      }
      out[key] = n;
    }
  }
  const why = kernel.check?.(out as P);
  if (why) throw new UsageError(`kernel ${kernel.name}: ${why}`);
  return out as P;
}

/** What a numeric parameter accepts, e.g. `an integer in [2, 1000000]` or `a number > 0 and <= 2`. */
function expectedNumber(spec: Extract<ParamSpec, { type: "int" | "float" }>): string {
  const what = spec.type === "int" ? "an integer" : "a number";
  const exclusive = spec.type === "float" && spec.exclusiveMin;
  if (spec.min !== undefined && spec.max !== undefined && !exclusive) {
    return `${what} in [${spec.min}, ${spec.max}]`;
  }
  const lo = spec.min === undefined ? "" : `${exclusive ? ">" : ">="} ${spec.min}`;
  const hi = spec.max === undefined ? "" : `<= ${spec.max}`;
  const bounds = [lo, hi].filter(Boolean).join(" and ");
  return bounds ? `${what} ${bounds}` : what;
}

/**
 * A GPU path for a kernel whose dispatch takes one parameter set: one call per plane, in order, regrouped as
 * result[column][plane].
 */
export async function perPlane<P>(
  planes: readonly P[],
  one: (p: P) => Promise<Float64Array[]>,
): Promise<Float64Array[][]> {
  const outs: Float64Array[][] = [];
  for (const p of planes) outs.push(await one(p));
  return (outs[0] ?? []).map((_, c) => outs.map((o) => o[c]));
}

/**
 * Runs a kernel on many columns and parameter sets with the context's backend (GPU with CPU fallback under
 * `auto`): result[column][plane]. Engines call this instead of wiring their own fallback.
 */
export function runKernelPlanes<P extends Params>(
  kernel: Kernel<P>,
  columns: Float64Array[][],
  planes: readonly P[],
  compute: Compute,
): Promise<Float64Array[][]> {
  for (const c of columns) {
    if (c.length !== kernel.inputs) {
      throw new UsageError(`kernel ${kernel.name} takes ${kernel.inputs} input series`);
    }
    if (c.some((x) => x.length !== c[0].length)) {
      throw new UsageError(`kernel ${kernel.name}: inputs differ in length`);
    }
  }
  return withFallback(
    compute,
    kernel.name,
    (rt) => kernel.gpu(rt, columns, planes),
    () => columns.map((c) => planes.map((p) => kernel.cpu(c, p))),
  );
}

/**
 * Runs a kernel with one parameter set on many columns (see {@link runKernelPlanes}): one output per column.
 *
 * @example A 20-row z-score of two columns, on WebGPU when an adapter exists, else the f64 CPU path
 * ```ts
 * import { openCompute, parseParams, runKernel, zscore } from "@feature-genesis/core";
 *
 * const compute = await openCompute({ backend: "auto" });
 * const a = Float64Array.from({ length: 500 }, (_, i) => 100 + Math.sin(i / 7));
 * const b = Float64Array.from({ length: 500 }, (_, i) => 50 + Math.cos(i / 5));
 * const [za, zb] = await runKernel(zscore, [[a], [b]], parseParams(zscore, { window: 20 }), compute);
 * console.log(za[499], zb[499]); // rows before 19 are NaN (not enough history)
 * ```
 */
export async function runKernel<P extends Params>(
  kernel: Kernel<P>,
  columns: Float64Array[][],
  params: P,
  compute: Compute,
): Promise<Float64Array[]> {
  return (await runKernelPlanes(kernel, columns, [params], compute)).map((o) => o[0]);
}
