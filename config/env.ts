/** `${VAR}` / `${VAR:default}` substitution in configuration strings. */

import { UsageError } from "../runtime/errors.ts";

/** Looks up an environment variable; `undefined` when it is not set. */
export type EnvLookup = (name: string) => string | undefined;

/**
 * The process environment (`Deno.env.get`) when it can be read, else an empty environment.
 * Without `--allow-env` (or outside Deno) every variable reads as unset, so only defaults apply.
 */
export const processEnv: EnvLookup = (name) => {
  try {
    return (globalThis as { Deno?: { env: { get(n: string): string | undefined } } }).Deno?.env.get(name);
  } catch {
    return undefined;
  }
};

/** The result of {@link substitute}: the new text, and whether any `${...}` was replaced. */
export interface Substituted {
  /** The text with every `${...}` replaced and every `$${` unescaped to `${`. */
  value: string;
  /** True when at least one `${...}` reference was replaced (the value came, at least in part, from the environment or a default). */
  substituted: boolean;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Replaces `${VAR}` and `${VAR:default}` in `text` (anywhere in it, e.g. `"s3://${BUCKET:data}/bars"`).
 *
 * - `${VAR}`: the variable's value; unset -> UsageError naming the variable and `where` (the key path).
 * - `${VAR:default}`: the variable's value, or `default` when it is unset or empty (`${VAR:}` gives "").
 * - `$${` is an escape for a literal `${`.
 *
 * `where` is the key path used in messages (e.g. "storage.output"); `source` the file name.
 */
export function substitute(text: string, env: EnvLookup, where: string, source: string): Substituted {
  if (!text.includes("${")) return { value: text, substituted: false };
  let out = "";
  let substituted = false;
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf("$", i);
    if (at < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, at);
    if (text.startsWith("$${", at)) {
      out += "${";
      i = at + 3;
      continue;
    }
    if (!text.startsWith("${", at)) {
      out += "$";
      i = at + 1;
      continue;
    }
    const close = text.indexOf("}", at + 2);
    if (close < 0) {
      throw new UsageError(`${source}: ${where}: unterminated "\${" in ${JSON.stringify(text)}`);
    }
    const body = text.slice(at + 2, close);
    const colon = body.indexOf(":");
    const name = colon < 0 ? body : body.slice(0, colon);
    const fallback = colon < 0 ? undefined : body.slice(colon + 1);
    if (!NAME.test(name)) {
      throw new UsageError(
        `${source}: ${where}: bad variable reference "\${${body}}" (expected \${NAME} or \${NAME:default}, ` +
          `NAME made of letters, digits and _)`,
      );
    }
    const got = env(name);
    let value: string;
    if (fallback === undefined) {
      if (got === undefined) {
        throw new UsageError(
          `${source}: ${where}: environment variable ${name} is not set and "\${${name}}" has no default ` +
            `(set ${name} or write \${${name}:default})`,
        );
      }
      value = got;
    } else {
      value = got === undefined || got === "" ? fallback : got;
    }
    out += value;
    substituted = true;
    i = close + 1;
  }
  return { value: out, substituted };
}
