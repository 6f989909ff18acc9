/**
 * FFT convolution (kernels/fft_convolve.ts): the f64 FFT against the direct f64 reference
 * (`convolveCausalCpu`), and the WebGPU FFT against the same reference, on realistic and adversarial inputs.
 *
 * Tolerances: CPU FFT |fft - ref| <= 1e-10·max|ref| (f64 rounding, ~1e-14 seen). GPU (f32)
 * |gpu - ref| <= 1e-5·max(1, |ref|) + 5e-7·S, S = max|x - x_0| (the scale of the f32-stored input: 0.1 to 1
 * on log prices and returns, so the 1e-5·max(1, |ref|) part dominates; about 1e3 on prices around 1e4).
 */
import { strict as assert } from "node:assert";
import {
  chooseFftSize,
  fftConvolveCausalCpu,
  fftConvolveCausalGpu,
  FftPlan,
  GPU_FFT_MIN_WEIGHTS,
  ScrambledFft,
} from "../kernels/fft_convolve.ts";
import { convolveCausalCpu, ffdWeights, fracdiff, fracdiffGpu } from "../kernels/fracdiff.ts";
import { FFT_RADIX4_WASM_BASE64 } from "../kernels/fft_radix4_wasm.ts";
import { sharedGpu } from "../runtime/backend.ts";
import { base64Lines, buildWasm } from "../scripts/build_wasm.ts";
import { setLogLevel } from "../runtime/log.ts";
import { inputScale, logPrice, price1e4, returns, withGaps } from "./data.ts";

setLogLevel("warn");
const gpu = await sharedGpu().catch(() => null);
const opts = { sanitizeResources: false, sanitizeOps: false, ignore: gpu === null };

/** The default FFD filters (d = 0.1..0.5, threshold 1e-5): 4076, 2804, 1947, 1458 and 927 weights. */
const FFD = [0.1, 0.2, 0.3, 0.4, 0.5].map((d) => ffdWeights(d));
/** Shorter filters for quick cases: 55, 503 and 97 weights. */
const SHORT = [ffdWeights(0.4, 1e-3), ffdWeights(0.1, 1e-4), ffdWeights(0.7, 1e-4)];

/** Same NaN positions; returns max |a - b| / (atol + rtol·|b|) over the finite points (<= 1 passes). */
function compare(a: Float64Array, b: Float64Array, atol: number, rtol: number, what: string): number {
  assert.equal(a.length, b.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    assert.equal(
      Number.isNaN(a[i]),
      Number.isNaN(b[i]),
      `${what}: NaN mismatch at ${i} (${a[i]} vs ${b[i]})`,
    );
    if (Number.isNaN(b[i])) continue;
    const r = Math.abs(a[i] - b[i]) / (atol + rtol * Math.abs(b[i]));
    assert.ok(r <= 1, `${what}: at ${i} got ${a[i]}, expected ${b[i]}`);
    worst = Math.max(worst, r);
  }
  return worst;
}

function maxAbs(y: Float64Array): number {
  let m = 0;
  for (const v of y) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  return m;
}

/** CPU FFT against the direct reference, 1e-10 of max|ref|; returns the worst relative error. */
function checkCpu(x: Float64Array, filters: Float64Array[], what: string): number {
  const got = fftConvolveCausalCpu(x, filters);
  let worst = 0;
  filters.forEach((w, f) => {
    const ref = convolveCausalCpu(x, w);
    const atol = 1e-10 * Math.max(maxAbs(ref), 1e-300);
    worst = Math.max(worst, 1e-10 * compare(got[f], ref, atol, 0, `${what} W=${w.length}`));
  });
  return worst;
}

/** GPU tolerance (see the module comment). */
function checkGpu(got: Float64Array[], x: Float64Array, filters: Float64Array[], what: string): number {
  const s = inputScale([x]);
  let worst = 0;
  filters.forEach((w, f) => {
    const ref = convolveCausalCpu(x, w);
    worst = Math.max(worst, compare(got[f], ref, 1e-5 + 5e-7 * s, 1e-5, `${what} W=${w.length}`));
  });
  return worst;
}

