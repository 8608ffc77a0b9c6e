from __future__ import annotations

import warnings

import geopandas as gpd
import pyproj
import pytest
import shapely

from cztgeo.boundaries import load_boundaries
from cztgeo.circle import DEFAULT_CENTRES
from cztgeo.crs import from_wgs84
from cztgeo.errors import CRSError, GeometryError, InputError
from cztgeo.greenheart import PLAN_VERSIONS, GreenHeartWarning, load_green_heart

GEOD = pyproj.Geod(ellps="WGS84")


def _km2(geom):
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6


@pytest.mark.parametrize("version", ["2010-2030", "2024-2035"])
def test_sketch_area_and_labels(version):
    gh = load_green_heart(version=version)
    assert gh.crs.to_epsg() == 4326
    assert gh["approximate"].all()
    assert gh["source"].str.contains("APPROXIMATE").all()
    assert set(gh["version"]) == {version}
    area = _km2(gh.union_all())
    assert abs(area - 528.32) / 528.32 < 0.05
    assert (
        abs(area - PLAN_VERSIONS[version]["area_km2"]) / PLAN_VERSIONS[version]["area_km2"] < 0.05
    )
    assert gh["area_km2"].sum() == pytest.approx(area, rel=1e-3)


def test_sketch_inside_the_three_cities_and_off_the_centres():
    gh = load_green_heart().union_all()
    cities = load_boundaries("city").union_all()
    outside = gh.difference(cities)
    assert _km2(outside) < 0.01 if not outside.is_empty else True
    for c in DEFAULT_CENTRES:
        p = shapely.Point(c.lon, c.lat)
        assert not gh.contains(p)
        # at least 3 km clear of each centre
        assert GEOD.inv(c.lon, c.lat, *shapely.ops.nearest_points(gh, p)[0].coords[0])[2] > 3000


def test_sketch_contains_places_published_as_inside(data_dir):
    import json

    facts = json.loads((data_dir / "reference" / "green_heart_facts.json").read_text())
    pts = facts["reference_points_wgs84_from_osm_station_file"]
    gh = load_green_heart().union_all()
    # 暮云 and 九郎山/白马垅 lie in the reported-inside area (暮云 片区, 跳马/昭山 core)
    for name in ("暮云", "易家湾", "白马垅"):
        assert gh.contains(shapely.Point(pts[name])), name
    # centres' main stations are outside
    for name in ("长沙南", "株洲西"):
        assert not gh.contains(shapely.Point(pts[name])), name


def _zoned_file(tmp_path, *, crs="EPSG:4326", shift=None, bowtie=False, empty=False):
    core = shapely.box(113.00, 27.95, 113.05, 28.00)
    mix = shapely.box(113.05, 27.95, 113.10, 28.00)
    if bowtie:
        mix = shapely.Polygon([(113.05, 27.95), (113.10, 28.00), (113.10, 27.95), (113.05, 28.00)])
    geoms = [core, mix]
    if empty:
        geoms[1] = shapely.Polygon()
    if shift:
        geoms = list(from_wgs84(geoms, shift))
    gdf = gpd.GeoDataFrame({"ZONE": [" Core ", "融合发展区"]}, geometry=geoms, crs=crs)
    path = tmp_path / "official.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # writing a file without CRS on purpose
        gdf.to_file(path, layer="official")
    return path, core, mix


def test_official_file_zones_normalised(tmp_path):
    path, core, mix = _zoned_file(tmp_path)
    gh = load_green_heart(path)
    assert list(gh["zone"]) == ["核心保护区", "融合发展区"]
    assert not gh["approximate"].any()
    assert gh.loc[0, "area_km2"] == pytest.approx(_km2(core), rel=1e-6)


def test_official_file_in_gcj02_is_converted(tmp_path):
    path, core, _ = _zoned_file(tmp_path, crs=None, shift="gcj02")
    with pytest.raises(CRSError, match="has no CRS"):
        load_green_heart(path)
    gh = load_green_heart(path, crs="gcj02")
    assert shapely.hausdorff_distance(gh.geometry.iloc[0], core) < 1e-8


def test_official_file_in_projected_crs(tmp_path):
    core = shapely.box(113.00, 27.95, 113.05, 28.00)
    gdf = gpd.GeoDataFrame({"分区": ["禁止开发区"]}, geometry=[core], crs=4326).to_crs(4547)
    path = tmp_path / "cgcs.geojson"
    gdf.to_file(path)
    gh = load_green_heart(path, version="2010-2030")
    assert gh["zone"].tolist() == ["禁止开发区"]
    assert shapely.hausdorff_distance(gh.geometry.iloc[0], core) < 1e-6


def test_invalid_geometry_repaired_with_warning(tmp_path):
    path, _, _ = _zoned_file(tmp_path, bowtie=True)
    with pytest.warns(GreenHeartWarning, match="1 invalid geometries repaired.*Self-intersection"):
        gh = load_green_heart(path)
    assert gh.geometry.is_valid.all()


def test_empty_geometry_refused(tmp_path):
    path, _, _ = _zoned_file(tmp_path, empty=True)
    with pytest.raises(GeometryError, match="null or empty"):
        load_green_heart(path)


def test_unknown_zone_names_warned(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"zone": ["部分"]}, geometry=[shapely.box(113, 28, 113.1, 28.1)], crs=4326
    )
    path = tmp_path / "z.geojson"
    gdf.to_file(path)
    with pytest.warns(GreenHeartWarning, match="not zones of the 2024-2035 plan"):
        load_green_heart(path)


def test_bad_version_and_missing_zone_column(tmp_path):
    with pytest.raises(InputError, match="unknown green-heart plan version '2030'"):
        load_green_heart(version="2030")
    path, _, _ = _zoned_file(tmp_path)
    with pytest.raises(InputError, match="no zone column 'zz'"):
        load_green_heart(path, zone_column="zz")


def test_truncated_file(tmp_path):
    path, _, _ = _zoned_file(tmp_path)
    data = path.read_bytes()
    bad = tmp_path / "cut.gpkg"
    bad.write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError, match="cut.gpkg: cannot read it"):
        load_green_heart(bad)
