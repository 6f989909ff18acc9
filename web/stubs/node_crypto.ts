/** Browser stand-in for `node:crypto` (web/build.ts maps the specifier here): chunked tasks are CLI-only. */

/** Throws: the chunked task's input hash (pipeline/chunked_task.ts) and local files' checksums (pipeline/inputs.ts) are CLI-only. */
export function createHash(_algorithm: string): never {
  throw new Error("chunked tasks (node:crypto) are not available in the browser");
}
