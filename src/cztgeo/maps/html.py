"""Self-contained folium (Leaflet) HTML maps that work offline and in China.

* Leaflet's script and stylesheet are **inlined** from an installed package
  (``django-js-lib-leaflet``, Leaflet 1.9.4); no CDN is used. With ``offline=True`` any remote
  request is refused; the offline reference basemap or a local MBTiles file is embedded instead.
* Every marker and icon is inline (circle markers, ``divIcon`` HTML, CSS): an offline page
  has no image to break.
* GCJ-02 basemaps (Amap tiles) get the overlays shifted into GCJ-02 so they line up.
* Data reach the page only through fixed templates: text HTML-escaped, values JSON-encoded
  with ``<``, ``>``, ``&`` escaped; MBTiles metadata are validated, never pasted.
* Geometries are simplified to the display scale and coordinates rounded, to keep pages small.
* The legend follows the visible layers; the map names its basemap, has a title, a scale bar,
  a north arrow and the data's attribution.
"""

from __future__ import annotations

import base64
import html
import importlib.resources
import itertools
import json
import os
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import from_wgs84, to_wgs84
from ..errors import InputError
from ..io import atomic_path
from ._escape import colour, js, js_escape, raw_element, text
from ._fonts import font_face_css
from .basemaps import Basemap, BasemapLike, resolve_basemap
from .layers import PANES, Layer, LegendItem, as_layer, style_key

if TYPE_CHECKING:
    import folium
    from branca.element import MacroElement
    from jinja2 import Template

__all__ = ["build_map", "leaflet_assets", "render_html", "save_map", "write_map"]

Bounds = tuple[float, float, float, float]

_PAGE_CSS = """
.leaflet-container{background:#dde3ea;font-family:"Helvetica Neue",Arial,"cztgeo CJK",
"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif}
.czt-box{background:rgba(255,255,255,.93);border:1px solid #999;border-radius:3px;
padding:6px 9px;font-size:12px;line-height:1.35;color:#222}
.czt-title{font-size:15px;font-weight:bold;max-width:420px}
.czt-title .czt-sub{font-size:11px;font-weight:normal;color:#444;margin-top:2px}
#cztgeo-legend{max-width:290px;max-height:52vh;overflow:auto;font-size:11px}
.leaflet-control-layers{font-size:11.5px;max-height:46vh;overflow-y:auto;overflow-x:hidden}
.leaflet-control-layers-expanded{padding:4px 8px 4px 6px}
.leaflet-control-attribution{max-width:62vw;font-size:10px}
#cztgeo-legend .czt-h{font-weight:bold;margin-top:5px}
#cztgeo-legend .czt-row{display:flex;align-items:center;gap:5px;margin:1px 0}
#cztgeo-legend .czt-note{margin-top:5px;color:#b00;font-weight:bold}
.czt-caption{font-size:11px;max-width:360px}
.czt-north{font:bold 12px sans-serif;text-align:center;padding:3px 6px;line-height:1}
.czt-label span,.czt-text span{position:absolute;transform:translate(-50%,-50%);
white-space:nowrap;font-size:11px;color:#222;text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff}
.czt-text span{font-size:17px;font-weight:bold;letter-spacing:2px;opacity:.8}
.czt-centre .czt-dot{display:block;width:14px;height:14px;border:2px solid #fff;
border-radius:50%;box-shadow:0 0 0 1.5px #222;box-sizing:border-box}
.czt-centre .czt-name{position:absolute;left:16px;top:-4px;white-space:nowrap;font-weight:bold;
font-size:13px;color:#111;text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff}
"""

_NORTH_SVG = (
    "<svg width='18' height='22' viewBox='0 0 18 22' aria-label='north'>"
    "<polygon points='9,0 17,21 9,16 1,21' fill='#222'/></svg><div>N</div>"
)


