/**
 * The GARCH family's models (`kernels/garch_model.ts` has their likelihood): names, parameter layout,
 * persistence and the variance filter that turns fitted parameters into sigma_t. GARCH(1,1)'s filter in
 * `kernels/garch_core.ts` is this one, which therefore imports nothing from the estimators.
 */
import { DIST_SHAPES, type GarchDist } from "./garch_dist.ts";

export type { GarchDist };

/** A model of the family (kernels/garch_model.ts describes the models and their names). */
export interface GarchModelSpec {
  /** Canonical name, e.g. "gjr11_t". */
  name: string;
  /** Symmetric GARCH or GJR. */
  family: "garch" | "gjr";
  /** ARCH lags (alpha, and gamma for GJR), 1..3. */
  p: number;
  /** GARCH lags (beta), 0..3. */
  q: number;
  /** Innovations. */
  dist: GarchDist;
}

/** Conditional mean: a constant mu (estimated) or zero. */
export type GarchMean = "constant" | "zero";

const NAME = /^(garch|gjr)([1-3])([0-3])(?:_(t|skewt))?$/;

/** The model of a name, or null when the name is not of the scheme. */
export function parseModel(name: string): GarchModelSpec | null {
  const m = NAME.exec(name);
  if (!m) return null;
  return {
    name,
    family: m[1] as "garch" | "gjr",
    p: Number(m[2]),
    q: Number(m[3]),
    dist: (m[4] ?? "normal") as GarchDist,
  };
}

/** Why a name is not a model (a config check), or undefined. */
export function garchModelProblem(name: string): string | undefined {
  return parseModel(name) ? undefined : `unknown model ${JSON.stringify(name)}; expected ${MODEL_SCHEME}`;
}

/** The model name of parts (family, orders, distribution). */
export function modelName(family: "garch" | "gjr", p: number, q: number, dist: GarchDist): string {
  return `${family}${p}${q}${dist === "normal" ? "" : `_${dist}`}`;
}

/** What the name scheme accepts, for error messages. */
export const MODEL_SCHEME = "garch{p}{q} or gjr{p}{q} (p 1..3, q 0..3), optionally suffixed _t or _skewt";

/** Index of each parameter in the vector theta = (mu, omega, alpha.., gamma.., beta.., shapes..). */
export interface Layout {
  /** Parameter names, theta order. */
  names: string[];
  alpha: number;
  gamma: number;
  beta: number;
  shape: number;
  k: number;
}

const lagName = (base: string, i: number) => (i === 0 ? base : `${base}${i + 1}`);

/** The parameter layout of a model. */
export function layout(m: GarchModelSpec): Layout {
  const names = ["mu", "omega"];
  const alpha = names.length;
  for (let i = 0; i < m.p; i++) names.push(lagName("alpha", i));
  const gamma = names.length;
  if (m.family === "gjr") { for (let i = 0; i < m.p; i++) names.push(lagName("gamma", i)); }
  const beta = names.length;
  for (let j = 0; j < m.q; j++) names.push(lagName("beta", j));
  const shape = names.length;
  names.push(...DIST_SHAPES[m.dist]);
  return { names, alpha, gamma, beta, shape, k: names.length };
}

/** Persistence sum alpha + gamma / 2 + sum beta (gamma's weight is P(z < 0) = 1/2 of a symmetric z). */
export function persistence(m: GarchModelSpec, th: ArrayLike<number>): number {
  const L = layout(m);
  let s = 0;
  for (let i = 0; i < m.p; i++) s += th[L.alpha + i] + (m.family === "gjr" ? th[L.gamma + i] / 2 : 0);
  for (let j = 0; j < m.q; j++) s += th[L.beta + j];
  return s;
}

/** Coefficients of a model in the input's units, by name (`layout`'s names; mu absent with a zero mean). */
export type GarchModelParams = Record<string, number>;

/**
 * sigma_t of the whole series with fixed parameters, as garch_core's `garchFilter` (which is this for
 * GARCH(1,1)): from the first finite return, pre-sample e^2 = s2 = the unconditional variance
 * omega / (1 - persistence) and e^2 1[e < 0] half of it; NaN before the first finite return.
 */
export function modelFilter(r: ArrayLike<number>, m: GarchModelSpec, par: GarchModelParams): Float64Array {
  const out = new Float64Array(r.length).fill(NaN);
  const pers = persistence(m, layout(m).names.map((n) => par[n] ?? 0));
  const b = pers < 1 ? par.omega / (1 - pers) : NaN;
  let start = 0;
  while (start < r.length && !Number.isFinite(r[start])) start++;
  modelFilterFrom(r, m, par, b, b / 2, start, start, r.length, out);
  return out;
}

/**
 * Writes sigma_t = sqrt(s2_t) into `out[from..to)` for parameters fitted on the window r[lo, from), as
 * garch_core's `garchFilterFrom` (which is this recursion for GARCH(1,1)): the recursion starts at `lo`
 * with the fit's pre-sample values `b` (e^2 and s2) and `bn` (e^2 1[e < 0]), skips non-finite returns of
 * the window as the fit did, and from `from` on a non-finite r_t advances with E[e_t^2] = s2_t (and
 * E[e_t^2 1[e_t < 0]] = s2_t / 2). sigma_t uses r up to t-1 only.
 */
