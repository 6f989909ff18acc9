/** Seeded random numbers for generated data: reproducible across runs, machines and worker counts. */

/** A uniform [0, 1) generator (mulberry32) for a 32-bit seed. */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box-Muller) from a uniform generator. */
export function normalFrom(u: () => number): number {
  return Math.sqrt(-2 * Math.log(u() || 1e-300)) * Math.cos(2 * Math.PI * u());
}

/** `n` standard normal draws for a seed. */
export function seededNormals(n: number, seed: number): Float64Array {
  const u = seededUniform(seed);
  return Float64Array.from({ length: n }, () => normalFrom(u));
}
