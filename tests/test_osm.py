"""OSM readers against hand-made inputs with exact answers: a tiny .osm file, an osmnx GraphML
file, the embedded skeleton's peak factors, and the module layering."""

from __future__ import annotations

import subprocess
import sys

import networkx as nx
import numpy as np
import pyproj
import pytest

from cztgeo.errors import DataSourceError, InputError, NetworkWarning
from cztgeo.network import load_network
from cztgeo.osm import (
    PEAK_FACTOR,
    SKELETON_CLASSES,
    from_networkx,
    load_skeleton,
    read_osm,
    way_directions,
)
from cztgeo.speeds import DEFAULT_RURAL_KMH, DEFAULT_URBAN_KMH, RAIL_KMH, WALK_KMH, SpeedProfile

GEOD = pyproj.Geod(ellps="WGS84")
NODES = {  # id: (lon, lat)
    1: (113.000, 28.000),
    2: (113.001, 28.000),
    3: (113.002, 28.000),
    4: (113.002, 28.001),
    5: (113.003, 28.001),
}
WAYS = [  # (id, node ids, tags)
    (10, [1, 2, 3], {"highway": "primary", "oneway": "yes", "name": "one-way primary"}),
    (11, [3, 4], {"highway": "residential"}),
    (12, [2, 4], {"highway": "footway"}),
    (13, [1, 4], {"highway": "service", "service": "parking_aisle"}),
    (14, [4, 5], {"railway": "subway", "maxspeed": "80"}),
]


