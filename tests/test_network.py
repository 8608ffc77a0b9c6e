from __future__ import annotations

import bz2
import time

import networkx as nx
import numpy as np
import pytest

from cztgeo.errors import (
    DataSourceError,
    EmptyNetworkError,
    InputError,
    NetworkWarning,
    OfflineError,
)
from cztgeo.network import load_network, read_network_cache
from cztgeo.osm import from_networkx, way_directions
from cztgeo.sources import OverpassSource
from cztgeo.speeds import SpeedProfile


def _nx_times(net, source):
    G = net.to_networkx()
    return nx.single_source_dijkstra_path_length(G, source, weight="travel_time")


def _csgraph_times(net, source):
    from scipy.sparse import csgraph

    return csgraph.dijkstra(net.csr(), indices=source)


@pytest.mark.parametrize("mode", ["walk", "drive", "bike"])
def test_yuelu_times_equal_networkx(yuelu_osm, settings, mode):
    net = load_network(yuelu_osm, mode=mode, settings=settings)
    assert net.n_arcs > 0 and net.mode == mode
    for src in (0, net.n_nodes // 2):
        ours = _csgraph_times(net, src)
        ref = _nx_times(net, src)
        reached = np.isfinite(ours)
        assert reached.sum() == len(ref)
        for node, t in ref.items():
            assert ours[node] == pytest.approx(t, rel=1e-9, abs=1e-9)


def test_helsinki_pbf_drive_equals_networkx(helsinki_pbf, settings):
    with pytest.warns(NetworkWarning, match="have no location"):
        net = load_network(helsinki_pbf, mode="drive", settings=settings)
    assert net.n_nodes > 1000
    assert net.crs == "EPSG:32635"
    ours = _csgraph_times(net, 10)
    ref = _nx_times(net, 10)
    assert len(ref) > 100
    for node, t in ref.items():
        assert ours[node] == pytest.approx(t, rel=1e-9)


def test_walk_vs_drive_filters(yuelu_osm, settings):
    walk = load_network(yuelu_osm, mode="walk", settings=settings)
    drive = load_network(yuelu_osm, mode="drive", settings=settings)
    assert "footway" in walk.kinds and "steps" in walk.kinds
    assert "footway" not in drive.kinds and "steps" not in drive.kinds
    # walking ignores one-way; every walk arc has its reverse
    assert (walk.reverse >= 0).all()
    # 潇湘中路 and 桃子湖路 are tagged oneway=yes: some drive arcs have no reverse
    assert (drive.reverse < 0).sum() > 0


def test_lengths_are_geodesic(yuelu_osm, settings):
    import pyproj

    net = load_network(yuelu_osm, mode="walk", settings=settings)
    g = pyproj.Geod(ellps="WGS84")
    t, h = net.tail[:50], net.head[:50]
    d = g.inv(net.lon[t], net.lat[t], net.lon[h], net.lat[h])[2]
    np.testing.assert_allclose(net.length_m[:50], d, rtol=1e-9)
    np.testing.assert_allclose(
        net.time_s[:50],
        net.length_m[:50]
        / (4.5 / 3.6)
        * np.where(np.asarray(net.kinds)[net.kind[:50]] == "steps", 1 / 0.6, 1.0),
        rtol=1e-9,
    )


@pytest.mark.parametrize(
    ("tags", "mode", "expected"),
    [
        ({"highway": "primary", "oneway": "yes"}, "drive", (True, False)),
        ({"highway": "primary", "oneway": "-1"}, "drive", (False, True)),
        ({"highway": "motorway"}, "drive", (True, False)),
        ({"highway": "residential", "junction": "roundabout"}, "drive", (True, False)),
        ({"highway": "residential", "oneway": "yes"}, "walk", (True, True)),
        ({"highway": "footway"}, "drive", None),
        ({"highway": "motorway"}, "walk", None),
        ({"highway": "service", "service": "parking_aisle"}, "drive", None),
        ({"highway": "residential", "access": "private"}, "drive", None),
        ({"highway": "footway", "foot": "no"}, "walk", None),
        ({"highway": "steps"}, "bike", None),
        ({"highway": "secondary", "oneway": "yes", "oneway:bicycle": "no"}, "bike", (True, True)),
        ({"railway": "subway"}, "rail", (True, True)),
        ({"railway": "abandoned"}, "rail", None),
    ],
)
def test_way_directions(tags, mode, expected):
    assert way_directions(tags, mode) == expected


def test_maxspeed_changes_times(yuelu_osm, settings):
    a = load_network(yuelu_osm, mode="drive", settings=settings)
    b = load_network(
        yuelu_osm, mode="drive", settings=settings, profile=SpeedProfile(period="peak")
    )
    assert b.time_s.sum() > a.time_s.sum() * 1.5


def test_cache_written_keyed_and_reused(yuelu_osm, settings, tmp_path):
    import shutil

    src = tmp_path / "patch.osm"
    shutil.copy(yuelu_osm, src)
    net = load_network(src, mode="walk", settings=settings)
    files = list(settings.cache_dir.glob("*.cztnet"))
    assert len(files) == 1
    again = load_network(src, mode="walk", settings=settings)
    np.testing.assert_array_equal(again.time_s, net.time_s)
    # different mode: another key
    load_network(src, mode="drive", settings=settings)
    assert len(list(settings.cache_dir.glob("*.cztnet"))) == 2
    # content change: another key (the cache is keyed on content, not the path)
    src.write_text(src.read_text().replace('k="highway" v="footway"', 'k="highway" v="path"', 1))
    load_network(src, mode="walk", settings=settings)
    assert len(list(settings.cache_dir.glob("*.cztnet"))) == 3
    # a corrupt cache is discarded and rebuilt, never used
    files[0].write_bytes(b"garbage")
    src.write_text(src.read_text().replace('v="path"', 'v="footway"', 1))
    rebuilt = load_network(src, mode="walk", settings=settings)
    np.testing.assert_array_equal(rebuilt.time_s, net.time_s)


def test_cache_file_round_trip(yuelu_osm, settings, tmp_path):
    net = load_network(yuelu_osm, mode="walk", settings=settings)
    path = net.save(tmp_path / "yuelu.cztnet")
    back = load_network(path, mode="walk")
    for name in ("lon", "lat", "x", "y", "indptr", "head", "time_s", "length_m", "kind"):
        np.testing.assert_array_equal(getattr(back, name), getattr(net, name))
    assert back.kinds == net.kinds and back.source == net.source
    with pytest.raises(InputError, match="holds a 'walk' network, not 'drive'"):
        load_network(path, mode="drive")
    data = path.read_bytes()
    (tmp_path / "cut.cztnet").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataSourceError, match="corrupt or truncated"):
        read_network_cache(tmp_path / "cut.cztnet")


