/**
 * `ModelRecursion.replay` (a refit's window, non-finite values skipped) and `filter` (sigma_t written, every
 * value pushed) give, bit for bit, the outputs and state of `push(v, variance())` per value: GARCH(1,1) and
 * GJR(1,1) (their fast path), GARCH(2,1), GJR(1,2) and ARCH(1) (the calls), over returns with NaN and infinite
 * values.
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

Deno.test("garch replay and filter: = push(v, variance()) per value, bit for bit", () => {
  const x = seededNormals(3000, 11, 1);
  x.fill(NaN, 100, 104);
  x[700] = Infinity;
  x[701] = -Infinity;
  x.fill(NaN, 2500, 2503);
  x[2700] = Infinity;
  for (const name of ["garch11", "gjr11", "garch21", "gjr12", "garch10"]) {
    const m = parseModel(name)!;
    const fast = new ModelRecursion(m, PARAMS, 1.5, 0.7);
    const slow = new ModelRecursion(m, PARAMS, 1.5, 0.7);
    const out = new Float64Array(x.length).fill(-1), ref = new Float64Array(x.length).fill(-1);
    fast.replay(x, 0, 1000);
    fast.replay(x, 1000, 2000);
    fast.filter(x, 2000, x.length, out);
    for (let t = 0; t < x.length; t++) {
      if (t < 2000 && !Number.isFinite(x[t])) continue;
      const h = slow.variance();
      if (t >= 2000) ref[t] = Math.sqrt(h);
      slow.push(x[t], h);
    }
    assert.deepEqual(out, ref, name);
    assert.ok(Object.is(fast.variance(), slow.variance()), name);
    assert.deepEqual(fast.state, slow.state, name);
    assert.ok(Number.isFinite(fast.variance()) && fast.variance() > 0, name);
  }
});
