"""Travel times on a :class:`~cztgeo.network.Network` with scipy's C Dijkstra.

Origins are points anywhere: each is snapped to the nearest arc (exactly, on the segment), the
snap distance is walked at ``access_kmh`` and counted, and the journey starts part-way along
the arc. A virtual source node joins all origins, so one Dijkstra run gives multi-source times.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from .crs import WGS84, transformer
from .errors import InputError, SnapError
from .speeds import WALK_KMH
from .types import PointsLike

if TYPE_CHECKING:
    from distributed import Client
    from numpy.typing import NDArray

    from .network import Network

__all__ = ["Snap", "snap_points", "travel_time_matrix", "travel_times"]

DEFAULT_MAX_SNAP_M = 1000.0


@dataclass(frozen=True)
class Snap:
    """Origins snapped to arcs.

    Attributes
    ----------
    arc
        The arc each point snapped to.
    frac
        Position along the arc (0 at its tail, 1 at its head).
    distance_m
        Straight distance from the point to the arc, metres.
    x, y
        The snapped positions in the network's metric CRS.
    """

    arc: NDArray[np.int64]
    frac: NDArray[np.float64]
    distance_m: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]


def as_lonlat(points: PointsLike) -> NDArray[np.float64]:
    """Accept (lon, lat), a list of them, an (n, 2) array or a GeoSeries/GeoDataFrame of points."""
    import geopandas as gpd

    if isinstance(points, (gpd.GeoDataFrame, gpd.GeoSeries)):
        from .crs import to_wgs84

        gdf = points if isinstance(points, gpd.GeoDataFrame) else gpd.GeoDataFrame(geometry=points)
        gdf = to_wgs84(gdf)
        geoms = gdf.geometry.values
        if not (shapely.get_type_id(geoms) == 0).all():
            raise InputError("origins must be points")
        return np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)])
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise InputError(f"expected (lon, lat) points, got an array of shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise InputError("points contain NaN or infinite coordinates")
    if (np.abs(arr[:, 0]) > 180).any() or (np.abs(arr[:, 1]) > 90).any():
        raise InputError(
            "points are not lon/lat degrees (|lon| > 180 or |lat| > 90): pass WGS84 (lon, lat) "
            "or a GeoDataFrame with its CRS"
        )
    return arr


def point_ids(points: PointsLike | None, n: int) -> pd.Index:
    """The caller's labels of ``points``: a GeoDataFrame's ``id`` column or index, a
    GeoSeries' index, else ``0..n-1``."""
    import geopandas as gpd

    if isinstance(points, gpd.GeoDataFrame) and "id" in points.columns:
        return pd.Index(points["id"])
    if isinstance(points, (gpd.GeoDataFrame, gpd.GeoSeries)):
        return pd.Index(points.index)
    return pd.RangeIndex(n)


#: Along arcs longer than this, the snapping index holds a point every this many metres.
INDEX_SPACING_M = 250.0
#: Up to this many points are snapped by scanning the index points directly; more build (once
#: per network) and query a KD-tree.
SCAN_MAX_POINTS = 16


@dataclass(frozen=True)
class _ArcPoints:
    """Points on the arcs for nearest-arc queries: the first ``node.size`` are nodes (their
    out-arcs are the candidates), the others lie inside long arcs (``arc``)."""

    xy: NDArray[np.float64]
    node: NDArray[np.int64]
    arc: NDArray[np.int64]
    spacing_m: float  #: no place on an arc is farther than this from one of its points


