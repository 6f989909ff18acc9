/** Printing and fingerprinting a resolved configuration without leaking secrets. */

import { Document, isScalar, isSeq, visit } from "npm:yaml@2.9.1";
import type { Config } from "./schema.ts";

const SECRET = /secret|password|token|access_key/i;

/** True when a key names a secret (contains secret, password, token or access_key; case-insensitive). */
export function isSecretKey(key: string): boolean {
  return SECRET.test(key);
}

/**
 * A deep copy of `config` where every non-null value under a secret key (see {@link isSecretKey}), at any
 * depth, is replaced by `"***"`. The input is not modified.
 */
export function maskSecrets<T>(config: T): T {
  const mask = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(mask);
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(
        Object.entries(v).map((
          [k, x],
        ) => [k, isSecretKey(k) && x !== null && x !== undefined ? "***" : mask(x)]),
      );
    }
    return v;
  };
  return mask(config) as T;
}

/** Canonical JSON: object keys sorted at every depth, secret keys dropped, no whitespace. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const keys = Object.keys(v).filter((k) =>
      !isSecretKey(k) && (v as Record<string, unknown>)[k] !== undefined
    )
      .sort();
    return `{${
      keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")
    }}`;
  }
  return JSON.stringify(v);
}

/**
 * The configuration's fingerprint: SHA-256 (lowercase hex) of the canonical JSON (sorted keys) of the resolved
 * config with every secret key removed and without the `development` and `generator` sections or
 * `compute.task_workers` (how many tasks run at once leaves every output the same), so it changes exactly when
 * something that shapes the outputs changes, and never depends on credentials.
 */
export async function configHash(config: Config): Promise<string> {
  const { development: _d, generator: _g, compute: { task_workers: _w, ...compute }, ...rest } = config;
  const bytes = new TextEncoder().encode(canonical({ ...rest, compute }));
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The resolved configuration as YAML text, secrets masked (see {@link maskSecrets}); lists of scalars are
 * written inline (`[10, 20, 50]`). Loading the text again gives the same config, secrets aside.
 */
export function formatConfig(config: Config): string {
  const doc = new Document(maskSecrets(config));
  visit(doc, {
    Seq(_, node) {
      if (node.items.every((item) => isScalar(item) || (isSeq(item) && item.items.every(isScalar)))) {
        node.flow = true;
      }
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
