#!/usr/bin/python3
"""make_feature_sets_fixture.py -- reference fixture for the rolling feature sets.

Writes tests/fixtures/feature_sets_tsfresh.json: for a few series and windows,
every feature of the `minimal`, `efficient` and `comprehensive` sets
(kernels/feature_sets.ts)
over each trailing window [t-w+1, t], computed with numpy/pandas by the
definitions of tsfresh's feature calculators (tsfresh 0.20,
tsfresh/feature_extraction/feature_calculators.py), copied below with only
the decorators removed (partial_autocorrelation calls statsmodels' pacf, as
tsfresh does). tsfresh itself is not packaged by Debian; its
calculators are thin wrappers over numpy/pandas, so copying them keeps the
reference exact.

How to run (from the repository root), with Debian's Python:

    apt-get install -y python3-pandas python3-scipy python3-statsmodels
    /usr/bin/python3 scripts/make_feature_sets_fixture.py [output-path]

Series come from numpy's legacy RandomState with fixed seeds, so re-running
reproduces the file on the same numpy / pandas / scipy / statsmodels versions
(Debian 12 "bookworm": numpy 1.24.2, pandas 1.5.3, scipy 1.10.1, statsmodels
0.13.5).

Conventions (the project's, applied on top of tsfresh's definitions): the
value at t is NaN while t < w - 1 and wherever the window holds a NaN/Inf.
Floats are written with repr (shortest round trip); NaN as null, +-inf as the
strings "Infinity" / "-Infinity" (sample_entropy is inf where no (m+1)-template
pair matches).
"""

import itertools
import json
import math
import sys

import numpy as np
import pandas as pd
import scipy
import statsmodels
from scipy.stats import linregress
from statsmodels.tsa.stattools import pacf


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


def _get_length_sequences_where(x):
    if len(x) == 0:
        return [0]
    else:
        res = [len(list(group)) for value, group in itertools.groupby(x) if value == 1]
        return res if len(res) > 0 else [0]


def _into_subchunks(x, subchunk_length, every_n=1):
    len_x = len(x)

    assert subchunk_length > 1
    assert every_n > 0

    # how often can we shift a window of size subchunk_length over the input?
    num_shifts = (len_x - subchunk_length) // every_n + 1
    shift_starts = every_n * np.arange(num_shifts)
    indices = np.arange(subchunk_length)

    indexer = np.expand_dims(indices, axis=0) + np.expand_dims(shift_starts, axis=1)
    return np.asarray(x)[indexer]


def partial_autocorrelation(x, param):
    # Check the difference between demanded lags by param and possible lags to calculate (depends on len(x))
    max_demanded_lag = max([lag["lag"] for lag in param])
    n = len(x)

    # Check if list is too short to make calculations
    if n <= 1:
        pacf_coeffs = [np.nan] * (max_demanded_lag + 1)
    else:
        # https://github.com/statsmodels/statsmodels/pull/6846
        # PACF limits lag length to 50% of sample size.
        if max_demanded_lag >= n // 2:
            max_lag = n // 2 - 1
        else:
            max_lag = max_demanded_lag
        if max_lag > 0:
            pacf_coeffs = list(pacf(x, method="ld", nlags=max_lag))
            pacf_coeffs = pacf_coeffs + [np.nan] * max(0, (max_demanded_lag - max_lag))
        else:
            pacf_coeffs = [np.nan] * (max_demanded_lag + 1)

    return [("lag_{}".format(lag["lag"]), pacf_coeffs[lag["lag"]]) for lag in param]


