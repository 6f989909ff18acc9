/**
 * summary.md: the run summary a quant reads. Per instrument: time per phase, why it was processed again,
 * input columns not loaded and cells read as NaN, FFD window length per d, where the feature set ran, the
 * warm-up and NaN counts of every feature with the cause of any unusable one, the GARCH fits and the
 * selection table. Names and messages are escaped so no value breaks a table.
 */
import type { RunSummary, TaskSummary } from "./run.ts";

/** A table cell: pipes and line breaks escaped. */
function cell(v: unknown): string {
  return String(v ?? "").replaceAll("\\", "\\\\").replaceAll("|", "\\|").replace(/\r?\n|\r/g, " ");
}

function table(head: string[], rows: unknown[][]): string[] {
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ];
}

/** The parts of the feature-set report (engines/feature_sets.ts) the summary shows. */
interface ExtractionReport {
  set: string;
  columns: number;
  placement?: Record<string, string>;
  cpu_workers?: number;
}

function inputLines(t: TaskSummary): string[] {
  const lines: string[] = [];
  if (t.phases_ms) {
    lines.push(
      `- time per phase (ms): ${Object.entries(t.phases_ms).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    );
  }
  if (t.reprocessed) lines.push(`- processed again: ${cell(t.reprocessed)}`);
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
  const ffd = (t.reports?.stationarization as { ffd_window?: Record<string, number> } | undefined)
    ?.ffd_window;
  if (ffd) {
    lines.push(
      `- FFD window length (rows) per d: ${Object.entries(ffd).map(([d, n]) => `${d}: ${n}`).join(", ")}`,
    );
  }
  const ext = (t.reports?.feature_engineering as { extraction?: ExtractionReport } | undefined)?.extraction;
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

/** The parts of the selection report (engines/statistical_tests.ts) the summary shows. */
interface SelectionReport {
  target: string;
  rows: number;
  selected: string[];
  ranking: { feature: string; dcor: number; p_value: number | null; q_value?: number | null; n: number }[];
  excluded?: { feature: string; reason: string }[];
  permutation?: Record<string, unknown>;
}

const num = (v: number | null | undefined, digits: number) =>
  v === null || v === undefined || !Number.isFinite(v) ? "" : v.toPrecision(digits);

function selectionLines(t: TaskSummary): string[] {
  const sel = t.reports?.statistical_tests as SelectionReport | undefined;
  if (!sel) return [];
  const scheme = sel.permutation
    ? `; permutations: ${Object.entries(sel.permutation).map(([k, v]) => `${k} ${v}`).join(", ")}`
    : "";
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
  if (sel.excluded?.length) {
    lines.push(
      "",
      "Not ranked:",
      "",
      ...table(["feature", "reason"], sel.excluded.map((e) => [e.feature, e.reason])),
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
    `- ${s.rows} rows in ${s.seconds} s (${s.rows_per_s} rows/s); peak RSS ${s.peak_rss_mb} MiB, GPU pool ${s.gpu_peak_mb} MiB`,
    `- engine time (ms): ${Object.entries(s.engine_ms).map(([k, v]) => `${k} ${v}`).join(", ") || "none"}`,
    "",
    ...table(
      ["instrument", "status", "rows", "ms", "error"],
      s.tasks.map((t) => [t.instrument, t.status, t.rows, t.ms, t.error ?? ""]),
    ),
  ];
  for (const t of s.tasks) {
    const body = [...inputLines(t), ...qualityLines(t), ...selectionLines(t)];
    if (body.length) lines.push("", `## ${cell(t.instrument)}`, "", ...body);
  }
  return lines.join("\n") + "\n";
}
