"""Green-heart encroachment: which features touch which zone, by how much, and which are near.

All measurement is in a metric CRS (UTM 49N); results keep the input's ids and CRS.

Most features are far from a zone's boundary: each zone is laid on a grid whose cells are
classed once (wholly inside the zone, wholly farther than the tolerance, or near the boundary),
and a feature whose bounding box covers only inside cells (or only far cells) is settled from
integral images of those classes without any geometry operation. Only the features near a
boundary go through the exact GEOS predicates; only those crossing it are clipped; distances
of near features come from a tree of the boundary's segments. Proven-valid simple polygons
(strictly convex rings) skip the GEOS validity check. A million buildings take about a second.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from geopandas.array import GeometryArray

from .crs import METRIC_CRS, WGS84, normalize_crs, to_wgs84
from .encroach_guard import GcjGuardResult, gcj_guard
from .encroach_table import measure_at, row_order, text_column
from .errors import CRSError, EncroachmentWarning, GeometryError, InputError
from .io import repair_geometries
from .types import CRSLike
from .zonegrid import Facts, distance_outside, overlaps, proven_valid, settle

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "EncroachmentWarning",
    "GcjGuardResult",
    "check_zone_names",
    "encroachment",
    "gcj_guard",
]

log = logging.getLogger(__name__)

STATUSES = ("inside", "partly", "sliver", "near", "outside")
#: Dimension of each GEOS type id (point, line, ring, polygon, multi..., collection).
_DIMENSION = np.array([0, 1, 1, 2, 0, 1, 2, 0])
_ID_CANDIDATES = ("id", "fid", "feature_id", "site_id", "编号", "ID", "FID")


def _check_coordinates(
    features: gpd.GeoDataFrame,
    crs: CRSLike | None,
    coords: NDArray[np.float64],
    bounds: NDArray[np.float64],
) -> None:
    """:func:`cztgeo.io.check_coordinates` on the outline of the coordinates' bounding box
    (65 points a side) when every coordinate is finite, else on every coordinate.

    Its tests are box tests of the coordinates (after projecting them to lon/lat for a projected
    CRS), and the extreme longitudes and latitudes of a rectangle's image under a projection lie
    on its outline, so an outline that passes clears every vertex inside it. An outline that
    fails re-runs the full check, which names the rows.
    """
    from .io import check_coordinates

    if len(coords) and np.isfinite(float(np.sum(coords))):  # nan or inf if any is not
        x0, y0, x1, y1 = (f(bounds[:, k]) for k, f in enumerate((np.min, np.min, np.max, np.max)))
        t = np.linspace(0.0, 1.0, 65)
        xs = np.r_[x0 + t * (x1 - x0), np.full(65, x1), x1 - t * (x1 - x0), np.full(65, x0)]
        ys = np.r_[np.full(65, y0), y0 + t * (y1 - y0), np.full(65, y1), y1 - t * (y1 - y0)]
        outline = gpd.GeoDataFrame(geometry=shapely.points(xs, ys), crs=features.crs)
        try:
            check_coordinates(outline, crs, what="features")
            return
        except (CRSError, GeometryError):
            pass  # the full check below names the rows
    check_coordinates(features, crs, what="features")


def _repair(
    features: gpd.GeoDataFrame, ids: pd.Series, facts: Facts
) -> tuple[gpd.GeoDataFrame, list[str], NDArray[np.int64]]:
    """:func:`cztgeo.io.repair_geometries` on the features not proven valid (same notes), and
    the rows it may have changed."""
    geoms = np.asarray(features.geometry.values)
    doubt = np.flatnonzero(~proven_valid(geoms, facts))
    if doubt.size == 0:
        return features, [], doubt
    part, notes = repair_geometries(
        features.iloc[doubt], labels=pd.Index(ids.to_numpy()[doubt]), label="id"
    )
    if not notes:
        return features, [], doubt[:0]
    fixed = features.geometry.values.copy()
    fixed[doubt] = part.geometry.values
    out = features.copy()
    out[out.geometry.name] = gpd.GeoSeries(fixed, index=features.index, crs=features.crs)
    return out, notes, doubt


@dataclass
class _Prepared:
    gdf: gpd.GeoDataFrame  # features in their declared CRS (WGS84 for GCJ-02/BD-09)
    ids: pd.Series
    id_name: str
    metric: NDArray[np.object_]  # shapely geometries in METRIC_CRS
    types: NDArray[np.int64]  # of the metric geometries
    bounds: NDArray[np.float64]  # of the metric geometries
    notes: list[str] = field(default_factory=list)
    out_crs: Any = None


def _ids(features: gpd.GeoDataFrame, id_column: str | None) -> tuple[pd.Series, str, list[str]]:
    """The feature ids, their column name, and what is wrong with them (missing, duplicate)."""
    if id_column is not None and not isinstance(id_column, str):
        raise InputError(f"id_column must be a column name, got {id_column!r}")
    if id_column is None:
        id_column = next((c for c in _ID_CANDIDATES if c in features.columns), None)
    if id_column is None:
        ids = pd.Series(features.index, index=features.index, name="feature_id")
        id_name = "feature_id"
    else:
        if id_column not in features.columns:
            raise InputError(f"no id column {id_column!r}; columns are {list(features.columns)}")
        ids = features[id_column]
        id_name = id_column
    problems: list[str] = []
    values = ids.to_numpy()
    if values.dtype.kind in "iu" and bool((values[1:] > values[:-1]).all()):
        return ids, id_name, problems  # integers strictly increasing: none missing, no repeat
    if ids.isna().any():
        rows = list(features.index[ids.isna()][:5])
        problems.append(f"{int(ids.isna().sum())} missing ids in {id_name!r} (rows {rows})")
    dup = ids.iloc[:0] if ids.is_unique else ids[ids.duplicated(keep=False) & ids.notna()]
    if len(dup):
        problems.append(f"duplicate ids in {id_name!r}: {sorted(set(dup.astype(str)))[:5]}")
    return ids, id_name, problems


def _prepare(features: gpd.GeoDataFrame, crs: Any, id_column: str | None) -> _Prepared:
    if not isinstance(features, gpd.GeoDataFrame):
        raise InputError("features must be a GeoDataFrame (read files with cztgeo.read_vector)")
    if len(features) == 0:
        raise InputError("features are empty: nothing to check")
    declared = normalize_crs(crs) if crs is not None else features.crs
    if declared is None:
        raise CRSError(
            "features have no CRS: declare it, e.g. crs='EPSG:4326', or crs='gcj02' / 'bd09' "
            "for data drawn on Amap / Baidu maps (CLI: --crs)"
        )
    ids, id_name, problems = _ids(features, id_column)
    geoms = np.asarray(features.geometry.values)
    n_coords = shapely.get_num_coordinates(geoms)
    empty = n_coords == 0  # null or empty
    if empty.any():
        bad = list(ids[empty].astype(str)[:5])
        problems.append(f"{int(empty.sum())} null or empty geometries (ids {bad})")
    types = shapely.get_type_id(geoms)
    collections = types == 7
    if collections.any():
        bad = list(ids[collections].astype(str)[:5])
        problems.append(f"{int(collections.sum())} geometry collections (ids {bad}): split them")
    if problems:
        raise GeometryError("; ".join(problems) + "; fix the input and run again")
    facts = Facts(types, n_coords, shapely.get_coordinates(geoms), shapely.bounds(geoms))
    _check_coordinates(features, declared if crs is not None else None, facts.coords, facts.bounds)
    gdf, notes, changed = _repair(features, ids, facts)
    if isinstance(declared, str):  # GCJ-02 / BD-09: through WGS84
        gdf = to_wgs84(gdf, declared)
        out_crs: Any = WGS84
    else:
        gdf = gdf.set_crs(declared, allow_override=True)
        out_crs = declared
    types, bounds = facts.types.copy(), facts.bounds
    if gdf.crs.equals(METRIC_CRS):
        metric = np.asarray(gdf.geometry.values)
        if changed.size:
            bounds = bounds.copy()
            bounds[changed] = shapely.bounds(metric[changed])
    else:
        metric = np.asarray(gdf.to_crs(METRIC_CRS).geometry.values)
        bounds = shapely.bounds(metric)
    types[changed] = shapely.get_type_id(metric[changed])
    return _Prepared(gdf, ids, id_name, metric, types, bounds, notes, out_crs)


def encroachment(
    features: gpd.GeoDataFrame,
    green_heart: gpd.GeoDataFrame | None = None,
    *,
    crs: CRSLike | None = None,
    id_column: str | None = None,
    zones: list[str] | None = None,
    tolerance_m: float = 200.0,
    min_area_m2: float = 1.0,
    include_outside: bool = False,
    guard: bool = True,
    reference: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Overlaps of features with the green heart's zones, and features near it.

    Parameters
    ----------
    features
        Planned sites, buildings (polygons), road alignments (lines) or points, any CRS.
    green_heart
        Zones as :func:`~cztgeo.greenheart.load_green_heart` returns them; default the embedded
        approximate sketch (2024-2035 version).
    crs
        The features' real CRS when missing or wrong (``"gcj02"``, ``"bd09"``, EPSG code).
    id_column
        Column with unique feature ids (guessed among ``id``, ``fid``, ... else the index).
    zones
        Only these zones (canonical or English names).
    tolerance_m
        Features outside every zone but within this distance of one are ``near``.
    min_area_m2
        Polygon overlaps smaller than this are ``sliver`` (reported, not dropped).
    include_outside
        Also return one ``outside`` row for each feature that touches and nears nothing.
    guard
        Run :func:`gcj_guard` when the features are declared WGS84/CGCS2000.
    reference
        Reference layer for the guard (default: the embedded OSM road skeleton).

    Returns
    -------
    geopandas.GeoDataFrame
        In the features' CRS (WGS84 for GCJ-02/BD-09 input), one row per feature x zone:
        the id column, ``zone``, ``version``, ``approximate`` (the boundary is the sketch),
        ``status`` (inside / partly / sliver / near / outside), ``geom_type``,
        ``overlap_area_m2``, ``overlap_length_m``, ``feature_area_m2``, ``feature_length_m``,
        ``share_of_feature``, ``share_of_zone``, ``distance_m`` (0 when overlapping), and
        ``geometry`` (the overlap; the feature itself for near/outside rows). The first
        column is always the feature id (``id_column``, else ``feature_id``).

    Warns
    -----
    EncroachmentWarning
        Invalid geometries repaired, a suspected GCJ-02 offset, or a guard that could not
        check (no reference data nearby).
    """
    from .greenheart import load_green_heart
    from .io import check_number

    tolerance_m = check_number("tolerance_m", tolerance_m, strict=False)  # type: ignore[assignment]
    min_area_m2 = check_number("min_area_m2", min_area_m2, strict=False)  # type: ignore[assignment]
    prep = _prepare(features, crs, id_column)
    gh = green_heart if green_heart is not None else load_green_heart()
    if not isinstance(gh, gpd.GeoDataFrame) or "zone" not in gh:
        raise InputError(
            "green_heart must be a GeoDataFrame from load_green_heart (a 'zone' column)"
        )
    gh = to_wgs84(gh)
    available = sorted(set(gh["zone"]))
    if zones:
        wanted = set(check_zone_names(zones, available, option="zones"))
        gh = gh[gh["zone"].isin(wanted)]
    declared = normalize_crs(crs) if crs is not None else features.crs
    if guard and isinstance(declared, pyproj.CRS) and declared.is_geographic:
        res = gcj_guard(to_wgs84(prep.gdf), reference)
        if res.suspect or (not res.checked and res.message):
            warnings.warn(res.message, EncroachmentWarning, stacklevel=2)
    if prep.notes:
        warnings.warn(
            f"{len(prep.notes)} invalid geometries repaired: " + "; ".join(prep.notes[:10]),
            EncroachmentWarning,
            stacklevel=2,
        )

    geoms, bounds = prep.metric, prep.bounds
    dim = _DIMENSION[prep.types]
    gh_metric = gh.to_crs(METRIC_CRS)
    parts: list[_Rows] = []
    for k, zgeom in enumerate(gh_metric.geometry.values):
        rows = _zone_rows(k, zgeom, geoms, dim, bounds, tolerance_m, min_area_m2)
        if rows is not None:
            parts.append(rows)
    meta = [
        (z["zone"], z.get("version", ""), bool(z.get("approximate", False)))
        for z in gh_metric.to_dict("records")
    ]
    return _assemble(prep, parts, meta, gh, dim, include_outside=include_outside)


