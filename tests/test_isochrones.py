from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely

from cztgeo.errors import InputError
from cztgeo.isochrones import isochrones
from cztgeo.network import load_network
from cztgeo.settings import Settings
from cztgeo.synthetic import grid_lonlat, synthetic_grid


def iou(a, b):
    return a.intersection(b).area / a.union(b).area


def _metric(gdf, crs):
    return gdf.to_crs(crs).geometry.to_numpy()


@pytest.fixture(scope="module")
def holed():
    # 41 x 41 grid of 100 m, a road-free disc of 800 m radius in the middle
    return synthetic_grid(41, 100.0, hole_radius_m=800.0, jitter_m=10.0, hierarchy=True)


@pytest.mark.parametrize("minutes", [[2, 5, 10]])
def test_iou_vs_exact_on_real_osm_walk(yuelu_osm, tmp_path, minutes):
    net = load_network(yuelu_osm, mode="walk", settings=Settings(cache_dir=tmp_path))
    origin = (112.9455, 28.1850)
    ours = isochrones(net, origin, minutes=minutes)
    ref = isochrones(net, origin, minutes=minutes, style="exact")
    for a, b in zip(_metric(ours, net.crs), _metric(ref, net.crs), strict=True):
        assert iou(a, b) >= 0.99
        # and far fewer vertices than the buffer union
        assert shapely.get_num_coordinates(a) < shapely.get_num_coordinates(b)


def test_iou_vs_exact_on_real_osm_drive_pbf(helsinki_pbf, tmp_path):
    from cztgeo.network import NetworkWarning

    with pytest.warns(NetworkWarning):
        net = load_network(helsinki_pbf, mode="drive", settings=Settings(cache_dir=tmp_path))
    origin = (float(np.median(net.lon)), float(np.median(net.lat)))
    ours = isochrones(net, origin, minutes=[2, 4])
    ref = isochrones(net, origin, minutes=[2, 4], style="exact")
    for a, b in zip(_metric(ours, net.crs), _metric(ref, net.crs), strict=True):
        assert iou(a, b) >= 0.99


def test_iou_vs_exact_synthetic_and_hole_kept(holed):
    origin = grid_lonlat(3, 3)
    ours = isochrones(holed, origin, minutes=[3, 6])
    ref = isochrones(holed, origin, minutes=[3, 6], style="exact")
    for a, b in zip(_metric(ours, holed.crs), _metric(ref, holed.crs), strict=True):
        assert iou(a, b) >= 0.99
    centre = shapely.Point(grid_lonlat(20, 20))
    assert ours.geometry.iloc[1].covers(shapely.Point(grid_lonlat(38, 38)))  # reached far corner
    assert not ours.geometry.iloc[1].covers(centre)  # the road-free disc stays a hole
    poly = ours.geometry.iloc[1]
    assert sum(len(p.interiors) for p in getattr(poly, "geoms", [poly])) >= 1
    # a convex hull (opt-in) swallows it
    hull = isochrones(holed, origin, minutes=[6], style="convex").geometry.iloc[0]
    assert hull.covers(centre)


def test_partly_reached_edges_counted_to_the_reached_point():
    grid = synthetic_grid(21, 100.0)
    # from node (0,0) along the south edge: 45 s reach 450 m east (4.5 edges)
    iso = isochrones(grid, grid_lonlat(0, 0), minutes=[0.75], access_m=10.0, access_kmh=1e9)
    g = iso.to_crs(grid.crs).geometry.iloc[0]
    minx, miny, maxx, maxy = g.bounds
    x0 = float(grid.x[0])
    assert maxx - x0 == pytest.approx(450.0 + 10.0, abs=1.5)


def test_nested_and_columns(holed):
    iso = isochrones(holed, grid_lonlat(5, 30), minutes=[8, 2, 4])
    assert list(iso["minutes"]) == [2.0, 4.0, 8.0]
    assert iso.crs.to_epsg() == 4326
    m = _metric(iso, holed.crs)
    for small, big in itertools.pairwise(m):
        assert small.difference(big).area < 1e-6 * small.area + 1e-3
    assert (np.diff(iso["area_km2"]) > 0).all()
    assert iso["network"].str.contains("SYNTHETIC").all()
    assert set(iso.columns) >= {"minutes", "area_km2", "network", "coarse", "geometry"}


def test_multi_origin_is_union_of_singles(holed):
    a, b = grid_lonlat(2, 2), grid_lonlat(37, 37)
    both = _metric(isochrones(holed, [a, b], minutes=[3]), holed.crs)[0]
    sa = _metric(isochrones(holed, a, minutes=[3]), holed.crs)[0]
    sb = _metric(isochrones(holed, b, minutes=[3]), holed.crs)[0]
    assert iou(both, sa.union(sb)) > 0.995


@pytest.mark.parametrize(
    ("kwargs", "msg"),
    [
        ({"minutes": [0]}, "minutes must be positive"),
        ({"minutes": [-5, 10]}, "minutes must be positive"),
        ({"minutes": []}, "minutes is empty"),
        ({"minutes": ["x"]}, "minutes must be numbers"),
        ({"access_m": 0}, "access_m must be positive"),
        ({"style": "blob"}, "unknown style 'blob'"),
    ],
)
def test_bad_arguments(kwargs, msg):
    grid = synthetic_grid(5, 100.0)
    with pytest.raises(InputError, match=msg):
        isochrones(grid, grid_lonlat(0, 0), **kwargs)


def test_skeleton_isochrone_labelled_coarse():
    net = load_network()
    iso = isochrones(net, (112.9709, 28.1986), minutes=[20])
    assert iso["coarse"].all()
    assert "coarse skeleton" in iso["network"].iloc[0]
    assert 20 < iso["area_km2"].iloc[0] < 400


def test_polygons_only_and_valid():
    net = load_network()
    iso = isochrones(net, (112.9709, 28.1986), minutes=[10, 20, 30, 45])
    assert set(iso.geom_type) <= {"Polygon", "MultiPolygon"}
    assert iso.is_valid.all()
