from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from cztgeo.errors import InputError
from cztgeo.rail import (
    RailWarning,
    load_rail,
    read_gtfs,
    transit_arrivals,
    transit_reach,
    transit_time_matrix,
)
from cztgeo.synthetic import grid_lonlat


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


def test_unplaced_stations_listed_never_invented(tmp_path):
    st = _stations([("A", (0, 0)), ("C", (20, 0))])
    lines = [
        {
            "id": "L1",
            "name": "L1",
            "stations": ["A", "Bx", "C"],
            "run_minutes": {"from": "A", "to": "C", "minutes": 20},
            "headway_minutes": 10,
        }
    ]
    with pytest.warns(RailWarning, match=r"1 stations .* Bx \(L1\)"):
        tn = load_rail(_line_file(tmp_path, lines), stations=st)
    assert tn.stop_name == ("A", "C")
    assert tn.lines[0].run_minutes == pytest.approx((20.0,))


def test_embedded_lines_on_real_osm_stations(data_dir):
    with pytest.warns(RailWarning, match="no named OSM station point") as rec:
        tn = load_rail()
    msg = str(rec[0].message)
    assert "昭山" in msg  # not in the OSM file: listed
    names = set(tn.stop_name)
    assert {"长沙", "暮云", "株洲", "湘潭", "长沙南", "株洲西", "湘潭北"} <= names
    # every placed station lies within 200 m of the OSM point of that name
    st = gpd.read_file(data_dir / "osm" / "czt_rail_stations.geojson")
    for name, lon, lat in zip(tn.stop_name, tn.stop_lon, tn.stop_lat, strict=True):
        pts = st[st["name"].fillna("").str.replace("站", "") == name]
        assert len(pts) > 0
        d = np.hypot((pts.geometry.x - lon) * 98_000, (pts.geometry.y - lat) * 111_000).min()
        assert d < 1.0, name
    # sourced run time kept: 长沙 -> 株洲 is 40 min on the intercity line
    zz = next(ln for ln in tn.lines if ln.id == "czt-intercity-zhuzhou")
    k = zz.stops.index(tn.stop_name.index("株洲"))
    assert sum(zz.run_minutes[:k]) == pytest.approx(40.0)


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
