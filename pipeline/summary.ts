/**
 * summary.md: the run summary a quant reads. Per instrument: time per phase, why it was processed again,
 * input columns not loaded and cells read as NaN, FFD window length per d, where the feature set ran, the
 * warm-up and NaN counts of every feature with the cause of any unusable one, the minimum-d table of
 * `d_values: auto`, the GARCH fits and the selection table. Names and messages are escaped so no value breaks a table.
 */
import type { GarchModelParams } from "../kernels/garch.ts";
import { printable } from "../io/discover.ts";
import type { ColumnQuality } from "./quality.ts";
import type { EngineReports } from "./engines.ts";

/** One task's outcome in the summary. */
export interface TaskSummary {
  /** The task's instrument. */
  instrument: string;
  /** Outcome; `skipped` = already committed with the same config hash. */
  status: "done" | "failed" | "skipped";
  /** Rows processed (for a skipped task, the committed row count). */
  rows: number;
  /** Task wall time in milliseconds. */
  ms: number;
  /** Wall time per engine in milliseconds, by engine name (absent for skipped tasks). */
  engines_ms?: Record<string, number>;
  /** Wall time per phase in milliseconds: read, validate, each engine, write (absent for skipped tasks). */
  phases_ms?: Record<string, number>;
  /** Why a committed task was processed again (its inputs changed), when it was. */
  reprocessed?: string;
  /** Input columns that were not loaded (text columns, unsupported types), each with its file and reason. */
  skipped_columns?: { name: string; reason: string }[];
  /** Non-numeric cells read as NaN (`data.bad_values: nan`): column, file, first row and value, count. */
  bad_cells?: { name: string; file?: string; row: number; value: string; count: number }[];
  /** Warm-up, NaN and infinity counts of every feature column, with the cause where a column is unusable. */
  quality?: Record<string, ColumnQuality>;
  /** Number of feature columns the engines added (done tasks only). */
  features?: number;
  /** Each engine's report (e.g. statistical_tests: the dCor ranking and the selected features). */
  reports?: EngineReports;
  /** Error message (failed tasks only). */
  error?: string;
  /**
   * How the task ran in chunks (pipeline/chunked.ts): rows per chunk, rows read before and after one, parts
   * written by this run, and the first row computed (> 0: an append).
   */
  chunks?: { rows: number; back: number; ahead: number; parts: number; from: number };
}

/** The run summary (also written as `_runs/<id>/summary.json` and `summary.md` in the output). */
export interface RunSummary {
  /** Run id (`r<YYYYMMDD>-<HHMMSS>-<random>`, UTC, or `<shared run id>.<shard>-<random>`). */
  run_id: string;
  /** The run id shared by the shards of an array job (`run_id` itself when the run had none). */
  run: string;
  /** This process's shard (0-based), when sharded. */
  shard?: { index: number; count: number };
  /** `failed` when any task failed. */
  status: "done" | "failed";
  /** GPU adapter name, or `"cpu"`. */
  adapter: string;
  /** Source storage URL. */
  source: string;
  /** Output storage URL. */
  output: string;
  /** Registry database path. */
  registry: string;
  /** Hash of the configuration used. */
  config_hash: string;
  /** Start time, ISO 8601 (UTC). */
  started: string;
  /** Run wall time in seconds (ms precision). */
  seconds: number;
  /** Rows processed by tasks that completed in this run (skipped tasks excluded). */
  rows: number;
  /** Throughput: `rows` / `seconds`, rounded. */
  rows_per_s: number;
  /** Peak resident set size of the process in MiB (sampled after each task). */
  peak_rss_mb: number;
  /** compute.memory_budget in MiB (chunks of an instrument are sized from it). */
  memory_budget_mb?: number;
  /** Peak GPU buffer-pool usage in MiB (0 on CPU). */
  gpu_peak_mb: number;
  /** Tasks run at a time (compute.task_workers; 1: one at a time on the main thread). */
  task_workers?: number;
  /** Total wall time per engine over all tasks, in milliseconds (a sum of overlapping times with task workers). */
  engine_ms: Record<string, number>;
  /** Per-task outcomes, in processing order. */
  tasks: TaskSummary[];
  /** Instruments this run did not start because a failure stopped it (fail-fast, or storage failing). */
  not_started?: string[];
}

