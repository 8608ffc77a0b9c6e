"""Accessibility: checked against travel_time_matrix (one forward search per origin, no
batching), exact grid arithmetic, plan_journeys for the transit chains, and the files written."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely

from cztgeo.accessibility import (
    accessibility,
    accessibility_layer,
    origin_grid,
    write_accessibility,
)
from cztgeo.circle import DEFAULT_CENTRES, Centre
from cztgeo.errors import CRSError, InputError
from cztgeo.routing import travel_time_matrix
from cztgeo.testing import grid_lonlat, synthetic_grid

ACCESS_KMH = 20.0


def _points(rng: np.random.Generator, n: int, lo: float, hi: float) -> np.ndarray:
    return np.array([grid_lonlat(*rng.uniform(lo, hi, 2)) for _ in range(n)])


@pytest.fixture(scope="module")
def net():
    # irregular (jittered nodes) with road classes at different speeds
    return synthetic_grid(30, 100.0, hierarchy=True, jitter_m=20.0, seed=3)


@pytest.fixture(scope="module")
def case(net):
    rng = np.random.default_rng(0)
    o = _points(rng, 150, -2, 31)
    d = _points(rng, 120, -2, 31)
    w = rng.integers(1, 50, len(d)).astype(float)
    origins = gpd.GeoDataFrame(
        {"id": [f"o{i}" for i in range(len(o))]},
        geometry=gpd.points_from_xy(o[:, 0], o[:, 1]),
        crs="EPSG:4326",
    )
    opp = gpd.GeoDataFrame(
        {"jobs": w}, geometry=gpd.points_from_xy(d[:, 0], d[:, 1]), crs="EPSG:4326"
    ).to_crs("EPSG:3857")  # another CRS on purpose
    centres = [
        Centre("甲", "Alpha", *grid_lonlat(5, 5), "synthetic"),
        Centre("乙", "Beta Town", *grid_lonlat(20.3, 10.7), "synthetic"),
    ]
    return o, d, w, origins, opp, centres


def test_counts_equal_the_thresholded_matrix(net, case) -> None:
    o, d, w, origins, opp, centres = case
    minutes = [1.0, 2.0, 3.5]
    res = accessibility(
        net, origins, minutes=minutes, opportunities=opp, opportunities_column="jobs",
        to=centres, access_kmh=ACCESS_KMH, chunk_size=40,
    )  # fmt: skip
    # the opportunities went through EPSG:3857 and back: use their round-tripped positions
    d_rt = np.column_stack(
        [opp.to_crs(4326).geometry.x.to_numpy(), opp.to_crs(4326).geometry.y.to_numpy()]
    )
    mat = travel_time_matrix(
        net, o, d_rt, max_minutes=max(minutes), max_snap_m=1e9, access_kmh=ACCESS_KMH
    ).to_numpy()
    for m, col in zip(minutes, ["1min", "2min", "3_5min"], strict=True):
        expected = ((mat <= m) * w).sum(axis=1)
        np.testing.assert_array_equal(res[f"drive_opportunities_{col}"].to_numpy(), expected)
    assert list(res["origin_id"]) == list(origins["id"])
    assert res.crs == origins.crs
    # counts grow with the threshold and some origins reach something but not everything
    c = res[["drive_opportunities_1min", "drive_opportunities_3_5min"]].to_numpy()
    assert (c[:, 0] <= c[:, 1]).all() and c[:, 0].max() > 0 and c[:, 1].min() < w.sum()


def test_times_to_centres_match_the_matrix(net, case) -> None:
    o, _, _, origins, _, centres = case
    res = accessibility(net, origins, to=centres, access_kmh=ACCESS_KMH, chunk_size=64)
    c_ll = [(c.lon, c.lat) for c in centres]
    mat = travel_time_matrix(net, o, c_ll, max_snap_m=1e9, access_kmh=ACCESS_KMH).to_numpy()
    got = res[["drive_min_alpha", "drive_min_beta_town"]].to_numpy()
    np.testing.assert_allclose(got, mat, rtol=1e-12, atol=1e-9)
    nearest = np.where(mat[:, 0] <= mat[:, 1], "alpha", "beta_town")
    assert list(res["drive_nearest_centre"]) == list(nearest)
    np.testing.assert_allclose(res["drive_min_nearest"], mat.min(axis=1), rtol=1e-12, atol=1e-9)
    assert "minutes to 甲 (Alpha" in res.attrs["columns"]["drive_min_alpha"]


def test_exact_grid_arithmetic() -> None:
    # a plain grid of 100 m arcs at 36 km/h: 10 s per arc, origins and centre on nodes
    g = synthetic_grid(12, 100.0)
    centre = Centre("c", "C", *grid_lonlat(3, 4), "synthetic")
    ij = [(0, 0), (11, 11), (3, 4), (7, 2), (10, 5)]
    pts = gpd.GeoDataFrame(
        geometry=[shapely.Point(grid_lonlat(i, j)) for i, j in ij], crs="EPSG:4326"
    )
    ones = gpd.GeoDataFrame(
        {"population": np.ones(144)},
        geometry=[shapely.Point(grid_lonlat(i, j)) for j in range(12) for i in range(12)],
        crs="EPSG:4326",
    )
    # thresholds between whole arcs (33 s, 63 s): positions round-trip through lon/lat
    res = accessibility(g, pts, to=[centre], minutes=[0.55, 1.05], opportunities=ones)
    expected = [(abs(i - 3) + abs(j - 4)) * 10 / 60 for i, j in ij]
    np.testing.assert_allclose(res["drive_min_c"], expected, atol=1e-6)
    # within 33 s (3 arcs) of a node: the nodes at Manhattan distance <= 3, clipped to the grid
    for (i, j), n30, n60 in zip(
        ij, res["drive_opportunities_0_55min"], res["drive_opportunities_1_05min"], strict=True
    ):
        ii, jj = np.meshgrid(np.arange(12), np.arange(12))
        dist = np.abs(ii - i) + np.abs(jj - j)
        assert n30 == (dist <= 3).sum()
        assert n60 == (dist <= 6).sum()


def test_origin_grid_cells() -> None:
    area = gpd.GeoDataFrame(
        geometry=[shapely.Point(500_123.0, 3_100_456.0).buffer(5_000)], crs="EPSG:32649"
    )
    cells = origin_grid(area, cell_m=1000)
    assert cells.crs == "EPSG:32649"
    centres = cells.geometry.centroid
    assert shapely.contains_xy(area.geometry.iloc[0], centres.x, centres.y).all()
    assert np.allclose(cells.area, 1e6)
    assert np.allclose(cells.bounds["minx"] % 1000, 0)  # aligned to multiples of the cell
    assert abs(len(cells) - np.pi * 25) < 12  # about the disc's area in km²
    spec = cells.attrs["grid"]
    x = spec["x0"] + (cells["col"] + 0.5) * 1000
    y = spec["y0"] - (cells["row"] + 0.5) * 1000
    np.testing.assert_allclose(x, centres.x)
    np.testing.assert_allclose(y, centres.y)
    assert cells["cell_id"].is_unique


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"minutes": [0, 15]}, "positive"),
        ({"minutes": [-5]}, "positive"),
        ({"minutes": ["soon"]}, "numbers"),
        ({"cell_m": 1e6}, "larger than the area"),
        ({"cell_m": -1}, "cell_m"),
        ({"modes": ["boat"]}, "unknown mode"),
        ({"chunk_size": 0}, "chunk_size"),
    ],
)
def test_bad_input_is_one_line(net, kwargs, message, tmp_path) -> None:
    area = gpd.GeoDataFrame(
        geometry=[shapely.Point(grid_lonlat(15, 15)).buffer(0.01)], crs="EPSG:4326"
    )
    out = tmp_path / "out"
    with pytest.raises(InputError, match=message) as err:
        write_accessibility(out, net, area=area, **({"cell_m": 500} | kwargs))
    assert "\n" not in str(err.value)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_layers_without_crs_are_refused(net, case) -> None:
    o, _, _, origins, opp, centres = case
    with pytest.raises(CRSError, match="opportunities layer has no CRS"):
        accessibility(
            net,
            origins,
            to=centres,
            opportunities=opp.set_crs(None, allow_override=True),
            opportunities_column="jobs",
        )
    with pytest.raises(CRSError, match="origins have no CRS"):
        accessibility(net, origins.set_crs(None, allow_override=True), to=centres)


def test_written_folder(net, tmp_path: Path) -> None:
    area = gpd.GeoDataFrame(
        geometry=[shapely.box(*grid_lonlat(2, 2), *grid_lonlat(27, 25))], crs="EPSG:4326"
    )
    rng = np.random.default_rng(5)
    d = _points(rng, 80, 0, 29)
    opp = gpd.GeoDataFrame(
        {"population": rng.integers(1, 9, len(d))},
        geometry=gpd.points_from_xy(d[:, 0], d[:, 1]),
        crs="EPSG:4326",
    )
    centres = [Centre("c", "Centre", *grid_lonlat(14, 14), "synthetic")]
    kw = {"area": area, "cell_m": 200.0, "opportunities": opp, "to": centres,
          "minutes": [1, 2], "chunk_size": 25}  # fmt: skip
    run = write_accessibility(tmp_path / "acc", net, **kw)
    expected = accessibility(net, **kw)
    cells = gpd.read_parquet(run.cells)
    assert len(list(run.cells.glob("part-*.parquet"))) == run.n_chunks > 1
    pd.testing.assert_frame_equal(
        pd.DataFrame(cells.drop(columns="geometry")),
        pd.DataFrame(expected.drop(columns="geometry")),
    )
    assert cells.geom_equals_exact(expected.geometry, tolerance=0).all()
    meta = json.loads((run.folder / "accessibility.json").read_text(encoding="utf-8"))
    assert set(meta["columns"]) == set(cells.columns)
    for col in ("drive_min_centre", "drive_opportunities_2min"):
        with rasterio.open(run.rasters[col]) as src:
            assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
            assert src.crs.to_epsg() == 32649
            band = src.read(1)
            # every cell's value sits at its row/col, the rest is no data
            np.testing.assert_allclose(
                band[cells["row"], cells["col"]], cells[col].astype("float32"), rtol=1e-6
            )
            assert np.isnan(band).sum() == band.size - len(cells)
            t = src.transform
            x = t.c + (cells["col"].iloc[0] + 0.5) * t.a
            y = t.f + (cells["row"].iloc[0] + 0.5) * t.e
            c = cells.geometry.iloc[0].centroid
            assert (x, y) == pytest.approx((c.x, c.y))
    assert run.computed == list(range(run.n_chunks)) and run.reused == []
    layer = accessibility_layer(cells, "drive_min_centre", bands=[1, 2, 3])
    assert set(layer.gdf["band"]) <= {"0-1 min", "1-2 min", "2-3 min", "> 3 min"}
    assert layer.gdf.crs == "EPSG:4326"
    assert layer.gdf.to_crs(32649).area.sum() == pytest.approx(cells.area.sum())


def test_transit_chains_match_plan_journeys(settings) -> None:
    from cztgeo.network import load_network
    from cztgeo.rail import load_rail, plan_journeys

    road = load_network()
    tn = load_rail(settings=settings)
    rng = np.random.default_rng(2)
    pts = np.vstack(
        [[(c.lon, c.lat) for c in DEFAULT_CENTRES],
         np.column_stack([rng.uniform(112.8, 113.2, 6), rng.uniform(27.8, 28.3, 6)])]
    )  # fmt: skip
    origins = gpd.GeoDataFrame(geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]), crs=4326)
    res = accessibility(road, origins, modes=["transit", "taxi+transit"], rail=tn,
                        access_kmh=ACCESS_KMH)  # fmt: skip
    cpts = [(c.lon, c.lat) for c in DEFAULT_CENTRES]
    walk = plan_journeys(tn, pts, cpts)
    stations = np.column_stack([tn.stop_lon, tn.stop_lat])
    kw = {"max_snap_m": 1e12, "access_kmh": ACCESS_KMH}
    taxi_acc = travel_time_matrix(road, pts, stations, **kw).to_numpy() + tn.taxi_overhead_minutes
    taxi_egr = travel_time_matrix(road, stations, cpts, **kw).to_numpy() + tn.taxi_overhead_minutes
    acc = np.minimum(tn.walk_minutes(pts), taxi_acc)
    egr = np.minimum(tn.walk_minutes(cpts).T, taxi_egr)
    taxi = plan_journeys(tn, pts, cpts, access=acc, egress=egr)
    for mode, js in (("transit", walk), ("taxi_transit", taxi)):
        expected = np.array([[j.total for j in row] for row in js])
        got = res[[f"{mode}_min_{k}" for k in ("changsha", "zhuzhou", "xiangtan")]].to_numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-6)
    # taxi at either end can only help
    assert (res["taxi_transit_min_nearest"] <= res["transit_min_nearest"] + 1e-9).all()


def test_search_graph_is_the_network_renumbered(net) -> None:
    import scipy.sparse as sp
    from scipy.sparse import csgraph

    from cztgeo.access_search import search_graph

    g = search_graph(net)
    n = net.n_nodes
    assert np.array_equal(np.sort(g.rank), np.arange(n))  # a permutation of the nodes
    H = sp.csr_matrix((g.data, g.indices, g.indptr), shape=(n, n))
    # every arc, renumbered, with its time: the same set of arcs
    mine = sorted(zip(H.tocoo().row, H.tocoo().col, H.tocoo().data, strict=True))
    theirs = sorted(zip(g.rank[net.tail], g.rank[net.head], net.time_s, strict=True))
    assert mine == theirs
    # and the searches agree exactly, node by node (limited, as the accessibility searches)
    for s in (0, n // 3, n - 1):
        want = csgraph.dijkstra(net.csr(), indices=s, limit=120.0)
        got = csgraph.dijkstra(H, indices=g.rank[s], limit=120.0)[g.rank]
        np.testing.assert_array_equal(got, want)
        assert np.isfinite(want).sum() > 10 and np.isinf(want).any()  # the limit bites


def test_counts_with_one_way_streets_equal_the_matrix(net) -> None:
    # a third of the streets one-way (one direction dropped at random): origins on them leave
    # by the head only, and arrivals along them come from the tail only
    from cztgeo.network import build_network

    rng = np.random.default_rng(8)
    drop = (net.tail > net.head) & (rng.random(net.tail.size) < 0.33)
    keep = ~drop
    one_way = build_network(
        net.lon, net.lat, net.node_id, net.tail[keep], net.head[keep], net.time_s[keep],
        net.length_m[keep], net.kind[keep], net.kinds, mode="drive", source="test",
    )  # fmt: skip
    assert (one_way.reverse < 0).mean() > 0.1
    o = _points(rng, 60, -2, 31)
    d = _points(rng, 90, -2, 31)
    w = rng.integers(1, 9, len(d)).astype(float)
    origins = gpd.GeoDataFrame(geometry=gpd.points_from_xy(o[:, 0], o[:, 1]), crs=4326)
    opp = gpd.GeoDataFrame({"population": w}, geometry=gpd.points_from_xy(d[:, 0], d[:, 1]),
                           crs=4326)  # fmt: skip
    res = accessibility(one_way, origins, minutes=[1.0, 2.5], opportunities=opp,
                        to=[Centre("c", "C", *grid_lonlat(9, 9), "synthetic")],
                        access_kmh=ACCESS_KMH, chunk_size=25)  # fmt: skip
    mat = travel_time_matrix(
        one_way, o, d, max_minutes=2.5, max_snap_m=1e9, access_kmh=ACCESS_KMH
    ).to_numpy()
    for m, col in ((1.0, "1min"), (2.5, "2_5min")):
        expected = ((mat <= m) * w).sum(axis=1)
        np.testing.assert_array_equal(res[f"drive_opportunities_{col}"].to_numpy(), expected)
