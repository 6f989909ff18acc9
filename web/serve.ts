/**
 * `deno task serve [--port 8000] [--host 127.0.0.1] [--no-build]`: builds the exploration page (web/build.ts)
 * and serves the static folder on localhost, printing its URL. The same folder works on any static host.
 */
import { sep as SEP } from "node:path";
import { buildWeb } from "./build.ts";

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  map: "application/json",
  json: "application/json",
  wgsl: "text/plain; charset=utf-8",
  yaml: "text/plain; charset=utf-8",
  png: "image/png",
  svg: "image/svg+xml",
};

/** Options of {@link serveStatic}. */
export interface ServeOptions {
  /** Interface to listen on (default 127.0.0.1). */
  hostname?: string;
  /** Port (default 0: any free port). */
  port?: number;
}

/**
 * Serves the files under `dir` (index.html for folders); GET/HEAD only. Nothing else is reachable, whatever
 * the URL's encoding: a path with a segment starting with "." (dotfiles such as `/.env`, `..`), a backslash or
 * NUL is refused, and a file is served only when its real path (symbolic links resolved) lies inside `dir`'s
 * and it is a regular file. Refusals are 404 with no detail, so they do not reveal what exists.
 */
export function serveStatic(dir: string, opts: ServeOptions = {}): Deno.HttpServer<Deno.NetAddr> {
  const root = dir.replace(/\/+$/, "");
  let realRoot: Promise<string> | undefined;
  const notFound = () => new Response("not found", { status: 404 });
  return Deno.serve(
    { hostname: opts.hostname ?? "127.0.0.1", port: opts.port ?? 0, onListen: () => {} },
    async (req) => {
      if (req.method !== "GET" && req.method !== "HEAD") {
        return new Response("method not allowed", { status: 405 });
      }
      let rel: string;
      try {
        rel = decodeURIComponent(new URL(req.url).pathname);
      } catch {
        return new Response("bad path", { status: 400 });
      }
      if (rel.split("/").some((s) => s.startsWith(".")) || /[\\\0]/.test(rel)) return notFound();
      if (rel.endsWith("/")) rel += "index.html";
      const file = `${root}${rel}`;
      try {
        // Symbolic links may point anywhere: serve only what really lies inside the (real) root.
        realRoot ??= Deno.realPath(root);
        const real = await Deno.realPath(file);
        const base = await realRoot;
        if (real !== base && !real.startsWith(`${base}${SEP}`)) return notFound();
        const info = await Deno.stat(real);
        if (info.isDirectory) return Response.redirect(new URL(`${rel}/`, req.url), 301);
        if (!info.isFile) return notFound();
        const ext = rel.slice(rel.lastIndexOf(".") + 1).toLowerCase();
        const headers = {
          "content-type": TYPES[ext] ?? "application/octet-stream",
          "content-length": String(info.size),
          "cache-control": "no-cache",
          "x-content-type-options": "nosniff",
        };
        if (req.method === "HEAD") return new Response(null, { headers });
        return new Response((await Deno.open(real)).readable, { headers });
      } catch {
        // Missing, a file used as a folder, a name too long, a link loop, unreadable: all a plain 404, so a
        // probe learns nothing about what exists.
        return notFound();
      }
    },
  );
}

function usage(msg: string): never {
  console.error(`${msg}\nusage: deno task serve [--port 8000] [--host 127.0.0.1] [--no-build]`);
  Deno.exit(2);
}

if (import.meta.main) {
  let port = 8000, hostname = "127.0.0.1", build = true;
  const args = [...Deno.args];
  while (args.length) {
    const a = args.shift()!;
    if (a === "--port") {
      port = Number(args.shift());
      if (!Number.isInteger(port) || port < 0 || port > 65535) usage("--port: expected 0..65535");
    } else if (a === "--host") hostname = args.shift() ?? usage("--host: expected a host name");
    else if (a === "--no-build") build = false;
    else usage(`unknown argument ${a}`);
  }
  const dir = decodeURIComponent(new URL("dist", import.meta.url).pathname);
  if (build) {
    const t0 = performance.now();
    await buildWeb({ outDir: dir });
    console.log(
      `built ${dir} in ${Math.round(performance.now() - t0)} ms (a static folder: any host can serve it)`,
    );
  }
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = serveStatic(dir, { hostname, port });
  } catch (e) {
    if (!(e instanceof Deno.errors.AddrInUse)) throw e;
    console.log(`port ${port} is in use; picking a free one`);
    server = serveStatic(dir, { hostname, port: 0 });
  }
  if (!["127.0.0.1", "localhost", "::1"].includes(hostname)) {
    console.log(`warning: listening on ${hostname}, not only this machine (the default is 127.0.0.1)`);
  }
  const { port: p } = server.addr;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  console.log(`Feature Genesis exploration page: http://${host}:${p}/  (Ctrl+C to stop)`);
  await server.finished;
}
