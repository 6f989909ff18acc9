/**
 * `ModelRecursion.replay` (a refit's window replayed by the chunked garch_models engine) leaves the recursion
 * in the same state, bit for bit, as `push(v, variance())` for each value: GARCH(1,1) and GJR(1,1) (its fast
 * path), GARCH(2,1), GJR(1,2) and ARCH(1) (the calls), over returns with NaN and infinite values.
 */
import { strict as assert } from "node:assert";
import { type GarchModelParams, ModelRecursion, parseModel } from "../kernels/garch_family.ts";
import { seededNormals } from "../runtime/rng.ts";

const PARAMS: GarchModelParams = {
  mu: 0.01,
  omega: 0.02,
  alpha: 0.05,
  alpha2: 0.03,
  gamma: 0.04,
  beta: 0.6,
  beta2: 0.25,
};

Deno.test("garch replay: = push(v, variance()) per value, bit for bit", () => {
  const x = seededNormals(3000, 11, 1);
  x.fill(NaN, 100, 104);
  x[700] = Infinity;
  x[701] = -Infinity;
  for (const name of ["garch11", "gjr11", "garch21", "gjr12", "garch10"]) {
    const m = parseModel(name)!;
    const fast = new ModelRecursion(m, PARAMS, 1.5, 0.7);
    const slow = new ModelRecursion(m, PARAMS, 1.5, 0.7);
    fast.replay(x.subarray(0, 1000));
    fast.replay(x.subarray(1000));
    for (const v of x) slow.push(v, slow.variance());
    assert.ok(Object.is(fast.variance(), slow.variance()), name);
    assert.deepEqual(fast.state, slow.state, name);
    assert.ok(Number.isFinite(fast.variance()) && fast.variance() > 0, name);
  }
});
