"""Batched searches behind :mod:`cztgeo.accessibility`: what each worker holds, and the
measures of one chunk of origins.

Everything is arrays: a chunk's origins are already snapped, the network is its CSR, and the
centres' times come from reverse searches done once per job. The formulas are those of
:func:`cztgeo.routing.travel_time_matrix` (arrival along the destination's arc, the straight
line at the access speed always an option), so the counts equal thresholding that matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import scipy.sparse as sp
    from numpy.typing import NDArray
    from scipy.spatial import cKDTree

    from .network import Network
    from .rail import TransitNetwork
    from .routing import Snap

__all__ = ["Chunk", "Dest", "Kit", "chunk_table", "dest", "reverse_times", "snap"]

_MIN_COST = 1e-9  # csgraph drops explicit zeros (as travel_time_matrix clamps)
#: Memory for one batch of origin searches (distances to every node and every opportunity).
#: 3 origins a batch on the 291k-node benchmark network, ~40 on the metro skeleton. With the
#: graph built once per chunk (source_graph), 1, 4 and 20 origins a batch cost the same per
#: origin (15-18 ms) and scale alike on two quiet cores (1.8-2.1x in two plain processes); the
#: small batch keeps a worker's memory low.
BATCH_BYTES = 8 * 2**20


def mins_label(m: float) -> str:
    """A threshold as it appears in column names (7.5 -> ``7_5``)."""
    return f"{m:g}".replace(".", "_")


# ---------------------------------------------------------------- what each worker holds


@dataclass(frozen=True)
class SearchGraph:
    """The network's CSR with its nodes renumbered along a Hilbert curve, for the per-origin
    searches.

    A limited Dijkstra touches every node and arc of a ball around its origin; when nodes near
    each other in space are near each other in memory, that ball is a few contiguous stretches
    of the arrays instead of scattered cache misses. Networks read from OSM number nodes by OSM
    id (close to random in space): a random numbering makes scipy's search 2.2x slower than a
    spatial one on the 291k-node benchmark grid, and the Hilbert order is 10 % faster than the
    grid's own row order. Distances do not depend on the numbering (``rank`` maps a node id of
    the network to its number here).
    """

    indptr: NDArray[np.int32]
    indices: NDArray[np.int32]
    data: NDArray[np.float64]
    rank: NDArray[np.int64]  # network node id -> node number in this graph


def search_graph(net: Network) -> SearchGraph:
    """The network renumbered along a Hilbert curve of its node positions (see SearchGraph)."""
    import geopandas as gpd
    import shapely

    key = gpd.GeoSeries(shapely.points(net.x, net.y)).hilbert_distance(level=16).to_numpy()
    order = np.argsort(key, kind="stable")  # new number -> node id
    rank = np.empty(net.n_nodes, dtype=np.int64)
    rank[order] = np.arange(net.n_nodes)
    tail, head = rank[net.tail], rank[net.head]
    arcs = np.lexsort((head, tail))  # CSR order in the new numbering
    indptr = np.zeros(net.n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=net.n_nodes), out=indptr[1:])
    return SearchGraph(
        indptr=indptr.astype(np.int32),
        indices=head[arcs].astype(np.int32),
        data=np.asarray(net.time_s, dtype=np.float64)[arcs],
        rank=rank,
    )


@dataclass(frozen=True)
class Dest:
    """Snapped destinations, in the terms of travel_time_matrix's arrival formula."""

    arc: NDArray[np.int64]
    frac: NDArray[np.float64]
    tail: NDArray[np.int64]
    head: NDArray[np.int64]
    fwd: NDArray[np.float64]  # seconds along the arc from its tail
    bwd: NDArray[np.float64]  # seconds along the reverse arc from the head (inf if none)
    egress: NDArray[np.float64]  # seconds of the straight line from the arc
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    weight: NDArray[np.float64]
    order: NDArray[np.int64]  # destinations sorted by arc
    arc_sorted: NDArray[np.int64]


