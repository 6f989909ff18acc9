/**
 * Issue 12, "runaway parameters hang or crash" and "config accepts what the engines refuse": every size-like
 * parameter has an absolute cap (runtime/limits.ts) that the config schema and the `kernel` CLI flags check
 * before any work, exiting 2 with one line naming the key or flag and the allowed range; bounds that depend on
 * the data are an error on the `kernel` CLI and a warning with an all-NaN column in the pipeline (one config
 * serves instruments of every length). `garch.p`/`q` other than 1 are refused at config time.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { cli } from "./cli_harness.ts";
import { validateConfig } from "../config/schema.ts";
import { generate } from "../generator/generate.ts";
import { LocalStorage } from "../io/storage.ts";
import { ffdWeights } from "../kernels/fracdiff.ts";
import { bkWeights } from "../kernels/baxter_king.ts";
import { KERNELS, SCALAR_KERNELS } from "../kernels/registry.ts";
import { FEATURE_SETS } from "../kernels/feature_sets.ts";
import { UsageError } from "../runtime/errors.ts";
import { LIMITS } from "../runtime/limits.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** A 600-row, 1-minute CSV (close, volume): enough for the default windows, short enough to exceed. */
async function csvInput(): Promise<{ dir: string; input: string; rows: number }> {
  const dir = await Deno.makeTempDir();
  const rows = 600;
  const lines = ["timestamp,open,high,low,close,volume"];
  let p = 100;
  for (let i = 0; i < rows; i++) {
    const o = p;
    p *= 1 + 0.003 * Math.sin(i * 1.3) + 0.001 * Math.cos(i * 0.7);
    const t = new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString();
    lines.push(`${t},${o},${Math.max(o, p) + 0.1},${Math.min(o, p) - 0.1},${p},${100 + (i % 17)}`);
  }
  const input = join(dir, "bars.csv");
  await Deno.writeTextFile(input, lines.join("\n") + "\n");
  return { dir, input, rows };
}

/**
 * A temporary folder with `rows` generated bars of one instrument under bars/, and `writeConfig(rest)`, which
 * writes config.yaml there (those bars in, out/ out, the CPU backend, then `rest`) and returns its path.
 */
async function barsDir(
  rows: number,
): Promise<{ dir: string; writeConfig: (rest: string) => Promise<string> }> {
  const dir = await Deno.makeTempDir();
  await generate({
    kind: "bars",
    storage: new LocalStorage(join(dir, "bars")),
    instruments: 1,
    rows,
    seed: 5,
    workers: 0,
  });
  const writeConfig = async (rest: string) => {
    const config = join(dir, "config.yaml");
    await Deno.writeTextFile(
      config,
      `data:\n  source: ${join(dir, "bars")}\nstorage:\n  output: ${
        join(dir, "out")
      }\ncompute:\n  backend: cpu\n` +
        rest,
    );
    return config;
  };
  return { dir, writeConfig };
}

/** The warning lines of a run's log, one string. */
const warnings = (err: string) => err.split("\n").filter((l) => l.includes('"level":"warn"')).join("\n");

/** The one `error:` line a failed command printed (and that it printed exactly one). */
function oneError(err: string): string {
  const lines = err.split("\n").filter((l) => l.startsWith("error:"));
  assert.equal(lines.length, 1, err);
  return lines[0];
}

/** `{a: {b: v}}` from the path "a.b" (a list key gets `[v]`). */
function nested(path: string, v: unknown, list: boolean): Record<string, unknown> {
  return path.split(".").reduceRight<unknown>((acc, k) => ({ [k]: acc }), list ? [v] : v) as Record<
    string,
    unknown
  >;
}

