/**
 * `deno task serve [--port 8000] [--host 127.0.0.1] [--no-build]`: builds the exploration page (web/build.ts)
 * and serves the static folder on localhost, printing its URL. The same folder works on any static host.
 */
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

/** Serves the files under `dir` (index.html for folders); GET/HEAD only, nothing outside `dir`. */
export function serveStatic(dir: string, opts: ServeOptions = {}): Deno.HttpServer<Deno.NetAddr> {
  const root = dir.replace(/\/+$/, "");
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
      if (rel.split("/").some((s) => s === "..") || rel.includes("\0")) {
        return new Response("bad path", { status: 400 });
      }
      if (rel.endsWith("/")) rel += "index.html";
      const file = `${root}${rel}`;
      try {
        const info = await Deno.stat(file);
        if (info.isDirectory) return Response.redirect(new URL(`${rel}/`, req.url), 301);
        const ext = rel.slice(rel.lastIndexOf(".") + 1).toLowerCase();
        const headers = {
          "content-type": TYPES[ext] ?? "application/octet-stream",
          "content-length": String(info.size),
          "cache-control": "no-cache",
        };
        if (req.method === "HEAD") return new Response(null, { headers });
        return new Response((await Deno.open(file)).readable, { headers });
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return new Response("not found", { status: 404 });
        return new Response("cannot read file", { status: 500 });
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
  const { port: p } = server.addr;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  console.log(`Feature Genesis exploration page: http://${host}:${p}/  (Ctrl+C to stop)`);
  await server.finished;
}
