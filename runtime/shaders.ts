/**
 * WGSL loading. Shaders live in `shaders/NAME.wgsl` and are fetched relative to this module's URL:
 * `fetch(file:...)` in Deno and `fetch(http...)` in the browser, so both use the same mechanism.
 */
const cache = new Map<string, Promise<string>>();

/** Returns the WGSL source of `shaders/NAME.wgsl` (cached). */
export function loadShader(name: string): Promise<string> {
  let src = cache.get(name);
  if (!src) {
    const url = new URL(`../shaders/${name}.wgsl`, import.meta.url);
    src = fetch(url).then(async (r) => {
      if (!r.ok) throw new Error(`cannot load shader ${url}: HTTP ${r.status}`);
      return await r.text();
    });
    cache.set(name, src);
  }
  return src;
}
