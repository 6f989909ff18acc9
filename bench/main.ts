/**
 * `deno task bench`: throughput of every kernel in kernels/registry.ts on the WebGPU adapter (end to end,
 * through `kernel.gpu`: f64 -> f32 conversion, upload, dispatches, read-back) and on the f64 CPU path
 * (`kernel.cpu`, one column at a time), against the adapter's copy bandwidth (bench/copy.ts) and the
 * issue's reference targets (pandas, scipy, the `fracdiff` package, statsmodels' bkfilter).
 *
 * OUTPUT: one JSON document on stdout (adapter, copy GB/s, results, z-score window ratio, targets);
 * progress lines and the human table on stderr. `deno task bench > bench.json` keeps the JSON and shows
 * the table; `--out FILE` also writes the JSON to FILE.
 *
 * Flags:
 *   --quick               1e5 and 1e6 points per column, 1 and 16 columns (full: 1e5..1e7 x 1, 16, 256)
 *   --kernels a,b         only these kernels (default: every kernel in KERNELS)
 *   --backend B           webgpu | cpu | both (default both)
 *   --max-points N        skip configurations with more than N points in total (default 2.56e7: 256 x 1e5 runs, 16 x 1e7 does not)
 *   --budget S            seconds of repetitions per measurement (default 2; 1 with --quick)
 *   --out FILE            also write the JSON document to FILE
 *
 * Timing: each kernel first runs once on a small input (pipeline compilation, JIT); then every GPU
 * measurement is the best of >= 2 repetitions (the first also warms the buffer pool at that size), or of
 * one when that one took more than 4x --budget (slow kernels on a software adapter). CPU
 * measurements of large configurations time a subset of the columns, or a prefix of one column, and scale
 * (reported as `cpu.scaled` and marked `~` in the table).
 */
import { adfTable, benchAdf } from "./adf.ts";
import { benchMemory } from "./memory.ts";
import { benchAppend } from "./append.ts";
import { benchRecords, recordsTable } from "./records.ts";
import { benchDcor, dcorTable } from "./dcor.ts";
import { benchGarch, garchTable } from "./garch.ts";
import { benchPipeline, ISSUE_ROWS_PER_S } from "./pipeline.ts";
import { benchFrames, framesTable } from "./frames.ts";
import { benchFeatures, featuresTable } from "./features.ts";
import { peer, type Peers, runPeers } from "./peers.ts";
import { KERNELS } from "../kernels/registry.ts";
import { type Kernel, type Params, parseParams } from "../kernels/kernel.ts";
import { GpuRuntime } from "../runtime/gpu.ts";
import { setLogLevel } from "../runtime/log.ts";
import { type CopyResult, measureCopy } from "./copy.ts";
import { columnsOf, type CpuTiming, marketData, repeat, timeCpu } from "./measure.ts";

// deno-lint-ignore no-explicit-any
type AnyKernel = Kernel<any>;

interface Options {
  quick: boolean;
  kernels: string[] | null;
  backend: "webgpu" | "cpu" | "both";
  maxPoints: number;
  budget: number;
  out: string | null;
  suite:
    | "all"
    | "kernels"
    | "pipeline"
    | "garch"
    | "dcor"
    | "frames"
    | "features"
    | "adf"
    | "records"
    | "memory"
    | "append";
}

const USAGE =
  "usage: deno task bench [--quick] [--suite all|kernels|pipeline|garch|dcor|frames|features|adf|records|memory|append] [--kernels a,b] " +
  "[--backend webgpu|cpu|both] [--max-points N] [--budget SECONDS] [--out FILE]";

