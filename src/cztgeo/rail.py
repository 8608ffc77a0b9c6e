"""Rail transit without a timetable: lines placed on station points, a GTFS reader, and
door-to-door journeys (access, wait, ride, transfer, egress) on a frequency-based network.

A :class:`TransitNetwork` holds stops and lines (ordered stops, run times between consecutive
stops, a headway by period). A journey walks (or takes a taxi) to a stop, waits half the
headway, rides, transfers (a platform-change time plus, between nearby stations, a walk, plus
half the next line's headway) and walks (or takes a taxi) from the last stop.

The embedded network (``geodata/czt_transit.json``, built by ``scripts/build_transit.py``) holds
the 长株潭城际 line, Changsha Metro lines 1-6 with Line 3's west ring, the S2 maglev and the
high-speed links between the three cities; every run time and headway carries its source or is
marked as an assumption.
"""

from __future__ import annotations

import itertools
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

from .crs import METRIC_CRS, WGS84, reproject_geometry, transformer
from .errors import DataSourceError, InputError, RailWarning
from .gtfs import read_gtfs
from .io import check_number, read_json
from .settings import Settings, embedded_data_dir
from .transit import PERIODS as PERIODS
from .transit import SAME_STOP_M, Line, TransitNetwork, _walk_minutes

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "Journey",
    "Line",
    "RailWarning",
    "TransitNetwork",
    "load_rail",
    "plan_journeys",
    "read_gtfs",
    "transit_arrivals",
    "transit_reach",
    "transit_time_matrix",
]

log = logging.getLogger(__name__)

_TO_M = transformer(WGS84, METRIC_CRS)
EMBEDDED_TRANSIT = "czt_transit.json"
#: A line-file station with coordinates farther than this from every rail point is refused.
MAX_STATION_OFFSET_M = 500.0


def _norm(name: Any) -> str:
    text = str(name).strip()
    return text[:-1] if text.endswith("站") and len(text) > 1 else text


def _positive(value: Any, what: str) -> float:
    return float(check_number(what, value))  # type: ignore[arg-type]


def _non_negative(value: Any, what: str) -> float:
    return float(check_number(what, value, strict=False))  # type: ignore[arg-type]


def _station_points(
    stations: gpd.GeoDataFrame | str | os.PathLike[str] | None, settings: Settings, needed: bool
) -> gpd.GeoDataFrame | None:
    if stations is None:
        stations = settings.data_path("osm", "czt_rail_stations.geojson")
        if not Path(stations).exists():
            if needed:
                raise DataSourceError(
                    f"no OSM station points at {str(stations)!r}: the line file names stations "
                    "without coordinates; set CZTGEO_DATA_DIR to a folder with "
                    "osm/czt_rail_stations.geojson, pass stations=, or give lon/lat per station"
                )
            return None
    if isinstance(stations, gpd.GeoDataFrame):
        return stations.to_crs(WGS84)
    if not Path(stations).exists():
        raise DataSourceError(f"no station points at {str(stations)!r}")
    return gpd.read_file(stations).to_crs(WGS84)


def _headways(ln: dict[str, Any], label: str) -> tuple[float, float | None]:
    hw = ln.get("headway_minutes")
    if hw is None:
        raise InputError(f"line {label}: no headway_minutes")
    if isinstance(hw, dict):
        off = _positive(hw.get("offpeak"), f"line {label}: headway_minutes.offpeak")
        peak = _positive(hw.get("peak", off), f"line {label}: headway_minutes.peak")
        return off, peak
    return _positive(hw, f"line {label}: headway_minutes"), None