@lru_cache(maxsize=1)
def leaflet_assets() -> tuple[str, str]:
    """Leaflet 1.9.4's JavaScript and CSS, from the installed ``django-js-lib-leaflet``, with
    the stylesheet's images inlined as data URIs: ``(js, css)`` ready to paste into
    ``<script>`` and ``<style>`` of an offline page."""
    root = importlib.resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    js_text = (root / "leaflet.js").read_text(encoding="utf-8")
    css = (root / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        img = (root / "images" / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(img).decode()})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, css)
    js_text = js_text.replace("//# sourceMappingURL=leaflet.js.map", "")
    return js_text, css


# ---------------------------------------------------------------------- data


def _json_column(values: pd.Series) -> list[object]:
    """One property column as JSON-ready values (text escaped, floats rounded, NaN -> null)."""
    out: list[object] = []
    for v in values.tolist():
        if isinstance(v, bool | np.bool_):
            out.append(bool(v))
        elif isinstance(v, int | np.integer):
            out.append(int(v))
        elif isinstance(v, float | np.floating):
            out.append(round(float(v), 3) if np.isfinite(v) else None)
        elif v is None or v is pd.NA:
            out.append(None)
        else:
            out.append(text(v))
    return out


def _geoms(layer: Layer, simplify_m: float, shift: bool) -> np.ndarray:
    g = to_wgs84(layer.gdf)
    geoms = np.asarray(g.geometry.values, dtype=object)
    tol_m = layer.simplify_m if layer.simplify_m is not None else simplify_m
    if tol_m > 0:  # polygons keep their topology; lines need not (and that is much faster)
        geoms = shapely.simplify(
            geoms, tol_m / 111_000.0, preserve_topology=layer.kind == "polygon"
        )
    if shift:
        geoms = np.asarray(from_wgs84(geoms, "gcj02"), dtype=object)
    return np.asarray(geoms, dtype=object)


_NESTING = {  # ragged geometry type -> (GeoJSON type, levels of offsets above the rings)
    shapely.GeometryType.LINESTRING: ("LineString", 0),
    shapely.GeometryType.MULTILINESTRING: ("MultiLineString", 1),
    shapely.GeometryType.POLYGON: ("Polygon", 1),
    shapely.GeometryType.MULTIPOLYGON: ("MultiPolygon", 2),
}


def _packed(geoms: np.ndarray, decimals: int) -> list[str] | None:
    """Lines and polygons as GeoJSON whose coordinate lists are packed: each line or ring a flat
    list of integers, the first point in units of 10^-decimals degrees and then the steps
    between points (about 2.5 times smaller than decimal pairs; the page unpacks them).
    None when the layer mixes geometry types or holds points (then plain GeoJSON is used)."""
    try:
        kind, coords, offsets = shapely.to_ragged_array(geoms)
    except (ValueError, TypeError, NotImplementedError):
        return None
    if kind not in _NESTING or len(coords) == 0:
        return None
    name, levels = _NESTING[kind]
    q = np.round(coords[:, :2] * 10.0**decimals).astype(np.int64)
    steps = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    starts = offsets[0][:-1]
    starts = starts[starts < len(q)]
    steps[starts] = q[starts]  # each line or ring starts afresh
    flat = steps.ravel()
    parts = [f"[{','.join(map(str, flat[2 * a : 2 * b].tolist()))}]" for a, b in itertools.pairwise(offsets[0])]  # fmt: skip
    for level in range(1, levels + 1):
        off = offsets[level]
        parts = [f"[{','.join(parts[a:b])}]" for a, b in itertools.pairwise(off)]
    return [f'{{"type":"{name}","p":1,"coordinates":{c}}}' for c in parts]


