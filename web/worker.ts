/**
 * The page's Web Worker (exposed with Comlink): decodes and validates the input, runs the CLI's engines (the
 * same mod.ts code and YAML config) on the browser's WebGPU adapter or the f64 CPU path, and encodes exports,
 * so the page itself never blocks.
 */
import * as Comlink from "npm:comlink@4.4.2";
import {
  barParams,
  checksFor,
  COLUMN_ROLES,
  type ColumnMapping,
  type ColumnRole,
  type Compute,
  type Config,
  csvDialect,
  decodeFrame,
  enabledEngines,
  encodeCsv,
  encodeFeather,
  type EngineReports,
  type Frame,
  generateBars,
  type GpuRuntime,
  instrumentName,
  load,
  loadConfig,
  loadTask,
  makeFrame,
  openCompute,
  recordReport,
  resolveColumns,
  resolveResample,
  runEngines,
  setLogSink,
  type Storage,
} from "../mod.ts";

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
  /**
   * The checks that ran and passed (io/validate.ts `checksFor` of the mapped columns); empty when the
   * data did not validate. A check whose columns are missing is not in the list.
   */
  checks: string[];
  /** The checks that did not run, each with why (a missing column, an adjusted close). */
  notChecked: string[];
  /** The column each role reads (data.columns, the page's choice, or found by name); absent: none. */
  mapping: Partial<Record<ColumnRole, string>>;
  /** The file's value column names as decoded (what a role may be mapped to), and its timestamp column. */
  fileColumns: string[];
  /** How a CSV file was read, in words (its delimiter, its dates' order when not ISO-8601); null otherwise. */
  dialect?: string | null;
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
  reports: EngineReports;
  /** Wall time per engine, ms. */
  engines_ms: Record<string, number>;
  total_ms: number;
  /** The resolved config sections used. */
  features: Config["features"];
}

/** The frame the engines run on: the loaded bars as they are, or resampled by the CLI's loader. */
export interface TimeframeInfo {
  /** The bar length ("5min", "1h", ...), or null for the data as loaded. */
  every: string | null;
  /** Rows (bars) of the frame the engines will run on. */
  bars: number;
  /** Rows of the loaded data. */
  inputRows: number;
  /** The last bar is partial (the data end before it does); always false as loaded. */
  partial: boolean;
  /** Gaps: places where consecutive bars are more than one bar length apart (as loaded: never counted). */
  gaps: number;
  /** Bars missing inside those gaps. */
  missingBars: number;
  /** Where the resampling ran ("webgpu" / "cpu"), null as loaded. */
  backend: "webgpu" | "cpu" | null;
  /** The last bar: start (epoch ms) and its OHLC, volume, vwap and count (NaN where a column is absent). */
  last: Record<"timestamp" | "open" | "high" | "low" | "close" | "volume" | "vwap" | "count", number> | null;
  /** Resampling time in ms (0 as loaded). */
  ms: number;
}

/** Progress of a run, sent to the page: the engine, and inside long steps `done` of `total` `unit`s. */
export interface RunProgress {
  engine: string;
  done?: number;
  total?: number;
  unit?: string;
}

/** A slice of the rows grid: row numbers (in the file's order), their timestamps and each column's values. */
export interface GridRows {
  /** Rows in the current order from `start`. */
  rows: number[];
  timestamps: number[];
  /** Per column (GridInfo order), the values of those rows. */
  values: number[][];
}

/** The rows grid's frame: the last run's (input plus computed columns) or, before a run, the one to run on. */
export interface GridInfo {
  rows: number;
  timestampColumn: string;
  columns: string[];
}

/** A log record forwarded to the page. */
export type LogFn = (level: string, msg: string, fields: Record<string, unknown>) => void;

