"""Map layers: a :class:`Layer` is features plus their styling, shared by the HTML and the static
renderer. The helpers here style cztgeo's own data the way a planning report would."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import METRIC_CRS, WGS84, to_wgs84
from ..errors import InputError

if TYPE_CHECKING:
    from ..network import Network
    from ..rail import TransitNetwork

__all__ = [
    "BAND_COLOURS",
    "CENTRE_COLOURS",
    "ISO_COLOURS",
    "PANES",
    "STATUS_COLOURS",
    "ZONE_COLOURS",
    "Layer",
    "LegendItem",
    "as_layer",
    "bands_layer",
    "boundaries_layer",
    "encroachment_layer",
    "green_heart_layer",
    "isochrone_layer",
    "network_layer",
    "road_style",
    "stations_layer",
    "transit_layers",
]

ZONE_COLOURS = {
    "禁止开发区": "#1b7837",
    "核心保护区": "#1b7837",
    "限制开发区": "#7fbf7b",
    "融合发展区": "#a6dba0",
    "控制建设区": "#d9f0d3",
    "未分区": "#5aae61",
}
STATUS_COLOURS = {
    "inside": "#d7301f",
    "partly": "#fc8d59",
    "sliver": "#fdbb84",
    "near": "#fee08b",
    "outside": "#999999",
}
ISO_COLOURS = ["#2c7bb6", "#00a6ca", "#00ccbc", "#90eb9d", "#ffff8c", "#f9d057", "#f29e2e",
               "#e76818", "#d7191c"]  # fmt: skip
#: Travel-time bands, shortest darkest (ColorBrewer YlGnBu, colour-blind safe).
BAND_COLOURS = ["#225ea8", "#41b6c4", "#a1dab4", "#ffffcc", "#f0f0f0"]
#: The three centres (other names get the next colours of the cycle).
CENTRE_COLOURS = {"长沙": "#e7298a", "株洲": "#00a087", "湘潭": "#b8860b"}
_CYCLE = ["#c51b7d", "#e66101", "#4d9221", "#5e3c99", "#b2182b", "#01665e", "#8c510a"]

#: Drawing order of the page's panes (Leaflet z-index; matplotlib zorder / 100).
PANES = {
    "czt-base": 250,  # the offline reference basemap
    "czt-fill": 410,  # filled polygons: bands, green heart, findings
    "czt-line": 420,  # roads, rail, boundaries
    "czt-outline": 430,  # reach and overlap outlines, the green heart's edge
    "czt-point": 440,  # stations, sites
    "czt-label": 620,  # centre markers and names
}

LegendStyle = Literal["fill", "line", "outline", "point"]
#: A style table keyed by the values of a ``colour_by`` column.
StyleTable: TypeAlias = Mapping[str, str] | Mapping[float, str] | Mapping[int, str]
WidthTable: TypeAlias = Mapping[str, float] | Mapping[float, float] | Mapping[int, float]


@dataclass(frozen=True)
class LegendItem:
    """One legend row: a label and how its swatch is drawn."""

    label: str
    colour: str
    style: LegendStyle = "fill"
    dash: str | None = None
    width: float = 2.0


@dataclass
class Layer:
    """One map layer: features, a name for the layer control, a style and tooltip fields.

    ``colour_by`` names a column whose values pick a colour from ``colours`` (and a line
    width from ``weights``); ``label`` names a column written on the map; ``legend`` maps
    legend labels to colours (default: the layer's name and colour).
    """

    gdf: gpd.GeoDataFrame
    name: str
    kind: str = "polygon"  # polygon | line | point
    colour: str | None = None
    colour_by: str | None = None
    colours: StyleTable | None = None
    tooltip: Sequence[str] = ()
    weight: float = 2.0
    fill_opacity: float = 0.35
    legend: Mapping[str, str] | None = None
    show: bool = True
    weights: WidthTable | None = None
    line_colour: str | None = None
    dash: str | None = None
    label: str | None = None
    marker: str = "circle"  # points: circle | centre (a labelled centre marker)
    radius: float = 5.0
    pane: str | None = None
    legend_style: LegendStyle | None = None
    legend_items: Sequence[LegendItem] = field(default_factory=tuple)
    opacity: float = 1.0
    simplify_m: float | None = None  # display simplification; None: the map's default

    @property
    def z_pane(self) -> str:
        """The pane this layer is drawn in (:data:`PANES`)."""
        if self.pane:
            return self.pane
        if self.kind == "point":
            return "czt-label" if self.marker == "centre" else "czt-point"
        if self.kind == "polygon" and self.fill_opacity > 0:
            return "czt-fill"
        return "czt-outline" if self.kind == "polygon" else "czt-line"

    def colour_of(self, value: object) -> str:
        """The colour of one ``colour_by`` value."""
        table = {style_key(k): v for k, v in (self.colours or {}).items()}
        return table.get(style_key(value), self.colour or "#3388ff")

    def weight_of(self, value: object) -> float:
        """The line width of one ``colour_by`` value."""
        table = {style_key(k): float(v) for k, v in (self.weights or {}).items()}
        return table.get(style_key(value), self.weight)

    def legend_rows(self) -> list[LegendItem]:
        """The legend rows of this layer."""
        if self.legend_items:
            return list(self.legend_items)
        style: LegendStyle = self.legend_style or (
            "point"
            if self.kind == "point"
            else "line"
            if self.kind == "line"
            else "fill"
            if self.fill_opacity > 0
            else "outline"
        )
        entries = self.legend if self.legend is not None else {self.name: self.colour or "#3388ff"}
        return [LegendItem(str(k), v, style, self.dash, self.weight) for k, v in entries.items()]


def style_key(value: object) -> str:
    """A ``colour_by`` value as the page's script spells it (``String(v)`` in JavaScript)."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------------- plain GeoDataFrames


def _kind_of(gdf: gpd.GeoDataFrame) -> str:
    types = set(shapely.get_type_id(gdf.geometry.values[~gdf.geometry.isna().to_numpy()]))
    if types and types <= {0, 4}:
        return "point"
    if types and types <= {1, 2, 5}:
        return "line"
    return "polygon"


def as_layer(data: Layer | gpd.GeoDataFrame, *, name: str | None = None, index: int = 0) -> Layer:
    """A :class:`Layer` as is, or a GeoDataFrame wrapped with default styling: the kind from
    its geometry type, a colour from a qualitative cycle, the first columns as tooltip."""
    if isinstance(data, Layer):
        return data
    if not isinstance(data, gpd.GeoDataFrame):
        raise InputError(
            f"map layer {index + 1}: expected a Layer or a GeoDataFrame, got {type(data).__name__}"
        )
    if data.crs is None:
        raise InputError(
            f"map layer {index + 1}: the GeoDataFrame has no CRS; set one with .set_crs(...)"
        )
    kind = _kind_of(data)
    cols = [str(c) for c in data.columns if c != data.geometry.name][:4]
    return Layer(
        data,
        name or f"layer {index + 1}",
        kind=kind,
        colour=_CYCLE[index % len(_CYCLE)],
        tooltip=tuple(cols),
        weight=2.0 if kind != "point" else 1.0,
        fill_opacity=0.3 if kind == "polygon" else 0.0,
    )


def _require(gdf: object, columns: Sequence[str], what: str) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{what}: expected a GeoDataFrame, got {type(gdf).__name__}")
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise InputError(
            f"{what}: no column {missing[0]!r}; use a file written by cztgeo (columns found: "
            f"{[str(c) for c in gdf.columns][:8]})"
        )
    return gdf


# ---------------------------------------------------------------------- cztgeo data


def boundaries_layer(
    gdf: gpd.GeoDataFrame, name: str = "boundaries", *, labels: bool = False, weight: float = 1.0
) -> Layer:
    """Administrative boundaries as thin dark lines (``labels``: names written on the map)."""
    return Layer(gdf, name, colour="#333333", tooltip=("name", "name_en", "area_km2"),
                 weight=weight, fill_opacity=0.0, pane="czt-line", legend_style="line", simplify_m=25.0,
                 label="name" if labels and "name" in gdf else None)  # fmt: skip


def green_heart_layer(gdf: gpd.GeoDataFrame, *, approximate: bool | None = None) -> Layer:
    """The green heart: zones filled lightly, a strong outline (dashed and labelled
    APPROXIMATE when the boundary is the sketch)."""
    approx = approximate
    if approx is None:
        approx = bool(gdf["approximate"].any()) if "approximate" in gdf else False
    zones = sorted(set(gdf["zone"])) if "zone" in gdf else []
    label = "green heart 生态绿心" + (" (APPROXIMATE sketch)" if approx else "")
    suffix = " (approximate)" if approx else ""
    items = [LegendItem(f"{z}{suffix}", ZONE_COLOURS.get(z, "#5aae61")) for z in zones]
    items.append(
        LegendItem(
            f"outline{' — APPROXIMATE, not for legal use' if approx else ''}",
            "#00441b",
            "outline",
            "8 5" if approx else None,
            2.5,
        )
    )
    g = gdf.copy()
    g["map_label"] = "生态绿心 green heart" + (" — APPROXIMATE" if approx else "")
    return Layer(g, label, colour_by="zone" if "zone" in g else None, colours=ZONE_COLOURS,
                 colour="#5aae61", line_colour="#00441b", dash="8 5" if approx else None,
                 tooltip=("zone", "version", "approximate", "area_km2"), weight=2.5,
                 fill_opacity=0.22, label="map_label", legend_items=items)  # fmt: skip


def isochrone_layer(gdf: gpd.GeoDataFrame, name: str = "isochrones") -> Layer:
    """Isochrones filled on a graded ramp, largest drawn first."""
    _require(gdf, ["minutes"], "isochrone layer")
    minutes = pd.to_numeric(gdf["minutes"], errors="coerce")
    if minutes.isna().any() or not np.isfinite(minutes).all() or (minutes <= 0).any():
        raise InputError("isochrone layer: column 'minutes' must hold positive numbers")
    gdf = gdf.assign(minutes=minutes.astype(float))
    mins = sorted(set(gdf["minutes"]))
    cols = {
        m: ISO_COLOURS[
            min(int(i * (len(ISO_COLOURS) - 1) / max(len(mins) - 1, 1)), len(ISO_COLOURS) - 1)
        ]
        for i, m in enumerate(mins)
    }
    ordered = gdf.sort_values("minutes", ascending=False)  # largest drawn first, below
    return Layer(ordered, name, colour_by="minutes", colours=cols, tooltip=("minutes", "area_km2", "network"),
                 weight=1, fill_opacity=0.3, legend={f"≤ {m:g} min": c for m, c in cols.items()})  # fmt: skip


#: Road styles by keyword of the class name: (keywords, colour, width, legend label).
_ROAD_STYLES = (  # warm greys: the thematic colours stay readable on top
    (("motorway", "expressway", "long link"), "#8d6e63", 2.2, "expressway / long link"),
    (("trunk", "快速路"), "#8d6e63", 1.8, "trunk / urban expressway"),
    (("primary",), "#a1887f", 1.4, "primary"),
    (("arterial", "secondary"), "#9e9e9e", 1.0, "arterial / secondary"),
    (("tertiary",), "#b0b0b0", 0.8, "tertiary"),
)


def road_style(kind: str) -> tuple[str, float, str]:
    """Colour, line width and legend label of a road class (an OSM ``highway`` value or one of
    the skeleton's inferred classes)."""
    low = kind.lower()
    for keys, colour, width, label in _ROAD_STYLES:
        if any(k in low for k in keys):
            inferred = " (inferred)" if "inferred" in low else ""
            return colour, width, label + inferred
    return "#c8c8c8", 0.5, "minor road"


def network_layer(net: Network, name: str | None = None) -> Layer:
    """The network as one merged MultiLineString per road class, coloured and sized by class
    (a few features, not one per edge: a 100k-edge network stays small and draws fast)."""
    rev = net.reverse
    keep = (rev < 0) | (np.arange(net.n_arcs) < rev)  # one line per two-way road
    k = net.kind[keep]
    lines = net.segments(arcs=keep)
    rows, geoms = [], []
    for code in np.unique(k):
        sel = k == code
        kind = net.kinds[int(code)]
        colour, width, label = road_style(kind)
        merged = shapely.line_merge(shapely.multilinestrings(lines[sel]))
        rows.append({"kind": kind, "class": label, "edges": int(sel.sum()),
                     "length_km": float(net.length_m[keep][sel].sum() / 1000.0),
                     "colour": colour, "width": width})  # fmt: skip
        geoms.append(merged)
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs=WGS84).sort_values("width")
    name = name or f"{net.mode} network" + (" (coarse skeleton)" if net.coarse else "")
    colours = dict(zip(gdf["kind"], gdf["colour"], strict=True))
    legend: dict[str, str] = {}
    for label, colour in zip(gdf["class"], gdf["colour"], strict=True):
        legend.setdefault(label, colour)
    items = [
        LegendItem(lab, col, "line", None, float(gdf.loc[gdf["class"] == lab, "width"].max()))
        for lab, col in legend.items()
    ]
    return Layer(gdf, name, kind="line", colour="#737373", colour_by="kind", colours=colours,
                 weights=dict(zip(gdf["kind"], gdf["width"], strict=True)),
                 tooltip=("kind", "edges", "length_km"), weight=1.0, legend_items=items)  # fmt: skip


