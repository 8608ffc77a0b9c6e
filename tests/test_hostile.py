"""Hostile inputs (issue #10): every entry point answers bad input with exit code 2 and one line
on stderr, and changes nothing on disk (inputs and earlier outputs hashed before and after).

Most CLI cases run ``cztgeo.cli.main`` in-process (the same code the console script runs; it
keeps the suite fast); ``test_real_process_exit_codes`` checks real ``python -m cztgeo``
processes, including the internal-error code 3.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import cztgeo
from cztgeo import errors, maps
from cztgeo.cli import main
from cztgeo.encroachment import encroaching, encroachment
from cztgeo.io import MANIFEST, Outputs, check_coordinates, csv_safe, read_vector, write_vector
from cztgeo.network import load_network, read_network_cache
from cztgeo.rail import load_rail, read_gtfs

SRC = Path(cztgeo.__file__).resolve().parents[1]
PWN = "</script><script>window.__pwned=1</script>"


def tree_hash(root: Path) -> dict[str, str]:
    """Every file (hidden ones too) under ``root`` and its SHA-256; folders as entries."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
    return out


def _mbtiles(path: Path, meta: dict[str, str], tiles: list[tuple] | None = None) -> Path:
    from PIL import Image

    con = sqlite3.connect(path)
    con.execute("create table metadata (name text, value text)")
    con.execute(
        "create table tiles (zoom_level integer, tile_column integer, tile_row integer, "
        "tile_data blob)"
    )
    con.executemany("insert into metadata values (?, ?)", list(meta.items()))
    if tiles is None:
        import io as _io

        buf = _io.BytesIO()
        Image.new("RGB", (256, 256), (200, 220, 200)).save(buf, format="PNG")
        # z12 tile over central Changsha (TMS row)
        x, y = 3333, 1714
        tiles = [(12, x, (1 << 12) - 1 - y, buf.getvalue())]
    con.executemany("insert into tiles values (?, ?, ?, ?)", tiles)
    con.commit()
    con.close()
    return path


def _cache_variant(src: Path, dest: Path, change: str) -> Path:
    with np.load(src) as z:
        arrays = {k: z[k] for k in z.files}
    if change == "negative_times":
        arrays["time_s"] = -np.abs(arrays["time_s"])
    elif change == "missing_head":
        arrays.pop("head")
    elif change == "head_out_of_range":
        arrays["head"] = arrays["head"] + 10**6
    elif change == "nan_lon":
        arrays["lon"][0] = np.nan
    elif change == "object_meta":
        arrays["meta"] = np.frombuffer(b'{"format": 99}', dtype=np.uint8)
    with open(dest, "wb") as fh:
        np.savez(fh, **arrays)
    if change == "huge_header":
        data = bytearray(dest.read_bytes())
        i = data.find(b"'shape': (")
        j = data.find(b",)", i)
        data[i + 10 : j] = b"9" * (j - i - 10)
        dest.write_bytes(bytes(data))
    return dest


def _gtfs(folder: Path, *, times: list[str], stop_ids: tuple[str, str] = ("a", "b")) -> Path:
    folder.mkdir()
    (folder / "stops.txt").write_text(
        "stop_id,stop_name,stop_lat,stop_lon\na,A,28.19,112.97\nb,B,27.83,113.13\n"
    )
    (folder / "routes.txt").write_text("route_id,route_short_name\nr,R\n")
    (folder / "trips.txt").write_text("route_id,trip_id\nr,t1\n")
    rows = "".join(
        f"t1,{sid},{k + 1},{t},{t}\n"
        for k, (sid, t) in enumerate(zip(stop_ids, times, strict=True))
    )
    (folder / "stop_times.txt").write_text(
        "trip_id,stop_id,stop_sequence,arrival_time,departure_time\n" + rows
    )
    return folder


