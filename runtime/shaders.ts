/**
 * WGSL loading. Shaders live in `shaders/NAME.wgsl` and are fetched relative to this module's URL:
 * `fetch(file:...)` in Deno and `fetch(http...)` in the browser, so both use the same mechanism.
 * A line `#include "OTHER.wgsl"` is replaced by that file (once per shader), so helpers such as the
 * NaN test and the segment table are written once.
 */
const files = new Map<string, Promise<string>>();
const shaders = new Map<string, Promise<string>>();

function fetchText(file: string): Promise<string> {
  let text = files.get(file);
  if (!text) {
    const url = new URL(`../shaders/${file}`, import.meta.url);
    text = fetch(url).then(async (r) => {
      if (!r.ok) throw new Error(`cannot load shader ${url}: HTTP ${r.status}`);
      return await r.text();
    });
    files.set(file, text);
  }
  return text;
}

async function expand(file: string, seen: Set<string>): Promise<string> {
  seen.add(file);
  const lines = (await fetchText(file)).split("\n");
  const out = await Promise.all(lines.map(async (line) => {
    const m = /^#include "([\w.-]+)"\s*$/.exec(line);
    if (!m) return line;
    return seen.has(m[1]) ? "" : await expand(m[1], seen);
  }));
  return out.join("\n");
}

/** Returns the WGSL source of `shaders/NAME.wgsl` with its includes expanded (cached). */
export function loadShader(name: string): Promise<string> {
  let src = shaders.get(name);
  if (!src) {
    src = expand(`${name}.wgsl`, new Set());
    shaders.set(name, src);
  }
  return src;
}
