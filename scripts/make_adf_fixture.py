#!/usr/bin/python3
"""make_adf_fixture.py -- reference fixture for the ADF and KPSS tests and the minimum-d search.

Writes tests/fixtures/adf_statsmodels.json, produced by statsmodels' `adfuller`,
`kpss`, `mackinnonp` and `mackinnoncrit`, to validate kernels/adf.ts,
kernels/kpss.ts and kernels/mackinnon.ts.

How to run (from the repository root), with Debian's Python and statsmodels --
NOT a pyenv/virtualenv python, whose statsmodels version would differ:

    apt-get install -y python3-statsmodels
    /usr/bin/python3 scripts/make_adf_fixture.py [output-path]

(output-path defaults to tests/fixtures/adf_statsmodels.json). Synthetic series
come from numpy's legacy RandomState with fixed seeds (Debian 12 "bookworm":
numpy 1.24.2, statsmodels 0.13.5), so re-running reproduces the file. The real
series are the DEM/GBP daily returns of tests/fixtures/dem2gbp.csv and their
cumulative sum (a log-price path).

Cases: every series x regression (n, c, ct, ctt) x autolag (AIC, BIC, t-stat,
None) with the default maxlag, plus maxlag=1/autolag=None (the minimum-d search's
test) and a few explicit maxlags; KPSS c/ct with nlags auto, legacy and an
integer, with statsmodels' InterpolationWarning recorded as "smaller"/"greater";
mackinnonp on a grid of statistics (both polynomial branches and the clamps);
mackinnoncrit for several nobs; and the minimum-d search (AFML snippet 5.4: FFD as
snippet 5.3 with kernels/fracdiff.ts's weight truncation, ADF maxlag=1 'c'
autolag=None, the 5% value, the correlation with the log price) on an 11-point
grid with bisection to 0.01, for a synthetic log price and the DEM/GBP path.
"""
import json
import sys
import warnings

import numpy as np
import statsmodels
from statsmodels.tools.sm_exceptions import InterpolationWarning
from statsmodels.tsa.adfvalues import mackinnoncrit, mackinnonp
from statsmodels.tsa.stattools import adfuller, kpss


def ar1(rs, n, phi, c=0.0, trend=0.0, trend2=0.0):
    e = rs.standard_normal(n)
    x = np.empty(n)
    prev = 0.0
    for t in range(n):
        prev = c + phi * prev + e[t]
        x[t] = prev
    t = np.arange(n)
    return x + trend * t + trend2 * t * t


def series():
    out = {}
    rs = np.random.RandomState(20240515)
    out["random_walk"] = np.cumsum(rs.standard_normal(500))
    out["ar1_0.5"] = ar1(rs, 400, 0.5)
    out["near_unit_0.98"] = ar1(rs, 800, 0.98)
    out["near_unit_0.995"] = ar1(rs, 1000, 0.995)
    out["near_unit_0.999"] = ar1(rs, 1200, 0.999)
    out["trend_stationary"] = ar1(rs, 600, 0.7, trend=0.05)
    out["random_walk_drift"] = np.cumsum(0.2 + rs.standard_normal(400))
    out["quadratic_trend"] = ar1(rs, 300, 0.6, trend=0.01, trend2=0.001)
    out["log_price_level"] = 4.6 + 0.01 * np.cumsum(rs.standard_normal(700))
    out["short_30"] = np.cumsum(rs.standard_normal(30))
    out["short_12"] = ar1(rs, 12, 0.3)
    out["short_7"] = ar1(rs, 7, 0.3)
    dem = np.loadtxt("tests/fixtures/dem2gbp.csv", skiprows=1)
    out["dem2gbp"] = dem
    out["dem2gbp_cumsum"] = np.cumsum(dem)
    return out


def adf_case(x, regression, autolag, maxlag=None):
    r = adfuller(x, maxlag=maxlag, regression=regression, autolag=autolag)
    return {
        "regression": regression,
        "autolag": "none" if autolag is None else autolag,
        "maxlag": maxlag,
        "adf_stat": float(r[0]),
        "p_value": float(r[1]),
        "usedlag": int(r[2]),
        "nobs": int(r[3]),
        "crit": {k: float(v) for k, v in r[4].items()},
        "icbest": None if autolag is None else float(r[5]),
    }


def safe_adf_case(x, regression, autolag, maxlag=None):
    try:
        return adf_case(x, regression, autolag, maxlag)
    except ValueError as e:  # too short for the regression / maxlag: the TS side must refuse too
        return {"regression": regression, "autolag": "none" if autolag is None else autolag,
                "maxlag": maxlag, "error": str(e)}


def kpss_case(x, regression, nlags):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stat, p, lags, crit = kpss(x, regression=regression, nlags=nlags)
    warn = None
    for w in caught:
        if issubclass(w.category, InterpolationWarning):
            warn = "smaller" if "smaller" in str(w.message) else "greater"
    return {
        "regression": regression,
        "nlags": nlags,
        "kpss_stat": float(stat),
        "p_value": float(p),
        "lags": int(lags),
        "crit": {k: float(v) for k, v in crit.items()},
        "warning": warn,
    }


