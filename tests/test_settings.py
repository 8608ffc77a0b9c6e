"""Settings defaults: environment first, then the platform or the source checkout; never the cwd."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import cztgeo
from cztgeo import settings as settings_mod
from cztgeo.errors import DataSourceError
from cztgeo.settings import Settings, default_cache_dir, default_data_dir


@pytest.fixture
def clean_env(monkeypatch):
    for var in ("CZTGEO_CACHE_DIR", "CZTGEO_DATA_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_cache_env_var_wins(clean_env, tmp_path):
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    clean_env.setenv("CZTGEO_CACHE_DIR", str(tmp_path / "mine"))
    assert Settings().cache_dir == tmp_path / "mine"


def test_cache_env_var_expands_home(clean_env, tmp_path):
    clean_env.setenv("HOME", str(tmp_path))
    clean_env.setenv("CZTGEO_CACHE_DIR", "~/c")
    assert default_cache_dir() == tmp_path / "c"


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG base-directory spec is Linux's")
def test_cache_default_follows_xdg(clean_env, tmp_path):
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert Settings().cache_dir == tmp_path / "xdg" / "cztgeo"


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG base-directory spec is Linux's")
def test_cache_default_without_xdg_is_home_dot_cache(clean_env, tmp_path):
    clean_env.setenv("HOME", str(tmp_path))
    assert Settings().cache_dir == tmp_path / ".cache" / "cztgeo"


def test_defaults_read_when_settings_are_made_not_at_import(clean_env, tmp_path):
    clean_env.setenv("CZTGEO_CACHE_DIR", str(tmp_path / "a"))
    first = Settings()
    clean_env.setenv("CZTGEO_CACHE_DIR", str(tmp_path / "b"))
    assert (first.cache_dir, Settings().cache_dir) == (tmp_path / "a", tmp_path / "b")


def test_data_env_var_wins(clean_env, tmp_path):
    clean_env.setenv("CZTGEO_DATA_DIR", str(tmp_path / "data"))
    assert Settings().data_dir == tmp_path / "data"


def test_data_dir_does_not_depend_on_the_cwd(clean_env, tmp_path):
    # a cwd with a ../shared/geodata beside it, as the old lookup would have found
    decoy = tmp_path / "shared" / "geodata"
    decoy.mkdir(parents=True)
    (tmp_path / "work").mkdir()
    checkout = Path(cztgeo.__file__).resolve().parents[2]
    expected = (checkout.parent / "shared" / "geodata").resolve()
    before = default_data_dir()
    clean_env.chdir(tmp_path / "work")
    after = default_data_dir()
    assert after == before
    assert after != decoy.resolve()
    assert after == (expected if expected.is_dir() else None)


def _fake_package(monkeypatch, pkg: Path) -> None:
    pkg.mkdir(parents=True)
    monkeypatch.setattr(settings_mod, "_PKG_DIR", pkg)


def test_data_dir_beside_a_source_checkout(clean_env, tmp_path):
    root = tmp_path / "repo"
    _fake_package(clean_env, root / "src" / "cztgeo")
    (root / "pyproject.toml").write_text("[project]\nname = 'cztgeo'\n")
    assert default_data_dir() is None  # no ../shared/geodata yet
    (tmp_path / "shared" / "geodata").mkdir(parents=True)
    assert default_data_dir() == tmp_path / "shared" / "geodata"


def test_installed_package_does_not_look_beside_site_packages(clean_env, tmp_path):
    lib = tmp_path / "lib"
    _fake_package(clean_env, lib / "python3.11" / "site-packages" / "cztgeo")
    (lib / "shared" / "geodata").mkdir(parents=True)  # <pkg>/../../../shared/geodata
    assert default_data_dir() is None


def test_data_path_without_data_dir_says_how_to_fix():
    with pytest.raises(DataSourceError, match="set CZTGEO_DATA_DIR"):
        Settings(data_dir=None).data_path("osm", "x.osm.pbf")
