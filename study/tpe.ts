/**
 * The Tree-structured Parzen Estimator (Bergstra, Bardenet, Bengio, Kégl 2011, "Algorithms for
 * Hyper-Parameter Optimization", section 4), as a sampler of a study's next parameters.
 *
 * TPE models p(x | y) instead of p(y | x): the finished trials are split at the γ-quantile of their scores into
 * the good ones (the best ceil(γ n)) and the rest, each parameter's values in the two groups become two densities
 * l(x) and g(x), and the next value is the one of `candidates` draws from l that maximises l(x) / g(x) — which
 * the paper shows maximises the expected improvement over the γ-quantile. Parameters are modelled independently
 * (the paper's tree degenerates to a flat one here: no conditional keys).
 * - Numbers (int, float; log_float in log space): an adaptive Parzen estimator — a Gaussian at each observation
 *   plus one prior Gaussian at the middle of the range with the range as its width, each truncated to the range;
 *   an observation's width is the larger distance to its sorted neighbours, clipped to
 *   [range / min(100, n + 1), range] (the paper's rule as hyperopt implements it). Integers are modelled on
 *   [low - 0.5, high + 0.5] and rounded.
 * - Choices: the smoothed frequencies (each choice's count + 1 prior).
 * Until `startup` trials have finished (and while every score is equal) it draws uniformly, as random search.
 */
import { normalCdf } from "../kernels/mackinnon.ts";
import type { Rng } from "../runtime/rng.ts";
import { type Dimension, sampleUniform, type Space, type TrialParams } from "./space.ts";

/** A finished trial as the sampler sees it. */
export interface Observation {
  /** Its parameters. */
  params: TrialParams;
  /** Its score (higher is better). */
  score: number;
}

/** TPE's settings. */
export interface TpeOptions {
  /** Share of the finished trials that are "good". Default 0.25 (the paper's γ). */
  gamma?: number;
  /** Draws from l(x) scored by l / g per parameter. Default 24 (hyperopt's). */
  candidates?: number;
  /** Trials drawn uniformly before TPE starts. Default 10. */
  startup?: number;
}

/** Uniform random parameters (random search). */
export function sampleRandom(space: Space, rng: Rng): TrialParams {
  return Object.fromEntries(Object.entries(space).map(([k, d]) => [k, sampleUniform(d, rng)]));
}

/** The next parameters by TPE given the finished trials `history` (see the module doc). */
export function sampleTpe(space: Space, history: Observation[], rng: Rng, o: TpeOptions = {}): TrialParams {
  const gamma = o.gamma ?? 0.25, candidates = o.candidates ?? 24, startup = o.startup ?? 10;
  const done = history.filter((h) => Number.isFinite(h.score));
  if (done.length < Math.max(startup, 2) || done.every((h) => h.score === done[0].score)) {
    return sampleRandom(space, rng);
  }
  // Stable order: by score, best first; ties by the order the trials were given (trial number).
  const sorted = done.map((h, i) => ({ h, i })).sort((a, b) => b.h.score - a.h.score || a.i - b.i).map((x) =>
    x.h
  );
  const nGood = Math.max(1, Math.ceil(gamma * sorted.length));
  const good = sorted.slice(0, nGood), bad = sorted.slice(nGood);
  const out: TrialParams = {};
  for (const [key, d] of Object.entries(space)) {
    if (d.type === "choice") {
      out[key] = structuredClone(d.choices[bestChoice(d.choices, good, bad, key, rng, candidates)]);
      continue;
    }
    const { lo, hi, to, from } = internal(d);
    const l = parzen(good.map((h) => to(h.params[key] as number)), lo, hi);
    const g = parzen(bad.map((h) => to(h.params[key] as number)), lo, hi);
    let best = NaN, bestScore = -Infinity;
    for (let c = 0; c < candidates; c++) {
      const x = l.sample(rng);
      const s = Math.log(l.pdf(x)) - Math.log(g.pdf(x));
      if (s > bestScore) [best, bestScore] = [x, s];
    }
    out[key] = from(best);
  }
  return out;
}

