/**
 * The batch pipeline's configuration: typed sections, a small declarative schema with the defaults of the
 * original system (DESIGN.md "Configuration", seeds/000 section 1), and the validator that applies it.
 *
 * Validation walks the parsed YAML once: it substitutes `${VAR}` / `${VAR:default}` in string scalars,
 * coerces substituted strings in numeric/boolean fields (`${WINDOW:20}` -> 20), fills defaults, rejects
 * unknown keys and bad values, and reports every problem in one UsageError whose lines name the file.
 * Size-like keys are capped from runtime/limits.ts (the table the `kernel` flags share), so a runaway value
 * is refused here, before any work.
 *
 * Defaults are written once, in `SCHEMA` below; the interfaces say what each key means. `deno task cli
 * config --print` prints them, and examples/config.yaml, which documents every key, is tested to equal them.
 * The interfaces and the schema are checked against each other when this module type-checks (below the
 * schema), so neither can gain, lose or retype a key alone.
 */

import { parse as parseYaml } from "npm:yaml@2.9.1";
import { UsageError } from "../runtime/errors.ts";
import { type EnvLookup, processEnv, substitute } from "./env.ts";
import { targetNameProblem } from "../engines/target.ts";
import type { FracDiffConfig } from "../engines/stationarization.ts";
import type { GarchConfig } from "../engines/garch.ts";
import type { FeatureExtractionConfig } from "../kernels/feature_frame.ts";
import { garchModelProblem } from "../kernels/garch_model.ts";
import { ffdSearchProblem, ffdWeightsProblem } from "../kernels/fracdiff.ts";
import { LIMITS } from "../runtime/limits.ts";
import { FEATURE_SETS } from "../kernels/feature_sets.ts";

export type { FracDiffConfig, GarchConfig };

// ---------------------------------------------------------------------------------------------------------
// Types

/** An input file format the pipeline can read. */
export type InputFormat = "parquet" | "feather" | "arrow" | "csv";

/** `data`: where the bar files are and how to read them. */
export interface DataConfig {
  /** A folder path or `s3://bucket/prefix` holding the bar files. */
  source: string;
  /** File types to read (others are ignored). */
  formats: InputFormat[];
  /** Name of the timestamp column. */
  timestamp_column: string;
  /** Columns dropped on read (never become features). */
  deny_columns: string[];
  /**
   * The file's column for each role, e.g. `{ close: "Adj Close", timestamp: Date }` (timestamp overrides
   * `timestamp_column`). Unset (null) roles are found by name: the role, in any case (`Close`), or `Adj Close`
   * for close.
   */
  columns: Record<"timestamp" | "open" | "high" | "low" | "close" | "volume", string | null>;
  /**
   * A non-numeric cell in a numeric column (`n/a`, a stray byte): `"error"` (the task fails naming the
   * file, column, row and value) or `"nan"` (read as NaN, counted in the log and the summary).
   */
  bad_values: "error" | "nan";
  /**
   * Regex with one capture group giving the instrument from a file's key relative to the source (the
   * default: one folder per instrument); files directly under the source use their base name without
   * extension.
   */
  instrument_pattern: string;
}

/** `storage.s3`: S3 (or S3-compatible: R2, MinIO) connection settings. Secrets are never logged. */
export interface S3Config {
  /** Endpoint URL; null = AWS default. Falls back to env AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL. */
  endpoint: string | null;
  /** Region. Falls back to env AWS_REGION / AWS_DEFAULT_REGION, then `"auto"`. */
  region: string;
  /** Access key id; falls back to env AWS_ACCESS_KEY_ID. Masked in printed configs. */
  access_key_id: string | null;
  /** Secret access key; falls back to env AWS_SECRET_ACCESS_KEY. Masked in printed configs. */
  secret_access_key: string | null;
  /** Path-style addressing (`endpoint/bucket/key`). */
  force_path_style: boolean;
}

/** Output file format. */
export type OutputFormat = "feather" | "parquet";

/** Output compression codec. */
export type Compression = "lz4" | "zstd" | "none";

/** `storage`: where and how the outputs are written. */
export interface StorageConfig {
  /** A folder path or `s3://bucket/prefix` for outputs. */
  output: string;
  /** Output format. */
  format: OutputFormat;
  /** Compression: default `"lz4"` for feather; parquet is always `"zstd"`. */
  compression: Compression;
  /**
   * The run registry: a SQLite file path, or `postgres://user@host[:port]/db` for one registry shared by many
   * machines (password from PGPASSWORD, never in the URL); null = `<output>/registry.sqlite` when output is
   * local (see {@link registryPath}).
   */
  registry: string | null;
  /** S3 settings, used when `data.source` or `storage.output` is an `s3://` URL. */
  s3: S3Config;
}

