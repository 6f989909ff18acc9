/** Loading the YAML configuration file: parse, substitute `${VAR:default}`, validate, fill defaults. */

import { parseDocument } from "npm:yaml@2.9.1";
import { UsageError } from "../runtime/errors.ts";
import type { EnvLookup } from "./env.ts";
import { type Config, validateConfig } from "./schema.ts";

/** Options of {@link loadConfig}. */
export interface LoadOptions {
  /** Environment for `${VAR}` substitution and S3 credential defaults. Default: the process environment. */
  env?: EnvLookup;
  /** File name used in error messages. Default `"config"`. */
  source?: string;
}

/**
 * Parses YAML configuration text and returns the resolved {@link Config} (see `validateConfig`).
 * Empty text gives the defaults. Throws UsageError on a YAML syntax error (`<source>:<line>:<column>: ...`),
 * a missing variable, an unknown key or a bad value; the message always names `source`.
 *
 * Note: the `yaml` package reads the env variables LOG_TOKENS / LOG_STREAM, so in Deno this needs
 * `--allow-env` (at least for those two names).
 *
 * @example Defaults plus two keys; `${VAR:default}` reads the environment
 * ```ts
 * import { loadConfig } from "@feature-genesis/core";
 *
 * const config = loadConfig("features:\n  rolling_windows: [20, 100]\n  dcor_top_k: ${TOP_K:10}\n");
 * console.log(config.features.frac_diff.d_values, config.features.dcor_top_k); // defaults kept, 10
 * ```
 */
export function loadConfig(text: string, opts: LoadOptions = {}): Config {
  const source = opts.source ?? "config";
  let doc;
  try {
    doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    if ((e as Error).name === "NotCapable" || (e as Error).name === "PermissionDenied") {
      throw new UsageError(
        `${source}: reading YAML needs env access (run with --allow-env; the yaml package reads LOG_TOKENS)`,
      );
    }
    throw e;
  }
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const pos = err.linePos?.[0];
    const where = pos ? `${source}:${pos.line}:${pos.col}` : source;
    const what = err.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    throw new UsageError(`${where}: YAML syntax error: ${what}`);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    throw new UsageError(`${source}: YAML error: ${(e as Error).message}`);
  }
  return validateConfig(raw, { env: opts.env, source });
}

/**
 * Reads and loads a YAML configuration file (see {@link loadConfig}); `path` names it in error messages.
 * A missing or unreadable file is a UsageError.
 */
export async function loadConfigFile(path: string, opts: { env?: EnvLookup } = {}): Promise<Config> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "file not found" : (e as Error).message;
    throw new UsageError(`${path}: cannot read the config file: ${why}`);
  }
  return loadConfig(text, { env: opts.env, source: path });
}
