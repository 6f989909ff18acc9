#!/usr/bin/python3
"""make_feature_sets_fixture.py -- reference fixture for the rolling feature sets.

Writes tests/fixtures/feature_sets_tsfresh.json: for a few series and windows,
every feature of the `minimal` and `efficient` sets (kernels/feature_sets.ts)
over each trailing window [t-w+1, t], computed with numpy/pandas by the
definitions of tsfresh's feature calculators (tsfresh 0.20,
tsfresh/feature_extraction/feature_calculators.py), copied below with only
the decorators removed. tsfresh itself is not packaged by Debian; its
calculators are thin wrappers over numpy/pandas, so copying them keeps the
reference exact.

How to run (from the repository root), with Debian's Python:

    apt-get install -y python3-pandas python3-scipy
    /usr/bin/python3 scripts/make_feature_sets_fixture.py [output-path]

Series come from numpy's legacy RandomState with fixed seeds, so re-running
reproduces the file on the same numpy / pandas / scipy versions (Debian 12
"bookworm": numpy 1.24.2, pandas 1.5.3, scipy 1.10.1).

Conventions (the project's, applied on top of tsfresh's definitions): the
value at t is NaN while t < w - 1 and wherever the window holds a NaN/Inf.
Floats are written with repr (shortest round trip); NaN as null.
"""

import json
import math
import sys

import numpy as np
import pandas as pd
import scipy
from scipy.stats import linregress


# --- tsfresh's feature calculators (verbatim apart from decorators) ----------

def mean(x):
    return np.mean(x)


def median(x):
    return np.median(x)


def standard_deviation(x):
    return np.std(x)


def variance(x):
    return np.var(x)


def minimum(x):
    return np.min(x)


def maximum(x):
    return np.max(x)


def sum_values(x):
    if len(x) == 0:
        return 0
    return np.sum(x)


def length(x):
    return len(x)


def skewness(x):
    if not isinstance(x, pd.Series):
        x = pd.Series(x)
    return pd.Series.skew(x)


def kurtosis(x):
    if not isinstance(x, pd.Series):
        x = pd.Series(x)
    return pd.Series.kurtosis(x)


def autocorrelation(x, lag):
    if isinstance(x, pd.Series):
        x = x.values
    if len(x) < lag:
        return np.nan
    y1 = x[: (len(x) - lag)]
    y2 = x[lag:]
    x_mean = np.mean(x)
    sum_product = np.sum((y1 - x_mean) * (y2 - x_mean))
    v = np.var(x)
    if np.isclose(v, 0):
        return np.nan
    else:
        return sum_product / ((len(x) - lag) * v)


def mean_abs_change(x):
    return np.mean(np.abs(np.diff(x)))


def linear_trend_slope(x):
    linReg = linregress(range(len(x)), x)
    return getattr(linReg, "slope")


def quantile(x, q):
    if len(x) == 0:
        return np.nan
    return np.quantile(x, q)


def number_peaks(x, n):
    x_reduced = x[n:-n]
    res = None
    for i in range(1, n + 1):
        result_first = x_reduced > np.roll(x, i)[n:-n]
        if res is None:
            res = result_first
        else:
            res &= result_first
        res &= x_reduced > np.roll(x, -i)[n:-n]
    return np.sum(res)


# Feature name (kernels/feature_sets.ts) -> function of one window.
FEATURES = {
    "mean": mean,
    "median": median,
    "standard_deviation": standard_deviation,
    "variance": variance,
    "minimum": minimum,
    "maximum": maximum,
    "sum_values": sum_values,
    "length": length,
    "skewness": skewness,
    "kurtosis": kurtosis,
    "autocorrelation__lag_1": lambda x: autocorrelation(x, 1),
    "autocorrelation__lag_2": lambda x: autocorrelation(x, 2),
    "autocorrelation__lag_3": lambda x: autocorrelation(x, 3),
    "mean_abs_change": mean_abs_change,
    "linear_trend__attr_slope": linear_trend_slope,
    "quantile__q_0.1": lambda x: quantile(x, 0.1),
    "quantile__q_0.9": lambda x: quantile(x, 0.9),
    "number_peaks__n_1": lambda x: number_peaks(x, 1),
}

N = 160
WINDOWS = [5, 24]


def series():
    rs = np.random.RandomState(7)
    walk = 9.0 + np.cumsum(1e-3 * rs.standard_normal(N))
    price = 1e4 * np.exp(np.cumsum(2e-3 * rs.standard_normal(N)))
    steps = np.round(rs.standard_normal(N) * 2.0) * 0.25 + 100.0  # ties and repeats
    steps[40:70] = 100.0  # a constant run: zero variance
    gaps = 9.0 + np.cumsum(1e-2 * rs.standard_normal(N))
    gaps[50:53] = np.nan
    gaps[100] = np.nan
    return {"walk": walk, "price": price, "steps": steps, "gaps": gaps}


def rolling(x, w, f):
    out = []
    for t in range(len(x)):
        if t < w - 1:
            out.append(None)
            continue
        win = x[t - w + 1: t + 1]
        if not np.all(np.isfinite(win)):
            out.append(None)
            continue
        v = float(f(win.copy()))
        out.append(None if math.isnan(v) else v)
    return out


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/feature_sets_tsfresh.json"
    data = {
        "generator": (
            f"scripts/make_feature_sets_fixture.py numpy {np.__version__} "
            f"pandas {pd.__version__} scipy {scipy.__version__}"
        ),
        "windows": WINDOWS,
        "series": [],
    }
    for name, x in series().items():
        entry = {"name": name, "x": [None if math.isnan(v) else float(v) for v in x], "features": {}}
        for w in WINDOWS:
            entry["features"][str(w)] = {f: rolling(x, w, fn) for f, fn in FEATURES.items()}
        data["series"].append(entry)
    with open(path, "w") as fh:
        json.dump(data, fh, separators=(",", ":"))
        fh.write("\n")


if __name__ == "__main__":
    main()