def _lengths(
    geoms: NDArray[np.object_], idx: NDArray[np.int64], dim: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Length of ``geoms[idx]`` where a line (``dim`` 1, per idx), 0 elsewhere."""
    out = np.zeros(idx.size)
    line = dim == 1
    out[line] = shapely.length(geoms[idx[line]])
    return out


@dataclass(frozen=True)
class _Rows:
    """The rows of one zone: feature index, status code (in :data:`STATUSES`), overlap
    geometry (None: the feature itself), measures."""

    zone: int
    idx: NDArray[np.int64]
    status: NDArray[np.int64]
    geometry: NDArray[np.object_]
    overlap_area_m2: NDArray[np.float64]
    overlap_length_m: NDArray[np.float64]
    share_of_feature: NDArray[np.float64]
    share_of_zone: NDArray[np.float64]
    distance_m: NDArray[np.float64]
    feature_area_m2: NDArray[np.float64]
    feature_length_m: NDArray[np.float64]


def _zone_rows(
    k: int,
    zgeom: shapely.Geometry,
    geoms: NDArray[np.object_],
    dim: NDArray[np.int64],
    bounds: NDArray[np.float64],
    tol: float,
    min_area_m2: float,
) -> _Rows | None:
    """Overlapping and near features of one zone (metric); None when there are none."""
    shapely.prepare(zgeom)
    inside_fast, exact = settle(zgeom, bounds, tol)
    hits = shapely.intersects(zgeom, geoms[exact])
    cross_idx, apart = exact[hits], exact[~hits]
    n_dist = distance_outside(zgeom, geoms[apart], tol)
    near = n_dist <= tol
    n_idx, n_dist = apart[near], n_dist[near]
    contained = shapely.contains(zgeom, geoms[cross_idx])
    over_idx = np.r_[inside_fast, cross_idx]
    inside = np.r_[np.ones(inside_fast.size, dtype=bool), contained]
    order = np.argsort(over_idx, kind="stable")
    over_idx, inside = over_idx[order], inside[order]
    if over_idx.size + n_idx.size == 0:
        return None
    d = dim[over_idx]
    ov = np.full(over_idx.size, None, dtype=object)  # None: the feature itself
    cross = ~inside
    ov[cross] = overlaps(zgeom, geoms[over_idx[cross]])
    f_area = measure_at(shapely.area, geoms, over_idx)
    f_len = _lengths(geoms, over_idx, d)
    o_area = f_area.copy()
    o_area[cross] = shapely.area(ov[cross])
    o_len = f_len.copy()
    o_len[cross] = np.where(d[cross] == 1, shapely.length(ov[cross]), 0.0)
    share = np.where(
        d == 2,
        o_area / np.where(f_area > 0, f_area, 1.0),
        np.where(d == 1, o_len / np.where(f_len > 0, f_len, 1.0), 1.0),
    )
    status = np.where(inside, 0, 1)
    status[(d == 2) & (o_area < min_area_m2) & ~inside] = 2
    n = n_idx.size
    nd = dim[n_idx]
    return _Rows(
        zone=k,
        idx=np.r_[over_idx, n_idx],
        status=np.r_[status, np.full(n, 3)],
        geometry=np.r_[ov, np.full(n, None, dtype=object)],
        overlap_area_m2=np.r_[np.where(d == 2, o_area, 0.0), np.zeros(n)],
        overlap_length_m=np.r_[o_len, np.zeros(n)],
        share_of_feature=np.r_[share, np.zeros(n)],
        share_of_zone=np.r_[np.where(d == 2, o_area / zgeom.area, 0.0), np.zeros(n)],
        distance_m=np.r_[np.zeros(over_idx.size), n_dist],
        feature_area_m2=np.r_[f_area, shapely.area(geoms[n_idx])],
        feature_length_m=np.r_[f_len, _lengths(geoms, n_idx, nd)],
    )


def _assemble(
    prep: _Prepared,
    parts: list[_Rows],
    meta: list[tuple[str, str, bool]],
    gh: gpd.GeoDataFrame,
    dim: NDArray[np.int64],
    *,
    include_outside: bool,
) -> gpd.GeoDataFrame:
    """One table from the zones' rows (plus ``outside`` rows), sorted by status, then by
    overlap area and length, largest first; geometries in the features' CRS."""
    if include_outside:
        touched = np.zeros(len(prep.metric), dtype=bool)
        for p in parts:
            touched[p.idx] = True
        o_idx = np.flatnonzero(~touched)
        zero = np.zeros(o_idx.size)
        parts = [*parts, _Rows(-1, o_idx, np.full(o_idx.size, 4), np.full(o_idx.size, None, dtype=object),
                               zero, zero, zero, zero, np.full(o_idx.size, np.nan),
                               measure_at(shapely.area, prep.metric, o_idx),
                               _lengths(prep.metric, o_idx, dim[o_idx]))]  # fmt: skip
    if not parts or sum(p.idx.size for p in parts) == 0:
        return _empty(prep)
    cat = {f: np.concatenate([getattr(p, f) for p in parts]) for f in _Rows.__dataclass_fields__
           if f != "zone"}  # fmt: skip
    zone_of = np.concatenate([np.full(p.idx.size, p.zone) for p in parts])
    order = row_order(cat["status"], cat["overlap_area_m2"], cat["overlap_length_m"])
    cat = {f: v[order] for f, v in cat.items()}
    zone_of = zone_of[order]
    i = cat["idx"]
    versions = gh["version"].iloc[0] if len(gh) else ""
    zone_meta = [*meta, (None, versions, bool(gh["approximate"].any()) if len(gh) else False)]
    zname, zver, zapprox = ([m[j] for m in zone_meta] for j in range(3))
    geometry = _out_geometry(prep, i, cat["geometry"])
    table = {
        prep.id_name: prep.ids.to_numpy()[i],
        # None marks outside rows: an object column whenever they were asked for
        "zone": pd.Series(np.array(zname, dtype=object)[zone_of], dtype=object)
        if include_outside
        else text_column(zname, zone_of),
        "version": text_column(zver, zone_of),
        "approximate": np.array(zapprox, dtype=bool)[zone_of],
        "geom_type": text_column(["point", "line", "polygon"], dim[i]),
        "status": text_column(STATUSES, cat["status"]),
        **{c: cat[c] for c in ("overlap_area_m2", "overlap_length_m", "share_of_feature",
                               "share_of_zone", "distance_m", "feature_area_m2",
                               "feature_length_m")},
    }  # fmt: skip
    return gpd.GeoDataFrame(table, geometry=geometry, crs=prep.out_crs)


def _out_geometry(
    prep: _Prepared, idx: NDArray[np.int64], overlap: NDArray[np.object_]
) -> gpd.GeoSeries:
    """Each row's geometry in the features' CRS: the feature itself (None in ``overlap``) from
    the input as declared, an overlap (metric) reprojected."""
    out = np.asarray(prep.gdf.geometry.values)[idx]
    clipped = np.flatnonzero(~shapely.is_missing(overlap))
    if clipped.size:
        moved = gpd.GeoSeries(overlap[clipped], crs=METRIC_CRS).to_crs(prep.out_crs)
        out[clipped] = moved.to_numpy()
    return gpd.GeoSeries(GeometryArray(out, crs=prep.out_crs))  # shapely geometries or None


def _empty(prep: _Prepared) -> gpd.GeoDataFrame:
    """The empty result, with the columns (and dtypes) of a full one."""
    cols = ["zone", "version", "approximate", "geom_type", "status", "overlap_area_m2",
            "overlap_length_m", "share_of_feature", "share_of_zone", "distance_m"]  # fmt: skip
    table = pd.DataFrame(columns=cols)
    table.insert(0, prep.id_name, prep.ids.to_numpy()[:0])
    table["geom_type"] = np.array([], dtype=str)
    table["feature_area_m2"] = np.zeros(0)
    table["feature_length_m"] = np.zeros(0)
    return gpd.GeoDataFrame(table, geometry=[], crs=METRIC_CRS).to_crs(prep.out_crs)


def summarize(result: gpd.GeoDataFrame) -> pd.DataFrame:
    """Totals per zone and status: feature count, overlap area (m²) and length (m)."""
    if len(result) == 0:
        return pd.DataFrame(
            columns=["zone", "status", "features", "overlap_area_m2", "overlap_length_m"]
        )
    grp = result.groupby(["zone", "status"], dropna=False)
    out = grp.agg(
        features=("status", "size"),
        overlap_area_m2=("overlap_area_m2", "sum"),
        overlap_length_m=("overlap_length_m", "sum"),
    ).reset_index()
    rank = out["status"].map({s: k for k, s in enumerate(STATUSES)})
    return out.assign(_r=rank).sort_values(["zone", "_r"]).drop(columns="_r").reset_index(drop=True)


def check_zone_names(
    names: Sequence[str], available: Iterable[str], *, option: str = "fail_on"
) -> list[str]:
    """Canonical names of ``names``; refuses a name the green-heart layer does not have.

    A gate on a zone that is not there would always pass: the unzoned sketch and misspelt
    names are refused with the list of zones the layer has.

    Raises
    ------
    InputError
    """
    from .greenheart import UNZONED, normalize_zone

    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise InputError(f"{option} must be a list of zone names, got {names!r}")
    have = sorted({str(z) for z in available})
    wanted = [normalize_zone(z) for z in names]
    if have == [UNZONED] and any(w != UNZONED for w in wanted):
        raise InputError(
            f"{option}: zones {list(names)} are not in the green-heart layer: it has no zones "
            "(the approximate sketch is one unzoned polygon), so a zone gate cannot be checked; pass a zoned official "
            "file (--green-heart FILE), or drop the option to gate on the whole green heart"
        )
    unknown = [n for n, w in zip(names, wanted, strict=True) if w not in have]
    if unknown:
        raise InputError(
            f"{option}: zones {unknown} are not in the green-heart layer, which has {have}"
        )
    return wanted


def encroaching(
    result: gpd.GeoDataFrame,
    fail_on: Sequence[str] | None = None,
    *,
    available: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Rows that count as encroachment: ``inside`` or ``partly`` in one of ``fail_on`` zones
    (all zones when None). Slivers and near rows never count. ``available`` lists the zones of
    the green-heart layer checked (default: the zones in ``result``).

    Raises
    ------
    InputError
        A ``fail_on`` zone the green-heart layer of the result does not have.
    """
    hit = result["status"].isin(["inside", "partly"])
    if fail_on:
        have = available if available is not None else sorted(set(result["zone"].dropna()))
        hit &= result["zone"].isin(set(check_zone_names(fail_on, have)))
    return result[hit]
