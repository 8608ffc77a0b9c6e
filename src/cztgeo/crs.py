"""China's coordinate systems and CRS handling.

pyproj knows WGS84 (EPSG:4326), CGCS2000 (EPSG:4490) and every projected CRS, but not the two
offset systems most Chinese web maps and much published data use:

* **GCJ-02** ("Mars coordinates", Amap/Tencent/Apple maps in China): WGS84 plus a
  deterministic, position-dependent offset of about 500-600 m around Changsha.
* **BD-09** (Baidu maps): GCJ-02 further rotated and shifted.

The forward formulas are public. Their inverses have no closed form; this module inverts them
by fixed-point iteration to well under a millimetre. Everything is vectorised over numpy arrays.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pyproj
import shapely

from .errors import CRSError
from .types import CRSLike, GeometryArray

if TYPE_CHECKING:
    import geopandas as gpd
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "AREA_CRS",
    "METRIC_CRS",
    "WGS84",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "normalize_crs",
    "to_wgs84",
    "transform_geometry",
    "utm_crs_for",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

WGS84 = "EPSG:4326"
#: Metric CRS for lengths, buffers and areas: UTM zone 49N covers all three cities.
METRIC_CRS = "EPSG:32649"
#: Equal-area CRS for areas (Albers, standard parallels 27 and 29 N, centred on the metro area):
#: exact areas, where UTM 49N overstates them by up to 0.2 % at the east edge of Liuyang.
AREA_CRS = "+proj=aea +lat_0=28 +lon_0=113 +lat_1=27 +lat_2=29 +datum=WGS84 +units=m +no_defs"

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 formula uses
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

GCJ02 = "gcj02"
BD09 = "bd09"
_ALIASES = {
    "gcj02": GCJ02,
    "gcj-02": GCJ02,
    "gcj": GCJ02,
    "mars": GCJ02,
    "amap": GCJ02,
    "bd09": BD09,
    "bd-09": BD09,
    "bd09ll": BD09,
    "baidu": BD09,
    "wgs84": WGS84,
    "wgs-84": WGS84,
    "cgcs2000": "EPSG:4490",
}


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"lon and lat shapes differ: {x.shape} vs {y.shape}")
    return x, y


def _in_china(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    # The rectangle every published GCJ-02 implementation uses; outside it no offset applies.
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _gcj_offset(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x = lon - 105.0
    y = lat - 35.0
    sq = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * np.pi * x) + 20.0 * np.sin(2.0 * np.pi * x)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sq + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sq + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = _in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS84 longitude/latitude (degrees) to GCJ-02. Points outside China are unchanged."""
    x, y = _arrays(lon, lat)
    dx, dy = _gcj_offset(x, y)
    return x + dx, y + dy


