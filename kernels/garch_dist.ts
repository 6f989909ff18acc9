/**
 * Innovation densities of the GARCH models (`kernels/garch_model.ts`), standardised to mean 0 and variance 1,
 * in `arch`'s parameterisations:
 *   - normal:  log f(z) = -(log 2 pi + z^2) / 2;
 *   - t (nu > 2): log f(z) = lgamma((nu+1)/2) - lgamma(nu/2) - log(pi (nu-2)) / 2 - (nu+1)/2 log(1 + z^2/(nu-2));
 *   - skewt, Hansen (1994) (nu > 2, -1 < lambda < 1): with c = exp(lgamma((nu+1)/2) - lgamma(nu/2)) /
 *     sqrt(pi (nu-2)), a = 4 lambda c (nu-2)/(nu-1), b = sqrt(1 + 3 lambda^2 - a^2),
 *     log f(z) = log b + log c - (nu+1)/2 log(1 + ((b z + a) / (1 + sign(z + a/b) lambda))^2 / (nu-2)).
 *     lambda = 0 is the t; lambda < 0 skews left. R fGarch's "sstd" is a different skew-t (Fernandez-Steel's
 *     xi): the two families do not map onto each other, so the skew-t is checked against `arch` instead.
 */

/** Innovation distribution. */
export type GarchDist = "normal" | "t" | "skewt";

/** The shape parameters each distribution adds, in order. */
export const DIST_SHAPES: Record<GarchDist, readonly string[]> = {
  normal: [],
  t: ["nu"],
  skewt: ["nu", "lambda"],
};

/** Bounds of the shapes (`arch`'s: 2.05 < nu < 500, |lambda| < 1, kept off the edge). */
export const SHAPE_BOUNDS: Record<string, [number, number]> = { nu: [2.05, 500], lambda: [-0.995, 0.995] };

const LANCZOS = [
  0.99999999999980993,
  676.5203681218851,
  -1259.1392167224028,
  771.32342877765313,
  -176.61502916214059,
  12.507343278686905,
  -0.13857109526572012,
  9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** log Gamma(x) for x > 0 (Lanczos, g = 7: ~1e-15 relative). */
export function lgamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lgamma(1 - x);
  x -= 1;
  let a = LANCZOS[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** (k0, a, b) of log f at shapes (nu, lambda): see the module comment. */
function constants(dist: GarchDist, nu: number, lam: number): [number, number, number] {
  if (dist === "normal") return [-0.5 * Math.log(2 * Math.PI), 0, 1];
  const logc = lgamma((nu + 1) / 2) - lgamma(nu / 2) - 0.5 * Math.log(Math.PI * (nu - 2));
  if (dist === "t") return [logc, 0, 1];
  const a = 4 * lam * Math.exp(logc) * (nu - 2) / (nu - 1);
  const b = Math.sqrt(1 + 3 * lam * lam - a * a);
  return [Math.log(b) + logc, a, b];
}

/** The digamma function psi(x) for x > 0 (recurrence to x >= 10, then the asymptotic series: ~1e-15). */
export function digamma(x: number): number {
  let r = 0;
  for (; x < 10; x++) r -= 1 / x;
  const f = 1 / (x * x);
  return r + Math.log(x) - 0.5 / x -
    f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f * (1 / 132)))));
}

/**
 * d(k0, a, b)/dnu then d(k0, a, b)/dlambda, analytic: with log c = lgamma((nu+1)/2) - lgamma(nu/2) -
 * log(pi (nu-2)) / 2, d log c/dnu = (psi((nu+1)/2) - psi(nu/2)) / 2 - 1 / (2 (nu-2)); a = 4 lambda c (nu-2) /
 * (nu-1), b = sqrt(1 + 3 lambda^2 - a^2), k0 = log b + log c. (Differences of lgamma here would put a
 * ~1e-10 error into every point's shape derivative, and the Hessian's nu row would then be off by ~1%.)
 */
