/**
 * The study file (`study.yaml`): a base pipeline config (a path relative to the study file, or an inline
 * mapping), the search space over its keys (study/space.ts), the sampler, the budget (trials, time limit), the
 * seed, the batch size, the cross-validation and the feature cache. Every key is validated; a problem is a
 * UsageError naming the file and the key path. examples/study.yaml documents every key and its default.
 */
import { dirname, join, resolve } from "node:path";
import { parse as parseYaml } from "npm:yaml@2.9.1";
import { loadConfig } from "../config/load.ts";
import { canonical } from "../config/print.ts";
import { type Config, parseByteSize, validateConfig } from "../config/schema.ts";
import { sha256Hex } from "../io/checksum.ts";
import { UsageError } from "../runtime/errors.ts";
import { LIMITS } from "../runtime/limits.ts";
import type { CvOptions } from "./cv.ts";
import { parseSpace, type Space } from "./space.ts";

/** A validated study. */
export interface StudyDefinition {
  /** The study's name (its key in the database): 1 to 80 letters, digits, `. _ -`. */
  name: string;
  /** The base pipeline config as a raw mapping (before defaults; `${VAR}` substituted on validation). */
  base: Record<string, unknown>;
  /** The base config resolved (defaults filled). */
  baseConfig: Config;
  /** The search space. */
  space: Space;
  /** `random` or `tpe` (study/tpe.ts). */
  sampler: "random" | "tpe";
  /** Trials to finish (complete or failed) in all. */
  trials: number;
  /** Stop starting trials after this many seconds of this invocation; null = no limit. */
  time_limit: number | null;
  /** Seed of the sampler: trial n's draws come from the stream (seed, n). */
  seed: number;
  /**
   * Trials per batch: a batch's parameters are drawn from the trials of earlier batches only, so the study is
   * the same however many run at once and however often it is resumed.
   */
  parallel: number;
  /** Concurrent trials (worker threads): 0 = as many as cores allow; always <= parallel and the memory budget. */
  workers: number;
  /** Cross-validation, and the latest rows per instrument it uses (`max_rows`). */
  cv: CvOptions & { max_rows: number };
  /** The SQLite file holding the study. */
  db: string;
  /** The feature cache: folder, time-to-live in seconds, size bound in bytes. */
  cache: { dir: string; ttl: number; max_bytes: number };
  /** SHA-256 of what fixes the trials' results (base, space, sampler, seed, parallel, cv): checked on resume. */
  hash: string;
}

const KEYS = [
  "name",
  "base",
  "space",
  "sampler",
  "trials",
  "time_limit",
  "seed",
  "parallel",
  "workers",
  "cv",
  "db",
  "cache",
];
const CV_KEYS = ["scheme", "folds", "embargo", "model", "alpha", "max_rows"];
const CACHE_KEYS = ["dir", "ttl", "max_bytes"];