def _invert(
    forward: Any, tx: NDArray[np.float64], ty: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Solve forward(x, y) == (tx, ty) by fixed-point iteration (the Jacobian is ~identity)."""
    x, y = tx.copy(), ty.copy()
    for _ in range(30):
        fx, fy = forward(x, y)
        ex, ey = fx - tx, fy - ty
        x -= ex
        y -= ey
        if x.size == 0 or max(np.nanmax(np.abs(ex)), np.nanmax(np.abs(ey))) < 1e-12:
            break
    return x, y


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert GCJ-02 to WGS84 with an exact iterative inverse (round trip well under 1 mm)."""
    x, y = _arrays(lon, lat)
    return _invert(wgs84_to_gcj02, x, y)


def gcj02_to_bd09(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert GCJ-02 to Baidu's BD-09."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert BD-09 to GCJ-02 (exact iterative inverse of :func:`gcj02_to_bd09`)."""
    x, y = _arrays(lon, lat)
    return _invert(gcj02_to_bd09, x, y)


def wgs84_to_bd09(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS84 to BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert BD-09 to WGS84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS = {GCJ02: gcj02_to_wgs84, BD09: bd09_to_wgs84}
_FROM_WGS = {GCJ02: wgs84_to_gcj02, BD09: wgs84_to_bd09}


def normalize_crs(crs: CRSLike) -> str | pyproj.CRS:
    """Return ``"gcj02"``, ``"bd09"`` or a :class:`pyproj.CRS` for any accepted CRS spelling.

    Raises
    ------
    CRSError
        If the CRS is unknown to both cztgeo and pyproj.
    """
    if isinstance(crs, pyproj.CRS):
        return crs
    if isinstance(crs, str):
        key = crs.strip().lower()
        alias = _ALIASES.get(key)
        if alias in (GCJ02, BD09):
            return alias
        if alias is not None:
            return pyproj.CRS.from_user_input(alias)
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(
            f"unknown CRS {crs!r}: use an EPSG code such as 'EPSG:4326', 'EPSG:4490' or "
            f"'EPSG:32649', or one of 'gcj02', 'bd09'"
        ) from exc


def transform_geometry(
    geoms: GeometryArray,
    func: Callable[
        [NDArray[np.float64], NDArray[np.float64]], tuple[NDArray[np.float64], NDArray[np.float64]]
    ],
) -> NDArray[np.object_]:
    """Apply a vectorised ``(lon, lat) -> (lon, lat)`` function to shapely geometries."""

    def _xy(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        if len(coords) == 0:
            return coords
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, _xy)  # type: ignore[no-any-return]


def to_wgs84(gdf: gpd.GeoDataFrame, crs: CRSLike | None = None) -> gpd.GeoDataFrame:
    """Return ``gdf`` in WGS84 (EPSG:4326), whatever CRS it was in.

    Parameters
    ----------
    gdf
        Input features.
    crs
        The CRS the coordinates are really in, when ``gdf`` has none or when it carries a wrong
        one (data drawn on Amap is often labelled EPSG:4326 while being GCJ-02). Any pyproj
        CRS, or ``"gcj02"`` / ``"bd09"``. CGCS2000 (EPSG:4490) is accepted as geographic.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy in EPSG:4326.

    Raises
    ------
    CRSError
        If neither ``gdf.crs`` nor ``crs`` says what the coordinates are.
    """
    if crs is None:
        if gdf.crs is None:
            raise CRSError(
                "input has no CRS: declare one, e.g. crs='EPSG:4326', or crs='gcj02' for data "
                "drawn on Amap/Tencent maps, crs='bd09' for Baidu (CLI: --crs)"
            )
        source: str | pyproj.CRS = gdf.crs
    else:
        source = normalize_crs(crs)
    out = gdf.copy()
    if isinstance(source, str):
        out.geometry = transform_geometry(out.geometry.values, _TO_WGS[source])
        return out.set_crs(WGS84, allow_override=True)
    out = out.set_crs(source, allow_override=True)
    if not out.crs.equals(pyproj.CRS.from_user_input(WGS84)):
        out = out.to_crs(WGS84)
    return out


def from_wgs84(geoms: GeometryArray, crs: str) -> NDArray[np.object_]:
    """Shift WGS84 shapely geometries into ``"gcj02"`` or ``"bd09"`` (for display on such maps)."""
    target = normalize_crs(crs)
    if not isinstance(target, str):
        raise CRSError(f"from_wgs84 handles only 'gcj02' and 'bd09', not {crs!r}")
    return transform_geometry(geoms, _FROM_WGS[target])


@functools.lru_cache(maxsize=32)
def transformer(src: str, dst: str) -> pyproj.Transformer:
    """A cached lon/lat-ordered (always_xy) transformer between two pyproj CRSs."""
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def reproject_geometry(geoms: GeometryArray, src: str, dst: str) -> NDArray[np.object_]:
    """Shapely geometries from one pyproj CRS to another (vectorised)."""
    tr = transformer(src, dst)

    def _xy(c: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = tr.transform(c[:, 0], c[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, _xy)  # type: ignore[no-any-return]


def utm_crs_for(lon: float, lat: float) -> pyproj.CRS:
    """The WGS84 UTM zone CRS containing a point (EPSG:32649 for the CZT area)."""
    zone = int((lon + 180.0) // 6.0) + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)
