/** TPE (study/tpe.ts) against random search on a known objective, and its Parzen estimator. */
import { strict as assert } from "node:assert";
import { Rng } from "../runtime/rng.ts";
import { type Observation, parzen, sampleRandom, sampleTpe } from "../study/tpe.ts";
import type { Space, TrialParams } from "../study/space.ts";

const SPACE: Space = {
  x: { type: "float", low: -5, high: 5 },
  lr: { type: "log_float", low: 1e-5, high: 1 },
  k: { type: "int", low: 1, high: 50 },
  c: { type: "choice", choices: ["a", "b", "c", "d"] },
};

/** A known objective: maximum 0.5 at x = 1.3, lr = 1e-3, k = 37, c = "c". */
function objective(p: TrialParams): number {
  const x = p.x as number, lr = p.lr as number, k = p.k as number;
  return -((x - 1.3) ** 2) - (Math.log10(lr) + 3) ** 2 / 4 - ((k - 37) / 10) ** 2 + (p.c === "c" ? 0.5 : 0);
}

function bestAfter(budget: number, seed: number, tpe: boolean): number {
  const history: Observation[] = [];
  for (let n = 0; n < budget; n++) {
    const rng = new Rng(seed, n);
    const params = tpe ? sampleTpe(SPACE, history, rng) : sampleRandom(SPACE, rng);
    history.push({ params, score: objective(params) });
  }
  return Math.max(...history.map((h) => h.score));
}

Deno.test("TPE beats random search on a known objective at a fixed budget, averaged over 20 seeds", () => {
  const seeds = Array.from({ length: 20 }, (_, i) => i);
  const mean = (tpe: boolean) => seeds.reduce((a, s) => a + bestAfter(40, s, tpe), 0) / seeds.length;
  const tpe = mean(true), random = mean(false);
  console.log(`mean best after 40 trials: TPE ${tpe.toFixed(3)}, random ${random.toFixed(3)}`);
  assert(tpe > random + 0.3, `TPE ${tpe} should beat random ${random} clearly`);
});

Deno.test("TPE: deterministic for a seed, values inside the space", () => {
  const history: Observation[] = [];
  for (let n = 0; n < 15; n++) {
    const p = sampleTpe(SPACE, history, new Rng(7, n));
    assert.deepEqual(p, sampleTpe(SPACE, history, new Rng(7, n)));
    assert((p.x as number) >= -5 && (p.x as number) <= 5);
    assert((p.lr as number) >= 1e-5 && (p.lr as number) <= 1);
    assert(Number.isInteger(p.k) && (p.k as number) >= 1 && (p.k as number) <= 50);
    assert(["a", "b", "c", "d"].includes(p.c as string));
    history.push({ params: p, score: objective(p) });
  }
});

Deno.test("Parzen estimator: a density on its range (integrates to 1), concentrated at the observations", () => {
  const est = parzen([0.2, 0.25, 0.3], 0, 1);
  let area = 0;
  for (let i = 0; i < 10000; i++) area += est.pdf((i + 0.5) / 10000) / 10000;
  assert(Math.abs(area - 1) < 1e-3, `area ${area}`);
  assert(est.pdf(0.25) > 3 * est.pdf(0.9));
});
