"""The click-to-isochrone page: one HTML document with Leaflet and the base layers inlined.

Nothing on the page is fetched from another host: Leaflet's JS and CSS are inlined (as in the
offline maps), the base layers (city boundaries, the green heart, the rail lines, the road
network) are embedded as JSON, and the page only calls this server (``/api/reach``,
``/api/circle``). Data reaches the page as JSON inside a ``<script type="application/json">``
element with ``<``, ``>`` and ``&`` escaped, and the page writes it with ``textContent``, so a
name in a data file cannot become markup or script.
"""

from __future__ import annotations

import importlib.resources
import json
import re
from typing import TYPE_CHECKING

import numpy as np
import shapely

from ..maps import ISO_COLOURS
from .engine import MODES

if TYPE_CHECKING:
    import geopandas as gpd
    from pydantic import JsonValue

    from .engine import Engine

__all__ = ["build_page", "page_config"]

MODE_LABELS = {
    "drive": "drive",
    "walk": "walk",
    "bike": "bike",
    "transit": "transit chain (walk + rail + walk)",
    "taxi+transit": "transit chain (taxi or walk + rail)",
}
#: Simplification of the embedded base layers (degrees, about 50 m): they are a backdrop.
BACKDROP_TOLERANCE_DEG = 0.0005


def _geojson(gdf: gpd.GeoDataFrame, columns: list[str]) -> JsonValue:
    keep = gdf[[*columns, "geometry"]].copy()
    keep.geometry = shapely.simplify(keep.geometry.values, BACKDROP_TOLERANCE_DEG)
    out: JsonValue = json.loads(keep.to_json(drop_id=True))
    return out


def _network_lines(engine: Engine) -> JsonValue:
    """The drive network as one MultiLineString (the page draws it as a thin backdrop)."""
    net = engine.road("drive", engine.periods[0]).net
    t, h = net.tail, net.head
    first = t < h  # one line per two-way street
    coords = np.stack(
        [np.column_stack([net.lon[t], net.lat[t]]), np.column_stack([net.lon[h], net.lat[h]])],
        axis=1,
    )[first | (net.reverse < 0)]
    if len(coords) > 50_000:  # a full OSM network: too heavy for a backdrop
        return None
    lines = np.round(coords, 5).tolist()
    return {"type": "MultiLineString", "coordinates": lines}


def page_config(engine: Engine) -> dict[str, JsonValue]:
    """Everything the page needs to start, as JSON."""
    from ..boundaries import load_boundaries
    from ..circle import DEFAULT_CENTRES

    lim = engine.limits
    rail: JsonValue = None
    if engine.transit:
        tn = engine.transit[engine.periods[0]]
        rail = _geojson(tn.lines_gdf(), ["name", "kind"])
    gh_cols = [c for c in ("zone", "version") if c in engine.green_heart]
    colours: list[JsonValue] = list(ISO_COLOURS)
    return {
        "modes": [{"id": m, "label": MODE_LABELS[m]} for m in MODES if m in engine.modes],
        "unavailable": dict(engine.unavailable),
        "periods": list(engine.periods),
        "network": engine.road("drive", engine.periods[0]).label,
        "coarse": engine.road("drive", engine.periods[0]).net.coarse,
        "notes": list(engine.notes),
        "has_population": engine.has_population,
        "approximate_green_heart": engine.green_heart_approximate,
        "max_ranges": lim.max_ranges,
        "max_range_minutes": lim.max_range_minutes,
        "extent": list(engine.extent),
        "colours": colours,
        "centres": [
            {"name": c.name, "name_en": c.name_en, "lon": c.lon, "lat": c.lat}
            for c in DEFAULT_CENTRES
        ],
        "layers": {
            "boundaries": _geojson(load_boundaries("city"), ["name", "name_en"]),
            "green_heart": _geojson(engine.green_heart, gh_cols),
            "rail": rail,
            "network": _network_lines(engine),
        },
    }


def _script_json(value: JsonValue) -> str:
    """JSON safe inside a ``<script>`` element (no ``</script>``, no HTML comment openers)."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def build_page(engine: Engine) -> str:
    """The page as one self-contained HTML string."""
    from ..maps import leaflet_assets

    template = importlib.resources.files("cztgeo.service").joinpath("page.html").read_text("utf-8")
    js, css = leaflet_assets()
    parts = {
        "/*LEAFLET_CSS*/": css,
        "/*LEAFLET_JS*/": js.replace("</script", "<\\/script"),
        "/*CONFIG*/": _script_json(page_config(engine)),
    }
    # one pass: text inserted for one marker is never searched for another
    return re.sub("|".join(re.escape(k) for k in parts), lambda m: parts[m.group(0)], template)