@dataclass(frozen=True)
class Kit:
    """Everything a chunk needs: the network's CSR, destinations, precomputed reverse times."""

    n: int
    indptr: NDArray[np.int32]
    head: NDArray[np.int32]
    tail: NDArray[np.int32]
    time_s: NDArray[np.float64]
    reverse: NDArray[np.int64]
    speed: float  # access speed, m/s
    minutes: tuple[float, ...]
    modes: tuple[str, ...]
    centre_keys: tuple[str, ...]
    centres: Dest
    centre_rev_s: NDArray[np.float64]  # (centres, nodes): seconds from each node to each centre
    opp: Dest | None
    batch: int
    search: SearchGraph
    opp_tree: cKDTree | None = None  # the opportunities' projected positions
    transit: TransitKit | None = None


@dataclass(frozen=True)
class Chunk:
    """Origins of one chunk, snapped."""

    arc: NDArray[np.int64]
    frac: NDArray[np.float64]
    dist_m: NDArray[np.float64]
    x: NDArray[np.float64]  # projected position (for the straight line)
    y: NDArray[np.float64]
    on: NDArray[np.bool_]  # within max_snap_m of the network
    lonlat: NDArray[np.float64]


def dest(net: Network, snap: Snap, lonlat: NDArray[np.float64], speed: float,
          weight: NDArray[np.float64]) -> Dest:  # fmt: skip
    from .routing import project

    rev = net.reverse[snap.arc]
    bwd = np.where(rev >= 0, (1.0 - snap.frac) * net.time_s[np.maximum(rev, 0)], np.inf)
    x, y = project(net, lonlat)
    order = np.argsort(snap.arc, kind="stable")
    return Dest(
        arc=snap.arc, frac=snap.frac,
        tail=net.tail[snap.arc].astype(np.int64), head=net.head[snap.arc].astype(np.int64),
        fwd=snap.frac * net.time_s[snap.arc], bwd=bwd, egress=snap.distance_m / speed,
        x=x, y=y, weight=weight, order=order, arc_sorted=snap.arc[order],
    )  # fmt: skip


def snap(net: Network, lonlat: NDArray[np.float64]) -> Snap:
    """Snap without a distance limit (the distance is reported and checked by the caller)."""
    from .routing import snap_points

    return snap_points(net, lonlat, max_snap_m=1e12)


def reverse_times(
    net: Network, d: Dest, *, keep: NDArray[np.int64] | None = None
) -> NDArray[np.float64]:
    """Seconds from every node to each destination (one search on the transposed network per
    destination, arriving along the destination's arc as travel_time_matrix does)."""
    import scipy.sparse as sp
    from scipy.sparse import csgraph

    n = net.n_nodes
    gt = net.csr().T.tocsr()
    indptr = np.concatenate([gt.indptr, [gt.indptr[-1] + 2]]).astype(np.int32)
    indices = np.concatenate([gt.indices, np.zeros(2, dtype=np.int32)]).astype(np.int32)
    data = np.concatenate([gt.data, np.ones(2)])
    G = sp.csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))
    out = np.empty((len(d.arc), n if keep is None else keep.size))
    for j in range(len(d.arc)):
        t_cost, h_cost = d.fwd[j] + d.egress[j], d.bwd[j] + d.egress[j]
        targets = [d.tail[j], d.head[j] if np.isfinite(h_cost) else d.tail[j]]
        costs = [t_cost, h_cost if np.isfinite(h_cost) else t_cost]
        G.indices[-2:] = targets
        G.data[-2:] = np.maximum(costs, _MIN_COST)
        dist = csgraph.dijkstra(G, directed=True, indices=n)[:n]
        out[j] = dist if keep is None else dist[keep]
    return out


