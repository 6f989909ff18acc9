/**
 * Run progress: on a terminal a live bar (tasks, rows/s, ETA) redrawn in place on stderr; otherwise one plain
 * line per finished task, so CI logs stay readable.
 */

/** Tracks finished tasks and rows and reports them. */
export class Progress {
  #done = 0;
  #rows = 0;
  #t0 = performance.now();
  #tty: boolean;

  constructor(
    readonly total: number,
    private write: (s: string) => void = (s) => Deno.stderr.writeSync(new TextEncoder().encode(s)),
  ) {
    this.#tty = Deno.stderr.isTerminal();
  }

  /** Marks one task finished with `rows` rows processed. */
  tick(instrument: string, status: string, rows: number): void {
    this.#done++;
    this.#rows += rows;
    const s = (performance.now() - this.#t0) / 1000;
    const rate = this.#rows / Math.max(s, 1e-9);
    const eta = this.#done ? (s / this.#done) * (this.total - this.#done) : 0;
    const stats = `${this.#done}/${this.total} tasks, ${fmt(rate)} rows/s, ETA ${eta.toFixed(0)} s`;
    if (this.#tty) {
      const width = 24, filled = Math.round((width * this.#done) / Math.max(this.total, 1));
      this.write(
        `\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${stats} (${instrument}: ${status})\x1b[K`,
      );
      if (this.#done === this.total) this.write("\n");
    } else {
      this.write(`progress: ${instrument} ${status} (${rows} rows); ${stats}\n`);
    }
  }
}

function fmt(x: number): string {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0);
}
