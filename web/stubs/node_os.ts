/** Browser stand-in for `node:os` (web/build.ts maps the specifier here): the task pool's core count is CLI-only. */

/** Throws: pipeline/task_pool.ts `idleMeter` reads CPU times only in the CLI (it then counts every core). */
export function cpus(): never {
  throw new Error("CPU times (node:os) are not available in the browser");
}