/** Every capped integer key of the config: its path, least value, cap, and whether it is a list of them. */
const CAPPED_KEYS: [string, number, number, boolean][] = [
  ["features.rolling_windows", 2, LIMITS.window, true],
  ["features.rolling_corr.window", 2, LIMITS.window, false],
  ["features.baxter_king.low_freq", 2, LIMITS.window, false],
  ["features.baxter_king.high_freq", 3, LIMITS.window, false],
  ["features.baxter_king.k", 1, LIMITS.bkK, false],
  ["features.extraction.windows", 2, LIMITS.featureWindow, true],
  ["features.extraction.workers", 0, LIMITS.workers, false],
  ["features.garch.max_iter", 1, LIMITS.iterations, false],
  ["features.garch.max_samples", 1, LIMITS.samples, false],
  ["features.garch.window", 100, LIMITS.samples, false],
  ["features.garch.refit_every", 1, LIMITS.samples, false],
  ["features.garch.min_samples", 100, LIMITS.samples, false],
  ["features.frac_diff.auto_rows", 100, LIMITS.samples, false],
  ["features.frac_diff.auto_maxlag", 0, LIMITS.lags, false],
  ["features.frac_diff.auto_grid", 2, LIMITS.gridPoints, false],
  ["features.dcor_top_k", 1, LIMITS.topK, false],
  ["features.selection_max_samples", 10, LIMITS.samples, false],
  ["features.selection_permutations", 1, LIMITS.permutations, false],
  ["features.selection_seed", 0, LIMITS.seed, false],
  ["features.selection_rolling_window", 10, LIMITS.window, false],
  ["generator.instruments", 1, LIMITS.instruments, false],
  ["generator.rows", 1, LIMITS.generatedRows, false],
  ["generator.workers", 1, LIMITS.workers, false],
];

Deno.test("params: every capped config key refuses cap + 1 and 1e20, naming the key and the allowed range", () => {
  for (const [path, min, max, list] of CAPPED_KEYS) {
    for (const v of [max + 1, 1e20]) {
      const key = list ? `${path}[0]` : path;
      assert.throws(
        () => validateConfig(nested(path, v, list), { source: "t.yaml", env: () => undefined }),
        (e: Error) => {
          assert.ok(e instanceof UsageError, `${key} = ${v}: ${e}`);
          const esc = key.replace(/[.[\]]/g, "\\$&");
          assert.match(
            e.message,
            new RegExp(`^t\\.yaml: ${esc}: expected an integer in \\[${min}, ${max}\\]`),
          );
          assert.ok(e.message.endsWith(`got ${v}`), e.message);
          return true;
        },
      );
    }
    // The cap itself is allowed (low_freq's needs a high_freq above it).
    if (!path.endsWith("low_freq")) validateConfig(nested(path, max, list), { env: () => undefined });
  }
});

Deno.test("params: FFD threshold is capped by the weight count it asks for, with the least threshold that fits", () => {
  const t0 = performance.now();
  const msg = (raw: unknown) => {
    try {
      validateConfig(raw, { source: "t.yaml", env: () => undefined });
    } catch (e) {
      return (e as Error).message;
    }
    return "";
  };
  // Was a hang: weights were computed until |w_k| underflowed 1e-300.
  const m = msg({ features: { frac_diff: { threshold: 1e-300 } } });
  assert.equal(
    m,
    "t.yaml: features.frac_diff.threshold: d = 0.1 at threshold 1e-300 needs more than 16384 FFD weights " +
      "(at most 16384: use a threshold >= 2.2e-6 for this d)",
  );
  // The suggested threshold is accepted, and gives at most the cap.
  validateConfig({ features: { frac_diff: { threshold: 2.2e-6 } } }, { env: () => undefined });
  assert.ok(ffdWeights(0.1, 2.2e-6).length <= LIMITS.ffdWeights);
  // Every d counts, not only the first; integer d has finitely many weights at any threshold.
  assert.match(
    msg({ features: { frac_diff: { d_values: [1, 0.7], threshold: 1e-12 } } }),
    /d = 0\.7 at threshold 1e-12/,
  );
  assert.equal(msg({ features: { frac_diff: { d_values: [0, 1, 2], threshold: 1e-300 } } }), "");
  // d_values: auto may try any d in (0, 1).
  assert.match(
    msg({ features: { frac_diff: { d_values: "auto", threshold: 1e-9 } } }),
    /threshold: d = 0\.\d+ at threshold 1e-9 needs more than 16384 FFD weights .*which the minimum-d search may try/,
  );
  // The library refuses rather than truncating silently; an explicit length still truncates on purpose.
  assert.throws(
    () => ffdWeights(0.4, 1e-300),
    /fracdiff: d = 0\.4 at threshold 1e-300 needs more than 16384/,
  );
  assert.equal(ffdWeights(0.4, 0, 100).length, 100);
  assert.throws(() => bkWeights(6, 32, 1e9), /bk: expected an integer k in \[1, 10000\], got 1000000000/);
  assert.ok(performance.now() - t0 < 10_000, "the checks themselves must be quick");
});

