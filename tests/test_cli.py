from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import pytest

from cztgeo import Settings
from cztgeo.cli import main
from cztgeo.errors import InputError


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_and_module_entry():
    res = subprocess.run(
        [sys.executable, "-m", "cztgeo", "--help"], capture_output=True, text=True, check=False
    )
    assert res.returncode == 0
    assert "boundaries" in res.stdout and "info" in res.stdout


def test_info_json(capsys):
    code, out, _ = run(capsys, "info", "--json")
    assert code == 0
    info = json.loads(out)
    assert info["version"]
    assert "czt_boundaries.geojson" in info["embedded"]
    assert "APPROXIMATE" in info["embedded"]["green_heart_sketch.geojson"]


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".parquet", ".shp", ".csv"])
def test_boundaries_written_in_format_of_suffix(capsys, tmp_path, suffix):
    out = tmp_path / f"cities{suffix}"
    code, stdout, _ = run(capsys, "boundaries", "--level", "city", "-o", str(out))
    assert code == 0, stdout
    assert "wrote 3 city boundaries" in stdout
    if suffix == ".csv":
        assert out.read_text().count("\n") == 4
    else:
        back = gpd.read_parquet(out) if suffix == ".parquet" else gpd.read_file(out)
        assert len(back) == 3 and back.crs.to_epsg() == 4326
    # no temporary files left beside the output
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["boundaries", "-o", "{tmp}/x.xyz"], "cannot tell the output format"),
        (["green-heart", "{tmp}/missing.gpkg", "-o", "{tmp}/gh.gpkg"], "file not found"),
        (
            ["green-heart", "{tmp}/in.geojson", "--crs", "gcj03", "-o", "{tmp}/gh.gpkg"],
            "unknown CRS 'gcj03'",
        ),
        (["green-heart", "{tmp}/nocrs.csv", "-o", "{tmp}/gh.gpkg"], "has no CRS"),
        (["green-heart", "{tmp}/trunc.gpkg", "-o", "{tmp}/gh.gpkg"], "cannot read it"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(capsys, tmp_path, argv, message):
    import shapely

    gdf = gpd.GeoDataFrame(
        {"zone": ["core"]}, geometry=[shapely.box(113, 28, 113.1, 28.1)], crs=4326
    )
    gdf.to_file(tmp_path / "in.geojson")
    (tmp_path / "nocrs.csv").write_text(
        'zone,wkt\ncore,"POLYGON ((113 28, 113.1 28, 113.1 28.1, 113 28))"\n'
    )
    gdf.to_file(tmp_path / "good.gpkg")
    data = (tmp_path / "good.gpkg").read_bytes()
    (tmp_path / "trunc.gpkg").write_bytes(data[: len(data) // 2])
    before = set(tmp_path.iterdir())
    code, out, err = run(capsys, *[a.format(tmp=tmp_path) for a in argv])
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert set(tmp_path.iterdir()) == before


def test_isochrones_cli_on_real_osm(capsys, tmp_path, yuelu_osm):
    out = tmp_path / "iso.gpkg"
    code, stdout, err = run(
        capsys, "--cache-dir", str(tmp_path / "c"), "isochrones", "--network", str(yuelu_osm),
        "--mode", "walk", "--origin", "112.9455,28.1850", "--minutes", "5,10", "-o", str(out),
    )  # fmt: skip
    assert code == 0, err
    gdf = gpd.read_file(out)
    assert list(gdf["minutes"]) == [5.0, 10.0]
    assert "coarse" not in stdout


def test_isochrones_cli_default_skeleton_says_coarse(capsys, tmp_path):
    out = tmp_path / "iso.geojson"
    code, stdout, _ = run(
        capsys, "isochrones", "--origin", "112.9709,28.1986", "--minutes", "15", "-o", str(out)
    )
    assert code == 0
    assert "coarse skeleton" in stdout
    assert gpd.read_file(out)["coarse"].all()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--minutes", "0"], "minutes must be positive"),
        (["--origin", "100.0,20.0"], "farther than 1000 m"),
        (["--network", "{tmp}/nope.osm.pbf"], "network file not found"),
        (["--network", "{tmp}/cut.osm"], "cannot read it as OSM data"),
    ],
)
def test_isochrones_cli_bad_input(capsys, tmp_path, yuelu_osm, extra, message):
    (tmp_path / "cut.osm").write_bytes(yuelu_osm.read_bytes()[:20000])
    out = tmp_path / "iso.gpkg"
    argv = [
        "--cache-dir",
        str(tmp_path / "c"),
        "isochrones",
        "--origin",
        "112.9709,28.1986",
        "-o",
        str(out),
    ]
    code, _, err = run(capsys, *argv, *[a.format(tmp=tmp_path) for a in extra])
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_map_command_html_and_png(capsys, tmp_path, data_dir):
    mb = data_dir / "basemap" / "changsha_center_osm_z12-14.mbtiles"
    out = tmp_path / "m.html"
    assert main(["map", "--out", str(out), "--offline", "--basemap", str(mb)]) == 0
    page = out.read_text()
    assert "APPROXIMATE" in page and "leaflet" in page.lower()
    assert (
        main(["map", "--out", str(tmp_path / "m.png"), "--layers", "boundaries,green-heart"]) == 0
    )
    capsys.readouterr()
    assert main(["map", "--out", str(tmp_path / "m.html"), "--offline", "--basemap", "osm"]) == 2
    assert "needs the internet" in capsys.readouterr().err
    assert main(["map", "--out", str(tmp_path / "m.pdf")]) == 0
    assert (tmp_path / "m.pdf").read_bytes()[:5] == b"%PDF-"
    assert main(["map", "--out", str(tmp_path / "m.jpg")]) == 2
    assert not (tmp_path / "m.jpg").exists()
    assert main(["map", "--out", str(tmp_path / "x.html"), "--layers", "roads"]) == 2
    assert not (tmp_path / "x.html").exists()


def test_import_has_no_side_effects(tmp_path):
    code = (
        "import logging, os, socket\n"
        "def no_net(*a, **k):\n    raise RuntimeError('network used at import')\n"
        "socket.socket.connect = no_net\n"
        "before = set(os.listdir('.'))\n"
        "import cztgeo\n"
        "assert logging.getLogger().handlers == [], logging.getLogger().handlers\n"
        "assert all(isinstance(h, logging.NullHandler) for h in logging.getLogger('cztgeo').handlers)\n"
        "assert set(os.listdir('.')) == before\n"
        "print('ok')\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"
    assert list(tmp_path.iterdir()) == []


def test_isochrones_cli_local_kmh(capsys, tmp_path):
    areas = {}
    for local in ("0", "20"):
        out = tmp_path / f"iso{local}.geojson"
        argv = ["isochrones", "--origin", "112.9709,28.1986", "--minutes", "15"]
        code, _, err = run(capsys, *argv, "--local-kmh", local, "-o", str(out))
        assert code == 0, err
        areas[local] = gpd.read_file(out)["area_km2"].iloc[0]
    assert areas["20"] > 2.5 * areas["0"]  # local streets make areas, not road ribbons


def test_map_layers_by_name_refuse_an_unknown_name():
    from cztgeo.maps import MAP_LAYERS, named_layers

    assert "green-heart" in MAP_LAYERS
    with pytest.raises(InputError, match="unknown layers .'roads'.: use boundaries"):
        named_layers(Settings(), ["roads"])
