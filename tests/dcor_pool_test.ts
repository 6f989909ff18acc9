/**
 * The permutation tests on a pool of threads (kernels/dcor_pool.ts): the same results bit for bit as
 * dcorTest on this thread, for any thread count and either scheme; a worker that cannot start rejects.
 */
import { strict as assert } from "node:assert";
import { dcorTest } from "../kernels/dcor.ts";
import { dcorTestParallel, MIN_PARALLEL_WORK } from "../kernels/dcor_pool.ts";
import { idleCores } from "../runtime/cores.ts";
import { seededNormals } from "../runtime/rng.ts";

const n = 3000, F = 5;
const y = seededNormals(n, 1);
const pairs = Array.from(
  { length: F },
  (_, i) => [seededNormals(n, 10 + i).map((v, k) => v + 0.05 * i * y[k]), y] as const,
);

for (const scheme of ["circular_shift", "iid"] as const) {
  Deno.test(`dcorTestParallel (${scheme}) equals dcorTest for 1, 2 and 3 threads`, async () => {
    const opts = { permutations: 199, seed: 7, scheme, minBlock: 15 };
    assert.ok(F * n * opts.permutations >= MIN_PARALLEL_WORK, "large enough to start workers");
    const ref = pairs.map(([x, yy]) => dcorTest(x, yy, opts));
    for (const threads of [1, 2, 3]) {
      const seen: number[] = [];
      const got = await dcorTestParallel(pairs, opts, {
        threads,
        respectLoad: false,
        onProgress: (d) => seen.push(d),
      });
      assert.deepStrictEqual(got, ref, `${threads} threads`);
      assert.deepStrictEqual(seen, [1, 2, 3, 4, 5]);
    }
  });
}

Deno.test("idleCores: Infinity without the loadavg permission, else a count in [0, cores]", () => {
  const c = idleCores();
  assert.ok(c === Infinity || (Number.isInteger(c) && c >= 0 && c <= navigator.hardwareConcurrency));
});

Deno.test("dcorTestParallel: small jobs stay on this thread; a worker that fails to load rejects", async () => {
  const small = pairs.map(([x, yy]) => [x.subarray(0, 100), yy.subarray(0, 100)] as const);
  const opts = { permutations: 99, seed: 1, scheme: "circular_shift" as const };
  const bogus = "data:text/javascript,throw new Error('boom')";
  // Below MIN_PARALLEL_WORK no worker starts, so a bad worker URL is never touched.
  assert.deepStrictEqual(
    await dcorTestParallel(small, opts, { threads: 2, workerUrl: bogus }),
    small.map(([x, yy]) => dcorTest(x, yy, opts)),
  );
  await assert.rejects(
    dcorTestParallel(pairs, { ...opts, permutations: 199 }, {
      threads: 2,
      workerUrl: bogus,
      respectLoad: false,
    }),
    /a worker failed: .*boom/,
  );
});
