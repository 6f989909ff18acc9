/**
 * `run`: the stationarization engine over generated data (until the pipeline lands): synthetic 1-minute bars
 * for several instruments, every feature of the engine, one ZSTD Parquet file per instrument written
 * atomically to OUTPUT/<instrument>/features.parquet, and a summary (JSON on stdout, table on stderr).
 */
import { join } from "node:path";
import { encodeParquet } from "../io/parquet_write.ts";
import { syntheticBars } from "../io/synthetic.ts";
import { writeFileAtomic } from "../io/write.ts";
import { STATIONARIZATION_DEFAULTS, stationarize } from "../engines/stationarization.ts";
import { openCompute } from "../runtime/backend.ts";
import { log } from "../runtime/log.ts";
import { type Args, rejectRest, take, takeBackend, takeInt } from "./args.ts";

const NAMES = ["EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "BTCUSD", "AUDUSD", "USDCHF", "NZDUSD"];
const STARTS = [1.1, 1.27, 150, 2000, 40000, 0.66, 0.9, 0.6];

/** Runs the demo job. */
export async function demoCommand(args: Args): Promise<void> {
  const instruments = takeInt(args, "instruments", 4);
  const rows = takeInt(args, "rows", 100_000);
  const output = take(args, "output") ?? "out/demo";
  const backend = takeBackend(args);
  rejectRest(args, "run");
  const compute = await openCompute({ backend });
  const cfg = { ...STATIONARIZATION_DEFAULTS, corr_pairs: [["close", "volume"]] as [string, string][] };
  const summary = [];
  const t0 = performance.now();
  for (let i = 0; i < instruments; i++) {
    const name = NAMES[i % NAMES.length] + (i >= NAMES.length ? `_${Math.floor(i / NAMES.length)}` : "");
    const frame = syntheticBars(name, { rows, seed: 1000 + i, start: STARTS[i % STARTS.length] });
    const t1 = performance.now();
    const { columns, report } = await stationarize(frame, cfg, compute);
    const path = join(output, name, "features.parquet");
    await Deno.mkdir(join(output, name), { recursive: true });
    const all = new Map([...frame.columns, ...columns]);
    await writeFileAtomic(path, encodeParquet(all, { name: "timestamp", values: frame.timestamps! }));
    const ms = performance.now() - t1;
    const finite = [...columns.values()].reduce((a, c) => a + c.filter(Number.isFinite).length, 0);
    summary.push({
      instrument: name,
      rows,
      features: columns.size,
      finite_values: finite,
      ms: Math.round(ms),
      path,
      ...report,
    });
    log("info", `${name}: ${columns.size} features x ${rows} rows in ${ms.toFixed(0)} ms -> ${path}`);
  }
  const total = performance.now() - t0;
  const result = {
    backend: compute.gpu ? `webgpu (${compute.gpu.adapterName})` : "cpu",
    instruments,
    rows_per_instrument: rows,
    total_ms: Math.round(total),
    rows_per_s: Math.round((instruments * rows) / (total / 1000)),
    tasks: summary,
  };
  console.log(JSON.stringify(result, null, 2));
}
