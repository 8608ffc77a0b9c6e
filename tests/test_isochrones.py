"""Isochrones against references that share no code with cztgeo's routing or isochrones.

Three kinds of truth: an independent reference (NetworkX Dijkstra on ``net.to_networkx()``,
origins snapped by shapely, polygons built by shapely: :func:`reference_isochrone` and
:func:`exact_local_reach`), exact arithmetic on synthetic networks, and the real Yuelu OSM patch
and Helsinki PBF. Tolerances: IoU >= 0.99 and areas within 1 % (the grid of ``access_m / 4``
cells rounds outlines by a fraction of a cell), unless a test states another.
"""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pytest
import shapely

from cztgeo.errors import InputError
from cztgeo.isochrones import isochrones
from cztgeo.network import load_network
from cztgeo.settings import Settings
from cztgeo.testing import grid_lonlat, synthetic_grid

SKELETON_ORIGIN = (112.9709, 28.1986)  # 五一广场, Changsha


def iou(a, b):
    return a.intersection(b).area / a.union(b).area


def _metric(gdf, crs):
    return gdf.to_crs(crs).geometry.to_numpy()


@pytest.fixture(scope="module")
def holed():
    # 41 x 41 grid of 100 m, a road-free disc of 800 m radius in the middle
    return synthetic_grid(41, 100.0, hole_radius_m=800.0, jitter_m=10.0, hierarchy=True)


@pytest.fixture(scope="module")
def skeleton():
    return load_network()


# ---------------------------------------------------------------------------------------------
# The independent reference (the ``ref`` fixture of conftest.py): NetworkX Dijkstra on
# ``net.to_networkx()``, origins snapped onto their nearest arc by shapely, nodes projected by
# pyproj, the polygon a shapely buffer-union of the reached pieces.

# A SYNTHETIC grid with a road-free disc and the real Yuelu OSM patch (walk, 50 m access), from
# an origin between nodes; small thresholds (a few arcs reached, partly reached arcs matter)
# and large ones (the whole connected network reached).
NETWORK_CASES = {
    "holed-grid-small": ("holed", grid_lonlat(3.4, 3.0), [0.5, 1.5], 100.0),
    "holed-grid-large": ("holed", grid_lonlat(3.4, 3.0), [3.0, 6.0], 100.0),
    "yuelu-walk-small": ("yuelu", (112.9455, 28.1850), [0.5, 2.0], 50.0),
    "yuelu-walk-large": ("yuelu", (112.9455, 28.1850), [10.0, 80.0], 50.0),
}


@pytest.fixture(scope="module")
def yuelu_walk(yuelu_osm, tmp_path_factory):
    return load_network(
        yuelu_osm, mode="walk", settings=Settings(cache_dir=tmp_path_factory.mktemp("cache"))
    )


@pytest.fixture(scope="module")
def helsinki_drive(helsinki_pbf, tmp_path_factory):
    from cztgeo.network import NetworkWarning

    with pytest.warns(NetworkWarning):  # the PBF holds ways whose nodes lie outside it
        return load_network(
            helsinki_pbf, mode="drive",
            settings=Settings(cache_dir=tmp_path_factory.mktemp("cache")),
        )  # fmt: skip


@pytest.mark.parametrize("case", list(NETWORK_CASES))
def test_network_style_matches_an_independent_networkx_shapely_reference(
    case, holed, yuelu_walk, ref
):
    which, origin, minutes, access_m = NETWORK_CASES[case]
    net = holed if which == "holed" else yuelu_walk
    got = _metric(isochrones(net, origin, minutes=minutes, access_m=access_m, local_kmh=0), net.crs)
    for m, g in zip(minutes, got, strict=True):
        want = ref.isochrone(net, origin, m, access_m)
        # the grid (cells of access_m / 4) rounds the outline by a fraction of a cell
        assert iou(g, want) >= 0.99, (m, iou(g, want))
        assert g.area == pytest.approx(want.area, rel=0.01), m


