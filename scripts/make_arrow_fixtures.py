#!/usr/bin/env python3
"""Writes small pyarrow-made input files and their expected values for tests/arrow_interop_test.ts:

tests/fixtures/arrow_pyarrow/   Feather v2 uncompressed, LZ4 and ZSTD (several record batches each) and a ZSTD
                                Arrow IPC stream (.arrows) of one table: nulls; timestamp[ms|us|ns] with and
                                without a time zone; date32; int8..uint32, int64; float16/32/64; decimal128 and
                                decimal256; numeric text as dictionary<int32, string>, string and large_string;
                                a dictionary of floats; text, boolean and half-numeric text columns.
tests/fixtures/parquet_pyarrow/ the same table (Arrow-only types left out) as Parquet: ZSTD with dictionary pages
                                and several row groups, Snappy without dictionaries, data page v2 with gzip.
expected.json in each folder: the files (record batches / row groups) and, for the one table they all hold, its
rows, timestamps and per column the values the reader must give (f64, epoch milliseconds for time columns, null
for a missing value), the columns it must skip and the columns with non-numeric cells.

pyarrow is needed only here, never at run or test time. Run (pyarrow from any wheel index):
  python3 -m venv /tmp/pa && /tmp/pa/bin/pip install pyarrow && /tmp/pa/bin/python scripts/make_arrow_fixtures.py
"""
import datetime as dt
import decimal
import json
import math
import os

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

N = 20
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
T0 = dt.datetime(2024, 3, 8, 14, 30, tzinfo=dt.timezone.utc)  # the US DST change falls inside the data


