"""What-if scenarios: planned road and rail links merged into copies of the networks.

:func:`apply_scenario` returns the edited networks and a report per link;
:func:`compare` puts two commute circles side by side. The scenario file is a line layer with columns
``mode`` (``drive`` or ``rail``), ``name``, ``speed_kmh``, ``action`` (``add`` or ``remove``),
``oneway`` and ``headway_minutes``; :func:`check_scenario` refuses unusable values first.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .crs import WGS84, transformer
from .errors import InputError

if TYPE_CHECKING:
    from .circle import CommuteCircle
    from .network import Network
    from .rail import TransitNetwork

__all__ = [
    "ScenarioComparison",
    "ScenarioResult",
    "apply_scenario",
    "check_scenario",
    "compare",
    "scenario_links",
]


def check_scenario(links: pd.DataFrame) -> None:
    """Refuse scenario links with unusable attributes (one line naming the row and column)."""
    problems = []
    if "mode" in links and not links["mode"].isin(["drive", "rail"]).all():
        bad = sorted({str(v) for v in links["mode"] if v not in ("drive", "rail")})[:3]
        problems.append(f"mode must be 'drive' or 'rail', found {bad}")
    for col, need in (("speed_kmh", "positive"), ("headway_minutes", "positive")):
        if col not in links:
            continue
        vals = links[col]
        num = vals.map(lambda v: _as_float(v))
        bad_rows = [
            i for i, (v, f) in enumerate(zip(vals, num, strict=True))
            if v is not None and not (isinstance(v, float) and math.isnan(v))
            and (f is None or not math.isfinite(f) or f <= 0)
        ]  # fmt: skip
        if bad_rows:
            problems.append(
                f"{col} must be a {need} number, found {vals.iloc[bad_rows[0]]!r} in row "
                f"{bad_rows[0]}"
            )
    if problems:
        raise InputError("scenario: " + "; ".join(problems))


def _as_float(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


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


@dataclass(frozen=True)
class ScenarioComparison:
    """What planned links change (:func:`commute_circle` with ``scenario=``).

    Attributes
    ----------
    links
        One row per planned link: ``name``, ``mode``, ``action``, ``length_m``, ``status``
        (added, removed n arcs, not connected, skipped...).
    times
        ``mode``, ``from``, ``to``, ``minutes_before``, ``minutes_after``, ``change_minutes``.
    gained
        Per centre x mode: ``area_before_km2``, ``area_after_km2`` and the area gained as
        geometry (EPSG:4326).
    after
        The whole circle computed on the edited networks.
    """

    links: pd.DataFrame
    times: pd.DataFrame
    gained: gpd.GeoDataFrame
    after: CommuteCircle


def scenario_links(
    scenario: gpd.GeoDataFrame | str | os.PathLike[str] | None,
) -> gpd.GeoDataFrame | None:
    """The planned links of a scenario (a layer or its path), checked; None gives None."""
    if scenario is None:
        return None
    from .io import read_vector

    links = scenario if isinstance(scenario, gpd.GeoDataFrame) else read_vector(scenario)
    check_scenario(links)
    return links


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