function constantDerivatives(dist: GarchDist, nu: number, lam: number): number[] {
  if (dist === "normal") return [0, 0, 0, 0, 0, 0];
  const dlogc = 0.5 * (digamma((nu + 1) / 2) - digamma(nu / 2)) - 0.5 / (nu - 2);
  if (dist === "t") return [dlogc, 0, 0, 0, 0, 0];
  const [, a, b] = constants(dist, nu, lam);
  const c = Math.exp(lgamma((nu + 1) / 2) - lgamma(nu / 2) - 0.5 * Math.log(Math.PI * (nu - 2)));
  const daN = 4 * lam * (c * dlogc * (nu - 2) / (nu - 1) + c / ((nu - 1) * (nu - 1)));
  const dbN = -a * daN / b;
  const daL = 4 * c * (nu - 2) / (nu - 1), dbL = (3 * lam - a * daL) / b;
  return [dbN / b + dlogc, daN, dbN, dbL / b, daL, dbL];
}

/**
 * A density at fixed shapes: `logf(z)` returns log f(z) and leaves d log f / dz in `dz`; `dShape(i)` is then
 * d log f / d(shape i) at the same z, analytic given the constants' derivatives (one object per evaluation,
 * so the per-point calls allocate nothing).
 */
export class Density {
  /** d log f / dz at the last `logf` argument. */
  dz = 0;
  /** The constant term of log f (Hansen's log b + log c; the t's log c; the normal's -log(2 pi) / 2). */
  readonly k0: number;
  /** nu (Infinity for the normal). */
  readonly nu: number;
  /** lambda (0 unless skewt). */
  readonly lam: number;
  /** Hansen's a (0 unless skewt). */
  readonly a: number;
  /** Hansen's b (1 unless skewt). */
  readonly b: number;
  /** d(k0, a, b)/dnu, d(k0, a, b)/dlambda. */
  readonly dk: number[];
  /** 0 normal, 1 t, 2 skewt (a number: the per-point branch compares no strings). */
  private readonly code: number;
  // The last logf's z, y, log w, the skew-t's divisor and side, and d((nu+1)/2 log w)/dy.
  private z = 0;
  private y = 0;
  private lw = 0;
  private sk = 1;
  private neg = false;
  private cy = 0;

  constructor(readonly dist: GarchDist, shapes: ArrayLike<number>) {
    this.nu = shapes[0] ?? Infinity;
    this.lam = shapes[1] ?? 0;
    this.code = dist === "normal" ? 0 : dist === "t" ? 1 : 2;
    [this.k0, this.a, this.b] = constants(dist, this.nu, this.lam);
    this.dk = constantDerivatives(dist, this.nu, this.lam);
  }

  /** log f(z); sets `dz`. */
  logf(z: number): number {
    if (this.code === 0) {
      this.dz = -z;
      return this.k0 - 0.5 * z * z;
    }
    const nu2 = this.nu - 2, u = this.b * z + this.a;
    this.neg = u < 0 && this.code === 2;
    this.sk = this.code === 1 ? 1 : this.neg ? 1 - this.lam : 1 + this.lam;
    const y = u / this.sk, w = 1 + y * y / nu2;
    this.z = z;
    this.y = y;
    this.lw = Math.log(w);
    this.cy = (this.nu + 1) * y / (nu2 * w);
    this.dz = -this.cy * this.b / this.sk;
    return this.k0 - 0.5 * (this.nu + 1) * this.lw;
  }

  /** d log f / d nu (i = 0) or d lambda (i = 1) at the last `logf` argument. */
  dShape(i: number): number {
    const d = this.dk, z = this.z, y = this.y, sk = this.sk, nu2 = this.nu - 2;
    if (i === 0) {
      return d[0] - 0.5 * this.lw - this.cy * (d[2] * z + d[1]) / sk +
        0.5 * (this.nu + 1) * y * y / (nu2 * nu2 * (1 + y * y / nu2));
    }
    return d[3] - this.cy * ((d[5] * z + d[4]) / sk - (this.neg ? -y : y) / sk);
  }
}

/**
 * The constants the GPU evaluates log f with (shaders/garch_model_llh.wgsl): k0, a, b, nu, lambda and the
 * derivatives of (k0, a, b) in nu and in lambda.
 */
export function densityConstants(dist: GarchDist, shapes: ArrayLike<number>): number[] {
  const d = new Density(dist, shapes);
  return [d.k0, d.a, d.b, dist === "normal" ? 0 : d.nu, d.lam, ...d.dk];
}
