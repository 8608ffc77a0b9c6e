from __future__ import annotations

import re
import shutil
import subprocess

import geopandas as gpd
import numpy as np
import pytest
import shapely
from PIL import Image

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


def test_offline_html_self_contained_and_escaped(layers, mbtiles, tmp_path):
    m = maps.build_map(
        layers, basemap=mbtiles, offline=True, note="green heart: APPROXIMATE sketch"
    )
    path = maps.save_map(m, tmp_path / "map.html", offline=True)
    page = path.read_text()
    assert not FETCHING.search(page)  # nothing would be fetched from the network
    assert "cdn.jsdelivr" not in page and "code.jquery" not in page
    assert "Leaflet 1.9.4" in page  # inlined from the installed package
    for name in (
        "boundaries",
        "green heart",
        "APPROXIMATE",
        "drive network (coarse skeleton)",
        "isochrones",
    ):
        assert name in page, name
    assert EVIL not in page
    assert "\\u0026lt;script\\u0026gt;alert" in page  # HTML-escaped, inside JSON
    assert "data:image/png;base64" in page  # the MBTiles basemap is embedded


def test_web_basemaps(layers, tmp_path):
    with pytest.raises(InputError, match="needs the internet but the map is offline"):
        maps.build_map(layers, basemap="osm", offline=True)
    with pytest.raises(InputError, match="needs a token"):
        maps.build_map(layers, basemap="tianditu")
    page = maps.render_html(maps.build_map(layers, basemap="tianditu", tianditu_token="abc"))
    assert "tianditu.gov.cn" in page and "tk=abc" in page
    with pytest.raises(InputError, match="unknown basemap"):
        maps.build_map(layers, basemap="google")


def test_gcj_basemap_shifts_overlays():
    pt = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(113.0, 28.0)], crs=4326)
    layer = maps.stations_layer(pt)
    page_w = maps.render_html(maps.build_map([layer], basemap="osm"))
    page_g = maps.render_html(maps.build_map([layer], basemap="amap"))
    gx, gy = wgs84_to_gcj02(113.0, 28.0)
    assert f"[{28.0}, {113.0}]" in page_w
    assert f"[{round(float(gy), 5)}, {round(float(gx), 5)}]" in page_g


def test_static_png_and_svg(layers, mbtiles, tmp_path):
    png = maps.save_static(
        layers, tmp_path / "m.png", title="长沙", basemap=mbtiles, approval_number="湘S(2026)001号"
    )
    img = np.asarray(Image.open(png).convert("L"), dtype=float)
    assert img.std() > 5  # not blank
    svg = maps.save_static(layers, tmp_path / "m.svg").read_text()
    assert "<svg" in svg
    with pytest.raises(InputError, match="use .png or .svg"):
        maps.save_static(layers, tmp_path / "m.jpg")


CHROME_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
    "--enable-logging=stderr", "--v=0", "--virtual-time-budget=8000",
]  # fmt: skip


def _chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        raise RuntimeError(
            "Chromium is needed for the browser test: apt-get install chromium (.ci/run does)"
        )
    return exe


def test_offline_map_in_real_headless_chromium(layers, mbtiles, tmp_path):
    m = maps.build_map(
        layers, basemap=mbtiles, offline=True, note="green heart: APPROXIMATE sketch"
    )
    path = maps.save_map(m, tmp_path / "map.html", offline=True)
    url = path.resolve().as_uri()
    base = [_chromium(), *CHROME_FLAGS]
    dom = subprocess.run(
        [*base, f"--user-data-dir={tmp_path / 'prof1'}", "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert "leaflet-container" in html  # Leaflet initialised
    assert html.count("leaflet-interactive") >= 4  # vector layers drawn as SVG paths
    assert "leaflet-control-layers" in html and "cztgeo-legend" in html
    assert "<script>alert" not in html
    console_errors = [
        line for line in dom.stderr.splitlines()
        if "CONSOLE" in line and ("Uncaught" in line or "Error" in line)
    ]  # fmt: skip
    assert console_errors == []
    shot = tmp_path / "screenshot.png"
    res = subprocess.run(
        [*base, f"--user-data-dir={tmp_path / 'prof2'}", "--window-size=1200,900",
         f"--screenshot={shot}", url],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert res.returncode == 0 and shot.exists(), res.stderr[-2000:]
    img = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert img.std() > 10  # not a blank page
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 50  # basemap tiles and layers drawn
    keep = tmp_path.parent / "cztgeo_browser_screenshot.png"
    shutil.copy(shot, keep)
