from __future__ import annotations

import json
import re
import warnings

import geopandas as gpd
import pandas as pd
import pyproj
import pytest
import shapely

from cztgeo.boundaries import load_boundaries
from cztgeo.circle import DEFAULT_CENTRES
from cztgeo.crs import METRIC_CRS, from_wgs84
from cztgeo.errors import CRSError, GeometryError, InputError
from cztgeo.greenheart import PLAN_VERSIONS, GreenHeartWarning, load_green_heart
from cztgeo.settings import embedded_data_dir

GEOD = pyproj.Geod(ellps="WGS84")


VERSIONS = list(PLAN_VERSIONS)
_YEAR_TO_VERSION = {v[:4]: v for v in VERSIONS}
# published_role in green_heart_places.csv -> how the sketch must treat the place
_ROLE = re.compile(
    r"^(inside-likely|inside|outside|near|adjacent|north edge|(?:east|south) limit (\d{4}))"
)
LIMIT_KM = 2.5  # a plan's named limit lies this close to that version's boundary
NEAR_KM = 5.0  # 'near', 'adjacent' and 'north edge' places lie this close to the boundary


def _km2(geom):
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6


def _metric(geom):
    return gpd.GeoSeries([geom], crs=4326).to_crs(METRIC_CRS).iloc[0]


@pytest.fixture(scope="module")
def sketches():
    return {v: load_green_heart(plan=v).union_all() for v in VERSIONS}


@pytest.fixture(scope="module")
def places(data_dir):
    df = pd.read_csv(data_dir / "reference" / "green_heart_places.csv")
    located = df.dropna(subset=["lon", "lat"])
    assert len(located) >= 15  # the file's 16 places, 石燕湖 without a position
    return located


@pytest.mark.parametrize("version", VERSIONS)
def test_sketch_labels(version):
    gh = load_green_heart(plan=version)
    assert gh.crs.to_epsg() == 4326
    assert len(gh) == 1
    assert gh["zone"].tolist() == ["未分区"]  # zones exist only as published figures
    assert gh["approximate"].all()
    assert gh["source"].str.contains("APPROXIMATE").all()
    assert set(gh["version"]) == {version}


@pytest.mark.parametrize("version", VERSIONS)
def test_sketch_area_is_the_published_area(version):
    """The sketch is offset to the plan's published area: its geodesic area (pyproj, independent
    of the equal-area CRS the builder fits in) within 0.01 % (the builder's own tolerance)."""
    area = _km2(load_green_heart(plan=version).union_all())
    assert area == pytest.approx(PLAN_VERSIONS[version]["area_km2"], rel=1e-4)


@pytest.mark.parametrize("version", VERSIONS)
def test_sketch_area_column_is_the_geodesic_area(version):
    gh = load_green_heart(plan=version)
    assert gh["area_km2"].sum() == pytest.approx(_km2(gh.union_all()), rel=1e-6)


@pytest.mark.parametrize("version", VERSIONS)
def test_sketch_is_one_valid_polygon(version):
    geom = load_green_heart(plan=version).geometry.iloc[0]
    assert geom.is_valid
    assert geom.geom_type == "Polygon"


def test_sketch_file_records_each_version():
    sk = gpd.read_file(embedded_data_dir() / "green_heart_sketch.geojson")
    assert sorted(sk["version"]) == VERSIONS
    for _, row in sk.iterrows():
        meta = PLAN_VERSIONS[row["version"]]
        assert row["plan_area_km2"] == meta["area_km2"]
        assert row["area_km2"] == pytest.approx(meta["area_km2"], rel=0.005)
        assert row["approximate"]
        assert "APPROXIMATE" in row["source"]
        assert row["zone"] == "未分区"
        assert "unzoned" in row["zone_en"]
        for zone in meta["zones"]:
            assert zone in row["plan_zones"]
        for zone, km2 in meta["zone_area_km2"].items():
            assert f"{zone} {km2} km²" in row["plan_zones"]
        # one basis per vertex of the hand-drawn outline
        assert len(row["vertex_basis"].split(" | ")) >= 20


def test_versions_are_different_polygons(sketches):
    a, b = sketches["2010-2030"], sketches["2024-2035"]
    assert _km2(a.symmetric_difference(b)) > 10.0


@pytest.mark.parametrize("version", VERSIONS)
def test_sketch_inside_the_three_cities(sketches, version):
    outside = sketches[version].difference(load_boundaries("city").union_all())
    assert outside.is_empty or _km2(outside) < 0.01


