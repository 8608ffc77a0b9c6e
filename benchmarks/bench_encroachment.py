"""Encroachment benchmark: SYNTHETIC building-sized polygons around the green-heart sketch.

Measures cztgeo.encroachment against the naive ``geopandas.overlay(how="intersection")`` on the
same data in the same run, checks that both find the same overlap area, and prints one table.

Usage: ``python benchmarks/bench_encroachment.py [--n 1000000]``
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import shapely

from cztgeo.crs import METRIC_CRS
from cztgeo.encroachment import encroachment
from cztgeo.greenheart import load_green_heart


def buildings(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """n rotated rectangles of 8-40 m a side scattered over the sketch's bbox + 5 km."""
    gh = load_green_heart().to_crs(METRIC_CRS)
    minx, miny, maxx, maxy = gh.total_bounds
    rng = np.random.default_rng(seed)
    cx = rng.uniform(minx - 5000, maxx + 5000, n)
    cy = rng.uniform(miny - 5000, maxy + 5000, n)
    w = rng.uniform(8, 40, n) / 2
    h = rng.uniform(8, 40, n) / 2
    a = rng.uniform(0, np.pi, n)
    c, s = np.cos(a), np.sin(a)
    corners = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)], dtype=float)
    xs = (
        cx[:, None]
        + corners[:, 0] * w[:, None] * c[:, None]
        - corners[:, 1] * h[:, None] * s[:, None]
    )
    ys = (
        cy[:, None]
        + corners[:, 0] * w[:, None] * s[:, None]
        + corners[:, 1] * h[:, None] * c[:, None]
    )
    polys = shapely.polygons(np.stack([xs, ys], axis=-1))
    return gpd.GeoDataFrame({"id": np.arange(n)}, geometry=polys, crs=METRIC_CRS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1_000_000)
    args = ap.parse_args()
    gh = load_green_heart()
    feats = buildings(args.n)
    print(f"{len(feats):,} SYNTHETIC buildings in {METRIC_CRS}")

    t = time.perf_counter()
    ours = encroachment(feats, gh, guard=False)
    ours_s = time.perf_counter() - t

    t = time.perf_counter()
    peer = gpd.overlay(feats, gh.to_crs(METRIC_CRS), how="intersection", keep_geom_type=True)
    peer_area = peer.geometry.area.sum()
    peer_s = time.perf_counter() - t

    ours_area = ours["overlap_area_m2"].sum()
    print()
    print("| measure | seconds | peer / cztgeo |")
    print("|---|---:|---:|")
    print(
        f"| cztgeo.encroachment ({args.n:,} polygons, zones + near band + shares) | {ours_s:.2f} | |"
    )
    print(
        f"| geopandas.overlay intersection (areas only) | {peer_s:.2f} | {peer_s / ours_s:.1f}x |"
    )
    print()
    counts = ours["status"].value_counts().to_dict()
    print(f"rows: {len(ours):,} {counts}")
    print(f"overlap area: cztgeo {ours_area / 1e6:.4f} km², overlay {peer_area / 1e6:.4f} km², "
          f"relative difference {abs(ours_area - peer_area) / peer_area:.2e}")  # fmt: skip
    print(f"features overlapping: cztgeo {ours[ours['status'] != 'near']['id'].nunique():,}, "
          f"overlay {peer['id'].nunique():,}")  # fmt: skip


if __name__ == "__main__":
    main()
