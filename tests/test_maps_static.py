"""Static maps: PNG/SVG/PDF at print size, no empty margin, shipped CJK font, scale bar."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from PIL import Image

from cztgeo import load_boundaries, load_green_heart, maps
from cztgeo.errors import InputError
from cztgeo.maps.static import scale_bar


@pytest.fixture(scope="module")
def layers():
    counties = load_boundaries("county")
    return [
        maps.boundaries_layer(counties, "counties", labels=True),
        maps.green_heart_layer(load_green_heart()),
    ]


def test_png_fills_the_page_with_no_empty_margin(layers, tmp_path):
    png = maps.write_static(layers, tmp_path / "m.png", title="长株潭 counties", basemap="reference",
                            approval_number="湘S(2026)001号", width_mm=120, dpi=150)  # fmt: skip
    img = np.asarray(Image.open(png).convert("RGB"), dtype=int)
    h, w, _ = img.shape
    assert w == pytest.approx(120 / 25.4 * 150, abs=2)  # print size as asked
    map_part = img[:, : int(w * 0.68)]  # the map; the right-hand panel holds title and legend
    white = (map_part >= 250).all(axis=2)
    # the map reaches the page's left, top and bottom edges: no blank strip around it
    for edge in (white[:, :3], white[:3, :], white[-3:, :]):
        assert edge.mean() < 0.05
    assert img.std() > 20  # not blank


def test_svg_and_pdf(layers, tmp_path):
    svg = maps.write_static(layers, tmp_path / "m.svg", title="生态绿心").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    pdf = maps.write_static(layers, tmp_path / "m.pdf", title="生态绿心").read_bytes()
    assert pdf.startswith(b"%PDF") and b"NotoSansCJK" in pdf  # the CJK font is embedded
    with pytest.raises(InputError, match=r"use \.png, \.svg or \.pdf"):
        maps.write_static(layers, tmp_path / "m.jpg")
    assert not (tmp_path / "m.jpg").exists()


def test_static_accepts_plain_geodataframes_and_refuses_web_tiles(tmp_path):
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(112.9, 27.9, 113.0, 28.0)], crs=4326)  # fmt: skip
    assert maps.write_static([gdf], tmp_path / "g.png").stat().st_size > 1000
    with pytest.raises(InputError, match="needs the internet"):
        maps.write_static([gdf], tmp_path / "w.png", basemap="osm")


def test_cjk_font_ships_with_the_install():
    import noto_cjk_sans_otc
    from fontTools.ttLib import TTFont

    family, path = maps.cjk_font()
    assert Path(noto_cjk_sans_otc.__file__).parent in path.parents  # not a system font
    with TTFont(path, fontNumber=2, lazy=True) as font:  # the SC face of the collection
        name = font["name"].getDebugName(1)
        cmap = font.getBestCmap()
    assert name == family == "Noto Sans CJK SC"
    assert all(ord(ch) in cmap for ch in "长株潭生态绿心审图号岳麓区")


def test_users_backend_and_pyplot_are_left_alone(tmp_path):
    """A library call must not switch the caller's matplotlib backend or start pyplot."""
    code = textwrap.dedent(f"""
        import sys, matplotlib
        matplotlib.use("svg")
        import geopandas as gpd, shapely
        from cztgeo import maps
        g = gpd.GeoDataFrame({{"name": ["长沙"]}}, geometry=[shapely.box(112.9, 27.9, 113, 28)], crs=4326)
        maps.write_static([g], {str(tmp_path / "b.png")!r}, title="长沙")
        print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                         text=True, check=True, timeout=300)  # fmt: skip
    assert out.stdout.split() == ["svg", "False"]


@pytest.mark.parametrize("lat", [0.0, 28.0, 60.0])
def test_scale_bar_length_is_true_on_the_ground(lat):
    merc = pyproj.Transformer.from_crs(4326, 3857, always_xy=True)
    x0, y = merc.transform(112.0, lat)
    x1, _ = merc.transform(113.0, lat)
    metres, units = scale_bar((x0, x1), (y - 1000, y + 1000))
    lon_a, lat_a = merc.transform(x0, y, direction="INVERSE")
    lon_b, lat_b = merc.transform(x0 + units, y, direction="INVERSE")
    geodesic = pyproj.Geod(ellps="WGS84").inv(lon_a, lat_a, lon_b, lat_b)[2]
    assert geodesic == pytest.approx(metres, rel=0.01)
    assert str(metres / 10 ** np.floor(np.log10(metres)))[0] in "125"  # a round length
    width_m = pyproj.Geod(ellps="WGS84").inv(112.0, lat, 113.0, lat)[2]
    assert width_m / 10 <= metres <= width_m / 5
