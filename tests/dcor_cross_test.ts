/**
 * The WebAssembly cross sum of the O(n log n) dCor (kernels/dcor_cross.wat behind kernels/dcor_core.ts
 * `CrossSum`): the committed bytes are the build of the committed WAT, and S1 equals, bit for bit, the f64
 * TypeScript pass it replaced (kept here as the reference) for x against y, iid permutations and circular
 * shifts, on ties, heavy tails, tiny n, CrossSums that take turns in the shared memory and one large enough
 * for its own instance; the shifted row-sum dot product equals the permuted one bit for bit.
 */
import { strict as assert } from "node:assert";
import {
  argsort,
  CrossSum,
  meanSd,
  permutation,
  rowDot,
  rowDotShifted,
  seriesSums,
  shiftPermutation,
  standardize,
} from "../kernels/dcor_core.ts";
import { DCOR_CROSS_WASM_BASE64 } from "../kernels/dcor_cross_wasm.ts";
import { seededNormals } from "../runtime/rng.ts";
import { base64Lines, buildWasm } from "../scripts/build_wasm.ts";

/** The TypeScript cross sum the module replaced (the reference): one Fenwick pass over y ranks in x order. */
function referenceSum(
  x: Float64Array,
  y0: Float64Array,
  ox: Uint32Array,
  oy: Uint32Array,
  perm?: Uint32Array,
) {
  const n = x.length;
  const ry0 = new Uint32Array(n);
  for (let k = 0; k < n; k++) ry0[oy[k]] = k;
  const y = perm ? Float64Array.from(perm, (p) => y0[p]) : y0, ry = perm ? perm.map((p) => ry0[p]) : ry0;
  const byRank = new Uint32Array(n);
  for (let k = 0; k < n; k++) byRank[ry[k]] = k;
  const py = new Float64Array(3 * n), tree = new Float64Array(4 * (n + 1));
  let sx = 0, sy = 0, sxy = 0;
  for (let r = 0; r < n; r++) {
    const k = byRank[r];
    py[3 * r] = sx, py[3 * r + 1] = sy, py[3 * r + 2] = sxy;
    sx += x[k], sy += y[k], sxy += x[k] * y[k];
  }
  let s1 = 0, qx = 0, qy = 0, qxy = 0;
  for (let k = 0; k < n; k++) {
    const i = ox[k], xi = x[i], yi = y[i], r = ry[i];
    let c = 0, tx = 0, ty = 0, txy = 0;
    for (let q = r; q > 0; q -= q & -q) {
      c += tree[4 * q], tx += tree[4 * q + 1], ty += tree[4 * q + 2], txy += tree[4 * q + 3];
    }
    const dc = k + r - 2 * c;
    const dx = qx + py[3 * r] - 2 * tx, dy = qy + py[3 * r + 1] - 2 * ty, dxy = qxy + py[3 * r + 2] - 2 * txy;
    const full = n * xi * yi - xi * sy - yi * sx + sxy;
    const disc = dc * xi * yi - xi * dy - yi * dx + dxy;
    s1 += full - 2 * disc;
    for (let q = r + 1; q <= n; q += q & -q) {
      tree[4 * q] += 1, tree[4 * q + 1] += xi, tree[4 * q + 2] += yi, tree[4 * q + 3] += xi * yi;
    }
    qx += xi, qy += yi, qxy += xi * yi;
  }
  return s1;
}

/** A standardized pair with its orders, as FastPair prepares it. */
function prepared(x: Float64Array, y: Float64Array) {
  const mx = meanSd(x), my = meanSd(y);
  const xs = standardize(x, mx.mean, mx.sd), ys = standardize(y, my.mean, my.sd);
  return { x: xs, y: ys, ox: argsort(xs), oy: argsort(ys) };
}

/** Pairs of the shapes the tests need: dependent normals, heavy ties, heavy tails, tiny and odd n. */
function pairs(): [string, Float64Array, Float64Array][] {
  const out: [string, Float64Array, Float64Array][] = [];
  for (const n of [2, 3, 5, 79, 80, 1000, 1025, 4097]) {
    const x = seededNormals(n, 1, n), e = seededNormals(n, 2, n);
    out.push([`x² + e, n ${n}`, x, x.map((v, i) => v * v + e[i])]);
  }
  const x = seededNormals(3000, 3, 0), e = seededNormals(3000, 4, 0);
  out.push(["ties", x.map((v) => Math.round(v * 2)), e.map((v, i) => Math.round(v + x[i]))]);
  out.push(["heavy tails", x.map((v, i) => v / (Math.abs(e[i]) + 1e-3)), e.map((v) => v ** 5)]);
  out.push(["price level", x.map((v) => 1e4 + 1e-3 * v), e]);
  return out;
}