def fft_aggregated(x, param):
    assert {config["aggtype"] for config in param} <= {
        "centroid",
        "variance",
        "skew",
        "kurtosis",
    }, 'Attribute must be "centroid", "variance", "skew", "kurtosis"'

    def get_moment(y, moment):
        return y.dot(np.arange(len(y), dtype=float) ** moment) / y.sum()

    def get_centroid(y):
        return get_moment(y, 1)

    def get_variance(y):
        return get_moment(y, 2) - get_centroid(y) ** 2

    def get_skew(y):
        variance = get_variance(y)
        # In the limit of a dirac delta, skew should be 0 and variance 0.  However, in the discrete limit,
        # the skew blows up as variance --> 0, hence return nan when variance is smaller than a resolution of 0.5:
        if variance < 0.5:
            return np.nan
        else:
            return (
                get_moment(y, 3) - 3 * get_centroid(y) * variance - get_centroid(y) ** 3
            ) / get_variance(y) ** (1.5)

    def get_kurtosis(y):
        variance = get_variance(y)
        # In the limit of a dirac delta, kurtosis should be 3 and variance 0.  However, in the discrete limit,
        # the kurtosis blows up as variance --> 0, hence return nan when variance is smaller than a resolution of 0.5:
        if variance < 0.5:
            return np.nan
        else:
            return (
                get_moment(y, 4)
                - 4 * get_centroid(y) * get_moment(y, 3)
                + 6 * get_moment(y, 2) * get_centroid(y) ** 2
                - 3 * get_centroid(y)
            ) / get_variance(y) ** 2

    calculation = dict(
        centroid=get_centroid,
        variance=get_variance,
        skew=get_skew,
        kurtosis=get_kurtosis,
    )

    fft_abs = np.abs(np.fft.rfft(x))

    res = [calculation[config["aggtype"]](fft_abs) for config in param]
    index = ['aggtype_"{}"'.format(config["aggtype"]) for config in param]
    return zip(index, res)


def sample_entropy(x):
    x = np.array(x)

    # if one of the values is NaN, we can not compute anything meaningful
    if np.isnan(x).any():
        return np.nan

    m = 2  # common value for m, according to wikipedia...
    tolerance = 0.2 * np.std(
        x
    )  # 0.2 is a common value for r, according to wikipedia...

    # Split time series and save all templates of length m
    # Basically we turn [1, 2, 3, 4] into [1, 2], [2, 3], [3, 4]
    xm = _into_subchunks(x, m)

    # Now calculate the maximum distance between each of those pairs
    #   np.abs(xmi - xm).max(axis=1)
    # and check how many are below the tolerance.
    B = np.sum([np.sum(np.abs(xmi - xm).max(axis=1) <= tolerance) - 1 for xmi in xm])

    # Similar for computing A
    xmp1 = _into_subchunks(x, m + 1)

    A = np.sum(
        [np.sum(np.abs(xmi - xmp1).max(axis=1) <= tolerance) - 1 for xmi in xmp1]
    )

    # Return SampEn
    return -np.log(A / B)


def approximate_entropy(x, m, r):
    if not isinstance(x, (np.ndarray, pd.Series)):
        x = np.asarray(x)

    N = x.size
    r *= np.std(x)
    if r < 0:
        raise ValueError("Parameter r must be positive.")
    if N <= m + 1:
        return 0

    def _phi(m):
        x_re = np.array([x[i : i + m] for i in range(N - m + 1)])
        C = np.sum(
            np.max(np.abs(x_re[:, np.newaxis] - x_re[np.newaxis, :]), axis=2) <= r,
            axis=0,
        ) / (N - m + 1)
        return np.sum(np.log(C)) / (N - m + 1.0)

    return np.abs(_phi(m) - _phi(m + 1))


def permutation_entropy(x, tau, dimension):
    X = _into_subchunks(x, dimension, tau)
    if len(X) == 0:
        return np.nan
    # Now that is clearly black, magic, but see here:
    # https://stackoverflow.com/questions/54459554/numpy-find-index-in-sorted-array-in-an-efficient-way
    permutations = np.argsort(np.argsort(X))
    # Count the number of occurences
    _, counts = np.unique(permutations, axis=0, return_counts=True)
    # turn them into frequencies
    probs = counts / len(permutations)
    # and return their entropy
    return -np.sum(probs * np.log(probs))


def longest_strike_below_mean(x):
    if not isinstance(x, (np.ndarray, pd.Series)):
        x = np.asarray(x)
    return np.max(_get_length_sequences_where(x < np.mean(x))) if x.size > 0 else 0


def longest_strike_above_mean(x):
    if not isinstance(x, (np.ndarray, pd.Series)):
        x = np.asarray(x)
    return np.max(_get_length_sequences_where(x > np.mean(x))) if x.size > 0 else 0


def count_above_mean(x):
    m = np.mean(x)
    return np.where(x > m)[0].size


def count_below_mean(x):
    m = np.mean(x)
    return np.where(x < m)[0].size


def abs_energy(x):
    if not isinstance(x, (np.ndarray, pd.Series)):
        x = np.asarray(x)
    return np.dot(x, x)


def root_mean_square(x):
    return np.sqrt(np.mean(np.square(x))) if len(x) > 0 else np.NaN


def absolute_maximum(x):
    return np.max(np.absolute(x)) if len(x) > 0 else np.NaN


