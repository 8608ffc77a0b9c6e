from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from cztgeo import crs
from cztgeo.errors import CRSError

GEOD = pyproj.Geod(ellps="WGS84")
# Mainland China, well inside the GCJ-02 rectangle, and the CZT area in particular.
china_lon = st.floats(75.0, 134.0)
china_lat = st.floats(18.0, 53.0)
czt_lon = st.floats(111.8, 114.3)
czt_lat = st.floats(26.0, 28.7)


def _metres(lon0, lat0, lon1, lat1):
    return GEOD.inv(lon0, lat0, lon1, lat1)[2]


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_gcj_round_trip_under_1mm_anywhere_in_china(lon, lat):
    g = crs.wgs84_to_gcj02(lon, lat)
    back = crs.gcj02_to_wgs84(*g)
    assert _metres(lon, lat, float(back[0]), float(back[1])) < 1e-3


@settings(max_examples=300, deadline=None)
@given(czt_lon, czt_lat)
def test_gcj_inverse_is_exact_from_the_gcj_side(lon, lat):
    w = crs.gcj02_to_wgs84(lon, lat)
    again = crs.wgs84_to_gcj02(*w)
    assert _metres(lon, lat, float(again[0]), float(again[1])) < 1e-3


@settings(max_examples=200, deadline=None)
@given(czt_lon, czt_lat)
def test_bd09_round_trips(lon, lat):
    b = crs.wgs84_to_bd09(lon, lat)
    back = crs.bd09_to_wgs84(*b)
    assert _metres(lon, lat, float(back[0]), float(back[1])) < 1e-3
    g = crs.wgs84_to_gcj02(lon, lat)
    g2 = crs.bd09_to_gcj02(*crs.gcj02_to_bd09(*g))
    assert _metres(float(g[0]), float(g[1]), float(g2[0]), float(g2[1])) < 1e-3


@settings(max_examples=100, deadline=None)
@given(czt_lon, czt_lat)
def test_gcj_offset_in_czt_is_a_few_hundred_metres(lon, lat):
    g = crs.wgs84_to_gcj02(lon, lat)
    d = _metres(lon, lat, float(g[0]), float(g[1]))
    assert 300.0 < d < 800.0


def test_offset_direction_matches_cnmaps_observation():
    # shared/geodata/README: raw GCJ files sit ~0.0055° east and ~0.0031° south of OSM here.
    gx, gy = crs.wgs84_to_gcj02(112.98, 28.2)
    assert 0.004 < float(gx) - 112.98 < 0.007
    assert -0.0045 < float(gy) - 28.2 < -0.002


def test_outside_china_is_unchanged():
    lon = np.array([24.94, -0.12, 150.0])
    lat = np.array([60.17, 51.5, -33.9])
    gx, gy = crs.wgs84_to_gcj02(lon, lat)
    np.testing.assert_array_equal(gx, lon)
    np.testing.assert_array_equal(gy, lat)


def test_vectorised_matches_scalar():
    lon = np.linspace(112.0, 114.0, 50)
    lat = np.linspace(27.0, 28.6, 50)
    gx, gy = crs.wgs84_to_gcj02(lon, lat)
    for i in (0, 17, 49):
        sx, sy = crs.wgs84_to_gcj02(lon[i], lat[i])
        assert float(sx) == pytest.approx(gx[i], abs=0)
        assert float(sy) == pytest.approx(gy[i], abs=0)


def _square(lon, lat, d=0.01):
    return shapely.box(lon, lat, lon + d, lat + d)


def test_to_wgs84_from_gcj02_string():
    wgs = _square(112.95, 28.15)
    gcj = crs.transform_geometry(wgs, crs.wgs84_to_gcj02)
    gdf = gpd.GeoDataFrame({"id": [1]}, geometry=[gcj], crs=None)
    out = crs.to_wgs84(gdf, "gcj02")
    assert out.crs.to_epsg() == 4326
    assert shapely.hausdorff_distance(out.geometry.iloc[0], wgs) < 1e-8
    # declared EPSG:4326 but really GCJ-02 (drawn on Amap): crs= overrides
    out2 = crs.to_wgs84(gdf.set_crs(4326), "GCJ-02")
    assert shapely.hausdorff_distance(out2.geometry.iloc[0], wgs) < 1e-8


def test_to_wgs84_from_bd09_and_projected_and_cgcs2000():
    wgs = _square(113.1, 27.85)
    bd = crs.transform_geometry(wgs, crs.wgs84_to_bd09)
    out = crs.to_wgs84(gpd.GeoDataFrame(geometry=[bd]), "bd09")
    assert shapely.hausdorff_distance(out.geometry.iloc[0], wgs) < 1e-8
    utm = gpd.GeoDataFrame(geometry=[wgs], crs=4326).to_crs(32649)
    back = crs.to_wgs84(utm)
    assert shapely.hausdorff_distance(back.geometry.iloc[0], wgs) < 1e-7
    cg = gpd.GeoDataFrame(geometry=[wgs], crs=4490)
    assert shapely.hausdorff_distance(crs.to_wgs84(cg).geometry.iloc[0], wgs) < 1e-6


def test_no_crs_is_refused_with_a_fix():
    with pytest.raises(CRSError, match="declare one"):
        crs.to_wgs84(gpd.GeoDataFrame(geometry=[shapely.Point(113, 28)]))


def test_unknown_crs_name():
    with pytest.raises(CRSError, match="unknown CRS 'gcj03'"):
        crs.normalize_crs("gcj03")
    with pytest.raises(ValueError, match="unknown CRS"):  # also a ValueError
        crs.normalize_crs("EPSG:99999999")


def test_utm_zone_for_czt():
    assert crs.utm_crs_for(113.0, 28.0).to_epsg() == 32649
    assert crs.utm_crs_for(24.9, 60.2).to_epsg() == 32635
