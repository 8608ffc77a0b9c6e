"""The ``.cztnet`` network cache format: a network's arrays plus JSON metadata in one ``.npz``.

Written atomically (temporary file, fsync, rename). Read only after checking, before numpy
allocates anything, that the file's members are what they claim, and then that every array and
metadata field is consistent; a truncated, corrupt or crafted file raises
:class:`~cztgeo.errors.DataSourceError` instead of loading. :meth:`cztgeo.network.Network.save`
and :func:`cztgeo.network.read_network_cache` are the users of this module.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypeAlias, TypedDict, cast

import numpy as np

from .errors import DataSourceError
from .outputs import _fault, atomic_path

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "CACHE_ARRAYS",
    "CACHE_FORMAT",
    "CACHE_SUFFIX",
    "CacheArrays",
    "CacheMeta",
    "StationColumns",
    "read_cache",
    "write_cache",
]

#: Version of the format written; a file of a version not in :data:`READABLE_FORMATS` is
#: refused (and rebuilt by :func:`cztgeo.network.load_network`). 3: the reverse-arc index is
#: stored (``reverse``).
CACHE_FORMAT = 3
#: Versions read: a format-2 file (no stored reverse index, e.g. one `cztgeo data fetch` built
#: before 0.2) is read as it is, its reverse index computed on first use (about 60 ms on a
#: 1.16M-arc network) instead of forcing a new download.
READABLE_FORMATS = (2, 3)
CACHE_SUFFIX = ".cztnet"

#: The arrays of a cache: name -> (dtype kinds allowed, length: "n" nodes, "m" arcs, "n+1").
CACHE_ARRAYS = {
    "lon": ("f", "n"),
    "lat": ("f", "n"),
    "x": ("f", "n"),
    "y": ("f", "n"),
    "node_id": ("iu", "n"),
    "indptr": ("iu", "n+1"),
    "head": ("iu", "m"),
    "time_s": ("f", "m"),
    "length_m": ("f", "m"),
    "kind": ("iu", "m"),
    "reverse": ("i", "m"),
}
_DTYPES = {
    "lon": np.float64,
    "lat": np.float64,
    "x": np.float64,
    "y": np.float64,
    "node_id": np.int64,
    "indptr": np.int32,
    "head": np.int32,
    "time_s": np.float64,
    "length_m": np.float64,
    "kind": np.int16,
    "reverse": np.int64,
}


#: Rail stations read with a network, as columns: ``osm_id``, ``name``, ``lon``, ``lat``
#: (WGS84) and ``station`` (the OSM ``station`` tag, ``"train"`` when absent).
StationColumns: TypeAlias = dict[str, list[int | float | str | None]]


class CacheMeta(TypedDict):
    """The metadata of a cache (see :class:`cztgeo.network.Network` for the fields)."""

    format: int
    kinds: list[str]
    mode: str
    crs: str
    source: str
    coarse: bool
    note: str
    stations: StationColumns


class CacheArrays(TypedDict):
    """The arrays of a cache, with the dtypes of :class:`cztgeo.network.Network`."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    node_id: NDArray[np.int64]
    indptr: NDArray[np.int32]
    head: NDArray[np.int32]
    time_s: NDArray[np.float64]
    length_m: NDArray[np.float64]
    kind: NDArray[np.int16]
    reverse: NotRequired[NDArray[np.int64]]


def write_cache(path: str | os.PathLike[str], meta: CacheMeta, arrays: CacheArrays) -> Path:
    """Write one cache file atomically: complete on disk before it appears at ``path``."""
    out = Path(path)
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as fh:
            stored = arrays
            if "reverse" in arrays:  # arc numbers fit in 32 bits (build_network checks)
                stored = cast(
                    "CacheArrays", {**arrays, "reverse": arrays["reverse"].astype(np.int32)}
                )
            np.savez(fh, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **stored)
            fh.flush()
            os.fsync(fh.fileno())  # complete on disk before the rename makes it visible
        _fault("cache-written")
    return out


def _corrupt(p: Path, exc: BaseException) -> DataSourceError:
    return DataSourceError(
        f"{p.name}: corrupt or truncated network cache ({type(exc).__name__}); delete it "
        "and build it again from the OSM file"
    )