def _collection(layer: Layer, fields: Sequence[str], simplify_m: float, decimals: int,
                shift: bool) -> tuple[str, int]:  # fmt: skip
    """GeoJSON text (script-safe) of a layer and its number of features."""
    geoms = _geoms(layer, simplify_m, shift)
    keep = np.flatnonzero(~(shapely.is_empty(geoms) | shapely.is_missing(geoms)))
    present = [f for f in dict.fromkeys(fields) if f in layer.gdf.columns]
    cols = {f: _json_column(layer.gdf[f].iloc[keep]) for f in present}
    gj = _packed(geoms[keep], decimals) or shapely.to_geojson(
        shapely.transform(geoms[keep], lambda c: np.round(c, decimals))
    )
    feats = []
    for j, i in enumerate(keep):
        props = json.dumps({f: cols[f][j] for f in present}, ensure_ascii=False)
        # an explicit id: folium otherwise picks a property *name* as the identifier
        feats.append(f'{{"type":"Feature","id":{int(i)},"properties":{props},"geometry":{gj[j]}}}')
    doc = '{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}"
    return js_escape(doc), len(feats)


def _label_points(layer: Layer, shift: bool) -> list[list[object]]:
    """``[lat, lon, text]`` of the layer's labels (lines and polygons: a point inside)."""
    if not layer.label or layer.label not in layer.gdf or layer.kind == "point":
        return []
    g = to_wgs84(layer.gdf)
    pts = g.geometry.representative_point().values
    pts = np.asarray(from_wgs84(np.asarray(pts), "gcj02") if shift else pts, dtype=object)
    return [
        [round(float(p.y), 5), round(float(p.x), 5), text(t)]
        for p, t in zip(pts, layer.gdf[layer.label], strict=True)
        if p is not None and not p.is_empty and pd.notna(t)
    ]


def _fields(layer: Layer) -> list[str]:
    """The properties the page needs: tooltip, colour key, and the label of markers."""
    return [*layer.tooltip, *([layer.colour_by] if layer.colour_by else []),
            *([layer.label] if layer.label and layer.kind == "point" else [])]  # fmt: skip


def _options(layer: Layer, shift: bool, decimals: int) -> str:
    if layer.z_pane not in PANES:
        raise InputError(
            f"layer {layer.name!r}: unknown pane {layer.z_pane!r}; use one of {sorted(PANES)}"
        )
    colours = {style_key(k): colour(v) for k, v in (layer.colours or {}).items()}
    weights = {style_key(k): float(v) for k, v in (layer.weights or {}).items()}
    return js({
        "kind": layer.kind, "pane": layer.z_pane, "by": layer.colour_by, "colours": colours,
        "colour": colour(layer.colour or "#3388ff"), "weight": float(layer.weight),
        "weights": weights, "stroke": colour(layer.line_colour) if layer.line_colour else None,
        "fillOpacity": float(layer.fill_opacity), "opacity": float(layer.opacity),
        "dash": layer.dash if layer.dash and re.fullmatch(r"[0-9 .,]+", layer.dash) else None,
        "radius": float(layer.radius), "marker": layer.marker, "label": layer.label,
        "tooltip": [[f, text(f)] for f in layer.tooltip if f in layer.gdf.columns],
        "labels": _label_points(layer, shift), "k": 10**decimals,
    })  # fmt: skip


