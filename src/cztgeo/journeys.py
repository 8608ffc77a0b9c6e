"""Door-to-door journeys on a :class:`~cztgeo.transit.TransitNetwork`: access, wait, ride,
transfer and egress, on a frequency-based network (no timetable).

A journey walks (or takes a taxi) to a stop, waits half the headway, rides, transfers (a
platform-change time plus, between nearby stations, a walk, plus half the next line's headway)
and walks (or takes a taxi) from the last stop. The graph has one node per stop and one
on-board node per (line, position); scipy's C Dijkstra runs on it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

from .crs import METRIC_CRS, WGS84, reproject_geometry, transformer
from .errors import InputError
from .routing import as_lonlat
from .transit import LonLat, PointsLike, TransitNetwork, _walk_minutes

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "Journey",
    "plan_journeys",
    "to_wgs84_geom",
    "transit_arrivals",
    "transit_reach",
    "transit_time_matrix",
]

_TO_M = transformer(WGS84, METRIC_CRS)


# edge kinds of the journey graph
_BOARD_FIRST, _BOARD, _RIDE, _ALIGHT, _WALK_LINK, _EGRESS, _DIRECT = range(7)


@dataclass(frozen=True)
class _Graph:
    n_stops: int
    n_nodes: int  # stops + on-board nodes
    onboard: tuple[tuple[int, int], ...]  # node -> (line index, position)
    base: int  # first on-board node id
    board_line: NDArray[np.int64]  # per on-board node: its line, stop and wait to board
    board_stop: NDArray[np.int64]
    board_wait: NDArray[np.float64]
    rows: NDArray[np.int64]
    cols: NDArray[np.int64]
    vals: NDArray[np.float64]
    kind: NDArray[np.int64]


def _graph(tn: TransitNetwork) -> _Graph:
    """Stops, one on-board node per (line, position), and the edges between them."""
    key = ("graph", tn.period, tn.departure_window_minutes)
    cached = tn._xy.get(key)
    if isinstance(cached, _Graph):
        return cached
    n_stops = len(tn.stop_name)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    kind: list[int] = []
    onboard: list[tuple[int, int]] = []
    nid = n_stops
    for li, ln in enumerate(tn.lines):
        wait = tn.wait_minutes(ln)
        for k, s in enumerate(ln.stops):
            node = nid + k
            onboard.append((li, k))
            rows += [node, s]
            cols += [s, node]
            vals += [1e-9, wait + tn.transfer_minutes]
            kind += [_ALIGHT, _BOARD]
            if k + 1 < len(ln.stops):
                rows += [node, node + 1]
                cols += [node + 1, node]
                vals += [ln.run_minutes[k], ln.run_minutes[k]]
                kind += [_RIDE, _RIDE]
        nid += len(ln.stops)
    if tn.transfer_walk_m > 0 and n_stops > 1:
        x, y = tn.stop_xy
        d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
        a, b = np.nonzero((d <= tn.transfer_walk_m) & ~np.eye(n_stops, dtype=bool))
        rows += a.tolist()
        cols += b.tolist()
        vals += _walk_minutes(tn, d[a, b]).tolist()
        kind += [_WALK_LINK] * a.size
    g = _Graph(
        n_stops, nid, tuple(onboard), n_stops,
        np.array([li for li, _ in onboard], dtype=np.int64),
        np.array([tn.lines[li].stops[k] for li, k in onboard], dtype=np.int64),
        np.array([tn.wait_minutes(tn.lines[li]) for li, _ in onboard], dtype=float),
        np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64),
        np.asarray(vals, dtype=float), np.asarray(kind, dtype=np.int64),
    )  # fmt: skip
    tn._xy[key] = g
    return g


def _csr_min(
    rows: NDArray[np.int64], cols: NDArray[np.int64], vals: NDArray[np.float64], n: int
) -> tuple[sp.csr_matrix, dict[tuple[int, int], int]]:
    """A CSR matrix keeping the cheapest of parallel edges, and (row, col) -> edge position."""
    order = np.lexsort((vals, cols, rows))
    r, c = rows[order], cols[order]
    first = np.ones(r.size, dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    keep = order[first]
    m = sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=(n, n))
    return m, {(int(rows[e]), int(cols[e])): int(e) for e in keep}


@dataclass(frozen=True)
class Journey:
    """One door-to-door journey, in minutes, with how it was made.

    Attributes
    ----------
    total
        ``access + wait + in_vehicle + transfer + egress`` (``inf`` when unreachable).
    access, egress
        Getting to the first stop and from the last one (all of it when walking the whole way).
    wait
        Half the headway at each boarding, less what a departure window absorbs.
    transfer
        Platform-change time and walks between stations when changing lines.
    boardings
        Trains taken (0 when walking the whole way).
    access_mode, egress_mode
        How the first and last legs are made (``"walk"``, ``"taxi"``...).
    lines
        Names of the lines ridden, in order.
    route
        The journey in words, e.g. ``"walk 5 min to A → L1 A→B → walk 3 min"``.
    """

    total: float
    access: float
    wait: float
    in_vehicle: float
    transfer: float
    egress: float
    boardings: int
    access_mode: str
    egress_mode: str
    lines: tuple[str, ...]
    route: str


def plan_journeys(
    tn: TransitNetwork,
    origins: PointsLike,
    destinations: PointsLike | None = None,
    *,
    access: ArrayLike | None = None,
    egress: ArrayLike | None = None,
    access_mode: ArrayLike | None = None,
    egress_mode: ArrayLike | None = None,
    walk_direct: bool = True,
) -> list[list[Journey]]:
    """Fastest door-to-door journeys between points, with their breakdown.

    Parameters
    ----------
    origins, destinations
        (lon, lat) points (destinations default to the origins).
    access, egress
        Minutes from origin i to stop s (``access[i, s]``) and from stop s to destination j
        (``egress[s, j]``), e.g. the better of walking and a taxi; walking (straight line x
        detour factor) when omitted.
    access_mode, egress_mode
        Labels of the same shapes saying how each leg is made (``"walk"`` by default).
    walk_direct
        Let a journey walk the whole way when that is faster.

    Returns
    -------
    list of list of Journey
        ``result[i][j]``; an unreachable pair has ``total = inf`` and route ``"unreachable"``.
    """
    o = as_lonlat(origins)
    d = o if destinations is None else as_lonlat(destinations)
    legs = _legs(tn, o, d, access=access, egress=egress, access_mode=access_mode,
                 egress_mode=egress_mode)  # fmt: skip
    search = _search_graph(_graph(tn), legs)
    out: list[list[Journey]] = []
    for i in range(len(o)):
        rows, cols, vals, kinds = _edges_from(search, legs, i, walk_direct=walk_direct)
        m, edge = _csr_min(rows, cols, vals, search.n)
        dist, pred = csgraph.dijkstra(m, directed=True, indices=search.src, return_predecessors=True)  # fmt: skip
        row: list[Journey] = []
        for j, sink in enumerate(search.sinks):
            t = float(dist[sink])
            if not np.isfinite(t):
                row.append(Journey(np.inf, np.inf, 0, 0, 0, 0, 0, "", "", (), "unreachable"))
                continue
            trace = _Breakdown(tn, search, legs, i, j)
            for u, v in itertools.pairwise(_path(pred, search.src, int(sink))):
                e = edge[(u, v)]
                trace.add(int(kinds[e]), float(vals[e]), u, v)
            row.append(trace.journey(t))
        out.append(row)
    return out


@dataclass(frozen=True)
class _Legs:
    """Minutes and labels of the legs off the rail network, for one call."""

    access: NDArray[np.float64]  # (origins, stops)
    egress: NDArray[np.float64]  # (stops, destinations)
    access_mode: NDArray[np.object_]  # labels of the same shapes
    egress_mode: NDArray[np.object_]
    direct: NDArray[np.float64]  # (origins, destinations): walking the whole way


def _legs(
    tn: TransitNetwork,
    o: NDArray[np.float64],
    d: NDArray[np.float64],
    *,
    access: ArrayLike | None,
    egress: ArrayLike | None,
    access_mode: ArrayLike | None,
    egress_mode: ArrayLike | None,
) -> _Legs:
    """The given access/egress minutes (checked) or walking ones, their labels, and walking
    the whole way."""
    n_o, n_d, n_s = len(o), len(d), len(tn.stop_name)
    ox, oy = (np.asarray(v) for v in _TO_M.transform(o[:, 0], o[:, 1]))
    dx, dy = (np.asarray(v) for v in _TO_M.transform(d[:, 0], d[:, 1]))
    walk_to = tn.walk_minutes(o)
    walk_from = tn.walk_minutes(d).T
    acc = walk_to if access is None else _check_matrix(access, (n_o, n_s), "access")
    egr = walk_from if egress is None else _check_matrix(egress, (n_s, n_d), "egress")
    direct = _walk_minutes(tn, np.hypot(dx[None, :] - ox[:, None], dy[None, :] - oy[:, None]))
    return _Legs(acc, egr, _labels(access_mode, (n_o, n_s)), _labels(egress_mode, (n_s, n_d)),
                 direct)  # fmt: skip


def _check_matrix(a: ArrayLike, shape: tuple[int, int], what: str) -> NDArray[np.float64]:
    arr = np.asarray(a, dtype=float)
    if arr.shape != shape:
        raise InputError(f"{what} must have shape {shape}, got {arr.shape}")
    if np.isnan(arr).any() or (arr < 0).any():
        raise InputError(f"{what} must be non-negative minutes (inf for unreachable)")
    return arr


def _labels(modes: ArrayLike | None, shape: tuple[int, int]) -> NDArray[np.object_]:
    if modes is None:
        return np.full(shape, "walk", dtype=object)
    return np.asarray(modes, dtype=object)


@dataclass(frozen=True)
class _Search:
    """The network's graph extended for one call: a source, one sink per destination, and a
    first-boarding copy of each on-board node that can only ride on (so a journey's chain
    through a station always rides at least one stop). The ride and egress edges are the
    same for every origin."""

    g: _Graph
    src: int
    sinks: NDArray[np.int64]
    first_board: int  # id of the first first-boarding node
    bnode: NDArray[np.int64]  # per on-board node: its first-boarding copy
    n: int
    ride_rows: NDArray[np.int64]
    ride_cols: NDArray[np.int64]
    ride_vals: NDArray[np.float64]
    egress_rows: NDArray[np.int64]  # stop -> sink, finite minutes only
    egress_cols: NDArray[np.int64]
    egress_vals: NDArray[np.float64]


def _search_graph(g: _Graph, legs: _Legs) -> _Search:
    n_s, n_d = legs.egress.shape
    n_b = len(g.onboard)
    src = g.n_nodes
    sinks = src + 1 + np.arange(n_d)
    first_board = src + 1 + n_d
    ride = g.kind == _RIDE
    ride_rows = g.rows[ride] - g.base + first_board if n_b else g.rows[:0]
    e_stop = np.repeat(np.arange(n_s), n_d)
    e_sink = np.tile(sinks, n_s)
    e_val = legs.egress.reshape(-1)
    ok_e = np.isfinite(e_val)
    return _Search(
        g, src, sinks, first_board, first_board + np.arange(n_b), first_board + n_b,
        ride_rows, g.cols[ride], g.vals[ride],
        e_stop[ok_e], e_sink[ok_e], e_val[ok_e] + 1e-9,
    )  # fmt: skip


def _edges_from(
    s: _Search, legs: _Legs, i: int, *, walk_direct: bool
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Edges (rows, cols, minutes, kinds) of the search from origin i: the network's, access
    to every first boarding reachable, egress, rides on from a first boarding and, with
    ``walk_direct``, walking the whole way."""
    g = s.g
    a_val = legs.access[i, g.board_stop] + g.board_wait + 1e-9
    ok_a = np.isfinite(a_val)
    n_a, n_e, n_d = int(ok_a.sum()), s.egress_rows.size, s.sinks.size
    parts_r = [g.rows, np.full(n_a, s.src), s.egress_rows, s.ride_rows]
    parts_c = [g.cols, s.bnode[ok_a], s.egress_cols, s.ride_cols]
    parts_v = [g.vals, a_val[ok_a], s.egress_vals, s.ride_vals]
    parts_k = [g.kind, np.full(n_a, _BOARD_FIRST), np.full(n_e, _EGRESS),
               np.full(s.ride_rows.size, _RIDE)]  # fmt: skip
    if walk_direct:
        parts_r.append(np.full(n_d, s.src))
        parts_c.append(s.sinks)
        parts_v.append(legs.direct[i] + 1e-9)
        parts_k.append(np.full(n_d, _DIRECT))
    return (
        np.concatenate(parts_r).astype(np.int64), np.concatenate(parts_c).astype(np.int64),
        np.concatenate(parts_v), np.concatenate(parts_k),
    )  # fmt: skip


