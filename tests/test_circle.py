from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import assume, given, settings
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


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """The toy circle: 30 minutes, rail X between A and B (headway 10, ride 8)."""
    rail = _toy_rail(tmp_path_factory.mktemp("toy"))
    return commute_circle(GRID, rail, centres=C, minutes=30, green_heart=_toy_gh())


def test_toy_drive_times_exact(toy):
    drive = toy.matrix("drive")
    assert drive.loc["A", "B"] == pytest.approx(20.0, abs=1e-6)  # 20 edges of 1 min
    assert drive.loc["A", "C"] == pytest.approx(30.0, abs=1e-6)
    assert drive.loc["B", "C"] == pytest.approx(30.0, abs=1e-6)


def test_toy_transit_time_is_half_the_headway_plus_the_ride(toy):
    assert toy.matrix("transit").loc["A", "B"] == pytest.approx(5.0 + 8.0, abs=1e-6)


def test_toy_rail_is_the_older_name_of_transit(toy):
    assert toy.matrix("rail").equals(toy.matrix("transit"))


def test_toy_best_is_the_fastest_mode_and_flags_the_threshold(toy):
    assert toy.matrix("best").loc["A", "B"] == pytest.approx(13.0, abs=1e-6)
    t = toy.times[toy.times["mode"] == "best"].set_index(["from", "to"])
    assert bool(t.loc[("A", "C"), "within_threshold"])  # exactly 30 minutes
    assert bool(t.loc[("A", "B"), "within_threshold"])


def _area_km2(geom, crs):
    from cztgeo.crs import AREA_CRS

    return float(gpd.GeoSeries([geom], crs=crs).to_crs(AREA_CRS).area.iloc[0]) / 1e6


def test_toy_drive_reach_is_the_reference_isochrone(toy, ref):
    # the centre is on a node; the car's access speed is 20 km/h; 100 m either side of the
    # roads reached (the drive rule); tolerance 1 %: the isochrone grid rounds the outline
    want = ref.isochrone(GRID, (C[0].lon, C[0].lat), 30, 100.0, access_kmh=20)
    r = toy.reach.set_index(["centre", "mode"])
    assert r.loc[("A", "drive"), "area_km2"] == pytest.approx(_area_km2(want, GRID.crs), rel=0.01)


def test_toy_green_heart_share_of_the_reach(toy, ref):
    from cztgeo.crs import AREA_CRS

    want = gpd.GeoSeries(
        [ref.isochrone(GRID, (C[0].lon, C[0].lat), 30, 100.0, access_kmh=20)], crs=GRID.crs
    ).to_crs(AREA_CRS).iloc[0]  # fmt: skip
    gh = _toy_gh().to_crs(AREA_CRS).geometry.iloc[0]
    r = toy.reach.set_index(["centre", "mode"]).loc[("A", "drive")]
    assert r["green_heart_km2"] == pytest.approx(want.intersection(gh).area / 1e6, rel=0.01)
    assert r["green_heart_share"] == pytest.approx(want.intersection(gh).area / gh.area, rel=0.01)


@pytest.mark.parametrize(
    ("kind", "combine"), [("all", shapely.intersection_all), ("any", shapely.union_all)]
)
def test_toy_overlaps_are_the_reach_polygons_combined(toy, kind, combine):
    """'all' is the intersection of the three drive reaches, 'any' their union (measured by
    shapely on the written reach layer; 1e-4: the layer's coordinates are rounded)."""
    from cztgeo.crs import AREA_CRS

    reach = toy.reach[toy.reach["mode"] == "drive"].to_crs(AREA_CRS).geometry.to_numpy()
    ov = toy.overlap.set_index(["mode", "kind"])
    assert ov.loc[("drive", kind), "area_km2"] == pytest.approx(combine(reach).area / 1e6, rel=1e-4)


def test_toy_transit_reach_is_the_station_discs(toy):
    # from A: the disc walked from A in 30 min at 6 km/h (3 km), and an island around SB after
    # 13 min (wait + ride), radius (30 - 13) min at 6 km/h = 1.7 km
    r = toy.reach.set_index(["centre", "mode"])
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
    assume((i0, j0) != (i1, j1))  # a link needs two distinct ends
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


@pytest.fixture(scope="module")
def embedded():
    """The library's default run: embedded skeleton, transit and sketch, off-peak."""
    return commute_circle()