_LAYER_JS = """{% macro script(this, kwargs) %}
(function(){var o={{ this.opts }};var d={{ this.data }};var g={{ this._parent.get_name() }};
function un(a){var r=[],x=0,y=0;for(var i=0;i<a.length;i+=2){x+=a[i];y+=a[i+1];
r.push([x/o.k,y/o.k]);}return r;}
d.features.forEach(function(f){var q=f.geometry;if(q&&q.p){var c=q.coordinates;
q.coordinates=q.type==='LineString'?un(c):q.type==='MultiPolygon'?c.map(function(p){
return p.map(un);}):c.map(un);}});
function pick(t,p,x){if(!o.by||!t)return x;var v=t[String(p[o.by])];return v===undefined?x:v;}
function sty(f){var c=pick(o.colours,f.properties,o.colour);return {color:o.stroke||c,
fillColor:c,weight:pick(o.weights,f.properties,o.weight),opacity:o.opacity,
fillOpacity:o.fillOpacity,fill:o.kind==='polygon'&&o.fillOpacity>0,dashArray:o.dash,
lineJoin:'round'};}
function tip(p){var r=[];o.tooltip.forEach(function(k){var v=p[k[0]];
if(v!==undefined&&v!==null)r.push('<strong>'+k[1]+'</strong>: '+v);});return r.join('<br>');}
function icon(cls,h){return L.divIcon({className:cls,html:h,iconSize:null});}
function pt(f,ll){var s=sty(f),t=(o.label&&f.properties[o.label])||'';
if(o.marker==='centre'){return L.marker(ll,{pane:o.pane,keyboard:false,icon:L.divIcon({
className:'czt-centre',iconSize:[14,14],iconAnchor:[7,7],html:'<span class="czt-dot" style="background:'
+s.fillColor+'"></span><span class="czt-name">'+t+'</span>'})});}
if(o.marker==='text'){return L.marker(ll,{pane:o.pane,interactive:false,keyboard:false,
icon:icon('czt-text','<span style="color:'+o.colour+'">'+t+'</span>')});}
s.radius=o.radius;s.pane=o.pane;s.fill=true;s.fillOpacity=.95;return L.circleMarker(ll,s);}
L.geoJSON(d,{pane:o.pane,style:sty,pointToLayer:pt,onEachFeature:function(f,l){
var t=tip(f.properties);if(t){l.bindTooltip(t,{sticky:o.kind!=='point'});}}}).addTo(g);
o.labels.forEach(function(a){L.marker([a[0],a[1]],{pane:'czt-label',interactive:false,
keyboard:false,icon:icon('czt-label','<span>'+a[2]+'</span>')}).addTo(g);});})();
{% endmacro %}"""

_SETUP_JS = """{% macro script(this, kwargs) %}
(function(){var map={{ this._parent.get_name() }};window.cztgeoMap=map;
var view={{ this.view }};if(view){map.fitBounds(view,{padding:[8,8]});}else{map.setView([0,0],1);}
var panes={{ this.panes }};Object.keys(panes).forEach(function(k){
map.createPane(k).style.zIndex=panes[k];});
function box(pos,cls,h,id){var C=L.Control.extend({options:{position:pos},onAdd:function(){
var d=L.DomUtil.create('div','czt-box '+cls);if(id){d.id=id;}d.innerHTML=h;
L.DomEvent.disableClickPropagation(d);L.DomEvent.disableScrollPropagation(d);return d;}});
new C().addTo(map);}
if({{ this.title }}){box('topleft','czt-title',{{ this.title }});}
L.control.zoom({position:'topleft'}).addTo(map);
L.control.scale({position:'bottomleft',imperial:false,maxWidth:180}).addTo(map);
box('bottomleft','czt-north',{{ this.north }});
box('bottomleft','czt-caption',{{ this.caption }},'cztgeo-basemap');
map.attributionControl.setPrefix('Leaflet');
{{ this.attributions }}.forEach(function(a){map.attributionControl.addAttribution(a);});
box('bottomright','',' ','cztgeo-legend');})();
{% endmacro %}"""

_LEGEND_JS = """{% macro script(this, kwargs) %}
(function(){var map={{ this._parent.get_name() }};var items=[{{ this.items }}];
var note={{ this.note }};var box=document.getElementById('cztgeo-legend');
function update(){var h='';items.forEach(function(it){if(map.hasLayer(it[0]))h+=it[1];});
if(note)h+='<div class="czt-note">'+note+'</div>';box.innerHTML=h||'<i>no layer shown</i>';
box.style.display=h?'':'none';}
map.on('overlayadd overlayremove baselayerchange',update);update();})();
{% endmacro %}"""