def _path(pred: NDArray[np.int32], src: int, sink: int) -> list[int]:
    """Nodes from ``src`` to ``sink`` along Dijkstra's predecessors."""
    path = [sink]
    while path[-1] != src:
        path.append(int(pred[path[-1]]))
    path.reverse()
    return path


class _Breakdown:
    """A journey's minutes by component, legs, lines and modes, added up edge by edge along
    its path from origin i to destination j."""

    def __init__(self, tn: TransitNetwork, s: _Search, legs: _Legs, i: int, j: int) -> None:
        self.tn, self.s, self.legs, self.i, self.j = tn, s, legs, i, j
        self.comp = {"access": 0.0, "wait": 0.0, "ride": 0.0, "transfer": 0.0, "egress": 0.0}
        self.steps: list[str] = []
        self.used: list[str] = []
        self.am = self.em = ""
        self.boardings = 0
        self.ride_from: str | None = None

    def add(self, kind: int, val: float, u: int, v: int) -> None:
        """Add the edge u -> v of this kind and minutes."""
        if kind == _DIRECT:
            self.comp["access"] += val
            self.am = "walk"
            self.steps.append(f"walk {val:.0f} min")
        elif kind == _BOARD_FIRST:
            self._board_first(v)
        elif kind == _BOARD:
            w = self.tn.wait_minutes(self.tn.lines[int(self.s.g.board_line[v - self.s.g.base])])
            self.comp["wait"] += w
            self.comp["transfer"] += val - w
            self.boardings += 1
        elif kind == _RIDE:
            self._ride(u, val)
        elif kind == _ALIGHT:
            self._alight(u)
        elif kind == _WALK_LINK:
            self.comp["transfer"] += val
            self.steps.append(f"walk {val:.0f} min to {self.tn.stop_name[v]}")
        elif kind == _EGRESS:
            egr = self.legs.egress[u, self.j]
            self.comp["egress"] += float(egr)
            self.em = str(self.legs.egress_mode[u, self.j])
            self.steps.append(f"{self.em} {egr:.0f} min")

    def _board_first(self, v: int) -> None:
        g, i = self.s.g, self.i
        s = int(g.board_stop[v - self.s.first_board])
        acc = self.legs.access[i, s]
        self.comp["access"] += float(acc)
        self.comp["wait"] += float(g.board_wait[v - self.s.first_board])
        self.am = str(self.legs.access_mode[i, s])
        self.steps.append(f"{self.am} {acc:.0f} min to {self.tn.stop_name[s]}")
        self.boardings += 1

    def _ride(self, u: int, val: float) -> None:
        self.comp["ride"] += val
        if self.ride_from is None:
            g = self.s.g
            li, pos = g.onboard[u - (self.s.first_board if u >= self.s.first_board else g.base)]
            self.ride_from = self.tn.stop_name[self.tn.lines[li].stops[pos]]

    def _alight(self, u: int) -> None:
        li, pos = self.s.g.onboard[u - self.s.g.base]
        ln = self.tn.lines[li]
        if self.ride_from is not None:
            self.steps.append(f"{ln.name} {self.ride_from}→{self.tn.stop_name[ln.stops[pos]]}")
            self.used.append(ln.name)
        self.ride_from = None

    def journey(self, total: float) -> Journey:
        c = self.comp
        return Journey(total, c["access"], c["wait"], c["ride"], c["transfer"], c["egress"],
                       self.boardings, self.am, self.em or self.am, tuple(self.used),
                       " → ".join(self.steps))  # fmt: skip


