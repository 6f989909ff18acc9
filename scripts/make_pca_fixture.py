#!/usr/bin/env python3
"""Writes tests/fixtures/pca_numpy.json: a data matrix with factor structure, widely different scales, a
near-duplicate column and a few NaN rows, with numpy's correlation and covariance matrices and their
eigen-decompositions (numpy.linalg.eigh) on the complete rows, for tests/corr_pca_test.ts.

Conventions: eigenvalues in decreasing order; each eigenvector's sign is fixed so that its entry of largest
magnitude is positive; explained variance ratio = eigenvalue / sum of eigenvalues. NaN is written as null.

Run: /usr/bin/python3 scripts/make_pca_fixture.py   (Debian: apt-get install -y python3-numpy)
"""
import json
import os

import numpy as np


def eig_desc(m):
    w, v = np.linalg.eigh(m)
    order = np.argsort(w)[::-1]
    w, v = w[order], v[:, order]
    for k in range(v.shape[1]):
        big = np.argmax(np.abs(v[:, k]))
        if v[big, k] < 0:
            v[:, k] = -v[:, k]
    return w, v.T  # rows = components


def main():
    rng = np.random.default_rng(20240607)
    n, p = 600, 10
    f = rng.standard_normal((n, 3))
    load = rng.uniform(-1, 1, (3, p))
    x = f @ load + 0.5 * rng.standard_normal((n, p))
    x[:, 3] = x[:, 0] + 0.02 * rng.standard_normal(n)  # near-duplicate of column 0 (corr ~0.999)
    x[:, 6] = -x[:, 2] + 0.05 * rng.standard_normal(n)  # near-duplicate (negative) of column 2
    scales = np.array([1.0, 1e-3, 10.0, 1.0, 1e4, 0.5, 10.0, 2.0, 1e-2, 100.0])
    x = x * scales + np.arange(p) * 7.0 + 1000.0 * (np.arange(p) == 4)
    for r, c in [(5, 1), (17, 4), (300, 9), (599, 0)]:
        x[r, c] = np.nan
    xc = x[~np.isnan(x).any(axis=1)]
    corr = np.corrcoef(xc, rowvar=False)
    cov = np.cov(xc, rowvar=False)
    wc, vc = eig_desc(cov)
    wr, vr = eig_desc(corr)
    nan = lambda a: [[None if np.isnan(v) else float(v) for v in row] for row in a]
    out = {
        "generator": "scripts/make_pca_fixture.py (numpy %s)" % np.__version__,
        "columns": ["x%d" % j for j in range(p)],
        "data": nan(x.T),  # column-major: data[j] is column j
        "n_complete": int(xc.shape[0]),
        "corr": corr.tolist(),
        "cov": cov.tolist(),
        "cov_eigenvalues": wc.tolist(),
        "cov_ratio": (wc / wc.sum()).tolist(),
        "cov_components": vc.tolist(),
        "corr_eigenvalues": wr.tolist(),
        "corr_ratio": (wr / wr.sum()).tolist(),
        "corr_components": vr.tolist(),
    }
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "pca_numpy.json")
    with open(path, "w") as fh:
        json.dump(out, fh)
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
