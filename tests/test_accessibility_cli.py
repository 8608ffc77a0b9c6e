"""``cztgeo accessibility`` on bad input: one line on stderr, exit 2, nothing written (issue 15:
a grid cell larger than the area, thresholds that are not positive, an opportunities layer in
another CRS that does not declare it; the unreachable scheduler is in test_parallel.py, which
may open sockets)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine

from cztgeo.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _utm_points_without_crs(folder: Path) -> Path:
    """Opportunities in UTM 49N metres (inside the metro area) written without a CRS."""
    path = folder / "jobs.shp"
    gdf = gpd.GeoDataFrame(
        {"population": [10.0, 20.0, 30.0]},
        geometry=gpd.points_from_xy([700_000.0, 705_000.0, 710_000.0], [3_100_000.0] * 3),
        crs=None,
    )
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        gdf.to_file(path)
    assert not path.with_suffix(".prj").exists()  # the CRS really is undeclared
    return path


def _raster_without_crs(folder: Path) -> Path:
    path = folder / "pop.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
        transform=Affine(1000.0, 0, 700_000.0, 0, -1000.0, 3_110_000.0),
    ) as dst:  # fmt: skip
        dst.write(np.ones((1, 4, 4), dtype="float32"))
    return path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cell", "200000"], "larger than the area"),  # 40,000 km² cells, 18,932 km² area
        (["--cell", "5000", "--minutes", "0,30"], "positive"),
        (["--cell", "5000", "--minutes", "-15"], "positive"),
        (["--cell", "5000", "--opportunities", "{shp}"], "no CRS"),
        (["--cell", "5000", "--opportunities", "{tif}"], "no CRS"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    files = {"shp": _utm_points_without_crs(inputs), "tif": _raster_without_crs(inputs)}
    before = sorted(p.name for p in inputs.iterdir())
    out = tmp_path / "out"
    args = [a.format(**files) for a in argv]
    code, stdout, err = _run(
        capsys, "--cache-dir", str(tmp_path / "cache"), "accessibility", "--out", str(out), *args
    )
    assert code == 2, (stdout, err)
    assert err.count("\n") == 1 and err.startswith("cztgeo accessibility: error:"), err
    assert message in err
    assert "--crs" not in err  # no fix-it naming an option this command does not have
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"] + (
        ["cache"] if (tmp_path / "cache").exists() else []
    )
    assert sorted(p.name for p in inputs.iterdir()) == before


def test_embedded_census_layer_by_name_is_labelled_coarse(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``--opportunities census-2020-county``: counted, and the result says the layer is
    COARSE on the terminal and in accessibility.json (issue 15: embedded where honest)."""
    import json

    out = tmp_path / "acc"
    code, stdout, err = _run(
        capsys, "accessibility", "--out", str(out), "--cell", "5000", "--minutes", "30",
        "--opportunities", "census-2020-county",
    )  # fmt: skip
    assert code == 0, err
    assert "COARSE embedded layer 'census-2020-county'" in stdout
    meta = json.loads((out / "accessibility.json").read_text(encoding="utf-8"))
    assert "census-2020-county" in json.dumps(meta, ensure_ascii=False)
    assert "COARSE" in json.dumps(meta["notes"], ensure_ascii=False)
