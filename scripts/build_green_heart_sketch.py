"""Build ``geodata/green_heart_sketch.geojson``: an APPROXIMATE outline of the 长株潭 green heart.

No vector boundary of the green heart (生态绿心) is published in any source reachable here (see
``../shared/geodata/README.md`` and ``reference/green_heart_facts.json``). This script draws one
sketch per plan version from the published extent descriptions:

* 2010-2030 plan: 北至长沙绕城线及浏阳河，西至长潭高速西线，东至浏阳柏加镇与镇头镇行政交界处，
  南至湘潭县梅林桥镇 (draft 2010-09);
* 2024-2035 plan: 北至长沙绕城线及浏阳河北岸，西至岳麓区坪塘街道—雨湖区响水乡，东至浏阳市镇头镇，
  南至湘潭县易俗河镇—株洲市群丰镇;

with the places of ``reference/green_heart_places.csv`` (暮云, 跳马, 昭山, the 昭山 intercity stop
inside; 洞井 outside; 柏加, 梅林桥, 易俗河 as limits), the county boundaries (the southern lobe
lies in 岳塘区, 湘潭县 and 天元区, on both banks of the 湘江 between Xiangtan and Zhuzhou) and
the road-free gap of the OSM major-road skeleton as guides. Each vertex below carries the
description it follows. Where the two texts name the same limit the two versions share the
vertex; they differ where the texts differ (north bank of the 浏阳河, the east limit, the south
limit). The road skeleton and the county boundaries were looked at on a plot, not used in code.

Each version's hand-drawn outline is then offset by a uniform distance so that its area,
measured in ``cztgeo.crs.AREA_CRS``, equals the plan's published figure (528.32 and
529.79 km²), and clipped to the three cities. The texts say where the limits are, not how the
area is spread, so the fit is spread evenly: the offset (mitred) was -433 m for 2010-2030 and
-683 m for 2024-2035 at the last build and is recorded as ``offset_m`` in the file. The build
fails if a version misses its area by more than 0.1 %, is not one valid polygon, or comes within
``CENTRE_CLEARANCE_M`` of a city centre.

Only 柏加, 梅林桥, 易俗河 and the places inside have positions in the data; the positions of
坪塘, 响水, 镇头, 群丰 and of the 长潭西高速 are estimated from memory of the map and the county
boundaries (the road skeleton has no road names), and are the weakest part of the sketch.

The zoning of either plan is not available as geometry, so each version is one unzoned outline
(zone ``未分区``) with the plan's zone list and published zone areas as metadata.

It is a SKETCH for demonstrations and coarse statistics, not for legal checks: use the official
file (``cztgeo.load_green_heart(path)``) for those.

Usage: ``python scripts/build_green_heart_sketch.py`` (rewrites the geojson and its sha256 in
``geodata/README.md``).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import geopandas as gpd
import shapely

from cztgeo.boundaries import load_boundaries
from cztgeo.circle import DEFAULT_CENTRES
from cztgeo.crs import AREA_CRS, WGS84
from cztgeo.greenheart import PLAN_VERSIONS, SKETCH_SOURCE, UNZONED

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "geodata" / "green_heart_sketch.geojson"
README = ROOT / "geodata" / "README.md"

Vertex = tuple[float, float, str]

# (lon, lat) WGS84, clockwise from the north-west, each with the description it follows.
# The west edge and the ring-road part of the north edge are shared: the 2010 text names the
# 长潭西高速, the 2024 text the townships 坪塘 and 响水 at its ends; taken here as the same line.
_WEST_AND_RING_ROAD: list[Vertex] = [
    (112.897, 28.050, "坪塘: 长潭高速西线 (2010) / 坪塘街道 (2024) meets the 长沙绕城线"),
    (112.930, 28.062, "长沙绕城线 south section, west of 大托"),
    (112.958, 28.056, "长沙绕城线 at 大托 (north edge: 大托 on the ring road)"),
    (112.985, 28.048, "长沙绕城线 south of 大托铺; 暮云 and 芙蓉南 stay inside (暮云片区)"),
    (113.020, 28.062, "长沙绕城线, 暮云 north; 洞井 (urban Changsha) stays outside"),
    (113.065, 28.085, "长沙绕城线 towards 黎托, where it meets the 浏阳河"),
]
_NORTH_2010: list[Vertex] = [
    (113.110, 28.095, "浏阳河 (2010: north to the river)"),
    (113.165, 28.080, "浏阳河, north of 跳马 / 柏加"),
]
_NORTH_2024: list[Vertex] = [
    (113.110, 28.099, "浏阳河北岸 (2024: the north bank, river included)"),
    (113.165, 28.084, "浏阳河北岸, north of 跳马 / 柏加"),
]
_EAST_2010: list[Vertex] = [
    (113.215, 28.064, "柏加 (2010 east limit: the 柏加 seat lies near the boundary)"),
    (113.240, 28.040, "东至柏加镇与镇头镇行政交界处"),
    (113.222, 28.010, "柏加/镇头 line, south end"),
    (113.170, 27.972, "east of 石燕湖 (ecological core, 跳马镇 石门村)"),
]
_EAST_2024: list[Vertex] = [
    (
        113.195,
        28.068,
        "柏加, pulled in from the 2010 line: the 2024 text names 镇头, not 柏加 (assumption)",
    ),
    (113.225, 28.032, "镇头镇 north-west (东至浏阳市镇头镇; position estimated)"),
    (113.232, 27.995, "镇头镇 west, the 2024 east limit"),
    (113.172, 27.966, "east of 石燕湖 (ecological core, 跳马镇 石门村)"),
]
# Between the cities: west of Zhuzhou's northern edge (田心) and of 石峰, down to the 湘江.
_ZHUZHOU_SIDE: list[Vertex] = [
    (113.130, 27.940, "north of 田心 (Zhuzhou's northern edge), >10 km from 株洲站"),
    (113.088, 27.915, "west of 田心; 白马垅 inside, 九郎山 near"),
    (113.068, 27.882, "石峰/岳塘 line, west of Zhuzhou's 清水塘 industrial area"),
    (113.055, 27.855, "湘江 north bank west of 马家河, >7 km from 株洲站"),
]
# South limit: 2010 a lobe to 梅林桥镇; 2024 the line 易俗河镇—群丰镇 (湘潭县 and 天元区).
_SOUTH_2010: list[Vertex] = [
    (113.045, 27.825, "湘江 south bank (the river is the 岳塘/湘潭县 line), 湘潭县 east edge"),
    (113.010, 27.795, "湘潭县 between the 湘江 and 梅林桥"),
    (112.965, 27.776, "梅林桥镇 east"),
    (112.937, 27.770, "南至湘潭县梅林桥镇 (2010 south limit: 梅林桥 seat near the boundary)"),
    (112.947, 27.792, "梅林桥 north, >4 km south of Xiangtan's centre"),
    (112.968, 27.805, "梅林桥 - 湘江, >3 km south-east of Xiangtan's centre"),
]
_SOUTH_2024: list[Vertex] = [
    (
        113.060,
        27.832,
        "群丰镇 (天元区 north-west; position estimated), west of 天元's built-up area",
    ),
    (113.050, 27.795, "群丰镇 south: 南至株洲市群丰镇"),
    (112.995, 27.772, "易俗河镇—群丰镇 line (湘潭县/天元区)"),
    (112.930, 27.759, "南至湘潭县易俗河镇 (2024 south limit, east of the 易俗河 seat)"),
    (112.946, 27.790, "易俗河镇 north-east, >4 km south of Xiangtan's centre"),
    (112.968, 27.805, "易俗河镇 - 湘江, >3 km south-east of Xiangtan's centre"),
]
# Back north between Xiangtan's built-up east side and the 湘江, then the west edge.
_XIANGTAN_SIDE: list[Vertex] = [
    (
        112.985,
        27.832,
        "north of the 湘江, east of Xiangtan's 岳塘 built-up core (4 km from the centre)",
    ),
    (112.988, 27.868, "岳塘区 east of 湘潭 centre (荷塘/昭山 side)"),
    (112.962, 27.900, "north of Xiangtan's centre, east of 九华"),
    (112.938, 27.938, "九华 north-east; 黄家湾 (白泉-黄家湾 adjacent group) near the edge"),
    (112.912, 27.975, "响水 (2024 west limit: 雨湖区响水乡; position estimated)"),
    (112.895, 28.015, "长潭高速西线 between 响水 and 坪塘"),
]
VERTICES: dict[str, list[Vertex]] = {
    "2010-2030": _WEST_AND_RING_ROAD
    + _NORTH_2010
    + _EAST_2010
    + _ZHUZHOU_SIDE
    + _SOUTH_2010
    + _XIANGTAN_SIDE,
    "2024-2035": _WEST_AND_RING_ROAD
    + _NORTH_2024
    + _EAST_2024
    + _ZHUZHOU_SIDE
    + _SOUTH_2024
    + _XIANGTAN_SIDE,
}

#: Each version must stay this far from every city centre (metres).
CENTRE_CLEARANCE_M = 3000.0
AREA_TOLERANCE = 0.001


def _to_area(geom: shapely.Geometry) -> shapely.Geometry:
    return gpd.GeoSeries([geom], crs=WGS84).to_crs(AREA_CRS).iloc[0]


def _to_wgs84(geom: shapely.Geometry) -> shapely.Geometry:
    return gpd.GeoSeries([geom], crs=AREA_CRS).to_crs(WGS84).iloc[0]


def build_version(
    vertices: list[Vertex], target_km2: float, region: shapely.Geometry
) -> tuple[shapely.Geometry, float]:
    """The outline offset (mitred) and clipped so its area is ``target_km2``; and the offset."""
    raw = _to_area(shapely.Polygon([(lon, lat) for lon, lat, _ in vertices]))
    if not raw.is_valid:
        raise ValueError(f"hand-drawn outline is invalid: {shapely.is_valid_reason(raw)}")

    def shaped(offset_m: float) -> shapely.Geometry:
        return raw.buffer(offset_m, join_style="mitre", mitre_limit=5.0).intersection(region)

    lo, hi = -3000.0, 3000.0  # bisection on the offset in metres
    for _ in range(60):
        mid = (lo + hi) / 2
        if shaped(mid).area / 1e6 < target_km2:
            lo = mid
        else:
            hi = mid
    offset = (lo + hi) / 2
    geom = _to_wgs84(shapely.set_precision(shaped(offset), 1.0))
    return shapely.set_precision(geom, 1e-6), offset


def main() -> None:
    region = _to_area(shapely.union_all(load_boundaries("city").geometry.values))
    centres = [(c.name, _to_area(shapely.Point(c.lon, c.lat))) for c in DEFAULT_CENTRES]
    features = []
    summary = []
    for version, meta in PLAN_VERSIONS.items():
        geom, offset = build_version(VERTICES[version], meta["area_km2"], region)
        projected = _to_area(geom)
        area = projected.area / 1e6
        problems = []
        if abs(area - meta["area_km2"]) > AREA_TOLERANCE * meta["area_km2"]:
            problems.append(f"area {area:.2f} km² is not {meta['area_km2']} km²")
        if not geom.is_valid or geom.geom_type != "Polygon":
            problems.append(f"geometry is {geom.geom_type}, valid={geom.is_valid}")
        for name, point in centres:
            if projected.distance(point) < CENTRE_CLEARANCE_M:
                problems.append(f"within {CENTRE_CLEARANCE_M:.0f} m of the {name} centre")
        if problems:
            raise SystemExit(f"{version}: " + "; ".join(problems))
        zones = meta["zone_area_km2"] or dict.fromkeys(meta["zones"])
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "version": version,
                    "zone": UNZONED,
                    "zone_en": "unzoned (zones not available as geometry)",
                    "plan_zones": "; ".join(
                        f"{z} {a} km²" if a is not None else f"{z} (area not published)"
                        for z, a in zones.items()
                    ),
                    "plan_zone_note": meta["note"],
                    "approximate": True,
                    "plan_area_km2": meta["area_km2"],
                    "area_km2": round(area, 2),
                    "offset_m": round(offset, 1),
                    "vertex_basis": " | ".join(
                        f"{lon:.3f},{lat:.3f} {why}" for lon, lat, why in VERTICES[version]
                    ),
                    "source": SKETCH_SOURCE,
                },
                "geometry": shapely.geometry.mapping(geom),
            }
        )
        summary.append(f"{version} {area:.2f} km² (offset {offset:+.0f} m)")
    doc = {"type": "FeatureCollection", "name": "green_heart_sketch", "features": features}
    OUT.write_text(json.dumps(doc, ensure_ascii=False) + "\n")
    digest = hashlib.sha256(OUT.read_bytes()).hexdigest()
    text = README.read_text()
    row = re.compile(r"^(\| `green_heart_sketch\.geojson` \|.*\| )`[0-9a-f]{64}`( \|)$", re.M)
    new, n = row.subn(rf"\g<1>`{digest}`\g<2>", text)
    if n != 1:
        raise SystemExit(f"{README}: no single green_heart_sketch.geojson row to update")
    README.write_text(new)
    print(f"wrote {OUT}: {'; '.join(summary)}; sha256 {digest}")


if __name__ == "__main__":
    main()
