"""The 长株潭 ecological green heart (生态绿心): versions, zones, sketch and official files."""

from __future__ import annotations

import os
import warnings
from functools import lru_cache
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from .crs import AREA_CRS, WGS84
from .errors import GeometryError, GreenHeartWarning, InputError
from .io import check_geometries, read_vector
from .settings import embedded_data_dir
from .types import CRSLike

__all__ = [
    "PLAN_VERSIONS",
    "SKETCH_SOURCE",
    "GreenHeartWarning",
    "load_green_heart",
    "normalize_zone",
]

#: Published figures of the two plans (see ``reference/green_heart_facts.json`` in the data dir).
PLAN_VERSIONS: dict[str, dict[str, Any]] = {
    "2010-2030": {
        "name": "长株潭城市群生态绿心地区总体规划(2010-2030)",
        "area_km2": 528.32,
        "zones": ["禁止开发区", "限制开发区", "控制建设区"],
        "zone_area_km2": {},
        "note": "禁止开发区 + 限制开发区 = 89 % of the total; per-zone areas not published",
    },
    "2024-2035": {
        "name": "长株潭生态绿心高水平保护和高质量发展规划(2024—2035年)",
        "area_km2": 529.79,
        "zones": ["核心保护区", "融合发展区"],
        "zone_area_km2": {"核心保护区": 301.35, "融合发展区": 228.44},
        "note": "融合发展区 area derived as 529.79 - 301.35",
    },
}
DEFAULT_VERSION = "2024-2035"

SKETCH_SOURCE = (
    "APPROXIMATE sketch by cztgeo from the plans' published extent descriptions (no official "
    "polygon available); one unzoned outline per plan version, fitted to its published area; "
    "not for legal checks"
)

UNZONED = "未分区"

_ZONE_ALIASES = {
    "禁止开发区": "禁止开发区",
    "禁建区": "禁止开发区",
    "prohibited": "禁止开发区",
    "prohibited development": "禁止开发区",
    "限制开发区": "限制开发区",
    "限建区": "限制开发区",
    "restricted": "限制开发区",
    "restricted development": "限制开发区",
    "控制建设区": "控制建设区",
    "建设协调区": "控制建设区",  # the 2010 draft's name of the same zone
    "controlled": "控制建设区",
    "controlled construction": "控制建设区",
    "核心保护区": "核心保护区",
    "core": "核心保护区",
    "core protection": "核心保护区",
    "融合发展区": "融合发展区",
    "integration": "融合发展区",
    "integrated development": "融合发展区",
    "未分区": UNZONED,
    "unzoned": UNZONED,
}
_ZONE_COLUMNS = ("zone", "zones", "zone_name", "分区", "管控分区", "管制分区", "功能分区", "type")


def normalize_zone(value: object) -> str:
    """Map a zone label (Chinese or English, any case and spacing) to its canonical Chinese name.

    Unknown labels are returned stripped, unchanged otherwise.
    """
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return UNZONED
    text = " ".join(str(value).replace("_", " ").split())
    return _ZONE_ALIASES.get(text.lower(), _ZONE_ALIASES.get(text, text))


@lru_cache(maxsize=1)
def _sketch() -> gpd.GeoDataFrame:
    gdf = gpd.read_file(embedded_data_dir() / "green_heart_sketch.geojson")
    return gdf.set_crs(WGS84, allow_override=True)


def _with_area(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    gdf["area_km2"] = gdf.geometry.to_crs(AREA_CRS).area / 1e6
    return gdf


def load_green_heart(
    path: str | os.PathLike[str] | None = None,
    *,
    plan: str = DEFAULT_VERSION,
    crs: CRSLike | None = None,
    zone_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Load the green heart, one row per zone, in WGS84.

    Parameters
    ----------
    path
        An official boundary file in any vector format (GeoPackage, GeoJSON, Shapefile,
        GeoParquet, CSV with WKT) and any CRS. None loads the embedded **approximate sketch**.
    plan
        Plan version: ``"2024-2035"`` (default) or ``"2010-2030"``. For the sketch it selects the
        metadata row; for a file it is recorded in the ``version`` column.
    crs
        The file's CRS when it has none or a wrong one (``"gcj02"``, ``"bd09"``, EPSG codes).
    zone_column
        Column holding the zone names; guessed among common names when omitted. A file without
        zones becomes one ``未分区`` (unzoned) row.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, columns ``version``, ``zone`` (canonical Chinese name), ``approximate``
        (True for the sketch), ``source``, ``area_km2``, ``geometry``.

    Warns
    -----
    GreenHeartWarning
        When invalid geometries were repaired (each listed) or zone names are not known.
    """
    if plan not in PLAN_VERSIONS:
        raise InputError(
            f"unknown green-heart plan version {plan!r}: use one of {list(PLAN_VERSIONS)}"
        )
    if path is None:
        sk = _sketch()
        out = sk[sk["version"] == plan][["version", "zone", "approximate", "source", "geometry"]]
        return _with_area(out.copy().reset_index(drop=True))

    gdf = read_vector(path, crs=crs)
    name = os.path.basename(os.fspath(path))
    gdf, notes = check_geometries(gdf, what=name)
    if notes:
        warnings.warn(
            f"{name}: {len(notes)} invalid geometries repaired: " + "; ".join(notes),
            GreenHeartWarning,
            stacklevel=2,
        )
    polys = shapely.get_type_id(gdf.geometry.values)
    if not ((polys == 3) | (polys == 6) | (polys == 7)).all():
        raise GeometryError(f"{name}: the green heart must be polygons; found other geometry types")
    if zone_column is None:
        lower = {str(c).lower(): c for c in gdf.columns}
        zone_column = next((lower[c] for c in _ZONE_COLUMNS if c in lower), None)
    elif zone_column not in gdf.columns:
        raise InputError(f"{name}: no zone column {zone_column!r}; columns are {list(gdf.columns)}")
    zones = (
        gdf[zone_column].map(normalize_zone)
        if zone_column is not None
        else pd.Series(UNZONED, index=gdf.index)
    )
    known = set(PLAN_VERSIONS[plan]["zones"]) | {UNZONED}
    unknown = sorted(set(zones) - known)
    if unknown:
        warnings.warn(
            f"{name}: zone names {unknown} are not zones of the {plan} plan "
            f"({PLAN_VERSIONS[plan]['zones']}); kept as given",
            GreenHeartWarning,
            stacklevel=2,
        )
    frame = gpd.GeoDataFrame({"zone": zones.to_numpy()}, geometry=gdf.geometry.values, crs=WGS84)
    out = frame.dissolve(by="zone", as_index=False)
    out.geometry = shapely.make_valid(out.geometry.values)
    out.insert(0, "version", plan)
    out["approximate"] = False
    out["source"] = f"official file {name}"
    out = out[["version", "zone", "approximate", "source", "geometry"]]
    return _with_area(out.reset_index(drop=True))
