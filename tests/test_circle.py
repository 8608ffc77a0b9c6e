from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from cztgeo.circle import Centre, commute_circle, compare
from cztgeo.cli import main
from cztgeo.errors import InputError
from cztgeo.rail import load_rail
from cztgeo.routing import travel_time_matrix
from cztgeo.scenarios import apply_scenario
from cztgeo.testing import grid_lonlat, synthetic_grid

# a toy region: 31 x 31 grid of 1 km edges at 60 km/h (1 min per edge)
GRID = synthetic_grid(31, 1000.0, speed_kmh=60.0)
C = [Centre("A", "A", *grid_lonlat(0, 0, 1000.0), "toy"),
     Centre("B", "B", *grid_lonlat(20, 0, 1000.0), "toy"),
     Centre("C", "C", *grid_lonlat(10, 20, 1000.0), "toy")]  # fmt: skip


def _toy_gh():
    ring = [grid_lonlat(i, j, 1000.0) for i, j in ((8, 4), (12, 4), (12, 8), (8, 8))]
    return gpd.GeoDataFrame({"version": "2024-2035", "zone": ["未分区"], "approximate": [False], "source": ["toy"]},
                            geometry=[shapely.Polygon(ring)], crs=4326)  # fmt: skip


def _toy_rail(tmp_path, headway=10):
    st_ = gpd.GeoDataFrame({"name": ["SA", "SB"], "station": "train"},
                           geometry=[shapely.Point(grid_lonlat(0, 0, 1000.0)), shapely.Point(grid_lonlat(20, 0, 1000.0))], crs=4326)  # fmt: skip
    spec = {"walk_access": {"speed_kmh": 6.0, "detour_factor": 1.0}, "transfer_penalty_minutes": 5,
            "lines": [{"id": "X", "name": "X", "stations": ["SA", "SB"], "run_minutes": {"from": "SA", "to": "SB", "minutes": 8}, "headway_minutes": headway}]}  # fmt: skip
    p = tmp_path / "l.json"
    p.write_text(json.dumps(spec))
    return load_rail(p, stations=st_)


def test_exact_toy_times_and_reach(tmp_path):
    cc = commute_circle(GRID, _toy_rail(tmp_path), centres=C, minutes=30, green_heart=_toy_gh())
    drive = cc.matrix("drive")
    assert drive.loc["A", "B"] == pytest.approx(20.0, abs=1e-6)  # 20 edges of 1 min
    assert drive.loc["A", "C"] == pytest.approx(30.0, abs=1e-6)
    assert drive.loc["B", "C"] == pytest.approx(30.0, abs=1e-6)
    rail = cc.matrix("transit")
    assert cc.matrix("rail").equals(rail)  # the older mode name still reads
    assert rail.loc["A", "B"] == pytest.approx(5.0 + 8.0, abs=1e-6)  # wait half of 10 + ride 8
    best = cc.matrix("best")
    assert best.loc["A", "B"] == pytest.approx(13.0, abs=1e-6)
    t = cc.times
    assert t[(t["mode"] == "best") & (t["from"] == "A") & (t["to"] == "C")][
        "within_threshold"
    ].all()
    r = cc.reach.set_index(["centre", "mode"])
    # drive reach from A: compare with the exact isochrone (buffer-union), measured by shapely
    from cztgeo.crs import AREA_CRS
    from cztgeo.isochrones import isochrones

    exact = isochrones(
        GRID, (C[0].lon, C[0].lat), minutes=[30], style="exact", max_snap_m=3000, access_kmh=20
    )
    ex = exact.to_crs(AREA_CRS).geometry.iloc[0]
    assert r.loc[("A", "drive"), "area_km2"] == pytest.approx(ex.area / 1e6, rel=0.01)
    gh = _toy_gh().to_crs(AREA_CRS).geometry.iloc[0]
    assert r.loc[("A", "drive"), "green_heart_km2"] == pytest.approx(
        ex.intersection(gh).area / 1e6, rel=0.02
    )
    assert r.loc[("A", "drive"), "green_heart_share"] == pytest.approx(
        ex.intersection(gh).area / gh.area, rel=0.02
    )
    ov = cc.overlap.set_index(["mode", "kind"])
    assert ov.loc[("drive", "all"), "area_km2"] < ov.loc[("drive", "any"), "area_km2"]
    assert ov.loc[("drive", "all"), "area_km2"] > 0
    # rail reach from A: island around SB with radius (30 - 13) * 100 m
    assert r.loc[("A", "transit"), "area_km2"] == pytest.approx(np.pi * (3.0**2 + 1.7**2), rel=0.01)


