/**
 * The one list of kernels: the `kernel` CLI dispatches by name from it, the conformance suite runs every
 * entry on both backends, and the bench iterates it.
 */
import { bk } from "./baxter_king.ts";
import { fracdiff } from "./fracdiff.ts";
import type { Kernel } from "./kernel.ts";
import { logstab } from "./logstab.ts";
import { rollingCorr } from "./rolling_corr.ts";
import { rollingMean, rollingStd, zscore } from "./rolling_moments.ts";

/** A kernel with any parameter type (the registry's element type; validate params with `parseParams`). */
// deno-lint-ignore no-explicit-any
export type AnyKernel = Kernel<any>;

/** Every series kernel, by name. */
export const KERNELS: ReadonlyMap<string, AnyKernel> = new Map(
  [fracdiff, rollingMean, rollingStd, zscore, logstab, rollingCorr, bk].map((k) => [k.name, k as AnyKernel]),
);