/** A compute backend choice. */
export type Backend = "auto" | "webgpu" | "cpu";

/** `compute`: backend and memory budget. */
export interface ComputeConfig {
  /** `auto` (WebGPU if an adapter exists, else CPU), `webgpu` or `cpu`. */
  backend: Backend;
  /** Memory budget in bytes (YAML accepts integers or sizes like "512MiB", "2GB"). */
  memory_budget: number;
  /**
   * Instruments processed at once, each in a worker thread of its own (`auto`: one per core other processes
   * leave free, on the CPU backend, when the pending inputs are large enough to pay for the workers' start;
   * one with WebGPU; 0 or 1:
   * one at a time on the main thread). pipeline/task_pool.ts.
   */
  task_workers: "auto" | number;
}

/** `features.log_stabilization`: log transform before differencing. */
export interface LogStabilizationConfig {
  /** Apply it. */
  enabled: boolean;
  /** Shift added before the log (> 0). */
  shift: number;
  /** Use only past data for any data-dependent shift. */
  causal: boolean;
}

/** `features.rolling_corr`: rolling correlation of column pairs. */
export interface RollingCorrConfig {
  /** Column pairs. */
  pairs: [string, string][];
  /** Window (integer >= 2). */
  window: number;
}

/** `features.baxter_king`: Baxter-King band-pass filter. */
export interface BaxterKingConfig {
  /** Shortest period kept (integer >= 2). */
  low_freq: number;
  /** Longest period kept (integer > low_freq). */
  high_freq: number;
  /** Filter half-length (integer >= 1). */
  k: number;
  /**
   * `"causal"` (the symmetric filter lagged by k, uses only past rows) or `"symmetric"` (statsmodels'
   * bkfilter: uses k rows after t, so it looks ahead).
   */
  mode: "causal" | "symmetric";
  /** Fill the NaN warm-up at the edges with the nearest value; looks ahead, so NOT causal. */
  fill: boolean;
}

/** `features.extraction`: the feature sets (kernels/feature_frame.ts declares and documents each key). */
export type ExtractionConfig = Required<Omit<FeatureExtractionConfig, "progressMs">>;

/** `features`: feature-engine parameters. */
export interface FeaturesConfig {
  /** Rolling windows, each an integer >= 2. */
  rolling_windows: number[];
  /** Fractional differentiation. */
  frac_diff: FracDiffConfig;
  /** Log stabilization. */
  log_stabilization: LogStabilizationConfig;
  /** Rolling correlation. */
  rolling_corr: RollingCorrConfig;
  /** Baxter-King filter. */
  baxter_king: BaxterKingConfig;
  /** Rolling feature sets (feature_engineering engine, after Baxter-King). */
  extraction: ExtractionConfig;
  /** GARCH model. */
  garch: GarchConfig;
  /**
   * Target column for feature selection (engines/target.ts): `y_ret_fwd_<h>` = h bars, `y_ret_fwd_<duration>`
   * (`15m`, `1h`, `1d`) = resolved against the timestamps, or another `y_*` column of the input; anything else is
   * rejected here.
   */
  selection_target_column: string;
  /** Top-k features by distance correlation (integer >= 1). */
  dcor_top_k: number;
  /** Also score dCor over consecutive windows (mean and stability) in the selection. */
  stage1_rolling_enabled: boolean;
  /** Selection: score on at most this many latest rows with a target. */
  selection_max_samples: number;
  /** Selection: permutations per p-value. */
  selection_permutations: number;
  /** Selection: seed of the permutations. */
  selection_seed: number;
  /** Selection: window of the windowed dCor summary. */
  selection_rolling_window: number;
  /** Selection: drop features whose variance is <= this. */
  selection_variance_threshold: number;
  /** Selection: drop a feature whose |correlation| with a better-ranked kept one is >= this. */
  selection_corr_threshold: number;
  /** Selection: PCA of the kept features (explained variance and loadings in the report). */
  selection_pca: boolean;
  /**
   * Selection: permutations of the p-values, `"circular_shift"` (shifts of the target by at least the
   * horizon in bars and both series' dependence range, keeping serial dependence) or `"iid"` (energy::dcor.test).
   */
  selection_permutation: "circular_shift" | "iid";
  /** Selection: glob patterns (`*`, `?`) of columns never scored. */
  selection_exclude: string[];
  /**
   * Selection: share of the candidate rows on which the target and every scored feature must be finite; features
   * are set aside (fewest finite values first, with a reason) until it holds. In (0, 1].
   */
  selection_min_coverage: number;
  /** Selection: select only features whose Benjamini-Hochberg q-value is <= this, in (0, 1]; null = off. */
  selection_fdr_level: number | null;
  /**
   * Selection: sequential Monte Carlo p-values on the CPU (Besag-Clifford): a test stops at its h-th permutation
   * statistic >= the observed one, p = h / permutations drawn (reported per feature as `stopped_at`); a test that
   * never reaches h keeps the full-permutation p-value. 0 = off (every test draws all permutations).
   */
  selection_stop_after: number;
  /** Columns the stationarization engine transforms (non-empty). */
  columns: string[];
}