function parseOptions(args: string[]): Options {
  const o: Options = {
    quick: false,
    kernels: null,
    backend: "both",
    maxPoints: 2.56e7,
    budget: NaN,
    out: null,
    suite: "all",
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    const num = (v: string): number => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} expects a positive number, got ${v}`);
      return n;
    };
    if (flag === "--quick") o.quick = true;
    else if (flag === "--kernels") o.kernels = value().split(",").map((s) => s.trim()).filter(Boolean);
    else if (flag === "--backend") {
      const b = value();
      if (b !== "webgpu" && b !== "cpu" && b !== "both") {
        throw new Error(`--backend expects webgpu, cpu or both`);
      }
      o.backend = b;
    } else if (flag === "--max-points") o.maxPoints = num(value());
    else if (flag === "--budget") o.budget = num(value());
    else if (flag === "--out") o.out = value();
    else if (flag === "--suite") {
      const v = value();
      if (
        ![
          "all",
          "kernels",
          "pipeline",
          "garch",
          "dcor",
          "frames",
          "features",
          "adf",
          "records",
          "memory",
          "append",
        ]
          .includes(v)
      ) {
        throw new Error(
          `--suite expects all, kernels, pipeline, garch, dcor, frames, features, adf, records, memory or append`,
        );
      }
      o.suite = v as Options["suite"];
    } else if (flag === "--help" || flag === "-h") {
      console.error(USAGE);
      Deno.exit(0);
    } else throw new Error(`unknown flag ${args[i]}\n${USAGE}`);
  }
  if (Number.isNaN(o.budget)) o.budget = o.quick ? 1 : 2;
  for (const k of o.kernels ?? []) {
    if (!KERNELS.has(k)) throw new Error(`unknown kernel ${k} (kernels: ${[...KERNELS.keys()].join(", ")})`);
  }
  return o;
}

/** Typical parameters per kernel name; any kernel with a `window` parameter not listed here gets 200. */
function typicalParams(kernel: AnyKernel): Params {
  const raw: Record<string, unknown> = { ...kernel.typical };
  if ("window" in kernel.params && raw.window === undefined) raw.window = 200;
  return parseParams(kernel, raw);
}

/** The issue's reference throughputs (points/s). */
const REF = {
  pandasZscore1: 2.1e7,
  pandasZscore16: 1.2e7,
  ffdScipy: 3.2e7,
  ffdFracdiffPkg: 4.8e6,
  /** statsmodels bkfilter(x, 6, 32, 12) (scipy fftconvolve), 16 x 1e6 points, measured on this machine. */
  bkStatsmodels16: 2.3e7,
};

interface GpuResult {
  seconds: number;
  medianSeconds: number;
  reps: number;
  pointsPerSec: number;
  /** (bytes in + bytes out, as f32) / seconds / 1e9. */
  gbPerSec: number;
  /** gbPerSec / the copy kernel's GB/s. */
  ofCopy: number | null;
}

interface Result {
  kernel: string;
  params: Params;
  /** Points of history each output needs (window - 1; FFD filter length - 1). */
  history: number;
  pointsPerColumn: number;
  columns: number;
  totalPoints: number;
  skipped?: string;
  webgpu?: GpuResult | { error: string };
  cpu?: CpuTiming | { error: string };
}

const fmtE = (v: number | null | undefined, digits = 2): string =>
  v === null || v === undefined || !Number.isFinite(v) ? "-" : v.toExponential(digits).replace("e+", "e");
const fmtF = (v: number | null | undefined, digits = 2): string =>
  v === null || v === undefined || !Number.isFinite(v) ? "-" : v.toFixed(digits);
const progress = (msg: string): void => console.error(`[bench] ${msg}`);

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join("  ").trimEnd()
  ).join("\n");
}

function loadAverage(): number[] | null {
  try {
    return Deno.loadavg().map((v) => Math.round(v * 100) / 100); // needs --allow-sys=loadavg
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(Deno.args);
  setLogLevel("warn");
  const started = performance.now();
  const sizes = opts.quick ? [1e5, 1e6] : [1e5, 1e6, 1e7];
  const colCounts = opts.quick ? [1, 16] : [1, 16, 256];
  const kernels = opts.suite !== "all" && opts.suite !== "kernels"
    ? []
    : [...KERNELS.values()].filter((k) => !opts.kernels || opts.kernels.includes(k.name));
  const useGpu = opts.backend !== "cpu" && kernels.length > 0, useCpu = opts.backend !== "webgpu";
  const load = loadAverage();
  if (load && load[0] > 0.5) {
    progress(
      `warning: load average ${load.join(" ")}: other processes may compete for the CPU (and llvmpipe)`,
    );
  }

  let rt: GpuRuntime | null = null;
  let copy: CopyResult | null = null;
  if (useGpu) {
    rt = await GpuRuntime.create();
    progress(`adapter: ${rt.adapterName}`);
    progress("copy kernel (vec4<f32>)...");
    copy = await measureCopy(rt, opts.quick ? { iterations: 8, repetitions: 3 } : {});
    progress(
      `copy: ${fmtF(copy.gbPerSec)} GB/s (${copy.bytes / 2 ** 20} MiB x ${copy.iterations} per submit, ` +
        `best of ${copy.repetitions}, ${fmtF(copy.overheadSeconds * 1e3, 1)} ms submit overhead subtracted)`,
    );
  }

  const configs = sizes.flatMap((n) => colCounts.map((cols) => ({ n, cols })));
  const maxTotal = Math.max(0, ...configs.map((c) => c.n * c.cols).filter((t) => t <= opts.maxPoints));
  // The z-score window comparison needs 1e6 points x 16 columns (or x 1 when over the cap).
  const zCfg = { n: 1e6, cols: 16 * 1e6 <= opts.maxPoints ? 16 : 1 };
  const points = kernels.length ? Math.max(maxTotal, zCfg.n * zCfg.cols) : 0;
  if (points) progress(`generating ${fmtE(points)} points of synthetic log prices...`);
  const data = marketData(points);

  const results: Result[] = [];
  const total = kernels.length * configs.length;
  let done = 0;
  for (const kernel of kernels) {
    let params: Params;
    try {
      params = typicalParams(kernel);
    } catch (e) {
      progress(`${kernel.name}: skipped (${(e as Error).message})`);
      continue;
    }
    const label = `${kernel.name} ${JSON.stringify(params)}`;
    let gpuBroken: string | null = null;
    if (rt) {
      progress(`${label}: warm-up (pipeline compilation)`);
      try {
        const n = Math.max(20_000, 4 * (kernel.history(params) + 1));
        await kernel.gpu(rt, columnsOf(data, kernel.inputs, n, 2), [params]);
      } catch (e) {
        gpuBroken = (e as Error).message;
        progress(`${kernel.name}: WebGPU failed in warm-up: ${gpuBroken}`);
      }
    }
    for (const { n, cols } of configs) {
      done++;
      const r: Result = {
        kernel: kernel.name,
        params,
        history: kernel.history(params),
        pointsPerColumn: n,
        columns: cols,
        totalPoints: n * cols,
      };
      results.push(r);
      const where = `[${done}/${total}] ${kernel.name} ${fmtE(n, 0)} x ${cols}`;
      const cap = Math.min(opts.maxPoints, kernel.benchMaxPoints ?? Infinity);
      if (n * cols > cap) {
        r.skipped = `${fmtE(n * cols, 2)} points > ${
          cap < opts.maxPoints ? `${kernel.name}'s cap` : "--max-points"
        } ${fmtE(cap, 2)}`;
        progress(`${where}: skipped (${r.skipped})`);
        continue;
      }
      const columns = columnsOf(data, kernel.inputs, n, cols);
      const line: string[] = [];
      if (rt) {
        if (gpuBroken) r.webgpu = { error: gpuBroken };
        else {
          try {
            const gpuRt = rt;
            const t = await repeat(() => kernel.gpu(gpuRt, columns, [params]), opts.budget);
            const bytes = n * cols * (kernel.inputs + 1) * 4;
            const gb = bytes / t.seconds / 1e9;
            r.webgpu = {
              seconds: t.seconds,
              medianSeconds: t.median,
              reps: t.reps,
              pointsPerSec: n * cols / t.seconds,
              gbPerSec: gb,
              ofCopy: copy ? gb / copy.gbPerSec : null,
            };
            line.push(
              `webgpu ${fmtE(r.webgpu.pointsPerSec)} pts/s (best ${fmtF(t.seconds, 3)} s of ${t.reps})`,
            );
          } catch (e) {
            r.webgpu = { error: (e as Error).message };
            line.push(`webgpu failed: ${r.webgpu.error}`);
          }
          rt.pool.trim();
        }
      }
      if (useCpu) {
        try {
          r.cpu = timeCpu(kernel, params, columns, opts.budget);
          const c = r.cpu;
          line.push(
            `cpu ${fmtE(c.pointsPerSec)} pts/s (${fmtF(c.seconds, 3)} s, CPU ${fmtF(c.cpuSeconds, 3)} s)` +
              (c.scaled
                ? ` (timed ${c.measuredColumns} x ${fmtE(c.measuredPointsPerColumn, 1)}, scaled)`
                : ""),
          );
        } catch (e) {
          r.cpu = { error: (e as Error).message };
          line.push(`cpu failed: ${r.cpu.error}`);
        }
      }
      progress(`${where}: ${line.join("; ")}`);
    }
  }

  // Rolling z-score: time at window 200 vs window 10 (the block algorithm is O(1) per point in the window).
  const zk = KERNELS.get("zscore");
  let zscoreWindows: Record<string, unknown> | null = null;
  if (zk && kernels.includes(zk)) {
    progress(`z-score window 200 vs 10 on ${fmtE(zCfg.n, 0)} x ${zCfg.cols}...`);
    const columns = columnsOf(data, 1, zCfg.n, zCfg.cols);
    const p = (window: number) => parseParams(zk, { window });
    zscoreWindows = { pointsPerColumn: zCfg.n, columns: zCfg.cols, target: 1.5 };
    if (rt) {
      const gpuRt = rt;
      await zk.gpu(gpuRt, columnsOf(data, 1, 20_000, 2), [p(10)]);
      const t200 = await repeat(() => zk.gpu(gpuRt, columns, [p(200)]), opts.budget);
      const t10 = await repeat(() => zk.gpu(gpuRt, columns, [p(10)]), opts.budget);
      zscoreWindows.webgpu = {
        seconds200: t200.seconds,
        seconds10: t10.seconds,
        ratio: t200.seconds / t10.seconds,
      };
      rt.pool.trim();
    }
    if (useCpu) {
      const c200 = timeCpu(zk, p(200), columns, opts.budget), c10 = timeCpu(zk, p(10), columns, opts.budget);
      zscoreWindows.cpu = {
        seconds200: c200.seconds,
        seconds10: c10.seconds,
        ratio: c200.seconds / c10.seconds,
      };
    }
  }

  // Reference targets.
  const find = (kernel: string, n: number, cols: number) =>
    results.find((r) => r.kernel === kernel && r.pointsPerColumn === n && r.columns === cols && !r.skipped);
  const pps = (r: Result | undefined, b: "webgpu" | "cpu"): number | null => {
    const m = r?.[b];
    return m && "pointsPerSec" in m ? m.pointsPerSec : null;
  };
  const target = (
    name: string,
    reference: number,
    kernel: string,
    n: number,
    cols: number,
    goal?: number,
  ) => {
    const r = find(kernel, n, cols);
    const gpu = pps(r, "webgpu"), cpu = pps(r, "cpu");
    return {
      name,
      reference,
      goal: goal ?? null,
      config: `${kernel} ${fmtE(n, 0)} x ${cols}`,
      webgpu: gpu,
      cpu,
      webgpuOverReference: gpu === null ? null : gpu / reference,
      cpuOverReference: cpu === null ? null : cpu / reference,
      met: goal === undefined || (gpu === null && cpu === null) ? null : Math.max(gpu ?? 0, cpu ?? 0) >= goal,
    };
  };
  // Peers measured in this run (scripts/bench_peers.py) replace the issue's figures where they exist.
  const peerNames = [
    ...(kernels.some((k) => k.name === "fracdiff") ? ["ffd_1e6x1", "ffd_16x1e6"] : []),
    ...(kernels.some((k) => k.name === "zscore") ? ["zscore_1e6x1", "zscore_16x1e6"] : []),
    ...(opts.suite === "all" || opts.suite === "frames" ? ["corrcoef"] : []),
  ];
  const peers: Peers | null = peerNames.length ? await runPeers(peerNames, opts.quick, progress) : null;
  if (peers && "skipped" in peers) progress(`peers skipped: ${peers.skipped}`);
  const measured = (name: string, fallback: number, label: string): [string, number] => {
    const f = peer(peers, name);
    return f?.points_per_s ? [`${f.what} (this run)`, f.points_per_s] : [label, fallback];
  };
  const [z1Name, z1] = measured("zscore_1e6x1", REF.pandasZscore1, "pandas rolling z-score (window 200)");
  const [z16Name, z16] = measured("zscore_16x1e6", REF.pandasZscore16, "pandas rolling z-score (window 200)");
  const [f1Name, f1] = measured("ffd_1e6x1", REF.ffdScipy, "FFD d=0.4 (1458 weights), scipy fftconvolve");
  const [f16Name, f16] = measured("ffd_16x1e6", REF.ffdScipy, "FFD d=0.4 (1458 weights), scipy fftconvolve");
  const ffdGoal = 2 * Math.max(f1, REF.ffdFracdiffPkg), ffdGoal16 = 2 * Math.max(f16, REF.ffdFracdiffPkg);
  const targets = [
    target(`${z1Name}, 1e6 points`, z1, "zscore", 1e6, 1),
    target(`${z16Name}, 16 x 1e6`, z16, "zscore", 1e6, 16),
    target(f1Name, f1, "fracdiff", 1e6, 1),
    ...(f16 === f1 ? [] : [target(f16Name, f16, "fracdiff", 1e6, 16)]),
    target("FFD d=0.4 (1458 weights), fracdiff package", REF.ffdFracdiffPkg, "fracdiff", 1e6, 1),
    target("FFD goal: 2x the best reference, 1e6 points", f1, "fracdiff", 1e6, 1, ffdGoal),
    target("FFD goal: 2x the best reference, 16 x 1e6", f16, "fracdiff", 1e6, 16, ffdGoal16),
    target("Baxter-King (6, 32, 12), statsmodels bkfilter, 16 x 1e6", REF.bkStatsmodels16, "bk", 1e6, 16),
    target("BK goal: 2x statsmodels, 16 x 1e6", REF.bkStatsmodels16, "bk", 1e6, 16, 2 * REF.bkStatsmodels16),
  ];
  const zRatio = (zscoreWindows?.webgpu as { ratio: number } | undefined)?.ratio ?? null;

  const pipeline = opts.suite === "all" || opts.suite === "pipeline"
    ? await benchPipeline(opts.quick, progress)
    : null;
  const garch = opts.suite === "all" || opts.suite === "garch" ? await benchGarch(opts, progress) : null;
  const dcor = opts.suite === "all" || opts.suite === "dcor" ? await benchDcor(opts, progress) : null;
  const frames = opts.suite === "all" || opts.suite === "frames" ? await benchFrames(opts, progress) : null;
  const features = opts.suite === "all" || opts.suite === "features"
    ? await benchFeatures(opts, progress)
    : null;
  const adf = opts.suite === "all" || opts.suite === "adf" ? await benchAdf(opts, progress) : null;
  const records = opts.suite === "all" || opts.suite === "records"
    ? await benchRecords(
      opts,
      opts.backend === "cpu" ? null : rt ?? await GpuRuntime.create().catch(() => null),
      progress,
    )
    : null;
  // Not in "all": each case is its own process over millions of rows (minutes).
  const memory = opts.suite === "memory" ? await benchMemory(opts.quick, progress) : null;
  const append = opts.suite === "append" ? await benchAppend(opts.quick, progress) : null;
  const report = {
    bench: "feature-genesis kernels",
    date: new Date().toISOString(),
    deno: Deno.version.deno,
    options: opts,
    loadAverage: load,
    adapter: rt?.adapterName ?? null,
    copy,
    results,
    zscoreWindows,
    peers,
    targets: {
      references: REF,
      ffdGoal,
      rows: targets,
      zscoreWindowRatio: { webgpu: zRatio, goal: 1.5, met: zRatio === null ? null : zRatio <= 1.5 },
    },
    pipeline,
    garch,
    dcor,
    frames,
    features,
    adf,
    records,
    memory,
    append,
    seconds: (performance.now() - started) / 1e3,
  };
  const json = JSON.stringify(report, null, 2);
  console.log(json);
  if (opts.out) await Deno.writeTextFile(opts.out, json + "\n");

  // Human table on stderr.
  const out: string[] = [""];
  out.push(`adapter: ${rt?.adapterName ?? "(none: --backend cpu)"}`);
  if (copy) {
    out.push(
      `copy kernel (vec4<f32>, ${copy.bytes / 2 ** 20} MiB): ${fmtF(copy.gbPerSec)} GB/s ` +
        `(2 x bytes / GPU time, best of ${copy.repetitions})`,
    );
  }
  if (load) out.push(`load average at start: ${load.join(" ")} (${navigator.hardwareConcurrency} CPUs)`);
  out.push("");
  const rows = [["kernel", "points", "cols", "webgpu pts/s", "GB/s", "of copy", "cpu f64 pts/s", "gpu/cpu"]];
  for (const r of results) {
    const head = [r.kernel, fmtE(r.pointsPerColumn, 0), String(r.columns)];
    if (r.skipped) {
      rows.push([...head, "skipped", "", "", "", ""]);
      continue;
    }
    const g = r.webgpu && "pointsPerSec" in r.webgpu ? r.webgpu : null;
    const c = r.cpu && "pointsPerSec" in r.cpu ? r.cpu : null;
    rows.push([
      ...head,
      r.webgpu && !g ? "error" : fmtE(g?.pointsPerSec),
      g ? g.gbPerSec.toPrecision(2) : "-",
      g?.ofCopy == null ? "-" : `${(100 * g.ofCopy).toPrecision(2)}%`,
      r.cpu && !c ? "error" : c ? `${c.scaled ? "~" : ""}${fmtE(c.pointsPerSec)}` : "-",
      g && c ? fmtF(g.pointsPerSec / c.pointsPerSec, 1) : "-",
    ]);
  }
  out.push(table(rows));
  const skipped = results.filter((r) => r.skipped).length;
  if (skipped) {
    out.push(
      `(${skipped} configurations over --max-points ${fmtE(opts.maxPoints)} or a kernel's cap were skipped)`,
    );
  }
  if (results.some((r) => r.cpu && "scaled" in r.cpu && r.cpu.scaled)) {
    out.push(
      "(~ cpu: timed on a subset of the columns or a prefix of one column, scaled to the configuration)",
    );
  }
  out.push("");
  out.push("reference targets (points/s):");
  const trows = [["reference", "config", "", "reference", "webgpu", "x ref", "cpu f64", "x ref"]];
  for (const t of targets) {
    trows.push([
      t.goal
        ? `${t.name} (goal ${fmtE(t.goal)}${t.met === null ? "" : t.met ? ": met" : ": not met"})`
        : t.name,
      t.config,
      "",
      fmtE(t.goal ?? t.reference),
      fmtE(t.webgpu),
      fmtF(t.webgpu === null ? null : t.webgpu / (t.goal ?? t.reference)),
      fmtE(t.cpu),
      fmtF(t.cpu === null ? null : t.cpu / (t.goal ?? t.reference)),
    ]);
  }
  out.push(table(trows));
  if (zscoreWindows) {
    const zw = zscoreWindows as {
      webgpu?: { ratio: number; seconds200: number; seconds10: number };
      cpu?: { ratio: number };
    };
    out.push(
      `z-score time, window 200 / window 10 (${fmtE(zCfg.n, 0)} x ${zCfg.cols}): ` +
        (zw.webgpu
          ? `webgpu ${fmtF(zw.webgpu.ratio)}x (${fmtF(zw.webgpu.seconds200, 3)} s vs ${
            fmtF(zw.webgpu.seconds10, 3)
          } s; goal <= 1.5x: ${zw.webgpu.ratio <= 1.5 ? "met" : "not met"})`
          : "webgpu -") +
        (zw.cpu ? `; cpu ${fmtF(zw.cpu.ratio)}x` : ""),
    );
  }
  if (pipeline) {
    out.push("");
    out.push("pipeline (generated 1-minute bars):");
    for (const g of pipeline.generator) {
      out.push(
        `  generator, ${g.workers} worker(s): ${fmtE(g.rows_per_s)} rows/s, ${
          fmtF(g.mb_per_s, 1)
        } MB/s (${g.rows} rows)`,
      );
    }
    for (const p of pipeline.pipeline) {
      out.push(
        `  run, ${p.instruments} x ${
          p.rows / p.instruments
        } bars (${p.adapter}), task_workers ${p.task_workers} ` +
          `(${p.workers} at a time): ${fmtE(p.rows_per_s)} rows/s end to end, ` +
          `${fmtF(p.rows_per_s / ISSUE_ROWS_PER_S)}x the issue's ${
            fmtE(ISSUE_ROWS_PER_S)
          }; phases (summed over ` +
          `tasks) ${Object.entries(p.phases_ms).map(([k, v]) => `${k} ${v} ms`).join(", ")}`,
      );
    }
    out.push(
      "  write phase, one output part again (encode + fsync'd atomic write + SHA-256; peer: no fsync, no hash):",
    );
    for (const w of pipeline.write) {
      out.push(
        `    ${w.what}, ${w.rows} x ${w.columns}: ${fmtF(w.seconds * 1e3, 0)} ms (cpu ${
          fmtF(w.cpu_seconds * 1e3, 0)
        } ms), ` +
          `${fmtF(w.bytes / 1e6, 1)} MB` +
          (w.peer
            ? `; ${w.peer.what} ${fmtF(w.peer.seconds * 1e3, 0)} ms, ${
              fmtF(w.peer.bytes / 1e6, 1)
            } MB: ours/peer time ` +
              `${fmtF(w.seconds / w.peer.seconds)}x`
            : ""),
      );
    }
  }
  if (garch) out.push("", ...garchTable(garch));
  if (dcor) out.push("", ...dcorTable(dcor));
  if (frames) {
    const corr = ["corrcoef", "corrcoef_64x1e5", "corrcoef_1024x1e4"].map((n) => peer(peers, n));
    out.push("", ...framesTable(frames, corr.filter((f) => f !== undefined), peer(peers, "pca")));
  }
  if (peers && "skipped" in peers) out.push(`peers skipped: ${peers.skipped}`);
  else if (peers) out.push(`peers: ${peers.python} ${JSON.stringify(peers.versions)}`);
  if (features) out.push("", ...featuresTable(features));
  if (adf) out.push("", ...adfTable(adf));
  if (records) out.push("", ...recordsTable(records));
  out.push(`total bench time: ${fmtF(report.seconds, 1)} s`);
  console.error(out.join("\n"));
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(`bench: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
