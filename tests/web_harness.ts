/**
 * What the browser tests share: the browser (Debian's chromium, or FG_CHROMIUM — never a downloaded one), its
 * headless flags, and the waits on the page's state hook `globalThis.__fg` (web/main.ts).
 */
import type { Page } from "playwright-core";

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
