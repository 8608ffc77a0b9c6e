"""Rail transit without a timetable: a line file (lines placed on station points) read into a
:class:`~cztgeo.transit.TransitNetwork`, and the public face of the rail modules.

A line file names each line's stations in order (with positions, or by name on the OSM
station points), a run time and a headway by period; :func:`load_rail` checks it and names
every offender in one error. The embedded network (``geodata/czt_transit.json``, built by
``scripts/build_transit.py``) holds the 长株潭城际 line, Changsha Metro lines 1-6 with Line 3's
west ring, the S2 maglev and the high-speed links between the three cities; every run time and
headway carries its source or is marked as an assumption.

Other rail concerns live next door and are re-exported here: the model
(:mod:`cztgeo.transit`), the GTFS reader (:mod:`cztgeo.gtfs`) and door-to-door journeys
(:mod:`cztgeo.journeys`).
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypedDict, cast

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
from .transit import SAME_STOP_M, Line, LonLat, PointsLike, TransitNetwork

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "HeadwaySpec",
    "Journey",
    "Line",
    "LineFile",
    "LineSpec",
    "LonLat",
    "PointsLike",
    "RailWarning",
    "RunSpec",
    "StationSpec",
    "TaxiSpec",
    "TransferSpec",
    "TransitNetwork",
    "WalkSpec",
    "default_transit",
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


# ---------------------------------------------------------------- the line file format
# What a line file holds (see geodata/czt_transit.json). JSON is untrusted: load_rail checks
# each value as it reads it and names every offender.


class StationSpec(TypedDict, total=False):
    """A station given by position (WGS84 degrees); ``confidence`` starting with "LOW" warns."""

    name: str
    lon: float
    lat: float
    confidence: str


#: A line's run time: ``from``/``to`` stations and ``minutes`` between them (with
#: ``dwell_minutes`` a stop), spread over the segments by track length; or ``speed_kmh``.
RunSpec = TypedDict(
    "RunSpec",
    {
        "from": str,
        "to": str,
        "minutes": float,
        "dwell_minutes": float,
        "speed_kmh": float,
        "source": str,
    },
    total=False,
)


class HeadwaySpec(TypedDict, total=False):
    """Minutes between trains by period (``peak`` defaults to ``offpeak``)."""

    offpeak: float
    peak: float


class LineSpec(TypedDict, total=False):
    """One line: stations in order (names placed on the OSM station points, or positions)."""

    id: str
    name: str
    name_en: str
    kind: str
    colour: str
    stations: list[str | StationSpec]
    stations_source: str
    run: RunSpec
    run_minutes: RunSpec  # the older name of ``run``
    headway_minutes: float | HeadwaySpec
    headway_source: str


class WalkSpec(TypedDict, total=False):
    """Walking to, from and between stations (straight line x ``detour_factor``)."""

    speed_kmh: float
    detour_factor: float
    basis: str


class TransferSpec(TypedDict, total=False):
    """Changing lines: a fixed cost, and walking links between stations this close."""

    platform_minutes: float
    walk_link_m: float
    basis: str


class TaxiSpec(TypedDict, total=False):
    """Taking a taxi to or from a station: minutes to hail, board and pay."""

    overhead_minutes: float
    basis: str


class LineFile(TypedDict, total=False):
    """A rail line file: the lines and the assumptions used on them."""

    name: str
    description: str
    licence: str
    lines: list[LineSpec]
    track_factor: float
    track_factor_basis: str
    walk: WalkSpec
    walk_access: WalkSpec  # the older name of ``walk``
    transfer: TransferSpec
    transfer_penalty_minutes: float  # the older name of ``transfer.platform_minutes``
    taxi: TaxiSpec


# ---------------------------------------------------------------- load_rail


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
        Line-definition JSON (default: the embedded ``geodata/czt_transit.json``; the format
        is :class:`LineFile`). Each line has ``id``, ``name``, ``stations`` (in order: objects
        with ``name``, ``lon``, ``lat``, or names placed on the OSM station points of that
        name), a run time (``run``: ``{"from", "to", "minutes", "dwell_minutes"}`` spread over
        the segments by track length, or ``{"speed_kmh"}``; the older ``run_minutes`` is read
        too) and ``headway_minutes`` (a number, or ``{"peak", "offpeak"}``).
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
    spec = _read_line_file(p)
    points = None if embedded else _station_points(stations, settings, _names_only(spec))
    known = _known_stations(points)
    track_factor = _positive(spec.get("track_factor", 1.0), f"{p.name}: track_factor")
    walk, transfer, taxi = _assumptions(spec, p.name)
    stops = _StopTable()
    problems: list[str] = []
    low: list[str] = []
    lines: list[Line] = []
    for n_line, ln in enumerate(spec["lines"]):
        if not isinstance(ln, dict):
            problems.append(f"line #{n_line + 1} is not an object")
            continue
        try:
            lines.append(_read_line(ln, n_line, known, stops, track_factor, problems, low))
        except InputError as exc:
            problems.append(str(exc))
    if problems:
        raise InputError(f"{p.name}: " + "; ".join(problems))
    if low:
        warnings.warn(
            f"low-confidence station positions (check before use): {', '.join(sorted(set(low)))}",
            RailWarning,
            stacklevel=2,
        )
    tn = TransitNetwork(
        tuple(stops.names), np.array(stops.lon), np.array(stops.lat), tuple(lines),
        walk_kmh=_positive(walk.get("speed_kmh", 4.5), "walk speed"),
        detour=_positive(walk.get("detour_factor", 1.3), "detour factor"),
        transfer_minutes=_non_negative(transfer.get("platform_minutes", spec.get("transfer_penalty_minutes", 5.0)), "transfer minutes"),
        source=("embedded CZT transit (intercity, Changsha Metro, HSR)" if embedded else f"line file {p.name}"),
        transfer_walk_m=_non_negative(transfer.get("walk_link_m", 0.0), "transfer walk_link_m"),
        taxi_overhead_minutes=_non_negative(taxi.get("overhead_minutes", 5.0), "taxi overhead"),
        assumptions=tuple(str(v.get("basis")) for v in (walk, transfer, taxi) if v.get("basis")),
        track_factor=track_factor,
    )  # fmt: skip
    return tn.with_period(period)


def _norm(name: object) -> str:
    """A station name as compared: stripped, without a trailing 站 ("station")."""
    text = str(name).strip()
    return text[:-1] if text.endswith("站") and len(text) > 1 else text


def _positive(value: object, what: str) -> float:
    return cast(float, check_number(what, value))  # None only with allow_none=True


def _non_negative(value: object, what: str) -> float:
    return cast(float, check_number(what, value, strict=False))  # None only with allow_none


# ---------------------------------------------------------------- the file and its settings


def _read_line_file(p: Path) -> LineFile:
    """The JSON of a line file, which must hold a non-empty ``lines`` list."""
    spec = read_json(p, "rail line file")
    if not isinstance(spec, dict) or not isinstance(spec.get("lines"), list) or not spec["lines"]:
        raise InputError(
            f"{p.name}: no 'lines' list: see the embedded czt_transit.json for the format"
        )
    return cast(LineFile, spec)


def _names_only(spec: LineFile) -> bool:
    """Does a line name a station without giving its position (so station points are needed)?"""
    return any(
        isinstance(s, str) for ln in spec["lines"] if isinstance(ln, dict)
        for s in _stations_of(ln)
    )  # fmt: skip


def _stations_of(ln: LineSpec) -> list[str | StationSpec]:
    """A line's ``stations`` list (empty if it is not a list: the line is refused later)."""
    stations = ln.get("stations", [])
    return stations if isinstance(stations, list) else []


