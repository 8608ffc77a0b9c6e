from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from cztgeo.errors import InputError
from cztgeo.rail import (
    load_rail,
    read_gtfs,
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


def test_journeys_add_up_and_match_networkx_on_a_graph_built_here():
    import networkx as nx

    from cztgeo.crs import METRIC_CRS, WGS84, transformer
    from cztgeo.rail import plan_journeys

    tn = load_rail()
    pts = [(112.9709, 28.1986), (113.1517, 27.8388), (112.9442, 27.8297), (113.0, 28.1)]
    js = plan_journeys(tn, pts)
    for row in js:
        for jr in row:
            parts = jr.access + jr.wait + jr.in_vehicle + jr.transfer + jr.egress
            assert parts == pytest.approx(jr.total, abs=1e-6)
    # independent: NetworkX on a graph built here from the same lines and assumptions
    x, y = tn.stop_xy

    def walk(d):
        return d * tn.detour / (tn.walk_kmh / 3.6) / 60.0

    G = nx.DiGraph()
    for li, ln in enumerate(tn.lines):
        w = tn.wait_minutes(ln)
        for k, s in enumerate(ln.stops):
            G.add_edge(("on", li, k), ("stop", s), weight=0.0)
            G.add_edge(("stop", s), ("on", li, k), weight=w + tn.transfer_minutes)
            for k2, run in ((k + 1, ln.run_minutes[k] if k + 1 < len(ln.stops) else None),
                            (k - 1, ln.run_minutes[k - 1] if k > 0 else None)):  # fmt: skip
                if run is not None:
                    G.add_edge(("on", li, k), ("on", li, k2), weight=run)
                    G.add_edge(("first", li, k), ("on", li, k2), weight=run)
    for a in range(len(x)):
        for b in range(len(x)):
            d = float(np.hypot(x[a] - x[b], y[a] - y[b]))
            if a != b and d <= tn.transfer_walk_m:
                G.add_edge(("stop", a), ("stop", b), weight=walk(d))
    px, py = transformer(WGS84, METRIC_CRS).transform([p[0] for p in pts], [p[1] for p in pts])
    for i, j in ((0, 1), (2, 0), (3, 1)):
        H = G.copy()
        for li, ln in enumerate(tn.lines):
            for k, s in enumerate(ln.stops):
                d = np.hypot(x[s] - px[i], y[s] - py[i])
                H.add_edge("src", ("first", li, k), weight=walk(d) + tn.wait_minutes(ln))
        for s in range(len(x)):
            H.add_edge(("stop", s), "dst", weight=walk(np.hypot(x[s] - px[j], y[s] - py[j])))
        H.add_edge("src", "dst", weight=walk(np.hypot(px[j] - px[i], py[j] - py[i])))
        expected = nx.shortest_path_length(H, "src", "dst", weight="weight")
        assert js[i][j].total == pytest.approx(expected, abs=1e-6)


def test_bad_line_file(tmp_path):
    with pytest.raises(InputError, match="rail line file not found"):
        load_rail(tmp_path / "none.json", stations=_stations([("A", (0, 0))]))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_rail(tmp_path / "bad.json", stations=_stations([("A", (0, 0))]))


def test_gtfs_feed_built_by_the_test(tmp_path):
    import zipfile

    a, b, c = grid_lonlat(0, 0, 1000.0), grid_lonlat(10, 0, 1000.0), grid_lonlat(20, 0, 1000.0)
    files = {
        "stops.txt": f"stop_id,stop_name,stop_lat,stop_lon\nA,A,{a[1]},{a[0]}\nB,B,{b[1]},{b[0]}\nC,C,{c[1]},{c[0]}\n",
        "routes.txt": "route_id,route_short_name,route_type\nR1,Intercity,2\n",
        "trips.txt": "route_id,service_id,trip_id,direction_id\nR1,S,T1,0\nR1,S,T2,0\nR1,S,T3,0\n",
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        + "".join(
            f"{t},{h}:{m:02d}:00,{h}:{m:02d}:00,A,1\n{t},{h}:{m + 9:02d}:00,{h}:{m + 10:02d}:00,B,2\n{t},{h}:{m + 20:02d}:00,{h}:{m + 20:02d}:00,C,3\n"
            for t, h, m in (("T1", "07", 0), ("T2", "07", 15), ("T3", "07", 30))
        ),
    }
    z = tmp_path / "feed.zip"
    with zipfile.ZipFile(z, "w") as fh:
        for name, text in files.items():
            fh.writestr(name, text)
    tn = read_gtfs(z)
    assert len(tn.lines) == 1
    ln = tn.lines[0]
    assert ln.headway_minutes == pytest.approx(15.0)
    assert sum(ln.run_minutes) == pytest.approx(20.0)
    arr = transit_arrivals(tn, a)
    assert arr[2] == pytest.approx(7.5 + 20.0, abs=0.01)
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as fh:
        fh.writestr("routes.txt", files["routes.txt"])
    with pytest.raises(InputError, match="no stops.txt"):
        read_gtfs(bad)
