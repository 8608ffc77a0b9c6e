"""Dask scale-out: a two-worker LocalCluster (processes, 127.0.0.1 only) gives the in-process
results; a killed worker's chunks are recomputed; an interrupted job resumes without
recomputing finished chunks; an unreachable scheduler is one line and writes nothing."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pytest_socket import socket_allow_hosts

from cztgeo import encroachment, load_green_heart
from cztgeo.accessibility import accessibility, write_accessibility
from cztgeo.circle import Centre
from cztgeo.errors import DataSourceError, InputError
from cztgeo.parallel import encroachment_parquet
from cztgeo.routing import travel_time_matrix
from cztgeo.testing import grid_lonlat, synthetic_grid

# sockets for the cluster, and connections to 127.0.0.1 only
# a scheduler finding its usual HTTP port taken by another cluster on the same machine says so
# and takes another port: an environment note, not a failure of the code under test
pytestmark = [
    pytest.mark.enable_socket,
    pytest.mark.filterwarnings("ignore:Port 8787 is already in use:UserWarning"),
    # ... and leaves the probe socket of the taken port to the garbage collector
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
    ),
]


@pytest.fixture(autouse=True)
def _loopback_only() -> None:
    socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)


@pytest.fixture(scope="module")
def client():
    from cztgeo.parallel import connect

    socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    with connect(workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def job():
    net = synthetic_grid(60, 100.0, hierarchy=True, jitter_m=15.0, seed=7)
    rng = np.random.default_rng(11)
    area = gpd.GeoDataFrame(
        geometry=[shapely.box(*grid_lonlat(1, 1), *grid_lonlat(58, 58))], crs="EPSG:4326"
    )
    d = np.array([grid_lonlat(*rng.uniform(0, 59, 2)) for _ in range(400)])
    opp = gpd.GeoDataFrame(
        {"population": rng.integers(1, 100, len(d))},
        geometry=gpd.points_from_xy(d[:, 0], d[:, 1]),
        crs="EPSG:4326",
    )
    centres = [
        Centre("a", "A", *grid_lonlat(10, 12), "synthetic"),
        Centre("b", "B", *grid_lonlat(45.5, 40.2), "synthetic"),
    ]
    kw = {"area": area, "cell_m": 150.0, "opportunities": opp, "to": centres,
          "minutes": [1, 2, 3], "chunk_size": 100}  # fmt: skip
    return net, kw


def _frame(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    out = pd.DataFrame(gdf.drop(columns="geometry"))
    out["wkb"] = gdf.geometry.to_wkb()
    return out


def test_cluster_equals_in_process(client, job) -> None:
    net, kw = job
    local = accessibility(net, **kw)
    remote = accessibility(net, client=client, **kw)
    assert len(local) > 1000
    pd.testing.assert_frame_equal(_frame(remote), _frame(local))


def test_matrix_on_workers_is_identical(client, job) -> None:
    net, _ = job
    rng = np.random.default_rng(3)
    o = np.array([grid_lonlat(*rng.uniform(0, 59, 2)) for _ in range(60)])
    d = np.array([grid_lonlat(*rng.uniform(0, 59, 2)) for _ in range(45)])
    serial = travel_time_matrix(net, o, d, max_minutes=3.0)
    spread = travel_time_matrix(net, o, d, max_minutes=3.0, client=client)
    pd.testing.assert_frame_equal(spread, serial)
    assert np.isfinite(serial.to_numpy()).any() and np.isinf(serial.to_numpy()).any()


def _buildings(n: int, seed: int) -> gpd.GeoDataFrame:
    """Squares of 40-120 m around the green heart sketch: inside, across, near and far."""
    gh = load_green_heart().to_crs(32649)
    minx, miny, maxx, maxy = gh.total_bounds
    rng = np.random.default_rng(seed)
    x = rng.uniform(minx - 20_000, maxx + 60_000, n)
    y = rng.uniform(miny - 20_000, maxy + 20_000, n)
    s = rng.uniform(40, 120, n)
    geoms = shapely.box(x - s / 2, y - s / 2, x + s / 2, y + s / 2)
    return gpd.GeoDataFrame({"id": np.arange(n)}, geometry=geoms, crs=32649).to_crs(4326)


def test_partitioned_encroachment_equals_one_machine(client, tmp_path: Path) -> None:
    feats = _buildings(6000, seed=4)
    # spatially partitioned GeoParquet: parts of consecutive Hilbert distance (as
    # dask_geopandas' spatial_shuffle makes them), one file per part
    order = np.argsort(feats.geometry.hilbert_distance().to_numpy(), kind="stable")
    src = tmp_path / "buildings"
    src.mkdir()
    for i, idx in enumerate(np.array_split(order, 8)):
        feats.iloc[idx].to_parquet(src / f"part.{i}.parquet")
    run = encroachment_parquet(src, tmp_path / "out", client=client, guard=False)
    whole = encroachment(feats, guard=False)
    got = gpd.read_parquet(run.parts)
    assert run.n_rows == len(whole) == len(got) > 50
    assert run.n_pruned >= 1  # partitions far from every zone were never read by a worker
    key = ["id", "zone", "status"]
    got = got.sort_values(key).reset_index(drop=True)
    whole = whole.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(_frame(got), _frame(whole))
    assert set(whole["status"]) >= {"inside", "partly", "near"}


def test_interrupted_job_resumes_without_recomputing(job, tmp_path: Path) -> None:
    net, kw = job
    out = tmp_path / "acc"

    class StopError(Exception):
        pass

    def stop_after_three(i: int) -> None:
        if i == 2:
            raise StopError

    with pytest.raises(StopError):
        write_accessibility(out, net, on_chunk=stop_after_three, **kw)
    assert not out.exists()
    (store,) = tmp_path.glob(".acc.partial-*")
    done = {p.name: p.stat() for p in store.glob("part-*.parquet")}
    assert sorted(done) == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    run = write_accessibility(out, net, **kw)
    assert run.reused == [0, 1, 2]
    assert run.computed == list(range(3, run.n_chunks))
    for name, st in done.items():  # the very files of the first run (hard-linked into place)
        now = (out / "cells" / name).stat()
        assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns)
    assert not store.exists()
    pd.testing.assert_frame_equal(
        _frame(gpd.read_parquet(run.cells)), _frame(accessibility(net, **kw))
    )


def test_unreachable_scheduler_is_one_line(job, tmp_path: Path, monkeypatch) -> None:
    import socket

    from cztgeo import parallel

    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT_S", 1.0)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    net, kw = job
    out = tmp_path / "acc"
    with pytest.raises(DataSourceError, match="cannot reach the Dask scheduler") as err:
        write_accessibility(out, net, client=f"tcp://127.0.0.1:{port}", **kw)
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError, match="whole number"):
        accessibility(net, workers=0, **kw)


def test_killed_worker_still_completes(client, job, tmp_path: Path) -> None:
    net, kw = job
    before = client.run(os.getpid)
    killed: list[int] = []
    written: list[int] = []

    def kill_one(i: int) -> None:
        written.append(i)
        if not killed:
            pid = next(iter(before.values()))
            os.kill(pid, signal.SIGKILL)  # a worker process this test's cluster started
            killed.append(pid)

    run = write_accessibility(tmp_path / "acc", net, client=client, on_chunk=kill_one, **kw)
    assert killed and len(written) == run.n_chunks > 10
    after = client.run(os.getpid)
    assert killed[0] not in after.values()  # the nanny started a fresh worker
    expected = accessibility(net, **kw)
    pd.testing.assert_frame_equal(_frame(gpd.read_parquet(run.cells)), _frame(expected))


def test_cli_unreachable_scheduler_is_one_line_exit_2(capsys, tmp_path: Path, monkeypatch) -> None:
    import socket

    from cztgeo import parallel
    from cztgeo.cli import main

    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT_S", 1.0)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "acc"
    code = main(["--cache-dir", str(tmp_path / "cache"), "accessibility", "--out", str(out),
                 "--cell", "5000", "--scheduler", f"tcp://127.0.0.1:{port}"])  # fmt: skip
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and "cannot reach the Dask scheduler" in err, err
    assert not out.exists() and not any(p.name.startswith(".acc") for p in tmp_path.iterdir())


def _exec_environ() -> dict[str, str]:
    """The environment this process was started with (what glibc read at exec), not os.environ."""
    raw = Path(f"/proc/{os.getpid()}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(): v.decode() for k, v in pairs}


def test_local_workers_start_with_the_malloc_settings(client) -> None:
    # glibc reads MALLOC_* at exec: the variables must be in the environment a worker process
    # started with (LocalCluster's env= sets them only inside the running worker, too late)
    from cztgeo.parallel import WORKER_ENV

    started = client.run(_exec_environ)
    assert len(started) == 2
    for env in started.values():
        for k, v in WORKER_ENV.items():
            assert env.get(k) == v, (k, env.get(k))
