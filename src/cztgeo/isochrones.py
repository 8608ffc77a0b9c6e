"""Isochrone polygons that follow the roads actually reached, holes and islands kept.

The exact isochrone of a network is the set of points within an access distance of the reached
network: every arc reached in time, partly reached arcs up to the reached point. Computing that
with polygon buffers and unions is exact but slow (seconds to tens of seconds on a metro
network), which is what the osmnx recipe does. cztgeo computes the same shape on a grid:

1. sample the reached arc pieces every grid cell and mark the cells they fall in;
2. the distance from every cell to the nearest marked cell, out to one cell beyond the access
   distance (a Euclidean distance transform cut short: a few shifted ORs of the marks);
3. filled contours of that field at the access distance (contourpy) give polygons with holes;
   every vertex is then moved onto the exact level set of its nearest reached piece, and
   points are added on the arcs of radius ``access_m`` around piece ends.

The vertices lie on the exact boundary of the buffer union; between them the chords of its
arcs sag less than 2% of a cell (tests assert IoU >= 0.995 against an independent buffer
union, small thresholds included). Work beyond Dijkstra is proportional to the grid (600,000
cells at most before the cells grow) and to the boundary.

On a coarse network the land between the mapped roads is reached over unmapped local streets
instead (``local_kmh``, see :func:`isochrones`): the field is then the travel time
``min_q t(q) + |p - q| / v``. It is exact at every grid node for the pieces tried there (a closed
form on each straight piece with linear times); the pieces tried are the nearest of each time
bucket (distance transforms of the samples, buckets of an eighth of the largest threshold) and,
near the contours, those that won the neighbouring cells (jump flooding, 8 to 1 cells). One
field serves every threshold, so the polygons nest. Tests compare with the exact union of the
convex hulls of each piece's end discs (IoU >= 0.99).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import shapely
from scipy import ndimage

from .crs import WGS84, reproject_geometry
from .errors import InputError
from .polygonise import MAX_CELLS, grid_isochrones, polygonal, polygons_from_field, reached_pieces
from .routing import (
    DEFAULT_MAX_SNAP_M,
    Snap,
    as_lonlat,
    project,
    travel_times_s,
)
from .speeds import WALK_KMH
from .types import MinutesLike, PointsLike

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .network import Network

__all__ = ["DEFAULT_ACCESS_M", "LOCAL_DETOUR", "LOCAL_KMH", "isochrones", "reached_pieces"]

log = logging.getLogger(__name__)

#: Default access distance (metres) by mode: how far from a reached road still counts.
DEFAULT_ACCESS_M = {"drive": 100.0, "walk": 50.0, "bike": 75.0, "rail": 100.0}

Style = Literal["network", "exact", "convex", "concave"]


def _check_minutes(minutes: MinutesLike) -> list[float]:
    vals: list[object] = (
        [minutes] if isinstance(minutes, (int, float)) or np.isscalar(minutes)
        else list(minutes)  # type: ignore[arg-type]
    )  # fmt: skip
    if not vals:
        raise InputError("minutes is empty: give at least one threshold, e.g. minutes=[15, 30]")
    out = []
    for m in vals:
        try:
            f = float(m)  # type: ignore[arg-type]  # refused below if not a number
        except (TypeError, ValueError) as exc:
            raise InputError(f"minutes must be numbers, got {m!r}") from exc
        if not np.isfinite(f) or f <= 0:
            raise InputError(f"minutes must be positive, got {m!r}")
        out.append(f)
    return sorted(set(out))


def _pieces(
    net: Network,
    dist_s: NDArray[np.float64],
    snap: Snap,
    access_kmh: float,
    t_max: float,
    *,
    drop_twins_s: float | None = None,
) -> tuple[NDArray[np.float64], ...]:
    """Candidate pieces (x0, y0, x1, y1, t0, dt, t_twin): reached arcs plus the origins' own
    arcs; ``t_twin`` is the time by which the reverse arc, when it has a lower number, is
    reached in full (inf otherwise), so a two-way road reached in full from both ends is
    drawn once (:func:`~cztgeo.polygonise.reached_pieces`).

    With ``drop_twins_s`` (the smallest threshold), the arcs that a fully reached twin draws
    by then, and so at every threshold, are left out at once (only where the pieces' times do
    not matter beyond that: the access rule and the hull styles).
    """
    # the arcs leaving the nodes reached in time (CSR rows: no pass over every arc)
    nodes = np.flatnonzero(dist_s <= t_max)
    first = net.indptr[nodes].astype(np.int64)
    count = net.indptr[nodes + 1] - net.indptr[nodes]
    aidx = np.arange(int(count.sum()), dtype=np.int64)
    aidx += np.repeat(first - (np.cumsum(count) - count), count)
    tail = np.repeat(nodes, count)
    head = np.take(net.head, aidx)
    rev_arc = np.take(net.reverse, aidx)
    twin = np.flatnonzero((rev_arc >= 0) & (rev_arc < aidx))
    t_tw = np.full(aidx.size, np.inf)
    t_tw[twin] = np.take(dist_s, np.take(head, twin)) + np.take(net.time_s, rev_arc[twin])
    t_start, t_arc = np.take(dist_s, tail), np.take(net.time_s, aidx)
    if drop_twins_s is not None:
        keep = np.flatnonzero((t_start + t_arc > drop_twins_s) | (t_tw > drop_twins_s))
        tail, head, t_start, t_arc, t_tw = (
            np.take(a, keep) for a in (tail, head, t_start, t_arc, t_tw)
        )
    n_arcs = tail.size
    # from each snapped origin along its arc (and back along the reverse arc)
    access = snap.distance_m / (access_kmh / 3.6)
    arc = snap.arc
    rev = net.reverse[arc]
    has = rev >= 0
    ends = np.concatenate([net.head[arc], net.tail[arc][has]])
    # each output is filled in place: arcs first, then the origins' pieces
    size = n_arcs + ends.size
    x0, y0, x1, y1 = (np.empty(size) for _ in range(4))
    np.take(net.x, tail, out=x0[:n_arcs])
    np.take(net.y, tail, out=y0[:n_arcs])
    np.take(net.x, head, out=x1[:n_arcs])
    np.take(net.y, head, out=y1[:n_arcs])
    x0[n_arcs:] = np.r_[snap.x, snap.x[has]]
    y0[n_arcs:] = np.r_[snap.y, snap.y[has]]
    x1[n_arcs:], y1[n_arcs:] = net.x[ends], net.y[ends]
    t0 = np.r_[t_start, access, access[has]]
    dt = np.r_[t_arc, (1 - snap.frac) * net.time_s[arc], snap.frac[has] * net.time_s[rev[has]]]
    t_twin = np.r_[t_tw, np.full(ends.size, np.inf)]
    return x0, y0, x1, y1, t0, dt, t_twin


#: Arc classes with access only at their ends (expressways): in local-street mode the land
#: beside them is reached from their junctions, not from every point along them.
CONTROLLED_ACCESS_PREFIXES = ("motorway", "rural long link")


def _controlled_access(
    net: Network, dist_s: NDArray[np.float64], t_max: float, pieces: tuple[NDArray[np.float64], ...]
) -> tuple[NDArray[np.float64], ...]:
    """Pieces of controlled-access arcs shrunk to their start node (exits only at junctions;
    the end node is seeded by the arcs leaving it)."""
    codes = [i for i, k in enumerate(net.kinds) if str(k).startswith(CONTROLLED_ACCESS_PREFIXES)]
    if not codes:
        return pieces
    aidx = np.flatnonzero(dist_s[net.tail] <= t_max)
    ctrl = np.zeros(len(pieces[0]), dtype=bool)
    ctrl[: aidx.size] = np.isin(net.kind[aidx], codes)
    x0, y0, x1, y1, t0, dt, t_twin = (np.array(p, copy=True) for p in pieces)
    x1[ctrl], y1[ctrl], dt[ctrl] = x0[ctrl], y0[ctrl], 0.0
    t_twin[ctrl] = np.inf
    return x0, y0, x1, y1, t0, dt, t_twin


LOCAL_KMH = 20.0
LOCAL_DETOUR = 1.3


def _piece_time(
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    ax: NDArray[np.float64],
    ay: NDArray[np.float64],
    bx: NDArray[np.float64],
    by: NDArray[np.float64],
    ta: NDArray[np.float64],
    tb: NDArray[np.float64],
    slow: float,
) -> NDArray[np.float64]:
    """Exact min over q on segment a-b of t(q) + |p - q| * slow, t linear from ta to tb.

    With u the distance along the segment, g(u) = ta + a u + slow * hypot(u - u_p, h) is
    convex; its free minimum is u_p - h a / sqrt(slow² - a²) when a < slow (else u = 0).
    """
    dx, dy = bx - ax, by - ay
    length = np.hypot(dx, dy)
    ls = np.where(length > 0, length, 1.0)
    rx, ry = px - ax, py - ay
    up = (rx * dx + ry * dy) / ls
    h = np.where(length > 0, np.abs(rx * dy - ry * dx) / ls, np.hypot(rx, ry))
    a = (tb - ta) / ls
    fast = a < slow
    k = a / np.sqrt(np.where(fast, slow * slow - a * a, 1.0))
    u = np.where(fast, np.clip(up - h * k, 0.0, length), 0.0)
    return np.asarray(ta + a * u + slow * np.hypot(up - u, h))


def _local_isochrones(
    pieces: tuple[NDArray[np.float64], ...],
    ox: NDArray[np.float64],
    oy: NDArray[np.float64],
    thresholds_s: list[float],
    speed_ms: float,
    res: float,
) -> tuple[list[shapely.Geometry], float]:
    """Polygons {p : min_q t(q) + |p - q| / speed <= T} per threshold T, and the resolution.

    The field is evaluated exactly per cell for a few candidate pieces (closed form on the
    straight piece); candidates come from distance transforms of the pieces' samples bucketed
    by time (the nearest piece of each time bucket), then improved near the contours by the
    candidates of neighbouring cells.
    """
    x0, y0, x1, y1, t0, dt, _ = pieces
    t_max = max(thresholds_s)
    ok = t0 <= t_max
    f = np.where(dt[ok] > 0, np.clip((t_max - t0[ok]) / np.where(dt[ok] > 0, dt[ok], 1.0), 0, 1), 1)
    ax = np.r_[x0[ok], ox]
    ay = np.r_[y0[ok], oy]
    bx = np.r_[x0[ok] + f * (x1[ok] - x0[ok]), ox]
    by = np.r_[y0[ok] + f * (y1[ok] - y0[ok]), oy]
    ta = np.r_[t0[ok], np.zeros(ox.size)]
    tb = np.r_[t0[ok] + f * dt[ok], np.zeros(ox.size)]
    slow = 1.0 / speed_ms
    ra, rb = (t_max - ta) * speed_ms, (t_max - tb) * speed_ms
    lo_x = float(min((ax - ra).min(), (bx - rb).min()))
    hi_x = float(max((ax + ra).max(), (bx + rb).max()))
    lo_y = float(min((ay - ra).min(), (by - rb).min()))
    hi_y = float(max((ay + ra).max(), (by + rb).max()))
    area = (hi_x - lo_x) * (hi_y - lo_y)
    if area / (res * res) > MAX_CELLS:
        new = float(np.sqrt(area / MAX_CELLS))
        log.info("isochrone grid coarsened from %.1f m to %.1f m", res, new)
        res = new
    pad = 2.5 * res
    xmin, ymin = lo_x - pad, lo_y - pad
    nx = int(np.ceil((hi_x + pad - xmin) / res)) + 1
    ny = int(np.ceil((hi_y + pad - ymin) / res)) + 1
    xs: NDArray[np.float64] = xmin + res * np.arange(nx, dtype=np.float64)
    ys: NDArray[np.float64] = ymin + res * np.arange(ny, dtype=np.float64)
    # samples every half cell along every piece, with their exact times
    seg = np.hypot(bx - ax, by - ay)
    n = np.maximum(np.ceil(seg / (0.5 * res)).astype(np.int64), 1) + 1
    piece = np.repeat(np.arange(seg.size), n)
    k = np.arange(piece.size) - np.repeat(np.cumsum(n) - n, n)
    s = k / (n[piece] - 1)
    px = ax[piece] + s * (bx - ax)[piece]
    py = ay[piece] + s * (by - ay)[piece]
    pt = ta[piece] + s * (tb - ta)[piece]
    ci = np.clip(np.rint((px - xmin) / res).astype(np.int64), 0, nx - 1)
    cj = np.clip(np.rint((py - ymin) / res).astype(np.int64), 0, ny - 1)
    big = 2.0 * t_max + 60.0
    field = np.full((ny, nx), big)
    best = np.full((ny, nx), -1, dtype=np.int64)
    width = max(t_max / 8.0, 4.0 * res * slow)
    bucket = np.minimum((pt / width).astype(np.int64), int(t_max / width))
    ff, fb = field.ravel(), best.ravel()  # flat views
    for b in np.unique(bucket):
        sel = np.flatnonzero(bucket == b)
        tmin = float(pt[sel].min())
        reach = (t_max - tmin) * speed_ms + 2 * res
        c0 = max(int((px[sel].min() - reach - xmin) / res), 0)
        c1 = min(int((px[sel].max() + reach - xmin) / res) + 2, nx)
        r0 = max(int((py[sel].min() - reach - ymin) / res), 0)
        r1 = min(int((py[sel].max() + reach - ymin) / res) + 2, ny)
        w = c1 - c0
        lab = np.full((r1 - r0) * w, -1, dtype=np.int64)
        lab[(cj[sel] - r0) * w + ci[sel] - c0] = piece[sel]
        d, (jy, jx) = ndimage.distance_transform_edt(
            (lab < 0).reshape(r1 - r0, w), sampling=res, return_indices=True
        )
        # a lower bound of this bucket's times: skip the cells it cannot reach or improve
        near = tmin + (np.asarray(d) - res) * slow < np.minimum(field[r0:r1, c0:c1], t_max)
        loc = np.flatnonzero(near)
        cand = lab[jy.ravel()[loc] * w + jx.ravel()[loc]]
        rr, cc = np.divmod(loc, w)
        rr += r0
        cc += c0
        val = _piece_time(xs[cc], ys[rr], ax[cand], ay[cand], bx[cand], by[cand],
                          ta[cand], tb[cand], slow)  # fmt: skip
        cell = rr * nx + cc
        upd = val < ff[cell]
        ff[cell[upd]] = val[upd]
        fb[cell[upd]] = cand[upd]
    # Near the contours, also try the pieces that won the neighbouring cells (steps of 8 to 1
    # cells, as in jump flooding): fixes cells whose bucket's nearest sample was not the best.
    band = np.zeros(ny * nx, dtype=bool)
    for t in thresholds_s:
        band |= np.abs(ff - t) < width + 2 * res * slow
    cell = np.flatnonzero(band)
    rr, cc = np.divmod(cell, nx)
    px_, py_ = xs[cc], ys[rr]
    for step in (8, 4, 2, 1, 1):
        for oy_, ox_ in ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)):
            other = np.clip(rr + oy_ * step, 0, ny - 1) * nx + np.clip(cc + ox_ * step, 0, nx - 1)
            cand = fb[other]
            has = np.flatnonzero((cand >= 0) & (cand != fb[cell]))  # most share the piece
            if has.size == 0:
                continue
            k, cand = cell[has], cand[has]
            val = _piece_time(px_[has], py_[has], ax[cand], ay[cand], bx[cand], by[cand],
                              ta[cand], tb[cand], slow)  # fmt: skip
            upd = val < ff[k]
            ff[k[upd]] = val[upd]
            fb[k[upd]] = cand[upd]
    out = []
    for t in thresholds_s:
        geom = polygons_from_field(xs, ys, field, t)
        # The reach is connected per origin; detached parts smaller than a cell are the tips of
        # cones thinner than the grid (each origin's own disc is far larger): drop them.
        parts = shapely.get_parts(geom)
        small = shapely.area(parts) < res * res
        if small.any() and not small.all():
            keep = list(parts[~small])
            geom = shapely.MultiPolygon(keep) if len(keep) > 1 else keep[0]
        out.append(geom)
    return out, res


def _simplify_nested(geoms: list[shapely.Geometry], tol: float) -> list[shapely.Geometry]:
    """Simplify with topology preserved; each polygon is then clipped to the next larger one,
    since simplification moves edges by up to ``tol`` and the bands must stay nested."""
    if tol > 0:
        geoms = [shapely.simplify(g, tol, preserve_topology=True) for g in geoms]
    if len(geoms) < 2:
        return geoms
    # on one 1 cm grid (the simplified outlines too), the clipped bands nest exactly
    geoms = [polygonal(shapely.set_precision(g, 0.01)) for g in geoms]
    for i in range(len(geoms) - 2, -1, -1):
        if not geoms[i].is_empty:
            geoms[i] = polygonal(geoms[i].intersection(geoms[i + 1], grid_size=0.01))
    return geoms


def _hull_styles(
    pieces: tuple[NDArray[np.float64], ...], ts: list[float], access: float, style: str
) -> list[shapely.Geometry]:
    """The opt-in styles: ``exact`` (buffer-union of the reached pieces), ``convex`` and
    ``concave`` hulls of them, each grown by ``access``."""
    geoms = []
    for t in ts:
        x0, y0, x1, y1 = reached_pieces(pieces, t)
        lines = shapely.linestrings(
            np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)
        )
        if style == "exact":
            geoms.append(shapely.union_all(shapely.buffer(lines, access, quad_segs=8)))
        elif style == "convex":
            geoms.append(shapely.convex_hull(shapely.union_all(lines)).buffer(access))
        else:
            pts = shapely.multipoints(np.column_stack([np.r_[x0, x1], np.r_[y0, y1]]))
            geoms.append(shapely.concave_hull(pts, ratio=0.2).buffer(access))
    return geoms


def isochrones(
    net: Network,
    origins: PointsLike,
    *,
    minutes: MinutesLike = (15, 30),
    access_m: float | None = None,
    resolution_m: float | None = None,
    simplify_m: float | None = None,
    style: Style = "network",
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    access_kmh: float = WALK_KMH,
    local_kmh: float | None = None,
) -> gpd.GeoDataFrame:
    """Isochrone polygons: the area reached in time, through the network and then either within
    ``access_m`` of it or, on a coarse network, over the unmapped local streets.

    A coarse network (``net.coarse``, such as the embedded major-road skeleton) leaves out the
    local streets that serve the land between its roads, so "within 100 m of a reached road"
    would draw thin ribbons. There the local streets are modelled instead (``local_kmh``): a
    place p is reached within T when ``min over q of t(q) + |p - q| / v <= T``, where q runs over
    the reached network (partly reached arcs up to the reached point, times linear along each
    arc) and the origins themselves (t = 0), and ``v = local_kmh / 1.3`` (the straight line times
    a detour factor of 1.3, a common ratio of street distance to crow-fly distance). The
    assumption: 20 km/h by car on local streets (CJJ 37-2012 designs 支路 for 20-40 km/h;
    junctions and access roads bring the average down), so v is about 15.4 km/h.

    Parameters
    ----------
    net
        The network.
    origins
        One ``(lon, lat)``, several (the nearest origin counts), or points in a GeoDataFrame.
    minutes
        Thresholds; one row each, nested (each contains the smaller ones).
    access_m
        How far from a reached road a place still counts (by mode: drive 100 m, walk 50 m,
        bike 75 m, rail 100 m).
    resolution_m
        Grid cell size; ``access_m / 4`` by default, with local streets 1% of the local reach
        (``max(minutes) * v``: 77 m at 30 minutes); coarsened automatically beyond 1 million
        cells, with a log message.
    simplify_m
        Simplification tolerance (topology preserved, GEOS), 0 off. By default none for the
        access rule, whose outline is pruned as it is refined (vertices within 1/100 of a
        cell of the segment joining their neighbours are dropped: the other vertices lie on
        the exact boundary, arcs densified); with local streets ``resolution_m / 25`` (it
        drops the collinear vertices of the grid contour).
    style
        ``"network"`` (default, described in the module docstring); ``"exact"`` (buffer-union
        of the reached pieces: the reference, slow on big networks); ``"convex"`` and
        ``"concave"`` hulls of the reached network, opt-in only (they swallow road-free land).
    max_snap_m, access_kmh
        As in :func:`~cztgeo.routing.travel_times`.
    local_kmh
        Speed on the unmapped local streets (km/h), crow-fly distance divided by the detour
        factor 1.3. ``None`` (default): 20 km/h on a coarse network, off on a full one; 0: off
        (the ``access_m`` rule). Only with ``style="network"``; ``access_m`` is then unused.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, one row per threshold: ``minutes``, ``area_km2`` (measured in the
        network's UTM zone), ``network`` (source label), ``coarse``, ``snap_distance_m`` (the
        farthest origin's distance to the network), ``access_m``, ``resolution_m`` (grid cell),
        ``local_kmh`` (local-street speed used, 0 when off), ``local_detour`` (its detour
        factor), ``local_effective_kmh`` (their ratio), ``geometry`` ((Multi)Polygon, holes
        kept). The settings are columns so that they survive a file round trip.
    """
    thresholds = _check_minutes(minutes)
    access = float(access_m if access_m is not None else DEFAULT_ACCESS_M.get(net.mode, 100.0))
    if not np.isfinite(access) or access <= 0:
        raise InputError(f"access_m must be positive, got {access_m!r}")
    res = float(resolution_m if resolution_m is not None else access / 4.0)
    if not np.isfinite(res) or res <= 0:
        raise InputError(f"resolution_m must be positive, got {resolution_m!r}")
    local = float(local_kmh if local_kmh is not None else (LOCAL_KMH if net.coarse else 0.0))
    if not np.isfinite(local) or local < 0:
        raise InputError(f"local_kmh must be a positive number or 0 (off), got {local_kmh!r}")
    if style not in ("network", "exact", "convex", "concave"):
        raise InputError(f"unknown style {style!r}: use 'network', 'exact', 'convex' or 'concave'")
    if style != "network":
        if local_kmh is not None and local > 0:
            raise InputError(
                f"local_kmh works with style='network' only (got style={style!r}): drop "
                "local_kmh or use style='network'"
            )
        local = 0.0
    t_max = max(thresholds) * 60.0
    dist, snap = travel_times_s(
        net, origins, max_minutes=max(thresholds), max_snap_m=max_snap_m, access_kmh=access_kmh
    )
    pieces = _pieces(
        net, dist, snap, access_kmh, t_max,
        drop_twins_s=None if style == "network" and local > 0 else min(thresholds) * 60.0,
    )  # fmt: skip
    ts = [m * 60.0 for m in thresholds]
    geoms: list[shapely.Geometry]
    if style == "network":
        if local > 0:
            ox, oy = project(net, as_lonlat(origins))
            speed = local / LOCAL_DETOUR / 3.6
            if resolution_m is None:  # the field is exact at the nodes: 1% of the local reach
                res = max(t_max * speed / 100.0, 1.0)
            pieces = _controlled_access(net, dist, t_max, pieces)
            geoms, res = _local_isochrones(pieces, ox, oy, ts, speed, res)
        else:
            geoms, res = grid_isochrones(pieces, ts, access, res)
        # the access rule's vertices lie on the exact boundary (arcs densified), pruned to
        # 1/100 of a cell as they are refined; the local streets' grid contour only loses its
        # collinear ones
        default = res / 25.0 if local > 0 else 0.0
        geoms = _simplify_nested(geoms, default if simplify_m is None else float(simplify_m))
    else:
        geoms = _hull_styles(pieces, ts, access, style)
    areas = [g.area / 1e6 for g in geoms]
    wgs = list(reproject_geometry(np.array(geoms, dtype=object), net.crs, WGS84))
    label = net.source + (" (coarse skeleton)" if net.coarse else "")
    return gpd.GeoDataFrame(
        {
            "minutes": thresholds,
            "area_km2": areas,
            "network": label,
            "coarse": net.coarse,
            "snap_distance_m": float(np.max(snap.distance_m)) if len(snap.distance_m) else 0.0,
            "access_m": access,
            "resolution_m": res,
            "local_kmh": local,
            "local_detour": LOCAL_DETOUR,
            "local_effective_kmh": local / LOCAL_DETOUR,
        },
        geometry=wgs,
        crs="EPSG:4326",
    )
