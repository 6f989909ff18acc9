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
import type { ColumnMapping, ColumnRole, RankedFeature } from "../mod.ts";
import type {
  AdapterInfo,
  DataSummary,
  GridInfo,
  RunProgress,
  RunResult,
  TimeframeInfo,
  WorkerApi,
} from "./worker.ts";
import { drawMinD, type MinDCurve, minDCurves } from "./min_d_plot.ts";

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
  /** The time zone of every time shown (summary, plot axes and legends); UTC by default. */
  tz: "UTC" | "local";
  /** The page's column choices (role -> file column; null: found by name), sent with every load. */
  mapping: ColumnMapping;
  /** What each plot draws: its title and, per series, the plotted x (s) and y values (null: a break). */
  plotted: () => { title: string; x: number[]; series: Record<string, (number | null)[]> }[];
  /** What each minimum-d plot (ADF statistic and correlation vs d, `d_values: auto`) draws, read back from it. */
  minD: () => (Pick<MinDCurve, "d" | "adf" | "critical" | "corr"> & { title: string })[];
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
  tz: "UTC",
  mapping: {},
  plotted: () =>
    plots.map((p) => ({
      title: p.root.closest(".plot")?.querySelector("h3")?.textContent ?? "",
      x: Array.from(p.data[0]),
      series: Object.fromEntries(
        p.series.slice(1).map((s, i) => [String(s.label), Array.from(p.data[i + 1] ?? [], (v) => v ?? null)]),
      ),
    })),
  minD: () =>
    minDCharts.map((u) => ({
      title: u.root.closest(".plot")?.querySelector("h3")?.textContent ?? "",
      d: Array.from(u.data[0]),
      ...Object.fromEntries(
        (["adf", "critical", "corr"] as const).map((
          k,
          i,
        ) => [k, Array.from(u.data[i + 1], (v) => v ?? null)]),
      ) as Pick<MinDCurve, "adf" | "critical" | "corr">,
    })),
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
/** A p- or q-value; a missing one (null in a report, NaN) reads "—", never a crash. */
const fmtP = (p: number | null | undefined) =>
  p === null || p === undefined || !Number.isFinite(p) ? "—" : p < 0.001 ? p.toExponential(1) : p.toFixed(3);
const fmtInt = (v: number) => v.toLocaleString("en-US");
const pad = (v: number, n = 2) => String(v).padStart(n, "0");
/** A time in the page's zone: `2024-01-02 09:30Z` (UTC) or `2024-01-02 10:30 +01:00` (local). */
const fmtTime = (ms: number | null) => {
  if (ms === null) return "—";
  const d = new Date(ms);
  if (state.tz === "UTC") return d.toISOString().replace("T", " ").replace(/:00\.000Z$|\.000Z$/, "Z");
  const off = -d.getTimezoneOffset();
  const secs = d.getSeconds() || d.getMilliseconds() ? `:${pad(d.getSeconds())}` : "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${
    pad(d.getMinutes())
  }${secs} ${off < 0 ? "−" : "+"}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
};
const fmtSeconds = (ms: number) =>
  ms < 60_000
    ? `${(ms / 1000).toFixed(1)} s`
    : `${Math.floor(ms / 60_000)} min ${pad(Math.round((ms % 60_000) / 1000))} s`;
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
    // A software adapter emulates the GPU on these same cores, slower than the f64 CPU path: start on the CPU.
    backendSelect.value = a.software ? "cpu" : "webgpu";
    logLine("info", `WebGPU adapter: ${a.name}${a.detail ? ` [${a.detail}]` : ""}`);
    if (a.software) {
      $("backend-note").textContent =
        "A software adapter: slower than the CPU path, so the CPU is selected. On it the example's dCor " +
        "tests (selection_max_samples 5000 x 199 permutations) take minutes.";
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
  for (const id of ["plots-card", "ranking-card", "export-card", "rows-card"]) $(id).hidden = true;
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
    ...(s.dialect ? [el("span", { id: "data-dialect", class: "hint", text: s.dialect })] : []),
    el(
      "span",
      { class: "hint" },
      s.bytes ? fmtBytes(s.bytes) : "generated in the browser",
      ` · ${Math.round(s.ms)} ms`,
    ),
  );
  // Only the checks that ran are claimed; those that did not are named, with why.
  const valid = s.problems.length === 0
    ? el(
      "p",
      { id: "validation", class: "ok" },
      `✓ Passes the CLI's checks: ${s.checks.join(", ")}.`,
      ...(s.notChecked.length
        ? [el("span", { id: "not-checked", class: "hint" }, ` Not checked: ${s.notChecked.join("; ")}.`)]
        : []),
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
    mappingRow(s),
    valid,
    ts,
    el("table", { class: "compact", id: "data-columns" }, head, ...rows),
    skipped,
  );
}

const ROLES: ColumnRole[] = ["timestamp", "open", "high", "low", "close", "volume"];

/**
 * The column mapping, visible and changeable: one selector per role with the file's columns (an adjusted close
 * offered for close); a change validates the file again with it (the CLI's `data.columns`).
 */