def test_drive_times_on_the_skeleton_match_the_reference(embedded, ref):
    from cztgeo.circle import DEFAULT_CENTRES
    from cztgeo.network import load_network

    net = load_network()
    drive = embedded.matrix("drive")
    for a in DEFAULT_CENTRES:
        for b in DEFAULT_CENTRES:
            want = ref.minutes(net, (a.lon, a.lat), (b.lon, b.lat), access_kmh=20.0)
            assert drive.loc[a.name, b.name] == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_cli_summary_is_the_library_result(tmp_path, embedded):
    out = tmp_path / "cc"
    assert main(["commute-circle", "--out", str(out), "--offline"]) == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["best_minutes"] == embedded.matrix("best").round(1).to_dict()


def test_cli_says_coarse_and_approximate(tmp_path, capsys):
    assert main(["commute-circle", "--out", str(tmp_path / "cc"), "--offline"]) == 0
    text = capsys.readouterr().out
    assert "coarse skeleton" in text and "APPROXIMATE" in text
    s = json.loads((tmp_path / "cc" / "summary.json").read_text(encoding="utf-8"))
    assert s["coarse"] is True and s["green_heart_approximate"] is True


def test_cli_headway_option_sets_every_wait(tmp_path):
    out = tmp_path / "cc"
    assert main(["commute-circle", "--out", str(out), "--offline", "--headway-min", "10"]) == 0
    j = pd.read_csv(out / "journeys.csv")
    rides = j[j["boardings"] > 0]
    assert len(rides) == 12  # transit and taxi+transit, 6 ordered pairs each
    # half of the 10-minute headway before each boarding
    np.testing.assert_allclose(rides["wait_min"], 5.0 * rides["boardings"], atol=1e-9)


class _WithLink:
    """The embedded skeleton plus one two-way arc, as the reference sees networks."""

    def __init__(self, net, u, v, seconds):
        self.crs, self._net, self._arc = net.crs, net, (u, v, seconds)

    def to_networkx(self):
        G = self._net.to_networkx()
        u, v, t = self._arc
        G.add_edge(u, v, travel_time=t)
        G.add_edge(v, u, travel_time=t)
        return G


def test_cli_scenario_link_shortens_the_trip_it_serves(tmp_path, ref):
    """A hypothetical 120 km/h link between the skeleton nodes nearest 长沙 and 湘潭: the
    scenario's drive time is the reference's on the skeleton plus that arc."""
    from cztgeo.circle import DEFAULT_CENTRES
    from cztgeo.network import load_network

    net = load_network()
    ends = [(112.963, 28.199), (112.951, 27.834)]  # skeleton nodes (0.001° grid)
    u, v = (int(np.argmin(np.hypot(net.lon - x, net.lat - y))) for x, y in ends)
    gj = tmp_path / "links.geojson"
    gpd.GeoDataFrame([{"name": "长潭快线 (hypothetical)", "mode": "drive", "speed_kmh": 120}],
                     geometry=[shapely.LineString(ends)], crs=4326).to_file(gj)  # fmt: skip
    out = tmp_path / "o"
    assert main(["commute-circle", "--out", str(out), "--scenario", str(gj), "--offline"]) == 0
    links = pd.read_csv(out / "scenario_links.csv")
    assert links["status"].iloc[0].startswith("added")
    table = pd.read_csv(out / "scenario_times.csv")
    row = table[(table["mode"] == "drive") & (table["from"] == "长沙") & (table["to"] == "湘潭")]
    cs, xt = (next(c for c in DEFAULT_CENTRES if c.name == n) for n in ("长沙", "湘潭"))
    seconds = links["length_m"].iloc[0] / (120 / 3.6)
    want = ref.minutes(
        _WithLink(net, u, v, seconds), (cs.lon, cs.lat), (xt.lon, xt.lat), access_kmh=20.0
    )
    assert row["minutes_after"].iloc[0] == pytest.approx(want, rel=1e-6)
    assert want < row["minutes_before"].iloc[0] - 10  # the link is worth taking


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


def test_main_job_without_a_data_directory(tmp_path, monkeypatch):
    # a user who installed cztgeo but has no data folder: the embedded transit (station
    # positions included) gives the same answers as with the shared data folder
    outputs = {}
    for name in ("with", "without"):
        if name == "without":
            monkeypatch.setenv("CZTGEO_DATA_DIR", str(tmp_path / "no-such-folder"))
        assert main(["commute-circle", "--out", str(tmp_path / name), "--offline"]) == 0
        outputs[name] = json.loads((tmp_path / name / "summary.json").read_text(encoding="utf-8"))
    assert outputs["without"] == outputs["with"]