/** The engines, in their default order. */
export const ENGINE_NAMES = [
  "stationarization",
  "feature_engineering",
  "garch_models",
  "statistical_tests",
] as const;

/** An engine name. */
export type EngineName = typeof ENGINE_NAMES[number];

/** One engine's switch and position. */
export interface EngineToggle {
  /** Run this engine. */
  enabled: boolean;
  /** Position (integer >= 1; lower runs first; distinct among enabled engines). */
  order: number;
}

/** `pipeline`: which engines run, in which order. */
export interface PipelineConfig {
  /** Each engine's switch and position. */
  engines: Record<EngineName, EngineToggle>;
  /** Stop at the first failed task instead of continuing with the others. */
  fail_fast: boolean;
}

/** `generator`: synthetic bars for demos and tests. */
export interface GeneratorConfig {
  /** Instruments (integer >= 1). */
  instruments: number;
  /** Rows per instrument (integer >= 1). */
  rows: number;
  /** RNG seed (integer >= 0). */
  seed: number;
  /** Parallel workers (integer >= 1). */
  workers: number;
  /** `run` generates into `data.source` when it has no files. */
  if_empty: boolean;
}

/** `development`: switches for development runs. */
export interface DevelopmentConfig {
  /** Debug mode. */
  debug_mode: boolean;
  /** Delete existing outputs before running. */
  clean_existing_output: boolean;
  /** Re-run tasks that are already committed. */
  force_reprocessing: boolean;
  /** Log memory usage. */
  log_memory_usage: boolean;
}

/** The resolved configuration: every section present, every default filled. */
export interface Config {
  /** Input data. */
  data: DataConfig;
  /** Outputs, registry, S3. */
  storage: StorageConfig;
  /** Backend and memory budget. */
  compute: ComputeConfig;
  /** Feature parameters. */
  features: FeaturesConfig;
  /** Engine order and switches. */
  pipeline: PipelineConfig;
  /** Synthetic data generator. */
  generator: GeneratorConfig;
  /** Development switches. */
  development: DevelopmentConfig;
}

