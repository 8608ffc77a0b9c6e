"""The three-city half-hour commute circle (半小时交通圈), and what-if scenarios.

:func:`commute_circle` answers, for the three centres: how long from centre to centre by each
mode; what each centre reaches within the threshold; where the circles of all three overlap;
how much of the green heart lies inside; and, with a population layer, how many people.
:func:`apply_scenario` merges planned links into the networks for a before/after comparison.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .crs import AREA_CRS, METRIC_CRS, WGS84, transformer
from .errors import InputError

if TYPE_CHECKING:
    from .network import Network
    from .rail import Journey, TransitNetwork

__all__ = [
    "DEFAULT_CENTRES",
    "Centre",
    "CommuteCircle",
    "apply_scenario",
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


@dataclass
class CommuteCircle:
    """Result of :func:`commute_circle`.

    Attributes
    ----------
    times
        Long table: ``mode``, ``from``, ``to``, ``minutes`` (mode ``best`` = fastest mode).
    reach
        One row per centre x mode: ``centre``, ``mode``, ``minutes``, ``area_km2``,
        ``green_heart_km2``, ``green_heart_share``, (``population``), geometry (EPSG:4326).
    overlap
        One row per mode x kind: ``kind`` = ``any`` (reachable from any centre) or ``all``
        (within the threshold of all three), with the same measures.
    network
        Label of the road network ("coarse skeleton" when the embedded one was used).
    notes
        Assumptions and warnings to print with the results.
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

    def matrix(self, mode: str = "best") -> pd.DataFrame:
        """Centre-to-centre minutes for one mode as a square table."""
        t = self.times[self.times["mode"] == MODE_ALIASES.get(mode, mode)]
        return t.pivot(index="from", columns="to", values="minutes")


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


def _raster_points(path: Any) -> gpd.GeoDataFrame:
    """A population raster (GeoTIFF, any CRS) as one point per non-empty cell centre."""
    import rasterio

    try:
        with rasterio.open(path) as src:
            band = src.read(1, masked=True)
            if src.crs is None:
                raise InputError(
                    f"{path}: the raster has no CRS; assign one (e.g. with gdal_edit.py -a_srs)"
                )
            rows, cols = np.nonzero(~np.ma.getmaskarray(band) & (np.ma.filled(band, 0) > 0))
            t = src.transform  # cell centres through the affine transform
            c, r = cols + 0.5, rows + 0.5
            xs, ys = t.c + c * t.a + r * t.b, t.f + c * t.d + r * t.e
            vals = np.ma.filled(band, 0)[rows, cols].astype(float)
            crs = src.crs.to_wkt()
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"cannot read population raster {path}: {exc}") from None
    return gpd.GeoDataFrame({"population": vals}, geometry=gpd.points_from_xy(xs, ys), crs=crs)


def _population(population: Any, column: str) -> gpd.GeoDataFrame | None:
    if population is None:
        return None
    from pathlib import Path

    from .crs import to_wgs84

    if isinstance(population, (str, Path)) and str(population).lower().endswith((".tif", ".tiff")):
        population = _raster_points(population)
        column = "population"

    gdf = to_wgs84(population).to_crs(METRIC_CRS)
    if column not in gdf.columns:
        raise InputError(f"population layer has no column {column!r}; columns: {list(gdf.columns)}")
    types = shapely.get_type_id(gdf.geometry.values)
    if not (types == 0).all():
        # polygons (e.g. grid cells): count each by its representative point
        gdf = gdf.set_geometry(gdf.geometry.representative_point())
    return gdf


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