function mappingRow(s: DataSummary): HTMLElement {
  const row = el("div", { id: "mapping", class: "mapping", role: "group", "aria-label": "column mapping" });
  row.append(el("span", { class: "label" }, "Columns"));
  for (const role of ROLES) {
    const select = el("select", { id: `map-${role}`, "aria-label": `column read as ${role}` });
    select.append(el("option", { value: "" }, "— none —"));
    for (const c of s.fileColumns) {
      const adjusted = role === "close" && /^adj(usted)?[ _]?close$/i.test(c);
      select.append(el("option", { value: c }, adjusted ? `${c} (adjusted)` : c));
    }
    select.value = s.mapping[role] ?? "";
    select.disabled = !loadedFile || state.status === "running";
    select.addEventListener("change", () => {
      state.mapping = { ...state.mapping, [role]: select.value || null };
      const file = loadedFile;
      if (file) lastSource = () => openFile(file, true), lastSource();
    });
    row.append(el("label", { class: select.value === role ? "" : "mapped" }, `${role} `, select));
  }
  if (!loadedFile) row.append(el("span", { class: "hint" }, "(demo bars: fixed)"));
  return row;
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
    await refreshGrid();
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
      await refreshGrid();
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

/** The file loaded last (null for demo bars): the mapping selectors validate it again. */
let loadedFile: File | null = null;

/** Loads a file; `keepMapping` keeps the page's column choices (a remap, a restart), else they reset. */
async function openFile(file: File, keepMapping = false): Promise<void> {
  lastSource = () => openFile(file, true);
  loadedFile = file;
  demoRows = null;
  if (!keepMapping) state.mapping = sessionMapping?.file === file.name ? { ...sessionMapping.mapping } : {};
  await ingest(file.name, async () => {
    const bytes = new Uint8Array(await file.arrayBuffer());
    return await api.load(Comlink.transfer(bytes, [bytes.buffer]), file.name, configBox.value, state.mapping);
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
  loadedFile = null;
  demoRows = rows;
  state.mapping = {};
  lastSource = () => ingest(`${rows} demo bars`, () => api.demo(rows, 42));
  lastSource();
});

// ---------------------------------------------------------------- run

runButton.addEventListener("click", () => run());

class Cancelled extends Error {}
let cancel: (() => void) | null = null;
const cancelButton = $<HTMLButtonElement>("cancel");
cancelButton.addEventListener("click", () => cancel?.());
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The live run status: the engine, inside long steps the work done of the total with an estimate of the time
 * left (from this step's rate so far), and the elapsed time, redrawn every 250 ms.
 */
class RunMeter {
  #t0 = performance.now();
  #stepT0 = this.#t0;
  #p: RunProgress = { engine: "" };
  #timer: ReturnType<typeof setInterval>;
  readonly box = el("span", { id: "run-progress" });
  readonly #step = el("span", { id: "run-step" });
  readonly #bar = el("progress", { id: "run-bar", max: "1" });
  readonly #elapsed = el("span", { id: "run-elapsed" });

  constructor(private backend: string) {
    this.#bar.removeAttribute("value"); // indeterminate until a step reports its total
    this.box.append(this.#step, " ", this.#bar, " ", this.#elapsed);
    this.#timer = setInterval(() => this.#draw(), 250);
    this.#draw();
  }

  update(p: RunProgress): void {
    // A new step (another engine, or work counted from zero again) restarts the rate estimate.
    if (p.engine !== this.#p.engine || p.unit !== this.#p.unit || (p.done ?? 0) < (this.#p.done ?? 0)) {
      this.#stepT0 = performance.now();
    }
    this.#p = p;
    this.#draw();
  }

  #draw(): void {
    const now = performance.now(), p = this.#p;
    if (!p.engine) this.#step.textContent = `Starting on ${this.backend}…`;
    else if (p.total && p.done !== undefined) {
      const left = p.done > 0 ? ((now - this.#stepT0) / p.done) * (p.total - p.done) : NaN;
      this.#step.textContent = `Running ${p.engine}: ${fmtInt(p.done)} / ${fmtInt(p.total)} ${p.unit} (${
        Math.floor((100 * p.done) / p.total)
      }%)${Number.isFinite(left) ? `, about ${fmtSeconds(left)} left` : ""}`;
      this.#bar.max = p.total;
      this.#bar.value = p.done;
    } else {
      this.#step.textContent = `Running ${p.engine}…`;
      this.#bar.removeAttribute("value");
    }
    this.#elapsed.textContent = `${fmtSeconds(now - this.#t0)} elapsed`;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** Marks the shown results as those of an earlier run while another runs (they stay until it succeeds). */
function setStale(stale: boolean): void {
  for (const id of ["plots-card", "ranking-card", "export-card"]) $(id).classList.toggle("stale", stale);
}

async function run(): Promise<void> {
  const runError = $("run-error");
  runError.hidden = true;
  state.error = null;
  runButton.disabled = true;
  setStatus("running");
  setStale(true);
  runStatus.className = "status busy";
  const backend = backendSelect.value as "webgpu" | "cpu";
  const meter = new RunMeter(backend === "webgpu" ? "WebGPU" : "the CPU");
  runStatus.replaceChildren(meter.box);
  const cancelled = new Promise<never>((_, reject) => (cancel = () => reject(new Cancelled())));
  cancelButton.hidden = false;
  try {
    const r = await Promise.race([
      api.run(configBox.value, backend, Comlink.proxy((p: RunProgress) => meter.update(p))),
      cancelled,
    ]);
    // Only a successful run replaces what is shown (a config error keeps the previous results).
    clearResults();
    state.result = r;
    state.runs++;
    const bars = state.timeframe?.every ? `${state.timeframe.every} bars` : "rows";
    runStatus.textContent = `Done: ${Object.keys(r.engines_ms).length} engines on ${
      r.backend === "webgpu" ? `WebGPU (${r.adapter})` : "the CPU (f64)"
    } over ${fmtInt(r.rows)} ${bars} in ${fmtInt(r.total_ms)} ms, ${r.added.length} new columns.`;
    renderResult(r);
    await refreshGrid();
    logLine("info", `run done: ${JSON.stringify(r.engines_ms)}`);
    setStatus("done");
  } catch (e) {
    if (e instanceof Cancelled) {
      // Stop the GPU work first: the worker's next progress call throws and its device is destroyed, so nothing
      // queued keeps the GPU busy. A CPU step never yields to hear that; either way the worker is replaced by a
      // fresh one (a new device) and the data loaded again.
      meter.stop();
      runStatus.textContent = "Cancelling…";
      await Promise.race([api.cancel(), sleep(500)]);
      worker.terminate();
      logLine("info", "run cancelled; restarting the worker");
      await startWorker();
      await lastSource?.();
      runStatus.textContent = "Cancelled. Edit the config and run again.";
    } else {
      showError(runError, e);
      runStatus.textContent = state.result
        ? "The run failed; the results shown are the previous run's. Fix the config and run again."
        : "The run failed; fix the config or load another file.";
      setStatus("error");
    }
  } finally {
    meter.stop();
    setStale(false);
    cancel = null;
    cancelButton.hidden = true;
    runStatus.className = "status";
    runButton.disabled = !state.summary || state.summary.problems.length > 0;
  }
}

/** Draws a run's result: timings, plots, columns, ranking, exports. */
function renderResult(r: RunResult): void {
  renderTimings(r);
  renderPlots(r);
  renderColumns(r);
  renderRanking(r);
  $("export-card").hidden = false;
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
/** Buckets of rows per plot: each draws its series' min and max, so at most ~2 x this many points. */
const BUCKETS = 30_000;
/** Consecutive rows further apart than this many median spacings are a closed market: the lines break. */
const GAP_FACTOR = 2.5;
let plots: uPlot[] = [];
/** The minimum-d plots (x is d, not time: they do not zoom with the others). */
let minDCharts: uPlot[] = [];
let syncing = false;

interface Group {
  title: string;
  series: { name: string; scale: string }[];
  axes: Record<string, string>;
  /** A thin panel under the previous one (no time axis labels). */
  compact?: boolean;
  /** Draw the series as bars (volume). */
  bars?: boolean;
  /** Draw OHLC candles over the close line when few enough bars are in view (the price panel). */
  candles?: boolean;
  /** A note beside the plot (the GARCH fit's status); `warn` when it did not converge. */
  note?: { text: string; warn: boolean };
}

/** The GARCH fit's status per column, for beside its plot (a fit that did not converge is flagged there). */
function garchNote(r: RunResult): Group["note"] {
  const cols = r.reports.garch_models?.columns ?? {};
  const parts = Object.entries(cols).map(([c, g]) => {
    const p = g.params;
    const est = p ? `, α ${fmt(p.alpha, 3)}, β ${fmt(p.beta, 3)}` : "";
    const refits = g.refits > 1
      ? ` (${fmtInt(g.refits)} refits` +
        (g.refits_not_converged ? `, ${fmtInt(g.refits_not_converged)} not converged` : "") +
        (g.refits_failed ? `, ${fmtInt(g.refits_failed)} failed` : "") + ")"
      : "";
    return `${c}: ${g.status.replace(/_/g, " ")}${refits}${est}${g.message ? ` — ${g.message}` : ""}`;
  });
  if (!parts.length) return undefined;
  const warn = Object.values(cols).some((g) => g.status !== "converged" || g.refits_not_converged > 0);
  return { text: `${warn ? "⚠ " : ""}GARCH fit: ${parts.join("; ")}`, warn };
}

function groups(r: RunResult): Group[] {
  const added = r.added.map((a) => a.name).filter((n) => !n.startsWith("y_"));
  const used = new Set<string>();
  const take = (re: RegExp) => added.filter((n) => re.test(n) && !used.has(n) && used.add(n));
  const priced = r.features.columns.filter((c) => r.inputColumns.includes(c));
  const windows = r.reports.stationarization?.ffd_window ?? {};
  const ohlc = ["open", "high", "low", "close"].every((c) => r.inputColumns.includes(c));
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
      title: `Price${ohlc ? " (candles when zoomed in)" : ""}${
        fd.length ? " and its fractional differences (of log price; each d on its own scale)" : ""
      }`,
      series: priced.map((name) => ({ name, scale: "price" })),
      axes: { price: "price" },
      candles: ohlc && priced.includes("close"),
    },
    ...(r.inputColumns.includes("volume")
      ? [{
        title: "",
        series: [{ name: "volume", scale: "volume" }],
        axes: { volume: "volume" },
        compact: true,
        bars: true,
      }]
      : []),
    ...fd,
    // Small multiples: one thin panel per window, each readable on its own (five lines on one axis are not).
    ...take(/_z_\d+$/).map((name, i): Group => ({
      title: i === 0 ? "Rolling z-scores (one panel per window)" : "",
      series: [{ name, scale: "z" }],
      axes: { z: `z, w = ${name.slice(name.lastIndexOf("_") + 1)}` },
      compact: true,
    })),
    {
      title: "Baxter-King cycle (log price)",
      series: take(/_bk_/).map((name) => ({ name, scale: "bk" })),
      axes: { bk: "cycle" },
    },
    {
      title: "GARCH(1,1) conditional volatility",
      series: take(/_garch_vol$/).map((name) => ({ name, scale: "vol" })),
      axes: { vol: "% per bar (log scale)" },
      note: garchNote(r),
    },
  ];
  return out.filter((g) => g.series.length > 0);
}

/**
 * The plotted points of a run: rows in buckets of up to ceil(rows / BUCKETS), a bucket never spanning a gap
 * (GAP_FACTOR x the median spacing). A bucket of one row is that row; a larger one is two points at its first
 * and last time, holding each series' min and max in the order they occur (spikes survive, unlike every n-th
 * row). Before each gap a point at its middle holds null, so lines break where the market was closed.
 */
function sampler(
  ts: Float64Array,
): { xs: number[]; values: (v: Float64Array) => (number | null)[]; size: number } {
  const n = ts.length;
  const diffs: number[] = [];
  for (let i = 1; i < Math.min(n, 20_001); i++) diffs.push(ts[i] - ts[i - 1]);
  diffs.sort((a, b) => a - b);
  const gapAt = diffs.length ? GAP_FACTOR * diffs[diffs.length >> 1] : Infinity;
  const size = Math.max(1, Math.ceil(n / BUCKETS));
  // Buckets as [start, end) with a flag: a gap before it.
  const starts: number[] = [], ends: number[] = [], gaps: boolean[] = [];
  for (let a = 0; a < n;) {
    let b = a + 1;
    while (b < n && b - a < size && !(ts[b] - ts[b - 1] > gapAt)) b++;
    starts.push(a), ends.push(b), gaps.push(a > 0 && ts[a] - ts[a - 1] > gapAt);
    a = b;
  }
  const xs: number[] = [];
  starts.forEach((a, k) => {
    if (gaps[k]) xs.push((ts[a - 1] + ts[a]) / 2000);
    xs.push(ts[a] / 1000);
    if (ends[k] - a > 1) xs.push(ts[ends[k] - 1] / 1000);
  });
  const values = (v: Float64Array) => {
    const out: (number | null)[] = [];
    const val = (i: number) => (i >= 0 && Number.isFinite(v[i]) ? v[i] : null);
    starts.forEach((a, k) => {
      if (gaps[k]) out.push(null);
      const b = ends[k];
      if (b - a === 1) return void out.push(val(a));
      let lo = -1, hi = -1;
      for (let i = a; i < b; i++) {
        if (!Number.isFinite(v[i])) continue;
        if (lo < 0 || v[i] < v[lo]) lo = i;
        if (hi < 0 || v[i] > v[hi]) hi = i;
      }
      out.push(val(Math.min(lo, hi)), val(Math.max(lo, hi)));
    });
    return out;
  };
  return { xs, values, size };
}

/** First index with ts[i] >= t. */
function lowerBound(ts: Float64Array, t: number): number {
  let lo = 0, hi = ts.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (ts[m] < t) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/** A uPlot draw hook drawing OHLC candles from the run's rows when at least 3 px per bar are in view. */
function candles(r: RunResult): (u: uPlot) => void {
  const [o, h, l, c] = ["open", "high", "low", "close"].map((k) => r.columns[k]);
  const ts = r.timestamps;
  return (u) => {
    const i0 = lowerBound(ts, u.scales.x.min! * 1000), i1 = lowerBound(ts, u.scales.x.max! * 1000 + 1);
    const pxPer = u.bbox.width / Math.max(1, i1 - i0);
    u.root.dataset.candles = String(pxPer >= 3 * devicePixelRatio && i1 > i0);
    if (u.root.dataset.candles !== "true") return;
    const ctx = u.ctx, half = Math.max(1, Math.floor(pxPer * 0.35));
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
    for (let i = i0; i < i1; i++) {
      if (![o[i], h[i], l[i], c[i]].every(Number.isFinite)) continue;
      const x = Math.round(u.valToPos(ts[i] / 1000, "x", true));
      const y = (v: number) => Math.round(u.valToPos(v, "price", true));
      const color = c[i] >= o[i] ? "#16a34a" : "#dc2626";
      ctx.strokeStyle = ctx.fillStyle = color;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(x + 0.5, y(h[i]));
      ctx.lineTo(x + 0.5, y(l[i]));
      ctx.stroke();
      const top = Math.min(y(o[i]), y(c[i])), height = Math.max(1, Math.abs(y(o[i]) - y(c[i])));
      ctx.fillRect(x - half, top, 2 * half + 1, height);
    }
    ctx.restore();
  };
}

/** A plot's text alternative: each series' first, last, min and max (of every row), and its finite values. */
function plotTable(r: RunResult, g: Group): HTMLElement {
  const head = el(
    "tr",
    {},
    ...["series", "first", "last", "min", "max", "values"].map((h, i) =>
      el("th", { class: i ? "num" : "" }, h)
    ),
  );
  const rows = g.series.map(({ name }) => {
    const v = r.columns[name];
    let n = 0, min = Infinity, max = -Infinity, first = NaN, last = NaN;
    for (const x of v) {
      if (!Number.isFinite(x)) continue;
      if (!n++) first = x;
      last = x;
      if (x < min) min = x;
      if (x > max) max = x;
    }
    return el(
      "tr",
      {},
      el("td", {}, name),
      ...[first, last, n ? min : NaN, n ? max : NaN].map((x) => el("td", { class: "num" }, fmt(x, 5))),
      el("td", { class: "num" }, fmtInt(n)),
    );
  });
  return el(
    "details",
    { class: "plot-table" },
    el("summary", {}, "Table"),
    el("table", { class: "compact" }, head, ...rows),
  );
}

/** Makes uPlot's legend entries keyboard-operable toggles (Tab to one, Enter or Space to show/hide). */
function keyboardLegend(u: uPlot): void {
  u.root.querySelectorAll<HTMLElement>(".u-legend .u-series").forEach((row, i) => {
    if (i === 0) return; // the time column
    row.tabIndex = 0;
    row.setAttribute("role", "button");
    const sync = () => row.setAttribute("aria-pressed", String(!row.classList.contains("u-off")));
    sync();
    row.addEventListener("click", () => setTimeout(sync));
    row.addEventListener("keydown", (e) => {
      if (e.key !== "Enter" && e.key !== " ") return;
      e.preventDefault();
      (row.firstElementChild as HTMLElement).click(); // uPlot listens on the label cell
    });
  });
}

/** Zooms (factor < 1 in) and pans (shift, in widths) every plot's time axis around `at` (default: the middle). */
function zoomBy(factor: number, shift = 0, at?: number): void {
  const u = plots[0];
  if (!u) return;
  const [min, max] = [u.scales.x.min!, u.scales.x.max!];
  const [lo, hi] = [u.data[0][0], u.data[0][u.data[0].length - 1]];
  const c = at ?? (min + max) / 2, w = (max - min) * factor;
  let a = c - (c - min) * factor + shift * (max - min), b = a + w;
  if (b - a >= hi - lo) [a, b] = [lo, hi];
  else if (a < lo) [a, b] = [lo, lo + w];
  else if (b > hi) [a, b] = [hi - w, hi];
  u.setScale("x", { min: a, max: b });
}

/** Shows every plot's full time range. */
function zoomReset(): void {
  const u = plots[0];
  if (u) u.setScale("x", { min: u.data[0][0], max: u.data[0][u.data[0].length - 1] });
}

function renderPlots(r: RunResult): void {
  const box = $("plots");
  for (const u of minDCharts) u.destroy();
  minDCharts = [];
  const sample = sampler(r.timestamps);
  const xs = sample.xs;
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
      cursor: {
        sync: { key: "fg" },
        drag: { x: true, y: false },
        // Shift-drag pans (below), so uPlot's drag-to-zoom leaves it alone.
        bind: {
          mousedown: (_u, targ, handle) => (e: MouseEvent) => {
            if (e.button === 0 && !e.shiftKey && e.target === targ) handle(e);
            return null;
          },
        },
      },
      scales: { x: { time: true }, vol: { distr: 3 } },
      // One time zone for axes and legends: the page's (UTC unless switched).
      tzDate: (t) => (state.tz === "UTC" ? uPlot.tzDate(new Date(t * 1e3), "Etc/UTC") : new Date(t * 1e3)),
      // Axis labels as the rest of the page writes times: 24-hour clock, ISO dates.
      fmtDate: (tpl: string) =>
        uPlot.fmtDate(
          tpl.replace(/\{h\}/g, "{HH}").replace(/\s*\{aa\}/g, "").replace(/\{HH\}(?!:)/g, "{HH}:00")
            .replace(/\{M\}\/\{D\}\/\{YY\}/g, "{YYYY}-{MM}-{DD}").replace(/\{M\}\/\{D\}/g, "{MM}-{DD}"),
        ),
      series: [
        { value: (_u: uPlot, v: number | null) => (v === null ? "—" : fmtTime(Math.round(v * 1000))) },
        ...g.series.map((s, i) => ({
          label: s.name,
          scale: s.scale,
          stroke: s.scale === "price" ? "#111827" : PALETTE[(color + i) % PALETTE.length],
          width: s.scale === "price" ? 1.5 : 1,
          ...(g.bars
            ? { paths: uPlot.paths.bars!({ size: [0.8, 40] }), fill: "#94a3b8", stroke: "#64748b" }
            : {}),
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
          space: 24, // more y ticks than uPlot's default 30 px spacing
          // Linear axes: short numbers (uPlot's own labels read 0 / -0 for ±2e-4); the log axis keeps uPlot's.
          ...(sc === "vol" ? {} : { values: (_u: uPlot, splits: number[]) => splits.map((v) => fmt(v, 3)) }),
        })),
      ],
      legend: { show: true },
      hooks: { setScale: [zoomSync], ...(g.candles ? { draw: [candles(r)] } : {}) },
    };
    const u = new uPlot(
      opts,
      [xs, ...g.series.map((s) => sample.values(r.columns[s.name]))] as uPlot.AlignedData,
      holder,
    );
    keyboardLegend(u);
    // Shift-drag pans every plot's time axis.
    u.over.addEventListener("mousedown", (e) => {
      if (e.button !== 0 || !e.shiftKey) return;
      e.preventDefault();
      const [x0, min, max] = [e.clientX, u.scales.x.min!, u.scales.x.max!];
      const perPx = (max - min) / u.over.clientWidth;
      const move = (m: MouseEvent) => {
        const dv = (m.clientX - x0) * perPx;
        u.setScale("x", { min: min - dv, max: max - dv });
      };
      const up = () => (removeEventListener("mousemove", move), removeEventListener("mouseup", up));
      addEventListener("mousemove", move);
      addEventListener("mouseup", up);
    });
    // Wheel over a plot zooms the time axis around the cursor.
    u.over.addEventListener("wheel", (e) => {
      e.preventDefault();
      zoomBy(e.deltaY < 0 ? 0.8 : 1.25, 0, u.posToVal(e.offsetX, "x"));
    }, { passive: false });
    const [min, max] = [plots[0]?.scales.x.min, plots[0]?.scales.x.max];
    if (min !== undefined && max !== undefined) u.setScale("x", { min, max }); // join the current zoom
    else if (sessionZoom) u.setScale("x", { min: sessionZoom[0], max: sessionZoom[1] }); // a restored one
    return u;
  };
  const all = groups(r);
  for (const g of all) {
    const holder = el(
      "div",
      { class: g.compact ? "plot compact" : "plot" },
      ...(g.title ? [el("h3", { text: g.title })] : []),
      ...(g.note
        ? [
          el("p", { class: `plot-note${g.note.warn ? " warn" : ""}`, id: "garch-status", text: g.note.text }),
        ]
        : []),
    );
    box.append(holder);
    plots.push(make(g, holder, g.compact ? plots.length : 0));
    holder.append(plotTable(r, g));
  }

  // AFML Fig. 5.5: the minimum-d search of each column (frac_diff.d_values: auto).
  for (const c of minDCurves(r.reports.stationarization)) {
    const chosen = c.chosen === null ? "no d in [0, 1] rejects" : `minimum d = ${fmt(c.chosen, 3)}`;
    const holder = el(
      "div",
      { class: "plot", "data-min-d": c.column },
      el("h3", {
        text:
          `${c.column}: ${chosen} — ADF statistic (vs its ${c.level} critical value) and correlation with the log price, by d`,
      }),
    );
    box.append(holder);
    minDCharts.push(drawMinD(c, holder, Math.max(320, box.clientWidth || 900)));
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

  if (sample.size > 1) {
    box.append(
      el(
        "p",
        { class: "hint" },
        `Plots draw each series' min and max per ${fmtInt(sample.size)} rows (${
          fmtInt(xs.length)
        } points), ` +
          "so spikes stay visible.",
      ),
    );
  }
  $("plots-card").hidden = false;
  sessionZoom = null; // a restored zoom applies once
}

for (
  const [id, fn] of [
    ["zoom-in", () => zoomBy(0.5)],
    ["zoom-out", () => zoomBy(2)],
    ["pan-left", () => zoomBy(1, -0.25)],
    ["pan-right", () => zoomBy(1, 0.25)],
    ["zoom-reset", zoomReset],
  ] as const
) $(id).addEventListener("click", fn);
// Keys over the plots: + / - zoom, arrows pan, 0 resets.
$("plots").addEventListener("keydown", (e) => {
  if ((e.target as HTMLElement).closest("select, .u-series")) return;
  const act = {
    "+": () => zoomBy(0.5),
    "=": () => zoomBy(0.5),
    "-": () => zoomBy(2),
    "0": zoomReset,
    ArrowLeft: () => zoomBy(1, -0.25),
    ArrowRight: () => zoomBy(1, 0.25),
  }[e.key];
  if (act) {
    e.preventDefault(), act();
  }
});

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

// ---------------------------------------------------------------- rows grid

/** Row height of the grid in px (fixed: the grid draws only the rows in view). */
const ROW_H = 24;
/** The scroll height the grid uses at most (browsers cap an element's height near 3e7 px). */
const GRID_MAX_PX = 1e7;
const gridBox = $("grid");
const grid = {
  info: null as GridInfo | null,
  sort: null as string | null,
  desc: false,
  first: 0,
  /** A row to highlight (a jump's target), by its row number. */
  hit: -1,
  pending: false,
  again: false,
};
const gridTable = el("table", { class: "compact", id: "grid-table" });
const gridSpacer = el("div", { class: "grid-spacer" });
gridBox.replaceChildren(gridTable, gridSpacer);

/** Rows that fit in the grid's view. */
const gridVisible = () => Math.max(1, Math.floor((gridBox.clientHeight || 360) / ROW_H) - 1);
/** Scroll range in px and the row the current scroll position shows first. */
function gridScroll(): { range: number; first: number } {
  const rows = grid.info?.rows ?? 0, vis = gridVisible();
  const total = Math.min(rows * ROW_H, GRID_MAX_PX);
  const range = Math.max(1, total - gridBox.clientHeight);
  return { range, first: Math.round((Math.min(gridBox.scrollTop, range) / range) * Math.max(0, rows - vis)) };
}

/** Fetches and draws the rows in view; a scroll while a fetch is out draws once more after it. */
async function drawGrid(): Promise<void> {
  if (grid.pending) return void (grid.again = true);
  grid.pending = true;
  try {
    do {
      grid.again = false;
      await drawGridOnce();
    } while (grid.again);
  } finally {
    grid.pending = false;
  }
}

async function drawGridOnce(): Promise<void> {
  if (!grid.info) return;
  const { first } = gridScroll();
  const info = grid.info;
  const slice = await api.gridRows(first, gridVisible() + 1, grid.sort, grid.desc);
  grid.first = first;
  const head = el(
    "tr",
    {},
    el("th", { class: "num" }, "row"),
    ...[info.timestampColumn, ...info.columns].map((c, i) => {
      const th = el(
        "th",
        { class: i ? "num" : "", "data-column": c },
        el("button", { type: "button", class: "sort" }, c),
      );
      const on = grid.sort === c || (grid.sort === null && i === 0);
      if (on) th.setAttribute("aria-sort", grid.desc ? "descending" : "ascending");
      th.addEventListener("click", () => sortGrid(i === 0 ? null : c));
      return th;
    }),
  );
  const body = slice.rows.map((r, k) =>
    el(
      "tr",
      { "data-row": String(r), class: r === grid.hit ? "hit" : "" },
      el("td", { class: "num" }, fmtInt(r + 1)),
      el("td", { "data-value": String(slice.timestamps[k]) }, fmtTime(slice.timestamps[k])),
      ...slice.values.map((v) => el("td", { class: "num", "data-value": String(v[k]) }, fmt(v[k]))),
    )
  );
  gridTable.replaceChildren(el("thead", {}, head), el("tbody", {}, ...body));
  $("grid-info").textContent = `${fmtInt(info.rows)} rows × ${info.columns.length + 1} columns` +
    (grid.sort ? `, sorted by ${grid.sort} (${grid.desc ? "descending" : "ascending"})` : ", in time order");
}

/** Sorts the grid by a column (null: time); the same column again flips the direction. */
function sortGrid(column: string | null): void {
  if (grid.sort === column) grid.desc = !grid.desc;
  else [grid.sort, grid.desc] = [column, column !== null];
  gridBox.scrollTop = 0;
  drawGrid();
}

/** Shows the grid of the worker's current frame (after a load, a resampling or a run). */
async function refreshGrid(): Promise<void> {
  grid.info = await api.grid();
  grid.hit = -1;
  $("rows-card").hidden = !grid.info;
  if (!grid.info) return;
  gridSpacer.style.height = `${Math.max(0, Math.min(grid.info.rows * ROW_H, GRID_MAX_PX) - ROW_H * 2)}px`;
  gridBox.scrollTop = 0;
  await drawGrid();
}
gridBox.addEventListener("scroll", () => requestAnimationFrame(() => drawGrid()));

/** A time typed in the page's zone: `2024-01-02`, `2024-01-02 09:30`, `2024-01-02T09:30:15`, an optional Z. */
function parseTime(text: string): number {
  const m = /^\s*(\d{4}-\d\d-\d\d)(?:[ T](\d\d:\d\d(?::\d\d(?:\.\d+)?)?))?\s*(Z)?\s*$/i.exec(text);
  if (!m) return NaN;
  const iso = `${m[1]}T${m[2] ?? "00:00"}`;
  return Date.parse(state.tz === "UTC" || m[3] ? `${iso}Z` : iso);
}

/** Jumps to the first row at or after the typed time (in time order). */
async function jumpGrid(): Promise<void> {
  const input = $<HTMLInputElement>("grid-jump");
  const ms = parseTime(input.value);
  input.setCustomValidity(Number.isNaN(ms) ? "a time like 2024-01-02 09:30" : "");
  if (Number.isNaN(ms) || !grid.info) return void input.reportValidity();
  const row = await api.gridFind(ms);
  [grid.sort, grid.desc, grid.hit] = [null, false, row];
  const { range } = gridScroll();
  gridBox.scrollTop = Math.ceil((row / Math.max(1, grid.info.rows - gridVisible())) * range);
  await drawGrid();
}
$("grid-go").addEventListener("click", () => jumpGrid());
$("grid-jump").addEventListener("keydown", (e) => {
  if (e.key === "Enter") jumpGrid();
});

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
  const rep = r.reports.statistical_tests;
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
  $("ranking-hint").textContent =
    `Distance correlation of every ranked feature with the target ${rep.target} ` +
    `on the same ${fmtInt(rep.rows)} rows (the latest with a target where every ranked feature is finite); ` +
    `p-values from ${perm.permutations} ${
      perm.scheme === "circular_shift"
        ? `circular shifts of the target (at least ${perm.min_block} rows)`
        : "iid permutations"
    }.` +
    (rep.excluded.length ? ` ${rep.excluded.length} columns not ranked (listed below).` : "") +
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
          class: `bar-fill${Number.isFinite(x.p_value) && x.p_value <= 0.05 ? "" : " insignificant"}`,
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
        // A button inside: Tab reaches each header, Enter or Space sorts by it.
        const th = el(
          "th",
          { title: c.title, class: c.key === "feature" || c.key === "note" ? "" : "num", "data-key": c.key },
          el("button", { type: "button", class: "sort" }, c.label),
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
            ? fmtP(v as number | null)
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
  // Every column the test did not score, with the engine's reason (pattern, too sparse, too few rows).
  const list = $("ranking-excluded");
  list.replaceChildren(
    ...(rep.excluded.length
      ? [
        el("summary", {}, `Not ranked (${rep.excluded.length})`),
        el(
          "ul",
          {},
          ...rep.excluded.map((x) =>
            el(
              "li",
              { "data-feature": x.feature, "data-cause": x.cause },
              el("code", { text: x.feature }),
              `: ${x.reason}`,
            )
          ),
        ),
      ]
      : []),
  );
  list.hidden = rep.excluded.length === 0;
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

// ---------------------------------------------------------------- time zone

const tzSelect = $<HTMLSelectElement>("tz");
/** Switches the page's time zone and redraws every time shown (the plots keep their zoom). */
function setTimeZone(tz: PageState["tz"]): void {
  state.tz = tz;
  tzSelect.value = tz;
  if (state.summary) renderSummary(state.summary);
  if (state.result) {
    const [min, max] = state.xRanges()[0] ?? [];
    for (const p of plots) p.destroy();
    plots = [];
    $("plots").replaceChildren();
    renderPlots(state.result);
    if (min !== undefined && max !== undefined) plots[0]?.setScale("x", { min, max });
  }
}
tzSelect.addEventListener("change", () => setTimeZone(tzSelect.value as PageState["tz"]));

// ---------------------------------------------------------------- session

/** A saved session: the config, the data's source, the column mapping and the view (zone, timeframe, zoom). */
interface Session {
  v: 1;
  config: string;
  backend: string;
  tz: PageState["tz"];
  timeframe: string;
  /** Demo bars (rows) are made again; a file must be loaded again (its name, and its column choices). */
  source: { demo: number } | { file: string; mapping: ColumnMapping } | null;
  /** The plots' time range (s), applied to the next run's plots. */
  zoom: [number, number] | null;
}

/** A file's column choices from a restored session, applied when a file of that name is loaded. */
let sessionMapping: { file: string; mapping: ColumnMapping } | null = null;
/** A restored zoom, applied to the next plots drawn. */
let sessionZoom: [number, number] | null = null;
/** Rows of the demo bars loaded last (null: a file or nothing). */
let demoRows: number | null = null;

function sessionOf(): Session {
  const [min, max] = state.xRanges()[0] ?? [];
  return {
    v: 1,
    config: configBox.value,
    backend: backendSelect.value,
    tz: state.tz,
    timeframe: timeframeSelect.value,
    source: demoRows !== null
      ? { demo: demoRows }
      : loadedFile
      ? { file: loadedFile.name, mapping: state.mapping }
      : null,
    zoom: min !== undefined && max !== undefined ? [min, max] : null,
  };
}

/** base64url of UTF-8 text (the URL's #session=...). */
const toB64 = (text: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(text))).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
const fromB64 = (b64: string) =>
  new TextDecoder().decode(
    Uint8Array.from(atob(b64.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)),
  );

/** Applies a saved session: config, zone, backend, timeframe; demo bars are made again, a file is asked for. */
function restoreSession(s: Session): void {
  if (s?.v !== 1) throw new Error("not a Feature Genesis session (v 1)");
  configBox.value = s.config;
  setTimeZone(s.tz === "local" ? "local" : "UTC");
  if ([...backendSelect.options].some((o) => o.value === s.backend && !o.disabled)) {
    backendSelect.value = s.backend;
  }
  timeframeSelect.value = s.timeframe ?? "";
  sessionZoom = s.zoom;
  sessionMapping = s.source && "file" in s.source ? { file: s.source.file, mapping: s.source.mapping } : null;
  const note = $("session-note");
  note.textContent = sessionMapping
    ? `Session restored: load ${sessionMapping.file} again to continue (its column choices will apply).`
    : "Session restored.";
  if (s.source && "demo" in s.source) {
    $<HTMLInputElement>("demo-rows").value = String(s.source.demo);
    $("demo").click();
  }
  logLine("info", "session restored");
}

$("session-save").addEventListener(
  "click",
  () => download(JSON.stringify(sessionOf(), null, 2), `${baseName()}.session.json`, "application/json"),
);
$("session-link").addEventListener("click", async () => {
  const url = `${location.href.replace(/#.*$/, "")}#session=${toB64(JSON.stringify(sessionOf()))}`;
  history.replaceState(null, "", url);
  await navigator.clipboard?.writeText(url).catch(() => {});
  $("session-note").textContent =
    "The page's address now holds this session (copied when the browser allows).";
});
const sessionFile = $<HTMLInputElement>("session-open");
sessionFile.addEventListener("change", async () => {
  const f = sessionFile.files?.[0];
  sessionFile.value = "";
  if (!f) return;
  try {
    restoreSession(JSON.parse(await f.text())); // a file that is not JSON is reported the same way
  } catch (e) {
    showError(dataError, e);
  }
});

// ---------------------------------------------------------------- start

(async () => {
  await startWorker();
  await Promise.all([loadExampleConfig(), detectAdapter()]);
  setStatus("ready");
  // A session in the address (#session=...): restore it.
  const m = /#session=([\w-]+)/.exec(location.hash);
  if (m) restoreSession(JSON.parse(fromB64(m[1])));
})().catch((e) => {
  showError(dataError, e);
  setStatus("error");
});
