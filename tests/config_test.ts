/** Tests of the configuration layer (config/): defaults, substitution, validation errors, printing, hashing. */

import assert from "node:assert/strict";
import { substitute } from "../config/env.ts";
import { loadConfig, loadConfigFile } from "../config/load.ts";
import { configHash, formatConfig, maskSecrets } from "../config/print.ts";
import { type Config, defaultConfig, parseByteSize, registryPath } from "../config/schema.ts";
import { UsageError } from "../runtime/errors.ts";

const noEnv = () => undefined;
const envOf = (vars: Record<string, string>) => (name: string) => vars[name];
const load = (text: string, vars: Record<string, string> = {}) =>
  loadConfig(text, { env: envOf(vars), source: "test.yaml" });

/** Asserts `fn` throws a UsageError and returns its message. */
function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof UsageError, `expected a UsageError, got ${e}`);
    return e.message;
  }
  assert.fail("expected a UsageError, nothing was thrown");
}

Deno.test("config: empty text gives the documented defaults", () => {
  const c = load("");
  assert.deepEqual(c, defaultConfig());
  assert.equal(c.data.source, "data/bars");
  assert.deepEqual(c.data.formats, ["parquet", "feather", "arrow", "csv"]);
  assert.equal(c.data.timestamp_column, "timestamp");
  assert.deepEqual(c.data.deny_columns, []);
  assert.equal(c.data.instrument_pattern, "^([^/]+)/");
  assert.deepEqual(c.storage, {
    output: "out/run",
    format: "feather",
    compression: "zstd",
    registry: null,
    s3: {
      endpoint: null,
      region: "auto",
      access_key_id: null,
      secret_access_key: null,
      force_path_style: true,
    },
  });
  assert.deepEqual(c.compute, { backend: "auto", memory_budget: 2 ** 30, task_workers: "auto" });
  const f = c.features;
  assert.deepEqual(f.rolling_windows, [10, 20, 50, 100, 200]);
  assert.deepEqual(f.frac_diff, {
    d_values: [0.1, 0.2, 0.3, 0.4, 0.5],
    threshold: 1e-5,
    auto_confidence: 0.95,
    auto_rows: 20000,
    auto_autolag: "none",
    auto_maxlag: 1,
    auto_grid: 11,
    auto_precision: 0.01,
  });
  assert.deepEqual(f.log_stabilization, { enabled: true, shift: 1, causal: true });
  assert.deepEqual(f.rolling_corr, { pairs: [], window: 50 });
  assert.deepEqual(f.baxter_king, { low_freq: 6, high_freq: 32, k: 12, mode: "causal", fill: false });
  assert.deepEqual(f.garch, {
    p: 1,
    q: 1,
    max_iter: 1000,
    max_samples: 10000,
    mode: "walk_forward",
    window: 10000,
    refit_every: 1000,
    min_samples: 1000,
    models: ["garch11"],
    select_by: "aic",
    mean: "constant",
  });
  assert.equal(f.selection_target_column, "y_ret_fwd_15m");
  assert.equal(f.dcor_top_k, 50);
  assert.equal(f.stage1_rolling_enabled, true);
  assert.deepEqual(f.columns, ["close"]);
  assert.deepEqual(c.pipeline, {
    engines: {
      stationarization: { enabled: true, order: 1 },
      feature_engineering: { enabled: true, order: 2 },
      garch_models: { enabled: true, order: 3 },
      statistical_tests: { enabled: true, order: 4 },
    },
    fail_fast: false,
  });
  assert.deepEqual(c.generator, { instruments: 4, rows: 200000, seed: 42, workers: 2, if_empty: true });
  assert.deepEqual(c.development, {
    debug_mode: false,
    clean_existing_output: false,
    force_reprocessing: false,
    log_memory_usage: true,
  });
});

Deno.test("config: partial sections keep the other defaults; empty sections are allowed", () => {
  const c = load("features:\n  rolling_windows: [5, 7]\n  garch:\n    max_iter: 50\ndevelopment:\n");
  assert.deepEqual(c.features.rolling_windows, [5, 7]);
  assert.deepEqual(c.features.garch, {
    p: 1,
    q: 1,
    max_iter: 50,
    max_samples: 10000,
    mode: "walk_forward",
    window: 10000,
    refit_every: 1000,
    min_samples: 1000,
    models: ["garch11"],
    select_by: "aic",
    mean: "constant",
  });
  assert.deepEqual(c.features.frac_diff.d_values, [0.1, 0.2, 0.3, 0.4, 0.5]);
  assert.equal(c.development.log_memory_usage, true);
  // defaults are fresh copies: mutating one config does not leak into the next
  (c.features.frac_diff.d_values as number[]).push(1);
  assert.deepEqual(load("").features.frac_diff.d_values, [0.1, 0.2, 0.3, 0.4, 0.5]);
});

