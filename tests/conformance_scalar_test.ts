/**
 * The scalar (JSON-result) kernels of the registry, each with the parameter sets its record declares: the f64
 * path is deterministic and its result serialises, and where the record states a GPU tolerance the WebGPU
 * path's result equals it field by field (numbers within the tolerance, everything else exactly, except the
 * fields that name the path taken).
 */
import { strict as assert } from "node:assert";
import { SCALAR_KERNELS } from "../kernels/registry.ts";
import { parseParams, type Tolerance } from "../kernels/kernel.ts";
import { sharedGpu } from "../runtime/backend.ts";
import { logPrice, returns } from "./data.ts";

const gpu = await sharedGpu();
const cpu = { choice: "cpu" as const, gpu: null };
const opts = { sanitizeResources: false, sanitizeOps: false };

/** Realistic inputs: positive prices (a log random walk) or returns, one, two or (`many`) five series. */
function inputs(kind: "level" | "returns", count: 1 | 2 | "many", n = 2000): Float64Array[] {
  return Array.from(
    { length: count === "many" ? 5 : count },
    (_, i) => kind === "level" ? logPrice(n, 31 + i).map((v) => 100 * Math.exp(v)) : returns(n, 41 + i),
  );
}

/** Compares two JSON results: numbers within `tol` (NaN equals NaN), the rest exactly, `skip` fields ignored. */
function assertResultClose(got: unknown, want: unknown, tol: Tolerance, skip: readonly string[], at: string) {
  if (typeof want === "number") {
    assert.equal(typeof got, "number", `${at}: ${JSON.stringify(got)} is not a number`);
    const g = got as number;
    if (Number.isNaN(want) || !Number.isFinite(want)) {
      return assert.ok(Object.is(g, want), `${at}: ${g} vs ${want}`);
    }
    assert.ok(Math.abs(g - want) <= tol.atol + tol.rtol * Math.abs(want), `${at}: ${g} vs ${want}`);
  } else if (Array.isArray(want)) {
    assert.ok(Array.isArray(got) && got.length === want.length, `${at}: length`);
    want.forEach((w, i) => assertResultClose((got as unknown[])[i], w, tol, skip, `${at}[${i}]`));
  } else if (want && typeof want === "object") {
    const g = got as Record<string, unknown>, w = want as Record<string, unknown>;
    assert.deepEqual(Object.keys(g).sort(), Object.keys(w).sort(), `${at}: fields`);
    for (const k of Object.keys(w)) {
      if (!skip.includes(k)) assertResultClose(g[k], w[k], tol, skip, `${at}.${k}`);
    }
  } else assert.deepEqual(got, want, at);
}

for (const kernel of SCALAR_KERNELS.values()) {
  assert.ok(kernel.conformance.length > 0, `no conformance parameters for kernel ${kernel.name}`);
  for (const raw of kernel.conformance) {
    const p = parseParams(kernel, raw);
    const label = `${kernel.name} ${JSON.stringify(raw)}`;
    const xs = inputs(kernel.input ?? "level", kernel.inputs);
    const names = xs.map((_, i) => `x${i}`);
    Deno.test(`${label}: the f64 result is deterministic and serialises`, opts, async () => {
      const a = await kernel.run(xs, p, cpu, names), b = await kernel.run(xs, p, cpu, names);
      assertResultClose(a, b, { atol: 0, rtol: 0 }, kernel.varying ?? [], label);
      assert.ok(JSON.stringify(a).length > 2, "an empty result");
    });
    if (kernel.tolerance) {
      const tol = kernel.tolerance;
      Deno.test(`${label}: WebGPU matches the f64 path within the stated tolerance`, opts, async () => {
        const want = await kernel.run(xs, p, cpu, names);
        const got = await kernel.run(xs, p, { choice: "webgpu", gpu }, names);
        assertResultClose(got, want, tol, kernel.varying ?? [], label);
      });
    }
  }
}