def test_bz2_osm(yuelu_osm, tmp_path, settings):
    p = tmp_path / "y.osm.bz2"
    p.write_bytes(bz2.compress(yuelu_osm.read_bytes()))
    a = load_network(p, mode="walk", settings=settings)
    b = load_network(yuelu_osm, mode="walk", settings=settings)
    assert a.n_arcs == b.n_arcs


def test_bad_inputs(yuelu_osm, tmp_path, settings):
    with pytest.raises(InputError, match="unknown mode 'boat'"):
        load_network(yuelu_osm, mode="boat", settings=settings)
    with pytest.raises(InputError, match="not found"):
        load_network(tmp_path / "none.osm.pbf", settings=settings)
    with pytest.raises(InputError, match="cannot tell the network format"):
        load_network(
            yuelu_osm.parent / ".." / "reference" / "green_heart_facts.json", settings=settings
        )
    nothing = SpeedProfile(urban_kmh={}, rural_kmh={})
    with pytest.raises(EmptyNetworkError, match="no drive arcs"):
        load_network(yuelu_osm, mode="drive", profile=nothing, settings=settings)
    cut = tmp_path / "cut.osm"
    cut.write_bytes(yuelu_osm.read_bytes()[:30000])
    with pytest.raises(DataSourceError, match="cut.osm: cannot read it as OSM data"):
        load_network(cut, mode="walk", settings=settings)
    assert not any(settings.cache_dir.glob("cut.osm*")) if settings.cache_dir.exists() else True
    garbage = tmp_path / "bad.osm.pbf"
    garbage.write_bytes(b"\x00\x01not a pbf" * 100)
    with pytest.raises(DataSourceError, match="bad.osm.pbf: cannot read it"):
        load_network(garbage, settings=settings)


def test_truncated_pbf(helsinki_pbf, tmp_path, settings):
    cut = tmp_path / "cut.osm.pbf"
    data = helsinki_pbf.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataSourceError, match="cut.osm.pbf: cannot read it"):
        load_network(cut, settings=settings)


def test_rail_mode_reads_subway_and_stations(yuelu_osm, settings):
    net = load_network(yuelu_osm, mode="rail", settings=settings)
    assert net.kinds == ("subway",)
    assert len(net.stations["osm_id"]) >= 1


def test_embedded_skeleton():
    net = load_network()
    assert net.coarse and "coarse" in net.note
    in_box = (net.lon >= 112.3) & (net.lon <= 113.9) & (net.lat >= 27.3) & (net.lat <= 28.7)
    assert 1300 <= in_box.sum() <= 1400  # scgraph-data: 1,341 nodes in this box
    t, h = net.tail, net.head
    both = in_box[t] & in_box[h]
    km = net.length_m[both].sum() / 2 / 1000  # undirected: two arcs per road
    assert 4500 < km < 4900
    with pytest.raises(InputError, match="for mode 'drive', not 'walk'"):
        load_network(mode="walk")


