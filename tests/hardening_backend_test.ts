/**
 * Issue 12, "WebGPU requested without an adapter": `webgpu` asked for where no adapter exists is one line naming
 * the setting (`compute.backend` / `--backend`) and the alternatives, exit 2; `auto` still falls back to the CPU
 * path. The machine's adapter is hidden by running the CLI in a subprocess with DENO_WEBGPU_BACKEND set to a
 * graphics API this OS does not have.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";

/** A graphics API with no adapter on this OS. */
const ABSENT_API = Deno.build.os === "windows" ? "metal" : "dx12";
const MESSAGE =
  'error: backend "webgpu" was requested (compute.backend or --backend) but no WebGPU adapter ' +
  'found; use backend "auto" (WebGPU when an adapter exists, else the CPU path) or "cpu", or install a WebGPU ' +
  "driver (Linux without a GPU: apt-get install mesa-vulkan-drivers)";

/** Runs the CLI in a child process without any WebGPU adapter. */
async function cliWithoutAdapter(args: string[]): Promise<{ code: number; err: string }> {
  const main = new URL("../cli/main.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main, ...args],
    env: { DENO_WEBGPU_BACKEND: ABSENT_API, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, err: new TextDecoder().decode(out.stderr) };
}

Deno.test("backend: webgpu without an adapter names compute.backend / --backend and the alternatives", async () => {
  const dir = await Deno.makeTempDir();
  const input = join(dir, "x.csv");
  await Deno.writeTextFile(
    input,
    "close\n" + Array.from({ length: 50 }, (_, i) => 100 + Math.sin(i)).join("\n"),
  );

  const zscore = (backend: string) =>
    cliWithoutAdapter([
      "kernel",
      "zscore",
      "--input",
      input,
      "--column",
      "close",
      "--window",
      "5",
      "--backend",
      backend,
    ]);

  // The kernel CLI's --backend.
  const k = await zscore("webgpu");
  assert.equal(k.code, 2, k.err);
  assert.deepEqual(k.err.split("\n").filter((l) => l.startsWith("error:")), [MESSAGE]);

  // The pipeline's compute.backend: refused before any task.
  const config = join(dir, "config.yaml");
  await Deno.writeTextFile(
    config,
    `data:\n  source: ${dir}\nstorage:\n  output: ${join(dir, "out")}\ncompute:\n  backend: webgpu\n` +
      `generator:\n  if_empty: false\n`,
  );
  const run = await cliWithoutAdapter(["run", "--config", config]);
  assert.equal(run.code, 2, run.err);
  assert.deepEqual(run.err.split("\n").filter((l) => l.startsWith("error:")), [MESSAGE]);
  assert.doesNotMatch(run.err, /task committed|task failed/);

  // auto still falls back to the CPU path with a warning.
  const auto = await zscore("auto");
  assert.equal(auto.code, 0, auto.err);
  assert.match(auto.err, /no usable WebGPU adapter \(no WebGPU adapter found\); using the CPU backend/);
  await Deno.remove(dir, { recursive: true });
});
