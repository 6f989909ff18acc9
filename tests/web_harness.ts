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