@pytest.mark.parametrize("case", ["holed-grid-large", "yuelu-walk-large"])
def test_large_thresholds_reach_the_whole_connected_network(case, holed, yuelu_walk, ref):
    """The 'large' cases are large: every arc reachable at all (most of the network: the
    Yuelu export has a few ways cut off by its bounding box) is reached to its end in time."""
    which, origin, minutes, _ = NETWORK_CASES[case]
    net = holed if which == "holed" else yuelu_walk
    _, _, _, _, t0, dt, _ = ref.pieces(net, origin)
    reachable = np.isfinite(t0)
    assert reachable.sum() > 0.9 * net.n_arcs
    assert (t0 + dt)[reachable].max() < max(minutes) * 60.0


def test_exact_style_matches_the_independent_reference(holed, ref):
    origin = grid_lonlat(3.4, 3.0)
    ex = _metric(isochrones(holed, origin, minutes=[1.5, 6.0], style="exact"), holed.crs)
    for m, g in zip([1.5, 6.0], ex, strict=True):
        assert iou(g, ref.isochrone(holed, origin, m, 100.0)) >= 0.999


def test_network_style_matches_the_reference_on_a_real_drive_pbf(helsinki_drive, ref):
    net = helsinki_drive
    origin = (float(np.median(net.lon)), float(np.median(net.lat)))
    got = _metric(isochrones(net, origin, minutes=[2, 4]), net.crs)  # access_m 100 (drive)
    for m, g in zip([2, 4], got, strict=True):
        want = ref.isochrone(net, origin, m, 100.0)
        assert iou(g, want) >= 0.99, m
        assert g.area == pytest.approx(want.area, rel=0.01), m


def test_network_style_has_fewer_vertices_than_the_buffer_union(yuelu_walk, ref):
    origin = (112.9455, 28.1850)
    got = _metric(isochrones(yuelu_walk, origin, minutes=[2, 5, 10]), yuelu_walk.crs)
    for m, g in zip([2, 5, 10], got, strict=True):
        want = ref.isochrone(yuelu_walk, origin, m, 50.0)
        assert shapely.get_num_coordinates(g) < shapely.get_num_coordinates(want), m


def test_road_free_disc_stays_a_hole(holed):
    origin = grid_lonlat(3, 3)
    g = isochrones(holed, origin, minutes=[6]).geometry.iloc[0]
    centre = shapely.Point(grid_lonlat(20, 20))
    assert g.covers(shapely.Point(grid_lonlat(38, 38)))  # the far corner, beyond the disc
    assert not g.covers(centre)
    assert sum(len(p.interiors) for p in shapely.get_parts(g)) >= 1


def test_convex_style_swallows_the_hole(holed):
    hull = isochrones(holed, grid_lonlat(3, 3), minutes=[6], style="convex").geometry.iloc[0]
    assert hull.covers(shapely.Point(grid_lonlat(20, 20)))


def test_partly_reached_edges_counted_to_the_reached_point():
    grid = synthetic_grid(21, 100.0)
    # from node (0,0) along the south edge: 45 s reach 450 m east (4.5 edges)
    iso = isochrones(grid, grid_lonlat(0, 0), minutes=[0.75], access_m=10.0, access_kmh=1e9)
    g = iso.to_crs(grid.crs).geometry.iloc[0]
    minx, miny, maxx, maxy = g.bounds
    x0 = float(grid.x[0])
    assert maxx - x0 == pytest.approx(450.0 + 10.0, abs=1.5)


def test_thresholds_sorted_and_nested(holed):
    iso = isochrones(holed, grid_lonlat(5, 30), minutes=[8, 2, 4])
    assert list(iso["minutes"]) == [2.0, 4.0, 8.0]
    m = _metric(iso, holed.crs)
    for small, big in itertools.pairwise(m):
        assert small.difference(big).area < 1e-6 * small.area + 1e-3