def absolute_sum_of_changes(x):
    return np.sum(np.abs(np.diff(x)))


def mean_change(x):
    x = np.asarray(x)
    return (x[-1] - x[0]) / (len(x) - 1) if len(x) > 1 else np.NaN


def mean_second_derivative_central(x):
    x = np.asarray(x)
    return (x[-1] - x[-2] - x[1] + x[0]) / (2 * (len(x) - 2)) if len(x) > 2 else np.NaN


def variance_larger_than_standard_deviation(x):
    y = np.var(x)
    return y > np.sqrt(y)


def has_duplicate_max(x):
    if not isinstance(x, (np.ndarray, pd.Series)):
        x = np.asarray(x)
    return np.sum(x == np.max(x)) >= 2


def has_duplicate_min(x):
    if not isinstance(x, (np.ndarray, pd.Series)):
        x = np.asarray(x)
    return np.sum(x == np.min(x)) >= 2


def last_location_of_maximum(x):
    x = np.asarray(x)
    return 1.0 - np.argmax(x[::-1]) / len(x) if len(x) > 0 else np.NaN


def first_location_of_maximum(x):
    if not isinstance(x, (np.ndarray, pd.Series)):
        x = np.asarray(x)
    return np.argmax(x) / len(x) if len(x) > 0 else np.NaN


def last_location_of_minimum(x):
    x = np.asarray(x)
    return 1.0 - np.argmin(x[::-1]) / len(x) if len(x) > 0 else np.NaN


def first_location_of_minimum(x):
    if not isinstance(x, (np.ndarray, pd.Series)):
        x = np.asarray(x)
    return np.argmin(x) / len(x) if len(x) > 0 else np.NaN


def cid_ce(x, normalize):
    if not isinstance(x, (np.ndarray, pd.Series)):
        x = np.asarray(x)
    if normalize:
        s = np.std(x)
        if s != 0:
            x = (x - np.mean(x)) / s
        else:
            return 0.0

    x = np.diff(x)
    return np.sqrt(np.dot(x, x))


def ratio_beyond_r_sigma(x, r):
    if not isinstance(x, (np.ndarray, pd.Series)):
        x = np.asarray(x)
    return np.sum(np.abs(x - np.mean(x)) > r * np.std(x)) / x.size


def _roll(a, shift):
    if not isinstance(a, np.ndarray):
        a = np.asarray(a)
    idx = shift % len(a)
    return np.concatenate([a[-idx:], a[:-idx]])


def c3(x, lag):
    if not isinstance(x, (np.ndarray, pd.Series)):
        x = np.asarray(x)
    n = x.size
    if 2 * lag >= n:
        return 0
    else:
        return np.mean((_roll(x, 2 * -lag) * _roll(x, -lag) * x)[0 : (n - 2 * lag)])


def time_reversal_asymmetry_statistic(x, lag):
    n = len(x)
    x = np.asarray(x)
    if 2 * lag >= n:
        return 0
    else:
        one_lag = _roll(x, -lag)
        two_lag = _roll(x, 2 * -lag)
        return np.mean(
            (two_lag * two_lag * one_lag - one_lag * x * x)[0 : (n - 2 * lag)]
        )


def large_standard_deviation(x, r):
    if not isinstance(x, (np.ndarray, pd.Series)):
        x = np.asarray(x)
    return np.std(x) > (r * (np.max(x) - np.min(x)))


def symmetry_looking(x, param):
    if not isinstance(x, (np.ndarray, pd.Series)):
        x = np.asarray(x)
    mean_median_difference = np.abs(np.mean(x) - np.median(x))
    max_min_difference = np.max(x) - np.min(x)
    return [
        ("r_{}".format(r["r"]), mean_median_difference < (r["r"] * max_min_difference))
        for r in param
    ]


def pacf_lag(x, lag):
    # tsfresh evaluates all demanded lags (1..5) in one call; the cap n // 2 - 1 depends on the largest.
    return dict(partial_autocorrelation(x, [{"lag": k} for k in PACF_LAGS]))["lag_{}".format(lag)]


def fft_agg(x, aggtype):
    return dict(fft_aggregated(x, [{"aggtype": aggtype}]))['aggtype_"{}"'.format(aggtype)]