Deno.test("config: ${VAR} and ${VAR:default} substitution, inside larger strings too", () => {
  const text = [
    "data:",
    "  source: s3://${BUCKET:data}/bars",
    "storage:",
    "  output: ${OUT}",
    "  s3:",
    "    endpoint: https://${HOST:localhost}:${PORT:9000}",
    "features:",
    "  selection_target_column: y_${TARGET:ret_fwd_15m}",
  ].join("\n");
  const a = load(text, { OUT: "/tmp/out" });
  assert.equal(a.data.source, "s3://data/bars");
  assert.equal(a.storage.output, "/tmp/out");
  assert.equal(a.storage.s3.endpoint, "https://localhost:9000");
  assert.equal(a.features.selection_target_column, "y_ret_fwd_15m");

  const b = load(text, {
    OUT: "s3://o/p",
    BUCKET: "prod",
    HOST: "r2.example",
    PORT: "443",
    TARGET: "ret_fwd_1h",
  });
  assert.equal(b.data.source, "s3://prod/bars");
  assert.equal(b.storage.output, "s3://o/p");
  assert.equal(b.storage.s3.endpoint, "https://r2.example:443");
  assert.equal(b.features.selection_target_column, "y_ret_fwd_1h");

  // an empty variable takes the default; `$${` is a literal `${`
  assert.equal(load("data:\n  source: ${SRC:bars}\n", { SRC: "" }).data.source, "bars");
  assert.equal(load("data:\n  timestamp_column: $${ts}\n").data.timestamp_column, "${ts}");
  assert.deepEqual(substitute("a${X:1}b${Y:2}c", envOf({ Y: "z" }), "k", "f"), {
    value: "a1bzc",
    substituted: true,
  });
  assert.deepEqual(substitute("plain", noEnv, "k", "f"), { value: "plain", substituted: false });
});

Deno.test("config: substituted values are coerced in numeric, boolean, list and nullable fields", () => {
  const text = [
    "features:",
    "  rolling_corr:",
    "    window: ${WINDOW:20}",
    "  frac_diff:",
    "    threshold: ${THR:1e-4}",
    "    d_values: ${DS:[0.25, 0.75]}",
    "  rolling_windows: ${WINDOWS:5,15}",
    "  stage1_rolling_enabled: ${S1:false}",
    "generator:",
    "  rows: ${ROWS:1000}",
    "storage:",
    "  registry: ${REGISTRY:}",
    "compute:",
    "  memory_budget: ${BUDGET:256MiB}",
  ].join("\n");
  const a = load(text);
  assert.equal(a.features.rolling_corr.window, 20);
  assert.equal(a.features.frac_diff.threshold, 1e-4);
  assert.deepEqual(a.features.frac_diff.d_values, [0.25, 0.75]);
  assert.deepEqual(a.features.rolling_windows, [5, 15]);
  assert.equal(a.features.stage1_rolling_enabled, false);
  assert.equal(a.generator.rows, 1000);
  assert.equal(a.storage.registry, null);
  assert.equal(a.compute.memory_budget, 256 * 2 ** 20);

  const b = load(text, { WINDOW: "30", S1: "TRUE", ROWS: "5", REGISTRY: "/var/reg.sqlite", WINDOWS: "[3]" });
  assert.equal(b.features.rolling_corr.window, 30);
  assert.equal(b.features.stage1_rolling_enabled, true);
  assert.equal(b.generator.rows, 5);
  assert.equal(b.storage.registry, "/var/reg.sqlite");
  assert.deepEqual(b.features.rolling_windows, [3]);

  // a substituted value that is not a number is still a type error, and the message shows where it came from
  const msg = usageError(() => load(text, { WINDOW: "wide" }));
  assert.match(
    msg,
    /^test\.yaml: features\.rolling_corr\.window: expected an integer in \[2, 1000000\], got "wide"/,
  );
  assert.ok(msg.includes('(from "${WINDOW:20}")'), msg);
  // a quoted number written in the file (no substitution) is not coerced
  assert.match(usageError(() => load('generator:\n  rows: "100"\n')), /generator\.rows: expected an integer/);
});

