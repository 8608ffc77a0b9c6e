from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from cztgeo.errors import InputError, SnapError
from cztgeo.network import load_network
from cztgeo.routing import snap_points, travel_time_matrix, travel_times
from cztgeo.testing import grid_lonlat, synthetic_grid

GRID = synthetic_grid(21, 100.0)  # 100 m edges at 36 km/h: 10 s each
II, JJ = np.meshgrid(np.arange(21), np.arange(21))


def test_grid_exact_times_from_a_corner():
    t = travel_times(GRID, grid_lonlat(0, 0))
    expected = (II + JJ).ravel() * 10 / 60
    np.testing.assert_allclose(t, expected, atol=1e-6)


def test_origin_mid_edge_and_access_walk():
    # 30 m north of the middle of the edge (0,0)-(1,0): 30 m at 4.5 km/h = 24 s access,
    # then 5 s to either end
    lon, lat = grid_lonlat(0.5, 0.3)
    snap = snap_points(GRID, (lon, lat))
    assert snap.distance_m[0] == pytest.approx(30.0, abs=1e-3)
    t = travel_times(GRID, (lon, lat)) * 60
    assert t[0] == pytest.approx(24.0 + 5.0, abs=1e-3)
    assert t[1] == pytest.approx(24.0 + 5.0, abs=1e-3)
    assert t[22] == pytest.approx(24.0 + 5.0 + 10.0, abs=1e-3)  # node (1,1)


def test_multi_source_is_min_of_singles():
    a, b = grid_lonlat(2, 3), grid_lonlat(15, 18)
    both = travel_times(GRID, [a, b])
    np.testing.assert_allclose(both, np.minimum(travel_times(GRID, a), travel_times(GRID, b)))


def test_max_minutes_limit():
    t = travel_times(GRID, grid_lonlat(0, 0), max_minutes=1.05)  # 63 s: 6 edges
    reached = np.isfinite(t)
    assert reached.sum() == ((II + JJ).ravel() <= 6).sum()


def test_max_minutes_must_be_positive():
    with pytest.raises(InputError, match="max_minutes must be a positive number"):
        travel_times(GRID, grid_lonlat(0, 0), max_minutes=0)


def test_snap_refused_beyond_limit():
    far = grid_lonlat(10, 40)  # 2 km north of the grid
    with pytest.raises(SnapError, match=r"1 point\(s\) farther than 1000 m"):
        travel_times(GRID, far)


def test_snap_limit_raised():
    # 2 km north of node (10, 20): 2,000 m at 4.5 km/h, then the grid from that node
    t = travel_times(GRID, grid_lonlat(10, 40), max_snap_m=3000) * 60
    walk = 2000.0 / (4.5 / 3.6)
    expected = walk + (np.abs(II - 10) + np.abs(JJ - 20)).ravel() * 10.0
    np.testing.assert_allclose(t, expected, atol=1e-3)


@pytest.mark.parametrize(
    ("points", "msg"),
    [
        ((500000.0, 3100000.0), "not lon/lat"),
        ((np.nan, 28.0), "NaN"),
        (gpd.GeoDataFrame(geometry=[shapely.Point(grid_lonlat(0, 0))]), "no CRS"),
    ],
    ids=["metres", "nan", "no-crs"],
)
def test_bad_points(points, msg):
    with pytest.raises(InputError, match=msg):
        travel_times(GRID, points)


def test_geodataframe_origins_any_crs():
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(grid_lonlat(0, 0))], crs=4326).to_crs(32649)
    np.testing.assert_allclose(travel_times(GRID, pts), (II + JJ).ravel() * 10 / 60, atol=1e-6)


def test_matrix_matches_networkx_on_real_osm(yuelu_osm, tmp_path):
    from cztgeo.settings import Settings

    net = load_network(yuelu_osm, mode="walk", settings=Settings(cache_dir=tmp_path))
    G = net.to_networkx()
    nodes = [3, 50, 120, 200]
    pts = np.column_stack([net.lon[nodes], net.lat[nodes]])
    # a near-zero access speed rules out the straight-line shortcut (points sit on nodes)
    m = travel_time_matrix(net, pts, access_kmh=1e-3)
    for i, a in enumerate(nodes):
        ref = nx.single_source_dijkstra_path_length(G, a, weight="travel_time")
        for j, b in enumerate(nodes):
            assert m.iloc[i, j] * 60 == pytest.approx(ref.get(b, np.inf), abs=1e-6)


