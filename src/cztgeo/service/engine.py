"""The service's engine: networks, transit and layers loaded once, read-only per request.

:func:`load_engine` loads every network the server offers (by mode and period), the rail
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
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely

from ..crs import AREA_CRS, METRIC_CRS, WGS84, reproject_geometry
from ..errors import EmptyNetworkError, InputError, LimitError
from ..isochrones import LOCAL_DETOUR, LOCAL_KMH, isochrones
from ..routing import travel_time_matrix
from ..speeds import BIKE_KMH, WALK_KMH, SpeedProfile

if TYPE_CHECKING:
    import os

    import geopandas as gpd
    from numpy.typing import NDArray

    from ..network import Network
    from ..rail import TransitNetwork
    from ..settings import Settings

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
    "load_engine",
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
#: Skeleton classes pedestrians and cyclists may not use (expressway-like long links).
NO_FOOT_PREFIXES = ("rural long link", "urban long link")


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
    """

    max_body_bytes: int = 100_000
    max_locations: int = 5
    max_ranges: int = 10
    max_range_minutes: float = 60.0
    max_matrix_locations: int = 100
    max_matrix_routes: int = 3500


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
        net = self.road("drive", self.periods[0]).net
        return (
            float(net.lon.min()),
            float(net.lat.min()),
            float(net.lon.max()),
            float(net.lat.max()),
        )

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
        rm = self.road("drive", period)
        stations = np.column_stack([tn.stop_lon, tn.stop_lat])
        snap = max(rm.max_snap_m, STATION_SNAP_M)
        kw = {"max_snap_m": snap, "access_kmh": rm.access_kmh}
        taxi_a = travel_time_matrix(rm.net, points, stations, **kw).to_numpy()
        taxi_e = travel_time_matrix(rm.net, stations, points, **kw).to_numpy()
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
            islands = shapely.buffer(shapely.points(sx[ok], sy[ok]), (m - arr[ok]) * speed, 32)
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


# ---------------------------------------------------------------------- loading


def _foot_network(net: Network, mode: str, kmh: float) -> Network:
    """The coarse skeleton as an APPROXIMATE walk or bike network (see the module docstring)."""
    from ..network import build_network

    banned = [i for i, k in enumerate(net.kinds) if str(k).startswith(NO_FOOT_PREFIXES)]
    keep = ~np.isin(net.kind, banned)
    return build_network(
        net.lon,
        net.lat,
        net.node_id,
        net.tail[keep].astype(np.int64),
        net.head[keep].astype(np.int64),
        net.length_m[keep] / (kmh / 3.6),
        net.length_m[keep],
        net.kind[keep],
        net.kinds,
        mode=mode,
        source=f"embedded skeleton as an APPROXIMATE {mode} network ({kmh:g} km/h)",
        coarse=True,
        note=f"{net.note}; long links (expressway-like) removed; {kmh:g} km/h",
        crs=net.crs,
    )


def _road_mode(net: Network, *, kmh: float | None = None) -> RoadMode:
    """A network with the service's options: on a coarse network the leg to the nearest mapped
    road runs over the unmapped streets at the local-street speed over the detour factor."""
    if not net.coarse:
        return RoadMode(net, SNAP_M["full"], WALK_KMH, None)
    local = LOCAL_KMH if kmh is None else kmh
    note = (
        f"{net.mode} on the embedded COARSE skeleton (major roads only; speeds assumed); land "
        f"between its roads reached at {local:g} km/h over a detour factor of {LOCAL_DETOUR}"
    )
    if net.mode != "drive":
        note += "; APPROXIMATE: not a real walk or bike network, load an OSM file for one"
    return RoadMode(net, SNAP_M["coarse"], local / LOCAL_DETOUR, local, (note,))


