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
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np
import pandas as pd

from .errors import DataSourceError, InputError

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "ChunkStore",
    "ClientLike",
    "connect",
    "digest",
    "run_chunks",
    "share",
]

log = logging.getLogger(__name__)

#: What a ``client=`` option takes: a ``distributed.Client``, or a scheduler address.
ClientLike = "Client | str"

T = TypeVar("T")
C = TypeVar("C")
R = TypeVar("R")

#: Keys already sent to the workers of a client (client id -> keys), to send each once.
_SENT: dict[str, set[str]] = {}

CONNECT_TIMEOUT_S = 10.0


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
    from distributed import Client as _Client
    from distributed import LocalCluster

    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
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
