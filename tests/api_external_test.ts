/**
 * The library from outside the repository: a user's own Deno script in a folder of its own (no
 * deno.json, so none of our import map) imports mod.ts by file URL and runs without permission flags. It used to
 * fail with `Import "comlink" not a dependency`, because library modules imported npm packages by bare names
 * that only our deno.json resolved. Library modules therefore import `npm:name@version`, and the versions must
 * stay those of deno.json (which the tests and tools use).
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";

const ROOT = new URL("../", import.meta.url);

Deno.test("mod.ts imports and computes from a user's folder, without flags or our deno.json", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-user-" });
  const script = join(dir, "features.ts");
  await Deno.writeTextFile(
    script,
    `import { ffdWeights, fracdiff, loadConfig, openCompute, stationarize, makeFrame } from "${
      new URL("mod.ts", ROOT).href
    }";
const close = Float64Array.from({ length: 3000 }, (_, i) => 100 + Math.sin(i / 10) + i / 100);
const compute = await openCompute({ backend: "cpu" });
const frame = makeFrame("user", close.length, new Map([["close", close]]));
const r = await stationarize(frame, {
  columns: ["close"], d_values: [0.4], threshold: 1e-4, rolling_windows: [20],
  logstab: null, corr_pairs: [], corr_window: 50,
}, compute);
const direct = fracdiff.cpu([close.map(Math.log)], { d: 0.4, threshold: 1e-4 });
console.log(JSON.stringify({
  weights: ffdWeights(0.4, 1e-4).length,
  columns: [...r.columns.keys()],
  last: r.columns.get("close_fd_0.4")!.at(-1),
  direct: direct.at(-1),
  target: loadConfig("").features.selection_target_column,
}));
`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--no-config", script],
    cwd: dir,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, err);
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.deepEqual(r.columns, ["close_fd_0.4", "close_z_20"]);
  assert.ok(r.weights > 10 && Number.isFinite(r.last));
  assert.equal(r.last, r.direct);
  assert.equal(r.target, "y_ret_fwd_15m");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("library modules import npm packages as npm:name@version, the versions of deno.json", async () => {
  const imports: Record<string, string> =
    JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).imports;
  const problems: string[] = [];
  let checked = 0;
  for (
    const dir of ["config", "engines", "generator", "io", "kernels", "pipeline", "runtime", "cli", "web"]
  ) {
    for await (const e of Deno.readDir(new URL(`${dir}/`, ROOT))) {
      if (!e.name.endsWith(".ts")) continue;
      const text = await Deno.readTextFile(new URL(`${dir}/${e.name}`, ROOT));
      const specs = [
        ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"/gm),
        ...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
      ].map((m) => m[1]);
      for (const spec of specs) {
        if (spec.startsWith(".") || spec.startsWith("node:")) continue;
        checked++;
        const m = /^npm:((?:@[^/@]+\/)?[^/@]+)@[^/]+/.exec(spec);
        if (!m) {
          problems.push(
            `${dir}/${e.name}: bare import "${spec}" (use ${imports[spec] ?? "npm:name@version"})`,
          );
        } else if (imports[m[1]] !== m[0]) {
          problems.push(`${dir}/${e.name}: "${spec}" but deno.json maps ${m[1]} to ${imports[m[1]]}`);
        }
      }
    }
  }
  assert.ok(checked > 10);
  assert.deepEqual(problems, []);
});

Deno.test("the page's stand-ins for CLI-only npm packages name the versions deno.json maps", async () => {
  // web/build.ts maps e.g. "npm:postgres@3.4.9" to a browser stub; after a version bump that key would no
  // longer match the library's import and the real client would reach the page's bundle.
  const build = await Deno.readTextFile(new URL("web/build.ts", ROOT));
  const stubbed = [...build.matchAll(/"(npm:[^"]+)":\s*"stubs\//g)].map((m) => m[1]);
  assert.ok(stubbed.length >= 1, "no npm stand-ins found in web/build.ts");
  const imports = Object.values(
    (JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))) as { imports: Record<string, string> })
      .imports,
  );
  for (const spec of stubbed) assert.ok(imports.includes(spec), `${spec} (web/build.ts) is not in deno.json`);
});
