"""The fast paths of :func:`cztgeo.encroachment.encroachment`, each giving the answer of the
plain GEOS call it replaces: settling most features against a zone without geometry
operations, clipping against tiles of a large zone, distances through an index of its
boundary, and validity proven for simple convex polygons.

A zone is laid on a grid. The cells its boundary passes through are found by sampling the
boundary; a Euclidean distance transform from them bounds every cell's distance to the
boundary from below; cells far enough from it are wholly on one side, and one point-in-polygon
test per connected group of such cells says which. A feature whose bounding box covers only
cells wholly inside the zone is inside it; one whose box covers only cells farther than the
tolerance is not near. Everything else gets the exact GEOS predicates. The bounds are proven
in :func:`settle`; the answers are those of the exact predicates, only faster.

Hand-written because GEOS has no bulk "which of these boxes lie inside" query; the pieces are
scipy's distance transform and labelling, and shapely's prepared point-in-polygon.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely
from scipy import ndimage

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["Facts", "distance_outside", "overlaps", "proven_valid", "settle"]

#: Largest grid a zone is laid on (cells).
MAX_CELLS = 262_144
#: Below this many candidate features, every one gets the exact predicates (no grid).
MIN_FEATURES = 2_048


def _grid(zone: shapely.Geometry, pad: float, n_cells: int) -> tuple[float, float, float, int, int]:
    """Origin, cell size and shape of a grid over the zone's bounds plus ``pad``."""
    x0, y0, x1, y1 = zone.bounds
    w, h = x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
    c = max(float(np.sqrt(w * h / n_cells)), 1e-6 * max(w, h), 1e-3)
    return x0 - pad, y0 - pad, c, int(np.ceil(w / c)) + 1, int(np.ceil(h / c)) + 1


def _edge_distance(
    zone: shapely.Geometry, ox: float, oy: float, c: float, nx: int, ny: int
) -> NDArray[np.float64]:
    """Per cell, the distance from its centre to the nearest cell holding a boundary sample
    (samples every c/2 along every ring, vertices included)."""
    rings = shapely.get_rings(shapely.get_parts(zone))
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    a, b = xy[:-1][same], xy[1:][same]
    n = np.ceil(np.hypot(*(b - a).T) / (0.5 * c)).astype(np.int64) + 1
    seg = np.repeat(np.arange(n.size), n)
    t = (np.arange(seg.size) - np.repeat(np.cumsum(n) - n, n)) / np.repeat(n - 1, n)
    px = a[seg, 0] + t * (b - a)[seg, 0]
    py = a[seg, 1] + t * (b - a)[seg, 1]
    edge = np.zeros((ny, nx), dtype=bool)
    iy = np.clip(np.floor((py - oy) / c).astype(np.int64), 0, ny - 1)
    ix = np.clip(np.floor((px - ox) / c).astype(np.int64), 0, nx - 1)
    edge[iy, ix] = True
    return np.asarray(ndimage.distance_transform_edt(~edge, sampling=c), dtype=np.float64)