def test_overpass_offline_raises_at_once(settings):
    start = time.perf_counter()
    with pytest.raises(OfflineError, match="offline"):
        load_network(OverpassSource("岳麓区, 长沙市"), settings=settings)
    assert time.perf_counter() - start < 1.0


def test_from_networkx_splits_curved_edges():
    import shapely

    G = nx.MultiDiGraph(crs="EPSG:4326")
    G.add_node(1, x=113.0, y=28.0)
    G.add_node(2, x=113.01, y=28.0)
    geom = shapely.LineString([(113.0, 28.0), (113.005, 28.003), (113.01, 28.0)])
    G.add_edge(1, 2, length=1200.0, travel_time=120.0, highway="primary", geometry=geom)
    net = from_networkx(G)
    assert net.n_nodes == 3 and net.n_arcs == 2
    assert net.time_s.sum() == pytest.approx(120.0)
    assert net.length_m.sum() == pytest.approx(1200.0)


def test_arc_tree_finds_the_nearest_arc(yuelu_osm, settings):
    import shapely

    net = load_network(yuelu_osm, mode="walk", settings=settings)
    tree = net.arc_tree()
    assert net.arc_tree() is tree  # built once
    rng = np.random.default_rng(1)
    x = rng.uniform(net.x.min(), net.x.max(), 40)
    y = rng.uniform(net.y.min(), net.y.max(), 40)
    pts = shapely.points(x, y)
    (_, arc), dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    segs = net.segments(metric=True)
    # brute force: distance from every point to every arc
    brute = shapely.distance(segs[np.newaxis, :], pts[:, np.newaxis]).min(axis=1)
    np.testing.assert_allclose(dist, brute, rtol=1e-12)
    np.testing.assert_allclose(shapely.distance(segs[arc], pts), brute, rtol=1e-12)


