/** The chunked-run fixture of tests/chunked_test.ts and tests/append_test.ts. */
import { join } from "node:path";
import { generate } from "../generator/generate.ts";
import { LocalStorage } from "../io/storage.ts";
import { loadTask } from "../io/validate.ts";
import { discoverTasks } from "../io/discover.ts";
import type { Frame } from "../io/frame.ts";

// Windows of 10 and 200 rows, FFD d = 0.3 (66 weights, FFT grid 894 rows) and 0.5 (44, direct), a 50-row
// correlation, Baxter-King (24 rows), 20-row and per-day features, GARCH refits every 300 rows on 400 returns.
export const CHUNK_CONFIG = `
data: { source: /nowhere }
compute: { backend: cpu }
features:
  frac_diff: { d_values: [0.3, 0.5], threshold: 1e-3 }
  rolling_windows: [10, 200]
  log_stabilization: { enabled: true, causal: true }
  rolling_corr: { pairs: [[close, volume]], window: 50 }
  extraction: { set: minimal, windows: [20], columns: [close], segments: [day], workers: 1 }
  garch: { mode: walk_forward, refit_every: 300, min_samples: 500, window: 400, max_iter: 200 }
  selection_max_samples: 700
  selection_permutations: 50
`;

/** `rows` one-minute bars of one instrument. */
export async function bars(rows: number): Promise<Frame> {
  const dir = await Deno.makeTempDir({ prefix: "fg-chunked-" });
  const storage = new LocalStorage(join(dir, "gen"));
  await generate({ kind: "bars", storage, instruments: 1, rows, seed: 5, workers: 0 });
  const [task] = await discoverTasks(storage, "^([^/]+)/", ["parquet"]);
  const frame = await loadTask(storage, task, { denyColumns: [], timestampColumn: "timestamp" });
  await Deno.remove(dir, { recursive: true });
  return frame;
}
