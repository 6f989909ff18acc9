import { strict as assert } from "node:assert";
import { sha256Hex } from "../io/checksum.ts";

Deno.test("sha256Hex: the FIPS 180-2 vectors, and Web Crypto's digest on a large buffer", async () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  assert.equal(
    await sha256Hex(enc("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(await sha256Hex(enc("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const big = new Uint8Array(3_000_001).map((_, i) => (i * 2654435761) >>> 24);
  const web = Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", big)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  assert.equal(await sha256Hex(big), web);
  // A view into a larger buffer hashes only its own bytes.
  assert.equal(await sha256Hex(big.subarray(1, 4)), await sha256Hex(big.slice(1, 4)));
});

Deno.test("sha256Hex of pieces hashes them in order, as one buffer", async () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  assert.equal(await sha256Hex([enc("a"), new Uint8Array(0), enc("bc")]), abc);
  assert.notEqual(await sha256Hex([enc("bc"), enc("a")]), abc);
  assert.equal(await sha256Hex([]), await sha256Hex(new Uint8Array(0)));
});
