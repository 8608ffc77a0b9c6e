from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from cztgeo.errors import InputError
from cztgeo.rail import (
    load_rail,
    transit_arrivals,
    transit_reach,
    transit_time_matrix,
)
from cztgeo.testing import grid_lonlat


def _stations(names_xy):
    return gpd.GeoDataFrame(
        {"name": [n for n, _ in names_xy], "station": "train"},
        geometry=[shapely.Point(grid_lonlat(i, j, 1000.0)) for _, (i, j) in names_xy],
        crs=4326,
    )


def _line_file(tmp_path, lines, **extra):
    import json

    spec = {
        "walk_access": {"speed_kmh": 6.0, "detour_factor": 1.0},
        "transfer_penalty_minutes": 4,
        "lines": lines,
        **extra,
    }
    p = tmp_path / "lines.json"
    p.write_text(json.dumps(spec, ensure_ascii=False))
    return p


def test_hand_checked_three_centre_toy(tmp_path):
    # stations A (0,0) - B (10,0) - C (20,0) km on one line: 10 min per 10 km, headway 12 min;
    # a second line B - D (10,10) km, 15 min, headway 20 min. Walking 6 km/h = 100 m/min.
    st = _stations([("A", (0, 0)), ("B", (10, 0)), ("C", (20, 0)), ("D", (10, 10))])
    lines = [
        {
            "id": "L1",
            "name": "L1",
            "stations": ["A", "B", "C"],
            "run_minutes": {"from": "A", "to": "C", "minutes": 20},
            "headway_minutes": 12,
        },
        {
            "id": "L2",
            "name": "L2",
            "stations": ["B", "D"],
            "run_minutes": {"from": "B", "to": "D", "minutes": 15},
            "headway_minutes": 20,
        },
    ]
    tn = load_rail(_line_file(tmp_path, lines), stations=st)
    origin = grid_lonlat(0, 0.5, 1000.0)  # 500 m north of A: 5 min walk
    arr = transit_arrivals(tn, origin)
    i = {n: k for k, n in enumerate(tn.stop_name)}
    # to C: walk 5 + wait 6 + ride 20 = 31
    assert arr[i["C"]] == pytest.approx(31.0, abs=0.05)
    # to D: walk 5 + wait 6 + ride 10 to B + transfer (wait 10 + penalty 4) + ride 15 = 50
    assert arr[i["D"]] == pytest.approx(50.0, abs=0.05)
    # origin -> point 300 m east of C: 31 + 3 min walk
    m = transit_time_matrix(tn, [origin, grid_lonlat(20.3, 0, 1000.0)])
    assert m.iloc[0, 1] == pytest.approx(34.0, abs=0.05)
    # reach in 40 min: island around C of radius (40 - 31) * 100 m = 900 m, not 1.1 km
    reach = transit_reach(tn, origin, 40.0)
    cx, cy = tn.stop_xy[0][i["C"]], tn.stop_xy[1][i["C"]]
    assert reach.contains(shapely.Point(cx + 850, cy))
    assert not reach.contains(shapely.Point(cx + 1100, cy))
    # the island is separate from the walking disc around the origin: stations show as islands
    assert reach.geom_type == "MultiPolygon"
    # a departure window of 12 min removes the first wait
    tw = tn.__class__(**{**tn.__dict__, "departure_window_minutes": 12.0, "_xy": {}})
    assert transit_arrivals(tw, origin)[i["C"]] == pytest.approx(25.0, abs=0.05)
    assert transit_arrivals(tn.with_headway(2), origin)[i["C"]] == pytest.approx(26.0, abs=0.05)


