/**
 * The page's Web Worker (exposed with Comlink): decodes and validates the input, runs the CLI's engines (the
 * same mod.ts code and YAML config) on the browser's WebGPU adapter or the f64 CPU path, and encodes exports,
 * so the page itself never blocks.
 */
import * as Comlink from "comlink";
import {
  type Compute,
  type Config,
  decodeFrame,
  enabledEngines,
  encodeCsv,
  type Frame,
  type GpuRuntime,
  loadConfig,
  makeFrame,
  openCompute,
  setLogSink,
  type Storage,
} from "../mod.ts";
import { barParams, generateBars, instrumentName } from "../generator/bars.ts";
import { loadTask } from "../pipeline/validate.ts";
import { encodeFeather } from "../pipeline/output.ts";

/** Summary of one numeric column of the input. */
export interface ColumnInfo {
  name: string;
  min: number;
  max: number;
  /** Missing (NaN) values. */
  missing: number;
}

/** What the page shows about a loaded file. */
export interface DataSummary {
  name: string;
  bytes: number;
  rows: number;
  columns: ColumnInfo[];
  /** Columns that were not loaded, and why. */
  skipped: { name: string; reason: string }[];
  timestampColumn: string | null;
  /** First and last timestamp (epoch ms), when there is a timestamp column. */
  first: number | null;
  last: number | null;
  /** The CLI's validation problems (empty: the engines can run). */
  problems: string[];
  /** Decode time in ms. */
  ms: number;
}

/** The WebGPU situation of this browser. */
export interface AdapterInfo {
  /** True when an adapter was found (the page then runs with backend `webgpu`). */
  webgpu: boolean;
  /** The runtime's adapter name, or why there is none. */
  name: string;
  /** adapter.info.architecture / vendor, when known. */
  detail: string;
  /** True for a CPU-emulated adapter (SwiftShader, llvmpipe). */
  software: boolean;
}

/** The result of one run: every column (input and computed), the reports and timings. */
export interface RunResult {
  backend: "webgpu" | "cpu";
  adapter: string;
  rows: number;
  timestampColumn: string;
  timestamps: Float64Array;
  /** Input columns, in file order. */
  inputColumns: string[];
  /** Added columns with the engine that added them, in order. */
  added: { name: string; engine: string }[];
  columns: Record<string, Float64Array>;
  reports: Record<string, Record<string, unknown>>;
  /** Wall time per engine, ms. */
  engines_ms: Record<string, number>;
  total_ms: number;
  /** The resolved config sections used. */
  features: Config["features"];
}

/** A log record forwarded to the page. */
export type LogFn = (level: string, msg: string, fields: Record<string, unknown>) => void;

let frame: Frame | null = null;
let summary: DataSummary | null = null;
let last: (RunResult & { config: Config }) | null = null;
let gpu: Promise<Compute> | null = null;

/** A Storage holding one in-memory file, so the CLI's loadTask validates exactly as in a batch run. */
function memoryStorage(key: string, bytes: Uint8Array): Storage {
  const missing = (k: string) => new Error(`${k}: no such file`);
  return {
    url: ".",
    list: () => Promise.resolve([{ key, size: bytes.length }]),
    get: (k) => (k === key ? Promise.resolve(bytes) : Promise.reject(missing(k))),
    head: (k) => Promise.resolve(k === key ? { size: bytes.length } : null),
    reader: (k) =>
      k === key
        ? Promise.resolve({
          byteLength: bytes.length,
          slice: (s: number, e?: number) => Promise.resolve(bytes.slice(s, e).buffer as ArrayBuffer),
        })
        : Promise.reject(missing(k)),
    put: () => Promise.reject(new Error("read-only")),
    delete: () => Promise.reject(new Error("read-only")),
  };
}

function describe(f: Frame, name: string, bytes: number, ms: number, problems: string[]): DataSummary {
  const columns = [...f.columns].map(([n, v]) => {
    let min = Infinity, max = -Infinity, missing = 0;
    for (const x of v) {
      if (Number.isNaN(x)) missing++;
      else {
        if (x < min) min = x;
        if (x > max) max = x;
      }
    }
    return { name: n, min, max, missing };
  });
  const ts = f.timestamps;
  return {
    name,
    bytes,
    rows: f.rows,
    columns,
    skipped: f.skipped,
    timestampColumn: f.timestampColumn ?? null,
    first: ts?.length ? ts[0] : null,
    last: ts?.length ? ts[ts.length - 1] : null,
    problems,
    ms,
  };
}

/** The data section of the page's config text, or the defaults when it does not parse yet. */
function dataOptions(configText: string) {
  let c: Config;
  try {
    c = loadConfig(configText, { env: () => undefined, source: "config" });
  } catch {
    c = loadConfig("", { env: () => undefined });
  }
  return { denyColumns: c.data.deny_columns, timestampColumn: c.data.timestamp_column };
}

async function ingest(bytes: Uint8Array, name: string, configText: string): Promise<DataSummary> {
  frame = summary = last = null;
  const t0 = performance.now();
  const decoded = await decodeFrame(bytes, name); // a bad file throws here: the page shows the message
  const opts = dataOptions(configText);
  const problems: string[] = [];
  let validated: Frame | null = null;
  try {
    validated = await loadTask(memoryStorage(name, bytes), {
      instrument: name,
      files: [{ key: name, size: bytes.length }],
    }, opts);
  } catch (e) {
    problems.push((e as Error).message);
  }
  const ms = performance.now() - t0;
  frame = validated;
  summary = describe(validated ?? decoded, name, bytes.length, ms, problems);
  return summary;
}

