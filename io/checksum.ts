/** Content checksums shared by the loader's cache keys, input fingerprints and output manifests. */

/** Hex SHA-256 of the bytes (Web Crypto: Deno and the browser). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}
