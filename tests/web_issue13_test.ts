/**
 * The exploration page as users meet it (issue 13), in Debian's headless Chromium driven by npm playwright-core
 * as tests/web_test.ts does (a child Deno process runs this file with `--web-driver SPEC` and writes what it saw
 * as JSON; the assertions run here). Three scenarios:
 *
 * - short: 3,000 demo bars on the CPU, preselected because Chromium's WebGPU is SwiftShader (a software
 *   adapter), in a browser whose zone is New York. The FFD windows exceed the rows: the ranking and exports
 *   still appear, the not-ranked columns are listed with reasons, no p-value reads NaN; the Feather export
 *   passes the Arrow IPC format check; the GARCH fit's status sits beside its plot; times are UTC until switched
 *   to local; a config error keeps the results; the sort headers, legend entries, zoom and file chooser work
 *   from the keyboard.
 * - files: a Yahoo-Finance CSV (Date,Open,High,Low,Close,Adj Close,Volume): the mapping is shown and changed
 *   to Adj Close, the OHLC check runs (High < Low rejected), only checks that ran are claimed; the plots break
 *   over weekends and draw candles when zoomed in; a ';'-separated minute file with a volume spike is read and
 *   its volume plot keeps the spike (min/max per bucket).
 * - cancel: a long WebGPU run shows live elapsed time and permutations done / total with an estimate; Cancel
 *   stops it promptly, frames are painted, and a WebGPU run afterwards completes.
 *
 * Each scenario's screenshot is kept as out/web-issue13-<scenario>.png when its assertions fail.
 */
import { strict as assert } from "node:assert";
import { Buffer } from "node:buffer";
import { decodeFrame, encodeCsv, loadConfig } from "../mod.ts";
import { barParams, generateBars } from "../generator/bars.ts";
import { buildWeb, configSections } from "../web/build.ts";
import { serveStatic } from "../web/serve.ts";
import { inspectArrowFile } from "./arrow_ipc_check.ts";
import {
  type Any,
  BROWSER_ARGS,
  CHROMIUM,
  pageHooks,
  requireChromium,
  rootPath,
  runDriver,
} from "./web_harness.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

interface Spec {
  scenario: "short" | "files" | "cancel";
  url: string;
  out: string;
  dir: string;
  screenshot: string;
  config?: string;
}

// ------------------------------------------------------------------------------------------ driver side

