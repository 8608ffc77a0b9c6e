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
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

from .crs import METRIC_CRS, WGS84, reproject_geometry, transformer
from .errors import InputError
from .transit import TransitNetwork, _walk_minutes

if TYPE_CHECKING:
    from numpy.typing import NDArray

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
) -> tuple[Any, dict[tuple[int, int], int]]:
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
    """One door-to-door journey, in minutes, with how it was made."""

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


def _check_matrix(a: Any, shape: tuple[int, int], what: str) -> NDArray[np.float64]:
    arr = np.asarray(a, dtype=float)
    if arr.shape != shape:
        raise InputError(f"{what} must have shape {shape}, got {arr.shape}")
    if np.isnan(arr).any() or (arr < 0).any():
        raise InputError(f"{what} must be non-negative minutes (inf for unreachable)")
    return arr


def plan_journeys(
    tn: TransitNetwork,
    origins: Any,
    destinations: Any | None = None,
    *,
    access: Any | None = None,
    egress: Any | None = None,
    access_mode: Any | None = None,
    egress_mode: Any | None = None,
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
    from .routing import as_lonlat

    o = as_lonlat(origins)
    d = o if destinations is None else as_lonlat(destinations)
    n_o, n_d = len(o), len(d)
    ox, oy = (np.asarray(v) for v in _TO_M.transform(o[:, 0], o[:, 1]))
    dx, dy = (np.asarray(v) for v in _TO_M.transform(d[:, 0], d[:, 1]))
    n_s = len(tn.stop_name)
    walk_to = tn.walk_minutes(o)
    walk_from = tn.walk_minutes(d).T
    acc = walk_to if access is None else _check_matrix(access, (n_o, n_s), "access")
    egr = walk_from if egress is None else _check_matrix(egress, (n_s, n_d), "egress")
    acc_mode = (
        np.full((n_o, n_s), "walk", dtype=object)
        if access_mode is None
        else np.asarray(access_mode, dtype=object)
    )
    egr_mode = np.full((n_s, n_d), "walk", dtype=object) if egress_mode is None else np.asarray(egress_mode, dtype=object)  # fmt: skip
    direct = _walk_minutes(tn, np.hypot(dx[None, :] - ox[:, None], dy[None, :] - oy[:, None]))
    g = _graph(tn)
    src = g.n_nodes
    sinks = src + 1 + np.arange(n_d)
    # a journey's first boarding goes to a boarding node that can only ride on (so a chain
    # through a station always rides at least one stop)
    n_b = len(g.onboard)
    bnode = src + 1 + n_d + np.arange(n_b)
    n = src + 1 + n_d + n_b
    ride = g.kind == _RIDE
    r_rows = g.rows[ride] - g.base + bnode[0] if n_b else g.rows[:0]
    r_cols, r_vals = g.cols[ride], g.vals[ride]
    out: list[list[Journey]] = []
    # fixed part: source -> every (line, position), stop -> every sink
    b_lines, b_stop, b_wait = g.board_line, g.board_stop, g.board_wait
    e_stop = np.repeat(np.arange(n_s), n_d)
    e_sink = np.tile(sinks, n_s)
    e_val = egr.reshape(-1)
    for i in range(n_o):
        a_val = acc[i, b_stop] + b_wait + 1e-9
        ok_a = np.isfinite(a_val)
        ok_e = np.isfinite(e_val)
        parts_r = [g.rows, np.full(ok_a.sum(), src), e_stop[ok_e], r_rows]
        parts_c = [g.cols, bnode[ok_a], e_sink[ok_e], r_cols]
        parts_v = [g.vals, a_val[ok_a], e_val[ok_e] + 1e-9, r_vals]
        parts_k = [
            g.kind, np.full(ok_a.sum(), _BOARD_FIRST), np.full(ok_e.sum(), _EGRESS),
            np.full(r_rows.size, _RIDE),
        ]  # fmt: skip
        if walk_direct:
            parts_r.append(np.full(n_d, src))
            parts_c.append(sinks)
            parts_v.append(direct[i] + 1e-9)
            parts_k.append(np.full(n_d, _DIRECT))
        rows = np.concatenate(parts_r).astype(np.int64)
        cols = np.concatenate(parts_c).astype(np.int64)
        vals = np.concatenate(parts_v)
        kinds = np.concatenate(parts_k)
        m, edge = _csr_min(rows, cols, vals, n)
        dist, pred = csgraph.dijkstra(m, directed=True, indices=src, return_predecessors=True)
        row: list[Journey] = []
        for j in range(n_d):
            t = float(dist[sinks[j]])
            if not np.isfinite(t):
                row.append(Journey(np.inf, np.inf, 0, 0, 0, 0, 0, "", "", (), "unreachable"))
                continue
            path = [int(sinks[j])]
            while path[-1] != src:
                path.append(int(pred[path[-1]]))
            path.reverse()
            comp = {"access": 0.0, "wait": 0.0, "ride": 0.0, "transfer": 0.0, "egress": 0.0}
            legs: list[str] = []
            used: list[str] = []
            am = em = ""
            boardings = 0
            ride_from: str | None = None
            for u, v in itertools.pairwise(path):
                e = edge[(u, v)]
                k, val = int(kinds[e]), float(vals[e])
                if k == _DIRECT:
                    comp["access"] += val
                    am = "walk"
                    legs.append(f"walk {val:.0f} min")
                elif k == _BOARD_FIRST:
                    s = int(b_stop[v - bnode[0]])
                    w = float(b_wait[v - bnode[0]])
                    comp["access"] += float(acc[i, s])
                    comp["wait"] += w
                    am = str(acc_mode[i, s])
                    legs.append(f"{am} {acc[i, s]:.0f} min to {tn.stop_name[s]}")
                    boardings += 1
                elif k == _BOARD:
                    li = int(b_lines[v - g.base])
                    w = tn.wait_minutes(tn.lines[li])
                    comp["wait"] += w
                    comp["transfer"] += val - w
                    boardings += 1
                elif k == _RIDE:
                    comp["ride"] += val
                    if ride_from is None:
                        li, pos = g.onboard[u - (bnode[0] if u >= bnode[0] else g.base)]
                        ride_from = tn.stop_name[tn.lines[li].stops[pos]]
                elif k == _ALIGHT:
                    li, pos = g.onboard[u - g.base]
                    ln = tn.lines[li]
                    if ride_from is not None:
                        legs.append(f"{ln.name} {ride_from}→{tn.stop_name[ln.stops[pos]]}")
                        used.append(ln.name)
                    ride_from = None
                elif k == _WALK_LINK:
                    comp["transfer"] += val
                    legs.append(f"walk {val:.0f} min to {tn.stop_name[v]}")
                elif k == _EGRESS:
                    comp["egress"] += float(egr[u, j])
                    em = str(egr_mode[u, j])
                    legs.append(f"{em} {egr[u, j]:.0f} min")
            row.append(
                Journey(
                    t, comp["access"], comp["wait"], comp["ride"], comp["transfer"],
                    comp["egress"], boardings, am, em or am, tuple(used), " → ".join(legs),
                )
            )  # fmt: skip
        out.append(row)
    return out


def transit_arrivals(
    tn: TransitNetwork, origin: tuple[float, float], access: NDArray[np.float64] | None = None
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
    points: list[tuple[float, float]],
    *,
    access: NDArray[np.float64] | None = None,
    egress: NDArray[np.float64] | None = None,
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


def transit_reach(
    tn: TransitNetwork, origin: tuple[float, float], minutes: float
) -> shapely.Geometry:
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