def test_unknown_stations_named_never_invented(tmp_path):
    st = _stations([("A", (0, 0)), ("C", (20, 0))])
    lines = [
        {
            "id": "L1",
            "name": "L1",
            "stations": ["A", "Bx", "C", "Dx"],
            "run_minutes": {"from": "A", "to": "C", "minutes": 20},
            "headway_minutes": 10,
        }
    ]
    with pytest.raises(InputError, match=r"Bx \('L1'\): unknown station.*Dx \('L1'\)"):
        load_rail(_line_file(tmp_path, lines), stations=st)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"stations": ["A", "C", "A"]}, r"A \('L1'\): listed twice"),
        ({"run_minutes": None}, r"'L1': no run time"),
        ({"headway_minutes": None}, r"'L1': no headway_minutes"),
        ({"headway_minutes": -5}, r"headway_minutes must be positive"),
        ({"run_minutes": {"from": "A", "to": "Q", "minutes": 5}}, r"not on the line"),
        (
            {"stations": [{"name": "far", "lon": 113.5, "lat": 28.9}, "A"]},
            r"far \('L1'\): \d+ m from the nearest rail point",
        ),
        ({"stations": [{"name": "A", "lon": "x", "lat": 1}, "C"]}, r"no numeric lon/lat"),
        ({"stations": "AC"}, r"line 'L1': 'stations' must be a list"),
        (
            {"run_minutes": {"from": "A", "to": "C", "minutes": 20, "dwell_minutes": "x"}},
            r"line 'L1': run.dwell_minutes must be a number, got 'x'",
        ),
        (
            {"run_minutes": {"from": "A", "to": "C", "minutes": 20, "dwell_minutes": -1}},
            r"line 'L1': run.dwell_minutes must be >= 0",
        ),
    ],
)
def test_bad_line_definitions_name_each_offender(tmp_path, line, message):
    st = _stations([("A", (0, 0)), ("C", (20, 0))])
    spec = {
        "id": "L1",
        "name": "L1",
        "stations": ["A", "C"],
        "run_minutes": {"from": "A", "to": "C", "minutes": 20},
        "headway_minutes": 10,
        **line,
    }
    spec = {k: v for k, v in spec.items() if v is not None}
    with pytest.raises(InputError, match=message):
        load_rail(_line_file(tmp_path, [spec]), stations=st)


