/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The exploration page (web/index.html): file input, config editor, plots, ranking and exports. Everything
 * that computes runs in web/worker.ts (Comlink), so this thread only draws.
 *
 * For tests and the curious, `window.__fg` holds the page state: `status` (starting | ready | loading |
 * resampling | loaded | running | done | error), the adapter, the data summary, the timeframe the engines run
 * on (bars, partial last bar, gaps, the last bar), the last run's result (every column) and the last error
 * message; `document.body.dataset.status` mirrors `status`.
 */
import * as Comlink from "npm:comlink@4.4.2";
import uPlot from "npm:uplot@1.6.32";
import type { RankedFeature, SelectionReport } from "../engines/statistical_tests.ts";
import type { AdapterInfo, DataSummary, RunResult, TimeframeInfo, WorkerApi } from "./worker.ts";

type Status = "starting" | "ready" | "loading" | "resampling" | "loaded" | "running" | "done" | "error";

/** The page state exposed as `window.__fg`. */
export interface PageState {
  status: Status;
  adapter: AdapterInfo | null;
  summary: DataSummary | null;
  /** The frame the engines run on: as loaded, or resampled by the CLI's loader (the timeframe selector). */
  timeframe: TimeframeInfo | null;
  result: RunResult | null;
  error: string | null;
  /** Completed runs since the page loaded. */
  runs: number;
  /** Incremented on every status change (a test waits for a change after its action). */
  seq: number;
  /** The x (time) range of every plot, in seconds: the plots zoom together. */
  xRanges: () => [number | undefined, number | undefined][];
}

const state: PageState = {
  status: "starting",
  adapter: null,
  summary: null,
  timeframe: null,
  result: null,
  error: null,
  runs: 0,
  seq: 0,
  xRanges: () => plots.map((p) => [p.scales.x.min, p.scales.x.max]),
};
(globalThis as unknown as { __fg: PageState }).__fg = state;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const el = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string>> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
};

function setStatus(s: Status): void {
  state.status = s;
  state.seq++;
  document.body.dataset.status = s;
}

// ---------------------------------------------------------------- formatting

const fmt = (v: number | null | undefined, digits = 6): string => {
  if (v === null || v === undefined || Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e7 || a < 1e-4)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
};
const fmtP = (p: number) => (Number.isNaN(p) ? "NaN" : p < 0.001 ? p.toExponential(1) : p.toFixed(3));
const fmtInt = (v: number) => v.toLocaleString("en-US");
const fmtTime = (ms: number | null) =>
  ms === null ? "—" : new Date(ms).toISOString().replace("T", " ").replace(/:00\.000Z$|\.000Z$/, "Z");
const fmtBytes = (b: number) =>
  b < 1024 ? `${b} B` : b < 1024 ** 2 ? `${(b / 1024).toFixed(1)} KiB` : `${(b / 1024 ** 2).toFixed(1)} MiB`;

// ---------------------------------------------------------------- worker

let worker: Worker;
let api: Comlink.Remote<WorkerApi>;

/** Starts (or restarts, after a cancelled run) the compute worker. */
async function startWorker(): Promise<void> {
  worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "feature-genesis" });
  worker.addEventListener("error", (e) => {
    showError(dataError, new Error(`the worker failed: ${e.message}`));
    setStatus("error");
  });
  api = Comlink.wrap<WorkerApi>(worker);
  await api.setLogger(Comlink.proxy(logLine));
}

const logBox = $("log");
function logLine(level: string, msg: string, fields: Record<string, unknown> = {}): void {
  const extra = Object.keys(fields).length ? " " + JSON.stringify(fields) : "";
  logBox.textContent += `${new Date().toISOString().slice(11, 23)} ${level}: ${msg}${extra}\n`;
  logBox.scrollTop = logBox.scrollHeight;
}

function showError(box: HTMLElement, e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  box.textContent = msg;
  box.hidden = false;
  state.error = msg;
  logLine("error", msg);
  return msg;
}

// ---------------------------------------------------------------- adapter