def column_data():
    """Columns as (name, pyarrow array, expected f64 values or None for a skipped column)."""
    minutes = [T0 + dt.timedelta(days=i // 8, minutes=i * 37) for i in range(N)]
    ms = [int(t.timestamp()) * 1000 for t in minutes]
    sub_us = [(i * 123457) % 1000000 for i in range(N)]  # sub-millisecond parts, in nanoseconds
    gaps = {3, 11, 17}  # rows with a missing value in the nullable columns
    price = [round(101.5 + 0.25 * ((i * 7) % 13) - 0.125 * (i % 3), 4) for i in range(N)]
    cols = []

    def add(name, arr, expected):
        cols.append((name, arr, expected))

    add("timestamp", pa.array([m * 1000 for m in ms], pa.timestamp("us", tz="UTC")), ms)
    add("ts_ms", pa.array(ms, pa.timestamp("ms")), ms)
    add("ts_us", pa.array([m * 1000 + u // 1000 for m, u in zip(ms, sub_us)], pa.timestamp("us")),
        [m + (u // 1000) / 1000 for m, u in zip(ms, sub_us)])
    add("ts_ns", pa.array([m * 1000000 + u for m, u in zip(ms, sub_us)], pa.timestamp("ns")),
        [m + u / 1e6 for m, u in zip(ms, sub_us)])
    add("ts_ms_ny", pa.array(ms, pa.timestamp("ms", tz="America/New_York")), ms)
    add("ts_ns_tokyo", pa.array([None if i in gaps else m * 1000000 for i, m in enumerate(ms)],
                                pa.timestamp("ns", tz="Asia/Tokyo")),
        [None if i in gaps else m for i, m in enumerate(ms)])
    add("trade_date", pa.array([t.date() for t in minutes], pa.date32()),
        [int(dt.datetime.combine(t.date(), dt.time(), dt.timezone.utc).timestamp()) * 1000 for t in minutes])
    close = [None if i in gaps else p for i, p in enumerate(price)]
    add("close", pa.array(close, pa.float64()), close)
    add("close_nan", pa.array([math.nan if i == 5 else p for i, p in enumerate(price)], pa.float64()),
        [None if i == 5 else p for i, p in enumerate(price)])
    add("open_f32", pa.array(price, pa.float32()), price)  # multiples of 1/8: exact in float32
    add("high_f16", pa.array([p for p in price], pa.float16()), [float(pa.scalar(p, pa.float16()).as_py()) for p in price])
    volume = [None if i in gaps else (i * 1000003) % 7919 * 10**9 for i in range(N)]
    add("volume", pa.array(volume, pa.int64()), volume)
    add("trades", pa.array([i * 3 - 20 for i in range(N)], pa.int32()), [i * 3 - 20 for i in range(N)])
    add("tick_i8", pa.array([(i % 7) - 3 for i in range(N)], pa.int8()), [(i % 7) - 3 for i in range(N)])
    add("lots_u16", pa.array([i * 2500 for i in range(N)], pa.uint16()), [i * 2500 for i in range(N)])
    add("seq_u32", pa.array([4000000000 + i for i in range(N)], pa.uint32()), [4000000000 + i for i in range(N)])
    dec = [None if i in gaps else decimal.Decimal(f"{p:.4f}") for i, p in enumerate(price)]
    add("price_dec128", pa.array(dec, pa.decimal128(12, 4)), [None if d is None else float(d) for d in dec])
    add("price_dec256", pa.array([None if d is None else -d for d in dec], pa.decimal256(40, 6)),
        [None if d is None else -float(d) for d in dec])
    text = [None if i in gaps else f"{p:.4f}" for i, p in enumerate(price)]
    add("price_dict", pa.array(text, pa.string()).dictionary_encode(), [None if t is None else float(t) for t in text])
    add("price_str", pa.array(text, pa.string()), [None if t is None else float(t) for t in text])
    add("price_large", pa.array(text, pa.large_string()), [None if t is None else float(t) for t in text])
    levels = [100.5, 101.25, 99.75]
    add("level_dict", pa.array([levels[i % 3] for i in range(N)], pa.float64()).dictionary_encode(),
        [levels[i % 3] for i in range(N)])
    add("symbol", pa.array(["AAPL" if i % 2 else "MSFT" for i in range(N)], pa.string()).dictionary_encode(),
        "skipped")
    add("venue", pa.array(["XNAS"] * N, pa.string()), "skipped")
    add("halted", pa.array([i % 5 == 0 for i in range(N)], pa.bool_()), "skipped")
    # Non-numeric cells, the first one non-ASCII (the reader's UTF-8 path), reported with row and text.
    bid_text = ["\u2014" if i == 4 else "n/a" if i == 9 else f"{p - 0.01:.2f}" for i, p in enumerate(price)]
    add("bid_text", pa.array(bid_text, pa.string()), {
        "badCells": {"row": 5, "value": "\u2014", "count": 2},
        "values": [None if i in (4, 9) else float(t) for i, t in enumerate(bid_text)],
    })
    return cols


def expected_entry(cols, rows, skip=()):
    out = {"rows": rows, "timestampColumn": "timestamp", "columns": {}, "skipped": [], "badCells": {}}
    for name, _, exp in cols:
        if name in skip:
            continue
        if name == "timestamp":
            out["timestamps"] = exp
        elif exp == "skipped":
            out["skipped"].append(name)
        elif isinstance(exp, dict):
            out["badCells"][name] = exp["badCells"]
            out["columns"][name] = exp["values"]
        else:
            out["columns"][name] = exp
    return out


def main():
    cols = column_data()
    table = pa.table({name: arr for name, arr, _ in cols})
    arrow_dir = os.path.join(ROOT, "arrow_pyarrow")
    os.makedirs(arrow_dir, exist_ok=True)
    expected = {"files": {}, "table": expected_entry(cols, N)}
    for comp in ["uncompressed", "lz4", "zstd"]:
        name = f"bars_{comp}.feather"
        feather.write_feather(table, os.path.join(arrow_dir, name), compression=comp, chunksize=8)
        expected["files"][name] = {"batches": 3}
    name = "bars_zstd_stream.arrows"
    with ipc.new_stream(os.path.join(arrow_dir, name), table.schema,
                        options=ipc.IpcWriteOptions(compression="zstd")) as w:
        for batch in table.to_batches(max_chunksize=8):
            w.write_batch(batch)
    expected["files"][name] = {"batches": 3}
    with open(os.path.join(arrow_dir, "expected.json"), "w") as f:
        json.dump(expected, f)

    # Parquet has no float16 column in older readers' eyes and stores dictionaries as plain strings.
    parquet_dir = os.path.join(ROOT, "parquet_pyarrow")
    os.makedirs(parquet_dir, exist_ok=True)
    skip = {"high_f16"}
    ptable = table.drop_columns(list(skip))
    variants = {
        "bars_zstd_dict.parquet": dict(compression="zstd", use_dictionary=True, row_group_size=6),
        "bars_snappy_plain.parquet": dict(compression="snappy", use_dictionary=False, row_group_size=8),
        "bars_gzip_v2.parquet": dict(compression="gzip", data_page_version="2.0", row_group_size=N),
    }
    expected = {"files": {}, "table": expected_entry(cols, N, skip)}
    for name, opts in variants.items():
        pq.write_table(ptable, os.path.join(parquet_dir, name), **opts)
        meta = pq.ParquetFile(os.path.join(parquet_dir, name)).metadata
        expected["files"][name] = {"rowGroups": meta.num_row_groups}
    with open(os.path.join(parquet_dir, "expected.json"), "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    main()