Deno.test("config: a missing variable without a default names the variable and the key path", () => {
  const msg = usageError(() => load("storage:\n  s3:\n    endpoint: https://${S3_HOST}/x\n"));
  assert.ok(msg.startsWith("test.yaml: storage.s3.endpoint: "), msg);
  assert.ok(msg.includes("S3_HOST"), msg);
  assert.match(msg, /not set/);
  const inList = usageError(() => load('features:\n  columns: [close, "${EXTRA}"]\n'));
  assert.match(inList, /^test\.yaml: features\.columns\[1\]: .*EXTRA/);
  assert.match(usageError(() => load("data:\n  source: ${1BAD}\n")), /data\.source: bad variable reference/);
  assert.match(usageError(() => load("data:\n  source: ${OPEN\n")), /data\.source: unterminated/);
});

Deno.test("config: unknown keys are errors naming the file, the key path and the known keys", () => {
  const msg = usageError(() => load("features:\n  rolling_windowz: [1]\n"));
  assert.equal(
    msg,
    "test.yaml: unknown key features.rolling_windowz (known: rolling_windows, frac_diff, log_stabilization, " +
      "rolling_corr, baxter_king, extraction, garch, selection_target_column, dcor_top_k, stage1_rolling_enabled, selection_max_samples, selection_permutations, selection_seed, selection_rolling_window, selection_variance_threshold, selection_corr_threshold, selection_pca, selection_permutation, selection_exclude, selection_min_coverage, selection_fdr_level, selection_stop_after, columns)",
  );
  assert.match(
    usageError(() => load("databse:\n  source: x\n")),
    /^test\.yaml: unknown key databse \(known: data, /,
  );
  assert.match(
    usageError(() => load("storage:\n  s3:\n    secret_key: x\n")),
    /unknown key storage\.s3\.secret_key \(known: endpoint, region, access_key_id, secret_access_key/,
  );
  assert.match(
    usageError(() => load("pipeline:\n  engines:\n    garch: {enabled: true}\n")),
    /pipeline\.engines\.garch/,
  );
});

Deno.test("config: bad values name the key path and what was expected; all problems are reported at once", () => {
  const cases: [string, string][] = [
    [
      "features:\n  rolling_windows: [10, 20, 1.5]\n",
      "features.rolling_windows[2]: expected an integer in [2, 1000000], got 1.5",
    ],
    [
      "features:\n  rolling_windows: 20\n",
      "features.rolling_windows: expected a list of integers in [2, 1000000], got 20",
    ],
    [
      "features:\n  frac_diff:\n    d_values: [0.5, 2.5]\n",
      "features.frac_diff.d_values[1]: expected a number in [0, 2]",
    ],
    [
      "features:\n  frac_diff:\n    threshold: 0\n",
      "features.frac_diff.threshold: expected a number > 0, got 0",
    ],
    [
      "features:\n  log_stabilization:\n    enabled: yes\n",
      'log_stabilization.enabled: expected true or false, got "yes"',
    ],
    [
      "features:\n  rolling_corr:\n    pairs: [[close]]\n",
      "features.rolling_corr.pairs[0]: expected a list of 2 items",
    ],
    ["features:\n  columns: []\n", "features.columns: expected a non-empty list"],
    [
      "features:\n  baxter_king:\n    high_freq: 6\n",
      "features.baxter_king.high_freq: expected an integer > low_freq (6)",
    ],
    ["compute:\n  backend: gpu\n", 'compute.backend: expected one of "auto", "webgpu", "cpu", got "gpu"'],
    ["compute:\n  memory_budget: lots\n", "compute.memory_budget: expected a byte size"],
    [
      "data:\n  formats: [csv, xlsx]\n",
      'data.formats[1]: expected one of "parquet", "feather", "arrow", "csv"',
    ],
    ["data:\n  source: ''\n", "data.source: expected a non-empty string"],
    ["data:\n  source: s3:///nobucket\n", "data.source: expected a data source"],
    ["data:\n  instrument_pattern: '([a-z]+)_(\\d+)'\n", "exactly one capture group"],
    ["data:\n  instrument_pattern: '(['\n", "data.instrument_pattern: expected a regular expression"],
    [
      "storage:\n  format: parquet\n  compression: lz4\n",
      "storage.compression: parquet output is always zstd",
    ],
    ["storage:\n  format: csv\n", 'storage.format: expected one of "feather", "parquet"'],
    [
      "pipeline:\n  engines:\n    stationarization: {order: 0}\n",
      "stationarization.order: expected an integer >= 1",
    ],
    ["pipeline:\n  engines:\n    feature_engineering: {enabled: true, order: 1}\n", "share order 1"],
    ["generator:\n  seed: -1\n", "generator.seed: expected an integer >= 0, got -1"],
    ["data: [1, 2]\n", "data: expected a mapping"],
    ["- a\n- b\n", "expected a mapping of sections at the top level"],
  ];
  for (const [text, want] of cases) {
    const msg = usageError(() => load(text));
    assert.ok(msg.startsWith("test.yaml: "), msg);
    assert.ok(msg.includes(want), `for ${JSON.stringify(text)}:\n  got  ${msg}\n  want ${want}`);
  }
  const many = usageError(() => load("compute:\n  backend: gpu\ngenerator:\n  rows: 0\n  wrkers: 3\n"));
  const lines = many.split("\n");
  assert.equal(lines.length, 3, many);
  assert.ok(lines.every((l) => l.startsWith("test.yaml: ")), many);
});

Deno.test("config: YAML syntax errors name the file, line and column", () => {
  const msg = usageError(() => load("data:\n  source: data\n   formats: [csv\ncompute: {}\n"));
  assert.match(msg, /^test\.yaml:\d+:\d+: YAML syntax error: /);
  const [, line] = /^test\.yaml:(\d+):/.exec(msg)!;
  assert.ok(Number(line) >= 2 && Number(line) <= 4, msg);
  assert.equal(usageError(() => load("a: 1\na: 2\n")).split(": YAML")[0], "test.yaml:2:1");
  assert.match(usageError(() => load("data:\n\tsource: x\n")), /^test\.yaml:2:1: YAML syntax error/);
});

Deno.test("config: memory sizes", () => {
  const cases: [unknown, number | null][] = [
    [1024, 1024],
    ["4096", 4096],
    ["512MiB", 512 * 2 ** 20],
    ["2GB", 2e9],
    ["1.5GiB", 1.5 * 2 ** 30],
    ["1.5 gib", 1.5 * 2 ** 30],
    ["64kb", 64000],
    ["1TiB", 2 ** 40],
    ["100B", 100],
    ["0.5KiB", 512],
    ["12XB", null],
    ["-1GB", null],
    ["GB", null],
    [1.5, null],
    [-4, null],
    [true, null],
  ];
  for (const [input, want] of cases) assert.equal(parseByteSize(input), want, `parseByteSize(${input})`);
  assert.equal(load("compute:\n  memory_budget: 2GB\n").compute.memory_budget, 2e9);
  assert.equal(load("compute:\n  memory_budget: 123456789\n").compute.memory_budget, 123456789);
  assert.match(
    usageError(() => load("compute:\n  memory_budget: 0\n")),
    /compute\.memory_budget: expected a byte size/,
  );
});

Deno.test("config: S3 credentials default from the environment when the file leaves them out", () => {
  const env = {
    AWS_ACCESS_KEY_ID: "AKIAENV",
    AWS_SECRET_ACCESS_KEY: "envsecret",
    AWS_ENDPOINT_URL: "https://minio.local:9000",
    AWS_REGION: "eu-west-1",
  };
  assert.deepEqual(load("", env).storage.s3, {
    endpoint: "https://minio.local:9000",
    region: "eu-west-1",
    access_key_id: "AKIAENV",
    secret_access_key: "envsecret",
    force_path_style: true,
  });
  const own = load(
    "storage:\n  s3:\n    access_key_id: FILEKEY\n    region: us-east-2\n    force_path_style: false\n",
    env,
  );
  assert.equal(own.storage.s3.access_key_id, "FILEKEY");
  assert.equal(own.storage.s3.region, "us-east-2");
  assert.equal(own.storage.s3.secret_access_key, "envsecret");
  assert.equal(own.storage.s3.force_path_style, false);
});

Deno.test("config: parquet defaults to zstd; feather may pick its codec; registry path", () => {
  const p = load("storage:\n  format: parquet\n");
  assert.equal(p.storage.compression, "zstd");
  assert.equal(load("storage:\n  format: feather\n  compression: zstd\n").storage.compression, "zstd");
  assert.equal(registryPath(load("storage:\n  output: out/x/\n").storage), "out/x/registry.sqlite");
  assert.equal(registryPath(load("storage:\n  output: s3://b/p\n").storage), null);
  assert.equal(
    registryPath(load("storage:\n  output: s3://b/p\n  registry: r.sqlite\n").storage),
    "r.sqlite",
  );
});

function withSecrets(secret: string, key = "AKIA1234"): Config {
  return load(
    `storage:\n  output: s3://b/out\n  s3:\n    access_key_id: ${key}\n    secret_access_key: ${secret}\n`,
  );
}

Deno.test("config: formatConfig masks secrets and round-trips", () => {
  const c = withSecrets("hunter2-very-secret");
  const text = formatConfig(c);
  assert.ok(!text.includes("hunter2-very-secret"), text);
  assert.ok(!text.includes("AKIA1234"), text);
  assert.match(text, /secret_access_key: "\*\*\*"/);
  assert.match(text, /access_key_id: "\*\*\*"/);
  assert.match(text, /rolling_windows: \[10, 20, 50, 100, 200\]/);
  assert.equal(
    c.storage.s3.secret_access_key,
    "hunter2-very-secret",
    "maskSecrets must not modify its input",
  );
  // null secrets stay null, so the printout says they are unset
  assert.match(formatConfig(load("")), /secret_access_key: null/);
  // the printed config loads back to the same config (secrets aside)
  const back = loadConfig(text, { env: noEnv });
  assert.deepEqual(back, { ...c, storage: { ...c.storage, s3: { ...c.storage.s3, ...back.storage.s3 } } });
  assert.deepEqual(loadConfig(formatConfig(defaultConfig()), { env: noEnv }), defaultConfig());
  // any key naming a secret, at any depth
  assert.deepEqual(
    maskSecrets({
      a: { db_password: "p", api_token: "t", nested: [{ SecretThing: 1 }] },
      plain: "x",
      token: null,
    }),
    {
      a: { db_password: "***", api_token: "***", nested: [{ SecretThing: "***" }] },
      plain: "x",
      token: null,
    },
  );
});

Deno.test("config: configHash ignores secrets, development and generator, and tracks everything else", async () => {
  const h = await configHash(withSecrets("one"));
  assert.match(h, /^[0-9a-f]{64}$/);
  assert.equal(await configHash(withSecrets("two")), h, "hash must not depend on the secret");
  assert.equal(await configHash(withSecrets("one", "OTHERKEY")), h, "hash must not depend on the access key");
  const dev = withSecrets("one");
  dev.development.debug_mode = true;
  dev.generator.rows = 7;
  assert.equal(await configHash(dev), h);
  const changed = withSecrets("one");
  changed.features.rolling_windows = [10, 20];
  assert.notEqual(await configHash(changed), h);
  // key order does not matter (canonical JSON)
  const c = withSecrets("one");
  const reordered = { ...c, data: Object.fromEntries(Object.entries(c.data).reverse()) } as Config;
  assert.equal(await configHash(reordered), h);
  // a development-only change leaves the default config's hash alone
  assert.equal(
    await configHash(defaultConfig()),
    await configHash(load("development:\n  debug_mode: true\n")),
  );
});

Deno.test("config: examples/config.yaml loads with no environment and equals the defaults", async () => {
  const path = new URL("../examples/config.yaml", import.meta.url).pathname;
  const c = await loadConfigFile(path, { env: noEnv });
  assert.deepEqual(c, defaultConfig());
  const withEnv = await loadConfigFile(path, {
    env: envOf({ FG_SOURCE: "s3://bars/prefix", AWS_SECRET_ACCESS_KEY: "s", AWS_ACCESS_KEY_ID: "k" }),
  });
  assert.equal(withEnv.data.source, "s3://bars/prefix");
  assert.equal(withEnv.storage.s3.secret_access_key, "s");
  assert.equal(withEnv.storage.s3.access_key_id, "k");
});

Deno.test("config: loadConfigFile names a missing file; errors name the path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = `${dir}/nope.yaml`;
    await assert.rejects(loadConfigFile(missing), (e: Error) => {
      assert.ok(e instanceof UsageError);
      assert.ok(e.message.startsWith(`${missing}: cannot read the config file`), e.message);
      return true;
    });
    const bad = `${dir}/bad.yaml`;
    await Deno.writeTextFile(bad, "features:\n  rolling_windows: [10, 1]\n");
    await assert.rejects(loadConfigFile(bad, { env: noEnv }), (e: Error) => {
      assert.ok(e instanceof UsageError);
      assert.equal(
        e.message,
        `${bad}: features.rolling_windows[1]: expected an integer in [2, 1000000], got 1`,
      );
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
