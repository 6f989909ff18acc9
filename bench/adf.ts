/**
 * ADF and minimum-d throughput (`deno task bench --suite adf`, also part of `--suite all`), on random-walk log
 * prices (bench/measure.ts marketData):
 * - one ADF test per series of 2,000 and 229,682 points: AFML's maxlag 1 / no lag search, and statsmodels'
 *   default (maxlag ceil(12 (n/100)^(1/4)), AIC) with the lag search by Householder QR and by the
 *   cross-product (Gram) path;
 * - the minimum-d search (kernels/min_d.ts defaults: 11-point grid, bisection to 0.01, FFD threshold 1e-5) on
 *   5 series of 229,682 points, the size of the `fracdiff` package's issue #14, where a linear search over d
 *   took 9 hours;
 * - whether a WebGPU batch could pay: the floor of any GPU normal-equations kernel is the upload of the series
 *   (f32) and one submit + read-back, timed here against the whole f64 ADF fit on the host; the O(n L) part of
 *   the normal equations (lag x lag and level x lag cross-products, shaders/adf_lag_products.wgsl, f32) for
 *   statsmodels' default 84 lags against the same sums in f64 on the host, with the f32 sums' error and what
 *   it does to the AIC (m x the relative error of the residual sum of squares); and the FFD grid
 *   (11 d values x 5 series) on WebGPU against the f64 CPU FFD, the search's dominant cost.
 */
import { adfuller } from "../kernels/adf.ts";
import { fracdiff, fracdiffGpu } from "../kernels/fracdiff.ts";
import { minD } from "../kernels/min_d.ts";
import { GpuRuntime } from "../runtime/gpu.ts";
import { schwertMaxlag } from "../kernels/adf.ts";
import { marketData, repeat } from "./measure.ts";

/** One ADF configuration's best time. */
export interface AdfBenchRow {
  points: number;
  what: string;
  seconds: number;
  usedlag: number;
}

/** What `benchAdf` returns. */
export interface AdfBench {
  adapter: string | null;
  adf: AdfBenchRow[];
  minD: {
    series: number;
    points: number;
    seconds: number;
    evaluations: number;
    d: (number | null)[];
    reference: { fracdiffPackageSeconds: number; note: string };
  };
  gpu:
    | {
      /** Upload of the 5 series as f32 plus one submit and a 16-byte read-back (best of repetitions). */
      uploadFloorSeconds: number;
      /** The f64 ADF (maxlag 1, no lag search) of the same 5 series on the host. */
      cpuAdfSeconds: number;
      /** FFD of the 5 series at the 11 grid d values: WebGPU (f32, end to end) and the f64 CPU path. */
      ffdGridGpuSeconds: number;
      ffdGridCpuSeconds: number;
      /** Lag and level cross-products for `lags` lags of the 5 series: WebGPU f32 (end to end), f64 host. */
      products: { lags: number; gpuSeconds: number; cpuSeconds: number; maxRelErr: number; aicError: number };
    }
    | { error: string }
    | null;
}

const N = 229_682, SERIES = 5;
/** `fracdiff` issue #14: 9 hours for 229,682 x 5 with a linear search over d. */
const FRACDIFF_SECONDS = 9 * 3600;

