/** The trial worker (study/run.ts starts one per concurrent trial): exposes {@link evaluateTrial} through Comlink. */
import * as Comlink from "npm:comlink@4.4.2";
import { evaluateTrial } from "./objective.ts";

/** The API a trial worker exposes. */
export const trialWorkerApi = { evaluate: evaluateTrial };

/** The type of `trialWorkerApi`, for Comlink.wrap. */
export type TrialWorkerApi = typeof trialWorkerApi;

// Only expose when running as a worker (importing this module for its type must have no effect).
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
if (typeof g.WorkerGlobalScope !== "undefined" && g instanceof g.WorkerGlobalScope) {
  Comlink.expose(trialWorkerApi);
}
