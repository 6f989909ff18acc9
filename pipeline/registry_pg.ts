/**
 * The run registry in PostgreSQL (`storage.registry: postgres://user@host[:port]/db`), shared by the shards of
 * a run on many machines. The password comes from the environment (PGPASSWORD, as libpq and psql read it),
 * never from the URL (config/schema.ts refuses one there), so it cannot reach a log line, a summary or an
 * error message; messages name the URL, which holds none.
 *
 * Statements are the registry's own (pipeline/registry.ts) with `?` placeholders, numbered here; the
 * registry's exclusive transactions take one transaction-scoped advisory lock, which serializes them across
 * every process and host as SQLite's `begin immediate` does on one machine.
 */
import postgres from "npm:postgres@3.4.9";
import { StorageError } from "../io/write.ts";
import type { SqlDb } from "./sql_db.ts";

type Param = string | number | null;
type Sql = postgres.Sql<Record<string, never>>;

/** The advisory lock key of the registry's exclusive transactions (any constant: "fgreg" in ASCII). */
const LOCK_KEY = 0x6667726567;

/** Whether `location` names a PostgreSQL registry rather than a SQLite file. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** A registry database on a PostgreSQL server. */
export class PostgresDb implements SqlDb {
  readonly where: string;
  #tx: Sql | null = null;

  private constructor(readonly sql: Sql, url: string) {
    this.where = url;
  }

  /** Connects to `url` (checked with one query, so a wrong host, user or password fails here). */
  static async open(url: string): Promise<PostgresDb> {
    const sql = postgres(url, {
      max: 2,
      connect_timeout: 10,
      idle_timeout: 30,
      onnotice: () => {}, // "relation already exists, skipping" would otherwise go to stdout
      // Counts and sums of bigint columns as numbers (row counts stay far below 2^53).
      types: {
        bigint: { to: 20, from: [20, 1700], serialize: String, parse: Number },
      },
    }) as unknown as Sql;
    const db = new PostgresDb(sql, url);
    try {
      await db.all("connecting to", "select 1");
    } catch (e) {
      await sql.end({ timeout: 1 }).catch(() => {});
      throw e;
    }
    return db;
  }

  livenessPath(id: string): string {
    // Only meaningful on the run's own host: a lock file in this machine's temporary folder.
    return `${Deno.env.get("TMPDIR") ?? "/tmp"}/feature-genesis-run-${id}.lock`;
  }

  async #do<T>(doing: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#tx ?? this.sql);
    } catch (e) {
      throw pgError(e, this.where, doing);
    }
  }

  all<T>(doing: string, text: string, params: Param[] = []): Promise<T[]> {
    return this.#do(doing, async (sql) => [...await sql.unsafe(numbered(text), params)] as T[]);
  }

  run(doing: string, text: string, params: Param[] = []): Promise<void> {
    return this.#do(doing, async (sql) => void await sql.unsafe(numbered(text), params));
  }

  exclusive<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    return this.#do(doing, (sql) =>
      sql.begin(async (tx) => {
        await tx.unsafe(`select pg_advisory_xact_lock(${LOCK_KEY})`);
        this.#tx = tx as unknown as Sql;
        try {
          return await fn();
        } finally {
          this.#tx = null;
        }
      }) as Promise<T>);
  }

  async columns(table: string): Promise<string[]> {
    const rows = await this.all<{ name: string }>(
      "opening",
      "select column_name as name from information_schema.columns where table_schema = current_schema() " +
        "and table_name = ?",
      [table],
    );
    return rows.map((r) => r.name);
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}

/** `?` placeholders as PostgreSQL's `$1, $2, ...` (the registry's statements hold no `?` in literals). */
function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/**
 * A PostgreSQL failure as a StorageError naming the registry URL (which holds no password) and what to do:
 * exit 2 for what the configuration or the server's setup must fix (unreachable host, authentication, a
 * missing database or permission), 1 otherwise.
 */
function pgError(e: unknown, url: string, doing: string): unknown {
  if (e instanceof StorageError) return e;
  const err = e as { code?: string; message?: string };
  const msg = err.message ?? String(e);
  const where = `run registry ${url}`;
  const setting = "storage.registry; the password comes from PGPASSWORD";
  const config = /^(28|3D|42501)|^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|CONNECT_TIMEOUT|ETIMEDOUT)$/.test(
    err.code ?? "",
  );
  return new StorageError(
    `${where}: ${msg} (while ${doing} it)${
      config ? `; check the server, the user and the database (${setting})` : ""
    }`,
    config ? 2 : 1,
    { cause: e },
  );
}