def commute_circle(
    net: Network | None = None,
    rail: TransitNetwork | None = None,
    *,
    centres: Sequence[Centre] = DEFAULT_CENTRES,
    minutes: float = 30.0,
    modes: Sequence[str] = MODES,
    period: str = "offpeak",
    green_heart: gpd.GeoDataFrame | None = None,
    population: gpd.GeoDataFrame | None = None,
    population_column: str = "population",
    max_snap_m: float = 3000.0,
    road_access_kmh: float = 20.0,
    walk_net: Network | None = None,
) -> CommuteCircle:
    """The half-hour circle of the three centres.

    Parameters
    ----------
    net
        Road network (default: the embedded **coarse** OSM major-road skeleton, in ``period``).
    rail
        Rail transit (default: :func:`~cztgeo.rail.load_rail`: the embedded intercity line,
        Changsha Metro and the high-speed links).
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
        ``"offpeak"`` (default) or ``"peak"``: road speeds (on the default network) and
        headways.
    green_heart
        Default: the embedded approximate sketch.
    population
        Points (or polygons, counted by a representative point) with a population column, or
        the path of a population raster (GeoTIFF, any CRS; each cell counted at its centre).
    max_snap_m
        How far a centre or station may lie from the road network.
    road_access_kmh
        Speed between a point and the nearest arc of the road network by car (20 km/h: the
        minor streets a coarse network leaves out).
    walk_net
        A walk network: transit access and egress walk along it instead of the straight line
        x detour factor.

    Returns
    -------
    CommuteCircle
        ``times`` (mode, from, to, minutes, within_threshold; mode ``best`` = fastest),
        ``journeys`` (the breakdown of every centre pair by each chain), ``reach``,
        ``overlap`` and ``notes``.
    """
    from .greenheart import load_green_heart
    from .io import check_number
    from .isochrones import isochrones
    from .network import load_network, load_skeleton
    from .rail import load_rail, plan_journeys, to_wgs84_geom, transit_arrivals, transit_reach
    from .routing import travel_time_matrix

    if isinstance(modes, str) or not all(isinstance(m, str) for m in modes):
        raise InputError(f"modes must be a list of mode names, got {modes!r}")
    modes = _modes(modes)
    if period not in ("offpeak", "peak"):
        raise InputError(f"unknown period {period!r}: use 'offpeak' or 'peak'")
    minutes = check_number("minutes", minutes)  # type: ignore[assignment]
    max_snap_m = check_number("max_snap_m", max_snap_m)  # type: ignore[assignment]
    road_access_kmh = check_number("road_access_kmh", road_access_kmh)  # type: ignore[assignment]
    if len(centres) < 2:
        raise InputError("give at least two centres")
    notes: list[str] = []
    if net is None:
        net = load_skeleton(period=period) if period == "peak" else load_network()
    if rail is None and set(modes) & {"transit", "taxi+transit"}:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rail = load_rail(period=period)
        notes += [str(w.message) for w in caught]
    elif rail is not None:
        rail = rail.with_period(period)
    gh = green_heart if green_heart is not None else load_green_heart()
    gh_metric = shapely.union_all(gh.to_crs(METRIC_CRS).geometry.values)
    gh_area = float(gpd.GeoSeries([gh_metric], crs=METRIC_CRS).to_crs(AREA_CRS).area.iloc[0]) / 1e6
    pop = _population(population, population_column)
    pts = [(c.lon, c.lat) for c in centres]
    names = [c.name for c in centres]
    label = net.source + (" (coarse skeleton)" if net.coarse else "")
    if net.coarse:
        notes.append(
            "road network: embedded COARSE SKELETON of OSM major roads: no minor roads, one-way "
            "streets or road classes; classes inferred from arc length and built-up context, "
            "speeds assumed (urban 40/60, rural 60/90 km/h off-peak). Use --network with a full "
            "OSM extract for real work."
        )
    time_frames = []
    journey_rows: list[dict[str, Any]] = []
    reach_rows: list[dict[str, Any]] = []
    reach_geoms: list[Any] = []
    drive_geoms: dict[str, Any] = {}
    m = travel_time_matrix(net, pts, max_snap_m=max_snap_m, access_kmh=road_access_kmh).to_numpy()
    if "drive" in modes:
        time_frames.append(("drive", m))
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                if i != j:
                    journey_rows.append(
                        {"from": a, "to": b, "chain": "drive", "access_mode": "car",
                         "access_min": 0.0, "wait_min": 0.0, "in_vehicle_min": float(m[i, j]),
                         "transfer_min": 0.0, "egress_mode": "car", "egress_min": 0.0,
                         "total_min": float(m[i, j]), "boardings": 0, "lines": "",
                         "route": f"car on {'the coarse skeleton' if net.coarse else net.source}"}
                    )  # fmt: skip
    if {"drive", "taxi+transit"} & set(modes):
        for c, p in zip(centres, pts, strict=True):
            iso = isochrones(
                net, p, minutes=[minutes], max_snap_m=max_snap_m, access_kmh=road_access_kmh
            )
            g = iso.to_crs(METRIC_CRS).geometry.iloc[0]
            drive_geoms[c.name] = g
            if "drive" in modes:
                reach_rows.append({"centre": c.name, "mode": "drive"})
                reach_geoms.append(g)
    if rail is not None and "transit" in modes:
        stations = _station_points(rail)
        w_acc = w_egr = None
        if walk_net is not None:
            w_acc = travel_time_matrix(walk_net, pts, stations, max_snap_m=10_000.0).to_numpy()
            w_egr = travel_time_matrix(walk_net, stations, pts, max_snap_m=10_000.0).to_numpy()
            notes.append(f"transit access and egress walk on {walk_net.source}")
        js = plan_journeys(rail, pts, access=w_acc, egress=w_egr)
        journey_rows += _journey_rows("transit", names, js)
        time_frames.append(
            ("transit", np.array([[0.0 if i == j else js[i][j].total for j in range(len(pts))]
                                  for i in range(len(pts))]))
        )  # fmt: skip
        for c, p in zip(centres, pts, strict=True):
            reach_rows.append({"centre": c.name, "mode": "transit"})
            reach_geoms.append(transit_reach(rail, p, minutes))
    if rail is not None and "taxi+transit" in modes:
        stations = _station_points(rail)
        # stations off the road network are reached on foot from the nearest road (counted)
        far = max(max_snap_m, 10_000.0)
        taxi_a = travel_time_matrix(net, pts, stations, max_snap_m=far, access_kmh=road_access_kmh)
        taxi_e = travel_time_matrix(net, stations, pts, max_snap_m=far, access_kmh=road_access_kmh)
        sx, sy = rail.stop_xy
        walk = rail.walk_minutes(pts)
        taxi_acc = taxi_a.to_numpy() + rail.taxi_overhead_minutes
        taxi_egr = taxi_e.to_numpy() + rail.taxi_overhead_minutes
        acc = np.minimum(walk, taxi_acc)
        egr = np.minimum(walk.T, taxi_egr)
        acc_mode = np.where(walk <= taxi_acc, "walk", "taxi")
        egr_mode = np.where(taxi_egr >= walk.T, "walk", "taxi")
        js = plan_journeys(rail, pts, access=acc, egress=egr, access_mode=acc_mode,
                           egress_mode=egr_mode)  # fmt: skip
        journey_rows += _journey_rows("taxi+transit", names, js)
        time_frames.append(
            ("taxi+transit", np.array([[0.0 if i == j else js[i][j].total for j in range(len(pts))]
                                       for i in range(len(pts))]))
        )  # fmt: skip
        speed = rail.walk_kmh / 3.6 * 60.0 / rail.detour
        for i, c in enumerate(centres):
            arr = transit_arrivals(rail, pts[i], acc[i])
            ok = arr < minutes
            islands = shapely.buffer(
                shapely.points(sx[ok], sy[ok]), (minutes - arr[ok]) * speed, quad_segs=32
            )
            reach_rows.append({"centre": c.name, "mode": "taxi+transit"})
            reach_geoms.append(shapely.union_all([drive_geoms[c.name], *islands]))
    if not time_frames:
        raise InputError("no mode could be computed: pass a rail network for transit modes")
    rows = []
    for mode, mat in time_frames:
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                rows.append({"mode": mode, "from": a, "to": b, "minutes": float(mat[i, j])})
    times = pd.DataFrame(rows)
    best = times.loc[times.groupby(["from", "to"], sort=False)["minutes"].idxmin()]
    best = best.assign(best_of=best["mode"], mode="best")
    times = pd.concat([times, best], ignore_index=True)
    times["within_threshold"] = times["minutes"] <= minutes
    journeys = pd.DataFrame(journey_rows)
    if len(journeys):
        fastest = journeys.loc[journeys.groupby(["from", "to"], sort=False)["total_min"].idxmin()]
        journeys["fastest"] = journeys.index.isin(fastest.index)

    reach = pd.DataFrame(reach_rows)
    reach["minutes"] = minutes
    for k, v in _measure(reach_geoms, gh_metric, gh_area, pop, population_column).items():
        reach[k] = v
    overlap_rows, overlap_geoms = [], []
    for mode in [m for m in MODES if m in set(reach["mode"])]:
        gs = [g for g, r in zip(reach_geoms, reach_rows, strict=True) if r["mode"] == mode]
        overlap_rows += [{"mode": mode, "kind": "any"}, {"mode": mode, "kind": "all"}]
        inter = gs[0]
        for g in gs[1:]:
            inter = inter.intersection(g)
        overlap_geoms += [shapely.union_all(gs), inter]
    overlap = pd.DataFrame(overlap_rows)
    overlap["minutes"] = minutes
    for k, v in _measure(overlap_geoms, gh_metric, gh_area, pop, population_column).items():
        overlap[k] = v
    to_wgs = [to_wgs84_geom(g) for g in reach_geoms]
    ov_wgs = [to_wgs84_geom(g) for g in overlap_geoms]
    approx = bool(gh["approximate"].any()) if "approximate" in gh else False
    if approx:
        notes.append("green heart: APPROXIMATE sketch (not the legal boundary)")
    if rail is not None:
        notes += [f"transit: {a}" for a in rail.assumptions]
    return CommuteCircle(
        times=times,
        reach=gpd.GeoDataFrame(reach, geometry=to_wgs, crs=WGS84),
        overlap=gpd.GeoDataFrame(overlap, geometry=ov_wgs, crs=WGS84),
        minutes=float(minutes),
        network=label,
        coarse=net.coarse,
        approximate_green_heart=approx,
        notes=notes,
        journeys=journeys,
        period=period,
    )


