"""Prepared data: a downloaded OSM extract turned into network caches for the metro area.

``cztgeo data fetch`` is :func:`fetch_extract`: download (:mod:`cztgeo.sources`, checksummed),
clip to the metro area (or a box), one ``czt_<mode>.cztnet`` cache per mode
(:func:`prepare_networks`). Later runs pick the drive cache up by default
(:func:`cztgeo.network.default_network`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import shapely

from .errors import EmptyNetworkError, InputError, OfflineError
from .netcache import CACHE_SUFFIX
from .network import check_mode, clip_network, load_network
from .settings import Settings
from .speeds import SpeedProfile

__all__ = ["fetch_extract", "prepare_networks"]

log = logging.getLogger(__name__)


def prepare_networks(
    osm_file: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    modes: tuple[str, ...] = ("drive", "walk", "rail"),
    clip: shapely.Geometry | None = None,
    profile: SpeedProfile | None = None,
) -> dict[str, Path]:
    """Build one ``czt_<mode>.cztnet`` cache per mode from an OSM file, clipped to ``clip``.

    Modes with no arcs in the area are skipped with a log message.

    Parameters
    ----------
    osm_file
        An OSM file (``.osm``, ``.osm.pbf``, ...).
    out_dir
        Folder for the ``.cztnet`` files.
    modes
        Modes to build.
    clip
        Keep the arcs with both ends inside this WGS84 polygon (:func:`clip_network`).
    profile
        Road speeds; the default profile otherwise.

    Returns
    -------
    dict
        Mode -> path of the cache written.
    """
    for mode in modes:
        check_mode(mode)
    out: dict[str, Path] = {}
    for mode in modes:
        try:
            net = load_network(osm_file, mode=mode, profile=profile, cache=False)
            if clip is not None:
                net = clip_network(net, clip)
        except EmptyNetworkError as exc:
            log.warning("skipping %s: %s", mode, exc)
            continue
        out[mode] = net.save(Path(out_dir) / f"czt_{mode}{CACHE_SUFFIX}")
    if not out:
        raise EmptyNetworkError(
            f"{Path(osm_file).name}: no network of any mode {modes} inside the area"
        )
    return out


def fetch_extract(
    url: str | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    settings: Settings | None = None,
    sha256: str | None = None,
    md5: bool = True,
    modes: Sequence[str] = ("drive", "walk", "rail"),
    bbox: Sequence[float] | None = None,
    progress: bool = False,
) -> dict[str, Path]:
    """Download an OSM extract and build the network caches of the metro area from it.

    Parameters
    ----------
    url
        Extract URL (default: :data:`cztgeo.sources.DEFAULT_EXTRACT_URL`, the Hunan extract).
    out_dir
        Folder for the download and the caches (default: the cache folder of ``settings``).
    sha256
        Expected SHA-256 of the download; ``md5`` also checks ``URL.md5`` when the server has it.
    modes
        Networks to build.
    bbox
        ``(W, S, E, N)`` to clip to instead of the metro area.
    progress
        Show a progress bar (tqdm) on stderr.

    Returns
    -------
    dict
        Mode -> cache path.

    Raises
    ------
    OfflineError
        ``settings.offline`` is set.
    InputError
        Not an http(s) URL.
    """
    from .boundaries import load_boundaries
    from .sources import DEFAULT_EXTRACT_URL, download

    settings = settings or Settings()
    if settings.offline:
        raise OfflineError("'data fetch' downloads OSM data but cztgeo is offline (--offline)")
    url = url or DEFAULT_EXTRACT_URL
    if not url.lower().startswith(("http://", "https://")):
        raise InputError(f"cannot download {url!r}: only http(s) URLs are supported")
    folder = Path(out_dir or settings.cache_dir)
    pbf = folder / Path(url.split("?")[0]).name
    from tqdm import tqdm

    bar = tqdm(total=None, unit="B", unit_scale=True, desc="download", disable=not progress)

    def report(done: int, total: int | None) -> None:
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    try:
        download(url, pbf, settings=settings, sha256=sha256,
                 md5_url=url + ".md5" if md5 else None, progress=report)  # fmt: skip
    finally:
        bar.close()
    clip = shapely.box(*bbox) if bbox else load_boundaries("metro").geometry.iloc[0]
    return prepare_networks(pbf, folder, modes=tuple(modes), clip=clip)
