/**
 * Absolute caps on every size-like parameter (runaway parameters are refused before any work): the one table that the config
 * schema (config/schema.ts), the kernel parameter declarations (kernels/*.ts, via `kernel` CLI flags) and the
 * feature-set / resample option parsers all read, so a YAML key and its CLI flag can never disagree.
 *
 * A cap bounds the work and memory one parameter can ask for before any data is read (a hang on
 * `permutations: 1e9`, a `RangeError: Invalid typed array length` on `--window 1e20`); it is far above useful
 * values. Bounds that depend on the data (a window longer than the series) are checked where the data is known.
 */

/** The caps, by what they bound. */
export const LIMITS = {
  /**
   * Rows in a rolling window or a period (z-score / mean / std / correlation windows, Baxter-King periods,
   * the selection's dCor window): these kernels cost O(1) per row, the cap only bounds memory and warm-up.
   */
  window: 1_000_000,
  /** Feature-set windows (`features.extraction.windows`, `kernel features --windows`): entropies cost O(w²) per row. */
  featureWindow: 10_000,
  /**
   * Rolling distance correlation windows (`kernel rolling_dcor --window`): O(w log w) per row, so a 1e6-row
   * series at this cap already takes about a minute on one core.
   */
  dcorWindow: 1_000,
  /** Baxter-King half-length k: 2k + 1 weights, O(k) per row. */
  bkK: 10_000,
  /**
   * FFD weights (the window W that `frac_diff.threshold` gives for each d): beyond it the FFT convolution's
   * blocks shrink to nothing (kernels/fft_convolve.ts MAX_FFT_SIZE = 2 x this) and a run hangs.
   */
  ffdWeights: 16_384,
  /** Permutations of a dCor p-value (`selection_permutations`, `kernel dcor_test --permutations`). */
  permutations: 100_000,
  /** Sample and window counts in rows (`selection_max_samples`, GARCH `max_samples`, `window`, `min_samples`, `refit_every`). */
  samples: 10_000_000,
  /** Optimizer iterations (`garch.max_iter`, `kernel garch --max-iter`). */
  iterations: 100_000,
  /** Features kept by the selection (`dcor_top_k`). */
  topK: 100_000,
  /** Worker threads (`features.extraction.workers`, `generator.workers`, `--workers`). */
  workers: 256,
  /** Largest permutation seed: seeds are 32-bit (kernels/dcor_core.ts). */
  seed: 0xffff_ffff,
  /** Generated instruments (`generator.instruments`, `generate --instruments`). */
  instruments: 100_000,
  /** Generated rows per instrument (`generator.rows`, `generate --rows`). */
  generatedRows: 100_000_000,
  /** Grid points of the minimum-d search (`frac_diff.auto_grid`, `kernel min_d --grid`): one FFD + ADF each. */
  gridPoints: 1_000,
  /**
   * Finest bisection precision of the minimum-d search (`frac_diff.auto_precision`, `kernel min_d --precision`):
   * a lower bound, as each halving costs one FFD + ADF and below float resolution the bisection never ends.
   */
  precision: 1e-6,
  /** Lags of a unit-root test (`frac_diff.auto_maxlag`, `kernel adf --maxlag`, `kpss --nlags`, `min_d --maxlag`). */
  lags: 1_000,
  /** Items in any config list (windows, d values, columns, pairs, patterns...). */
  listItems: 1_000,
  /**
   * Columns of one feature-set extraction: columns x (windows + segments) x features of the set (83 for
   * `comprehensive`), each a full-length column in memory.
   */
  featureColumns: 10_000,
  /** Bars in a resampled output with `--fill nan|ffill` (the grid from the first to the last bar). */
  resampledBars: 1 << 25,
} as const;
