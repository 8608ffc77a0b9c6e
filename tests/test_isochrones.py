from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely

from cztgeo.errors import InputError
from cztgeo.isochrones import isochrones
from cztgeo.network import load_network
from cztgeo.settings import Settings
from cztgeo.testing import grid_lonlat, synthetic_grid


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
    # local streets fill the land between the skeleton's roads: an area, not ribbons
    ribbons = isochrones(net, (112.9709, 28.1986), minutes=[20], local_kmh=0)
    assert iso["area_km2"].iloc[0] > 2 * ribbons["area_km2"].iloc[0]
    assert iso["local_kmh"].iloc[0] == 20.0


def test_polygons_only_and_valid():
    net = load_network()
    iso = isochrones(net, (112.9709, 28.1986), minutes=[10, 20, 30, 45])
    assert set(iso.geom_type) <= {"Polygon", "MultiPolygon"}
    assert iso.is_valid.all()


# ---------------------------------------------------------------------------------------------
# Local streets on a coarse network (local_kmh): areas, not ribbons.
#
# Independent exact reference, sharing no code with cztgeo.isochrones: the reach through one
# straight piece whose times run linearly from ta (at a) to tb (at b) is the union of the discs
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


def exact_local_reach(net, origin, minutes, v=LOCAL_V, walk_kmh=4.5, n=128):
    import pyproj

    from cztgeo.routing import snap_points, travel_times

    T = minutes * 60.0
    node_t = travel_times(net, origin, access_kmh=walk_kmh) * 60.0
    tail = np.repeat(np.arange(net.n_nodes), np.diff(net.indptr))
    head = np.asarray(net.head)
    # expressway-like arcs are left only at their nodes: the land beside them is reached
    # from their ends, so each such arc contributes its start node alone
    ctrl = np.isin(
        np.asarray(net.kind),
        [i for i, k in enumerate(net.kinds) if str(k).startswith(("motorway", "rural long link"))],
    )
    ex = np.where(ctrl, net.x[tail], net.x[head])
    ey = np.where(ctrl, net.y[tail], net.y[head])
    segs = [(net.x[tail], net.y[tail], ex, ey, node_t[tail], np.where(ctrl, 0.0, net.time_s))]
    # from the snapped origin along its street, both ways if it is two-way
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
    from cztgeo.testing import grid_lonlat

    ll = np.array([grid_lonlat(i * spacing_m / 100.0, 0.0) for i in range(n)])
    u, w = np.arange(n - 1), np.arange(1, n)
    t = np.full(n - 1, spacing_m / (speed_kmh / 3.6))
    return build_network(
        ll[:, 0], ll[:, 1], np.arange(n, dtype=np.int64), np.r_[u, w], np.r_[w, u], np.r_[t, t],
        np.full(2 * (n - 1), spacing_m), np.zeros(2 * (n - 1), dtype=np.int16), ("residential",),
        mode="drive", source="SYNTHETIC straight road", crs="EPSG:32649",
    )  # fmt: skip


def test_local_straight_road_is_the_analytic_cone():
    from cztgeo.testing import grid_lonlat

    road = _straight_road()
    iso = isochrones(road, grid_lonlat(0, 0), minutes=[1.0], local_kmh=20.0)
    assert iso["local_kmh"].iloc[0] == 20.0
    assert iso["local_effective_kmh"].iloc[0] == pytest.approx(20.0 / 1.3)
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
    ref = exact_local_reach(road, grid_lonlat(0, 0), 1.0, v=20.0 / 1.3 / 3.6)
    assert iou(cone, ref) > 0.9995  # and the general reference is that shape
    assert iou(got, cone) >= 0.98
    assert got.area == pytest.approx(area, rel=0.02)
    assert got.covers(shapely.Point(x0 + D - 20.0, y0))  # almost to the tip
    assert not got.covers(shapely.Point(x0 + D + 30.0, y0))
    assert got.covers(shapely.Point(x0, y0 + R - 20.0))  # the local streets, sideways
    assert not got.covers(shapely.Point(x0, y0 + R + 30.0))


