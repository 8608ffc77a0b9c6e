"""The grid polygoniser: a distance (or time) field on a grid, and polygons from it.

Used by :func:`cztgeo.isochrones.isochrones`: the reached arc pieces are sampled every grid
cell; the distance from each cell to the nearest sampled cell is computed out to one cell past
the access distance (:func:`near_field`); filled contours of it (contourpy, linear
interpolation) give polygons with holes, whose vertices are then moved onto the exact level
set of the nearest piece, with points added along the arcs around piece ends. Hand-written
because no library turns a network's reached pieces into isochrone polygons this way.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import contourpy
import numpy as np
import shapely

from .routing import segment_param

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger("cztgeo.isochrones")

#: Largest grid (cells) before the cell size is coarsened (local streets); the access rule
#: coarsens beyond ``ACCESS_CELLS``, up to ``MAX_ACCESS_CELL`` times the access distance.
MAX_CELLS = 1_000_000
ACCESS_CELLS = 600_000
MAX_ACCESS_CELL = 0.85
#: Largest sag (in cells) of a chord of the boundary's arcs: points are added on them.
DENSIFY_TOL = 0.02
#: Refined vertices closer than this (in cells) to the segment joining their neighbours are
#: dropped (the outline moves by less than this).
PRUNE_TOL = 0.01


def reached_pieces(
    pieces: tuple[NDArray[np.float64], ...], t_s: float
) -> tuple[NDArray[np.float64], ...]:
    """The parts of pieces reached within ``t_s`` seconds: (x0, y0, x1, y1) of each."""
    x0, y0, x1, y1, t0, dt, t_twin = pieces
    end = t0 + dt
    # a reverse twin, fully reached, draws it
    keep = np.flatnonzero((t0 <= t_s) & ((end > t_s) | (t_twin > t_s)))
    part = np.flatnonzero(np.take(end, keep) > t_s)  # cut where the time runs out
    if keep.size == x0.size:  # all of them (twins already left out for this threshold)
        ax, ay = x0, y0
        bx, by = (x1.copy(), y1.copy()) if part.size else (x1, y1)
    else:
        ax, ay = np.take(x0, keep), np.take(y0, keep)
        bx, by = np.take(x1, keep), np.take(y1, keep)
    if part.size:
        k = keep[part]
        f = np.clip((t_s - t0[k]) / np.where(dt[k] > 0, dt[k], 1.0), 0.0, 1.0)
        bx[part] = ax[part] + f * (x1[k] - ax[part])
        by[part] = ay[part] + f * (y1[k] - ay[part])
    return ax, ay, bx, by


def _segment_nearest(
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    ax: NDArray[np.float64],
    ay: NDArray[np.float64],
    bx: NDArray[np.float64],
    by: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Distance from points to segments, and the nearest point on each segment."""
    t = segment_param(px, py, ax, ay, bx, by)
    qx, qy = ax + t * (bx - ax), ay + t * (by - ay)
    return np.hypot(px - qx, py - qy), qx, qy


def polygons_from_field(
    xs: NDArray[np.float64],
    ys: NDArray[np.float64],
    field: NDArray[np.float64],
    level: float,
    refine: Any = None,
) -> shapely.Geometry:
    gen = contourpy.contour_generator(
        x=xs, y=ys, z=field, fill_type=contourpy.FillType.OuterOffset, name="serial"
    )
    filled: Any = gen.filled(-1.0, level)
    points, offsets = filled[0], filled[1]
    if refine is not None and len(points):
        # rings numbered through all polygons; refine moves (and may add) vertices
        ring_len = np.concatenate([np.diff(off) for off in offsets])
        ring = np.repeat(np.arange(ring_len.size), ring_len)
        moved, ring = _cut_small_loops(*refine(np.concatenate(points), ring))
        moved = np.round(moved, 2)  # on the 1 cm grid (as GEOS's pointwise precision)
        ring_len = np.bincount(ring, minlength=ring_len.size)
        per_poly = [len(off) - 1 for off in offsets]
        rings_all = np.split(moved, np.cumsum(ring_len)[:-1])
        bounds = np.cumsum([0, *per_poly])
        grouped = [rings_all[bounds[i] : bounds[i + 1]] for i in range(len(per_poly))]
    else:
        grouped = [
            [pts[off[i] : off[i + 1]] for i in range(len(off) - 1)]
            for pts, off in zip(points, offsets, strict=True)
        ]
    polys = []
    for rings in grouped:
        shell, holes = rings[0], [r for r in rings[1:] if len(r) >= 4]
        if len(shell) >= 4:
            polys.append(shapely.Polygon(shell, holes))
    if not polys:
        return shapely.MultiPolygon()
    geom = shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0]
    if refine is not None:
        return _valid_on_grid(geom, polys)
    # moved vertices can cross where the reach has features smaller than a cell (narrow
    # gaps, tiny holes), or leave near-coincident edges: GEOS's structure repair resolves the
    # first, snapping to a 1 cm grid nodes the second, so that later overlays (union,
    # difference) handle the polygon robustly
    if not geom.is_valid:
        try:
            geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
        except shapely.errors.GEOSException:
            # GEOS's structure repair can fail on a side-location conflict: repair each
            # polygon on its own, then union (slower, always valid)
            geom = shapely.union_all([_repair(p) for p in polys])
    return polygonal(shapely.set_precision(geom, 0.01))


