"""SIGKILL during a report write or a cache build: afterwards the old or the new complete set is
there (never a mix), and the next run succeeds and leaves no temporary files.

The kill points are the fault-injection points of ``cztgeo.io`` (``CZTGEO_TEST_KILL_AT``), so
each test kills exactly between two steps of a commit; one test also kills at a random time.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pytest

import cztgeo
from cztgeo.io import MANIFEST, recover

SRC = Path(cztgeo.__file__).resolve().parents[1]


def _run(*argv, tmp, kill_at=None):
    env = {**os.environ, "PYTHONPATH": str(SRC), "CZTGEO_CACHE_DIR": str(tmp / "cache")}
    env.pop("CZTGEO_TEST_KILL_AT", None)
    if kill_at:
        env["CZTGEO_TEST_KILL_AT"] = kill_at
    return subprocess.run(
        [sys.executable, "-m", "cztgeo", *argv], capture_output=True, text=True, env=env,
        timeout=60, check=False,
    )  # fmt: skip


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def _consistent(folder: Path) -> dict[str, str]:
    """The folder holds exactly the files its manifest lists, with those hashes."""
    meta = json.loads((folder / MANIFEST).read_text())
    got = _digest(folder)
    got.pop(MANIFEST)
    assert got == {k: v["sha256"] for k, v in meta["files"].items()}
    return got


@pytest.fixture
def two_inputs(tmp_path):
    gh = cztgeo.load_green_heart()
    inside = gh.geometry.iloc[0].representative_point().buffer(0.002)
    a = gpd.GeoDataFrame({"id": [1]}, geometry=[inside], crs=4326)
    b = gpd.GeoDataFrame({"id": [7, 8]}, geometry=[inside, inside.buffer(0.001)], crs=4326)
    a.to_file(tmp_path / "a.gpkg")
    b.to_file(tmp_path / "b.gpkg")
    return tmp_path / "a.gpkg", tmp_path / "b.gpkg"


def test_kill_during_report_write_keeps_a_complete_set(tmp_path, two_inputs):
    a, b = two_inputs
    rep = tmp_path / "rep"
    assert _run("encroachment", str(a), "--out", str(rep), tmp=tmp_path).returncode == 1
    old = _consistent(rep)
    for point in ("staged", "manifest-written", "swapped"):
        res = _run("encroachment", str(b), "--out", str(rep), tmp=tmp_path, kill_at=point)
        assert res.returncode == -signal.SIGKILL
        now = _consistent(rep)  # old or new, never mixed
        assert (now == old) == (point != "swapped"), point
    again = _run("encroachment", str(a), "--out", str(rep), tmp=tmp_path)
    assert again.returncode == 1, again.stderr
    _consistent(rep)  # (GeoPackages carry timestamps: a rerun is not byte-identical)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_kill_in_a_shared_folder_is_rolled_forward(tmp_path, two_inputs):
    """A folder holding other files is updated file by file under a journal: a kill half-way
    is completed by the next run writing there, so the set is whole again."""
    a, b = two_inputs
    rep = tmp_path / "shared"
    rep.mkdir()
    (rep / "notes.txt").write_text("mine")
    assert _run("encroachment", str(a), "--out", str(rep), tmp=tmp_path).returncode == 1
    res = _run("encroachment", str(b), "--out", str(rep), tmp=tmp_path, kill_at="first-file-moved")
    assert res.returncode == -signal.SIGKILL
    recover(tmp_path)  # what the next run does first
    recover(rep)
    _consistent_subset(rep)
    assert (rep / "notes.txt").read_text() == "mine"
    assert _run("encroachment", str(b), "--out", str(rep), tmp=tmp_path).returncode == 1
    _consistent_subset(rep)
    assert not [p for p in rep.iterdir() if p.name.startswith(".")]


def _consistent_subset(folder: Path) -> None:
    meta = json.loads((folder / MANIFEST).read_text())
    got = _digest(folder)
    for name, v in meta["files"].items():
        assert got[name] == v["sha256"], name


def test_kill_between_shapefile_parts(tmp_path):
    out = tmp_path / "cities.shp"
    # the 2nd move commit is the final one (the 1st stages the parts inside the run's folder)
    res = _run("boundaries", "-o", str(out), tmp=tmp_path, kill_at="first-file-moved#2")
    assert res.returncode == -signal.SIGKILL
    assert [p.suffix for p in tmp_path.glob("cities.*")] == [".cpg"]  # half moved ...
    recover(tmp_path)  # ... and completed by the next run writing there
    parts = sorted(p.suffix for p in tmp_path.glob("cities.*"))
    assert parts == [".cpg", ".dbf", ".prj", ".shp", ".shx"]
    assert len(gpd.read_file(out)) == 3
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_kill_during_cache_build_then_next_run_succeeds(tmp_path, yuelu_osm):
    argv = ("isochrones", "--network", str(yuelu_osm), "--origin", "112.945,28.185",
            "--minutes", "5", "-o", str(tmp_path / "iso.gpkg"))  # fmt: skip
    res = _run(*argv, tmp=tmp_path, kill_at="cache-written")
    assert res.returncode == -signal.SIGKILL
    visible = [p for p in (tmp_path / "cache").glob("*.cztnet") if not p.name.startswith(".")]
    assert visible == []  # no half-written cache is visible
    assert not (tmp_path / "iso.gpkg").exists()
    ok = _run(*argv, tmp=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert len(list((tmp_path / "cache").glob("*.cztnet"))) == 1
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")]


def test_kill_at_random_times(tmp_path, two_inputs):
    a, b = two_inputs
    rep = tmp_path / "rep"
    assert _run("encroachment", str(a), "--out", str(rep), tmp=tmp_path).returncode == 1
    env = {**os.environ, "PYTHONPATH": str(SRC), "CZTGEO_CACHE_DIR": str(tmp_path / "cache")}
    for delay in (1.2, 2.4):
        proc = subprocess.Popen(
            [sys.executable, "-m", "cztgeo", "encroachment", str(b), "--out", str(rep)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _consistent(rep)
    assert _run("encroachment", str(b), "--out", str(rep), tmp=tmp_path).returncode == 1
    _consistent(rep)