@pytest.mark.parametrize("minutes", [15, 30])
def test_local_iou_vs_exact_on_the_skeleton(minutes):
    net = load_network()
    assert net.coarse
    origin = (112.9709, 28.1986)
    iso = isochrones(net, origin, minutes=[minutes])  # local streets: default on a coarse net
    assert iso["local_kmh"].iloc[0] == 20.0
    got = _metric(iso, net.crs)[0]
    ref = exact_local_reach(net, origin, minutes)
    assert iou(got, ref) >= 0.99
    # areas, not ribbons: far more than the roads' 100 m corridors
    ribbons = _metric(isochrones(net, origin, minutes=[minutes], local_kmh=0), net.crs)[0]
    assert got.area > 2.5 * ribbons.area
    # one origin: one area, plus islands only around expressway junctions reached far out
    parts = sorted(shapely.get_parts(got), key=lambda g: -g.area)
    assert parts[0].area > 0.9 * got.area
    big = [g for g in parts if g.area > 1e5]  # parts over 0.1 km² (the grid drops specks)
    assert len(big) == sum(g.area > 1e5 for g in shapely.get_parts(ref))


def test_local_on_grid_hole_closes_with_time_and_islands_stay_apart(holed):
    origin = grid_lonlat(3, 3)
    iso = isochrones(holed, origin, minutes=[3, 5, 8], local_kmh=20.0)
    got = _metric(iso, holed.crs)
    import pyproj

    to_utm = pyproj.Transformer.from_crs(4326, holed.crs, always_xy=True)
    centre = shapely.Point(to_utm.transform(*grid_lonlat(20, 20)))  # of the road-free disc
    for m, g in zip([3, 5, 8], got, strict=True):
        ref = exact_local_reach(holed, origin, m, n=48)  # 5,708 arcs: coarser circles
        assert iou(g, ref) >= 0.99
        assert g.is_valid
        assert g.covers(centre) == ref.covers(centre)
    # the road-free disc (800 m) is a hole while its rim is reached late, filled in later
    assert not got[1].covers(centre)
    assert len(got[1].interiors) >= 1
    assert got[2].covers(centre)
    # two origins far apart: two islands, each around its origin
    a, b = grid_lonlat(2, 2), grid_lonlat(37, 37)
    two = _metric(isochrones(holed, [a, b], minutes=[1], local_kmh=20.0), holed.crs)[0]
    parts = shapely.get_parts(two)
    assert len(parts) == 2
    ref = exact_local_reach(holed, [a, b], 1)
    assert iou(two, ref) >= 0.98


def test_local_nested_valid_and_attrs_on_the_skeleton():
    net = load_network()
    iso = isochrones(net, (112.9709, 28.1986), minutes=[10, 20, 30, 45])
    assert set(iso.geom_type) <= {"Polygon", "MultiPolygon"}
    assert iso.is_valid.all()
    m = _metric(iso, net.crs)
    for small, big in itertools.pairwise(m):
        assert small.difference(big).area < 1e-6 * small.area + 1e-3
    assert (np.diff(iso["area_km2"]) > 0).all()
    assert list(iso.columns) == [
        "minutes",
        "area_km2",
        "network",
        "coarse",
        "snap_distance_m",
        "access_m",
        "resolution_m",
        "local_kmh",
        "local_detour",
        "local_effective_kmh",
        "geometry",
    ]
    assert iso["local_kmh"].iloc[0] == 20.0
    assert iso["local_detour"].iloc[0] == 1.3


def test_local_off_is_the_access_rule():
    net = load_network()
    origin = (112.9709, 28.1986)
    off = isochrones(net, origin, minutes=[15], local_kmh=0)
    assert off["local_kmh"].iloc[0] == 0.0
    ref = isochrones(net, origin, minutes=[15], style="exact")
    assert iou(_metric(off, net.crs)[0], _metric(ref, net.crs)[0]) >= 0.99
    # a full (not coarse) network keeps the access rule by default, identically
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
