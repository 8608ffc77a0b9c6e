"""The three-city half-hour commute circle (半小时交通圈).

:func:`commute_circle` answers, for the three centres: how long from centre to centre by each
mode and how (access, wait, in-vehicle, transfer, egress); what each centre reaches within the
threshold; where the circles of all three overlap; how much of the green heart lies inside;
with a population layer, how many people; with ``validate=True``, how the model compares with
published travel facts; with a scenario, what planned links change
(:mod:`cztgeo.scenarios`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .crs import AREA_CRS, METRIC_CRS, WGS84
from .errors import InputError
from .scenarios import ScenarioComparison, compare, scenario_links

if TYPE_CHECKING:
    from .network import Network
    from .population import PopulationLike
    from .rail import Journey, TransitNetwork
    from .settings import Settings

__all__ = [
    "DEFAULT_BANDS",
    "DEFAULT_CENTRES",
    "Centre",
    "CommuteCircle",
    "ScenarioComparison",
    "commute_circle",
    "compare",
]

log = logging.getLogger(__name__)

MODES = ("drive", "transit", "taxi+transit")
#: Older mode names still accepted.
MODE_ALIASES = {"rail": "transit", "drive+rail": "taxi+transit"}


@dataclass(frozen=True)
class Centre:
    """A city centre: a name and a WGS84 position."""

    name: str
    name_en: str
    lon: float
    lat: float
    basis: str


#: Default centres (WGS84). Changsha and Zhuzhou are OSM station points from the data
#: directory's ``osm/czt_rail_stations.geojson``; Xiangtan's is the city government on the
#: east bank (approximate position). Pass your own to change them.
DEFAULT_CENTRES: tuple[Centre, ...] = (
    Centre("长沙", "Changsha", 112.9709, 28.1986, "五一广场 metro station (OSM)"),
    Centre("株洲", "Zhuzhou", 113.1517, 27.8388, "株洲 railway station, city centre (OSM)"),
    Centre("湘潭", "Xiangtan", 112.9442, 27.8297, "湘潭市人民政府 (approximate)"),
)


#: Drive-time bands drawn on the map of the circle (minutes).
DEFAULT_BANDS: tuple[float, ...] = (15.0, 30.0, 45.0, 60.0)


@dataclass
class CommuteCircle:
    """Result of :func:`commute_circle`.

    Attributes
    ----------
    times
        Long table: ``mode``, ``from``, ``to``, ``minutes``, ``within_threshold``, ``best_of``
        (mode ``best`` = the fastest mode, named in ``best_of``).
    reach
        One row per centre x mode: ``centre``, ``mode``, ``minutes``, ``area_km2``,
        ``green_heart_km2``, ``green_heart_share``, (``population``), geometry (EPSG:4326).
    overlap
        One row per mode x kind: ``kind`` = ``any`` (reachable from any centre) or ``all``
        (within the threshold of all three), with the same measures.
    minutes
        The threshold.
    network
        Label of the road network ("(coarse skeleton)" when the embedded one was used).
    network_choice
        Why that network: ``"given"``, ``"fetched OSM cache <path>"`` or
        ``"embedded coarse skeleton"``.
    coarse, approximate_green_heart
        Whether the road network is the coarse skeleton and the green heart the sketch.
    notes
        Assumptions and warnings to print with the results.
    journeys
        One row per centre pair x chain: ``from``, ``to``, ``chain``, ``access_mode``,
        ``access_min``, ``wait_min``, ``in_vehicle_min``, ``transfer_min``, ``egress_mode``,
        ``egress_min``, ``total_min``, ``boardings``, ``lines``, ``route``, ``fastest``.
    period
        ``"offpeak"`` or ``"peak"``.
    centres
        The centres, in order.
    bands
        Drive-time bands per centre (``centre``, ``minutes``, ``area_km2``, geometry), for maps;
        empty unless ``bands=`` was given.
    validation
        :func:`cztgeo.validate.validate`'s table when ``validate=True`` (else None).
    scenario
        The before/after comparison when a scenario was given (else None).
    rail_source
        Where the transit network came from (None when transit was not computed).
    net, rail, green_heart
        The inputs used (for maps and follow-up questions).
    """

    times: pd.DataFrame
    reach: gpd.GeoDataFrame
    overlap: gpd.GeoDataFrame
    minutes: float
    network: str
    coarse: bool
    approximate_green_heart: bool
    notes: list[str] = field(default_factory=list)
    journeys: pd.DataFrame = field(default_factory=pd.DataFrame)
    period: str = "offpeak"
    centres: tuple[Centre, ...] = DEFAULT_CENTRES
    bands: gpd.GeoDataFrame = field(default_factory=lambda: _empty_bands())
    validation: pd.DataFrame | None = None
    scenario: ScenarioComparison | None = None
    network_choice: str = "given"
    rail_source: str | None = None
    net: Network | None = field(default=None, repr=False)
    rail: TransitNetwork | None = field(default=None, repr=False)
    green_heart: gpd.GeoDataFrame | None = field(default=None, repr=False)

    def matrix(self, mode: str = "best") -> pd.DataFrame:
        """Centre-to-centre minutes for one mode as a square table."""
        t = self.times[self.times["mode"] == MODE_ALIASES.get(mode, mode)]
        return t.pivot(index="from", columns="to", values="minutes")


def _empty_bands() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"centre": pd.Series(dtype=str), "minutes": pd.Series(dtype=float),
         "area_km2": pd.Series(dtype=float)},
        geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84,
    )  # fmt: skip


def _measure(geoms: list[Any], gh_metric: Any, gh_area: float, pop: gpd.GeoDataFrame | None,
             pop_col: str) -> dict[str, list[float]]:  # fmt: skip
    """Areas (km², equal-area CRS), green-heart overlap and population for metric geometries."""
    series = gpd.GeoSeries(geoms, crs=METRIC_CRS)
    eq = series.to_crs(AREA_CRS)
    gh_eq = gpd.GeoSeries([gh_metric], crs=METRIC_CRS).to_crs(AREA_CRS).iloc[0]
    area = eq.area / 1e6
    ghk = eq.intersection(gh_eq).area / 1e6
    out = {
        "area_km2": list(area),
        "green_heart_km2": list(ghk),
        "green_heart_share": list(ghk / gh_area if gh_area > 0 else ghk * np.nan),
    }
    if pop is not None:
        pts = pop.geometry.values
        vals = pop[pop_col].to_numpy(dtype=float)
        out["population"] = [float(vals[shapely.covers(g, pts)].sum()) for g in geoms]
    return out


def _station_points(tn: TransitNetwork) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in zip(tn.stop_lon, tn.stop_lat, strict=True)]


def _modes(modes: Sequence[str]) -> list[str]:
    out: list[str] = []
    for m in modes:
        m = MODE_ALIASES.get(m, m)
        if m not in MODES:
            raise InputError(f"unknown mode {m!r}: use {', '.join(MODES)}")
        if m not in out:
            out.append(m)
    if not out:
        raise InputError(f"no modes given: use any of {', '.join(MODES)}")
    return out


def _journey_rows(
    chain: str, names: list[str], journeys: list[list[Journey]]
) -> list[dict[str, Any]]:
    rows = []
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if i == j:
                continue
            jr = journeys[i][j]
            rows.append(
                {
                    "from": a, "to": b, "chain": chain,
                    "access_mode": jr.access_mode, "access_min": jr.access,
                    "wait_min": jr.wait, "in_vehicle_min": jr.in_vehicle,
                    "transfer_min": jr.transfer, "egress_mode": jr.egress_mode,
                    "egress_min": jr.egress, "total_min": jr.total,
                    "boardings": jr.boardings, "lines": "; ".join(jr.lines), "route": jr.route,
                }
            )  # fmt: skip
    return rows


def _check_period(period: str) -> str:
    if period not in ("offpeak", "peak"):
        raise InputError(f"unknown period {period!r}: use 'offpeak' or 'peak'")
    return period


@dataclass
class _Run:
    """Everything one circle computation needs, resolved, and what it accumulates."""

    net: Network
    rail: TransitNetwork | None
    centres: Sequence[Centre]
    minutes: float
    modes: list[str]
    max_snap_m: float
    road_access_kmh: float
    walk_net: Network | None
    notes: list[str]
    frames: list[tuple[str, np.ndarray]] = field(default_factory=list)
    journeys: list[dict[str, Any]] = field(default_factory=list)
    reach_rows: list[dict[str, str]] = field(default_factory=list)
    reach_geoms: list[Any] = field(default_factory=list)
    drive_geoms: dict[str, Any] = field(default_factory=dict)

    @property
    def pts(self) -> list[tuple[float, float]]:
        return [(c.lon, c.lat) for c in self.centres]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.centres]

    def add_reach(self, centre: str, mode: str, geom: shapely.Geometry) -> None:
        self.reach_rows.append({"centre": centre, "mode": mode})
        self.reach_geoms.append(geom)

    def add_chain(self, chain: str, js: list[list[Journey]]) -> None:
        n = len(self.centres)
        self.journeys += _journey_rows(chain, self.names, js)
        mat = np.array([[0.0 if i == j else js[i][j].total for j in range(n)] for i in range(n)])
        self.frames.append((chain, mat))


def _drive(run: _Run) -> None:
    """Door to door by car: the matrix, and each centre's reach polygon."""
    from .isochrones import isochrones
    from .routing import travel_time_matrix

    net = run.net
    if "drive" in run.modes:
        m = travel_time_matrix(
            net, run.pts, max_snap_m=run.max_snap_m, access_kmh=run.road_access_kmh
        ).to_numpy()
        run.frames.append(("drive", m))
        route = f"car on {'the coarse skeleton' if net.coarse else net.source}"
        for i, a in enumerate(run.names):
            for j, b in enumerate(run.names):
                if i != j:
                    run.journeys.append(
                        {"from": a, "to": b, "chain": "drive", "access_mode": "car",
                         "access_min": 0.0, "wait_min": 0.0, "in_vehicle_min": float(m[i, j]),
                         "transfer_min": 0.0, "egress_mode": "car", "egress_min": 0.0,
                         "total_min": float(m[i, j]), "boardings": 0, "lines": "",
                         "route": route}
                    )  # fmt: skip
    if {"drive", "taxi+transit"} & set(run.modes):
        for c, p in zip(run.centres, run.pts, strict=True):
            iso = isochrones(
                net, p, minutes=[run.minutes], max_snap_m=run.max_snap_m,
                access_kmh=run.road_access_kmh,
            )  # fmt: skip
            g = iso.to_crs(METRIC_CRS).geometry.iloc[0]
            run.drive_geoms[c.name] = g
            if "drive" in run.modes:
                run.add_reach(c.name, "drive", g)