@pytest.fixture(scope="module")
def ws(tmp_path_factory, data_dir):
    """A workspace of hostile files, plus earlier outputs (rep/) that must survive."""
    import warnings

    os.environ.setdefault("CZTGEO_DATA_DIR", str(data_dir))
    w = tmp_path_factory.mktemp("ws")
    gh = cztgeo.load_green_heart()
    inside = gh.geometry.iloc[0].representative_point().buffer(0.002)
    far = shapely.box(112.0, 27.0, 112.01, 27.01)
    sites = gpd.GeoDataFrame({"id": [1, 2]}, geometry=[inside, far], crs=4326)
    sites.to_file(w / "sites.gpkg")
    c = inside.centroid
    (w / "swapped.csv").write_text(f"id,lon,lat\n1,{c.y},{c.x}\n")
    (w / "lat200.csv").write_text("id,lon,lat\n1,112.9,200\n")
    (w / "blank.csv").write_text("id,lon,lat\n1,112.9,\n2,113.0,28.0\n")
    (w / "text.csv").write_text("id,lon,lat\n1,abc,28.0\n")
    (w / "inf.csv").write_text("id,lon,lat\n1,inf,28.0\n")
    sites.to_crs(32649).set_crs(4326, allow_override=True).to_file(w / "utm_as_wgs.gpkg")
    (w / "europe.csv").write_text("id,lon,lat\n1,10.0,50.0\n")
    (w / "nanwkt.csv").write_text("id,wkt\n1,POINT (nan 28)\n")
    # a zoned official file
    zoned = gpd.GeoDataFrame(
        {"zone": ["核心保护区", "融合发展区"]},
        geometry=[inside.buffer(0.01), shapely.box(113.05, 27.95, 113.1, 28.0)],
        crs=4326,
    )
    zoned.to_file(w / "official.gpkg")
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(113, 28)], crs=4326).to_file(
        w / "points.gpkg"
    )
    # crafted basemaps
    _mbtiles(w / "evil_format.mbtiles", {"format": "png;base64,{{ cycler.__init__ }}"})
    _mbtiles(w / "evil_zoom.mbtiles", {"format": "png", "maxzoom": "12;alert(1)"})
    _mbtiles(w / "evil_bounds.mbtiles", {"format": "png", "bounds": "nan,nan,nan,nan"})
    _mbtiles(w / "zoom_order.mbtiles", {"format": "png", "minzoom": "14", "maxzoom": "12"})
    _mbtiles(w / "bad_tile.mbtiles", {"format": "png"}, tiles=[(99, 0, 0, b"x")])
    (w / "notsqlite.mbtiles").write_text("hello")
    # layer files without the columns maps need
    sites.to_file(w / "no_minutes.gpkg")
    # caches
    net = load_network(data_dir / "osm" / "yuelu_taozihu.osm", cache=False)
    net.save(w / "good.cztnet")
    for change in (
        "negative_times", "missing_head", "head_out_of_range", "nan_lon", "object_meta",
        "huge_header",
    ):  # fmt: skip
        _cache_variant(w / "good.cztnet", w / f"{change}.cztnet", change)
    (w / "garbage.cztnet").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    # rail line files and GTFS
    (w / "nolines.json").write_text('{"walk_access": {}}')
    spec = json.loads((SRC.parent / "geodata" / "czt_transit.json").read_text(encoding="utf-8"))
    spec["lines"][0]["headway_minutes"] = "fast"
    (w / "texthead.json").write_text(json.dumps(spec, ensure_ascii=False))
    (w / "notjson.json").write_text("{lines: [")
    _gtfs(w / "gtfs_text", times=["08:00:00", "soon"])
    _gtfs(w / "gtfs_back", times=["08:30:00", "08:00:00"])
    _gtfs(w / "gtfs_unknown", times=["08:00:00", "08:20:00"], stop_ids=("a", "zz"))
    # scenario with text speed
    gpd.GeoDataFrame(
        {"mode": ["drive"], "name": ["x"], "speed_kmh": ["fast"]},
        geometry=[shapely.LineString([(112.97, 28.19), (113.0, 28.0)])],
        crs=4326,
    ).to_file(w / "scenario_text.geojson")
    # earlier outputs that a failing run must leave alone
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["encroachment", str(w / "sites.gpkg"), "--out", str(w / "rep")]) == 1
    assert (w / "rep" / MANIFEST).exists()
    (w / "gh.geojson").write_text(cztgeo.load_green_heart().to_json())
    return w