/**
 * A table cell: pipes escaped, line breaks as spaces, and any other control or format character (ESC, a bidi
 * override in a column name) as `\uXXXX` ({@link printable}).
 */
function cell(v: unknown): string {
  return printable(String(v ?? "").replaceAll("\\", "\\\\").replace(/\r?\n|\r/g, " ")).replaceAll("|", "\\|");
}

function table(head: string[], rows: unknown[][]): string[] {
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ];
}

/** The parts of the feature-set report (kernels/feature_frame.ts) the summary shows. */
function inputLines(t: TaskSummary): string[] {
  const lines: string[] = [];
  if (t.phases_ms) {
    lines.push(
      `- time per phase (ms): ${Object.entries(t.phases_ms).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    );
  }
  if (t.reprocessed) lines.push(`- processed again: ${cell(t.reprocessed)}`);
  if (t.chunks) {
    const c = t.chunks;
    lines.push(
      `- chunks of ${c.rows} rows (+${c.back} rows of history, ${c.ahead} ahead): ${c.parts} part(s) written` +
        (c.from ? `, appended from row ${c.from}` : ""),
    );
  }
  for (const c of t.skipped_columns ?? []) {
    lines.push(`- input column not loaded: ${cell(c.name)} (${cell(c.reason)})`);
  }
  for (const b of t.bad_cells ?? []) {
    lines.push(
      `- column ${cell(b.name)}: ${b.count} cell(s) read as NaN, first ${
        cell(JSON.stringify(b.value))
      } at row ` +
        `${b.row}${b.file ? ` of ${cell(b.file)}` : ""}`,
    );
  }
  const ffd = t.reports?.stationarization
    ?.ffd_window;
  if (ffd) {
    lines.push(
      `- FFD window length (rows) per d: ${Object.entries(ffd).map(([d, n]) => `${d}: ${n}`).join(", ")}`,
    );
  }
  const ext = t.reports?.feature_engineering?.extraction;
  if (ext?.placement) {
    // Where each feature ran (the GPU or the CPU worker pool).
    const by = new Map<string, string[]>();
    for (const [f, p] of Object.entries(ext.placement)) by.set(p, [...(by.get(p) ?? []), f]);
    const where = [...by].map(([p, fs]) =>
      `${p === "cpu" && ext.cpu_workers ? `cpu (${ext.cpu_workers} workers)` : p}: ${fs.join(", ")}`
    );
    lines.push(`- feature set ${ext.set} (${ext.columns} columns); ${cell(where.join("; "))}`);
  }
  return lines;
}

function qualityLines(t: TaskSummary): string[] {
  const q = Object.entries(t.quality ?? {});
  if (!q.length) return [];
  const bad = q.filter(([, v]) => v.problem).length;
  return [
    "",
    `### Features: warm-up and missing values (${q.length} columns${bad ? `, ${bad} unusable` : ""})`,
    "",
    ...table(
      ["feature", "warm-up rows", "NaN rows", "infinite", "problem"],
      q.map(([name, v]) => [name, v.warmup, v.nan, v.inf, v.problem ?? ""]),
    ),
  ];
}

const num = (v: number | null | undefined, digits: number) =>
  v === null || v === undefined || !Number.isFinite(v) ? "" : v.toPrecision(digits);

/** The minimum-d search of `d_values: auto` per column (AFML 5.4): the chosen d and every evaluated d. */
function minDLines(t: TaskSummary): string[] {
  const m = t.reports?.stationarization?.min_d;
  if (!m) return [];
  const dNum = (d: number) => String(Number(d.toFixed(5)));
  return Object.entries(m).flatMap(([col, r]) => {
    const lags = r.autolag === "none"
      ? `maxlag ${r.maxlag ?? "default"}`
      : `${r.autolag} lags up to ${r.maxlag ?? "default"}`;
    const sample = r.looks_ahead
      ? `all ${r.sample_rows} rows (looks ahead)`
      : `the first ${r.sample_rows} rows, values from row ${r.first_row ?? "-"}`;
    const what = r.d === null ? "none" : `d = ${dNum(r.d)}`;
    return [
      "",
      `### Minimum d of ${cell(col)}: ${what} (ADF ${lags}, constant, ${
        r.level || "-"
      } critical value; ${sample})`,
      "",
      ...(r.problem ? [`- ${cell(r.problem)}`] : []),
      ...(r.above_not_rejecting?.length
        ? [`- not monotone: d = ${r.above_not_rejecting.map(dNum).join(", ")} above the answer do not reject`]
        : []),
      ...(r.table.length
        ? table(
          ["d", "ADF stat", "p-value", "critical", "rejects", "FFD window", "corr with log price"],
          r.table.map((x) => [
            dNum(x.d) + (x.stage === "bisection" ? " (bisection)" : ""),
            num(x.adf_stat, 4),
            num(x.p_value, 3),
            num(x.critical, 4),
            x.note ? cell(x.note) : x.rejects ? "yes" : "",
            x.ffd_window,
            num(x.corr, 4),
          ]),
        )
        : []),
    ];
  });
}

/** A model's name as a title: garch11 "GARCH(1,1)", gjr21_t "GJR(2,1)-t". */
const modelTitle = (name: string) =>
  name.replace(
    /^(garch|gjr)(\d)(\d)(?:_(\w+))?$/,
    (_, f, p, q, d) => `${f.toUpperCase()}(${p},${q})${d ? `-${d}` : ""}`,
  );

function garchLines(t: TaskSummary): string[] {
  const g = t.reports?.garch_models;
  if (!g?.columns) return [];
  const how = g.mode === "walk_forward"
    ? `walk-forward: window ${g.window}, refit every ${g.refit_every} bars, first value after ${g.min_samples} returns`
    : `in-sample fit on the last ${g.max_samples} returns (looks ahead)`;
  const models = g.models ?? ["garch11"];
  const title = models.map(modelTitle).join(", ") +
    (models.length > 1 ? ` (lowest ${g.select_by.toUpperCase()} per refit)` : "");
  const est = (p: GarchModelParams | null, se: GarchModelParams | null, k: string) =>
    p && k in p ? `${num(p[k], 4)}${se ? ` (${num(se[k], 2)})` : ""}` : "";
  const lines = [
    "",
    `### ${title} of ${cell(g.returns)}: ${how}`,
    "",
    `Estimates of the last fit${
      models.length > 1 ? " of the chosen model" : ""
    } with standard errors in brackets; half-life in bars.`,
    "",
    ...table(
      [
        "column",
        "mu",
        "omega",
        "alpha",
        "beta",
        "persistence",
        "half-life",
        "status",
        "refits (failed, not converged)",
      ],
      Object.entries(g.columns).map(([c, r]) => [
        c,
        est(r.params, r.se, "mu"),
        est(r.params, r.se, "omega"),
        est(r.params, r.se, "alpha"),
        est(r.params, r.se, "beta"),
        num(r.persistence, 4),
        num(r.half_life, 3),
        r.status + (r.message ? `: ${r.message}` : ""),
        `${r.refits} (${r.refits_failed}, ${r.refits_not_converged})`,
      ]),
    ),
  ];
  if (models.length === 1 && models[0] === "garch11") return lines;
  // Every model's last fit: the criteria and the parameters the table above leaves out.
  const shown = new Set(["mu", "omega", "alpha", "beta"]);
  return [
    ...lines,
    "",
    `Every model's last fit (${g.mean} mean); chosen: refits at which it had the lowest ${g.select_by.toUpperCase()}.`,
    "",
    ...table(
      ["column", "model", "chosen", "log-likelihood", "AIC", "BIC", "other parameters", "status"],
      Object.entries(g.columns).flatMap(([c, r]) =>
        Object.entries(r.models ?? {}).map(([name, m]) => [
          c,
          name + (name === r.model ? " (selected)" : ""),
          m.selected,
          num(m.loglik, 8),
          num(m.aic, 8),
          num(m.bic, 8),
          Object.keys(m.params ?? {}).filter((k) => !shown.has(k)).map((k) =>
            `${k} ${est(m.params, m.se, k)}`
          )
            .join(", "),
          m.status + (m.message ? `: ${m.message}` : ""),
        ])
      ),
    ),
  ];
}

function selectionLines(t: TaskSummary): string[] {
  const sel = t.reports?.statistical_tests;
  if (!sel?.ranking) return [];
  const p = sel.permutation;
  const scheme = `; p-values: ${p.permutations} ${p.scheme} permutations` +
    (p.min_block ? `, shifts of at least ${p.min_block} bars` : "") +
    (p.stop_after
      ? `, stopped early (Besag-Clifford, p = ${p.stop_after} / permutations drawn) for ${p.stopped_early} of ${sel.ranking.length}`
      : "") +
    (sel.fdr_level !== null ? `; selected at BH q <= ${sel.fdr_level}` : "");
  const chosen = new Set(sel.selected);
  const lines = [
    "",
    `### Selection: dCor with ${cell(sel.target)} (${sel.rows} rows${cell(scheme)})`,
    "",
    ...table(
      ["rank", "feature", "dCor", "p-value", "q-value", "n", "selected"],
      sel.ranking.map((r, i) => [
        i + 1,
        r.feature,
        num(r.dcor, 4),
        num(r.p_value, 3),
        num(r.q_value, 3),
        r.n,
        chosen.has(r.feature) ? "yes" : "",
      ]),
    ),
  ];
  if (sel.excluded.length) {
    lines.push(
      "",
      "Not ranked:",
      "",
      ...table(
        ["feature", "reason", "cause"],
        sel.excluded.map((e) => [e.feature, e.reason, t.quality?.[e.feature]?.problem ?? ""]),
      ),
    );
  }
  return lines;
}

/** The summary as Markdown. */
export function summaryMarkdown(s: RunSummary): string {
  const lines = [
    `# Run ${s.run_id}: ${s.status}`,
    "",
    `- source: ${s.source}`,
    `- output: ${s.output}`,
    `- adapter: ${s.adapter}`,
    `- ${s.rows} rows in ${s.seconds} s (${s.rows_per_s} rows/s); peak RSS ${s.peak_rss_mb} MiB (memory budget ${
      s.memory_budget_mb ?? "-"
    } MiB), GPU pool ${s.gpu_peak_mb} MiB, ${s.task_workers ?? 1} task(s) at a time`,
    `- engine time (ms): ${Object.entries(s.engine_ms).map(([k, v]) => `${k} ${v}`).join(", ") || "none"}`,
    "",
    ...table(
      ["instrument", "status", "rows", "ms", "error"],
      s.tasks.map((t) => [t.instrument, t.status, t.rows, t.ms, t.error ?? ""]),
    ),
  ];
  if (s.not_started) {
    lines.push("", `Not started (the run stopped after a failure): ${s.not_started.map(cell).join(", ")}`);
  }
  for (const t of s.tasks) {
    const body = [
      ...inputLines(t),
      ...minDLines(t),
      ...garchLines(t),
      ...qualityLines(t),
      ...selectionLines(t),
    ];
    if (body.length) lines.push("", `## ${cell(t.instrument)}`, "", ...body);
  }
  return lines.join("\n") + "\n";
}
