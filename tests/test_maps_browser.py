"""The maps in a real headless Chromium, checked the way a person looks at them.

Playwright drives the system's Chromium (``apt-get install chromium``; ``.ci/run`` installs it)
over a pipe, so no socket is opened and no browser is downloaded. Every request the page makes
is recorded and refused: an offline map must make none.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from PIL import Image

import cztgeo
from cztgeo import maps
from cztgeo.circle import DEFAULT_CENTRES
from maps_data import circle_inputs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium; .ci/run does)"
)
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="playwright (a dev dependency) is missing: pip install -e '.[dev]'",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND"],
        )
        yield b
        b.close()


class Opened:
    """A page opened from a file, with its console errors and the requests it tried."""

    def __init__(self, browser: object, path: Path, size: tuple[int, int] = (1280, 900)) -> None:
        self.errors: list[str] = []
        self.remote: list[str] = []
        self.page = browser.new_page(viewport={"width": size[0], "height": size[1]})  # type: ignore[attr-defined]
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r: object) -> None:
            url = r.request.url  # type: ignore[attr-defined]
            if url.startswith(("file:", "data:")):
                r.continue_()  # type: ignore[attr-defined]
            else:
                self.remote.append(url)
                r.abort()  # type: ignore[attr-defined]

        self.page.route("**/*", route)
        self.page.goto(path.resolve().as_uri(), wait_until="load")
        self.page.wait_for_function("window.cztgeoMap !== undefined")
        self.page.wait_for_timeout(300)  # let Leaflet finish drawing

    def legend(self) -> str:
        return self.page.inner_text("#cztgeo-legend")

    def click_layer(self, name: str) -> None:
        self.page.locator(".leaflet-control-layers-overlays label", has_text=name).click()
        self.page.wait_for_timeout(100)


@pytest.fixture(scope="module")
def circle_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc, bands, net, rail, gh = circle_inputs()
    m = maps.commute_circle_map(cc, bands=bands, net=net, rail=rail, green_heart=gh)
    return maps.write_map(m, tmp_path_factory.mktemp("circle") / "map.html", offline=True)


def test_centre_markers_and_no_remote_request(browser, circle_html):
    o = Opened(browser, circle_html)
    names = o.page.locator(".czt-centre .czt-name").all_inner_texts()
    assert sorted(names) == sorted(c.name for c in DEFAULT_CENTRES)
    assert o.remote == [] and o.errors == []
    assert "offline reference map" in o.page.inner_text("#cztgeo-basemap")


def test_chinese_labels_use_the_embedded_font(browser, circle_html):
    """The page carries the glyphs of its Chinese text, so no system CJK font is needed."""
    o = Opened(browser, circle_html)
    o.page.evaluate("document.fonts.ready")
    assert o.page.evaluate("document.fonts.check('13px \"cztgeo CJK\"', '长沙株洲湘潭生态绿心')")
    assert o.page.evaluate(
        "[...document.fonts].some(f => f.family.includes('cztgeo CJK') && f.status === 'loaded')"
    )


def test_legend_follows_a_real_click_on_the_layer_control(browser, circle_html):
    o = Opened(browser, circle_html)
    assert "rail stations" in o.legend()
    n_paths = o.page.locator("path.leaflet-interactive").count()
    o.click_layer("rail stations")
    assert "rail stations" not in o.legend()
    assert o.page.locator("path.leaflet-interactive").count() < n_paths  # and gone from the map
    assert "travel time from 长沙" not in o.legend()  # hidden at first
    o.click_layer("travel time from 长沙")
    assert "travel time from 长沙" in o.legend()
    o.click_layer("rail stations")
    assert "rail stations" in o.legend()


def test_initial_view_is_the_core_triangle(browser, circle_html):
    o = Opened(browser, circle_html)
    s, w, n, e = o.page.evaluate(
        "(() => {const b = window.cztgeoMap.getBounds();"
        " return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()];})()"
    )
    view = shapely.box(w, s, e, n)
    gh = cztgeo.load_green_heart().geometry.iloc[0]
    centres = shapely.points([(c.lon, c.lat) for c in DEFAULT_CENTRES])
    assert all(view.contains(p) for p in centres)
    core = shapely.box(*shapely.union_all([*centres, gh]).bounds)
    # the window's shape adds room on one axis; on the other the core fills the view
    tight = min((n - s) / (core.bounds[3] - core.bounds[1]), (e - w) / (core.bounds[2] - core.bounds[0]))  # fmt: skip
    assert tight < 1.45
    metro = cztgeo.load_boundaries("metro").total_bounds
    assert view.area < 0.5 * shapely.box(*metro).area  # not the whole 19 units


def test_screenshot_is_not_blank(browser, circle_html, tmp_path):
    o = Opened(browser, circle_html)
    shot = o.page.locator(".leaflet-container").screenshot()
    img = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=float)
    (tmp_path.parent / "cztgeo_circle_screenshot.png").write_bytes(shot)  # for a person to look at
    assert img.std() > 15
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 200  # basemap, bands, lines, labels


def test_every_image_loads_with_an_mbtiles_basemap(browser, data_dir, tmp_path):
    cc, bands, net, rail, gh = circle_inputs()
    mb = data_dir / "basemap" / "changsha_center_osm_z12-14.mbtiles"
    m = maps.commute_circle_map(cc, bands=bands, green_heart=gh, basemap=mb)
    o = Opened(browser, maps.write_map(m, tmp_path / "mb.html", offline=True))
    o.page.evaluate("window.cztgeoMap.setView([28.2, 112.97], 13)")
    o.page.wait_for_timeout(500)
    imgs = o.page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth])")
    assert len(imgs) > 4  # the embedded tiles
    assert all(done and width > 0 for done, width in imgs)  # no broken image
    assert o.remote == [] and o.errors == []


def test_encroachment_sites_are_drawn_without_images(browser, tmp_path):
    gh = cztgeo.load_green_heart()
    inside = gh.geometry.iloc[0].representative_point()
    sites = gpd.GeoDataFrame(
        {"site": ["a", "b", "c"]},
        geometry=[inside, shapely.Point(inside.x + 0.01, inside.y), shapely.Point(113.6, 28.5)],
        crs=4326,
    )
    res = cztgeo.encroachment(sites, gh, id_column="site")
    m = maps.encroachment_map(res, gh, id_column="site", approximate=True)
    o = Opened(browser, maps.write_map(m, tmp_path / "enc.html", offline=True))
    assert o.page.locator("img").count() == 0
    markers = o.page.locator(".leaflet-czt-point-pane path.leaflet-interactive").count()
    assert markers == int((res["status"] != "outside").sum())
    assert "APPROXIMATE" in o.legend()
    assert o.remote == [] and o.errors == []
