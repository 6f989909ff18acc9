/** Browser stand-in for `node:path` (web/build.ts maps the specifier here): POSIX `join` and `dirname`. */

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