def test_columns_crs_and_area_column(holed):
    iso = isochrones(holed, grid_lonlat(5, 30), minutes=[2, 4])
    assert list(iso.columns) == [
        "minutes", "area_km2", "network", "coarse", "snap_distance_m", "access_m",
        "resolution_m", "local_kmh", "local_detour", "local_effective_kmh", "geometry",
    ]  # fmt: skip
    assert iso.crs.to_epsg() == 4326
    assert iso["network"].str.contains("SYNTHETIC").all()
    assert not iso["coarse"].any()
    # area_km2 is the polygon's area in the network's UTM zone
    areas = shapely.area(_metric(iso, holed.crs)) / 1e6
    np.testing.assert_allclose(iso["area_km2"], areas, rtol=1e-6)


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


def test_skeleton_isochrone_labelled_coarse(skeleton):
    iso = isochrones(skeleton, SKELETON_ORIGIN, minutes=[20])
    assert iso["coarse"].all()
    assert "coarse skeleton" in iso["network"].iloc[0]


def test_polygons_only_and_valid(skeleton):
    iso = isochrones(skeleton, SKELETON_ORIGIN, minutes=[10, 20, 30, 45])
    assert set(iso.geom_type) <= {"Polygon", "MultiPolygon"}
    assert iso.is_valid.all()


# ---------------------------------------------------------------------------------------------
# Local streets on a coarse network (local_kmh): areas, not ribbons.
#
# Independent exact reference (times from nx_pieces): the reach through one straight piece
# whose times run linearly from ta (at a) to tb (at b) is the union of the discs
# D(q, (T - t(q)) v) over q on the piece. Centres and radii are affine in the position along
# the piece, so that union is exactly the convex hull of the two end discs. The reach is the
# union of those hulls over every reached piece (cut where t = T) and the discs around the
# origins themselves; circles are drawn with 128 vertices.

LOCAL_V = 20.0 / 1.3 / 3.6  # the default local speed (20 km/h, detour 1.3) in m/s


def _disc_hulls(ax, ay, ra, bx, by, rb, n=128):
    ang = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    c, s = np.cos(ang), np.sin(ang)
    pa = np.stack([ax[:, None] + ra[:, None] * c, ay[:, None] + ra[:, None] * s], axis=-1)
    pb = np.stack([bx[:, None] + rb[:, None] * c, by[:, None] + rb[:, None] * s], axis=-1)
    return shapely.convex_hull(shapely.multipoints(np.concatenate([pa, pb], axis=1)))


def exact_local_reach(ref, net, origin, minutes, v=LOCAL_V, walk_kmh=4.5, n=128):
    import pyproj

    T = minutes * 60.0
    x0, y0, x1, y1, ta, dt, kind = ref.pieces(net, origin, access_kmh=walk_kmh)
    # expressway-like arcs are left only at their nodes: the land beside them is reached
    # from their ends, so each such arc contributes its start node alone
    ctrl = np.array([str(k).startswith(("motorway", "rural long link")) for k in kind])
    x1, y1, dt = np.where(ctrl, x0, x1), np.where(ctrl, y0, y1), np.where(ctrl, 0.0, dt)
    ok = ta <= T
    x0, y0, x1, y1, ta, dt = x0[ok], y0[ok], x1[ok], y1[ok], ta[ok], dt[ok]
    f = np.minimum(1.0, (T - ta) / np.maximum(dt, 1e-12))
    bx, by, tb = x0 + f * (x1 - x0), y0 + f * (y1 - y0), ta + f * dt
    hulls = _disc_hulls(x0, y0, (T - ta) * v, bx, by, (T - tb) * v, n=n)
    lonlat = np.atleast_2d(np.asarray(origin, dtype=float))
    ox, oy = pyproj.Transformer.from_crs(4326, net.crs, always_xy=True).transform(*lonlat.T)
    discs = shapely.buffer(shapely.points(ox, oy), T * v, quad_segs=64)
    return shapely.union_all(np.concatenate([hulls, discs]))


