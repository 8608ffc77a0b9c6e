"""Load benchmark of ``cztgeo serve``: 8 concurrent clients, 1,000 isochrone requests.

Starts the server (``cztgeo.service.serve``, default network: the embedded coarse skeleton) in a
child process on 127.0.0.1, sends 1,000 ``POST /v2/isochrones/driving-car`` requests (one
30-minute drive isochrone each, ``attributes=["area"]``) from 8 client threads, and measures
throughput, latency percentiles, errors and the server's memory (RSS) before, during and after.
The peer, in the same run: the library called directly (``cztgeo.isochrones`` with the
service's options) for the same points, in one thread and in 8 threads. Every server answer is
compared with the direct one (geometry and area). The three runs alternate in blocks of 100
requests so that other load on the machine falls on all of them alike.

Points: uniform in the metro area (``load_boundaries("metro")``), kept when they lie within the
service's snapping distance of the coarse skeleton (3 km); the share kept is printed (the
others get a 400 by design: "pick a point nearer a road").

Usage: ``python benchmarks/bench_service.py [--requests 1000] [--clients 8]``
Traffic goes to 127.0.0.1 only; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import numpy as np
import psutil
import shapely

import cztgeo
from cztgeo.routing import snap_points

MINUTES = 30.0
KW = {"max_snap_m": 3000.0, "access_kmh": 20.0 / 1.3}  # the service's options on the skeleton
TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def metro_points(n: int, net: Any, seed: int = 42) -> tuple[np.ndarray, float]:
    poly = cztgeo.load_boundaries("metro").geometry.iloc[0]
    shapely.prepare(poly)
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = poly.bounds
    kept: list[np.ndarray] = []
    tried = 0
    while sum(len(k) for k in kept) < n and tried < 200 * n:
        cand = rng.uniform([x0, y0], [x1, y1], size=(4 * n, 2))
        cand = cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])]
        tried += len(cand)
        d = snap_points(net, cand, max_snap_m=1e12).distance_m
        kept.append(cand[d <= KW["max_snap_m"]])
    pts = np.concatenate(kept)
    return pts[:n], sum(len(k) for k in kept) / tried


def percentiles(lat: list[float]) -> tuple[float, float, float]:
    a = np.asarray(lat)
    return tuple(float(np.percentile(a, q)) for q in (50, 95, 99))  # type: ignore[return-value]


def direct_run(net: Any, pts: np.ndarray, threads: int) -> tuple[float, list[float], list[Any]]:
    def one(p: np.ndarray) -> tuple[float, Any]:
        t = time.perf_counter()
        g = cztgeo.isochrones(net, (float(p[0]), float(p[1])), minutes=[MINUTES], **KW)
        return time.perf_counter() - t, g

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        res = list(pool.map(one, pts))
    return time.perf_counter() - t0, [r[0] for r in res], [r[1] for r in res]


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.samples: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            self.samples.append(self.proc.memory_info().rss)


def server_run(url: str, pts: np.ndarray, clients: int) -> tuple[float, list[float], list[Any]]:
    local = threading.local()

    def one(p: np.ndarray) -> tuple[float, Any]:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=url, timeout=TIMEOUT_S)
        body = {
            "locations": [[float(p[0]), float(p[1])]],
            "range": [MINUTES * 60],
            "attributes": ["area"],
        }
        t = time.perf_counter()
        try:
            r = local.client.post("/v2/isochrones/driving-car", json=body)
            out = r.json() if r.status_code == 200 else f"HTTP {r.status_code}: {r.text[:200]}"
        except httpx.HTTPError as exc:
            out = f"{type(exc).__name__}: {exc}"
        return time.perf_counter() - t, out

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        res = list(pool.map(one, pts))
    return time.perf_counter() - t0, [r[0] for r in res], [r[1] for r in res]


def same(answer: Any, direct: Any) -> bool:
    if not isinstance(answer, dict):
        return False
    geoms = [shapely.geometry.shape(f["geometry"]) for f in answer["features"]]
    area_m2 = sum(f["properties"]["area"] for f in answer["features"])
    want = direct.geometry.iloc[0]
    diff = shapely.symmetric_difference(shapely.union_all(geoms), want).area
    return bool(diff <= 1e-9 * want.area and abs(area_m2 / 1e6 - direct["area_km2"].iloc[0]) < 1e-6)


def start_server(port: int) -> subprocess.Popen[bytes]:
    code = (
        "from cztgeo.service import serve; "
        f"serve(host='127.0.0.1', port={port}, log_level='warning')"
    )
    return subprocess.Popen([sys.executable, "-c", code], env=os.environ.copy())


def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("server not ready after 300 s")


def row(name: str, n: int, errors: int, wall: float, lat: list[float], base: float) -> str:
    p50, p95, p99 = percentiles(lat)
    rps = n / wall
    return (
        f"| {name} | {n} | {errors} | {rps:.2f} | {p50 * 1000:.0f} | {p95 * 1000:.0f} | "
        f"{p99 * 1000:.0f} | {rps / base:.2f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--block", type=int, default=100, help="requests per alternating block")
    args = ap.parse_args()

    net = cztgeo.load_network()
    pts, kept = metro_points(args.requests, net)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(port)
    # the three runs alternate block by block, so that load from other processes on the
    # machine falls on all of them alike
    walls = {"server": 0.0, "d1": 0.0, "d8": 0.0}
    lats: dict[str, list[float]] = {"server": [], "d1": [], "d8": []}
    answers: list[Any] = []
    direct: list[Any] = []
    try:
        wait_ready(url, proc)
        sampler = RssSampler(proc.pid)
        rss_before = sampler.proc.memory_info().rss
        sampler.samples.append(rss_before)
        sampler.start()
        for start in range(0, len(pts), args.block):
            block = pts[start : start + args.block]
            wall, lat, out = server_run(url, block, args.clients)
            walls["server"] += wall
            lats["server"] += lat
            answers += out
            wall, lat, out = direct_run(net, block, 1)
            walls["d1"] += wall
            lats["d1"] += lat
            direct += out
            wall, lat, _ = direct_run(net, block, args.clients)
            walls["d8"] += wall
            lats["d8"] += lat
        sampler.stop.set()
        sampler.join()
        rss_after = sampler.proc.memory_info().rss
        rss_peak = max([rss_before, rss_after, *sampler.samples])
        quarters = [sampler.samples[int(q * (len(sampler.samples) - 1))] for q in (0.25, 0.5, 0.75)]
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    s_wall, s_lat = walls["server"], lats["server"]
    d1_wall, d1_lat = walls["d1"], lats["d1"]
    d8_wall, d8_lat = walls["d8"], lats["d8"]
    errors = [a for a in answers if not isinstance(a, dict)]
    mismatched = sum(
        not same(a, d) for a, d in zip(answers, direct, strict=True) if isinstance(a, dict)
    )
    base = len(pts) / d1_wall
    print(
        f"\n{len(pts)} 30-minute drive isochrones from uniform random points in the metro area "
        f"within 3 km of the coarse skeleton ({kept:.0%} of uniform points qualify); "
        f"{os.cpu_count()} cores; server: uvicorn, {args.clients} client threads (httpx)\n"
    )
    print(
        "| run | requests | errors | throughput (req/s) | p50 (ms) | p95 (ms) | p99 (ms) | throughput / direct 1 thread |"
    )
    print("|---|---|---|---|---|---|---|---|")  # fmt: skip
    print(
        row(
            f"server, {args.clients} concurrent clients", len(pts), len(errors), s_wall, s_lat, base
        )
    )
    print(row("library direct, 1 thread", len(pts), 0, d1_wall, d1_lat, base))
    print(row(f"library direct, {args.clients} threads", len(pts), 0, d8_wall, d8_lat, base))
    mb = 1024 * 1024
    print(
        f"\nserver RSS: {rss_before / mb:.0f} MB before, {rss_peak / mb:.0f} MB peak, "
        f"{rss_after / mb:.0f} MB after ({(rss_after - rss_before) / mb:+.0f} MB over "
        f"{len(pts)} requests); at 25/50/75 % of the run: "
        + ", ".join(f"{v / mb:.0f}" for v in quarters)
        + " MB"
    )
    print(
        f"answers different from the direct library call: {mismatched} of {len(pts) - len(errors)}"
    )
    if errors:
        print("first errors:", *errors[:3], sep="\n  ")


if __name__ == "__main__":
    main()