CLI_CASES = {
    # encroachment: coordinates checked before any analysis
    "enc-swapped-axes": (["encroachment", "{w}/swapped.csv", "--crs", "EPSG:4326", "--out", "{w}/rep"], "swapped"),
    "enc-lat-200": (["encroachment", "{w}/lat200.csv", "--crs", "EPSG:4326", "--out", "{w}/rep"], "out of range"),
    "enc-blank-coordinate": (["encroachment", "{w}/blank.csv", "--crs", "EPSG:4326", "--out", "{w}/rep"], "blank, text"),
    "enc-text-coordinate": (["encroachment", "{w}/text.csv", "--crs", "EPSG:4326", "--out", "{w}/rep"], "'abc'"),
    "enc-inf-coordinate": (["encroachment", "{w}/inf.csv", "--crs", "EPSG:4326", "--out", "{w}/rep"], "non-finite"),
    "enc-nan-wkt": (["encroachment", "{w}/nanwkt.csv", "--crs", "EPSG:4326", "--out", "{w}/rep"], "NaN or infinite"),
    "enc-utm-declared-wgs84": (["encroachment", "{w}/utm_as_wgs.gpkg", "--out", "{w}/rep"], "projected metres"),
    "enc-degrees-declared-utm": (["encroachment", "{w}/sites.gpkg", "--crs", "EPSG:32649", "--out", "{w}/rep"], "look like degrees"),
    "enc-gcj02-outside-china": (["encroachment", "{w}/europe.csv", "--crs", "gcj02", "--out", "{w}/rep"], "outside China"),
    "enc-utm-area-of-use": (["encroachment", "{w}/europe.csv", "--crs", "EPSG:4490", "--out", "{w}/rep"], "area of use"),
    # zone gates
    "enc-fail-on-unzoned-sketch": (["encroachment", "{w}/sites.gpkg", "--out", "{w}/rep", "--fail-on", "核心保护区"], "has no zones"),
    "enc-fail-on-misspelt": (["encroachment", "{w}/sites.gpkg", "--out", "{w}/rep", "--green-heart", "{w}/official.gpkg", "--fail-on", "核心保护"], "融合发展区"),
    "enc-zones-misspelt": (["encroachment", "{w}/sites.gpkg", "--out", "{w}/rep", "--green-heart", "{w}/official.gpkg", "--zones", "core-ish"], "not in the green-heart layer"),
    "enc-green-heart-points": (["encroachment", "{w}/sites.gpkg", "--out", "{w}/rep", "--green-heart", "{w}/points.gpkg"], "must be polygons"),
    # numbers
    "enc-tolerance-nan": (["encroachment", "{w}/sites.gpkg", "--out", "{w}/rep", "--tolerance-m", "nan"], "finite number"),
    "enc-tolerance-negative": (["encroachment", "{w}/sites.gpkg", "--out", "{w}/rep", "--tolerance-m", "-5"], "finite number"),
    "enc-min-area-inf": (["encroachment", "{w}/sites.gpkg", "--out", "{w}/rep", "--min-area-m2", "inf"], "finite number"),
    "enc-tolerance-text": (["encroachment", "{w}/sites.gpkg", "--out", "{w}/rep", "--tolerance-m", "abc"], "expected a number"),
    # outputs vs inputs
    "enc-input-inside-out": (["encroachment", "{w}/rep/overlaps.gpkg", "--out", "{w}/rep"], "lies inside the output folder"),
    "enc-out-is-input-file": (["encroachment", "{w}/sites.gpkg", "--out", "{w}/sites.gpkg"], "is a file"),
    "enc-map-bad-suffix": (["encroachment", "{w}/sites.gpkg", "--out", "{w}/rep", "--map", "{w}/m.pdf"], "map format"),
    "enc-evil-basemap": (["encroachment", "{w}/sites.gpkg", "--out", "{w}/rep", "--map", "{w}/rep/m.html", "--basemap", "{w}/evil_format.mbtiles"], "tile format"),
    "enc-id-column-missing": (["encroachment", "{w}/sites.gpkg", "--out", "{w}/rep", "--id-column", "nope"], "no id column"),
    "enc-missing-file": (["encroachment", "{w}/nope.gpkg", "--out", "{w}/rep"], "file not found"),
    "enc-unknown-crs": (["encroachment", "{w}/sites.gpkg", "--crs", "gcj03", "--out", "{w}/rep"], "unknown CRS"),
    # green-heart / boundaries
    "gh-output-is-input": (["green-heart", "{w}/gh.geojson", "-o", "{w}/gh.geojson"], "is also an input"),
    "gh-bad-suffix": (["green-heart", "-o", "{w}/gh.xyz"], "cannot tell the output format"),
    "gh-file-lat-200": (["green-heart", "{w}/lat200.csv", "--crs", "EPSG:4326", "-o", "{w}/x.gpkg"], "out of range"),
    "boundaries-out-is-folder": (["boundaries", "-o", "{w}/rep"], "cannot tell the output format"),
    "boundaries-out-under-file": (["boundaries", "-o", "{w}/sites.gpkg/x.gpkg"], "is a file"),
    "boundaries-bad-level": (["boundaries", "--level", "planet"], "is not one of"),
    # isochrones
    "iso-swapped-origin": (["isochrones", "--origin", "28.1986,112.9709", "-o", "{w}/i.gpkg"], "looks like LAT,LON"),
    "iso-lat-200": (["isochrones", "--origin", "112.97,200", "-o", "{w}/i.gpkg"], "not WGS84"),
    "iso-max-snap-nan": (["isochrones", "--origin", "112.97,28.19", "--max-snap-m", "nan", "-o", "{w}/i.gpkg"], "finite number"),
    "iso-max-snap-negative": (["isochrones", "--origin", "112.97,28.19", "--max-snap-m", "-1", "-o", "{w}/i.gpkg"], "finite number"),
    "iso-minutes-negative": (["isochrones", "--origin", "112.97,28.19", "--minutes", "-5", "-o", "{w}/i.gpkg"], "minutes must be positive"),
    "iso-minutes-text": (["isochrones", "--origin", "112.97,28.19", "--minutes", "abc", "-o", "{w}/i.gpkg"], "expected numbers"),
    "iso-access-zero": (["isochrones", "--origin", "112.97,28.19", "--access-m", "0", "-o", "{w}/i.gpkg"], "finite number"),
    "iso-cache-negative-times": (["isochrones", "--network", "{w}/negative_times.cztnet", "--origin", "112.945,28.185", "-o", "{w}/i.gpkg"], "invalid network cache"),
    "iso-cache-missing-array": (["isochrones", "--network", "{w}/missing_head.cztnet", "--origin", "112.945,28.185", "-o", "{w}/i.gpkg"], "invalid network cache"),
    "iso-cache-head-range": (["isochrones", "--network", "{w}/head_out_of_range.cztnet", "--origin", "112.945,28.185", "-o", "{w}/i.gpkg"], "invalid network cache"),
    "iso-cache-nan-lon": (["isochrones", "--network", "{w}/nan_lon.cztnet", "--origin", "112.945,28.185", "-o", "{w}/i.gpkg"], "invalid network cache"),
    "iso-cache-format": (["isochrones", "--network", "{w}/object_meta.cztnet", "--origin", "112.945,28.185", "-o", "{w}/i.gpkg"], "cache format"),
    "iso-cache-huge-header": (["isochrones", "--network", "{w}/huge_header.cztnet", "--origin", "112.945,28.185", "-o", "{w}/i.gpkg"], "cache"),
    "iso-cache-garbage": (["isochrones", "--network", "{w}/garbage.cztnet", "--origin", "112.945,28.185", "-o", "{w}/i.gpkg"], "corrupt or truncated"),
    "iso-output-is-network": (["isochrones", "--network", "{w}/good.cztnet", "--origin", "112.945,28.185", "-o", "{w}/sites.gpkg", "--map", "{w}/good.cztnet"], "map format"),
    # map
    "map-evil-format": (["map", "--offline", "--basemap", "{w}/evil_format.mbtiles", "--layers", "boundaries", "--out", "{w}/m.html"], "tile format"),
    "map-evil-zoom": (["map", "--offline", "--basemap", "{w}/evil_zoom.mbtiles", "--layers", "boundaries", "--out", "{w}/m.html"], "maxzoom"),
    "map-evil-bounds": (["map", "--offline", "--basemap", "{w}/evil_bounds.mbtiles", "--layers", "boundaries", "--out", "{w}/m.html"], "bounds"),
    "map-zoom-order": (["map", "--offline", "--basemap", "{w}/zoom_order.mbtiles", "--layers", "boundaries", "--out", "{w}/m.html"], "above maxzoom"),
    "map-bad-tile": (["map", "--offline", "--basemap", "{w}/bad_tile.mbtiles", "--layers", "boundaries", "--out", "{w}/m.html"], "invalid address"),
    "map-not-sqlite": (["map", "--offline", "--basemap", "{w}/notsqlite.mbtiles", "--layers", "boundaries", "--out", "{w}/m.html"], "MBTiles"),
    "map-layer-without-minutes": (["map", "--layers", "isochrones", "--isochrones", "{w}/no_minutes.gpkg", "--out", "{w}/m.html"], "no column 'minutes'"),
    "map-layer-without-status": (["map", "--layers", "encroachment", "--encroachment", "{w}/no_minutes.gpkg", "--out", "{w}/m.html"], "no column 'status'"),
    "map-out-is-input": (["map", "--layers", "isochrones", "--isochrones", "{w}/m0.html", "--out", "{w}/m0.html"], "is also an input"),
    "map-unknown-layer": (["map", "--layers", "roads", "--out", "{w}/m.html"], "unknown layers"),
    "map-offline-web-basemap": (["map", "--offline", "--basemap", "osm", "--out", "{w}/m.html"], "needs the internet"),
    # commute-circle: refused before the analysis
    "cc-headway-negative": (["commute-circle", "--out", "{w}/cc", "--headway-min", "-30"], "finite number"),
    "cc-minutes-nan": (["commute-circle", "--out", "{w}/cc", "--minutes", "nan"], "finite number"),
    "cc-rail-without-lines": (["commute-circle", "--out", "{w}/cc", "--rail-lines", "{w}/nolines.json"], "'lines' list"),
    "cc-rail-text-headway": (["commute-circle", "--out", "{w}/cc", "--rail-lines", "{w}/texthead.json"], "headway_minutes must be"),
    "cc-rail-not-json": (["commute-circle", "--out", "{w}/cc", "--rail-lines", "{w}/notjson.json"], "not valid JSON"),
    "cc-gtfs-text-times": (["commute-circle", "--out", "{w}/cc", "--gtfs", "{w}/gtfs_text"], "HH:MM:SS"),
    "cc-gtfs-backwards": (["commute-circle", "--out", "{w}/cc", "--gtfs", "{w}/gtfs_back"], "backwards"),
    "cc-gtfs-unknown-stop": (["commute-circle", "--out", "{w}/cc", "--gtfs", "{w}/gtfs_unknown"], "not in stops.txt"),
    "cc-scenario-text-speed": (["commute-circle", "--out", "{w}/cc", "--scenario", "{w}/scenario_text.geojson"], "speed_kmh must be"),
    "cc-out-holds-input": (["commute-circle", "--out", "{w}", "--rail-lines", "{w}/nolines.json"], "lies inside the output folder"),
    # data fetch and argparse
    "fetch-offline": (["--offline", "data", "fetch", "--out", "{w}/dl"], "offline"),
    "fetch-bad-bbox": (["data", "fetch", "--bbox", "113,28,112,27"], "W<E"),
    "fetch-ftp-url": (["data", "fetch", "--url", "ftp://x/y.pbf", "--out", "{w}/dl"], "only http"),
    "cli-unknown-command": (["frobnicate"], "No such command"),
    "cli-missing-out": (["encroachment", "{w}/sites.gpkg"], "Missing option '--out'"),
    "cli-unknown-option": (["boundaries", "--bogus"], "No such option"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_hostile(ws, capsys, tmp_path, case):
    argv, message = CLI_CASES[case]
    argv = [a.format(w=ws) for a in argv]
    if case == "map-out-is-input":
        (ws / "m0.html").write_text("<html></html>")
    before = tree_hash(ws)
    code = main(["--cache-dir", str(tmp_path / "cache"), *argv])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert message in lines[0], lines[0]
    assert "Traceback" not in err
    assert tree_hash(ws) == before  # inputs and earlier outputs untouched, no leftovers


def _py(*argv, env=None, timeout=60):
    e = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cztgeo", *argv],
        capture_output=True, text=True, timeout=timeout, env=e, check=False,
    )  # fmt: skip


def test_real_process_exit_codes(ws, tmp_path):
    env = {"CZTGEO_CACHE_DIR": str(tmp_path / "cache")}
    before = tree_hash(ws)
    # a usage error: one line, exit 2
    res = _py(
        "isochrones", "--origin", "112.97,28.19", "--max-snap-m", "nan", "-o", "x.gpkg", env=env
    )
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    # the unzoned sketch fails a zone gate loudly instead of passing it
    res = _py("encroachment", str(ws / "sites.gpkg"), "--out", str(ws / "rep"), "--fail-on", "核心保护区", env=env)  # fmt: skip
    assert res.returncode == 2 and "has no zones" in res.stderr
    # a crash is 3 (never 0 "clean" nor 1 "encroaches"): make pandas fail inside the run
    boom = tmp_path / "boom"
    boom.mkdir()
    (boom / "sitecustomize.py").write_text(
        "import geopandas\n"
        "def _boom(*a, **k):\n    raise ZeroDivisionError('injected')\n"
        "geopandas.GeoDataFrame.to_crs = _boom\n"
    )
    res = _py("encroachment", str(ws / "sites.gpkg"), "--out", str(tmp_path / "o"),
              env={**env, "PYTHONPATH": f"{boom}{os.pathsep}{SRC}"})  # fmt: skip
    assert res.returncode == 3, res.stderr
    assert "internal error" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
    assert tree_hash(ws) == before


def test_download_timeout_on_silent_server(tmp_path):
    """A server that accepts and never answers fails within the read timeout."""
    server = subprocess.Popen(
        [sys.executable, "-c",
         "import socket,time,sys\n"
         "s=socket.socket();s.bind(('127.0.0.1',0));s.listen(5)\n"
         "print(s.getsockname()[1],flush=True)\n"
         "c=[s.accept() for _ in range(3)]\ntime.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        port = int(server.stdout.readline())
        res = _py("data", "fetch", "--url", f"http://127.0.0.1:{port}/x.osm.pbf", "--out",
                  str(tmp_path / "dl"), "--timeout-s", "1", "-q", timeout=30)  # fmt: skip
    finally:
        server.kill()
        server.wait()
        server.stdout.close()
    assert res.returncode == 2, res.stderr
    assert "timed out" in res.stderr.lower() or "timeout" in res.stderr.lower()
    assert len(res.stderr.strip().splitlines()) == 1
    assert not list((tmp_path / "dl").glob("*")) if (tmp_path / "dl").exists() else True


# ---------------------------------------------------------------------- data is data


def test_hostile_ids_escaped_in_report_csv_and_map(ws, tmp_path, capsys):
    gh = cztgeo.load_green_heart()
    inside = gh.geometry.iloc[0].representative_point()
    ids = ["=cmd|' /C calc'!A0", "a\nb|c", "<script>alert(1)</script>", PWN, "+1", "@x"]
    geoms = [inside.buffer(0.001 * (k + 1)) for k in range(len(ids))]
    sites = gpd.GeoDataFrame({"site": ids, "name": ids}, geometry=geoms, crs=4326)
    sites.to_file(tmp_path / "evil.gpkg")
    out = tmp_path / "rep"
    code = main(["encroachment", str(tmp_path / "evil.gpkg"), "--id-column", "site", "--out",
                 str(out), "--map", str(out / "map.html")])  # fmt: skip
    assert code == 1
    md = (out / "report.md").read_text()
    assert "<script>" not in md and "</script>" not in md
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and ln.endswith("% |")]
    assert len(rows) == len(ids)  # no id broke a table row
    assert all(ln.count(" | ") == 5 for ln in rows)
    page = (out / "map.html").read_text()
    assert PWN not in page and "<script>alert(1)" not in page
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["command"] == "encroachment" and "report.md" in manifest["files"]
    # CSV cells from data cannot run as formulas
    df = pd.DataFrame({"id": ids, "n": [1, -2, 3, 4, 5, 6]})
    safe = csv_safe(df)
    assert all(not str(v).startswith(("=", "+", "-", "@")) for v in safe["id"])
    assert list(safe["n"]) == [1, -2, 3, 4, 5, 6]  # numbers untouched
    write_vector(sites, tmp_path / "evil.csv")
    text = (tmp_path / "evil.csv").read_text()
    assert "\n=cmd" not in text and ",=cmd" not in text and "'=cmd" in text


def test_jinja_and_template_literal_data_are_inert(tmp_path):
    evil = "{{ 'zq' ~ 'jx' }}${'te'+'mplx'}`<b>"
    pts = gpd.GeoDataFrame({"name": [evil]}, geometry=[shapely.Point(112.97, 28.19)], crs=4326)
    gh = gpd.GeoDataFrame(
        {"zone": [evil], "version": ["x"], "approximate": [False], "area_km2": [1.0]},
        geometry=[shapely.box(112.9, 28.1, 113.0, 28.2)], crs=4326,
    )  # fmt: skip
    m = maps.build_map(
        [maps.stations_layer(pts), maps.green_heart_layer(gh)], title=evil, note=evil
    )
    page = maps.render_html(m)
    assert "zqjx" not in page  # not evaluated as a Jinja template
    assert "templx" not in page  # not evaluated as a JavaScript template literal
    assert "<b>" not in page.split("<body>")[-1]


# ---------------------------------------------------------------------- public API


def _sites():
    return gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.Point(113.0, 28.0)], crs=4326)


