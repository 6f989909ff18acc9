/**
 * The `@example` blocks in the library's JSDoc (what `deno doc` and an editor show a user) type-check against
 * the public API, as Deno std checks its own: every library module holding one goes through
 * `deno check --doc`, so an example cannot drift from the signatures it shows.
 */
import { strict as assert } from "node:assert";

const ROOT = new URL("../", import.meta.url);
const LIBRARY = ["runtime", "io", "kernels", "engines", "generator", "config", "pipeline", "study"];

/** Library modules whose JSDoc holds an `@example`, relative to the root. */
async function modulesWithExamples(): Promise<string[]> {
  const out: string[] = [];
  for (const dir of LIBRARY) {
    for await (const e of Deno.readDir(new URL(dir + "/", ROOT))) {
      if (!e.isFile || !e.name.endsWith(".ts")) continue;
      const text = await Deno.readTextFile(new URL(`${dir}/${e.name}`, ROOT));
      if (text.includes("@example")) out.push(`${dir}/${e.name}`);
    }
  }
  return out.sort();
}

Deno.test("doc examples: the main entry points have one and every example type-checks", async () => {
  const files = await modulesWithExamples();
  for (
    const entry of ["pipeline/run.ts", "kernels/kernel.ts", "config/load.ts", "kernels/feature_frame.ts"]
  ) {
    assert.ok(files.includes(entry), `${entry} has no @example`);
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--doc", "--quiet", ...files],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `deno check --doc ${files.join(" ")} failed:\n${err}`);
});

Deno.test("doc lint: every public symbol of mod.ts is documented and references only public types", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", "mod.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `deno doc --lint mod.ts failed:\n${err}`);
});
