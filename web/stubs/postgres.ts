/** Browser stand-in for `npm:postgres` (web/build.ts maps the specifier here): the run registry is CLI-only. */

/** Throws: the PostgreSQL run registry is not available in the browser. */
export default function postgres(): never {
  throw new Error("the run registry (PostgreSQL) is not available in the browser");
}