def test_cache_without_required_metadata_is_refused(yuelu_osm, settings, tmp_path):
    import json

    net = load_network(yuelu_osm, mode="walk", settings=settings)
    good = net.save(tmp_path / "good.cztnet")
    with np.load(good) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(bytes(arrays.pop("meta")).decode())
    del meta["note"]
    bad = tmp_path / "no_note.cztnet"
    with open(bad, "wb") as fh:  # a file object: np.savez would add .npz to a name
        np.savez(fh, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    with pytest.raises(DataSourceError, match="invalid network cache .*coarse/note"):
        read_network_cache(bad)


def _rewrite_cache(good, bad, *, meta_change=None, **arrays_change):
    """Copy the cache ``good`` to ``bad`` with some arrays (None: dropped) or metadata changed."""
    import json

    with np.load(good) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(bytes(arrays.pop("meta")).decode())
    meta.update(meta_change or {})
    for name, value in arrays_change.items():
        if value is None:
            arrays.pop(name)
        else:
            arrays[name] = value
    with open(bad, "wb") as fh:
        np.savez(fh, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    return bad


def _brute_reverse(net):
    """Lowest-numbered arc v->u of each arc u->v, -1 where none, by a plain dict."""
    first = {}
    for a, (u, v) in enumerate(zip(net.tail.tolist(), net.head.tolist(), strict=True)):
        first.setdefault((u, v), a)
    return np.array(
        [first.get((v, u), -1) for u, v in zip(net.tail.tolist(), net.head.tolist(), strict=True)]
    )


def test_cache_stores_the_reverse_arcs(yuelu_osm, settings, tmp_path):
    from cztgeo.routing import travel_times

    net = load_network(yuelu_osm, mode="drive", settings=settings)
    path = net.save(tmp_path / "drive.cztnet")
    with np.load(path) as z:
        stored = z["reverse"]
    expected = _brute_reverse(net)
    assert (expected < 0).any() and (expected >= 0).any()  # one-way and two-way streets
    np.testing.assert_array_equal(stored, expected)
    back = read_network_cache(path)
    assert "reverse" in back._derived  # read, not computed again
    np.testing.assert_array_equal(back.reverse, expected)
    origin = (float(net.lon[5]), float(net.lat[5]))
    np.testing.assert_array_equal(travel_times(back, origin), travel_times(net, origin))


def _bad_reverses(rev):
    rng = np.random.default_rng(0)
    two_way = np.flatnonzero(rev >= 0)
    shuffled = rev.copy()
    shuffled[two_way] = rng.permutation(rev[two_way])
    swapped = rev.copy()  # two arcs' entries exchanged: each still names some arc
    a, b = two_way[0], two_way[len(two_way) // 2]
    swapped[a], swapped[b] = rev[b], rev[a]
    dropped = rev.copy()  # a two-way street stored as one-way
    dropped[two_way[3]] = -1
    out_of_range = rev.copy()
    out_of_range[0] = rev.size
    return {
        "permuted": (shuffled, "inconsistent"),
        "two swapped": (swapped, "inconsistent"),
        "one missing": (dropped, "missing"),
        "all missing": (np.full_like(rev, -1), "missing"),
        "out of range": (out_of_range, "outside the arc range"),
        "float values": (rev.astype(np.float64), "'reverse' has shape"),
    }


@pytest.mark.parametrize(
    "case",
    ["permuted", "two swapped", "one missing", "all missing", "out of range",
     "float values"],
)  # fmt: skip
def test_cache_with_a_bad_reverse_index_is_refused(yuelu_osm, settings, tmp_path, case):
    net = load_network(yuelu_osm, mode="drive", settings=settings)
    good = net.save(tmp_path / "good.cztnet")
    with np.load(good) as z:
        rev = z["reverse"]
    value, message = _bad_reverses(rev)[case]
    bad = _rewrite_cache(good, tmp_path / "bad.cztnet", reverse=value)
    with pytest.raises(DataSourceError, match=f"invalid network cache .*{message}") as info:
        read_network_cache(bad)
    assert "\n" not in str(info.value)


def test_cache_with_a_bad_reverse_index_is_rebuilt(yuelu_osm, settings, tmp_path):
    import shutil

    src = tmp_path / "patch.osm"
    shutil.copy(yuelu_osm, src)
    net = load_network(src, mode="drive", settings=settings)
    (cached,) = settings.cache_dir.glob("*.cztnet")
    with np.load(cached) as z:
        rev = z["reverse"]
    _rewrite_cache(cached, cached, reverse=np.roll(rev, 1))
    again = load_network(src, mode="drive", settings=settings)  # discarded and rebuilt
    np.testing.assert_array_equal(again.reverse, _brute_reverse(net))
    with np.load(cached) as z:
        np.testing.assert_array_equal(z["reverse"], rev)  # written again, sound


def test_cache_of_the_old_format_is_read_and_older_refused(yuelu_osm, settings, tmp_path):
    net = load_network(yuelu_osm, mode="drive", settings=settings)
    good = net.save(tmp_path / "good.cztnet")
    # format 2 (before the stored reverse index, e.g. a fetched cache): read as it is, the
    # index computed on first use, so a user need not download the extract again
    old = _rewrite_cache(good, tmp_path / "old.cztnet", meta_change={"format": 2}, reverse=None)
    back = load_network(old, mode="drive")
    assert "reverse" not in back._derived
    np.testing.assert_array_equal(back.reverse, _brute_reverse(net))
    np.testing.assert_array_equal(back.head, net.head)
    older = _rewrite_cache(good, tmp_path / "older.cztnet", meta_change={"format": 1})
    with pytest.raises(DataSourceError, match="format 1 is not 3; rebuild it") as info:
        load_network(older, mode="drive")
    assert "\n" not in str(info.value)
    # the same arrays under the new format number, but without the index: refused
    unlabelled = _rewrite_cache(good, tmp_path / "no_rev.cztnet", reverse=None)
    with pytest.raises(DataSourceError, match=r"arrays \['reverse'\] missing"):
        read_network_cache(unlabelled)


def test_cache_of_a_network_with_parallel_arcs(tmp_path):
    from cztgeo.network import Network

    # arcs: 0->1 (twice: parallel), 0->2, 1->0, 2->0 ; node 1's reverse is the first 0->1
    lon = np.array([113.0, 113.001, 113.0])
    lat = np.array([28.0, 28.0, 28.001])
    net = Network(
        lon=lon, lat=lat, x=lon * 1e5, y=lat * 1e5, node_id=np.arange(3, dtype=np.int64),
        indptr=np.array([0, 3, 4, 5], dtype=np.int32),
        head=np.array([1, 1, 2, 0, 0], dtype=np.int32),
        time_s=np.array([5.0, 4.0, 6.0, 5.0, 6.0]), length_m=np.full(5, 100.0),
        kind=np.zeros(5, dtype=np.int16), kinds=("primary",), mode="drive", crs="EPSG:32649",
        source="hand-made",
    )  # fmt: skip
    np.testing.assert_array_equal(net.reverse, _brute_reverse(net))
    good = net.save(tmp_path / "par.cztnet")
    np.testing.assert_array_equal(read_network_cache(good).reverse, [3, 3, 4, 0, 2])
    other = net.reverse.copy()
    other[3] = 1  # the other parallel arc: a reverse, but not the one the network computes
    bad = _rewrite_cache(good, tmp_path / "bad.cztnet", reverse=other)
    with pytest.raises(DataSourceError, match="reverse arcs inconsistent"):
        read_network_cache(bad)
