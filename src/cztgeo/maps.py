"""Maps: self-contained folium (Leaflet) HTML that works offline and in China, and static
PNG/SVG images for reports.

* Leaflet's script and stylesheet are **inlined** from an installed package
  (``django-js-lib-leaflet``, Leaflet 1.9.4); no CDN is used. With ``offline=True`` any remote
  request (a web tile basemap) is refused, and a local MBTiles basemap is embedded instead.
* GCJ-02 basemaps (Amap-style tiles) get the overlays shifted into GCJ-02 so they line up.
* Every text shown in tooltips, popups and legends is HTML-escaped; data reach the page's
  scripts only JSON-encoded with ``<``, ``>``, ``&`` escaped (``\u003c``...), and no template
  source is ever built from data (MBTiles metadata are validated, never pasted).
* Geometries are simplified to the display scale and coordinates rounded, to keep pages small.
"""

from __future__ import annotations

import base64
import html
import importlib.resources
import json
import math
import os
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .crs import from_wgs84, to_wgs84
from .errors import InputError
from .io import atomic_path

if TYPE_CHECKING:
    import folium

    from .network import Network

__all__ = ["BASEMAPS", "Layer", "build_map", "save_map", "save_static"]

#: Web basemap presets. ``crs`` says the coordinate system the tiles are drawn in.
BASEMAPS: dict[str, dict[str, str]] = {
    "osm": {
        "tiles": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attr": "© OpenStreetMap contributors",
        "crs": "wgs84",
        "subdomains": "abc",
    },
    "tianditu": {
        "tiles": "https://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk={token}",
        "labels": "https://t{s}.tianditu.gov.cn/DataServer?T=cva_w&x={x}&y={y}&l={z}&tk={token}",
        "attr": "© 天地图 Tianditu (国家地理信息公共服务平台)",
        "crs": "wgs84",  # CGCS2000, the same as WGS84 at map scale
        "subdomains": "01234567",
    },
    "amap": {
        "tiles": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "attr": "© 高德地图 AutoNavi (GCJ-02; overlays shifted to match)",
        "crs": "gcj02",
        "subdomains": "1234",
    },
}

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
ISO_COLOURS = [
    "#2c7bb6",
    "#00a6ca",
    "#00ccbc",
    "#90eb9d",
    "#ffff8c",
    "#f9d057",
    "#f29e2e",
    "#e76818",
    "#d7191c",
]


@dataclass
class Layer:
    """One map layer: features, a name for the layer control, a style and tooltip fields."""

    gdf: gpd.GeoDataFrame
    name: str
    kind: str = "polygon"  # polygon | line | point
    colour: str | None = None
    colour_by: str | None = None
    colours: dict[Any, str] | None = None
    tooltip: Sequence[str] = ()
    weight: float = 2.0
    fill_opacity: float = 0.35
    legend: dict[str, str] | None = None
    show: bool = True


#: MBTiles limits: tile formats a browser shows, zoom range, and what is embedded in a page.
MBTILES_FORMATS = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "webp": "webp"}
MBTILES_MAX_TILES = 20_000
MBTILES_MAX_BYTES = 200_000_000


