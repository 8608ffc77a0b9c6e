"""The one place that talks to the network: OSM through Overpass (osmnx) and extract downloads.

Everything else in cztgeo takes files, graphs or GeoDataFrames and is pure.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DataSourceError, InputError, OfflineError
from .io import atomic_path
from .settings import Settings

__all__ = ["DEFAULT_EXTRACT_URL", "OverpassSource", "download"]

log = logging.getLogger(__name__)

#: Hunan province OSM extract (openstreetmap.fr's daily extracts; an .md5 file sits beside it).
DEFAULT_EXTRACT_URL = "https://download.openstreetmap.fr/extracts/asia/china/hunan-latest.osm.pbf"

_OSMNX_NETWORK_TYPE = {"drive": "drive", "walk": "walk", "bike": "bike"}


@contextlib.contextmanager
def _osmnx_settings(settings: Settings) -> Iterator[None]:
    """Set osmnx's global settings for one call and restore them afterwards."""
    import osmnx as ox

    saved = {k: getattr(ox.settings, k) for k in ("use_cache", "cache_folder", "requests_timeout")}
    try:
        ox.settings.use_cache = True
        ox.settings.cache_folder = str(Path(settings.cache_dir) / "overpass")
        ox.settings.requests_timeout = int(settings.timeout_s)
        yield
    finally:
        for k, v in saved.items():
            setattr(ox.settings, k, v)


@dataclass(frozen=True)
class OverpassSource:
    """OSM data downloaded through osmnx's Overpass client (needs the internet).

    Parameters
    ----------
    place
        A place name osmnx can geocode (``"岳麓区, 长沙市"``), or None with ``bbox``.
    bbox
        ``(west, south, east, north)`` in WGS84.
    """

    place: str | None = None
    bbox: tuple[float, float, float, float] | None = None

    def describe(self) -> str:
        what = self.place if self.place else f"bbox {self.bbox}"
        return f"OpenStreetMap via Overpass ({what})"

    def graph(self, *, mode: str, settings: Settings) -> Any:
        if settings.offline:
            raise OfflineError(
                "Overpass needs the internet but cztgeo is offline: use a local .osm/.osm.pbf "
                "file or a prepared cache"
            )
        if not _online(settings):
            raise OfflineError(
                "cannot reach OpenStreetMap (no network): use a local .osm/.osm.pbf file, or "
                "run 'cztgeo data fetch' on a machine with internet"
            )
        import osmnx as ox

        with _osmnx_settings(settings):
            kw: dict[str, Any] = {"simplify": False, "retain_all": True}
            if mode == "rail":
                kw["custom_filter"] = '["railway"~"rail|light_rail|subway|monorail"]'
            else:
                kw["network_type"] = _OSMNX_NETWORK_TYPE[mode]
            try:
                if self.place:
                    return ox.graph_from_place(self.place, **kw)
                if self.bbox:
                    return ox.graph_from_bbox(self.bbox, **kw)
            except Exception as exc:
                raise DataSourceError(f"Overpass download failed: {exc}") from None
        raise InputError("OverpassSource needs a place name or a bbox")


def _online(settings: Settings, host: str = "overpass-api.de") -> bool:
    try:
        socket.create_connection((host, 443), timeout=min(5.0, settings.timeout_s)).close()
    except OSError:
        return False
    return True


def _timeouts(settings: Settings) -> tuple[float, float]:
    """(connect, read) timeouts: a server that accepts and never answers fails within the read
    timeout (a silent socket), not after the whole ``timeout_s``."""
    total = float(settings.timeout_s)
    if not total > 0 or total != total:
        raise InputError(f"timeout_s must be a positive number, got {settings.timeout_s!r}")
    return min(10.0, total), min(60.0, total)


def download(
    url: str,
    dest: str | os.PathLike[str],
    *,
    settings: Settings,
    sha256: str | None = None,
    md5_url: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Download ``url`` to ``dest`` atomically, verifying a checksum when one is known.

    Parameters
    ----------
    sha256
        Expected SHA-256 hex digest.
    md5_url
        URL of an ``.md5`` file to check against (the format of most OSM extract servers).
    progress
        Called as ``progress(bytes_done, bytes_total_or_None)``.

    Raises
    ------
    OfflineError
        With ``settings.offline``.
    DataSourceError
        HTTP failure, short read or checksum mismatch (nothing is left at ``dest``).
    """
    import requests

    if settings.offline:
        raise OfflineError(f"download of {url} refused: cztgeo is offline")
    scheme = urllib.parse.urlparse(url).scheme
    if scheme not in ("http", "https"):
        raise InputError(f"cannot download {url!r}: only http(s) URLs are supported")
    out = Path(dest)
    h256, hmd5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    timeout = _timeouts(settings)
    try:
        with requests.get(url, stream=True, timeout=timeout) as resp:
            if resp.status_code != 200:
                raise DataSourceError(f"download of {url} failed: HTTP {resp.status_code}")
            total = int(resp.headers.get("Content-Length", 0)) or None
            done = 0
            with atomic_path(out) as tmp:
                with open(tmp, "wb") as fh:
                    for chunk in resp.iter_content(chunk_size=1 << 20):
                        fh.write(chunk)
                        h256.update(chunk)
                        hmd5.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total)
                if total is not None and done != total:
                    raise DataSourceError(
                        f"download of {url} stopped at {done} of {total} bytes; try again"
                    )
                if sha256 and h256.hexdigest() != sha256.lower():
                    raise DataSourceError(
                        f"checksum mismatch for {url}: sha256 {h256.hexdigest()} != {sha256}"
                    )
                if md5_url:
                    r = requests.get(md5_url, timeout=timeout)
                    if r.status_code == 200:
                        want = r.text.split()[0].strip().lower() if r.text.strip() else ""
                        if want and want != hmd5.hexdigest():
                            raise DataSourceError(
                                f"checksum mismatch for {url}: md5 {hmd5.hexdigest()} != {want}"
                            )
                    else:
                        log.warning("no checksum at %s (HTTP %s)", md5_url, r.status_code)
    except requests.RequestException as exc:
        raise DataSourceError(f"download of {url} failed: {type(exc).__name__}: {exc}") from None
    return out
