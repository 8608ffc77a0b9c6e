"""The one place that talks to the network: OSM through Overpass (osmnx) and extract downloads.

Downloads go through pooch (its requests-based ``HTTPDownloader`` and ``file_hash``); cztgeo
adds the offline gate, the checksum policy (a known SHA-256, an ``.md5`` sidecar) and the
atomic placement of the result. Everything else in cztgeo takes files, graphs or GeoDataFrames
and is pure.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import socket
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pooch

from .errors import DataSourceError, InputError, OfflineError
from .io import atomic_path
from .settings import Settings

if TYPE_CHECKING:
    import networkx as nx

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
        """A label naming the source, for reports."""
        what = self.place if self.place else f"bbox {self.bbox}"
        return f"OpenStreetMap via Overpass ({what})"

    def graph(self, *, mode: str, settings: Settings) -> nx.MultiDiGraph:
        """Download the unsimplified osmnx graph of ``mode`` (``"drive"``, ``"walk"``,
        ``"bike"`` or ``"rail"``).

        Raises
        ------
        OfflineError
            With ``settings.offline``, or when OpenStreetMap cannot be reached.
        DataSourceError
            The Overpass download failed.
        """
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
                raise DataSourceError(f"Overpass download failed: {exc}") from exc
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


class _ProgressAdapter:
    """The progress-bar object pooch's HTTPDownloader drives (``total``, ``update``,
    ``reset``, ``close``), reporting to a ``progress(bytes_done, bytes_total_or_None)``
    callback. pooch counts whole chunks, so ``bytes_done`` is capped at the total."""

    def __init__(self, callback: Callable[[int, int | None], None]) -> None:
        self.callback = callback
        self.total: int | None = None
        self.done = 0

    def update(self, n: int) -> None:
        self.done += int(n)
        if self.total:
            self.done = min(self.done, self.total)
        self.callback(self.done, self.total or None)

    def reset(self) -> None:
        self.done = 0

    def close(self) -> None:
        pass


def _sidecar_md5(md5_url: str, timeout: tuple[float, float]) -> str | None:
    """The MD5 digest an ``.md5`` file gives (``"<hex>  <name>"``), None when it is absent."""
    import requests

    buf = io.BytesIO()
    try:
        pooch.HTTPDownloader(timeout=timeout)(md5_url, buf, None)
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        log.warning("no checksum at %s (HTTP %s)", md5_url, status)
        return None
    words = buf.getvalue().decode("utf-8", errors="replace").split()
    return words[0].strip().lower() if words else None


def _check_hash(path: Path, url: str, alg: str, want: str) -> None:
    got = pooch.file_hash(str(path), alg=alg)
    if got != want.lower():
        raise DataSourceError(f"checksum mismatch for {url}: {alg} {got} != {want}")


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

    The transfer is pooch's ``HTTPDownloader`` (requests, streamed, HTTP errors raised; a body
    shorter than its ``Content-Length`` raises too), written to a temporary file beside
    ``dest`` that replaces ``dest`` only once every check has passed.

    Parameters
    ----------
    url
        An ``http://`` or ``https://`` URL.
    dest
        The file to write (its folder is created).
    settings
        The offline flag and ``timeout_s``.
    sha256
        Expected SHA-256 hex digest.
    md5_url
        URL of an ``.md5`` file to check against (the format of most OSM extract servers); a
        missing one (HTTP error) is logged and skipped.
    progress
        Called as ``progress(bytes_done, bytes_total_or_None)`` while downloading.

    Raises
    ------
    OfflineError
        With ``settings.offline`` (before any connection is made).
    InputError
        A URL that is not http(s), or a bad ``timeout_s``.
    DataSourceError
        HTTP failure, short read or checksum mismatch (nothing is left at ``dest``).
    """
    import requests

    if settings.offline:
        raise OfflineError(f"download of {url} refused: cztgeo is offline")
    scheme = urllib.parse.urlparse(url).scheme
    if scheme not in ("http", "https"):
        raise InputError(f"cannot download {url!r}: only http(s) URLs are supported")
    timeout = _timeouts(settings)
    out = Path(dest)
    fetch = pooch.HTTPDownloader(
        progressbar=_ProgressAdapter(progress) if progress else False,
        chunk_size=1 << 20,
        timeout=timeout,
    )
    try:
        md5 = _sidecar_md5(md5_url, timeout) if md5_url else None
        with atomic_path(out) as tmp:
            fetch(url, str(tmp), None)
            if sha256:
                _check_hash(tmp, url, "sha256", sha256)
            if md5:
                _check_hash(tmp, url, "md5", md5)
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise DataSourceError(f"download of {url} failed: HTTP {status}") from exc
    except requests.RequestException as exc:
        raise DataSourceError(f"download of {url} failed: {type(exc).__name__}: {exc}") from exc
    return out
