#!/usr/bin/env python3
"""Writes tests/fixtures/resample_pandas.json: 1-minute bars from Friday 2024-01-05 12:00 UTC to Monday
2024-01-08 03:16 UTC with a weekend gap (Fri 22:00 - Sun 22:00), an hour-long gap, ~5% missing minutes, a NaN
close and a NaN volume, resampled by pandas to 5min, 1h and 1d (origin="epoch", bars labelled by their start,
closed on the left), for tests/resample_test.ts.

Reference columns: open first, high max, low min, close last, volume sum (NaN skipped, as pandas does), vwap =
sum(tp * v) / sum(v) over rows where the typical price tp = (h + l + c) / 3 and v are both present, count =
rows per bar. Empty bins are dropped ("gaps stay gaps"); the `*_filled` variants keep them (pandas' own
convention: NaN prices, volume 0, count 0). NaN is written as null.

Run: /usr/bin/python3 scripts/make_resample_fixture.py   (Debian: apt-get install -y python3-pandas)
"""
import json
import os

import numpy as np
import pandas as pd


def main():
    rng = np.random.default_rng(7)
    idx = pd.date_range("2024-01-05 12:00", "2024-01-08 03:16", freq="1min", tz="UTC")
    weekend = (idx >= pd.Timestamp("2024-01-05 22:00", tz="UTC")) & (idx < pd.Timestamp("2024-01-07 22:00", tz="UTC"))
    hole = (idx >= pd.Timestamp("2024-01-05 15:10", tz="UTC")) & (idx < pd.Timestamp("2024-01-05 16:10", tz="UTC"))
    keep = ~weekend & ~hole & (rng.random(len(idx)) > 0.05)
    idx = idx[keep]
    n = len(idx)
    r = 1e-3 * rng.standard_normal(n)
    close = 1.1 * np.exp(np.cumsum(r))
    open_ = np.concatenate([[1.1], close[:-1]])
    high = np.maximum(open_, close) * (1 + 2e-4 * rng.random(n))
    low = np.minimum(open_, close) * (1 - 2e-4 * rng.random(n))
    volume = np.round(rng.gamma(2.0, 50.0, n))
    volume[rng.random(n) < 0.02] = 0.0
    close[100] = np.nan
    volume[200] = np.nan
    df = pd.DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=idx)
    tp = (df.high + df.low + df.close) / 3
    ok = tp.notna() & df.volume.notna()
    df["pv"] = (tp * df.volume).where(ok)
    df["vv"] = df.volume.where(ok)

    def nan(a):
        return [None if (isinstance(v, float) and np.isnan(v)) else v for v in a]

    out = {
        "generator": "scripts/make_resample_fixture.py (pandas %s)" % pd.__version__,
        "input": {
            "timestamp": [int(t.value // 1_000_000) for t in idx],
            **{c: nan(df[c].astype(float).tolist()) for c in ["open", "high", "low", "close", "volume"]},
        },
    }
    for every in ["5min", "1h", "1d"]:
        g = df.resample(every, origin="epoch", label="left", closed="left")
        bars = pd.DataFrame({
            "open": g.open.first(),
            "high": g.high.max(),
            "low": g.low.min(),
            "close": g.close.last(),
            "volume": g.volume.sum(),
            "pv": g.pv.sum(),
            "vv": g.vv.sum(),
            "count": g.size(),
        })
        bars["vwap"] = (bars.pv / bars.vv).where(bars.vv != 0)
        cols = ["open", "high", "low", "close", "volume", "vwap", "count"]
        for name, b in [(every, bars[bars["count"] > 0]), (every + "_filled", bars)]:
            out[name] = {
                "timestamp": [int(t.value // 1_000_000) for t in b.index],
                **{c: nan(b[c].astype(float).tolist()) for c in cols},
            }
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "resample_pandas.json")
    with open(path, "w") as fh:
        json.dump(out, fh)
    print("wrote", os.path.normpath(path), n, "rows")


if __name__ == "__main__":
    main()