@lru_cache(maxsize=16)
def _compiled(template: str) -> Template:
    from jinja2 import Template

    return Template(template)  # type: ignore[no-any-return]


def _element(template: str, **values: str) -> MacroElement:
    """A folium element from a fixed template; ``values`` (already script-safe) fill it."""
    from branca.element import MacroElement

    class _El(MacroElement):  # type: ignore[misc]
        _template = _compiled(template)

        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            for k, v in values.items():
                setattr(self, k, v)

    return _El()


def _swatch(item: LegendItem) -> str:
    c = html.escape(colour(item.colour))
    if item.style == "point":
        return (f"<svg width='18' height='12'><circle cx='9' cy='6' r='4.5' fill='{c}' "
                "stroke='#fff' stroke-width='1'/></svg>")  # fmt: skip
    if item.style in ("line", "outline"):
        dash = f" stroke-dasharray='{html.escape(item.dash)}'" if item.dash else ""
        w = min(max(item.width, 1.0), 5.0)
        return (f"<svg width='26' height='12'><line x1='1' y1='6' x2='25' y2='6' stroke='{c}' "
                f"stroke-width='{w:g}'{dash}/></svg>")  # fmt: skip
    return (f"<svg width='26' height='12'><rect x='1' y='1' width='24' height='10' fill='{c}' "
            "fill-opacity='.75' stroke='#555' stroke-width='.6'/></svg>")  # fmt: skip


def _legend_html(title: str, rows: Sequence[LegendItem]) -> str:
    parts = [f"<div class='czt-h'>{html.escape(title)}</div>"]
    for it in rows:
        parts.append(f"<div class='czt-row'>{_swatch(it)}<span>{text(it.label)}</span></div>")
    return "".join(parts)


def _bounds_of(layers: Sequence[Layer]) -> Bounds | None:
    boxes = [to_wgs84(ly.gdf).total_bounds for ly in layers if len(ly.gdf)]
    boxes = [b for b in boxes if np.isfinite(b).all()]
    if not boxes:
        return None
    a = np.array(boxes)
    return float(a[:, 0].min()), float(a[:, 1].min()), float(a[:, 2].max()), float(a[:, 3].max())


def _view(box: Bounds | None, shift: bool) -> list[list[float]] | None:
    """The initial view as Leaflet's ``[[S, W], [N, E]]`` (in GCJ-02 on such basemaps). It is
    set first thing: a grid layer added to a map without a view stalls the page's load."""
    if box is None:
        return None
    w, s, e, n = (float(v) for v in box)
    if shift:
        sw, ne = from_wgs84(shapely.points([(w, s), (e, n)]), "gcj02")
        w, s, e, n = float(sw.x), float(sw.y), float(ne.x), float(ne.y)
    return [[s, w], [n, e]]


def _add_basemap(m: folium.Map, base: Basemap, simplify_m: float, decimals: int) -> object | None:
    """Draw the basemap; returns the group its legend follows (the reference map's)."""
    import folium

    if base.provider is not None:
        p = base.provider
        folium.TileLayer(str(p["url"]), attr=html.escape(base.attribution), name=html.escape(base.name),
                         subdomains=str(p.get("subdomains", "abc")),
                         max_zoom=int(p.get("max_zoom", 18))).add_to(m)  # fmt: skip
        if base.labels_url:
            folium.TileLayer(base.labels_url, attr=html.escape(base.attribution), name=f"{base.name} labels",
                             overlay=True, subdomains=str(p.get("subdomains", "abc"))).add_to(m)  # fmt: skip
        return None
    if base.mbtiles is not None:
        _mbtiles_element(m, base)
        return None
    if base.layers:
        group = folium.FeatureGroup(name="reference map (offline)", overlay=False)
        for layer in base.layers:
            data, _ = _collection(layer, _fields(layer), simplify_m * 4, decimals, False)
            group.add_child(_element(_LAYER_JS, opts=_options(layer, False, decimals), data=data))  # type: ignore[no-untyped-call]
        group.add_to(m)
        return group
    return None