def _straight_road(n=21, spacing_m=100.0, speed_kmh=36.0):
    """A SYNTHETIC single straight two-way road west to east, nodes every 100 m."""
    from cztgeo.network import build_network

    ll = np.array([grid_lonlat(i * spacing_m / 100.0, 0.0) for i in range(n)])
    u, w = np.arange(n - 1), np.arange(1, n)
    t = np.full(n - 1, spacing_m / (speed_kmh / 3.6))
    return build_network(
        ll[:, 0], ll[:, 1], np.arange(n, dtype=np.int64), np.r_[u, w], np.r_[w, u], np.r_[t, t],
        np.full(2 * (n - 1), spacing_m), np.zeros(2 * (n - 1), dtype=np.int16), ("residential",),
        mode="drive", source="SYNTHETIC straight road", crs="EPSG:32649",
    )  # fmt: skip


def test_local_straight_road_is_the_analytic_cone(ref):
    road = _straight_road()
    iso = isochrones(road, grid_lonlat(0, 0), minutes=[1.0], local_kmh=20.0)
    got = _metric(iso, road.crs)[0]
    # by hand: in 60 s the car goes D = 600 m east at 10 m/s; the origin's own disc has radius
    # R = 60 s * v; a point q at u metres along the road leaves (60 - u / 10) s, radius
    # (60 - u / 10) v, shrinking to 0 at the tip: the hull of the disc and the tip point.
    D, R = 600.0, 60.0 * LOCAL_V
    alpha = np.arccos(R / D)
    area = R * np.sqrt(D * D - R * R) + (np.pi - alpha) * R * R
    x0, y0 = float(road.x[0]), float(road.y[0])
    cone = shapely.convex_hull(
        shapely.union(shapely.Point(x0, y0).buffer(R, quad_segs=256), shapely.Point(x0 + D, y0))
    )
    assert cone.area == pytest.approx(area, rel=1e-4)  # the formula and the shape agree
    want = exact_local_reach(ref, road, grid_lonlat(0, 0), 1.0, v=20.0 / 1.3 / 3.6)
    assert iou(cone, want) > 0.9995  # and the general reference is that shape
    assert iou(got, cone) >= 0.98
    assert got.area == pytest.approx(area, rel=0.02)
    assert got.covers(shapely.Point(x0 + D - 20.0, y0))  # almost to the tip
    assert not got.covers(shapely.Point(x0 + D + 30.0, y0))
    assert got.covers(shapely.Point(x0, y0 + R - 20.0))  # the local streets, sideways
    assert not got.covers(shapely.Point(x0, y0 + R + 30.0))


def test_local_speed_recorded():
    iso = isochrones(_straight_road(), grid_lonlat(0, 0), minutes=[1.0], local_kmh=20.0)
    assert iso["local_kmh"].iloc[0] == 20.0
    assert iso["local_detour"].iloc[0] == 1.3
    assert iso["local_effective_kmh"].iloc[0] == pytest.approx(20.0 / 1.3)


def test_local_streets_on_by_default_on_a_coarse_network(skeleton):
    assert skeleton.coarse
    iso = isochrones(skeleton, SKELETON_ORIGIN, minutes=[15])
    assert iso["local_kmh"].iloc[0] == 20.0


@pytest.fixture(scope="module")
def skeleton_local_ref(skeleton, ref):
    return {m: exact_local_reach(ref, skeleton, SKELETON_ORIGIN, m) for m in (15, 30)}


@pytest.fixture(scope="module")
def holed_local_ref(holed, ref):
    # 5,708 arcs: coarser circles (48 vertices)
    return {m: exact_local_reach(ref, holed, grid_lonlat(3, 3), m, n=48) for m in (3, 5, 8)}


@pytest.mark.parametrize("minutes", [15, 30])
def test_local_matches_the_exact_reach_on_the_skeleton(skeleton, skeleton_local_ref, minutes):
    got = _metric(isochrones(skeleton, SKELETON_ORIGIN, minutes=[minutes]), skeleton.crs)[0]
    want = skeleton_local_ref[minutes]
    assert iou(got, want) >= 0.99
    assert got.area == pytest.approx(want.area, rel=0.01)


