/** Structured logging to stderr, so stdout stays free for data (CSV/JSON results). */

/** Log levels, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A log sink: receives one record per call. Tests and the web page replace it. */
export type LogSink = (level: LogLevel, msg: string, fields: Record<string, unknown>) => void;

let minLevel: LogLevel = "info";
let sink: LogSink = (level, msg, fields) => {
  const extra = Object.keys(fields).length ? " " + JSON.stringify(fields) : "";
  console.error(`[feature-genesis] ${level}: ${msg}${extra}`);
};

/** Sets the lowest level that is emitted. */
export function setLogLevel(level: LogLevel): void {
  minLevel = level;
}

/** Replaces the log sink; returns the previous one so callers can restore it. */
export function setLogSink(next: LogSink): LogSink {
  const prev = sink;
  sink = next;
  return prev;
}

/** Emits one log record. */
export function log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  if (ORDER[level] >= ORDER[minLevel]) sink(level, msg, fields);
}

/**
 * A progress callback for long work inside one task: logs `<what>: N% (done / total)` at info level at most
 * once every `everyMs` (and at completion when something was logged before), so a run's log shows it moving
 * without flooding it.
 */
export function progressLogger(what: string, everyMs = 10_000): (done: number, total: number) => void {
  let last = performance.now(), logged = false;
  return (done, total) => {
    const now = performance.now();
    if (now - last < everyMs && !(logged && done >= total)) return;
    last = now;
    logged = true;
    const pct = total > 0 ? Math.round((100 * done) / total) : 100;
    log("info", `${what}: ${pct}% (${done} / ${total})`, { done, total });
  };
}