@pytest.mark.parametrize("version", VERSIONS)
def test_sketch_at_least_3_km_clear_of_each_centre(sketches, version):
    gh = sketches[version]
    for c in DEFAULT_CENTRES:
        near = shapely.ops.nearest_points(gh, shapely.Point(c.lon, c.lat))[0]
        assert GEOD.inv(c.lon, c.lat, near.x, near.y)[2] > 3000, c.name


@pytest.mark.parametrize("version", VERSIONS)
def test_sketch_places_by_published_role(sketches, places, version):
    gh = sketches[version]
    gh_m = _metric(gh)
    checked = 0
    for row in places.itertuples():
        m = _ROLE.match(row.published_role)
        assert m, f"unknown published_role {row.published_role!r} of {row.place}"
        role, year = m.group(1), m.group(2)
        p = shapely.Point(row.lon, row.lat)
        edge_km = gh_m.exterior.distance(_metric(p)) / 1000
        if role in ("inside", "inside-likely"):
            assert gh.contains(p), f"{row.place} ({role}) is outside the {version} sketch"
        elif role == "outside":
            assert not gh.contains(p), f"{row.place} (outside) is inside the {version} sketch"
        elif year is not None:
            if _YEAR_TO_VERSION[year] != version:
                continue  # another version's limit
            assert edge_km < LIMIT_KM, f"{row.place}: {edge_km:.1f} km from the {version} edge"
        else:
            assert edge_km < NEAR_KM, f"{row.place} ({role}): {edge_km:.1f} km from the edge"
        checked += 1
    assert checked >= 13


def test_sketch_south_reaches_between_xiangtan_and_zhuzhou(sketches):
    counties = load_boundaries("county").set_index("adcode")
    for version, gh in sketches.items():
        # 2010: 南至湘潭县梅林桥镇; 2024: 南至湘潭县易俗河镇—株洲市群丰镇
        assert gh.bounds[1] < 27.80, version
        assert _km2(gh.intersection(counties.loc["430321"].geometry)) > 5.0, version  # 湘潭县
    gh = sketches["2024-2035"]
    assert _km2(gh.intersection(counties.loc["430211"].geometry)) > 5.0  # 天元区 (群丰)
    # the 湘江 corridor between the cities: a point south of the river, east of 湘潭's centre
    # and west of 株洲's, lies in both versions
    corridor = shapely.Point(113.0, 27.80)
    assert all(g.contains(corridor) for g in sketches.values())


def test_sketch_contains_stations_published_as_inside(data_dir, sketches):
    facts = json.loads((data_dir / "reference" / "green_heart_facts.json").read_text())
    pts = facts["reference_points_wgs84_from_osm_station_file"]
    for version, gh in sketches.items():
        # 暮云 片区 and the 昭山/易家湾 core; 白马垅 is listed near the green heart
        for name in ("暮云", "易家湾", "白马垅"):
            assert gh.contains(shapely.Point(pts[name])), (version, name)
        # the main stations of Changsha and Zhuzhou are outside
        for name in ("长沙南", "株洲西"):
            assert not gh.contains(shapely.Point(pts[name])), (version, name)


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


def test_official_file_without_crs_is_refused(tmp_path):
    path, _, _ = _zoned_file(tmp_path, crs=None, shift="gcj02")
    with pytest.raises(CRSError, match="has no CRS"):
        load_green_heart(path)


def test_official_file_in_gcj02_is_converted(tmp_path):
    path, core, _ = _zoned_file(tmp_path, crs=None, shift="gcj02")
    gh = load_green_heart(path, crs="gcj02")
    assert shapely.hausdorff_distance(gh.geometry.iloc[0], core) < 1e-8


def test_official_file_in_projected_crs(tmp_path):
    core = shapely.box(113.00, 27.95, 113.05, 28.00)
    gdf = gpd.GeoDataFrame({"分区": ["禁止开发区"]}, geometry=[core], crs=4326).to_crs(4547)
    path = tmp_path / "cgcs.geojson"
    gdf.to_file(path)
    gh = load_green_heart(path, plan="2010-2030")
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


def test_bad_version(tmp_path):
    with pytest.raises(InputError, match="unknown green-heart plan version '2030'"):
        load_green_heart(plan="2030")


def test_missing_zone_column(tmp_path):
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
