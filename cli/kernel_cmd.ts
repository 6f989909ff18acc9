/**
 * `kernel NAME --input FILE --column X [--column2 Y] [--PARAM VALUE ...] [--backend B] [--output FILE]`:
 * runs one registered kernel on one column (two for pairwise kernels) of a CSV, Parquet or Arrow file and
 * writes CSV with one column named after the kernel, one row per input row (stdout without --output).
 */
import {
  checkOutputFile,
  encodeCsv,
  FRAME_KERNELS,
  type FrameKernel,
  getColumn,
  type Kernel,
  KERNELS,
  log,
  openCompute,
  type Params,
  parseParams,
  readFrameFile,
  runKernel,
  SCALAR_KERNELS,
  UsageError,
  writeFileAtomic,
} from "../mod.ts";
import { type Args, take, takeBackend } from "./args.ts";

/** Help text listing every kernel and its parameters (derived from the registry). */
export function kernelHelp(): string {
  const lines = ["kernels:"];
  for (const k of [...KERNELS.values(), ...SCALAR_KERNELS.values(), ...FRAME_KERNELS.values()]) {
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
  const frameKernel = FRAME_KERNELS.get(name);
  if (frameKernel) return await frameKernelCommand(frameKernel, args);
  const scalar = SCALAR_KERNELS.get(name);
  const kernel = KERNELS.get(name);
  if (!scalar && !kernel) {
    const known = [...KERNELS.keys(), ...SCALAR_KERNELS.keys(), ...FRAME_KERNELS.keys()].join(", ");
    throw new UsageError(`kernel: unknown kernel "${name}" (kernels: ${known})`);
  }
  const { frame, columns, inputs, output, compute, params, input } = await readRequest(
    (scalar ?? kernel)!,
    (scalar ?? kernel)!.inputs,
    args,
  );
  if (kernel) checkLength(kernel, params, frame.rows, input);
  const backend = compute.gpu ? compute.gpu.adapterName : "cpu";
  const t0 = performance.now();
  let bytes: Uint8Array;
  try {
    if (scalar) {
      const result = await scalar.run(inputs, params, compute, columns);
      const doc = { kernel: name, column: columns.join(","), rows: frame.rows, backend, result };
      bytes = new TextEncoder().encode(JSON.stringify(doc, null, 2) + "\n");
    } else {
      const [out] = await runKernel(kernel!, [inputs], params, compute);
      bytes = encodeCsv([{ name, values: out }]);
    }
  } catch (e) {
    // A kernel's own check of a parameter against the data (`adf: maxlag 1000 must be at most ... (n = 600)`)
    // is a usage error on the command line, as the other data bounds are (exit 2).
    if (e instanceof RangeError && e.message.startsWith(`${name}: `)) {
      throw new UsageError(`kernel ${e.message}`);
    }
    throw e;
  }
  log("info", `${name}: ${frame.rows} rows in ${(performance.now() - t0).toFixed(1)} ms`, { backend });
  if (output) await writeFileAtomic(output, bytes);
  else await writeAll(Deno.stdout, bytes);
}

/**
 * `kernel resample --input FILE --every 5min [...]`: a frame-to-frame kernel on the whole file, written as CSV
 * with the output's timestamps (ISO-8601, e.g. the bar starts) first and one column per output column.
 */
async function frameKernelCommand(kernel: FrameKernel, args: Args): Promise<void> {
  const name = kernel.name;
  if (args.positional.length > 2) {
    throw new UsageError(`kernel ${name}: unexpected argument "${args.positional[2]}"`);
  }
  const input = take(args, "input");
  if (!input) throw new UsageError(`kernel ${name}: --input FILE is required`);
  for (const c of ["column", "column2"]) {
    if (args.options.has(c)) throw new UsageError(`kernel ${name}: uses every column; drop --${c}`);
  }
  const output = take(args, "output");
  if (output) await checkOutputFile(output); // before reading or computing anything
  const backend = takeBackend(args);
  const params = parseParams(kernel, Object.fromEntries(args.options));
  const frame = await readFrameFile(input);
  const compute = await openCompute({ backend });
  const t0 = performance.now();
  const out = await kernel.run(frame, params, compute);
  const columns = [...out.columns].map(([n, values]) => ({ name: n, values }));
  const bytes = encodeCsv(
    columns,
    out.timestamps ? { name: out.timestampColumn, values: out.timestamps } : undefined,
  );
  log("info", `${name}: ${frame.rows} rows to ${out.rows} in ${(performance.now() - t0).toFixed(1)} ms`, {
    backend: compute.gpu ? compute.gpu.adapterName : "cpu",
  });
  if (output) await writeFileAtomic(output, bytes);
  else await writeAll(Deno.stdout, bytes);
}

/** Reads and validates everything a kernel request names: the file, its column(s), parameters and backend. */
async function readRequest(
  kernel: Pick<Kernel<Params>, "name" | "params" | "check">,
  inputCount: 1 | 2 | "many",
  args: Args,
) {
  const name = kernel.name;
  if (args.positional.length > 2) {
    throw new UsageError(`kernel ${name}: unexpected argument "${args.positional[2]}"`);
  }
  const input = take(args, "input");
  if (!input) throw new UsageError(`kernel ${name}: --input FILE is required`);
  const named = inputCount === "many" ? readColumnList(name, args) : readColumnPair(name, inputCount, args);
  const output = take(args, "output");
  if (output) await checkOutputFile(output); // before reading or computing anything
  const backend = takeBackend(args);
  const params = parseParams(kernel, Object.fromEntries(args.options));
  const frame = await readFrameFile(input);
  // `many` without --columns: every numeric column but the timestamps.
  const columns = named ?? [...frame.columns.keys()];
  const inputs = columns.map((c) => getColumn(frame, c));
  return { frame, columns, inputs, output, compute: await openCompute({ backend }), params, input };
}

/** `--column X [--column2 Y]` of a one- or two-input kernel. */
function readColumnPair(name: string, inputCount: 1 | 2, args: Args): string[] {
  const col = take(args, "column");
  if (!col) throw new UsageError(`kernel ${name}: --column NAME is required`);
  const col2 = take(args, "column2");
  if (inputCount === 2 && !col2) throw new UsageError(`kernel ${name}: --column2 NAME is required`);
  if (inputCount === 1 && col2) throw new UsageError(`kernel ${name}: takes one column; drop --column2`);
  return col2 ? [col, col2] : [col];
}

/** `--columns a,b,c` of a many-column kernel (undefined: every numeric column of the file). */
function readColumnList(name: string, args: Args): string[] | undefined {
  for (const c of ["column", "column2"]) {
    if (args.options.has(c)) throw new UsageError(`kernel ${name}: takes --columns a,b,c; drop --${c}`);
  }
  const list = take(args, "columns");
  if (list === undefined) return undefined;
  const names = list.split(",").map((s) => s.trim()).filter(Boolean);
  if (names.length < 2) {
    throw new UsageError(`kernel ${name}: --columns needs at least two names, got "${list}"`);
  }
  return names;
}

/**
 * A series kernel whose window (its history + 1 rows) is longer than the file would print only NaN: on the
 * command line that is a usage error naming the parameters and the file's length (the pipeline instead
 * keeps the all-NaN column with a warning, as one config serves instruments of every length).
 */
function checkLength(kernel: Kernel<Params>, params: Params, rows: number, input: string): void {
  const need = kernel.history(params) + 1;
  if (need <= rows) return;
  const given = Object.entries(kernel.params).filter(([, s]) => s.type === "int" || s.type === "float")
    .map(([k]) => `--${k} ${params[k]}`).join(" ");
  throw new UsageError(
    `kernel ${kernel.name}: ${input} has ${rows} rows, fewer than the ${need} needed for a first value with ` +
      `${given} (every output would be NaN); use a shorter window or a longer input`,
  );
}

async function writeAll(w: { write(p: Uint8Array): Promise<number> }, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await w.write(bytes.subarray(off));
}
