/**
 * Pipeline benchmarks: the generator's rows/s and MB/s with 1 and 2 workers, and the batch pipeline end to
 * end (read + validate, engines, Feather output) in rows/s with its per-engine time, on generated bars in a
 * temporary folder.
 */
import { join } from "node:path";
import { configHash } from "../config/print.ts";
import { defaultConfig } from "../config/schema.ts";
import { generate } from "../generator/generate.ts";
import { LocalStorage } from "../io/storage.ts";
import { runPipeline } from "../pipeline/run.ts";
import { setLogSink } from "../runtime/log.ts";

/** What `benchPipeline` measures. */
export interface PipelineBench {
  generator: { workers: number; rows: number; seconds: number; rows_per_s: number; mb_per_s: number }[];
  pipeline: {
    instruments: number;
    rows: number;
    seconds: number;
    rows_per_s: number;
    engine_ms: Record<string, number>;
    adapter: string;
  };
}

/** Runs the pipeline benchmarks (smaller with `quick`), reporting progress lines through `progress`. */
export async function benchPipeline(quick: boolean, progress: (s: string) => void): Promise<PipelineBench> {
  const dir = await Deno.makeTempDir({ prefix: "fg-bench-" });
  try {
    const rows = quick ? 500_000 : 2_000_000;
    const generator = [];
    for (const workers of [1, 2]) {
      const r = await generate({
        kind: "bars",
        storage: new LocalStorage(join(dir, `gen${workers}`)),
        instruments: 2,
        rows: rows / 2,
        seed: 1,
        workers,
      });
      generator.push({
        workers,
        rows: r.rows,
        seconds: r.seconds,
        rows_per_s: r.rowsPerSecond,
        mb_per_s: r.mbPerSecond,
      });
      progress(
        `generator, ${workers} worker(s): ${Math.round(r.rowsPerSecond)} rows/s, ${
          r.mbPerSecond.toFixed(1)
        } MB/s`,
      );
    }
    const config = defaultConfig();
    const instruments = 4, perInstrument = quick ? 100_000 : 250_000;
    config.data.source = join(dir, "bars");
    config.storage.output = join(dir, "out");
    await generate({
      kind: "bars",
      storage: new LocalStorage(config.data.source),
      instruments,
      rows: perInstrument,
      seed: 2,
      workers: 2,
    });
    const quiet = setLogSink(() => {});
    try {
      const s = await runPipeline({
        config,
        configHash: await configHash(config),
        source: new LocalStorage(config.data.source),
        output: new LocalStorage(config.storage.output),
        registryPath: join(dir, "registry.sqlite"),
        progress: () => {},
      });
      progress(
        `pipeline (${s.adapter}): ${s.rows} rows in ${s.seconds} s = ${s.rows_per_s} rows/s; engines ${
          JSON.stringify(s.engine_ms)
        } ms`,
      );
      return {
        generator,
        pipeline: {
          instruments,
          rows: s.rows,
          seconds: s.seconds,
          rows_per_s: s.rows_per_s,
          engine_ms: s.engine_ms,
          adapter: s.adapter,
        },
      };
    } finally {
      setLogSink(quiet);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
