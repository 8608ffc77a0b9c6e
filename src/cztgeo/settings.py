"""Explicit, frozen configuration (no mutable module globals).

Defaults come from the environment and the platform, never from the current directory:

* data: ``$CZTGEO_DATA_DIR``, else ``../shared/geodata`` beside a source checkout of cztgeo;
* cache: ``$CZTGEO_CACHE_DIR``, else the platform's user cache folder (platformdirs:
  ``~/.cache/cztgeo`` on Linux, honouring ``$XDG_CACHE_HOME``; ``~/Library/Caches/cztgeo`` on
  macOS; ``%LOCALAPPDATA%\\cztgeo\\Cache`` on Windows).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import platformdirs

__all__ = ["Settings", "default_cache_dir", "default_data_dir", "embedded_data_dir"]

_PKG_DIR = Path(__file__).resolve().parent


def embedded_data_dir() -> Path:
    """Folder of the data shipped with cztgeo (boundaries, sketch, road skeleton, rail lines)."""
    installed = _PKG_DIR / "_geodata"
    if installed.is_dir():
        return installed
    return _PKG_DIR.parents[1] / "geodata"


def _checkout_root() -> Path | None:
    """The source checkout cztgeo runs from (``<root>/src/cztgeo``), None when installed."""
    root = _PKG_DIR.parents[1]
    if _PKG_DIR.parent.name == "src" and (root / "pyproject.toml").is_file():
        return root
    return None


def default_data_dir() -> Path | None:
    """The external data directory: ``$CZTGEO_DATA_DIR``, else ``../shared/geodata`` beside
    the source checkout when cztgeo runs from one and that folder exists; else None.

    The current working directory plays no part.
    """
    env = os.environ.get("CZTGEO_DATA_DIR")
    if env:
        return Path(env).expanduser()
    root = _checkout_root()
    if root is not None:
        cand = (root / ".." / "shared" / "geodata").resolve()
        if cand.is_dir():
            return cand
    return None


def default_cache_dir() -> Path:
    """The cache directory: ``$CZTGEO_CACHE_DIR``, else the platform's user cache folder for
    cztgeo (``platformdirs.user_cache_dir``; ``~/.cache/cztgeo`` on Linux)."""
    env = os.environ.get("CZTGEO_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("cztgeo", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Configuration passed explicitly to the functions that need it.

    Defaults are read from the environment when a ``Settings`` is made, not when cztgeo is
    imported.

    Parameters
    ----------
    data_dir
        External data folder (OSM extracts, station points, basemaps). Defaults to
        :func:`default_data_dir`.
    cache_dir
        Where prepared network caches are written. Defaults to :func:`default_cache_dir`.
    offline
        Never touch the network; online-only operations raise :class:`~cztgeo.errors.OfflineError`.
    timeout_s
        Network timeout for online sources.
    """

    data_dir: Path | None = field(default_factory=default_data_dir)
    cache_dir: Path = field(default_factory=default_cache_dir)
    offline: bool = False
    timeout_s: float = 180.0

    def with_(self, **changes: object) -> Settings:
        """Return a copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def data_path(self, *parts: str) -> Path:
        """Path of a file in the external data directory; raises if there is none."""
        from .errors import DataSourceError

        if self.data_dir is None:
            raise DataSourceError(
                "no data directory: set CZTGEO_DATA_DIR or pass Settings(data_dir=...)"
            )
        return Path(self.data_dir).joinpath(*parts)
