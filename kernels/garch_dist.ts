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

/**
 * A density at fixed shapes: `logf(z)` returns log f(z) and leaves d log f / dz in `dz` (one object per
 * evaluation, so the per-point call allocates nothing).
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
  /** 0 normal, 1 t, 2 skewt (a number: the per-point branch compares no strings). */
  private readonly code: number;

  constructor(readonly dist: GarchDist, shapes: ArrayLike<number>) {
    const nu = shapes[0] ?? Infinity, lam = shapes[1] ?? 0;
    this.code = dist === "normal" ? 0 : dist === "t" ? 1 : 2;
    this.nu = nu;
    this.lam = lam;
    this.a = 0;
    this.b = 1;
    if (dist === "normal") this.k0 = -0.5 * Math.log(2 * Math.PI);
    else {
      const logc = lgamma((nu + 1) / 2) - lgamma(nu / 2) - 0.5 * Math.log(Math.PI * (nu - 2));
      if (dist === "t") this.k0 = logc;
      else {
        this.a = 4 * lam * Math.exp(logc) * (nu - 2) / (nu - 1);
        this.b = Math.sqrt(1 + 3 * lam * lam - this.a * this.a);
        this.k0 = Math.log(this.b) + logc;
      }
    }
  }

  /** log f(z); sets `dz`. */
  logf(z: number): number {
    if (this.code === 0) {
      this.dz = -z;
      return this.k0 - 0.5 * z * z;
    }
    const nu2 = this.nu - 2;
    if (this.code === 1) {
      const w = 1 + z * z / nu2;
      this.dz = -(this.nu + 1) * z / (nu2 * w);
      return this.k0 - 0.5 * (this.nu + 1) * Math.log(w);
    }
    const s = this.b * z + this.a < 0 ? 1 - this.lam : 1 + this.lam;
    const y = (this.b * z + this.a) / s, w = 1 + y * y / nu2;
    this.dz = -(this.nu + 1) * y * this.b / (s * nu2 * w);
    return this.k0 - 0.5 * (this.nu + 1) * Math.log(w);
  }
}

/**
 * The constants the GPU evaluates log f with (shaders/garch_model_llh.wgsl): k0, a, b, nu, lambda and the
 * derivatives of (k0, a, b) in nu and in lambda (central differences in f64, ~1e-10 relative).
 */
export function densityConstants(dist: GarchDist, shapes: ArrayLike<number>): number[] {
  const at = (s: number[]) => {
    const d = new Density(dist, s);
    return [d.k0, d.a, d.b];
  };
  const base = Array.from(shapes);
  const d = new Density(dist, base);
  const deriv = (i: number) => {
    if (i >= base.length) return [0, 0, 0];
    const h = 1e-6 * Math.max(1, Math.abs(base[i]));
    const up = at(base.with(i, base[i] + h)), dn = at(base.with(i, base[i] - h));
    return up.map((u, k) => (u - dn[k]) / (2 * h));
  };
  return [d.k0, d.a, d.b, dist === "normal" ? 0 : d.nu, d.lam, ...deriv(0), ...deriv(1)];
}
