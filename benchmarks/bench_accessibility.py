"""Accessibility at scale: origins per second in process, on 1 and on 2 local Dask workers, with
the peak memory of each worker and the load average beside every number, on

* the default (embedded, coarse) network: the 500 m grid of the metro area (~76k origins),
  times to the three centres and SYNTHETIC opportunities on a 2 km grid (15/30/45 minutes);
* a SYNTHETIC >= 300k-node network (``cztgeo.testing.synthetic_grid``, as bench_engine):
  10k random origins, one centre, a 30-minute limit, 4,000 SYNTHETIC opportunity points.

Every Dask result is compared with the in-process one (identical, geometry included). The peer
of the per-origin cost, measured in the same run, is one raw ``scipy.sparse.csgraph.dijkstra``
per origin with the same limit from its arc's head node (no snapping, no counting): the floor
of a one-search-per-origin method. Worker memory is shown for two origin counts (a quarter,
then all) on fresh workers. Last, a written projection for Hunan province from the measured
per-origin cost, with its assumptions.

Usage (one command; the lead reruns it on a quiet machine)::

    python benchmarks/bench_accessibility.py            # ~15 min on 2 idle cores
    python benchmarks/bench_accessibility.py --origins-300k 2000 --metro-step 4   # quicker

The lines starting ``RATIO`` are the 2-workers-vs-1 results (target >= 1.7x); ``PER-ORIGIN``
is the 300k-node cost (target <= 20 ms at 30 minutes). Both are only meaningful when the load
average printed beside them is below about 0.5 before the run (2 cores, nothing else running).
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from cztgeo.accessibility import accessibility, origin_grid
from cztgeo.circle import Centre
from cztgeo.network import load_network
from cztgeo.parallel import connect
from cztgeo.testing import SYNTHETIC_ORIGIN, synthetic_grid

SPACING_M = 150.0
HUNAN_KM2 = 211_800.0  # Hunan province, official land area (Hunan statistical yearbook)


def _load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


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


def _frame(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    out = pd.DataFrame(gdf.drop(columns="geometry"))
    out["wkb"] = gdf.geometry.to_wkb()
    return out


def _grid_points(ij: np.ndarray) -> gpd.GeoDataFrame:
    """Points at grid coordinates (i, j) of the synthetic network (vectorised grid_lonlat)."""
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32649", always_xy=True)
    x0, y0 = to_utm.transform(*SYNTHETIC_ORIGIN)
    return gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(x0 + ij[:, 0] * SPACING_M, y0 + ij[:, 1] * SPACING_M),
        crs="EPSG:32649",
    ).to_crs(4326)


def _on_workers(n: int, net: Any, origins: gpd.GeoDataFrame,
                **kw: Any) -> tuple[gpd.GeoDataFrame, float, float, float, str]:  # fmt: skip
    """A run on a fresh local cluster: result, seconds, idle and peak MiB per worker, load."""
    with connect(workers=n) as c:
        assert c is not None
        c.run(_warm)
        idle = max(c.run(_peak_mib).values())
        load = _load()
        t0 = time.perf_counter()
        res = accessibility(net, origins, client=c, **kw)
        dt = time.perf_counter() - t0
        peak = max(c.run(_peak_mib).values())
    return res, dt, idle, peak, load


def run_case(label: str, net: Any, origins: gpd.GeoDataFrame, **kw: Any) -> list[dict[str, Any]]:
    rows = []
    load = _load()
    t0 = time.perf_counter()
    base = accessibility(net, origins, **kw)
    dt = time.perf_counter() - t0
    rows.append({"case": label, "where": "in process", "origins": len(origins), "s": dt,
                 "origins/s": len(origins) / dt, "ms/origin": dt / len(origins) * 1000,
                 "idle MiB/worker": np.nan, "peak MiB/worker": np.nan, "identical": True,
                 "load before": load})  # fmt: skip
    expected = _frame(base)
    for n in (1, 2):
        res, dt, idle, peak, load = _on_workers(n, net, origins, **kw)
        rows.append({"case": label, "where": f"{n} worker(s)", "origins": len(origins), "s": dt,
                     "origins/s": len(origins) / dt, "ms/origin": dt / len(origins) * 1000,
                     "idle MiB/worker": idle, "peak MiB/worker": peak,
                     "identical": _frame(res).equals(expected), "load before": load})  # fmt: skip
    # worker memory as origins grow: a quarter of them on a fresh worker (all: the row above)
    quarter = origins.iloc[: len(origins) // 4]
    _, dt, idle, peak, load = _on_workers(1, net, quarter, **kw)
    rows.append({"case": label, "where": "1 worker(s), 1/4 of the origins",
                 "origins": len(quarter), "s": dt, "origins/s": len(quarter) / dt,
                 "ms/origin": dt / len(quarter) * 1000, "idle MiB/worker": idle,
                 "peak MiB/worker": peak, "identical": np.nan, "load before": load})  # fmt: skip
    return rows


def raw_dijkstra_ms(
    net: Any, origins: gpd.GeoDataFrame, limit_s: float, n: int
) -> tuple[float, float]:
    """The peer: one scipy search per origin from its arc's head node, same limit (ms per
    origin), and the mean number of nodes each search reaches."""
    from scipy.sparse import csgraph

    from cztgeo.routing import as_lonlat, snap_points

    snap = snap_points(net, as_lonlat(origins.iloc[:n]), max_snap_m=1e12)
    G = net.csr()
    heads = net.head[snap.arc]
    csgraph.dijkstra(G, indices=int(heads[0]), limit=limit_s)
    reached = 0
    t0 = time.perf_counter()
    for h in heads:
        reached += int(np.isfinite(csgraph.dijkstra(G, indices=int(h), limit=limit_s)).sum())
    return (time.perf_counter() - t0) / len(heads) * 1000, reached / len(heads)


def empty_search_ms(net: Any) -> float:
    """A search that stops at once: the O(nodes) start of every search (ms)."""
    from scipy.sparse import csgraph

    G = net.csr()
    t0 = time.perf_counter()
    for _ in range(20):
        csgraph.dijkstra(G, indices=0, limit=1e-6)
    return (time.perf_counter() - t0) / 20 * 1000


def hunan(ms: float, raw_ms: float, reached: float, init_ms: float, n_nodes: int,
          bench_km2: float, ratio: float) -> None:  # fmt: skip
    """The written projection for Hunan province."""
    origins = HUNAN_KM2 / 0.25  # a 500 m grid: one origin per 0.25 km²
    density = n_nodes / bench_km2
    print(f"\nHunan projection (from the measured per-origin cost; ASSUMPTIONS stated):\n"
          f"- area {HUNAN_KM2:,.0f} km² (official); a 500 m grid -> {origins:,.0f} origins\n"
          f"- the benchmark network: {n_nodes:,} nodes on {bench_km2:,.0f} km² "
          f"({density:.1f} nodes/km²); a 30-minute search reaches {reached:,.0f} nodes\n"
          f"- measured: {ms:.1f} ms per origin in process (the peer, a raw scipy search from the "
          f"origin's node: {raw_ms:.1f} ms); the O(nodes) start of a search {init_ms:.2f} ms\n"
          f"- ASSUMED: the province's OSM drive network has N nodes (not measured here: no "
          f"province extract offline); a 30-minute search reaches nodes in proportion to the "
          f"network's density (N / {HUNAN_KM2:,.0f} km², vs {density:.1f} here), capped at N; "
          f"the per-origin cost grows with the nodes reached (the measured {ms:.1f} ms scaled), "
          f"plus the start of each search growing with N; hours on c cores assume linear "
          f"scaling (core-hours / c; measured here: 2 workers {ratio:.2f}x one)")  # fmt: skip
    rows = []
    for n in (2_000_000, 5_000_000, 10_000_000):
        reach = min(n, reached * (n / HUNAN_KM2) / density)
        per = (ms - init_ms) * reach / reached + init_ms * n / n_nodes
        cpu_h = origins * per / 1000 / 3600
        rows.append({"nodes (ASSUMED)": f"{n / 1e6:.0f}M", "reached in 30 min": f"{reach:,.0f}",
                     "ms/origin": f"{per:.1f}", "core-hours": f"{cpu_h:.1f}",
                     **{f"h on {c} cores": f"{cpu_h / c:.2f}" for c in (2, 16, 64, 256)}})  # fmt: skip
    print(pd.DataFrame(rows).to_string(index=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--origins-300k", type=int, default=10_000)
    ap.add_argument("--metro-step", type=int, default=1, help="every n-th cell of the grid")
    ap.add_argument("--opp-cell", type=float, default=2000.0, help="synthetic opportunity grid")
    ap.add_argument("--side", type=int, default=548, help="synthetic grid side (548: ~291k)")
    args = ap.parse_args()
    print(f"cores: {os.cpu_count()}; load average at start: {_load()}")
    rows: list[dict[str, Any]] = []
    rng = np.random.default_rng(0)

    # 1. the default network, the metro grid
    net = load_network()
    grid = origin_grid(cell_m=500.0).iloc[:: args.metro_step]
    opp_cells = origin_grid(cell_m=args.opp_cell)
    opp = gpd.GeoDataFrame(  # SYNTHETIC counts, for timing only
        {"population": rng.integers(1, 1000, len(opp_cells))},
        geometry=opp_cells.geometry.centroid, crs=opp_cells.crs,
    )  # fmt: skip
    print(f"default network: {net!r}; {len(grid):,} origins; {len(opp):,} SYNTHETIC "
          f"opportunity points ({args.opp_cell:g} m grid)")  # fmt: skip
    rows += run_case("metro 500 m grid, skeleton, 3 centres + opportunities 15/30/45",
                     net, grid, opportunities=opp, chunk_size=2000)  # fmt: skip

    # 2. a SYNTHETIC >= 300k-node network (as bench_engine.py), 30-minute limit
    big = synthetic_grid(args.side, SPACING_M, speed_kmh=25.0, hierarchy=True,
                         hole_radius_m=8000.0, jitter_m=25.0)  # fmt: skip
    mid = (args.side - 1) / 2
    ij = rng.uniform(0, args.side - 1, size=(args.origins_300k * 2, 2))
    ij = ij[np.hypot(*(ij - mid).T) * SPACING_M > 8500.0][: args.origins_300k]
    origins = _grid_points(ij)
    big_opp = _grid_points(rng.uniform(0, args.side - 1, size=(4000, 2)))
    big_opp["population"] = rng.integers(1, 1000, len(big_opp))
    c_ll = _grid_points(np.array([[mid - 70, mid]])).geometry.iloc[0]
    centre = [Centre("c", "C", c_ll.x, c_ll.y, "synthetic")]
    print(f"synthetic network: {big!r}; {len(origins):,} origins; 4,000 opportunity points")
    label = f"SYNTHETIC {big.n_nodes:,}-node grid, 30 min limit"
    rows += run_case(label, big, origins, opportunities=big_opp, minutes=[30.0], to=centre,
                     chunk_size=200)  # fmt: skip
    load = _load()
    raw_ms, reached = raw_dijkstra_ms(big, origins, 1800.0, min(300, len(origins)))
    init_ms = empty_search_ms(big)

    table = pd.DataFrame(rows)
    print()
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    print()
    ratios = {}
    for case, g in table.groupby("case", sort=False):
        one = g[g["where"] == "1 worker(s)"].iloc[0]
        two = g[g["where"] == "2 worker(s)"].iloc[0]
        ratios[case] = one["s"] / two["s"]
        print(f"RATIO {case}: 2 workers vs 1 = {ratios[case]:.2f}x (target >= 1.7x; load before "
              f"1 worker: {one['load before']}, before 2: {two['load before']})")  # fmt: skip
        q = g[g["where"].str.contains("1/4")].iloc[0]
        print(f"MEMORY {case}: worker peak {q['peak MiB/worker']:,.0f} MiB with "
              f"{q['origins']:,} origins, {one['peak MiB/worker']:,.0f} MiB with "
              f"{one['origins']:,} (idle {one['idle MiB/worker']:,.0f} MiB)")  # fmt: skip
    g = table[table["case"] == label]
    inproc = g[g["where"] == "in process"].iloc[0]
    ms = inproc["ms/origin"]
    print(f"PER-ORIGIN on the {big.n_nodes:,}-node network (30 min, snapping and counting "
          f"included): {ms:.1f} ms in process (target <= 20 ms; load before "
          f"{inproc['load before']}); peer, a raw scipy dijkstra with the same limit from the "
          f"origin's node: {raw_ms:.1f} ms (load {load}); ratio {ms / raw_ms:.2f}; each search "
          f"reaches {reached:,.0f} nodes")  # fmt: skip
    side_km = (args.side - 1) * SPACING_M / 1000
    bench_km2 = side_km**2 - np.pi * 8.0**2
    hunan(ms, raw_ms, reached, init_ms, big.n_nodes, bench_km2, ratios[label])
    print(f"\nload average at the end: {_load()}")


if __name__ == "__main__":
    main()
