from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from cztgeo.boundaries import load_boundaries
from cztgeo.cli import main
from cztgeo.crs import METRIC_CRS, from_wgs84
from cztgeo.encroachment import (
    STATUSES,
    EncroachmentWarning,
    encroachment,
    gcj_guard,
    summarize,
)
from cztgeo.errors import CRSError, GeometryError, InputError
from cztgeo.greenheart import load_green_heart
from cztgeo.network import load_network


@pytest.fixture(scope="module")
def gh():
    return load_green_heart()


@pytest.fixture(scope="module")
def zoned(gh):
    """A synthetic two-zone layer cut from the sketch (core = west half)."""
    geom = gh.geometry.iloc[0]
    minx, miny, maxx, maxy = geom.bounds
    mid = (minx + maxx) / 2
    core = geom.intersection(shapely.box(minx, miny, mid, maxy))
    mix = geom.difference(shapely.box(minx, miny, mid, maxy))
    return gpd.GeoDataFrame(
        {"version": "2024-2035", "zone": ["核心保护区", "融合发展区"], "approximate": False,
         "source": "test zones"},
        geometry=[core, mix],
        crs=4326,
    )  # fmt: skip


def test_counties_agree_with_shapely(gh):
    counties = load_boundaries("county")
    res = encroachment(counties, gh, id_column="adcode", guard=False)
    z = gh.to_crs(METRIC_CRS).geometry.iloc[0]
    cm = counties.to_crs(METRIC_CRS).set_index("adcode")
    touched = res[res["status"].isin(["inside", "partly"])]
    assert len(touched) >= 4  # the sketch spans several districts of all three cities
    for _, r in touched.iterrows():
        expected = cm.loc[r["adcode"]].geometry.intersection(z).area
        assert r["overlap_area_m2"] == pytest.approx(expected, rel=1e-6)
        assert r["share_of_zone"] == pytest.approx(expected / z.area, rel=1e-6)
    # the overlaps add up to the whole sketch (counties tile the region)
    assert touched["overlap_area_m2"].sum() == pytest.approx(z.area, rel=1e-3)


def test_result_in_the_input_crs_and_flagged_approximate(gh):
    res = encroachment(load_boundaries("city"), gh, id_column="adcode", guard=False)
    assert res.crs.to_epsg() == 4326
    assert res["approximate"].all()


def test_roads_lengths_agree_with_shapely(gh):
    roads = load_network().edges()
    roads = roads[roads["u"] < roads["v"]].reset_index(drop=True)  # one line per road
    res = encroachment(roads, gh, guard=False)
    z = gh.to_crs(METRIC_CRS).geometry.iloc[0]
    rm = roads.to_crs(METRIC_CRS)
    crossing = res[res["status"] == "partly"]
    assert len(crossing) > 0
    for _, r in crossing.head(30).iterrows():
        expected = rm.geometry.iloc[r["feature_id"]].intersection(z).length
        assert r["overlap_length_m"] == pytest.approx(expected, rel=1e-6)
        assert r["geom_type"] == "line"
    inside = res[res["status"] == "inside"]
    for _, r in inside.head(10).iterrows():
        assert r["share_of_feature"] == pytest.approx(1.0)


def test_gcj02_input_declared_as_such_gives_same_answer(gh):
    counties = load_boundaries("county")
    a = encroachment(counties, gh, id_column="adcode", guard=False)
    g = counties.copy()
    g.geometry = from_wgs84(g.geometry.values, "gcj02")
    g = g.set_crs(None, allow_override=True)
    b = encroachment(g, gh, crs="gcj02", id_column="adcode", guard=False)
    a = a.sort_values(["adcode", "status"]).reset_index(drop=True)
    b = b.sort_values(["adcode", "status"]).reset_index(drop=True)
    assert list(a["adcode"]) == list(b["adcode"])
    np.testing.assert_allclose(b["overlap_area_m2"], a["overlap_area_m2"], rtol=1e-6)