_MB_JS = """{% macro script(this, kwargs) %}
(function(){var tiles={{ this.tiles }};var o={{ this.options }};
var MB=L.GridLayer.extend({createTile:function(c){var k=c.z+'/'+c.x+'/'+c.y;
if(!tiles[k]){return document.createElement('div');}
var img=document.createElement('img');img.src=tiles[k];img.alt='';return img;}});
o.bounds=L.latLngBounds({{ this.sw }},{{ this.ne }});
new MB(o).addTo({{ this._parent.get_name() }});})();
{% endmacro %}"""


def _mbtiles_element(m: folium.Map, base: Basemap) -> None:
    info = base.mbtiles
    assert info is not None
    w, s, e, n = info.bounds
    options = {"minZoom": 0, "maxNativeZoom": info.maxzoom, "minNativeZoom": info.minzoom,
               "attribution": html.escape(info.attribution)}  # fmt: skip
    el = _element(_MB_JS, tiles=js(info.tiles), options=js(options),
                  sw=js([float(s), float(w)]), ne=js([float(n), float(e)]))  # fmt: skip
    m.add_child(el)  # type: ignore[no-untyped-call]


def build_map(
    layers: Sequence[Layer | gpd.GeoDataFrame],
    *,
    basemap: BasemapLike = "none",
    title: str = "",
    subtitle: str = "",
    tianditu_token: str | None = None,
    offline: bool = False,
    simplify_m: float = 5.0,
    decimals: int = 5,
    note: str = "",
    bounds: Bounds | None = None,
    attribution: Sequence[str] = (),
) -> folium.Map:
    """A folium map of the given layers with layer control, a legend that follows the visible
    layers, title, scale bar, north arrow, the basemap's name and the attribution.

    Parameters
    ----------
    layers
        :class:`Layer` objects, or plain GeoDataFrames (wrapped by :func:`as_layer`: styled by
        geometry type, first columns as tooltip).
    basemap
        ``"reference"`` (offline, drawn from cztgeo's embedded data: the whole metro area),
        ``"none"``, ``"osm"``, ``"tianditu"`` (needs ``tianditu_token``), ``"amap"`` (GCJ-02:
        overlays are shifted into GCJ-02 to line up), an xyzservices ``TileProvider``, or the
        path of a local ``.mbtiles`` file, which is embedded in the page.
    title, subtitle
        Shown in the top left corner (and as the page title).
    offline
        Refuse web basemaps: the page must make no remote request.
    simplify_m, decimals
        Display-scale simplification (metres) and coordinate rounding (5 decimals ~ 1 m).
    note
        A warning line under the legend (e.g. "green heart: APPROXIMATE sketch").
    bounds
        Initial view (W, S, E, N in degrees, WGS84); default: all layers.
    attribution
        Sources of the overlays, shown in the attribution line beside the basemap's.

    Returns
    -------
    folium.Map
        Write it with :func:`write_map` (Leaflet inlined, one self-contained file).
    """
    import folium

    wrapped = [as_layer(ly, index=i) for i, ly in enumerate(layers)]
    base = resolve_basemap(basemap, offline=offline, tianditu_token=tianditu_token)
    shift = base.gcj02
    m = folium.Map(tiles=None, zoom_control=False, prefer_canvas=False, zoom_snap=0.25)
    root = m.get_root()
    root.header.add_child(raw_element(f"<style>{_PAGE_CSS}</style>"))  # type: ignore[attr-defined]
    if title:
        root.header.add_child(raw_element(f"<title>{html.escape(title)}</title>"))  # type: ignore[attr-defined]
    head = f"{text(title)}" + (f"<div class='czt-sub'>{text(subtitle)}</div>" if subtitle else "")
    attributions = [html.escape(a) for a in dict.fromkeys([base.attribution, *attribution]) if a]
    setup = _element(_SETUP_JS, panes=js(PANES), title=js(head if title else ""),
                     view=js(_view(bounds or _bounds_of(wrapped), shift)), north=js(_NORTH_SVG),
                     caption=js(f"<b>Basemap:</b> {text(base.label)}"),
                     attributions=js(attributions))  # fmt: skip
    m.add_child(setup)  # type: ignore[no-untyped-call]
    legend: list[tuple[str, str]] = []
    base_group = _add_basemap(m, base, simplify_m, decimals)
    if base_group is not None:
        rows = [LegendItem("major road (OSM skeleton)", "#d6d2c8", "line", None, 2.0),
                LegendItem("railway track", "#a8a8a8", "line", "5 3", 1.5)]  # fmt: skip
        legend.append((base_group.get_name(), _legend_html("reference map", rows)))  # type: ignore[attr-defined]
    for layer in wrapped:
        if layer.gdf is None or len(layer.gdf) == 0:
            continue
        data, n_features = _collection(layer, _fields(layer), simplify_m, decimals, shift)
        if n_features == 0:  # e.g. an empty overlap: nothing to draw
            continue
        group = folium.FeatureGroup(name=html.escape(layer.name), show=layer.show)
        group.add_child(_element(_LAYER_JS, opts=_options(layer, shift, decimals), data=data))  # type: ignore[no-untyped-call]
        group.add_to(m)
        legend.append((group.get_name(), _legend_html(layer.name, layer.legend_rows())))
    folium.LayerControl(collapsed=False).add_to(m)
    items = ",".join(f"[{g},{js(h)}]" for g, h in legend if re.fullmatch(r"[A-Za-z_]\w*", g))
    m.add_child(_element(_LEGEND_JS, items=items, note=js(text(note) if note else "")))  # type: ignore[no-untyped-call]
    return m


