/**
 * The WebAssembly GARCH(1,1) evaluation (kernels/garch_eval.wat behind kernels/garch_eval.ts `garchEvalFull`):
 * the committed bytes are the build of the committed WAT, and the log-likelihood, gradient, Hessian and score
 * outer product equal, bit for bit, the f64 TypeScript loop it replaced (kept here as the reference), on
 * simulated returns at several points (both pre-sample conventions, parameters at their bounds), lengths
 * around the log blocks of 8 (0, 1, 7, 8, 9, 17), NaN and huge values, and calls that alternate lengths (the
 * module's memory is reused and grown).
 */
import { strict as assert } from "node:assert";
import {
  type GarchEval,
  garchEvalFull,
  prepareSeries,
  presample,
  simulateGarch,
} from "../kernels/garch_core.ts";
import { GARCH_EVAL_WASM_BASE64 } from "../kernels/garch_eval_wasm.ts";
import { seededNormals } from "../runtime/rng.ts";
import { base64Lines, buildWasm } from "../scripts/build_wasm.ts";

const LOG2PI = Math.log(2 * Math.PI);
const LOG_BLOCK = 8;

/** The TypeScript evaluation the module replaced (the reference), as it was in kernels/garch_core.ts. */
function referenceEvalFull(
  x: Float64Array,
  th: ArrayLike<number>,
  b: number,
  db: number,
  d2b: number,
): GarchEval {
  const mu = th[0], om = th[1], al = th[2], be = th[3];
  const ab = al + be;
  // t = 1: s2 = om + (al + be) B(mu).
  let h = om + ab * b;
  let dm = ab * db, dO = 1, dA = b, dB = b; // ds2/d(mu, om, al, be)
  // Nonzero second derivatives of s2 (mu-mu, mu-al, mu-be, om-be, al-be, be-be; the rest stay 0).
  let hmm = ab * d2b, hma = db, hmb = db, hob = 0, hab = 0, hbb = 0;
  let q = 0, logs = 0, prod = 1;
  let g0 = 0, g1 = 0, g2 = 0, g3 = 0;
  let H00 = 0, H10 = 0, H11 = 0, H20 = 0, H21 = 0, H22 = 0, H30 = 0, H31 = 0, H32 = 0, H33 = 0;
  let O00 = 0, O10 = 0, O11 = 0, O20 = 0, O21 = 0, O22 = 0, O30 = 0, O31 = 0, O32 = 0, O33 = 0;
  const n = x.length;
  for (let t = 0; t < n; t++) {
    if (t > 0) {
      // Advance s2 and its derivatives from (e_{t-1}, s2_{t-1}) = (ep, hp); second derivatives first.
      const ep = x[t - 1] - mu, hp = h;
      hbb = 2 * dB + be * hbb;
      hab = dA + be * hab;
      hob = dO + be * hob;
      hmb = dm + be * hmb;
      hma = -2 * ep + be * hma;
      hmm = 2 * al + be * hmm;
      dm = -2 * al * ep + be * dm;
      dO = 1 + be * dO;
      dA = ep * ep + be * dA;
      dB = hp + be * dB;
      h = om + al * ep * ep + be * hp;
    }
    const e = x[t] - mu, u = 1 / h, z2 = e * e * u;
    q += z2;
    prod *= h;
    if ((t & (LOG_BLOCK - 1)) === LOG_BLOCK - 1) {
      logs += Math.log(prod);
      prod = 1;
    }
    const a = 0.5 * (z2 - 1) * u; // dl/ds2
    const c = 0.5 * u * u * (1 - 2 * z2); // d2l/ds2^2
    const eu = e * u, eu2 = eu * u;
    // Per-observation score.
    const s0 = a * dm + eu, s1 = a * dO, s2 = a * dA, s3 = a * dB;
    g0 += s0;
    g1 += s1;
    g2 += s2;
    g3 += s3;
    // Hessian: c ds_i ds_j + a d2s_ij - e u^2 (d_jmu ds_i + d_imu ds_j) - u d_imu d_jmu.
    H00 += c * dm * dm + a * hmm - 2 * eu2 * dm - u;
    H10 += c * dO * dm - eu2 * dO;
    H11 += c * dO * dO;
    H20 += c * dA * dm + a * hma - eu2 * dA;
    H21 += c * dA * dO;
    H22 += c * dA * dA;
    H30 += c * dB * dm + a * hmb - eu2 * dB;
    H31 += c * dB * dO + a * hob;
    H32 += c * dB * dA + a * hab;
    H33 += c * dB * dB + a * hbb;
    O00 += s0 * s0;
    O10 += s1 * s0;
    O11 += s1 * s1;
    O20 += s2 * s0;
    O21 += s2 * s1;
    O22 += s2 * s2;
    O30 += s3 * s0;
    O31 += s3 * s1;
    O32 += s3 * s2;
    O33 += s3 * s3;
  }
  return {
    ll: -0.5 * (n * LOG2PI + logs + Math.log(prod) + q),
    g: Float64Array.of(g0, g1, g2, g3),
    h: Float64Array.of(H00, H10, H11, H20, H21, H22, H30, H31, H32, H33),
    opg: Float64Array.of(O00, O10, O11, O20, O21, O22, O30, O31, O32, O33),
  };
}

