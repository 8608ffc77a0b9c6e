"""Commute-circle map.html: size and open time in headless Chromium, before and after.

Two cases, each written by today's ``cztgeo.maps.commute_circle_map`` and by the maps module
as it was before the renovation (``--before``, a git revision; its tree is exported to a
temporary folder and run in a subprocess, with the layers the old CLI drew):

* ``embedded``: the default commute circle on the embedded coarse skeleton, rail and sketch,
  with 15/30/45/60-min drive bands per centre (what ``cztgeo commute-circle`` writes).
* ``synthetic-100k``: the same map on a SYNTHETIC 224 x 224 grid (about 100k edges) around
  three centres, the case issue 12 gives targets for.

Open time: a warm headless Chromium (Playwright, system Chromium) loads the file and renders
two frames (median of 3); "cold" is ``chromium --headless --dump-dom`` from start to exit, so it
includes the browser's start-up (measured for an empty page too). Targets (issue 12): under
3 MB and under 2 s for the embedded case, under 3 s for the 100k case.

Usage: ``python benchmarks/bench_maps.py [--before 2ab0ca7]``  (needs Debian's chromium)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd

import cztgeo
from cztgeo import maps
from cztgeo.circle import DEFAULT_CENTRES, Centre
from cztgeo.testing import grid_lonlat, synthetic_grid

ROOT = Path(__file__).resolve().parents[1]
SIDE, SPACING_M = 224, 150.0
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--host-resolver-rules=MAP * ~NOTFOUND"]  # fmt: skip

# What the CLI drew before (cli.py _commute_circle at the --before revision), for that tree.
OLD = textwrap.dedent("""
    import sys, time, warnings
    warnings.simplefilter("ignore")
    import cztgeo
    from cztgeo import maps
    from cztgeo.boundaries import load_boundaries
    from cztgeo.circle import DEFAULT_CENTRES, Centre
    from cztgeo.synthetic import grid_lonlat, synthetic_grid  # the --before tree (2ab0ca7)
    case, out = sys.argv[1], sys.argv[2]
    gh = cztgeo.load_green_heart()
    if case == "embedded":
        net, rail, centres = cztgeo.load_network(), cztgeo.load_rail(), DEFAULT_CENTRES
    else:
        net, rail = synthetic_grid({side}, {spacing}, speed_kmh=30.0, hierarchy=True, jitter_m=20.0), None
        centres = [Centre(n, n, *grid_lonlat(i, j, {spacing}), "synthetic") for n, i, j in {grid}]
    modes = ("drive",) if rail is None else ("drive", "transit", "taxi+transit")
    cc = cztgeo.commute_circle(net, rail, centres=centres, modes=modes, green_heart=gh)
    t = time.perf_counter()
    layers = [maps.boundaries_layer(load_boundaries("city")), maps.green_heart_layer(gh),
              maps.network_layer(net)]
    if rail is not None:
        layers.append(maps.stations_layer(rail.stops_gdf()))
    palette = dict(zip(cc.reach["centre"].unique(), ["#e41a1c", "#377eb8", "#4daf4a"]))
    for mode in dict.fromkeys(cc.reach["mode"]):
        r = cc.reach[cc.reach["mode"] == mode]
        layers.append(maps.Layer(r, mode, colour_by="centre", colours=palette, fill_opacity=0.15,
                                 show=mode == "drive", legend=palette if mode == "drive" else None))
    allr = cc.overlap[cc.overlap["kind"] == "all"]
    layers.append(maps.Layer(allr, "all three", colour="#984ea3", fill_opacity=0.5))
    m = maps.build_map(layers, basemap="none", offline=True, title="CZT half-hour circle")
    maps.save_map(m, out, offline=True)
    print(time.perf_counter() - t)