@pytest.mark.parametrize("minutes", [15, 30])
def test_local_islands_on_the_skeleton_are_the_references(skeleton, skeleton_local_ref, minutes):
    """One origin: one area, plus islands only around expressway junctions reached far out;
    parts over 0.1 km² counted (the grid drops specks)."""
    got = _metric(isochrones(skeleton, SKELETON_ORIGIN, minutes=[minutes]), skeleton.crs)[0]
    want = skeleton_local_ref[minutes]
    parts = sorted(shapely.get_parts(got), key=lambda g: -g.area)
    ref_parts = sorted(shapely.get_parts(want), key=lambda g: -g.area)
    assert parts[0].area == pytest.approx(ref_parts[0].area, rel=0.01)
    assert sum(g.area > 1e5 for g in parts) == sum(g.area > 1e5 for g in ref_parts)


@pytest.mark.parametrize("minutes", [3, 5, 8])
def test_local_on_the_holed_grid_matches_the_exact_reach(holed, holed_local_ref, minutes):
    got = _metric(isochrones(holed, grid_lonlat(3, 3), minutes=[minutes], local_kmh=20.0), holed.crs)[0]  # fmt: skip
    want = holed_local_ref[minutes]
    assert iou(got, want) >= 0.99
    assert got.is_valid


def test_local_road_free_disc_is_a_hole_then_filled(holed, holed_local_ref):
    import pyproj

    iso = isochrones(holed, grid_lonlat(3, 3), minutes=[5, 8], local_kmh=20.0)
    got = _metric(iso, holed.crs)
    to_utm = pyproj.Transformer.from_crs(4326, holed.crs, always_xy=True)
    centre = shapely.Point(to_utm.transform(*grid_lonlat(20, 20)))  # of the road-free disc
    # the disc (800 m) is a hole while its rim is reached late, filled in later, as in the
    # exact reach
    assert not got[0].covers(centre)
    assert len(got[0].interiors) >= 1
    assert got[1].covers(centre)
    assert holed_local_ref[8].covers(centre)
    assert not holed_local_ref[5].covers(centre)


def test_local_two_far_origins_give_two_islands(holed, ref):
    a, b = grid_lonlat(2, 2), grid_lonlat(37, 37)
    two = _metric(isochrones(holed, [a, b], minutes=[1], local_kmh=20.0), holed.crs)[0]
    assert len(shapely.get_parts(two)) == 2
    assert iou(two, exact_local_reach(ref, holed, [a, b], 1)) >= 0.98


def test_local_thresholds_nested_on_the_skeleton(skeleton):
    iso = isochrones(skeleton, SKELETON_ORIGIN, minutes=[10, 20, 30, 45])
    m = _metric(iso, skeleton.crs)
    for small, big in itertools.pairwise(m):
        assert small.difference(big).area < 1e-6 * small.area + 1e-3


def test_local_off_is_the_access_rule_on_the_skeleton(skeleton, ref):
    off = isochrones(skeleton, SKELETON_ORIGIN, minutes=[15], local_kmh=0)
    assert off["local_kmh"].iloc[0] == 0.0
    got = _metric(off, skeleton.crs)[0]
    want = ref.isochrone(skeleton, SKELETON_ORIGIN, 15, 100.0)  # drive: 100 m access
    assert iou(got, want) >= 0.99
    assert got.area == pytest.approx(want.area, rel=0.01)


def test_full_network_keeps_the_access_rule_by_default():
    grid = synthetic_grid(11, 100.0)
    assert not grid.coarse
    default = isochrones(grid, grid_lonlat(2, 2), minutes=[1, 2])
    explicit = isochrones(grid, grid_lonlat(2, 2), minutes=[1, 2], local_kmh=0)
    assert default["local_kmh"].iloc[0] == 0.0
    assert default.geometry.geom_equals_exact(explicit.geometry, tolerance=0).all()