const backendSelect = $<HTMLSelectElement>("backend");
async function detectAdapter(): Promise<void> {
  const badge = $("adapter");
  const a = await api.adapter();
  state.adapter = a;
  const gpuOption = backendSelect.options[0];
  if (a.webgpu) {
    badge.textContent = `WebGPU: ${a.name}`;
    badge.title = a.detail;
    badge.className = "badge gpu";
    gpuOption.textContent = `WebGPU (${a.name})`;
    backendSelect.value = "webgpu";
    logLine("info", `WebGPU adapter: ${a.name}${a.detail ? ` [${a.detail}]` : ""}`);
    if (a.software) {
      $("backend-note").textContent =
        "A software adapter: slower than the CPU path. The example's dCor tests " +
        "(selection_max_samples 5000 x 199 permutations) take minutes here; lower them or pick the CPU.";
    }
  } else {
    badge.textContent = "No WebGPU: running on the CPU (f64)";
    badge.title = a.name;
    badge.className = "badge cpu";
    gpuOption.disabled = true;
    gpuOption.textContent = "WebGPU (not available)";
    backendSelect.value = "cpu";
    logLine("warn", `no WebGPU (${a.name}); the engines run on the f64 CPU path`);
  }
}

// ---------------------------------------------------------------- config

const configBox = $<HTMLTextAreaElement>("config");
let exampleConfig = "";
async function loadExampleConfig(): Promise<void> {
  const r = await fetch(new URL("../config.yaml", import.meta.url));
  exampleConfig = r.ok ? await r.text() : "features:\n  columns: [close]\n";
  configBox.value = exampleConfig;
}
$("reset-config").addEventListener("click", () => (configBox.value = exampleConfig));

// ---------------------------------------------------------------- data

const dataError = $("data-error");
const runButton = $<HTMLButtonElement>("run");
const runStatus = $("run-status");

function clearResults(): void {
  state.result = null;
  for (const id of ["plots-card", "ranking-card", "export-card"]) $(id).hidden = true;
  for (const p of plots) p.destroy();
  plots = [];
  $("plots").replaceChildren();
  $("timings").hidden = true;
  $("run-error").hidden = true;
}

function renderSummary(s: DataSummary): void {
  const box = $("data-summary");
  const meta = el(
    "div",
    { class: "meta" },
    el("span", {}, "File ", el("b", { id: "data-name", text: s.name })),
    el("span", {}, el("b", { id: "data-rows", text: fmtInt(s.rows) }), " rows"),
    el("span", {}, el("b", { text: String(s.columns.length) }), " numeric columns"),
    el(
      "span",
      {},
      "from ",
      el("b", { id: "data-first", text: fmtTime(s.first) }),
      " to ",
      el("b", { id: "data-last", text: fmtTime(s.last) }),
    ),
    el(
      "span",
      { class: "hint" },
      s.bytes ? fmtBytes(s.bytes) : "generated in the browser",
      ` · ${Math.round(s.ms)} ms`,
    ),
  );
  const valid = s.problems.length === 0
    ? el(
      "p",
      { id: "validation", class: "ok" },
      "✓ Passes the CLI's checks (increasing timestamps, OHLC, volume).",
    )
    : el(
      "div",
      { id: "validation", class: "error" },
      el("b", {}, "Validation problem — the CLI would reject this file:"),
      ...s.problems.map((p) => el("div", {}, p)),
    );
  const head = el(
    "tr",
    {},
    ...["column", "min", "max", "missing"].map((h, i) => el("th", { class: i ? "num" : "" }, h)),
  );
  const rows = s.columns.map((c) =>
    el(
      "tr",
      {},
      el("td", {}, c.name),
      el("td", { class: "num" }, fmt(c.min)),
      el("td", { class: "num" }, fmt(c.max)),
      el("td", { class: "num" }, fmtInt(c.missing)),
    )
  );
  const ts = s.timestampColumn
    ? el("p", { class: "hint" }, `Timestamp column: ${s.timestampColumn}`)
    : el("p", { class: "problem" }, "No timestamp column.");
  const skipped = s.skipped.length
    ? el("p", { class: "hint" }, "Not loaded: " + s.skipped.map((k) => `${k.name} (${k.reason})`).join("; "))
    : "";
  box.replaceChildren(
    meta,
    valid,
    ts,
    el("table", { class: "compact", id: "data-columns" }, head, ...rows),
    skipped,
  );
}

