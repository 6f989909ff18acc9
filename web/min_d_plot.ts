/// <reference lib="dom" />
/**
 * The minimum-d picture (AFML Figure 5.5) for the page: per column searched with `frac_diff.d_values: auto`,
 * the ADF statistic of the FFD series and its correlation with the log price against d, with the ADF critical
 * value line; the chosen d is where the statistic first drops below the line. Drawn from the stationarization
 * report's min-d table (engines/stationarization.ts `MinDReport`), so it shows exactly what the engine decided.
 */
import uPlot from "npm:uplot@1.6.32";
import type { StationarizationReport } from "../mod.ts";

/** One column's curve: every evaluated d in increasing order (null where a d could not be tested). */
export interface MinDCurve {
  /** The column searched. */
  column: string;
  /** The chosen d (null when none rejects). */
  chosen: number | null;
  /** The critical value's level ("5%"). */
  level: string;
  /** Evaluated orders, increasing. */
  d: number[];
  /** ADF statistic per d. */
  adf: (number | null)[];
  /** The critical value per d (it depends slightly on the regression's rows). */
  critical: (number | null)[];
  /** Correlation of the FFD series with the log price per d. */
  corr: (number | null)[];
}

const finite = (v: number) => (Number.isFinite(v) ? v : null);

/** The curves of the stationarization report's `min_d` section (empty without `d_values: auto`). */
export function minDCurves(report: StationarizationReport | undefined): MinDCurve[] {
  const minD = report?.min_d ?? {};
  return Object.entries(minD).map(([column, m]) => {
    const rows = [...m.table].sort((a, b) => a.d - b.d);
    return {
      column,
      chosen: m.d,
      level: m.level,
      d: rows.map((r) => r.d),
      adf: rows.map((r) => finite(r.adf_stat)),
      critical: rows.map((r) => finite(r.critical)),
      corr: rows.map((r) => finite(r.corr)),
    };
  });
}

/** Draws one curve into `holder` (x: d; left axis: ADF statistic and critical value; right: correlation). */
export function drawMinD(c: MinDCurve, holder: HTMLElement, width: number): uPlot {
  const num = (_u: uPlot, v: number | null) => (v === null ? "—" : v.toFixed(3));
  return new uPlot(
    {
      width,
      height: 220,
      scales: { x: { time: false }, corr: { range: [0, 1] } },
      series: [
        { label: "d", value: num },
        {
          label: "ADF statistic",
          scale: "adf",
          stroke: "#2563eb",
          width: 1.5,
          points: { show: true },
          value: num,
        },
        { label: `critical value (${c.level})`, scale: "adf", stroke: "#dc2626", dash: [6, 4], value: num },
        {
          label: "correlation with log price",
          scale: "corr",
          stroke: "#16a34a",
          points: { show: true },
          value: num,
        },
      ],
      axes: [
        { label: "d" },
        { scale: "adf", label: "ADF statistic", size: 62 },
        { scale: "corr", label: "correlation", side: 1, grid: { show: false }, size: 50 },
      ],
      legend: { show: true },
    },
    [c.d, c.adf, c.critical, c.corr] as uPlot.AlignedData,
    holder,
  );
}