def test_line_file_errors_exit_2_and_write_nothing(tmp_path, capsys):
    from cztgeo.cli import main

    spec = [{"id": "L", "name": "L", "stations": ["nowhere", "也没有"],
             "run": {"speed_kmh": 30}, "headway_minutes": 5}]  # fmt: skip
    p = _line_file(tmp_path, spec)
    out = tmp_path / "out"
    assert main(["commute-circle", "--out", str(out), "--rail-lines", str(p), "--offline"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nowhere" in err[0] and "也没有" in err[0]
    assert not out.exists()


def test_embedded_transit_matches_the_shared_station_files(data_dir):
    import pandas as pd

    tn = load_rail()
    inter = pd.read_csv(data_dir / "rail" / "czt_intercity_stations.csv")
    metro = pd.read_csv(data_dir / "rail" / "changsha_metro_stations.csv")
    by_id = {ln.id: ln for ln in tn.lines}
    # every line-station row of the shared files is on its line, in order, at its position
    for line, rows in metro.groupby("line", sort=False):
        ln = by_id["changsha-metro-" + line.replace("号线", "").replace("线", "").lower()]
        rows = rows.sort_values("order")
        assert [tn.stop_name[s] for s in ln.stops] == rows["name"].tolist()
        lon, lat = tn.stop_lon[list(ln.stops)], tn.stop_lat[list(ln.stops)]
        # a stop shared by two lines sits on one of their points (the 300 m merge)
        dx = (lon - rows["lon"].to_numpy()) * 98_000
        dy = (lat - rows["lat"].to_numpy()) * 111_000
        assert np.hypot(dx, dy).max() < 300.0, line
    branch = inter["branch"].str.startswith
    zz = [tn.stop_name[s] for s in by_id["czt-intercity-zhuzhou"].stops]
    assert zz == inter[branch("长沙—株洲南")].sort_values("order")["name"].tolist()
    xt = [tn.stop_name[s] for s in by_id["czt-intercity-xiangtan"].stops]
    assert xt[:7] == zz[:7]
    assert xt[7:] == inter[branch("暮云")].sort_values("order")["name"].tolist()
    assert set(inter["name"]) | set(metro["name"]) <= set(tn.stop_name)
    # sourced run times kept: 长沙 -> 株洲南 and 长沙 -> 湘潭 are 50 min on the all-stop service
    assert sum(by_id["czt-intercity-zhuzhou"].run_minutes) == pytest.approx(50.0)
    assert sum(by_id["czt-intercity-xiangtan"].run_minutes) == pytest.approx(50.0)
    l2 = by_id["changsha-metro-2"]
    assert tn.headway(l2) == pytest.approx(5.6)
    assert tn.with_period("peak").headway(l2) == pytest.approx(4.45)


def test_bad_line_file(tmp_path):
    with pytest.raises(InputError, match="rail line file not found"):
        load_rail(tmp_path / "none.json", stations=_stations([("A", (0, 0))]))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_rail(tmp_path / "bad.json", stations=_stations([("A", (0, 0))]))


def test_run_times_spread_by_track_length_with_dwells(tmp_path):
    # A (0, 0) - B (10, 0) - C (30, 0) km: 32 min from A to C with 1 min dwell a stop leaves
    # 30 min moving, split 10:20 by track, plus the dwell: 11 and 21 min
    st = _stations([("A", (0, 0)), ("B", (10, 0)), ("C", (30, 0))])
    lines = [
        {"id": "D", "name": "D", "stations": ["A", "B站", "C"],  # "B站" is station point "B"
         "run": {"from": "A", "to": "C", "minutes": 32, "dwell_minutes": 1},
         "headway_minutes": {"offpeak": 10}},
        {"id": "S", "name": "S", "stations": ["A", "C"], "run": {"speed_kmh": 60},
         "headway_minutes": {"offpeak": 10, "peak": 4}},
    ]  # fmt: skip
    tn = load_rail(_line_file(tmp_path, lines), stations=st)
    by_id = {ln.id: ln for ln in tn.lines}
    assert by_id["D"].run_minutes == pytest.approx((11.0, 21.0), abs=1e-6)
    assert by_id["S"].run_minutes == pytest.approx((30.0,), abs=1e-6)  # 30 km at 60 km/h
    assert [tn.stop_name[s] for s in by_id["D"].stops] == ["A", "B", "C"]
    peak = tn.with_period("peak")
    assert (peak.headway(by_id["D"]), peak.headway(by_id["S"])) == (10.0, 4.0)


def test_low_confidence_positions_warn_once(tmp_path):
    from cztgeo.errors import RailWarning

    st = _stations([("A", (0, 0)), ("C", (20, 0))])
    guess = grid_lonlat(20, 0.2, 1000.0)  # 200 m from the point of C
    lines = [{"id": "L", "name": "L", "headway_minutes": 10, "run": {"speed_kmh": 60},
              "stations": ["A", {"name": "C?", "lon": guess[0], "lat": guess[1],
                                 "confidence": "low: read off a map"}]}]  # fmt: skip
    with pytest.warns(RailWarning, match=r"low-confidence station positions .*: C\?$"):
        tn = load_rail(_line_file(tmp_path, lines), stations=st)
    assert tn.stop_name == ("A", "C?")


def test_the_typed_line_format_covers_the_embedded_file():
    import json

    from cztgeo.rail import EMBEDDED_TRANSIT, LineFile, LineSpec, RunSpec, StationSpec
    from cztgeo.settings import embedded_data_dir

    spec = json.loads((embedded_data_dir() / EMBEDDED_TRANSIT).read_text(encoding="utf-8"))
    assert set(spec) <= set(LineFile.__annotations__)
    for ln in spec["lines"]:
        assert set(ln) <= set(LineSpec.__annotations__), ln["id"]
        assert set(ln["run"]) <= set(RunSpec.__annotations__), ln["id"]
        for s in ln["stations"]:
            assert isinstance(s, str) or set(s) <= set(StationSpec.__annotations__), s


def test_station_and_line_faults_are_collected_in_order(tmp_path):
    st = _stations([("A", (0, 0)), ("C", (20, 0))])
    lines = [{"id": "L", "name": "L", "headway_minutes": 10, "run": {"speed_kmh": 60},
              "stations": [{"name": "A", "lon": "east", "lat": 28.0}, "C"]}]  # fmt: skip
    with pytest.raises(InputError) as info:
        load_rail(_line_file(tmp_path, lines), stations=st)
    assert str(info.value) == (
        "lines.json: A ('L'): no numeric lon/lat; line 'L': fewer than 2 stations"
    )


@pytest.mark.parametrize("factor", ["x", 0, -1.0])
def test_bad_track_factor_is_an_input_error(tmp_path, factor):
    st = _stations([("A", (0, 0)), ("C", (20, 0))])
    lines = [{"id": "L", "name": "L", "stations": ["A", "C"], "run": {"speed_kmh": 60},
              "headway_minutes": 10}]  # fmt: skip
    with pytest.raises(InputError, match="lines.json: track_factor must be"):
        load_rail(_line_file(tmp_path, lines, track_factor=factor), stations=st)
