"""Speed tables (maxspeed, ref classes, profile) and the urban/rural context."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from cztgeo.errors import InputError
from cztgeo.speeds import (
    BUILT_UP_DENSITY,
    CITY_CENTRES,
    CORE_RADIUS_M,
    SpeedProfile,
    built_up_mask,
    classify_ref,
    junction_points,
    parse_maxspeed,
    urban_mask,
)

GEOD = pyproj.Geod(ellps="WGS84")
#: Far from every Changsha Metro station and city core (west of Xiangtan).
RURAL = (112.40, 27.40)
NO_JUNCTIONS = (np.empty(0), np.empty(0))


def test_maxspeed_parsing():
    assert parse_maxspeed("60") == 60
    assert parse_maxspeed("60 km/h") == 60
    assert parse_maxspeed("30 mph") == pytest.approx(48.28, abs=0.01)
    assert parse_maxspeed("60;80") == 60
    assert math.isnan(parse_maxspeed("CN:urban"))
    assert math.isnan(parse_maxspeed("fast"))
    assert math.isnan(parse_maxspeed("0"))
    assert math.isnan(parse_maxspeed(None))


def test_ref_classes_and_profile():
    assert classify_ref("G4") == "expressway"
    assert classify_ref("G0401") == "expressway"
    assert classify_ref("S20") == "expressway"
    assert classify_ref("G107") == "national"
    assert classify_ref("S207") == "provincial"
    assert classify_ref("G107;G4") == "expressway"
    assert classify_ref("X001") is None
    p = SpeedProfile()
    assert p.speed_kmh("primary", urban=True) < p.speed_kmh("primary", urban=False)
    assert p.speed_kmh("trunk", urban=False, ref="G4") == 100.0
    assert p.speed_kmh("primary", urban=True, maxspeed="50") == pytest.approx(42.5)
    peak = SpeedProfile(period="peak")
    assert peak.speed_kmh("primary", urban=True) == pytest.approx(0.6 * 40.0)
    assert math.isnan(p.speed_kmh("footway", urban=True))
    assert (
        SpeedProfile(overrides={"primary": 55}).speed_kmh("primary", urban=True, maxspeed="80")
        == 55
    )


@pytest.mark.parametrize("coarse", [False, True])
def test_built_up_threshold_is_the_junction_density(coarse):
    radius_m, per_km2 = BUILT_UP_DENSITY["coarse" if coarse else "full"]
    needed = math.ceil(per_km2 * math.pi * (radius_m / 1000) ** 2)  # 48 full, 10 coarse
    lon, lat = np.array([RURAL[0]]), np.array([RURAL[1]])
    for count, expected in ((needed - 1, False), (needed, True)):
        jl, jt = np.full(count, RURAL[0]), np.full(count, RURAL[1])
        assert built_up_mask(lon, lat, jl, jt, coarse=coarse).tolist() == [expected]
    # the same junctions just beyond the radius do not count
    far_lon, far_lat, _ = GEOD.fwd(RURAL[0], RURAL[1], 90.0, radius_m + 50.0)
    jl, jt = np.full(needed, far_lon), np.full(needed, far_lat)
    assert built_up_mask(lon, lat, jl, jt, coarse=coarse).tolist() == [False]


def test_city_cores_count_as_built_up():
    # 株洲站 is over 10 km from the nearest Changsha Metro station: only the core radius acts
    clon, clat = CITY_CENTRES["株洲"]
    pts = [GEOD.fwd(clon, clat, 90.0, d)[:2] for d in (CORE_RADIUS_M - 100, CORE_RADIUS_M + 100)]
    lon, lat = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    assert built_up_mask(lon, lat, *NO_JUNCTIONS, coarse=False).tolist() == [True, False]


def test_junction_points_count_road_ends_once():
    # a T junction (node 1) plus a doubled segment 3-4 that must not make 3 a junction
    lon, lat = np.arange(5.0), np.zeros(5)
    a = np.array([0, 1, 1, 3, 4])
    b = np.array([1, 2, 3, 4, 3])
    jl, _ = junction_points(lon, lat, a, b)
    assert jl.tolist() == [1.0]


def test_urban_mask_names_and_polygons():
    lon, lat = np.array([112.5, 113.5]), np.array([27.5, 27.5])
    assert urban_mask(lon, lat, "urban").tolist() == [True, True]
    assert urban_mask(lon, lat, "rural").tolist() == [False, False]
    box = shapely.box(112.0, 27.0, 113.0, 28.0)
    assert urban_mask(lon, lat, box).tolist() == [True, False]
    gdf = gpd.GeoDataFrame(geometry=[box], crs="EPSG:4326")
    assert urban_mask(lon, lat, gdf).tolist() == [True, False]
    with pytest.raises(InputError, match="unknown context 'downtown'"):
        urban_mask(lon, lat, "downtown")


def test_districts_context():
    # 五一广场 (central Changsha), 浏阳 (a county-level city of Changsha, not central), Beijing
    lon = np.array([112.9709, 113.6433, 116.40])
    lat = np.array([28.1986, 28.1637, 39.90])
    assert urban_mask(lon, lat, "districts").tolist() == [True, False, True]
    # "auto" without the network's junctions falls back to the districts
    assert urban_mask(lon, lat, "auto").tolist() == [True, False, True]