def transit_arrivals(
    tn: TransitNetwork, origin: LonLat, access: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Minutes from ``origin`` (lon, lat) to standing on each stop's platform after riding.

    Getting to the first stop (``access`` minutes per stop; walking by default), waiting half
    its line's headway; later boardings pay the transfer cost and the wait. Stops not reached
    by rail get ``inf`` (walking alone is not counted here).
    """
    n_stops = len(tn.stop_name)
    if access is None:
        access = tn.walk_minutes([origin])[0]
    g = _graph(tn)
    src = g.n_nodes
    a_val = np.asarray(access, dtype=float)[g.board_stop] + g.board_wait + 1e-9
    ok = np.isfinite(a_val)
    rows = np.concatenate([g.rows, np.full(ok.sum(), src)])
    cols = np.concatenate([g.cols, g.base + np.flatnonzero(ok)])
    vals = np.concatenate([g.vals, a_val[ok]])
    m, _ = _csr_min(rows, cols, vals, src + 1)
    dist = csgraph.dijkstra(m, directed=True, indices=src)
    return np.asarray(dist[:n_stops])


def transit_time_matrix(
    tn: TransitNetwork,
    points: PointsLike,
    *,
    access: ArrayLike | None = None,
    egress: ArrayLike | None = None,
) -> pd.DataFrame:
    """Minutes between points by rail, or on foot alone when that is faster.

    ``access[i, s]`` / ``egress[s, j]`` give the minutes from point i to stop s and from stop s
    to point j (e.g. by road, for taxi or park-and-ride); walking when omitted.
    """
    js = plan_journeys(tn, points, access=access, egress=egress)
    out = np.array(
        [[0.0 if i == j else jr.total for j, jr in enumerate(r)] for i, r in enumerate(js)]
    )
    return pd.DataFrame(out)


def transit_reach(tn: TransitNetwork, origin: LonLat, minutes: float) -> shapely.Geometry:
    """Area (UTM 49N) reached within ``minutes`` on foot and by rail: a walking disc around the
    origin plus an island around every stop reached in time (radius = walking distance left,
    divided by the detour factor)."""
    sx, sy = tn.stop_xy
    ox, oy = _TO_M.transform(*origin)
    speed = tn.walk_kmh / 3.6 * 60.0 / tn.detour  # straight-line metres per minute
    arr = transit_arrivals(tn, origin)
    ok = arr < minutes
    discs = [shapely.Point(ox, oy).buffer(minutes * speed, quad_segs=32)]
    discs += list(
        shapely.buffer(shapely.points(sx[ok], sy[ok]), (minutes - arr[ok]) * speed, quad_segs=32)
    )
    return shapely.union_all(discs)


def to_wgs84_geom(geom: shapely.Geometry) -> shapely.Geometry:
    """A UTM 49N geometry in WGS84."""
    return reproject_geometry(geom, METRIC_CRS, WGS84)
