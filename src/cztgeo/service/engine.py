"""The service's engine: networks, transit and layers loaded once, read-only per request.

:func:`cztgeo.service.load.load_engine` loads every network the server offers (by mode and period), the rail
network, the green heart and an optional population layer, runs each code path once so the
library's lazy caches (spatial index, reverse arcs, transit graph) are built, and then marks the
arrays read-only. A request only reads this state: it never mutates a shared network.

Modes and what they mean on each kind of network
-------------------------------------------------
``drive``
    The drive network (``--network`` or the embedded coarse skeleton), by period.
``walk``, ``bike``
    A walk / bike network from the same OSM file (or ``walk_network=`` / ``bike_network=``).
    On the embedded **coarse skeleton** there is no walk or bike network, so an APPROXIMATE one
    is derived: the skeleton's roads at 4.5 km/h (walk) or 15 km/h (bike), without its long
    links (inferred expressway-like; the Road Traffic Safety Law, art. 67, keeps pedestrians
    and non-motor vehicles off expressways), and the land between them reached over unmapped
    paths at that speed over a detour factor of 1.3 (the library's local-street model). A
    prepared ``.cztnet`` drive network offers no walk or bike mode.
``transit``
    Walk to a station, metro / intercity / high-speed rail with waits and transfers, walk from
    the last one (:func:`cztgeo.rail.transit_reach`, :func:`cztgeo.rail.plan_journeys`).
``taxi+transit``
    As transit, but the ends by taxi where that is faster; the area also includes the drive
    isochrone (as :func:`cztgeo.commute_circle` does).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import shapely

from ..crs import AREA_CRS, METRIC_CRS, WGS84, reproject_geometry
from ..errors import InputError, LimitError
from ..isochrones import isochrones
from ..routing import travel_time_matrix

if TYPE_CHECKING:
    import geopandas as gpd
    from numpy.typing import NDArray

    from ..network import Network
    from ..rail import TransitNetwork

__all__ = [
    "MODES",
    "PERIODS",
    "PROFILES",
    "Band",
    "Engine",
    "Limits",
    "Measures",
    "Reach",
    "RoadMode",
]

log = logging.getLogger(__name__)

#: openrouteservice profile name -> cztgeo mode. ``public-transport`` is ORS's own name for its
#: transit profile; ``cztgeo-taxi-transit`` is ours.
PROFILES: dict[str, str] = {
    "driving-car": "drive",
    "foot-walking": "walk",
    "cycling-regular": "bike",
    "public-transport": "transit",
    "cztgeo-taxi-transit": "taxi+transit",
}
MODES = ("drive", "walk", "bike", "transit", "taxi+transit")
PERIODS = ("offpeak", "peak")
#: How far a point may lie from the network: coarse networks leave gaps of kilometres between
#: their roads (3 km, as :func:`cztgeo.commute_circle` uses), full OSM networks do not.
SNAP_M = {"coarse": 3000.0, "full": 1000.0}
#: Snapping tolerance of the transit stations onto the road network for taxi legs (m).
STATION_SNAP_M = 10_000.0


@dataclass(frozen=True)
class Limits:
    """Request limits. A request over any of them gets a 4xx naming the limit.

    Attributes
    ----------
    max_body_bytes
        Largest request body (bytes).
    max_locations
        Isochrone locations per request (openrouteservice's public API allows 5).
    max_ranges
        Ranges per location (after expanding ``interval``; ORS allows 10).
    max_range_minutes
        Largest isochrone range (ORS allows 60 minutes for driving).
    max_matrix_locations, max_matrix_routes
        Matrix locations and sources x destinations (ORS: 3,500 routes).
    workers
        Requests computed at once (the others wait their turn): more than the cores adds
        memory, not throughput. None: the number of cores, at least 2.
    """

    max_body_bytes: int = 100_000
    max_locations: int = 5
    max_ranges: int = 10
    max_range_minutes: float = 60.0
    max_matrix_locations: int = 100
    max_matrix_routes: int = 3500
    workers: int | None = None


@dataclass(frozen=True, eq=False)
class RoadMode:
    """A road network offered for one mode and period, with the options every call uses."""

    net: Network
    max_snap_m: float
    access_kmh: float
    local_kmh: float | None
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.net.source + (" (coarse skeleton)" if self.net.coarse else "")


@dataclass(frozen=True)
class Band:
    """One isochrone band: the area reached within ``minutes`` (WGS84) and its area as the
    library measures it (km², in the network's UTM zone)."""

    minutes: float
    geometry: shapely.Geometry
    area_km2: float


@dataclass(frozen=True)
class Reach:
    """Isochrone bands from one point by one mode."""

    mode: str
    period: str
    center: tuple[float, float]
    bands: tuple[Band, ...]
    network: str
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Measures:
    """What a band contains: green heart (km², share of the whole green heart) and people."""

    green_heart_km2: float
    green_heart_share: float
    population: float | None


@dataclass(frozen=True, eq=False)
class Engine:
    """Everything a request reads. Build it with :func:`load_engine`; never mutated after."""

    roads: Mapping[tuple[str, str], RoadMode]
    transit: Mapping[str, TransitNetwork]
    unavailable: Mapping[str, str]
    periods: tuple[str, ...]
    green_heart: gpd.GeoDataFrame
    green_heart_approximate: bool
    limits: Limits
    notes: tuple[str, ...] = ()
    circle_geojson: Mapping[str, str] = field(default_factory=dict)
    _extent: tuple[float, float, float, float] = (-180.0, -90.0, 180.0, 90.0)
    _gh_area: shapely.Geometry = None
    _gh_km2: float = 0.0
    _pop_tree: shapely.STRtree | None = None
    _pop_values: NDArray[np.float64] | None = None

    # ------------------------------------------------------------------ what is offered
    @property
    def modes(self) -> tuple[str, ...]:
        """Modes this engine can answer."""
        return tuple(m for m in MODES if m not in self.unavailable)

    @property
    def has_population(self) -> bool:
        return self._pop_tree is not None

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """lon/lat bounds of the drive network (every mode's points must lie near it)."""
        return self._extent

    def check_mode(self, mode: str, period: str) -> None:
        """Raise InputError for a mode or period this engine does not offer."""
        if mode not in MODES:
            raise InputError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        if mode in self.unavailable:
            raise InputError(self.unavailable[mode])
        if period not in self.periods:
            raise InputError(
                f"period {period!r} is not available on this server (it offers "
                f"{', '.join(self.periods)}): a prepared .cztnet network has fixed speeds"
            )

    def road(self, mode: str, period: str) -> RoadMode:
        """The road network of a mode (walk and bike have one network for both periods)."""
        key = (mode, period if mode == "drive" else self.periods[0])
        return self.roads[key]

    # ------------------------------------------------------------------ checks
    def check_points(self, points: Sequence[Sequence[float]], what: str) -> NDArray[np.float64]:
        """Points as an (n, 2) lon/lat array; one-line InputError for NaN, swapped or
        out-of-area coordinates."""
        arr = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        lon0, lat0, lon1, lat1 = self.extent
        pad = 0.1  # degrees (about 10 km): snapping decides nearer the edge
        for i, (lon, lat) in enumerate(arr):
            if not (np.isfinite(lon) and np.isfinite(lat)):
                raise InputError(f"{what}[{i}] = [{lon}, {lat}] is not a finite [lon, lat] pair")
            inside = lon0 - pad <= lon <= lon1 + pad and lat0 - pad <= lat <= lat1 + pad
            if inside:
                continue
            if lon0 - pad <= lat <= lon1 + pad and lat0 - pad <= lon <= lat1 + pad:
                raise InputError(
                    f"{what}[{i}] = [{lon:g}, {lat:g}] looks like [lat, lon]: give [lon, lat]"
                )
            raise InputError(
                f"{what}[{i}] = [{lon:g}, {lat:g}] is outside the area this server covers "
                f"(lon {lon0:.2f} to {lon1:.2f}, lat {lat0:.2f} to {lat1:.2f})"
            )
        return arr

    def check_minutes(self, minutes: Sequence[float]) -> list[float]:
        """Sorted, distinct thresholds within the limits (LimitError / InputError)."""
        lim = self.limits
        vals = sorted({float(m) for m in minutes})
        if not vals:
            raise InputError("give at least one range")
        if any(not np.isfinite(m) or m <= 0 for m in vals):
            raise InputError(f"ranges must be positive, finite numbers, got {list(minutes)}")
        if len(vals) > lim.max_ranges:
            raise LimitError(f"{len(vals)} ranges requested; this server allows {lim.max_ranges}")
        if vals[-1] > lim.max_range_minutes:
            raise LimitError(
                f"range {vals[-1] * 60:g} s ({vals[-1]:g} min) exceeds this server's maximum of "
                f"{lim.max_range_minutes * 60:g} s ({lim.max_range_minutes:g} min)"
            )
        return vals

    def check_snap(self, rm: RoadMode, points: NDArray[np.float64], what: str) -> None:
        """InputError naming the first point farther from the network than it snaps."""
        from ..routing import snap_points

        snap = snap_points(rm.net, points, max_snap_m=1e12)
        far = np.flatnonzero(snap.distance_m > rm.max_snap_m)
        if far.size:
            i = int(far[0])
            raise InputError(
                f"{what}[{i}] = [{points[i, 0]:g}, {points[i, 1]:g}] is "
                f"{snap.distance_m[i]:,.0f} m from the nearest road of the {rm.net.mode} network "
                f"(this server reaches {rm.max_snap_m:,.0f} m): pick a point nearer a road"
                + (", or start the server with a full OSM network" if rm.net.coarse else "")
            )

    # ------------------------------------------------------------------ isochrones
    def reach(
        self, mode: str, point: Sequence[float], minutes: Sequence[float], *, period: str
    ) -> Reach:
        """Isochrone bands from ``point`` (lon, lat) for ``minutes``, by ``mode``."""
        self.check_mode(mode, period)
        lonlat = self.check_points([point], "location")[0]
        ms = self.check_minutes(minutes)
        center = (float(lonlat[0]), float(lonlat[1]))
        if mode == "transit":
            return self._transit_reach(center, ms, period)
        if mode == "taxi+transit":
            return self._taxi_transit_reach(center, ms, period)
        rm = self.road(mode, period)
        self.check_snap(rm, lonlat.reshape(1, 2), "location")
        gdf = isochrones(
            rm.net,
            center,
            minutes=ms,
            max_snap_m=rm.max_snap_m,
            access_kmh=rm.access_kmh,
            local_kmh=rm.local_kmh,
        )
        bands = tuple(
            Band(float(m), g, float(a))
            for m, g, a in zip(gdf["minutes"], gdf.geometry.values, gdf["area_km2"], strict=True)
        )
        return Reach(mode, period, center, bands, rm.label, rm.notes)

    def _transit_reach(self, center: tuple[float, float], ms: list[float], period: str) -> Reach:
        from ..rail import transit_reach

        tn = self.transit[period]
        geoms = [transit_reach(tn, center, m) for m in ms]
        return self._metric_reach("transit", period, center, ms, geoms, tn)

    def _taxi_access(
        self, tn: TransitNetwork, points: NDArray[np.float64], period: str
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Minutes from each point to each stop and back: the better of walking and a taxi on
        the drive network (plus the taxi overhead), as :func:`cztgeo.commute_circle` does."""
        from ..routing import snap_points

        rm = self.road("drive", period)
        stations = np.column_stack([tn.stop_lon, tn.stop_lat])
        snap = max(rm.max_snap_m, STATION_SNAP_M)
        # stations beyond the drive network's reach get no taxi leg (walking only)
        ok = snap_points(rm.net, stations, max_snap_m=1e12).distance_m <= snap
        taxi_a = np.full((len(points), len(stations)), np.inf)
        taxi_e = np.full((len(stations), len(points)), np.inf)
        if ok.any():
            taxi_a[:, ok] = travel_time_matrix(
                rm.net, points, stations[ok], max_snap_m=snap, access_kmh=rm.access_kmh
            ).to_numpy()
            taxi_e[ok, :] = travel_time_matrix(
                rm.net, stations[ok], points, max_snap_m=snap, access_kmh=rm.access_kmh
            ).to_numpy()
        walk = tn.walk_minutes(points)
        acc = np.minimum(walk, taxi_a + tn.taxi_overhead_minutes)
        egr = np.minimum(walk.T, taxi_e + tn.taxi_overhead_minutes)
        return acc, egr

    def _taxi_transit_reach(
        self, center: tuple[float, float], ms: list[float], period: str
    ) -> Reach:
        from ..rail import transit_arrivals

        tn = self.transit[period]
        drive = self.reach("drive", center, ms, period=period)
        acc, _ = self._taxi_access(tn, np.array([center]), period)
        arr = transit_arrivals(tn, center, acc[0])
        sx, sy = tn.stop_xy
        speed = tn.walk_kmh / 3.6 * 60.0 / tn.detour  # straight-line metres per minute
        geoms = []
        for m, band in zip(ms, drive.bands, strict=True):
            ok = arr < m
            islands = shapely.buffer(
                shapely.points(sx[ok], sy[ok]), (m - arr[ok]) * speed, quad_segs=32
            )
            g = reproject_geometry(band.geometry, WGS84, METRIC_CRS)
            geoms.append(shapely.union_all([g, *islands]))
        return self._metric_reach("taxi+transit", period, center, ms, geoms, tn, drive.notes)

    def _metric_reach(
        self,
        mode: str,
        period: str,
        center: tuple[float, float],
        ms: list[float],
        geoms: list[shapely.Geometry],
        tn: TransitNetwork,
        notes: tuple[str, ...] = (),
    ) -> Reach:
        bands = tuple(
            Band(m, reproject_geometry(g, METRIC_CRS, WGS84), float(g.area) / 1e6)
            for m, g in zip(ms, geoms, strict=True)
        )
        extra = tuple(f"transit: {a}" for a in tn.assumptions)
        return Reach(mode, period, center, bands, tn.source, notes + extra)

    # ------------------------------------------------------------------ matrix
    def matrix(
        self,
        mode: str,
        sources: Sequence[Sequence[float]],
        destinations: Sequence[Sequence[float]],
        *,
        period: str,
    ) -> NDArray[np.float64]:
        """Minutes from every source to every destination (``inf`` where unreachable)."""
        self.check_mode(mode, period)
        src = self.check_points(sources, "sources")
        dst = self.check_points(destinations, "destinations")
        lim = self.limits
        if len(src) * len(dst) > lim.max_matrix_routes:
            raise LimitError(
                f"{len(src)} x {len(dst)} = {len(src) * len(dst)} routes requested; this server "
                f"allows {lim.max_matrix_routes}"
            )
        if mode in ("transit", "taxi+transit"):
            from ..rail import plan_journeys

            tn = self.transit[period]
            acc = egr = None
            if mode == "taxi+transit":
                acc, _ = self._taxi_access(tn, src, period)
                _, egr = self._taxi_access(tn, dst, period)
            js = plan_journeys(tn, src, dst, access=acc, egress=egr)
            return np.array([[j.total for j in row] for row in js], dtype=np.float64)
        rm = self.road(mode, period)
        self.check_snap(rm, src, "sources")
        self.check_snap(rm, dst, "destinations")
        out = travel_time_matrix(
            rm.net, src, dst, max_snap_m=rm.max_snap_m, access_kmh=rm.access_kmh
        )
        return np.asarray(out.to_numpy(), dtype=np.float64)

    # ------------------------------------------------------------------ measures
    def measure(self, geometry: shapely.Geometry) -> Measures:
        """Green heart (km², equal-area CRS) and population inside a WGS84 geometry."""
        g = reproject_geometry(geometry, WGS84, AREA_CRS)
        gh = float(shapely.intersection(g, self._gh_area).area) / 1e6
        share = gh / self._gh_km2 if self._gh_km2 > 0 else float("nan")
        pop = None
        if self._pop_tree is not None and self._pop_values is not None:
            gm = reproject_geometry(geometry, WGS84, METRIC_CRS)
            idx = self._pop_tree.query(gm, predicate="covers")
            pop = float(self._pop_values[idx].sum())
        return Measures(gh, share, pop)