@pytest.fixture(scope="module")
def central_roads():
    roads = load_network().edges()
    mid = shapely.centroid(roads.geometry.values)
    keep = ((shapely.get_x(mid) > 112.85) & (shapely.get_x(mid) < 113.2)
            & (shapely.get_y(mid) > 27.9) & (shapely.get_y(mid) < 28.3))  # fmt: skip
    return roads[keep].reset_index(drop=True)


def _gcj_shifted(gdf):
    shifted = gdf.copy()
    shifted.geometry = from_wgs84(shifted.geometry.values, "gcj02")
    return shifted


def test_gcj_guard_passes_unshifted_roads(central_roads):
    ok = gcj_guard(central_roads)
    assert ok.checked and not ok.suspect
    assert ok.median_m_as_is == pytest.approx(0.0, abs=1e-6)  # the roads are the reference


def test_gcj_guard_flags_shifted_roads(central_roads):
    bad = gcj_guard(_gcj_shifted(central_roads))
    assert bad.suspect
    # removing the offset gives the reference roads back (exact inverse: under 1 mm)
    assert bad.median_m_if_gcj == pytest.approx(0.0, abs=1e-3)
    assert bad.median_m_as_is > 80.0  # the guard's documented minimum gain
    assert "--crs gcj02" in bad.message


@pytest.fixture(scope="module")
def guard_lines():
    """The guard's default reference (road skeleton and county boundary lines), and the lines
    random point sets are drawn along: roads, and county boundaries (WGS84)."""
    from cztgeo.encroach_guard import _default_reference

    county = load_boundaries("county").to_crs(4326).boundary.values
    return _default_reference(), load_network().edges().geometry.values, county


