/**
 * `serve` (web/serve.ts) serves only the files of its folder. Each request below is one way out that a
 * hostile URL or a stray file could open; each must get 404 with none of the secret's bytes: dotfiles (`/.env`,
 * `/.git/config`, a dot folder), `..` raw on the wire and percent-encoded (`%2e%2e`, `%2E%2e%2f`, `..%2f`,
 * double-encoded), a backslash, NUL, symbolic links to a file and to a folder outside the root, and a FIFO.
 * A link to a file inside the root is served; the default bind is loopback.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { serveStatic } from "../web/serve.ts";

const SECRET = "AWS_SECRET_ACCESS_KEY=do-not-serve-me";

/** Sends `GET <target>` exactly as written (fetch would normalize `..`), returns status and body. */
async function rawGet(port: number, target: string): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
    );
    const text = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
    return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0), body: text };
  } catch (e) {
    conn.close();
    throw e;
  }
}

Deno.test("serve: no dotfiles, no traversal (raw or percent-encoded), no symlink escapes; loopback by default", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-serve-" });
  const root = join(dir, "dist"), outside = join(dir, "outside");
  await Deno.mkdir(join(root, "assets"), { recursive: true });
  await Deno.mkdir(join(root, ".git"), { recursive: true });
  await Deno.mkdir(join(root, ".hidden"), { recursive: true });
  await Deno.mkdir(outside);
  await Deno.writeTextFile(join(root, "index.html"), "<h1>page</h1>");
  await Deno.writeTextFile(join(root, "assets", "app.js"), "console.log(1)");
  for (const f of [".env", ".git/config", ".hidden/data.json"]) {
    await Deno.writeTextFile(join(root, f), SECRET);
  }
  await Deno.writeTextFile(join(outside, "secret.txt"), SECRET);
  await Deno.writeTextFile(join(dir, "x"), SECRET);
  await Deno.symlink(join(outside, "secret.txt"), join(root, "leak.txt"));
  await Deno.symlink(outside, join(root, "leakdir"));
  await Deno.symlink(join(root, "assets", "app.js"), join(root, "alias.js"));
  const fifo = new Deno.Command("mkfifo", { args: [join(root, "pipe")] }).outputSync().success;
  const server = serveStatic(root);
  try {
    assert.equal(server.addr.hostname, "127.0.0.1", "the default bind must be loopback");
    const port = server.addr.port;
    // What must still work.
    for (
      const [path, body] of [["/", "<h1>page</h1>"], ["/assets/app.js", "console.log(1)"], [
        "/alias.js",
        "console.log(1)",
      ]]
    ) {
      const r = await fetch(`http://127.0.0.1:${port}${path}`);
      assert.equal(r.status, 200, path);
      assert.equal(await r.text(), body, path);
    }
    const refused = [
      "/.env", // a dotfile in the root
      "/.git/config", // a file in a dot folder
      "/.hidden/data.json",
      "/%2eenv", // an encoded dot
      "/../x", // traversal, raw on the wire
      "/assets/../../x",
      "/%2e%2e/x", // percent-encoded traversal
      "/%2E%2e%2fx",
      "/..%2fx",
      "/assets/..%2f..%2fx",
      "/%252e%252e/x", // double-encoded
      "/..\\x", // backslash
      "/assets%5c..%5c..%5cx",
      "/index.html%00.js", // NUL
      "/leak.txt", // a symlink to a file outside the root
      "/leakdir/secret.txt", // through a symlink to a folder outside the root
      ...(fifo ? ["/pipe"] : []), // not a regular file: reading it would hang
      `/${"a".repeat(5000)}`, // a name too long for the file system
      "/index.html/x", // a file used as a folder
    ];
    for (const target of refused) {
      const r = await rawGet(port, target);
      assert.ok(r.status === 404 || r.status === 400 || r.status === 403, `${target}: HTTP ${r.status}`);
      assert.ok(!r.body.includes("do-not-serve-me"), `${target}: the secret was served`);
    }
    // Only GET and HEAD.
    const put = await fetch(`http://127.0.0.1:${port}/index.html`, { method: "PUT", body: "x" });
    assert.equal(put.status, 405);
    await put.body?.cancel();
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
