"""Engine benchmark on a SYNTHETIC road-like network (~291k nodes, ~1.16M arcs).

Measures, in one run on this machine, min and median of ``--repeat`` runs each, with the peer
measured in the same run:

- the full 30-minute isochrone (routing + polygon) against one raw scipy Dijkstra with the
  same limit on the network's own CSR matrix (the floor);
- routing alone against the same Dijkstra, and igraph: python-igraph offers no time limit for
  weighted distances, so it is timed on the part of the network a 30-minute search explores
  (the nodes it settles and the arcs leaving them: the same work as a cut-off search), and its
  full search against scipy's full search;
- NetworkX Dijkstra with the cutoff; pandana (contraction hierarchies, build time reported
  separately) when it is installed;
- the competent osmnx recipe (``ego_graph`` by travel time, each road buffered once, no node
  buffers, one union) and the osmnx notebook recipe (nodes and both directions buffered);
- load to first answer: a 1.16M-arc cache read, then the first travel-time query (snapping
  index, reverse arcs, Dijkstra), against the bare file read;
- a 1,000-origin matrix (one run; ``--origins 0`` skips it).

It prints the polygon's IoU against the exact reference (buffer-union of the reached pieces),
vertex counts, the machine's load average (in the table) and the peak memory of the engine
work alone (a fresh process: cache read, a query, an isochrone, a 100-origin matrix; target
<= 0.5 GiB) beside that of this whole process (NetworkX, igraph and pandana copies included).

pandana is optional (``pip install -e .[bench]``); without it its rows say "not installed".

Usage: ``python benchmarks/bench_engine.py [--side 548] [--origins 1000] [--repeat 7]``
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from scipy.sparse import csgraph

from cztgeo.isochrones import isochrones
from cztgeo.network import read_network_cache
from cztgeo.routing import snap_points, travel_time_matrix, travel_times
from cztgeo.testing import grid_lonlat, synthetic_grid

MINUTES = 30.0
ACCESS_M = 100.0


def timed(func: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times), out


def paired(
    base: Callable[[], Any], func: Callable[[], Any], repeat: int
) -> tuple[list[float], list[float], Any]:
    """Times of ``base`` and ``func`` run alternately (on a shared machine the load drifts:
    each ratio compares two runs a moment apart), and ``func``'s last result."""
    tb, tf, out = [], [], None
    for _ in range(repeat):
        t = time.perf_counter()
        base()
        tb.append(time.perf_counter() - t)
        t = time.perf_counter()
        out = func()
        tf.append(time.perf_counter() - t)
    return tb, tf, out


def iou(a: shapely.Geometry, b: shapely.Geometry) -> float:
    return float(a.intersection(b).area / a.union(b).area)


def _lines(net: Any, uv: np.ndarray) -> np.ndarray:
    a = np.column_stack([net.x[uv[:, 0]], net.y[uv[:, 0]]])
    b = np.column_stack([net.x[uv[:, 1]], net.y[uv[:, 1]]])
    return shapely.linestrings(np.stack([a, b], axis=1))


def osmnx_recipe(G: Any, node: int, net: Any) -> shapely.Geometry:
    """A competent osmnx isochrone: ego_graph by travel time, each road (either direction)
    buffered once, no node buffers, one union."""
    import networkx as nx

    sub = nx.ego_graph(G, node, radius=MINUTES * 60, distance="travel_time")
    uv = np.array([(u, v) for u, v in sub.edges()], dtype=np.int64).reshape(-1, 2)
    uv = np.unique(np.sort(uv, axis=1), axis=0)  # one line per road
    return shapely.union_all(shapely.buffer(_lines(net, uv), ACCESS_M))


def osmnx_notebook(G: Any, node: int, net: Any) -> shapely.Geometry:
    """The osmnx examples' isochrone: ego_graph, then buffered nodes and (directed) edges."""
    import networkx as nx

    sub = nx.ego_graph(G, node, radius=MINUTES * 60, distance="travel_time")
    idx = np.fromiter(sub.nodes, dtype=np.int64)
    uv = np.array([(u, v) for u, v in sub.edges()], dtype=np.int64).reshape(-1, 2)
    pts = shapely.points(net.x[idx], net.y[idx])
    return shapely.union_all(
        np.concatenate([shapely.buffer(pts, ACCESS_M), shapely.buffer(_lines(net, uv), ACCESS_M)])
    )


