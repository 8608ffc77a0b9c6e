"""Accessibility at scale: origins per second in process, on 1 and on 2 local Dask workers, with
the peak memory of each worker, on

* the default (embedded, coarse) network: the 500 m grid of the metro area (~76k origins),
  times to the three centres and SYNTHETIC opportunities on a coarser grid;
* a SYNTHETIC >= 300k-node network (``cztgeo.testing.synthetic_grid``, as bench_engine):
  random origins, a 30-minute limit, SYNTHETIC opportunities.

It then projects the cost for Hunan province from the measured per-origin cost. Every run's
result is checked to be identical to the in-process one.

Usage: ``python benchmarks/bench_accessibility.py [--origins-300k 10000] [--opp-cell 2000]``
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cztgeo.accessibility import accessibility, origin_grid
from cztgeo.circle import Centre
from cztgeo.network import load_network
from cztgeo.parallel import connect
from cztgeo.testing import grid_lonlat, synthetic_grid


def _peak_mib() -> float:
    """This process's peak resident memory (VmHWM: reset at exec, unlike ru_maxrss, which a
    spawned worker inherits from the process that started it)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _warm() -> str:
    import cztgeo.access_search  # noqa: F401  (imports paid before timing)

    return "ok"


def run_case(label: str, net: Any, origins: gpd.GeoDataFrame, **kw: Any) -> list[dict[str, Any]]:
    rows = []
    t0 = time.perf_counter()
    base = accessibility(net, origins, **kw)
    dt = time.perf_counter() - t0
    rows.append({"case": label, "where": "in process", "origins": len(origins), "s": dt,
                 "origins/s": len(origins) / dt, "peak MiB/worker": np.nan, "identical": True})  # fmt: skip
    for n in (1, 2):
        with connect(workers=n) as c:
            assert c is not None
            c.run(_warm)
            idle = max(c.run(_peak_mib).values())
            t0 = time.perf_counter()
            res = accessibility(net, origins, client=c, **kw)
            dt = time.perf_counter() - t0
            peak = max(c.run(_peak_mib).values())
        same = pd.DataFrame(res.drop(columns="geometry")).equals(
            pd.DataFrame(base.drop(columns="geometry"))
        )
        rows.append({"case": label, "where": f"{n} worker(s)", "origins": len(origins), "s": dt,
                     "origins/s": len(origins) / dt,
                     "peak MiB/worker": peak, "idle MiB/worker": idle, "identical": same})  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--origins-300k", type=int, default=10_000)
    ap.add_argument("--opp-cell", type=float, default=2000.0, help="synthetic opportunity grid")
    ap.add_argument("--side", type=int, default=548, help="synthetic grid side (548: ~300k)")
    args = ap.parse_args()
    print(f"load average: {os.getloadavg()}")
    rows: list[dict[str, Any]] = []

    # 1. the default network, the metro grid
    net = load_network()
    grid = origin_grid(cell_m=500.0)
    rng = np.random.default_rng(0)
    opp_cells = origin_grid(cell_m=args.opp_cell)
    opp = gpd.GeoDataFrame(  # SYNTHETIC counts, for timing only
        {"population": rng.integers(1, 1000, len(opp_cells))},
        geometry=opp_cells.geometry.centroid, crs=opp_cells.crs,
    )  # fmt: skip
    print(f"default network: {net!r}; {len(grid):,} origins; {len(opp):,} SYNTHETIC "
          f"opportunity points ({args.opp_cell:g} m grid)")  # fmt: skip
    rows += run_case("metro 500 m grid, skeleton, 3 centres + opportunities 15/30/45",
                     net, grid, opportunities=opp, chunk_size=4000)  # fmt: skip

    # worker memory as origins grow: a quarter of the grid, then all of it (fresh workers)
    for part in (len(grid) // 4, len(grid)):
        with connect(workers=1) as c:
            assert c is not None
            c.run(_warm)
            accessibility(net, grid.iloc[:part], opportunities=opp, chunk_size=4000, client=c)
            print(f"worker peak with {part:,} origins: {max(c.run(_peak_mib).values()):.0f} MiB")

    # 2. a SYNTHETIC >= 300k-node network (as bench_engine.py), 30-minute limit
    big = synthetic_grid(args.side, 150.0, speed_kmh=25.0, hierarchy=True,
                         hole_radius_m=8000.0, jitter_m=25.0)  # fmt: skip
    mid = (args.side - 1) / 2
    ij = rng.uniform(0, args.side - 1, size=(args.origins_300k * 2, 2))
    ij = ij[np.hypot(*(ij - mid).T) * 150.0 > 8500.0][: args.origins_300k]
    pts = np.array([grid_lonlat(i, j, 150.0) for i, j in ij])
    origins = gpd.GeoDataFrame(geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]), crs=4326)
    dj = rng.uniform(0, args.side - 1, size=(4000, 2))
    dpts = np.array([grid_lonlat(i, j, 150.0) for i, j in dj])
    big_opp = gpd.GeoDataFrame({"population": rng.integers(1, 1000, len(dpts))},
                               geometry=gpd.points_from_xy(dpts[:, 0], dpts[:, 1]), crs=4326)  # fmt: skip
    centre = [Centre("c", "C", *grid_lonlat(mid - 70, mid, 150.0), "synthetic")]
    print(f"synthetic network: {big!r}; {len(origins):,} origins; 4,000 opportunity points")
    rows += run_case(f"SYNTHETIC {big.n_nodes:,}-node grid, 30 min limit", big, origins,
                     opportunities=big_opp, minutes=[30.0], to=centre, chunk_size=250)  # fmt: skip

    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    for case, g in table.groupby("case", sort=False):
        one = g[g["where"] == "1 worker(s)"]["s"].iloc[0]
        two = g[g["where"] == "2 worker(s)"]["s"].iloc[0]
        print(f"{case}: 2 workers vs 1: {one / two:.2f}x")
    big_rows = table[table["case"].str.startswith("SYNTHETIC")]
    ms = 1000.0 / big_rows[big_rows["where"] == "in process"]["origins/s"].iloc[0]
    print(f"\nper-origin cost on the {big.n_nodes:,}-node network (30 min, with counting): "
          f"{ms:.1f} ms")  # fmt: skip
    # Hunan: 211,800 km² (official area); a 500 m grid gives ~847k origins. A street-level
    # OSM drive network of the province is ASSUMED at ~4M nodes (not measured here). A limited
    # search costs in proportion to what it reaches, not to the network, so the per-origin cost
    # is taken as measured, plus the O(nodes) start of each search (scaled from this network).
    origins_hunan = 211_800 / 0.25
    from scipy.sparse import csgraph

    G = big.csr()
    t0 = time.perf_counter()
    for _ in range(20):  # a search that stops at once: the O(nodes) start, measured
        csgraph.dijkstra(G, indices=0, limit=1e-6)
    init_ms = (time.perf_counter() - t0) / 20 * 1000 * (4_000_000 / big.n_nodes)
    per = ms + init_ms
    print(f"search start on 4M nodes (scaled from this network): {init_ms:.1f} ms")
    for cores in (2, 16, 64, 256):
        hours = origins_hunan * per / 1000 / cores / 3600
        print(f"Hunan projection: {origins_hunan:,.0f} origins x {per:.1f} ms / {cores} cores "
              f"= {hours:.2f} h")  # fmt: skip


if __name__ == "__main__":
    main()