Deno.test("FftPlan matches a naive DFT, and inverse(forward(x)) = n·x", () => {
  for (const n of [2, 4, 16, 128]) {
    const plan = new FftPlan(n);
    const xr = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.3) + 0.1 * i);
    const xi = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.7));
    const re = xr.slice(), im = xi.slice();
    plan.forward(re, im);
    for (let k = 0; k < n; k++) {
      let sr = 0, si = 0;
      for (let j = 0; j < n; j++) {
        const a = (-2 * Math.PI * j * k) / n;
        sr += xr[j] * Math.cos(a) - xi[j] * Math.sin(a);
        si += xr[j] * Math.sin(a) + xi[j] * Math.cos(a);
      }
      assert.ok(Math.abs(re[k] - sr) < 1e-11 && Math.abs(im[k] - si) < 1e-11, `n=${n} bin ${k}`);
    }
    plan.inverse(re, im);
    for (let j = 0; j < n; j++) {
      assert.ok(Math.abs(re[j] / n - xr[j]) < 1e-12 && Math.abs(im[j] / n - xi[j]) < 1e-12);
    }
  }
  assert.throws(() => new FftPlan(12), RangeError);
});

/** `fft`'s transform (forward or inverse) of (re, im), through its slot 0. */
function scrambled(fft: ScrambledFft, re: Float64Array, im: Float64Array, inverse = false): void {
  const slot = fft.slot(0);
  slot.re.set(re), slot.im.set(im);
  if (inverse) fft.inverse(0);
  else fft.forward(0);
  re.set(slot.re), im.set(slot.im);
}

Deno.test("ScrambledFft: inverse(forward(x)) = n·x, and spectra multiply to the circular convolution", () => {
  for (const n of [2, 4, 8, 16, 32, 128, 512]) {
    const fft = new ScrambledFft(n, 2);
    const ar = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.3) + 0.1 * i);
    const ai = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.7));
    const br = Float64Array.from({ length: n }, (_, i) => 1 / (1 + i) - 0.2);
    const re = ar.slice(), im = ai.slice();
    scrambled(fft, re, im);
    // Parseval holds whatever the order of the bins.
    let e = 0;
    for (let k = 0; k < n; k++) e += re[k] ** 2 + im[k] ** 2 - n * (ar[k] ** 2 + ai[k] ** 2);
    assert.ok(Math.abs(e) < 1e-9 * n * n, `n=${n} Parseval ${e}`);
    const h = fft.slot(1);
    h.re.set(br), h.im.fill(0);
    fft.forward(1);
    const x = fft.slot(0);
    x.re.set(re), x.im.set(im);
    fft.multiply(0, 1, 0);
    fft.inverse(0);
    for (let t = 0; t < n; t++) {
      let sr = 0, si = 0;
      for (let j = 0; j < n; j++) sr += ar[j] * br[(t - j + n) % n], si += ai[j] * br[(t - j + n) % n];
      assert.ok(
        Math.abs(x.re[t] / n - sr) < 1e-11 * n && Math.abs(x.im[t] / n - si) < 1e-11 * n,
        `n=${n} t=${t}`,
      );
    }
    const xr = ar.slice(), xi = ai.slice();
    scrambled(fft, xr, xi);
    scrambled(fft, xr, xi, true);
    for (let j = 0; j < n; j++) {
      assert.ok(Math.abs(xr[j] / n - ar[j]) < 1e-12 && Math.abs(xi[j] / n - ai[j]) < 1e-12);
    }
  }
  // Sizes past the depth-first leaf (1024 points): the circular convolution against FftPlan's (natural order).
  for (const n of [2048, 8192]) {
    const fft = new ScrambledFft(n), plain = new FftPlan(n);
    const conv = (forward: (r: Float64Array, i: Float64Array) => void, inverse: typeof forward) => {
      const ar = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) + 1e-3 * i),
        ai = new Float64Array(n);
      const hr = Float64Array.from({ length: n }, (_, i) => (i < 300 ? 1 / (1 + i) : 0)),
        hi = new Float64Array(n);
      forward(ar, ai), forward(hr, hi);
      for (let k = 0; k < n; k++) {
        const r = ar[k] * hr[k] - ai[k] * hi[k];
        ai[k] = ar[k] * hi[k] + ai[k] * hr[k], ar[k] = r;
      }
      inverse(ar, ai);
      return ar;
    };
    const got = conv((r, i) => scrambled(fft, r, i), (r, i) => scrambled(fft, r, i, true));
    const ref = conv((r, i) => plain.forward(r, i), (r, i) => plain.inverse(r, i));
    for (let t = 0; t < n; t++) assert.ok(Math.abs(got[t] - ref[t]) < 1e-9 * n, `n=${n} t=${t}`);
  }
  assert.throws(() => new ScrambledFft(12), RangeError);
  assert.throws(() => new ScrambledFft(16, 1).forward(1), RangeError);
});