def _load_roads(
    network: str | os.PathLike[str] | None,
    walk_network: str | os.PathLike[str] | None,
    bike_network: str | os.PathLike[str] | None,
    settings: Settings,
) -> tuple[dict[tuple[str, str], RoadMode], dict[str, str], tuple[str, ...]]:
    from ..network import load_network

    roads: dict[tuple[str, str], RoadMode] = {}
    unavailable: dict[str, str] = {}
    fixed = network is not None and str(network).lower().endswith(".cztnet")
    periods = ("offpeak",) if fixed else PERIODS
    for p in periods:
        prof = SpeedProfile(period=p)  # type: ignore[arg-type]
        roads[("drive", p)] = _road_mode(
            load_network(network, mode="drive", profile=prof, settings=settings)
        )
    skeleton = roads[("drive", periods[0])].net
    for mode, path, kmh in (("walk", walk_network, WALK_KMH), ("bike", bike_network, BIKE_KMH)):
        flag = f"{mode}_network"
        if path is not None:
            roads[(mode, periods[0])] = _road_mode(load_network(path, mode=mode, settings=settings))
        elif network is None:
            roads[(mode, periods[0])] = _road_mode(_foot_network(skeleton, mode, kmh), kmh=kmh)
        elif fixed:
            unavailable[mode] = (
                f"mode {mode!r} needs a {mode} network: the server was started with a prepared "
                f".cztnet drive network; start it with {flag} (an OSM file)"
            )
        else:
            try:
                roads[(mode, periods[0])] = _road_mode(
                    load_network(network, mode=mode, settings=settings)
                )
            except EmptyNetworkError as exc:
                unavailable[mode] = f"mode {mode!r} is not available: {exc}"
    return roads, unavailable, periods


def _load_transit(
    rail: bool | str | os.PathLike[str], settings: Settings, periods: tuple[str, ...]
) -> tuple[dict[str, TransitNetwork], list[str], str | None]:
    from ..errors import DataSourceError
    from ..rail import load_rail

    if rail is False:
        return {}, [], "transit modes are off on this server (started without rail)"
    path = None if rail is True else rail
    out: dict[str, TransitNetwork] = {}
    notes: list[str] = []
    try:
        for p in periods:
            with warnings.catch_warnings(record=True) as caught:  # startup only: one thread
                warnings.simplefilter("always")
                out[p] = load_rail(path, settings=settings, period=p)
            notes += [str(w.message) for w in caught if str(w.message) not in notes]
    except DataSourceError as exc:
        if path is not None:
            raise
        return {}, [], f"transit modes are not available: {exc}"
    return out, notes, None


def _population(
    population: str | os.PathLike[str] | gpd.GeoDataFrame | None, column: str
) -> tuple[shapely.STRtree | None, NDArray[np.float64] | None]:
    if population is None:
        return None, None
    from ..circle import _population as read_population

    gdf = read_population(population, column)
    assert gdf is not None
    vals = gdf[column if column in gdf else "population"].to_numpy(dtype=np.float64)
    return shapely.STRtree(gdf.geometry.values), vals


def _circle_geojson(engine: Engine, period: str) -> str:
    """The three centres' commute circle (30 min) as GeoJSON: each centre's reach by mode and
    where all three overlap."""
    import pandas as pd

    from ..circle import commute_circle

    modes = ["drive"] + (["transit"] if engine.transit else [])
    cc = commute_circle(
        engine.road("drive", period).net,
        engine.transit.get(period),
        modes=modes,
        period=period,
        green_heart=engine.green_heart,
    )
    reach = cc.reach.assign(kind="centre")
    both = cc.overlap[cc.overlap["kind"] == "all"].assign(centre="all three")
    gdf = pd.concat([reach, both], ignore_index=True)
    cols = ["centre", "mode", "kind", "minutes", "area_km2", "green_heart_km2", "geometry"]
    return str(gdf[cols].to_json(drop_id=True))