async function driver(spec: Spec): Promise<void> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...BROWSER_ARGS, "--enable-unsafe-webgpu"],
  });
  const seen: Record<string, Any> = { console: [] as string[] };
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    timezoneId: "America/New_York",
  });
  const page = await context.newPage();
  page.on("console", (m) => seen.console.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => seen.console.push(`pageerror: ${e.message}`));
  page.setDefaultTimeout(30_000);
  /** Evaluates `fn` on the page's state hook (`window.__fg`). */
  const fg = <T>(fn: (f: Any) => T) => page.evaluate(`(${fn.toString()})(globalThis.__fg)`) as Promise<T>;
  const { seq, settle, text, visible } = pageHooks(page);
  const run = async (config: string, timeout = 60_000) => {
    await page.fill("#config", config);
    const s = await seq();
    await page.click("#run");
    return await settle(s, ["done", "error"], timeout);
  };
  const load = async (path: string) => {
    const s = await seq();
    await page.setInputFiles("#file", path);
    return await settle(s, ["loaded", "error"]);
  };
  const save = async (button: string, name: string) => {
    const [dl] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
    const path = `${spec.dir}/${name}`;
    await dl.saveAs(path);
    return path;
  };
  /** Hovers the first plot at `frac` of its width; returns the legend's time text. */
  const hoverTime = async (frac: number) => {
    const over = page.locator("#plots .u-over").first();
    await over.scrollIntoViewIfNeeded();
    const b = (await over.boundingBox())!;
    await page.mouse.move(b.x + b.width * frac, b.y + b.height / 2);
    return await text("#plots .u-legend .u-series:first-child .u-value");
  };

  try {
    await page.goto(spec.url);
    seen.ready = await settle(0, ["ready", "error"]);
    seen.adapter = await fg((f) => f.adapter);
    seen.backend = await page.inputValue("#backend");

    if (spec.scenario === "short") {
      // Keyboard: the file chooser takes focus.
      await page.focus("#file");
      seen.fileFocus = await page.evaluate(() => (globalThis as Any).document.activeElement?.id);
      await page.fill("#demo-rows", "3000");
      const s = await seq();
      await page.click("#demo");
      seen.loaded = await settle(s, ["loaded", "error"]);
      seen.firstUtc = await text("#data-first");
      seen.run = await run(await Deno.readTextFile(spec.config!));
      seen.error = await fg((f) => f.error);
      seen.dom = await page.evaluate(() => {
        const doc = (globalThis as Any).document;
        const q = (sel: string): Any[] => [...doc.querySelectorAll(sel)];
        return {
          rankingVisible: !doc.getElementById("ranking-card").hidden,
          exportVisible: !doc.getElementById("export-card").hidden,
          pCells: q("#ranking td[data-key=p_value], #ranking td[data-key=q_value]").map((td) =>
            td.textContent
          ),
          rankedRows: q("#ranking tr[data-feature]").length,
          excluded: q("#ranking-excluded li").map((
            li,
          ) => [li.dataset.feature, li.dataset.cause, li.textContent]),
          garch: doc.getElementById("garch-status")?.textContent ?? null,
          garchWarn: doc.getElementById("garch-status")?.classList.contains("warn") ?? null,
          plotTables: q("#plots details.plot-table").length,
        };
      });
      seen.report = await fg((f) => ({
        excluded: f.result.reports.statistical_tests.excluded,
        ranking: f.result.reports.statistical_tests.ranking,
        garch: f.result.reports.garch_models.columns.close,
        rows: f.result.rows,
      }));
      seen.feather = await save("#export-feather", "short.feather");
      // Time zone: UTC legends and summary, then local (New York) everywhere.
      seen.legendUtc = await hoverTime(0.5);
      await page.selectOption("#tz", "local");
      seen.legendLocal = await hoverTime(0.5);
      seen.firstLocal = await text("#data-first");
      seen.tz = await fg((f) => f.tz);
      await page.selectOption("#tz", "UTC");
      // Keyboard: sort by dCor with Enter on its header button; toggle a legend entry; zoom with "+".
      await page.focus('#ranking th[data-key="dcor"] button');
      await page.keyboard.press("Enter");
      seen.sorted = {
        ariaSort: await page.getAttribute('#ranking th[data-key="dcor"]', "aria-sort"),
        dcor: await page.$$eval(
          "#ranking tr[data-feature] td[data-key=dcor]",
          (tds) => tds.map((td) => Number((td as Any).dataset.value)),
        ),
      };
      const legend = page.locator("#plots .u-legend .u-series").nth(1);
      await legend.focus();
      await page.keyboard.press("Enter");
      seen.legend = {
        off: await legend.evaluate((e) => e.classList.contains("u-off")),
        pressed: await legend.getAttribute("aria-pressed"),
      };
      seen.zoomBefore = await fg((f) => f.xRanges()[0]);
      await page.focus("#plots");
      await page.keyboard.press("+");
      seen.zoomKey = await fg((f) => f.xRanges());
      // Shift-drag pans: from 60% to 40% of the width shows later times, the same span.
      const over = page.locator("#plots .u-over").first();
      await over.scrollIntoViewIfNeeded();
      const ob = (await over.boundingBox())!;
      await page.keyboard.down("Shift");
      await page.mouse.move(ob.x + ob.width * 0.6, ob.y + ob.height / 2);
      await page.mouse.down();
      await page.mouse.move(ob.x + ob.width * 0.4, ob.y + ob.height / 2, { steps: 4 });
      await page.mouse.up();
      await page.keyboard.up("Shift");
      seen.dragPan = await fg((f) => f.xRanges());
      await page.keyboard.press("ArrowLeft");
      seen.panKey = await fg((f) => f.xRanges()[0]);
      await page.click("#zoom-reset");
      seen.reset = await fg((f) => f.xRanges()[0]);
      // A config error keeps the results (and the exports) of the last good run.
      const runs = await fg((f) => f.runs);
      seen.badConfig = {
        status: await run("features:\n  rolling_windows: [1, 20]\n"),
        error: await text("#run-error"),
        plots: await visible("#plots-card"),
        ranking: await visible("#ranking-card"),
        rows: await fg((f) => f.result?.rows ?? null),
        runs: (await fg((f) => f.runs)) - runs,
        status2: await text("#run-status"),
      };
      seen.featherAfterError = await save("#export-feather", "after-error.feather");
      // The rows grid: time order, sorted by close (descending first), a jump to a typed time.
      const gridRows = () =>
        page.$$eval("#grid-table tr[data-row]", (trs) => {
          const doc = (globalThis as Any).document;
          const col = [...doc.querySelectorAll("#grid-table th")].findIndex((th: Any) =>
            th.dataset.column === "close"
          );
          return trs.map((tr) => {
            const tds = [...tr.querySelectorAll("td")] as Any[];
            return {
              row: Number((tr as Any).dataset.row),
              hit: tr.classList.contains("hit"),
              ts: Number(tds[1].dataset.value),
              close: Number(tds[col].dataset.value),
            };
          });
        });
      seen.grid = { visible: await visible("#rows-card"), first: await gridRows() };
      seen.grid.timestamps = await fg((f) => Array.from(f.result.timestamps as Float64Array));
      seen.grid.close = await fg((f) => Array.from(f.result.columns.close as Float64Array));
      await page.click('#grid-table th[data-column="close"] button');
      await page.waitForSelector('#grid-table th[data-column="close"][aria-sort]');
      seen.grid.sorted = await gridRows();
      seen.grid.sortAria = await page.getAttribute('#grid-table th[data-column="close"]', "aria-sort");
      const target = seen.grid.timestamps[1234];
      await page.fill("#grid-jump", new Date(target).toISOString().slice(0, 16).replace("T", " "));
      await page.press("#grid-jump", "Enter");
      await page.waitForSelector("#grid-table tr.hit");
      seen.grid.jumped = await gridRows();
      // Session: saved to a file and put in the address; the address restores it in a new tab.
      await page.selectOption("#tz", "local");
      seen.sessionFile = JSON.parse(await Deno.readTextFile(await save("#session-save", "session.json")));
      await page.click("#session-link");
      seen.sessionUrl = page.url();
      const tab = await context.newPage();
      await tab.goto(seen.sessionUrl);
      await tab.waitForFunction(() => (globalThis as Any).__fg?.status === "loaded", undefined, {
        timeout: 30_000,
      });
      seen.restored = {
        config: await tab.inputValue("#config"),
        tz: await tab.inputValue("#tz"),
        backend: await tab.inputValue("#backend"),
        rows: await tab.locator("#data-rows").textContent(),
        first: await tab.locator("#data-first").textContent(),
        note: await tab.locator("#session-note").textContent(),
      };
      await tab.close();
    } else if (spec.scenario === "files") {
      seen.bad = { status: await load(`${spec.dir}/yahoo_bad.csv`), validation: await text("#validation") };
      seen.yahoo = { status: await load(`${spec.dir}/yahoo.csv`) };
      seen.yahoo.validation = await text("#validation");
      seen.yahoo.mapping = await fg((f) => f.summary.mapping);
      seen.yahoo.closeOptions = await page.$$eval("#map-close option", (os) => os.map((o) => o.textContent));
      seen.yahoo.selected = await page.inputValue("#map-close");
      const s = await seq();
      await page.selectOption("#map-close", "Adj Close");
      seen.remap = {
        status: await settle(s, ["loaded", "error"]),
        mapping: await fg((f) => f.summary.mapping),
        selected: await page.inputValue("#map-close"),
        validation: await text("#validation"),
      };
      seen.remap.run = await run(spec.config!);
      seen.remap.error = await fg((f) => f.error);
      seen.remap.close = await fg((f) => Array.from(f.result.columns.close as Float64Array));
      seen.remap.timestamps = await fg((f) => Array.from(f.result.timestamps as Float64Array));
      seen.remap.plotted = await fg((f) => f.plotted()[0]);
      seen.remap.titles = await fg((f) => f.plotted().map((p: Any) => p.title));
      seen.remap.candlesAll = await page.evaluate(() =>
        (globalThis as Any).document.querySelector("#plots .uplot").dataset.candles
      );
      await page.focus("#plots");
      for (let i = 0; i < 5; i++) await page.keyboard.press("+");
      seen.remap.candlesZoomed = await page.evaluate(() =>
        (globalThis as Any).document.querySelector("#plots .uplot").dataset.candles
      );
      seen.closeOnly = { status: await load(`${spec.dir}/close_only.csv`) };
      seen.closeOnly.validation = await text("#validation");
      seen.semicolon = { status: await load(`${spec.dir}/minutes.csv`) };
      seen.semicolon.rows = await text("#data-rows");
      seen.semicolon.dialect = await text("#data-dialect");
      seen.semicolon.error = await fg((f) => f.error);
      seen.semicolon.run = await run(spec.config!);
      seen.semicolon.volume = await fg((f) => {
        const p = f.plotted().find((x: Any) => "volume" in x.series);
        return { points: p.x.length, max: Math.max(...p.series.volume.filter((v: Any) => v !== null)) };
      });
      seen.semicolon.hint = await text("#plots > p.hint");
      // A phone viewport: nothing wider than the screen (plots resize, wide tables scroll inside their boxes).
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForTimeout(300);
      seen.phone = await page.evaluate(() => {
        const doc = (globalThis as Any).document;
        const w = (globalThis as Any).innerWidth;
        // The outermost elements sticking out, for the failure message.
        const scrolls = (e: Any) =>
          /auto|scroll|hidden/.test((globalThis as Any).getComputedStyle(e).overflowX);
        const wide = [...doc.querySelectorAll("body *")].filter((e: Any) => {
          if (e.getBoundingClientRect().right <= w + 1) return false;
          for (let p = e.parentElement; p; p = p.parentElement) if (scrolls(p)) return false;
          return true;
        }).slice(0, 8).map((e: Any) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`);
        return { scroll: doc.documentElement.scrollWidth, width: w, wide };
      });
      await page.screenshot({ path: `${spec.dir}/phone.png`, fullPage: true });
      // An unsupported file type is named as such.
      const sx = await seq();
      await page.setInputFiles("#file", {
        name: "prices.xlsx",
        mimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        buffer: Buffer.from("PK\x03\x04 not really a workbook"),
      });
      seen.xlsx = { status: await settle(sx, ["loaded", "error"]), error: await text("#data-error") };
      seen.eu = { status: await load(`${spec.dir}/eu.csv`) };
      seen.eu.dialect = await text("#data-dialect");
      seen.eu.first = await text("#data-first");
      seen.eu.timestamps = await fg((f) => f.summary && [f.summary.first, f.summary.last]);
    } else {
      // A long WebGPU run: live progress, then Cancel.
      await page.selectOption("#backend", "webgpu");
      await page.fill("#demo-rows", "20000");
      let s = await seq();
      await page.click("#demo");
      seen.loaded = await settle(s, ["loaded", "error"]);
      await page.fill("#config", await Deno.readTextFile(spec.config!));
      s = await seq();
      await page.click("#run");
      await settle(s, ["running"]);
      await page.waitForFunction(
        () => /permutations/.test((globalThis as Any).document.getElementById("run-step")?.textContent ?? ""),
        undefined,
        { timeout: 120_000 },
      );
      const sample = async () => ({
        step: await text("#run-step"),
        elapsed: await text("#run-elapsed"),
        bar: await page.evaluate(() => {
          const b = (globalThis as Any).document.getElementById("run-bar");
          return [b.value, b.max];
        }),
      });
      seen.progress1 = await sample();
      await page.waitForTimeout(2_500);
      seen.progress2 = await sample();
      s = await seq();
      const t0 = Date.now();
      await page.click("#cancel");
      seen.cancelled = { status: await settle(s, ["loaded", "error"], 60_000) };
      seen.cancelled.ms = Date.now() - t0;
      seen.cancelled.runStatus = await text("#run-status");
      // Frames are painted again: two animation frames within a second.
      seen.cancelled.frameMs = await page.evaluate(() =>
        new Promise((r) => {
          const t = performance.now();
          const raf = (globalThis as Any).requestAnimationFrame;
          raf(() => raf(() => r(performance.now() - t)));
        })
      );
      const t1 = Date.now();
      seen.after = {
        run: await run(
          "features:\n  columns: [close]\n  rolling_windows: [10]\n  frac_diff: { d_values: [0.4] }\n" +
            "pipeline:\n  engines:\n    feature_engineering: { enabled: false, order: 2 }\n" +
            "    garch_models: { enabled: false, order: 3 }\n    statistical_tests: { enabled: false, order: 4 }\n",
        ),
      };
      seen.after.ms = Date.now() - t1;
      seen.after.backend = await fg((f) => f.result?.backend);
      seen.after.error = await fg((f) => f.error);
    }
  } finally {
    await page.screenshot({ path: spec.screenshot, fullPage: true }).catch(() => {});
    await Deno.writeTextFile(spec.out, JSON.stringify(seen));
    await browser.close();
  }
}

if (Deno.args[0] === "--web-driver") {
  await driver(JSON.parse(Deno.args[1]));
}

// ------------------------------------------------------------------------------------------ test side

/** Builds and serves the page, runs one scenario in the browser and `check`s what it saw. */
async function scenario(
  name: Spec["scenario"],
  prepare: (dir: string) => Promise<Partial<Spec>>,
  check: (seen: Any, dir: string) => Promise<void> | void,
): Promise<void> {
  requireChromium();
  const dir = await Deno.makeTempDir({ prefix: "fg-web13-" });
  const out = await buildWeb({ outDir: `${dir}/site` });
  const server = serveStatic(out, { hostname: "127.0.0.1", port: 0 });
  const screenshot = `${dir}/screenshot.png`;
  try {
    const spec: Spec = {
      scenario: name,
      url: `http://127.0.0.1:${server.addr.port}/`,
      out: `${dir}/seen.json`,
      dir,
      screenshot,
      ...(await prepare(dir)),
    };
    const child = await runDriver("tests/web_issue13_test.ts", spec, spec.out);
    const seen = child.seen;
    try {
      assert.ok(
        child.success && seen,
        `the browser driver failed (exit ${child.code}):\n${child.stderr}\n` +
          `seen: ${JSON.stringify(seen)?.slice(0, 3000)}`,
      );
      assert.equal(seen.ready, "ready", seen.console.join("\n"));
      await check(seen, dir);
    } catch (e) {
      // Keep the page as it looked for whoever reads the failure.
      await Deno.mkdir(rootPath("out"), { recursive: true });
      await Deno.copyFile(screenshot, rootPath(`out/web-issue13-${name}.png`)).catch(() => {});
      if (seen) {
        (e as Error).message += `\npage console:\n${seen.console.join("\n")}\nseen: ${
          JSON.stringify({ ...seen, console: undefined }).slice(0, 4000)
        }`;
      }
      throw e;
    }
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The page's example config (features and pipeline of examples/config.yaml) with `changes` applied. */
function exampleWith(changes: Record<string, number>): string {
  let text = configSections(Deno.readTextFileSync(rootPath("examples/config.yaml")), [
    "features",
    "pipeline",
  ]);
  for (const [key, value] of Object.entries(changes)) {
    const re = new RegExp(`^(\\s+${key}:) \\d+$`, "m");
    assert.ok(re.test(text), `the example config has ${key}`);
    text = text.replace(re, `$1 ${value}`);
  }
  return text;
}

const QUICK = "features:\n  columns: [close]\n  rolling_windows: [10]\n  frac_diff: { d_values: [0.4] }\n" +
  "pipeline:\n  engines:\n    feature_engineering: { enabled: false, order: 2 }\n" +
  "    garch_models: { enabled: false, order: 3 }\n    statistical_tests: { enabled: false, order: 4 }\n";

Deno.test(
  "web page (issue 13): a file shorter than the FFD windows ranks and exports; UTC until switched; a config error keeps the results; keyboard",
  opts,
  () =>
    scenario("short", async (dir) => {
      // GARCH max_iter 1: the fit stops before converging, which the page must show beside the plot.
      const config = exampleWith({ selection_max_samples: 600, selection_permutations: 19, max_iter: 1 });
      await Deno.writeTextFile(`${dir}/config.yaml`, config);
      return { config: `${dir}/config.yaml` };
    }, async (seen, dir) => {
      // A software adapter (SwiftShader): the CPU is preselected.
      assert.equal(seen.adapter.software, true);
      assert.equal(seen.backend, "cpu");
      assert.equal(seen.fileFocus, "file", "the file chooser is reachable from the keyboard");
      // Bug 1: the run finishes with the ranking and the exports, though the FFD d = 0.1 column is all NaN.
      assert.equal(seen.loaded, "loaded");
      assert.equal(seen.run, "done", seen.error);
      assert.ok(seen.dom.rankingVisible && seen.dom.exportVisible);
      assert.ok(seen.dom.rankedRows > 0);
      assert.equal(seen.dom.rankedRows, seen.report.ranking.length);
      for (const p of seen.dom.pCells) assert.match(p, /^(\d\.\d{3}|\d\.\de-\d+)$/, `p/q cell ${p}`);
      const excluded = seen.report.excluded as { feature: string; cause: string; reason: string }[];
      assert.ok(
        excluded.some((e) => e.feature === "close_fd_0.1" && e.cause === "coverage"),
        "FFD 0.1 set aside",
      );
      assert.deepEqual(
        seen.dom.excluded.map((x: string[]) => [x[0], x[1]]),
        excluded.map((e) => [e.feature, e.cause]),
      );
      for (const [i, e] of excluded.entries()) {
        assert.equal(seen.dom.excluded[i][2], `${e.feature}: ${e.reason}`);
      }
      // Bug 2: the Feather export passes the Arrow IPC format check and holds the frame.
      const bytes = await Deno.readFile(`${dir}/short.feather`);
      const batches = inspectArrowFile(bytes);
      assert.ok(batches.length >= 1);
      assert.equal(
        batches.filter((b) => b.kind === "record").reduce((a, b) => a + b.rows, 0),
        3000,
      );
      assert.equal((await decodeFrame(bytes, "short.feather")).rows, 3000);
      // The GARCH fit's status beside its plot, flagged when it did not converge.
      const g = seen.report.garch;
      assert.ok(seen.dom.garch?.includes(`close: ${g.status.replace(/_/g, " ")}`), seen.dom.garch);
      assert.ok(g.status !== "converged" || g.refits_not_converged > 0, "max_iter 1 leaves fits unconverged");
      assert.equal(seen.dom.garchWarn, true);
      assert.ok(seen.dom.plotTables >= 3, "a table per plot");
      // Bug 6: UTC by default in a New York browser, local when switched.
      assert.match(seen.firstUtc, /^\d{4}-\d\d-\d\d \d\d:\d\dZ$/);
      assert.match(seen.legendUtc, /^\d{4}-\d\d-\d\d \d\d:\d\dZ$/);
      assert.match(seen.legendLocal, /^\d{4}-\d\d-\d\d \d\d:\d\d [−+]0[45]:00$/);
      assert.match(seen.firstLocal, /[−+]0[45]:00$/);
      assert.equal(seen.tz, "local");
      const utc = Date.parse(seen.firstUtc.replace(" ", "T").replace("Z", ":00Z"));
      const [, date, time, sign, off] = /^(\S+) (\S+) ([−+])(\S+)$/.exec(seen.firstLocal)!;
      assert.equal(
        Date.parse(`${date}T${time}:00${sign === "−" ? "-" : "+"}${off}`),
        utc,
        "the same instant",
      );
      // Keyboard: sorted by dCor (descending first), a legend entry toggled, zoom and pan by keys.
      assert.equal(seen.sorted.ariaSort, "descending");
      assert.deepEqual(seen.sorted.dcor, [...seen.sorted.dcor].sort((a: number, b: number) => b - a));
      assert.deepEqual(seen.legend, { off: true, pressed: "false" });
      const [b0, b1] = seen.zoomBefore, [z0, z1] = seen.zoomKey[0];
      assert.ok(z1 - z0 < 0.6 * (b1 - b0), `"+" zooms: ${seen.zoomBefore} -> ${seen.zoomKey[0]}`);
      for (const r of seen.zoomKey) assert.deepEqual(r, seen.zoomKey[0], "every plot follows");
      const [d0, d1] = seen.dragPan[0], w = z1 - z0;
      assert.ok(Math.abs(d1 - d0 - w) < 1e-6 * w, "the drag keeps the span");
      assert.ok(
        Math.abs(d0 - z0 - 0.2 * w) < 0.05 * w,
        `shift-drag pans: ${seen.zoomKey[0]} -> ${seen.dragPan[0]}`,
      );
      for (const r of seen.dragPan) assert.deepEqual(r, seen.dragPan[0], "every plot follows the pan");
      assert.ok(seen.panKey[0] < d0 && Math.abs(seen.panKey[1] - seen.panKey[0] - w) < 1e-6 * w, "← pans");
      assert.deepEqual(seen.reset, seen.zoomBefore);
      // Bug 7: a config error names the key and keeps the results and exports.
      assert.equal(seen.badConfig.status, "error");
      assert.match(seen.badConfig.error, /features\.rolling_windows/);
      assert.ok(seen.badConfig.plots && seen.badConfig.ranking, "the previous results stay");
      assert.equal(seen.badConfig.rows, 3000);
      assert.equal(seen.badConfig.runs, 0);
      assert.match(seen.badConfig.status2, /previous run's/);
      assert.equal(
        (await decodeFrame(await Deno.readFile(`${dir}/after-error.feather`), "x.feather")).rows,
        3000,
      );
      // The rows grid.
      const gr = seen.grid, ts = gr.timestamps as number[], close = gr.close as number[];
      assert.ok(gr.visible);
      assert.ok(gr.first.length >= 10, `${gr.first.length} rows drawn`);
      gr.first.forEach((r: Any, i: number) => {
        assert.equal(r.row, i);
        assert.equal(r.ts, ts[i]);
        assert.equal(r.close, close[i]);
      });
      assert.equal(gr.sortAria, "descending");
      const desc = [...close].sort((a, b) => b - a);
      assert.deepEqual(gr.sorted.map((r: Any) => r.close), desc.slice(0, gr.sorted.length));
      const hit = gr.jumped.find((r: Any) => r.hit);
      assert.equal(hit?.row, 1234, "the jump shows and marks row 1234");
      assert.equal(hit.ts, ts[1234]);
      // The session: file and address hold the same, and a new tab gets the config, zone, backend and data back.
      const sf = seen.sessionFile;
      assert.deepEqual(sf.source, { demo: 3000 });
      assert.equal(sf.tz, "local");
      assert.equal(sf.config, "features:\n  rolling_windows: [1, 20]\n");
      assert.match(seen.sessionUrl, /#session=[\w-]+$/);
      assert.equal(seen.restored.config, sf.config);
      assert.equal(seen.restored.tz, "local");
      assert.equal(seen.restored.backend, "cpu");
      assert.equal(seen.restored.rows, "3,000");
      assert.equal(seen.restored.first, seen.firstLocal);
      assert.match(seen.restored.note, /Session restored/);
    }),
);

/** Daily bars on weekdays only (no Saturdays and Sundays), Yahoo-Finance style text. */
function yahooCsv(days: number, lowAboveHighAt = -1): { text: string; adj: number[]; ts: number[] } {
  const b = generateBars(barParams(5, 0), 0, days);
  const lines = ["Date,Open,High,Low,Close,Adj Close,Volume"];
  const adj: number[] = [], ts: number[] = [];
  let t = Date.UTC(2020, 0, 6); // a Monday
  for (let i = 0; i < days; i++) {
    const low = i === lowAboveHighAt ? b.high[i] + 1 : b.low[i];
    const a = Math.round(b.close[i] * 0.98 * 1e4) / 1e4;
    adj.push(a), ts.push(t);
    lines.push(
      `${new Date(t).toISOString().slice(0, 10)},${b.open[i]},${b.high[i]},${low},${b.close[i]},${a},${
        b.volume[i]
      }`,
    );
    t += 86_400_000;
    if (new Date(t).getUTCDay() === 6) t += 2 * 86_400_000;
  }
  return { text: lines.join("\n") + "\n", adj, ts };
}

Deno.test(
  "web page (issue 13): capitalised columns mapped visibly (Adj Close as close), checks that ran, gaps, candles, ';' CSV, min/max plots",
  opts,
  async () => {
    const y = yahooCsv(600);
    // A one-minute ';'-separated file with a volume spike at a row that no every-n-th sampling would hit.
    const rows = 70_000, spikeAt = 40_001;
    const m = generateBars(barParams(6, 0), 0, rows);
    const volume = Float64Array.from(m.volume, (v, i) => (i === spikeAt ? 1e9 : v));
    const csv = new TextDecoder().decode(encodeCsv(
      [["open", m.open], ["high", m.high], ["low", m.low], ["close", m.close], ["volume", volume]].map((
        [name, values],
      ) => ({ name: name as string, values: values as Float64Array })),
      { name: "timestamp", values: m.timestamp },
    ));
    await scenario("files", async (dir) => {
      await Deno.writeTextFile(`${dir}/yahoo.csv`, y.text);
      await Deno.writeTextFile(`${dir}/yahoo_bad.csv`, yahooCsv(600, 7).text);
      await Deno.writeTextFile(
        `${dir}/close_only.csv`,
        "timestamp,close\n" + y.ts.map((t, i) => `${new Date(t).toISOString()},${y.adj[i]}`).join("\n") +
          "\n",
      );
      await Deno.writeTextFile(`${dir}/minutes.csv`, csv.replaceAll(",", ";"));
      // A European export: ';', decimal commas, day-first dates (the 13th tells the order).
      await Deno.writeTextFile(
        `${dir}/eu.csv`,
        "Date;Open;High;Low;Close;Volume\n" +
          Array.from({ length: 20 }, (_, i) => {
            const d = new Date(Date.UTC(2024, 0, 8 + i));
            const day = `${String(d.getUTCDate()).padStart(2, "0")}.${
              String(d.getUTCMonth() + 1).padStart(2, "0")
            }`;
            return `${day}.2024;10,5;11,25;9,75;10,${i % 10};${100 + i}`;
          }).join("\n") + "\n",
      );
      return { config: QUICK };
    }, (seen) => {
      // Bug 4: the OHLC check runs on capitalised columns.
      assert.equal(seen.bad.status, "loaded");
      assert.match(
        seen.bad.validation,
        /file:yahoo_bad\.csv: column low: low [\d.]+ > high [\d.]+ at row 7 \(line 9\)$/,
      );
      assert.equal(seen.yahoo.status, "loaded");
      assert.deepEqual(seen.yahoo.mapping, {
        open: "Open",
        high: "High",
        low: "Low",
        close: "Close",
        volume: "Volume",
        timestamp: "Date",
      });
      assert.equal(seen.yahoo.selected, "Close");
      assert.ok(seen.yahoo.closeOptions.includes("Adj Close (adjusted)"), seen.yahoo.closeOptions);
      assert.match(
        seen.yahoo.validation,
        /low ≤ high, open within \[low, high\], close within \[low, high\]/,
      );
      assert.match(seen.yahoo.validation, /volume ≥ 0/);
      assert.doesNotMatch(seen.yahoo.validation, /Not checked/);
      // Changed to Adj Close: validated again, and the engines run on it.
      assert.equal(seen.remap.status, "loaded");
      assert.equal(seen.remap.mapping.close, "Adj Close");
      assert.equal(seen.remap.selected, "Adj Close");
      // Adj Close is under the unadjusted Low on these rows: that comparison is not run, and not claimed.
      assert.doesNotMatch(seen.remap.validation, /✓[^.]*close within/);
      assert.match(
        seen.remap.validation,
        /Not checked: close within \[low, high\] \(close is Adj Close, adjusted/,
      );
      assert.equal(seen.remap.run, "done", seen.remap.error);
      assert.deepEqual(seen.remap.close, y.adj);
      // Gaps: the price line breaks over each weekend (one null per Friday -> Monday).
      const p = seen.remap.plotted;
      const weekends = y.ts.filter((t, i) => i > 0 && t - y.ts[i - 1] > 86_400_000).length;
      assert.ok(weekends > 50);
      assert.equal(p.series.close.filter((v: number | null) => v === null).length, weekends);
      assert.equal(p.x.length, 600 + weekends);
      assert.ok(seen.remap.titles.some((t: string) => /candles/.test(t)));
      assert.equal(seen.remap.candlesAll, "false", "600 bars in ~1200 px: a line");
      assert.equal(seen.remap.candlesZoomed, "true", "zoomed in: candles");
      // Only the checks that ran are claimed.
      assert.equal(seen.closeOnly.status, "loaded");
      assert.match(seen.closeOnly.validation, /^✓ Passes the CLI's checks: increasing timestamps\./);
      assert.doesNotMatch(seen.closeOnly.validation, /✓[^.]*(OHLC|low ≤ high|volume ≥ 0)/);
      assert.match(
        seen.closeOnly.validation,
        /Not checked: low ≤ high \(no low or high column\);.* volume ≥ 0 \(no volume column\)\./,
      );
      // ';'-separated: read, and the plotted volume keeps the spike with fewer points than rows.
      assert.equal(seen.semicolon.status, "loaded", seen.semicolon.error);
      assert.equal(seen.semicolon.rows, rows.toLocaleString("en-US"));
      assert.equal(seen.semicolon.dialect, "semicolon-separated");
      // Day-first dates: the order shown, the dates read as such.
      assert.equal(seen.eu.status, "loaded");
      assert.equal(
        seen.eu.dialect,
        "semicolon-separated; dates read day first (DD.MM.YYYY), the only order every row allows",
      );
      assert.equal(seen.eu.first, "2024-01-08 00:00Z");
      assert.deepEqual(seen.eu.timestamps, [Date.UTC(2024, 0, 8), Date.UTC(2024, 0, 27)]);
      assert.equal(seen.semicolon.run, "done");
      assert.equal(seen.semicolon.volume.max, 1e9);
      assert.ok(seen.semicolon.volume.points < rows, `${seen.semicolon.volume.points} points`);
      assert.match(seen.semicolon.hint, /min and max per 3 rows/);
      assert.ok(
        seen.phone.scroll <= seen.phone.width + 1,
        `page ${seen.phone.scroll} px wide on a ${seen.phone.width} px phone: ${seen.phone.wide}`,
      );
      assert.equal(seen.xlsx.status, "error");
      assert.match(
        seen.xlsx.error,
        /^prices\.xlsx: a ZIP archive \(an Excel workbook\) is not supported; save it as CSV/,
      );
    });
  },
);

Deno.test(
  "web page (issue 13): a long WebGPU run shows live progress; Cancel stops it promptly and the page runs again",
  opts,
  () =>
    scenario("cancel", async (dir) => {
      // Many permutations on WebGPU (SwiftShader): minutes of dispatches if nothing stopped them.
      const config = exampleWith({ selection_permutations: 1999 })
        .replace("feature_engineering: { enabled: true", "feature_engineering: { enabled: false")
        .replace("garch_models: { enabled: true", "garch_models: { enabled: false");
      const c = loadConfig(config, { env: () => undefined });
      assert.equal(c.pipeline.engines.garch_models.enabled, false);
      assert.equal(c.pipeline.engines.feature_engineering.enabled, false);
      await Deno.writeTextFile(`${dir}/config.yaml`, config);
      return { config: `${dir}/config.yaml` };
    }, (seen) => {
      assert.equal(seen.adapter.webgpu, true);
      assert.equal(seen.loaded, "loaded");
      // Bug 5: real progress inside the permutation step, elapsed time moving, an estimate.
      const re = /^Running statistical_tests: ([\d,]+) \/ ([\d,]+) permutations \(\d+%\)/;
      const [m1, m2] = [re.exec(seen.progress1.step), re.exec(seen.progress2.step)];
      assert.ok(m1 && m2, `${seen.progress1.step} / ${seen.progress2.step}`);
      const num = (s: string) => Number(s.replace(/,/g, ""));
      assert.ok(num(m2[1]) > num(m1[1]), "permutations done move");
      assert.equal(num(m2[2]) % 1999, 0, "total = features x permutations");
      assert.match(seen.progress2.step, /about .+ left$/);
      const secs = (s: string) => {
        const m = /^(?:(\d+) min )?([\d.]+) s elapsed$/.exec(s)!;
        return 60 * Number(m[1] ?? 0) + Number(m[2]);
      };
      assert.ok(secs(seen.progress2.elapsed) - secs(seen.progress1.elapsed) >= 2, "elapsed time is live");
      assert.equal(seen.progress2.bar[1], num(m2[2]));
      // Bug 3: Cancel stops promptly; frames are painted; WebGPU runs again.
      assert.equal(seen.cancelled.status, "loaded");
      assert.match(seen.cancelled.runStatus, /^Cancelled/);
      assert.ok(seen.cancelled.ms < 15_000, `cancel took ${seen.cancelled.ms} ms`);
      assert.ok(seen.cancelled.frameMs < 1_000, `two frames took ${seen.cancelled.frameMs} ms`);
      assert.equal(seen.after.run, "done", seen.after.error);
      assert.equal(seen.after.backend, "webgpu");
      assert.ok(seen.after.ms < 30_000, `the next run took ${seen.after.ms} ms`);
    }),
);