def test_population_counted(tmp_path):
    pts = gpd.GeoDataFrame({"population": [100, 200, 50]},
                           geometry=[shapely.Point(grid_lonlat(1, 1, 1000.0)), shapely.Point(grid_lonlat(19, 1, 1000.0)),
                                     shapely.Point(grid_lonlat(30, 30, 1000.0))], crs=4326)  # fmt: skip
    cc = commute_circle(
        GRID, None, centres=C, minutes=10, modes=("drive",), green_heart=_toy_gh(), population=pts
    )
    r = cc.reach.set_index("centre")
    assert r.loc["A", "population"] == 100
    assert r.loc["B", "population"] == 200
    assert r.loc["C", "population"] == 0


def test_bad_arguments():
    with pytest.raises(InputError, match="unknown mode 'boat'"):
        commute_circle(GRID, None, centres=C, modes=("boat",))
    with pytest.raises(InputError, match="minutes must be positive"):
        commute_circle(GRID, None, centres=C, minutes=-1, modes=("drive",))


def _link(a, b, **props):
    return gpd.GeoDataFrame(
        [props],
        geometry=[shapely.LineString([grid_lonlat(*a, 1000.0), grid_lonlat(*b, 1000.0)])],
        crs=4326,
    )


def test_scenario_bridge_shortens_and_reports(tmp_path):
    before = commute_circle(GRID, _toy_rail(tmp_path), centres=C, minutes=30, green_heart=_toy_gh())
    links = gpd.GeoDataFrame(
        [{"name": "融城干道", "mode": "drive", "speed_kmh": 120.0},
         {"name": "far link", "mode": "drive", "speed_kmh": 60.0},
         {"name": "new rail", "mode": "rail", "speed_kmh": 120.0, "headway_minutes": 6}],
        geometry=[shapely.LineString([grid_lonlat(0, 0, 1000.0), grid_lonlat(10, 20, 1000.0)]),
                  shapely.LineString([grid_lonlat(60, 60, 1000.0), grid_lonlat(70, 70, 1000.0)]),
                  shapely.LineString([grid_lonlat(20, 0, 1000.0), grid_lonlat(10, 20, 1000.0)])], crs=4326)  # fmt: skip
    sc = apply_scenario(GRID, _toy_rail(tmp_path), links)
    status = dict(zip(sc.links["name"], sc.links["status"], strict=True))
    assert status["融城干道"].startswith("added")
    assert status["far link"].startswith("not connected")
    assert status["new rail"] == "added as a rail line"
    after = commute_circle(sc.net, sc.rail, centres=C, minutes=30, green_heart=_toy_gh())
    table, diff = compare(before, after)
    ac = table[(table["mode"] == "drive") & (table["from"] == "A") & (table["to"] == "C")].iloc[0]
    assert ac["minutes_after"] == pytest.approx(
        np.hypot(10, 20) / 2.0, rel=1e-3
    )  # 22.4 km at 120 km/h
    assert (table["change_minutes"] <= 1e-9).all()
    assert (diff["area_after_km2"] >= diff["area_before_km2"] - 1e-6).all()


@settings(max_examples=15, deadline=None)
@given(
    st.integers(0, 30),
    st.integers(0, 30),
    st.integers(0, 30),
    st.integers(0, 30),
    st.floats(20, 150),
)
def test_adding_a_link_never_lengthens_removing_never_shortens(i0, j0, i1, j1, speed):
    if (i0, j0) == (i1, j1):
        return
    pts = [grid_lonlat(0, 0, 1000.0), grid_lonlat(30, 5, 1000.0), grid_lonlat(12, 25, 1000.0)]
    base = travel_time_matrix(GRID, pts).to_numpy()
    added = apply_scenario(
        GRID, None, _link((i0, j0), (i1, j1), name="x", mode="drive", speed_kmh=speed)
    ).net
    assert (travel_time_matrix(added, pts).to_numpy() <= base + 1e-9).all()
    removed = apply_scenario(
        GRID, None, _link((i0, j0), (i0, j1), name="r", mode="drive", action="remove")
    ).net
    assert (travel_time_matrix(removed, pts).to_numpy() >= base - 1e-9).all()


