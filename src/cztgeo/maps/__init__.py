"""Maps: self-contained HTML (folium/Leaflet) that works offline and in China, and static
PNG/SVG/PDF for reports, with the same layers and styling.

=================  ==========================================================================
``layers``         :class:`Layer` (features + style) and helpers that style cztgeo's data
``basemaps``       web presets (xyzservices), MBTiles, the offline ``"reference"`` map
``html``           :func:`build_map`, :func:`write_map`, :func:`leaflet_assets`
``static``         :func:`write_static` (PNG/SVG/PDF, CJK font shipped as a package)
``products``       ready-made maps: :func:`commute_circle_map`, :func:`encroachment_map`
``named``          the ``map`` command's layers by name; :func:`write_any_map` by suffix
=================  ==========================================================================
"""

from __future__ import annotations

from .basemaps import (
    BASEMAPS,
    Basemap,
    MBTiles,
    check_basemap,
    read_mbtiles,
    reference_layers,
    resolve_basemap,
)
from .html import build_map, leaflet_assets, render_html, save_map, write_map
from .layers import (
    BAND_COLOURS,
    CENTRE_COLOURS,
    ISO_COLOURS,
    STATUS_COLOURS,
    ZONE_COLOURS,
    Layer,
    LegendItem,
    as_layer,
    bands_layer,
    boundaries_layer,
    encroachment_layer,
    green_heart_layer,
    isochrone_layer,
    network_layer,
    road_style,
    stations_layer,
    transit_layers,
)
from .named import MAP_LAYERS, MAP_SUFFIXES, check_map_path, named_layers, write_any_map
from .products import (
    MapSpec,
    circle_spec,
    commute_circle_map,
    commute_circle_static,
    core_bounds,
    encroachment_map,
    encroachment_spec,
    encroachment_static,
)
from .static import cjk_font, save_static, write_static

__all__ = [
    "BAND_COLOURS",
    "BASEMAPS",
    "CENTRE_COLOURS",
    "ISO_COLOURS",
    "MAP_LAYERS",
    "MAP_SUFFIXES",
    "STATUS_COLOURS",
    "ZONE_COLOURS",
    "Basemap",
    "Layer",
    "LegendItem",
    "MBTiles",
    "MapSpec",
    "as_layer",
    "bands_layer",
    "boundaries_layer",
    "build_map",
    "check_basemap",
    "check_map_path",
    "circle_spec",
    "cjk_font",
    "commute_circle_map",
    "commute_circle_static",
    "core_bounds",
    "encroachment_layer",
    "encroachment_map",
    "encroachment_spec",
    "encroachment_static",
    "green_heart_layer",
    "isochrone_layer",
    "leaflet_assets",
    "named_layers",
    "network_layer",
    "read_mbtiles",
    "reference_layers",
    "render_html",
    "resolve_basemap",
    "road_style",
    "save_map",
    "save_static",
    "stations_layer",
    "transit_layers",
    "write_any_map",
    "write_map",
    "write_static",
]


def _mbtiles(path: str) -> MBTiles:
    """Earlier private name of :func:`read_mbtiles` (kept for callers of 0.1)."""
    return read_mbtiles(path)
