"""Local-street isochrones on the embedded coarse skeleton (``local_kmh``), against a peer.

For the three centres of the commute-circle job (Changsha, Zhuzhou, Xiangtan) it times
``isochrones(net, centre, minutes=[30])`` and ``minutes=[15, 30]`` with the default local streets
(20 km/h, detour 1.3), and the exact peer: the union over reached pieces of the convex hull of
each piece's two end discs (radius (T - t) v, 64-gon circles) plus the disc around the centre,
written here with shapely and the routing times only. Prints a Markdown table with medians,
the peer / cztgeo ratio and the IoU of the two polygons.

Usage: ``python benchmarks/bench_local_isochrones.py [--repeat 7]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely

from cztgeo.circle import DEFAULT_CENTRES
from cztgeo.crs import WGS84, reproject_geometry
from cztgeo.isochrones import LOCAL_DETOUR, LOCAL_KMH, isochrones
from cztgeo.network import load_network
from cztgeo.routing import project, snap_points, travel_times


def timed(func: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def exact_peer(net: Any, origin: tuple[float, float], minutes: float) -> shapely.Geometry:
    """The exact local-street reach as a union of convex hulls of end discs (see above)."""
    v = LOCAL_KMH / LOCAL_DETOUR / 3.6
    T = minutes * 60.0
    node_t = travel_times(net, origin) * 60.0
    tail = np.repeat(np.arange(net.n_nodes), np.diff(net.indptr))
    x0, y0, x1, y1 = net.x[tail], net.y[tail], net.x[net.head], net.y[net.head]
    ta, dt = node_t[tail], net.time_s
    sn = snap_points(net, origin)
    walk = sn.distance_m[0] / (4.5 / 3.6)
    arc = sn.arc[0]
    extra = [(net.head[arc], (1 - sn.frac[0]) * net.time_s[arc])]
    back = np.flatnonzero((tail == net.head[arc]) & (net.head == tail[arc]))
    if back.size:
        extra.append((tail[arc], sn.frac[0] * net.time_s[back[0]]))
    for node, d in extra:
        x0, y0 = np.r_[x0, sn.x[0]], np.r_[y0, sn.y[0]]
        x1, y1 = np.r_[x1, net.x[node]], np.r_[y1, net.y[node]]
        ta, dt = np.r_[ta, walk], np.r_[dt, d]
    ok = ta <= T
    x0, y0, x1, y1, ta, dt = x0[ok], y0[ok], x1[ok], y1[ok], ta[ok], dt[ok]
    f = np.minimum(1.0, (T - ta) / np.maximum(dt, 1e-12))
    bx, by, tb = x0 + f * (x1 - x0), y0 + f * (y1 - y0), ta + f * dt
    ang = np.linspace(0.0, 2.0 * np.pi, 64, endpoint=False)
    c, s = np.cos(ang), np.sin(ang)
    ra, rb = ((T - ta) * v)[:, None], ((T - tb) * v)[:, None]
    pa = np.stack([x0[:, None] + ra * c, y0[:, None] + ra * s], axis=-1)
    pb = np.stack([bx[:, None] + rb * c, by[:, None] + rb * s], axis=-1)
    hulls = shapely.convex_hull(shapely.multipoints(np.concatenate([pa, pb], axis=1)))
    ox, oy = project(net, np.array([origin]))
    disc = shapely.Point(ox[0], oy[0]).buffer(T * v, quad_segs=16)
    return shapely.union_all(np.r_[hulls, [disc]])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    net = load_network()
    print(f"network: {net!r}\n")
    print("| centre | minutes | cztgeo s | exact peer s | peer / cztgeo | IoU | cztgeo km² |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for centre in DEFAULT_CENTRES:
        origin = (centre.lon, centre.lat)
        for minutes in ([30.0], [15.0, 30.0]):
            t_ours, iso = timed(
                lambda o=origin, m=minutes: isochrones(net, o, minutes=m), args.repeat
            )
            metric = reproject_geometry(iso.geometry.to_numpy(), WGS84, net.crs)
            t_peer = 0.0
            ious = []
            for m, g in zip(minutes, metric, strict=True):
                tp, ref = timed(lambda o=origin, m=m: exact_peer(net, o, m), args.repeat)
                t_peer += tp
                ious.append(float(g.intersection(ref).area / g.union(ref).area))
            label = ", ".join(f"{m:g}" for m in minutes)
            print(
                f"| {centre.name_en} | {label} | {t_ours:.3f} | {t_peer:.3f} | "
                f"{t_peer / t_ours:.1f} | {', '.join(f'{x:.4f}' for x in ious)} | "
                f"{', '.join(f'{a:,.0f}' for a in iso['area_km2'])} |"
            )


if __name__ == "__main__":
    main()
