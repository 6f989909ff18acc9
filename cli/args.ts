/** Command-line parsing: `COMMAND [POSITIONAL...] [--key value | --key=value | --flag]`. */
import { UsageError } from "../mod.ts";

/** Parsed arguments: positionals in order, options by name (a bare flag is "true"). */
export interface Args {
  positional: string[];
  options: Map<string, string>;
}

/** Parses argv; a value may start with "-" only when it is a number (e.g. `--shift -1`). */
export function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const options = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (!key) throw new UsageError(`bad option "${a}"`);
    let value = eq > 0 ? a.slice(eq + 1) : "true";
    const next = argv[i + 1];
    if (eq < 0 && next !== undefined && (!next.startsWith("-") || Number.isFinite(Number(next)))) {
      value = next;
      i++;
    }
    if (options.has(key)) throw new UsageError(`option --${key} given twice`);
    options.set(key, value);
  }
  return { positional, options };
}

/** Removes and returns an option's value (undefined when absent). */
export function take(args: Args, key: string): string | undefined {
  const v = args.options.get(key);
  args.options.delete(key);
  return v;
}

/**
 * Removes and returns a positive integer option (at most `max`, a cap from runtime/limits.ts), or `fallback`;
 * a bad value is a UsageError naming the option and the allowed range.
 */
export function takeInt(args: Args, key: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = take(args, key);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0 || n > max) {
    throw new UsageError(
      `--${key} expects ${
        max === Number.MAX_SAFE_INTEGER ? "a positive integer" : `an integer in [1, ${max}]`
      }, got "${v}"`,
    );
  }
  return n;
}

/** Removes and returns the --backend option, validated. */
export function takeBackend(args: Args): "auto" | "webgpu" | "cpu" {
  const v = take(args, "backend") ?? "auto";
  if (v !== "auto" && v !== "webgpu" && v !== "cpu") {
    throw new UsageError(`--backend expects auto, webgpu or cpu, got "${v}"`);
  }
  return v;
}

/** Throws a UsageError when options remain that the command did not take, or extra positional arguments. */
export function rejectRest(args: Args, command: string, positionals = 1): void {
  const rest = [...args.options.keys()].map((k) => `--${k}`);
  if (rest.length) throw new UsageError(`${command}: unknown option ${rest.join(", ")}`);
  const extra = args.positional.slice(positionals);
  if (extra.length) {
    throw new UsageError(`${command}: unexpected argument ${extra.map((a) => `"${a}"`).join(", ")}`);
  }
}