def _transit(run: _Run, rail: TransitNetwork) -> None:
    """Public transport alone: walk, metro / intercity / HSR with waits and transfers, walk."""
    from .rail import plan_journeys, transit_reach
    from .routing import travel_time_matrix

    w_acc = w_egr = None
    if run.walk_net is not None:
        stations = _station_points(rail)
        w_acc = travel_time_matrix(run.walk_net, run.pts, stations, max_snap_m=10_000.0)
        w_egr = travel_time_matrix(run.walk_net, stations, run.pts, max_snap_m=10_000.0)
        run.notes.append(f"transit access and egress walk on {run.walk_net.source}")
    run.add_chain(
        "transit",
        plan_journeys(
            rail, run.pts,
            access=None if w_acc is None else w_acc.to_numpy(),
            egress=None if w_egr is None else w_egr.to_numpy(),
        ),
    )  # fmt: skip
    for c, p in zip(run.centres, run.pts, strict=True):
        run.add_reach(c.name, "transit", transit_reach(rail, p, run.minutes))


def _taxi_transit(run: _Run, rail: TransitNetwork) -> None:
    """As transit, but each end by taxi when faster; the reach adds the drive reach."""
    from .rail import plan_journeys, transit_arrivals
    from .routing import travel_time_matrix

    stations = _station_points(rail)
    # stations off the road network are reached on foot from the nearest road (counted)
    far = max(run.max_snap_m, 10_000.0)
    kw: dict[str, Any] = {"max_snap_m": far, "access_kmh": run.road_access_kmh}
    taxi_acc = travel_time_matrix(run.net, run.pts, stations, **kw).to_numpy()
    taxi_egr = travel_time_matrix(run.net, stations, run.pts, **kw).to_numpy()
    taxi_acc = taxi_acc + rail.taxi_overhead_minutes
    taxi_egr = taxi_egr + rail.taxi_overhead_minutes
    walk = rail.walk_minutes(run.pts)
    acc = np.minimum(walk, taxi_acc)
    egr = np.minimum(walk.T, taxi_egr)
    acc_mode = np.where(walk <= taxi_acc, "walk", "taxi")
    egr_mode = np.where(taxi_egr >= walk.T, "walk", "taxi")
    run.add_chain(
        "taxi+transit",
        plan_journeys(rail, run.pts, access=acc, egress=egr, access_mode=acc_mode,
                      egress_mode=egr_mode),
    )  # fmt: skip
    sx, sy = rail.stop_xy
    speed = rail.walk_kmh / 3.6 * 60.0 / rail.detour
    for i, c in enumerate(run.centres):
        arr = transit_arrivals(rail, run.pts[i], acc[i])
        ok = arr < run.minutes
        islands = shapely.buffer(
            shapely.points(sx[ok], sy[ok]), (run.minutes - arr[ok]) * speed, quad_segs=32
        )
        run.add_reach(
            c.name, "taxi+transit", shapely.union_all([run.drive_geoms[c.name], *islands])
        )


