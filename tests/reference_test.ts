/**
 * The f64 paths against independent references: naive per-window formulas for the rolling kernels and
 * log-stabilization, and R's fracdiff::diffseries (tests/fixtures/fracdiff_r.json, made by
 * scripts/make_fracdiff_fixture.R) for fractional differentiation, on the f64 path and on WebGPU.
 */
import { strict as assert } from "node:assert";
import { convolveCausalCpu, ffdWeights, fracdiffGpu } from "../kernels/fracdiff.ts";
import { logStabCpu } from "../kernels/logstab.ts";
import { rollingCorrCpu } from "../kernels/rolling_corr.ts";
import { rollingMomentsCpu } from "../kernels/rolling_moments.ts";
import { fracdiff } from "../kernels/fracdiff.ts";
import { sharedGpu } from "../runtime/backend.ts";
import { setLogLevel } from "../runtime/log.ts";
import { assertClose, inputScale, price1e4, returns, withGaps } from "./data.ts";

setLogLevel("warn");
const EXACT = { atol: 1e-12, rtol: 1e-9 };

/** Naive two-pass window statistics (NaN when the window is short or holds a non-finite value). */
function naiveWindows(n: number, w: number, f: (lo: number, hi: number) => number): Float64Array {
  return Float64Array.from({ length: n }, (_, t) => (t + 1 < w ? NaN : f(t - w + 1, t + 1)));
}

const series = [withGaps(3000), returns(2500), price1e4(2500)];

Deno.test("rolling mean/std/z-score (f64) equal naive two-pass windows", () => {
  for (const x of series) {
    for (const w of [1, 2, 7, 64, 300]) {
      const win = (lo: number, hi: number) => x.slice(lo, hi);
      const mean = (
        a: Float64Array,
      ) => (a.every(Number.isFinite) ? a.reduce((s, v) => s + v, 0) / a.length : NaN);
      const sd = (a: Float64Array, ddof: number) => {
        const m = mean(a);
        return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / (a.length - ddof));
      };
      assertClose(
        rollingMomentsCpu(x, w, "mean"),
        naiveWindows(x.length, w, (a, b) => mean(win(a, b))),
        EXACT,
        `mean ${w}`,
      );
      if (w < 2) continue;
      for (const ddof of [0, 1]) {
        const ref = naiveWindows(x.length, w, (a, b) => sd(win(a, b), ddof));
        assertClose(rollingMomentsCpu(x, w, "std", ddof), ref, EXACT, `std ${w} ddof ${ddof}`);
      }
      const z = naiveWindows(x.length, w, (a, b) => (x[b - 1] - mean(win(a, b))) / sd(win(a, b), 1));
      // z and r are ratios of small differences of large prices: f64 keeps ~eps |x| / std, ~1e-9 here.
      assertClose(rollingMomentsCpu(x, w, "zscore"), z, { atol: 1e-8, rtol: 1e-8 }, `z ${w}`);
    }
  }
});

Deno.test("rolling correlation (f64) equals the naive Pearson formula; constant windows are NaN", () => {
  const x = withGaps(2000), y = returns(2000).map((v, i) => v + 0.3 * (x[i] - 9));
  y.fill(1.5, 700, 800);
  for (const w of [2, 10, 99]) {
    const ref = naiveWindows(x.length, w, (lo, hi) => {
      const a = x.slice(lo, hi), b = y.slice(lo, hi);
      if (![...a, ...b].every(Number.isFinite)) return NaN;
      const ma = a.reduce((s, v) => s + v, 0) / w, mb = b.reduce((s, v) => s + v, 0) / w;
      let sab = 0, saa = 0, sbb = 0;
      for (let i = 0; i < w; i++) {
        sab += (a[i] - ma) * (b[i] - mb), saa += (a[i] - ma) ** 2, sbb += (b[i] - mb) ** 2;
      }
      return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
    });
    assertClose(rollingCorrCpu(x, y, w), ref, { atol: 1e-8, rtol: 0 }, `corr ${w}`);
  }
});

Deno.test("logstab (f64): log(x - expanding min + shift), or the global minimum when not causal", () => {
  const x = withGaps(1000);
  const causal = logStabCpu(x, { shift: 0.5, causal: true });
  const full = logStabCpu(x, { shift: 0.5, causal: false });
  const gmin = Math.min(...x.filter(Number.isFinite));
  let m = Infinity;
  x.forEach((v, t) => {
    if (!Number.isFinite(v)) return assert.ok(Number.isNaN(causal[t]) && Number.isNaN(full[t]));
    m = Math.min(m, v);
    assert.equal(causal[t], Math.log(v - m + 0.5));
    assert.equal(full[t], Math.log(v - gmin + 0.5));
  });
});

interface RFixture {
  generator: string;
  series: { name: string; x: number[]; mean: number; cases: { d: number; y: number[] }[] }[];
  weights: { d: number; w: number[] }[];
}
const fixture: RFixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/fracdiff_r.json", import.meta.url)),
);

Deno.test("FFD weights equal (-1)^k choose(d, k) computed by R", () => {
  for (const { d, w } of fixture.weights) {
    const ours = ffdWeights(d, 0, w.length);
    w.forEach((v, k) =>
      assert.ok(Math.abs(ours[k] - v) <= 1e-12 * Math.max(1e-3, Math.abs(v)), `d=${d} k=${k}`)
    );
  }
});

/**
 * diffseries(x, d) is the expanding-window difference of x - mean(x). FFD over W zeros followed by x - mean
 * equals it at every point when the window covers the whole series (W > n), or when the weights past W are
 * exactly zero (integer d).
 */
function padded(s: RFixture["series"][0], d: number) {
  const n = s.x.length;
  let w = ffdWeights(d, 1e-5);
  if (w.length <= n && d % 1 !== 0) w = ffdWeights(d, 1e-8);
  const xp = new Float64Array(w.length + n);
  s.x.forEach((v, i) => (xp[w.length + i] = v - s.mean));
  return { w, xp, n };
}

Deno.test("FFD (f64 path) matches R fracdiff::diffseries", () => {
  for (const s of fixture.series) {
    for (const { d, y } of s.cases) {
      const { w, xp, n } = padded(s, d);
      const ours = convolveCausalCpu(xp, w).subarray(w.length);
      const scale = Math.max(...y.map(Math.abs));
      assertClose(ours, Float64Array.from(y), { atol: 1e-11 * scale, rtol: 0 }, `${s.name} d=${d}`);
      assert.equal(ours.length, n);
    }
  }
});

Deno.test("FFD (WebGPU path) matches R fracdiff::diffseries within the kernel tolerance", {
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const rt = await sharedGpu();
  for (const s of fixture.series) {
    for (const { d, y } of s.cases) {
      const { w, xp } = padded(s, d);
      const [[out]] = await fracdiffGpu(rt, [xp], [d], w.length === ffdWeights(d, 1e-5).length ? 1e-5 : 1e-8);
      const what = `${s.name} d=${d} (${fixture.generator})`;
      assertClose(out.subarray(w.length), Float64Array.from(y), fracdiff.tolerance, what, inputScale([xp]));
    }
  }
});