Deno.test("dcor cross sum: kernels/dcor_cross_wasm.ts is the build of kernels/dcor_cross.wat", async () => {
  const built = await buildWasm("dcor_cross");
  assert.equal(base64Lines(built).join(""), DCOR_CROSS_WASM_BASE64, "run scripts/build_wasm.ts");
  // Chromium compiles at most 4 KiB synchronously on a page's main thread (new WebAssembly.Module).
  assert.ok(built.length <= 4096, `${built.length} bytes`);
});

Deno.test("dcor cross sum: WebAssembly = the TypeScript reference bit for bit (y, iid permutations, shifts)", () => {
  for (const [name, x0, y0] of pairs()) {
    const { x, y, ox, oy } = prepared(x0, y0);
    const n = x.length, cross = new CrossSum(x, y, ox, oy);
    assert.ok(Object.is(cross.sum(), referenceSum(x, y, ox, oy)), `${name}: unpermuted`);
    for (let b = 0; b < 5; b++) {
      const p = permutation(7, b, n);
      assert.ok(Object.is(cross.sum(p), referenceSum(x, y, ox, oy, p)), `${name}: permutation ${b}`);
      const block = Math.max(1, Math.floor(n / 8));
      const sp = shiftPermutation(7, b, n, block), s = n ? sp[0] : 0;
      const want = referenceSum(x, y, ox, oy, sp);
      assert.ok(Object.is(cross.sumShifted(s), want), `${name}: shift ${s}`);
      assert.ok(Object.is(cross.sum(sp), want), `${name}: shift ${s} as a permutation`);
    }
  }
});

Deno.test("dcor cross sum: CrossSums taking turns in the shared memory, and one with its own instance", () => {
  const a = prepared(seededNormals(1500, 5, 0), seededNormals(1500, 6, 0));
  const b = prepared(seededNormals(2000, 5, 1), seededNormals(2000, 6, 1));
  const ca = new CrossSum(a.x, a.y, a.ox, a.oy), cb = new CrossSum(b.x, b.y, b.ox, b.oy);
  for (let s = 1; s < 4; s++) {
    const pa = shiftPermutation(0, s, a.x.length, 10), pb = shiftPermutation(0, s, b.x.length, 10);
    assert.ok(Object.is(ca.sumShifted(pa[0]), referenceSum(a.x, a.y, a.ox, a.oy, pa)), `a, turn ${s}`);
    assert.ok(Object.is(cb.sumShifted(pb[0]), referenceSum(b.x, b.y, b.ox, b.oy, pb)), `b, turn ${s}`);
  }
  // Above the shared instance's 32 MiB (~2.8e5 points) a CrossSum has its own memory; the small ones still work.
  const n = 300_000, big = prepared(seededNormals(n, 7, 0), seededNormals(n, 8, 0));
  const cbig = new CrossSum(big.x, big.y, big.ox, big.oy), sp = shiftPermutation(1, 0, n, 1000);
  assert.ok(Object.is(cbig.sumShifted(sp[0]), referenceSum(big.x, big.y, big.ox, big.oy, sp)), "n 3e5");
  assert.ok(Object.is(ca.sum(), referenceSum(a.x, a.y, a.ox, a.oy)), "a after the large one");
});

Deno.test("dcor cross sum: rowDotShifted = rowDot through shiftPermutation, bit for bit", () => {
  for (const n of [2, 7, 5000]) {
    const a = prepared(seededNormals(n, 9, n), seededNormals(n, 10, n));
    const ra = seriesSums(a.x, a.ox).rows, rb = seriesSums(a.y, a.oy).rows;
    for (let b = 0; b < 4; b++) {
      const p = shiftPermutation(3, b, n, Math.max(1, n >> 3));
      assert.ok(Object.is(rowDotShifted(ra, rb, p[0]), rowDot(ra, rb, p)), `n ${n} shift ${p[0]}`);
    }
  }
});
