"""HTML maps: self-contained offline pages, escaping, basemaps, plain GeoDataFrames, legend."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
import xyzservices

from cztgeo import load_boundaries, load_green_heart, maps
from cztgeo.crs import wgs84_to_gcj02
from cztgeo.errors import InputError
from cztgeo.isochrones import isochrones
from cztgeo.network import load_network

EVIL = "<script>alert('x')</script>"
FETCHING = re.compile(
    r"(?:<(?:script|img|iframe|source)[^>]*\ssrc=[\"']|<link[^>]*\shref=[\"']|url\(\s*[\"']?"
    r"|tileLayer\(\s*[\"'])(https?://)"
)


@pytest.fixture(scope="module")
def layers():
    net = load_network()
    iso = isochrones(net, (112.9709, 28.1986), minutes=[10, 20])
    cities = load_boundaries("city")
    cities.loc[0, "name_en"] = EVIL
    return [
        maps.boundaries_layer(cities),
        maps.green_heart_layer(load_green_heart()),
        maps.network_layer(net),
        maps.isochrone_layer(iso),
    ]


@pytest.fixture(scope="module")
def mbtiles(data_dir):
    return data_dir / "basemap" / "changsha_center_osm_z12-14.mbtiles"


def _unpack(coords: list, depth: int, k: float) -> list:
    """Packed coordinates back to [lon, lat] pairs (a line or ring: first point, then steps)."""
    if depth == 0:
        xy = np.cumsum(np.asarray(coords, dtype=float).reshape(-1, 2), axis=0) / k
        return xy.tolist()
    return [_unpack(c, depth - 1, k) for c in coords]


def _layer_data(page: str, k: float = 1e5) -> list[dict]:
    """The GeoJSON documents of the page's layers, parsed back (packed geometries unpacked)."""
    found = re.findall(r'var d=(\{"type":"FeatureCollection".*?\]\});', page)
    docs = [json.loads(d) for d in found]
    depth = {"LineString": 0, "MultiLineString": 1, "Polygon": 1, "MultiPolygon": 2}
    for doc in docs:
        for f in doc["features"]:
            g = f["geometry"]
            if g.pop("p", None):
                g["coordinates"] = _unpack(g["coordinates"], depth[g["type"]], k)
    return docs


def test_offline_html_self_contained_and_escaped(layers, mbtiles, tmp_path):
    m = maps.build_map(
        layers, basemap=mbtiles, offline=True, note="green heart: APPROXIMATE sketch"
    )
    page = maps.write_map(m, tmp_path / "map.html", offline=True).read_text()
    assert not FETCHING.search(page)  # nothing would be fetched from the network
    assert "cdn.jsdelivr" not in page and "code.jquery" not in page
    assert "Leaflet 1.9.4" in page  # inlined from the installed package
    for name in ("boundaries", "green heart", "APPROXIMATE", "drive network (coarse skeleton)", "isochrones"):  # fmt: skip
        assert name in page, name
    assert EVIL not in page
    assert "\\u0026lt;script\\u0026gt;alert" in page  # HTML-escaped, inside JSON
    assert "data:image/png;base64" in page  # the MBTiles basemap is embedded
    assert "Basemap:" in page and "local MBTiles" in page  # the map says which basemap


def test_reference_basemap_is_offline_and_covers_the_metro():
    page = maps.render_html(maps.build_map([], basemap="reference", offline=True), offline=True)
    assert not FETCHING.search(page)
    assert "offline reference map" in page  # says which basemap it is
    docs = _layer_data(page)
    assert len(docs) == 4  # land, roads, railways, city names
    land = shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in docs[0]["features"]])
    metro = load_boundaries("metro").geometry.iloc[0]
    assert land.buffer(0.01).covers(metro)  # the whole metro area, not central Changsha only
    names = {f["properties"]["text"] for f in docs[3]["features"]}
    assert names == {"长沙市", "株洲市", "湘潭市"}


def test_web_basemaps(layers):
    with pytest.raises(InputError, match="needs the internet but the map is offline"):
        maps.build_map(layers, basemap="osm", offline=True)
    with pytest.raises(InputError, match="needs a token"):
        maps.build_map(layers, basemap="tianditu")
    page = maps.render_html(maps.build_map(layers, basemap="tianditu", tianditu_token="abc"))
    assert "tianditu.gov.cn" in page and "tk=abc" in page and "T=cva_w" in page
    with pytest.raises(InputError, match="unknown basemap"):
        maps.build_map(layers, basemap="google")
    assert all(isinstance(p, xyzservices.TileProvider) for p in maps.BASEMAPS.values())
    own = xyzservices.TileProvider(name="mine", url="https://tiles.example/{z}/{x}/{y}.png",
                                   attribution="© mine")  # fmt: skip
    page = maps.render_html(maps.build_map(layers, basemap=own))
    assert "tiles.example" in page and "mine web tiles" in page


