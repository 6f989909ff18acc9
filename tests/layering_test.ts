/**
 * The module graph keeps DESIGN.md's layers: io/runtime ← kernels ← engines ← pipeline ← cli/web, with cli and
 * web importing the library only through mod.ts. Reads the graph `deno info --json` resolves from every entry
 * point (type-only imports included: they tie modules as firmly when one moves) and fails on an import
 * cycle or an upward import, naming the modules.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/**
 * Rank of each top-level folder: a module may import its own folder and lower ranks only. `generator` writes
 * bars with io and runtime; `config` validates with what engines and kernels declare (target names, FFD
 * bounds, feature sets); mod.ts is the library's face; cli and web sit on top of it; bench measures anything.
 */
const RANK: Record<string, number> = {
  runtime: 0,
  io: 1,
  kernels: 2,
  generator: 3,
  engines: 3,
  config: 4,
  pipeline: 5,
  study: 5.5, // parameter studies drive the pipeline's engines and loader
  "mod.ts": 6,
  cli: 7,
  web: 7,
  bench: 8,
};

/** Folders that reach the library only through mod.ts (and their own modules, and worker entry modules). */
const FACADE_ONLY = new Set(["cli", "web"]);

/** Entry points: the public API, the programs, and the modules Workers start from (no static edge to them). */
async function entryPoints(): Promise<string[]> {
  const entries = ["mod.ts", "cli/main.ts", "bench/main.ts"];
  for (const dir of ["web", "kernels", "generator", "runtime", "study"]) {
    for await (const e of Deno.readDir(new URL(dir + "/", ROOT))) {
      if (!e.isFile || !e.name.endsWith(".ts")) continue;
      if (dir === "web" || e.name.endsWith("worker.ts")) entries.push(`${dir}/${e.name}`);
    }
  }
  return entries.sort();
}

/** Edges between the repository's own modules (paths relative to the root), code and type imports alike. */
async function moduleGraph(): Promise<Map<string, Set<string>>> {
  // `deno info` takes one root: a throwaway module outside the repository imports every entry point.
  const dir = await Deno.makeTempDir();
  const root = `${dir}/entries.ts`;
  const entries = await entryPoints();
  await Deno.writeTextFile(root, entries.map((e) => `import "${new URL(e, ROOT).href}";\n`).join(""));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", root],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  await Deno.remove(dir, { recursive: true });
  if (!out.success) throw new Error(`deno info failed: ${new TextDecoder().decode(out.stderr)}`);
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: {
      specifier: string;
      dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
    }[];
  };
  const own = (s: string | undefined) => s?.startsWith(ROOT.href) ? s.slice(ROOT.href.length) : undefined;
  const graph = new Map<string, Set<string>>();
  for (const m of info.modules) {
    const from = own(m.specifier);
    if (!from) continue;
    const to = graph.get(from) ?? new Set<string>();
    graph.set(from, to);
    for (const d of m.dependencies ?? []) {
      for (const s of [own(d.code?.specifier), own(d.type?.specifier)]) if (s && s !== from) to.add(s);
    }
  }
  return graph;
}

const folder = (path: string) => path.includes("/") ? path.slice(0, path.indexOf("/")) : path;

/** The strongly connected components with more than one module (Tarjan), each sorted. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** Imports that break the layers: upward ones, and cli/web reaching past mod.ts. */
function layerViolations(graph: Map<string, Set<string>>): string[] {
  const bad: string[] = [];
  for (const [from, tos] of graph) {
    const f = folder(from);
    if (!(f in RANK)) continue;
    for (const to of tos) {
      const t = folder(to);
      if (t === f || !(t in RANK)) continue;
      if (FACADE_ONLY.has(f) && to !== "mod.ts" && !to.endsWith("worker.ts")) {
        bad.push(`${from} -> ${to} (${f}/ imports the library through mod.ts only)`);
      } else if (RANK[t] > RANK[f]) bad.push(`${from} -> ${to} (${t} is above ${f})`);
    }
  }
  return bad.sort();
}

Deno.test("layers: no import cycle among the repository's modules", async () => {
  const graph = await moduleGraph();
  if (graph.size < 50) throw new Error(`module graph too small (${graph.size}): deno info output changed?`);
  assertEquals(cycles(graph), []);
});

Deno.test("layers: io/runtime <- kernels <- engines <- config <- pipeline <- mod.ts <- cli/web", async () => {
  assertEquals(layerViolations(await moduleGraph()), []);
});

Deno.test("layers: the checks catch a cycle and an upward import (negative control)", () => {
  const g = new Map<string, Set<string>>([
    ["kernels/a.ts", new Set(["kernels/b.ts", "engines/e.ts"])],
    ["kernels/b.ts", new Set(["kernels/a.ts"])],
    ["engines/e.ts", new Set(["io/x.ts"])],
    ["cli/main.ts", new Set(["pipeline/run.ts", "mod.ts"])],
  ]);
  assertEquals(cycles(g), [["kernels/a.ts", "kernels/b.ts"]]);
  assertEquals(layerViolations(g), [
    "cli/main.ts -> pipeline/run.ts (cli/ imports the library through mod.ts only)",
    "kernels/a.ts -> engines/e.ts (engines is above kernels)",
  ]);
});
