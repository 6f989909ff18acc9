/** The `kernel` command end to end: every kernel through the CLI on a real Parquet file, and its errors. */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { main } from "../cli/main.ts";
import { decodeCsv } from "../io/csv.ts";
import { generate } from "../generator/generate.ts";
import { decodeFrame } from "../io/read.ts";
import { LocalStorage } from "../io/storage.ts";
import { KERNELS } from "../kernels/registry.ts";
import { parseParams } from "../kernels/kernel.ts";
import { setLogLevel } from "../runtime/log.ts";
import { assertClose, inputScale } from "./data.ts";

setLogLevel("error");
const dir = await Deno.makeTempDir();
await generate({
  kind: "bars",
  storage: new LocalStorage(dir),
  instruments: 1,
  rows: 3001,
  seed: 5,
  workers: 0,
});
const input = join(dir, "SYN0000", "part-00000.parquet");
const bars = await decodeFrame(await Deno.readFile(input), input);
const opts = { sanitizeResources: false, sanitizeOps: false };

const CLI_PARAMS: Record<string, string[]> = {
  fracdiff: ["--d", "0.4", "--threshold", "1e-4"],
  rolling_mean: ["--window", "20"],
  rolling_std: ["--window", "20", "--ddof", "0"],
  zscore: ["--window", "50"],
  logstab: ["--shift", "0.5"],
  rolling_corr: ["--window", "30", "--column2", "volume"],
  rolling_dcor: ["--window", "20", "--column2", "volume"],
  bk: ["--low", "6", "--high", "24", "--k", "8", "--mode", "symmetric"],
};

for (const kernel of KERNELS.values()) {
  for (const backend of ["webgpu", "cpu"]) {
    Deno.test(`kernel ${kernel.name} via the CLI (${backend}) writes the kernel's column`, opts, async () => {
      const out = join(dir, `${kernel.name}-${backend}.csv`);
      const extra = CLI_PARAMS[kernel.name];
      assert.ok(extra, `no CLI parameters for ${kernel.name}`);
      const code = await main([
        "kernel",
        kernel.name,
        "--input",
        input,
        "--column",
        "close",
        ...extra,
        "--backend",
        backend,
        "--output",
        out,
      ]);
      assert.equal(code, 0);
      const frame = decodeCsv(await Deno.readFile(out), out);
      assert.equal(frame.rows, bars.rows);
      const got = frame.columns.get(kernel.name);
      assert.ok(got, `output has no column ${kernel.name}`);
      const raw: Record<string, string> = {};
      for (let i = 0; i < extra.length; i += 2) {
        if (extra[i] !== "--column2") raw[extra[i].slice(2)] = extra[i + 1];
      }
      const inputs = [
        bars.columns.get("close")!,
        ...(kernel.inputs === 2 ? [bars.columns.get("volume")!] : []),
      ];
      const ref = kernel.cpu(inputs, parseParams(kernel, raw));
      assertClose(got, ref, kernel.tolerance, `${kernel.name} CLI`, inputScale(inputs));
    });
  }
}

Deno.test("kernel CLI errors: one clear message and exit code 2", opts, async () => {
  const cases: [string[], RegExp][] = [
    [["kernel", "nope", "--input", input, "--column", "close"], /unknown kernel "nope"/],
    [
      ["kernel", "zscore", "--input", input, "--column", "close", "--window", "10", "--windw", "3"],
      /unknown parameter --windw/,
    ],
    [["kernel", "zscore", "--input", input, "--column", "clsoe", "--window", "10"], /no column "clsoe"/],
    [
      ["kernel", "zscore", "--input", input, "--column", "close", "--window", "ten"],
      /--window expects an integer/,
    ],
    [["kernel", "zscore", "--input", input, "--column", "close"], /--window is required/],
    [
      ["kernel", "zscore", "--input", join(dir, "missing.csv"), "--column", "close", "--window", "5"],
      /missing\.csv/,
    ],
    [["kernel", "rolling_corr", "--input", input, "--column", "close", "--window", "5"], /--column2/],
    [
      ["kernel", "zscore", "--input", input, "--column", "close", "--window", "5", "--backend", "tpu"],
      /--backend/,
    ],
    [["frobnicate"], /unknown command/],
    [
      ["kernel", "zscore", "extra", "--input", input, "--column", "close", "--window", "5"],
      /unexpected argument "extra"/,
    ],
    [["runs", "r1", "--registry", input, "stray"], /runs: unexpected argument "stray"/],
  ];
  for (const [argv, re] of cases) {
    const lines: string[] = [];
    const orig = console.error;
    console.error = (...a: unknown[]) => lines.push(a.join(" "));
    try {
      assert.equal(await main(argv), 2, argv.join(" "));
    } finally {
      console.error = orig;
    }
    assert.equal(lines.length, 1, `one message for ${argv.join(" ")}: ${lines.join(" | ")}`);
    assert.match(lines[0], re);
  }
});

