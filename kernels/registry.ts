/**
 * The one list of kernels: the `kernel` CLI dispatches by name from it, the conformance suite runs every
 * entry on both backends, and the bench iterates it.
 */
import { adfKernel } from "./adf.ts";
import { bk } from "./baxter_king.ts";
import { dcorKernel, dcorTestKernel, rollingDcor } from "./dcor.ts";
import { fracdiff } from "./fracdiff.ts";
import { garchKernel } from "./garch.ts";
import type { Kernel, Params, ParamSpec } from "./kernel.ts";
import { kpssKernel } from "./kpss.ts";
import { logstab } from "./logstab.ts";
import { minDKernel } from "./min_d.ts";
import { rollingCorr } from "./rolling_corr.ts";
import { rollingMean, rollingStd, zscore } from "./rolling_moments.ts";
import type { Compute } from "../runtime/backend.ts";
import type { Frame } from "../io/frame.ts";
import { resampleKernel } from "./resample.ts";
// The feature sets' frame kernel is the feature_engineering engine's extraction (segments need the frame).
import { featuresKernel } from "../engines/feature_sets.ts";

/** A kernel with any parameter type (the registry's element type; validate params with `parseParams`). */
// deno-lint-ignore no-explicit-any
export type AnyKernel = Kernel<any>;

/** Every series kernel, by name. */
export const KERNELS: ReadonlyMap<string, AnyKernel> = new Map(
  [fracdiff, rollingMean, rollingStd, zscore, logstab, rollingCorr, bk, rollingDcor].map((
    k,
  ) => [k.name, k as AnyKernel]),
);

/**
 * A kernel whose result is one JSON value per input series (a model fit) rather than an output series: the
 * `kernel` CLI validates `params` with `parseParams` and prints the result as JSON.
 */
export interface ScalarKernel {
  /** Name used on the CLI (`kernel NAME`). */
  name: string;
  /** One line for `--help`. */
  summary: string;
  /** 1 for one column, 2 for a pair (--column2). */
  inputs: 1 | 2;
  /** Declared parameters by name. */
  params: Record<string, ParamSpec>;
  /** Checks across parameters, as `Kernel.check` (`parseParams` runs it). */
  check?: (p: Params) => string | undefined;
  /** Computes the result for the column(s) with the context's backend. */
  run: (inputs: Float64Array[], params: Params, compute: Compute) => Promise<unknown>;
}

/** Every scalar (JSON-result) kernel, by name. */
export const SCALAR_KERNELS: ReadonlyMap<string, ScalarKernel> = new Map(
  [garchKernel, dcorKernel, dcorTestKernel, adfKernel, kpssKernel, minDKernel].map((k) => [k.name, k]),
);

/**
 * A kernel from a whole frame to another frame (resampling, feature sets): the `kernel` CLI reads the
 * file, passes every `--PARAM VALUE` to `run` (which validates them) and writes the result as CSV with the
 * frame's timestamps first.
 */
export interface FrameKernel {
  /** Name used on the CLI (`kernel NAME`). */
  name: string;
  /** One line for `--help`. */
  summary: string;
  /** Its parameters, for `--help` (e.g. `--every 5min [--fill none|nan|ffill]`). */
  usage: string;
  /** Validates the raw CLI parameters and computes the output frame with the context's backend. */
  run: (frame: Frame, params: Record<string, string>, compute: Compute) => Promise<Frame>;
}

/** Every frame-to-frame kernel, by name. */
export const FRAME_KERNELS: ReadonlyMap<string, FrameKernel> = new Map(
  [resampleKernel, featuresKernel].map((k) => [k.name, k]),
);