/** The validated input (as loaded). */
let input: Frame | null = null;
/** The frame the engines run on: `input`, or `input` resampled (`timeframe`). */
let frame: Frame | null = null;
/** The loaded data as a one-file source for the loader: an in-memory storage and the instrument in it. */
let source: { storage: Storage; instrument: string; renamed?: boolean } | null = null;
let tf: TimeframeInfo | null = null;
/** The backend the timeframe was resampled for (as asked: WebGPU may fall back to the CPU). */
let tfBackend: "webgpu" | "cpu" | null = null;
let dataOpts: { denyColumns: string[]; timestampColumn: string; columns?: ColumnMapping } | null = null;
/** The loaded file (to validate it again with another column mapping). */
let loaded: { bytes: Uint8Array; name: string } | null = null;
/** Set by `api.cancel`; the run's progress callback throws at its next call. */
let cancelled = false;
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

function describe(
  f: Frame,
  name: string,
  bytes: number,
  ms: number,
  problems: string[],
  mapping: DataSummary["mapping"],
  fileColumns: string[],
): DataSummary {
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
    ...(problems.length
      ? { checks: [], notChecked: [] }
      : (({ ran, notRun }) => ({ checks: ran, notChecked: notRun }))(
        checksFor(f.columns.keys(), mapping.close),
      )),
    mapping,
    fileColumns,
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
  return {
    denyColumns: c.data.deny_columns,
    timestampColumn: c.data.timestamp_column,
    badValues: c.data.bad_values,
    columns: c.data.columns as ColumnMapping,
  };
}

/** Forgets the loaded data and the last run. */
function reset(): void {
  input = frame = null;
  summary = null;
  last = null;
  tf = null;
  tfBackend = null;
  source = null;
}

/** The loader's file types by extension (io/discover.ts); `.arrows` is Arrow IPC too. */
const KEY_EXT: Record<string, string> = {
  parquet: "parquet",
  pq: "parquet",
  feather: "feather",
  arrow: "arrow",
  arrows: "arrow",
  ipc: "arrow",
  csv: "csv",
  tsv: "csv", // CSV text with another delimiter: io/csv_dialect.ts detects it
  txt: "csv",
};

/** The loaded file as the loader's source: instrument `<base name>`, one file `<instrument>/file.<ext>`. */
function loaderSource(bytes: Uint8Array, name: string): { storage: Storage; instrument: string } | null {
  const ext = name.includes(".") ? name.split(".").pop()!.toLowerCase() : "";
  if (!KEY_EXT[ext]) return null;
  const instrument = name.slice(0, name.length - ext.length - 1).replace(/[\\/]/g, "_") || "data";
  return { storage: memoryStorage(`${instrument}/file.${KEY_EXT[ext]}`, bytes), instrument };
}

/** A validated frame as the loader's source: an uncompressed in-memory Feather file (role-named columns). */
function frameSource(f: Frame): { storage: Storage; instrument: string; renamed: boolean } {
  // Named "timestamp", the loader's default, whatever the file called it.
  const bytes = encodeFeather(f.columns, { name: "timestamp", values: f.timestamps! }, "none");
  return { storage: memoryStorage("data/file.feather", bytes), instrument: "data", renamed: true };
}

function asLoaded(f: Frame): TimeframeInfo {
  return {
    every: null,
    bars: f.rows,
    inputRows: f.rows,
    partial: false,
    gaps: 0,
    missingBars: 0,
    backend: null,
    last: lastBar(f),
    ms: 0,
  };
}

function lastBar(f: Frame): TimeframeInfo["last"] {
  if (!f.rows) return null;
  const at = (c: string) => f.columns.get(c)?.[f.rows - 1] ?? NaN;
  return {
    timestamp: f.timestamps?.[f.rows - 1] ?? NaN,
    open: at("open"),
    high: at("high"),
    low: at("low"),
    close: at("close"),
    volume: at("volume"),
    vwap: at("vwap"),
    count: at("count"),
  };
}

/** Rejects a file the page cannot read, naming its type, before any decoder guesses at it. */
function checkFileType(bytes: Uint8Array, name: string): void {
  const ext = name.includes(".") ? name.split(".").pop()!.toLowerCase() : "";
  const zip = bytes[0] === 0x50 && bytes[1] === 0x4b; // "PK": xlsx, zip
  if (KEY_EXT[ext] && !zip) return;
  const what = zip
    ? `a ZIP archive${/^xls/.test(ext) ? " (an Excel workbook)" : ""} is`
    : ext
    ? `.${ext} files are`
    : "a file without an extension is";
  throw new Error(
    `${name}: ${what} not supported; save it as CSV (comma, semicolon or tab separated), Parquet or Feather/Arrow`,
  );
}

