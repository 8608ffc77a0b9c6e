"""cztgeo serve: the openrouteservice-v2 API with the official ORS client, bad input, concurrency
and the click-to-isochrone page in a real headless Chromium.

A uvicorn server runs in a thread on 127.0.0.1 (a free port); these tests enable sockets for
127.0.0.1 only. The engine is the default one (embedded coarse skeleton, embedded rail, the
APPROXIMATE green heart) plus a synthetic population layer whose counts are known.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import geopandas as gpd
import httpx
import numpy as np
import openrouteservice
import pyproj
import pytest
import shapely
import uvicorn

import cztgeo
from cztgeo.crs import AREA_CRS, METRIC_CRS
from cztgeo.errors import CztgeoWarning, InputError
from cztgeo.service import create_app, load_engine
from cztgeo.service.engine import Engine

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

CHANGSHA = (112.9709, 28.1986)  # 五一广场
ZHUZHOU = (113.1517, 27.8388)  # 株洲站
XIANGTAN = (112.9442, 27.8297)
#: The service's documented options on the coarse skeleton (cztgeo.service.engine): snap up to
#: 3 km, the leg to the road over local streets at 20 km/h / 1.3, local streets at 20 km/h.
DRIVE_KW = {"max_snap_m": 3000.0, "access_kmh": 20.0 / 1.3}


def _population() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(7)
    n = 3000
    lon = rng.uniform(112.6, 113.5, n)
    lat = rng.uniform(27.6, 28.5, n)
    pop = rng.integers(1, 1000, n).astype(float)
    return gpd.GeoDataFrame({"population": pop}, geometry=gpd.points_from_xy(lon, lat), crs=4326)


@pytest.fixture(scope="module")
def population() -> gpd.GeoDataFrame:
    return _population()


@pytest.fixture(scope="module")
def engine(population: gpd.GeoDataFrame) -> Engine:
    return load_engine(population=population)


@pytest.fixture(scope="module")
def base_url(engine: Engine):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    config = uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def ors(base_url: str) -> openrouteservice.Client:
    return openrouteservice.Client(base_url=base_url, retry_over_query_limit=False)


@pytest.fixture(scope="module")
def skeleton():
    return cztgeo.load_network()


def _union_by_value(features: list[dict], group: int) -> dict[float, shapely.Geometry]:
    parts: dict[float, list] = {}
    for f in features:
        if f["properties"]["group_index"] == group:
            parts.setdefault(f["properties"]["value"], []).append(
                shapely.geometry.shape(f["geometry"])
            )
    return {v: shapely.union_all(g) for v, g in parts.items()}


def _same_shape(a: shapely.Geometry, b: shapely.Geometry) -> bool:
    return shapely.symmetric_difference(a, b).area <= 1e-9 * max(b.area, 1e-12)


# ---------------------------------------------------------------------- the official ORS client


def test_ors_client_isochrones_equal_the_library(ors, skeleton):
    res = ors.isochrones(
        locations=[list(CHANGSHA), list(ZHUZHOU)],
        profile="driving-car",
        range=[900, 1800],
        attributes=["area"],
    )
    assert res["type"] == "FeatureCollection"
    for group, origin in enumerate((CHANGSHA, ZHUZHOU)):
        direct = cztgeo.isochrones(skeleton, origin, minutes=[15, 30], **DRIVE_KW)
        got = _union_by_value(res["features"], group)
        assert sorted(got) == [900.0, 1800.0]
        for minutes, geom, area_km2 in zip(
            direct["minutes"], direct.geometry, direct["area_km2"], strict=True
        ):
            assert _same_shape(got[minutes * 60.0], geom)
            feats = [
                f for f in res["features"]
                if f["properties"]["group_index"] == group and f["properties"]["value"] == minutes * 60
            ]  # fmt: skip
            assert all(f["geometry"]["type"] == "Polygon" for f in feats)  # ORS clients read rings
            assert all(f["properties"]["center"] == list(origin) for f in feats)
            area_m2 = sum(f["properties"]["area"] for f in feats)
            assert area_m2 == pytest.approx(area_km2 * 1e6, rel=1e-9)
            # independently: geodesic area of the same polygons (UTM scale error < 0.1 %)
            geod = pyproj.Geod(ellps="WGS84")
            geodesic = sum(
                abs(geod.geometry_area_perimeter(shapely.geometry.shape(f["geometry"]))[0])
                for f in feats
            )
            assert area_m2 == pytest.approx(geodesic, rel=1e-3)
    assert "COARSE" in res["metadata"]["system_message"]
    assert "APPROXIMATE" in res["metadata"]["system_message"]


def test_ors_interval_expands_like_openrouteservice(ors):
    res = ors.isochrones(locations=[list(XIANGTAN)], range=[1800], interval=600)
    assert sorted({f["properties"]["value"] for f in res["features"]}) == [600.0, 1200.0, 1800.0]


def test_ors_client_matrix_equals_the_library(ors, skeleton):
    locs = [list(CHANGSHA), list(ZHUZHOU), list(XIANGTAN), [113.05, 28.05]]
    res = ors.distance_matrix(
        locations=locs, profile="driving-car", sources=[0, 3], destinations=[1, 2, 3]
    )
    direct = cztgeo.travel_time_matrix(
        skeleton, [locs[0], locs[3]], [locs[1], locs[2], locs[3]], **DRIVE_KW
    ).to_numpy()
    assert np.array(res["durations"], dtype=float) == pytest.approx(direct * 60.0, rel=1e-12)
    assert res["durations"][1][2] == 0.0  # a point to itself
    snap = cztgeo.routing.snap_points(skeleton, [locs[1]], max_snap_m=3000.0)
    assert res["destinations"][0]["snapped_distance"] == pytest.approx(snap.distance_m[0], abs=0.01)


def test_public_transport_matrix_equals_plan_journeys(ors):
    locs = [list(CHANGSHA), list(ZHUZHOU), list(XIANGTAN)]
    res = ors.distance_matrix(locations=locs, profile="public-transport")
    rail = cztgeo.load_rail()
    js = cztgeo.plan_journeys(rail, locs)
    want = np.array([[j.total for j in row] for row in js]) * 60.0
    assert np.array(res["durations"], dtype=float) == pytest.approx(want, rel=1e-12)


def test_walk_profile_is_the_skeleton_at_walking_speed(engine, ors):
    net = engine.road("walk", "offpeak").net
    kinds = np.asarray(net.kinds, dtype=object)[net.kind]
    assert not any(str(k).startswith(("rural long link", "urban long link")) for k in kinds)
    assert net.length_m / net.time_s * 3.6 == pytest.approx(4.5)
    res = ors.isochrones(locations=[list(CHANGSHA)], profile="foot-walking", range=[900])
    direct = cztgeo.isochrones(
        net, CHANGSHA, minutes=[15], max_snap_m=3000.0, access_kmh=4.5 / 1.3, local_kmh=4.5
    )
    assert _same_shape(_union_by_value(res["features"], 0)[900.0], direct.geometry.iloc[0])
    # nobody walks faster than 4.5 km/h in a straight line: the disc of 1.125 km bounds it
    assert direct["area_km2"].iloc[0] <= math.pi * 1.125**2
    assert "APPROXIMATE" in res["metadata"]["system_message"]


def test_total_pop_counts_the_population_layer(ors, population):
    res = ors.isochrones(locations=[list(ZHUZHOU)], range=[1200], attributes=["total_pop"])
    feats = res["features"]
    metric = population.to_crs(METRIC_CRS)
    want = 0.0
    for f in feats:
        poly = gpd.GeoSeries([shapely.geometry.shape(f["geometry"])], crs=4326).to_crs(METRIC_CRS)
        inside = metric.geometry.within(poly.iloc[0]) | metric.geometry.touches(poly.iloc[0])
        want += metric.loc[inside, "population"].sum()
        assert f["properties"]["total_pop"] >= 0
    assert sum(f["properties"]["total_pop"] for f in feats) == pytest.approx(want)
    assert want > 0


# ---------------------------------------------------------------------- the page's API


def test_reach_measures_the_green_heart_independently(base_url, skeleton):
    r = httpx.post(f"{base_url}/api/reach", json={"lon": ZHUZHOU[0], "lat": ZHUZHOU[1],
                                                   "minutes": [30]}, timeout=60)  # fmt: skip
    assert r.status_code == 200
    band = r.json()["features"][0]
    gh = cztgeo.load_green_heart().to_crs(AREA_CRS).union_all()
    geom = gpd.GeoSeries([shapely.geometry.shape(band["geometry"])], crs=4326).to_crs(AREA_CRS)
    want = geom.intersection(gh).area.iloc[0] / 1e6
    assert want > 10
    assert band["properties"]["green_heart_km2"] == pytest.approx(want, rel=1e-6)
    assert band["properties"]["green_heart_share"] == pytest.approx(want / (gh.area / 1e6))
    direct = cztgeo.isochrones(skeleton, ZHUZHOU, minutes=[30], **DRIVE_KW)
    assert band["properties"]["area_km2"] == pytest.approx(direct["area_km2"].iloc[0], rel=1e-12)


def test_transit_reach_equals_the_library(base_url):
    r = httpx.post(f"{base_url}/api/reach", json={"lon": CHANGSHA[0], "lat": CHANGSHA[1],
                                                   "mode": "transit", "minutes": [20]})  # fmt: skip
    rail = cztgeo.load_rail()
    want = cztgeo.rail.transit_reach(rail, CHANGSHA, 20.0)
    got = gpd.GeoSeries([shapely.geometry.shape(r.json()["features"][0]["geometry"])], crs=4326)
    assert r.json()["features"][0]["properties"]["area_km2"] == pytest.approx(want.area / 1e6)
    assert got.to_crs(METRIC_CRS).iloc[0].symmetric_difference(want).area < 1e-6 * want.area


def test_circle_overlay_and_health(base_url):
    circle = httpx.get(f"{base_url}/api/circle").json()
    centres = {f["properties"]["centre"] for f in circle["features"]}
    assert {"长沙", "株洲", "湘潭", "all three"} <= centres
    health = httpx.get(f"{base_url}/health").json()
    assert health["status"] == "ready"
    assert set(health["profiles"]) >= {"driving-car", "foot-walking", "cycling-regular"}


def test_docs_and_page_load_nothing_from_other_hosts(base_url):
    docs = httpx.get(f"{base_url}/docs").text
    assert "swagger-ui-bundle.js" in docs
    for page in (docs, httpx.get(f"{base_url}/").text):
        assert not [u for u in _fetched_urls(page) if u.startswith(("http:", "https:", "//"))]
    js = httpx.get(f"{base_url}/static-offline-docs/swagger-ui-bundle.js")
    assert js.status_code == 200
    spec = httpx.get(f"{base_url}/openapi.json").json()
    assert "/v2/isochrones/{profile}" in spec["paths"] and "/v2/matrix/{profile}" in spec["paths"]


def _fetched_urls(html: str) -> list[str]:
    import re

    # what a browser fetches: script/img sources, stylesheets, CSS urls (a plain <a href> link
    # such as Leaflet's attribution fetches nothing)
    return re.findall(
        r"""(?:\ssrc\s*=\s*["']|<link[^>]*\shref\s*=\s*["']|url\(\s*["']?)([^"')\s]+)""", html
    )


# ---------------------------------------------------------------------- bad input


BAD = [
    ("/v2/isochrones/flying", {"locations": [list(CHANGSHA)], "range": [900]}, 400, 3003, "unknown profile"),
    ("/v2/isochrones/driving-car", {"locations": [list(CHANGSHA)], "range": [7200]}, 400, 3004, "exceeds"),
    ("/v2/isochrones/driving-car", {"locations": [list(CHANGSHA)] * 6, "range": [900]}, 400, 3004, "allows 5"),
    ("/v2/isochrones/driving-car", {"locations": [list(CHANGSHA)], "range": [3600], "interval": 60}, 400, 3004, "bands"),
    ("/v2/isochrones/driving-car", {"locations": [[28.2, 112.97]], "range": [900]}, 400, 3003, "[lat, lon]"),
    ("/v2/isochrones/driving-car", {"locations": [[121.47, 31.23]], "range": [900]}, 400, 3003, "outside the area"),
    ("/v2/isochrones/driving-car", {"locations": [[112.5, 27.3]], "range": [900]}, 400, 3003, "nearest road"),
    ("/v2/isochrones/driving-car", {"locations": [list(CHANGSHA)], "range": [-5]}, 400, 3003, "positive"),
    ("/v2/isochrones/driving-car", {"range": [900]}, 400, 3001, "missing"),
    ("/v2/isochrones/driving-car", {"locations": [list(CHANGSHA)], "range": [900], "x": 1}, 400, 3003, "unknown parameter"),
    ("/v2/isochrones/driving-car", {"locations": [list(CHANGSHA)], "range": [900], "range_type": "distance"}, 400, 3005, "not supported"),
    ("/v2/isochrones/driving-car", {"locations": [list(CHANGSHA)], "range": ["abc"]}, 400, 3002, "range[0]"),
    ("/v2/matrix/driving-car", {"locations": [list(CHANGSHA)] * 101}, 400, 6004, "allows 100"),
    ("/v2/matrix/driving-car", {"locations": [list(CHANGSHA)], "sources": [3]}, 400, 6003, "not positions"),
    ("/v2/matrix/driving-car", {"locations": [list(CHANGSHA)], "metrics": ["distance"]}, 400, 6003, "distance"),
    ("/api/reach", {"lon": 112.97, "lat": 28.2, "mode": "teleport"}, 400, None, "mode"),
    ("/api/reach", {"lon": 112.97, "lat": 28.2, "minutes": list(range(1, 12))}, 400, None, "allows 10"),
]  # fmt: skip


def _check_error(r: httpx.Response, status: int, code: int | None, words: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "info"}
    assert body["error"].get("code") == code
    msg = body["error"]["message"]
    assert words in msg
    assert "\n" not in msg and "Traceback" not in msg and len(msg) < 300


@pytest.mark.parametrize(("path", "body", "status", "code", "words"), BAD)
def test_bad_input_gets_ors_error_and_server_keeps_serving(
    base_url, path, body, status, code, words
):
    _check_error(httpx.post(base_url + path, json=body, timeout=60), status, code, words)
    ok = httpx.post(f"{base_url}/v2/isochrones/driving-car",
                    json={"locations": [list(CHANGSHA)], "range": [300]}, timeout=60)  # fmt: skip
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("raw", "code", "words"),
    [
        (b'{"locations": [[NaN, 28.2]], "range": [900]}', 3003, "finite"),
        (b'{"locations": [[112.97, 28.2]], "range": [Infinity]}', 3003, "finite"),
        (b'{"locations": [[112.97, 28.2]], "ran', 3000, "not valid JSON"),
        (b"[1, 2, 3]", 3002, "body"),
    ],
)
def test_non_finite_and_broken_json(base_url, raw, code, words):
    r = httpx.post(
        f"{base_url}/v2/isochrones/driving-car",
        content=raw,
        headers={"content-type": "application/json"},
    )
    _check_error(r, 400, code, words)


