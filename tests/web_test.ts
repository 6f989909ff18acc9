/**
 * The exploration page (web/) in a real browser: Debian's headless Chromium driven by npm playwright-core,
 * WebGPU on SwiftShader. The test builds the page (web/build.ts), serves it on 127.0.0.1 (a random port),
 * uploads a Parquet file of generated bars, runs the engines on WebGPU in the page and checks the numbers the
 * page holds and shows against the CLI's engines run here on the f64 CPU path (same file, same config text),
 * within the kernels' stated f32 tolerances. A second test feeds bad files and a bad config, and checks the
 * messages, that the page stays usable, and the CPU path of a browser without WebGPU. The main test then picks
 * the 1h timeframe: the page resamples with the CLI's loader (`load`, on WebGPU there) and its bars, last bar,
 * run and export are checked against `load` on the f64 CPU path here (what `deno task cli load` computes).
 *
 * playwright-core reads os.homedir(), os.release() and /proc when it loads, which `deno task test` does not
 * allow (--allow-sys=hostname), so the browser is driven from a child Deno process running this same file with
 * `--web-driver SPEC` (Deno.test is a no-op under `deno run`); it writes what it saw as JSON. The screenshot
 * of the main test is saved as out/web-test.png, the 1h run's as out/web-test-1h.png.
 */
import { strict as assert } from "node:assert";
import { Buffer } from "node:buffer";
import {
  bk,
  decodeFrame,
  enabledEngines,
  encodeCsv,
  encodeParquet,
  fracdiff,
  type Frame,
  load,
  loadConfig,
  LocalStorage,
  logstab,
  openCompute,
  rollingCorr,
  type Tolerance,
  zscore,
} from "../mod.ts";
import { barParams, generateBars } from "../generator/bars.ts";
import { loadTask } from "../io/validate.ts";
import { buildWeb, configSections } from "../web/build.ts";
import { FEATURE_SETS, featureSetCpu } from "../kernels/feature_sets.ts";
import { loadShader } from "../runtime/shaders.ts";
import { serveStatic } from "../web/serve.ts";
import {
  type Any,
  BROWSER_ARGS,
  CHROMIUM,
  pageHooks,
  requireChromium,
  rootPath,
  runDriver,
} from "./web_harness.ts";

const SCREENSHOT = rootPath("out/web-test.png");
const SCREENSHOT_1H = rootPath("out/web-test-1h.png");
const opts = { sanitizeResources: false, sanitizeOps: false };

// ------------------------------------------------------------------------------------------ driver side

/** What the parent asks the child to do. */
interface DriverSpec {
  scenario: "engines" | "bad-files" | "shaders";
  url: string;
  webgpu: boolean;
  out: string;
  fixture?: string;
  config?: string;
  smallCsv?: string;
  unorderedCsv?: string;
  gappyCsv?: string;
  downloads?: string;
  screenshot?: string;
  /** The engines scenario then picks this timeframe, runs `timeframeConfig` on it and exports again. */
  timeframe?: string;
  timeframeConfig?: string;
  timeframeScreenshot?: string;
  /** The shaders scenario: a JSON file of { name, code } WGSL sources (includes expanded) to compile. */
  shaders?: string;
}