def _cut_small_loops(
    pts: NDArray[np.float64], ring: NDArray[np.int64], span: int = 8
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Refined rings with their small loops cut off: where an edge crosses one of the next
    ``span`` edges of its ring (vertices moved past each other where the reach has features
    smaller than a cell), the vertices between are replaced by the crossing point.

    This is what repairs the refined outline in nearly every case, in a few vector passes; a
    ring still invalid after it goes to GEOS's repair (:func:`_valid_on_grid`).
    """
    hits: list[tuple[int, int, float]] = []
    n = len(pts)
    px, py = np.ascontiguousarray(pts[:, 0]), np.ascontiguousarray(pts[:, 1])
    ex, ey = np.diff(px), np.diff(py)  # edge k runs from vertex k to k + 1
    same = ring[1:] == ring[:-1]  # ... when both are of one ring
    with np.errstate(divide="ignore", invalid="ignore"):
        for d in range(2, span + 1):
            m = n - 1 - d  # edge pairs (k, k + d)
            if m <= 0:
                break
            rx, ry, sx, sy = ex[:m], ey[:m], ex[d:], ey[d:]
            qx, qy = px[d : d + m] - px[:m], py[d : d + m] - py[:m]
            den = rx * sy - ry * sx
            t, u = (qx * sy - qy * sx) / den, (qx * ry - qy * rx) / den
            cross = (t > 0) & (t < 1) & (u > 0) & (u < 1)  # NaN (parallel) compares False
            cross &= same[:m] & same[d:] & (ring[:m] == ring[d : d + m])
            hits += [(int(i), d, float(t[i])) for i in np.flatnonzero(cross)]
    if not hits:
        return pts, ring
    pts, keep = pts.copy(), np.ones(n, dtype=bool)
    free = np.ones(n, dtype=bool)  # vertices no cut has used yet
    for i, d, f in sorted(hits):
        if not free[i : i + d + 2].all():  # overlaps a loop already cut: left to GEOS
            continue
        free[i : i + d + 2] = False
        pts[i + 1] = pts[i] + f * (pts[i + 1] - pts[i])
        keep[i + 2 : i + d + 1] = False
    return pts[keep], ring[keep]


def _valid_on_grid(geom: shapely.Geometry, polys: list[shapely.Geometry]) -> shapely.Geometry:
    """The refined polygons (vertices on the 1 cm grid, small loops cut), valid: checked, and
    repaired by GEOS only when they are not; then on the 1 cm grid again (GEOS's pointwise
    rounding, checked; the snap-rounding overlay of ``set_precision`` only when rounding
    leaves it invalid: it takes a sixth of the time of a whole isochrone)."""
    if geom.is_valid:
        return geom
    try:
        geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    except shapely.errors.GEOSException:
        geom = shapely.union_all([_repair(p) for p in polys])
    rounded = shapely.set_precision(geom, 0.01, mode="pointwise")
    if rounded.is_valid:
        return polygonal(rounded)
    return polygonal(shapely.set_precision(geom, 0.01))


def _repair(poly: shapely.Geometry) -> shapely.Geometry:
    """A valid polygonal version of one polygon, trying cheaper repairs first."""
    for step in range(3):
        try:
            if step == 0:
                fixed = shapely.make_valid(poly)
            elif step == 1:
                fixed = poly.buffer(0)
            else:
                fixed = shapely.Polygon(poly.exterior).buffer(0)
            out = polygonal(fixed)
        except shapely.errors.GEOSException:
            continue
        if out.is_valid:
            return out
    return shapely.MultiPolygon()


def polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Only the polygonal parts (overlays can leave stray lines or points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return shapely.MultiPolygon()
    return shapely.union_all(parts) if len(parts) > 1 else parts[0]


def _samples(
    x0: NDArray[np.float64],
    y0: NDArray[np.float64],
    x1: NDArray[np.float64],
    y1: NDArray[np.float64],
    xmin: float,
    ymin: float,
    res: float,
    nx: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Points every ``res`` (at most) along each piece, ends included: the grid cell of each
    (nearest centre, flat index) and its piece."""
    dx, dy = x1 - x0, y1 - y0
    n = np.maximum(np.ceil(np.sqrt(dx * dx + dy * dy) / res).astype(np.int64), 1) + 1
    # pieces grouped by their number of samples: each group is a 2-D block (no per-sample
    # gathers); a small integer type makes the stable sort a radix sort
    small = n.max(initial=0) < np.iinfo(np.int16).max
    order = np.argsort(n.astype(np.int16) if small else n, kind="stable")
    sizes = np.bincount(n)
    cells, pieces = [], []
    start = 0
    inv = 1.0 / res
    for k in np.flatnonzero(sizes):
        sel = order[start : start + sizes[k]]
        start += sizes[k]
        s = (np.arange(k) / (k - 1))[:, None]  # rows: sample k of every piece (long rows)
        # nearest cell centre: all coordinates lie above the grid's corner, so +0.5 and
        # truncation round them
        gx = (np.take(x0, sel) - (xmin - 0.5 * res)) * inv + s * (np.take(dx, sel) * inv)
        gy = (np.take(y0, sel) - (ymin - 0.5 * res)) * inv + s * (np.take(dy, sel) * inv)
        cell = gy.astype(np.int64)
        cell *= nx
        cell += gx.astype(np.int64)
        cells.append(cell.ravel())
        pieces.append(np.tile(sel, k))
    if not cells:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(cells), np.concatenate(pieces)


def _offsets(reach: float) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Cell offsets (dy, dx) within ``reach`` cells, nearest first, and their squared length."""
    k = int(np.floor(reach))
    dy, dx = (a.ravel() for a in np.mgrid[-k : k + 1, -k : k + 1])
    d2 = dy * dy + dx * dx
    order = np.argsort(d2[d2 <= reach * reach], kind="stable")
    keep = np.flatnonzero(d2 <= reach * reach)[order]
    return dy[keep], dx[keep], d2[keep]


def near_field(seed: NDArray[np.bool_], res: float, reach: float) -> NDArray[np.float64]:
    """The Euclidean distance transform of the seed cells, computed only out to ``reach`` cells
    (``res * (reach + 1)`` beyond): the distance from each cell's centre to the nearest seed
    cell's centre.

    For the small reach of an isochrone's access distance this is a few shifted ORs of the
    seed image per distinct offset length, far cheaper than the full transform; within the
    reach the values are the same.
    """
    h, w = seed.shape
    field = np.full((h, w), res * (reach + 1.0))  # finite: contourpy masks inf
    dy, dx, d2 = _offsets(reach)
    hit = np.empty_like(seed)
    for value in np.unique(d2)[::-1]:  # farthest first: nearer seeds overwrite
        hit[:] = False
        for oy, ox in zip(dy[d2 == value], dx[d2 == value], strict=True):
            a, b = max(0, -oy), max(0, -ox)
            c, d = h - max(0, oy), w - max(0, ox)
            hit[a:c, b:d] |= seed[a + oy : c + oy, b + ox : d + ox]
        np.copyto(field, res * np.sqrt(value), where=hit)
    return field


class _Refiner:
    """Moves contour vertices onto the exact level set ``access_m`` of the nearest reached
    piece, searched among the pieces sampled in the 5 x 5 cells around the vertex's nearest
    seed cell (found by searching the seed image outwards from the vertex's cell)."""

    def __init__(self, pieces: tuple[NDArray[np.float64], ...], cell: NDArray[np.int64],
                 piece: NDArray[np.int64], seed: NDArray[np.bool_], reach: float,
                 window: tuple[float, float, int, int], grid: tuple[float, int, int],
                 access_m: float) -> None:  # fmt: skip
        self.pieces, self.cell, self.piece, self.seed = pieces, cell, piece, seed
        self.search = _offsets(reach)
        self.window, self.grid, self.access_m = window, grid, access_m
        self.region = np.zeros(grid[1] * grid[2], dtype=bool)  # cells in the lookup
        self.p_piece = np.zeros(0, dtype=np.int64)
        self.first = self.count = np.zeros(self.region.size, dtype=np.int64)

    def _nearest_seeds(self, iy: NDArray[np.int64], ix: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:  # fmt: skip
        """The nearest seed cell to each cell (iy, ix) of the window, searched outwards; the
        cell itself where none lies within the reach."""
        h, w = self.seed.shape
        sy, sx = iy.copy(), ix.copy()
        todo = np.arange(iy.size)
        for oy, ox in zip(*self.search[:2], strict=True):
            yy, xx = iy[todo] + oy, ix[todo] + ox
            ok = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
            hit = ok & self.seed[np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]
            sy[todo[hit]], sx[todo[hit]] = yy[hit], xx[hit]
            todo = todo[~hit]
            if todo.size == 0:
                break
        return sy, sx

    def _windows(self, pts: NDArray[np.float64]) -> NDArray[np.int64]:
        """The 5 x 5 cells (flat indices) around each point's nearest seed cell."""
        x_lo, y_lo, r0, c0 = self.window
        res, nx, ny = self.grid
        h, w = self.seed.shape
        iy = np.clip(np.rint((pts[:, 1] - y_lo) / res).astype(np.int64), 0, h - 1)
        ix = np.clip(np.rint((pts[:, 0] - x_lo) / res).astype(np.int64), 0, w - 1)
        sy, sx = self._nearest_seeds(iy, ix)
        sy, sx = sy + r0, sx + c0
        off = np.arange(-2, 3)
        rows = np.clip(sy[:, None, None] + off[:, None], 0, ny - 1)
        cols = np.clip(sx[:, None, None] + off[None, :], 0, nx - 1)
        return np.asarray((rows * nx + cols).reshape(len(pts), 25), dtype=np.int64)

    def _lookup(self, cells: NDArray[np.int64]) -> None:
        """Make sure the (cell -> pieces) table covers ``cells`` (built once, grown rarely)."""
        if self.region[cells].all():
            return
        self.region[cells] = True
        keep = self.region[self.cell]
        n_pieces = self.pieces[0].size
        # distinct (cell, piece) pairs by a sort (numpy's hashed unique is ten times slower)
        pairs = np.sort(self.cell[keep] * n_pieces + self.piece[keep])
        pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if pairs.size else pairs
        p_cell, self.p_piece = np.divmod(pairs, n_pieces)
        first = np.flatnonzero(np.r_[True, p_cell[1:] != p_cell[:-1]]) if pairs.size else pairs
        count = np.diff(np.r_[first, p_cell.size])
        self.first = np.zeros(self.region.size, dtype=np.int64)
        self.count = np.zeros(self.region.size, dtype=np.int64)
        self.first[p_cell[first]], self.count[p_cell[first]] = first, count

    def _move(self, pts: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
        """The points moved onto the level set (those that move less than a cell), the
        nearest point (qx, qy) of each on the reached network, and whether it moved."""
        near = self._windows(pts).ravel()
        self._lookup(near)
        first, count = np.take(self.first, near), np.take(self.count, near)
        # every (vertex, candidate piece) pair at once, grouped by vertex
        vertex = np.repeat(np.arange(len(pts)), count.reshape(len(pts), 25).sum(axis=1))
        k = np.arange(int(count.sum()), dtype=np.int64)
        k += np.repeat(first - (np.cumsum(count) - count), count)
        k = np.take(self.p_piece, k)
        x0, y0, x1, y1 = self.pieces
        px, py = np.ascontiguousarray(pts[:, 0]), np.ascontiguousarray(pts[:, 1])
        dd, qx_all, qy_all = _segment_nearest(
            np.take(px, vertex), np.take(py, vertex),
            np.take(x0, k), np.take(y0, k), np.take(x1, k), np.take(y1, k),
        )  # fmt: skip
        best = np.full(len(pts), np.inf)
        if dd.size:
            has = np.flatnonzero(np.bincount(vertex, minlength=len(pts)) > 0)
            best[has] = np.minimum.reduceat(dd, np.searchsorted(vertex, has))
        at = np.flatnonzero(dd == best[vertex])
        at = at[np.r_[True, vertex[at][1:] != vertex[at][:-1]]] if at.size else at
        qx, qy = pts[:, 0].copy(), pts[:, 1].copy()
        qx[vertex[at]], qy[vertex[at]] = qx_all[at], qy_all[at]
        ok = np.isfinite(best) & (best > 1e-9)
        scale = np.where(ok, self.access_m / np.where(ok, best, 1.0), 1.0)
        newx = qx + (pts[:, 0] - qx) * scale
        newy = qy + (pts[:, 1] - qy) * scale
        move = np.hypot(newx - pts[:, 0], newy - pts[:, 1])
        keep_move = ok & (move < 0.75 * self.grid[0])  # the cheap field is off by <= 0.71 cells
        moved = np.column_stack(
            [np.where(keep_move, newx, pts[:, 0]), np.where(keep_move, newy, pts[:, 1])]
        )
        return moved, qx, qy, keep_move

    def __call__(
        self, pts: NDArray[np.float64], ring: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Vertices moved onto the level set, and points added on the arcs between them.

        Where two consecutive vertices have the same nearest point q (the end of a piece),
        the boundary between them is the arc of radius ``access_m`` around q: points are added
        on it so that no chord sags more than ``DENSIFY_TOL`` cells. Between vertices nearest
        to one piece's inside, the boundary is straight (the offset of the piece).
        """
        moved, qx, qy, ok_move = self._move(pts)
        ok = np.asarray(ok_move, dtype=bool)
        edge = np.flatnonzero(ring[1:] == ring[:-1])
        a, b = edge, edge + 1
        res = self.grid[0]
        arc = ok[a] & ok[b] & (np.hypot(qx[a] - qx[b], qy[a] - qy[b]) < 1e-9 * res + 1e-9)
        a, b = a[arc], b[arc]
        ux, uy = moved[a, 0] - qx[a], moved[a, 1] - qy[a]
        vx, vy = moved[b, 0] - qx[a], moved[b, 1] - qy[a]
        turn = np.arctan2(ux * vy - uy * vx, ux * vx + uy * vy)
        # consecutive vertices a cell or so apart, 0.6 cells or more from q: a wide turn is
        # not one arc (vertices either side of a road end); those edges stay
        turn = np.where(np.abs(turn) < np.pi / 3, turn, 0.0)
        sag = min(DENSIFY_TOL * res, 0.5 * self.access_m)
        step = 2.0 * np.arccos(1.0 - sag / self.access_m)  # the angle of a chord sagging `sag`
        parts = np.ceil(np.abs(turn) / step).astype(np.int64)
        extra = np.maximum(parts - 1, 0)
        if extra.sum() == 0:
            return _prune(moved, ring, PRUNE_TOL * res)
        which = np.repeat(np.arange(a.size), extra)
        j = np.arange(which.size) - np.repeat(np.cumsum(extra) - extra, extra) + 1
        ang = np.arctan2(uy, ux)[which] + turn[which] * j / parts[which]
        new = np.column_stack(
            [qx[a][which] + self.access_m * np.cos(ang), qy[a][which] + self.access_m * np.sin(ang)]
        )
        at = b[which]  # inserted before the edge's second vertex, in order
        return _prune(np.insert(moved, at, new, axis=0), np.insert(ring, at, ring[at]),
                      PRUNE_TOL * res)  # fmt: skip


def _prune(
    pts: NDArray[np.float64], ring: NDArray[np.int64], tol: float
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Drop vertices within ``tol`` of the segment joining their neighbours (the simplification
    of the refined outline, done here in two passes instead of by GEOS afterwards).

    A pass drops only even-numbered vertices, so no two neighbours go at once and the outline
    moves by less than ``tol``; each ring keeps its first and last (closing) vertex.
    """
    for _ in range(2):
        inner = np.flatnonzero((ring[1:-1] == ring[:-2]) & (ring[1:-1] == ring[2:])) + 1
        inner = inner[inner % 2 == 0]
        if inner.size == 0:
            break
        a, p, b = pts[inner - 1], pts[inner], pts[inner + 1]
        dist, _, _ = _segment_nearest(p[:, 0], p[:, 1], a[:, 0], a[:, 1], b[:, 0], b[:, 1])
        keep = np.ones(len(pts), dtype=bool)
        keep[inner[dist < tol]] = False
        pts, ring = pts[keep], ring[keep]
    return pts, ring


def _cell_size(area_m2: float, res: float, access_m: float) -> float:
    """The cell size: ``res``, coarsened to keep the grid within ``ACCESS_CELLS`` cells but not
    beyond ``MAX_ACCESS_CELL`` times the access distance (the refinement needs the level set
    a cell or more from the roads) unless the grid would exceed ``MAX_CELLS``."""
    if area_m2 / (res * res) <= ACCESS_CELLS:
        return res
    new = max(res, min(float(np.sqrt(area_m2 / ACCESS_CELLS)), MAX_ACCESS_CELL * access_m))
    new = max(new, float(np.sqrt(area_m2 / MAX_CELLS)))
    log.info("isochrone grid coarsened from %.1f m to %.1f m", res, new)
    return new


def grid_isochrones(
    pieces: tuple[NDArray[np.float64], ...],
    thresholds_s: list[float],
    access_m: float,
    res: float,
) -> tuple[list[shapely.Geometry], float]:
    """Polygons per threshold, and the grid resolution used (coarsened beyond MAX_CELLS)."""
    reached = [reached_pieces(pieces, t) for t in thresholds_s]
    if not any(r[0].size for r in reached):
        return [shapely.MultiPolygon() for _ in thresholds_s], res
    lo_x, lo_y, hi_x, hi_y = (
        f(np.array([f(r[i]) for r in reached for i in (j, j + 2) if r[i].size]))
        for f, j in ((np.min, 0), (np.min, 1), (np.max, 0), (np.max, 1))
    )
    area = (hi_x - lo_x + 2 * access_m) * (hi_y - lo_y + 2 * access_m)
    res = _cell_size(area, res, access_m)
    pad = access_m + 2.5 * res
    xmin, ymin = float(lo_x - pad), float(lo_y - pad)
    nx = int(np.ceil((hi_x + pad - xmin) / res)) + 1
    ny = int(np.ceil((hi_y + pad - ymin) / res)) + 1
    xs: NDArray[np.float64] = xmin + res * np.arange(nx, dtype=np.float64)
    ys: NDArray[np.float64] = ymin + res * np.arange(ny, dtype=np.float64)
    m = int(np.ceil(pad / res)) + 1
    # the field of the thresholds so far: sets grow with time, so each band takes the minimum
    # with the smaller ones' fields (nested); not needed for one threshold
    running = np.full((ny, nx), np.finfo(np.float64).max) if len(reached) > 1 else None
    out = []
    for x0, y0, x1, y1 in reached:
        if x0.size == 0:
            out.append(shapely.MultiPolygon())
            continue
        cell, piece = _samples(x0, y0, x1, y1, xmin, ymin, res, nx)
        flat = np.zeros(ny * nx, dtype=bool)
        flat[cell] = True
        seed = flat.reshape(ny, nx)
        rows = np.flatnonzero(seed.any(axis=1))
        cols = np.flatnonzero(seed.any(axis=0))
        r0, r1 = max(rows[0] - m, 0), min(rows[-1] + m + 1, ny)
        c0, c1 = max(cols[0] - m, 0), min(cols[-1] + m + 1, nx)
        # The distance to the nearest seed cell's centre is within 0.71 cells of the true
        # distance: contour that cheap field (needed only out to the contour and one cell
        # beyond), then move every contour vertex onto the exact level set of the nearest
        # piece. Work is proportional to the boundary, not the area.
        reach = access_m / res + 1.5
        window = seed[r0:r1, c0:c1]
        sub = near_field(window, res, reach)
        if running is not None:
            np.minimum(running[r0:r1, c0:c1], sub, out=sub)
            running[r0:r1, c0:c1] = sub
        refine = _Refiner((x0, y0, x1, y1), cell, piece, window, reach + 1.0,
                          (float(xs[c0]), float(ys[r0]), r0, c0), (res, nx, ny), access_m)  # fmt: skip
        out.append(polygons_from_field(xs[c0:c1], ys[r0:r1], sub, access_m, refine))
    return out, res
