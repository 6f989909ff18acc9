/**
 * Python peers side by side: `deno task bench` runs scripts/bench_peers.py (numpy, scipy, pandas) in the
 * same run, so the peer figure, ours and their ratio come from one machine state. The interpreter is
 * $BENCH_PYTHON, else `python3`; when it cannot import numpy, scipy and pandas the peers are skipped (and
 * the bench says so). Never a test or runtime dependency.
 */
/** One peer measurement: throughput (points/s) or time (seconds) for the named shape. */
export interface PeerFigure {
  what: string;
  /** Size of what it wrote (the write peers). */
  bytes?: number;
  points_per_s?: number;
  seconds?: number;
  cols?: number;
  rows?: number;
}

/** The peers' figures by name (see scripts/bench_peers.py), or why they were skipped. */
export type Peers =
  | { python: string; versions: Record<string, string>; peers: Record<string, PeerFigure> }
  | { skipped: string };

const SCRIPT = new URL("../scripts/bench_peers.py", import.meta.url).pathname;

async function python(args: string[], bin: string): Promise<{ ok: boolean; out: string; err: string }> {
  try {
    const r = await new Deno.Command(bin, { args, stdout: "piped", stderr: "piped" }).output();
    const dec = new TextDecoder();
    return { ok: r.success, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
  } catch (e) {
    return { ok: false, out: "", err: (e as Error).message };
  }
}

/**
 * Runs the peer script for the named peers (`quick`: fewer repetitions, the quick suites' shapes; `extra`:
 * more arguments, e.g. `--feather FILE`), or says why not.
 */
export async function runPeers(
  names: string[],
  quick: boolean,
  progress: (m: string) => void,
  extra: string[] = [],
): Promise<Peers> {
  const bin = Deno.env.get("BENCH_PYTHON") || "python3";
  const probe = await python(["-c", "import numpy, scipy, pandas"], bin);
  if (!probe.ok) {
    const why = probe.err.trim().split("\n").at(-1) ?? "";
    return { skipped: `${bin} cannot import numpy, scipy and pandas (${why}); set BENCH_PYTHON` };
  }
  const args = [SCRIPT, "--only", names.join(","), ...(quick ? ["--quick"] : []), ...extra];
  progress(`peers: ${bin} ${args.join(" ")}`);
  const r = await python(args, bin);
  if (!r.ok) return { skipped: `scripts/bench_peers.py failed: ${r.err.trim().split("\n").at(-1)}` };
  return { python: bin, ...JSON.parse(r.out) };
}

/** A peer's figure by name, when the peers ran and measured it. */
export function peer(p: Peers | null, name: string): PeerFigure | undefined {
  return p && "peers" in p ? p.peers[name] : undefined;
}