def batch_size(n_nodes: int, n_opp: int) -> int:
    per_origin = 8 * (n_nodes + 5 * max(n_opp, 1))
    return int(max(1, min(512, BATCH_BYTES // per_origin)))


# ---------------------------------------------------------------- per-chunk computation


def straight(ch: Chunk, sel: NDArray[np.int64], d: Dest, speed: float) -> NDArray[np.float64]:
    return np.asarray(
        np.hypot(ch.x[sel, None] - d.x[None, :], ch.y[sel, None] - d.y[None, :]) / speed
    )


def near_straight(
    kit: Kit, ch: Chunk, sel: NDArray[np.int64], d: Dest, via: NDArray[np.float64], limit: float
) -> None:
    """``via = min(via, straight line)`` (in place) for the pairs whose straight line is within
    ``limit`` seconds, found with the opportunities' k-d tree instead of every pair: the others
    cannot change a count (``via`` beyond the limit is dropped by the caller either way)."""
    assert kit.opp_tree is not None
    reach_m = limit * kit.speed * (1.0 + 1e-9)  # the tree's distance may differ by an ulp
    near = kit.opp_tree.query_ball_point(np.column_stack([ch.x[sel], ch.y[sel]]), reach_m)
    cnt = np.fromiter((len(q) for q in near), dtype=np.int64, count=len(sel))
    if not cnt.any():
        return
    p = np.repeat(np.arange(len(sel)), cnt)
    q = np.concatenate([np.asarray(x, dtype=np.int64) for x in near])
    o = sel[p]
    # the formula of straight(), pair by pair (identical values)
    line = np.hypot(ch.x[o] - d.x[q], ch.y[o] - d.y[q]) / kit.speed
    via[p, q] = np.minimum(via[p, q], line)


def same_arc(kit: Kit, ch: Chunk, sel: NDArray[np.int64], d: Dest,
              via: NDArray[np.float64]) -> None:  # fmt: skip
    """Origin and destination on the same street: along it without a detour (in place)."""
    lo = np.searchsorted(d.arc_sorted, ch.arc[sel], "left")
    hi = np.searchsorted(d.arc_sorted, ch.arc[sel], "right")
    cnt = hi - lo
    if not cnt.any():
        return
    p = np.repeat(np.arange(len(sel)), cnt)
    q = d.order[np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True) if b > a])]
    o = sel[p]
    acc = ch.dist_m[o] / kit.speed
    ahead = d.frac[q] >= ch.frac[o]
    direct = (d.frac[q] - ch.frac[o]) * kit.time_s[ch.arc[o]] + acc + d.egress[q]
    rev = kit.reverse[ch.arc[o]]
    back = np.where(
        (rev >= 0) & ~ahead,
        (ch.frac[o] - d.frac[q]) * kit.time_s[np.maximum(rev, 0)] + acc + d.egress[q],
        np.inf,
    )
    best = np.where(ahead, direct, back)
    via[p, q] = np.minimum(via[p, q], best)


def times_to(
    kit: Kit, ch: Chunk, sel: NDArray[np.int64], d: Dest, rev_s: NDArray[np.float64],
    cols: NDArray[np.int64] | None = None,
) -> NDArray[np.float64]:  # fmt: skip
    """Minutes from the selected origins to each destination of ``d`` (no limit), from the
    reverse times ``rev_s`` (destinations x nodes; with ``cols``, only the columns of the
    nodes ``cols`` maps node ids to)."""
    a = ch.arc[sel]
    acc = ch.dist_m[sel] / kit.speed
    h_node = kit.head[a].astype(np.int64)
    t_node = kit.tail[a].astype(np.int64)
    if cols is not None:
        h_node, t_node = cols[h_node], cols[t_node]
    h_cost = np.maximum(acc + (1.0 - ch.frac[sel]) * kit.time_s[a], _MIN_COST)
    via = h_cost[:, None] + rev_s[:, h_node].T
    rev = kit.reverse[a]
    has = rev >= 0
    t_cost = np.maximum(acc + ch.frac[sel] * kit.time_s[np.maximum(rev, 0)], _MIN_COST)
    via_t = np.where(has[:, None], t_cost[:, None] + rev_s[:, t_node].T, np.inf)
    via = np.minimum(via, via_t)
    same_arc(kit, ch, sel, d, via)
    via = np.minimum(via, straight(ch, sel, d, kit.speed))
    return np.asarray(via / 60.0)