def stations_layer(gdf: gpd.GeoDataFrame, name: str = "rail stations") -> Layer:
    """Stations as small circle markers (coloured by ``colour`` when the frame has one)."""
    by = "colour" if "colour" in gdf else None
    colours = {c: c for c in gdf["colour"]} if by else None
    return Layer(gdf, name, kind="point", colour="#6a3d9a", colour_by=by, colours=colours,
                 line_colour="#ffffff", radius=4.0, weight=1.0,
                 legend={"station": "#6a3d9a"} if by is None else {"station (colour of a line serving it)": "#555555"},
                 tooltip=tuple(c for c in ("name", "lines", "station") if c in gdf))  # fmt: skip


def transit_layers(rail: TransitNetwork) -> list[Layer]:
    """Metro and intercity lines by their own colour, high-speed links dashed (their stations
    are far apart: the straight joins are schematic), stations coloured by a line serving them."""
    lines = rail.lines_gdf()
    colours = {
        str(n): (c or _CYCLE[i % len(_CYCLE)])
        for i, (n, c) in enumerate(zip(lines["name"], lines["colour"], strict=True))
    }
    widths = {"high-speed": 1.8, "intercity": 3.0, "metro": 2.5, "maglev": 2.0}
    weights = {str(n): widths.get(str(k), 2.0) for n, k in zip(lines["name"], lines["kind"], strict=True)}  # fmt: skip
    out = []
    hsr = lines["kind"] == "high-speed"
    for sel, name, dash in ((~hsr, "rail lines (stations joined)", None),
                            (hsr, "high-speed links (schematic)", "7 4")):  # fmt: skip
        part = lines[sel]
        if len(part):
            items = [LegendItem(n, colours[n], "line", dash, weights[n]) for n in part["name"]]
            out.append(Layer(part, name, kind="line", colour_by="name", colours=colours,
                             weights=weights, dash=dash, legend_items=items,
                             tooltip=("name", "kind", "headway_minutes", "run_minutes")))  # fmt: skip
    stops = rail.stops_gdf()
    first = stops["lines"].str.split("; ").str[0]
    stops["colour"] = [colours.get(str(f), "#555555") for f in first]
    return [*out, stations_layer(stops)]


