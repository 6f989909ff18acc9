/**
 * A one-node Slurm cluster for tests: munged, slurmctld and slurmd (Debian's `munge` and `slurm-wlm`) run as
 * root in the foreground from a temporary folder holding their key, configuration, state and logs, on free
 * loopback ports; `stop()` shuts them down and removes the folder. Returns the reason instead where it
 * cannot run: not root (slurmd starts jobs as their user), or the packages are missing
 * (`apt-get install slurm-wlm munge`; .ci/run installs them).
 */
import { join } from "node:path";

/** A running cluster. */
export interface SlurmCluster {
  /** Its folder (configuration, logs). */
  dir: string;
  /** Environment for the client commands (SLURM_CONF). */
  env: Record<string, string>;
  /** Runs a Slurm client command (sbatch, squeue, scontrol); throws with its output when it fails. */
  run(cmd: string, args: string[]): Promise<string>;
  /** Shuts the daemons down and removes the folder. */
  stop(): Promise<void>;
}

const dec = new TextDecoder();

async function output(cmd: string, args: string[], env: Record<string, string> = {}) {
  try {
    const r = await new Deno.Command(cmd, { args, env, stdin: "null", stdout: "piped", stderr: "piped" })
      .output();
    return { ok: r.success, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
  } catch (e) {
    return { ok: false, out: (e as Error).message };
  }
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts the cluster, or returns why it cannot. */
export async function startSlurm(): Promise<SlurmCluster | { skip: string }> {
  if ((await output("id", ["-u"])).out.trim() !== "0") {
    return { skip: "not root (slurmd runs jobs as root here)" };
  }
  for (const bin of ["munged", "slurmctld", "slurmd", "sbatch", "scontrol", "squeue"]) {
    if (!(await output("sh", ["-c", `command -v ${bin} || test -x /usr/sbin/${bin}`])).ok) {
      return { skip: `${bin} not found (apt-get install slurm-wlm munge)` };
    }
  }
  const dir = await Deno.makeTempDir({ prefix: "fg-slurm-" });
  const host = (await output("hostname", ["-s"])).out.trim();
  const cpus = Number((await output("nproc", [])).out.trim()) || 1;
  const key = join(dir, "munge.key");
  await Deno.writeFile(key, crypto.getRandomValues(new Uint8Array(1024)), { mode: 0o600 });
  const conf = join(dir, "slurm.conf");
  await Promise.all(["state", "spool"].map((d) => Deno.mkdir(join(dir, d))));
  await Deno.writeTextFile(
    conf,
    [
      "ClusterName=fgtest",
      `SlurmctldHost=${host}(127.0.0.1)`,
      `SlurmctldPort=${freePort()}`,
      `SlurmdPort=${freePort()}`,
      "AuthType=auth/munge",
      `AuthInfo=socket=${dir}/munge.sock`,
      "CredType=cred/munge",
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      `SlurmctldLogFile=${dir}/slurmctld.log`,
      `SlurmdLogFile=${dir}/slurmd.log`,
      // No cgroups: containers rarely delegate them; process tracking by parentage is enough here.
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "JobAcctGatherType=jobacct_gather/none",
      "AccountingStorageType=accounting_storage/none",
      "SchedulerType=sched/builtin",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_CPU",
      "SlurmUser=root",
      "SlurmdUser=root",
      "ReturnToService=2",
      "MpiDefault=none",
      "JobRequeue=1",
      "PlugStackConfig=/dev/null",
      `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=1000 State=UNKNOWN`,
      "PartitionName=fg Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
      "",
    ].join("\n"),
  );
  const env = { SLURM_CONF: conf };
  const daemons: Deno.ChildProcess[] = [];
  const spawn = (cmd: string, args: string[]) =>
    daemons.push(new Deno.Command(cmd, { args, env, stdin: "null", stdout: "null", stderr: "null" }).spawn());
  const run = async (cmd: string, args: string[]) => {
    const r = await output(cmd, args, env);
    if (!r.ok) throw new Error(`${cmd} ${args.join(" ")}: ${r.out.trim()}`);
    return r.out;
  };
  const stop = async () => {
    // Jobs first (a failed test may leave some running): slurmd's shutdown leaves their processes behind.
    await output("scancel", ["--full", "--user=root"], env);
    await new Promise((r) => setTimeout(r, 500));
    await output("scontrol", ["shutdown"], env);
    const timer = setTimeout(() => daemons.forEach((d) => d.kill("SIGKILL")), 10_000);
    for (const d of daemons.slice(1)) await d.status;
    daemons[0]?.kill("SIGTERM"); // munged
    await daemons[0]?.status;
    clearTimeout(timer);
    await Deno.remove(dir, { recursive: true });
  };
  spawn("munged", [
    "-F",
    "--force",
    `--key-file=${key}`,
    `--socket=${dir}/munge.sock`,
    `--pid-file=${dir}/munged.pid`,
    `--log-file=${dir}/munged.log`,
    `--seed-file=${dir}/munge.seed`,
  ]);
  spawn("slurmctld", ["-D", "-f", conf]);
  spawn("slurmd", ["-D", "-f", conf]);
  const end = Date.now() + 30_000;
  while (!/\bidle\b/.test((await output("sinfo", ["-h", "-o", "%T"], env)).out)) {
    if (Date.now() > end) {
      const logs = await Promise.all(
        ["munged.log", "slurmctld.log", "slurmd.log"].map((f) =>
          Deno.readTextFile(join(dir, f)).catch(() => "")
        ),
      );
      await stop();
      return {
        skip: `the Slurm node did not come up in 30 s: ${
          logs.join("\n").trim().split("\n").slice(-3).join(" | ")
        }`,
      };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { dir, env, run, stop };
}
