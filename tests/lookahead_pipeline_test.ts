/**
 * No look-ahead at the pipeline level (issue 11 §2): the quant's own test. The whole job runs on a series and
 * on its truncations at several cut points — with the default configuration, and with every engine, feature
 * set and option that claims causality turned on — and every output column except the targets (`y_*`) must be
 * identical on the rows before the cut. This caught `<col>_garch_vol`, whose parameters used to be fitted on the
 * whole series. One tolerance: FFD above 49 weights is an overlap-save FFT on the f64 path, whose rounding
 * depends on the values in the last block, so those columns agree to 1e-12 x the series scale, not bit for bit.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { cli } from "./cli_harness.ts";
import { generate } from "../generator/generate.ts";
import { decodeFrame } from "../io/read.ts";
import { LocalStorage } from "../io/storage.ts";
import { encodeCsv } from "../io/write.ts";
import { loadTask } from "../io/validate.ts";
import { discoverTasks } from "../io/discover.ts";
import type { Frame } from "../io/frame.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/**
 * Every feature, set and causal option on (Baxter-King causal without fill, causal log stabilization, the
 * minimum-d FFD chosen on the first auto_rows rows, ...).
 */
const EVERYTHING = `
features:
  frac_diff: { d_values: auto, threshold: 1e-4, auto_rows: 1200 }
  columns: [close, volume]
  rolling_windows: [10, 200]
  log_stabilization: { enabled: true, causal: true }
  rolling_corr: { pairs: [[close, volume]], window: 50 }
  baxter_king: { mode: causal, fill: false }
  extraction: { set: comprehensive, windows: [20], columns: [close], segments: [day] }
  garch: { mode: walk_forward, refit_every: 700, min_samples: 500, window: expanding }
`;

async function series(dir: string, rows: number): Promise<Frame> {
  const storage = new LocalStorage(join(dir, "gen"));
  await generate({ kind: "bars", storage, instruments: 1, rows, seed: 3, workers: 0 });
  const [task] = await discoverTasks(storage, "^([^/]+)/", ["parquet"]);
  return await loadTask(storage, task, { denyColumns: [], timestampColumn: "timestamp" });
}

/** Runs the job on the first `rows` rows; returns the output frame. */
async function runOn(dir: string, full: Frame, rows: number, extra: string): Promise<Frame> {
  const run = join(dir, `cut-${rows}-${extra ? "all" : "default"}`);
  await Deno.mkdir(join(run, "bars", "SYN"), { recursive: true });
  const columns = [...full.columns].map(([name, v]) => ({ name, values: v.subarray(0, rows) }));
  await Deno.writeFile(
    join(run, "bars", "SYN", "bars.csv"),
    encodeCsv(columns, { values: full.timestamps!.subarray(0, rows), format: "ms" }),
  );
  const config = join(run, "config.yaml");
  await Deno.writeTextFile(
    config,
    `data: { source: ${join(run, "bars")} }\nstorage: { output: ${join(run, "out")} }\n` +
      `compute: { backend: cpu }\ngenerator: { if_empty: false }\n${extra}`,
  );
  const r = await cli(["run", "--config", config]);
  assert.equal(r.code, 0, r.err.slice(-2000));
  return await decodeFrame(await Deno.readFile(join(run, "out", "SYN", "part-00000.feather")), run);
}

async function check(extra: string, rows: number, cuts: number[]) {
  const dir = await Deno.makeTempDir({ prefix: "fg-lookahead-" });
  const full = await series(dir, rows);
  const ref = await runOn(dir, full, rows, extra);
  const features = [...ref.columns.keys()].filter((c) => !c.startsWith("y_"));
  assert.ok(features.some((c) => c.endsWith("_garch_vol")), "the GARCH column is checked");
  for (const c of features.filter((c) => c.endsWith("_fd_auto"))) {
    assert.ok(ref.columns.get(c)!.some(Number.isFinite), `${c} has values to compare`);
  }
  for (const cut of cuts) {
    const part = await runOn(dir, full, cut, extra);
    assert.deepEqual([...part.columns.keys()], [...ref.columns.keys()]);
    for (const name of features) {
      const a = ref.columns.get(name)!, b = part.columns.get(name)!;
      const fft = /_fd_/.test(name);
      const scale = fft ? Math.max(...a.subarray(0, cut).filter(Number.isFinite).map(Math.abs), 1) : 0;
      for (let t = 0; t < cut; t++) {
        const same = Object.is(a[t], b[t]) || (fft && Math.abs(a[t] - b[t]) <= 1e-12 * scale);
        if (!same) {
          assert.fail(`${name} row ${t} changes when the input is cut at ${cut}: ${a[t]} vs ${b[t]}`);
        }
      }
    }
  }
  await Deno.remove(dir, { recursive: true });
  return features; // every one compared at every cut
}

Deno.test(
  "no look-ahead, default configuration: cutting the input changes no earlier row of any feature",
  opts,
  async () => {
    // 6,000 rows > 4,076: every default FFD order has values. Cuts inside the warm-ups, between GARCH refits
    // and at a refit boundary (min_samples 1000, every 1000).
    assert.ok((await check("", 6000, [1500, 2001, 4500])).length > 20);
  },
);

Deno.test(
  "no look-ahead, every causal engine, feature set and option on: no earlier row changes",
  opts,
  async () => {
    // 3,000 rows: two UTC days of minutes (per-day segments). 1201 = min_samples + refit_every + 1 (a refit
    // boundary); 2000 cuts a day; 1100 is before auto_rows (no d yet: close_fd_auto all NaN in both).
    const features = await check(EVERYTHING, 3000, [1100, 1201, 2000]);
    assert.ok(features.length > 100 && features.includes("close_fd_auto"), features.join(", "));
  },
);

Deno.test(
  "the look-ahead check catches the old in-sample GARCH volatility (negative control)",
  opts,
  async () => {
    const inSample = `
pipeline:
  engines:
    stationarization: { enabled: false }
    feature_engineering: { enabled: false }
    statistical_tests: { enabled: false }
features:
  garch: { mode: in_sample }
`;
    await assert.rejects(
      () => check(inSample, 3000, [2000]),
      /close_garch_vol row \d+ changes when the input is cut at 2000/,
    );
  },
);
