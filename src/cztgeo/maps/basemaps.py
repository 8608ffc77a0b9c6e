"""Basemaps: web tile presets (xyzservices providers), local MBTiles, and an offline reference
map of the whole metro area drawn from the data embedded in cztgeo.

* ``"reference"`` needs no internet and covers the whole metro area: the three cities as land,
  the OSM major-road skeleton, the railway tracks and the city names, all from ``geodata/``.
* ``"osm"``, ``"tianditu"`` (needs a token) and ``"amap"`` are web tiles; Amap's are drawn in
  GCJ-02, so the overlays are shifted into GCJ-02 to line up with them.
* A ``.mbtiles`` path embeds its raster tiles in the page (the shared data folder holds one of
  central Changsha).
"""

from __future__ import annotations

import base64
import json
import math
import os
import sqlite3
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TypeAlias

import geopandas as gpd
import shapely
import xyzservices
import xyzservices.providers

from ..errors import InputError, LimitError
from .layers import Layer

__all__ = [
    "BASEMAPS",
    "REFERENCE_ATTRIBUTION",
    "Basemap",
    "BasemapLike",
    "MBTiles",
    "check_basemap",
    "read_mbtiles",
    "reference_layers",
    "resolve_basemap",
]

#: Web basemap presets as xyzservices providers; ``crs`` says how the tiles are drawn.
BASEMAPS: dict[str, xyzservices.TileProvider] = {
    "osm": xyzservices.TileProvider(
        dict(xyzservices.providers.OpenStreetMap.Mapnik),
        name="osm",
        crs="wgs84",
        attribution="© OpenStreetMap contributors",
    ),
    "tianditu": xyzservices.TileProvider(
        name="tianditu",
        url="https://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk={tk}",
        labels="https://t{s}.tianditu.gov.cn/DataServer?T=cva_w&x={x}&y={y}&l={z}&tk={tk}",
        attribution="© 天地图 Tianditu (国家地理信息公共服务平台)",
        crs="wgs84",  # CGCS2000, the same as WGS84 at map scale
        subdomains="01234567",
        tk="<insert your token>",
        max_zoom=18,
    ),
    "amap": xyzservices.TileProvider(
        name="amap",
        url="https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        attribution="© 高德地图 AutoNavi (GCJ-02; overlays shifted to match)",
        crs="gcj02",
        subdomains="1234",
        max_zoom=18,
    ),
}

REFERENCE_ATTRIBUTION = "reference map from cztgeo's embedded data"

#: MBTiles limits: tile formats a browser shows, zoom range, and what is embedded in a page.
MBTILES_FORMATS = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "webp": "webp"}
MBTILES_MAX_TILES = 20_000
MBTILES_MAX_BYTES = 200_000_000

#: What ``basemap=`` accepts: a preset name, ``"reference"``, ``"none"``, an MBTiles path or
#: an xyzservices provider.
BasemapLike: TypeAlias = str | os.PathLike[str] | xyzservices.TileProvider | None


@dataclass(frozen=True)
class MBTiles:
    """The tiles (``"z/x/y"`` -> data URI, XYZ rows) and validated metadata of an MBTiles file."""

    tiles: dict[str, str]
    minzoom: int
    maxzoom: int
    bounds: tuple[float, float, float, float]  # W, S, E, N (degrees)
    attribution: str
    name: str

    def __getitem__(self, key: str) -> object:  # the dict interface of earlier releases
        return getattr(self, key)


@dataclass(frozen=True)
class Basemap:
    """A resolved basemap: what the map draws beneath the overlays and says it uses."""

    name: str
    label: str
    attribution: str
    provider: xyzservices.TileProvider | None = None
    labels_url: str | None = None
    mbtiles: MBTiles | None = None
    layers: tuple[Layer, ...] = field(default_factory=tuple)
    gcj02: bool = False


def _meta_zoom(meta: dict[str, object], key: str, default: int, name: str) -> int:
    raw = meta.get(key, default)
    try:
        v = float(str(raw))
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: metadata {key} {str(raw)[:40]!r} is not a number") from exc
    if not math.isfinite(v) or v != int(v) or not 0 <= v <= 24:
        raise InputError(f"{name}: metadata {key} {str(raw)[:40]!r} is not a zoom level 0-24")
    return int(v)


def _read_rows(path: Path) -> tuple[dict[str, object], list[tuple[object, ...]]]:
    name = path.name
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            meta = {str(k): v for k, v in con.execute("select name, value from metadata")}
            n_tiles, n_bytes = con.execute(
                "select count(*), coalesce(sum(length(tile_data)), 0) from tiles"
            ).fetchone()
            if n_tiles > MBTILES_MAX_TILES or n_bytes > MBTILES_MAX_BYTES:
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
        raise InputError(f"{name}: not a readable MBTiles file ({exc})") from exc
    return meta, rows