def load_rail(
    path: str | os.PathLike[str] | None = None,
    *,
    stations: gpd.GeoDataFrame | str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
    period: str = "offpeak",
) -> TransitNetwork:
    """Rail transit from a line file (default: the embedded CZT intercity, metro and HSR lines).

    Parameters
    ----------
    path
        Line-definition JSON (default: the embedded ``geodata/czt_transit.json``). Each line
        has ``id``, ``name``, ``stations`` (in order: objects with ``name``, ``lon``, ``lat``,
        or names placed on the OSM station points of that name), a run time (``run``:
        ``{"from", "to", "minutes", "dwell_minutes"}`` spread over the segments by track
        length, or ``{"speed_kmh"}``; the older ``run_minutes`` is read too) and
        ``headway_minutes`` (a number, or ``{"peak", "offpeak"}``).
    stations
        Station points with a ``name`` column, to place named stations and to check given
        positions (default: ``osm/czt_rail_stations.geojson`` in the data directory).
    period
        ``"offpeak"`` (default) or ``"peak"`` headways.

    Raises
    ------
    InputError
        Naming every offender: unknown station names, stations more than 500 m from any
        station point, lines without run times or headways, run-time stations not on the line.
    """
    settings = settings or Settings()
    embedded = path is None
    p = Path(path) if path is not None else embedded_data_dir() / EMBEDDED_TRANSIT
    spec = read_json(p, "rail line file")
    if not isinstance(spec, dict) or not isinstance(spec.get("lines"), list) or not spec["lines"]:
        raise InputError(
            f"{p.name}: no 'lines' list: see the embedded czt_transit.json for the format"
        )
    by_name_needed = any(
        isinstance(s, str) for ln in spec["lines"] if isinstance(ln, dict)
        for s in ln.get("stations", [])
    )  # fmt: skip
    st = None if embedded else _station_points(stations, settings, by_name_needed)
    by_name: dict[str, tuple[float, float, str]] = {}
    if st is not None and "name" in st.columns:
        named = st[st["name"].notna()]
        kinds = named["station"] if "station" in named else pd.Series("", index=named.index)
        for nm, kind, g in zip(named["name"], kinds, named.geometry, strict=True):
            key = _norm(nm)
            # prefer a mainline 'train' point over a metro or monorail point of the same name
            if key not in by_name or (kind == "train" and by_name[key][2] != "train"):
                by_name[key] = (g.x, g.y, str(kind))
    rail_xy = None
    if st is not None and len(st):
        rx, ry = _TO_M.transform(st.geometry.x.to_numpy(), st.geometry.y.to_numpy())
        rail_xy = (np.asarray(rx), np.asarray(ry))
    track_factor = float(spec.get("track_factor", 1.0))
    walk: dict[str, Any] = spec.get("walk") or spec.get("walk_access") or {}
    transfer: dict[str, Any] = spec.get("transfer") or {}
    taxi: dict[str, Any] = spec.get("taxi") or {}
    if not all(isinstance(v, dict) for v in (walk, transfer, taxi)):
        raise InputError(f"{p.name}: 'walk', 'transfer' and 'taxi' must be objects")
    problems: list[str] = []
    names: list[str] = []
    lon: list[float] = []
    lat: list[float] = []
    lines: list[Line] = []
    low: list[str] = []

    def stop_index(nm: str, lo: float, la: float) -> int:
        x, y = _TO_M.transform(lo, la)
        for k, existing in enumerate(names):
            if _norm(existing) == _norm(nm):
                ex, ey = _TO_M.transform(lon[k], lat[k])
                if np.hypot(ex - x, ey - y) < SAME_STOP_M:
                    return k
        names.append(nm)
        lon.append(lo)
        lat.append(la)
        return len(names) - 1

    for n_line, ln in enumerate(spec["lines"]):
        if not isinstance(ln, dict):
            problems.append(f"line #{n_line + 1} is not an object")
            continue
        label = repr(ln.get("name", ln.get("id", f"#{n_line + 1}")))
        placed: list[int] = []
        seen: set[str] = set()
        for s in ln.get("stations", []):
            if isinstance(s, dict):
                nm = str(s.get("name", "")).strip()
                try:
                    lo, la = float(s["lon"]), float(s["lat"])
                except (KeyError, TypeError, ValueError):
                    problems.append(f"{nm or '?'} ({label}): no numeric lon/lat")
                    continue
                if not (-180 <= lo <= 180 and -90 <= la <= 90):
                    problems.append(f"{nm} ({label}): lon/lat out of range ({lo}, {la})")
                    continue
                if rail_xy is not None:
                    x, y = _TO_M.transform(lo, la)
                    d = float(np.hypot(rail_xy[0] - x, rail_xy[1] - y).min())
                    if d > MAX_STATION_OFFSET_M:
                        problems.append(f"{nm} ({label}): {d:.0f} m from the nearest rail point")
                        continue
                if str(s.get("confidence", "")).upper().startswith("LOW"):
                    low.append(nm)
            else:
                nm = _norm(s)
                if nm not in by_name:
                    problems.append(
                        f"{nm} ({label}): unknown station (no station point of that name)"
                    )
                    continue
                lo, la = by_name[nm][0], by_name[nm][1]
            if _norm(nm) in seen:
                problems.append(f"{nm} ({label}): listed twice")
                continue
            seen.add(_norm(nm))
            placed.append(stop_index(nm, lo, la))
        if len(placed) < 2:
            problems.append(f"line {label}: fewer than 2 stations")
            continue
        try:
            off, peak = _headways(ln, label)
        except InputError as exc:
            problems.append(str(exc))
            continue
        x, y = _TO_M.transform(np.array(lon)[placed], np.array(lat)[placed])
        track = np.hypot(np.diff(x), np.diff(y)) * track_factor
        run = ln.get("run", ln.get("run_minutes"))
        if not isinstance(run, dict):
            problems.append(f"line {label}: no run time ('run' with from/to/minutes or speed_kmh)")
            continue
        try:
            if "speed_kmh" in run:
                v = _positive(run["speed_kmh"], f"line {label}: run.speed_kmh")
                seg = track / (v / 3.6) / 60.0
            else:
                minutes = _positive(run.get("minutes"), f"line {label}: run.minutes")
                dwell = float(run.get("dwell_minutes", 0.0))
                a, b = _norm(run.get("from", "")), _norm(run.get("to", ""))
                order = [_norm(names[i]) for i in placed]
                if a not in order or b not in order:
                    raise InputError(f"line {label}: run stations {a!r}/{b!r} are not on the line")
                ia, ib = sorted((order.index(a), order.index(b)))
                moving = minutes - dwell * (ib - ia)
                if ib == ia or moving <= 0:
                    raise InputError(
                        f"line {label}: run time {minutes} min too short for its stops"
                    )
                seg = track * (moving / track[ia:ib].sum()) + dwell
        except InputError as exc:
            problems.append(str(exc))
            continue
        lines.append(
            Line(
                str(ln.get("id", f"line-{n_line + 1}")), str(ln.get("name", "")),
                str(ln.get("kind", "rail")), tuple(placed), tuple(float(v) for v in seg), off,
                str(run.get("source", "")), peak, str(ln.get("colour", "")),
            )
        )  # fmt: skip
    if problems:
        raise InputError(f"{p.name}: " + "; ".join(problems))
    if low:
        warnings.warn(
            f"low-confidence station positions (check before use): {', '.join(sorted(set(low)))}",
            RailWarning,
            stacklevel=2,
        )
    assumptions = tuple(str(v.get("basis")) for v in (walk, transfer, taxi) if v.get("basis"))
    tn = TransitNetwork(
        tuple(names), np.array(lon), np.array(lat), tuple(lines),
        walk_kmh=_positive(walk.get("speed_kmh", 4.5), "walk speed"),
        detour=_positive(walk.get("detour_factor", 1.3), "detour factor"),
        transfer_minutes=_non_negative(transfer.get("platform_minutes", spec.get("transfer_penalty_minutes", 5.0)), "transfer minutes"),
        source=("embedded CZT transit (intercity, Changsha Metro, HSR)" if embedded else f"line file {p.name}"),
        transfer_walk_m=_non_negative(transfer.get("walk_link_m", 0.0), "transfer walk_link_m"),
        taxi_overhead_minutes=_non_negative(taxi.get("overhead_minutes", 5.0), "taxi overhead"),
        assumptions=assumptions,
        track_factor=track_factor,
    )  # fmt: skip
    return tn.with_period(period)


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
    if key in tn._xy:
        return tn._xy[key]  # type: ignore[no-any-return]
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