def exact_reference(net: Any, origin: tuple[float, float]) -> shapely.Geometry:
    """Buffer-union of the reached pieces (cut where time runs out) and the origin's street."""
    t = travel_times(net, origin, max_minutes=MINUTES) * 60.0
    tail = np.repeat(np.arange(net.n_nodes), np.diff(net.indptr))
    ok = t[tail] <= MINUTES * 60
    f = np.clip((MINUTES * 60 - t[tail][ok]) / net.time_s[ok], 0.0, 1.0)
    h = net.head[ok]
    x0, y0 = net.x[tail][ok], net.y[tail][ok]
    ends = np.column_stack([x0 + f * (net.x[h] - x0), y0 + f * (net.y[h] - y0)])
    lines = shapely.linestrings(np.stack([np.column_stack([x0, y0]), ends], axis=1))
    sn = snap_points(net, origin)
    a = sn.arc[0]
    own = shapely.LineString(
        [(net.x[net.tail[a]], net.y[net.tail[a]]), (net.x[net.head[a]], net.y[net.head[a]])]
    )
    return shapely.union_all(shapely.buffer(np.r_[lines, [own]], ACCESS_M, quad_segs=8))


def igraph_search_area(net: Any, G_csr: Any, src: int) -> tuple[Any, int, np.ndarray]:
    """The part of the network a 30-minute Dijkstra explores, as an igraph graph: the nodes it
    settles, the arcs leaving them and the nodes those reach (igraph cannot stop at a limit)."""
    import igraph as ig

    settled = np.isfinite(csgraph.dijkstra(G_csr, indices=src, limit=MINUTES * 60))
    arcs = np.flatnonzero(settled[net.tail])
    used, inv = np.unique(np.r_[net.tail[arcs], net.head[arcs]], return_inverse=True)
    sub = ig.Graph(n=used.size, edges=inv.reshape(2, -1).T.tolist(), directed=True)
    sub.es["w"] = net.time_s[arcs].tolist()
    return sub, int(np.searchsorted(used, src)), used


ENGINE_SCRIPT = """
import resource, sys
import numpy as np
from cztgeo.isochrones import isochrones
from cztgeo.network import read_network_cache
from cztgeo.routing import travel_time_matrix, travel_times
net = read_network_cache(sys.argv[1])
o = (float(sys.argv[2]), float(sys.argv[3]))
travel_times(net, o, max_minutes=30)
isochrones(net, o, minutes=[15, 30], access_m=100)
rng = np.random.default_rng(0)
pts = np.array(o) + rng.normal(0, 0.01, size=(100, 2))
travel_time_matrix(net, pts, max_minutes=30, max_snap_m=5000)
with open("/proc/self/status") as fh:
    print([ln.split()[1] for ln in fh if ln.startswith("VmHWM")][0])
"""