def _js(value: Any) -> str:
    """JSON for inside a ``<script>``: ``<``, ``>``, ``&``, U+2028/9 escaped, so no data can
    close the script or start a comment."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):  # fmt: skip
        text = text.replace(ch, esc)
    return text


def _text(value: Any) -> str:
    """Data as HTML text that is also inert inside a JavaScript template literal and a Jinja
    template (folium renders tooltips in backticks)."""
    out = html.escape(str(value))
    for ch, ent in (("`", "&#96;"), ("$", "&#36;"), ("\\", "&#92;"), ("{", "&#123;"), ("}", "&#125;")):  # fmt: skip
        out = out.replace(ch, ent)
    return out


def _raw_element(markup: str) -> Any:
    """A folium element that outputs ``markup`` as is (``folium.Element(text)`` would compile
    the text as a Jinja template: data in it could run code)."""
    from branca.element import Element
    from jinja2 import Template

    class _Raw(Element):  # type: ignore[misc]
        _template = Template("{{ this.markup }}")

        def __init__(self, text: str) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self.markup = text

    return _Raw(markup)


def _round_coords(geoms: np.ndarray, decimals: int) -> Any:
    return shapely.transform(geoms, lambda c: np.round(c, decimals))


def _clean_gdf(gdf: gpd.GeoDataFrame, fields: Sequence[str], simplify_m: float, decimals: int,
               shift_gcj: bool) -> dict[str, Any]:  # fmt: skip
    """GeoJSON dict: WGS84 (or GCJ-02 for such basemaps), simplified, rounded, text escaped."""
    g = to_wgs84(gdf) if gdf.crs is not None else gdf
    geoms = g.geometry.values
    if simplify_m > 0:
        geoms = shapely.simplify(geoms, simplify_m / 111_000.0, preserve_topology=True)
    if shift_gcj:
        geoms = from_wgs84(geoms, "gcj02")
    geoms = _round_coords(np.asarray(geoms), decimals)
    keep = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    props = pd.DataFrame(g.drop(columns=g.geometry.name))[[f for f in fields if f in g.columns]]
    feats = []
    for i in np.flatnonzero(keep):
        p: dict[str, Any] = {}
        for k, v in props.iloc[i].items():
            if isinstance(v, (float, np.floating)):
                p[str(k)] = None if not np.isfinite(v) else round(float(v), 3)
            elif isinstance(v, (bool, np.bool_)):
                p[str(k)] = bool(v)
            elif isinstance(v, (int, np.integer)):
                p[str(k)] = int(v)
            else:
                p[str(k)] = _text(v)
        feats.append(
            {
                "type": "Feature",
                # an explicit id: folium otherwise picks a property *name* as the identifier
                # and pastes it into the page's JavaScript
                "id": int(i),
                "properties": p,
                "geometry": shapely.geometry.mapping(geoms[i]),
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def _legend_html(entries: list[tuple[str, dict[str, str]]], note: str) -> str:
    parts = []
    for title, items in entries:
        parts.append(f"<div style='font-weight:bold;margin-top:4px'>{html.escape(title)}</div>")
        for label, colour in items.items():
            parts.append(
                f"<div><span style='display:inline-block;width:14px;height:10px;background:{html.escape(colour)};"
                f"border:1px solid #555;margin-right:4px'></span>{html.escape(str(label))}</div>"
            )
    if note:
        parts.append(
            f"<div style='margin-top:4px;color:#b00;font-weight:bold'>{html.escape(note)}</div>"
        )
    return (
        "<div id='cztgeo-legend' style='position:fixed;bottom:24px;right:10px;z-index:1000;"
        "background:rgba(255,255,255,.92);padding:6px 8px;border:1px solid #888;"
        "font:12px sans-serif;max-width:280px'>" + "".join(parts) + "</div>"
    )


def _mbtiles_meta_int(meta: dict[str, Any], key: str, default: int, name: str) -> int:
    raw = meta.get(key, default)
    try:
        v = float(raw)
    except (TypeError, ValueError):
        raise InputError(f"{name}: metadata {key} {str(raw)[:40]!r} is not a number") from None
    if not math.isfinite(v) or v != int(v) or not 0 <= v <= 24:
        raise InputError(f"{name}: metadata {key} {str(raw)[:40]!r} is not a zoom level 0-24")
    return int(v)


def _mbtiles(path: Path) -> dict[str, Any]:
    """Tiles and validated metadata of an MBTiles file (format, zooms, bounds checked)."""
    name = path.name
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            meta = {str(k): v for k, v in con.execute("select name, value from metadata")}
            n_tiles, n_bytes = con.execute(
                "select count(*), coalesce(sum(length(tile_data)), 0) from tiles"
            ).fetchone()
            if n_tiles > MBTILES_MAX_TILES or n_bytes > MBTILES_MAX_BYTES:
                from .errors import LimitError

                raise LimitError(
                    f"{name}: {n_tiles:,} tiles / {n_bytes / 1e6:,.0f} MB is more than an HTML "
                    f"page can embed ({MBTILES_MAX_TILES:,} tiles, "
                    f"{MBTILES_MAX_BYTES / 1e6:,.0f} MB): cut the zoom range or the area"
                )
            rows = con.execute(
                "select zoom_level, tile_column, tile_row, tile_data from tiles"
            ).fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise InputError(f"{name}: not a readable MBTiles file ({exc})") from None
    raw_fmt = str(meta.get("format", "png")).strip().lower()
    if raw_fmt not in MBTILES_FORMATS:
        raise InputError(
            f"{name}: tile format {str(meta.get('format'))[:40]!r} is not one of "
            f"{sorted(MBTILES_FORMATS)}; only raster MBTiles can be a basemap"
        )
    fmt = MBTILES_FORMATS[raw_fmt]
    if not rows:
        raise InputError(f"{name}: the MBTiles file has no tiles")
    tiles = {}
    zooms = []
    tx_min, tx_max, ty_min, ty_max = math.inf, -math.inf, math.inf, -math.inf
    for z, x, y_tms, data in rows:
        if not all(isinstance(v, int) for v in (z, x, y_tms)) or not 0 <= z <= 24:
            raise InputError(f"{name}: a tile has an invalid address {(z, x, y_tms)!r}")
        if not (0 <= x < (1 << z) and 0 <= y_tms < (1 << z)):
            raise InputError(f"{name}: tile {(z, x, y_tms)!r} lies outside its zoom level")
        if not isinstance(data, bytes):
            raise InputError(f"{name}: tile {(z, x, y_tms)!r} holds no image data")
        y = (1 << z) - 1 - y_tms  # MBTiles rows are TMS (south-up)
        tiles[f"{z}/{x}/{y}"] = f"data:image/{fmt};base64," + base64.b64encode(data).decode()
        zooms.append(z)
        scale = 1.0 / (1 << z)
        tx_min, tx_max = min(tx_min, x * scale), max(tx_max, (x + 1) * scale)
        ty_min, ty_max = min(ty_min, y * scale), max(ty_max, (y + 1) * scale)
    minzoom = _mbtiles_meta_int(meta, "minzoom", min(zooms), name)
    maxzoom = _mbtiles_meta_int(meta, "maxzoom", max(zooms), name)
    if minzoom > maxzoom:
        raise InputError(f"{name}: metadata minzoom {minzoom} is above maxzoom {maxzoom}")

    def lat(t: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * t))))

    if "bounds" in meta:
        try:
            bounds = [float(v) for v in str(meta["bounds"]).split(",")]
        except ValueError:
            bounds = []
        w, s_, e, n = bounds if len(bounds) == 4 else (math.nan,) * 4
        if not (
            all(math.isfinite(v) for v in (w, s_, e, n))
            and -180 <= w < e <= 180
            and -85.06 <= s_ < n <= 85.06
        ):
            raise InputError(
                f"{name}: metadata bounds {str(meta['bounds'])[:60]!r} are not W,S,E,N in "
                "degrees (W<E, S<N)"
            )
    else:  # no bounds: the extent of the tiles, never the whole world
        w, e = tx_min * 360.0 - 180.0, tx_max * 360.0 - 180.0
        s_, n = lat(ty_max), lat(ty_min)
    return {
        "tiles": tiles,
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": [w, s_, e, n],
        "attribution": str(meta.get("attribution", "© OpenStreetMap contributors"))[:500],
        "name": str(meta.get("name", path.stem))[:200],
    }


def _mbtiles_element(m: folium.Map, info: dict[str, Any]) -> None:
    from branca.element import MacroElement
    from jinja2 import Template

    w, s, e, n = info["bounds"]
    options = {
        "minZoom": 0,
        "maxNativeZoom": int(info["maxzoom"]),
        "minNativeZoom": int(info["minzoom"]),
        "attribution": html.escape(info["attribution"]),
    }

    class _MB(MacroElement):  # type: ignore[misc]
        # a fixed template: the data enter as JSON values (this.*), never as template source
        _template = Template(
            "{% macro script(this, kwargs) %}"
            "(function(){var tiles={{ this.tiles_js }};var o={{ this.options_js }};"
            "var MB=L.GridLayer.extend({createTile:function(c){var img=document.createElement('img');"
            "var k=c.z+'/'+c.x+'/'+c.y;if(tiles[k]){img.src=tiles[k];}img.alt='';return img;}});"
            "o.bounds=L.latLngBounds({{ this.sw_js }},{{ this.ne_js }});"
            "new MB(o).addTo({{ this._parent.get_name() }});})();"
            "{% endmacro %}"
        )

        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self.tiles_js = _js(info["tiles"])
            self.options_js = _js(options)
            self.sw_js = _js([float(s), float(w)])
            self.ne_js = _js([float(n), float(e)])

    m.add_child(_MB())  # type: ignore[no-untyped-call]


def check_basemap(
    basemap: str | os.PathLike[str] | None,
    *,
    offline: bool = False,
    tianditu_token: str | None = None,
) -> None:
    """Refuse an unusable basemap before any work is done (raises InputError)."""
    base = "none" if basemap is None else basemap
    if str(base).lower().endswith(".mbtiles"):
        if not Path(base).exists():
            raise InputError(f"basemap file not found: {str(base)!r}")
        return
    if base == "none":
        return
    if base not in BASEMAPS:
        raise InputError(
            f"unknown basemap {base!r}: use none, osm, tianditu, amap or a .mbtiles file"
        )
    if offline:
        raise InputError(
            f"basemap {base!r} needs the internet but the map is offline: use a local "
            ".mbtiles file or --basemap none"
        )
    if base == "tianditu" and not tianditu_token:
        raise InputError(
            "the tianditu basemap needs a token: pass tianditu_token (--tianditu-token)"
        )


def build_map(
    layers: Sequence[Layer],
    *,
    basemap: str | os.PathLike[str] | None = "none",
    title: str = "",
    tianditu_token: str | None = None,
    offline: bool = False,
    simplify_m: float = 5.0,
    decimals: int = 5,
    note: str = "",
) -> folium.Map:
    """A folium map of the given layers with layer control, legend and escaped tooltips.

    Parameters
    ----------
    layers
        :class:`Layer` objects (see :func:`layers_for` helpers in this module).
    basemap
        ``"none"``, ``"osm"``, ``"tianditu"`` (needs ``tianditu_token``), ``"amap"`` (GCJ-02:
        overlays are shifted into GCJ-02 to line up), or the path of a local ``.mbtiles`` file,
        which is embedded in the page.
    offline
        Refuse web basemaps: the page must make no remote request.
    simplify_m, decimals
        Display-scale simplification (metres) and coordinate rounding (5 decimals ~ 1 m).
    note
        A warning line for the legend (e.g. "green heart: approximate sketch").
    """
    import folium

    check_basemap(basemap, offline=offline, tianditu_token=tianditu_token)
    shift = False
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=False)
    if title:
        root: Any = m.get_root()
        root.header.add_child(_raw_element(f"<title>{html.escape(title)}</title>"))
    base = "none" if basemap is None else basemap
    if isinstance(base, (str, os.PathLike)) and str(base).lower().endswith(".mbtiles"):
        _mbtiles_element(m, _mbtiles(Path(base)))
    elif base in BASEMAPS:
        if offline:
            raise InputError(
                f"basemap {base!r} needs the internet but the map is offline: use a local "
                ".mbtiles file or --basemap none"
            )
        spec = BASEMAPS[str(base)]
        if base == "tianditu" and not tianditu_token:
            raise InputError(
                "the tianditu basemap needs a token: pass tianditu_token (--tianditu-token)"
            )
        url = spec["tiles"].replace("{token}", tianditu_token or "")
        folium.TileLayer(
            url, attr=spec["attr"], name=str(base), subdomains=spec["subdomains"]
        ).add_to(m)
        if "labels" in spec:
            folium.TileLayer(spec["labels"].replace("{token}", tianditu_token or ""), attr=spec["attr"],
                             name=f"{base} labels", overlay=True, subdomains=spec["subdomains"]).add_to(m)  # fmt: skip
        shift = spec["crs"] == "gcj02"
    elif base != "none":
        raise InputError(
            f"unknown basemap {base!r}: use none, osm, tianditu, amap or a .mbtiles file"
        )

    legend: list[tuple[str, dict[str, str]]] = []
    bounds = None
    for layer in layers:
        if layer.gdf is None or len(layer.gdf) == 0:
            continue
        fields = list(layer.tooltip)
        colour_field = layer.colour_by
        data = _clean_gdf(layer.gdf, [*fields, *([colour_field] if colour_field else [])], simplify_m,
                          decimals, shift)  # fmt: skip
        if not data["features"]:  # e.g. an empty overlap: nothing to draw
            continue
        colours = {_text(k): v for k, v in (layer.colours or {}).items()}
        default = layer.colour or "#3388ff"

        def style(feature: dict[str, Any], _c: dict[str, str] = colours, _d: str = default,
                  _f: str | None = colour_field, _l: Layer = layer) -> dict[str, Any]:  # fmt: skip
            col = _c.get(str(feature["properties"].get(_f)), _d) if _f else _d
            return {
                "color": col,
                "fillColor": col,
                "weight": _l.weight,
                "fillOpacity": _l.fill_opacity,
            }

        group = folium.FeatureGroup(name=html.escape(layer.name), show=layer.show)
        if layer.kind == "point":
            for f in data["features"]:
                lon, lat = f["geometry"]["coordinates"][:2]
                tip = "<br>".join(
                    f"{_text(k)}: {_text(v) if not isinstance(v, str) else v}"
                    for k, v in f["properties"].items()
                    if k in fields
                )
                folium.CircleMarker([lat, lon], radius=5, color=style(f)["color"], fill=True,
                                    fill_opacity=0.9, tooltip=tip or None).add_to(group)  # fmt: skip
        else:
            present = [f for f in fields if f in layer.gdf.columns]
            tooltip = (
                folium.GeoJsonTooltip(
                    fields=present, aliases=[_text(f) for f in present], sticky=False
                )
                if present
                else None
            )
            folium.GeoJson(
                data, name=html.escape(layer.name), style_function=style, tooltip=tooltip
            ).add_to(group)
        group.add_to(m)
        if layer.legend:
            legend.append((layer.name, layer.legend))
        b = (
            to_wgs84(layer.gdf).total_bounds
            if layer.gdf.crs is not None
            else layer.gdf.total_bounds
        )
        bounds = (
            b
            if bounds is None
            else np.r_[np.minimum(bounds[:2], b[:2]), np.maximum(bounds[2:], b[2:])]
        )
    folium.LayerControl(collapsed=False).add_to(m)
    if bounds is not None and np.isfinite(bounds).all():
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    if legend or note:
        page_root: Any = m.get_root()
        page_root.html.add_child(_raw_element(_legend_html(legend, note)))
    return m


# ---------------------------------------------------------------------- layer helpers


def boundaries_layer(gdf: gpd.GeoDataFrame, name: str = "boundaries") -> Layer:
    return Layer(gdf, name, colour="#555555", tooltip=("name", "name_en", "area_km2"), weight=1.5,
                 fill_opacity=0.0)  # fmt: skip


def green_heart_layer(gdf: gpd.GeoDataFrame) -> Layer:
    approx = bool(gdf["approximate"].any()) if "approximate" in gdf else False
    zones = sorted(set(gdf["zone"])) if "zone" in gdf else []
    label = "green heart 生态绿心" + (" (APPROXIMATE sketch)" if approx else "")
    legend = {
        f"{z}{' (approximate)' if approx else ''}": ZONE_COLOURS.get(z, "#5aae61") for z in zones
    }
    return Layer(gdf, label, colour_by="zone", colours=ZONE_COLOURS, tooltip=("zone", "version", "approximate", "area_km2"),
                 weight=1.5, fill_opacity=0.35, legend=legend)  # fmt: skip


def _require(gdf: Any, columns: Sequence[str], what: str) -> None:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{what}: expected a GeoDataFrame, got {type(gdf).__name__}")
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise InputError(
            f"{what}: no column {missing[0]!r}; use a file written by cztgeo (columns found: "
            f"{[str(c) for c in gdf.columns][:8]})"
        )


def isochrone_layer(gdf: gpd.GeoDataFrame, name: str = "isochrones") -> Layer:
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


def network_layer(net: Network, name: str | None = None) -> Layer:
    """The network as one MultiLineString per road class (a few features, not one per edge:
    a 100k-edge network stays a few MB and draws in seconds)."""
    rev = net.reverse
    keep = (rev < 0) | (np.arange(net.n_arcs) < rev)  # one line per two-way road
    k = net.kind[keep]
    lines = net.segments(arcs=keep)
    rows, geoms = [], []
    for code in np.unique(k):
        sel = k == code
        rows.append({"kind": net.kinds[int(code)], "edges": int(sel.sum()),
                     "length_km": float(net.length_m[keep][sel].sum() / 1000.0)})  # fmt: skip
        geoms.append(shapely.multilinestrings(lines[sel]))
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")
    name = name or f"{net.mode} network" + (" (coarse skeleton)" if net.coarse else "")
    return Layer(
        gdf, name, kind="line", colour="#444444", tooltip=("kind", "edges", "length_km"), weight=1.2
    )


def stations_layer(gdf: gpd.GeoDataFrame, name: str = "rail stations") -> Layer:
    return Layer(
        gdf,
        name,
        kind="point",
        colour="#6a3d9a",
        tooltip=tuple(c for c in ("name", "lines", "station") if c in gdf),
    )


def encroachment_layer(result: gpd.GeoDataFrame) -> Layer:
    _require(result, ["status"], "encroachment layer")
    idc = result.attrs.get("id_column", result.columns[0])
    present = [s for s in STATUS_COLOURS if s in set(result["status"])]
    return Layer(result, "encroachment findings", colour_by="status", colours=STATUS_COLOURS,
                 tooltip=(idc, "zone", "status", "overlap_area_m2", "overlap_length_m", "distance_m"),
                 weight=2, fill_opacity=0.6, legend={s: STATUS_COLOURS[s] for s in present})  # fmt: skip


# ---------------------------------------------------------------------- saving


def _leaflet_assets() -> tuple[str, str]:
    """Leaflet's JS and CSS from the installed django-js-lib-leaflet, images as data URIs."""
    root = importlib.resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    js = (root / "leaflet.js").read_text(encoding="utf-8")
    css = (root / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        img = (root / "images" / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(img).decode()})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, css)
    js = js.replace("//# sourceMappingURL=leaflet.js.map", "")
    return js, css