# ---------------------------------------------------------------------- writing


_REMOTE_TAG = re.compile(
    r"<script[^>]+src=\"https?://[^\"]+\"[^>]*>\s*</script>|<link[^>]+href=\"https?://[^\"]+\"[^>]*/?>"
)
_FETCHING = re.compile(
    r"(?:<(?:script|img|iframe|source)[^>]*\ssrc=[\"']|<link[^>]*\shref=[\"']|url\(\s*[\"']?"
    r"|tileLayer\(\s*[\"'])(https?://[^\"')\s]+)"
)


def render_html(m: folium.Map, *, offline: bool = False, embed_font: bool = True) -> str:
    """The map's HTML with Leaflet inlined and folium's CDN scripts and stylesheets removed.

    ``embed_font``: embed the glyphs of the page's Chinese text (a subset of Noto Sans CJK SC,
    typically 50-150 kB), so it reads on machines without a CJK font.
    """
    page = m.get_root().render()
    page = _REMOTE_TAG.sub("", page)
    js_text, css = leaflet_assets()
    face = font_face_css(page) if embed_font else ""
    inline = f"<style>{css}{face}</style>\n<script>{js_text}</script>\n"
    page = page.replace("<head>", "<head>\n" + inline, 1)
    if offline:
        # anything the browser would fetch: script/img/iframe sources, stylesheets, CSS urls,
        # and tile URL templates (a plain <a href> link fetches nothing)
        remote = _FETCHING.findall(page)
        if remote:
            raise InputError(
                f"the offline map would still load {remote[0]}: remove that layer or basemap"
            )
    return page


def write_map(
    m: folium.Map, path: str | os.PathLike[str], *, offline: bool = False, embed_font: bool = True
) -> Path:
    """Write the map as one self-contained HTML file (atomic); see :func:`render_html`."""
    out = Path(path)
    page = render_html(m, offline=offline, embed_font=embed_font)
    with atomic_path(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return out


#: The earlier name of :func:`write_map`.
save_map = write_map
