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

import logging
import os
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .crs import METRIC_CRS, WGS84, transformer
from .errors import DataSourceError, InputError, RailWarning
from .gtfs import read_gtfs
from .io import check_number, read_json
from .journeys import (
    Journey,
    plan_journeys,
    transit_arrivals,
    transit_reach,
    transit_time_matrix,
)
from .journeys import to_wgs84_geom as to_wgs84_geom
from .settings import Settings, embedded_data_dir
from .transit import PERIODS as PERIODS
from .transit import SAME_STOP_M, Line, TransitNetwork

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
