/** Browser stand-in for `node:sqlite` (web/build.ts maps the specifier here): the run registry is CLI-only. */

/** Throws: the run registry (SQLite) is not available in the browser. */
export class DatabaseSync {
  constructor(_path?: string) {
    throw new Error("the run registry (SQLite) is not available in the browser");
  }
}
