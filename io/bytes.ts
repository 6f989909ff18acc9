/**
 * An object's bytes as one array or as consecutive pieces (an encoder's output left unjoined), so that a
 * writer or a hash can take the pieces one by one instead of copying them into one buffer first.
 */

/** One byte array, or pieces that form the bytes in order. */
export type Bytes = Uint8Array | readonly Uint8Array[];

/** The pieces of `bytes` (a single array is one piece). */
export function pieces(bytes: Bytes): readonly Uint8Array[] {
  return bytes instanceof Uint8Array ? [bytes] : bytes;
}

/** Total length in bytes. */
export function byteLength(bytes: Bytes): number {
  return bytes instanceof Uint8Array ? bytes.length : bytes.reduce((n, p) => n + p.length, 0);
}

/** The bytes as one array (the array itself when it already is one). */
export function joinBytes(bytes: Bytes): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes.length === 1) return bytes[0];
  const out = new Uint8Array(byteLength(bytes));
  let at = 0;
  for (const p of bytes) out.set(p, at), at += p.length;
  return out;
}