@pytest.mark.parametrize(
    ("kwargs", "msg"),
    [
        ({"local_kmh": -5}, "local_kmh must be a positive number or 0"),
        ({"local_kmh": float("nan")}, "local_kmh must be a positive number or 0"),
        ({"local_kmh": 20, "style": "exact"}, "local_kmh works with style='network' only"),
    ],
)
def test_local_bad_arguments(kwargs, msg):
    grid = synthetic_grid(5, 100.0)
    with pytest.raises(InputError, match=msg):
        isochrones(grid, grid_lonlat(0, 0), **kwargs)


def test_settings_are_documented_columns_that_survive_a_file(tmp_path):
    iso = isochrones(_straight_road(), grid_lonlat(0, 0), minutes=[0.5, 1.0], local_kmh=20.0)
    assert list(iso.columns) == [
        "minutes", "area_km2", "network", "coarse", "snap_distance_m", "access_m",
        "resolution_m", "local_kmh", "local_detour", "local_effective_kmh", "geometry",
    ]  # fmt: skip
    path = tmp_path / "iso.gpkg"
    iso.to_file(path)
    back = gpd.read_file(path)
    assert back["local_effective_kmh"].tolist() == pytest.approx([20.0 / 1.3] * 2)
    assert back["resolution_m"].tolist() == pytest.approx(iso["resolution_m"].tolist())


# ---------------------------------------------------------------------------------------------
# The access rule against an independent exact reference, sharing no code with
# cztgeo.isochrones or cztgeo.polygonise: node times from the router, then every arc whose
# tail is reached in time, cut where the time runs out (times linear along the arc), and the
# snapped origin's own street both ways; each piece buffered by the access distance (circles
# of 64 segments), all unioned. Small thresholds included.


def exact_access_reach(net, origin, minutes, access_m, walk_kmh=4.5):
    from cztgeo.routing import snap_points, travel_times

    T = minutes * 60.0
    node_t = travel_times(net, origin, access_kmh=walk_kmh) * 60.0
    tail = np.repeat(np.arange(net.n_nodes), np.diff(net.indptr))
    head = np.asarray(net.head)
    segs = [(net.x[tail], net.y[tail], net.x[head], net.y[head], node_t[tail], net.time_s)]
    sn = snap_points(net, origin)
    for i, arc in enumerate(sn.arc):
        walk = sn.distance_m[i] / (walk_kmh / 3.6)
        sx, sy = sn.x[i : i + 1], sn.y[i : i + 1]
        u, w = tail[arc], head[arc]
        segs.append((sx, sy, net.x[[w]], net.y[[w]], [walk], [(1 - sn.frac[i]) * net.time_s[arc]]))
        back = np.flatnonzero((tail == w) & (head == u))
        if back.size:
            segs.append(
                (sx, sy, net.x[[u]], net.y[[u]], [walk], [sn.frac[i] * net.time_s[back[0]]])
            )
    x0, y0, x1, y1, ta, dt = (
        np.concatenate([np.asarray(a, float) for a in z]) for z in zip(*segs, strict=True)
    )
    ok = ta <= T
    x0, y0, x1, y1, ta, dt = x0[ok], y0[ok], x1[ok], y1[ok], ta[ok], dt[ok]
    f = np.clip((T - ta) / np.maximum(dt, 1e-12), 0.0, 1.0)
    ends = np.column_stack([x0 + f * (x1 - x0), y0 + f * (y1 - y0)])
    lines = shapely.linestrings(np.stack([np.column_stack([x0, y0]), ends], axis=1))
    return shapely.union_all(shapely.buffer(lines, access_m, quad_segs=16))


ALL_MINUTES = [0.5, 1, 2, 3, 4, 6, 10, 15]