def read_cache(path: Path, *, modes: tuple[str, ...]) -> tuple[CacheMeta, CacheArrays]:
    """Read and check a cache file.

    Parameters
    ----------
    path
        An existing ``.cztnet`` file.
    modes
        The network modes a cache may hold.

    Raises
    ------
    DataSourceError
        If the file is truncated, corrupt, inconsistent or of another format version.
    """
    try:
        _check_npz_members(path)
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            arrays = {k: z[k] for k in z.files if k != "meta"}
    except DataSourceError:
        raise
    except Exception as exc:
        raise _corrupt(path, exc) from exc
    if not isinstance(meta, dict) or meta.get("format") not in READABLE_FORMATS:
        got = meta.get("format") if isinstance(meta, dict) else None
        raise DataSourceError(
            f"{path.name}: network cache format {got!r} is not {CACHE_FORMAT}; "
            "rebuild it from the OSM file"
        )
    # a format-2 file has no reverse index (a stray one is never trusted unchecked)
    names = [k for k in CACHE_ARRAYS if meta["format"] != 2 or k != "reverse"]
    problem = _cache_problem(meta, arrays, names, modes=modes)
    if problem:
        raise DataSourceError(f"{path.name}: invalid network cache ({problem}); rebuild it")
    meta.setdefault("stations", {})
    typed = {name: arrays[name].astype(_DTYPES[name], copy=False) for name in names}
    return cast("CacheMeta", meta), cast("CacheArrays", typed)


def _check_npz_members(p: Path) -> None:
    """Refuse, before numpy allocates anything, a cache whose members claim more data than the
    file holds (a crafted header could ask for terabytes) or hold objects."""
    size = p.stat().st_size
    try:
        with zipfile.ZipFile(p) as zf:
            for info in zf.infolist():
                if info.file_size > 2 * size + (1 << 20):
                    raise DataSourceError(
                        f"{p.name}: member {info.filename!r} claims {info.file_size:,} bytes in a "
                        f"{size:,}-byte file; rebuild the cache"
                    )
                if info.filename.endswith(".npy"):
                    _check_npy_header(p, zf, info)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise _corrupt(p, exc) from exc


