"""Loading the service's engine once: networks by mode and period, rail, green heart, population.

What each mode means on each kind of network is described in :mod:`cztgeo.service.engine`.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely

from ..crs import AREA_CRS, WGS84, reproject_geometry
from ..errors import EmptyNetworkError, InputError
from ..isochrones import LOCAL_DETOUR, LOCAL_KMH, isochrones
from ..routing import travel_time_matrix
from ..speeds import BIKE_KMH, WALK_KMH, SpeedProfile
from .engine import PERIODS, SNAP_M, Engine, Limits, RoadMode

if TYPE_CHECKING:
    import os

    import geopandas as gpd
    from numpy.typing import NDArray

    from ..network import Network
    from ..rail import TransitNetwork
    from ..settings import Settings

__all__ = ["NO_FOOT_PREFIXES", "load_engine"]

log = logging.getLogger(__name__)

#: Skeleton classes pedestrians and cyclists may not use (expressway-like long links).
NO_FOOT_PREFIXES = ("rural long link", "urban long link")


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
    from ..population import population_points as read_population

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
    try:
        cc = commute_circle(
            engine.road("drive", period).net,
            engine.transit.get(period),
            modes=modes,
            period=period,
            green_heart=engine.green_heart,
        )
    except InputError as exc:  # e.g. a network that does not reach the three centres
        log.warning("no commute circle on this network: %s", exc)
        empty = {"type": "FeatureCollection", "features": [], "note": f"no commute circle: {exc}"}
        return json.dumps(empty, ensure_ascii=False)
    reach = cc.reach.assign(kind="centre")
    both = cc.overlap[cc.overlap["kind"] == "all"].assign(centre="all three")
    gdf = pd.concat([reach, both], ignore_index=True)
    cols = ["centre", "mode", "kind", "minutes", "area_km2", "green_heart_km2", "geometry"]
    return str(gdf[cols].to_json(drop_id=True))


def _bounds(net: Network) -> tuple[float, float, float, float]:
    return (float(net.lon.min()), float(net.lat.min()), float(net.lon.max()), float(net.lat.max()))


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
    from ..population import population_notes
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
    notes += population_notes(population)  # the embedded census layer is COARSE
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
        _extent=_bounds(roads[("drive", periods[0])].net),
    )
    _warm_up(engine)
    circles = {p: _circle_geojson(engine, p) for p in periods}
    engine = replace(engine, circle_geojson=circles)
    _freeze(engine)
    log.info("service engine ready: modes %s, periods %s", engine.modes, periods)
    return engine
