/**
 * A throwaway PostgreSQL server for tests: `initdb` into a temporary folder (password authentication, a
 * random password) and `pg_ctl start` on a free loopback port; stopped and removed by `stop()`. PostgreSQL
 * refuses to run as root, so as root the server runs as the `postgres` user (Debian's package creates it)
 * over a folder handed to it. Returns null, with the reason, where no server can be started (no PostgreSQL
 * binaries: `apt-get install postgresql`).
 */
import { join } from "node:path";

/** A running server: its URL (no password), the password for PGPASSWORD, and how to stop it. */
export interface PgServer {
  /** `postgres://fg@127.0.0.1:PORT/postgres`. */
  url: string;
  /** The superuser's password (for PGPASSWORD). */
  password: string;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

/** The folder holding initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<version>/bin. */
async function binDir(): Promise<string | null> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (await Deno.stat(join(dir, "pg_ctl")).then(() => true, () => false)) return dir;
  }
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")].map((e) => e.name).sort((a, b) => +b - +a);
    for (const v of versions) {
      const dir = `/usr/lib/postgresql/${v}/bin`;
      if (await Deno.stat(join(dir, "initdb")).then(() => true, () => false)) return dir;
    }
  } catch { /* no Debian PostgreSQL */ }
  return null;
}

async function run(cmd: string[], asUser: string | null): Promise<{ ok: boolean; out: string }> {
  const argv = asUser ? ["runuser", "-u", asUser, "--", ...cmd] : cmd;
  const r = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  return { ok: r.success, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

/** Starts a server, or returns the reason it cannot. */
export async function startPostgres(): Promise<PgServer | { skip: string }> {
  const bin = await binDir();
  if (!bin) {
    return { skip: "PostgreSQL is not installed (initdb/pg_ctl not found; apt-get install postgresql)" };
  }
  // Deno.uid() would need --allow-sys=uid, which the test command does not grant.
  const asUser = (await run(["id", "-u"], null)).out.trim() === "0" ? "postgres" : null;
  const dir = await Deno.makeTempDir({ prefix: "fg-pg-" });
  const password = crypto.randomUUID();
  const data = join(dir, "data");
  await Deno.writeTextFile(join(dir, "pw"), password);
  if (asUser) {
    const chown = await run(["chown", "-R", asUser, dir], null);
    if (!chown.ok) return { skip: `cannot hand ${dir} to the ${asUser} user: ${chown.out.trim()}` };
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const init = await run(
    [
      join(bin, "initdb"),
      "-D",
      data,
      "-U",
      "fg",
      "--auth=scram-sha-256",
      `--pwfile=${join(dir, "pw")}`,
      "-E",
      "UTF8",
    ],
    asUser,
  );
  if (!init.ok) {
    await Deno.remove(dir, { recursive: true });
    return { skip: `initdb failed: ${init.out.trim().split("\n").at(-1)}` };
  }
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = await run([
    join(bin, "pg_ctl"),
    "-D",
    data,
    "-o",
    opts,
    "-l",
    join(dir, "log"),
    "-w",
    "start",
  ], asUser);
  if (!start.ok) {
    const log = await Deno.readTextFile(join(dir, "log")).catch(() => "");
    await Deno.remove(dir, { recursive: true });
    return { skip: `pg_ctl start failed: ${(start.out + log).trim().split("\n").slice(-2).join(" ")}` };
  }
  return {
    url: `postgres://fg@127.0.0.1:${port}/postgres`,
    password,
    stop: async () => {
      await run([join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"], asUser);
      await Deno.remove(dir, { recursive: true });
    },
  };
}
