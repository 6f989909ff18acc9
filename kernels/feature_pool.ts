/**
 * {@link featureSetCpu} on a pool of Web Workers (kernels/feature_sets_worker.ts, driven through Comlink), so
 * the f64 CPU features run in parallel beside the GPU.
 *
 * Each job (a column and its WindowSpec) is split into row ranges of roughly equal cost, about 4 per worker
 * over all jobs, so a few long columns still balance across workers. A chunk over rows [from, to) gets
 * `halo` rows of history before `from` (its longest window - 1): every window value depends only on that
 * window's points, so the chunk's outputs from `from` on equal featureSetCpu on the whole column bit for
 * bit (the rolling path re-sorts its first window instead of updating, which yields the same sorted array).
 * Workers are started per call and terminated when it ends, also on error.
 */
import * as Comlink from "npm:comlink@4.4.2";
import { UsageError } from "../runtime/errors.ts";
import { idleCores } from "../runtime/cores.ts";
import { startWorkers } from "../runtime/workers.ts";
import { featureSetCpu } from "./feature_sets.ts";
import type { FeatureWorkerApi } from "./feature_sets_worker.ts";
import type { WindowSpec } from "./window_features.ts";

export type { WindowSpec };

/** One column to evaluate: its values and which windows (rolling, or per-row lengths). */
export interface FeatureJob {
  /** The column (not modified, never transferred away). */
  x: Float64Array;
  /** Rolling `{ window }` or per-row `{ lens }` (lens.length === x.length). */
  spec: WindowSpec;
}

/** Options of {@link featureSetCpuParallel}. */
export interface FeaturePoolOptions {
  /**
   * Web Workers to start (default navigator.hardwareConcurrency); never more than there are chunks to run,
   * nor than the idle cores plus one where the load is known (runtime/cores.ts; none with one core free).
   * 0 computes in-process on the calling thread (same results).
   */
  workers?: number;
  /** Called after each chunk with the rows done so far and the total rows of all jobs. */
  onProgress?: (done: number, total: number) => void;
  /**
   * The worker module (default kernels/feature_sets_worker.ts next to this file, or feature_sets_worker.js
   * next to a bundle).
   */
  workerUrl?: string | URL;
  /**
   * Work (the plan's cost units, see {@link planFeatureChunks}) below which no worker is started and the
   * chunks run on the calling thread (default {@link MIN_POOL_WORK}; 0 always starts the workers). The chunks
   * are the same either way, so the results are too, bit for bit.
   */
  minWork?: number;
  /** Called once with the number of workers started (0: every chunk ran on the calling thread). */
  onStart?: (workers: number) => void;
}

/** A row range of one job, as planned by {@link planFeatureChunks}. */
export interface FeatureChunk {
  /** Index of the job. */
  job: number;
  /** First output row. */
  from: number;
  /** One past the last output row. */
  to: number;
  /** Rows of history before `from` that the chunk's windows reach (at most `from`). */
  halo: number;
  /** Estimated cost (arbitrary units; 0: no window ends in the chunk, its outputs are all NaN). */
  cost: number;
}

/**
 * The worker module next to this one: the .ts source, or in the page's bundle (web/build.ts, where this code
 * is inlined into js/worker.js) the separately bundled js/feature_sets_worker.js.
 */
const DEFAULT_WORKER = new URL(
  import.meta.url.endsWith(".ts") ? "./feature_sets_worker.ts" : "./feature_sets_worker.js",
  import.meta.url,
);

/**
 * Default {@link FeaturePoolOptions.minWork}: about 1 s of one thread on the 2-core development machine
 * (minimal set at window 50: ~2 ns per unit, 500 units per row; efficient: ~3 ns per unit). Starting two
 * workers and copying the chunks costs ~0.15-0.2 s there, so smaller jobs ran slower in the pool than on one
 * thread (minimal set, 2e5 rows: 0.43 s in the pool vs 0.20 s on one thread).
 */
export const MIN_POOL_WORK = 4e8;

/** Smallest chunk worth a message round trip. */
const MIN_CHUNK_ROWS = 256;

/** Chunks per worker: enough slack that uneven chunks (NaN gaps, varying lens) still balance. */
const CHUNKS_PER_WORKER = 4;

/**
 * Relative cost of one window of `len` points: a pass per feature plus the moments and sorted window,
 * and the O(len^2) features (entropies, the direct DFT shared by fft_aggregated) per pair of points.
 */
