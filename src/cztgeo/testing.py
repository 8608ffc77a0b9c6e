"""Testing helpers: clearly SYNTHETIC networks for tests and scale benchmarks (never real
roads), with exact answers (a grid of equal arcs: times are Manhattan distances / speed)."""

from __future__ import annotations

import numpy as np
import pyproj

from .network import Network, build_network

__all__ = ["grid_lonlat", "synthetic_grid"]

SYNTHETIC_ORIGIN = (113.0, 28.0)  # placed in UTM 49N around this point; labelled synthetic


def synthetic_grid(
    n: int = 21,
    spacing_m: float = 100.0,
    *,
    speed_kmh: float = 36.0,
    hierarchy: bool = False,
    hole_radius_m: float = 0.0,
    hole_centre: tuple[float, float] | None = None,
    jitter_m: float = 0.0,
    seed: int = 0,
) -> Network:
    """A SYNTHETIC square grid road network of ``n`` x ``n`` nodes.

    Parameters
    ----------
    n, spacing_m
        Grid size and edge length. Node (i, j) sits at (i * spacing, j * spacing) metres from
        the south-west corner (node index ``j * n + i``), in UTM 49N around 113°E 28°N.
    speed_kmh
        Speed of every edge (36 km/h = 10 m/s: a 100 m edge takes exactly 10 s).
    hierarchy
        Road classes as in a city: every 5th line ``secondary`` at 2x speed, every 20th
        ``primary`` at 3x, the rest ``residential``.
    hole_radius_m, hole_centre
        Remove every node inside this disc (metres from the south-west corner): a road-free
        area such as the green heart. Default centre: the grid's centre.
    jitter_m
        Random displacement of nodes (lengths follow), for road-like irregularity.
    """
    gi, gj = np.meshgrid(np.arange(n), np.arange(n))
    ii, jj = gi.ravel(), gj.ravel()
    rng = np.random.default_rng(seed)
    x = ii * spacing_m + (rng.uniform(-jitter_m, jitter_m, ii.size) if jitter_m else 0.0)
    y = jj * spacing_m + (rng.uniform(-jitter_m, jitter_m, ii.size) if jitter_m else 0.0)
    idx = np.arange(n * n).reshape(n, n)  # [j, i]
    h_u, h_v = idx[:, :-1].ravel(), idx[:, 1:].ravel()  # east-west edges along row j
    v_u, v_v = idx[:-1, :].ravel(), idx[1:, :].ravel()  # north-south edges along column i
    u = np.concatenate([h_u, v_u])
    v = np.concatenate([h_v, v_v])
    line = np.concatenate([jj[h_u], ii[v_u]])  # the row/column each edge runs along
    if hierarchy:
        kind = np.where(line % 20 == 0, 2, np.where(line % 5 == 0, 1, 0)).astype(np.int16)
        factor = np.array([1.0, 2.0, 3.0])[kind]
    else:
        kind = np.zeros(u.size, dtype=np.int16)
        factor = np.ones(u.size)
    if hole_radius_m > 0:
        cx, cy = hole_centre or ((n - 1) * spacing_m / 2, (n - 1) * spacing_m / 2)
        inside = np.hypot(x - cx, y - cy) < hole_radius_m
        keep = ~(inside[u] | inside[v])
        u, v, kind, factor = u[keep], v[keep], kind[keep], factor[keep]
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    time = length / (speed_kmh * factor / 3.6)
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32649", always_xy=True)
    x0, y0 = to_utm.transform(*SYNTHETIC_ORIGIN)
    to_wgs = pyproj.Transformer.from_crs("EPSG:32649", "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform(x + x0, y + y0)
    return build_network(
        np.asarray(lon),
        np.asarray(lat),
        np.arange(n * n, dtype=np.int64),
        np.concatenate([u, v]),
        np.concatenate([v, u]),
        np.concatenate([time, time]),
        np.concatenate([length, length]),
        np.concatenate([kind, kind]),
        ("residential", "secondary", "primary"),
        mode="drive",
        source=f"SYNTHETIC grid {n}x{n} @ {spacing_m:g} m",
        crs="EPSG:32649",
    )


def grid_lonlat(i: float, j: float, spacing_m: float = 100.0) -> tuple[float, float]:
    """WGS84 position of grid coordinates (i, j) of :func:`synthetic_grid`."""
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32649", always_xy=True)
    x0, y0 = to_utm.transform(*SYNTHETIC_ORIGIN)
    to_wgs = pyproj.Transformer.from_crs("EPSG:32649", "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform(x0 + i * spacing_m, y0 + j * spacing_m)
    return float(lon), float(lat)