def _meta_bounds(meta: dict[str, object], name: str) -> tuple[float, float, float, float] | None:
    if "bounds" not in meta:
        return None
    try:
        bounds = [float(v) for v in str(meta["bounds"]).split(",")]
    except ValueError:
        bounds = []
    w, s, e, n = bounds if len(bounds) == 4 else (math.nan,) * 4
    if not (
        all(math.isfinite(v) for v in (w, s, e, n))
        and -180 <= w < e <= 180
        and -85.06 <= s < n <= 85.06
    ):
        raise InputError(
            f"{name}: metadata bounds {str(meta['bounds'])[:60]!r} are not W,S,E,N in "
            "degrees (W<E, S<N)"
        )
    return w, s, e, n


def _tile_lat(t: float) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * t))))


def read_mbtiles(path: str | os.PathLike[str]) -> MBTiles:
    """Tiles and validated metadata of a raster MBTiles file (format, zooms, bounds checked)."""
    path = Path(path)
    name = path.name
    meta, rows = _read_rows(path)
    raw_fmt = str(meta.get("format", "png")).strip().lower()
    if raw_fmt not in MBTILES_FORMATS:
        raise InputError(
            f"{name}: tile format {str(meta.get('format'))[:40]!r} is not one of "
            f"{sorted(MBTILES_FORMATS)}; only raster MBTiles can be a basemap"
        )
    fmt = MBTILES_FORMATS[raw_fmt]
    if not rows:
        raise InputError(f"{name}: the MBTiles file has no tiles")
    tiles, zooms = {}, []
    ext = [math.inf, -math.inf, math.inf, -math.inf]
    for z, x, y_tms, data in rows:
        if not (isinstance(z, int) and isinstance(x, int) and isinstance(y_tms, int)) or not (
            0 <= z <= 24
        ):
            raise InputError(f"{name}: a tile has an invalid address {(z, x, y_tms)!r}")
        if not (0 <= x < (1 << z) and 0 <= y_tms < (1 << z)):
            raise InputError(f"{name}: tile {(z, x, y_tms)!r} lies outside its zoom level")
        if not isinstance(data, bytes):
            raise InputError(f"{name}: tile {(z, x, y_tms)!r} holds no image data")
        y = (1 << z) - 1 - y_tms  # MBTiles rows are TMS (south-up)
        tiles[f"{z}/{x}/{y}"] = f"data:image/{fmt};base64," + base64.b64encode(data).decode()
        zooms.append(z)
        scale = 1.0 / (1 << z)
        ext = [min(ext[0], x * scale), max(ext[1], (x + 1) * scale),
               min(ext[2], y * scale), max(ext[3], (y + 1) * scale)]  # fmt: skip
    minzoom = _meta_zoom(meta, "minzoom", min(zooms), name)
    maxzoom = _meta_zoom(meta, "maxzoom", max(zooms), name)
    if minzoom > maxzoom:
        raise InputError(f"{name}: metadata minzoom {minzoom} is above maxzoom {maxzoom}")
    bounds = _meta_bounds(meta, name) or (  # no bounds: the tiles' extent, never the world
        ext[0] * 360.0 - 180.0, _tile_lat(ext[3]), ext[1] * 360.0 - 180.0, _tile_lat(ext[2]),
    )  # fmt: skip
    return MBTiles(
        tiles=tiles,
        minzoom=minzoom,
        maxzoom=maxzoom,
        bounds=bounds,
        attribution=str(meta.get("attribution", "© OpenStreetMap contributors"))[:500],
        name=str(meta.get("name", path.stem))[:200],
    )


# ---------------------------------------------------------------------- reference basemap


