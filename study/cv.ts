/**
 * The study's honest objective (AFML ch. 7): purged and embargoed cross-validation of a simple model on
 * features selected inside each training fold.
 * - Folds: the scored rows (in time order) are cut into blocks. `walk_forward`: fold i tests block i + 1 and
 *   trains on the rows before it; `kfold`: fold i tests block i and trains on every other block.
 * - Purging: a training row t whose label span [t, labelEnd[t]] (the target's horizon) reaches the first test
 *   row is dropped, so no training label is computed from prices inside the test period.
 * - Embargo: training rows after a test block start only `embargo` rows after the end of the test labels'
 *   span (the test labels use prices up to labelEnd of the last test row), so serial correlation does not
 *   leak the test period into training.
 * - Selection, standardisation and the fit see the training rows only; the score is computed on the test rows
 *   only: Spearman correlation of the ridge prediction with the target (IC), or the AUC of a logistic model of
 *   the target's sign.
 */

/** One fold: training and test row indices (into the series), ascending. */
export interface Fold {
  /** Rows the selection and the model are fitted on. */
  train: number[];
  /** Rows scored. */
  test: number[];
}

/** The cross-validation settings (study file `cv`). */
export interface CvOptions {
  /** `walk_forward` (train on the past only) or `kfold` (train on both sides of the test block). */
  scheme: "walk_forward" | "kfold";
  /** Number of scored folds. */
  folds: number;
  /** Rows dropped from training after each test block's label span (kfold). */
  embargo: number;
  /** `ridge` (score: IC, Spearman) or `logistic` (sign of the target; score: AUC). */
  model: "ridge" | "logistic";
  /** L2 penalty of either model, per row on standardised features. */
  alpha: number;
}

/**
 * Purged, embargoed folds over `rows` (ascending series indices where the target and the features are
 * finite); `labelEnd[t]` is the last series row the label of row t uses.
 */
export function purgedFolds(rows: number[], labelEnd: ArrayLike<number>, o: CvOptions): Fold[] {
  const blocks = o.scheme === "walk_forward" ? o.folds + 1 : o.folds;
  const cut = (b: number) => Math.round((b * rows.length) / blocks);
  const folds: Fold[] = [];
  for (let f = 0; f < o.folds; f++) {
    const b = o.scheme === "walk_forward" ? f + 1 : f;
    const test = rows.slice(cut(b), cut(b + 1));
    if (!test.length) continue;
    const first = test[0], last = test[test.length - 1];
    let testLabelEnd = last;
    for (const s of test) testLabelEnd = Math.max(testLabelEnd, labelEnd[s]);
    const train = rows.filter((t) =>
      t < first
        ? labelEnd[t] < first // purged: its label must end before the test block starts
        : o.scheme === "kfold" && t > testLabelEnd + o.embargo
    );
    folds.push({ train, test });
  }
  return folds;
}

/** Ranks (1-based, ties averaged) of `v`. */
export function ranks(v: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a] - v[b]);
  const r = new Float64Array(v.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
    for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Pearson correlation (NaN when either side is constant). */
function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) ma += a[i] / n, mb += b[i] / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i] - ma, y = b[i] - mb;
    sab += x * y, saa += x * x, sbb += y * y;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/** Spearman rank correlation (the information coefficient). */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearson(ranks(a), ranks(b));
}

/** Area under the ROC curve of `score` for the labels `positive` (Mann-Whitney; ties count half); NaN if one class. */
export function auc(score: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const r = ranks(score);
  let np = 0, sum = 0;
  for (let i = 0; i < r.length; i++) if (positive[i]) np++, sum += r[i];
  const nn = r.length - np;
  return np && nn ? (sum - (np * (np + 1)) / 2) / (np * nn) : NaN;
}

