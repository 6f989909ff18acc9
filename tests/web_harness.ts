/**
 * What the browser tests share: the browser (Debian's chromium, or FG_CHROMIUM — never a downloaded one), its
 * headless flags, and the waits on the page's state hook `globalThis.__fg` (web/main.ts).
 */
import type { Page } from "playwright-core";
import { buildWeb } from "../web/build.ts";
import { serveStatic } from "../web/serve.ts";

/** Debian's chromium; FG_CHROMIUM points elsewhere (e.g. a CI image's preinstalled Chrome). */
export const CHROMIUM: string = Deno.env.get("FG_CHROMIUM") ?? "/usr/bin/chromium";

/** Headless flags; without the background-networking ones Chromium keeps dialling out of a closed network. */
export const BROWSER_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/**
 * Functions passed to page.evaluate run in the page (serialized: they cannot use this module's names).
 */
// deno-lint-ignore no-explicit-any
export type Any = any;

/** Waits on the page's state hook: its change counter, a settled status, and text/visibility of a selector. */
export function pageHooks(page: Page) {
  const seq = () => page.evaluate(() => (globalThis as Any).__fg?.seq ?? 0) as Promise<number>;
  /** Waits until the status changes after `since` to one of `want`; returns it. */
  const settle = async (since: number, want: string[], timeout = 30_000) => {
    await page.waitForFunction(
      ([s, w]) => {
        const f = (globalThis as Any).__fg;
        return f && f.seq > (s as number) && (w as string[]).includes(f.status);
      },
      [since, want] as const,
      { timeout },
    );
    return await page.evaluate(() => (globalThis as Any).__fg.status as string);
  };
  const text = (sel: string) => page.locator(sel).first().textContent();
  const visible = (sel: string) => page.locator(sel).first().isVisible();
  return { seq, settle, text, visible };
}

const ROOT = new URL("../", import.meta.url);

/** A path under the repository root. */
export const rootPath = (rel: string): string => decodeURIComponent(new URL(rel, ROOT).pathname);

/** Fails with what to install when the browser is missing. */
export function requireChromium(): void {
  try {
    Deno.statSync(CHROMIUM);
  } catch {
    throw new Error(
      `${CHROMIUM} not found: the browser tests drive Debian's chromium package (never a downloaded browser). ` +
        `Install it with: sudo apt-get install -y chromium   (.ci/run does this on CI)`,
    );
  }
}

/** What a driver child process left: its exit, stderr's tail and the JSON it wrote (null when none). */
export interface DriverRun {
  /** Whether the child exited 0. */
  success: boolean;
  /** Its exit code. */
  code: number;
  /** The last 4000 characters of its stderr. */
  stderr: string;
  /** What it saw (the JSON it wrote to `out`), or null. */
  seen: Any;
}

/**
 * Runs `testFile` (relative to the repository root) with `--web-driver SPEC` in a child Deno process with
 * --allow-all (playwright-core reads os.*, /proc and spawns the browser) and reads the JSON it writes to `out`.
 */
export async function runDriver(
  testFile: string,
  spec: object,
  out: string,
): Promise<DriverRun> {
  const child = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--config",
      rootPath("deno.json"),
      rootPath(testFile),
      "--web-driver",
      JSON.stringify({ ...spec, out }),
    ],
    cwd: rootPath("."),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  let seen: Any = null;
  try {
    seen = JSON.parse(await Deno.readTextFile(out));
  } catch { /* the caller reports it */ }
  return {
    success: child.success,
    code: child.code,
    stderr: new TextDecoder().decode(child.stderr).slice(-4000),
    seen,
  };
}

/** What a demo-run driver gets: the page's URL, where to write what it saw, and the config to run. */
export interface DemoSpec {
  url: string;
  out: string;
  config: string;
}

/**
 * The driver side of a demo run (in the child process): opens the page in Chromium, loads 3,000 demo bars on
 * the CPU backend, runs `spec.config` (waiting up to `timeout` ms), lets `collect` read what the test needs into
 * `seen`, and writes `seen` (with the page's console and its error, if any) to `spec.out`.
 */
export async function demoRunDriver(
  spec: DemoSpec,
  timeout: number,
  collect: (page: Page, seen: Record<string, Any>) => Promise<void>,
): Promise<void> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...BROWSER_ARGS] });
  const seen: Record<string, Any> = { console: [] as string[] };
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("console", (m) => seen.console.push(`${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => seen.console.push(`pageerror: ${e.message}`));
    page.setDefaultTimeout(60_000);
    const { seq, settle } = pageHooks(page);
    await page.goto(spec.url);
    seen.ready = await settle(0, ["ready", "error"]);
    await page.selectOption("#backend", "cpu");
    await page.fill("#demo-rows", "3000");
    let s = await seq();
    await page.click("#demo");
    seen.loaded = await settle(s, ["loaded", "error"]);
    await page.fill("#config", spec.config);
    s = await seq();
    await page.click("#run");
    seen.run = await settle(s, ["done", "error"], timeout);
    seen.error = await page.evaluate(() => (globalThis as Any).__fg.error);
    await collect(page, seen);
  } finally {
    await Deno.writeTextFile(spec.out, JSON.stringify(seen));
    await browser.close();
  }
}

/**
 * The test side of a demo run: builds and serves the page, runs `testFile`'s driver (`demoRunDriver`) on
 * `config` and returns what it saw once the run is done (asserting the driver and the run succeeded).
 */
export async function demoRun(testFile: string, prefix: string, config: string): Promise<Any> {
  requireChromium();
  const dir = await Deno.makeTempDir({ prefix });
  const server = serveStatic(await buildWeb({ outDir: `${dir}/site` }), { hostname: "127.0.0.1", port: 0 });
  try {
    const spec: DemoSpec = { url: `http://127.0.0.1:${server.addr.port}/`, out: `${dir}/seen.json`, config };
    const child = await runDriver(testFile, spec, spec.out);
    const seen = child.seen;
    if (!child.success || !seen) {
      throw new Error(`the browser driver failed (exit ${child.code}):\n${child.stderr}`);
    }
    if (seen.run !== "done") {
      throw new Error(`the run ended ${seen.run}: ${seen.error}\n${seen.console.join("\n")}`);
    }
    return seen;
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