def _points_along(lines, seed, spread_deg):
    """5-59 points on random lines of ``lines``, moved up to ``spread_deg`` in x and y."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    on = shapely.line_interpolate_point(
        lines[rng.integers(0, len(lines), n)], rng.uniform(0, 1, n), normalized=True
    )
    x = shapely.get_x(on) + rng.uniform(-spread_deg, spread_deg, n)
    y = shapely.get_y(on) + rng.uniform(-spread_deg, spread_deg, n)
    return gpd.GeoDataFrame(geometry=shapely.points(x, y), crs=4326)


def test_gcj_guard_quiet_on_random_unshifted_sets(guard_lines):
    """40 seeded WGS84 point sets scattered up to 1.1 km around roads and county boundaries:
    the median-only rule of the previous guard flagged two of them (seeds 48 and 60)."""
    ref, roads, county = guard_lines
    alarms = [seed for seed in range(40, 80)
              if gcj_guard(_points_along((roads, county)[seed % 2], seed, 0.01), ref).suspect]  # fmt: skip
    assert alarms == []


def test_gcj_guard_flags_gcj_copies_of_points_on_roads(guard_lines):
    ref, roads, _ = guard_lines
    for seed in range(40):
        pts = _points_along(roads, seed, 0.0)
        assert not gcj_guard(pts, ref).suspect, seed
        assert gcj_guard(_gcj_shifted(pts), ref).suspect, seed


def test_gcj_guard_says_why_it_could_not_check(guard_lines):
    ref, roads, _ = guard_lines
    on_road = shapely.line_interpolate_point(roads[:4], 0.5, normalized=True)
    one = gcj_guard(gpd.GeoDataFrame(geometry=on_road[:1], crs=4326), ref)
    assert not one.checked and "and the features have only 1 vertex;" in one.message
    far = shapely.points([80.0, 80.01, 80.02], [40.0, 40.0, 40.0])  # Xinjiang
    two = gcj_guard(gpd.GeoDataFrame(geometry=np.r_[on_road[:2], far], crs=4326), ref)
    assert not two.checked and "only 2 of the 5 vertices checked lie" in two.message
    none = gcj_guard(gpd.GeoDataFrame(geometry=far, crs=4326), ref)
    assert not none.checked and "none of the 3 vertices checked" in none.message
    enough = gcj_guard(gpd.GeoDataFrame(geometry=np.r_[on_road[:3], far], crs=4326), ref)
    assert enough.checked and not enough.suspect


def test_encroachment_warns_on_gcj_shifted_input(central_roads):
    with pytest.warns(EncroachmentWarning, match="GCJ-02 offset"):
        encroachment(_gcj_shifted(central_roads))


@pytest.fixture(scope="module")
def zone_case(zoned):
    """Five features around the synthetic two-zone layer, in UTM 49N: a point well inside the
    core, a square straddling the zone line, a sliver on the outer edge, a point 150 m outside
    and a polygon 5 km away; checked with a 300 m near band and outside rows."""
    core, mix = zoned.to_crs(METRIC_CRS).geometry
    whole = shapely.union_all([core, mix])
    inner = core.representative_point()
    on_line = core.intersection(mix).interpolate(0.5, normalized=True)  # the shared edge
    straddle = on_line.buffer(200, cap_style="square")
    edge_pt = whole.exterior.interpolate(0.3, normalized=True)
    dx, dy = edge_pt.x - whole.centroid.x, edge_pt.y - whole.centroid.y
    out_dir = np.array([dx, dy]) / np.hypot(dx, dy)
    sliver = shapely.box(edge_pt.x - 0.3, edge_pt.y - 0.3, edge_pt.x + 0.3, edge_pt.y + 0.3)
    near_pt = shapely.Point(edge_pt.x + out_dir[0] * 150, edge_pt.y + out_dir[1] * 150)
    far = shapely.Point(edge_pt.x + out_dir[0] * 5000, edge_pt.y + out_dir[1] * 5000).buffer(50)
    feats = gpd.GeoDataFrame(
        {"site": ["in", "straddle", "sliver", "near", "far"]},
        geometry=[inner, straddle, sliver, near_pt, far],
        crs=METRIC_CRS,
    )
    res = encroachment(feats, zoned, id_column="site", tolerance_m=300, include_outside=True,
                       guard=False)  # fmt: skip
    return {"res": res, "feats": feats.set_index("site").geometry, "core": core, "mix": mix}


def test_zone_statuses(zone_case):
    res = zone_case["res"]
    got = {(r["site"], r["zone"]): r["status"] for _, r in res.iterrows() if r["site"] != "far"}
    assert got[("in", "核心保护区")] == "inside"
    assert got[("straddle", "核心保护区")] == "partly"
    assert got[("straddle", "融合发展区")] == "partly"
    assert res[res["site"] == "sliver"]["status"].tolist() == ["sliver"]
    assert res[res["site"] == "near"]["status"].unique().tolist() == ["near"]
    assert res[res["site"] == "far"]["status"].tolist() == ["outside"]


@pytest.mark.parametrize(("zone", "key"), [("核心保护区", "core"), ("融合发展区", "mix")])
def test_straddling_overlap_per_zone_agrees_with_shapely(zone_case, zone, key):
    res = zone_case["res"]
    row = res[(res["site"] == "straddle") & (res["zone"] == zone)].iloc[0]
    expected = zone_case["feats"]["straddle"].intersection(zone_case[key]).area
    assert row["overlap_area_m2"] == pytest.approx(expected, rel=1e-6)


def test_sliver_overlap_agrees_with_shapely(zone_case):
    res = zone_case["res"]
    row = res[res["site"] == "sliver"].iloc[0]
    whole = shapely.union_all([zone_case["core"], zone_case["mix"]])
    expected = zone_case["feats"]["sliver"].intersection(whole).area
    assert 0 < expected < 1.0  # a sliver by construction (under the 1 m² default)
    assert row["overlap_area_m2"] == pytest.approx(expected, rel=1e-6)


def test_near_distance_agrees_with_shapely(zone_case):
    res = zone_case["res"]
    near = res[res["site"] == "near"]
    for _, r in near.iterrows():
        key = "core" if r["zone"] == "核心保护区" else "mix"
        assert r["distance_m"] == pytest.approx(
            zone_case[key].distance(zone_case["feats"]["near"]), rel=1e-6
        )


def test_results_keep_the_input_crs(zone_case):
    assert zone_case["res"].crs.to_string() == METRIC_CRS


def test_summary_counts_and_sums_per_zone_and_status(zone_case):
    res = zone_case["res"]
    s = summarize(res).set_index(["zone", "status"])
    grp = res.groupby(["zone", "status"], dropna=False)
    want = grp.agg(n=("site", "size"), a=("overlap_area_m2", "sum"), l=("overlap_length_m", "sum"))
    assert sorted(s.index, key=str) == sorted(want.index, key=str)
    for key, w in want.iterrows():
        assert s.loc[key, "features"] == w["n"]
        assert s.loc[key, "overlap_area_m2"] == pytest.approx(w["a"], rel=1e-12)
        assert s.loc[key, "overlap_length_m"] == pytest.approx(w["l"], rel=1e-12)


def test_zones_option_checks_only_those_zones(zoned, zone_case):
    feats = gpd.GeoDataFrame(
        {"site": zone_case["feats"].index}, geometry=zone_case["feats"].values, crs=METRIC_CRS
    )
    only_core = encroachment(feats, zoned, id_column="site", zones=["core"], guard=False)
    assert set(only_core["zone"]) == {"核心保护区"}


def _feats(**kw):
    base = {
        "id": [1, 2],
        "geometry": [
            shapely.box(113.0, 28.0, 113.01, 28.01),
            shapely.box(113.02, 28.0, 113.03, 28.01),
        ],
    }
    base.update(kw)
    return gpd.GeoDataFrame(base, crs=4326)


BAD_INPUTS = {
    "no-crs": (lambda: _feats().set_crs(None, allow_override=True), {}, CRSError, "no CRS"),
    "duplicate-ids": (lambda: _feats(id=[1, 1]), {}, GeometryError, "duplicate ids"),
    "missing-ids": (lambda: _feats(id=[1, None]), {}, GeometryError, "missing ids"),
    "null-geometry": (
        lambda: _feats(geometry=[shapely.box(113, 28, 113.01, 28.01), None]), {},
        GeometryError, "null or empty",
    ),
    "collection": (
        lambda: _feats(geometry=[
            shapely.GeometryCollection([shapely.Point(113, 28), shapely.box(113, 28, 113.1, 28.1)]),
            shapely.Point(113, 28),
        ]), {}, GeometryError, "geometry collections",
    ),
    "negative-tolerance": (_feats, {"tolerance_m": -1}, InputError, "tolerance_m must be >= 0"),
    "unknown-zone": (_feats, {"zones": ["核心保护区"]}, InputError, "not in the green-heart layer"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_inputs(gh, case):
    make, kwargs, error, msg = BAD_INPUTS[case]
    with pytest.raises(error, match=msg):
        encroachment(make(), gh, **kwargs)


def test_bowtie_repaired_and_listed(gh):
    bow = shapely.Polygon([(113.0, 28.0), (113.02, 28.02), (113.02, 28.0), (113.0, 28.02)])
    with pytest.warns(EncroachmentWarning, match=r"id 1: repaired invalid geometry \(Self-inter"):
        encroachment(_feats(geometry=[bow, shapely.Point(113.05, 28.0)]), gh, guard=False)


def test_mixed_points_lines_polygons(gh):
    feats = _feats(id=[1, 2, 3], geometry=[
        shapely.Point(113.02, 27.97), shapely.LineString([(112.9, 27.97), (113.1, 27.97)]),
        shapely.box(113.0, 27.95, 113.01, 27.96)])  # fmt: skip
    res = encroachment(feats, gh, guard=False)
    assert set(res["geom_type"]) == {"point", "line", "polygon"}


@pytest.fixture(scope="module")
def cli_inputs(tmp_path_factory, gh):
    """sites.gpkg: one site inside the sketch (with a script tag as its name), one far away;
    clean.geojson: the far one alone; a truncated GeoPackage; a lon/lat CSV."""
    d = tmp_path_factory.mktemp("enc_cli")
    inside = gh.geometry.iloc[0].representative_point().buffer(0.002)
    far = shapely.box(112.0, 27.0, 112.01, 27.01)
    gpd.GeoDataFrame({"id": [1, 2], "name": ["<script>alert(1)</script>", "b"]},
                     geometry=[inside, far], crs=4326).to_file(d / "sites.gpkg")  # fmt: skip
    gpd.GeoDataFrame({"id": [2]}, geometry=[far], crs=4326).to_file(d / "clean.geojson")
    (d / "cut.gpkg").write_bytes((d / "sites.gpkg").read_bytes()[:3000])
    (d / "pts.csv").write_text("id,lon,lat\n1,113.02,27.97\n")
    return d


def test_cli_encroaching_input_exits_1_and_writes_the_report(cli_inputs, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["encroachment", str(cli_inputs / "sites.gpkg"), "--out", str(out)]) == 1
    stdout = capsys.readouterr().out
    assert "1 of 2 features encroach" in stdout and "APPROXIMATE" in stdout
    names = {"overlaps.gpkg", "overlaps.geojson", "summary.csv", "report.md", "report.html"}
    assert names <= {p.name for p in out.iterdir()}
    assert "APPROXIMATE SKETCH" in (out / "report.md").read_text()


def test_cli_report_and_map_escape_names_from_the_data(cli_inputs, tmp_path):
    out = tmp_path / "out"
    argv = ["encroachment", str(cli_inputs / "sites.gpkg"), "--out", str(out), "--map",
            str(tmp_path / "enc.html")]  # fmt: skip
    assert main(argv) == 1
    assert "<script>" not in (out / "report.html").read_text()
    page = (tmp_path / "enc.html").read_text()
    assert "encroachment findings" in page and "<script>alert(1)" not in page


def test_cli_clean_input_exits_0(cli_inputs, tmp_path):
    assert main(["encroachment", str(cli_inputs / "clean.geojson"), "--out", str(tmp_path / "o")]) == 0  # fmt: skip


def test_cli_zone_gate_on_the_unzoned_sketch_is_refused(cli_inputs, tmp_path, capsys):
    # refused loudly (issue #10): a gate on a zone the sketch does not have would always pass
    argv = ["encroachment", str(cli_inputs / "sites.gpkg"), "--out", str(tmp_path / "o"),
            "--fail-on", "核心保护区"]  # fmt: skip
    assert main(argv) == 2
    assert "has no zones" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_truncated_file_is_bad_input(cli_inputs, tmp_path, capsys):
    assert main(["encroachment", str(cli_inputs / "cut.gpkg"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "cannot read it" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_cli_csv_without_crs_is_bad_input(cli_inputs, tmp_path, capsys):
    assert main(["encroachment", str(cli_inputs / "pts.csv"), "--out", str(tmp_path / "o")]) == 2
    assert "has no CRS" in capsys.readouterr().err


def test_cli_csv_declared_gcj02_is_converted_then_checked(cli_inputs, tmp_path, capsys, gh):
    from cztgeo.crs import gcj02_to_wgs84

    lon, lat = gcj02_to_wgs84(113.02, 27.97)
    inside = gh.geometry.iloc[0].contains(shapely.Point(float(lon), float(lat)))
    assert inside  # the point lies well inside the sketch (about 8 km from its edge)
    argv = ["encroachment", str(cli_inputs / "pts.csv"), "--crs", "gcj02", "--out",
            str(tmp_path / "o")]  # fmt: skip
    assert main(argv) == 1
    assert "1 of 1 features encroach" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# The fast paths (grid-settled features, proven-valid polygons, tiled clipping, distances
# through a tree of the boundary) against GEOS used directly, feature by feature.


def _reference_rows(feats, zones, tol, min_area):
    """Rows of encroachment() computed directly with shapely: repair, then for each zone and
    feature the plain predicates, intersection and distance (no index, no grid)."""
    g = shapely.make_valid(feats.geometry.values, method="structure", keep_collapsed=False)
    g = np.where(shapely.is_valid(feats.geometry.values), feats.geometry.values, g)
    dims = np.select([np.isin(shapely.get_type_id(g), (3, 6)),
                      np.isin(shapely.get_type_id(g), (1, 5))], [2, 1], 0)  # fmt: skip
    out = {}
    for zone_name, z in zip(zones["zone"], zones.geometry.values, strict=True):
        for fid, f, d in zip(feats["id"], g, dims, strict=True):
            dist = shapely.distance(z, f)
            if dist > tol:
                continue
            if not shapely.intersects(z, f):
                out[(fid, zone_name)] = ("near", 0.0, 0.0, dist)
                continue
            inside = shapely.contains(z, f)
            ov = f if inside else shapely.intersection(f, z)
            area = shapely.area(ov) if d == 2 else 0.0
            length = shapely.length(ov) if d == 1 else 0.0
            status = "inside" if inside else ("sliver" if d == 2 and area < min_area else "partly")
            out[(fid, zone_name)] = (status, area, length, 0.0)
    return out


def _zone_layer(rng, n_vertices):
    """SYNTHETIC zoned layer: a wobbly outline with a hole, cut into a west and an east zone."""
    ang = np.linspace(0, 2 * np.pi, n_vertices, endpoint=False)
    r = 3000 * (1 + sum(rng.uniform(0.05, 0.2) / k * np.sin(k * ang + rng.uniform(0, 6))
                        for k in (2, 3, 7, 17, 41)))  # fmt: skip
    x0, y0 = 700000.0, 3090000.0
    outer = shapely.Polygon(np.column_stack([x0 + r * np.cos(ang), y0 + r * np.sin(ang)]))
    outer = outer.difference(shapely.Point(x0 + 300, y0 - 200).buffer(700, quad_segs=32))
    west = outer.intersection(shapely.box(x0 - 1e4, y0 - 1e4, x0 + 137.0, y0 + 1e4))
    east = outer.difference(shapely.box(x0 - 1e4, y0 - 1e4, x0 + 137.0, y0 + 1e4))
    return gpd.GeoDataFrame(
        {"version": "SYNTHETIC", "zone": ["west", "east"], "approximate": True},
        geometry=[west, east], crs=METRIC_CRS,
    )  # fmt: skip


def _random_features(rng, n, bounds, edges=None):
    """Rectangles, triangles, L-shapes, bowties (invalid), points and lines; half of them
    within 150 m of ``edges`` (lines) when given."""
    minx, miny, maxx, maxy = bounds
    cx = rng.uniform(minx - 600, maxx + 600, n)
    cy = rng.uniform(miny - 600, maxy + 600, n)
    if edges is not None:
        on = shapely.line_interpolate_point(edges, rng.uniform(0, 1, n // 2), normalized=True)
        cx[: n // 2] = shapely.get_x(on) + rng.uniform(-150, 150, n // 2)
        cy[: n // 2] = shapely.get_y(on) + rng.uniform(-150, 150, n // 2)
    s = rng.uniform(2, 60, n)
    kind = rng.integers(0, 6, n)
    geoms = []
    for x, y, h, k in zip(cx, cy, s, kind, strict=True):
        if k == 0:
            geoms.append(shapely.box(x, y, x + h, y + 0.5 * h))
        elif k == 1:
            geoms.append(shapely.Polygon([(x, y), (x + h, y), (x, y + h)]))
        elif k == 2:
            geoms.append(shapely.Polygon([(x, y), (x + 2 * h, y), (x + 2 * h, y + h),
                                          (x + h, y + h), (x + h, y + 2 * h), (x, y + 2 * h)]))  # fmt: skip
        elif k == 3:
            geoms.append(shapely.Polygon([(x, y), (x + h, y + h), (x + h, y), (x, y + h)]))
        elif k == 4:
            geoms.append(shapely.Point(x, y))
        else:
            geoms.append(shapely.LineString([(x, y), (x + 3 * h, y + h), (x + 5 * h, y - h)]))
    return gpd.GeoDataFrame({"id": np.arange(n)}, geometry=geoms, crs=METRIC_CRS)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_vertices=st.sampled_from([40, 300, 1500]))
def test_encroachment_equals_shapely_feature_by_feature(seed, n_vertices):
    rng = np.random.default_rng(seed)
    zones = _zone_layer(rng, n_vertices)
    edges = shapely.union_all(zones.boundary.values)
    feats = _random_features(rng, 4000, zones.total_bounds, edges)  # enough for the grid path
    tol, min_area = float(rng.uniform(20, 300)), 1.0
    with pytest.warns(EncroachmentWarning, match="invalid geometries repaired"):
        res = encroachment(feats, zones, tolerance_m=tol, min_area_m2=min_area, guard=False)
    # the layer goes through WGS84 as encroachment() reads it: the same zone coordinates
    ref = _reference_rows(feats, zones.to_crs(4326).to_crs(METRIC_CRS), tol, min_area)
    got = {(r.id, r.zone): r for r in res.itertuples()}
    assert set(got) == set(ref)
    for key, (status, area, length, dist) in ref.items():
        r = got[key]
        assert r.status == status, key
        assert r.overlap_area_m2 == pytest.approx(area, rel=1e-9, abs=1e-12)
        assert r.overlap_length_m == pytest.approx(length, rel=1e-9, abs=1e-12)
        assert r.distance_m == pytest.approx(dist, rel=1e-9, abs=1e-12)
    # rows sorted by status, then by overlap area and length, largest first
    rank = res["status"].map({s: k for k, s in enumerate(STATUSES)}).to_numpy()
    assert (np.diff(rank) >= 0).all()


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-50, 50, allow_nan=False), st.floats(-50, 50, allow_nan=False)),
        min_size=3,
        max_size=14,
    )
)
def test_proven_valid_never_vouches_for_an_invalid_polygon(points):
    from cztgeo.zonegrid import Facts, proven_valid

    ring = [*points, points[0]]
    ang = np.linspace(0, 2 * np.pi, 6)[:-1]
    star = [(np.cos(a * 2) * 10, np.sin(a * 2) * 10) for a in ang]  # a pentagram: turns twice
    geoms = np.array(
        [shapely.Polygon(ring), shapely.Polygon(star), shapely.box(0, 0, 3, 1),
         shapely.Point(1, 2), shapely.Polygon([(0, 0), (1, 0), (1, 0), (0, 1)])],
        dtype=object,
    )  # fmt: skip
    facts = Facts(shapely.get_type_id(geoms), shapely.get_num_coordinates(geoms),
                   shapely.get_coordinates(geoms), shapely.bounds(geoms))  # fmt: skip
    proven = proven_valid(geoms, facts)
    assert not (proven & ~shapely.is_valid(geoms)).any()
    assert list(proven[1:]) == [False, True, True, False]  # star, rectangle, point, repeat


def test_coordinates_outside_the_crs_refused_with_rows_named():
    feats = _random_features(np.random.default_rng(0), 3000, (700000, 3090000, 705000, 3095000))
    bad = feats.copy()
    bad.loc[17, "geometry"] = shapely.box(1.5e6, 3090000, 1.5e6 + 10, 3090010)  # 121°E
    with pytest.raises(CRSError, match=r"rows \[17\] fall outside the area of use"):
        encroachment(bad, guard=False)