/** Options of {@link validateConfig}. */
export interface ValidateOptions {
  /** Environment for `${VAR}` substitution and S3 credential defaults. Default: the process environment. */
  env?: EnvLookup;
  /** File name used in messages. Default `"config"`. */
  source?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Byte sizes

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * Parses a byte size: an integer (bytes) or a string like `"512MiB"`, `"2GB"`, `"1.5 GiB"`, `"4096"`.
 * Units (case-insensitive): B, KB/MB/GB/TB (powers of 1000), KiB/MiB/GiB/TiB (powers of 1024).
 * Returns a whole number of bytes (rounded down), or null when the input is not a size.
 */
export function parseByteSize(value: unknown): number | null {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : null;
  if (typeof value !== "string") return null;
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*$/.exec(value);
  if (!m) return null;
  const unit = m[2] === "" ? 1 : UNITS[m[2].toLowerCase()];
  if (unit === undefined) return null;
  const bytes = Math.floor(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

// ---------------------------------------------------------------------------------------------------------
// The declarative schema

type Check = (v: string) => string | undefined;
type Spec =
  | { t: "int"; min?: number; max?: number; def?: number | string; words?: readonly string[]; note?: string }
  | { t: "num"; min?: number; max?: number; gt?: number; def?: number | null; nullable?: boolean }
  | { t: "bool"; def?: boolean }
  | { t: "bytes"; min?: number; def?: number }
  | {
    t: "str";
    def?: string | null;
    nullable?: boolean;
    nonEmpty?: boolean;
    oneOf?: readonly string[];
    check?: Check;
    what?: string;
  }
  | { t: "list"; of: Spec; def?: unknown[]; nonEmpty?: boolean; len?: number; words?: readonly string[] }
  | { t: "obj"; fields: Record<string, Spec> };

/** A schema node that validates to a `T` (a phantom field, so `typeof SCHEMA` carries the Config it builds). */
type Node<T> = Spec & { readonly __value?: T };
/** The value type a node validates to. */
type ValueOf<N> = N extends { readonly __value?: infer T } ? Exclude<T, undefined> : never;

const int = (def: number | undefined, min?: number, max?: number, note?: string): Node<number> => ({
  t: "int",
  def,
  min,
  max,
  note,
});
/** An integer or one of `words` (e.g. a window length or "expanding"). */
const intOr = <const W extends readonly string[]>(
  words: W,
  def: number | W[number],
  min?: number,
  max?: number,
): Node<number | W[number]> => ({ t: "int", def, min, max, words });
const num = (def: number | undefined, o: { min?: number; max?: number; gt?: number } = {}): Node<number> => ({
  t: "num",
  def,
  ...o,
});
const numOrNull = (o: { min?: number; max?: number; gt?: number }): Node<number | null> => ({
  t: "num",
  def: null,
  nullable: true,
  ...o,
});
const bool = (def: boolean): Node<boolean> => ({ t: "bool", def });
const bytes = (def: number, min: number): Node<number> => ({ t: "bytes", def, min });
const str = (
  def: string | undefined,
  o: { nonEmpty?: boolean; check?: Check; what?: string } = {},
): Node<string> => ({
  t: "str",
  def,
  nonEmpty: o.nonEmpty ?? true,
  check: o.check,
  what: o.what,
});
const nullable = (check?: Check): Node<string | null> => ({
  t: "str",
  def: null,
  nullable: true,
  nonEmpty: true,
  check,
});
const oneOf = <const V extends readonly string[]>(
  values: V,
  def: V[number] | undefined,
): Node<V[number]> => ({
  t: "str",
  def,
  oneOf: values,
});
/** A key left null by the walk and filled by `finish()` (from the format, the environment): typed as filled. */
const filledLater = <T>(node: Spec): Node<T> => ({ ...node, def: null, nullable: true } as Node<T>);
const list = <N extends Spec>(
  of: N,
  def: ValueOf<N>[] | undefined,
  o: { nonEmpty?: boolean; len?: number } = {},
): Node<ValueOf<N>[]> => ({ t: "list", of, def, ...o });
/** Exactly two of `of` (a column pair). */
const pair = <N extends Spec>(of: N): Node<[ValueOf<N>, ValueOf<N>]> => ({ t: "list", of, len: 2 });
/** A list, or one of `words` instead of it (e.g. d values or "auto"). */
const listOr = <const W extends readonly string[], N extends Spec>(
  words: W,
  of: N,
  def: ValueOf<N>[],
): Node<ValueOf<N>[] | W[number]> => ({ t: "list", of, def, words });
const obj = <F extends Record<string, Spec>>(
  fields: F,
): Node<{ -readonly [K in keyof F]: ValueOf<F[K]> }> => ({
  t: "obj",
  fields,
});

const location = (what: string): Check => (s: string) =>
  s.startsWith("s3://") && !/^s3:\/\/[^/]+(\/.*)?$/.test(s)
    ? `expected ${what} (a folder path or s3://bucket/prefix), got ${JSON.stringify(s)}`
    : undefined;

/** A SQLite path, or a PostgreSQL URL with a host and a database and no password (that comes from PGPASSWORD). */
const registryLocation: Check = (s: string) => {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return undefined;
  const what = "a SQLite file path or postgres://user@host[:port]/database";
  if (!/^postgres(ql)?:\/\//i.test(s)) return `expected ${what}, got ${JSON.stringify(s)}`;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return `expected ${what} (not a valid URL)`; // the text may hold a password: not echoed
  }
  if (url.password) {
    return "the URL holds a password: remove it and set PGPASSWORD in the environment of every shard instead " +
      "(a password in the configuration would reach printed configs and summaries)";
  }
  if (!url.hostname || url.pathname.length <= 1) return `expected ${what}, got ${JSON.stringify(s)}`;
  return undefined;
};

const regexWithOneGroup: Check = (s: string) => {
  let groups: number;
  try {
    groups = new RegExp(`${s}|`).exec("")!.length - 1;
  } catch (e) {
    return `expected a regular expression, got ${JSON.stringify(s)} (${(e as Error).message})`;
  }
  return groups === 1
    ? undefined
    : `expected a regular expression with exactly one capture group, got ${
      JSON.stringify(s)
    } (${groups} groups)`;
};

const engine = (enabled: boolean, order: number) => obj({ enabled: bool(enabled), order: int(order, 1) });

const SCHEMA = obj({
  data: obj({
    source: str("data/bars", { check: location("a data source") }),
    formats: list(oneOf(["parquet", "feather", "arrow", "csv"], undefined), [
      "parquet",
      "feather",
      "arrow",
      "csv",
    ], {
      nonEmpty: true,
    }),
    timestamp_column: str("timestamp"),
    deny_columns: list(str(undefined), []),
    columns: obj({
      timestamp: nullable(),
      open: nullable(),
      high: nullable(),
      low: nullable(),
      close: nullable(),
      volume: nullable(),
    }),
    bad_values: oneOf(["error", "nan"], "error"),
    instrument_pattern: str("^([^/]+)/", { check: regexWithOneGroup }),
  }),
  storage: obj({
    output: str("out/run", { check: location("an output location") }),
    format: oneOf(["feather", "parquet"], "feather"),
    compression: filledLater<Compression>(oneOf(["lz4", "zstd", "none"], undefined)), // null: zstd (finish)
    registry: nullable(registryLocation),
    s3: obj({
      endpoint: nullable(),
      region: filledLater<string>(nullable()), // the environment, then "auto"
      access_key_id: nullable(),
      secret_access_key: nullable(),
      force_path_style: bool(true),
    }),
  }),
  compute: obj({
    backend: oneOf(["auto", "webgpu", "cpu"], "auto"),
    memory_budget: bytes(2 ** 30, 1),
    task_workers: intOr(["auto"], "auto", 0, LIMITS.workers),
  }),
  features: obj({
    rolling_windows: list(int(undefined, 2, LIMITS.window), [10, 20, 50, 100, 200]),
    frac_diff: obj({
      d_values: listOr(["auto"], num(undefined, { min: 0, max: 2 }), [0.1, 0.2, 0.3, 0.4, 0.5]),
      threshold: num(1e-5, { gt: 0 }),
      auto_confidence: num(0.95, { min: 0.9, max: 0.99 }),
      // At least the longest FFD window at the default threshold (4076 rows at d = 0.1) plus a test sample.
      auto_rows: intOr(["all"], 20000, 100, LIMITS.samples),
      auto_autolag: oneOf(["none", "AIC", "BIC", "t-stat"], "none"),
      auto_maxlag: intOr(["default"], 1, 0, LIMITS.lags),
      auto_grid: int(11, 2, LIMITS.gridPoints),
      auto_precision: num(0.01, { min: LIMITS.precision, max: 0.5 }),
    }),
    log_stabilization: obj({ enabled: bool(true), shift: num(1, { gt: 0 }), causal: bool(true) }),
    rolling_corr: obj({
      pairs: list(pair(str(undefined)), []),
      window: int(50, 2, LIMITS.window),
    }),
    baxter_king: obj({
      low_freq: int(6, 2, LIMITS.window),
      high_freq: int(32, 3, LIMITS.window),
      k: int(12, 1, LIMITS.bkK),
      mode: oneOf(["causal", "symmetric"], "causal"),
      fill: bool(false),
    }),
    extraction: obj({
      set: oneOf(["none", "minimal", "efficient", "comprehensive"], "minimal"),
      windows: list(int(undefined, 2, LIMITS.featureWindow), [50]),
      columns: list(str(undefined), ["close"]),
      segments: list(str(undefined), []),
      workers: int(0, 0, LIMITS.workers),
    }),
    garch: obj({
      // Orders are part of a model's name (models: [garch21, ...]); p and q stay 1 so old configs keep their meaning.
      p: int(1, 1, 1, "orders go in models, e.g. garch21"),
      q: int(1, 1, 1, "orders go in models, e.g. garch21"),
      max_iter: int(1000, 1, LIMITS.iterations),
      max_samples: int(10000, 1, LIMITS.samples),
      mode: oneOf(["walk_forward", "in_sample"], "walk_forward"),
      // A fit needs at least 100 returns (kernels/garch_core.ts GARCH_MIN_SAMPLES).
      window: intOr(["expanding"], 10000, 100, LIMITS.samples),
      refit_every: int(1000, 1, LIMITS.samples),
      min_samples: int(1000, 100, LIMITS.samples),
      models: list(str(undefined, { check: garchModelProblem }), ["garch11"], { nonEmpty: true }),
      select_by: oneOf(["aic", "bic"], "aic"),
      mean: oneOf(["constant", "zero"], "constant"),
    }),
    selection_target_column: str("y_ret_fwd_15m", { check: targetNameProblem }),
    dcor_top_k: int(50, 1, LIMITS.topK),
    stage1_rolling_enabled: bool(true),
    selection_max_samples: int(5000, 10, LIMITS.samples),
    selection_permutations: int(199, 1, LIMITS.permutations),
    selection_seed: int(0, 0, LIMITS.seed),
    selection_rolling_window: int(500, 10, LIMITS.window),
    selection_variance_threshold: num(0, { min: 0 }),
    selection_corr_threshold: num(0.95, { gt: 0, max: 1 }),
    selection_pca: bool(true),
    selection_permutation: oneOf(["circular_shift", "iid"], "circular_shift"),
    selection_exclude: list(str(undefined), ["open", "high", "low", "close"]),
    selection_min_coverage: num(0.75, { gt: 0, max: 1 }),
    selection_fdr_level: numOrNull({ gt: 0, max: 1 }),
    selection_stop_after: int(10, 0, LIMITS.permutations),
    columns: list(str(undefined), ["close"], { nonEmpty: true }),
  }),
  pipeline: obj({
    engines: obj({
      stationarization: engine(true, 1),
      feature_engineering: engine(true, 2),
      garch_models: engine(true, 3),
      statistical_tests: engine(true, 4),
    }),
    fail_fast: bool(false),
  }),
  generator: obj({
    instruments: int(4, 1, LIMITS.instruments),
    rows: int(200000, 1, LIMITS.generatedRows),
    seed: int(42, 0),
    workers: int(2, 1, LIMITS.workers),
    if_empty: bool(true),
  }),
  development: obj({
    debug_mode: bool(false),
    clean_existing_output: bool(false),
    force_reprocessing: bool(false),
    log_memory_usage: bool(true),
  }),
});

// Compile-time proof that the schema validates to exactly `Config`: a key added, removed or retyped on one side
// only fails type-checking here, naming the key.
const _schemaToConfig = (v: ValueOf<typeof SCHEMA>): Config => v;
const _configToSchema = (v: Config): ValueOf<typeof SCHEMA> => v;

// ---------------------------------------------------------------------------------------------------------
// The walker

interface Ctx {
  env: EnvLookup;
  source: string;
  errors: string[];
}

function expected(s: Spec): string {
  switch (s.t) {
    case "int": {
      if (s.min !== undefined && s.min === s.max) return `${s.min}${s.note ? ` (${s.note})` : ""}`;
      const r = s.min !== undefined && s.max !== undefined
        ? ` in [${s.min}, ${s.max}]`
        : s.min !== undefined
        ? ` >= ${s.min}`
        : s.max !== undefined
        ? ` <= ${s.max}`
        : "";
      return `an integer${r}${s.words ? s.words.map((w) => ` or ${JSON.stringify(w)}`).join("") : ""}`;
    }
    case "num": {
      const parts = [
        s.gt !== undefined ? `> ${s.gt}` : "",
        s.min !== undefined && s.max !== undefined
          ? `in [${s.min}, ${s.max}]`
          : s.min !== undefined
          ? `>= ${s.min}`
          : s.max !== undefined
          ? `<= ${s.max}`
          : "",
      ].filter(Boolean);
      return `a number${parts.length ? " " + parts.join(" ") : ""}${s.nullable ? " or null" : ""}`;
    }
    case "bool":
      return "true or false";
    case "bytes":
      return `a byte size (an integer number of bytes or a string like "512MiB", "2GB", "1.5GiB")`;
    case "str": {
      const base = s.oneOf
        ? `one of ${s.oneOf.map((v) => JSON.stringify(v)).join(", ")}`
        : s.what ?? (s.nonEmpty ? "a non-empty string" : "a string");
      return s.nullable ? `${base} or null` : base;
    }
    case "list":
      return (s.len !== undefined
        ? `a list of ${s.len} items`
        : `a ${s.nonEmpty ? "non-empty " : ""}list of ${plural(expected(s.of))}`) +
        (s.words ? s.words.map((w) => ` or ${JSON.stringify(w)}`).join("") : "");
    case "obj":
      return "a mapping";
  }
}

function plural(e: string): string {
  return e.replace(/^an? /, "").replace(/^(integer|number|string|list|mapping)\b/, "$1s")
    .replace(/^non-empty string\b/, "non-empty strings").replace(/^byte size\b/, "byte sizes");
}

function show(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `a list (${JSON.stringify(v).slice(0, 60)})`;
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return JSON.stringify(v);
  return String(v);
}

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

const NUMERIC = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
const TRUE = new Set(["true", "yes", "on", "1"]);
const FALSE = new Set(["false", "no", "off", "0"]);

/** Coerces a string that came (at least partly) from substitution to what `s` declares. */
function coerce(s: Spec, v: string): unknown {
  const t = v.trim();
  switch (s.t) {
    case "int":
    case "num":
      if (s.t === "num" && s.nullable && (t === "" || t === "null" || t === "~")) return null;
      return NUMERIC.test(t) ? Number(t) : v;
    case "bool":
      return TRUE.has(t.toLowerCase()) ? true : FALSE.has(t.toLowerCase()) ? false : v;
    case "str":
      return s.nullable && (t === "" || t === "null" || t === "~") ? null : v;
    case "list": {
      if (s.words?.includes(t)) return t;
      if (t === "") return [];
      if (t.startsWith("[")) {
        try {
          const parsed = parseYaml(t);
          if (Array.isArray(parsed)) return parsed.map((x) => (typeof x === "string" ? x : String(x)));
        } catch {
          return v;
        }
        return v;
      }
      return t.split(",").map((x) => x.trim());
    }
    default:
      return v;
  }
}

function walk(s: Spec, raw: unknown, path: string, ctx: Ctx, fromEnv = false, origin = ""): unknown {
  const fail = (why?: string) => {
    ctx.errors.push(
      `${path}: ${why ?? `expected ${expected(s)}, got ${show(raw)}`}${
        fromEnv ? ` (from ${JSON.stringify(origin)})` : ""
      }`,
    );
    return "def" in s ? clone(s.def) : undefined;
  };

  if (typeof raw === "string") {
    let sub;
    try {
      sub = substitute(raw, ctx.env, path, ctx.source);
    } catch (e) {
      ctx.errors.push((e as Error).message.slice(ctx.source.length + 2));
      return "def" in s ? clone(s.def) : undefined;
    }
    if (sub.substituted || fromEnv) {
      if (sub.substituted) origin = raw;
      fromEnv = true;
      raw = coerce(s, sub.value);
    } else {
      raw = sub.value;
    }
  }

  if (s.t === "obj") {
    if (raw === undefined || raw === null) raw = {};
    if (typeof raw !== "object" || Array.isArray(raw)) {
      fail();
      return walk(s, {}, path, ctx);
    }
    const input = raw as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    const known = Object.keys(s.fields);
    for (const key of Object.keys(input)) {
      if (!(key in s.fields)) {
        ctx.errors.push(`unknown key ${path ? path + "." : ""}${key} (known: ${known.join(", ")})`);
      }
    }
    for (const key of known) out[key] = walk(s.fields[key], input[key], path ? `${path}.${key}` : key, ctx);
    return out;
  }

  if (raw === undefined) {
    if (s.def === undefined) return fail(`required (expected ${expected(s)})`);
    return clone(s.def);
  }

  switch (s.t) {
    case "int":
      if (typeof raw === "string" && s.words?.includes(raw)) return raw;
      if (typeof raw !== "number" || !Number.isSafeInteger(raw)) return fail();
      if ((s.min !== undefined && raw < s.min) || (s.max !== undefined && raw > s.max)) return fail();
      return raw;
    case "num":
      if (raw === null && s.nullable) return null;
      if (typeof raw !== "number" || !Number.isFinite(raw)) return fail();
      if (
        (s.min !== undefined && raw < s.min) || (s.max !== undefined && raw > s.max) ||
        (s.gt !== undefined && raw <= s.gt)
      ) return fail();
      return raw;
    case "bool":
      return typeof raw === "boolean" ? raw : fail();
    case "bytes": {
      const b = parseByteSize(raw);
      if (b === null || (s.min !== undefined && b < s.min)) return fail();
      return b;
    }
    case "str": {
      if (raw === null) return s.nullable ? null : fail();
      if (typeof raw !== "string") return fail();
      if (s.oneOf && !s.oneOf.includes(raw)) return fail();
      if (s.nonEmpty && raw.trim() === "") return fail();
      const why = s.check?.(raw);
      return why ? fail(why) : raw;
    }
    case "list": {
      if (typeof raw === "string" && s.words?.includes(raw)) return raw;
      if (!Array.isArray(raw)) return fail();
      if ((s.nonEmpty && raw.length === 0) || (s.len !== undefined && raw.length !== s.len)) return fail();
      if (raw.length > LIMITS.listItems) {
        return fail(`expected at most ${LIMITS.listItems} items, got ${raw.length}`);
      }
      return raw.map((item, i) => walk(s.of, item, `${path}[${i}]`, ctx, fromEnv, origin));
    }
  }
}

/** Cross-field rules and environment defaults, applied after the walk. */
function finish(c: Config, ctx: Ctx): void {
  const st = c.storage;
  const compression = st.compression as Compression | null;
  if (compression === null) st.compression = "zstd";
  else if (st.format === "parquet" && compression !== "zstd") {
    ctx.errors.push(
      `storage.compression: parquet output is always zstd, got ${JSON.stringify(compression)} ` +
        `(remove the key or use format: feather)`,
    );
  }

  const env = (...names: string[]) => {
    for (const n of names) {
      const v = ctx.env(n);
      if (v !== undefined && v !== "") return v;
    }
    return null;
  };
  const s3 = st.s3;
  s3.endpoint ??= env("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
  s3.region ??= env("AWS_REGION", "AWS_DEFAULT_REGION") ?? "auto";
  s3.access_key_id ??= env("AWS_ACCESS_KEY_ID");
  s3.secret_access_key ??= env("AWS_SECRET_ACCESS_KEY");

  // The FFD window each d gets at this threshold is capped (LIMITS.ffdWeights); "auto" may try any d in (0, 1).
  const fd = c.features.frac_diff;
  const ffdProblem = typeof fd.d_values === "string"
    ? ffdSearchProblem(fd.threshold)
    : fd.d_values.map((d) => ffdWeightsProblem(d, fd.threshold)).find((why) => why !== undefined);
  if (ffdProblem) ctx.errors.push(`features.frac_diff.threshold: ${ffdProblem}`);

  // Each extracted feature is a full-length column: bound how many one config can ask for.
  const ex = c.features.extraction;
  const exColumns = ex.columns.length * (ex.windows.length + ex.segments.length) *
    (FEATURE_SETS[ex.set]?.length ?? 0);
  if (exColumns > LIMITS.featureColumns) {
    ctx.errors.push(
      `features.extraction: ${ex.columns.length} columns x ${
        ex.windows.length + ex.segments.length
      } windows and ` +
        `segments x ${
          FEATURE_SETS[ex.set].length
        } features of set ${ex.set} is ${exColumns} feature columns ` +
        `(at most ${LIMITS.featureColumns})`,
    );
  }

  // A column that is dropped on read but that the features need would fail every task.
  const denied = new Set(c.data.deny_columns);
  const needs: [string, string[]][] = [
    ["features.columns", c.features.columns],
    ["features.extraction.columns", ex.set === "none" ? [] : ex.columns],
    ["features.rolling_corr.pairs", c.features.rolling_corr.pairs.flat()],
  ];
  for (const col of denied) {
    const keys = needs.filter(([, cols]) => cols.includes(col)).map(([key]) => key);
    if (keys.length) {
      ctx.errors.push(
        `data.deny_columns: ${JSON.stringify(col)} is dropped on read but ${keys.join(" and ")} ` +
          `${keys.length > 1 ? "need" : "needs"} it: remove it from one or the other`,
      );
    }
  }

  const bk = c.features.baxter_king;
  if (bk.high_freq <= bk.low_freq) {
    ctx.errors.push(
      `features.baxter_king.high_freq: expected an integer > low_freq (${bk.low_freq}), got ${bk.high_freq}`,
    );
  }

  const conf = c.features.frac_diff.auto_confidence;
  if (![0.9, 0.95, 0.99].includes(conf)) {
    ctx.errors.push(`features.frac_diff.auto_confidence: expected 0.9, 0.95 or 0.99, got ${conf}`);
  }

  const byOrder = new Map<number, string[]>();
  for (const name of ENGINE_NAMES) {
    const e = c.pipeline.engines[name];
    if (e.enabled) byOrder.set(e.order, [...(byOrder.get(e.order) ?? []), name]);
  }
  for (const [order, names] of byOrder) {
    if (names.length > 1) {
      ctx.errors.push(`pipeline.engines: enabled engines ${names.join(" and ")} share order ${order}`);
    }
  }
}

/**
 * Validates a parsed configuration (a plain object, e.g. from YAML) and returns the resolved {@link Config}:
 * `${VAR}` / `${VAR:default}` substituted in strings, substituted strings coerced in numeric/boolean/list
 * fields, defaults filled, S3 credentials defaulted from the environment. `null`/`undefined` gives all defaults.
 *
 * Throws UsageError listing every problem, one per line, each as `<source>: <key path>: <what was expected>`
 * (or `<source>: unknown key <path> (known: ...)`).
 */
export function validateConfig(raw: unknown, opts: ValidateOptions = {}): Config {
  const ctx: Ctx = { env: opts.env ?? processEnv, source: opts.source ?? "config", errors: [] };
  if (raw !== null && raw !== undefined && (typeof raw !== "object" || Array.isArray(raw))) {
    throw new UsageError(`${ctx.source}: expected a mapping of sections at the top level, got ${show(raw)}`);
  }
  const config = walk(SCHEMA, raw, "", ctx) as Config;
  finish(config, ctx);
  if (ctx.errors.length > 0) throw new UsageError(ctx.errors.map((e) => `${ctx.source}: ${e}`).join("\n"));
  return config;
}

/** The default configuration (no file, empty environment: S3 credentials null, region "auto"). */
export function defaultConfig(): Config {
  return validateConfig(undefined, { env: () => undefined, source: "defaults" });
}

/**
 * The run registry's SQLite path: `storage.registry` when set, else `<output>/registry.sqlite` when the
 * output is local, else null (an S3 output with no registry path configured).
 */
export function registryPath(storage: StorageConfig): string | null {
  if (storage.registry !== null) return storage.registry;
  if (storage.output.startsWith("s3://")) return null;
  return `${storage.output.replace(/\/+$/, "")}/registry.sqlite`;
}
