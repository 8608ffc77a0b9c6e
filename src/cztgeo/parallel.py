"""Scale-out on Dask: a client from an address or a local cluster, data sent once per worker,
work split into chunks, results streamed to resumable partitioned GeoParquet.

Everything here is the same code whether it runs in this process or on a cluster: a chunk is a
plain function of (shared data, chunk), so a local run and a Dask run give identical results.
Dask (``dask.distributed``) is the executor: a lost worker's chunks are recomputed by its
scheduler, and :class:`ChunkStore` lets a rerun skip chunks already written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import DataSourceError, InputError
from .types import PointsLike

if TYPE_CHECKING:
    import dask_geopandas as dgpd
    from distributed import Client
    from numpy.typing import NDArray

    from .network import Network

__all__ = [
    "ChunkStore",
    "EncroachmentRun",
    "connect",
    "digest",
    "encroachment_parquet",
    "parallel_matrix",
    "run_chunks",
    "share",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
C = TypeVar("C")
R = TypeVar("R")

#: Keys already sent to the workers of a client (client id -> keys), to send each once.
_SENT: dict[str, set[str]] = {}

CONNECT_TIMEOUT_S = 10.0

#: Environment of local worker processes, set before each is spawned (Dask's
#: ``distributed.nanny.pre-spawn-environ``: glibc reads the malloc variables when a process
#: starts, so LocalCluster's ``env=``, applied inside the started worker, has no effect on them).
#: Dask's own default sets ``MALLOC_TRIM_THRESHOLD_`` to 64 KiB, which (glibc) also switches off
#: the adaptive mmap threshold: every array above 128 KiB (a search's distances, a batch's
#: origins x opportunities) is then a fresh mmap, paid in page faults: on the metro grid a
#: worker took 205k page faults and 0.8 s per 2,000-origin chunk against 38k and 0.38 s in
#: process. Large thresholds keep such arrays in the reused heap. Set the same variables for
#: remote workers (``MALLOC_TRIM_THRESHOLD_=268435456 MALLOC_MMAP_THRESHOLD_=268435456 dask
#: worker ...``). Each worker is one thread (``threads_per_worker=1``); BLAS and OpenMP pools
#: are held to one thread too, so N workers on N cores never oversubscribe them.
WORKER_ENV = {
    "MALLOC_TRIM_THRESHOLD_": str(256 * 2**20),
    "MALLOC_MMAP_THRESHOLD_": str(256 * 2**20),
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def digest(*parts: object) -> str:
    """A SHA-256 hex digest of arrays, strings and numbers (a job's or a network's key)."""
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, np.ndarray):
            a = np.ascontiguousarray(p)
            h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(a.tobytes())
        else:
            h.update(json.dumps(p, sort_keys=True, default=str).encode())
        h.update(b"\x00")
    return h.hexdigest()


@contextlib.contextmanager
def connect(
    client: Client | str | None = None, *, workers: int | None = None
) -> Iterator[Client | None]:
    """A Dask client for the duration of a block, or None for an in-process run.

    Parameters
    ----------
    client
        A ``distributed.Client`` (used as is, not closed), or a scheduler address such as
        ``"tcp://10.0.0.5:8786"`` (connected for the block, then closed).
    workers
        Start a local cluster of this many single-threaded worker processes on 127.0.0.1 for
        the block (ignored when ``client`` is given).

    Raises
    ------
    InputError
        ``workers`` is not a positive whole number, or both options are given.
    DataSourceError
        The scheduler cannot be reached.
    """
    if client is not None and workers is not None:
        raise InputError("give either a scheduler (client) or a number of local workers, not both")
    if client is None and workers is None:
        yield None
        return
    from distributed import Client as _Client

    if isinstance(client, _Client):
        yield client
        return
    if client is not None:
        with _remote_client(str(client)) as c:
            yield c
        return
    with _local_client(_check_workers(workers)) as c:
        yield c


def _check_workers(workers: object) -> int:
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise InputError(f"workers must be a whole number >= 1, got {workers!r}")
    return int(workers)


@contextlib.contextmanager
def _remote_client(address: str) -> Iterator[Client]:
    from distributed import Client as _Client

    if "://" not in address and ":" not in address:
        raise InputError(
            f"scheduler address {address!r} has no port: give it as tcp://HOST:PORT (a Dask "
            "scheduler prints it when it starts)"
        )
    try:
        c = _Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataSourceError(
            f"cannot reach the Dask scheduler at {address!r} ({first}); start one with "
            "'dask scheduler' and workers with 'dask worker ADDRESS', or use local workers"
        ) from None
    try:
        yield c
    finally:
        c.close()  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def _local_client(n: int) -> Iterator[Client]:
    import dask
    from distributed import Client as _Client
    from distributed import LocalCluster

    pre_spawn = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
    # the nannies read this when created (and reuse it when a worker restarts)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": pre_spawn | WORKER_ENV}):
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # no fixed 8787: another cluster may hold it
            silence_logs=logging.ERROR,
        )
    try:
        c = _Client(cluster, set_as_default=False)  # type: ignore[no-untyped-call]
        try:
            yield c
        finally:
            c.close()  # type: ignore[no-untyped-call]
    finally:
        cluster.close()


def _worker_plugin_class() -> type:
    from distributed.diagnostics.plugin import WorkerPlugin

    class _Shared(WorkerPlugin):  # type: ignore[misc]
        """Holds one object on every worker (also on workers that join or restart later)."""

        def __init__(self, key: str, obj: object) -> None:
            self.key = key
            self.obj = obj

        def setup(self, worker: object) -> None:  # the object arrived with the plugin
            pass

    return _Shared


def share(client: Client, key: str, obj: object) -> None:
    """Send ``obj`` once to every worker of ``client`` (and to workers that join or restart
    later) under ``key``; a key already sent through this client is not sent again."""
    sent = _SENT.setdefault(str(client.id), set())
    if key in sent:
        return
    client.register_plugin(_worker_plugin_class()(key, obj), name=f"cztgeo-{key}")
    sent.add(key)


def unshare(client: Client, key: str) -> None:
    """Drop what :func:`share` sent under ``key`` from the workers."""
    sent = _SENT.get(str(client.id), set())
    if key in sent:
        with contextlib.suppress(Exception):  # a worker may be gone already
            client.unregister_worker_plugin(f"cztgeo-{key}")  # type: ignore[no-untyped-call]
        sent.discard(key)


def _on_worker(key: str, func: Callable[[object, object], object], chunk: object) -> object:
    """Run ``func`` on the object shared under ``key`` in this worker process."""
    from distributed import get_worker

    try:
        shared = get_worker().plugins[f"cztgeo-{key}"].obj  # type: ignore[attr-defined]
    except (KeyError, AttributeError):  # pragma: no cover - plugins are set up before tasks
        raise DataSourceError(f"worker has no shared data {key!r}") from None
    return func(shared, chunk)


def run_chunks(
    func: Callable[[T, C], R],
    shared: T,
    chunks: Sequence[C],
    *,
    client: Client | None = None,
    key: str,
    skip: set[int] | frozenset[int] = frozenset(),
    on_result: Callable[[int, R], None],
    keep_shared: bool = False,
) -> None:
    """Run ``func(shared, chunk)`` for every chunk not in ``skip``; ``on_result(i, result)``
    is called in this process as each chunk finishes (in completion order with Dask).

    Without a client the chunks run here, in order. With one, ``shared`` is sent once to each
    worker (:func:`share`), each chunk becomes one task named after ``key`` and its index, and
    results are fetched one at a time, so memory here holds one chunk's result at a time.
    A worker that dies has its chunks recomputed elsewhere by the scheduler. ``shared`` is
    dropped from the workers at the end unless ``keep_shared``.
    """
    todo = [i for i in range(len(chunks)) if i not in skip]
    if client is None:
        for i in todo:
            on_result(i, func(shared, chunks[i]))
        return
    from distributed import as_completed

    share(client, key, shared)
    try:
        futures = {
            client.submit(
                _on_worker, key, func, chunks[i], key=f"cztgeo-{key[:16]}-{i}", pure=False
            ): i
            for i in todo
        }
        for fut in as_completed(list(futures), loop=client.loop):  # type: ignore[no-untyped-call]
            i = futures.pop(fut)
            on_result(i, fut.result())
            fut.release()
    finally:
        if not keep_shared:
            unshare(client, key)


# ---------------------------------------------------------------- resumable chunk store


@dataclass
class ChunkStore(Generic[T]):
    """Chunks of one job written as they finish, so a rerun skips what is done.

    The store is a hidden folder beside the final output,
    ``.<name>.partial-<key16>/part-<i>.parquet``; each part is written atomically, so a part
    file is complete or absent. The key covers the inputs and options, so a rerun with other
    inputs starts afresh (and removes stores of other keys for the same output).

    Attributes
    ----------
    folder
        The store folder.
    n_chunks
        Number of chunks of the job.
    """

    folder: Path
    n_chunks: int

    @classmethod
    def open(cls, out: str | os.PathLike[str], key: str, n_chunks: int) -> ChunkStore[T]:
        final = Path(os.path.abspath(os.fspath(out)))
        prefix = f".{final.name}.partial-"
        folder = final.parent / f"{prefix}{key[:16]}"
        final.parent.mkdir(parents=True, exist_ok=True)
        for other in final.parent.glob(f"{prefix}*"):
            if other != folder and other.is_dir():
                shutil.rmtree(other, ignore_errors=True)
        folder.mkdir(exist_ok=True)
        meta = folder / "job.json"
        if not meta.exists():
            meta.write_text(json.dumps({"key": key, "n_chunks": n_chunks}), encoding="utf-8")
        return cls(folder, n_chunks)

    def path(self, i: int) -> Path:
        return self.folder / f"part-{i:05d}.parquet"

    def done(self) -> set[int]:
        """Indices of the chunks already written."""
        return {i for i in range(self.n_chunks) if self.path(i).exists()}

    def write(self, i: int, frame: pd.DataFrame) -> None:
        """Write chunk ``i`` (a GeoDataFrame or DataFrame) atomically."""
        from .outputs import atomic_path

        with atomic_path(self.path(i)) as tmp:
            frame.to_parquet(tmp)

    def parts(self) -> list[Path]:
        return [self.path(i) for i in range(self.n_chunks)]

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link ``src`` to ``dst`` (same file system: instant), else copy it."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


# ---------------------------------------------------------------- many origins, one matrix


def _network_key(net: Network) -> str:
    if "digest" not in net._derived:
        net._derived["digest"] = "net-" + digest(
            net.indptr, net.head, net.time_s, net.length_m, net.lon, net.lat, net.crs
        )
    return str(net._derived["digest"])


def _warm_network(key: str, dask_worker: object = None) -> int:
    """On a worker (``Client.run`` passes ``dask_worker``): build the lazy snapping index of the
    network shared under ``key`` (once per worker, before any chunk, so no chunk pays it)."""
    from .routing import snap_points

    net = dask_worker.plugins[f"cztgeo-{key}"].obj  # type: ignore[attr-defined]
    snap_points(net, np.column_stack([net.lon[:1], net.lat[:1]]), max_snap_m=1e12)
    return int(net.n_nodes)


def _matrix_rows(net: Network, task: tuple[NDArray[np.float64], NDArray[np.float64],
                                           dict[str, float | None]]) -> NDArray[np.float64]:  # fmt: skip
    from .routing import travel_time_matrix

    origins, destinations, kw = task
    return np.asarray(travel_time_matrix(net, origins, destinations, **kw).to_numpy())  # type: ignore[arg-type]


def parallel_matrix(
    net: Network,
    origins: PointsLike,
    destinations: PointsLike | None,
    *,
    client: Client | str | None,
    workers: int | None,
    max_minutes: float | None,
    max_snap_m: float,
    access_kmh: float,
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """:func:`cztgeo.routing.travel_time_matrix` with the origins split across Dask workers
    (the network sent once per worker and kept there for later calls on the same client).
    Every row is computed by the serial code, so the result is identical."""
    import dataclasses

    from .routing import _limit, as_lonlat, point_ids, snap_points

    _limit(max_minutes)
    o_ll = as_lonlat(origins)
    d_ll = o_ll if destinations is None else as_lonlat(destinations)
    snap_points(net, o_ll, max_snap_m=max_snap_m)  # refuse far points here, as the serial call
    if destinations is not None:
        snap_points(net, d_ll, max_snap_m=max_snap_m)
    kw = {"max_minutes": max_minutes, "max_snap_m": max_snap_m, "access_kmh": access_kmh}
    key = _network_key(net)
    out = np.empty((len(o_ll), len(d_ll)))
    with connect(client, workers=workers) as c:
        n_workers = max(1, len(c.scheduler_info()["workers"])) if c is not None else 1  # type: ignore[no-untyped-call]
        size = chunk_size or max(1, math.ceil(len(o_ll) / (8 * n_workers)))
        bounds = [(s, min(s + size, len(o_ll))) for s in range(0, len(o_ll), size)]
        chunks = [(o_ll[s:e], d_ll, kw) for s, e in bounds]

        def put(i: int, rows: NDArray[np.float64]) -> None:
            out[bounds[i][0] : bounds[i][1]] = rows

        # a copy without the lazy caches (_derived, init=False, starts empty) goes to the workers
        # once; each builds its snapping index at once, in parallel, before any chunk
        shared = dataclasses.replace(net) if c is not None else net
        if c is not None:
            share(c, key, shared)
            c.run(_warm_network, key)
        run_chunks(_matrix_rows, shared, chunks, client=c, key=key, on_result=put,
                   keep_shared=True)  # fmt: skip
    o_ids = point_ids(origins, len(o_ll))
    d_ids = o_ids if destinations is None else point_ids(destinations, len(d_ll))
    return pd.DataFrame(
        out, index=pd.Index(o_ids, name="from_id"), columns=pd.Index(d_ids, name="to_id")
    )


# ---------------------------------------------------------------- encroachment at scale


@dataclass
class EncroachmentRun:
    """What :func:`encroachment_parquet` wrote.

    Attributes
    ----------
    folder
        The output folder: ``encroachment.json`` (counts, notes) and ``parts/``.
    parts
        The partitioned result: ``part-NNNNN.parquet`` per input partition with findings (the
        columns of :func:`cztgeo.encroachment`); read it with ``geopandas.read_parquet``.
    n_partitions
        Input partitions.
    n_pruned
        Partitions skipped because their extent lies farther than ``tolerance_m`` from every
        zone (they cannot have a finding).
    n_rows
        Rows written.
    notes
        Warnings raised while checking partitions (repairs, the GCJ-02 guard).
    """

    folder: Path
    parts: Path
    n_partitions: int
    n_pruned: int
    n_rows: int
    notes: list[str]


def _encroach_part(
    gh: gpd.GeoDataFrame, task: tuple[gpd.GeoDataFrame, str, dict[str, object]]
) -> tuple[int, list[str]]:
    """Encroachment of one partition, written to ``path`` (nothing for no findings)."""
    import warnings

    from .encroachment import encroachment

    part, path, kw = task
    if len(part) == 0:
        return 0, []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = encroachment(part, gh, guard=False, **kw)  # type: ignore[arg-type]
    if len(res):
        res.to_parquet(path)
    return len(res), [str(w.message) for w in caught]


def _read_partitioned(
    features: str | os.PathLike[str] | dgpd.GeoDataFrame,
) -> dgpd.GeoDataFrame:
    import dask_geopandas

    if not isinstance(features, (str, os.PathLike)):
        return features
    p = Path(features)
    if not p.exists():
        raise InputError(f"features not found: {str(p)!r}")
    try:
        return dask_geopandas.read_parquet(p)
    except Exception as exc:  # pyarrow / dask errors: one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{p.name}: cannot read it as (partitioned) GeoParquet ({first})") from exc


def _reach_of(gh: gpd.GeoDataFrame, tolerance_m: float, crs: object) -> object:
    """The zones grown by ``tolerance_m`` (plus 1 m for rounding), in ``crs``."""
    import shapely

    from .crs import METRIC_CRS

    grown = shapely.union_all(gh.to_crs(METRIC_CRS).geometry.values).buffer(tolerance_m + 1.0)
    return gpd.GeoSeries([grown], crs=METRIC_CRS).to_crs(crs).iloc[0]


def encroachment_parquet(
    features: str | os.PathLike[str] | dgpd.GeoDataFrame,
    out_dir: str | os.PathLike[str],
    green_heart: gpd.GeoDataFrame | None = None,
    *,
    client: Client | str | None = None,
    workers: int | None = None,
    id_column: str | None = None,
    zones: list[str] | None = None,
    tolerance_m: float = 200.0,
    min_area_m2: float = 1.0,
    include_outside: bool = False,
    guard: bool = True,
) -> EncroachmentRun:
    """:func:`cztgeo.encroachment` of a partitioned GeoParquet dataset, partition by
    partition on Dask, into a partitioned result.

    ``features`` is a GeoParquet file or folder of parts (as ``dask_geopandas`` writes them;
    spatially partitioned data, e.g. after ``spatial_shuffle()``, prunes best) or a
    ``dask_geopandas.GeoDataFrame``, with a CRS. Partitions whose extent lies farther than
    ``tolerance_m`` from every zone are skipped (they cannot touch or near one) unless
    ``include_outside``. Each other partition is checked by the one-machine function, so the
    union of the parts equals ``encroachment(all features)`` row for row. The GCJ-02 guard runs
    once, on the first partition. Workers write the parts, so with a remote cluster
    ``out_dir`` must be on storage every worker can reach.

    Raises
    ------
    InputError, CRSError
        Unreadable input, no CRS, bad options; nothing is written.
    DataSourceError
        An unreachable scheduler.
    """
    import json
    import warnings

    from dask.base import compute
    from dask.delayed import delayed

    from .crs import to_wgs84
    from .encroachment import gcj_guard
    from .errors import CRSError, EncroachmentWarning
    from .greenheart import load_green_heart
    from .io import check_number
    from .outputs import Outputs

    check_number("tolerance_m", tolerance_m, strict=False)
    check_number("min_area_m2", min_area_m2, strict=False)
    ddf = _read_partitioned(features)
    if ddf.crs is None:
        raise CRSError("the features have no CRS: write the GeoParquet with one")
    gh = green_heart if green_heart is not None else load_green_heart()
    kw: dict[str, object] = {"id_column": id_column, "zones": zones, "tolerance_m": tolerance_m,
                             "min_area_m2": min_area_m2, "include_outside": include_outside}  # fmt: skip
    keep = list(range(ddf.npartitions))
    if not include_outside:
        if ddf.spatial_partitions is None:
            ddf.calculate_spatial_partitions()
        hulls = ddf.spatial_partitions
        keep = [
            int(i) for i in np.flatnonzero(hulls.intersects(_reach_of(gh, tolerance_m, ddf.crs)))
        ]
    notes: list[str] = []
    if guard and ddf.crs.is_geographic and ddf.npartitions:
        first = ddf.partitions[0].compute()
        res = gcj_guard(to_wgs84(first)) if len(first) else None
        if res is not None and (res.suspect or (not res.checked and res.message)):
            warnings.warn(res.message, EncroachmentWarning, stacklevel=2)
            notes.append(res.message)
    parts = ddf.to_delayed()
    with connect(client, workers=workers) as c, Outputs("cztgeo encroachment") as tx:
        stage = tx.folder(out_dir)
        (stage / "parts").mkdir()
        gh_task = delayed(gh, traverse=False)
        tasks = [
            delayed(_encroach_part)(
                gh_task, (parts[i], str(stage / "parts" / f"part-{i:05d}.parquet"), kw)
            )
            for i in keep
        ]
        results = c.compute(tasks, sync=True) if c is not None else compute(*tasks)  # type: ignore[no-untyped-call]
        n_rows = sum(int(r[0]) for r in results)
        notes += [m for r in results for m in r[1]]
        meta = {"n_partitions": ddf.npartitions, "n_pruned": ddf.npartitions - len(keep),
                "n_rows": n_rows, "notes": notes}  # fmt: skip
        (stage / "encroachment.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2))
    return EncroachmentRun(Path(out_dir), Path(out_dir) / "parts", ddf.npartitions, ddf.npartitions - len(keep), n_rows,
                           notes)  # fmt: skip
