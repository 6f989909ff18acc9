/** Runs the CLI in-process for tests, capturing what it prints (stdout lines, stderr log lines). */
import { main } from "../cli/main.ts";

/** The CLI's exit code and output. */
export interface CliResult {
  /** Exit code. */
  code: number;
  /** What went to stdout. */
  out: string;
  /** What went to stderr (JSON log lines, progress). */
  err: string;
}

/** Runs `main(argv)`, capturing console output. */
export async function cli(argv: string[]): Promise<CliResult> {
  const out: string[] = [], err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    return { code: await main(argv), out: out.join("\n"), err: err.join("\n") };
  } finally {
    [console.log, console.error] = [log, error];
  }
}

/** The JSON log records among captured stderr lines. */
export function logRecords(err: string): Record<string, unknown>[] {
  return err.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}