def _times(run: _Run) -> pd.DataFrame:
    rows = [
        {"mode": mode, "from": a, "to": b, "minutes": float(mat[i, j])}
        for mode, mat in run.frames
        for i, a in enumerate(run.names)
        for j, b in enumerate(run.names)
    ]
    times = pd.DataFrame(rows)
    best = times.loc[times.groupby(["from", "to"], sort=False)["minutes"].idxmin()]
    best = best.assign(best_of=best["mode"], mode="best")
    times = pd.concat([times, best], ignore_index=True)
    times["within_threshold"] = times["minutes"] <= run.minutes
    return times


def _journeys(run: _Run) -> pd.DataFrame:
    journeys = pd.DataFrame(run.journeys)
    if len(journeys):
        fastest = journeys.loc[journeys.groupby(["from", "to"], sort=False)["total_min"].idxmin()]
        journeys["fastest"] = journeys.index.isin(fastest.index)
    return journeys


def _areas(
    run: _Run, gh: gpd.GeoDataFrame, pop: gpd.GeoDataFrame | None, pop_col: str
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Reach per centre x mode and the any/all overlaps, measured (km², green heart, people)."""
    from .rail import to_wgs84_geom

    gh_metric = shapely.union_all(gh.to_crs(METRIC_CRS).geometry.values)
    gh_area = float(gpd.GeoSeries([gh_metric], crs=METRIC_CRS).to_crs(AREA_CRS).area.iloc[0]) / 1e6
    reach = pd.DataFrame(run.reach_rows)
    reach["minutes"] = run.minutes
    for k, v in _measure(run.reach_geoms, gh_metric, gh_area, pop, pop_col).items():
        reach[k] = v
    overlap_rows, overlap_geoms = [], []
    for mode in [m for m in MODES if m in set(reach["mode"])]:
        gs = [g for g, r in zip(run.reach_geoms, run.reach_rows, strict=True) if r["mode"] == mode]
        overlap_rows += [{"mode": mode, "kind": "any"}, {"mode": mode, "kind": "all"}]
        inter = gs[0]
        for g in gs[1:]:
            inter = inter.intersection(g)
        overlap_geoms += [shapely.union_all(gs), inter]
    overlap = pd.DataFrame(overlap_rows)
    overlap["minutes"] = run.minutes
    for k, v in _measure(overlap_geoms, gh_metric, gh_area, pop, pop_col).items():
        overlap[k] = v
    return (
        gpd.GeoDataFrame(reach, geometry=[to_wgs84_geom(g) for g in run.reach_geoms], crs=WGS84),
        gpd.GeoDataFrame(overlap, geometry=[to_wgs84_geom(g) for g in overlap_geoms], crs=WGS84),
    )


def _bands(
    net: Network,
    centres: Sequence[Centre],
    bands: Sequence[float],
    *,
    max_snap_m: float,
    access_kmh: float,
) -> gpd.GeoDataFrame:
    """Nested drive-time bands per centre (for maps)."""
    from .isochrones import isochrones

    if not len(bands):
        return _empty_bands()
    parts = []
    for c in centres:
        iso = isochrones(
            net, (c.lon, c.lat), minutes=list(bands), max_snap_m=max_snap_m, access_kmh=access_kmh
        )
        parts.append(iso[["minutes", "area_km2", "geometry"]].assign(centre=c.name))
    out = pd.concat(parts, ignore_index=True)[["centre", "minutes", "area_km2", "geometry"]]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)


def _circle(run: _Run, gh: gpd.GeoDataFrame, pop: gpd.GeoDataFrame | None, pop_col: str,
            period: str) -> CommuteCircle:  # fmt: skip
    """The circle on resolved inputs (called again on the scenario's edited networks)."""
    if "drive" in run.modes or "taxi+transit" in run.modes:
        _drive(run)
    if run.rail is not None and "transit" in run.modes:
        _transit(run, run.rail)
    if run.rail is not None and "taxi+transit" in run.modes:
        _taxi_transit(run, run.rail)
    if not run.frames:
        raise InputError("no mode could be computed: pass a rail network for transit modes")
    reach, overlap = _areas(run, gh, pop, pop_col)
    approx = bool(gh["approximate"].any()) if "approximate" in gh else False
    notes = list(run.notes)
    if approx:
        notes.append("green heart: APPROXIMATE sketch (not the legal boundary)")
    if run.rail is not None:
        notes += [f"transit: {a}" for a in run.rail.assumptions]
    net = run.net
    return CommuteCircle(
        times=_times(run), reach=reach, overlap=overlap, minutes=float(run.minutes),
        network=net.source + (" (coarse skeleton)" if net.coarse else ""), coarse=net.coarse,
        approximate_green_heart=approx, notes=notes, journeys=_journeys(run), period=period,
        centres=tuple(run.centres), rail_source=run.rail.source if run.rail else None,
        net=net, rail=run.rail, green_heart=gh,
    )  # fmt: skip


def _check_options(
    modes: Sequence[str], centres: Sequence[Centre], **numbers: float
) -> tuple[list[str], dict[str, float]]:
    from .io import check_number

    if isinstance(modes, str) or not all(isinstance(m, str) for m in modes):
        raise InputError(f"modes must be a list of mode names, got {modes!r}")
    if len(centres) < 2:
        raise InputError("give at least two centres")
    return _modes(modes), {k: float(check_number(k, v)) for k, v in numbers.items()}  # type: ignore[arg-type]


def commute_circle(
    net: Network | str | os.PathLike[str] | None = None,
    rail: TransitNetwork | str | os.PathLike[str] | None = None,
    *,
    centres: Sequence[Centre] = DEFAULT_CENTRES,
    minutes: float = 30.0,
    modes: Sequence[str] = MODES,
    period: str = "offpeak",
    green_heart: gpd.GeoDataFrame | str | os.PathLike[str] | None = None,
    plan: str = "2024-2035",
    population: PopulationLike | None = None,
    population_column: str = "population",
    max_snap_m: float = 3000.0,
    road_access_kmh: float = 20.0,
    walk_net: Network | str | os.PathLike[str] | None = None,
    headway_minutes: float | None = None,
    scenario: gpd.GeoDataFrame | str | os.PathLike[str] | None = None,
    validate: bool = False,
    bands: Sequence[float] = (),
    settings: Settings | None = None,
) -> CommuteCircle:
    """The half-hour circle of the three centres.

    Parameters
    ----------
    net
        Road network, or an OSM file / ``.cztnet`` cache to load in ``period``. Default: the
        full OSM cache written by ``cztgeo data fetch`` if there is one, else the embedded
        **coarse** OSM major-road skeleton (see :func:`cztgeo.network.default_network`).
    rail
        Transit: a TransitNetwork, a line file (``.json``) or a GTFS feed (folder or ``.zip``).
        Default: the embedded intercity line, Changsha Metro and high-speed links.
    centres
        Default: :data:`DEFAULT_CENTRES` (五一广场, 株洲站, 湘潭市政府).
    minutes
        Threshold (default 30).
    modes
        Any of ``"drive"`` (door to door by car), ``"transit"`` (public transport alone: walk
        to a station, metro / intercity / high-speed rail with waits and transfers, walk from
        the last one) and ``"taxi+transit"`` (as transit, but each end by taxi when that is
        faster). The older names ``"rail"`` and ``"drive+rail"`` are accepted.
    period
        ``"offpeak"`` (default) or ``"peak"``: road speeds (on a loaded network) and headways.
    green_heart, plan
        A green-heart layer or file (default: the embedded approximate sketch of ``plan``).
    population
        Points (or polygons, counted by a representative point) with a population column, a
        file of them, or a population raster (GeoTIFF, any CRS; each cell counted at its
        centre).
    max_snap_m
        How far a centre or station may lie from the road network.
    road_access_kmh
        Speed between a point and the nearest arc of the road network by car (20 km/h: the
        minor streets a coarse network leaves out).
    walk_net
        A walk network (or OSM file): transit access and egress walk along it instead of the
        straight line x detour factor.
    headway_minutes
        One headway for every transit line instead of the sourced figures.
    scenario
        Planned links (a line layer or file, see :mod:`cztgeo.scenarios`): the circle is
        computed again on the edited networks and compared (``.scenario``).
    validate
        Also compare the model with published travel facts (``.validation``).
    bands
        Drive-time thresholds to draw per centre on maps (``.bands``), e.g.
        :data:`DEFAULT_BANDS`.
    settings
        Data and cache folders (the fetched OSM cache is looked for in ``cache_dir``).

    Returns
    -------
    CommuteCircle
    """
    from .greenheart import load_green_heart
    from .network import default_network, load_network
    from .population import population_notes, population_points
    from .rail import default_transit

    modes_, nums = _check_options(
        modes, centres, minutes=minutes, max_snap_m=max_snap_m, road_access_kmh=road_access_kmh
    )
    period = _check_period(period)
    road, choice = default_network(net, settings=settings, period=period)
    notes: list[str] = []
    tn = None
    if set(modes_) & {"transit", "taxi+transit"}:
        tn = default_transit(rail, settings=settings, period=period, notes=notes)
        if tn is not None and headway_minutes is not None:
            tn = tn.with_headway(headway_minutes)
    if road.coarse:
        notes.append(
            "road network: embedded COARSE SKELETON of OSM major roads: no minor roads, one-way "
            "streets or road classes; classes inferred from arc length and built-up context, "
            "speeds assumed (urban 40/60, rural 60/90 km/h off-peak). Use --network with a full "
            "OSM extract for real work."
        )
    gh = (
        green_heart if isinstance(green_heart, gpd.GeoDataFrame)
        else load_green_heart(green_heart, plan=plan)
    )  # fmt: skip
    if isinstance(walk_net, (str, os.PathLike)):
        walk_net = load_network(walk_net, mode="walk", settings=settings)
    links = scenario_links(scenario)
    pop = population_points(population, population_column)
    notes += population_notes(population)  # the embedded layer is COARSE: say so

    def run(road: Network, tn: TransitNetwork | None) -> CommuteCircle:
        r = _Run(road, tn, centres, nums["minutes"], modes_, nums["max_snap_m"],
                 nums["road_access_kmh"], walk_net, list(notes))  # fmt: skip
        return _circle(r, gh, pop, population_column, period)

    cc = run(road, tn)
    cc.network_choice = choice
    cc.bands = _bands(road, centres, bands, max_snap_m=nums["max_snap_m"],
                      access_kmh=nums["road_access_kmh"])  # fmt: skip
    if validate and tn is not None:
        from .validate import validate as _validate

        cc.validation = _validate(road, tn, period=period)
    if links is not None:
        from .scenarios import apply_scenario

        sc = apply_scenario(road, tn, links)
        after = run(sc.net, sc.rail)
        table, gained = compare(cc, after)
        cc.scenario = ScenarioComparison(sc.links, table, gained, after)
    return cc