def test_iou_vs_independent_exact_on_helsinki_every_threshold(helsinki_pbf, tmp_path):
    from cztgeo.network import NetworkWarning

    with pytest.warns(NetworkWarning):
        net = load_network(helsinki_pbf, mode="drive", settings=Settings(cache_dir=tmp_path))
    origin = (float(np.median(net.lon)), float(np.median(net.lat)))
    iso = isochrones(net, origin, minutes=ALL_MINUTES)
    for m, got in zip(ALL_MINUTES, _metric(iso, net.crs), strict=True):
        ref = exact_access_reach(net, origin, m, 100.0)
        assert iou(got, ref) >= 0.995, m
        assert got.is_valid


def test_iou_vs_independent_exact_on_the_synthetic_grid_every_threshold(holed):
    origin = grid_lonlat(3, 3)
    minutes = [0.5, 1, 2, 3, 4, 6, 8]
    iso = isochrones(holed, origin, minutes=minutes)
    for m, got in zip(minutes, _metric(iso, holed.crs), strict=True):
        assert iou(got, exact_access_reach(holed, origin, m, 100.0)) >= 0.995, m


@pytest.mark.parametrize("reach", [1.2, 2.6, 5.5])
def test_near_field_is_the_distance_transform_within_its_reach(reach):
    from scipy import ndimage

    from cztgeo.polygonise import near_field

    rng = np.random.default_rng(int(reach * 10))
    seed = rng.uniform(size=(60, 45)) < 0.03
    seed[0, 0] = seed[-1, 20] = True  # on the edges too
    got = near_field(seed, 25.0, reach)
    ref = ndimage.distance_transform_edt(~seed, sampling=25.0)
    inside = ref <= 25.0 * reach
    np.testing.assert_allclose(got[inside], ref[inside], rtol=1e-12)
    assert (got[~inside] > 25.0 * reach).all()


def test_small_loops_of_a_refined_ring_are_cut_at_the_crossing():
    from cztgeo.polygonise import _cut_small_loops

    # a square whose top edge overshoots: (4,10) -> (5,11) -> (5,9) crosses (10,10) -> (4,10)
    # at (5,10), leaving a small triangle outside; a second ring stays as it is
    twisted = [(0, 0), (10, 0), (10, 10), (4, 10), (5, 11), (5, 9), (0, 10), (0, 0)]
    other = [(20, 0), (30, 0), (30, 10), (20, 0)]
    pts = np.array(twisted + other, dtype=float)
    ring = np.repeat([0, 1], [len(twisted), len(other)])
    assert not shapely.Polygon(twisted).is_valid
    got, got_ring = _cut_small_loops(pts, ring)
    want = [(0, 0), (10, 0), (10, 10), (5, 10), (5, 9), (0, 10), (0, 0)]
    np.testing.assert_allclose(got[got_ring == 0], want, atol=1e-12)
    np.testing.assert_array_equal(got[got_ring == 1], other)
    fixed = shapely.Polygon(got[got_ring == 0])
    assert fixed.is_valid
    # the same as GEOS's repair minus the loop's triangle (area 0.5 outside the square)
    repaired = shapely.make_valid(shapely.Polygon(twisted), method="structure")
    assert fixed.symmetric_difference(repaired).area == pytest.approx(0.5, abs=1e-9)


def test_loops_longer_than_the_span_are_left_to_geos():
    from cztgeo.polygonise import _cut_small_loops

    # the overshoot of the test above drawn with 10 edges from (4,10) to (5,11): the crossing
    # edge is 11 edges after the one it crosses, beyond the default span of 8
    diagonal = [(4 + k / 10, 10 + k / 10) for k in range(11)]
    twisted = [(0, 0), (10, 0), (10, 10), *diagonal, (5, 9), (0, 10), (0, 0)]
    pts = np.array(twisted, dtype=float)
    ring = np.zeros(len(pts), dtype=np.int64)
    got, _ = _cut_small_loops(pts, ring)
    np.testing.assert_array_equal(got, pts)
    cut, _ = _cut_small_loops(pts, ring, span=12)
    want = [(0, 0), (10, 0), (10, 10), (5, 10), (5, 9), (0, 10), (0, 0)]
    np.testing.assert_allclose(cut, want, atol=1e-12)