/** Solves the symmetric positive definite system A x = b (Cholesky; A is k x k row-major, overwritten). */
function cholSolve(A: Float64Array, b: Float64Array, k: number): Float64Array {
  for (let j = 0; j < k; j++) {
    let d = A[j * k + j];
    for (let p = 0; p < j; p++) d -= A[j * k + p] ** 2;
    d = Math.sqrt(Math.max(d, 1e-300));
    A[j * k + j] = d;
    for (let i = j + 1; i < k; i++) {
      let s = A[i * k + j];
      for (let p = 0; p < j; p++) s -= A[i * k + p] * A[j * k + p];
      A[i * k + j] = s / d;
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < k; i++) {
    for (let p = 0; p < i; p++) x[i] -= A[i * k + p] * x[p];
    x[i] /= A[i * k + i];
  }
  for (let i = k - 1; i >= 0; i--) {
    for (let p = i + 1; p < k; p++) x[i] -= A[p * k + i] * x[p];
    x[i] /= A[i * k + i];
  }
  return x;
}

/** Features standardised with the training rows' mean and standard deviation (constant features dropped). */
function standardise(cols: Float64Array[], train: number[]) {
  const stats = cols.map((c) => {
    let m = 0;
    for (const t of train) m += c[t] / train.length;
    let v = 0;
    for (const t of train) v += (c[t] - m) ** 2 / train.length;
    return { m, s: Math.sqrt(v) };
  });
  const keep = cols.map((_, j) => j).filter((j) => stats[j].s > 0);
  return (t: number) => keep.map((j) => (cols[j][t] - stats[j].m) / stats[j].s);
}

/**
 * Fits the model on `train` and returns its predictions on `test`: ridge regression of the target (intercept
 * unpenalised: the target is centred), or L2-penalised logistic regression of its sign (Newton steps).
 */
export function fitPredict(
  cols: Float64Array[],
  y: Float64Array,
  train: number[],
  test: number[],
  o: Pick<CvOptions, "model" | "alpha">,
): Float64Array {
  const z = standardise(cols, train);
  const X = train.map(z), k = X[0]?.length ?? 0, n = train.length;
  if (!k) return new Float64Array(test.length);
  const lambda = o.alpha * n;
  if (o.model === "ridge") {
    const ym = train.reduce((a, t) => a + y[t], 0) / n;
    const A = new Float64Array(k * k), b = new Float64Array(k);
    X.forEach((x, r) => {
      for (let i = 0; i < k; i++) {
        b[i] += x[i] * (y[train[r]] - ym);
        for (let j = 0; j < k; j++) A[i * k + j] += x[i] * x[j];
      }
    });
    for (let i = 0; i < k; i++) A[i * k + i] += lambda;
    const beta = cholSolve(A, b, k);
    return Float64Array.from(test, (t) => z(t).reduce((a, v, i) => a + v * beta[i], ym));
  }
  // Logistic: w = (intercept, beta); Newton's method on the penalised log-likelihood (intercept unpenalised).
  const w = new Float64Array(k + 1);
  const rows = X.map((x) => [1, ...x]);
  const lab = train.map((t) => (y[t] > 0 ? 1 : 0));
  for (let it = 0; it < 25; it++) {
    const H = new Float64Array((k + 1) ** 2), g = new Float64Array(k + 1);
    rows.forEach((x, r) => {
      const p = 1 / (1 + Math.exp(-x.reduce((a, v, i) => a + v * w[i], 0)));
      const q = Math.max(p * (1 - p), 1e-9);
      for (let i = 0; i <= k; i++) {
        g[i] += (lab[r] - p) * x[i];
        for (let j = 0; j <= k; j++) H[i * (k + 1) + j] += q * x[i] * x[j];
      }
    });
    for (let i = 1; i <= k; i++) g[i] -= lambda * w[i], H[i * (k + 1) + i] += lambda;
    H[0] += 1e-9;
    const step = cholSolve(H, g, k + 1);
    let change = 0;
    for (let i = 0; i <= k; i++) w[i] += step[i], change = Math.max(change, Math.abs(step[i]));
    if (change < 1e-8) break;
  }
  return Float64Array.from(test, (t) => [1, ...z(t)].reduce((a, v, i) => a + v * w[i], 0));
}

/** The features chosen on `train`: the `topK` largest |Spearman IC| with the target, best first. */
export function selectOnTrain(
  cols: Float64Array[],
  y: Float64Array,
  train: number[],
  topK: number,
): number[] {
  const yt = train.map((t) => y[t]);
  const ic = cols.map((c) => Math.abs(spearman(train.map((t) => c[t]), yt)));
  return cols.map((_, j) => j).filter((j) => Number.isFinite(ic[j]))
    .sort((a, b) => ic[b] - ic[a] || a - b).slice(0, topK);
}

/** One fold's outcome. */
export interface FoldScore {
  /** Training rows (after purging and embargo). */
  train: number;
  /** Test rows. */
  test: number;
  /** Features selected on the training rows (names). */
  selected: string[];
  /** IC (ridge) or AUC (logistic) on the test rows. */
  score: number;
}

/**
 * Cross-validates: per fold, selects `topK` features on the training rows, fits the model there and scores
 * its predictions on the test rows. Returns each fold's score (NaN where a fold has no usable rows).
 */
export function crossValidate(
  names: string[],
  cols: Float64Array[],
  y: Float64Array,
  folds: Fold[],
  topK: number,
  o: CvOptions,
): FoldScore[] {
  return folds.map(({ train, test }) => {
    if (train.length < 10 || test.length < 2) {
      return { train: train.length, test: test.length, selected: [], score: NaN };
    }
    const chosen = selectOnTrain(cols, y, train, topK);
    const pred = fitPredict(chosen.map((j) => cols[j]), y, train, test, o);
    const yt = test.map((t) => y[t]);
    const score = o.model === "ridge" ? spearman(pred, yt) : auc(pred, yt.map((v) => v > 0));
    return { train: train.length, test: test.length, selected: chosen.map((j) => names[j]), score };
  });
}