def test_matrix_between_street_points_matches_the_reference_on_real_osm(yuelu_osm, tmp_path, ref):
    """Points off the streets: access walk, partial arcs at both ends, one-way arcs."""
    from cztgeo.settings import Settings

    net = load_network(yuelu_osm, mode="drive", settings=Settings(cache_dir=tmp_path))
    pts = [(112.9428, 28.1832), (112.9462, 28.1851), (112.9481, 28.1869), (112.9449, 28.1874)]
    m = travel_time_matrix(net, pts)
    for i, a in enumerate(pts):
        for j, b in enumerate(pts):
            assert m.iloc[i, j] == pytest.approx(ref.minutes(net, a, b), rel=1e-9, abs=1e-9)


def test_matrix_matches_the_reference_on_the_skeleton(ref):
    """The embedded skeleton between the three commute-circle centres (20 km/h to the road)."""
    from cztgeo.circle import DEFAULT_CENTRES

    net = load_network()
    pts = [(c.lon, c.lat) for c in DEFAULT_CENTRES]
    m = travel_time_matrix(net, pts, access_kmh=20.0, max_snap_m=3000.0)
    for i, a in enumerate(pts):
        for j, b in enumerate(pts):
            want = ref.minutes(net, a, b, access_kmh=20.0)
            assert m.iloc[i, j] == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_matrix_straight_line_option():
    # two points 40 m apart either side of a block corner: walking straight beats the roads
    a, b = grid_lonlat(0.5, 0.2), grid_lonlat(0.5, 0.6)
    m = travel_time_matrix(GRID, [a, b])
    assert m.iloc[0, 1] * 60 == pytest.approx(40.0 / (4.5 / 3.6), abs=1e-3)
    assert m.iloc[0, 0] == 0.0


def test_matrix_same_street():
    a, b = grid_lonlat(3.2, 0), grid_lonlat(3.7, 0)
    m = travel_time_matrix(GRID, [a, b])
    assert m.iloc[0, 1] * 60 == pytest.approx(5.0, abs=1e-3)
    assert m.iloc[1, 0] * 60 == pytest.approx(5.0, abs=1e-3)
    assert m.iloc[0, 0] == pytest.approx(0.0, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    st.tuples(st.floats(0, 20), st.floats(0, 20)),
    st.tuples(st.floats(0, 20), st.floats(0, 20)),
    st.tuples(st.floats(0, 20), st.floats(0, 20)),
)
def test_triangle_inequality(a, b, c):
    pts = [grid_lonlat(*a), grid_lonlat(*b), grid_lonlat(*c)]
    m = travel_time_matrix(GRID, pts, access_kmh=1e9).to_numpy()
    assert m[0, 2] <= m[0, 1] + m[1, 2] + 1e-6


@pytest.mark.parametrize("n_points", [3, 300])  # scanned directly, and through the KD-tree
def test_snap_is_the_nearest_arc_as_shapely_measures_it(n_points):
    from cztgeo.routing import project

    net = load_network()  # the coarse skeleton: arcs from metres to kilometres long
    rng = np.random.default_rng(n_points)
    lon = rng.uniform(net.lon.min() - 0.02, net.lon.max() + 0.02, n_points)
    lat = rng.uniform(net.lat.min() - 0.02, net.lat.max() + 0.02, n_points)
    snap = snap_points(net, np.column_stack([lon, lat]), max_snap_m=1e6)
    x, y = project(net, np.column_stack([lon, lat]))
    pts = shapely.points(x, y)
    segs = net.segments(metric=True)
    nearest = shapely.distance(pts[:, None], segs[None, :]).min(axis=1)  # every arc, by GEOS
    np.testing.assert_allclose(snap.distance_m, nearest, rtol=0, atol=1e-6)
    chosen = shapely.distance(pts, segs[snap.arc])
    np.testing.assert_allclose(chosen, nearest, rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(snap.x - x, snap.y - y), nearest, rtol=0, atol=1e-6)
    rev = net.reverse[snap.arc]
    assert ((rev < 0) | (rev > snap.arc)).all()  # a two-way street's lower-numbered arc
