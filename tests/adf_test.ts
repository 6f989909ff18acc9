/**
 * ADF, KPSS and MacKinnon's tables against statsmodels 0.13.5 (tests/fixtures/adf_statsmodels.json, written by
 * scripts/make_adf_fixture.py): random walks, AR(1), near-unit-root (phi 0.98-0.999), trend- and
 * quadratic-trend-stationary, short series and the DEM/GBP returns and their cumulative sum, every regression
 * x autolag; statistics to 1e-8 relative, p-values to 1e-6, lags and nobs exact, statsmodels' refusals too.
 */
import { strict as assert } from "node:assert";
import { type AdfAutolag, type AdfRegression, adfuller, finiteSpan } from "../kernels/adf.ts";
import { kpss } from "../kernels/kpss.ts";
import { mackinnoncrit, mackinnonp } from "../kernels/mackinnon.ts";
import { lagInputs, lagProductsF64, lagProductsGpu } from "../bench/adf.ts";
import { seededNormals } from "../runtime/rng.ts";
import { GpuRuntime } from "../runtime/gpu.ts";

interface AdfCase {
  regression: AdfRegression;
  autolag: AdfAutolag;
  maxlag: number | null;
  adf_stat?: number;
  p_value?: number;
  usedlag?: number;
  nobs?: number;
  crit?: Record<string, number>;
  icbest?: number | null;
  error?: string;
}
interface KpssCase {
  regression: "c" | "ct";
  nlags: "auto" | "legacy" | number;
  kpss_stat: number;
  p_value: number;
  lags: number;
  crit: Record<string, number>;
  warning: "smaller" | "greater" | null;
}
const fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/adf_statsmodels.json", import.meta.url)),
) as {
  statsmodels: string;
  cases: { name: string; x: number[]; adf: AdfCase[]; kpss: KpssCase[] }[];
  mackinnonp: { stats: number[]; p: Record<AdfRegression, number[]> };
  mackinnoncrit: Record<AdfRegression, Record<string, number[]>>;
};

const TREND: Record<AdfRegression, number> = { n: 0, c: 1, ct: 2, ctt: 3 };
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

Deno.test("adfuller (QR) matches statsmodels on every series x regression x autolag (stat 1e-8 rel, p 1e-6)", () => {
  let maxStat = 0, maxP = 0, maxIc = 0, maxCrit = 0, compared = 0, refused = 0, degenerate = 0;
  for (const c of fixture.cases) {
    for (const k of c.adf) {
      const what = `${c.name} ${k.regression} ${k.autolag} maxlag=${k.maxlag}`;
      const opts = { regression: k.regression, autolag: k.autolag, maxlag: k.maxlag, search: "qr" as const };
      if (k.error) {
        assert.throws(() => adfuller(c.x, opts), RangeError, what);
        refused++;
        continue;
      }
      const r = adfuller(c.x, opts);
      assert.equal(r.usedlag, k.usedlag, `${what}: usedlag`);
      assert.equal(r.nobs, k.nobs, `${what}: nobs`);
      if (r.nobs <= r.usedlag + 1 + TREND[k.regression]) {
        // An exactly determined final fit (no residual degrees of freedom): statsmodels prints t = 0, a
        // pseudo-inverse artefact; we return NaN. The lag search picked it for its ~1e-30 SSR (icbest is noise).
        assert.ok(Number.isNaN(r.adf_stat) && k.adf_stat === 0, what);
        degenerate++;
        continue;
      }
      maxStat = Math.max(maxStat, rel(r.adf_stat, k.adf_stat!));
      maxP = Math.max(maxP, Math.abs(r.p_value - k.p_value!));
      for (const lvl of ["1%", "5%", "10%"] as const) {
        maxCrit = Math.max(maxCrit, rel(r.crit[lvl], k.crit![lvl]));
      }
      if (k.icbest === null) assert.equal(r.icbest, null, what);
      else maxIc = Math.max(maxIc, rel(r.icbest!, k.icbest!));
      assert.ok(rel(r.adf_stat, k.adf_stat!) < 1e-8, `${what}: adf_stat ${r.adf_stat} vs ${k.adf_stat}`);
      assert.ok(Math.abs(r.p_value - k.p_value!) < 1e-6, `${what}: p ${r.p_value} vs ${k.p_value}`);
      assert.ok(rel(r.icbest ?? 0, k.icbest ?? 0) < 1e-8, `${what}: icbest ${r.icbest} vs ${k.icbest}`);
      compared++;
    }
  }
  assert.ok(maxCrit < 1e-12, `critical values: ${maxCrit}`);
  assert.ok(compared > 250 && refused > 0 && degenerate > 0, `${compared} compared, ${refused} refused`);
  console.log(
    `adfuller vs statsmodels ${fixture.statsmodels}: ${compared} cases, ${refused} refusals, ${degenerate} exactly determined; max rel err ` +
      `stat ${maxStat.toExponential(1)}, icbest ${maxIc.toExponential(1)}; max |dp| ${maxP.toExponential(1)}`,
  );
});

Deno.test("adfuller's Gram lag search (cross-products + Cholesky) matches statsmodels too", () => {
  let maxIc = 0, compared = 0;
  for (const c of fixture.cases.filter((c) => c.x.length >= 300)) {
    for (const k of c.adf.filter((k) => k.autolag !== "none" && !k.error)) {
      const what = `${c.name} ${k.regression} ${k.autolag} maxlag=${k.maxlag}`;
      const r = adfuller(c.x, {
        regression: k.regression,
        autolag: k.autolag,
        maxlag: k.maxlag,
        search: "gram",
      });
      assert.equal(r.usedlag, k.usedlag, `${what}: usedlag`);
      assert.ok(rel(r.adf_stat, k.adf_stat!) < 1e-8, what);
      assert.ok(rel(r.icbest!, k.icbest!) < 1e-8, `${what}: icbest ${r.icbest} vs ${k.icbest}`);
      maxIc = Math.max(maxIc, rel(r.icbest!, k.icbest!));
      compared++;
    }
  }
  assert.ok(compared > 100, `${compared}`);
  console.log(`Gram lag search: ${compared} cases, max rel err of icbest ${maxIc.toExponential(1)}`);
});

