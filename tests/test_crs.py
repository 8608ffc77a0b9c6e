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
def test_bd09_round_trips_from_wgs84(lon, lat):
    b = crs.wgs84_to_bd09(lon, lat)
    back = crs.bd09_to_wgs84(*b)
    assert _metres(lon, lat, float(back[0]), float(back[1])) < 1e-3


@settings(max_examples=200, deadline=None)
@given(czt_lon, czt_lat)
def test_bd09_round_trips_from_gcj02(lon, lat):
    g = crs.wgs84_to_gcj02(lon, lat)
    g2 = crs.bd09_to_gcj02(*crs.gcj02_to_bd09(*g))
    assert _metres(float(g[0]), float(g[1]), float(g2[0]), float(g2[1])) < 1e-3


# An independent implementation of the public GCJ-02 and BD-09 formulas: prcoords (public
# domain, PyPI), which takes and returns (lat, lon).


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_gcj_forward_matches_prcoords_within_1mm(lon, lat):
    import prcoords

    want = prcoords.wgs_gcj((lat, lon))
    g = crs.wgs84_to_gcj02(lon, lat)
    assert _metres(float(g[0]), float(g[1]), want.lon, want.lat) < 1e-3


@settings(max_examples=200, deadline=None)
@given(czt_lon, czt_lat)
def test_bd09_forward_matches_prcoords_within_1mm(lon, lat):
    import prcoords

    want = prcoords.wgs_bd((lat, lon))
    b = crs.wgs84_to_bd09(lon, lat)
    assert _metres(float(b[0]), float(b[1]), want.lon, want.lat) < 1e-3


def test_offset_matches_the_cnmaps_observation():
    # shared/geodata/README: raw GCJ-02 boundary files sit about 0.0055° east and 0.0031° south
    # of OSM's here; "about": within 0.0005° (about 50 m)
    gx, gy = crs.wgs84_to_gcj02(112.98, 28.2)
    assert float(gx) - 112.98 == pytest.approx(0.0055, abs=5e-4)
    assert float(gy) - 28.2 == pytest.approx(-0.0031, abs=5e-4)


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


def _gcj_square(wgs):
    import prcoords

    ring = [prcoords.wgs_gcj((y, x)) for x, y in wgs.exterior.coords]
    return shapely.Polygon([(c.lon, c.lat) for c in ring])


def test_to_wgs84_from_gcj02_string():
    wgs = _square(112.95, 28.15)
    gdf = gpd.GeoDataFrame({"id": [1]}, geometry=[_gcj_square(wgs)], crs=None)
    out = crs.to_wgs84(gdf, "gcj02")
    assert out.crs.to_epsg() == 4326
    assert shapely.hausdorff_distance(out.geometry.iloc[0], wgs) < 1e-8  # about 1 mm


def test_declared_wgs84_overridden_by_gcj02():
    # declared EPSG:4326 but really GCJ-02 (drawn on Amap): crs= overrides
    wgs = _square(112.95, 28.15)
    gdf = gpd.GeoDataFrame({"id": [1]}, geometry=[_gcj_square(wgs)], crs=4326)
    out = crs.to_wgs84(gdf, "GCJ-02")
    assert shapely.hausdorff_distance(out.geometry.iloc[0], wgs) < 1e-8


def test_to_wgs84_from_bd09():
    import prcoords

    wgs = _square(113.1, 27.85)
    bd = shapely.Polygon(
        [(c.lon, c.lat) for c in (prcoords.wgs_bd((y, x)) for x, y in wgs.exterior.coords)]
    )
    out = crs.to_wgs84(gpd.GeoDataFrame(geometry=[bd]), "bd09")
    assert shapely.hausdorff_distance(out.geometry.iloc[0], wgs) < 1e-8


def test_to_wgs84_from_utm():
    wgs = _square(113.1, 27.85)
    utm = gpd.GeoDataFrame(geometry=[wgs], crs=4326).to_crs(32649)
    back = crs.to_wgs84(utm)
    assert shapely.hausdorff_distance(back.geometry.iloc[0], wgs) < 1e-7


def test_to_wgs84_from_cgcs2000():
    wgs = _square(113.1, 27.85)
    cg = gpd.GeoDataFrame(geometry=[wgs], crs=4490)  # equal to WGS84 at map scale
    assert shapely.hausdorff_distance(crs.to_wgs84(cg).geometry.iloc[0], wgs) < 1e-6


def test_no_crs_is_refused_with_a_fix():
    with pytest.raises(CRSError, match="declare one"):
        crs.to_wgs84(gpd.GeoDataFrame(geometry=[shapely.Point(113, 28)]))


def test_unknown_crs_name():
    with pytest.raises(CRSError, match="unknown CRS 'gcj03'"):
        crs.normalize_crs("gcj03")


def test_unknown_epsg_code_is_also_a_value_error():
    with pytest.raises(ValueError, match="unknown CRS"):
        crs.normalize_crs("EPSG:99999999")


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"), [(113.0, 28.0, 32649), (24.9, 60.2, 32635), (-0.1, 51.5, 32630)]
)
def test_utm_zone(lon, lat, epsg):
    # zone = floor((lon + 180) / 6) + 1, north: 326xx
    assert int((lon + 180) // 6) + 1 == epsg - 32600
    assert crs.utm_crs_for(lon, lat).to_epsg() == epsg