def _assumptions(spec: LineFile, file_name: str) -> tuple[WalkSpec, TransferSpec, TaxiSpec]:
    """The walk, transfer and taxi objects (empty when absent)."""
    walk = spec.get("walk") or spec.get("walk_access") or {}
    transfer = spec.get("transfer") or {}
    taxi = spec.get("taxi") or {}
    if not all(isinstance(v, dict) for v in (walk, transfer, taxi)):
        raise InputError(f"{file_name}: 'walk', 'transfer' and 'taxi' must be objects")
    return walk, transfer, taxi


# ---------------------------------------------------------------- station points


class _KnownStations(NamedTuple):
    """The station points a line file is placed on and checked against."""

    #: normalised name -> (lon, lat, OSM ``station`` tag)
    by_name: dict[str, tuple[float, float, str]]
    #: every point in metres (UTM 49N), or None without station points
    xy: tuple[NDArray[np.float64], NDArray[np.float64]] | None


def _station_points(
    stations: gpd.GeoDataFrame | str | os.PathLike[str] | None, settings: Settings, needed: bool
) -> gpd.GeoDataFrame | None:
    """The station points in WGS84 (None if the default file is absent and not ``needed``)."""
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


def _known_stations(points: gpd.GeoDataFrame | None) -> _KnownStations:
    """Index the station points by name, preferring a mainline ``train`` point over a metro or
    monorail point of the same name."""
    by_name: dict[str, tuple[float, float, str]] = {}
    if points is not None and "name" in points.columns:
        named = points[points["name"].notna()]
        kinds = named["station"] if "station" in named else pd.Series("", index=named.index)
        for nm, kind, g in zip(named["name"], kinds, named.geometry, strict=True):
            key = _norm(nm)
            if key not in by_name or (kind == "train" and by_name[key][2] != "train"):
                by_name[key] = (g.x, g.y, str(kind))
    xy = None
    if points is not None and len(points):
        rx, ry = _TO_M.transform(points.geometry.x.to_numpy(), points.geometry.y.to_numpy())
        xy = (np.asarray(rx), np.asarray(ry))
    return _KnownStations(by_name, xy)