API_CASES = {
    "encroachment-tolerance-nan": lambda: encroachment(_sites(), tolerance_m=float("nan")),
    "encroachment-min-area-text": lambda: encroachment(_sites(), min_area_m2="big"),
    "encroachment-id-column-int": lambda: encroachment(_sites(), id_column=5),
    "encroachment-zones-string": lambda: encroachment(_sites(), zones="核心保护区"),
    "encroachment-not-gdf": lambda: encroachment([1, 2, 3]),
    "encroachment-gh-not-gdf": lambda: encroachment(_sites(), green_heart="sketch"),
    "encroaching-unknown-zone": lambda: encroaching(encroachment(_sites()), ["nowhere"]),
    "check-coordinates-swapped": lambda: check_coordinates(
        gpd.GeoDataFrame(geometry=[shapely.Point(28.2, 112.9)], crs=4326)
    ),
    "check-coordinates-nan": lambda: check_coordinates(
        gpd.GeoDataFrame(geometry=[shapely.Point(np.nan, 28.0)], crs=4326)
    ),
    "check-coordinates-degrees-as-utm": lambda: check_coordinates(
        gpd.GeoDataFrame(geometry=[shapely.Point(112.9, 28.2)], crs=32649)
    ),
    "check-coordinates-utm-outside-zone": lambda: check_coordinates(
        gpd.GeoDataFrame(geometry=[shapely.Point(500000.0, 9_900_000.0)], crs=32649)
    ),
    "read-vector-missing": lambda: read_vector("/nonexistent/x.gpkg"),
    "isochrones-max-snap-nan": lambda: cztgeo.isochrones(
        load_network(), (112.97, 28.19), minutes=[10], max_snap_m=float("nan")
    ),
    "isochrones-access-kmh-zero": lambda: cztgeo.isochrones(
        load_network(), (112.97, 28.19), minutes=[10], access_kmh=0
    ),
    "travel-times-max-snap-negative": lambda: cztgeo.travel_times(
        load_network(), (112.97, 28.19), max_minutes=10, max_snap_m=-5
    ),
    "commute-circle-minutes-negative": lambda: cztgeo.commute_circle(minutes=-30),
    "commute-circle-max-snap-nan": lambda: cztgeo.commute_circle(max_snap_m=float("nan")),
    "commute-circle-access-zero": lambda: cztgeo.commute_circle(road_access_kmh=0),
    "commute-circle-modes-string": lambda: cztgeo.commute_circle(modes="drive"),
    "with-headway-negative": lambda: load_rail().with_headway(-30),
    "with-headway-nan": lambda: load_rail().with_headway({"x": float("nan")}),
    "read-gtfs-walk-kmh-zero": lambda: read_gtfs("x.zip", walk_kmh=0),
    "read-cache-missing": lambda: read_network_cache("/nonexistent/x.cztnet"),
    "build-map-unknown-basemap": lambda: maps.build_map([], basemap="google"),
    "isochrone-layer-no-minutes": lambda: maps.isochrone_layer(_sites()),
    "encroachment-layer-not-gdf": lambda: maps.encroachment_layer(pd.DataFrame({"a": [1]})),
    "outputs-output-is-input": lambda: Outputs(inputs=[__file__]).file(__file__),
}