Deno.test("kernels/fft_radix4_wasm.ts is the build of kernels/fft_radix4.wat", async () => {
  const built = await buildWasm("fft_radix4");
  assert.equal(base64Lines(built).join(""), FFT_RADIX4_WASM_BASE64, "run scripts/build_wasm.ts");
  // Chromium compiles at most 4 KiB synchronously on a page's main thread (new WebAssembly.Module).
  assert.ok(built.length <= 4096, `${built.length} bytes`);
});

Deno.test("chooseFftSize: at least max(16, M), small for short series, capped", () => {
  assert.equal(chooseFftSize(1458, [10], 1), 2048);
  assert.equal(chooseFftSize(5, [3], 1), 16);
  const big = chooseFftSize(1458, [1e7], 5, 1 << 15);
  assert.ok(big >= 4096 && big <= 1 << 15, `${big}`);
  assert.equal(chooseFftSize(1458, [1e7], 1, 1 << 15, 4096), 4096);
  // A filter longer than the cap still gets a size that holds it.
  assert.equal(chooseFftSize(5000, [1e6], 1, 4096), 8192);
});

Deno.test("CPU FFT equals the direct f64 reference (default FFD filters, several at once)", () => {
  const cases: [string, Float64Array][] = [
    ["log price ~9", logPrice(30000)],
    ["returns", returns(30000)],
    ["price ~1e4", price1e4(30000)],
    ["NaN runs and Inf", withGaps(20000)],
    ["log price x 1e300", logPrice(12000).map((v) => v * 1e300)],
    ["returns x 1e-300 (subnormal products)", returns(12000).map((v) => v * 1e-300)],
  ];
  let worst = 0;
  for (const [name, x] of cases) worst = Math.max(worst, checkCpu(x, FFD, name));
  console.log(`  CPU FFT max error / max|ref|: ${worst.toExponential(2)}`);
});

Deno.test("CPU FFT edge lengths: 0, 1, W-1, W, W+1, not block multiples; NaN runs; constant", () => {
  const w = SHORT[1]; // 503 weights
  for (const n of [0, 1, w.length - 1, w.length, w.length + 1, 1001, 3 * 4096 + 17, 20000]) {
    checkCpu(logPrice(n, 5), SHORT, `n=${n}`);
  }
  const x = logPrice(6000, 6);
  x.fill(NaN, 1000, 1400);
  x[3000] = -Infinity;
  x[5999] = NaN;
  checkCpu(x, SHORT, "NaN run");
  assert.ok(fftConvolveCausalCpu(new Float64Array(5000).fill(NaN), SHORT)[0].every(Number.isNaN));
  const c = fftConvolveCausalCpu(new Float64Array(2000).fill(7.5), [w])[0];
  const sum = w.reduce((a, b) => a + b, 0);
  for (let t = w.length - 1; t < 2000; t++) assert.ok(Math.abs(c[t] - 7.5 * sum) < 1e-12);
  assert.throws(() => fftConvolveCausalCpu(x, []), RangeError);
});