def _cell_classes(
    zone: shapely.Geometry, tol: float, ox: float, oy: float, c: float, nx: int, ny: int
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(interior, far) per cell: every point of the cell's closed square lies in the zone's
    interior / farther than ``tol`` from the zone.

    Every boundary point b lies within c/4 of a sample, which lies within c/sqrt(2) of its
    cell's centre; so a cell whose centre is ``e`` from the nearest sampled cell's centre is at
    least ``e - m`` from the boundary, m = c/4 + c/sqrt(2). Its square (half-diagonal
    h = c/sqrt(2)) is then clear of the boundary when ``e - m > h``, and the segment between
    the centres of two such 4-neighbours (each of its points within c/2 of an end) is clear
    too: 4-connected groups of such cells lie wholly inside or wholly outside, and one point
    of each group tells which.
    """
    e = _edge_distance(zone, ox, oy, c, nx, ny)
    h = c * np.sqrt(0.5)
    m = 0.25 * c + h + 1e-6 * c  # rounding margin on top
    clear = e > h + m
    labels, n = ndimage.label(clear)
    flat = labels.ravel()
    rep = np.zeros(n + 1, dtype=np.int64)
    rep[flat] = np.arange(flat.size)  # any cell of each group will do
    ry, rx = np.divmod(rep[1:], nx)
    group_in = np.r_[False, shapely.contains_xy(zone, ox + c * (rx + 0.5), oy + c * (ry + 0.5))]
    inside = group_in[labels]
    interior = clear & inside
    far = clear & ~inside & (e > tol + h + m)
    return interior, far


def _all_cells(
    interior: NDArray[np.bool_],
    far: NDArray[np.bool_],
    i0: NDArray[np.int32],
    i1: NDArray[np.int32],
    j0: NDArray[np.int32],
    j1: NDArray[np.int32],
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Whether every cell of each rectangle [j0..j1] x [i0..i1] is interior, and whether every
    one is far: one integral image counting the cells that are not (not interior in the low
    32 bits, not far in the high 32; each count stays below 2**32, so the two never carry into
    each other and the rectangle sums of both come out of the same four look-ups)."""
    ny, nx = interior.shape
    packed = (~interior).astype(np.int64) | ((~far).astype(np.int64) << 32)
    s = np.zeros((ny + 1, nx + 1), dtype=np.int64)
    s[1:, 1:] = packed.cumsum(axis=0).cumsum(axis=1)
    flat = s.ravel()
    w = nx + 1
    lo, hi = j0 * w, (j1 + 1) * w
    bad = flat[hi + i1 + 1] - flat[lo + i1 + 1] - flat[hi + i0] + flat[lo + i0]
    return np.asarray(bad & 0xFFFFFFFF == 0), np.asarray(bad >> 32 == 0)


def settle(
    zone: shapely.Geometry, bounds: NDArray[np.float64], tol: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Features (by their ``bounds``, metric) wholly in the zone's interior, and those whose
    relation to the zone needs the exact predicates; the rest are farther than ``tol``.

    Returns
    -------
    inside, exact
        Ascending feature indices.
    """
    pad = tol + 1.0
    x0, y0, x1, y1 = zone.bounds
    box = (
        (bounds[:, 2] >= x0 - pad)
        & (bounds[:, 0] <= x1 + pad)
        & (bounds[:, 3] >= y0 - pad)
        & (bounds[:, 1] <= y1 + pad)
    )
    cand = np.flatnonzero(box)
    if cand.size < MIN_FEATURES:
        return cand[:0], cand
    ox, oy, c, nx, ny = _grid(zone, pad, min(MAX_CELLS, max(4096, cand.size)))
    interior, far = _cell_classes(zone, tol, ox, oy, c, nx, ny)
    b = bounds[cand]
    i0 = np.floor((b[:, 0] - ox) / c).astype(np.int32)
    j0 = np.floor((b[:, 1] - oy) / c).astype(np.int32)
    i1 = np.floor((b[:, 2] - ox) / c).astype(np.int32)
    j1 = np.floor((b[:, 3] - oy) / c).astype(np.int32)
    # every box here meets the grid (pad), which spans the zone's bounds plus pad
    ci0, ci1 = np.clip(i0, 0, nx - 1), np.clip(i1, 0, nx - 1)
    cj0, cj1 = np.clip(j0, 0, ny - 1), np.clip(j1, 0, ny - 1)
    whole = (i0 == ci0) & (i1 == ci1) & (j0 == cj0) & (j1 == cj1)
    all_in, away = _all_cells(interior, far, ci0, ci1, cj0, cj1)
    inside = whole & all_in  # parts off the grid are farther than pad: away stands
    return cand[inside], cand[~inside & ~away]


def _segments(zone: shapely.Geometry) -> NDArray[np.object_]:
    """The zone's boundary as two-point LineStrings (every ring, holes included)."""
    rings = shapely.get_rings(shapely.get_parts(zone))
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    return np.asarray(shapely.linestrings(np.stack([xy[:-1][same], xy[1:][same]], axis=1)))


def distance_outside(
    zone: shapely.Geometry, geoms: NDArray[np.object_], max_m: float | None = None
) -> NDArray[np.float64]:
    """Distance from the zone to each geometry that does not intersect it: the distance to the
    nearest of its boundary segments, found in a tree of them (GEOS measures the distance to a
    polygon by visiting all its segments). With ``max_m``, geometries farther than that get
    ``inf`` (the tree stops looking there)."""
    if geoms.size == 0:
        return np.zeros(0)
    if shapely.get_num_coordinates(zone) < 64:  # a few segments: GEOS directly is faster
        # to the boundary: the same segment pairs, without GEOS's containment tests first
        d = np.asarray(shapely.distance(shapely.boundary(zone), geoms), dtype=np.float64)
        return d if max_m is None else np.where(d <= max_m, d, np.inf)
    tree = shapely.STRtree(_segments(zone))
    (i, _), d = tree.query_nearest(
        geoms, max_distance=max_m, return_distance=True, all_matches=False
    )
    out = np.full(geoms.size, np.inf)
    out[i] = d
    return out


def overlaps(zone: shapely.Geometry, geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """``shapely.intersection(geoms, zone)``, each geometry against the zone cut to the tile of
    a coarse grid that holds its bounding box (otherwise GEOS clips the whole zone, thousands
    of vertices, in every call); geometries spanning tiles use the whole zone."""
    n_vert = shapely.get_num_coordinates(zone)
    if n_vert < 256 or geoms.size < 16:
        return np.asarray(shapely.intersection(geoms, zone))
    b = shapely.bounds(geoms)
    size = float(np.max(np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])))
    x0, y0, _, _ = zone.bounds
    tile = max(shapely.length(zone) / np.sqrt(geoms.size), 8.0 * size, 1e-3)
    i0, i1 = np.floor((b[:, 0] - x0) / tile), np.floor((b[:, 2] - x0) / tile)
    j0, j1 = np.floor((b[:, 1] - y0) / tile), np.floor((b[:, 3] - y0) / tile)
    one = (i0 == i1) & (j0 == j1)
    out = np.empty(geoms.size, dtype=object)
    out[~one] = shapely.intersection(geoms[~one], zone)
    keys, tile_of = np.unique(np.column_stack([i0[one], j0[one]]), axis=0, return_inverse=True)
    boxes = shapely.box(x0 + keys[:, 0] * tile, y0 + keys[:, 1] * tile,
                        x0 + (keys[:, 0] + 1) * tile, y0 + (keys[:, 1] + 1) * tile)  # fmt: skip
    pieces = shapely.intersection(zone, boxes)
    out[one] = shapely.intersection(geoms[one], pieces[tile_of.ravel()])
    # a tile's cut moves the zone's edges by rounding (1e-10 m): negligible against an
    # overlap, not against a sliver; overlaps under a tenth of their feature are redone whole
    thin = one & (_measure(out) < 0.1 * _measure(geoms))
    out[thin] = shapely.intersection(geoms[thin], zone)
    return out


def _measure(geoms: NDArray[np.object_]) -> NDArray[np.float64]:
    """Area, or length where the area is 0 (lines), or 1 (points)."""
    area = np.asarray(shapely.area(geoms), dtype=np.float64)
    length = np.asarray(shapely.length(geoms), dtype=np.float64)
    return np.where(area > 0, area, np.where(length > 0, length, 1.0))


@dataclass(frozen=True)
class Facts:
    """Per-feature facts computed once: GEOS type id, coordinate count, all coordinates in
    order, bounds."""

    types: NDArray[np.int64]
    n_coords: NDArray[np.int64]
    coords: NDArray[np.float64]
    bounds: NDArray[np.float64]


def proven_valid(geoms: NDArray[np.object_], facts: Facts) -> NDArray[np.bool_]:
    """Features that GEOS would find valid, proven without asking it: points, and polygons of
    up to 15 vertices without holes whose ring turns the same way at every vertex, by more
    than rounding can blur, and goes round once (a strictly convex ring: simple, so valid)."""
    ok = facts.types == 0
    n = np.where(facts.types == 3, facts.n_coords, 0)
    # a ring has at least 4 coordinates: a polygon of fewer than 8 has no hole
    poly = np.flatnonzero((n >= 8) & (n <= 16))
    n[poly[shapely.get_num_interior_rings(geoms[poly]) > 0]] = 0
    sizes = np.flatnonzero(np.bincount(np.clip(n, 0, 17), minlength=18)[4:17]) + 4
    for size in sizes:
        idx = np.flatnonzero(n == size)
        if idx.size == n.size:  # all alike (buildings, often): the coordinates as they are
            rings = facts.coords.reshape(idx.size, size, 2)
        else:
            rings = shapely.get_coordinates(geoms[idx]).reshape(idx.size, size, 2)
        for lo in range(0, idx.size, _CHUNK):  # in chunks that stay in the CPU's cache
            ok[idx[lo : lo + _CHUNK]] = _strictly_convex(rings[lo : lo + _CHUNK])
    return np.asarray(ok, dtype=bool)


#: Rings checked at a time by :func:`proven_valid`.
_CHUNK = 8_192


def _strictly_convex(ring: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Per closed ring (k, n, 2): turns the same way at every vertex, by more than rounding
    can blur, and goes round once. Vertex by vertex over the rings' columns (numpy reduces
    short rows slowly)."""
    m = ring.shape[1] - 1  # edge j runs from vertex j to vertex j + 1
    ex = [ring[:, j + 1, 0] - ring[:, j, 0] for j in range(m)]
    ey = [ring[:, j + 1, 1] - ring[:, j, 1] for j in range(m)]
    lo = hi = big = turn = np.zeros(0)
    for j in range(m):  # the turn at vertex j + 1: edge j against the next (the last: first)
        k = (j + 1) % m
        cross = ex[j] * ey[k] - ey[j] * ex[k]
        length2 = ex[j] * ex[j] + ey[j] * ey[j]
        if j == 0:
            lo, hi, big = cross, cross.copy(), length2
        else:
            np.minimum(lo, cross, out=lo)
            np.maximum(hi, cross, out=hi)
            np.maximum(big, length2, out=big)
        if m > 4:  # five or more vertices can turn twice (a star); four cannot
            angle = np.arctan2(cross, ex[j] * ex[k] + ey[j] * ey[k])
            turn = angle if j == 0 else turn + angle
    tol = 1e-9 * big  # >= 1e-9 |e| |f|
    good = (lo > tol) | (hi < -tol)
    if m > 4:
        good &= np.abs(np.abs(turn) - 2 * np.pi) < 1.0
    return np.asarray(good, dtype=bool)