""")
GRID = [("A", 40, 180), ("B", 190, 60), ("C", 50, 50)]


def inputs(case: str) -> tuple[object, gpd.GeoDataFrame, object, object, gpd.GeoDataFrame]:
    gh = cztgeo.load_green_heart()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if case == "embedded":
            net, rail, centres = cztgeo.load_network(), cztgeo.load_rail(), list(DEFAULT_CENTRES)
        else:
            net = synthetic_grid(SIDE, SPACING_M, speed_kmh=30.0, hierarchy=True, jitter_m=20.0)
            rail = None
            centres = [Centre(n, n, *grid_lonlat(i, j, SPACING_M), "synthetic") for n, i, j in GRID]
        modes = ("drive",) if rail is None else ("drive", "transit", "taxi+transit")
        cc = cztgeo.commute_circle(net, rail, centres=centres, modes=modes, green_heart=gh)
    parts = []
    for c in centres:
        iso = cztgeo.isochrones(net, (c.lon, c.lat), minutes=[15, 30, 45, 60])
        iso["centre"] = c.name
        parts.append(iso)
    bands = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    return cc, bands, net, rail, gh, centres  # type: ignore[return-value]


def build_now(case: str, out: Path) -> float:
    cc, bands, net, rail, gh, centres = inputs(case)  # type: ignore[misc]
    t = time.perf_counter()
    m = maps.commute_circle_map(cc, bands=bands, net=net, rail=rail, green_heart=gh,
                                centres=centres)  # fmt: skip
    maps.write_map(m, out, offline=True)
    return time.perf_counter() - t


def build_before(tree: Path, case: str, out: Path) -> float:
    code = OLD.format(side=SIDE, spacing=SPACING_M, grid=GRID)
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    res = subprocess.run([sys.executable, "-c", code, case, str(out)], capture_output=True,
                         text=True, env=env, check=True, timeout=1200)  # fmt: skip
    return float(res.stdout.split()[-1])


def export(rev: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src", "geodata"],
                         capture_output=True, check=True)  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(dest)], input=tar.stdout, check=True)
    return dest


def open_warm(browser: object, path: Path, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        t = time.perf_counter()
        page.goto(path.resolve().as_uri(), wait_until="load", timeout=120_000)
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        times.append(time.perf_counter() - t)
        page.close()
    return statistics.median(times)


def open_cold(exe: str, path: Path, work: Path) -> float:
    t = time.perf_counter()
    subprocess.run([exe, *FLAGS, f"--user-data-dir={work / ('p' + str(time.time_ns()))}",
                    "--dump-dom", path.resolve().as_uri()],
                   capture_output=True, timeout=600, check=False)  # fmt: skip
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--before", default="2ab0ca7", help="git revision of the earlier maps.py")
    args = ap.parse_args()
    exe = shutil.which("chromium")
    if exe is None:
        raise SystemExit("chromium not found: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        tree = export(args.before, work / "before")
        empty = maps.write_map(maps.build_map([]), work / "empty.html")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
            for case in ("embedded", "synthetic-100k"):
                now, old = work / f"{case}-now.html", work / f"{case}-before.html"
                b_now, b_old = build_now(case, now), build_before(tree, case, old)
                rows.append((case, "HTML size (MB)", now.stat().st_size / 1e6, old.stat().st_size / 1e6))  # fmt: skip
                rows.append((case, "build + write (s)", b_now, b_old))
                rows.append((case, "open, warm browser (s)", open_warm(browser, now), open_warm(browser, old)))  # fmt: skip
                rows.append((case, "open, cold chromium --dump-dom (s)", open_cold(exe, now, work), open_cold(exe, old, work)))  # fmt: skip
            browser.close()
        base = open_cold(exe, empty, work)
    print(f"\nbefore = maps.py at {args.before} (the old CLI's layers); now = commute_circle_map")
    print("| case | measure | now | before | before / now |")
    print("|---|---|---:|---:|---:|")
    for case, what, a, b in rows:
        print(f"| {case} | {what} | {a:.2f} | {b:.2f} | {b / a:.1f}x |")
    print(f"(cold chromium start-up with an empty map page: {base:.2f} s)")
    print(json.dumps({"rows": rows, "empty_cold_s": base}))


if __name__ == "__main__":
    main()