// ---------------------------------------------------------------- timeframe

const timeframeSelect = $<HTMLSelectElement>("timeframe");
const timeframeRow = $("timeframe-row");
const timeframeInfo = $("timeframe-info");

function renderTimeframe(t: TimeframeInfo): void {
  const b = (id: string, text: string) => el("b", { id, text });
  if (t.every === null) {
    timeframeInfo.replaceChildren(
      el("span", {}, b("tf-bars", fmtInt(t.bars)), " bars as loaded (no resampling)"),
    );
    return;
  }
  timeframeInfo.replaceChildren(
    el("span", {}, b("tf-bars", fmtInt(t.bars)), ` ${t.every} bars from ${fmtInt(t.inputRows)} rows`),
    el(
      "span",
      { title: "The data end before the last bar does (its partial column is 1)" },
      "last bar ",
      b("tf-partial", t.partial ? "partial" : "complete"),
    ),
    el(
      "span",
      {
        title: "Places where consecutive bars are more than one bar apart (gaps stay gaps: no invented bars)",
      },
      b("tf-gaps", fmtInt(t.gaps)),
      ` gap${t.gaps === 1 ? "" : "s"} (${fmtInt(t.missingBars)} empty bars)`,
    ),
    el(
      "span",
      { class: "hint" },
      `the CLI's loader on ${t.backend === "webgpu" ? "WebGPU" : "the CPU (f64)"} · ${Math.round(t.ms)} ms`,
    ),
  );
}

/** Resamples the loaded data to the selected timeframe (in the worker, with the CLI's loader). */
async function applyTimeframe(): Promise<boolean> {
  const every = timeframeSelect.value || null;
  const backend = backendSelect.value as "webgpu" | "cpu";
  state.timeframe = null;
  timeframeInfo.textContent = every ? `Resampling to ${every}…` : "";
  const t = await api.timeframe(every, backend, configBox.value);
  state.timeframe = t;
  renderTimeframe(t);
  logLine(
    "info",
    every
      ? `resampled to ${every} on ${t.backend}: ${t.bars} bars from ${t.inputRows} rows, ` +
        `last bar ${t.partial ? "partial" : "complete"}, ${t.gaps} gaps`
      : `timeframe: as loaded (${t.bars} rows)`,
  );
  return true;
}

/** The selector (or the backend, which the resampling runs on) changed: resample, and clear the old run. */
async function changeTimeframe(): Promise<void> {
  if (!state.summary || state.summary.problems.length > 0 || state.status === "running") return;
  dataError.hidden = true;
  state.error = null;
  clearResults();
  runButton.disabled = true;
  setStatus("resampling");
  runStatus.textContent = "Resampling…";
  runStatus.className = "status busy";
  try {
    await applyTimeframe();
    runButton.disabled = false;
    runStatus.textContent = "Ready to run.";
    setStatus("loaded");
  } catch (e) {
    showError(dataError, e);
    timeframeInfo.textContent = "";
    runStatus.textContent = "Pick another timeframe or load another file.";
    setStatus("error");
  } finally {
    runStatus.className = "status";
  }
}
timeframeSelect.addEventListener("change", () => changeTimeframe());
backendSelect.addEventListener("change", () => {
  if (timeframeSelect.value) changeTimeframe();
});

async function ingest(what: string, load: () => Promise<DataSummary>): Promise<void> {
  dataError.hidden = true;
  state.error = null;
  clearResults();
  state.summary = null;
  state.timeframe = null;
  timeframeRow.hidden = true;
  timeframeInfo.replaceChildren();
  $("data-summary").replaceChildren();
  runButton.disabled = true;
  setStatus("loading");
  runStatus.textContent = `Reading ${what}…`;
  runStatus.className = "status busy";
  try {
    const s = await load();
    state.summary = s;
    renderSummary(s);
    logLine("info", `loaded ${s.name}: ${s.rows} rows, ${s.columns.length} columns`);
    if (s.problems.length === 0) {
      timeframeRow.hidden = false;
      await applyTimeframe(); // the selected timeframe carries over to the next file
    }
    runButton.disabled = s.problems.length > 0;
    runStatus.textContent = s.problems.length ? "Fix the data to run the engines." : "Ready to run.";
    setStatus("loaded");
  } catch (e) {
    showError(dataError, e);
    runStatus.textContent = "Load another file.";
    setStatus("error");
  } finally {
    runStatus.className = "status";
  }
}