def engine_peak_gib(path: Path, origin: tuple[float, float]) -> float:
    """Peak resident memory (VmHWM) of a fresh process doing the engine work on the cache."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", ENGINE_SCRIPT, str(path), str(origin[0]), str(origin[1])],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return int(out.stdout.split()[-1]) / 2**20  # kB -> GiB


def pandana_rows(net: Any, node: int, repeat: int) -> list[tuple[str, float, float, str]]:
    try:
        import pandana
    except ImportError:
        return [("pandana: not installed (pip install pandana, or the bench extra)",
                 float("nan"), float("nan"), "")]  # fmt: skip
    import pandas as pd

    tail = np.repeat(np.arange(net.n_nodes), np.diff(net.indptr))
    nodes = pd.DataFrame({"x": net.x, "y": net.y})
    edges = pd.DataFrame({"from": tail, "to": net.head, "w": net.time_s})
    b_min, b_med, p = timed(
        lambda: pandana.Network(nodes["x"], nodes["y"], edges["from"], edges["to"], edges[["w"]],
                                twoway=False),
        1,
    )  # fmt: skip
    q_min, q_med, _ = timed(lambda: p.nodes_in_range([node], MINUTES * 60, "w"), repeat)
    return [
        ("pandana: contraction hierarchy build (once)", b_min, b_med, ""),
        ("pandana: nodes within 30 min (nodes_in_range)", q_min, q_med, ""),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=548, help="grid side (548 -> ~291k nodes)")
    ap.add_argument("--origins", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--skip-slow", action="store_true", help="skip NetworkX, osmnx, exact")
    args = ap.parse_args()
    r = args.repeat
    load_start = os.getloadavg()[0]

    t0 = time.perf_counter()
    net = synthetic_grid(
        args.side, 150.0, speed_kmh=25.0, hierarchy=True, hole_radius_m=8000.0, jitter_m=25.0
    )
    build_s = time.perf_counter() - t0
    mid = (args.side - 1) / 2
    origin = grid_lonlat(mid - 70, mid, 150.0)  # west of the road-free disc
    print(f"network: {net!r} built in {build_s:.1f} s; origin {origin}")
    src_node = int(net.tail[snap_points(net, origin).arc[0]])
    G_csr = net.csr()
    rows: list[tuple[str, float, float, str]] = []

    def row(
        name: str, mn: float, md: float, peer_md: float | None = None, inv: bool = False
    ) -> None:
        ratio = "" if peer_md is None else f"{(md / peer_md if inv else peer_md / md):.1f}x"
        rows.append((name, mn, md, ratio))

    def prow(name: str, base: list[float], times: list[float]) -> None:
        """A row timed in alternation with ``base``: the ratios of the mins and of the
        medians (a single pair's ratio is at the mercy of the other jobs on the machine)."""
        mn, md = min(times), statistics.median(times)
        rows.append((name, mn, md, f"min {mn / min(base):.1f}x, median "
                     f"{md / statistics.median(base):.1f}x"))  # fmt: skip

    def floor() -> Any:
        return csgraph.dijkstra(G_csr, indices=src_node, limit=MINUTES * 60)

    isochrones(net, origin, minutes=[MINUTES], access_m=ACCESS_M)  # warm: snapping index, CSR
    d_times, iso_times, iso = paired(
        floor, lambda: isochrones(net, origin, minutes=[MINUTES], access_m=ACCESS_M), r
    )
    row("floor: one scipy Dijkstra, 30-min limit, the network's CSR", min(d_times),
        statistics.median(d_times))  # fmt: skip
    prow("cztgeo full isochrone, 30 min (snap + route + polygon) / floor (target <= 6x)",
         d_times, iso_times)  # fmt: skip
    d2, rt_times, t = paired(floor, lambda: travel_times(net, origin, max_minutes=MINUTES), r)
    prow("cztgeo routing, 30 min (snap + Dijkstra) / floor", d2, rt_times)
    rt_med = statistics.median(rt_times)
    iso_med = statistics.median(iso_times)
    ours = iso.to_crs(net.crs).geometry.iloc[0]

    import igraph as ig

    g = ig.Graph(n=net.n_nodes, edges=np.column_stack([net.tail, net.head]).tolist(), directed=True)
    g.es["w"] = net.time_s.tolist()
    sub, sub_src, sub_nodes = igraph_search_area(net, G_csr, src_node)
    d3, ic_times, ic = paired(floor, lambda: sub.distances(source=sub_src, weights="w"), r)
    prow("igraph distances on the 30-min search area (no weighted cutoff in igraph) / floor",
         d3, ic_times)  # fmt: skip
    f_min, f_med, _ = timed(lambda: csgraph.dijkstra(G_csr, indices=src_node), r)
    row("scipy Dijkstra, full search (no limit)", f_min, f_med)
    ig_min, ig_med, _ = timed(lambda: g.distances(source=src_node, weights="w"), r)
    row("igraph distances, full search / scipy full", ig_min, ig_med, f_med, inv=True)
    rows.extend(pandana_rows(net, src_node, r))
    scipy_30 = csgraph.dijkstra(G_csr, indices=src_node, limit=MINUTES * 60)[sub_nodes]
    ig_30 = np.asarray(ic[0])
    within = np.isfinite(scipy_30)
    same = bool(np.allclose(ig_30[within], scipy_30[within], rtol=1e-9))

    with tempfile.TemporaryDirectory() as d:
        path = net.save(Path(d) / "bench.cztnet")
        size_mb = path.stat().st_size / 1e6
        rd_times, fa_times, _ = paired(
            lambda: read_network_cache(path),
            lambda: travel_times(read_network_cache(path), origin, max_minutes=MINUTES),
            r,
        )
        row(f"cache read ({net.n_arcs:,} arcs, {size_mb:.0f} MB file)", min(rd_times),
            statistics.median(rd_times))  # fmt: skip
        prow("load to first answer: cache read + first 30-min query (target <= 0.150 s) / "
             "cache read", rd_times, fa_times)  # fmt: skip
        engine_gib = engine_peak_gib(path, origin)

    extra = [f"igraph on the search area equals scipy's 30-min times: {same}"]
    if not args.skip_slow:
        import networkx as nx

        G = net.to_networkx()
        nx_min, nx_med, _ = timed(
            lambda: nx.single_source_dijkstra_path_length(
                G, src_node, cutoff=MINUTES * 60, weight="travel_time"
            ),
            min(r, 5),
        )
        row("NetworkX Dijkstra, 30-min cutoff / cztgeo routing", nx_min, nx_med, rt_med, inv=True)
        rec_min, rec_med, rec = timed(lambda: osmnx_recipe(G, src_node, net), 5)
        row("osmnx recipe, competent (each road buffered once) / cztgeo isochrone", rec_min,
            rec_med, iso_med, inv=True)  # fmt: skip
        nb_min, nb_med, nb = timed(lambda: osmnx_notebook(G, src_node, net), 1)
        row("osmnx notebook recipe (nodes + both directions, 1 run) / cztgeo isochrone",
            nb_min, nb_med, iso_med, inv=True)  # fmt: skip
        exact = exact_reference(net, origin)
        centre = shapely.Point(grid_lonlat(mid, mid, 150.0))
        extra += [
            f"IoU vs exact reference (buffer-union of reached pieces): cztgeo "
            f"{iou(ours, exact):.4f}, competent recipe {iou(rec, exact):.4f}, notebook recipe "
            f"{iou(nb, exact):.4f}",
            f"vertices: cztgeo {shapely.get_num_coordinates(ours):,}, competent recipe "
            f"{shapely.get_num_coordinates(rec):,}, exact {shapely.get_num_coordinates(exact):,}",
            f"road-free disc centre inside polygon? cztgeo {iso.geometry.iloc[0].covers(centre)}",
        ]
    if args.origins:
        rng = np.random.default_rng(1)
        o_ij = rng.uniform(0, args.side - 1, size=(args.origins * 2, 2))
        o_ij = o_ij[np.hypot(*(o_ij - mid).T) * 150.0 > 8500.0][: args.origins]
        pts = np.array([grid_lonlat(i, j, 150.0) for i, j in o_ij])
        b_min, b_med, mat = timed(
            lambda: travel_time_matrix(net, pts, pts, max_minutes=MINUTES, max_snap_m=5000), 1
        )
        row(f"{args.origins:,} x {args.origins:,} matrix, 30 min (1 run)", b_min, b_med)
        extra.append(f"matrix pairs within 30 min: {int(np.isfinite(mat.to_numpy()).sum()):,}")

    load_end = os.getloadavg()[0]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print()
    print(f"{r} runs each unless noted. 'min, median' ratios: of the mins and of the medians of "
          "runs alternated with the row set against (floor, cache read); the others: of medians, "
          "slower / faster")  # fmt: skip
    print()
    print("| measure | min s | median s | ratio |")
    print("|---|---:|---:|---:|")
    for name, mn, md, ratio in rows:
        if np.isnan(mn):
            print(f"| {name} | n/a | n/a | {ratio} |")
        else:
            print(f"| {name} | {mn:.3f} | {md:.3f} | {ratio} |")
    print(f"| machine load average (1 min): {load_start:.1f} at the start, {load_end:.1f} at "
          f"the end, {os.cpu_count()} cores | | | |")  # fmt: skip
    print(f"| peak memory, engine work alone on {net.n_arcs:,} arcs (fresh process; target <= "
          f"0.5 GiB) | {engine_gib:.2f} GiB | | |")  # fmt: skip
    print(f"| peak memory, this whole process (NetworkX, igraph, pandana copies) | {peak:.2f} "
          "GiB | | |")  # fmt: skip
    print()
    print(f"nodes reached in 30 min: {int(np.isfinite(t).sum()):,} of {net.n_nodes:,}")
    print(
        f"isochrone area {iso['area_km2'].iloc[0]:.1f} km², grid {iso['resolution_m'].iloc[0]:.1f} m"
    )
    for line in extra:
        print(line)


if __name__ == "__main__":
    main()
