/**
 * Builds the exploration page into a static folder (default `web/dist/`) that any static host can serve:
 *
 *   index.html, style.css, uplot.css
 *   js/main.js, js/worker.js   `deno bundle --platform browser` of web/main.ts and web/worker.ts
 *   js/feature_sets_worker.js  web/feature_sets_worker.ts: the feature sets' CPU worker pool's worker
 *   shaders/*.wgsl             the kernels' WGSL; runtime/shaders.ts fetches `../shaders/NAME.wgsl`
 *                              relative to the bundle (js/worker.js), so it lands here
 *   config.yaml                the `features` and `pipeline` sections of examples/config.yaml
 *
 * The worker imports mod.ts, which also reaches CLI-only modules importing `node:zlib`, `node:path`,
 * `node:sqlite`, `node:crypto`, `node:os`, `node:process` and `npm:postgres`; a generated import map points those
 * at small browser stand-ins in web/stubs/ (unused by the page's code paths).
 *
 * `deno run -A web/build.ts [OUT_DIR]` builds; `deno task serve` builds and serves.
 */

const ROOT = new URL("../", import.meta.url);
const WEB = new URL("./", import.meta.url);

/** Node built-ins and CLI-only packages reached from mod.ts, and their browser stand-ins. */
const STUBS: Record<string, string> = {
  "node:zlib": "stubs/node_zlib.ts",
  "node:path": "stubs/node_path.ts",
  "node:sqlite": "stubs/node_sqlite.ts",
  "node:crypto": "stubs/node_crypto.ts",
  "node:os": "stubs/node_os.ts",
  "node:process": "stubs/node_process.ts",
  "npm:postgres@3.4.9": "stubs/postgres.ts",
};

/** Options of {@link buildWeb}. */
export interface BuildOptions {
  /** Output folder (created or emptied). Default `web/dist/`. */
  outDir?: string;
  /** Minify the bundles (default true). */
  minify?: boolean;
}

const path = (u: URL) => decodeURIComponent(u.pathname);

/**
 * The `features:` and `pipeline:` blocks of a config file, each from its key line to the line before the
 * next top-level key (comments that introduce the next block are left with it).
 */
export function configSections(yaml: string, keys: string[]): string {
  const lines = yaml.split("\n");
  const blocks: string[] = [];
  for (const key of keys) {
    const start = lines.findIndex((l) => l.startsWith(`${key}:`));
    if (start < 0) continue;
    let end = start + 1;
    while (end < lines.length && !/^[A-Za-z_]/.test(lines[end])) end++;
    while (end > start + 1 && (/^#/.test(lines[end - 1]) || lines[end - 1].trim() === "")) end--;
    blocks.push(lines.slice(start, end).join("\n"));
  }
  return blocks.join("\n\n") + "\n";
}

/** Builds the page; returns the absolute output folder. */
export async function buildWeb(opts: BuildOptions = {}): Promise<string> {
  const out = opts.outDir ?? path(new URL("dist/", WEB));
  await Deno.remove(out, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  await Deno.mkdir(`${out}/shaders`, { recursive: true });

  // Import map: the project's imports plus the node: stand-ins.
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const imports: Record<string, string> = { ...denoJson.imports };
  for (const [spec, file] of Object.entries(STUBS)) imports[spec] = new URL(file, WEB).href;
  const importMap = await Deno.makeTempFile({ prefix: "fg-web-", suffix: ".json" });
  try {
    await Deno.writeTextFile(importMap, JSON.stringify({ imports }));
    const args = [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--format",
      "esm",
      "--import-map",
      importMap,
      "--outdir",
      `${out}/js`,
      ...(opts.minify === false ? [] : ["--minify"]),
      path(new URL("main.ts", WEB)),
      path(new URL("worker.ts", WEB)),
      path(new URL("feature_sets_worker.ts", WEB)),
    ];
    const r = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: path(ROOT),
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (!r.success) {
      const err = new TextDecoder().decode(r.stderr) + new TextDecoder().decode(r.stdout);
      throw new Error(`deno bundle failed (exit ${r.code}):\n${err}`);
    }
  } finally {
    await Deno.remove(importMap).catch(() => {});
  }
  for (const name of ["main.js", "worker.js", "feature_sets_worker.js"]) {
    await Deno.stat(`${out}/js/${name}`).catch(() => {
      throw new Error(`deno bundle did not write js/${name} in ${out}`);
    });
  }

  for (const f of ["index.html", "style.css", "uplot.css"]) {
    await Deno.copyFile(new URL(f, WEB), `${out}/${f}`);
  }
  for await (const e of Deno.readDir(new URL("shaders/", ROOT))) {
    if (e.isFile && e.name.endsWith(".wgsl")) {
      await Deno.copyFile(new URL(`shaders/${e.name}`, ROOT), `${out}/shaders/${e.name}`);
    }
  }
  const example = await Deno.readTextFile(new URL("examples/config.yaml", ROOT));
  await Deno.writeTextFile(
    `${out}/config.yaml`,
    "# The features and pipeline sections of examples/config.yaml (the CLI's config); edit and run again.\n" +
      "# Other sections (data, storage, compute...) take their defaults; the backend is chosen on the page.\n\n" +
      configSections(example, ["features", "pipeline"]),
  );
  return out;
}

if (import.meta.main) {
  const out = await buildWeb({ outDir: Deno.args[0] });
  console.log(`built ${out}`);
}