/** What was loaded last, to load it again into a restarted worker. */
let lastSource: (() => Promise<void>) | null = null;

async function openFile(file: File): Promise<void> {
  lastSource = () => openFile(file);
  await ingest(file.name, async () => {
    const bytes = new Uint8Array(await file.arrayBuffer());
    return await api.load(Comlink.transfer(bytes, [bytes.buffer]), file.name, configBox.value);
  });
}

const fileInput = $<HTMLInputElement>("file");
fileInput.addEventListener("change", () => {
  const f = fileInput.files?.[0];
  if (f) openFile(f).finally(() => (fileInput.value = ""));
});
const drop = $("drop");
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  const f = e.dataTransfer?.files?.[0];
  if (f) openFile(f);
});
// A file dropped elsewhere must not navigate away from the page.
globalThis.addEventListener("dragover", (e) => e.preventDefault());
globalThis.addEventListener("drop", (e) => e.preventDefault());

$("demo").addEventListener("click", () => {
  const rows = Math.max(
    200,
    Math.min(2_000_000, Math.round(Number($<HTMLInputElement>("demo-rows").value) || 20000)),
  );
  lastSource = () => ingest(`${rows} demo bars`, () => api.demo(rows, 42));
  lastSource();
});

// ---------------------------------------------------------------- run

runButton.addEventListener("click", () => run());

class Cancelled extends Error {}
let cancel: (() => void) | null = null;
const cancelButton = $<HTMLButtonElement>("cancel");
cancelButton.addEventListener("click", () => cancel?.());

async function run(): Promise<void> {
  const runError = $("run-error");
  runError.hidden = true;
  state.error = null;
  clearResults();
  runButton.disabled = true;
  setStatus("running");
  runStatus.className = "status busy";
  const backend = backendSelect.value as "webgpu" | "cpu";
  runStatus.textContent = `Starting on ${backend === "webgpu" ? "WebGPU" : "the CPU"}…`;
  const t0 = performance.now();
  const cancelled = new Promise<never>((_, reject) => (cancel = () => reject(new Cancelled())));
  cancelButton.hidden = false;
  try {
    const r = await Promise.race([
      api.run(
        configBox.value,
        backend,
        Comlink.proxy((engine: string) => {
          runStatus.textContent = `Running ${engine}… (${((performance.now() - t0) / 1000).toFixed(1)} s)`;
        }),
      ),
      cancelled,
    ]);
    state.result = r;
    state.runs++;
    const bars = state.timeframe?.every ? `${state.timeframe.every} bars` : "rows";
    runStatus.textContent = `Done: ${Object.keys(r.engines_ms).length} engines on ${
      r.backend === "webgpu" ? `WebGPU (${r.adapter})` : "the CPU (f64)"
    } over ${fmtInt(r.rows)} ${bars} in ${fmtInt(r.total_ms)} ms, ${r.added.length} new columns.`;
    renderTimings(r);
    renderPlots(r);
    renderColumns(r);
    renderRanking(r);
    $("export-card").hidden = false;
    logLine("info", `run done: ${JSON.stringify(r.engines_ms)}`);
    setStatus("done");
  } catch (e) {
    if (e instanceof Cancelled) {
      // A running kernel cannot be interrupted: stop the worker, start a fresh one and load the data again.
      worker.terminate();
      logLine("info", "run cancelled; restarting the worker");
      await startWorker();
      await lastSource?.();
      runStatus.textContent = "Cancelled. Edit the config and run again.";
    } else {
      showError(runError, e);
      runStatus.textContent = "The run failed; fix the config or load another file.";
      setStatus("error");
    }
  } finally {
    cancel = null;
    cancelButton.hidden = true;
    runStatus.className = "status";
    runButton.disabled = !state.summary || state.summary.problems.length > 0;
  }
}