def _osm_xml(nodes, ways, extra_nodes=""):
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for i, (lon, lat) in nodes.items():
        out.append(f'<node id="{i}" version="1" lat="{lat}" lon="{lon}"/>')
    out.append(extra_nodes)
    for wid, refs, tags in ways:
        out.append(f'<way id="{wid}" version="1">')
        out += [f'<nd ref="{r}"/>' for r in refs]
        out += [f'<tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        out.append("</way>")
    out.append("</osm>")
    return "\n".join(out)


@pytest.fixture
def tiny_osm(tmp_path):
    station = (
        '<node id="6" version="1" lat="28.001" lon="113.0025">'
        '<tag k="railway" v="station"/><tag k="name" v="测试站"/><tag k="station" v="subway"/>'
        "</node>"
    )
    p = tmp_path / "tiny.osm"
    p.write_text(_osm_xml(NODES, WAYS, station), encoding="utf-8")
    return p


def _metres(u, v):
    (lo0, la0), (lo1, la1) = NODES[u], NODES[v]
    return GEOD.inv(lo0, la0, lo1, la1)[2]


def _arcs(net):
    """{(u, v) OSM ids: (time_s, length_m, class)}"""
    ids, kinds = net.node_id, np.asarray(net.kinds)
    return {
        (int(ids[t]), int(ids[h])): (float(ts), float(ln), str(kinds[k]))
        for t, h, ts, ln, k in zip(
            net.tail, net.head, net.time_s, net.length_m, net.kind, strict=True
        )
    }


@pytest.mark.parametrize(
    ("context", "table"), [("urban", DEFAULT_URBAN_KMH), ("rural", DEFAULT_RURAL_KMH)]
)
def test_read_osm_drive_exact(tiny_osm, context, table):
    net = read_osm(tiny_osm, mode="drive", profile=SpeedProfile(), context=context)
    arcs = _arcs(net)
    # one-way primary forwards only, residential both ways; footway, parking aisle, subway out
    assert set(arcs) == {(1, 2), (2, 3), (3, 4), (4, 3)}
    for (u, v), (time_s, length_m, kind) in arcs.items():
        assert length_m == pytest.approx(_metres(u, v), rel=1e-12)
        assert time_s == pytest.approx(length_m / (table[kind] / 3.6), rel=1e-12)
    assert net.source == "OpenStreetMap file tiny.osm"


def test_read_osm_walk_and_bike(tiny_osm):
    walk = _arcs(read_osm(tiny_osm, mode="walk", profile=SpeedProfile(), context="auto"))
    pairs = {(1, 2), (2, 3), (3, 4), (2, 4), (1, 4)}
    assert set(walk) == pairs | {(v, u) for u, v in pairs}
    for (u, v), (time_s, _, _) in walk.items():
        assert time_s == pytest.approx(_metres(u, v) / (WALK_KMH / 3.6), rel=1e-12)
    bike = _arcs(read_osm(tiny_osm, mode="bike", profile=SpeedProfile(), context="auto"))
    # bikes keep the one-way rule and stay off footways; the parking aisle is open to them
    assert set(bike) == {(1, 2), (2, 3), (3, 4), (4, 3), (1, 4), (4, 1)}


def test_read_osm_rail_speed_and_stations(tiny_osm):
    net = read_osm(tiny_osm, mode="rail", profile=SpeedProfile(), context="auto")
    arcs = _arcs(net)
    assert set(arcs) == {(4, 5), (5, 4)}
    posted = 80 * SpeedProfile().maxspeed_factor  # maxspeed=80 wins over subway's default
    assert posted != RAIL_KMH["subway"]
    assert arcs[(4, 5)][0] == pytest.approx(_metres(4, 5) / (posted / 3.6), rel=1e-12)
    assert net.stations == {
        "osm_id": [6],
        "name": ["测试站"],
        "lon": [pytest.approx(113.0025)],
        "lat": [pytest.approx(28.001)],
        "station": ["subway"],
    }


def test_read_osm_skips_segments_with_unlocated_nodes(tmp_path):
    p = tmp_path / "cut.osm"
    p.write_text(_osm_xml(NODES, [(20, [1, 2, 99, 3], {"highway": "residential"})]))
    with pytest.warns(NetworkWarning, match="1 way nodes have no location"):
        net = read_osm(p, mode="drive", profile=SpeedProfile(), context="urban")
    assert set(_arcs(net)) == {(1, 2), (2, 1)}  # 2-99 and 99-3 dropped


def test_read_osm_refuses_unknown_mode(tiny_osm):
    with pytest.raises(InputError, match="unknown mode 'boat'"):
        read_osm(tiny_osm, mode="boat", profile=SpeedProfile(), context="auto")


@pytest.mark.parametrize(
    ("tags", "mode", "expected"),
    [
        ({"highway": "pedestrian", "area": "yes"}, "walk", None),
        ({"highway": "cycleway"}, "walk", None),
        ({"highway": "cycleway", "foot": "yes"}, "walk", (True, True)),
        ({"highway": "residential", "access": "no", "motor_vehicle": "yes"}, "drive", (True, True)),
        ({"highway": "residential", "motorcar": "no"}, "drive", None),
        ({"highway": "footway", "bicycle": "designated"}, "bike", (True, True)),
        ({"highway": "residential", "oneway": "reverse"}, "bike", (False, True)),
        ({"highway": "residential", "access": "private", "bicycle": "yes"}, "bike", (True, True)),
        ({"railway": "rail", "service": "yard"}, "rail", None),
    ],
)
def test_way_directions_more(tags, mode, expected):
    assert way_directions(tags, mode) == expected


def test_graphml_round_trip(tmp_path):
    import osmnx

    G = nx.MultiDiGraph(crs="EPSG:4326")
    for i, (lon, lat) in NODES.items():
        G.add_node(i, x=lon, y=lat)
    G.add_edge(1, 2, length=1000.0, highway="primary", osmid=10)
    G.add_edge(2, 3, length=500.0, highway="residential", osmid=11)
    path = tmp_path / "g.graphml"
    osmnx.save_graphml(G, path)
    net = load_network(path, mode="drive")
    arcs = _arcs(net)
    assert arcs[(1, 2)][0] == pytest.approx(1000.0 / (DEFAULT_URBAN_KMH["primary"] / 3.6))
    assert arcs[(2, 3)][0] == pytest.approx(500.0 / (DEFAULT_URBAN_KMH["residential"] / 3.6))
    assert net.source == "GraphML g.graphml"
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><oops")
    with pytest.raises(DataSourceError, match="bad.graphml: cannot read GraphML"):
        load_network(bad, mode="drive")


def test_from_networkx_round_trips_to_networkx(tiny_osm):
    net = read_osm(tiny_osm, mode="walk", profile=SpeedProfile(), context="auto")
    back = from_networkx(net.to_networkx(), mode="walk")
    for name in ("lon", "lat", "indptr", "head", "time_s", "length_m"):
        np.testing.assert_array_equal(getattr(back, name), getattr(net, name))
    assert [back.kinds[k] for k in back.kind] == [net.kinds[k] for k in net.kind]


def test_skeleton_peak_is_offpeak_times_the_peak_factors():
    off, peak = load_skeleton(), load_skeleton(period="peak")
    np.testing.assert_array_equal(off.head, peak.head)
    assert off.kinds == peak.kinds == tuple(name for name, _ in SKELETON_CLASSES)
    urban = np.array(["urban" in name for name in off.kinds])[off.kind]
    factor = np.where(urban, PEAK_FACTOR["urban"], PEAK_FACTOR["rural"])
    np.testing.assert_allclose(peak.time_s * factor, off.time_s, rtol=1e-12)
    kmh = np.array([k for _, k in SKELETON_CLASSES])[off.kind]
    np.testing.assert_allclose(off.length_m / off.time_s * 3.6, kmh, rtol=1e-9)
    with pytest.raises(InputError, match="unknown period 'rush'"):
        load_skeleton(period="rush")


def _fresh_python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


def test_no_import_cycle_between_network_and_osm():
    # either module imports first in a fresh interpreter; network pulls osm in only on use
    first_osm = _fresh_python("import cztgeo.osm")
    assert first_osm.returncode == 0, first_osm.stderr
    lazy = _fresh_python(
        "import sys, cztgeo.network as n\n"
        "assert 'cztgeo.osm' not in sys.modules, 'network imported osm at import time'"
    )
    assert lazy.returncode == 0, lazy.stderr