# ---------------------------------------------------------------------- scenarios


@dataclass
class ScenarioResult:
    """Networks with the planned links merged, and a report of each link."""

    net: Network
    rail: TransitNetwork | None
    links: pd.DataFrame


def apply_scenario(
    net: Network,
    rail: TransitNetwork | None,
    links: gpd.GeoDataFrame,
    *,
    connect_m: float = 500.0,
    remove_tolerance_m: float = 30.0,
) -> ScenarioResult:
    """Merge planned links into copies of the networks.

    Each link is a LineString with properties ``mode`` (``drive`` or ``rail``), ``name``,
    ``speed_kmh``, optional ``action`` (``add``, default, or ``remove``), ``oneway`` (drive)
    and ``headway_minutes`` (rail, default 10). A drive link joins the network at the nodes
    nearest its two ends (within ``connect_m``; otherwise it is reported as not connected and
    left out); ``remove`` drops the road arcs lying along it. A rail link becomes a new line
    between its two ends, joining stops within 300 m.
    """
    from .crs import to_wgs84
    from .network import build_network

    gdf = to_wgs84(links)
    rows: list[dict[str, Any]] = []
    tails = [net.tail.astype(np.int64)]
    heads = [net.head.astype(np.int64)]
    times = [net.time_s]
    lengths = [net.length_m]
    kinds = [net.kind]
    keep = np.ones(net.n_arcs, dtype=bool)
    lon, lat, ids = [net.lon], [net.lat], [net.node_id]
    n_next = net.n_nodes
    kind_names = (*net.kinds, "planned link")
    planned_kind = np.int16(len(net.kinds))
    from scipy.spatial import cKDTree

    tree = cKDTree(np.column_stack([net.x, net.y]))
    metric = gdf.to_crs(net.crs)
    rail_out = rail
    for (_, r), geom in zip(gdf.iterrows(), metric.geometry.values, strict=True):
        name = str(r.get("name", f"link {len(rows)}"))
        mode = str(r.get("mode", "drive"))
        action = str(r.get("action", "add") or "add")
        if geom is None or geom.geom_type != "LineString":
            rows.append(
                {
                    "name": name,
                    "mode": mode,
                    "action": action,
                    "status": "skipped: not a LineString",
                }
            )
            continue
        coords = np.asarray(geom.coords)
        length = float(geom.length)
        if mode == "drive" and action == "remove":
            shapely.prepare(geom)
            mids = shapely.points(
                (net.x[net.tail] + net.x[net.head]) / 2, (net.y[net.tail] + net.y[net.head]) / 2
            )
            near = shapely.dwithin(geom, mids, remove_tolerance_m)
            ends_near = shapely.dwithin(
                geom, shapely.points(net.x[net.tail], net.y[net.tail]), remove_tolerance_m
            )
            hit = near & ends_near
            keep &= ~hit
            rows.append({"name": name, "mode": mode, "action": action, "length_m": length,
                         "status": f"removed {int(hit.sum())} arcs" if hit.any() else "matched no road"})  # fmt: skip
            continue
        speed = float(r.get("speed_kmh", 60.0) or 60.0)
        if speed <= 0:
            raise InputError(f"link {name!r}: speed_kmh must be positive")
        if mode == "drive":
            d0, n0 = tree.query(coords[0])
            d1, n1 = tree.query(coords[-1])
            if max(d0, d1) > connect_m:
                rows.append({"name": name, "mode": mode, "action": action, "length_m": length,
                             "status": f"not connected: an end is {max(d0, d1):.0f} m from the network"})  # fmt: skip
                continue
            # chain through the link's inner vertices (new nodes)
            inner = coords[1:-1]
            chain = [int(n0)]
            if len(inner):
                ilon, ilat = transformer(net.crs, WGS84).transform(inner[:, 0], inner[:, 1])
                lon.append(np.asarray(ilon))
                lat.append(np.asarray(ilat))
                ids.append(-(np.arange(len(inner)) + n_next + 1))
                chain += list(range(n_next, n_next + len(inner)))
                n_next += len(inner)
            chain.append(int(n1))
            pts = (
                np.vstack([[net.x[n0], net.y[n0]], inner, [net.x[n1], net.y[n1]]])
                if len(inner)
                else np.array([[net.x[n0], net.y[n0]], [net.x[n1], net.y[n1]]])
            )
            seg = np.hypot(np.diff(pts[:, 0]), np.diff(pts[:, 1]))
            seg_t = seg / (speed / 3.6)
            a, b = np.array(chain[:-1]), np.array(chain[1:])
            oneway = bool(r.get("oneway", False) or False)
            tails += [a] if oneway else [a, b]
            heads += [b] if oneway else [b, a]
            times += [seg_t] if oneway else [seg_t, seg_t]
            lengths += [seg] if oneway else [seg, seg]
            kinds += [np.full(a.size, planned_kind)] * (1 if oneway else 2)
            rows.append({"name": name, "mode": mode, "action": action, "length_m": length,
                         "status": f"added ({d0:.0f} m / {d1:.0f} m from the network)"})  # fmt: skip
        elif mode == "rail":
            if rail_out is None:
                rows.append(
                    {
                        "name": name,
                        "mode": mode,
                        "action": action,
                        "status": "skipped: no rail network",
                    }
                )
                continue
            g_wgs = gdf.geometry.loc[r.name]
            a_ll, b_ll = g_wgs.coords[0], g_wgs.coords[-1]
            headway = float(r.get("headway_minutes", 10.0) or 10.0)
            rail_out = rail_out.add_line(
                [(f"{name} A", a_ll[0], a_ll[1]), (f"{name} B", b_ll[0], b_ll[1])],
                run_minutes=[length / (speed / 3.6) / 60.0],
                headway_minutes=headway,
                name=name,
            )
            rows.append(
                {
                    "name": name,
                    "mode": mode,
                    "action": action,
                    "length_m": length,
                    "status": "added as a rail line",
                }
            )
        else:
            raise InputError(f"link {name!r}: unknown mode {mode!r} (use 'drive' or 'rail')")
    tails[0], heads[0], times[0], lengths[0], kinds[0] = (
        tails[0][keep],
        heads[0][keep],
        times[0][keep],
        lengths[0][keep],
        kinds[0][keep],
    )
    new_net = build_network(
        np.concatenate(lon), np.concatenate(lat), np.concatenate(ids).astype(np.int64),
        np.concatenate(tails), np.concatenate(heads), np.concatenate(times),
        np.concatenate(lengths), np.concatenate(kinds).astype(np.int16), kind_names,
        mode=net.mode, source=net.source + " + scenario", coarse=net.coarse, note=net.note,
        crs=net.crs,
    )  # fmt: skip
    return ScenarioResult(new_net, rail_out, pd.DataFrame(rows))


def compare(before: CommuteCircle, after: CommuteCircle) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Before/after table (times and reach areas) and a layer of the area each centre gains."""
    t = before.times.merge(after.times, on=["mode", "from", "to"], suffixes=("_before", "_after"))
    t = t[t["from"] != t["to"]]
    t = t.assign(change_minutes=t["minutes_after"] - t["minutes_before"])
    t = t[["mode", "from", "to", "minutes_before", "minutes_after", "change_minutes"]]
    r = before.reach.merge(
        pd.DataFrame(after.reach.drop(columns="geometry")),
        on=["centre", "mode"],
        suffixes=("_before", "_after"),
    )
    gained = []
    for (_, b), (_, a) in zip(before.reach.iterrows(), after.reach.iterrows(), strict=True):
        gained.append(a.geometry.difference(b.geometry))
    diff = gpd.GeoDataFrame(
        {"centre": before.reach["centre"], "mode": before.reach["mode"],
         "area_before_km2": r["area_km2_before"], "area_after_km2": r["area_km2_after"]},
        geometry=gained, crs=WGS84,
    )  # fmt: skip
    return t.reset_index(drop=True), diff