function renderTimings(r: RunResult): void {
  const t = $("timings");
  const rows = Object.entries(r.engines_ms).map(([k, v]) =>
    el("tr", { "data-engine": k }, el("td", {}, k), el("td", { class: "num" }, `${fmtInt(v)} ms`))
  );
  t.replaceChildren(
    el("tr", {}, el("th", {}, `engine (${r.backend})`), el("th", { class: "num" }, "time")),
    ...rows,
    el(
      "tr",
      {},
      el("td", {}, el("b", {}, "total")),
      el("td", { class: "num", id: "total-ms" }, `${fmtInt(r.total_ms)} ms`),
    ),
  );
  t.hidden = false;
}

// ---------------------------------------------------------------- plots

const PALETTE = [
  "#2563eb",
  "#ea580c",
  "#16a34a",
  "#dc2626",
  "#9333ea",
  "#0891b2",
  "#ca8a04",
  "#db2777",
  "#4b5563",
];
const MAX_POINTS = 60_000;
let plots: uPlot[] = [];
let syncing = false;

interface Group {
  title: string;
  series: { name: string; scale: string }[];
  axes: Record<string, string>;
  /** A thin panel under the previous one (no time axis labels). */
  compact?: boolean;
}

function groups(r: RunResult): Group[] {
  const added = r.added.map((a) => a.name).filter((n) => !n.startsWith("y_"));
  const used = new Set<string>();
  const take = (re: RegExp) => added.filter((n) => re.test(n) && !used.has(n) && used.add(n));
  const priced = r.features.columns.filter((c) => r.inputColumns.includes(c));
  const windows = (r.reports.stationarization?.ffd_window ?? {}) as Record<string, number>;
  const fd = take(/_fd_[\d.]+$/).map((name): Group => {
    const d = name.slice(name.lastIndexOf("_") + 1);
    const empty = !r.columns[name].some(Number.isFinite);
    return {
      title: empty
        ? `${name}: all NaN, its FFD window (${fmtInt(windows[d] ?? NaN)} weights) exceeds the rows`
        : "",
      series: [{ name, scale: "fd" }],
      axes: { fd: `FFD d = ${d}` },
      compact: true,
    };
  });
  const out: Group[] = [
    {
      title: `Price${
        fd.length ? " and its fractional differences (of log price; each d on its own scale)" : ""
      }`,
      series: priced.map((name) => ({ name, scale: "price" })),
      axes: { price: "price" },
    },
    ...fd,
    {
      title: "Rolling z-scores",
      series: take(/_z_\d+$/).map((name) => ({ name, scale: "z" })),
      axes: { z: "z" },
    },
    {
      title: "Baxter-King cycle (log price)",
      series: take(/_bk_/).map((name) => ({ name, scale: "bk" })),
      axes: { bk: "cycle" },
    },
    {
      title: "GARCH(1,1) conditional volatility",
      series: take(/_garch_vol$/).map((name) => ({ name, scale: "vol" })),
      axes: { vol: "% per bar (log scale)" },
    },
  ];
  return out.filter((g) => g.series.length > 0);
}

