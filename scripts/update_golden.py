"""Regenerate the golden files of ``tests/test_golden.py`` (``tests/data/expected/``).

Run it only when a change of results is intended, from the project root, against the tree you
mean to lock::

    PYTHONPATH=src CZTGEO_DATA_DIR=../shared/geodata python scripts/update_golden.py

then review ``git diff tests/data/expected`` (every changed figure shows there) and commit the
files together with the change that explains them. The runs use an empty temporary cache
folder and the shared data folder (``$CZTGEO_DATA_DIR``, else ``../shared/geodata``), exactly as
the test does; the producing code is the test module's own, so both agree on what is written.

Written:

* ``commute_circle/``: ``centre_times.csv``, ``journeys.csv``, ``validation.csv`` and
  ``summary.json`` as the main job wrote them (``cztgeo commute-circle --offline``);
  ``reach.geojson`` and ``overlap.geojson``: the layers' attributes, the full polygons' area,
  boundary length, parts and holes (``golden_*`` columns) and the polygons simplified by
  ``REACH_SIMPLIFY_M`` metres, coordinates rounded to 1e-6 degrees, with the Hausdorff distance
  of each stored boundary from the full one (``golden_stored_m``, rounded up to 1 cm).
* ``encroachment/``: ``library_table.geojson`` (``cztgeo.encroachment`` on the fixed sites,
  geometries at 1e-7 degrees); from ``cztgeo encroachment SITES --out DIR``:
  ``cli_overlaps.geojson``, ``cli_summary.csv``, ``cli_report.md`` and ``cli_run.json`` (exit
  code and the counts of the one-line summary).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import geopandas as gpd
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _golden_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("test_golden", ROOT / "tests" / "test_golden.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _write_geojson(gdf: gpd.GeoDataFrame, path: Path, *, decimals: int) -> None:
    path.unlink(missing_ok=True)
    gdf.to_file(path, driver="GeoJSON", COORDINATE_PRECISION=decimals, WRITE_BBOX="NO")


def _data_dir() -> Path:
    from cztgeo.settings import default_data_dir

    d = default_data_dir()
    if d is None or not d.is_dir():
        sys.exit("the shared data folder is missing: set CZTGEO_DATA_DIR to the geodata folder")
    return d


def commute_circle(g: ModuleType, work: Path, data_dir: Path) -> None:
    out = work / "cc"
    with g.pinned_environment(work / "cache_cc", data_dir):
        code = g.run_commute_circle(out)
    if code != 0:
        sys.exit(f"cztgeo commute-circle exited {code}: nothing written")
    dest = g.CC_DIR
    dest.mkdir(parents=True, exist_ok=True)
    for name in (*g.CC_TABLES, "summary.json"):
        shutil.copyfile(out / name, dest / name)
    for layer in g.CC_LAYERS:
        gdf = gpd.read_file(out / f"{layer}.gpkg")
        fp = g.layer_fingerprint(gdf)
        full = gdf.to_crs(g.UTM).geometry
        simple = full.simplify(g.REACH_SIMPLIFY_M, preserve_topology=True).to_crs(4326)
        path = dest / f"{layer}.geojson"
        stored = gpd.GeoDataFrame(
            pd.concat([pd.DataFrame(gdf.drop(columns="geometry")), fp], axis=1),
            geometry=simple.to_numpy(),
            crs=4326,
        )
        _write_geojson(stored, path, decimals=6)
        # how far the stored polygons (simplified, rounded) lie from the full ones
        back = gpd.read_file(path).to_crs(g.UTM).geometry.to_numpy()
        stored["golden_stored_m"] = [
            round(g.shape_distance_m(a, b) + 0.005, 2)
            for a, b in zip(full.to_numpy(), back, strict=True)
        ]
        _write_geojson(stored, path, decimals=6)


def encroachment(g: ModuleType, work: Path, data_dir: Path) -> None:
    dest = g.ENC_DIR
    dest.mkdir(parents=True, exist_ok=True)
    with g.pinned_environment(work / "cache_enc", data_dir):
        table = g.encroachment_table()
        g.sites().to_file(work / "sites.geojson")
        run = g.run_encroachment_cli(work / "sites.geojson", work / "enc")
    _write_geojson(table, dest / "library_table.geojson", decimals=7)
    cli = gpd.read_file(work / "enc" / "overlaps.geojson")
    _write_geojson(cli, dest / "cli_overlaps.geojson", decimals=7)
    shutil.copyfile(work / "enc" / "summary.csv", dest / "cli_summary.csv")
    shutil.copyfile(work / "enc" / "report.md", dest / "cli_report.md")
    (dest / "cli_run.json").write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")


def main() -> int:
    g = _golden_module()
    data_dir = _data_dir()
    with tempfile.TemporaryDirectory(prefix="cztgeo-golden-") as tmp:
        work = Path(tmp)
        commute_circle(g, work, data_dir)
        encroachment(g, work, data_dir)
    for p in sorted(g.EXPECTED.rglob("*")):
        if p.is_file():
            print(f"{p.relative_to(ROOT)}  {p.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
