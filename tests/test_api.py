"""The public API's edges: caller ids on matrices, global CLI options, exports."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

import cztgeo
from cztgeo.cli import main
from cztgeo.testing import grid_lonlat, synthetic_grid


@pytest.fixture(scope="module")
def grid():
    return synthetic_grid(6, 1000.0, speed_kmh=60.0)


def test_matrix_labelled_with_the_callers_ids(grid):
    pts = [grid_lonlat(0, 0, 1000.0), grid_lonlat(3, 2, 1000.0), grid_lonlat(5, 5, 1000.0)]
    gdf = gpd.GeoDataFrame(
        {"id": ["a", "b", "c"]}, geometry=[shapely.Point(p) for p in pts], crs=4326
    )
    by_id = cztgeo.travel_time_matrix(grid, gdf)
    plain = cztgeo.travel_time_matrix(grid, pts)
    assert list(by_id.index) == ["a", "b", "c"] and list(by_id.columns) == ["a", "b", "c"]
    assert by_id.index.name == "from_id" and by_id.columns.name == "to_id"
    assert list(plain.index) == [0, 1, 2]
    np.testing.assert_array_equal(by_id.to_numpy(), plain.to_numpy())
    # a GeoSeries keeps its index; destinations keep theirs
    dest = gpd.GeoSeries([shapely.Point(pts[2])], index=[42], crs=4326)
    m = cztgeo.travel_time_matrix(grid, gdf.set_index("id").geometry, dest)
    assert list(m.index) == ["a", "b", "c"] and list(m.columns) == [42]
    assert m.loc["c", 42] == pytest.approx(0.0)


def test_global_offline_reaches_the_subcommand(tmp_path, capsys):
    out = tmp_path / "cc"
    code = main(["--offline", "commute-circle", "--out", str(out), "--basemap", "osm"])
    err = capsys.readouterr().err
    assert code == 2
    assert "needs the internet" in err
    assert not out.exists()


def test_version_flag_is_the_program_version(capsys):
    assert main(["--version"]) == 0
    assert cztgeo.__version__ in capsys.readouterr().out


def test_plan_option_selects_the_plan_version(tmp_path, capsys):
    areas = {}
    for plan in ("2010-2030", "2024-2035"):
        out = tmp_path / f"gh{plan}.geojson"
        assert main(["green-heart", "--plan", plan, "-o", str(out)]) == 0
        areas[plan] = gpd.read_file(out)["version"].iloc[0]
    assert areas == {"2010-2030": "2010-2030", "2024-2035": "2024-2035"}


def test_user_facing_types_are_exported():
    for name in ("Network", "Layer", "CommuteCircle", "Settings", "TransitNetwork"):
        assert name in cztgeo.__all__ and hasattr(cztgeo, name)


def test_declared_gcj02_input_is_not_told_to_declare_gcj02(tmp_path, capsys):
    # two sites drawn on Amap (GCJ-02), declared as such: converted, and the guard that looks
    # for undeclared offsets stays quiet
    (tmp_path / "s.csv").write_text("id,lon,lat\n1,113.04,27.99\n2,112.98,28.2\n")
    code = main(
        ["encroachment", str(tmp_path / "s.csv"), "--crs", "gcj02", "--out", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err
    assert code == 1  # site 1 lies inside the green-heart sketch
    assert "gcj02" not in err.lower()


def test_serve_refuses_a_bad_port_before_loading(capsys):
    assert main(["serve", "--port", "70000"]) == 2
    err = capsys.readouterr().err
    assert "70000" in err and len(err.strip().splitlines()) == 1


def test_accessibility_command_writes_cells_and_rasters(tmp_path, capsys):
    out = tmp_path / "acc"
    assert main(["accessibility", "--out", str(out), "--cell", "5000", "--minutes", "30"]) == 0
    cells = gpd.read_parquet(out / "cells")
    # minutes to the nearest centre is the smallest of the three centres' minutes
    per_centre = cells[["drive_min_changsha", "drive_min_zhuzhou", "drive_min_xiangtan"]]
    np.testing.assert_allclose(cells["drive_min_nearest"], per_centre.min(axis=1))
    assert sorted(p.name for p in out.glob("*.tif")) == [
        "drive_min_changsha.tif", "drive_min_nearest.tif", "drive_min_xiangtan.tif",
        "drive_min_zhuzhou.tif",
    ]  # fmt: skip
    assert f"wrote {len(cells):,} origins" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--cell", "0"], "expected a finite number > 0"),
        (["--minutes", "-5"], "minutes must be positive"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "not both"),
    ],
)
def test_accessibility_bad_input_exit_2_nothing_written(tmp_path, capsys, extra, message):
    out = tmp_path / "acc"
    assert main(["accessibility", "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