class _Placed(NamedTuple):
    name: str
    lon: float
    lat: float
    low_confidence: bool


def _place_station(s: str | StationSpec, label: str, known: _KnownStations) -> _Placed:
    """A line's station at its given position (checked against the station points) or on the
    station point of its name; InputError naming it otherwise."""
    if not isinstance(s, dict):
        nm = _norm(s)
        if nm not in known.by_name:
            raise InputError(f"{nm} ({label}): unknown station (no station point of that name)")
        lo, la, _ = known.by_name[nm]
        return _Placed(nm, lo, la, False)
    nm = str(s.get("name", "")).strip()
    try:
        lo, la = float(s["lon"]), float(s["lat"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{nm or '?'} ({label}): no numeric lon/lat") from exc
    if not (-180 <= lo <= 180 and -90 <= la <= 90):
        raise InputError(f"{nm} ({label}): lon/lat out of range ({lo}, {la})")
    if known.xy is not None:
        x, y = _TO_M.transform(lo, la)
        d = float(np.hypot(known.xy[0] - x, known.xy[1] - y).min())
        if d > MAX_STATION_OFFSET_M:
            raise InputError(f"{nm} ({label}): {d:.0f} m from the nearest rail point")
    return _Placed(nm, lo, la, str(s.get("confidence", "")).upper().startswith("LOW"))


class _StopTable:
    """The stops of the network being read; a station joins a stop of the same name within
    ``SAME_STOP_M``."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.lon: list[float] = []
        self.lat: list[float] = []

    def index(self, nm: str, lo: float, la: float) -> int:
        x, y = _TO_M.transform(lo, la)
        for k, existing in enumerate(self.names):
            if _norm(existing) == _norm(nm):
                ex, ey = _TO_M.transform(self.lon[k], self.lat[k])
                if np.hypot(ex - x, ey - y) < SAME_STOP_M:
                    return k
        self.names.append(nm)
        self.lon.append(lo)
        self.lat.append(la)
        return len(self.names) - 1


# ---------------------------------------------------------------- one line


def _read_line(
    ln: LineSpec,
    n_line: int,
    known: _KnownStations,
    stops: _StopTable,
    track_factor: float,
    problems: list[str],
    low: list[str],
) -> Line:
    """One line of the file. Its stations' faults go to ``problems`` (the line goes on without
    them); a fault of the whole line raises InputError."""
    label = repr(ln.get("name", ln.get("id", f"#{n_line + 1}")))
    placed = _line_stops(ln, label, known, stops, problems, low)
    if len(placed) < 2:
        raise InputError(f"line {label}: fewer than 2 stations")
    off, peak = _headways(ln, label)
    x, y = _TO_M.transform(np.array(stops.lon)[placed], np.array(stops.lat)[placed])
    track = np.hypot(np.diff(x), np.diff(y)) * track_factor
    run = ln.get("run", ln.get("run_minutes"))
    if not isinstance(run, dict):
        raise InputError(f"line {label}: no run time ('run' with from/to/minutes or speed_kmh)")
    order = [_norm(stops.names[i]) for i in placed]
    seg = _segment_minutes(run, label, order, track)
    return Line(
        str(ln.get("id", f"line-{n_line + 1}")), str(ln.get("name", "")),
        str(ln.get("kind", "rail")), tuple(placed), tuple(float(v) for v in seg), off,
        str(run.get("source", "")), peak, str(ln.get("colour", "")),
    )  # fmt: skip


def _line_stops(
    ln: LineSpec,
    label: str,
    known: _KnownStations,
    stops: _StopTable,
    problems: list[str],
    low: list[str],
) -> list[int]:
    """Stop indices of a line's stations, in order; each station that cannot be placed, or is
    listed twice, is named in ``problems`` and left out."""
    if not isinstance(ln.get("stations", []), list):
        raise InputError(f"line {label}: 'stations' must be a list")
    placed: list[int] = []
    seen: set[str] = set()
    for s in _stations_of(ln):
        try:
            station = _place_station(s, label, known)
        except InputError as exc:
            problems.append(str(exc))
            continue
        if station.low_confidence:
            low.append(station.name)
        key = _norm(station.name)
        if key in seen:
            problems.append(f"{station.name} ({label}): listed twice")
            continue
        seen.add(key)
        placed.append(stops.index(station.name, station.lon, station.lat))
    return placed


def _headways(ln: LineSpec, label: str) -> tuple[float, float | None]:
    """Off-peak and peak headway minutes (peak None when one number is given)."""
    hw = ln.get("headway_minutes")
    if hw is None:
        raise InputError(f"line {label}: no headway_minutes")
    if isinstance(hw, dict):
        off = _positive(hw.get("offpeak"), f"line {label}: headway_minutes.offpeak")
        peak = _positive(hw.get("peak", off), f"line {label}: headway_minutes.peak")
        return off, peak
    return _positive(hw, f"line {label}: headway_minutes"), None


def _segment_minutes(
    run: RunSpec, label: str, order: list[str], track: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Minutes per segment: track metres at ``speed_kmh``, or the ``minutes`` between two
    stations less the dwells, spread by track length, plus a dwell per segment."""
    if "speed_kmh" in run:
        v = _positive(run["speed_kmh"], f"line {label}: run.speed_kmh")
        return np.asarray(track / (v / 3.6) / 60.0)
    minutes = _positive(run.get("minutes"), f"line {label}: run.minutes")
    dwell = _non_negative(run.get("dwell_minutes", 0.0), f"line {label}: run.dwell_minutes")
    a, b = _norm(run.get("from", "")), _norm(run.get("to", ""))
    if a not in order or b not in order:
        raise InputError(f"line {label}: run stations {a!r}/{b!r} are not on the line")
    ia, ib = sorted((order.index(a), order.index(b)))
    moving = minutes - dwell * (ib - ia)
    if ib == ia or moving <= 0:
        raise InputError(f"line {label}: run time {minutes} min too short for its stops")
    return np.asarray(track * (moving / track[ia:ib].sum()) + dwell)


def default_transit(
    rail: TransitNetwork | str | os.PathLike[str] | None = None,
    *,
    settings: Settings | None = None,
    period: str = "offpeak",
    notes: list[str] | None = None,
) -> TransitNetwork | None:
    """The transit network: ``rail`` if a TransitNetwork; a line file (``.json``) or a GTFS feed
    (folder or ``.zip``) if a path; else the embedded lines (None, with a note, when the
    embedded data cannot be read). Warnings about approximate stations go into ``notes``."""
    if isinstance(rail, TransitNetwork):
        return rail.with_period(period)
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RailWarning)
            if rail is None:
                tn = load_rail(settings=settings, period=period)
            elif str(rail).lower().endswith(".json"):
                tn = load_rail(rail, settings=settings, period=period)
            else:
                tn = read_gtfs(rail).with_period(period)
    except DataSourceError as exc:
        if rail is not None:
            raise
        if notes is not None:
            notes.append(f"rail modes skipped: {exc}")
        return None
    if notes is not None:
        notes += [str(w.message) for w in caught]
    return tn
