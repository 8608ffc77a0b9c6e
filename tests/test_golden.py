"""Golden outputs: today's results of the main job and of the encroachment report, locked.

The files under ``tests/data/expected/`` were written by ``python scripts/update_golden.py``
from the code of the commit that added them. A refactor that changes no number passes; one
that changes a minute, an area, a status or a geometry fails here. When a change of results is
intended, rerun the script and commit the new files with the change that explains them.

What is compared, and how (values, not formatting: column order, number formatting, integer
vs float dtypes and vertex order do not matter):

* CSV tables: ``pandas.testing.assert_frame_equal``, text exactly, numbers with
  ``rtol = 1e-6`` (minutes, areas, ratios) and ``atol = 1e-9`` (zeros).
* ``summary.json``: every key and text exactly; numbers with ``rtol = 1e-6``, plus one unit of
  the rounding the summary applies (0.1 min, 0.01 min, 0.001 km²): a tie can round either way
  after a harmless change of summation order; the CSV files lock the unrounded figures.
* ``reach.gpkg`` / ``overlap.gpkg``: attributes as above; each polygon's planar area and
  boundary length in UTM 49N (rtol 1e-6), its numbers of parts and holes (exact), and its
  shape: the Hausdorff distance between its boundary and the stored boundary at most the
  distance the storing introduced (``golden_stored_m``, measured when the file was written:
  the stored polygons are simplified by ``REACH_SIMPLIFY_M`` to keep the files small, and
  rounded to 1e-6 degrees) plus ``REACH_SLACK_M``.
* Encroachment tables: attributes as above; overlap geometries stored at 1e-7 degrees
  (about 1 cm), compared by Hausdorff distance (``SITE_HAUSDORFF_M``) and planar area.
* ``report.md``: its tables and bullet figures parsed; numbers within the report's own
  rounding (0.05 of a printed unit).

Volatile fields are not compared: the manifest's run id, time and hashes (GeoPackages carry
timestamps), absolute paths, ``map.html`` (a rendering; ``test_maps.py`` covers it).

Sites of the encroachment report: fixed WGS84 coordinates around the approximate green-heart
sketch (2024-2035), one of each case: inside (polygon, point), crossing (polygon, road line), a
sliver on the edge, near (polygon, point) and outside, placed along roads of the embedded
skeleton so that the GCJ-02 guard (on by default) has roads to judge by and stays silent.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

EXPECTED = Path(__file__).resolve().parent / "data" / "expected"
CC_DIR = EXPECTED / "commute_circle"
ENC_DIR = EXPECTED / "encroachment"

RTOL = 1e-6  # minutes, areas, lengths, shares, ratios
ATOL = 1e-9  # zeros
UTM = "EPSG:32649"
REACH_SIMPLIFY_M = 10.0  # stored reach/overlap polygons are simplified by this much
REACH_SLACK_M = 0.5  # beyond the distance the stored polygon has from the full one
SITE_HAUSDORFF_M = 0.05  # stored at 1e-7 degrees (about 0.01 m)

CC_ARGV = ["commute-circle", "--offline"]  # + "--out", DIR
CC_TABLES = ("centre_times.csv", "journeys.csv", "validation.csv")
CC_LAYERS = ("reach", "overlap")
CC_FILES = {
    "centre_times.csv", "journeys.csv", "validation.csv", "reach.gpkg", "overlap.gpkg",
    "summary.json", "map.html", "map.png", "cztgeo-manifest.json",
}  # fmt: skip
# summary.json rounds these sections (cli.py): one unit of that rounding is tolerated
SUMMARY_ROUNDING = {
    "best_minutes": 0.1,
    "journeys": 0.01,
    "validation": 0.001,
    "reach": 0.001,
    "overlap": 0.001,
}

# (site_id, name, WKT in WGS84): one site of each case around the 2024-2035 sketch, along roads
# of the embedded skeleton as planned sites are (the GCJ-02 guard has roads to judge by)
SITES = [
    ("inside-park", "park", "POLYGON ((113.035 27.992, 113.04 27.992, 113.04 27.998, 113.035 27.998, 113.035 27.992))"),
    ("inside-point", "tower", "POINT (113.04 27.9334)"),
    ("crossing-site", "logistics hub", "POLYGON ((112.989 28.041, 112.995 28.041, 112.995 28.047, 112.989 28.047, 112.989 28.041))"),
    ("crossing-road", "road widening", "LINESTRING (113.056 28.096, 113.031 28.018)"),
    ("edge-sliver", "survey marker", "POLYGON ((113.013506 28.052645, 113.013516 28.052645, 113.013516 28.052655, 113.013506 28.052655, 113.013506 28.052645))"),
    ("near-polygon", "depot", "POLYGON ((113.0482 27.8128, 113.0492 27.8128, 113.0492 27.8134, 113.0482 27.8134, 113.0482 27.8128))"),
    ("near-point", "kiosk", "POINT (112.97203 28.04622)"),
    ("outside-far", "offices", "POLYGON ((112.975 28.195, 112.98 28.195, 112.98 28.2, 112.975 28.2, 112.975 28.195))"),
]  # fmt: skip
ENC_LIBRARY_KW: dict[str, Any] = {"id_column": "site_id", "include_outside": True}


# ------------------------------------------------------------------ producing the outputs
# (also used by scripts/update_golden.py, so the golden files and the test agree on how)


@contextmanager
def pinned_environment(cache_dir: Path, data_dir: Path) -> Iterator[None]:
    """An empty cache (a fetched ``czt_drive.cztnet`` there would replace the skeleton) and
    the shared data folder, for the duration of a run."""
    old = {k: os.environ.get(k) for k in ("CZTGEO_CACHE_DIR", "CZTGEO_DATA_DIR")}
    os.environ["CZTGEO_CACHE_DIR"] = str(cache_dir)
    os.environ["CZTGEO_DATA_DIR"] = str(data_dir)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def sites() -> gpd.GeoDataFrame:
    ids, names, wkt = zip(*SITES, strict=True)
    return gpd.GeoDataFrame(
        {"site_id": list(ids), "name": list(names)},
        geometry=shapely.from_wkt(list(wkt)),
        crs="EPSG:4326",
    )


def run_commute_circle(out: Path) -> int:
    """``cztgeo commute-circle --offline --out OUT`` in-process; returns the exit code."""
    from cztgeo.cli import main

    return main([*CC_ARGV, "--out", str(out)])


def run_encroachment_cli(sites_file: Path, out: Path) -> dict[str, int]:
    """``cztgeo encroachment SITES --out OUT`` in-process (defaults: tolerance 200 m, slivers
    under 1 m², every zone fails): the exit code and the counts of its one-line summary
    ("N of M features encroach ...")."""
    import io
    from contextlib import redirect_stdout

    from cztgeo.cli import main

    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["encroachment", str(sites_file), "--out", str(out)])
    m = re.search(r"([\d,]+) of ([\d,]+) features encroach", buf.getvalue())
    assert m is not None, buf.getvalue()
    n_bad, n_all = (int(g.replace(",", "")) for g in m.groups())
    return {"exit_code": code, "encroaching_features": n_bad, "features_checked": n_all}


def encroachment_table() -> gpd.GeoDataFrame:
    """The library's table for :data:`SITES` (default sketch, near band and guard)."""
    import cztgeo

    return cztgeo.encroachment(sites(), **ENC_LIBRARY_KW)


