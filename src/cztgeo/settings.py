"""Explicit, frozen configuration (no mutable module globals)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["Settings", "default_data_dir", "embedded_data_dir"]

_PKG_DIR = Path(__file__).resolve().parent


def embedded_data_dir() -> Path:
    """Folder of the data shipped with cztgeo (boundaries, sketch, road skeleton, rail lines)."""
    installed = _PKG_DIR / "_geodata"
    if installed.is_dir():
        return installed
    return _PKG_DIR.parents[1] / "geodata"


def default_data_dir() -> Path | None:
    """The external data directory: ``$CZTGEO_DATA_DIR``, else ``../shared/geodata`` if present.

    ``../shared/geodata`` is looked for beside the current directory and beside the source
    checkout. Returns None when neither exists.
    """
    env = os.environ.get("CZTGEO_DATA_DIR")
    if env:
        return Path(env).expanduser()
    for base in (Path.cwd(), _PKG_DIR.parents[1]):
        cand = (base / ".." / "shared" / "geodata").resolve()
        if cand.is_dir():
            return cand
    return None


def _default_cache_dir() -> Path:
    env = os.environ.get("CZTGEO_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "cztgeo"


@dataclass(frozen=True)
class Settings:
    """Configuration passed explicitly to the functions that need it.

    Parameters
    ----------
    data_dir
        External data folder (OSM extracts, station points, basemaps). Defaults to
        ``$CZTGEO_DATA_DIR`` or ``../shared/geodata`` when present.
    cache_dir
        Where prepared network caches are written. ``$CZTGEO_CACHE_DIR`` or ``~/.cache/cztgeo``.
    offline
        Never touch the network; online-only operations raise :class:`~cztgeo.errors.OfflineError`.
    timeout_s
        Network timeout for online sources.
    """

    data_dir: Path | None = field(default_factory=default_data_dir)
    cache_dir: Path = field(default_factory=_default_cache_dir)
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