function renderPlots(r: RunResult): void {
  const box = $("plots");
  const step = Math.max(1, Math.ceil(r.rows / MAX_POINTS));
  const idx = Array.from({ length: Math.ceil(r.rows / step) }, (_, i) => i * step);
  const xs = idx.map((i) => r.timestamps[i] / 1000);
  const series = (name: string) => {
    const v = r.columns[name];
    return idx.map((i) => (Number.isFinite(v[i]) ? v[i] : null));
  };
  const zoomSync: uPlot.Hooks.Defs["setScale"] = (u, key) => {
    if (key !== "x" || syncing) return;
    syncing = true;
    for (const o of plots) if (o !== u) o.setScale("x", { min: u.scales.x.min!, max: u.scales.x.max! });
    syncing = false;
  };
  const make = (g: Group, holder: HTMLElement, color = 0): uPlot => {
    const scales = [...new Set(g.series.map((s) => s.scale))];
    const opts: uPlot.Options = {
      width: Math.max(320, box.clientWidth || 900),
      height: g.compact ? 110 : 220,
      cursor: { sync: { key: "fg" }, drag: { x: true, y: false } },
      scales: { x: { time: true }, vol: { distr: 3 } },
      series: [
        {},
        ...g.series.map((s, i) => ({
          label: s.name,
          scale: s.scale,
          stroke: s.scale === "price" ? "#111827" : PALETTE[(color + i) % PALETTE.length],
          width: s.scale === "price" ? 1.5 : 1,
          value: (_u: uPlot, v: number | null) => (v === null ? "—" : fmt(v, 5)),
        })),
      ],
      axes: [
        g.compact ? { size: 8, values: () => [] } : {},
        ...scales.map((sc, i) => ({
          scale: sc,
          label: g.axes[sc],
          side: i === 0 ? 3 : 1,
          grid: { show: i === 0 },
          size: 62,
          // Linear axes: short numbers (uPlot's own labels read 0 / -0 for ±2e-4); the log axis keeps uPlot's.
          ...(sc === "vol" ? {} : { values: (_u: uPlot, splits: number[]) => splits.map((v) => fmt(v, 3)) }),
        })),
      ],
      legend: { show: true },
      hooks: { setScale: [zoomSync] },
    };
    const u = new uPlot(opts, [xs, ...g.series.map((s) => series(s.name))] as uPlot.AlignedData, holder);
    const [min, max] = [plots[0]?.scales.x.min, plots[0]?.scales.x.max];
    if (min !== undefined && max !== undefined) u.setScale("x", { min, max }); // join the current zoom
    return u;
  };
  const all = groups(r);
  for (const g of all) {
    const holder = el(
      "div",
      { class: g.compact ? "plot compact" : "plot" },
      ...(g.title ? [el("h3", { text: g.title })] : []),
    );
    box.append(holder);
    plots.push(make(g, holder, g.compact ? plots.length : 0));
  }

  // Any other column, one at a time on its own axis (log stabilization, correlations, feature sets, inputs...).
  const shown = new Set(all.flatMap((g) => g.series.map((s) => s.name)));
  const names = [...r.added.map((a) => a.name), ...r.inputColumns];
  const first = names.find((n) => !shown.has(n) && !n.startsWith("y_")) ?? names[0];
  const select = el("select", { id: "explore-column", "aria-label": "column to plot" });
  select.append(...names.map((n) => el("option", { value: n }, n)));
  select.value = first;
  const chart = el("div");
  box.append(el("div", { class: "plot" }, el("h3", {}, "Any column: ", select), chart));
  let current = make({ title: "", series: [{ name: first, scale: "y" }], axes: { y: "" } }, chart, 4);
  plots.push(current);
  select.addEventListener("change", () => {
    const at = plots.indexOf(current);
    current.destroy();
    plots.splice(at, 1);
    current = make({ title: "", series: [{ name: select.value, scale: "y" }], axes: { y: "" } }, chart, 4);
    plots.splice(at, 0, current);
  });

  if (step > 1) {
    box.append(
      el("p", { class: "hint" }, `Plots show every ${step}th row (${fmtInt(idx.length)} points per series).`),
    );
  }
  $("plots-card").hidden = false;
}

new ResizeObserver(() => {
  const w = $("plots").clientWidth;
  for (const p of plots) if (w > 0 && Math.abs(p.width - w) > 4) p.setSize({ width: w, height: p.height });
}).observe($("plots"));