def source_graph(kit: Kit, slots: int) -> sp.csr_matrix:
    """The search graph plus ``slots`` virtual sources of two arcs each (see set_sources).

    Built once per chunk and changed in place batch by batch, as travel_time_matrix does for
    its one source: a graph built per batch copies the whole network each time (2.7 ms on 1.16M
    arcs), which forced large batches (~20 origins, a 47 MB distance matrix)."""
    import scipy.sparse as sp

    g = kit.search
    n, nnz = kit.n, g.indices.size
    indptr = np.concatenate([g.indptr, nnz + 2 * np.arange(1, slots + 1)]).astype(np.int32)
    indices = np.concatenate([g.indices, np.zeros(2 * slots, dtype=np.int32)])
    data = np.concatenate([g.data, np.ones(2 * slots)])
    return sp.csr_matrix((data, indices, indptr), shape=(n + slots, n + slots))


def set_sources(kit: Kit, G: sp.csr_matrix, ch: Chunk, sel: NDArray[np.int64]) -> None:
    """Point the first ``len(sel)`` virtual sources of ``G`` at the selected origins' arcs: to
    the arc's head and, on a two-way street, its tail (else the head again: a duplicate arc)."""
    g = kit.search
    a = ch.arc[sel]
    acc = ch.dist_m[sel] / kit.speed
    rev = kit.reverse[a]
    has = rev >= 0
    h_node = g.rank[kit.head[a]]
    h_cost = np.maximum(acc + (1.0 - ch.frac[sel]) * kit.time_s[a], _MIN_COST)
    t_node = np.where(has, g.rank[kit.tail[a]], h_node)
    t_cost = np.where(
        has, np.maximum(acc + ch.frac[sel] * kit.time_s[np.maximum(rev, 0)], _MIN_COST), h_cost
    )
    start = kit.search.indices.size
    stop = start + 2 * len(sel)
    G.indices[start:stop] = np.column_stack([h_node, t_node]).ravel()
    G.data[start:stop] = np.column_stack([h_cost, t_cost]).ravel()


def _counts(kit: Kit, G: sp.csr_matrix, ch: Chunk, sel: NDArray[np.int64]) -> NDArray[np.float64]:
    """Opportunities reachable within each threshold from the selected origins (by car), on
    ``G`` from :func:`source_graph` with at least ``len(sel)`` slots."""
    from scipy.sparse import csgraph

    d = kit.opp
    assert d is not None
    limit = max(kit.minutes) * 60.0
    set_sources(kit, G, ch, sel)
    dist = csgraph.dijkstra(G, directed=True, indices=kit.n + np.arange(len(sel)), limit=limit)[
        :, : kit.n
    ]
    rank = kit.search.rank
    via = np.minimum(dist[:, rank[d.tail]] + d.fwd, dist[:, rank[d.head]] + d.bwd) + d.egress
    same_arc(kit, ch, sel, d, via)
    near_straight(kit, ch, sel, d, via, limit)
    via[via > limit] = np.inf
    mins = via / 60.0
    return np.column_stack([np.where(mins <= m, d.weight, 0.0).sum(axis=1) for m in kit.minutes])


def chunk_table(kit: Kit, ch: Chunk) -> pd.DataFrame:
    """All measures of one chunk of origins (a plain table, one row per origin)."""
    n = len(ch.arc)
    cols: dict[str, NDArray[np.float64]] = {}
    keys = kit.centre_keys
    on = np.flatnonzero(ch.on)
    if "drive" in kit.modes:
        t = np.full((n, len(keys)), np.nan)
        t[on] = times_to(kit, ch, on, kit.centres, kit.centre_rev_s)
        for j, k in enumerate(keys):
            cols[f"drive_min_{k}"] = t[:, j]
    if kit.transit is not None:
        for mode, t in transit_minutes(kit, kit.transit, ch).items():
            prefix = mode.replace("+", "_")
            for j, k in enumerate(keys):
                cols[f"{prefix}_min_{k}"] = t[:, j]
    if kit.opp is not None:
        c = np.full((n, len(kit.minutes)), np.nan)
        G = source_graph(kit, min(kit.batch, max(len(on), 1)))
        for s in range(0, len(on), kit.batch):
            sel = on[s : s + kit.batch]
            c[sel] = _counts(kit, G, ch, sel)
        for j, m in enumerate(kit.minutes):
            cols[f"drive_opportunities_{mins_label(m)}min"] = c[:, j]
    return pd.DataFrame(cols)