/** Runs the ADF / minimum-d benchmark (`quick`: no QR lag search at 229,682 points). */
export async function benchAdf(
  opts: { quick: boolean; budget: number; backend: "webgpu" | "cpu" | "both" },
  progress: (s: string) => void,
): Promise<AdfBench> {
  const data = marketData(N * SERIES).price;
  const series = Array.from({ length: SERIES }, (_, i) => data.slice(i * N, (i + 1) * N));
  adfuller(series[0].subarray(0, 5000)); // JIT warm-up
  const adf: AdfBenchRow[] = [];
  for (const points of [2000, N]) {
    const x = series[0].subarray(0, points);
    const configs = [
      { what: "maxlag 1, no lag search (AFML)", o: { maxlag: 1, autolag: "none" as const } },
      { what: "default maxlag, AIC, Gram search", o: { autolag: "AIC" as const, search: "gram" as const } },
      ...(opts.quick && points === N ? [] : [{
        what: "default maxlag, AIC, QR search",
        o: { autolag: "AIC" as const, search: "qr" as const },
      }]),
    ];
    for (const { what, o } of configs) {
      let usedlag = 0;
      const t = await repeat(() => (usedlag = adfuller(x, o).usedlag), opts.budget, 2, 5);
      adf.push({ points, what, seconds: t.seconds, usedlag });
      progress(`adf ${points} points, ${what}: ${(t.seconds * 1e3).toFixed(1)} ms (lag ${usedlag})`);
    }
  }

  const t0 = performance.now();
  const results = series.map((x) => minD(x));
  const seconds = (performance.now() - t0) / 1e3;
  progress(`min_d ${SERIES} x ${N}: ${seconds.toFixed(2)} s, d = ${results.map((r) => r.d).join(", ")}`);

  let gpu: AdfBench["gpu"] = null;
  let adapter: string | null = null;
  if (opts.backend !== "cpu") {
    try {
      const rt = await GpuRuntime.create();
      adapter = rt.adapterName;
      const grid = Array.from({ length: 11 }, (_, i) => i / 10);
      const f32 = series.map((x) => Float32Array.from(x, (v) => v - x[0]));
      const upload = await repeat(async () => {
        const b = rt.batch();
        const bufs = f32.map((x) => b.upload(x));
        b.read(bufs[0], 16);
        await b.run();
      }, opts.budget);
      const cpuAdf = await repeat(
        () => series.forEach((x) => adfuller(x, { maxlag: 1, autolag: "none" })),
        opts.budget,
      );
      await fracdiffGpu(rt, [series[0].subarray(0, 10_000)], grid); // pipeline compilation
      const ffdGpu = await repeat(() => fracdiffGpu(rt, series, grid), opts.budget, 1, 3);
      const ffdCpu = await repeat(
        () => series.forEach((x) => grid.forEach((d) => fracdiff.cpu([x], { d, threshold: 1e-5 }))),
        opts.budget,
        1,
        3,
      );
      const products = await lagProducts(rt, series, schwertMaxlag(N), opts.budget);
      gpu = {
        products,
        uploadFloorSeconds: upload.seconds,
        cpuAdfSeconds: cpuAdf.seconds,
        ffdGridGpuSeconds: ffdGpu.seconds,
        ffdGridCpuSeconds: ffdCpu.seconds,
      };
      progress(
        `adf gpu floor: upload ${(upload.seconds * 1e3).toFixed(1)} ms vs f64 ADF ${
          (cpuAdf.seconds * 1e3).toFixed(1)
        } ms; FFD grid webgpu ${ffdGpu.seconds.toFixed(2)} s vs cpu ${ffdCpu.seconds.toFixed(2)} s`,
      );
      rt.destroy();
    } catch (e) {
      gpu = { error: (e as Error).message };
      progress(`adf: WebGPU unavailable (${gpu.error})`);
    }
  }
  return {
    adapter,
    adf,
    minD: {
      series: SERIES,
      points: N,
      seconds,
      evaluations: results.reduce((a, r) => a + r.evaluations, 0),
      d: results.map((r) => r.d),
      reference: {
        fracdiffPackageSeconds: FRACDIFF_SECONDS,
        note: "fracdiff package issue #14: linear search over d, 229,682 x 5, 9 hours",
      },
    },
    gpu,
  };
}

/** First differences and the level centred over rows L..len-1 of equal-length series (len = length - 1). */
export function lagInputs(series: Float64Array[], L: number): { dx: Float64Array; lv: Float64Array }[] {
  return series.map((x) => {
    const len = x.length - 1;
    const dx = new Float64Array(len), lv = new Float64Array(len);
    let mean = 0;
    for (let i = L; i < len; i++) mean += x[i];
    mean /= len - L;
    for (let i = 0; i < len; i++) dx[i] = x[i + 1] - x[i], lv[i] = x[i] - mean;
    return { dx, lv };
  });
}

/** f64 reference of shaders/adf_lag_products.wgsl: per series [sum d_i d_{i-k}, sum v_i d_{i-k}] for k = 0..L. */
export function lagProductsF64(prep: { dx: Float64Array; lv: Float64Array }[], L: number): Float64Array[] {
  return prep.map(({ dx, lv }) => {
    const len = dx.length, out = new Float64Array(2 * (L + 1));
    for (let k = 0; k <= L; k++) {
      let a = 0, b = 0;
      for (let i = L; i < len; i++) a += dx[i] * dx[i - k], b += lv[i] * dx[i - k];
      out[2 * k] = a, out[2 * k + 1] = b;
    }
    return out;
  });
}

/**
 * The same sums on WebGPU in f32 (shaders/adf_lag_products.wgsl), every series in one dispatch: compiles the
 * pipeline and returns a function that uploads, dispatches and reads back (series after series, as
 * {@link lagProductsF64} concatenated).
 */
