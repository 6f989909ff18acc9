#!/usr/bin/python3
"""make_bk_fixture.py -- reference fixture for the Baxter-King band-pass filter.

Writes tests/fixtures/bk_statsmodels.json, produced by statsmodels'
`statsmodels.tsa.filters.bk_filter.bkfilter`, to validate kernels/baxter_king.ts
(weights and the symmetric output) on the f64 path and on WebGPU.

How to run (from the repository root), with Debian's Python and statsmodels --
NOT a pyenv/virtualenv python, whose statsmodels version would differ:

    apt-get install -y python3-statsmodels
    /usr/bin/python3 scripts/make_bk_fixture.py [output-path]

(output-path defaults to tests/fixtures/bk_statsmodels.json). The series come
from numpy's legacy RandomState with fixed seeds, so re-running reproduces the
file byte for byte on the same numpy / statsmodels versions (Debian 12
"bookworm": numpy 1.24.2, statsmodels 0.13.5).

What bkfilter(x, low, high, K) computes (statsmodels 0.13.5, verbatim apart
from the docstring):

    omega_1 = 2. * np.pi / high  # convert from freq. to periodicity
    omega_2 = 2. * np.pi / low
    bweights = np.zeros(2 * K + 1)
    bweights[K] = (omega_2 - omega_1) / np.pi  # weight at zero freq.
    j = np.arange(1, int(K) + 1)
    weights = 1 / (np.pi * j) * (np.sin(omega_2 * j) - np.sin(omega_1 * j))
    bweights[K + j] = weights  # j is an idx
    bweights[:K] = weights[::-1]  # make symmetric weights
    bweights -= bweights.mean()  # make sure weights sum to zero
    if x.ndim == 2:
        bweights = bweights[:, None]
    x = fftconvolve(x, bweights, mode='valid')

so the output has len(x) - 2K points; output i is centred on input i + K.
The weights are not returned by bkfilter; they are recomputed here with the
same lines and checked against bkfilter applied to unit impulses.

Floats are written with Python's repr (shortest round-trip form), so the JSON
holds the exact doubles.
"""

import json
import sys

import numpy as np
import scipy
import statsmodels
from statsmodels.tsa.filters.bk_filter import bkfilter

N = 360
PARAMS = [(6, 32, 12), (6, 24, 30)]


def bk_weights(low, high, K):
    """The weights bkfilter uses (same lines as statsmodels 0.13.5)."""
    omega_1 = 2.0 * np.pi / high
    omega_2 = 2.0 * np.pi / low
    bweights = np.zeros(2 * K + 1)
    bweights[K] = (omega_2 - omega_1) / np.pi
    j = np.arange(1, int(K) + 1)
    weights = 1 / (np.pi * j) * (np.sin(omega_2 * j) - np.sin(omega_1 * j))
    bweights[K + j] = weights
    bweights[:K] = weights[::-1]
    bweights -= bweights.mean()
    return bweights


def series():
    rs = np.random.RandomState(20240401)
    log_price = 9.0 + np.cumsum(1e-3 * rs.standard_normal(N))
    rs = np.random.RandomState(20240402)
    returns = 1e-2 * rs.standard_normal(N)
    t = np.arange(N, dtype=np.float64)
    # Periods 4 (above the pass band), 12 (inside) and 60 (below), unit amplitudes, plus a level of 10.
    sinusoids = (
        10.0
        + np.sin(2 * np.pi * t / 4 + 0.5)
        + np.sin(2 * np.pi * t / 12 + 1.0)
        + np.sin(2 * np.pi * t / 60 + 2.0)
    )
    return [
        ("random-walk log price", log_price),
        ("returns", returns),
        ("sinusoids 4+12+60", sinusoids),
    ]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/bk_statsmodels.json"
    weights = []
    for low, high, K in PARAMS:
        w = bk_weights(low, high, K)
        # The weights are bkfilter's impulse response (symmetric, so no flip).
        impulse = np.zeros(4 * K + 1)
        impulse[2 * K] = 1.0
        resp = bkfilter(impulse, low, high, K)
        assert np.allclose(resp, w, rtol=0, atol=1e-15), (low, high, K)
        weights.append({"low": low, "high": high, "k": K, "w": [float(v) for v in w]})
    data = []
    for name, x in series():
        outputs = []
        for low, high, K in PARAMS:
            y = bkfilter(x, low, high, K)
            assert len(y) == N - 2 * K
            outputs.append({"low": low, "high": high, "k": K, "y": [float(v) for v in y]})
        data.append({"name": name, "x": [float(v) for v in x], "outputs": outputs})
    doc = {
        "generator": "statsmodels %s bkfilter (numpy %s, scipy %s), scripts/make_bk_fixture.py"
        % (statsmodels.__version__, np.__version__, scipy.__version__),
        "note": "y = bkfilter(x, low, high, k): len(x) - 2k points, y[i] centred on x[i + k]",
        "weights": weights,
        "series": data,
    }
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote %s" % out)


if __name__ == "__main__":
    main()
