"""Many origins use every core: the 1,000 x 1,000 30-minute matrix on the ~300k-node SYNTHETIC
benchmark network (as bench_engine.py), serial in process and on 1 and 2 local Dask worker
processes (``travel_time_matrix(client=...)``, the executor that scales out to a cluster).

Setup (starting workers, sending the network once per worker, each worker's snapping index)
is timed apart from the matrix; every result is compared with the serial one. The peer, measured
in the same run, is the machine's own ceiling: the same serial code on halves of the origins in
1 vs 2 plain ``concurrent.futures`` processes (on a shared machine other jobs take cores too).

Usage (one command; the lead reruns it on a quiet machine): ``python benchmarks/bench_matrix.py
[--origins 1000] [--repeat 5]``. The line starting ``RATIO`` is the 2-workers-vs-1 result
(target >= 1.7x); the load average is printed beside every row (meaningful below ~0.5 before a
run on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from cztgeo.parallel import connect
from cztgeo.routing import snap_points, travel_time_matrix
from cztgeo.testing import grid_lonlat, synthetic_grid

MINUTES = 30.0
_NET = None


def _load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def _init(side: int) -> None:
    global _NET
    _NET = synthetic_grid(
        side, 150.0, speed_kmh=25.0, hierarchy=True, hole_radius_m=8000.0, jitter_m=25.0
    )
    snap_points(_NET, [grid_lonlat(1, 1, 150.0)])


def _rows(task: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    o, d = task
    return travel_time_matrix(_NET, o, d, max_minutes=MINUTES, max_snap_m=5000.0).to_numpy()


def ceiling(side: int, pts: np.ndarray, n: int, repeat: int) -> list[float]:
    """The serial matrix on n plain processes (network built in each beforehand)."""
    with ProcessPoolExecutor(n, initializer=_init, initargs=(side,)) as ex:
        list(ex.map(_rows, [(pts[:1], pts[:1])] * n))  # wait for the initialisers
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            parts = np.array_split(np.arange(len(pts)), 8 * n)
            list(ex.map(_rows, [(pts[i], pts) for i in parts]))
            times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--side", type=int, default=548)
    ap.add_argument("--origins", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    net = synthetic_grid(
        args.side, 150.0, speed_kmh=25.0, hierarchy=True, hole_radius_m=8000.0, jitter_m=25.0
    )
    mid = (args.side - 1) / 2
    rng = np.random.default_rng(1)
    o_ij = rng.uniform(0, args.side - 1, size=(args.origins * 2, 2))
    o_ij = o_ij[np.hypot(*(o_ij - mid).T) * 150.0 > 8500.0][: args.origins]
    pts = np.array([grid_lonlat(i, j, 150.0) for i, j in o_ij])
    print(f"network: {net!r}; {len(pts)} x {len(pts)} matrix, {MINUTES:g} min")
    kw = {"max_minutes": MINUTES, "max_snap_m": 5000.0}
    snap_points(net, pts[:1])  # the snapping index, built once as any session would
    print(f"cores: {os.cpu_count()}; load average at start: {_load()}")
    rows = []
    load = _load()
    t0 = time.perf_counter()
    serial = travel_time_matrix(net, pts, pts, **kw)
    rows.append(("in process (serial loop)", np.nan, [time.perf_counter() - t0], True, load))
    for n in (1, 2):
        with connect(workers=n) as c:
            load = _load()
            t0 = time.perf_counter()
            travel_time_matrix(net, pts[:n], pts[:n], client=c, **kw)  # ship the network
            setup = time.perf_counter() - t0
            times, same = [], True
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                m = travel_time_matrix(net, pts, pts, client=c, **kw)
                times.append(time.perf_counter() - t0)
                same &= m.equals(serial)
        rows.append((f"{n} Dask worker process(es)", setup, times, same, load))
    for n in (1, 2):
        load = _load()
        rows.append(
            (f"peer: {n} plain process(es)", np.nan, ceiling(args.side, pts, n, args.repeat), True,
             load)
        )  # fmt: skip
    table = pd.DataFrame(
        [
            {
                "run": r,
                "setup_s": s,
                "min_s": min(t),
                "median_s": float(np.median(t)),
                "identical": same,
                "load before": load,
            }
            for r, s, t, same, load in rows
        ]
    )
    print(f"load average at the end: {_load()}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    one = table.loc[table["run"].str.startswith("1 "), ["min_s", "median_s"]].iloc[0]
    two = table.loc[table["run"].str.startswith("2 "), ["min_s", "median_s"]].iloc[0]
    print(f"RATIO 1,000 x 1,000 matrix, 2 Dask workers vs 1: {one['min_s'] / two['min_s']:.2f}x "
          f"(min), {one['median_s'] / two['median_s']:.2f}x (median); target >= 1.7x")  # fmt: skip
    p1 = table.loc[table["run"].str.startswith("peer: 1"), "min_s"].iloc[0]
    p2 = table.loc[table["run"].str.startswith("peer: 2"), "min_s"].iloc[0]
    print(f"machine ceiling now (plain processes, 2 vs 1): {p1 / p2:.2f}x (min)")


if __name__ == "__main__":
    main()