def _long_arcs(net: Network, spacing_m: float) -> NDArray[np.int64]:
    """The arcs longer than ``spacing_m`` (in ``net.crs``), measured in cache-sized blocks: a
    pass over all arcs at once spends most of its time faulting in temporaries."""
    step, limit = 1 << 15, spacing_m * spacing_m
    tail, head, x, y = net.tail, net.head, net.x, net.y
    found = []
    for a in range(0, head.size, step):
        h, t = head[a : a + step], tail[a : a + step]
        dx = np.take(x, h)
        dx -= np.take(x, t)
        dy = np.take(y, h)
        dy -= np.take(y, t)
        dx *= dx
        dy *= dy
        dx += dy
        found.append(np.flatnonzero(dx > limit) + a)
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _arc_points(net: Network) -> _ArcPoints:
    """The snapping index, built from the network's arrays in one pass (no LineStrings) and
    kept in ``net._derived``: the tails of all arcs plus points every ``INDEX_SPACING_M`` inside
    longer arcs.

    Exact nearest arc of p: every index point lies on an arc, so the nearest arc is at most
    ``d1`` away (``d1``: distance to the nearest index point); every place on an arc is within
    ``spacing_m`` of one of that arc's points; so the nearest arc owns a point within
    ``d1 + spacing_m`` of p. The arcs of those points are the candidates, measured exactly.
    """
    found = net._derived.get("arc_points")
    if found is not None:
        return found  # type: ignore[no-any-return]
    spacing = INDEX_SPACING_M
    tail, head = net.tail, net.head
    long = _long_arcs(net, spacing)
    seg = np.hypot(net.x[head[long]] - net.x[tail[long]], net.y[head[long]] - net.y[tail[long]])
    nodes = np.flatnonzero(np.diff(net.indptr) > 0)
    n_in = np.ceil(seg / spacing).astype(np.int64) - 1  # inner points of each long arc
    arc = np.repeat(long, n_in)
    k = np.arange(arc.size) - np.repeat(np.cumsum(n_in) - n_in, n_in) + 1
    f = k / np.repeat(n_in + 1, n_in)
    t, h = tail[arc], head[arc]
    xy = np.column_stack(
        [
            np.concatenate([net.x[nodes], net.x[t] + f * (net.x[h] - net.x[t])]),
            np.concatenate([net.y[nodes], net.y[t] + f * (net.y[h] - net.y[t])]),
        ]
    )
    points = _ArcPoints(xy, nodes.astype(np.int64), arc.astype(np.int64), spacing)
    net._derived["arc_points"] = points
    return points


def _arc_tree(net: Network) -> cKDTree:
    """A KD-tree over :func:`_arc_points`, built once per network."""
    if "arc_tree" not in net._derived:
        xy = _arc_points(net).xy
        net._derived["arc_tree"] = cKDTree(xy, balanced_tree=False, compact_nodes=False)
    return net._derived["arc_tree"]


def _near_points(
    net: Network, x: NDArray[np.float64], y: NDArray[np.float64]
) -> list[NDArray[np.int64]]:
    """For each point, the index points within ``d1 + spacing_m`` (see :func:`_arc_points`)."""
    pts = _arc_points(net)
    pad = pts.spacing_m
    if x.size > SCAN_MAX_POINTS or "arc_tree" in net._derived:
        tree = _arc_tree(net)
        xy = np.column_stack([x, y])
        d1, _ = tree.query(xy, k=1)
        hits = tree.query_ball_point(xy, (d1 + pad) * (1 + 1e-9) + 1e-6)
        return [np.asarray(h, dtype=np.int64) for h in hits]
    out = []
    for px, py in zip(x, y, strict=True):
        d2 = (pts.xy[:, 0] - px) ** 2 + (pts.xy[:, 1] - py) ** 2
        r = (np.sqrt(d2.min()) + pad) * (1 + 1e-9) + 1e-6
        out.append(np.flatnonzero(d2 <= r * r))
    return out