def test_oversized_bodies_are_refused_declared_or_streamed(base_url):
    big = b" " * 200_000
    r = httpx.post(f"{base_url}/v2/matrix/driving-car", content=big,
                   headers={"content-type": "application/json"})  # fmt: skip
    _check_error(r, 413, 6004, "limit of 100000 bytes")

    def chunks():
        for _ in range(30):
            yield b" " * 10_000

    r = httpx.post(f"{base_url}/v2/isochrones/driving-car", content=chunks(),
                   headers={"content-type": "application/json"})  # fmt: skip
    _check_error(r, 413, 3004, "limit of 100000 bytes")
    assert httpx.get(f"{base_url}/health").status_code == 200


def test_unknown_route_and_method(base_url):
    _check_error(httpx.get(f"{base_url}/v2/isochrones/driving-car"), 405, 3003, "Not Allowed")
    _check_error(httpx.get(f"{base_url}/etc/passwd"), 404, None, "Not Found")


# ---------------------------------------------------------------------- concurrency


def _state(engine: Engine) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, rm in engine.roads.items():
        net = rm.net
        digest = hashlib.sha256()
        for name in ("lon", "lat", "x", "y", "indptr", "head", "time_s", "length_m", "kind"):
            digest.update(getattr(net, name).tobytes())
        out[str(key)] = (digest.hexdigest(), sorted(net._derived))
    for period, tn in engine.transit.items():
        out[period] = sorted(map(str, tn._xy))
    return out