/** Every number of `a` is `b`'s (Object.is: the same NaN-ness, the same zero sign). */
function assertSameBits(a: GarchEval, b: GarchEval, what: string): void {
  const flat = (e: GarchEval) => [e.ll, ...e.g, ...e.h, ...e.opg];
  const fa = flat(a), fb = flat(b);
  assert.equal(fa.length, 25, what);
  fa.forEach((v, i) => assert.ok(Object.is(v, fb[i]), `${what}: value ${i}: ${v} vs ${fb[i]}`));
}

Deno.test("garch eval: kernels/garch_eval_wasm.ts is the build of kernels/garch_eval.wat", async () => {
  const built = await buildWasm("garch_eval");
  assert.equal(base64Lines(built).join(""), GARCH_EVAL_WASM_BASE64, "run scripts/build_wasm.ts");
  // Chromium compiles at most 4 KiB synchronously on a page's main thread (new WebAssembly.Module).
  assert.ok(built.length <= 4096, `${built.length} bytes`);
});

Deno.test("garch eval: WebAssembly = the TypeScript reference bit for bit", () => {
  const r = simulateGarch({ mu: 0.01, omega: 0.02, alpha: 0.08, beta: 0.9 }, seededNormals(10_500, 31337, 3));
  const p = prepareSeries(r, 10_000);
  assert.ok(!("status" in p));
  const points = [[0.01, 0.03, 0.07, 0.9], [-0.2, 1, 0, 0], [0, 0.5, 0.3, 0.7 - 1e-8], [
    0.05,
    1e-10,
    0.999,
    0,
  ]];
  for (const init of ["sample", "backcast"] as const) {
    for (const th of points) {
      const [b, db, d2b] = presample(p, init, th[0]);
      for (const n of [10_000, 0, 1, 7, 8, 9, 17, 2048]) {
        const x = p.x.subarray(0, n);
        assertSameBits(
          garchEvalFull(x, th, b, db, d2b),
          referenceEvalFull(x, th, b, db, d2b),
          `${init} ${th} n=${n}`,
        );
      }
    }
  }
  // Adversarial values: NaN runs, huge and tiny magnitudes (non-finite sums must match too).
  const x = Float64Array.from(p.x.subarray(0, 301));
  x.fill(NaN, 100, 103);
  const huge = x.map((v, i) => (i % 50 === 7 ? v * 1e150 : v));
  const tiny = p.x.subarray(0, 301).map((v) => v * 1e-160);
  for (const [name, s] of [["nan", x], ["huge", huge], ["tiny", tiny]] as const) {
    const th = [0.01, 0.03, 0.07, 0.9];
    assertSameBits(garchEvalFull(s, th, 1, 0.02, 2), referenceEvalFull(s, th, 1, 0.02, 2), name);
  }
  // A longer window than any before: the module's memory grows, and a short call after it still agrees.
  const long = simulateGarch({ mu: 0, omega: 0.02, alpha: 0.08, beta: 0.9 }, seededNormals(40_500, 7, 1));
  const th = [0, 0.02, 0.08, 0.9];
  assertSameBits(garchEvalFull(long, th, 1, 0, 2), referenceEvalFull(long, th, 1, 0, 2), "n=40000");
  assertSameBits(
    garchEvalFull(long.subarray(5, 20), th, 1, 0, 2),
    referenceEvalFull(long.subarray(5, 20), th, 1, 0, 2),
    "n=15",
  );
});
