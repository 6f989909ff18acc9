/**
 * The frame kernels of the registry (resample, features), each with the parameter sets its record declares,
 * on generated one-minute bars: the f64 path is deterministic, and where the record states a GPU tolerance
 * the WebGPU path gives the same columns and rows within it (S: the f64 column's max |x - x_0|).
 */
import { strict as assert } from "node:assert";
import { FRAME_KERNELS } from "../kernels/registry.ts";
import { parseParams } from "../kernels/kernel.ts";
import { makeFrame } from "../io/frame.ts";
import { barParams, generateBars } from "../generator/bars.ts";
import { sharedGpu } from "../runtime/backend.ts";
import { assertFeatureClose, inputScale } from "./data.ts";

const gpu = await sharedGpu();
const cpu = { choice: "cpu" as const, gpu: null };
const opts = { sanitizeResources: false, sanitizeOps: false };

const bars = generateBars(barParams(7, 0), 0, 6000); // four days of minute bars, across a weekend gap
const { timestamp, ...ohlcv } = bars;
const frame = makeFrame("bars", timestamp.length, new Map(Object.entries(ohlcv)), [], {
  column: "timestamp",
  values: timestamp,
});

for (const kernel of FRAME_KERNELS.values()) {
  assert.ok(kernel.conformance.length > 0, `no conformance parameters for kernel ${kernel.name}`);
  for (const raw of kernel.conformance) {
    const p = parseParams(kernel, raw);
    const label = `${kernel.name} ${JSON.stringify(raw)}`;
    Deno.test(`${label}: the f64 path is deterministic`, opts, async () => {
      const a = await kernel.run(frame, p, cpu), b = await kernel.run(frame, p, cpu);
      assert.ok(a.columns.size > 0 && a.rows > 0, "an empty result");
      assert.deepEqual(a.timestamps, b.timestamps);
      assert.deepEqual([...a.columns.keys()], [...b.columns.keys()]);
      for (const [name, v] of a.columns) assert.deepEqual(b.columns.get(name), v, name);
    });
    const tolerance = kernel.tolerance;
    if (!tolerance) continue;
    Deno.test(`${label}: WebGPU matches the f64 path within the stated tolerance`, opts, async () => {
      const want = await kernel.run(frame, p, cpu);
      const got = await kernel.run(frame, p, { choice: "webgpu", gpu });
      assert.deepEqual(got.timestamps, want.timestamps, `${label}: rows`);
      assert.deepEqual([...got.columns.keys()], [...want.columns.keys()], `${label}: columns`);
      for (const [name, w] of want.columns) {
        assertFeatureClose(got.columns.get(name)!, w, tolerance(name), `${label} ${name}`, inputScale([w]));
      }
    });
  }
}