def test_concurrent_requests_equal_the_library_and_mutate_nothing(engine, base_url, skeleton):
    rng = np.random.default_rng(3)
    points = [
        (float(lon), float(lat))
        for lon, lat in zip(
            rng.uniform(112.9, 113.1, 16), rng.uniform(27.85, 28.2, 16), strict=True
        )
    ]
    want = [cztgeo.isochrones(skeleton, p, minutes=[10, 20], **DRIVE_KW) for p in points]
    before = _state(engine)

    def ask(p):
        body = {"locations": [list(p)], "range": [600, 1200], "attributes": ["area"]}
        return httpx.post(f"{base_url}/v2/isochrones/driving-car", json=body, timeout=120)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, points))
    for r, direct in zip(answers, want, strict=True):
        assert r.status_code == 200
        got = _union_by_value(r.json()["features"], 0)
        for minutes, geom in zip(direct["minutes"], direct.geometry, strict=True):
            assert _same_shape(got[minutes * 60.0], geom)
    assert _state(engine) == before
    assert not engine.road("drive", "offpeak").net.time_s.flags.writeable


# ---------------------------------------------------------------------- serve()


def test_serve_warns_off_loopback_and_passes_options(monkeypatch):
    import uvicorn as uv

    import cztgeo.service.load as eng

    seen = {}
    monkeypatch.setattr(eng, "load_engine", lambda *a, **k: seen.setdefault("engine", k) and None)
    monkeypatch.setattr("cztgeo.service.app.create_app", lambda engine: "app")
    monkeypatch.setattr(uv, "run", lambda app, **kw: seen.update(app=app, **kw))
    from cztgeo.service import serve

    with pytest.warns(CztgeoWarning, match="no authentication"):
        serve(host="0.0.0.0", port=8765)
    assert seen["app"] == "app" and seen["host"] == "0.0.0.0" and seen["port"] == 8765
    serve(host="127.0.0.1", port=0)  # loopback: no warning (warnings are errors here)
    with pytest.raises(InputError, match="port"):
        serve(port=70000)