def test_gcj_basemap_shifts_overlays():
    pt = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(113.0, 28.0)], crs=4326)
    layer = maps.stations_layer(pt)
    (doc_w,) = _layer_data(maps.render_html(maps.build_map([layer], basemap="osm")))
    (doc_g,) = _layer_data(maps.render_html(maps.build_map([layer], basemap="amap")))
    gx, gy = wgs84_to_gcj02(113.0, 28.0)
    assert doc_w["features"][0]["geometry"]["coordinates"] == [113.0, 28.0]
    assert doc_g["features"][0]["geometry"]["coordinates"] == pytest.approx(
        [float(gx), float(gy)], abs=1e-5
    )


def test_plain_geodataframes_are_wrapped_by_geometry_type():
    pts = gpd.GeoDataFrame({"id": [1, 2]}, geometry=shapely.points([113.0, 113.1], [28.0, 28.1]), crs=4326)  # fmt: skip
    line = gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.LineString([(113, 28), (113.2, 28.1)])], crs=4326)  # fmt: skip
    poly = gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.box(112.9, 27.9, 113.0, 28.0)], crs=3857)  # fmt: skip
    kinds = [maps.as_layer(g, index=i).kind for i, g in enumerate((pts, line, poly))]
    assert kinds == ["point", "line", "polygon"]
    page = maps.render_html(maps.build_map([pts, line, poly.to_crs(4326)]))
    docs = _layer_data(page)
    assert [len(d["features"]) for d in docs] == [2, 1, 1]
    opts = [json.loads(o) for o in re.findall(r"var o=(\{.*?\});var d=", page)]
    assert [o["kind"] for o in opts] == ["point", "line", "polygon"]
    with pytest.raises(InputError, match="has no CRS"):
        maps.build_map([gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)])])
    with pytest.raises(InputError, match="expected a Layer or a GeoDataFrame"):
        maps.build_map([object()])  # type: ignore[list-item]


def test_colour_tables_match_the_property_values(layers):
    """Colours are looked up by String(value) in the page: keys must be spelled the same."""
    iso = layers[3]
    page = maps.render_html(maps.build_map([iso]))
    opts = json.loads(re.search(r"var o=(\{.*?\});var d=", page).group(1))
    (doc,) = _layer_data(page)
    for f in doc["features"]:
        v = f["properties"]["minutes"]
        js_string = str(int(v)) if float(v).is_integer() else str(v)  # JavaScript's String(v)
        assert opts["colours"][js_string] == iso.colour_of(v)


def test_legend_is_registered_per_layer_group(layers):
    page = maps.render_html(maps.build_map(layers, note="a note"))
    groups = re.findall(r"var (feature_group_\w+) = L\.featureGroup", page)
    items = re.search(r"var items=\[(.*?)\];\s*var note=", page, re.S).group(1)
    assert len(groups) == len(layers)
    assert all(g in items for g in groups)  # each group has its legend section
    assert "overlayadd overlayremove" in page  # and the legend follows the layer control


def test_leaflet_assets_are_inline():
    js_text, css = maps.leaflet_assets()
    assert "Leaflet 1.9.4" in js_text and "sourceMappingURL" not in js_text
    assert "url(images/" not in css and css.count("data:image/png;base64") >= 3


def test_no_marker_images_in_pages(layers):
    pts = gpd.GeoDataFrame({"status": ["inside"], "id": [1]}, geometry=[shapely.Point(113.0, 28.0)], crs=4326)  # fmt: skip
    page = maps.render_html(maps.build_map([*layers, maps.encroachment_layer(pts, id_column="id")]))
    assert "marker-icon" not in page.split("</style>")[-1]  # Leaflet's default image marker
    assert "L.circleMarker" in page and "L.divIcon" in page


def test_packed_coordinates_round_trip():
    """Lines and polygons (holes, multi-parts) come back within half a unit of the last decimal."""
    poly = shapely.box(112.9, 27.9, 113.1, 28.1).difference(shapely.box(112.95, 27.95, 113.0, 28.0))
    multi = shapely.MultiPolygon([poly, shapely.box(113.2, 28.2, 113.3, 28.31234567)])
    lines = shapely.MultiLineString([[(112.123456, 28.5), (112.2, 28.654321)], [(113, 28), (113.1, 28.05), (113.3, 28.1)]])  # fmt: skip
    gdf = gpd.GeoDataFrame({"id": [1, 2]}, geometry=[poly, multi], crs=4326)
    gdl = gpd.GeoDataFrame({"id": [1]}, geometry=[lines], crs=4326)
    page = maps.render_html(maps.build_map([gdf, gdl], simplify_m=0), embed_font=False)
    polys, mls = _layer_data(page)
    for f, expected in zip(polys["features"] + mls["features"], [poly, multi, lines], strict=True):
        got = shapely.geometry.shape(f["geometry"])
        # (a layer mixing Polygon and MultiPolygon is sent as MultiPolygons: same shapes)
        assert got.geom_type.removeprefix("Multi") == expected.geom_type.removeprefix("Multi")
        assert got.area == pytest.approx(expected.area, rel=1e-4)
        assert shapely.hausdorff_distance(got, expected) <= 0.5e-5 * 1.5
        assert shapely.get_num_coordinates(got) == shapely.get_num_coordinates(expected)