@pytest.mark.parametrize("case", list(API_CASES))
def test_api_hostile(case, settings):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # RailWarning for unplaced stations
        with pytest.raises(errors.CztgeoError) as info:
            API_CASES[case]()
    assert isinstance(info.value, (ValueError, RuntimeError))  # and the matching builtin
    assert "\n" not in str(info.value)


def test_gtfs_zip_bomb_refused_by_size(tmp_path, monkeypatch):
    from cztgeo import rail

    feed = _gtfs(tmp_path / "g", times=["08:00:00", "08:20:00"])
    with zipfile.ZipFile(tmp_path / "g.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for f in feed.iterdir():
            z.write(f, f.name)
        z.writestr("padding.txt", "0" * 2_000_000)  # 2 MB of zeros: a few kB compressed
    assert (tmp_path / "g.zip").stat().st_size < 100_000
    monkeypatch.setattr(rail, "GTFS_MAX_BYTES", 1_000_000)
    with pytest.raises(errors.LimitError, match="unpacks to"):
        read_gtfs(tmp_path / "g.zip")
    monkeypatch.setattr(rail, "GTFS_MAX_ROWS", 0)
    with pytest.raises(errors.LimitError, match="rows"):
        read_gtfs(feed)


def test_gtfs_good_feed_still_reads(tmp_path):
    tn = read_gtfs(_gtfs(tmp_path / "g", times=["08:00:00", "08:20:00"]))
    assert tn.lines[0].run_minutes == (20.0,)


def test_mbtiles_without_bounds_uses_tile_extent(tmp_path):
    info = maps._mbtiles(_mbtiles(tmp_path / "nb.mbtiles", {"format": "jpg"}))
    w, s, e, n = info["bounds"]
    assert 112.9 < w < e < 113.1 and 28.0 < s < n < 28.3  # the z12 tile, not the world
    assert info["tiles"] and next(iter(info["tiles"].values())).startswith("data:image/jpeg")


def test_gcj_guard_states_what_it_could_not_check():
    far = gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.box(80.0, 40.0, 80.01, 40.01)], crs=4326)
    with pytest.warns(cztgeo.errors.EncroachmentWarning, match="could not check"):
        cztgeo.encroachment(far)


