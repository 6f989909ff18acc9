/**
 * The check shared by the feature-shader tests: run WGSL feature shaders (kernels/window_features.ts) over
 * columns and compare every plane with the f64 reference (featureSetCpu) under the shader's stated
 * Tolerance, scaled by the column's f32 storage scale.
 */
import { featureSetCpu } from "../kernels/feature_sets.ts";
import {
  specMaxWindow,
  windowFeaturesGpu,
  type WindowShader,
  type WindowSpec,
} from "../kernels/window_features.ts";
import type { Tolerance } from "../kernels/kernel.ts";
import type { GpuRuntime } from "../runtime/gpu.ts";
import { assertFeatureClose, inputScale } from "./data.ts";

/** What a per-feature hook sees: the feature, the column, its spec, longest window and both results. */
export interface FeatureCase {
  feature: string;
  column: number;
  x: Float64Array;
  spec: WindowSpec;
  wmax: number;
  gpu: Float64Array;
  ref: Map<string, Float64Array>;
  scale: number;
}

/**
 * Asserts every plane of `shaders` on `cols` (windows `specs[c]`) against featureSetCpu. `tolerance` may
 * return a tolerance adjusted to the case (e.g. scaled by the window), or null to skip the feature there;
 * `after` runs extra checks on each compared case.
 */
export async function checkFeatureShaders(
  rt: GpuRuntime,
  shaders: WindowShader[],
  tolerances: Readonly<Record<string, Tolerance>>,
  cols: Float64Array[],
  specs: WindowSpec[],
  what: string,
  hooks: {
    tolerance?: (tol: Tolerance, c: FeatureCase) => Tolerance | null;
    after?: (tol: Tolerance, c: FeatureCase) => void;
  } = {},
): Promise<void> {
  const features = shaders.flatMap((s) => s.planes);
  const g = await windowFeaturesGpu(rt, shaders, cols, specs);
  cols.forEach((x, column) => {
    const ref = featureSetCpu(x, specs[column], features);
    const scale = inputScale([x]);
    const wmax = specMaxWindow(specs[column]);
    for (const feature of features) {
      const c = { feature, column, x, spec: specs[column], wmax, gpu: g[column].get(feature)!, ref, scale };
      const tol = hooks.tolerance ? hooks.tolerance({ ...tolerances[feature] }, c) : tolerances[feature];
      if (!tol) continue;
      assertFeatureClose(c.gpu, ref.get(feature)!, tol, `${what} column ${column} ${feature}`, scale);
      hooks.after?.(tol, c);
    }
  });
}