leaflet_assets = _leaflet_assets  # public name (the service page inlines Leaflet too)

_REMOTE_TAG = re.compile(
    r"<script[^>]+src=\"https?://[^\"]+\"[^>]*>\s*</script>|<link[^>]+href=\"https?://[^\"]+\"[^>]*/?>"
)


def render_html(m: folium.Map, *, offline: bool = False) -> str:
    """The map's HTML with Leaflet inlined and folium's CDN scripts and stylesheets removed."""
    page = m.get_root().render()
    page = _REMOTE_TAG.sub("", page)
    js, css = _leaflet_assets()
    inline = f"<style>{css}</style>\n<script>{js}</script>\n"
    page = page.replace("<head>", "<head>\n" + inline, 1)
    if offline:
        # anything the browser would fetch: script/img/iframe sources, stylesheets, CSS urls,
        # and tile URL templates (a plain <a href> link fetches nothing)
        remote = re.findall(
            r"(?:<(?:script|img|iframe|source)[^>]*\ssrc=[\"']|<link[^>]*\shref=[\"']|url\(\s*[\"']?"
            r"|tileLayer\(\s*[\"'])(https?://[^\"')\s]+)",
            page,
        )
        if remote:
            raise InputError(
                f"the offline map would still load {remote[0]}: remove that layer or basemap"
            )
    return page