async function compute(backend: "webgpu" | "cpu", config: Config): Promise<Compute> {
  if (backend === "cpu") return await openCompute({ backend: "cpu" });
  // One device for the page; its memory budget comes from the first run's compute.memory_budget.
  gpu ??= openCompute({ backend: "webgpu", memoryBudget: config.compute.memory_budget });
  try {
    return await gpu;
  } catch (e) {
    gpu = null;
    throw e;
  }
}

const api = {
  /** Whether this browser has a WebGPU adapter, and its name. */
  async adapter(): Promise<AdapterInfo> {
    const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
    if (!nav?.gpu) {
      return { webgpu: false, name: "WebGPU is not available in this browser", detail: "", software: false };
    }
    let rt: GpuRuntime | null;
    try {
      rt = (await compute("webgpu", loadConfig("", { env: () => undefined }))).gpu;
    } catch (e) {
      return { webgpu: false, name: (e as Error).message, detail: "", software: false };
    }
    if (!rt) return { webgpu: false, name: "no WebGPU adapter", detail: "", software: false };
    const a = await nav.gpu.requestAdapter({ powerPreference: "high-performance" });
    const i = a?.info;
    const detail = i ? [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(" / ") : "";
    return { webgpu: true, name: rt.adapterName, detail, software: rt.isSoftware };
  },

  /** Forwards the library's log records (engine warnings, adapter) to the page. */
  setLogger(fn: LogFn): void {
    setLogSink((level, msg, fields) => {
      fn(
        level,
        msg,
        JSON.parse(JSON.stringify(fields ?? {}, (_k, v) => (typeof v === "bigint" ? Number(v) : v))),
      );
    });
  },

  /** Decodes and validates a file (Parquet, Feather/Arrow or CSV), as the CLI does for one partition. */
  load(bytes: Uint8Array, name: string, configText: string): Promise<DataSummary> {
    return ingest(bytes, name, configText);
  },

  /**
   * Demo data: the first `rows` bars of the CLI generator's first instrument (`generate --kind bars`, seed),
   * generated here and checked like a file.
   */
  demo(rows: number, seed: number): DataSummary {
    frame = summary = last = null;
    const t0 = performance.now();
    const p = barParams(seed, 0);
    const b = generateBars(p, 0, rows);
    const f = makeFrame(
      `demo ${instrumentName(0)} (seed ${seed})`,
      rows,
      new Map([["open", b.open], ["high", b.high], ["low", b.low], ["close", b.close], ["volume", b.volume]]),
      [],
      { column: "timestamp", values: b.timestamp },
    );
    frame = f;
    summary = describe(f, f.source, 0, performance.now() - t0, []);
    return summary;
  },

  /**
   * Runs the enabled engines (pipeline.engines order) on the loaded data with the config text, exactly as
   * `deno task run` does for one task; `progress` is called with each engine's name before it starts.
   */
  async run(
    configText: string,
    backend: "webgpu" | "cpu",
    progress?: (engine: string) => void,
  ): Promise<RunResult> {
    if (!frame || !summary) {
      throw new Error(summary ? "the data did not pass validation; load another file" : "load a file first");
    }
    const config = loadConfig(configText, { env: () => undefined, source: "config" });
    const engines = enabledEngines(config);
    const c = await compute(backend, config);
    const t0 = performance.now();
    const columns = new Map(frame.columns);
    const added: RunResult["added"] = [];
    const reports: RunResult["reports"] = {};
    const engines_ms: Record<string, number> = {};
    for (const engine of engines) {
      progress?.(engine.name);
      const te = performance.now();
      const { columns: cols, report } = await engine.run({ ...frame, columns }, config, c);
      reports[engine.name] = report;
      for (const [k, v] of cols) {
        columns.set(k, v);
        added.push({ name: k, engine: engine.name });
      }
      engines_ms[engine.name] = Math.round(performance.now() - te);
    }
    const result: RunResult = {
      backend: c.gpu ? "webgpu" : "cpu",
      adapter: c.gpu ? c.gpu.adapterName : "cpu (f64)",
      rows: frame.rows,
      timestampColumn: frame.timestampColumn!,
      timestamps: frame.timestamps!,
      inputColumns: [...frame.columns.keys()],
      added,
      columns: Object.fromEntries(columns),
      reports: JSON.parse(JSON.stringify(reports, (_k, v) => (typeof v === "bigint" ? Number(v) : v))),
      engines_ms,
      total_ms: Math.round(performance.now() - t0),
      features: config.features,
    };
    last = { ...result, config };
    return result;
  },

  /** The last run's frame as Feather v2 (LZ4, as the CLI writes it) or CSV. */
  exportFrame(format: "feather" | "csv"): Uint8Array {
    if (!last) throw new Error("run the engines first");
    const ts = { name: last.timestampColumn, values: last.timestamps };
    const bytes = format === "feather"
      ? encodeFeather(new Map(Object.entries(last.columns)), ts, "lz4")
      : encodeCsv(Object.entries(last.columns).map(([name, values]) => ({ name, values })), ts);
    return Comlink.transfer(bytes, [bytes.buffer as ArrayBuffer]);
  },

  /** The last run's report (engines, timings, adapter, config features) as JSON text. */
  exportReport(): string {
    if (!last || !summary) throw new Error("run the engines first");
    return JSON.stringify(
      {
        source: summary.name,
        rows: last.rows,
        columns: [last.timestampColumn, ...Object.keys(last.columns)],
        backend: last.backend,
        adapter: last.adapter,
        engines_ms: last.engines_ms,
        total_ms: last.total_ms,
        reports: last.reports,
        config: { features: last.config.features, pipeline: last.config.pipeline },
        created: new Date().toISOString(),
      },
      (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v),
      2,
    );
  },
};

/** The API the worker exposes (for Comlink.wrap on the page). */
export type WorkerApi = typeof api;

Comlink.expose(api);
