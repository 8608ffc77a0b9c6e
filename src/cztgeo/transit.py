"""The transit network model: stops, lines (ordered stops, run times, headways by period) and
the walking, waiting and transfer assumptions applied on them.

Read one from a line file with :func:`cztgeo.rail.load_rail` or from a GTFS feed with
:func:`cztgeo.rail.read_gtfs`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field, replace
from typing import cast

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from .crs import METRIC_CRS, WGS84, transformer
from .errors import InputError
from .io import check_number
from .routing import as_lonlat
from .types import LonLat, PointsLike

__all__ = ["PERIODS", "SAME_STOP_M", "Line", "LonLat", "PointsLike", "TransitNetwork"]

_TO_M = transformer(WGS84, METRIC_CRS)
PERIODS = ("offpeak", "peak")
#: Stations of the same name closer than this are one stop (metres).
SAME_STOP_M = 300.0


@dataclass(frozen=True)
class Line:
    """One line: stop indices in order, minutes between consecutive stops, headways.

    Attributes
    ----------
    stops
        Indices into the network's stops, in running order.
    run_minutes
        Minutes between consecutive stops (one fewer than ``stops``).
    headway_minutes, peak_headway_minutes
        Minutes between trains off-peak, and at the peak (None: the off-peak value).
    source
        Where the run times come from.
    """

    id: str
    name: str
    kind: str
    stops: tuple[int, ...]
    run_minutes: tuple[float, ...]
    headway_minutes: float
    source: str = ""
    peak_headway_minutes: float | None = None
    colour: str = ""


@dataclass(frozen=True)
class TransitNetwork:
    """Stops and lines, with the walking, waiting and transfer assumptions used on them.

    ``transfer_minutes`` is the fixed cost of changing lines (platform change, reliability
    margin); stops of different lines within ``transfer_walk_m`` are linked on foot. ``period``
    (``"offpeak"`` or ``"peak"``) selects each line's headway.

    Attributes
    ----------
    stop_name, stop_lon, stop_lat
        The stops (WGS84 degrees).
    walk_kmh, detour
        Walking speed, and the factor on straight-line distance for street detours.
    departure_window_minutes
        A departure time chosen within this window absorbs that much of the first wait.
    taxi_overhead_minutes
        Minutes to hail, board and pay a taxi (used by taxi+transit access and egress).
    assumptions
        The basis of each assumption, as read from the line file.
    track_factor
        Track length over straight-line distance between stations.
    """

    stop_name: tuple[str, ...]
    stop_lon: NDArray[np.float64]
    stop_lat: NDArray[np.float64]
    lines: tuple[Line, ...]
    walk_kmh: float = 4.5
    detour: float = 1.3
    transfer_minutes: float = 5.0
    departure_window_minutes: float = 0.0
    unplaced: tuple[str, ...] = ()
    source: str = ""
    transfer_walk_m: float = 0.0
    taxi_overhead_minutes: float = 5.0
    period: str = "offpeak"
    assumptions: tuple[str, ...] = ()
    track_factor: float = 1.0
    #: derived arrays (stop metres, the journey graph), computed once per copy
    _xy: dict[Hashable, object] = field(default_factory=dict, repr=False, compare=False)

    @property
    def stop_xy(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Stop positions in metres (UTM 49N, EPSG:32649): (x, y)."""
        if "xy" not in self._xy:
            x, y = _TO_M.transform(self.stop_lon, self.stop_lat)
            self._xy["xy"] = (np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return cast("tuple[NDArray[np.float64], NDArray[np.float64]]", self._xy["xy"])

    def walk_minutes(self, points: PointsLike) -> NDArray[np.float64]:
        """Minutes on foot from each (lon, lat) point to each stop (straight line x detour at
        the walking speed), shape (points, stops)."""
        p = as_lonlat(points)
        px, py = (np.asarray(v) for v in _TO_M.transform(p[:, 0], p[:, 1]))
        sx, sy = self.stop_xy
        return _walk_minutes(self, np.hypot(sx[None, :] - px[:, None], sy[None, :] - py[:, None]))

    def headway(self, line: Line) -> float:
        """The line's headway in this network's period (minutes)."""
        if self.period == "peak" and line.peak_headway_minutes is not None:
            return line.peak_headway_minutes
        return line.headway_minutes

    def wait_minutes(self, line: Line) -> float:
        """Expected wait: half the headway, less what a departure-time window absorbs."""
        return max(self.headway(line) - self.departure_window_minutes, 0.0) / 2.0

    def with_period(self, period: str) -> TransitNetwork:
        """A copy using the ``"peak"`` or ``"offpeak"`` headways."""
        if period not in PERIODS:
            raise InputError(f"unknown period {period!r}: use 'offpeak' or 'peak'")
        return replace(self, period=period, _xy={})

    def with_headway(self, minutes: float | Mapping[str, float]) -> TransitNetwork:
        """A copy with other headways (one value for all lines, or by line id)."""
        for v in minutes.values() if isinstance(minutes, Mapping) else [minutes]:
            check_number("headway minutes", v)
        lines = []
        for ln in self.lines:
            h = minutes.get(ln.id, None) if isinstance(minutes, Mapping) else minutes
            if h is None:
                lines.append(ln)
            else:
                lines.append(replace(ln, headway_minutes=float(h), peak_headway_minutes=float(h)))
        return replace(self, lines=tuple(lines), _xy={})

    def add_line(self, line_stops: list[tuple[str, float, float]], *, run_minutes: list[float],
                 headway_minutes: float, name: str, kind: str = "planned") -> TransitNetwork:  # fmt: skip
        """A copy with a new line; stops within 300 m of an existing stop of the same name
        or position join it (so transfers work)."""
        names = list(self.stop_name)
        lon, lat = list(self.stop_lon), list(self.stop_lat)
        x, y = self.stop_xy
        idx = []
        for nm, lo, la in line_stops:
            px, py = _TO_M.transform(lo, la)
            d = np.hypot(x - px, y - py) if len(x) else np.array([])
            if d.size and d.min() < SAME_STOP_M:
                idx.append(int(d.argmin()))
            else:
                names.append(nm)
                lon.append(lo)
                lat.append(la)
                idx.append(len(names) - 1)
        new = Line(f"planned-{len(self.lines)}", name, kind, tuple(idx), tuple(run_minutes),
                   float(headway_minutes), "scenario")  # fmt: skip
        return replace(
            self, stop_name=tuple(names), stop_lon=np.array(lon), stop_lat=np.array(lat),
            lines=(*self.lines, new), _xy={},
        )  # fmt: skip

    def stops_gdf(self) -> gpd.GeoDataFrame:
        """One row per stop: ``name``, ``lines`` (names joined by "; "), geometry (EPSG:4326)."""
        served: dict[int, list[str]] = {}
        for ln in self.lines:
            for s in ln.stops:
                served.setdefault(s, []).append(ln.name)
        return gpd.GeoDataFrame(
            {
                "name": list(self.stop_name),
                "lines": ["; ".join(served.get(i, [])) for i in range(len(self.stop_name))],
            },
            geometry=shapely.points(self.stop_lon, self.stop_lat),
            crs=WGS84,
        )

    def lines_gdf(self) -> gpd.GeoDataFrame:
        """One row per line: ``id``, ``name``, ``kind``, ``colour``, ``headway_minutes``
        (this period), ``run_minutes`` (end to end), geometry (stations joined, EPSG:4326)."""
        rows = []
        for ln in self.lines:
            rows.append(
                {
                    "id": ln.id,
                    "name": ln.name,
                    "kind": ln.kind,
                    "colour": ln.colour,
                    "headway_minutes": self.headway(ln),
                    "run_minutes": float(sum(ln.run_minutes)),
                    "geometry": shapely.LineString(
                        [(self.stop_lon[s], self.stop_lat[s]) for s in ln.stops]
                    ),
                }
            )
        return gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)


def _walk_minutes(tn: TransitNetwork, dist_m: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(dist_m * tn.detour / (tn.walk_kmh / 3.6) / 60.0)
