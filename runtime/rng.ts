/**
 * Fast seeded random numbers: xoshiro128** streams keyed by (seed, ...indices), so that every chunk of every
 * series the generator writes has its own independent stream that any worker can rebuild on its own, and the
 * dCor permutations (kernels/dcor_core.ts) hash the same way. Pure 32-bit integer arithmetic: identical
 * results on every machine.
 */

/** Murmur3's 32-bit finalizer: a bijective avalanche mix. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A 32-bit key for a tuple of non-negative integers (e.g. seed, instrument, chunk, stream). */
export function hashKey(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    // Fold in both halves so that indices above 2^32 still give distinct keys.
    h = mix32(h ^ mix32((p >>> 0) + 0x7f4a7c15));
    h = mix32(h ^ mix32(Math.floor(p / 4294967296) + 0x165667b1));
  }
  return h;
}

const TWO_M32 = 1 / 4294967296;

/** xoshiro128** generator with uniform, normal and exponential draws. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spare = 0;
  #hasSpare = false;

  /** A stream keyed by the given non-negative integers (the same key always gives the same stream). */
  constructor(...key: number[]) {
    const k = hashKey(...key);
    // splitmix-style expansion of the key into four state words (never all zero).
    this.#a = mix32(k + 0x9e3779b9) | 1;
    this.#b = mix32(k + 0x3c6ef372);
    this.#c = mix32(k + 0xdaa66d2b);
    this.#d = mix32(k + 0x78dde6e4);
  }

  /** The next 32-bit unsigned integer. */
  nextU32(): number {
    const b = this.#b;
    const x = Math.imul(b, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = b << 9;
    this.#c ^= this.#a;
    this.#d ^= b;
    this.#b = b ^ this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = (this.#d << 11) | (this.#d >>> 21);
    return result;
  }

  /** A uniform draw in the open interval (0, 1). */
  uniform(): number {
    return (this.nextU32() + 0.5) * TWO_M32;
  }

  /** An integer uniform in [0, n) for n < 2^32 (multiply-shift; bias below 2^-32 * n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** A standard normal draw (Box-Muller; both values of a pair are used). */
  normal(): number {
    if (this.#hasSpare) {
      this.#hasSpare = false;
      return this.#spare;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const th = 6.283185307179586 * this.uniform();
    this.#spare = r * Math.sin(th);
    this.#hasSpare = true;
    return r * Math.cos(th);
  }

  /** A unit-mean exponential draw. */
  exponential(): number {
    return -Math.log(this.uniform());
  }
}

/** `n` standard normal draws from the stream keyed by `key` (test and bench data). */
export function seededNormals(n: number, ...key: number[]): Float64Array {
  const rng = new Rng(...key);
  return Float64Array.from({ length: n }, () => rng.normal());
}