function windowCostModel(features: readonly string[]): (len: number) => number {
  let linear = 2, quadratic = 0, fft = false;
  for (const f of new Set(features)) {
    if (f === "sample_entropy") quadratic += 1;
    else if (f.startsWith("approximate_entropy")) quadratic += 2.5; // two passes (m and m + 1), full pair matrix
    else if (f.startsWith("fft_aggregated")) fft = true;
    else linear += 1;
  }
  if (fft) quadratic += 1;
  return (len) => (len > 0 ? len * linear + len * len * quadratic : 0);
}

function checkJob(job: FeatureJob, i: number): void {
  const { x, spec } = job;
  if (!(x instanceof Float64Array)) {
    throw new UsageError(`featureSetCpuParallel: jobs[${i}].x must be a Float64Array`);
  }
  if ("window" in spec) {
    if (!Number.isInteger(spec.window) || spec.window < 0) {
      throw new UsageError(
        `featureSetCpuParallel: jobs[${i}] window must be an integer >= 0, got ${spec.window}`,
      );
    }
  } else if (!(spec.lens instanceof Int32Array) || spec.lens.length !== x.length) {
    throw new UsageError(
      `featureSetCpuParallel: jobs[${i}].spec.lens must be an Int32Array of x.length (${x.length}) entries`,
    );
  }
}

/**
 * Splits jobs into row ranges for `workers` workers: each job into k chunks of about equal cost (k from
 * its share of the total cost, targeting 4 chunks per worker, chunks of at least 256 rows), returned
 * costliest first (the order to schedule them). Covers every row of every job exactly once.
 */
export function planFeatureChunks(
  jobs: readonly FeatureJob[],
  features: readonly string[],
  workers: number,
): FeatureChunk[] {
  const cost = windowCostModel(features);
  // prefix[t]: cost of the windows ending before row t (0 where featureSetCpu skips a row for its length).
  const prefixes = jobs.map(({ x, spec }) => {
    const p = new Float64Array(x.length + 1);
    for (let t = 0; t < x.length; t++) {
      const len = "window" in spec ? spec.window : spec.lens[t];
      p[t + 1] = p[t] + (len > 0 && len <= t + 1 ? cost(len) : 0);
    }
    return p;
  });
  const total = prefixes.reduce((a, p) => a + p[p.length - 1], 0);
  const target = total / (CHUNKS_PER_WORKER * Math.max(1, workers));
  const chunks: FeatureChunk[] = [];
  jobs.forEach(({ x, spec }, j) => {
    const n = x.length, p = prefixes[j], jobCost = p[n];
    if (n === 0) return;
    const k = Math.max(1, Math.min(Math.round(jobCost / target) || 1, Math.floor(n / MIN_CHUNK_ROWS)));
    let from = 0;
    for (let i = 1; i <= k; i++) {
      // Cut where the running cost reaches i/k of the job's, leaving MIN_CHUNK_ROWS rows to every chunk.
      let to = n;
      if (i < k) {
        const goal = (jobCost * i) / k;
        let lo = from, hi = n; // first row r with p[r] >= goal
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (p[mid] < goal) lo = mid + 1;
          else hi = mid;
        }
        to = Math.min(Math.max(lo, from + MIN_CHUNK_ROWS), n - (k - i) * MIN_CHUNK_ROWS);
      }
      let reach = 0;
      if ("window" in spec) reach = spec.window - 1;
      else for (let r = from; r < to; r++) reach = Math.max(reach, spec.lens[r] - 1);
      chunks.push({ job: j, from, to, halo: Math.max(0, Math.min(from, reach)), cost: p[to] - p[from] });
      from = to;
    }
  });
  // Costliest first (stable): the long tails start early.
  return chunks.map((c, i) => [c, i] as const).sort((a, b) => b[0].cost - a[0].cost || a[1] - b[1])
    .map(([c]) => c);
}

/** What runs one chunk: a worker (through Comlink) or this thread. */
type ChunkRunner = (x: Float64Array, spec: WindowSpec, features: readonly string[]) => Promise<
  Map<string, Float64Array>
>;

