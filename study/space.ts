/**
 * A study's search space: the config keys it varies (`features.rolling_windows`, `features.frac_diff.threshold`
 * ...) and how each is drawn. A key path must name a setting of the pipeline config (config/schema.ts) under
 * `features` or `pipeline`; its bounds and choices are checked by validating the base config with them, so a
 * value the pipeline would refuse is refused when the study is read, with the key path.
 */
import { type Config, defaultConfig, validateConfig } from "../config/schema.ts";
import { UsageError } from "../runtime/errors.ts";
import type { Rng } from "../runtime/rng.ts";

/** How one config key is drawn. */
export type Dimension =
  /** An integer in [low, high] (uniform). */
  | { type: "int"; low: number; high: number }
  /** A number in [low, high] (uniform). */
  | { type: "float"; low: number; high: number }
  /** A positive number in [low, high], uniform in log(x) (thresholds, penalties). */
  | { type: "log_float"; low: number; high: number }
  /** One of `choices` (any YAML values: numbers, strings, lists). */
  | { type: "choice"; choices: unknown[] };

/** A search space: config key path to its dimension, in the study file's order. */
export type Space = Record<string, Dimension>;

/** A trial's parameters: config key path to value. */
export type TrialParams = Record<string, unknown>;

/** Sections a study may vary: what shapes the features and their scoring, never storage or data location. */
const SECTIONS = ["features", "pipeline"];

function get(obj: unknown, path: string[]): unknown {
  return path.reduce<unknown>(
    (o, k) => (o && typeof o === "object" && !Array.isArray(o) ? (o as never)[k] : undefined),
    obj,
  );
}

/** Why `key` is not a config key a study can vary (undefined when it is). */
function keyProblem(key: string): string | undefined {
  const parts = key.split(".");
  if (!SECTIONS.includes(parts[0])) {
    return `unknown search key (a study varies config keys under ${SECTIONS.join(" or ")})`;
  }
  const defaults = defaultConfig();
  const parent = get(defaults, parts.slice(0, -1));
  if (!parent || typeof parent !== "object" || !(parts.at(-1)! in parent)) {
    const known = parent && typeof parent === "object"
      ? ` (known under ${parts.slice(0, -1).join(".")}: ${Object.keys(parent).join(", ")})`
      : "";
    return `not a config key${known}`;
  }
  const v = (parent as Record<string, unknown>)[parts.at(-1)!];
  if (v && typeof v === "object" && !Array.isArray(v)) {
    return "a config section, not a key: name one of its keys";
  }
  return undefined;
}

/** `raw` (a parsed config mapping) with `params` set at their key paths; `raw` is not modified. */
export function applyParams(raw: Record<string, unknown>, params: TrialParams): Record<string, unknown> {
  const out = structuredClone(raw);
  for (const [key, value] of Object.entries(params)) {
    const parts = key.split(".");
    let o = out;
    for (const p of parts.slice(0, -1)) {
      if (!o[p] || typeof o[p] !== "object" || Array.isArray(o[p])) o[p] = {};
      o = o[p] as Record<string, unknown>;
    }
    o[parts.at(-1)!] = structuredClone(value);
  }
  return out;
}

/** The validated pipeline config of `params` applied to the base config; UsageError naming the keys if invalid. */
export function trialConfig(base: Record<string, unknown>, params: TrialParams, source: string): Config {
  return validateConfig(applyParams(base, params), { source });
}

const num = (v: unknown) => typeof v === "number" && Number.isFinite(v);

/**
 * Validates the `space` mapping of a study file against the pipeline schema and the base config: every key a
 * config key, every dimension well formed, and its bounds and each choice accepted by the config validator.
 * Throws one UsageError listing every problem as `<source>: space.<key>: ...`.
 */
export function parseSpace(raw: unknown, base: Record<string, unknown>, source: string): Space {
  if (!raw || typeof raw !== "object" || Array.isArray(raw) || !Object.keys(raw).length) {
    throw new UsageError(`${source}: space: expected a non-empty mapping of config key paths to dimensions`);
  }
  const errors: string[] = [];
  const space: Space = {};
  for (const [key, d] of Object.entries(raw as Record<string, unknown>)) {
    const at = `space.${key}`;
    const why = keyProblem(key);
    if (why) {
      errors.push(`${at}: ${why}`);
      continue;
    }
    const dim = d as Record<string, unknown>;
    const type = dim?.type;
    const extra = dim && typeof dim === "object"
      ? Object.keys(dim).filter((k) => !["type", "low", "high", "choices"].includes(k))
      : [];
    if (extra.length) errors.push(`${at}: unknown key ${extra.join(", ")} (known: type, low, high, choices)`);
    if (type === "choice") {
      if (!Array.isArray(dim.choices) || !dim.choices.length) {
        errors.push(`${at}.choices: expected a non-empty list of values`);
        continue;
      }
      space[key] = { type, choices: dim.choices };
    } else if (type === "int" || type === "float" || type === "log_float") {
      const { low, high } = dim as { low: unknown; high: unknown };
      const isInt = type === "int";
      if (!num(low) || !num(high) || (isInt && (!Number.isInteger(low) || !Number.isInteger(high)))) {
        errors.push(
          `${at}: expected ${isInt ? "integer" : "numeric"} low and high, got ${JSON.stringify(low)} and ${
            JSON.stringify(high)
          }`,
        );
        continue;
      }
      if (!((low as number) < (high as number))) {
        errors.push(`${at}: expected low < high, got ${low} and ${high}`);
      } else if (type === "log_float" && !((low as number) > 0)) {
        errors.push(`${at}: log_float needs low > 0, got ${low}`);
      } else space[key] = { type, low: low as number, high: high as number };
    } else {
      errors.push(
        `${at}.type: expected one of "int", "float", "log_float", "choice", got ${JSON.stringify(type)}`,
      );
    }
    const dimOk = space[key];
    if (!dimOk) continue;
    // Every bound and choice must be a value the pipeline accepts for this key (given the base config).
    const probes = dimOk.type === "choice" ? dimOk.choices : [dimOk.low, dimOk.high];
    for (const v of probes) {
      try {
        trialConfig(base, { [key]: v }, source);
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        const lines = e.message.split("\n").map((l) => l.replace(`${source}: `, ""));
        errors.push(`${at}: the value ${JSON.stringify(v)} is refused by the config: ${lines.join("; ")}`);
      }
    }
  }
  if (errors.length) throw new UsageError(errors.map((e) => `${source}: ${e}`).join("\n"));
  return space;
}

/** A uniform draw of one dimension. */
export function sampleUniform(d: Dimension, rng: Rng): unknown {
  switch (d.type) {
    case "int":
      return d.low + rng.int(d.high - d.low + 1);
    case "float":
      return d.low + (d.high - d.low) * rng.uniform();
    case "log_float":
      return Math.exp(Math.log(d.low) + (Math.log(d.high) - Math.log(d.low)) * rng.uniform());
    case "choice":
      return structuredClone(d.choices[rng.int(d.choices.length)]);
  }
}