def _check_npy_header(p: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    with zf.open(info) as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    count = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
    if dtype.hasobject or count * dtype.itemsize > info.file_size:
        raise DataSourceError(
            f"{p.name}: member {info.filename!r} header does not match its data; rebuild the cache"
        )


def _cache_problem(
    meta: Mapping[str, object],
    arrays: Mapping[str, NDArray[Any]],
    names: list[str],
    *,
    modes: tuple[str, ...],
) -> str:
    """What is wrong with a loaded cache, whose format stores the ``names`` arrays (empty
    string when it is sound)."""
    missing = [k for k in names if k not in arrays]
    if missing:
        return f"arrays {missing} missing"
    return (
        _meta_problem(meta, modes)
        or _shape_problem(arrays, names)
        or _value_problem(len(cast("list[str]", meta["kinds"])), arrays)
        or ("reverse" in names and _reverse_problem(arrays))
        or ""
    )


def _meta_problem(meta: Mapping[str, object], modes: tuple[str, ...]) -> str:
    """What is wrong with a cache's metadata (empty string when it is sound)."""
    for key, typ in (("kinds", list), ("mode", str), ("crs", str), ("source", str)):
        if not isinstance(meta.get(key), typ):
            return f"metadata {key!r} missing or of the wrong type"
    kinds = cast("list[object]", meta["kinds"])
    if meta["mode"] not in modes or not all(isinstance(k, str) for k in kinds):
        return "metadata mode/kinds invalid"
    if not isinstance(meta.get("stations", {}), dict):
        return "metadata stations invalid"
    if not isinstance(meta.get("coarse"), bool) or not isinstance(meta.get("note"), str):
        return "metadata coarse/note missing or of the wrong type"
    return ""


def _shape_problem(arrays: Mapping[str, NDArray[Any]], names: list[str]) -> str:
    """Which of the ``names`` arrays has the wrong shape or dtype (empty string when none)."""
    n = arrays["lon"].shape[0] if arrays["lon"].ndim == 1 else -1
    m = arrays["head"].shape[0] if arrays["head"].ndim == 1 else -1
    sizes = {"n": n, "m": m, "n+1": n + 1}
    for name in names:
        kinds, length = CACHE_ARRAYS[name]
        a = arrays[name]
        if a.ndim != 1 or a.dtype.kind not in kinds or a.shape[0] != sizes[length]:
            return f"array {name!r} has shape {a.shape} and dtype {a.dtype}"
    return ""


def _value_problem(n_kinds: int, arrays: Mapping[str, NDArray[Any]]) -> str:
    """Which array values are inconsistent (empty string when none); shapes already checked."""
    indptr, head, kind = arrays["indptr"], arrays["head"], arrays["kind"]
    n, m = arrays["lon"].shape[0], head.shape[0]
    if n < 1 or indptr[0] != 0 or indptr[-1] != m or (np.diff(indptr) < 0).any():
        return "arc index (indptr) inconsistent"
    if m and (head.min() < 0 or head.max() >= n):
        return "arc heads outside the node range"
    if m and (kind.min() < 0 or kind.max() >= n_kinds):
        return "arc classes outside the class list"
    # min and max propagate NaN (any comparison with it is False): no temporaries
    for name in ("time_s", "length_m"):
        v = arrays[name]
        if m and not (v.min() >= 0 and np.isfinite(v.max())):
            return f"{name} not finite and non-negative"
    lon, lat = arrays["lon"], arrays["lat"]
    if not (np.isfinite([lon.min(), lon.max(), lat.min(), lat.max()]).all()):
        return "node coordinates not finite"
    if not (lon.min() >= -180 and lon.max() <= 180 and lat.min() >= -90 and lat.max() <= 90):
        return "node coordinates out of range"
    if not np.isfinite(
        [arrays["x"].min(), arrays["x"].max(), arrays["y"].min(), arrays["y"].max()]
    ).all():
        return "metric node coordinates not finite"
    return ""


def _reverse_problem(arrays: Mapping[str, NDArray[Any]]) -> str:
    """What is wrong with the stored reverse-arc index (empty string when it is the one
    :attr:`cztgeo.network.Network.reverse` computes); the arc index is already checked.

    Each stored reverse must run between the same nodes the other way, and an arc stored
    without one must have none. When no two arcs share their ends (as :func:`~cztgeo.network.
    build_network` guarantees) that fixes the index, checked in a few passes; otherwise the
    index is computed again and compared.
    """
    indptr, head, rev = arrays["indptr"], arrays["head"], arrays["reverse"]
    n, m = arrays["lon"].shape[0], head.shape[0]
    if m == 0:
        return ""
    if rev.min() < -1 or rev.max() >= m:
        return "reverse arcs outside the arc range"
    counts = np.diff(indptr)
    step = np.diff(head) > 0
    step[indptr[1:-1][(indptr[1:-1] > 0) & (indptr[1:-1] < m)] - 1] = True  # rows may restart
    if not step.all():  # parallel arcs or unsorted rows: compute it again and compare
        tail64 = np.repeat(np.arange(n, dtype=np.int64), counts)
        key, rkey = tail64 * n + head, head.astype(np.int64) * n + tail64
        order = np.argsort(key, kind="stable")
        pos = np.clip(np.searchsorted(key[order], rkey), 0, m - 1)
        want = np.where(key[order][pos] == rkey, order[pos], -1)
        return "" if np.array_equal(want, rev) else "reverse arcs inconsistent with the arcs"
    # one arc at most per (tail, head): each stored reverse must join the same nodes the other
    # way (rev -1 reads the last arc: masked), and an arc stored without one must have none
    tail = np.repeat(np.arange(n, dtype=head.dtype), counts)
    none = rev < 0
    if not ((np.take(head, rev) == tail) & (np.take(tail, rev) == head) | none).all():
        return "reverse arcs inconsistent with the arcs"
    lone = np.flatnonzero(none)
    u, v = tail[lone], head[lone]
    first, size = indptr[v].astype(np.int64), counts[v].astype(np.int64)
    owner = np.repeat(np.arange(lone.size), size)
    cand = np.arange(int(size.sum()), dtype=np.int64) - np.repeat(np.cumsum(size) - size, size)
    if (head[cand + np.repeat(first, size)] == u[owner]).any():
        return "reverse arcs missing"
    return ""