def encroachment_layer(result: gpd.GeoDataFrame, *, id_column: str | None = None) -> Layer:
    """Encroachment findings coloured by status (points as circle markers, never images)."""
    _require(result, ["status"], "encroachment layer")
    idc = id_column or str(result.attrs.get("id_column", result.columns[0]))
    present = [s for s in STATUS_COLOURS if s in set(result["status"])]
    return Layer(result, "encroachment findings", kind=_kind_of(result) if len(result) else "polygon",
                 colour_by="status", colours=STATUS_COLOURS, line_colour="#67000d", radius=6.0,
                 tooltip=(idc, "zone", "status", "overlap_area_m2", "overlap_length_m", "distance_m"),
                 weight=2, fill_opacity=0.6, legend={s: STATUS_COLOURS[s] for s in present})  # fmt: skip


def _rings(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Nested reach polygons (one per ``minutes``) as non-overlapping rings, in EPSG:4326."""
    metric = to_wgs84(gdf).to_crs(METRIC_CRS)
    rows, geoms = [], []
    prev: shapely.Geometry | None = None
    lo = 0.0
    for m in sorted(set(metric["minutes"].astype(float))):
        union = shapely.union_all(metric.geometry.values[metric["minutes"].astype(float) == m])
        union = union if prev is None else shapely.union(union, prev)
        ring = union if prev is None else shapely.difference(union, prev)
        rows.append({"minutes_from": lo, "minutes": m, "band": f"{lo:g}–{m:g} min"})
        geoms.append(ring)
        prev, lo = union, m
    out = gpd.GeoDataFrame(rows, geometry=geoms, crs=METRIC_CRS).to_crs(WGS84)
    return out[~out.geometry.is_empty]


def bands_layer(bands: gpd.GeoDataFrame, name: str, *, show: bool = True) -> Layer:
    """Reach bands (``minutes`` and geometry; nested or not) filled on a graded ramp as
    non-overlapping rings: with several origins, the time to the nearest."""
    _require(bands, ["minutes"], "bands layer")
    rings = _rings(bands)
    mins = list(rings["minutes"])
    cols = {m: BAND_COLOURS[min(i, len(BAND_COLOURS) - 1)] for i, m in enumerate(mins)}
    items = [LegendItem(b, cols[m]) for b, m in zip(rings["band"], mins, strict=True)]
    return Layer(rings, name, colour_by="minutes", colours=cols, line_colour="#ffffff",
                 tooltip=("band",), weight=0.5, fill_opacity=0.42, show=show, simplify_m=20.0,
                 legend_items=items)  # fmt: skip
