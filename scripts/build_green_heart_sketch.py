"""Build ``geodata/green_heart_sketch.geojson``: an APPROXIMATE outline of the 长株潭 green heart.

No vector boundary of the green heart (生态绿心) is published in any source reachable here (see
``../shared/geodata/README.md`` and ``reference/green_heart_facts.json``). This script draws a
sketch from the published extent descriptions:

* 2010-2030 plan: 北至长沙绕城线及浏阳河，西至长潭高速西线，东至浏阳柏加镇与镇头镇行政交界处，
  南至湘潭县梅林桥镇 (draft 2010-09);
* 2024-2035 plan: 北至长沙绕城线及浏阳河北岸，西至岳麓区坪塘街道—雨湖区响水乡，东至浏阳市镇头镇，
  南至湘潭县易俗河镇—株洲市群丰镇;

with places reported inside (暮云, 跳马, 昭山, 石燕湖, the 昭山 intercity stop) and the road-free
gap of the OSM major-road skeleton as guides. The hand-placed vertices below are scaled about
their centroid so the sketch's area equals the 2010-2030 figure (528.32 km²), clipped to the
three cities, and kept away from the three city centres. The zoning of either plan is not
available as geometry, so each version's row is one unzoned outline (zone ``未分区``) with the
plan's zone list and published areas as metadata.

It is a SKETCH for demonstrations and coarse statistics, not for legal checks: use the official
file (``cztgeo.load_green_heart(path)``) for those.

Usage: ``python scripts/build_green_heart_sketch.py``
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import shapely
from shapely import affinity

from cztgeo.boundaries import load_boundaries
from cztgeo.crs import AREA_CRS
from cztgeo.greenheart import PLAN_VERSIONS, SKETCH_SOURCE

OUT = Path(__file__).resolve().parents[1] / "geodata" / "green_heart_sketch.geojson"
TARGET_KM2 = 528.32

# (lon, lat) WGS84, clockwise from the north-west; each with the description it follows.
VERTICES = [
    (112.890, 28.052),  # 坪塘 (west end of the ring-road line)
    (112.930, 28.060),  # 长沙绕城线 south section, west of 大托
    (112.975, 28.045),  # south of 大托铺
    (113.020, 28.060),  # ring road, 暮云 north
    (113.065, 28.085),  # ring road towards 黎托
    (113.110, 28.095),  # 浏阳河 south bank
    (113.165, 28.080),  # 浏阳河, 柏加 north
    (113.215, 28.060),  # 柏加
    (113.250, 28.025),  # 柏加 / 镇头 township line
    (113.235, 27.985),  # 镇头 south-west
    (113.185, 27.955),  # east of 石燕湖
    (113.135, 27.935),  # north of 田心 (Zhuzhou's northern edge)
    (113.090, 27.915),  # 群丰
    (113.040, 27.900),  # 群丰 - 易俗河 line
    (112.990, 27.880),  # 易俗河 north
    (112.950, 27.900),  # north of 湘潭's centre
    (112.915, 27.930),  # 响水
    (112.885, 27.965),  # 响水 - 长潭西高速
    (112.870, 28.005),  # 长潭西高速
    (112.875, 28.035),  # 长潭西高速, south of 坪塘
]

# Centres kept outside the sketch with this clearance (metres).
CENTRE_CLEARANCE_M = 5000.0


def main() -> None:
    from cztgeo.circle import DEFAULT_CENTRES

    cities = load_boundaries("city").to_crs(AREA_CRS)
    region = shapely.union_all(cities.geometry.values)
    centres = gpd.GeoSeries(
        [shapely.Point(c.lon, c.lat) for c in DEFAULT_CENTRES], crs="EPSG:4326"
    ).to_crs(AREA_CRS)
    keep_out = shapely.union_all(centres.buffer(CENTRE_CLEARANCE_M).values)
    raw = gpd.GeoSeries([shapely.Polygon(VERTICES)], crs="EPSG:4326").to_crs(AREA_CRS).iloc[0]

    def shaped(scale: float) -> shapely.Geometry:
        g = affinity.scale(raw, scale, scale, origin="centroid")
        return g.intersection(region).difference(keep_out)

    lo, hi = 0.5, 2.0  # bisection on the linear scale factor
    for _ in range(60):
        mid = (lo + hi) / 2
        if shaped(mid).area / 1e6 < TARGET_KM2:
            lo = mid
        else:
            hi = mid
    geom = shapely.set_precision(shaped((lo + hi) / 2), 1.0)
    sketch = gpd.GeoSeries([geom], crs=AREA_CRS).to_crs("EPSG:4326").iloc[0]
    sketch = shapely.set_precision(sketch, 1e-6)
    area = gpd.GeoSeries([sketch], crs="EPSG:4326").to_crs(AREA_CRS).area.iloc[0] / 1e6
    features = []
    for version, meta in PLAN_VERSIONS.items():
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "version": version,
                    "zone": "未分区",
                    "zone_en": "unzoned (zones not available as geometry)",
                    "approximate": True,
                    "plan_area_km2": meta["area_km2"],
                    "source": SKETCH_SOURCE,
                },
                "geometry": shapely.geometry.mapping(sketch),
            }
        )
    doc = {"type": "FeatureCollection", "name": "green_heart_sketch", "features": features}
    OUT.write_text(json.dumps(doc, ensure_ascii=False) + "\n")
    digest = hashlib.sha256(OUT.read_bytes()).hexdigest()
    print(f"wrote {OUT}: sketch area {area:.2f} km² (scale {lo:.4f}), sha256 {digest}")


if __name__ == "__main__":
    main()
