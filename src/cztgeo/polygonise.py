"""The grid polygoniser: a distance (or time) field on a grid, and polygons from it.

Used by :func:`cztgeo.isochrones.isochrones`: the reached arc pieces are sampled every half grid
cell; a Euclidean distance transform finds, for every cell, the nearest sampled seed; the
distance to that seed's exact sample point gives a sub-cell field, and filled contours of it
(contourpy, linear interpolation) give polygons with holes. Hand-written because no library
turns a network's reached pieces into isochrone polygons this way.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import contourpy
import numpy as np
import shapely
from scipy import ndimage

from .routing import segment_param

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger("cztgeo.isochrones")

#: Largest grid (cells) before the cell size is coarsened.
MAX_CELLS = 1_000_000


def reached_pieces(
    pieces: tuple[NDArray[np.float64], ...], t_s: float
) -> tuple[NDArray[np.float64], ...]:
    """The parts of pieces reached within ``t_s`` seconds: (x0, y0, x1, y1) of each."""
    x0, y0, x1, y1, t0, dt, pair = pieces
    ok = t0 <= t_s
    full = ok & (t0 + dt <= t_s)
    twin = (pair >= 0) & (pair < np.arange(pair.size))
    ok &= ~(full & twin & full[np.maximum(pair, 0)])  # the twin draws the same segment
    f = np.clip((t_s - t0[ok]) / np.where(dt[ok] > 0, dt[ok], 1.0), 0.0, 1.0)
    f = np.where(dt[ok] > 0, f, 1.0)
    return x0[ok], y0[ok], x0[ok] + f * (x1[ok] - x0[ok]), y0[ok] + f * (y1[ok] - y0[ok])


def _cell_segments(
    x0: NDArray[np.float64],
    y0: NDArray[np.float64],
    x1: NDArray[np.float64],
    y1: NDArray[np.float64],
    xmin: float,
    ymin: float,
    res: float,
    nx: int,
) -> tuple[NDArray[np.float64], ...]:
    """Cut straight pieces into the runs that fall in each grid cell (cells by nearest centre).

    Points are placed every ``res`` along each piece; consecutive points of one piece in the
    same cell form one run, which is a straight sub-segment (joined to the previous run so
    nothing is lost between them). Returns (ax, ay, bx, by, length, cell) per run.
    """
    seg = np.hypot(x1 - x0, y1 - y0)
    n = np.maximum(np.ceil(seg / res).astype(np.int64), 1) + 1
    piece = np.repeat(np.arange(seg.size), n)
    starts = np.cumsum(n) - n
    k = np.arange(piece.size) - np.repeat(starts, n)
    s = k / (n[piece] - 1)
    px = x0[piece] + s * (x1 - x0)[piece]
    py = y0[piece] + s * (y1 - y0)[piece]
    cell = np.rint((py - ymin) / res).astype(np.int64) * nx + np.rint((px - xmin) / res).astype(
        np.int64
    )
    new_run = np.ones(piece.size, dtype=bool)
    new_run[1:] = (cell[1:] != cell[:-1]) | (piece[1:] != piece[:-1])
    first = np.flatnonzero(new_run)
    last = np.r_[first[1:] - 1, piece.size - 1]
    # start each run at the previous point of the same piece, so runs overlap at cell edges
    prev = np.where((first > 0) & (k[first] > 0), first - 1, first)
    ax, ay, bx, by = px[prev], py[prev], px[last], py[last]
    return ax, ay, bx, by, np.hypot(bx - ax, by - ay), cell[first]


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
        sizes = [len(p) for p in points]
        moved = refine(np.concatenate(points))
        points = np.split(moved, np.cumsum(sizes)[:-1])
    polys = []
    for pts, off in zip(points, offsets, strict=True):
        rings = [pts[off[i] : off[i + 1]] for i in range(len(off) - 1)]
        shell, holes = rings[0], [r for r in rings[1:] if len(r) >= 4]
        if len(shell) >= 4:
            polys.append(shapely.Polygon(shell, holes))
    if not polys:
        return shapely.MultiPolygon()
    geom = shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0]
    # moved vertices can leave near-coincident edges: snapping to a 1 cm grid nodes them and
    # returns a valid polygon that later overlays (union, intersection) handle robustly
    if not geom.is_valid:
        try:
            geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
        except shapely.errors.GEOSException:
            # GEOS's structure repair can fail on a side-location conflict: repair each
            # polygon on its own, then union (slower, always valid)
            geom = shapely.union_all([_repair(p) for p in polys])
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


def grid_isochrones(
    pieces: tuple[NDArray[np.float64], ...],
    thresholds_s: list[float],
    access_m: float,
    res: float,
) -> tuple[list[shapely.Geometry], float]:
    """Polygons per threshold, and the grid resolution used (coarsened beyond MAX_CELLS)."""
    reached = [reached_pieces(pieces, t) for t in thresholds_s]
    allx = np.concatenate([np.r_[r[0], r[2]] for r in reached])
    ally = np.concatenate([np.r_[r[1], r[3]] for r in reached])
    if allx.size == 0:
        return [shapely.MultiPolygon() for _ in thresholds_s], res
    area = (np.ptp(allx) + 2 * access_m) * (np.ptp(ally) + 2 * access_m)
    if area / (res * res) > MAX_CELLS:
        new = float(np.sqrt(area / MAX_CELLS))
        log.info("isochrone grid coarsened from %.1f m to %.1f m", res, new)
        res = new
    pad = access_m + 2.5 * res
    xmin, ymin = float(allx.min() - pad), float(ally.min() - pad)
    nx = int(np.ceil((allx.max() + pad - xmin) / res)) + 1
    ny = int(np.ceil((ally.max() + pad - ymin) / res)) + 1
    xs: NDArray[np.float64] = xmin + res * np.arange(nx, dtype=np.float64)
    ys: NDArray[np.float64] = ymin + res * np.arange(ny, dtype=np.float64)
    m = int(np.ceil(pad / res)) + 1
    running = np.full((ny, nx), np.inf)
    out = []
    for x0, y0, x1, y1 in reached:
        if x0.size == 0:
            out.append(shapely.MultiPolygon())
            continue
        ax, ay, bx, by, _, cell = _cell_segments(x0, y0, x1, y1, xmin, ymin, res, nx)
        # runs grouped by cell (CSR): a cell may hold several roads near a junction
        srt = np.argsort(cell, kind="stable")
        sc = cell[srt]
        first = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1]])
        cells = sc[first]
        count = np.diff(np.r_[first, sc.size])
        start_of = np.zeros(ny * nx, dtype=np.int32)
        count_of = np.zeros(ny * nx, dtype=np.int32)
        start_of[cells] = first
        count_of[cells] = count
        seed = (count_of > 0).reshape(ny, nx)
        rows = np.flatnonzero(seed.any(axis=1))
        cols = np.flatnonzero(seed.any(axis=0))
        r0, r1 = max(rows[0] - m, 0), min(rows[-1] + m + 1, ny)
        c0, c1 = max(cols[0] - m, 0), min(cols[-1] + m + 1, nx)
        edt, (jy, jx) = ndimage.distance_transform_edt(
            ~seed[r0:r1, c0:c1], sampling=res, return_indices=True
        )
        # The distance to the nearest seed cell's centre is within 0.71 cells of the true
        # distance: contour that cheap field, then move every contour vertex onto the exact
        # level set of the nearest run (searched in the 5 x 5 cells around the vertex's
        # nearest seed cell). Work is proportional to the boundary, not the area.
        d = np.asarray(edt, dtype=np.float64)
        sub = running[r0:r1, c0:c1]
        np.minimum(sub, d, out=sub)  # reached sets grow with time: keep the fields nested
        wjy, wjx = jy, jx

        def refine(pts: NDArray[np.float64], _r0: int = r0, _c0: int = c0, _jy: Any = wjy,
                   _jx: Any = wjx, _runs: tuple[Any, ...] = (ax, ay, bx, by, srt, start_of, count_of)) -> NDArray[np.float64]:  # fmt: skip
            rax, ray, rbx, rby, rsrt, rstart, rcount = _runs
            h, w = _jy.shape
            iy = np.clip(np.rint((pts[:, 1] - ys[_r0]) / res).astype(np.int64), 0, h - 1)
            ix = np.clip(np.rint((pts[:, 0] - xs[_c0]) / res).astype(np.int64), 0, w - 1)
            cy, cx = _jy[iy, ix] + _r0, _jx[iy, ix] + _c0
            best = np.full(len(pts), np.inf)
            qx = pts[:, 0].copy()
            qy = pts[:, 1].copy()
            for oy in range(-2, 3):
                for ox in range(-2, 3):
                    c = np.clip(cy + oy, 0, ny - 1) * nx + np.clip(cx + ox, 0, nx - 1)
                    n_in, s0 = rcount[c], rstart[c]
                    for r in range(int(n_in.max(initial=0))):
                        sel = np.flatnonzero(n_in > r)
                        kk = rsrt[s0[sel] + r]
                        dd, nx_, ny_ = _segment_nearest(
                            pts[sel, 0], pts[sel, 1], rax[kk], ray[kk], rbx[kk], rby[kk]
                        )
                        better = dd < best[sel]
                        upd = sel[better]
                        best[upd] = dd[better]
                        qx[upd] = nx_[better]
                        qy[upd] = ny_[better]
            ok = np.isfinite(best) & (best > 1e-9)
            scale = np.where(ok, access_m / np.where(ok, best, 1.0), 1.0)
            newx = qx + (pts[:, 0] - qx) * scale
            newy = qy + (pts[:, 1] - qy) * scale
            move = np.hypot(newx - pts[:, 0], newy - pts[:, 1])
            keep = ok & (move < res)  # the cheap field is off by at most 0.71 cells
            return np.column_stack(
                [np.where(keep, newx, pts[:, 0]), np.where(keep, newy, pts[:, 1])]
            )

        out.append(polygons_from_field(xs[c0:c1], ys[r0:r1], sub, access_m, refine))
    return out, res


#: Speed (km/h) assumed on the local streets a coarse network leaves out, and the detour factor
#: of those streets over the straight line (see :func:`isochrones`).
