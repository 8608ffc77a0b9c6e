"""Engine benchmark on a SYNTHETIC road-like network (~300k nodes, ~1.2M arcs).

Measures, in one run on this machine: cztgeo routing and isochrones, NetworkX Dijkstra, the
osmnx isochrone recipe (``networkx.ego_graph`` + buffered nodes and edges, as in the osmnx
examples), igraph, a 1,000-origin batch and cache load; prints one Markdown table with the
ratio of each peer to cztgeo, plus polygon IoU against the exact reference and vertex counts.

Usage: ``python benchmarks/bench_engine.py [--side 548] [--origins 1000]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from cztgeo.isochrones import isochrones
from cztgeo.network import read_network_cache
from cztgeo.routing import snap_points, travel_time_matrix, travel_times
from cztgeo.testing import grid_lonlat, synthetic_grid

MINUTES = 30.0
ACCESS_M = 100.0


def timed(func: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def iou(a: shapely.Geometry, b: shapely.Geometry) -> float:
    return float(a.intersection(b).area / a.union(b).area)


def osmnx_recipe(G: Any, node: int, net: Any) -> shapely.Geometry:
    """The osmnx examples' isochrone: ego_graph by travel time, then buffered nodes + edges."""
    import networkx as nx

    sub = nx.ego_graph(G, node, radius=MINUTES * 60, distance="travel_time")
    idx = np.fromiter(sub.nodes, dtype=np.int64)
    pts = shapely.points(net.x[idx], net.y[idx])
    uv = np.array([(u, v) for u, v in sub.edges()], dtype=np.int64).reshape(-1, 2)
    lines = shapely.linestrings(
        np.stack(
            [
                np.column_stack([net.x[uv[:, 0]], net.y[uv[:, 0]]]),
                np.column_stack([net.x[uv[:, 1]], net.y[uv[:, 1]]]),
            ],
            axis=1,
        )
    )
    return shapely.union_all(
        np.concatenate([shapely.buffer(pts, ACCESS_M), shapely.buffer(lines, ACCESS_M)])
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--side", type=int, default=548, help="grid side (548 -> ~300k nodes)")
    ap.add_argument("--origins", type=int, default=1000)
    ap.add_argument("--skip-slow", action="store_true", help="skip NetworkX/osmnx/exact")
    args = ap.parse_args()

    t0 = time.perf_counter()
    net = synthetic_grid(
        args.side, 150.0, speed_kmh=25.0, hierarchy=True, hole_radius_m=8000.0, jitter_m=25.0
    )
    build_s = time.perf_counter() - t0
    mid = (args.side - 1) / 2
    origin = grid_lonlat(mid - 70, mid, 150.0)  # west of the road-free disc
    print(f"network: {net!r} built in {build_s:.1f} s; origin {origin}")
    rows: list[tuple[str, float, str]] = []

    route_s, t = timed(lambda: travel_times(net, origin, max_minutes=MINUTES), 5)
    reached = int(np.isfinite(t).sum())
    rows.append(("cztgeo routing, 30 min (scipy C Dijkstra, snap + limit)", route_s, ""))
    iso_s, iso = timed(lambda: isochrones(net, origin, minutes=[MINUTES], access_m=ACCESS_M), 7)
    ours = iso.to_crs(net.crs).geometry.iloc[0]
    rows.append(("cztgeo full isochrone, 30 min (routing + polygon)", iso_s, ""))

    with tempfile.TemporaryDirectory() as d:
        path = net.save(Path(d) / "bench.cztnet")
        size_mb = path.stat().st_size / 1e6
        load_s, _ = timed(lambda: read_network_cache(path), 3)
    rows.append((f"cache load ({net.n_arcs:,} arcs, {size_mb:.0f} MB file)", load_s, ""))

    rng = np.random.default_rng(1)
    o_ij = rng.uniform(0, args.side - 1, size=(args.origins * 2, 2))
    o_ij = o_ij[np.hypot(*(o_ij - mid).T) * 150.0 > 8500.0][: args.origins]  # not in the disc
    pts = np.array([grid_lonlat(i, j, 150.0) for i, j in o_ij])
    snap_points(net, pts[:1])  # build the spatial index once, as any session would
    batch_s, mat = timed(
        lambda: travel_time_matrix(net, pts, pts, max_minutes=MINUTES, max_snap_m=5000), 1
    )
    rows.append(
        (
            f"{args.origins:,}-origin batch: {args.origins}x{args.origins} matrix, 30 min",
            batch_s,
            "",
        )
    )

    import igraph as ig

    g = ig.Graph(n=net.n_nodes, edges=np.column_stack([net.tail, net.head]).tolist(), directed=True)
    g.es["w"] = net.time_s.tolist()
    src = int(snap_points(net, origin).arc[0])
    src_node = int(net.tail[src])
    ig_s, _ = timed(lambda: g.distances(source=src_node, weights="w"), 3)
    rows.append(("igraph distances (full, no cutoff)", ig_s, f"{ig_s / route_s:.1f}x"))

    extra = []
    if not args.skip_slow:
        import networkx as nx

        G = net.to_networkx()
        nx_s, _ = timed(
            lambda: nx.single_source_dijkstra_path_length(
                G, src_node, cutoff=MINUTES * 60, weight="travel_time"
            ),
            1,
        )
        rows.append(("NetworkX Dijkstra, 30 min cutoff", nx_s, f"{nx_s / route_s:.0f}x"))
        rec_s, rec = timed(lambda: osmnx_recipe(G, src_node, net), 1)
        rows.append(
            ("osmnx recipe: ego_graph + buffered nodes/edges", rec_s, f"{rec_s / iso_s:.0f}x")
        )
        ex_s, ex = timed(
            lambda: isochrones(net, origin, minutes=[MINUTES], access_m=ACCESS_M, style="exact"), 1
        )
        exact = ex.to_crs(net.crs).geometry.iloc[0]
        rows.append(
            ("exact reference: buffer-union of reached pieces", ex_s, f"{ex_s / iso_s:.0f}x")
        )
        centre = shapely.Point(grid_lonlat(mid, mid, 150.0))
        extra = [
            f"IoU cztgeo vs exact reference: {iou(ours, exact):.4f}",
            f"IoU osmnx recipe vs exact reference: {iou(rec, exact):.4f}",
            f"vertices: cztgeo {shapely.get_num_coordinates(ours):,}, osmnx recipe "
            f"{shapely.get_num_coordinates(rec):,}, exact {shapely.get_num_coordinates(exact):,}",
            f"road-free disc centre inside polygon? cztgeo "
            f"{iso.geometry.iloc[0].covers(centre)}, exact {ex.geometry.iloc[0].covers(centre)}",
        ]

    print()
    print("| measure | seconds | peer / cztgeo |")
    print("|---|---:|---:|")
    for name, secs, ratio in rows:
        print(f"| {name} | {secs:.3f} | {ratio} |")
    print()
    print(f"nodes reached in 30 min: {reached:,} of {net.n_nodes:,}")
    print(f"isochrone area {iso['area_km2'].iloc[0]:.1f} km², grid {iso['resolution_m'].iloc[0]} m")
    print(f"matrix pairs within 30 min: {int(np.isfinite(mat.to_numpy()).sum()):,}")
    for line in extra:
        print(line)


if __name__ == "__main__":
    main()
