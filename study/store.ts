/**
 * Studies in SQLite (node:sqlite), in their own file (study `db`, default `<output>/studies.sqlite`): one row
 * per study (name, the hash of what fixes its results, its definition) and one per trial (number, params,
 * state, score, per-fold scores, timings, cache hits and misses, error). A trial is recorded `running` before it
 * starts and `complete` or `failed` when it ends, each in its own transaction (WAL), so a SIGKILL loses at most
 * the running trials: `search --resume` runs them again with their recorded parameters.
 *
 * Backups: {@link StudyStore.exportLines} / {@link StudyStore.importLines} write and read a study as JSON
 * lines (a `study` line, then one `trial` line per trial).
 */
import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";
import { storageError } from "../io/write.ts";
import { UsageError } from "../runtime/errors.ts";
import type { TrialParams } from "./space.ts";

/** A stored study. */
export interface StudyRow {
  /** Its name. */
  name: string;
  /** Hash of its definition's result-fixing part (study/definition.ts). */
  hash: string;
  /** The study definition as JSON (base config, space, sampler, seed, cv ...). */
  definition: Record<string, unknown>;
  /** When it was created, ISO 8601 (UTC). */
  created: string;
}

/** A trial's state. */
export type TrialState = "running" | "complete" | "failed";

/** A stored trial. */
export interface TrialRow {
  /** Trial number, from 0. */
  number: number;
  /** Its parameters (config key path to value). */
  params: TrialParams;
  /** `running` (started, not finished: lost if the process died), `complete` or `failed`. */
  state: TrialState;
  /** Mean out-of-sample score over instruments and folds (IC or AUC); null unless complete. */
  score: number | null;
  /** Per-instrument, per-fold scores and selected features (complete trials). */
  detail: unknown;
  /** Start time, ISO 8601 (UTC). */
  started: string;
  /** Wall time in ms (null while running). */
  ms: number | null;
  /** Instruments whose features came from the cache. */
  cache_hits: number;
  /** Instruments whose features were computed. */
  cache_misses: number;
  /** Why it failed. */
  error: string | null;
}

const SCHEMA = `
create table if not exists studies (
  name text primary key, hash text not null, definition text not null, created text not null
);
create table if not exists trials (
  study text not null references studies(name), number integer not null, params text not null,
  state text not null, score real, detail text, started text not null, ms integer,
  cache_hits integer not null default 0, cache_misses integer not null default 0, error text,
  primary key (study, number)
);`;

type Raw = Record<string, string | number | null>;

const toTrial = (r: Raw): TrialRow => ({
  number: r.number as number,
  params: JSON.parse(r.params as string),
  state: r.state as TrialState,
  score: r.score as number | null,
  detail: r.detail === null ? null : JSON.parse(r.detail as string),
  started: r.started as string,
  ms: r.ms as number | null,
  cache_hits: r.cache_hits as number,
  cache_misses: r.cache_misses as number,
  error: r.error as string | null,
});

/** An open study database. */
export class StudyStore {
  private constructor(readonly path: string, private db: DatabaseSync) {}

  /** Opens (creating) the database at `path`; a folder that cannot hold it is a StorageError naming it. */
  static async open(path: string): Promise<StudyStore> {
    try {
      await Deno.mkdir(dirname(path), { recursive: true });
      const db = new DatabaseSync(path, { timeout: 15_000 });
      db.exec("pragma journal_mode = wal;");
      db.exec(SCHEMA);
      return new StudyStore(path, db);
    } catch (e) {
      throw storageError(e, path, "opening the study database", "the study's db");
    }
  }

  /** The study named `name`, or null. */
  study(name: string): StudyRow | null {
    const r = this.db.prepare("select * from studies where name = ?").get(name) as Raw | undefined;
    return r
      ? {
        name: r.name as string,
        hash: r.hash as string,
        definition: JSON.parse(r.definition as string),
        created: r.created as string,
      }
      : null;
  }