PACF_LAGS = [1, 2, 3, 4, 5]


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
    **{f"autocorrelation__lag_{k}": (lambda k: lambda x: autocorrelation(x, k))(k) for k in range(1, 11)},
    **{f"partial_autocorrelation__lag_{k}": (lambda k: lambda x: pacf_lag(x, k))(k) for k in PACF_LAGS},
    **{
        f"fft_aggregated__aggtype_{a}": (lambda a: lambda x: fft_agg(x, a))(a)
        for a in ["centroid", "variance", "skew", "kurtosis"]
    },
    "mean_abs_change": mean_abs_change,
    "linear_trend__attr_slope": linear_trend_slope,
    "quantile__q_0.1": lambda x: quantile(x, 0.1),
    "quantile__q_0.9": lambda x: quantile(x, 0.9),
    "number_peaks__n_1": lambda x: number_peaks(x, 1),
    # comprehensive = efficient plus:
    "sample_entropy": sample_entropy,
    "approximate_entropy__m_2__r_0.2": lambda x: approximate_entropy(x, 2, 0.2),
    "permutation_entropy__dimension_3__tau_1": lambda x: permutation_entropy(x, 1, 3),
    # ComprehensiveFCParameters' grids: approximate_entropy m = 2 with r = 0.1 .. 0.9, permutation_entropy
    # tau = 1 with dimension 3 .. 7 (numpy's argsort of <= 16 values is an insertion sort: stable).
    **{
        f"approximate_entropy__m_2__r_{r}": (lambda r: lambda x: approximate_entropy(x, 2, r))(r)
        for r in [0.1, 0.3, 0.5, 0.7, 0.9]
    },
    **{
        f"permutation_entropy__dimension_{d}__tau_1": (lambda d: lambda x: permutation_entropy(x, 1, d))(d)
        for d in [4, 5, 6, 7]
    },
    "longest_strike_above_mean": longest_strike_above_mean,
    "longest_strike_below_mean": longest_strike_below_mean,
    "count_above_mean": count_above_mean,
    "count_below_mean": count_below_mean,
    "abs_energy": abs_energy,
    "root_mean_square": root_mean_square,
    "absolute_maximum": absolute_maximum,
    "absolute_sum_of_changes": absolute_sum_of_changes,
    "mean_change": mean_change,
    "mean_second_derivative_central": mean_second_derivative_central,
    "variance_larger_than_standard_deviation": variance_larger_than_standard_deviation,
    "has_duplicate_max": has_duplicate_max,
    "has_duplicate_min": has_duplicate_min,
    "first_location_of_maximum": first_location_of_maximum,
    "first_location_of_minimum": first_location_of_minimum,
    "last_location_of_maximum": last_location_of_maximum,
    "last_location_of_minimum": last_location_of_minimum,
    "cid_ce__normalize_True": lambda x: cid_ce(x, True),
    "ratio_beyond_r_sigma__r_1": lambda x: ratio_beyond_r_sigma(x, 1),
    "ratio_beyond_r_sigma__r_2": lambda x: ratio_beyond_r_sigma(x, 2),
    # more of tsfresh's ComprehensiveFCParameters grids:
    **{f"number_peaks__n_{n}": (lambda n: lambda x: number_peaks(x, n))(n) for n in [3, 5, 10]},
    **{f"quantile__q_{q}": (lambda q: lambda x: quantile(x, q))(q) for q in [0.2, 0.3, 0.4, 0.6, 0.7, 0.8]},
    **{f"c3__lag_{k}": (lambda k: lambda x: c3(x, k))(k) for k in [1, 2, 3]},
    **{
        f"time_reversal_asymmetry_statistic__lag_{k}": (lambda k: lambda x: time_reversal_asymmetry_statistic(x, k))(k)
        for k in [1, 2, 3]
    },
    "large_standard_deviation__r_0.25": lambda x: large_standard_deviation(x, 0.25),
    "symmetry_looking__r_0.05": lambda x: dict(symmetry_looking(x, [{"r": 0.05}]))["r_0.05"],
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
        with np.errstate(divide="ignore", invalid="ignore"):
            v = float(f(win.copy()))
        if math.isnan(v):
            out.append(None)
        elif math.isinf(v):
            out.append("Infinity" if v > 0 else "-Infinity")
        else:
            out.append(v)
    return out


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/feature_sets_tsfresh.json"
    data = {
        "generator": (
            f"scripts/make_feature_sets_fixture.py numpy {np.__version__} "
            f"pandas {pd.__version__} scipy {scipy.__version__} statsmodels {statsmodels.__version__}"
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