Deno.test("kpss matches statsmodels (c/ct x auto/legacy/4 lags) including the interpolation warning", () => {
  let maxStat = 0;
  for (const c of fixture.cases) {
    for (const k of c.kpss) {
      const what = `${c.name} kpss ${k.regression} ${k.nlags}`;
      const r = kpss(c.x, { regression: k.regression, nlags: k.nlags });
      assert.equal(r.lags, k.lags, `${what}: lags`);
      assert.deepEqual(r.crit, k.crit, what);
      assert.equal(r.warning, k.warning, `${what}: warning`);
      assert.ok(rel(r.kpss_stat, k.kpss_stat) < 1e-8, `${what}: ${r.kpss_stat} vs ${k.kpss_stat}`);
      assert.ok(Math.abs(r.p_value - k.p_value) < 1e-9, `${what}: p ${r.p_value} vs ${k.p_value}`);
      maxStat = Math.max(maxStat, rel(r.kpss_stat, k.kpss_stat));
    }
  }
  console.log(`kpss vs statsmodels: max rel err ${maxStat.toExponential(1)}`);
});

Deno.test("mackinnonp and mackinnoncrit reproduce statsmodels' tables (both branches and the clamps)", () => {
  const { stats, p } = fixture.mackinnonp;
  for (const reg of ["n", "c", "ct", "ctt"] as const) {
    stats.forEach((s, i) => assert.ok(Math.abs(mackinnonp(s, reg) - p[reg][i]) < 1e-12, `${reg} ${s}`));
    // The grid reaches both clamps and both polynomials.
    assert.ok(p[reg].includes(0) && p[reg].some((v) => v > 0.5), reg);
    for (const [nobs, crit] of Object.entries(fixture.mackinnoncrit[reg])) {
      mackinnoncrit(1, reg, Number(nobs)).forEach((v, i) =>
        assert.ok(rel(v, crit[i]) < 1e-14, `${reg} ${nobs}`)
      );
    }
  }
});

Deno.test("adfuller refuses what it cannot test: NaN, constant series, maxlag too large", () => {
  const x = Array.from({ length: 100 }, (_, i) => Math.sin(i) + i * 0.01);
  assert.throws(() => adfuller([...x.slice(0, 50), NaN, ...x.slice(51)]), /row 50/);
  assert.throws(() => adfuller(new Float64Array(50).fill(3)), /constant/);
  assert.throws(() => adfuller(x, { maxlag: 49 }), /maxlag 49 must be at most/);
  // finiteSpan drops leading/trailing NaN (FFD warm-up) and refuses gaps.
  assert.deepEqual([...finiteSpan([NaN, 1, 2, NaN])], [1, 2]);
  assert.throws(() => finiteSpan([1, NaN, 2]), /row 1/);
});

Deno.test("adfuller's lag search on the common sample equals separate fits (one QR for every candidate)", () => {
  // usedlag chosen on maxlag's rows, then the stat re-fitted on usedlag's longer sample: the stat equals a
  // fixed-lag fit with maxlag = usedlag and autolag none, whatever the search found.
  const rng = (s: number) => () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
  const r = rng(7);
  let v = 0;
  const x = Array.from({ length: 3000 }, () => (v = 0.9 * v + r()));
  for (const autolag of ["AIC", "BIC", "t-stat"] as const) {
    const a = adfuller(x, { autolag, regression: "ct" });
    const b = adfuller(x, { autolag: "none", maxlag: a.usedlag, regression: "ct" });
    assert.equal(a.adf_stat, b.adf_stat, autolag);
    assert.equal(a.nobs, 3000 - 1 - a.usedlag);
  }
});

Deno.test(
  "shaders/adf_lag_products.wgsl (bench/adf.ts) matches the f64 cross-products within f32 error",
  { sanitizeResources: false, sanitizeOps: false },
  async () => {
    const rt = await GpuRuntime.create();
    try {
      // Random walks of lengths that are not multiples of the workgroup size (256), lag 0 to beyond one group.
      const series = [1000, 1000].map((n, s) => {
        const z = seededNormals(n, 40 + s);
        for (let i = 1; i < n; i++) z[i] += z[i - 1];
        return z;
      });
      for (const L of [0, 3, 17, 300]) {
        const prep = lagInputs(series, L);
        const want = lagProductsF64(prep, L);
        const got = await (await lagProductsGpu(rt, prep, L))();
        want.forEach((w, s) => {
          const lvv = prep[s].lv.reduce((a, v, i) => a + (i >= L ? v * v : 0), 0);
          for (let j = 0; j < w.length; j++) {
            // Cauchy-Schwarz scale of the sum: d'd for the lag products, sqrt(v'v d'd) for the level's.
            const scale = j % 2 === 0 ? w[0] : Math.sqrt(lvv * w[0]);
            const err = Math.abs(got[s * w.length + j] - w[j]) / scale;
            assert.ok(err < 1e-5, `series ${s}, L ${L}, entry ${j}: ${got[s * w.length + j]} vs ${w[j]}`);
          }
        });
      }
    } finally {
      rt.destroy();
    }
  },
);