/** The chunk's input: its rows with the halo, and the spec for them (halo rows' lens zeroed: not computed). */
function chunkInput(job: FeatureJob, c: FeatureChunk, copy: boolean): { x: Float64Array; spec: WindowSpec } {
  const a = c.from - c.halo;
  const x = copy ? job.x.slice(a, c.to) : job.x.subarray(a, c.to);
  if ("window" in job.spec) return { x, spec: { window: job.spec.window } };
  const lens = job.spec.lens.slice(a, c.to);
  lens.fill(0, 0, c.halo);
  return { x, spec: { lens } };
}

/**
 * featureSetCpu for every job, on a pool of Web Workers: returns, per job, the same map (feature -> values
 * per row, bit for bit) as `featureSetCpu(job.x, job.spec, features)`. Long columns are split into row
 * ranges (see {@link planFeatureChunks}). `workers` defaults to navigator.hardwareConcurrency, is capped by
 * the number of chunks, and 0 computes in-process. An error in a worker (such as featureSetCpu's
 * `unknown feature ...`) rejects the call with its message; the workers are terminated either way.
 * Throws UsageError for a bad worker count or job (lens not an Int32Array of x.length, bad window).
 */
export async function featureSetCpuParallel(
  jobs: readonly FeatureJob[],
  features: readonly string[],
  opts: FeaturePoolOptions = {},
): Promise<Map<string, Float64Array>[]> {
  const requested = opts.workers ?? globalThis.navigator?.hardwareConcurrency ?? 1;
  if (!Number.isInteger(requested) || requested < 0) {
    throw new UsageError(`featureSetCpuParallel: workers must be an integer >= 0, got ${requested}`);
  }
  jobs.forEach(checkJob);
  const out = jobs.map(({ x }) => new Map(features.map((f) => [f, new Float64Array(x.length).fill(NaN)])));
  const total = jobs.reduce((a, j) => a + j.x.length, 0);
  if (features.length === 0) return out;

  // Chunks without a window (cost 0) stay NaN, as featureSetCpu leaves them, without a round trip.
  const plan = planFeatureChunks(jobs, features, Math.max(1, requested));
  const chunks = plan.filter((c) => c.cost > 0);
  let done = total - chunks.reduce((a, c) => a + c.to - c.from, 0);
  let reported = false;

  const work = chunks.reduce((a, c) => a + c.cost, 0);
  // Workers only when worth a start, and for idle cores (runtime/cores.ts: known with Deno's loadavg
  // permission) plus this thread's, which waits: with one core in all the chunks run here.
  const cores = idleCores() + 1;
  const started = work < (opts.minWork ?? MIN_POOL_WORK) || cores < 2
    ? 0
    : Math.min(requested, chunks.length, cores);
  const inProcess = started === 0;
  opts.onStart?.(started);
  let next = 0;
  let failed = false;
  const loop = async (run: ChunkRunner) => {
    while (!failed && next < chunks.length) {
      const c = chunks[next++];
      const job = jobs[c.job];
      // Workers get copies (their buffers are transferred); this thread reads the column in place.
      const input = chunkInput(job, c, !inProcess);
      const transfer = [input.x.buffer as ArrayBuffer];
      if ("lens" in input.spec) transfer.push(input.spec.lens.buffer as ArrayBuffer);
      let res: Map<string, Float64Array>;
      try {
        res = await run(inProcess ? input.x : Comlink.transfer(input.x, transfer), input.spec, features);
      } catch (e) {
        failed = true;
        throw e;
      }
      if (failed) return;
      const dst = out[c.job];
      for (const [f, v] of res) dst.get(f)!.set(v.subarray(c.halo), c.from);
      done += c.to - c.from;
      reported = true;
      opts.onProgress?.(done, total);
    }
  };
  const set = startWorkers<FeatureWorkerApi>(
    opts.workerUrl ?? DEFAULT_WORKER,
    started,
    "featureSetCpuParallel",
  );
  const runners: ChunkRunner[] = inProcess
    ? [(x, spec, f) => Promise.resolve(featureSetCpu(x, spec, f))]
    : set.remotes.map((remote) => (x, spec, f) => remote.featureSet(x, spec, f));
  try {
    // Rejects at the first failure; the finally then terminates the workers still running a chunk.
    await Promise.race([Promise.all(runners.map((run) => loop(run))), set.failure]);
  } finally {
    failed = true;
    set.close();
  }
  if (!reported) opts.onProgress?.(done, total);
  return out;
}