# ---------------------------------------------------------------------- the page in Chromium


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip(
            "Chromium is needed for the browser test: apt-get install chromium (.ci/run does)"
        )
    return exe


def test_page_click_draws_bands_and_panel_shows_area(base_url, engine, tmp_path):
    from playwright.sync_api import sync_playwright

    exe = _chromium()
    elsewhere: list[str] = []
    problems: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith((base_url, "data:", "blob:")):
            r.continue_()
        else:
            elsewhere.append(url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1300, "height": 850}, accept_downloads=True)
        page.route("**/*", route)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("console", lambda m: m.type == "error" and problems.append(m.text))
        page.goto(base_url + "/")
        page.wait_for_function("window.cztgeo && window.cztgeo.map")
        before = _rgb(_shot(page, tmp_path / "before.png"))
        x, y = page.evaluate(
            """([lon, lat]) => { const m = window.cztgeo.map;
                const p = m.latLngToContainerPoint([lat, lon]);
                const r = m.getContainer().getBoundingClientRect();
                return [r.left + p.x, r.top + p.y]; }""",
            list(ZHUZHOU),
        )
        page.mouse.click(x, y)  # a real click on the map
        page.wait_for_function("window.cztgeo.last && window.cztgeo.pending === 0", timeout=60000)
        sent = page.evaluate("window.cztgeo.lastRequest")
        rows = page.locator("#result tbody tr")
        assert rows.count() == 3
        shown = [float(rows.nth(i).get_attribute("data-area-km2")) for i in range(3)]
        texts = [rows.nth(i).inner_text() for i in range(3)]
        after = _rgb(_shot(page, tmp_path / "after.png"))

        # the panel shows what the library computes for the clicked point
        direct = engine.reach("drive", (sent["lon"], sent["lat"]), [15, 30, 45], period="offpeak")
        assert shown == [b.area_km2 for b in direct.bands]
        for text, band in zip(texts, direct.bands, strict=True):
            assert f"{band.area_km2:,.1f}" in text
        # bands were drawn: pixels changed around the clicked point
        changed = np.abs(after - before).sum(axis=2) > 30
        assert changed.mean() > 0.01
        assert changed[int(y) - 40 : int(y) + 40, int(x) - 40 : int(x) + 40].mean() > 0.3

        with page.expect_download() as dl:
            page.click("#export-geojson")
        exported = json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
        assert [f["properties"]["area_km2"] for f in exported["features"]] == shown
        with page.expect_download() as dl:
            page.click("#export-png")
        png = _rgb(dl.value.path())
        assert png.shape[0] > 500 and png.std() > 10

        # drag the marker: a new request from where it was dropped
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x - 60, y - 40, steps=8)
        page.mouse.up()
        page.wait_for_function("window.cztgeo.requests === 2 && window.cztgeo.pending === 0",
                               timeout=60000)  # fmt: skip
        assert page.evaluate("window.cztgeo.lastRequest.lon") < sent["lon"]

        # a bad request shows a one-line error and the page keeps working
        page.fill("#minutes", "15,999")
        page.press("#minutes", "Tab")  # leaving the field fires one change event
        page.wait_for_function("window.cztgeo.errors === 1 && window.cztgeo.pending === 0",
                               timeout=60000)  # fmt: skip
        assert "exceeds this server's maximum" in page.inner_text("#status")

        page.check("#circle")
        page.wait_for_function("window.cztgeo.circle !== null", timeout=60000)
        assert "APPROXIMATE" in page.inner_text("#notes")
        browser.close()
    assert elsewhere == []
    # the only console error is the browser's note on the refused (400) request
    assert len(problems) == 1 and "400" in problems[0], problems


