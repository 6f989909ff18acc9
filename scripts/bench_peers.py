"""Peer figures for `deno task bench` (bench/peers.ts runs this; never a test or runtime dependency).

Times the Python libraries the issues compare against, on the bench's shapes, best of a few repetitions
(wall clock, like the bench), and prints one JSON object on stdout:
  {"versions": {...}, "peers": {name: {"what": ..., "points_per_s" | "seconds": ..., ...}}}
Names: ffd_1e6x1, ffd_16x1e6 (d = 0.4, threshold 1e-5: the best of scipy.signal fftconvolve and
oaconvolve, with that run's process CPU seconds), zscore_1e6x1, zscore_16x1e6 (pandas rolling(200)
z-score), corrcoef (numpy corrcoef of 256 columns x 1e5 rows; 64 with --quick, like bench/issue7.ts; and "pca",
numpy eigh of that correlation matrix on top), and
without --quick corrcoef_64x1e5 and corrcoef_1024x1e4; feather_write (with --feather FILE: pyarrow writing
that file's table as "write feather zstd", "write feather lz4", "write feather none" and "write parquet", ZSTD
at level 3 as ours; skipped without pyarrow).
Usage: python3 scripts/bench_peers.py [--quick] [--only a,b] [--feather FILE]
"""
import json
import sys
import time

import numpy as np
import pandas as pd
import scipy
from scipy.signal import fftconvolve, oaconvolve


def best(f, reps):
    return best_cpu(f, reps)[0]


def best_cpu(f, reps):
    """The best wall time of `reps` runs and that run's process CPU time (every thread)."""
    b, cpu = float("inf"), 0.0
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        f()
        w = time.perf_counter() - t
        if w < b:
            b, cpu = w, time.process_time() - c
    return b, cpu


def ffd_weights(d, threshold=1e-5):
    w = [1.0]
    k = 1
    while True:
        nxt = -w[-1] * (d - k + 1) / k
        if abs(nxt) < threshold:
            return np.array(w)
        w.append(nxt)
        k += 1


def walk(rows, cols, seed):
    rng = np.random.default_rng(seed)
    return 9 + np.cumsum(rng.standard_normal((cols, rows)) * 1e-3, axis=1)


def write_peers(path, reps, peers):
    """pyarrow writing the table of the Feather file at `path` in each of the bench's write formats."""
    import os
    import tempfile

    try:
        import pyarrow
        import pyarrow.feather as feather
        import pyarrow.parquet as pq
    except ImportError:
        return {}
    table = feather.read_table(path)
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "part")
        writers = {
            "write feather zstd": lambda: feather.write_feather(table, out, compression="zstd", compression_level=3),
            "write feather lz4": lambda: feather.write_feather(table, out, compression="lz4"),
            "write feather none": lambda: feather.write_feather(table, out, compression="uncompressed"),
            "write parquet": lambda: pq.write_table(table, out, compression="zstd", compression_level=3),
        }
        for name, f in writers.items():
            peers[name] = {"what": f"pyarrow {name[6:]}", "seconds": best(f, reps), "bytes": os.path.getsize(out)}
    return {"pyarrow": pyarrow.__version__}


def main():
    quick = "--quick" in sys.argv
    only = None
    if "--only" in sys.argv:
        only = set(sys.argv[sys.argv.index("--only") + 1].split(","))
    reps = 3 if quick else 5
    peers = {}
    want = lambda name: only is None or name in only  # noqa: E731
    w = ffd_weights(0.4)
    for name, cols in (("ffd_1e6x1", 1), ("ffd_16x1e6", 16)):
        if not want(name):
            continue
        x = walk(1_000_000, cols, 1)
        figures, cpu = {}, {}
        for label, f in (("fftconvolve", fftconvolve), ("oaconvolve", oaconvolve)):
            s, cpu[label] = best_cpu(lambda: f(x, w[None, :], axes=1), reps)
            figures[label] = x.size / s
        top = max(figures, key=figures.get)
        peers[name] = {"what": f"scipy.signal.{top}, d = 0.4 ({len(w)} weights)", "points_per_s": figures[top],
                       "seconds": x.size / figures[top], "cpu_seconds": cpu[top], "all": figures}
    for name, cols in (("zscore_1e6x1", 1), ("zscore_16x1e6", 16)):
        if not want(name):
            continue
        df = pd.DataFrame(walk(1_000_000, cols, 2).T)

        def z():
            r = df.rolling(200)
            return (df - r.mean()) / r.std()

        peers[name] = {"what": "pandas rolling(200) z-score", "points_per_s": df.size / best(z, reps)}
    if want("corrcoef"):
        # The first shape is "corrcoef"; without --quick also "corrcoef_64x1e5" and "corrcoef_1024x1e4".
        shapes = [(64, 100_000)] if quick else [(256, 100_000), (64, 100_000), (1024, 10_000)]
        for i, (cols, rows) in enumerate(shapes):
            x = np.diff(walk(rows + 1, cols, 3), axis=1)
            name = "corrcoef" if i == 0 else f"corrcoef_{cols}x{rows:.0e}".replace("+0", "")
            peers[name] = {"what": f"numpy corrcoef, {cols} x {rows:.0e}".replace("+0", ""), "cols": cols,
                           "rows": rows, "seconds": best(lambda: np.corrcoef(x), reps)}
            if i == 0:  # "pca": the PCA on top (correlation matrix, then numpy's LAPACK eigh)
                peers["pca"] = {"what": f"numpy corrcoef + eigh, {cols} x {rows:.0e}".replace("+0", ""),
                                "cols": cols, "rows": rows,
                                "seconds": best(lambda: np.linalg.eigh(np.corrcoef(x)), reps)}
    versions = {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__,
                "pandas": pd.__version__}
    if want("feather_write") and "--feather" in sys.argv:
        versions.update(write_peers(sys.argv[sys.argv.index("--feather") + 1], reps, peers))
    print(json.dumps({"versions": versions, "peers": peers}))


main()