def test_bad_fetched_cache_does_not_break_later_runs(tmp_path, capsys, ws):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "czt_drive.cztnet").write_bytes((ws / "negative_times.cztnet").read_bytes())
    code = main(["--cache-dir", str(cache), "isochrones", "--origin", "112.9709,28.1986",
                 "--minutes", "5", "-o", str(tmp_path / "i.gpkg")])  # fmt: skip
    assert code == 0
    from cztgeo.circle import road_network

    with pytest.warns(cztgeo.errors.NetworkWarning, match="ignoring the fetched cache"):
        net, which = road_network(settings=cztgeo.Settings(cache_dir=cache, offline=True))
    assert which == "embedded coarse skeleton" and net.coarse


def test_osm_cache_rebuilt_when_invalid(tmp_path, yuelu_osm, settings):
    net = load_network(yuelu_osm, settings=settings)
    (cache,) = Path(settings.cache_dir).glob("*.cztnet")
    _cache_variant(cache, cache, "negative_times")
    again = load_network(yuelu_osm, settings=settings)  # discarded and rebuilt
    assert again.n_arcs == net.n_arcs and (again.time_s > 0).all()
    assert read_network_cache(cache).n_arcs == net.n_arcs


# ---------------------------------------------------------------------- in a real browser


def test_hostile_map_runs_no_script_in_chromium(ws, tmp_path):
    import shutil

    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does)")
    probe = "document.documentElement.setAttribute('data-pwned','yes')"
    evil = f'</script><script>{probe}</script><img src=x onerror="{probe}">'
    mb = _mbtiles(
        tmp_path / "evil.mbtiles",
        {"format": "png", "attribution": evil, "name": evil, "bounds": "112.5,27.8,113.3,28.4"},
    )
    gh = cztgeo.load_green_heart()
    inside = gh.geometry.iloc[0].representative_point()
    sites = gpd.GeoDataFrame(
        {evil: [evil, "${" + probe + "}", "a<b"]},
        geometry=[inside.buffer(0.01), inside.buffer(0.005), inside.buffer(0.002)],
        crs=4326,
    )
    result = encroachment(sites, id_column=evil)
    stations = gpd.GeoDataFrame(
        {"name": ["${" + probe + "}`", evil]},
        geometry=[shapely.Point(112.97, 28.19), shapely.Point(113.0, 28.0)], crs=4326,
    )  # fmt: skip
    layers = [
        maps.green_heart_layer(gh),
        maps.encroachment_layer(result),
        maps.stations_layer(stations, name="stations <" + evil),
    ]
    m = maps.build_map(layers, basemap=mb, offline=True, title=evil, note=evil)
    page_path = maps.save_map(m, tmp_path / "evil.html", offline=True)
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9", "--virtual-time-budget=5000",
    ]  # fmt: skip
    dom = subprocess.run(
        [exe, *flags, f"--user-data-dir={tmp_path / 'prof'}", "--dump-dom",
         page_path.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert "leaflet-container" in html  # the map ran (a '<' in a name does not blank it)
    assert html.count("leaflet-interactive") >= 3  # layers drawn
    assert 'data-pwned="yes"' not in html  # no script from the data ran