def layer_fingerprint(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per row: planar area and boundary length in UTM 49N, numbers of parts and holes."""
    geoms = gdf.to_crs(UTM).geometry.to_numpy()
    parts = [shapely.get_parts(g) for g in geoms]
    return pd.DataFrame(
        {
            "golden_area_m2": shapely.area(geoms),
            "golden_boundary_m": shapely.length(shapely.boundary(geoms)),
            "golden_parts": [int(p.size) for p in parts],
            "golden_holes": [int(sum(shapely.get_num_interior_rings(p))) for p in parts],
        },
        index=gdf.index,
    )


def read_report_md(path: Path) -> dict[str, list[list[str]]]:
    """The figures of report.md: its bullet lines as [key, value] and each table's rows."""
    out: dict[str, list[list[str]]] = {"bullets": []}
    table = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("- ") and ": " in line:
            out["bullets"].append([s.strip() for s in line[2:].split(": ", 1)])
        elif line.startswith("## "):
            table = line[3:].strip()
        elif line.startswith("|") and table is not None:
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if not all(set(c) <= set("-:") for c in cells):  # the |---| rule
                out.setdefault(table, []).append(cells)
    return out


# ------------------------------------------------------------------ comparing


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns as Python objects with None for missing (a file gives NaN, the library
    None; pandas' string dtypes vary by reader): only values are compared."""
    out = df.reset_index(drop=True).copy()
    for c in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[c]) or pd.api.types.is_bool_dtype(out[c])):
            col = out[c].astype(object)
            out[c] = col.where(col.notna(), None)
    return out