export async function lagProductsGpu(
  rt: GpuRuntime,
  prep: { dx: Float64Array; lv: Float64Array }[],
  L: number,
): Promise<() => Promise<Float32Array>> {
  const len = prep[0].dx.length, S = prep.length;
  const dx32 = new Float32Array(len * S), lv32 = new Float32Array(len * S);
  prep.forEach(({ dx, lv }, s) => (dx32.set(dx, s * len), lv32.set(lv, s * len)));
  const pipe = await rt.pipeline("adf_lag_products");
  return async () => {
    const b = rt.batch();
    const out = b.storage(4 * 2 * (L + 1) * S);
    b.dispatchNamed(pipe, {
      dx: b.upload(dx32),
      level: b.upload(lv32),
      out,
      P: { len, lags: L, nseries: S },
    }, [L + 1, S]);
    b.read(out, 4 * 2 * (L + 1) * S);
    return (await b.run())[0];
  };
}

/**
 * The O(n L) cross-products of the ADF normal equations on WebGPU (f32) and on the host (f64): sum d_i d_{i-k}
 * and sum v_i d_{i-k} (v the centred level) for k = 0..L, i = L..n-2, every series. The f32 sums' largest
 * error relative to y'y (the scale of the residual sum of squares), times the sample size, is the error it
 * would put into an AIC value.
 */
async function lagProducts(rt: GpuRuntime, series: Float64Array[], lags: number, budget: number) {
  const len = N - 1, L = lags;
  const prep = lagInputs(series, L);
  const cpu = () => lagProductsF64(prep, L);
  const gpuRun = await lagProductsGpu(rt, prep, L);
  const want = cpu(), got = await gpuRun();
  let maxRelErr = 0, aicError = 0;
  want.forEach((w, s) => {
    const scale = Math.abs(w[0]);
    for (let j = 0; j < w.length; j++) {
      maxRelErr = Math.max(maxRelErr, Math.abs(got[s * w.length + j] - w[j]) / scale);
    }
    aicError = Math.max(aicError, ((len - L) * Math.abs(got[s * w.length] - w[0])) / scale);
  });
  const g = await repeat(gpuRun, budget, 2, 5), c = await repeat(cpu, budget, 1, 3);
  return { lags: L, gpuSeconds: g.seconds, cpuSeconds: c.seconds, maxRelErr, aicError };
}

/** The human table of `benchAdf`. */
export function adfTable(b: AdfBench): string[] {
  const out = ["ADF (one series) and the minimum-d search:"];
  const rows = [["points", "configuration", "ms", "usedlag"]];
  for (const r of b.adf) {
    rows.push([String(r.points), r.what, (r.seconds * 1e3).toFixed(1), String(r.usedlag)]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) {
    out.push(
      "  " + r.map((cell, c) => (c === 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  "),
    );
  }
  const m = b.minD;
  out.push(
    `min_d on ${m.series} x ${m.points}: ${
      m.seconds.toFixed(2)
    } s (${m.evaluations} FFD + ADF evaluations; ` +
      `d = ${m.d.join(", ")}); fracdiff package: ${m.reference.fracdiffPackageSeconds} s ` +
      `(${(m.reference.fracdiffPackageSeconds / m.seconds).toFixed(0)}x)`,
  );
  if (b.gpu && "error" in b.gpu) out.push(`WebGPU: ${b.gpu.error}`);
  else if (b.gpu) {
    const g = b.gpu;
    out.push(
      `WebGPU (${b.adapter}): uploading the ${m.series} series alone takes ${
        (g.uploadFloorSeconds * 1e3).toFixed(1)
      } ms, ` +
        `the whole f64 ADF ${(g.cpuAdfSeconds * 1e3).toFixed(1)} ms; FFD grid webgpu ${
          g.ffdGridGpuSeconds.toFixed(2)
        } s ` +
        `vs cpu f64 ${g.ffdGridCpuSeconds.toFixed(2)} s`,
      `normal equations' cross-products (${g.products.lags} lags, ${m.series} series): webgpu f32 ` +
        `${(g.products.gpuSeconds * 1e3).toFixed(1)} ms vs cpu f64 ${
          (g.products.cpuSeconds * 1e3).toFixed(1)
        } ms; ` +
        `f32 error ${g.products.maxRelErr.toExponential(1)} of y'y, i.e. up to ${
          g.products.aicError.toPrecision(2)
        } in an AIC value (lags whose AIC differ by less can swap)`,
    );
  }
  return out;
}
