/** Browser stand-in for `node:path` (web/build.ts maps the specifier here): the POSIX functions mod.ts reaches. */

/** Joins path segments with "/" and normalizes "." and ".." segments. */
export function join(...parts: string[]): string {
  const abs = parts[0]?.startsWith("/") ?? false;
  const out: string[] = [];
  for (const seg of parts.join("/").split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === ".." && out.length && out[out.length - 1] !== "..") out.pop();
    else if (seg !== ".." || !abs) out.push(seg);
  }
  return (abs ? "/" : "") + out.join("/") || (abs ? "/" : ".");
}

/** The path without its last segment ("." when there is none). */
export function dirname(path: string): string {
  const p = path.replace(/\/+$/, "");
  const at = p.lastIndexOf("/");
  return at < 0 ? "." : at === 0 ? "/" : p.slice(0, at);
}

/** The POSIX separator. */
export const sep = "/";

/** True for a path starting at the root. */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/");
}

/** `join` from the root ("/"): the browser has no working directory, so relative paths start there. */
export function resolve(...parts: string[]): string {
  const at = parts.findLastIndex((p) => p.startsWith("/"));
  return join("/", ...parts.slice(Math.max(0, at)));
}

/** The path from `from` to `to` (both resolved), with ".." segments. */
export function relative(from: string, to: string): string {
  const a = resolve(from).split("/").filter(Boolean), b = resolve(to).split("/").filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => ".."), ...b.slice(i)].join("/");
}

/** The last segment, without `ext` when it ends with it. */
export function basename(path: string, ext = ""): string {
  const base = path.replace(/\/+$/, "").split("/").pop() ?? "";
  return ext && base.endsWith(ext) && base !== ext ? base.slice(0, -ext.length) : base;
}
