/**
 * The one list of kernels: the `kernel` CLI dispatches by name from it, the conformance suite runs every
 * entry on both backends, and the bench iterates it.
 */
import { bk } from "./baxter_king.ts";
import { fracdiff } from "./fracdiff.ts";
import { garchKernel } from "./garch.ts";
import type { Kernel, Params, ParamSpec } from "./kernel.ts";
import { logstab } from "./logstab.ts";
import { rollingCorr } from "./rolling_corr.ts";
import { rollingMean, rollingStd, zscore } from "./rolling_moments.ts";
import type { Compute } from "../runtime/backend.ts";

/** A kernel with any parameter type (the registry's element type; validate params with `parseParams`). */
// deno-lint-ignore no-explicit-any
export type AnyKernel = Kernel<any>;

/** Every series kernel, by name. */
export const KERNELS: ReadonlyMap<string, AnyKernel> = new Map(
  [fracdiff, rollingMean, rollingStd, zscore, logstab, rollingCorr, bk].map((k) => [k.name, k as AnyKernel]),
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
  /** Declared parameters by name. */
  params: Record<string, ParamSpec>;
  /** Computes the result for one column (inputs[0]) with the context's backend. */
  run: (inputs: Float64Array[], params: Params, compute: Compute) => Promise<unknown>;
}

/** Every scalar (JSON-result) kernel, by name. */
export const SCALAR_KERNELS: ReadonlyMap<string, ScalarKernel> = new Map([[garchKernel.name, garchKernel]]);
