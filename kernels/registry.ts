/**
 * The one list of kernels: the `kernel` CLI dispatches by name from it, the conformance suite runs every
 * entry on both backends, and the bench iterates it.
 */
import { adfKernel } from "./adf.ts";
import { corrMatrixKernel } from "./corr_matrix.ts";
import { pcaKernel } from "./pca.ts";
import { bk } from "./baxter_king.ts";
import { dcorKernel, dcorTestKernel, rollingDcor } from "./dcor.ts";
import { fracdiff } from "./fracdiff.ts";
import { garchKernel } from "./garch.ts";
import type { FrameKernel, Kernel, ScalarKernel } from "./kernel.ts";
import { kpssKernel } from "./kpss.ts";
import { logstab } from "./logstab.ts";
import { minDKernel } from "./min_d.ts";
import { rollingCorr } from "./rolling_corr.ts";
import { rollingMean, rollingStd, zscore } from "./rolling_moments.ts";
import { resampleKernel } from "./resample.ts";
import { featuresKernel } from "./feature_frame.ts";

/** A kernel with any parameter type (the registry's element type; validate params with `parseParams`). */
// deno-lint-ignore no-explicit-any
export type AnyKernel = Kernel<any>;

/** Every series kernel, by name. */
export const KERNELS: ReadonlyMap<string, AnyKernel> = new Map(
  [fracdiff, rollingMean, rollingStd, zscore, logstab, rollingCorr, bk, rollingDcor].map((
    k,
  ) => [k.name, k as AnyKernel]),
);

/** A scalar kernel with any parameter type. */
// deno-lint-ignore no-explicit-any
export type AnyScalarKernel = ScalarKernel<any>;

/** Every scalar (JSON-result) kernel, by name. */
export const SCALAR_KERNELS: ReadonlyMap<string, AnyScalarKernel> = new Map(
  [garchKernel, dcorKernel, dcorTestKernel, adfKernel, kpssKernel, minDKernel, corrMatrixKernel, pcaKernel]
    .map((
      k,
    ) => [k.name, k as AnyScalarKernel]),
);

/** A frame kernel with any parameter type. */
// deno-lint-ignore no-explicit-any
export type AnyFrameKernel = FrameKernel<any>;

/** Every frame-to-frame kernel, by name. */
export const FRAME_KERNELS: ReadonlyMap<string, AnyFrameKernel> = new Map(
  [resampleKernel, featuresKernel].map((k) => [k.name, k as AnyFrameKernel]),
);