async function driver(spec: DriverSpec): Promise<void> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...BROWSER_ARGS, ...(spec.webgpu ? ["--enable-unsafe-webgpu"] : [])],
  });
  const seen: Record<string, unknown> = { console: [] as string[] };
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page.on("console", (m) => (seen.console as string[]).push(`${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => (seen.console as string[]).push(`pageerror: ${e.message}`));
    page.setDefaultTimeout(30_000);
    const { seq, settle, text, visible } = pageHooks(page);

    await page.goto(spec.url);
    seen.ready = await settle(0, ["ready", "error"]);
    seen.adapter = await page.evaluate(() => (globalThis as Any).__fg.adapter);
    seen.badge = await text("#adapter");

    if (spec.scenario === "shaders") {
      const sources = JSON.parse(await Deno.readTextFile(spec.shaders!));
      seen.shaders = await page.evaluate(async (list: { name: string; code: string }[]) => {
        const adapter = await (navigator as Any).gpu.requestAdapter();
        const device = await adapter.requestDevice();
        const errors: Record<string, string> = {};
        for (const { name, code } of list) {
          const info = await device.createShaderModule({ code }).getCompilationInfo();
          errors[name] = info.messages.filter((m: Any) => m.type === "error")
            .map((m: Any) => `${m.lineNum}:${m.linePos} ${m.message}`).join("; ");
        }
        return errors;
      }, sources);
    } else if (spec.scenario === "engines") {
      let s = await seq();
      await page.setInputFiles("#file", spec.fixture!);
      seen.loaded = await settle(s, ["loaded", "error"]);
      seen.data = {
        name: await text("#data-name"),
        rows: await text("#data-rows"),
        first: await text("#data-first"),
        last: await text("#data-last"),
        validation: await text("#validation"),
        validationClass: await page.getAttribute("#validation", "class"),
      };
      await page.fill("#config", await Deno.readTextFile(spec.config!));
      await page.selectOption("#backend", spec.webgpu ? "webgpu" : "cpu");
      s = await seq();
      const t0 = performance.now();
      await page.click("#run");
      seen.run = await settle(s, ["done", "error"], 50_000);
      seen.runMs = Math.round(performance.now() - t0);
      seen.error = await page.evaluate(() => (globalThis as Any).__fg.error);
      seen.result = await page.evaluate(() => {
        const r = (globalThis as Any).__fg.result;
        if (!r) return null;
        const cols: Record<string, (number | null)[]> = {};
        for (const [k, v] of Object.entries(r.columns as Record<string, Float64Array>)) {
          cols[k] = Array.from(v, (x) => (Number.isFinite(x) ? x : null));
        }
        return {
          backend: r.backend,
          adapter: r.adapter,
          added: r.added,
          engines_ms: r.engines_ms,
          columns: cols,
          ranking: r.reports.statistical_tests?.ranking,
        };
      });
      seen.dom = await page.evaluate(() => {
        const doc = (globalThis as Any).document;
        const q = (s: string): Any[] => [...doc.querySelectorAll(s)];
        return {
          last: Object.fromEntries(
            q("#columns tr[data-column]").map((tr) => [
              tr.dataset.column,
              tr.querySelector("[data-field=last]")!.textContent,
            ]),
          ),
          dcor: Object.fromEntries(
            q("#ranking tr[data-feature]").map((tr) => [
              tr.dataset.feature,
              tr.querySelector("[data-key=dcor]")!.textContent,
            ]),
          ),
          bars: q("#rank-bars .bar-row").length,
          plots: q("#plots .uplot").map((p) => p.parentElement.querySelector("h3")?.textContent ?? ""),
          timings: q("#timings tr[data-engine]").map((tr) => tr.dataset.engine),
          status: doc.getElementById("run-status").textContent,
        };
      });
      // Sort the ranking by feature name.
      await page.click('#ranking th[data-key="feature"]');
      seen.sortedByName = await page.$$eval(
        "#ranking tr[data-feature]",
        (trs) => trs.map((tr) => (tr as Any).dataset.feature),
      );
      // Zoom one plot by dragging: every plot follows.
      seen.zoomBefore = await page.evaluate(() => (globalThis as Any).__fg.xRanges());
      const over = page.locator("#plots .u-over").first();
      await over.scrollIntoViewIfNeeded();
      const box = (await over.boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
      await page.mouse.up();
      seen.zoomAfter = await page.evaluate(() => (globalThis as Any).__fg.xRanges());
      // Another column in the "any column" plot: it joins the current zoom.
      await page.selectOption("#explore-column", "volume");
      seen.explore = await page.evaluate(() => (globalThis as Any).__fg.xRanges());
      // Exports.
      const save = async (button: string, name: string) => {
        const [dl] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
        const path = `${spec.downloads}/${name}`;
        await dl.saveAs(path);
        return { path, suggested: dl.suggestedFilename() };
      };
      seen.feather = await save("#export-feather", "frame.feather");
      seen.csv = await save("#export-csv", "frame.csv");
      seen.report = await save("#export-report", "report.json");
      await page.evaluate(() => (globalThis as Any).scrollTo(0, 0));
      await page.screenshot({ path: spec.screenshot!, fullPage: true });

      // A timeframe: the worker resamples with the CLI's loader; the run and the exports use those bars.
      s = await seq();
      await page.selectOption("#timeframe", spec.timeframe!);
      seen.resampled = await settle(s, ["loaded", "error"]);
      seen.timeframe = await page.evaluate(() => (globalThis as Any).__fg.timeframe);
      seen.timeframeDom = {
        bars: await text("#tf-bars"),
        partial: await text("#tf-partial"),
        gaps: await text("#tf-gaps"),
        plotsHidden: !(await visible("#plots-card")),
      };
      await page.fill("#config", await Deno.readTextFile(spec.timeframeConfig!));
      s = await seq();
      await page.click("#run");
      seen.timeframeRun = await settle(s, ["done", "error"], 30_000);
      seen.timeframeError = await page.evaluate(() => (globalThis as Any).__fg.error);
      seen.timeframeResult = await page.evaluate(() => {
        const r = (globalThis as Any).__fg.result;
        if (!r) return null;
        const pick = (c: string) => Array.from(r.columns[c] as Float64Array);
        return {
          backend: r.backend,
          rows: r.rows,
          timestamps: Array.from(r.timestamps as Float64Array),
          close: pick("close"),
          volume: pick("volume"),
          plots: (globalThis as Any).document.querySelectorAll("#plots .uplot").length,
        };
      });
      seen.timeframeFeather = await save("#export-feather", "frame-tf.feather");
      await page.evaluate(() => (globalThis as Any).scrollTo(0, 0));
      await page.screenshot({ path: spec.timeframeScreenshot!, fullPage: true });
    } else {
      // 1. Not a Parquet file at all.
      let s = await seq();
      await page.setInputFiles("#file", {
        name: "broken.parquet",
        mimeType: "application/octet-stream",
        buffer: Buffer.from("this is not a parquet file\n\x00\x01\x02"),
      });
      seen.broken = {
        status: await settle(s, ["loaded", "error"]),
        error: await text("#data-error"),
        visible: await visible("#data-error"),
        runDisabled: await page.isDisabled("#run"),
      };
      // 2. A CSV the decoder reads but the CLI's validation rejects.
      s = await seq();
      await page.setInputFiles("#file", spec.unorderedCsv!);
      seen.unordered = {
        status: await settle(s, ["loaded", "error"]),
        validation: await text("#validation"),
        errorVisible: await visible("#data-error"),
        runDisabled: await page.isDisabled("#run"),
      };
      // 2b. A file with a hole, at 1h on the CPU path (no WebGPU): a gap and a partial last bar; then back to
      // the data as loaded.
      s = await seq();
      await page.setInputFiles("#file", spec.gappyCsv!);
      await settle(s, ["loaded", "error"]);
      s = await seq();
      await page.selectOption("#timeframe", "1h");
      const gappy: Record<string, unknown> = {
        status: await settle(s, ["loaded", "error"]),
        timeframe: await page.evaluate(() => (globalThis as Any).__fg.timeframe),
        partial: await text("#tf-partial"),
        gaps: await text("#tf-gaps"),
      };
      s = await seq();
      await page.selectOption("#timeframe", "");
      await settle(s, ["loaded", "error"]);
      gappy.asLoaded = await page.evaluate(() => (globalThis as Any).__fg.timeframe);
      seen.gappy = gappy;
      // 3. A good file: the page recovers.
      s = await seq();
      await page.setInputFiles("#file", spec.smallCsv!);
      seen.good = {
        status: await settle(s, ["loaded", "error"]),
        rows: await text("#data-rows"),
        errorVisible: await visible("#data-error"),
        runDisabled: await page.isDisabled("#run"),
      };
      // 4. A bad config value: one message naming the key, and a good config runs afterwards.
      await page.fill("#config", "features:\n  rolling_windows: [1, 20]\n");
      s = await seq();
      await page.click("#run");
      seen.badConfig = {
        status: await settle(s, ["done", "error"]),
        error: await text("#run-error"),
        runDisabled: await page.isDisabled("#run"),
      };
      // 5. A long run (many permutations) is cancelled: the worker restarts with the same data loaded.
      await page.fill("#config", "features:\n  selection_permutations: 99999\n  selection_stop_after: 0\n");
      s = await seq();
      await page.click("#run");
      await settle(s, ["running"]);
      await page.waitForTimeout(300);
      s = await seq();
      await page.click("#cancel");
      seen.cancelled = {
        status: await settle(s, ["loaded", "error"]),
        runStatus: await text("#run-status"),
        rows: await text("#data-rows"),
        runDisabled: await page.isDisabled("#run"),
      };
      await page.fill("#config", await Deno.readTextFile(spec.config!));
      s = await seq();
      await page.click("#run");
      seen.recovered = {
        status: await settle(s, ["done", "error"], 50_000),
        error: await page.evaluate(() => (globalThis as Any).__fg.error),
        backend: await page.evaluate(() => (globalThis as Any).__fg.result?.backend),
        errorVisible: await visible("#run-error"),
        features: await page.evaluate(() =>
          Object.entries((globalThis as Any).__fg.result?.columns ?? {})
            .filter(([n]) => n.startsWith("close__"))
            .map(([n, v]) => [n, (v as (number | null)[]).at(-1)])
        ),
      };
    }
  } finally {
    await Deno.writeTextFile(spec.out, JSON.stringify(seen));
    await browser.close();
  }
}

if (Deno.args[0] === "--web-driver") {
  await driver(JSON.parse(Deno.args[1]));
}

// ------------------------------------------------------------------------------------------ test side

/** Runs the driver in a child process and returns what it saw. */
async function drive(spec: Omit<DriverSpec, "out">, dir: string): Promise<Any> {
  const child = await runDriver("tests/web_test.ts", spec, `${dir}/seen-${spec.scenario}.json`);
  const seen = child.seen;
  if (!child.success || !seen) {
    const err = child.stderr;
    const log = seen ? `\npage console:\n${(seen.console ?? []).join("\n")}` : "";
    throw new Error(
      `the browser driver failed (exit ${child.code}):\n${err}${log}\nseen so far: ${
        JSON.stringify(seen)?.slice(0, 2000)
      }`,
    );
  }
  return seen;
}

/** Builds the page into `dir`/site and serves it; returns the URL and the server. */
async function site(
  dir: string,
): Promise<{ url: string; server: Deno.HttpServer<Deno.NetAddr>; config: string }> {
  const out = await buildWeb({ outDir: `${dir}/site` });
  const server = serveStatic(out, { hostname: "127.0.0.1", port: 0 });
  const config = await Deno.readTextFile(`${out}/config.yaml`);
  return { url: `http://127.0.0.1:${server.addr.port}/`, server, config };
}

/** A quick config for the hourly bars: the stationarization engine only. */
const QUICK_CONFIG =
  "features:\n  columns: [close]\n  rolling_windows: [10, 20]\n  frac_diff: { d_values: [0.4] }\n" +
  "pipeline:\n  engines:\n    feature_engineering: { enabled: false, order: 2 }\n" +
  "    garch_models: { enabled: false, order: 3 }\n    statistical_tests: { enabled: false, order: 4 }\n";

/** The page's example config with the selection sized for a software adapter (SwiftShader). */
function testConfig(example: string): string {
  let text = example;
  for (const [key, value] of [["selection_max_samples", 600], ["selection_permutations", 19]] as const) {
    const re = new RegExp(`^(\\s+${key}:) \\d+$`, "m");
    assert.ok(re.test(text), `the page's config has ${key}`);
    text = text.replace(re, `$1 ${value}`);
  }
  return text.replace(/^(\s+selection_rolling_window:) \d+$/m, "$1 150");
}

/** Generated bars (the CLI generator's process) as columns plus timestamps. */
function bars(rows: number, seed: number) {
  const b = generateBars(barParams(seed, 1), 0, rows);
  const columns = new Map([["open", b.open], ["high", b.high], ["low", b.low], ["close", b.close], [
    "volume",
    b.volume,
  ]]);
  return { columns, timestamps: { name: "timestamp", values: b.timestamp } };
}

/** The CLI's engines on the f64 CPU path, for one file: loadTask (decode + validate) then each engine in order. */
async function cliReference(dir: string, file: string, configText: string) {
  const config = loadConfig(configText, { env: () => undefined, source: "config" });
  const frame: Frame = await loadTask(new LocalStorage(dir), {
    instrument: "fixture",
    files: [{ key: file, size: 0 }],
  }, {
    denyColumns: config.data.deny_columns,
    timestampColumn: config.data.timestamp_column,
  });
  const compute = await openCompute({ backend: "cpu" });
  const columns = new Map(frame.columns);
  const reports: Record<string, Any> = {};
  for (const engine of enabledEngines(config)) {
    const { columns: added, report } = await engine.run({ ...frame, columns }, config, compute);
    reports[engine.name] = report;
    for (const [k, v] of added) columns.set(k, v);
  }
  return { frame, columns, reports, config };
}

/** max |x - x_0| over finite values (the input scale S of the kernels' tolerance). */
function scale(x: Float64Array): number {
  let x0 = NaN, s = 0;
  for (const v of x) {
    if (!Number.isFinite(v)) continue;
    if (Number.isNaN(x0)) x0 = v;
    s = Math.max(s, Math.abs(v - x0));
  }
  return s;
}

/**
 * The f32-vs-f64 tolerance of a computed column, from its kernel's declared tolerance (README table) and the
 * input's scale. GARCH volatility: the host filter (f64) with parameters the GPU search finds and f64 Newton
 * steps finish (tests/garch_test.ts holds them within 1e-4 standard errors of the CPU fit), so 1e-4 relative.
 * Inputs and the target (y_*) are f64 on the host on both paths: equal. A column of an engine this test does not
 * know yet gets a generic f32 bound, 1e-4 of its value plus 1e-4 of the column's range.
 */
function toleranceOf(
  name: string,
  ref: Map<string, Float64Array>,
  inputs: Set<string>,
): Tolerance & { stol?: number; S: number } {
  const logOf = (c: string) => ref.get(c)!.map((v) => (v > 0 ? Math.log(v) : NaN));
  let m: RegExpExecArray | null;
  if ((m = /^(.+)_fd_[\d.]+$/.exec(name))) return { ...fracdiff.tolerance, S: scale(logOf(m[1])) };
  if ((m = /^(.+)_bk_\d+_\d+_\d+$/.exec(name))) return { ...bk.tolerance, S: scale(logOf(m[1])) };
  if ((m = /^(.+)_logstab$/.exec(name))) return { ...logstab.tolerance, S: scale(ref.get(m[1])!) };
  if (/^.+_z_\d+$/.test(name)) return { ...zscore.tolerance, S: 0 };
  if (/^corr_/.test(name)) return { ...rollingCorr.tolerance, S: 0 };
  if (/_garch_vol$/.test(name)) return { atol: 0, rtol: 1e-4, S: 0 };
  if (inputs.has(name) || name.startsWith("y_")) return { atol: 0, rtol: 1e-12, S: 0 };
  let lo = Infinity, hi = -Infinity;
  for (const v of ref.get(name)!) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  return { atol: 0, rtol: 1e-4, stol: 1e-4, S: hi >= lo ? hi - lo : 0 };
}

function compareColumn(
  name: string,
  got: (number | null)[],
  want: Float64Array,
  ref: Map<string, Float64Array>,
  inputs: Set<string>,
) {
  assert.equal(got.length, want.length, `${name}: length`);
  const tol = toleranceOf(name, ref, inputs);
  let worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const w = want[i], g = got[i];
    if (!Number.isFinite(w)) {
      assert.equal(g, null, `${name}[${i}]: the CLI has ${w}, the page ${g}`);
      continue;
    }
    assert.ok(g !== null, `${name}[${i}]: the CLI has ${w}, the page NaN`);
    const bound = tol.atol + tol.rtol * Math.abs(w) + (tol.stol ?? 0) * tol.S;
    const excess = Math.abs(g - w) / bound;
    if (excess > worst) [worst, at] = [excess, i];
  }
  assert.ok(worst <= 1, `${name}: row ${at}: page ${got[at]} vs CLI ${want[at]}, beyond the tolerance`);
  return worst;
}