def assert_table_equal(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same columns (any order), rows in the same order, text exact, numbers within RTOL."""
    pd.testing.assert_frame_equal(
        _plain(actual),
        _plain(expected),
        check_dtype=False,
        check_like=True,
        check_exact=False,
        rtol=RTOL,
        atol=ATOL,
    )


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8")


def _close(a: Any, b: Any, atol: float) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)):
        return bool(a == b)
    if not isinstance(b, (int, float)):
        return False
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=max(atol, ATOL))


def json_differences(actual: Any, expected: Any, path: tuple[str, ...] = ()) -> list[str]:
    """Every place where two JSON documents differ (numbers within tolerance are equal)."""
    where = "/".join(path) or "(root)"
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: {type(actual).__name__} instead of an object"]
        diffs = [f"{where}: keys differ: missing {sorted(set(expected) - set(actual))}, extra "
                 f"{sorted(set(actual) - set(expected))}"] if set(actual) != set(expected) else []  # fmt: skip
        for k in expected.keys() & actual.keys():
            diffs += json_differences(actual[k], expected[k], (*path, str(k)))
        return diffs
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: {actual!r:.200} instead of {expected!r:.200}"]
        return [
            d
            for i, (a, e) in enumerate(zip(actual, expected, strict=True))
            for d in json_differences(a, e, (*path, str(i)))
        ]
    atol = SUMMARY_ROUNDING.get(path[0], 0.0) if path else 0.0
    return (
        [] if _close(actual, expected, atol) else [f"{where}: {actual!r} instead of {expected!r}"]
    )


def shape_distance_m(a: shapely.Geometry, b: shapely.Geometry) -> float:
    """Hausdorff distance (metres in UTM 49N geometries) of polygon boundaries, or of the
    geometries themselves for points and lines; 0 for two empties, inf for one."""
    if a.is_empty or b.is_empty:
        return 0.0 if a.is_empty and b.is_empty else math.inf
    if a.geom_type.endswith("Polygon") and b.geom_type.endswith("Polygon"):
        a, b = a.boundary, b.boundary
    return float(shapely.hausdorff_distance(a, b))


def geometry_differences(
    actual: gpd.GeoSeries, expected: gpd.GeoSeries, *, hausdorff_m: float | np.ndarray
) -> list[str]:
    """Rows whose shapes differ: Hausdorff distance (metres, UTM 49N) of the polygon boundaries
    (of the geometries themselves for points and lines), emptiness and geometry family."""
    a = actual.to_crs(UTM).to_numpy()
    e = expected.to_crs(UTM).to_numpy()
    assert len(a) == len(e), f"{len(a)} geometries instead of {len(e)}"
    limits = np.broadcast_to(np.asarray(hausdorff_m, dtype=float), len(a))
    diffs = []
    for i, (ga, ge, limit) in enumerate(zip(a, e, limits, strict=True)):
        if ga.is_empty or ge.is_empty:
            if ga.is_empty != ge.is_empty:
                diffs.append(f"row {i}: empty {ga.is_empty} instead of {ge.is_empty}")
            continue
        fam_a, fam_e = ga.geom_type.removeprefix("Multi"), ge.geom_type.removeprefix("Multi")
        if fam_a != fam_e:
            diffs.append(f"row {i}: {ga.geom_type} instead of {ge.geom_type}")
            continue
        d = shape_distance_m(ga, ge)
        if not d <= limit:
            diffs.append(f"row {i}: boundary {d:.2f} m from the expected (limit {limit:.2f} m)")
    return diffs


# ------------------------------------------------------------------ the main job

UPDATE = "if the change is intended, run: python scripts/update_golden.py"


@pytest.fixture(scope="module")
def cc_run(tmp_path_factory, data_dir) -> tuple[int, Path]:
    root = tmp_path_factory.mktemp("golden_cc")
    with pinned_environment(root / "cache", data_dir):
        code = run_commute_circle(root / "out")
    return code, root / "out"


def test_commute_circle_exits_0(cc_run):
    code, _ = cc_run
    assert code == 0


def test_commute_circle_writes_exactly_the_documented_files(cc_run):
    _, out = cc_run
    assert {p.name for p in out.iterdir()} == CC_FILES


@pytest.mark.parametrize("name", CC_TABLES)
def test_commute_circle_table(cc_run, name):
    _, out = cc_run
    assert_table_equal(_read_csv(out / name), _read_csv(CC_DIR / name))


def test_commute_circle_summary_json(cc_run):
    _, out = cc_run
    actual = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    expected = json.loads((CC_DIR / "summary.json").read_text(encoding="utf-8"))
    diffs = json_differences(actual, expected)
    assert not diffs, "\n".join([*diffs[:30], UPDATE])


@pytest.mark.parametrize("layer", CC_LAYERS)
def test_commute_circle_layer_attributes(cc_run, layer):
    _, out = cc_run
    got = gpd.read_file(out / f"{layer}.gpkg")
    want = gpd.read_file(CC_DIR / f"{layer}.geojson")
    assert got.crs is not None and got.crs.to_epsg() == 4326
    fingerprint = [c for c in want.columns if c.startswith("golden_")]  # the test's own
    assert_table_equal(
        pd.DataFrame(got.drop(columns="geometry")), pd.DataFrame(want.drop(columns=[*fingerprint, "geometry"]))
    )  # fmt: skip


@pytest.mark.parametrize("layer", CC_LAYERS)
def test_commute_circle_layer_area_length_parts_holes(cc_run, layer):
    _, out = cc_run
    got = layer_fingerprint(gpd.read_file(out / f"{layer}.gpkg"))
    want = gpd.read_file(CC_DIR / f"{layer}.geojson")
    assert_table_equal(got, pd.DataFrame(want[list(got.columns)]))


@pytest.mark.parametrize("layer", CC_LAYERS)
def test_commute_circle_layer_shapes(cc_run, layer):
    _, out = cc_run
    got = gpd.read_file(out / f"{layer}.gpkg")
    want = gpd.read_file(CC_DIR / f"{layer}.geojson")
    limit = want["golden_stored_m"].to_numpy() + REACH_SLACK_M
    diffs = geometry_differences(got.geometry, want.geometry, hausdorff_m=limit)
    assert not diffs, "\n".join([*diffs, UPDATE])


# ------------------------------------------------------------------ encroachment


def test_encroachment_sites_cover_every_status():
    """The fixed sites exercise every status the report knows (a guard on the golden data)."""
    table = gpd.read_file(ENC_DIR / "library_table.geojson")
    assert set(table["status"]) == {"inside", "partly", "sliver", "near", "outside"}


def test_encroachment_library_table_attributes():
    got = encroachment_table()
    want = gpd.read_file(ENC_DIR / "library_table.geojson")
    assert got.crs is not None and got.crs.to_epsg() == 4326
    assert_table_equal(
        pd.DataFrame(got.drop(columns="geometry")), pd.DataFrame(want.drop(columns="geometry"))
    )


def test_encroachment_library_table_geometries():
    got = encroachment_table()
    want = gpd.read_file(ENC_DIR / "library_table.geojson")
    diffs = geometry_differences(got.geometry, want.geometry, hausdorff_m=SITE_HAUSDORFF_M)
    assert not diffs, "\n".join([*diffs, UPDATE])


@pytest.fixture(scope="module")
def enc_run(tmp_path_factory, data_dir) -> tuple[dict[str, int], Path]:
    root = tmp_path_factory.mktemp("golden_enc")
    sites().to_file(root / "sites.geojson")
    with pinned_environment(root / "cache", data_dir):
        run = run_encroachment_cli(root / "sites.geojson", root / "out")
    return run, root / "out"


def test_encroachment_cli_exit_code_and_counts(enc_run):
    run, _ = enc_run
    expected = json.loads((ENC_DIR / "cli_run.json").read_text(encoding="utf-8"))
    assert run == expected


@pytest.mark.parametrize("name", ["overlaps.gpkg", "overlaps.geojson"])
def test_encroachment_cli_overlaps_attributes(enc_run, name):
    _, out = enc_run
    got = gpd.read_file(out / name)
    want = gpd.read_file(ENC_DIR / "cli_overlaps.geojson")
    assert_table_equal(
        pd.DataFrame(got.drop(columns="geometry")), pd.DataFrame(want.drop(columns="geometry"))
    )


@pytest.mark.parametrize("name", ["overlaps.gpkg", "overlaps.geojson"])
def test_encroachment_cli_overlaps_geometries(enc_run, name):
    _, out = enc_run
    got = gpd.read_file(out / name)
    want = gpd.read_file(ENC_DIR / "cli_overlaps.geojson")
    diffs = geometry_differences(got.geometry, want.geometry, hausdorff_m=SITE_HAUSDORFF_M)
    assert not diffs, "\n".join([*diffs, UPDATE])


def test_encroachment_cli_summary_csv(enc_run):
    _, out = enc_run
    assert_table_equal(_read_csv(out / "summary.csv"), _read_csv(ENC_DIR / "cli_summary.csv"))


def _report_values_equal(a: str, e: str) -> bool:
    """Cells equal as text, or as numbers within the report's rounding (0.05 of a unit)."""
    num = re.compile(r"^-?[\d,]*\.?\d+%?$")
    if num.match(a) and num.match(e):
        fa, fe = (float(s.replace(",", "").rstrip("%")) for s in (a, e))
        return math.isclose(fa, fe, rel_tol=RTOL, abs_tol=0.05)
    return a == e


def test_encroachment_cli_report_md_figures(enc_run):
    _, out = enc_run
    got = read_report_md(out / "report.md")
    want = read_report_md(ENC_DIR / "cli_report.md")
    assert got.keys() == want.keys()
    for section, rows in want.items():
        assert len(got[section]) == len(rows), section
        for ra, re_ in zip(got[section], rows, strict=True):
            assert len(ra) == len(re_), (section, ra, re_)
            assert all(_report_values_equal(a, e) for a, e in zip(ra, re_, strict=True)), (
                section, ra, re_,
            )  # fmt: skip