def test_cli_main_job_on_embedded_data(tmp_path, capsys):
    out = tmp_path / "cc"
    code = main(["commute-circle", "--out", str(out), "--offline", "--headway-min", "10"])
    text = capsys.readouterr().out
    assert code == 0
    assert "coarse skeleton" in text and "APPROXIMATE" in text
    for name in ("centre_times.csv", "reach.gpkg", "overlap.gpkg", "summary.json", "map.html"):
        assert (out / name).exists(), name
    s = json.loads((out / "summary.json").read_text())
    assert s["coarse"] is True and s["green_heart_approximate"] is True
    best = s["best_minutes"]
    assert 20 < best["长沙"]["株洲"] < 150


def test_cli_scenario(tmp_path, capsys):
    gj = tmp_path / "links.geojson"
    gpd.GeoDataFrame([{"name": "暮坪大桥", "mode": "drive", "speed_kmh": 60}],
                     geometry=[shapely.LineString([(112.93, 28.03), (113.00, 28.03)])], crs=4326).to_file(gj)  # fmt: skip
    code = main(
        ["commute-circle", "--out", str(tmp_path / "o"), "--scenario", str(gj), "--offline"]
    )
    assert code == 0
    assert (tmp_path / "o" / "scenario_times.csv").exists()
    assert "暮坪大桥" in capsys.readouterr().out


def test_population_raster(tmp_path):
    import rasterio
    from affine import Affine

    from cztgeo.crs import METRIC_CRS

    # 1 km cells in UTM 49N over the toy grid; 10 people per cell
    x0, y0 = GRID.x.min(), GRID.y.max()
    data = np.full((30, 30), 10.0, dtype="float32")
    path = tmp_path / "pop.tif"
    with rasterio.open(path, "w", driver="GTiff", height=30, width=30, count=1, dtype="float32",
                       crs=METRIC_CRS, transform=Affine(1000.0, 0.0, x0, 0.0, -1000.0, y0)) as dst:  # fmt: skip
        dst.write(data, 1)
    cc = commute_circle(
        GRID,
        None,
        centres=C,
        minutes=10,
        modes=("drive",),
        green_heart=_toy_gh(),
        population=str(path),
    )
    r = cc.reach.set_index("centre")
    # independent count: cell centres covered by A's reach polygon
    from cztgeo.isochrones import isochrones

    iso = (
        isochrones(GRID, (C[0].lon, C[0].lat), minutes=[10], max_snap_m=3000, access_kmh=20)
        .to_crs(METRIC_CRS)
        .geometry.iloc[0]
    )
    xs = x0 + 500 + 1000 * np.arange(30)
    ys = y0 - 500 - 1000 * np.arange(30)
    X, Y = np.meshgrid(xs, ys)
    expected = 10.0 * shapely.covers(iso, shapely.points(X.ravel(), Y.ravel())).sum()
    assert r.loc["A", "population"] == pytest.approx(expected)


def test_rail_access_on_a_walk_network(tmp_path):
    walk = synthetic_grid(31, 1000.0, speed_kmh=6.0)  # 10 min per 1 km edge on foot
    rail = _toy_rail(tmp_path)
    centres = [
        Centre("P", "P", *grid_lonlat(0, 2, 1000.0), "toy"),
        Centre("Q", "Q", *grid_lonlat(20, 3, 1000.0), "toy"),
    ]
    cc = commute_circle(
        GRID, rail, centres=centres, modes=("transit",), green_heart=_toy_gh(), walk_net=walk
    )
    # walk 2 km on the grid (20 min) + wait 5 + ride 8 + walk 3 km (30 min) = 63
    assert cc.matrix("transit").loc["P", "Q"] == pytest.approx(63.0, abs=0.01)
    j = cc.journeys.set_index(["from", "to", "chain"]).loc[("P", "Q", "transit")]
    assert (j["access_min"], j["wait_min"], j["in_vehicle_min"], j["egress_min"]) == pytest.approx(
        (20.0, 5.0, 8.0, 30.0), abs=0.01
    )
    assert any("walk on" in n for n in cc.notes)


def test_main_job_without_a_data_directory(tmp_path, capsys, monkeypatch):
    # a user who installed cztgeo but has no data folder: the embedded transit (station
    # positions included) still gives every mode
    monkeypatch.setenv("CZTGEO_DATA_DIR", str(tmp_path / "no-such-folder"))
    out = tmp_path / "cc"
    assert main(["commute-circle", "--out", str(out), "--offline"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert {r["mode"] for r in s["reach"]} == {"drive", "transit", "taxi+transit"}
    assert s["validation"]["counts"]["pass"] >= 10
    assert (out / "journeys.csv").exists() and (out / "validation.csv").exists()