def _rgb(path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=float)


def _shot(page, path):
    page.locator("#map").screenshot(path=str(path))
    return path


# ---------------------------------------------------------------------- other networks


def test_engine_on_an_osm_file_uses_its_walk_network(yuelu_osm, settings):
    eng = load_engine(yuelu_osm, rail=False, settings=settings)
    assert eng.modes == ("drive", "walk", "bike") and eng.periods == ("offpeak", "peak")
    walk = cztgeo.load_network(yuelu_osm, mode="walk", settings=settings)
    assert not eng.road("walk", "offpeak").net.coarse
    pt = (float(walk.lon[10]), float(walk.lat[10]))
    got = eng.reach("walk", pt, [5, 10], period="offpeak")
    direct = cztgeo.isochrones(walk, pt, minutes=[5, 10], max_snap_m=1000.0)
    for band, geom, area in zip(got.bands, direct.geometry, direct["area_km2"], strict=True):
        assert band.area_km2 == pytest.approx(area, rel=1e-12)
        assert _same_shape(band.geometry, geom)
    # peak speeds are slower (urban factor 0.6, rural 0.85): every arc takes longer
    off, peak = eng.road("drive", "offpeak").net, eng.road("drive", "peak").net
    assert peak.time_s.sum() / off.time_s.sum() == pytest.approx(1 / 0.6, rel=0.2)
    with pytest.raises(InputError, match="transit modes are off"):
        eng.reach("transit", pt, [10], period="offpeak")


def test_engine_on_a_prepared_cache_offers_drive_only(yuelu_osm, settings, tmp_path):
    drive = cztgeo.load_network(yuelu_osm, mode="drive", settings=settings)
    cache = drive.save(tmp_path / "yuelu_drive.cztnet")
    eng = load_engine(cache, rail=False, settings=settings)
    assert eng.modes == ("drive",) and eng.periods == ("offpeak",)
    pt = (float(drive.lon[5]), float(drive.lat[5]))
    with pytest.raises(InputError, match="needs a walk network"):
        eng.reach("walk", pt, [10], period="offpeak")
    with pytest.raises(InputError, match="fixed speeds"):
        eng.reach("drive", pt, [10], period="peak")
    assert eng.reach("drive", pt, [5], period="offpeak").bands[0].area_km2 > 0