export function modelFilterFrom(
  r: ArrayLike<number>,
  m: GarchModelSpec,
  par: GarchModelParams,
  b: number,
  bn: number,
  lo: number,
  from: number,
  to: number,
  out: Float64Array,
): void {
  const rec = new ModelRecursion(m, par, b, bn);
  rec.replay(r, lo, from);
  rec.filter(r, from, to, out);
}

/**
 * The variance recursion of `modelFilterFrom` one return at a time (a chunked run streams it, and carries
 * its `state` between runs): `variance()` is s2_t given the returns pushed so far, `push(r_t, s2_t)`
 * advances (a non-finite r_t with the expectations, see `modelFilterFrom`).
 */
export class ModelRecursion {
  readonly #mu: number;
  readonly #om: number;
  readonly #al: number[];
  readonly #ga: number[];
  readonly #be: number[];
  /** e^2, e^2 1[e < 0] of the last p returns and the last q variances, newest first. */
  readonly #e2: Float64Array;
  readonly #en: Float64Array;
  readonly #h: Float64Array;

  /** Starts at the pre-sample values `b` (e^2 and s2) and `bn` (e^2 1[e < 0]). */
  constructor(m: GarchModelSpec, par: GarchModelParams, b: number, bn: number) {
    const L = layout(m), p = m.p, q = m.q;
    this.#mu = par.mu ?? 0;
    this.#om = par.omega;
    this.#al = L.names.slice(L.alpha, L.alpha + p).map((n) => par[n]);
    this.#ga = m.family === "gjr" ? L.names.slice(L.gamma, L.gamma + p).map((n) => par[n]) : [];
    this.#be = L.names.slice(L.beta, L.beta + q).map((n) => par[n]);
    this.#e2 = new Float64Array(p).fill(b);
    this.#en = new Float64Array(p).fill(bn);
    this.#h = new Float64Array(q).fill(b);
  }

  /** s2_t given the returns pushed so far. */
  variance(): number {
    // Summed in the order omega, alphas, gammas, betas: for GARCH(1,1) the same operations as ever.
    let h = this.#om;
    for (let i = 0; i < this.#al.length; i++) h += this.#al[i] * this.#e2[i];
    for (let i = 0; i < this.#ga.length; i++) h += this.#ga[i] * this.#en[i];
    for (let j = 0; j < this.#be.length; j++) h += this.#be[j] * this.#h[j];
    return h;
  }

  /** Advances past r_t, whose variance `variance()` gave as `h`. */
  push(v: number, h: number): void {
    const E2 = this.#e2, EN = this.#en, H = this.#h;
    const e = v - this.#mu, finite = Number.isFinite(e);
    for (let i = E2.length - 1; i > 0; i--) (E2[i] = E2[i - 1], EN[i] = EN[i - 1]);
    E2[0] = finite ? e * e : h;
    EN[0] = finite ? (e < 0 ? e * e : 0) : h / 2;
    for (let j = H.length - 1; j > 0; j--) H[j] = H[j - 1];
    if (H.length) H[0] = h;
  }

  /** Pushes the finite values of r[lo, hi) with their variances, skipping the others (a fit window, as the fit). */
  replay(r: ArrayLike<number>, lo = 0, hi = r.length): void {
    this.#run(r, lo, hi, null);
  }

  /** Writes sigma_t = sqrt(variance()) into out[t] and pushes r_t, for t in [from, to). */
  filter(r: ArrayLike<number>, from: number, to: number, out: Float64Array): void {
    this.#run(r, from, to, out);
  }

  /**
   * `replay` (out null) or `filter`: `push(v, variance())` per row. With one lag of each (GARCH(1,1), GJR(1,1))
   * the same operations run on locals, ~10x faster than the calls.
   */
  #run(r: ArrayLike<number>, lo: number, hi: number, out: Float64Array | null): void {
    const E2 = this.#e2, EN = this.#en, H = this.#h;
    if (E2.length !== 1 || H.length !== 1) {
      for (let t = lo; t < hi; t++) {
        const v = r[t];
        if (!out && !Number.isFinite(v)) continue;
        const h = this.variance();
        if (out) out[t] = Math.sqrt(h);
        this.push(v, h);
      }
      return;
    }
    const om = this.#om, al = this.#al[0], be = this.#be[0], mu = this.#mu;
    const gjr = this.#ga.length === 1, ga = gjr ? this.#ga[0] : 0;
    let e2 = E2[0], en = EN[0], h = H[0];
    for (let t = lo; t < hi; t++) {
      const v = r[t];
      if (!out && !Number.isFinite(v)) continue;
      // variance(): omega, + alpha e2, (+ gamma en), + beta s2, in that order; then push(v, s).
      let s = om + al * e2;
      if (gjr) s += ga * en;
      s += be * h;
      if (out) out[t] = Math.sqrt(s);
      const e = v - mu;
      if (Number.isFinite(e)) (e2 = e * e, en = e < 0 ? e * e : 0);
      else (e2 = s, en = s / 2);
      h = s;
    }
    E2[0] = e2, EN[0] = en, H[0] = h;
  }

  /** The lagged values (e^2, e^2 1[e < 0], s2, newest first), to restore with `restore`. */
  get state(): number[] {
    return [...this.#e2, ...this.#en, ...this.#h];
  }

  /** Sets the lagged values from `state` (the same model's). */
  restore(state: readonly number[]): this {
    const p = this.#e2.length;
    this.#e2.set(state.slice(0, p));
    this.#en.set(state.slice(p, 2 * p));
    this.#h.set(state.slice(2 * p));
    return this;
  }
}