Deno.test("params: garch p and q other than 1 are refused at config time, not by every task", () => {
  for (const [key, v] of [["p", 2], ["p", 0], ["q", 2], ["q", 0]] as const) {
    assert.throws(
      () => validateConfig({ features: { garch: { [key]: v } } }, { source: "t.yaml", env: () => undefined }),
      new RegExp(
        `t\\.yaml: features\\.garch\\.${key}: expected 1 \\(orders go in models, e\\.g\\. garch21\\), got ${v}$`,
      ),
    );
  }
});

Deno.test(
  "params: run exits 2 before any work on a runaway or refused key (no output folder)",
  opts,
  async () => {
    const dir = await Deno.makeTempDir();
    const cases: [string, RegExp][] = [
      [
        "features:\n  selection_permutations: 1e9\n",
        /features\.selection_permutations: expected an integer in \[1, 100000\], got 1000000000$/,
      ],
      [
        "features:\n  baxter_king:\n    k: 1e9\n",
        /features\.baxter_king\.k: expected an integer in \[1, 10000\], got 1000000000$/,
      ],
      [
        "features:\n  frac_diff:\n    threshold: 1e-300\n",
        /features\.frac_diff\.threshold: d = 0\.1 at threshold 1e-300 needs more than 16384 FFD weights/,
      ],
      [
        "features:\n  rolling_windows: [1e20]\n",
        /features\.rolling_windows\[0\]: expected an integer in \[2, 1000000\], got 100000000000000000000$/,
      ],
      [
        "features:\n  garch:\n    p: 2\n",
        /features\.garch\.p: expected 1 \(orders go in models, e\.g\. garch21\), got 2$/,
      ],
      [
        "features:\n  frac_diff:\n    d_values: auto\n    auto_precision: 1e-300\n",
        /auto_precision: expected a number in \[0\.000001, 0\.5\], got 1e-300$/,
      ],
    ];
    for (const [yaml, want] of cases) {
      const config = join(dir, "config.yaml");
      const out = join(dir, "out");
      await Deno.writeTextFile(
        config,
        `data:\n  source: ${join(dir, "bars")}\nstorage:\n  output: ${out}\n${yaml}`,
      );
      const t0 = performance.now();
      const r = await cli(["run", "--config", config]);
      assert.equal(r.code, 2, `${yaml}: ${r.err}`);
      assert.match(oneError(r.err), new RegExp(`^error: ${config.replace(/[.]/g, "\\.")}: `));
      assert.match(oneError(r.err), want);
      assert.ok(performance.now() - t0 < 5_000, `${yaml} took ${performance.now() - t0} ms`);
      await assert.rejects(
        Deno.stat(out),
        Deno.errors.NotFound,
        "a refused config must not create the output",
      );
      await assert.rejects(Deno.stat(join(dir, "bars")), Deno.errors.NotFound, "nor generate data");
    }
    await Deno.remove(dir, { recursive: true });
  },
);

/** Numeric kernel parameters that are not sizes, so need no cap: each with why. */
const UNCAPPED: Record<string, string> = {
  "fracdiff --threshold": "bounded by the FFD weight count (kernel check)",
  "min_d --threshold": "bounded by the FFD weight count over the d search (kernel check)",
  "logstab --shift": "a value offset, not a size",
  "logstab --prior_min": "a carried value of the series (chunked runs), not a size",
};