@lru_cache(maxsize=1)
def _reference() -> tuple[Layer, ...]:
    from ..boundaries import load_boundaries
    from ..settings import embedded_data_dir

    cities = load_boundaries("city")
    land = cities[["name", "name_en", "geometry"]].copy()
    roads_doc = json.loads((embedded_data_dir() / "czt_road_skeleton.geojson").read_text())
    segs = shapely.from_geojson([json.dumps(f["geometry"]) for f in roads_doc["features"]])
    roads = gpd.GeoDataFrame(
        {"what": ["major roads (OSM skeleton)"]},
        geometry=[shapely.line_merge(shapely.multilinestrings(segs))],
        crs="EPSG:4326",
    )
    rail = gpd.read_file(embedded_data_dir() / "czt_railways.geojson")
    rail = gpd.GeoDataFrame(
        {"what": ["railways"]}, geometry=[shapely.union_all(rail.geometry.values)], crs=rail.crs
    )
    names = cities[["name", "name_en"]].copy()
    names["text"] = names["name"]
    names = gpd.GeoDataFrame(names, geometry=cities.geometry.representative_point(), crs=cities.crs)
    common = {"pane": "czt-base", "tooltip": (), "legend": {}}
    return (
        Layer(land, "land", colour="#f5f3ee", line_colour="#c9c4b8", weight=0.8, simplify_m=40.0,
              fill_opacity=1.0, **common),  # type: ignore[arg-type]
        Layer(roads, "roads", kind="line", colour="#d6d2c8", weight=1.0, **common),  # type: ignore[arg-type]
        Layer(rail, "railways", kind="line", colour="#a8a8a8", weight=1.0, dash="5 3", **common),  # type: ignore[arg-type]
        Layer(names, "names", kind="point", marker="text", label="text", colour="#9a958a", **common),  # type: ignore[arg-type]
    )  # fmt: skip


def reference_layers() -> list[Layer]:
    """The offline reference basemap of the whole metro area, as layers drawn beneath the
    overlays: land of the three cities, the OSM road skeleton, railway tracks, city names."""
    return list(_reference())


# ---------------------------------------------------------------------- choosing


def _is_mbtiles(basemap: BasemapLike) -> bool:
    return isinstance(basemap, (str, os.PathLike)) and str(basemap).lower().endswith(".mbtiles")


def _web(
    provider: xyzservices.TileProvider, *, offline: bool, tianditu_token: str | None
) -> Basemap:
    name = str(provider.get("name", "web tiles"))
    if offline:
        raise InputError(
            f"basemap {name!r} needs the internet but the map is offline: use basemap "
            "'reference' (drawn from embedded data), a local .mbtiles file or 'none'"
        )
    url = str(provider["url"])
    labels = provider.get("labels")
    if "{tk}" in url:
        if not tianditu_token:
            raise InputError(
                "the tianditu basemap needs a token: pass tianditu_token (--tianditu-token)"
            )
        url = url.replace("{tk}", tianditu_token)
        labels = str(labels).replace("{tk}", tianditu_token) if labels else None
    built = xyzservices.TileProvider(dict(provider), url=url)
    gcj = provider.get("crs") == "gcj02"
    label = f"{name} web tiles" + (" (GCJ-02: overlays shifted to match)" if gcj else "")
    return Basemap(name, label, str(provider.get("attribution", "")), provider=built,
                   labels_url=str(labels) if labels else None, gcj02=gcj)  # fmt: skip


def resolve_basemap(
    basemap: BasemapLike,
    *,
    offline: bool = False,
    tianditu_token: str | None = None,
) -> Basemap:
    """What ``basemap`` means (raises InputError, naming the fix, when it is unusable)."""
    if basemap is None or basemap == "none":
        return Basemap("none", "none", "")
    if isinstance(basemap, xyzservices.TileProvider):
        return _web(basemap, offline=offline, tianditu_token=tianditu_token)
    if _is_mbtiles(basemap):
        path = Path(basemap)
        if not path.exists():
            raise InputError(f"basemap file not found: {str(basemap)!r}")
        mb = read_mbtiles(path)
        return Basemap("mbtiles", f"{mb.name} (local MBTiles, zoom {mb.minzoom}-{mb.maxzoom})",
                       mb.attribution, mbtiles=mb)  # fmt: skip
    if basemap == "reference":
        return Basemap(
            "reference",
            "cztgeo offline reference map (embedded boundaries, road skeleton, railways)",
            REFERENCE_ATTRIBUTION,
            layers=_reference(),
        )
    if isinstance(basemap, str) and basemap in BASEMAPS:
        return _web(BASEMAPS[basemap], offline=offline, tianditu_token=tianditu_token)
    raise InputError(
        f"unknown basemap {str(basemap)!r}: use reference, none, osm, tianditu, amap or a "
        ".mbtiles file"
    )


def check_basemap(
    basemap: BasemapLike,
    *,
    offline: bool = False,
    tianditu_token: str | None = None,
) -> None:
    """Refuse an unusable basemap before any work is done (raises InputError)."""
    if _is_mbtiles(basemap):
        if not Path(str(basemap)).exists():
            raise InputError(f"basemap file not found: {str(basemap)!r}")
        return
    if basemap == "reference":
        return
    resolve_basemap(basemap, offline=offline, tianditu_token=tianditu_token)
