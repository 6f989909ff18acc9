/**
 * The registry's JSON-result and frame kernels (`deno task bench --suite records`): each record's first
 * conformance parameter set on bench-sized inputs (price levels, returns, several columns or one-minute bars,
 * as the record declares), best-of timing per call on the f64 CPU path and on WebGPU when there is an adapter.
 * The series kernels have their own suite (`kernels`); GARCH, dCor, ADF and the feature sets have deeper ones.
 */
import { FRAME_KERNELS, SCALAR_KERNELS } from "../kernels/registry.ts";
import { parseParams } from "../kernels/kernel.ts";
import { makeFrame } from "../io/frame.ts";
import { barParams, generateBars } from "../generator/bars.ts";
import type { GpuRuntime } from "../runtime/gpu.ts";
import { marketData, repeat } from "./measure.ts";

/** One record's timing. */
export interface RecordTiming {
  /** Kernel name. */
  kernel: string;
  /** JSON result or frame. */
  kind: "json" | "frame";
  /** The parameters (the record's first conformance set). */
  params: Record<string, unknown>;
  /** Input rows (points per column, or bars). */
  rows: number;
  /** Best time of one call on the f64 CPU path, in seconds. */
  cpuSeconds: number;
  /** Best time of one call on WebGPU (absent without an adapter, or for an f64-only kernel). */
  gpuSeconds?: number;
}

/** Times every scalar and frame kernel of the registry; `progress` hears one line per kernel. */
export async function benchRecords(
  opts: { quick: boolean; budget: number },
  rt: GpuRuntime | null,
  progress: (line: string) => void,
): Promise<RecordTiming[]> {
  const n = opts.quick ? 5_000 : 20_000;
  const data = marketData(8 * n);
  const level = (c: number) => data.price.subarray(c * n, (c + 1) * n).map(Math.exp);
  const returns = (c: number) =>
    data.price.subarray(c * n, (c + 1) * n).map((v, i, a) => i ? v - a[i - 1] : 0);
  const cpu = { choice: "cpu" as const, gpu: null };
  const out: RecordTiming[] = [];
  for (const k of SCALAR_KERNELS.values()) {
    const raw = k.conformance[0] ?? {};
    const p = parseParams(k, raw);
    const count = k.inputs === "many" ? 8 : k.inputs;
    const xs = Array.from({ length: count }, (_, c) => (k.input === "returns" ? returns(c) : level(c)));
    const names = xs.map((_, c) => `x${c}`);
    const t: RecordTiming = {
      kernel: k.name,
      kind: "json",
      params: raw,
      rows: n,
      cpuSeconds: (await repeat(() => k.run(xs, p, cpu, names), opts.budget, 1, 5)).seconds,
    };
    if (rt && k.tolerance) {
      const gpu = { choice: "webgpu" as const, gpu: rt };
      t.gpuSeconds = (await repeat(() => k.run(xs, p, gpu, names), opts.budget, 1, 5)).seconds;
    }
    progress(line(t));
    out.push(t);
  }
  const bars = generateBars(barParams(7, 0), 0, n);
  const { timestamp, ...ohlcv } = bars;
  const frame = makeFrame("bench", n, new Map(Object.entries(ohlcv)), [], {
    column: "timestamp",
    values: timestamp,
  });
  for (const k of FRAME_KERNELS.values()) {
    const raw = k.conformance[0] ?? {};
    const p = parseParams(k, raw);
    const t: RecordTiming = {
      kernel: k.name,
      kind: "frame",
      params: raw,
      rows: n,
      cpuSeconds: (await repeat(() => k.run(frame, p, cpu), opts.budget, 1, 5)).seconds,
    };
    if (rt) {
      const gpu = { choice: "webgpu" as const, gpu: rt };
      t.gpuSeconds = (await repeat(() => k.run(frame, p, gpu), opts.budget, 1, 5)).seconds;
    }
    progress(line(t));
    out.push(t);
  }
  return out;
}

function line(t: RecordTiming): string {
  const gpu = t.gpuSeconds === undefined ? "" : `, webgpu ${(t.gpuSeconds * 1e3).toFixed(1)} ms`;
  return `records ${t.kernel} ${JSON.stringify(t.params)} x ${t.rows}: cpu ${
    (t.cpuSeconds * 1e3).toFixed(1)
  } ms${gpu}`;
}

/** The suite's table. */
export function recordsTable(rows: RecordTiming[]): string[] {
  return [
    "registry JSON-result and frame kernels (first conformance parameters; ms per call):",
    ...rows.map((t) =>
      `  ${`${t.kernel} ${JSON.stringify(t.params)}`.padEnd(58)} ${String(t.rows).padStart(7)} rows  ` +
      `cpu ${(t.cpuSeconds * 1e3).toFixed(1).padStart(9)}  webgpu ${
        t.gpuSeconds === undefined ? "        -" : (t.gpuSeconds * 1e3).toFixed(1).padStart(9)
      }`
    ),
  ];
}
