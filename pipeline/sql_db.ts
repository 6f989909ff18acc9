/** The SQL database interface the run registry (pipeline/registry.ts) runs its statements on. */

/**
 * One SQL database behind the registry. Statements use `?` placeholders and SQL that SQLite and PostgreSQL
 * both accept; `doing` says what the call was for, in the error a failure becomes.
 */
export interface SqlDb {
  /** What messages name: the SQLite file's path or the PostgreSQL URL (which holds no password). */
  readonly where: string;
  /** The rows of a query. */
  all<T>(doing: string, sql: string, params?: (string | number | null)[]): Promise<T[]>;
  /** Runs a statement. */
  run(doing: string, sql: string, params?: (string | number | null)[]): Promise<void>;
  /** Runs `fn` in a transaction that excludes every other registry's exclusive transaction; rolls back on a throw. */
  exclusive<T>(doing: string, fn: () => Promise<T>): Promise<T>;
  /** The column names of `table`. */
  columns(table: string): Promise<string[]>;
  /** The local file a running run keeps locked while its process lives. */
  livenessPath(id: string): string;
  /** Closes the connection. */
  close(): Promise<void>;
}
