"""Map size and browser open time: a SYNTHETIC 100k-edge network plus isochrones.

Writes the same layers twice, with cztgeo.maps (display-scale simplification, rounded
coordinates, Leaflet inlined, offline) and with plain folium (``folium.GeoJson`` of the full
GeoDataFrames, folium's CDN scripts), and opens each in headless Chromium with networking off,
timing how long until the DOM is dumped. Prints one table with the ratios.

Usage: ``python benchmarks/bench_maps.py [--side 224]``  (needs Debian's chromium)
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import folium

from cztgeo import maps
from cztgeo.isochrones import isochrones
from cztgeo.testing import grid_lonlat, synthetic_grid

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
]  # fmt: skip


def open_time(path: Path, workdir: Path) -> tuple[float, int]:
    exe = shutil.which("chromium")
    if exe is None:
        raise SystemExit("chromium not found: apt-get install chromium")
    t = time.perf_counter()
    res = subprocess.run(
        [exe, *FLAGS, f"--user-data-dir={workdir / path.stem}", "--run-all-compositor-stages-before-draw",
         "--virtual-time-budget=60000", "--dump-dom", path.resolve().as_uri()],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    return time.perf_counter() - t, res.stdout.count("leaflet-interactive")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--side", type=int, default=224, help="grid side (224 -> ~100k edges)")
    args = ap.parse_args()
    net = synthetic_grid(args.side, 150.0, speed_kmh=30.0, hierarchy=True, jitter_m=20.0)
    mid = args.side / 2
    iso = isochrones(net, grid_lonlat(mid, mid, 150.0), minutes=[5, 10, 15])
    edges = net.edges()
    edges = edges[edges["u"] < edges["v"]]  # one feature per road, as a user would pass it
    print(f"network: {len(edges):,} edges (SYNTHETIC), isochrones: {len(iso)}")
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        empty = work / "empty.html"
        maps.save_map(maps.build_map([], offline=True), empty, offline=True)
        ours = work / "cztgeo.html"
        t = time.perf_counter()
        m = maps.build_map([maps.network_layer(net), maps.isochrone_layer(iso)], offline=True)
        maps.save_map(m, ours, offline=True)
        build_ours = time.perf_counter() - t
        plain = work / "folium.html"
        t = time.perf_counter()
        fm = folium.Map(location=[28.0, 113.0], zoom_start=11)
        folium.GeoJson(edges.to_json(), name="network").add_to(fm)
        folium.GeoJson(iso.to_json(), name="isochrones").add_to(fm)
        fm.save(str(plain))
        build_plain = time.perf_counter() - t
        base_s, _ = open_time(empty, work)
        ours_s, ours_paths = open_time(ours, work)
        plain_s, plain_paths = open_time(plain, work)
        size_ours = ours.stat().st_size / 1e6
        size_plain = plain.stat().st_size / 1e6
    print()
    print("| measure | cztgeo.maps | plain folium | folium / cztgeo |")
    print("|---|---:|---:|---:|")
    print(
        f"| HTML size (MB) | {size_ours:.1f} | {size_plain:.1f} | {size_plain / size_ours:.1f}x |"
    )
    print(
        f"| build + save (s) | {build_ours:.2f} | {build_plain:.2f} | {build_plain / build_ours:.1f}x |"
    )
    print(
        f"| headless Chromium open to DOM (s) | {ours_s:.2f} | {plain_s:.2f} | {plain_s / ours_s:.1f}x |"
    )
    print(f"| SVG paths drawn | {ours_paths:,} | {plain_paths:,} | |")
    print(f"(an empty offline map opens in {base_s:.2f} s; the plain folium page has no network here, "
          "so its CDN Leaflet never loads and it draws nothing)")  # fmt: skip


if __name__ == "__main__":
    main()