def _freeze(engine: Engine) -> None:
    """Mark every shared array read-only: a request that tried to write one would fail loudly."""
    nets = [rm.net for rm in engine.roads.values()]
    for net in nets:
        for name in ("lon", "lat", "x", "y", "node_id", "indptr", "head", "time_s", "length_m"):
            getattr(net, name).setflags(write=False)
        net.kind.setflags(write=False)
    for tn in engine.transit.values():
        tn.stop_lon.setflags(write=False)
        tn.stop_lat.setflags(write=False)


def _warm_up(engine: Engine) -> None:
    """Run each code path once so the library's lazy caches exist before requests arrive."""
    for (mode, period), rm in engine.roads.items():
        node = int(np.argmax(np.diff(rm.net.indptr) > 0))
        pt = (float(rm.net.lon[node]), float(rm.net.lat[node]))
        isochrones(rm.net, pt, minutes=[1], max_snap_m=rm.max_snap_m, access_kmh=rm.access_kmh)
        travel_time_matrix(rm.net, [pt, pt], max_snap_m=rm.max_snap_m)
        if mode == "drive" and period in engine.transit:
            tn = engine.transit[period]
            engine.matrix("transit", [pt], [pt], period=period)
            tn.stop_xy  # noqa: B018 - builds the cached projection
            engine.reach("taxi+transit", pt, [1], period=period)


def load_engine(
    network: str | os.PathLike[str] | None = None,
    *,
    walk_network: str | os.PathLike[str] | None = None,
    bike_network: str | os.PathLike[str] | None = None,
    rail: bool | str | os.PathLike[str] = True,
    green_heart: str | os.PathLike[str] | None = None,
    population: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    population_column: str = "population",
    settings: Settings | None = None,
    limits: Limits | None = None,
) -> Engine:
    """Load everything the server offers, once.

    Parameters
    ----------
    network
        Drive network: an OSM file (drive, walk and bike are read from it, both periods), a
        ``.graphml``, or a prepared ``.cztnet`` (drive only, its own speeds). None: the
        embedded **coarse** skeleton, with APPROXIMATE walk and bike networks derived from it.
    walk_network, bike_network
        Separate OSM files for walking and cycling.
    rail
        True: the embedded transit lines (transit modes are skipped if they cannot be loaded);
        a path: a line file; False: no transit modes.
    green_heart
        An official green-heart file; the embedded APPROXIMATE sketch by default.
    population, population_column
        Points or polygons with a population column, or a population GeoTIFF, to count the
        people reached.
    settings
        Data and cache folders.
    limits
        Request limits (:class:`Limits` defaults otherwise).

    Returns
    -------
    Engine
    """
    from ..greenheart import load_green_heart
    from ..settings import Settings

    settings = settings or Settings()
    roads, unavailable, periods = _load_roads(network, walk_network, bike_network, settings)
    transit, notes, no_rail = _load_transit(rail, settings, periods)
    if no_rail is not None:
        unavailable.update({"transit": no_rail, "taxi+transit": no_rail})
    gh = load_green_heart(Path(green_heart) if green_heart is not None else None)
    gh_area = shapely.union_all(reproject_geometry(gh.geometry.values, WGS84, AREA_CRS))
    shapely.prepare(gh_area)
    approx = bool(gh["approximate"].any())
    if approx:
        notes.append("green heart: APPROXIMATE sketch (not the legal boundary)")
    tree, vals = _population(population, population_column)
    engine = Engine(
        roads=roads,
        transit=transit,
        unavailable=unavailable,
        periods=periods,
        green_heart=gh,
        green_heart_approximate=approx,
        limits=limits or Limits(),
        notes=tuple(notes),
        _gh_area=gh_area,
        _gh_km2=float(gh_area.area) / 1e6,
        _pop_tree=tree,
        _pop_values=vals,
    )
    _warm_up(engine)
    circles = {p: _circle_geojson(engine, p) for p in periods}
    engine = replace(engine, circle_geojson=circles)
    _freeze(engine)
    log.info("service engine ready: modes %s, periods %s", engine.modes, periods)
    return engine
