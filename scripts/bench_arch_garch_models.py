"""Times Python `arch` fitting the GARCH family, one series at a time (as arch fits), for bench/garch.ts:
writes bench/arch_garch_models.json with the median seconds per fit of a 10,000-point series per model.

    /tmp/pa/bin/pip install arch        # arch 8.x
    /tmp/pa/bin/python scripts/bench_arch_garch_models.py    (from the repository root)

The series are simulated GJR-GARCH(1,1) percent returns with Student-t(5) shocks (mu 0.01, omega 0.02, alpha
0.04, gamma 0.1, beta 0.88), the process bench/garch.ts fits (numpy's generator, not the bench's: the figures
are per-fit times, not the same numbers). Default `arch_model(...).fit(disp="off")` (SLSQP, backcast), one
process, one thread per BLAS.
"""
import json
import os
import platform
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import arch  # noqa: E402
import numpy as np  # noqa: E402
from arch import arch_model  # noqa: E402

MODELS = {
    "garch11": dict(p=1, o=0, q=1, dist="normal"),
    "garch11_t": dict(p=1, o=0, q=1, dist="t"),
    "gjr11": dict(p=1, o=1, q=1, dist="normal"),
    "gjr11_t": dict(p=1, o=1, q=1, dist="t"),
    "garch11_skewt": dict(p=1, o=0, q=1, dist="skewt"),
    "garch21": dict(p=2, o=0, q=1, dist="normal"),
}


def simulate(n, rng):
    z = rng.standard_t(5, n + 500) * np.sqrt(3 / 5)
    r = np.empty(n + 500)
    h, e = 0.5, 0.0
    for t in range(n + 500):
        h = 0.02 + (0.04 + (0.1 if e < 0 else 0.0)) * e * e + 0.88 * h
        e = np.sqrt(h) * z[t]
        r[t] = 0.01 + e
    return r[500:]


rng = np.random.default_rng(20261207)
series = [simulate(10_000, rng) for _ in range(8)]
out = {}
for name, spec in MODELS.items():
    times = []
    for y in series:
        t0 = time.perf_counter()
        arch_model(y, mean="Constant", vol="GARCH", rescale=False, **spec).fit(disp="off")
        times.append(time.perf_counter() - t0)
    out[name] = float(np.median(times))
    print(f"{name}: {out[name] * 1000:.1f} ms per fit")
doc = {
    "source": "scripts/bench_arch_garch_models.py: median of 8 fits of 10,000 points, one process",
    "arch_version": arch.__version__,
    "python": platform.python_version(),
    "machine": platform.machine(),
    "seconds_per_fit": out,
}
with open("bench/arch_garch_models.json", "w") as f:
    json.dump(doc, f, indent=1)
print("wrote bench/arch_garch_models.json")