/** A dimension's internal scale: bounds, and the maps to (`to`) and from (`from`) it. */
function internal(d: Exclude<Dimension, { type: "choice" }>) {
  if (d.type === "log_float") {
    return {
      lo: Math.log(d.low),
      hi: Math.log(d.high),
      to: Math.log,
      from: (x: number) => Math.min(d.high, Math.max(d.low, Math.exp(x))),
    };
  }
  if (d.type === "int") {
    return {
      lo: d.low - 0.5,
      hi: d.high + 0.5,
      to: (x: number) => x,
      from: (x: number) => Math.min(d.high, Math.max(d.low, Math.round(x))),
    };
  }
  return {
    lo: d.low,
    hi: d.high,
    to: (x: number) => x,
    from: (x: number) => Math.min(d.high, Math.max(d.low, x)),
  };
}

/** The adaptive Parzen estimator of `obs` on [lo, hi]: a truncated Gaussian mixture with a prior component. */
export function parzen(obs: number[], lo: number, hi: number) {
  const range = hi - lo, prior = (lo + hi) / 2;
  const mus = [...obs, prior].sort((a, b) => a - b);
  const minSigma = range / Math.min(100, obs.length + 1);
  const sigmas = mus.map((m, i) => {
    if (mus.length === 1) return range;
    const left = i > 0 ? m - mus[i - 1] : mus[1] - m;
    const right = i < mus.length - 1 ? mus[i + 1] - m : m - mus[i - 1];
    return Math.min(range, Math.max(minSigma, left, right));
  });
  // The prior keeps its full width (the paper: the prior's bandwidth is the range).
  sigmas[mus.indexOf(prior)] = range;
  const mass = mus.map((m, i) => normalCdf((hi - m) / sigmas[i]) - normalCdf((lo - m) / sigmas[i]));
  const w = 1 / mus.length;
  return {
    /** The mixture's density at x (truncated components renormalised). */
    pdf(x: number): number {
      let p = 0;
      for (let i = 0; i < mus.length; i++) {
        const z = (x - mus[i]) / sigmas[i];
        p += (w * Math.exp(-0.5 * z * z)) / (sigmas[i] * Math.sqrt(2 * Math.PI) * mass[i]);
      }
      return p;
    },
    /** A draw: a component, then its Gaussian truncated to [lo, hi] by rejection (clamped after 100 tries). */
    sample(rng: Rng): number {
      const i = rng.int(mus.length);
      for (let t = 0; t < 100; t++) {
        const x = mus[i] + sigmas[i] * rng.normal();
        if (x >= lo && x <= hi) return x;
      }
      return Math.min(hi, Math.max(lo, mus[i]));
    },
  };
}

/** The index of the choice among `candidates` draws from the good trials' smoothed frequencies maximising l / g. */
function bestChoice(
  choices: unknown[],
  good: Observation[],
  bad: Observation[],
  key: string,
  rng: Rng,
  candidates: number,
): number {
  const ids = choices.map((c) => JSON.stringify(c));
  const freq = (hs: Observation[]) => {
    const n = ids.map(() => 1); // the prior: one pseudo-count per choice
    for (const h of hs) {
      const i = ids.indexOf(JSON.stringify(h.params[key]));
      if (i >= 0) n[i]++;
    }
    const total = n.reduce((a, b) => a + b, 0);
    return n.map((v) => v / total);
  };
  const l = freq(good), g = freq(bad);
  let best = 0, bestScore = -Infinity;
  for (let c = 0; c < candidates; c++) {
    let u = rng.uniform(), i = 0;
    while (i < l.length - 1 && u > l[i]) u -= l[i++];
    const s = Math.log(l[i]) - Math.log(g[i]);
    if (s > bestScore) [best, bestScore] = [i, s];
  }
  return best;
}