  /** Every study's name, oldest first. */
  studies(): string[] {
    return (this.db.prepare("select name from studies order by created, name").all() as Raw[]).map((r) =>
      r.name as string
    );
  }

  /** Records a new study. */
  createStudy(s: StudyRow): void {
    this.db.prepare("insert into studies (name, hash, definition, created) values (?, ?, ?, ?)").run(
      s.name,
      s.hash,
      JSON.stringify(s.definition),
      s.created,
    );
  }

  /** The study's trials by number. */
  trials(name: string): TrialRow[] {
    return (this.db.prepare("select * from trials where study = ? order by number").all(name) as Raw[]).map(
      toTrial,
    );
  }

  /** Records trial `number` as running with `params` (replacing a lost running record of it). */
  startTrial(name: string, number: number, params: TrialParams, now: Date = new Date()): void {
    this.db.prepare(
      "insert or replace into trials (study, number, params, state, started) values (?, ?, ?, 'running', ?)",
    ).run(name, number, JSON.stringify(params), now.toISOString());
  }

  /** Records a trial's end. */
  finishTrial(
    name: string,
    number: number,
    r: Pick<TrialRow, "state" | "score" | "detail" | "ms" | "cache_hits" | "cache_misses" | "error">,
  ): void {
    this.db.prepare(
      "update trials set state = ?, score = ?, detail = ?, ms = ?, cache_hits = ?, cache_misses = ?, error = ? " +
        "where study = ? and number = ?",
    ).run(
      r.state,
      r.score,
      r.detail === null ? null : JSON.stringify(r.detail),
      r.ms,
      r.cache_hits,
      r.cache_misses,
      r.error,
      name,
      number,
    );
  }

  /** The study and its trials as JSON lines (a backup; see {@link importLines}). */
  exportLines(name: string): string {
    const s = this.study(name);
    if (!s) throw new UsageError(`${this.path}: no study named ${JSON.stringify(name)}`);
    return [{ kind: "study", ...s }, ...this.trials(name).map((t) => ({ kind: "trial", ...t }))]
      .map((l) => JSON.stringify(l)).join("\n") + "\n";
  }

  /**
   * Imports a study exported by {@link exportLines} (`source` names the file in messages), in one
   * transaction; returns its name. A study of that name already here, or a malformed line, is a UsageError.
   */
  importLines(text: string, source: string): string {
    const lines = text.split("\n").filter((l) => l.trim());
    const parsed = lines.map((l, i) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch (e) {
        throw new UsageError(`${source}:${i + 1}: not a JSON line: ${(e as Error).message}`);
      }
    });
    const head = parsed[0];
    if (head?.kind !== "study" || typeof head.name !== "string" || typeof head.hash !== "string") {
      throw new UsageError(`${source}:1: expected the study line ({"kind":"study","name":...}) first`);
    }
    if (this.study(head.name)) {
      throw new UsageError(`${source}: study ${JSON.stringify(head.name)} already exists in ${this.path}`);
    }
    this.db.exec("begin immediate");
    try {
      this.createStudy(head as unknown as StudyRow);
      parsed.slice(1).forEach((t, i) => {
        const ok = t.kind === "trial" && Number.isInteger(t.number) && t.params &&
          typeof t.state === "string" &&
          ["running", "complete", "failed"].includes(t.state as string);
        if (!ok) {
          throw new UsageError(`${source}:${i + 2}: expected a trial line (kind, number, params, state)`);
        }
        const r = t as unknown as TrialRow;
        this.startTrial(head.name as string, r.number, r.params, new Date(r.started));
        this.finishTrial(head.name as string, r.number, r);
      });
      this.db.exec("commit");
    } catch (e) {
      this.db.exec("rollback");
      throw e;
    }
    return head.name;
  }

  /** Closes the database. */
  close(): void {
    this.db.close();
  }
}