def _candidates(
    net: Network, x: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(point, arc) pairs that include each point's nearest arc (see :func:`_arc_points`)."""
    pts = _arc_points(net)
    hits = _near_points(net, x, y)
    sizes = np.array([h.size for h in hits], dtype=np.int64)
    flat = np.concatenate(hits)
    owner = np.repeat(np.arange(len(hits), dtype=np.int64), sizes)
    is_node = flat < pts.node.size
    node = pts.node[flat[is_node]]
    start = net.indptr[node].astype(np.int64)
    count = net.indptr[node + 1] - start
    out_arc = np.arange(int(count.sum()), dtype=np.int64) - np.repeat(
        np.cumsum(count) - count, count
    )
    out_arc += np.repeat(start, count)
    inner_arc = pts.arc[flat[~is_node] - pts.node.size]
    return np.r_[np.repeat(owner[is_node], count), owner[~is_node]], np.r_[out_arc, inner_arc]


def _reverse_of(net: Network, arc: NDArray[np.int64]) -> NDArray[np.int64]:
    """The reverse arc (v→u) of each arc u→v, -1 where none: the lowest-numbered one, as
    :attr:`Network.reverse`, found in v's CSR row (no network-wide sort)."""
    u, v = net.tail[arc], net.head[arc]
    start = net.indptr[v].astype(np.int64)
    count = (net.indptr[v + 1] - net.indptr[v]).astype(np.int64)
    owner = np.repeat(np.arange(arc.size), count)
    cand = np.arange(int(count.sum()), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    cand += np.repeat(start, count)
    match = net.head[cand] == u[owner]
    rev = np.full(arc.size, -1, dtype=np.int64)
    hit_owner, hit_arc = owner[match], cand[match]  # by owner, then by arc
    first = np.r_[True, hit_owner[1:] != hit_owner[:-1]][: hit_owner.size]
    rev[hit_owner[first]] = hit_arc[first]
    return rev


def project(
    net: Network, lonlat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x, y = transformer(WGS84, net.crs).transform(lonlat[:, 0], lonlat[:, 1])
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def segment_param(
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    ax: NDArray[np.float64],
    ay: NDArray[np.float64],
    bx: NDArray[np.float64],
    by: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Position (0 at a, 1 at b) of the point of each segment a-b nearest to p."""
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    t = ((px - ax) * dx + (py - ay) * dy) / np.where(len2 > 0, len2, 1.0)
    return np.asarray(np.clip(t, 0.0, 1.0))


def snap_points(
    net: Network, points: PointsLike, *, max_snap_m: float = DEFAULT_MAX_SNAP_M
) -> Snap:
    """Snap points to their nearest arcs.

    Raises
    ------
    SnapError
        If any point is farther than ``max_snap_m`` from the network (all such points listed).
    """
    from .io import check_number

    check_number("max_snap_m", max_snap_m)
    lonlat = as_lonlat(points)
    x, y = project(net, lonlat)
    if net.n_arcs == 0:
        raise SnapError(f"the {net.mode} network has no arcs: nothing to snap to")
    owner, cand = _candidates(net, x, y)
    t, h = net.tail[cand], net.head[cand]
    ax, ay, bx, by = net.x[t], net.y[t], net.x[h], net.y[h]
    px, py = x[owner], y[owner]
    s = segment_param(px, py, ax, ay, bx, by)
    dist = np.hypot(px - (ax + s * (bx - ax)), py - (ay + s * (by - ay)))
    best = np.lexsort((cand, dist, owner))  # nearest arc per point, ties to the lowest index
    first = best[np.r_[True, owner[best][1:] != owner[best][:-1]]]
    arc = cand[first]
    d = dist[first]
    far = d > max_snap_m
    if far.any():
        bad = [
            f"({lonlat[i, 0]:.5f}, {lonlat[i, 1]:.5f}) {d[i]:.0f} m"
            for i in np.flatnonzero(far)[:5]
        ]
        more = "" if far.sum() <= 5 else f" and {int(far.sum()) - 5} more"
        raise SnapError(
            f"{int(far.sum())} point(s) farther than {max_snap_m:.0f} m from the {net.mode} "
            f"network: {', '.join(bad)}{more}; move them, use a larger network, or raise "
            f"max_snap_m"
        )
    t, h = net.tail[arc], net.head[arc]
    frac = segment_param(x, y, net.x[t], net.y[t], net.x[h], net.y[h])
    # canonical arc of a two-way street (the lower index), so points on one street compare
    rev = _reverse_of(net, arc)
    flip = (rev >= 0) & (rev < arc)
    arc = np.where(flip, rev, arc)
    frac = np.where(flip, 1.0 - frac, frac)
    t, h = net.tail[arc], net.head[arc]
    ax, ay = net.x[t], net.y[t]
    dx, dy = net.x[h] - ax, net.y[h] - ay
    return Snap(arc=arc, frac=frac, distance_m=d, x=ax + frac * dx, y=ay + frac * dy)


def _source_arcs(
    net: Network, snap: Snap, access_kmh: float
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Targets and costs (s) from a virtual source to the end nodes of each origin's arc."""
    from .io import check_number

    check_number("access_kmh", access_kmh)
    access = snap.distance_m / (access_kmh / 3.6)
    arc = snap.arc
    targets = [net.head[arc].astype(np.int64)]
    costs = [access + (1.0 - snap.frac) * net.time_s[arc]]
    rev = net.reverse[arc]
    has = rev >= 0
    targets.append(net.tail[arc][has].astype(np.int64))
    costs.append(access[has] + snap.frac[has] * net.time_s[rev[has]])
    return np.concatenate(targets), np.concatenate(costs)


def _augmented(net: Network, targets: NDArray[np.int64], costs: NDArray[np.float64]) -> Any:
    """The network's CSR plus one virtual source node (index n) with the given arcs."""
    n = net.n_nodes
    indptr = np.concatenate([net.indptr, [net.indptr[-1] + targets.size]]).astype(np.int32)
    indices = np.concatenate([net.head, targets.astype(np.int32)])
    data = np.concatenate([net.time_s, np.maximum(costs, 1e-9)])
    return sp.csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))


#: Guards the reused augmented matrices (service threads share networks). scipy's Dijkstra
#: holds the GIL, so queries in threads never ran in parallel: the lock costs nothing.
_AUGMENTED_LOCK = threading.Lock()


def _dijkstra_from(
    net: Network, targets: NDArray[np.int64], costs: NDArray[np.float64], limit: float
) -> NDArray[np.float64]:
    """Seconds to every node from a virtual source joined to ``targets`` at ``costs``.

    The network's CSR plus the virtual source's row is built once per network (copying the
    arcs costs a few milliseconds a query) and kept in ``net._derived``; each query writes
    only the source's arcs. Unused slots repeat the first arc (a duplicate arc changes no
    distance); the row grows when a query has more arcs than it holds.
    """
    with _AUGMENTED_LOCK:
        G = net._derived.get("augmented")
        if G is None or int(G.indptr[-1] - G.indptr[-2]) < targets.size:
            G = _augmented(net, targets, costs)
            net._derived["augmented"] = G
        slots = int(G.indptr[-1] - G.indptr[-2])
        pad = slots - targets.size
        G.indices[-slots:] = np.r_[targets, np.repeat(targets[:1], pad)]
        G.data[-slots:] = np.maximum(np.r_[costs, np.repeat(costs[:1], pad)], 1e-9)
        dist = csgraph.dijkstra(G, directed=True, indices=net.n_nodes, limit=limit)
    return np.asarray(dist[:-1])


def _limit(max_minutes: float | None) -> float:
    if max_minutes is None:
        return np.inf
    if not np.isfinite(max_minutes) or max_minutes <= 0:
        raise InputError(f"max_minutes must be a positive number, got {max_minutes!r}")
    return float(max_minutes) * 60.0


def travel_times_s(
    net: Network,
    origins: PointsLike,
    *,
    max_minutes: float | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    access_kmh: float = WALK_KMH,
) -> tuple[NDArray[np.float64], Snap]:
    """Like :func:`travel_times` but in seconds, also returning the snap (used internally)."""
    limit = _limit(max_minutes)
    snap = snap_points(net, origins, max_snap_m=max_snap_m)
    targets, costs = _source_arcs(net, snap, access_kmh)
    return _dijkstra_from(net, targets, costs, limit), snap


def travel_times(
    net: Network,
    origins: PointsLike,
    *,
    max_minutes: float | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    access_kmh: float = WALK_KMH,
) -> NDArray[np.float64]:
    """Travel time in minutes from the nearest of ``origins`` to every node.

    Parameters
    ----------
    net
        The network.
    origins
        One ``(lon, lat)``, several, an (n, 2) array, or a GeoDataFrame/GeoSeries of points in
        any CRS. With several origins the time is the minimum over them.
    max_minutes
        Stop searching past this time (much faster); nodes beyond it get ``inf``.
    max_snap_m
        Refuse origins farther than this from any arc.
    access_kmh
        Speed for the straight line from an origin to its arc (walking by default).

    Returns
    -------
    numpy.ndarray
        Minutes per node (index as in ``net``), ``inf`` where unreached.
    """
    dist, _ = travel_times_s(
        net, origins, max_minutes=max_minutes, max_snap_m=max_snap_m, access_kmh=access_kmh
    )
    return dist / 60.0


def travel_time_matrix(
    net: Network,
    origins: PointsLike,
    destinations: PointsLike | None = None,
    *,
    max_minutes: float | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    access_kmh: float = WALK_KMH,
    client: Client | str | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Minutes from every origin to every destination (``inf`` beyond ``max_minutes``).

    Destinations are snapped like origins; arriving means reaching the snapped point along its
    arc (from either end) and covering the snap distance at ``access_kmh``. Going straight from
    origin to destination at ``access_kmh`` is always an option (so a point to itself is 0).
    ``destinations=None`` uses the origins.

    Returns
    -------
    pandas.DataFrame
        One row per origin, one column per destination, labelled with the caller's ids: the
        index of a GeoDataFrame/GeoSeries of points (its ``id`` column when it has one), else
        0-based positions. The axes are named ``from_id`` and ``to_id`` (as in r5py).

    With ``client`` (a ``distributed.Client`` or a scheduler address) or ``workers`` (local
    worker processes), the origins are split across Dask workers (:mod:`cztgeo.parallel`);
    each row is computed by this same code, so the result is identical.
    """
    if client is not None or workers is not None:
        from .parallel import parallel_matrix

        return parallel_matrix(
            net, origins, destinations, client=client, workers=workers,
            max_minutes=max_minutes, max_snap_m=max_snap_m, access_kmh=access_kmh,
        )  # fmt: skip
    limit = _limit(max_minutes)
    o_ll = as_lonlat(origins)
    d_ll = o_ll if destinations is None else as_lonlat(destinations)
    o = snap_points(net, o_ll, max_snap_m=max_snap_m)
    d = o if destinations is None else snap_points(net, d_ll, max_snap_m=max_snap_m)
    speed = access_kmh / 3.6
    # going straight from origin to destination at the access speed is always an option
    ox, oy = project(net, o_ll)
    dx, dy = project(net, d_ll)
    straight = (
        np.hypot(ox[:, np.newaxis] - dx[np.newaxis, :], oy[:, np.newaxis] - dy[np.newaxis, :])
        / speed
    )
    # arrival at a destination: via its arc's tail then frac of the arc, or via the reverse arc
    d_tail, d_head = net.tail[d.arc], net.head[d.arc]
    d_fwd = d.frac * net.time_s[d.arc]
    d_rev_arc = net.reverse[d.arc]
    d_bwd = np.where(d_rev_arc >= 0, (1.0 - d.frac) * net.time_s[np.maximum(d_rev_arc, 0)], np.inf)
    egress = d.distance_m / speed
    out = np.full((len(o.arc), len(d.arc)), np.inf)
    # one reusable augmented matrix; only the virtual source's two arcs change per origin
    n = net.n_nodes
    indptr = np.concatenate([net.indptr, [net.indptr[-1] + 2]]).astype(np.int32)
    indices = np.concatenate([net.head, np.zeros(2, dtype=np.int32)])
    data = np.concatenate([net.time_s, np.ones(2)])
    G = sp.csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))
    for i in range(len(o.arc)):
        single = Snap(
            o.arc[i : i + 1],
            o.frac[i : i + 1],
            o.distance_m[i : i + 1],
            o.x[i : i + 1],
            o.y[i : i + 1],
        )
        targets, costs = _source_arcs(net, single, access_kmh)
        if targets.size == 1:  # one-way arc: repeat the only arc in the second slot
            targets, costs = np.repeat(targets, 2), np.repeat(costs, 2)
        G.indices[-2:] = targets
        G.data[-2:] = np.maximum(costs, 1e-9)
        dist = csgraph.dijkstra(G, directed=True, indices=n, limit=limit)
        via = np.minimum(dist[d_tail] + d_fwd, dist[d_head] + d_bwd) + egress
        # origin and destination on the same arc, destination ahead: no detour needed
        same = d.arc == o.arc[i]
        ahead = same & (d.frac >= o.frac[i])
        direct = (d.frac - o.frac[i]) * net.time_s[o.arc[i]] + o.distance_m[i] / speed + egress
        via = np.where(ahead, np.minimum(via, direct), via)
        rev_i = net.reverse[o.arc[i]]
        if rev_i >= 0:  # the same street, behind the origin, using the reverse arc
            on_rev = (d.arc == o.arc[i]) & (d.frac < o.frac[i])
            back = (o.frac[i] - d.frac) * net.time_s[rev_i] + o.distance_m[i] / speed + egress
            via = np.where(on_rev, np.minimum(via, back), via)
        via = np.minimum(via, straight[i])
        via[via > limit] = np.inf
        out[i] = via / 60.0
    o_ids = point_ids(origins, len(o_ll))
    d_ids = o_ids if destinations is None else point_ids(destinations, len(d_ll))
    return pd.DataFrame(
        out,
        index=pd.Index(o_ids, name="from_id"),
        columns=pd.Index(d_ids, name="to_id"),
    )