Deno.test("the CLI process exits 2 on a bad kernel name and writes CSV to stdout", opts, async () => {
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../cli/main.ts", import.meta.url).pathname, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const bad = await run(["kernel", "nope", "--input", input, "--column", "close"]);
  assert.equal(bad.code, 2);
  assert.match(new TextDecoder().decode(bad.stderr), /error: kernel: unknown kernel "nope"/);
  const ok = await run([
    "kernel",
    "rolling_mean",
    "--input",
    input,
    "--column",
    "close",
    "--window",
    "3",
    "--backend",
    "cpu",
  ]);
  assert.equal(ok.code, 0);
  const lines = new TextDecoder().decode(ok.stdout).trim().split("\n");
  assert.equal(lines[0], "rolling_mean");
  assert.equal(lines.length, bars.rows + 1);
  const c = bars.columns.get("close")!;
  assert.ok(Math.abs(Number(lines[3]) - (c[0] + c[1] + c[2]) / 3) < 1e-12);
});

Deno.test("kernel dcor and dcor_test print JSON equal to the library's results", opts, async () => {
  const { dcor, dcorTest } = await import("../kernels/dcor.ts");
  const x = bars.columns.get("close")!, y = bars.columns.get("volume")!;
  const out = join(dir, "dcor.json");
  assert.equal(
    await main([
      "kernel",
      "dcor",
      "--input",
      input,
      "--column",
      "close",
      "--column2",
      "volume",
      "--backend",
      "cpu",
      "--output",
      out,
    ]),
    0,
  );
  const doc = JSON.parse(await Deno.readTextFile(out));
  const ref = dcor(x, y);
  assert.equal(doc.result.dcor, ref.dcor);
  assert.equal(doc.result.dcor2_bc, ref.dcor2_bc);
  assert.equal(doc.result.n, bars.rows);
  const t = join(dir, "dcor_test.json");
  const argv = [
    "kernel",
    "dcor_test",
    "--input",
    input,
    "--column",
    "close",
    "--column2",
    "volume",
    "--permutations",
    "99",
    "--seed",
    "3",
    "--backend",
    "cpu",
    "--output",
    t,
  ];
  assert.equal(await main(argv), 0);
  const test = JSON.parse(await Deno.readTextFile(t)).result;
  assert.deepEqual([test.statistic, test.p_value, test.B], [
    ref.dcor,
    dcorTest(x, y, { permutations: 99, seed: 3 }).p_value,
    99,
  ]);
  assert.ok(test.p_value > 0 && test.p_value <= 1);
  assert.equal(await main(["kernel", "dcor", "--input", input, "--column", "close", "--backend", "cpu"]), 2);
});

Deno.test(
  "load: an instrument at a timeframe through the loader; the second call comes from the cache",
  opts,
  async () => {
    const config = join(dir, "load.yaml");
    await Deno.writeTextFile(config, `data:\n  source: ${dir}\n`);
    const logs: string[] = [];
    const orig = console.error;
    console.error = (...a: unknown[]) => logs.push(a.join(" "));
    const out = join(dir, "h1.csv"), cache = join(dir, "cache");
    setLogLevel("info");
    try {
      for (let i = 0; i < 2; i++) {
        assert.equal(
          await main([
            "load",
            "SYN0000",
            "--every",
            "1h",
            "--config",
            config,
            "--cache",
            cache,
            "--output",
            out,
          ]),
          0,
        );
      }
    } finally {
      console.error = orig;
      setLogLevel("error");
    }
    assert.ok(
      logs.some((l) => /from 3001 rows/.test(l)) && logs.some((l) => /from the cache/.test(l)),
      logs.join("\n"),
    );
    const h1 = decodeCsv(await Deno.readFile(out), out);
    const closes = bars.columns.get("close")!;
    assert.equal(h1.columns.get("count")!.reduce((a, b) => a + b, 0), bars.rows);
    assert.equal(h1.columns.get("close")![h1.rows - 1], closes[closes.length - 1]);
    assert.equal(await main(["load", "NOPE", "--every", "1h", "--config", config, "--cache", cache]), 2);
  },
);