/** Reads and validates a study file; a problem is a UsageError naming `path` and the key. */
export async function loadStudyFile(path: string): Promise<StudyDefinition> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "file not found" : (e as Error).message;
    throw new UsageError(`${path}: cannot read the study file: ${why}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { uniqueKeys: true });
  } catch (e) {
    throw new UsageError(`${path}: YAML syntax error: ${(e as Error).message.split("\n")[0]}`);
  }
  return await parseStudy(raw, path);
}

/** Validates a parsed study mapping read from `path` (relative paths in it are relative to its folder). */
export async function parseStudy(raw: unknown, path: string): Promise<StudyDefinition> {
  const errors: string[] = [];
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new UsageError(`${path}: expected a mapping with keys ${KEYS.join(", ")}`);
  }
  const s = raw as Record<string, unknown>;
  const unknown = (obj: Record<string, unknown>, known: string[], at: string) => {
    for (const k of Object.keys(obj)) {
      if (!known.includes(k)) errors.push(`unknown key ${at}${k} (known: ${known.join(", ")})`);
    }
  };
  unknown(s, KEYS, "");
  const int = (v: unknown, key: string, def: number, min: number, max: number): number => {
    if (v === undefined) return def;
    if (typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max) return v;
    errors.push(`${key}: expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return def;
  };
  const oneOf = <T extends string>(v: unknown, key: string, values: readonly T[], def: T): T => {
    if (v === undefined) return def;
    if (values.includes(v as T)) return v as T;
    errors.push(
      `${key}: expected one of ${values.map((x) => JSON.stringify(x)).join(", ")}, got ${JSON.stringify(v)}`,
    );
    return def;
  };
  const section = (v: unknown, key: string, known: string[]): Record<string, unknown> => {
    if (v === undefined || v === null) return {};
    if (typeof v === "object" && !Array.isArray(v)) {
      unknown(v as Record<string, unknown>, known, `${key}.`);
      return v as Record<string, unknown>;
    }
    errors.push(`${key}: expected a mapping, got ${JSON.stringify(v)}`);
    return {};
  };
  const dir = dirname(path);
  const name = typeof s.name === "string" && /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/.test(s.name) ? s.name : (
    errors.push(
      `name: expected 1 to 80 letters, digits and . _ - (not starting with . _ -), got ${
        JSON.stringify(s.name)
      }`,
    ), ""
  );

  // The base config: a file (validated with its own name in messages) or an inline mapping.
  let base: Record<string, unknown> = {}, baseSource = `${path}: base`;
  if (typeof s.base === "string") {
    baseSource = resolve(dir, s.base);
    let text = "";
    try {
      text = await Deno.readTextFile(baseSource);
    } catch (e) {
      errors.push(`base: cannot read the config file ${baseSource}: ${(e as Error).message}`);
    }
    if (text) {
      loadConfig(text, { source: baseSource }); // syntax and schema errors, with line numbers
      base = (parseYaml(text) ?? {}) as Record<string, unknown>;
    }
  } else if (s.base && typeof s.base === "object" && !Array.isArray(s.base)) {
    base = s.base as Record<string, unknown>;
  } else if (s.base !== undefined) {
    errors.push(
      `base: expected a config file path or an inline config mapping, got ${JSON.stringify(s.base)}`,
    );
  }
  let baseConfig: Config | undefined;
  try {
    baseConfig = validateConfig(base, { source: baseSource });
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    errors.push(e.message.replaceAll(`${path}: `, ""));
  }

  let space: Space = {};
  if (baseConfig) {
    try {
      space = parseSpace(s.space, base, path);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      errors.push(...e.message.split("\n").map((l) => l.replace(`${path}: `, "")));
    }
  }
  const cv = section(s.cv, "cv", CV_KEYS);
  const scheme = oneOf(cv.scheme, "cv.scheme", ["walk_forward", "kfold"] as const, "walk_forward");
  const cvOut = {
    scheme,
    folds: int(cv.folds, "cv.folds", 4, 2, 100),
    embargo: int(cv.embargo, "cv.embargo", 0, 0, LIMITS.samples),
    model: oneOf(cv.model, "cv.model", ["ridge", "logistic"] as const, "ridge"),
    alpha: typeof cv.alpha === "number" && cv.alpha >= 0 && Number.isFinite(cv.alpha)
      ? cv.alpha
      : (cv.alpha === undefined
        ? 1e-3
        : (errors.push(`cv.alpha: expected a number >= 0, got ${JSON.stringify(cv.alpha)}`), 1e-3)),
    max_rows: int(cv.max_rows, "cv.max_rows", 20000, 100, LIMITS.samples),
  };
  const cache = section(s.cache, "cache", CACHE_KEYS);
  const maxBytes = cache.max_bytes === undefined ? 2 ** 30 : parseByteSize(cache.max_bytes);
  if (maxBytes === null || maxBytes < 1) {
    errors.push(
      `cache.max_bytes: expected a byte size (an integer or a string like "512MiB"), got ${
        JSON.stringify(cache.max_bytes)
      }`,
    );
  }
  const output = baseConfig && !baseConfig.storage.output.startsWith("s3://")
    ? resolve(baseConfig.storage.output)
    : null;
  const where = (v: unknown, key: string, fallback: string) => {
    if (typeof v === "string" && v.trim()) return resolve(v);
    if (v !== undefined && v !== null) errors.push(`${key}: expected a file path, got ${JSON.stringify(v)}`);
    else if (!output) {
      errors.push(`${key}: required when the base config's storage.output is not a local folder`);
    }
    return output ? join(output, fallback) : "";
  };
  const timeLimit = s.time_limit === undefined || s.time_limit === null
    ? null
    : typeof s.time_limit === "number" && s.time_limit > 0
    ? s.time_limit
    : (errors.push(
      `time_limit: expected a number of seconds > 0 or null, got ${JSON.stringify(s.time_limit)}`,
    ),
      null);
  const def: Omit<StudyDefinition, "hash"> = {
    name,
    base,
    baseConfig: baseConfig!,
    space,
    sampler: oneOf(s.sampler, "sampler", ["random", "tpe"] as const, "tpe"),
    trials: int(s.trials, "trials", 20, 1, 100_000),
    time_limit: timeLimit,
    seed: int(s.seed, "seed", 0, 0, LIMITS.seed),
    parallel: int(s.parallel, "parallel", 2, 1, LIMITS.workers),
    workers: int(s.workers, "workers", 0, 0, LIMITS.workers),
    cv: cvOut,
    db: where(s.db, "db", "studies.sqlite"),
    cache: {
      dir: where(cache.dir, "cache.dir", "_study_cache"),
      ttl: int(cache.ttl, "cache.ttl", 86_400, 1, 10 * 365 * 86_400),
      max_bytes: maxBytes ?? 0,
    },
  };
  if (errors.length) {
    throw new UsageError(errors.map((e) => (e.startsWith("/") ? e : `${path}: ${e}`)).join("\n"));
  }
  const { base: b, space: sp, sampler, seed, parallel } = def;
  const hash = await sha256Hex(
    new TextEncoder().encode(canonical({ b, sp, sampler, seed, parallel, cv: def.cv })),
  );
  return { ...def, hash };
}