function renderColumns(r: RunResult): void {
  const head = el(
    "tr",
    {},
    ...["column", "engine", "finite values", "last value", "min", "max"].map((h, i) =>
      el("th", { class: i > 1 ? "num" : "" }, h)
    ),
  );
  const rows = r.added.map(({ name, engine }) => {
    const v = r.columns[name];
    let n = 0, min = Infinity, max = -Infinity, lastV = NaN;
    for (const x of v) {
      if (!Number.isFinite(x)) continue;
      n++;
      lastV = x;
      if (x < min) min = x;
      if (x > max) max = x;
    }
    return el(
      "tr",
      { "data-column": name },
      el("td", {}, name),
      el("td", {}, engine),
      el("td", { class: "num" }, fmtInt(n)),
      el("td", { class: "num", "data-field": "last", "data-value": String(lastV) }, fmt(lastV)),
      el("td", { class: "num" }, n ? fmt(min) : "—"),
      el("td", { class: "num" }, n ? fmt(max) : "—"),
    );
  });
  $("columns").replaceChildren(head, ...rows);
}

// ---------------------------------------------------------------- ranking

type Ranked = RankedFeature;

const RANK_COLUMNS: { key: keyof Ranked | "rank" | "selected" | "note"; label: string; title: string }[] = [
  { key: "rank", label: "#", title: "rank by dCor" },
  { key: "feature", label: "feature", title: "column" },
  { key: "dcor", label: "dCor", title: "distance correlation with the target (V-statistic)" },
  { key: "dcor2_bc", label: "dCor² (bc)", title: "bias-corrected squared dCor" },
  { key: "p_value", label: "p-value", title: "permutation test p-value" },
  { key: "q_value", label: "q-value", title: "Benjamini-Hochberg q-value (FDR) among the ranked features" },
  { key: "n", label: "n", title: "rows used" },
  { key: "rolling_mean", label: "window mean", title: "mean dCor over consecutive windows" },
  { key: "rolling_stability", label: "stability", title: "1 - sd/mean of the windowed dCor" },
  { key: "selected", label: "top-k", title: "selected (dcor_top_k, after the filters)" },
  { key: "note", label: "filter", title: "why the selection filters dropped it" },
];
let sortKey: (typeof RANK_COLUMNS)[number]["key"] = "rank";
let sortDir = 1;

