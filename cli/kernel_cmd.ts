/**
 * `kernel NAME --input FILE --column X [--column2 Y] [--PARAM VALUE ...] [--backend B] [--output FILE]`:
 * runs one registered kernel on one column (two for pairwise kernels) of a CSV, Parquet or Arrow file and
 * writes CSV with one column named after the kernel, one row per input row (stdout without --output).
 */
import { getColumn } from "../io/frame.ts";
import { readFrameFile } from "../io/read.ts";
import { encodeCsv, writeFileAtomic } from "../io/write.ts";
import { parseParams, runKernel } from "../kernels/kernel.ts";
import { KERNELS, SCALAR_KERNELS, type ScalarKernel } from "../kernels/registry.ts";
import { openCompute } from "../runtime/backend.ts";
import { UsageError } from "../runtime/errors.ts";
import { log } from "../runtime/log.ts";
import { type Args, take, takeBackend } from "./args.ts";

/** Help text listing every kernel and its parameters (derived from the registry). */
export function kernelHelp(): string {
  const lines = ["kernels:"];
  for (const k of [...KERNELS.values(), ...SCALAR_KERNELS.values()]) {
    const params = Object.entries(k.params).map(([n, s]) =>
      `--${n}${s.default === undefined ? "" : `=${s.default}`}`
    );
    lines.push(`  ${k.name.padEnd(13)} ${k.summary}${params.length ? `  [${params.join(" ")}]` : ""}`);
  }
  return lines.join("\n");
}

/** Runs the `kernel` command. */
export async function kernelCommand(args: Args): Promise<void> {
  const name = args.positional[1];
  if (!name) throw new UsageError(`kernel: name a kernel\n${kernelHelp()}`);
  const scalar = SCALAR_KERNELS.get(name);
  if (scalar) return await scalarKernelCommand(scalar, args);
  const kernel = KERNELS.get(name);
  if (!kernel) {
    throw new UsageError(
      `kernel: unknown kernel "${name}" (kernels: ${
        [...KERNELS.keys(), ...SCALAR_KERNELS.keys()].join(", ")
      })`,
    );
  }
  if (args.positional.length > 2) {
    throw new UsageError(`kernel ${name}: unexpected argument "${args.positional[2]}"`);
  }
  const input = take(args, "input");
  if (!input) throw new UsageError(`kernel ${name}: --input FILE is required`);
  const col = take(args, "column");
  if (!col) throw new UsageError(`kernel ${name}: --column NAME is required`);
  const col2 = take(args, "column2");
  if (kernel.inputs === 2 && !col2) throw new UsageError(`kernel ${name}: --column2 NAME is required`);
  if (kernel.inputs === 1 && col2) throw new UsageError(`kernel ${name}: takes one column; drop --column2`);
  const output = take(args, "output");
  const backend = takeBackend(args);
  const params = parseParams(kernel, Object.fromEntries(args.options));

  const frame = await readFrameFile(input);
  const inputs = [getColumn(frame, col), ...(col2 ? [getColumn(frame, col2)] : [])];
  const compute = await openCompute({ backend });
  const t0 = performance.now();
  const [out] = await runKernel(kernel, [inputs], params, compute);
  log("info", `${name}: ${frame.rows} rows in ${(performance.now() - t0).toFixed(1)} ms`, {
    backend: compute.gpu ? compute.gpu.adapterName : "cpu",
  });
  const csv = encodeCsv([{ name, values: out }]);
  if (output) await writeFileAtomic(output, csv);
  else await writeAll(Deno.stdout, csv);
}

async function writeAll(w: { write(p: Uint8Array): Promise<number> }, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await w.write(bytes.subarray(off));
}

/**
 * A scalar kernel (kernels/registry.ts `SCALAR_KERNELS`, e.g. `garch`): one column in, one JSON document out
 * (`{ kernel, column, rows, backend, result }`), to stdout or --output.
 */
async function scalarKernelCommand(kernel: ScalarKernel, args: Args): Promise<void> {
  const name = kernel.name;
  if (args.positional.length > 2) {
    throw new UsageError(`kernel ${name}: unexpected argument "${args.positional[2]}"`);
  }
  const input = take(args, "input");
  if (!input) throw new UsageError(`kernel ${name}: --input FILE is required`);
  const col = take(args, "column");
  if (!col) throw new UsageError(`kernel ${name}: --column NAME is required`);
  if (args.options.has("column2")) throw new UsageError(`kernel ${name}: takes one column; drop --column2`);
  const output = take(args, "output");
  const backend = takeBackend(args);
  const params = parseParams(kernel, Object.fromEntries(args.options));
  const frame = await readFrameFile(input);
  const x = getColumn(frame, col);
  const compute = await openCompute({ backend });
  const result = await kernel.run([x], params, compute);
  const doc = {
    kernel: name,
    column: col,
    rows: frame.rows,
    backend: compute.gpu ? compute.gpu.adapterName : "cpu",
    result,
  };
  const json = new TextEncoder().encode(JSON.stringify(doc, null, 2) + "\n");
  if (output) await writeFileAtomic(output, json);
  else await writeAll(Deno.stdout, json);
}