async function ingest(
  bytes: Uint8Array,
  name: string,
  configText: string,
  choice: ColumnMapping = {},
): Promise<DataSummary> {
  reset();
  checkFileType(bytes, name);
  loaded = { bytes, name };
  const t0 = performance.now();
  const base = dataOptions(configText);
  // The page's choices win over the config's data.columns; unset roles are found by name (resolveColumns).
  const columns: ColumnMapping = { ...base.columns };
  for (const role of COLUMN_ROLES) if (choice[role] !== undefined) columns[role] = choice[role];
  const opts = { ...base, columns };
  // a bad file throws here: the page shows the message
  const decoded = await decodeFrame(bytes, name, { badValues: opts.badValues });
  const problems: string[] = [];
  let validated: Frame | null = null;
  try {
    validated = await loadTask(memoryStorage(name, bytes), {
      instrument: name,
      files: [{ key: name, size: bytes.length }],
    }, opts);
  } catch (e) {
    // The in-memory storage's url is ".": name the file as the user knows it.
    problems.push((e as Error).message.replace(/^\.\//, ""));
  }
  const ms = performance.now() - t0;
  input = frame = validated;
  dataOpts = opts;
  const fileColumns = [...decoded.columns.keys()];
  const mapping: DataSummary["mapping"] = resolveColumns(fileColumns, columns);
  const tsName = columns.timestamp ?? decoded.timestampColumn ?? null;
  if (tsName) mapping.timestamp = tsName;
  const renamed = !!columns.timestamp ||
    Object.entries(mapping).some(([role, col]) => role !== "timestamp" && role !== col);
  // The loader reads the file again: a file whose columns were renamed goes as its validated frame (f64).
  source = !validated ? null : renamed ? frameSource(validated) : loaderSource(bytes, name);
  tf = validated ? asLoaded(validated) : null;
  const tsCols = decoded.timestampColumn ? [decoded.timestampColumn] : [];
  summary = describe(validated ?? decoded, name, bytes.length, ms, problems, mapping, [
    ...tsCols,
    ...fileColumns,
  ]);
  summary.dialect = KEY_EXT[name.split(".").pop()!.toLowerCase()] === "csv" ? dialectText(bytes) : null;
  return summary;
}

const DATE_ORDERS = {
  YMD: "year first (YYYY/MM/DD)",
  DMY: "day first (DD.MM.YYYY)",
  MDY: "month first (MM/DD/YYYY)",
};

/** How io/csv_dialect.ts reads a CSV file, in words: the delimiter, and the date order it chose and why. */
function dialectText(bytes: Uint8Array): string {
  const d = csvDialect(new TextDecoder().decode(bytes));
  const sep = { ",": "comma", ";": "semicolon", "\t": "tab", "|": "'|'" }[d.delimiter] ?? d.delimiter;
  const dates = d.dates
    ? `; dates read ${DATE_ORDERS[d.dates]}${
      d.ambiguous ? ", by convention: no day above 12 tells the order" : ", the only order every row allows"
    }`
    : "";
  return `${sep}-separated${dates}`;
}

/** Bars more than one bar length after the previous one: the number of such gaps and the bars they miss. */
function countGaps(ts: Float64Array, every: number): { gaps: number; missingBars: number } {
  let gaps = 0, missingBars = 0;
  for (let i = 1; i < ts.length; i++) {
    const d = Math.round((ts[i] - ts[i - 1]) / every);
    if (d > 1) {
      gaps++;
      missingBars += d - 1;
    }
  }
  return { gaps, missingBars };
}

/** The grid's frame: the last run's columns when there is one, else the frame the engines would run on. */
function gridFrame(): { ts: Float64Array; name: string; columns: [string, Float64Array][] } | null {
  if (last) return { ts: last.timestamps, name: last.timestampColumn, columns: Object.entries(last.columns) };
  if (frame?.timestamps) {
    return { ts: frame.timestamps, name: frame.timestampColumn!, columns: [...frame.columns] };
  }
  return null;
}

/** The grid's sort order (row numbers), cached per column and direction; NaN last in both directions. */
let gridOrder: { key: string; order: Uint32Array; of: unknown } | null = null;
function sortedRows(column: string | null, desc: boolean): Uint32Array | null {
  const g = gridFrame();
  if (!g || column === null) return null;
  const key = `${column}:${desc}`;
  if (gridOrder?.key === key && gridOrder.of === g.ts) return gridOrder.order;
  const v = column === g.name ? g.ts : g.columns.find(([n]) => n === column)?.[1];
  if (!v) throw new Error(`no column ${column}`);
  const order = Uint32Array.from({ length: v.length }, (_, i) => i);
  const sign = desc ? -1 : 1;
  order.sort((a, b) => {
    const x = v[a], y = v[b];
    if (Number.isNaN(x)) return Number.isNaN(y) ? a - b : 1;
    if (Number.isNaN(y)) return -1;
    return sign * (x - y) || a - b;
  });
  gridOrder = { key, order, of: g.ts };
  return order;
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

/** See `api.timeframe`. */
async function setTimeframe(
  every: string | null,
  backend: "webgpu" | "cpu",
  configText: string,
): Promise<TimeframeInfo> {
  if (!input || !summary) {
    throw new Error(summary ? "the data did not pass validation; load another file" : "load a file first");
  }
  last = null;
  if (every === null) {
    frame = input;
    tf = asLoaded(input);
    tfBackend = null;
    return tf;
  }
  if (!source) throw new Error(`${summary.name}: the loader does not read this file type`);
  let config: Config;
  try {
    config = loadConfig(configText, { env: () => undefined, source: "config" });
  } catch {
    config = loadConfig("", { env: () => undefined });
  }
  const c = await compute(backend, config);
  const t0 = performance.now();
  const r = await load(source.storage, source.instrument, every, {
    cache: null,
    formats: ["parquet", "feather", "arrow", "csv"],
    timestampColumn: source.renamed ? "timestamp" : dataOpts?.timestampColumn,
    denyColumns: dataOpts?.denyColumns,
    compute: c,
  });
  const f = r.frame;
  f.source = summary.name;
  const ms = performance.now() - t0;
  const partial = f.columns.get("partial");
  const every_ms = resolveResample({ every }).every;
  frame = f;
  tfBackend = backend;
  tf = {
    every,
    bars: f.rows,
    inputRows: r.inputRows,
    partial: !!(partial && f.rows && partial[f.rows - 1] === 1),
    ...countGaps(f.timestamps!, every_ms),
    backend: c.gpu ? "webgpu" : "cpu",
    last: lastBar(f),
    ms,
  };
  return tf;
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
  load(bytes: Uint8Array, name: string, configText: string, mapping?: ColumnMapping): Promise<DataSummary> {
    return ingest(bytes, name, configText, mapping);
  },

  /** Validates the loaded file again with the page's column mapping (role -> column; null: by name). */
  remap(mapping: ColumnMapping, configText: string): Promise<DataSummary> {
    if (!loaded) throw new Error("load a file first");
    return ingest(loaded.bytes, loaded.name, configText, mapping);
  },

  /**
   * Stops the running engines: the progress callback throws at its next call (between WebGPU batches) and the
   * GPU device is destroyed, so no queued work keeps the GPU busy. The page then starts a fresh worker.
   */
  cancel(): void {
    cancelled = true;
    gpu?.then((c) => c.gpu?.destroy()).catch(() => {});
  },

  /**
   * Demo data: the first `rows` bars of the CLI generator's first instrument (`generate --kind bars`, seed),
   * generated here and checked like a file.
   */
  demo(rows: number, seed: number): DataSummary {
    reset();
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
    input = frame = f;
    tf = asLoaded(f);
    dataOpts = { denyColumns: [], timestampColumn: "timestamp" };
    loaded = null;
    // The loader reads files: the demo bars as an uncompressed Feather file in memory.
    const ts = { name: "timestamp", values: b.timestamp };
    const bytes = encodeFeather(f.columns, ts, "none");
    source = { storage: memoryStorage("demo/file.feather", bytes), instrument: "demo" };
    const names = [...f.columns.keys()];
    summary = describe(f, f.source, 0, performance.now() - t0, [], {
      ...resolveColumns(names),
      timestamp: "timestamp",
    }, ["timestamp", ...names]);
    return summary;
  },

  /**
   * The timeframe the engines run on: `every` null for the data as loaded, else ("5min", "1h", ...) the CLI
   * loader's `load(source, instrument, every)` over the loaded file (an in-memory storage, no disk cache):
   * read, validated and resampled by kernels/resample.ts on `backend` (WebGPU: f32 reductions; CPU: f64).
   */
  timeframe(every: string | null, backend: "webgpu" | "cpu", configText: string): Promise<TimeframeInfo> {
    return setTimeframe(every, backend, configText);
  },

  /**
   * Runs the enabled engines (pipeline.engines order) on the loaded data with the config text, exactly as
   * `deno task run` does for one task; `progress` hears each engine as it starts and, inside long steps, work
   * done of the total (at most ~8 times a second).
   */
  async run(
    configText: string,
    backend: "webgpu" | "cpu",
    progress?: (p: RunProgress) => void,
  ): Promise<RunResult> {
    cancelled = false;
    if (!frame || !summary) {
      throw new Error(summary ? "the data did not pass validation; load another file" : "load a file first");
    }
    // Resampled on the other backend: resample again on this one, as the CLI would.
    if (tf?.every && tfBackend !== backend) await setTimeframe(tf.every, backend, configText);
    const config = loadConfig(configText, { env: () => undefined, source: "config" });
    const engines = enabledEngines(config);
    const c = await compute(backend, config);
    const t0 = performance.now();
    const added: RunResult["added"] = [];
    const reports: RunResult["reports"] = {};
    const engines_ms: Record<string, number> = {};
    const columns = await runEngines(frame, engines, config, c, {
      progress: (engine) => {
        progress?.({ engine: engine.name });
        let sent = 0;
        return (done: number, total: number, unit: string) => {
          if (cancelled) throw new Error("cancelled");
          const now = performance.now();
          if (done < total && now - sent < 120) return; // Comlink messages: a few per second are enough
          sent = now;
          progress?.({ engine: engine.name, done, total, unit });
        };
      },
      done: (step) => {
        const { engine, result, ms } = step;
        recordReport(reports, step);
        for (const k of result.columns.keys()) added.push({ name: k, engine: engine.name });
        engines_ms[engine.name] = ms;
      },
    });
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

  /** What the rows grid shows: its row count and columns (see {@link GridInfo}). */
  grid(): GridInfo | null {
    const g = gridFrame();
    return g ? { rows: g.ts.length, timestampColumn: g.name, columns: g.columns.map(([n]) => n) } : null;
  },

  /** `count` rows of the grid from position `start`, in time order or sorted by `sort` (a column name). */
  gridRows(start: number, count: number, sort: string | null, desc: boolean): GridRows {
    const g = gridFrame();
    if (!g) return { rows: [], timestamps: [], values: [] };
    const order = sortedRows(sort, desc);
    const end = Math.min(g.ts.length, start + count);
    const rows: number[] = [];
    for (let i = Math.max(0, start); i < end; i++) rows.push(order ? order[i] : i);
    return {
      rows,
      timestamps: rows.map((r) => g.ts[r]),
      values: g.columns.map(([, v]) => rows.map((r) => v[r])),
    };
  },

  /** The first row (time order) at or after `ms` (epoch ms); the last row when all are before it. */
  gridFind(ms: number): number {
    const ts = gridFrame()?.ts;
    if (!ts?.length) return 0;
    let lo = 0, hi = ts.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (ts[m] < ms) lo = m + 1;
      else hi = m;
    }
    return Math.min(lo, ts.length - 1);
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
        timeframe: tf?.every ?? "as loaded",
        input_rows: tf?.inputRows ?? last.rows,
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