function renderRanking(r: RunResult): void {
  const rep = r.reports.statistical_tests as unknown as SelectionReport | undefined;
  if (!rep?.ranking) return;
  const selected = new Set(rep.selected);
  const notes = new Map((rep.filters?.dropped ?? []).map((d) => [
    d.feature,
    d.stage === "correlation" ? `≈ ${d.duplicate_of}` : `${d.stage} ${fmt(d.variance ?? NaN, 3)}`,
  ]));
  const noteTitles = new Map((rep.filters?.dropped ?? []).map((d) => [
    d.feature,
    d.stage === "correlation"
      ? `dropped: correlation ${fmt(d.corr ?? NaN, 4)} with ${d.duplicate_of}, which ranks higher`
      : `dropped: variance ${fmt(d.variance ?? NaN, 4)} at or under selection_variance_threshold`,
  ]));
  const ranked = rep.ranking.map((x, i) => ({
    ...x,
    rank: i + 1,
    selected: selected.has(x.feature) ? 1 : 0,
    note: notes.get(x.feature) ?? "",
  }));
  const f = rep.filters;
  const perm = rep.permutation;
  const excluded = rep.excluded.map((e) => `${e.feature} (${e.reason})`);
  $("ranking-hint").textContent =
    `Distance correlation of every ranked feature with the target ${rep.target} ` +
    `on the same ${fmtInt(rep.rows)} rows (the latest with a target where every ranked feature is finite); ` +
    `p-values from ${perm.permutations} ${
      perm.scheme === "circular_shift"
        ? `circular shifts of the target (at least ${perm.min_block} rows)`
        : "iid permutations"
    }.` +
    (excluded.length ? ` Not ranked: ${excluded.join("; ")}.` : "") +
    (f ? ` The selection filters kept ${f.kept.length} of ${f.candidates} features.` : "") +
    ` Click a column header to sort.`;

  const maxD = Math.max(...ranked.map((x) => (Number.isFinite(x.dcor) ? x.dcor : 0)), 1e-12);
  const bars = ranked.map((x) =>
    el(
      "div",
      { class: "bar-row", title: `${x.feature}: dCor ${fmt(x.dcor)}, p = ${fmtP(x.p_value)}` },
      el("span", { class: "bar-name", text: x.feature }),
      el(
        "div",
        { class: "bar-track" },
        el("div", {
          class: `bar-fill${x.p_value <= 0.05 ? "" : " insignificant"}`,
          style: `width: ${Number.isFinite(x.dcor) ? (100 * x.dcor / maxD).toFixed(2) : 0}%`,
        }),
      ),
      el("span", { class: "bar-value", text: fmt(x.dcor, 3) }),
    )
  );
  $("rank-bars").replaceChildren(
    el(
      "div",
      { class: "hint" },
      "dCor with the target:",
      el("span", { class: "legend-key", style: "background: var(--accent)" }),
      "p ≤ 0.05",
      el("span", { class: "legend-key", style: "background: #9aa5b5" }),
      "p > 0.05",
    ),
    ...bars,
  );

  const table = $("ranking");
  const draw = () => {
    const rows = [...ranked].sort((a, b) => {
      const av = a[sortKey as keyof typeof a], bv = b[sortKey as keyof typeof b];
      if (typeof av === "string" || typeof bv === "string") {
        return sortDir * String(av).localeCompare(String(bv));
      }
      const an = Number(av ?? NaN), bn = Number(bv ?? NaN);
      if (Number.isNaN(an)) return Number.isNaN(bn) ? 0 : 1;
      if (Number.isNaN(bn)) return -1;
      return sortDir * (an - bn);
    });
    const head = el(
      "tr",
      {},
      ...RANK_COLUMNS.map((c) => {
        const th = el(
          "th",
          { title: c.title, class: c.key === "feature" || c.key === "note" ? "" : "num", "data-key": c.key },
          c.label,
        );
        if (c.key === sortKey) th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
        th.addEventListener("click", () => {
          sortDir = sortKey === c.key
            ? -sortDir
            : ["feature", "note", "rank", "p_value", "q_value"].includes(c.key)
            ? 1
            : -1;
          sortKey = c.key;
          draw();
        });
        return th;
      }),
    );
    const body = rows.map((x) =>
      el(
        "tr",
        { "data-feature": x.feature, class: x.selected ? "selected" : "" },
        ...RANK_COLUMNS.map((c) => {
          const v = x[c.key as keyof typeof x];
          const text = c.key === "feature" || c.key === "note"
            ? String(v)
            : c.key === "p_value" || c.key === "q_value"
            ? fmtP(Number(v))
            : c.key === "selected"
            ? (v ? "✓" : "")
            : c.key === "rank" || c.key === "n"
            ? fmtInt(Number(v))
            : v === undefined
            ? "—"
            : fmt(Number(v), 4);
          return el("td", {
            class: c.key === "feature" || c.key === "note" ? "" : "num",
            title: c.key === "note" ? noteTitles.get(x.feature) : undefined,
            "data-key": c.key,
            "data-value": typeof v === "number" ? String(v) : undefined,
          }, text);
        }),
      )
    );
    table.replaceChildren(head, ...body);
  };
  draw();
  $("ranking-card").hidden = false;
}

// ---------------------------------------------------------------- export

function download(bytes: Uint8Array | string, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const baseName = () =>
  (state.summary?.name ?? "frame").replace(/^.*[\\/]/, "").replace(/\.[^.]*$/, "").replace(/\s+/g, "_");
for (
  const [id, fn] of [
    ["export-feather", async () =>
      download(
        await api.exportFrame("feather"),
        `${baseName()}.features.feather`,
        "application/vnd.apache.arrow.file",
      )],
    [
      "export-csv",
      async () => download(await api.exportFrame("csv"), `${baseName()}.features.csv`, "text/csv"),
    ],
    [
      "export-report",
      async () => download(await api.exportReport(), `${baseName()}.report.json`, "application/json"),
    ],
  ] as const
) {
  $(id).addEventListener("click", () => fn().catch((e) => showError($("run-error"), e)));
}

// ---------------------------------------------------------------- start

(async () => {
  await startWorker();
  await Promise.all([loadExampleConfig(), detectAdapter()]);
  setStatus("ready");
})().catch((e) => {
  showError(dataError, e);
  setStatus("error");
});