def ffd_weights(d, thres):
    """kernels/fracdiff.ts ffdWeights: w_0 = 1, w_k = -w_{k-1} (d - k + 1) / k until |w_k| < thres."""
    w = [1.0]
    k = 1
    while True:
        nxt = -w[-1] * (d - k + 1) / k
        if abs(nxt) < thres:
            return np.array(w)
        w.append(nxt)
        k += 1


def ffd(x, d, thres):
    """AFML snippet 5.3 (fracDiff_FFD) on one NaN-free series: NaN until len(w) points exist."""
    w = ffd_weights(d, thres)
    out = np.full(len(x), np.nan)
    W = len(w)
    for t in range(W - 1, len(x)):
        out[t] = np.dot(w, x[t - W + 1 : t + 1][::-1])
    return out, W


def min_d_row(x, d, thres):
    """AFML snippet 5.4 for one d: ADF(maxlag=1, 'c', autolag=None) of the FFD series, 5% value, corr."""
    fd, W = ffd(x, d, thres)
    keep = ~np.isnan(fd)
    r = adfuller(fd[keep], maxlag=1, regression="c", autolag=None)
    corr = np.corrcoef(x[keep], fd[keep])[0, 1]
    return {"d": d, "adf_stat": float(r[0]), "p_value": float(r[1]), "nobs": int(r[3]),
            "critical": float(r[4]["5%"]), "ffd_window": W, "corr": float(corr)}


def min_d_case(name, x, thres, grid=11, precision=0.01):
    """The minimum-d search of kernels/min_d.ts: the grid, then bisection in the first rejecting bracket."""
    rows = [min_d_row(x, i / (grid - 1), thres) for i in range(grid)]
    first = next((i for i, r in enumerate(rows) if r["adf_stat"] < r["critical"]), None)
    d = None
    if first == 0:
        d = 0.0
    elif first is not None:
        lo, hi = (first - 1) / (grid - 1), first / (grid - 1)
        while hi - lo > precision:
            mid = float(f"{(lo + hi) / 2:.12g}")  # as kernels/min_d.ts: 12 significant digits
            r = min_d_row(x, mid, thres)
            rows.append(r)
            if r["adf_stat"] < r["critical"]:
                hi = mid
            else:
                lo = mid
        d = hi
    rows.sort(key=lambda r: r["d"])
    return {"name": name, "x": [float(v) for v in x], "threshold": thres, "grid": grid,
            "precision": precision, "d": d, "rows": rows}


def min_d_cases():
    rs = np.random.RandomState(5)
    # A log price: random walk plus a persistent AR(1) component (min d inside (0, 1)).
    walk = np.cumsum(rs.standard_normal(4000)) * 0.01
    ar = ar1(rs, 4000, 0.97) * 0.003
    dem = np.cumsum(np.loadtxt("tests/fixtures/dem2gbp.csv", skiprows=1)) / 100
    return [
        min_d_case("log_price_walk_ar", 4.6 + walk + ar, 1e-4),
        min_d_case("dem2gbp_cumsum", dem, 1e-3),
    ]


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/adf_statsmodels.json"
    cases = []
    for name, x in series().items():
        adf = []
        for regression in ["n", "c", "ct", "ctt"]:
            for autolag in ["AIC", "BIC", "t-stat", None]:
                adf.append(safe_adf_case(x, regression, autolag))
            adf.append(safe_adf_case(x, regression, None, maxlag=1))
        for maxlag in [0, 3]:
            adf.append(safe_adf_case(x, "c", "AIC", maxlag=maxlag))
            adf.append(safe_adf_case(x, "ct", "t-stat", maxlag=maxlag))
        kp = []
        for regression in ["c", "ct"]:
            for nlags in ["auto", "legacy", 4]:
                if nlags == 4 and len(x) <= 4:
                    continue
                kp.append(kpss_case(x, regression, nlags))
        cases.append({"name": name, "x": [float(v) for v in x], "adf": adf, "kpss": kp})
    stats = [float(s) for s in np.round(np.linspace(-30, 4, 137), 4)]
    pvals = {reg: [float(mackinnonp(s, regression=reg, N=1)) for s in stats] for reg in ["n", "c", "ct", "ctt"]}
    crit = {
        reg: {str(n): [float(v) for v in mackinnoncrit(N=1, regression=reg, nobs=n)] for n in [10, 25, 100, 1000, 229681]}
        for reg in ["n", "c", "ct", "ctt"]
    }
    doc = {
        "source": "scripts/make_adf_fixture.py",
        "statsmodels": statsmodels.__version__,
        "numpy": np.__version__,
        "cases": cases,
        "mackinnonp": {"stats": stats, "p": pvals},
        "mackinnoncrit": crit,
        "min_d": min_d_cases(),
    }
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