Deno.test("fracdiff kernel (f64 path) uses FFT for long filters and still equals the direct reference", () => {
  const x = logPrice(10000, 8);
  for (const d of [0.1, 0.4, 0.5]) {
    const ref = convolveCausalCpu(x, ffdWeights(d));
    compare(fracdiff.cpu([x], { d, threshold: 1e-5 }), ref, 1e-10 * maxAbs(ref), 0, `fracdiff d=${d}`);
  }
});

Deno.test(
  "GPU FFT equals the f64 reference within the f32 tolerance (5 filters, several columns)",
  opts,
  async () => {
    const cols = [logPrice(200000, 21), returns(100000, 22), price1e4(50000, 23), withGaps(30000, 24)];
    const out = await fftConvolveCausalGpu(gpu!, cols, FFD);
    const names = ["log price ~9", "returns", "price ~1e4", "NaN runs and Inf"];
    const worst = cols.map((x, c) => checkGpu(out[c], x, FFD, names[c]));
    console.log(`  GPU FFT worst error / tolerance: ${worst.map((v) => v.toFixed(3)).join(", ")}`);
  },
);

Deno.test("GPU FFT edge lengths, batched columns of different lengths, NaN runs", opts, async () => {
  const w = SHORT[1];
  const lens = [0, 1, w.length - 1, w.length, w.length + 1, 1001, 3 * 4096 + 17, 20000];
  const cols = lens.map((n, i) => logPrice(n, 40 + i));
  const x = logPrice(6000, 6);
  x.fill(NaN, 1000, 1400);
  x[3000] = Infinity;
  x[5999] = NaN;
  cols.push(x, new Float64Array(3000).fill(NaN), new Float64Array(2000).fill(7.5));
  const out = await fftConvolveCausalGpu(gpu!, cols, SHORT);
  cols.forEach((c, i) => checkGpu(out[i], c, SHORT, `column ${i} (n=${c.length})`));
  // One column alone gives the same as in the batch.
  const [alone] = await fftConvolveCausalGpu(gpu!, [cols[6]], SHORT);
  alone.forEach((y, f) => compare(y, out[6][f], 1e-5, 1e-5, "alone vs batched"));
});

Deno.test(
  "GPU FFT with a 64 KiB binding limit (chunked with halos) equals the unchunked result",
  opts,
  async () => {
    const small = gpu!.withLimits({ maxBindingBytes: 1 << 16 });
    {
      const cols = [logPrice(100000, 51), returns(40000, 52), withGaps(25000, 53)];
      const filters = [SHORT[0], SHORT[1]];
      const [chunked, whole] = await Promise.all([
        fftConvolveCausalGpu(small, cols, filters),
        fftConvolveCausalGpu(gpu!, cols, filters),
      ]);
      cols.forEach((x, c) => {
        checkGpu(chunked[c], x, filters, "chunked");
        filters.forEach((_, f) => compare(chunked[c][f], whole[c][f], 2e-5, 2e-5, "chunked vs unchunked"));
      });
      // The longest default filter also fits one 64 KiB binding (FFT size 8192) for a single column.
      const x = logPrice(30000, 54);
      checkGpu((await fftConvolveCausalGpu(small, [x], [FFD[3]]))[0], x, [FFD[3]], "chunked W=1458");
    }
  },
);

Deno.test("fracdiffGpu mixes direct (short) and FFT (long) filters and keeps the d order", opts, async () => {
  const ds = [0.4, 0.1, 0.9];
  const threshold = 1e-4;
  const ws = ds.map((d) => ffdWeights(d, threshold));
  assert.ok(
    ws.some((w) => w.length < GPU_FFT_MIN_WEIGHTS) && ws.some((w) => w.length >= GPU_FFT_MIN_WEIGHTS),
  );
  const cols = [logPrice(20000, 61), returns(5000, 62)];
  const out = await fracdiffGpu(gpu!, cols, ds, threshold);
  cols.forEach((x, c) => checkGpu(out[c], x, ws, `fracdiffGpu column ${c}`));
});