Deno.test("web page: a Parquet file's engines on WebGPU in Chromium match the CLI", opts, async () => {
  requireChromium();
  const dir = await Deno.makeTempDir({ prefix: "fg-web-" });
  const { url, server, config: example } = await site(dir);
  try {
    const rows = 6000;
    const { columns, timestamps } = bars(rows, 11);
    // The source folder of the CLI's loader: one instrument, "bars" (from the file's base name).
    await Deno.mkdir(`${dir}/src`);
    await Deno.writeFile(`${dir}/src/bars.parquet`, encodeParquet(columns, timestamps));
    const configText = testConfig(example);
    await Deno.writeTextFile(`${dir}/config.yaml`, configText);
    await Deno.writeTextFile(`${dir}/config-1h.yaml`, QUICK_CONFIG);
    await Deno.mkdir(`${dir}/downloads`);
    await Deno.mkdir(rootPath("out"), { recursive: true });

    const [ref, hourly, seen] = await Promise.all([
      cliReference(`${dir}/src`, "bars.parquet", configText),
      // `deno task cli load bars --every 1h` on the CPU (f64), without the disk cache.
      load(new LocalStorage(`${dir}/src`), "bars", "1h", { cache: null }),
      drive({
        scenario: "engines",
        url,
        webgpu: true,
        fixture: `${dir}/src/bars.parquet`,
        config: `${dir}/config.yaml`,
        downloads: `${dir}/downloads`,
        screenshot: SCREENSHOT,
        timeframe: "1h",
        timeframeConfig: `${dir}/config-1h.yaml`,
        timeframeScreenshot: SCREENSHOT_1H,
      }, dir),
    ]);
    const why = `page console:\n${seen.console.join("\n")}`;

    // The adapter: WebGPU on SwiftShader, used for the run.
    assert.equal(seen.ready, "ready", why);
    assert.equal(
      seen.adapter?.webgpu,
      true,
      `no WebGPU adapter in Chromium (--enable-unsafe-webgpu): ${why}`,
    );
    assert.match(seen.badge, /^WebGPU: /);
    // The file summary.
    assert.equal(seen.loaded, "loaded", why);
    assert.equal(seen.data.name, "bars.parquet");
    assert.equal(seen.data.rows, "6,000");
    assert.equal(
      seen.data.first,
      new Date(timestamps.values[0]).toISOString().replace("T", " ").replace(":00.000Z", "Z"),
    );
    assert.match(seen.data.validationClass, /\bok\b/);
    // The run.
    assert.equal(seen.run, "done", `${seen.error}\n${why}`);
    const r = seen.result;
    assert.equal(r.backend, "webgpu");
    assert.deepEqual(Object.keys(r.engines_ms), enabledEngines(ref.config).map((e) => e.name));
    assert.deepEqual(seen.dom.timings, Object.keys(r.engines_ms));
    assert.deepEqual(Object.keys(r.columns).sort(), [...ref.columns.keys()].sort());

    // Every column the page computed on WebGPU matches the CLI's f64 CPU output within the kernel tolerance.
    const inputs = new Set(ref.frame.columns.keys());
    const worst: Record<string, number> = {};
    for (const [name, want] of ref.columns) {
      worst[name] = compareColumn(name, r.columns[name], want, ref.columns, inputs);
    }
    // Not vacuous: the GPU columns are f32 results, not copies of the f64 ones.
    assert.ok(
      Object.values(worst).some((w) => w > 0),
      "the page's columns are bit-identical to the CPU path",
    );

    // The numbers rendered in the DOM: each computed column's last value (6 significant digits) ...
    const added = r.added.map((a: { name: string }) => a.name) as string[];
    assert.deepEqual(Object.keys(seen.dom.last).sort(), [...added].sort());
    for (const name of added) {
      const want = ref.columns.get(name)!;
      let last = NaN;
      for (const v of want) if (Number.isFinite(v)) last = v;
      const shown = Number(seen.dom.last[name]);
      const tol = toleranceOf(name, ref.columns, inputs);
      const bound = tol.atol + tol.rtol * Math.abs(last) + (tol.stol ?? 0) * tol.S + 5e-6 * Math.abs(last);
      assert.ok(
        Math.abs(shown - last) <= bound,
        `${name}: the page shows ${seen.dom.last[name]}, the CLI has ${last}`,
      );
    }
    // ... and the dCor ranking (table and bars) against the CLI's, feature by feature.
    const refRanking = ref.reports.statistical_tests.ranking as Any[];
    assert.equal(r.ranking.length, refRanking.length);
    assert.equal(seen.dom.bars, refRanking.length);
    const B = ref.config.features.selection_permutations;
    for (const want of refRanking) {
      const got = r.ranking.find((x: Any) => x.feature === want.feature);
      assert.ok(got, `${want.feature} ranked on the page`);
      assert.ok(Math.abs(got.dcor - want.dcor) <= 1e-4, `${want.feature}: dCor ${got.dcor} vs ${want.dcor}`);
      // Both backends stop a test at the h-th replicate >= the observed statistic (Besag-Clifford,
      // selection_stop_after), the page's on f32 replicates: a replicate within rounding of the statistic can
      // move the stop, so where the CLI's test stopped the page's p is only bounded from below.
      const h = ref.config.features.selection_stop_after;
      assert.ok(
        want.stopped_at === undefined
          ? Math.abs(got.p_value - want.p_value) <= 2 / (1 + B) + 1e-12
          : got.p_value >= (1 + h - 2) / (1 + B) - 1e-12,
        `${want.feature}: p ${got.p_value} vs ${want.p_value} (stopped at ${want.stopped_at})`,
      );
      const shown = Number(seen.dom.dcor[want.feature]);
      assert.ok(Math.abs(shown - want.dcor) <= 1e-4 + 5e-4 * want.dcor, `${want.feature}: shown ${shown}`);
    }
    assert.deepEqual(
      seen.sortedByName,
      [...refRanking.map((x) => x.feature)].sort((a, b) => a.localeCompare(b)),
    );
    // The plots, one per engine group, zoomed together.
    for (const title of ["Price", "z-scores", "Baxter-King", "GARCH"]) {
      assert.ok(seen.dom.plots.some((t: string) => t.includes(title)), `a ${title} plot: ${seen.dom.plots}`);
    }
    const [before, after] = [seen.zoomBefore as number[][], seen.zoomAfter as number[][]];
    assert.equal(after.length, seen.dom.plots.length);
    assert.ok(
      after[0][1] - after[0][0] < 0.5 * (before[0][1] - before[0][0]),
      `zoomed: ${before[0]} -> ${after[0]}`,
    );
    for (const r of after) assert.deepEqual(r, after[0], "every plot shows the same time range");
    assert.deepEqual(seen.explore, after, "the replotted column keeps the zoom");

    // Exports: the Feather file holds exactly the page's frame; the CSV and the report are readable.
    const feather = await decodeFrame(await Deno.readFile(seen.feather.path), seen.feather.suggested);
    assert.equal(seen.feather.suggested, "bars.features.feather");
    assert.equal(feather.rows, rows);
    assert.deepEqual(Array.from(feather.timestamps!), Array.from(timestamps.values));
    for (const [name, got] of Object.entries(r.columns as Record<string, (number | null)[]>)) {
      const v = feather.columns.get(name)!;
      assert.ok(v, `${name} in the Feather export`);
      assert.ok(
        got.every((g, i) => (g === null ? Number.isNaN(v[i]) : g === v[i])),
        `${name} exported as computed`,
      );
    }
    const csv = await decodeFrame(await Deno.readFile(seen.csv.path), "frame.csv");
    assert.equal(csv.rows, rows);
    assert.equal(csv.columns.size, ref.columns.size);
    const report = JSON.parse(await Deno.readTextFile(seen.report.path));
    assert.equal(report.backend, "webgpu");
    assert.equal(report.rows, rows);
    assert.equal(report.reports.statistical_tests.ranking.length, refRanking.length);
    assert.equal(
      report.reports.garch_models.columns.close.status,
      ref.reports.garch_models.columns.close.status,
    );

    const info = await Deno.stat(SCREENSHOT);
    assert.ok(info.size > 10_000, "screenshot saved");

    // The 1h timeframe: the page's loader (on WebGPU) gives the CLI loader's bars (f64 CPU path).
    const h = hourly.frame, n = h.rows;
    assert.equal(seen.resampled, "loaded", `${seen.error}\n${why}`);
    const tf = seen.timeframe;
    assert.equal(tf.every, "1h");
    assert.equal(tf.backend, "webgpu");
    assert.equal(tf.inputRows, rows);
    assert.ok(n > 50 && n < rows, `${n} hourly bars`);
    assert.equal(tf.bars, n, "bar count");
    assert.equal(seen.timeframeDom.bars, n.toLocaleString("en-US"));
    const partial = h.columns.get("partial")![n - 1] === 1;
    assert.equal(tf.partial, partial);
    assert.equal(seen.timeframeDom.partial, partial ? "partial" : "complete");
    let gaps = 0;
    for (let i = 1; i < n; i++) if (h.timestamps![i] - h.timestamps![i - 1] > 3_600_000) gaps++;
    assert.equal(tf.gaps, gaps);
    assert.equal(seen.timeframeDom.gaps, String(gaps));
    assert.ok(seen.timeframeDom.plotsHidden, "the 1-minute run's plots are cleared");
    // The last bar: start, open and close exact (row indices, values read from the f64 input); high and low
    // one of the bar's inputs (exact at these tick-rounded prices); volume an f32 sum over <= 64-row pieces.
    const want = (c: string) => h.columns.get(c)![n - 1];
    assert.equal(tf.last.timestamp, h.timestamps![n - 1]);
    for (const c of ["open", "high", "low", "close"]) assert.equal(tf.last[c], want(c), `last bar ${c}`);
    assert.ok(
      Math.abs(tf.last.volume - want("volume")) <= 1e-5 * want("volume"),
      `last bar volume: page ${tf.last.volume}, CLI ${want("volume")}`,
    );
    assert.equal(tf.last.count, want("count"));
    // The run and the export use the hourly bars.
    assert.equal(seen.timeframeRun, "done", `${seen.timeframeError}\n${why}`);
    const t = seen.timeframeResult;
    assert.equal(t.backend, "webgpu");
    assert.equal(t.rows, n);
    assert.deepEqual(t.timestamps, Array.from(h.timestamps!));
    assert.deepEqual(t.close, Array.from(h.columns.get("close")!));
    assert.ok(t.plots > 0, "plots of the hourly run");
    const tfFeather = await decodeFrame(await Deno.readFile(seen.timeframeFeather.path), "tf.feather");
    assert.equal(tfFeather.rows, n);
    assert.deepEqual(Array.from(tfFeather.timestamps!), Array.from(h.timestamps!));
    for (const c of ["open", "high", "low", "close", "count", "partial"]) {
      assert.deepEqual(Array.from(tfFeather.columns.get(c)!), Array.from(h.columns.get(c)!), `exported ${c}`);
    }
    assert.ok((await Deno.stat(SCREENSHOT_1H)).size > 10_000, "1h screenshot saved");
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test(
  "web page: bad files, a bad config and a cancelled run leave the page usable; without WebGPU it runs on the CPU",
  opts,
  async () => {
    requireChromium();
    const dir = await Deno.makeTempDir({ prefix: "fg-web-" });
    const { url, server } = await site(dir);
    try {
      const { columns, timestamps } = bars(400, 3);
      const small = encodeCsv([...columns].map(([name, values]) => ({ name, values })), timestamps);
      await Deno.writeFile(`${dir}/small.csv`, small);
      const swapped = Float64Array.from(timestamps.values);
      [swapped[10], swapped[11]] = [swapped[11], swapped[10]];
      await Deno.writeFile(
        `${dir}/unordered.csv`,
        encodeCsv([...columns].map(([name, values]) => ({ name, values })), {
          ...timestamps,
          values: swapped,
        }),
      );
      // Two hours missing (rows 100..219): the hour starting 00:00 has no rows.
      const keep = (v: Float64Array) => Float64Array.from(v).filter((_, i) => i < 100 || i >= 220);
      await Deno.writeFile(
        `${dir}/gappy.csv`,
        encodeCsv([...columns].map(([name, values]) => ({ name, values: keep(values) })), {
          ...timestamps,
          values: keep(timestamps.values),
        }),
      );
      // The CPU path in a browser without WebGPU: stationarization and the efficient feature set (its CPU
      // worker pool: nested workers from the page's worker), to stay quick.
      await Deno.writeTextFile(
        `${dir}/config.yaml`,
        "features:\n  rolling_windows: [10, 20]\n  frac_diff: { d_values: [0.4] }\n" +
          "  extraction: { set: efficient, windows: [20], workers: 2 }\n" +
          "pipeline:\n  engines:\n    feature_engineering: { enabled: true, order: 2 }\n" +
          "    garch_models: { enabled: false, order: 3 }\n    statistical_tests: { enabled: false, order: 4 }\n",
      );
      const seen = await drive({
        scenario: "bad-files",
        url,
        webgpu: false,
        config: `${dir}/config.yaml`,
        smallCsv: `${dir}/small.csv`,
        unorderedCsv: `${dir}/unordered.csv`,
        gappyCsv: `${dir}/gappy.csv`,
      }, dir);
      const why = `page console:\n${seen.console.join("\n")}`;
      assert.equal(seen.ready, "ready", why);
      assert.equal(seen.adapter.webgpu, false);
      assert.match(seen.badge, /No WebGPU: running on the CPU/);

      assert.equal(seen.broken.status, "error");
      assert.ok(seen.broken.visible);
      assert.match(seen.broken.error, /^broken\.parquet: not a Parquet file \(no PAR1 magic/);
      assert.ok(seen.broken.runDisabled);

      assert.equal(seen.unordered.status, "loaded");
      assert.ok(!seen.unordered.errorVisible, "the earlier error is cleared");
      assert.match(
        seen.unordered.validation,
        /unordered\.csv: column timestamp: timestamps must be strictly increasing; row 11/,
      );
      assert.ok(seen.unordered.runDisabled);

      // The page's 1h bars on the CPU path are the CLI loader's, bit for bit.
      const g = (await load(new LocalStorage(dir), "gappy", "1h", { cache: null })).frame;
      const gt = seen.gappy.timeframe;
      assert.equal(seen.gappy.status, "loaded", why);
      assert.equal(gt.backend, "cpu");
      assert.equal(gt.bars, g.rows);
      assert.equal(gt.inputRows, 280);
      assert.equal(g.columns.get("partial")![g.rows - 1], 1, "the fixture ends inside its last hour");
      assert.equal(gt.partial, true);
      assert.equal(seen.gappy.partial, "partial");
      let gaps = 0, missing = 0;
      for (let i = 1; i < g.rows; i++) {
        const d = (g.timestamps![i] - g.timestamps![i - 1]) / 3_600_000;
        if (d > 1) [gaps, missing] = [gaps + 1, missing + d - 1];
      }
      assert.ok(gaps >= 1, "the fixture has a gap at 1h");
      assert.equal(gt.gaps, gaps);
      assert.equal(gt.missingBars, missing);
      assert.equal(seen.gappy.gaps, String(gaps));
      assert.equal(gt.last.timestamp, g.timestamps![g.rows - 1]);
      for (const c of ["open", "high", "low", "close", "volume", "vwap", "count"]) {
        assert.equal(gt.last[c], g.columns.get(c)![g.rows - 1], `last bar ${c}`);
      }
      assert.equal(seen.gappy.asLoaded.every, null);
      assert.equal(seen.gappy.asLoaded.bars, 280);

      assert.equal(seen.good.status, "loaded");
      assert.equal(seen.good.rows, "400");
      assert.ok(!seen.good.errorVisible);
      assert.ok(!seen.good.runDisabled);

      assert.equal(seen.badConfig.status, "error");
      assert.match(seen.badConfig.error, /features\.rolling_windows/);
      assert.ok(!seen.badConfig.runDisabled);

      assert.equal(seen.cancelled.status, "loaded");
      assert.match(seen.cancelled.runStatus, /^Cancelled/);
      assert.equal(seen.cancelled.rows, "400");
      assert.ok(!seen.cancelled.runDisabled);

      assert.equal(seen.recovered.status, "done", `${seen.recovered.error}\n${why}`);
      assert.equal(seen.recovered.backend, "cpu");
      assert.ok(!seen.recovered.errorVisible);
      // The worker pool's values are featureSetCpu's.
      const close = columns.get("close")!;
      const ref = featureSetCpu(close, 20, FEATURE_SETS.efficient);
      assert.equal(seen.recovered.features.length, FEATURE_SETS.efficient.length);
      for (const [name, last] of seen.recovered.features) {
        const want = ref.get(name.replace(/^close__(.+)__w20$/, "$1"))!.at(-1)!;
        assert.equal(last, Number.isNaN(want) ? null : want, name);
      }
    } finally {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);

Deno.test("web page: every WGSL shader compiles in Chromium's WebGPU (Tint)", opts, async () => {
  requireChromium();
  const dir = await Deno.makeTempDir({ prefix: "fg-web-" });
  const { url, server } = await site(dir);
  try {
    const files = [...Deno.readDirSync(rootPath("shaders"))].map((e) => e.name).filter((n) =>
      n.endsWith(".wgsl")
    );
    const text = (n: string) => Deno.readTextFileSync(rootPath(`shaders/${n}`));
    // Include-only files (helpers, or an entry point calling what the including shader defines) are skipped.
    const included = new Set(
      files.flatMap((n) => [...text(n).matchAll(/#include "(.+)"/g)].map((m) => m[1])),
    );
    const entries = files.filter((n) => !included.has(n)).map((n) => n.replace(/\.wgsl$/, ""));
    const sources = await Promise.all(entries.map(async (name) => ({ name, code: await loadShader(name) })));
    await Deno.writeTextFile(`${dir}/shaders.json`, JSON.stringify(sources));
    const seen = await drive({ scenario: "shaders", url, webgpu: true, shaders: `${dir}/shaders.json` }, dir);
    assert.deepEqual(Object.keys(seen.shaders).sort(), entries.sort());
    assert.ok(entries.includes("feature_entropy") && entries.includes("rolling_moments"));
    for (const [name, error] of Object.entries(seen.shaders)) {
      assert.equal(error, "", `${name}.wgsl: ${error}`);
    }
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("web build: the page's config is the example's features and pipeline sections", () => {
  const text = configSections("a: 1\nfeatures:\n  x: 1\n# next\ndata:\n  y: 2\npipeline:\n  z: 3\n", [
    "features",
    "pipeline",
  ]);
  assert.equal(text, "features:\n  x: 1\n\npipeline:\n  z: 3\n");
  const cfg = loadConfig(
    configSections(Deno.readTextFileSync(rootPath("examples/config.yaml")), ["features", "pipeline"]),
  );
  assert.deepEqual(
    cfg.features,
    loadConfig(Deno.readTextFileSync(rootPath("examples/config.yaml")), { env: () => undefined }).features,
  );
});
