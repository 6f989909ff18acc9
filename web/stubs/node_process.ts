/** Browser stand-in for `node:process` (web/build.ts maps the specifier here): the task pool's core count is CLI-only. */

/** Throws: pipeline/task_pool.ts `idleMeter` reads this process's CPU time only in the CLI. */
export function cpuUsage(): never {
  throw new Error("process CPU time (node:process) is not available in the browser");
}