Deno.test(
  "params: every numeric kernel flag has a cap; cap + 1 and 1e20 exit 2 naming the flag and range",
  opts,
  async () => {
    const { dir, input } = await csvInput();
    const kernels = [...KERNELS.values(), ...SCALAR_KERNELS.values()];
    let checked = 0;
    for (const k of kernels) {
      const columns = k.inputs === "many" ? ["--columns", "close,volume"] : ["--column", "close"];
      const base = ["kernel", k.name, "--input", input, ...columns, "--backend", "cpu"];
      if (k.inputs === 2) base.push("--column2", "volume");
      // Required parameters get a small valid value so that only the flag under test is wrong.
      const required = Object.entries(k.params).filter(([, s]) => s.default === undefined)
        .flatMap(([n, s]) => [`--${n}`, String(Math.max("min" in s ? s.min ?? 5 : 5, 5))]);
      for (const [name, spec] of Object.entries(k.params)) {
        if (spec.type !== "int" && spec.type !== "float") continue;
        if (spec.max === undefined) {
          assert.ok(UNCAPPED[`${k.name} --${name}`], `kernel ${k.name} --${name} has no cap`);
          continue;
        }
        for (const v of [String(spec.type === "int" ? spec.max + 1 : spec.max * 2), "1e20"]) {
          const argv = [
            ...base,
            ...required.filter((_, i, a) => a[i - (i % 2)] !== `--${name}`),
            `--${name}`,
            v,
          ];
          const t0 = performance.now();
          const r = await cli(argv);
          assert.equal(r.code, 2, `${argv.join(" ")}: ${r.err}`);
          const line = oneError(r.err);
          assert.match(
            line,
            new RegExp(`^error: kernel ${k.name}: --${name} expects (an integer|a number) `),
          );
          assert.ok(line.includes(`${spec.max}]`) || line.includes(`<= ${spec.max}`), line);
          assert.ok(line.endsWith(`got "${v}"`), line);
          assert.ok(performance.now() - t0 < 5_000, `${argv.join(" ")} took ${performance.now() - t0} ms`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 30, `only ${checked} flag values checked`);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test("params: the issue's runaway kernel calls now exit 2 at once with one line", opts, async () => {
  const { dir, input } = await csvInput();
  const k = (...a: string[]) => ["kernel", ...a, "--input", input, "--column", "close", "--backend", "cpu"];
  const cases: [string[], string][] = [
    [
      k("zscore", "--window", "1e20"),
      `error: kernel zscore: --window expects an integer in [2, 1000000], got "1e20"`,
    ],
    [
      [...k("dcor_test", "--permutations", "1e9"), "--column2", "volume"],
      `error: kernel dcor_test: --permutations expects an integer in [1, 100000], got "1e9"`,
    ],
    [
      k("fracdiff", "--threshold", "1e-300"),
      "error: kernel fracdiff: --threshold: d = 0.4 at threshold 1e-300 needs more than 16384 FFD weights " +
      "(at most 16384: use a threshold >= 3.4e-7 for this d)",
    ],
    [k("bk", "--k", "1e9"), `error: kernel bk: --k expects an integer in [1, 10000], got "1e9"`],
    [k("min_d", "--grid", "1e9"), `error: kernel min_d: --grid expects an integer in [2, 1000], got "1e9"`],
    [
      k("min_d", "--precision", "1e-300"),
      `error: kernel min_d: --precision expects a number in [0.000001, 0.5], got "1e-300"`,
    ],
    [
      ["kernel", "features", "--input", input, "--windows", "50,1000000"],
      `error: kernel features: --windows expects integers in [2, 10000] separated by commas, got "50,1000000"`,
    ],
    [
      ["kernel", "features", "--input", input, "--workers", "100000"],
      `error: kernel features: --workers expects an integer in [0, 256], got "100000"`,
    ],
    [
      ["generate", "--output", join(dir, "gen"), "--rows", "1e12"],
      `error: --rows expects an integer in [1, 100000000], got "1e12"`,
    ],
    [
      ["generate", "--output", join(dir, "gen"), "--workers", "100000"],
      `error: --workers expects at most 256 workers, got 100000`,
    ],
  ];
  for (const [argv, want] of cases) {
    const t0 = performance.now();
    const r = await cli(argv);
    assert.equal(r.code, 2, `${argv.join(" ")}: ${r.err}`);
    assert.equal(oneError(r.err), want);
    assert.ok(performance.now() - t0 < 5_000, `${argv.join(" ")} took ${performance.now() - t0} ms`);
  }
  await assert.rejects(Deno.stat(join(dir, "gen")), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test(
  "params: on the kernel CLI a window longer than the file is exit 2 naming the flags and the rows",
  opts,
  async () => {
    const { dir, input, rows } = await csvInput();
    const k = (...a: string[]) => ["kernel", ...a, "--input", input, "--column", "close", "--backend", "cpu"];
    const cases: [string[], RegExp][] = [
      [
        k("zscore", "--window", "601"),
        /kernel zscore: .*bars\.csv has 600 rows, fewer than the 601 needed for a first value with --window 601/,
      ],
      [
        k("rolling_mean", "--window", "5000"),
        /fewer than the 5000 needed for a first value with --window 5000/,
      ],
      [
        [...k("rolling_corr", "--window", "700"), "--column2", "volume"],
        /fewer than the 700 needed .* --window 700/,
      ],
      // A kernel's own check against the data is exit 2 too.
      [
        k("adf", "--maxlag", "1000"),
        /^error: kernel adf: maxlag 1000 must be at most n\/2 - 1 - ntrend = 298 \(n = 600/,
      ],
      [k("kpss", "--nlags", "1000"), /^error: kernel kpss: lags \(1000\) must be an integer in \[0, 599\]$/],
      [
        k("fracdiff", "--d", "0.1"),
        /fewer than the 4076 needed for a first value with --d 0\.1 --threshold 0\.00001/,
      ],
      [k("bk", "--k", "300"), /fewer than the 601 needed for a first value with --low 6 --high 32 --k 300/],
      [
        ["kernel", "features", "--input", input, "--windows", "50,900"],
        /bars\.csv has 600 rows, fewer than --windows 900 needs/,
      ],
      [
        ["kernel", "resample", "--input", input, "--every", "1", "--fill", "nan"],
        /every 1 ms with fill nan gives 35940001 bars .*\(at most 33554432\); use a longer every or fill none/,
      ],
    ];
    for (const [argv, want] of cases) {
      const r = await cli(argv);
      assert.equal(r.code, 2, `${argv.join(" ")}: ${r.err}`);
      assert.match(oneError(r.err), want);
    }
    // At the boundary the output has exactly one value.
    const output = join(dir, "z.csv");
    const r = await cli([...k("zscore", "--window", String(rows)), "--output", output]);
    assert.equal(r.code, 0, r.err);
    const values = (await Deno.readTextFile(output)).trim().split("\n").slice(1).map(Number);
    assert.equal(values.filter(Number.isFinite).length, 1);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test(
  "params: in the pipeline a window longer than the series is a warning and an all-NaN column, not a failure",
  opts,
  async () => {
    const { dir, writeConfig } = await barsDir(500);
    const config = await writeConfig(
      `features:\n  rolling_windows: [10, 1000000]\n  frac_diff:\n    d_values: [0.1, 0.5]\n` +
        `  rolling_corr:\n    pairs: [[close, volume]]\n    window: 1000000\n  baxter_king:\n    k: 300\n` +
        `  extraction:\n    windows: [900]\n    workers: 1\n` +
        `pipeline:\n  engines:\n    garch_models: {enabled: false}\n    statistical_tests: {enabled: false}\n` +
        `generator:\n  if_empty: false\n`,
    );
    // The budget must hold the longest declared history (2e6 rows here) whatever the series' length.
    const text = await Deno.readTextFile(config);
    await Deno.writeTextFile(
      config,
      text.replace("  backend: cpu\n", "  backend: cpu\n  memory_budget: 4GiB\n"),
    );
    // Both backends where an adapter exists: windows at the cap must not reach a shader's loop budget.
    const adapter = await navigator.gpu?.requestAdapter();
    for (const backend of adapter ? ["cpu", "webgpu"] : ["cpu"]) {
      const r = await cli(["run", "--config", config, "--backend", backend, "--force"]);
      assert.equal(r.code, 0, `${backend}: ${r.err}`);
      const warned = warnings(r.err);
      for (
        const want of [
          /feature close_z_1000000: the z-score window needs 1000000 rows; the series has 500/,
          /feature close_fd_0\.1: FFD d = 0\.1 \(threshold 0\.00001\) needs 4076 rows; the series has 500/,
          /feature corr_close_volume_1000000: the correlation window needs 1000000 rows; the series has 500/,
          /feature close_bk_6_32_300: Baxter-King \(k = 300\) needs 601 rows; the series has 500/,
          /feature close__mean__w900: no finite value in 500 rows/,
        ]
      ) assert.match(warned, want, backend);
    }
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test("params: config lists and the feature-set extraction's column count are capped", () => {
  const err = (raw: unknown) => {
    try {
      validateConfig(raw, { source: "t.yaml", env: () => undefined });
    } catch (e) {
      return (e as Error).message;
    }
    return "";
  };
  const many = Array.from({ length: LIMITS.listItems + 1 }, (_, i) => i + 2);
  assert.equal(
    err({ features: { rolling_windows: many } }),
    `t.yaml: features.rolling_windows: expected at most ${LIMITS.listItems} items, got ${many.length}`,
  );
  assert.match(
    err({ data: { deny_columns: many.map(String) } }),
    /data\.deny_columns: expected at most 1000 items/,
  );
  const windows = Array.from({ length: 200 }, (_, i) => i + 2);
  const n = FEATURE_SETS.comprehensive.length;
  assert.equal(
    err({ features: { extraction: { set: "comprehensive", windows, columns: ["close", "open"] } } }),
    `t.yaml: features.extraction: 2 columns x 200 windows and segments x ${n} features of set comprehensive is ` +
      `${2 * 200 * n} feature columns (at most ${LIMITS.featureColumns})`,
  );
});

Deno.test("params: kernel features refuses more feature columns than the cap", opts, async () => {
  const { dir, input } = await csvInput();
  const windows = Array.from({ length: 200 }, (_, i) => i + 2).join(",");
  const r = await cli([
    "kernel",
    "features",
    "--input",
    input,
    "--set",
    "comprehensive",
    "--windows",
    windows,
    "--columns",
    "close,open",
  ]);
  assert.equal(r.code, 2, r.err);
  assert.equal(
    oneError(r.err),
    `error: kernel features: --columns x (--windows + --segments) x the comprehensive set's features is ` +
      `${2 * 200 * FEATURE_SETS.comprehensive.length} feature columns (at most ${LIMITS.featureColumns})`,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("params: a denied column that the features need is a config error, not a failure of every task", () => {
  const cases: [unknown, string][] = [
    [
      { data: { deny_columns: ["close"] } },
      't.yaml: data.deny_columns: "close" is dropped on read but features.columns and ' +
      "features.extraction.columns need it: remove it from one or the other",
    ],
    [
      { data: { deny_columns: ["volume"] }, features: { rolling_corr: { pairs: [["close", "volume"]] } } },
      't.yaml: data.deny_columns: "volume" is dropped on read but features.rolling_corr.pairs needs it: ' +
      "remove it from one or the other",
    ],
    [
      { data: { deny_columns: ["high"] }, features: { extraction: { columns: ["high", "close"] } } },
      't.yaml: data.deny_columns: "high" is dropped on read but features.extraction.columns needs it: ' +
      "remove it from one or the other",
    ],
  ];
  for (const [raw, want] of cases) {
    assert.throws(() => validateConfig(raw, { source: "t.yaml", env: () => undefined }), (e: Error) => {
      assert.equal(e.message, want);
      return true;
    });
  }
  // Not needed when nothing uses it: extraction set none.
  validateConfig({
    data: { deny_columns: ["high"] },
    features: { extraction: { set: "none", columns: ["high"] } },
  }, {
    env: () => undefined,
  });
});

Deno.test(
  "params: a target horizon or a dCor window longer than the data is a warning in the pipeline",
  opts,
  async () => {
    const { dir, writeConfig } = await barsDir(300);
    const cases: [string, RegExp][] = [
      [
        "selection_target_column: y_ret_fwd_100000",
        /selection: target y_ret_fwd_100000 has no finite value in 300 rows; nothing is ranked/,
      ],
      [
        "selection_target_column: y_ret_fwd_5\n  selection_rolling_window: 1000000",
        /selection_rolling_window 1000000 is longer than the 2\d\d rows scored: rolling_mean and rolling_stability are NaN/,
      ],
    ];
    for (const [features, want] of cases) {
      const config = await writeConfig(
        `features:\n  ${features}\n  selection_permutations: 9\n` +
          `pipeline:\n  engines:\n    stationarization: {enabled: false}\n    feature_engineering: {enabled: false}\n` +
          `    garch_models: {enabled: false}\ngenerator:\n  if_empty: false\n`,
      );
      const r = await cli(["run", "--config", config, "--force"]);
      assert.equal(r.code, 0, r.err);
      assert.match(warnings(r.err), want);
    }
    await Deno.remove(dir, { recursive: true });
  },
);
