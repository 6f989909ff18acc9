/** The study's cross-validation (study/cv.ts): purging, embargo, in-fold selection and the scores. */
import { strict as assert } from "node:assert";
import { Rng } from "../runtime/rng.ts";
import { auc, crossValidate, type CvOptions, purgedFolds, spearman } from "../study/cv.ts";

const OPTS: CvOptions = { scheme: "kfold", folds: 5, embargo: 7, model: "ridge", alpha: 1e-3 };

/** Rows 0..n-1 minus a few gaps (where a feature would be NaN), labels spanning h rows (irregular near gaps). */
function series(n: number, h: number) {
  const rows = Array.from({ length: n }, (_, i) => i).filter((i) => i % 97 !== 5);
  const labelEnd = Int32Array.from({ length: n }, (_, t) => Math.min(n - 1, t + h + (t % 13 === 0 ? 3 : 0)));
  return { rows, labelEnd };
}

for (const scheme of ["kfold", "walk_forward"] as const) {
  Deno.test(`purgedFolds (${scheme}): no held-out row inside a training row's label span; embargo after the test labels`, () => {
    const h = 15, { rows, labelEnd } = series(2000, h);
    const folds = purgedFolds(rows, labelEnd, { ...OPTS, scheme });
    assert.equal(folds.length, OPTS.folds);
    for (const { train, test } of folds) {
      const first = test[0], last = test.at(-1)!;
      const testEnd = Math.max(...test.map((s) => labelEnd[s]));
      const inTest = new Set(test);
      for (const t of train) {
        assert(!inTest.has(t));
        // No test row s with t <= s <= labelEnd[t] (the training label would use test-period prices) ...
        assert(!test.some((s) => s >= t && s <= labelEnd[t]), `train row ${t} overlaps the test block`);
        // ... and none within the test labels' span plus the embargo after the block.
        if (t > last) assert(t > testEnd + OPTS.embargo, `train row ${t} inside the embargo`);
        if (scheme === "walk_forward") assert(t < first, "walk-forward trains on the past only");
      }
      // Purging removes exactly the rows whose labels reach the block: the rows just before are gone,
      // earlier ones kept.
      if (train.some((t) => t < first)) {
        assert(train.filter((t) => t < first).every((t) => labelEnd[t] < first));
        assert(train.includes(rows.filter((t) => labelEnd[t] < first).at(-1)!));
      }
    }
  });
}

Deno.test("crossValidate: a predictive feature is selected in every fold and scores; noise scores ~0", () => {
  const n = 3000, rng = new Rng(3);
  const signal = Float64Array.from({ length: n }, () => rng.normal());
  const noise = Array.from({ length: 4 }, () => Float64Array.from({ length: n }, () => rng.normal()));
  const y = Float64Array.from(signal, (s) => 0.5 * s + rng.normal());
  const labelEnd = Int32Array.from({ length: n }, (_, t) => t + 1);
  const rows = Array.from({ length: n - 1 }, (_, i) => i);
  const folds = purgedFolds(rows, labelEnd, OPTS);
  const names = ["signal", "n0", "n1", "n2", "n3"];
  const scores = crossValidate(names, [signal, ...noise], y, folds, 1, OPTS);
  for (const f of scores) {
    assert.deepEqual(f.selected, ["signal"]);
    assert(f.score > 0.3, `IC ${f.score}`);
  }
  const noiseOnly = crossValidate(names.slice(1), noise, y, folds, 2, OPTS);
  const mean = noiseOnly.reduce((a, f) => a + f.score, 0) / noiseOnly.length;
  assert(Math.abs(mean) < 0.06, `noise IC ${mean}`);
  const logistic = crossValidate(names, [signal, ...noise], y, folds, 2, { ...OPTS, model: "logistic" });
  for (const f of logistic) assert(f.score > 0.6 && f.score <= 1, `AUC ${f.score}`);
});

Deno.test("crossValidate: selection uses only training rows (a feature equal to the target on test rows only is not chosen)", () => {
  const n = 1200, rng = new Rng(5);
  const y = Float64Array.from({ length: n }, () => rng.normal());
  const weak = Float64Array.from(y, (v) => 0.3 * v + rng.normal());
  const rows = Array.from({ length: n - 1 }, (_, i) => i);
  const labelEnd = Int32Array.from({ length: n }, (_, t) => t + 1);
  const folds = purgedFolds(rows, labelEnd, { ...OPTS, scheme: "walk_forward", folds: 3 });
  for (const [f, fold] of folds.entries()) {
    // Leaks the target on this fold's test rows, pure noise elsewhere.
    const leak = Float64Array.from({ length: n }, () => rng.normal());
    for (const s of fold.test) leak[s] = y[s];
    const [score] = crossValidate(["weak", "leak"], [weak, leak], y, [fold], 1, OPTS);
    assert.deepEqual(score.selected, ["weak"], `fold ${f}`);
  }
});

Deno.test("spearman and auc: known values, ties averaged", () => {
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  assert.equal(auc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 0.75);
  assert.equal(auc([1, 1, 1, 1], [false, true, false, true]), 0.5);
});