# ---------------------------------------------------------------- transit chains


@dataclass(frozen=True)
class TransitKit:
    """The commute circle's transit chains (:func:`cztgeo.rail.plan_journeys`) as arrays.

    ``main`` is the journey graph (stops, then one on-board node per line position); a
    journey's first boarding must ride at least one stop, so a source reaches the on-board
    node after each ride edge (``ride_from`` -> ``ride_to``) at access + wait + ride.
    """

    modes: tuple[str, ...]
    n_stops: int
    n_main: int
    indptr: NDArray[np.int32]
    indices: NDArray[np.int32]
    data: NDArray[np.float64]
    ride_from: NDArray[np.int64]  # on-board index (0-based among on-board nodes)
    ride_to: NDArray[np.int64]  # graph node
    ride_min: NDArray[np.float64]
    board_stop: NDArray[np.int64]
    board_wait: NDArray[np.float64]
    stop_x: NDArray[np.float64]
    stop_y: NDArray[np.float64]
    walk_factor: float  # minutes per metre of straight line (detour / walking speed)
    centre_x: NDArray[np.float64]
    centre_y: NDArray[np.float64]
    egress: dict[str, NDArray[np.float64]]  # mode -> (stops, centres) minutes
    stations: Dest | None  # for taxi access: stations snapped to the road network
    station_rev_s: NDArray[np.float64]  # (stations, needed nodes) seconds to each station
    node_cols: NDArray[np.int64]  # node id -> column of station_rev_s
    taxi_overhead: float


def transit_kit(
    net: Network, tn: TransitNetwork, c_ll: NDArray[np.float64], modes: tuple[str, ...],
    speed: float, origin_snap: Snap,
) -> TransitKit:  # fmt: skip
    """Everything the transit chains need, computed once per job: the journey graph, walking
    and taxi egress from every stop to each centre, and (for taxi access) the road time from
    the end nodes of every origin's arc to each station."""
    from .journeys import _TO_M, _csr_min, _graph
    from .routing import travel_time_matrix

    g = _graph(tn)
    m, _ = _csr_min(g.rows, g.cols, g.vals, g.n_nodes)
    ride = g.kind == 2  # journeys._RIDE
    sx, sy = tn.stop_xy
    cx, cy = (np.asarray(v, dtype=float) for v in _TO_M.transform(c_ll[:, 0], c_ll[:, 1]))
    walk_egr = tn.walk_minutes(c_ll).T
    egress = {"transit": walk_egr}
    stations = None
    rev_s = np.zeros((0, 0))
    cols = np.zeros(0, dtype=np.int64)
    tm_modes = tuple(mo for mo in modes if mo in ("transit", "taxi+transit"))
    if "taxi+transit" in tm_modes:
        s_ll = np.column_stack([tn.stop_lon, tn.stop_lat]).astype(np.float64)
        taxi_egr = travel_time_matrix(
            net, s_ll, c_ll, max_snap_m=1e12, access_kmh=speed * 3.6
        ).to_numpy()
        egress["taxi+transit"] = np.minimum(walk_egr, taxi_egr + tn.taxi_overhead_minutes)
        stations = dest(net, snap(net, s_ll), s_ll, speed, np.ones(len(s_ll)))
        arcs = origin_snap.arc
        need = np.unique(np.concatenate([net.head[arcs], net.tail[arcs]]))
        cols = np.full(net.n_nodes, -1, dtype=np.int64)
        cols[need] = np.arange(need.size)
        rev_s = reverse_times(net, stations, keep=need)
    return TransitKit(
        modes=tm_modes, n_stops=len(tn.stop_name), n_main=g.n_nodes,
        indptr=m.indptr.astype(np.int32), indices=m.indices.astype(np.int32),
        data=np.asarray(m.data, dtype=float),
        ride_from=(g.rows[ride] - g.base).astype(np.int64), ride_to=g.cols[ride].astype(np.int64),
        ride_min=g.vals[ride].astype(float), board_stop=g.board_stop, board_wait=g.board_wait,
        stop_x=sx, stop_y=sy, walk_factor=tn.detour / (tn.walk_kmh / 3.6) / 60.0,
        centre_x=cx, centre_y=cy, egress=egress, stations=stations, station_rev_s=rev_s,
        node_cols=cols, taxi_overhead=tn.taxi_overhead_minutes,
    )  # fmt: skip


