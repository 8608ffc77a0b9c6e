"""Ready-made maps: the commute circle and the encroachment check."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

import cztgeo
from cztgeo import maps
from cztgeo.circle import DEFAULT_CENTRES
from cztgeo.crs import METRIC_CRS
from cztgeo.errors import InputError
from maps_data import circle_inputs


def _docs(page: str) -> dict[str, dict]:
    """Each layer's GeoJSON, by the layer-control name of its group."""
    names = {
        g: json.loads(k) for k, g in re.findall(r'("(?:[^"\\]|\\.)*") : (feature_group_\w+)', page)
    }
    pattern = r'var d=(\{"type":"FeatureCollection".*?\]\});var g=(feature_group_\w+);'
    return {names[g]: json.loads(d) for d, g in re.findall(pattern, page) if g in names}


@pytest.fixture(scope="module")
def circle_page():
    cc, bands, net, rail, gh = circle_inputs()
    m = maps.commute_circle_map(cc, bands=bands, net=net, rail=rail, green_heart=gh)
    return maps.render_html(m, offline=True)


def test_circle_map_layers_and_framing(circle_page):
    page = circle_page
    docs = _docs(page)
    for name in ("boundaries and county names", "roads by class (coarse skeleton, classes inferred)",
                 "rail lines (stations joined)", "high-speed links (schematic)", "rail stations",
                 "travel time to the nearest centre", "drive: 30-min reach of each centre",
                 "drive: within 30 min of all centres", "green heart 生态绿心 (APPROXIMATE sketch)",
                 "centres"):  # fmt: skip
        assert name in docs, name
    assert {f["properties"]["name"] for f in docs["centres"]["features"]} == {
        "长沙",
        "株洲",
        "湘潭",
    }
    assert "APPROXIMATE" in page and "COARSE SKELETON" in page  # said on the map
    assert "Basemap:" in page and "offline reference map" in page
    assert "长株潭半小时交通圈" in page
    # the view: the core triangle (three centres and the green heart), not the 19 units
    (s, w), (n, e) = json.loads(re.search(r"var view=(\[\[.*?\]\]);", page).group(1))
    view = shapely.box(w, s, e, n)
    gh = cztgeo.load_green_heart()
    core = shapely.union_all([*shapely.points([(c.lon, c.lat) for c in DEFAULT_CENTRES]), gh.geometry.iloc[0]])  # fmt: skip
    assert view.contains(core)
    assert view.area < 1.4 * shapely.box(*core.bounds).area
    metro = cztgeo.load_boundaries("metro").geometry.iloc[0]
    assert view.area < 0.25 * shapely.box(*metro.bounds).area


def test_circle_map_is_small(circle_page):
    assert len(circle_page.encode()) < 3_000_000  # issue 12's target for map.html


def test_bands_are_rings_that_tile_the_reach():
    _, bands, *_ = circle_inputs()
    layer = maps.bands_layer(bands, "t")
    rings = layer.gdf.to_crs(METRIC_CRS)
    geoms = list(rings.geometry)
    # no two rings overlap ...
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            assert geoms[i].intersection(geoms[j]).area < 1e-6 * geoms[i].area + 1.0
    # ... and together they are the 60-min reach of the three centres, each ring the area
    # first reached in its band (shapely on the input bands)
    b = bands.to_crs(METRIC_CRS)
    u = {m: shapely.union_all(b[b["minutes"] <= m].geometry.values) for m in (15, 30, 45, 60)}
    assert shapely.union_all(geoms).area == pytest.approx(u[60].area, rel=1e-4)
    by_band = dict(zip(rings["minutes"], geoms, strict=True))
    assert by_band[15].area == pytest.approx(u[15].area, rel=1e-4)
    assert by_band[45].area == pytest.approx(u[45].difference(u[30]).area, rel=1e-4)
    assert list(rings["band"]) == ["0–15 min", "15–30 min", "30–45 min", "45–60 min"]


def test_circle_static_png(tmp_path):
    cc, bands, net, rail, gh = circle_inputs()
    png = maps.commute_circle_static(cc, tmp_path / "c.png", bands=bands, net=net, rail=rail,
                                     green_heart=gh, dpi=100)  # fmt: skip
    from PIL import Image

    img = np.asarray(Image.open(png).convert("RGB"), dtype=float)
    assert img.std() > 20 and len(np.unique(img.reshape(-1, 3), axis=0)) > 200


def test_circle_map_without_optional_layers():
    cc, *_ = circle_inputs()
    page = maps.render_html(maps.commute_circle_map(cc, basemap="none"), offline=True)
    docs = _docs(page)
    assert "centres" in docs and "drive: 30-min reach of each centre" in docs
    assert not any(k.startswith("travel time") for k in docs)
    with pytest.raises(InputError, match="no column 'centre'"):
        maps.commute_circle_map(cc, bands=gpd.GeoDataFrame({"minutes": [1]}, geometry=[shapely.Point(0, 0)], crs=4326))  # fmt: skip


def test_encroachment_map_points_are_markers_not_images():
    gh = cztgeo.load_green_heart()
    inside = gh.geometry.iloc[0].representative_point()
    sites = gpd.GeoDataFrame(
        {"site": ["a", "b"]}, geometry=[inside, shapely.Point(113.6, 28.5)], crs=4326
    )
    res = cztgeo.encroachment(sites, gh, id_column="site", include_outside=True, guard=False)
    m = maps.encroachment_map(res, gh, id_column="site", approximate=True)
    page = maps.render_html(m, offline=True)
    docs = _docs(page)
    found = docs["encroachment findings"]["features"]
    assert {f["properties"]["site"] for f in found} == {"a", "b"}
    assert {f["properties"]["status"] for f in found} == {"inside", "outside"}
    opts = [json.loads(o) for o in re.findall(r"var o=(\{.*?\});var d=", page)]
    assert any(o["kind"] == "point" and o["marker"] == "circle" for o in opts)  # circle markers
    assert "APPROXIMATE" in page and "not a legal check" in page
    with pytest.raises(InputError, match="no column 'nope'"):
        maps.encroachment_map(res, gh, id_column="nope", approximate=True)


def test_encroachment_static_draws_point_findings(tmp_path):
    """Point sites among polygon overlaps are drawn as markers in the static map too."""
    gh = cztgeo.load_green_heart()
    c = gh.geometry.iloc[0].representative_point()
    sites = gpd.GeoDataFrame(
        {"site": ["p1", "p2", "poly"]},
        geometry=[c, shapely.Point(c.x + 0.01, c.y + 0.01), c.buffer(0.01)],
        crs=4326,
    )
    res = cztgeo.encroachment(sites, gh, id_column="site")
    svg = maps.encroachment_static(res, gh, tmp_path / "e.svg", id_column="site",
                                   approximate=True).read_text()  # fmt: skip
    n_points = int(res.geometry.geom_type.eq("Point").sum())
    assert n_points == 2
    import xml.etree.ElementTree as ET

    ns = "{http://www.w3.org/2000/svg}"
    groups = [
        g for g in ET.fromstring(svg).iter(f"{ns}g") if g.get("id", "").startswith("czt-points")
    ]
    assert [len(list(g.iter(f"{ns}use"))) for g in groups] == [n_points]  # a marker per point