def save_map(m: folium.Map, path: str | os.PathLike[str], *, offline: bool = False) -> Path:
    """Write the map as one self-contained HTML file (atomic)."""
    out = Path(path)
    page = render_html(m, offline=offline)
    with atomic_path(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return out


# ---------------------------------------------------------------------- static images


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    for f in font_manager.fontManager.ttflist:
        if "CJK" in f.name or f.name in ("Noto Sans SC", "WenQuanYi Zen Hei", "SimHei"):
            return str(f.name)
    return None


def save_static(
    layers: Sequence[Layer],
    path: str | os.PathLike[str],
    *,
    title: str = "",
    basemap: str | os.PathLike[str] | None = None,
    approval_number: str | None = None,
    attribution: str = "© OpenStreetMap contributors",
    note: str = "",
    dpi: int = 150,
    size_in: tuple[float, float] = (9.0, 8.0),
) -> Path:
    """A static PNG or SVG (by suffix) with legend, scale bar, north arrow, attribution and the
    map approval number (审图号) slot. Works with no network; ``basemap`` may be an MBTiles file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    out = Path(path)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise InputError(f"cannot tell the image format from {out.name!r}: use .png or .svg")
    font = _cjk_font()
    rc: Any = {"font.family": [font, "DejaVu Sans"]} if font else {}
    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=size_in)
        handles = []
        bounds = None
        for layer in layers:
            if layer.gdf is None or len(layer.gdf) == 0:
                continue
            g = to_wgs84(layer.gdf).to_crs(3857)
            default = layer.colour or "#3388ff"
            table = layer.colours or {}
            cols = (
                g[layer.colour_by].map(lambda v, t=table, d=default: t.get(v, d))
                if layer.colour_by
                else default
            )
            if layer.kind == "polygon" and layer.fill_opacity > 0:
                g.plot(ax=ax, color=cols, alpha=layer.fill_opacity, edgecolor=cols, linewidth=0.6)
            elif layer.kind == "polygon":
                g.boundary.plot(ax=ax, color=cols, linewidth=layer.weight * 0.4)
            elif layer.kind == "line":
                g.plot(ax=ax, color=cols, linewidth=layer.weight * 0.5)
            else:
                g.plot(ax=ax, color=cols, markersize=12)
            for label, colour in (layer.legend or {layer.name: layer.colour or "#3388ff"}).items():
                handles.append(Patch(facecolor=colour, edgecolor="#555", label=str(label)))
            b = g.total_bounds
            bounds = (
                b
                if bounds is None
                else np.r_[np.minimum(bounds[:2], b[:2]), np.maximum(bounds[2:], b[2:])]
            )
        if bounds is None:
            raise InputError("nothing to draw: all layers are empty")
        pad = 0.04 * max(bounds[2] - bounds[0], bounds[3] - bounds[1])
        ax.set_xlim(bounds[0] - pad, bounds[2] + pad)
        ax.set_ylim(bounds[1] - pad, bounds[3] + pad)
        if basemap is not None and str(basemap).lower().endswith(".mbtiles"):
            _draw_mbtiles(ax, Path(basemap))
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
        if title:
            ax.set_title(title)
        if handles:
            ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.9)
        _scale_bar(ax)
        ax.annotate("N", xy=(0.05, 0.95), xytext=(0.05, 0.85), xycoords="axes fraction",
                    ha="center", va="center", fontsize=12, fontweight="bold",
                    arrowprops={"arrowstyle": "-|>", "color": "k", "lw": 1.5})  # fmt: skip
        approval = f"审图号: {approval_number}" if approval_number else "审图号: ________"
        fig.text(0.01, 0.01, f"{attribution}    {approval}", fontsize=7, ha="left", va="bottom")
        if note:
            fig.text(0.01, 0.035, note, fontsize=7, color="#b00", ha="left", va="bottom")
        with atomic_path(out) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
        plt.close(fig)
    return out


def _scale_bar(ax: Any) -> None:
    """A scale bar in true metres (Web Mercator stretches by 1/cos(latitude))."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    lat = np.degrees(2 * np.arctan(np.exp(((y0 + y1) / 2) / 6378137.0)) - np.pi / 2)
    k = 1.0 / np.cos(np.radians(lat))
    span_m = (x1 - x0) / k
    nice = 10 ** np.floor(np.log10(span_m / 4))
    for f in (5, 2, 1):
        if f * nice <= span_m / 4:
            nice *= f
            break
    bx, by = x0 + 0.05 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.plot([bx, bx + nice * k], [by, by], color="k", lw=3)
    label = f"{nice / 1000:g} km" if nice >= 1000 else f"{nice:g} m"
    ax.text(bx + nice * k / 2, by + 0.01 * (y1 - y0), label, ha="center", va="bottom", fontsize=8)


def _draw_mbtiles(ax: Any, path: Path) -> None:
    import io as _io

    from PIL import Image

    info = _mbtiles(path)
    z = info["maxzoom"]
    for key, uri in info["tiles"].items():
        tz, tx, ty = (int(v) for v in key.split("/"))
        if tz != z:
            continue
        img = Image.open(_io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
        n = 1 << tz
        size = 2 * np.pi * 6378137.0 / n
        left = -np.pi * 6378137.0 + tx * size
        top = np.pi * 6378137.0 - ty * size
        ax.imshow(
            img, extent=(left, left + size, top - size, top), zorder=0, interpolation="bilinear"
        )