def _chain_minutes(
    tk: TransitKit, acc: NDArray[np.float64], egr: NDArray[np.float64],
    direct: NDArray[np.float64],
) -> NDArray[np.float64]:  # fmt: skip
    """Door-to-door minutes (origins x centres) given access (origins x stops) and egress
    (stops x centres) minutes, as plan_journeys computes them."""
    import scipy.sparse as sp
    from scipy.sparse import csgraph

    b = acc.shape[0]
    a_val = acc[:, tk.board_stop] + tk.board_wait + 1e-9  # (b, on-board nodes)
    cand = a_val[:, tk.ride_from] + tk.ride_min  # (b, ride edges)
    best = np.full((b, tk.n_main), np.inf)
    p = np.repeat(np.arange(b), tk.ride_to.size)
    np.minimum.at(best, (p, np.tile(tk.ride_to, b)), cand.ravel())
    src, tgt = np.nonzero(np.isfinite(best))
    cnt = np.bincount(src, minlength=b)
    n = tk.n_main
    indptr = np.concatenate([tk.indptr, tk.indptr[-1] + np.cumsum(cnt)]).astype(np.int32)
    indices = np.concatenate([tk.indices, tgt.astype(np.int32)])
    data = np.concatenate([tk.data, best[src, tgt]])
    G = sp.csr_matrix((data, indices, indptr), shape=(n + b, n + b))
    dist = csgraph.dijkstra(G, directed=True, indices=n + np.arange(b))[:, : tk.n_stops]
    via = np.min(dist[:, :, None] + (egr + 1e-9)[None, :, :], axis=1)
    return np.asarray(np.minimum(via, direct + 1e-9))


def transit_minutes(kit: Kit, tk: TransitKit, ch: Chunk) -> dict[str, NDArray[np.float64]]:
    """Minutes from each origin of the chunk to each centre, per transit mode."""
    from .rail import _TO_M

    n, on = len(ch.arc), np.flatnonzero(ch.on)
    ox, oy = (np.asarray(v, dtype=float) for v in _TO_M.transform(ch.lonlat[:, 0], ch.lonlat[:, 1]))
    walk = np.hypot(tk.stop_x[None, :] - ox[:, None], tk.stop_y[None, :] - oy[:, None])
    walk = walk * tk.walk_factor
    direct = np.hypot(tk.centre_x[None, :] - ox[:, None], tk.centre_y[None, :] - oy[:, None])
    direct = direct * tk.walk_factor
    out: dict[str, NDArray[np.float64]] = {}
    for mode in tk.modes:
        acc = walk
        if mode == "taxi+transit":
            assert tk.stations is not None
            taxi = np.full(walk.shape, np.inf)
            taxi[on] = times_to(kit, ch, on, tk.stations, tk.station_rev_s, tk.node_cols)
            acc = np.minimum(walk, taxi + tk.taxi_overhead)
        t = np.full((n, len(tk.centre_x)), np.nan)
        for s in range(0, len(on), 256):
            part = on[s : s + 256]
            t[part] = _chain_minutes(tk, acc[part], tk.egress[mode], direct[part])
        out[mode] = t
    return out
