"""Green-heart encroachment: which features touch which zone, by how much, and which are near.

All measurement is in a metric CRS (UTM 49N); results keep the input's ids and CRS. Features
inside a zone are found with a prepared-geometry ``contains`` (no polygon clipping needed);
only the features crossing a zone boundary are clipped, so a whole city's buildings take
seconds.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .crs import METRIC_CRS, WGS84, gcj02_to_wgs84, normalize_crs, to_wgs84
from .errors import CRSError, EncroachmentWarning, GeometryError, InputError
from .io import repair_geometries
from .types import CRSLike

__all__ = [
    "EncroachmentWarning",
    "GcjGuardResult",
    "check_zone_names",
    "encroachment",
    "gcj_guard",
]

log = logging.getLogger(__name__)

STATUSES = ("inside", "partly", "sliver", "near", "outside")
_ID_CANDIDATES = ("id", "fid", "feature_id", "site_id", "编号", "ID", "FID")


@dataclass(frozen=True)
class GcjGuardResult:
    """Outcome of :func:`gcj_guard`.

    ``suspect`` is True when the features sit much closer to the reference layer once the
    GCJ-02 offset is removed; ``median_m_as_is`` / ``median_m_if_gcj`` are the median distances
    from feature vertices to the reference, as declared and as if they were GCJ-02.
    """

    suspect: bool
    median_m_as_is: float
    median_m_if_gcj: float
    message: str = ""
    checked: bool = True  #: False when too few vertices lie near any reference to judge


def gcj_guard(
    features_wgs84: gpd.GeoDataFrame,
    reference: gpd.GeoDataFrame | None = None,
    *,
    sample: int = 2000,
) -> GcjGuardResult:
    """Check whether features declared WGS84 look shifted by the GCJ-02 offset.

    Compares the median distance from (a sample of) the features' vertices to a reference layer
    (default: the embedded OSM road skeleton, or e.g. an OSM road or building layer) as declared
    and after removing the GCJ-02 offset. If removing the offset brings them at least 40 % and
    80 m closer, the input is probably GCJ-02 (drawn on Amap/Tencent) mislabelled as WGS84.

    Without a reference given, the embedded road skeleton **and** the county boundary lines
    are used, and only vertices within 2 km of one of them count (a polygon far from every
    road is judged on the boundary lines it follows). When fewer than 3 vertices are that
    close, nothing can be judged: ``checked`` is False and ``message`` says so.
    """
    if reference is None:
        from .boundaries import load_boundaries
        from .network import load_network

        edges = load_network().edges()[["geometry"]]
        counties = load_boundaries("county")
        lines = gpd.GeoDataFrame(geometry=counties.boundary.values, crs=counties.crs)
        reference = pd.concat([to_wgs84(edges), to_wgs84(lines)], ignore_index=True)
        reference = gpd.GeoDataFrame(reference, geometry="geometry", crs=WGS84)
    ref = to_wgs84(reference).to_crs(METRIC_CRS)
    ref_geom = shapely.union_all(ref.geometry.values)
    coords = shapely.get_coordinates(features_wgs84.geometry.values)
    if len(coords) == 0:
        return GcjGuardResult(False, float("nan"), float("nan"), checked=False)
    rng = np.random.default_rng(0)
    if len(coords) > sample:
        coords = coords[rng.choice(len(coords), sample, replace=False)]
    tr = pyproj.Transformer.from_crs(WGS84, METRIC_CRS, always_xy=True)
    ax, ay = tr.transform(coords[:, 0], coords[:, 1])
    wx, wy = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    bx, by = tr.transform(wx, wy)
    shapely.prepare(ref_geom)
    da = shapely.distance(ref_geom, shapely.points(ax, ay))
    dg = shapely.distance(ref_geom, shapely.points(bx, by))
    near = np.minimum(da, dg) < 2000.0
    if near.sum() < 3:
        return GcjGuardResult(
            False,
            float(np.median(da)),
            float(np.median(dg)),
            "GCJ-02 guard: could not check the CRS: no feature lies within 2 km of a road or "
            "boundary line of the reference; if the data were drawn on Amap/Tencent maps "
            "declare --crs gcj02, or pass --reference with a denser OSM layer",
            checked=False,
        )
    d_as_is = float(np.median(da[near]))
    d_gcj = float(np.median(dg[near]))
    suspect = d_gcj < 0.6 * d_as_is and d_as_is - d_gcj > 80.0
    msg = ""
    if suspect:
        msg = (
            f"the input is declared WGS84 but looks shifted by the GCJ-02 offset: its vertices "
            f"lie a median {d_as_is:.0f} m from the reference layer as declared and "
            f"{d_gcj:.0f} m if read as GCJ-02; if it was drawn on Amap/Tencent maps, pass "
            f"crs='gcj02' (CLI: --crs gcj02)"
        )
    return GcjGuardResult(suspect, d_as_is, d_gcj, msg)


@dataclass
class _Prepared:
    gdf: gpd.GeoDataFrame  # features in their declared CRS (WGS84 for GCJ-02/BD-09)
    ids: pd.Series
    id_name: str
    metric: np.ndarray  # shapely geometries in METRIC_CRS
    notes: list[str] = field(default_factory=list)
    out_crs: Any = None


def _prepare(features: gpd.GeoDataFrame, crs: Any, id_column: str | None) -> _Prepared:
    from .io import check_coordinates

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
    if id_column is not None and not isinstance(id_column, str):
        raise InputError(f"id_column must be a column name, got {id_column!r}")
    # ids
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
    problems = []
    if ids.isna().any():
        rows = list(features.index[ids.isna()][:5])
        problems.append(f"{int(ids.isna().sum())} missing ids in {id_name!r} (rows {rows})")
    dup = ids[ids.duplicated(keep=False) & ids.notna()]
    if len(dup):
        problems.append(f"duplicate ids in {id_name!r}: {sorted(set(dup.astype(str)))[:5]}")
    geoms = features.geometry.values
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
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
    check_coordinates(features, declared if crs is not None else None, what="features")
    gdf, notes = repair_geometries(features, labels=pd.Index(ids), label="id")
    if isinstance(declared, str):  # GCJ-02 / BD-09: through WGS84
        gdf = to_wgs84(gdf, declared)
        out_crs: Any = WGS84
    else:
        gdf = gdf.set_crs(declared, allow_override=True)
        out_crs = declared
    metric = (
        gdf.geometry.values
        if gdf.crs.equals(METRIC_CRS)
        else gdf.to_crs(METRIC_CRS).geometry.values
    )
    return _Prepared(gdf, ids, id_name, np.asarray(metric), notes, out_crs)


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

    geoms = prep.metric
    types = shapely.get_type_id(geoms)
    dim = np.select([np.isin(types, (3, 6)), np.isin(types, (1, 2, 5))], [2, 1], 0)
    f_area = shapely.area(geoms)
    f_len = np.where(dim == 1, shapely.length(geoms), 0.0)
    tree = shapely.STRtree(geoms)
    gh_metric = gh.to_crs(METRIC_CRS)
    rows: list[pd.DataFrame] = []
    out_geoms: list[np.ndarray] = []
    touched = np.zeros(len(geoms), dtype=bool)
    for (_, z), zgeom in zip(gh_metric.iterrows(), gh_metric.geometry.values, strict=True):
        shapely.prepare(zgeom)
        zone_area = zgeom.area
        near_idx = tree.query(zgeom, predicate="dwithin", distance=tolerance_m)
        if near_idx.size == 0:
            continue
        cand = geoms[near_idx]
        hits = shapely.intersects(zgeom, cand)
        inside = shapely.contains(zgeom, cand)
        over_idx = near_idx[hits]
        inside_hit = inside[hits]
        ov = np.empty(over_idx.size, dtype=object)
        ov[inside_hit] = geoms[over_idx[inside_hit]]
        cross = ~inside_hit
        if cross.any():
            ov[cross] = shapely.intersection(geoms[over_idx[cross]], zgeom)
        o_area = shapely.area(ov)
        o_len = np.where(dim[over_idx] == 1, shapely.length(ov), 0.0)
        d = dim[over_idx]
        share = np.where(
            d == 2,
            o_area / np.where(f_area[over_idx] > 0, f_area[over_idx], 1.0),
            np.where(d == 1, o_len / np.where(f_len[over_idx] > 0, f_len[over_idx], 1.0), 1.0),
        )
        status = np.where(inside_hit, "inside", "partly").astype(object)
        status[(d == 2) & (o_area < min_area_m2) & ~inside_hit] = "sliver"
        # near: within tolerance but not intersecting
        n_idx = near_idx[~hits]
        n_dist = shapely.distance(zgeom, geoms[n_idx]) if n_idx.size else np.zeros(0)
        touched[over_idx] = True
        touched[n_idx] = True
        base = {
            "zone": z["zone"],
            "version": z.get("version", ""),
            "approximate": bool(z.get("approximate", False)),
        }
        rows.append(
            pd.DataFrame(
                {
                    "_i": np.r_[over_idx, n_idx],
                    **base,
                    "status": np.r_[status, np.full(n_idx.size, "near", dtype=object)],
                    "overlap_area_m2": np.r_[np.where(d == 2, o_area, 0.0), np.zeros(n_idx.size)],
                    "overlap_length_m": np.r_[o_len, np.zeros(n_idx.size)],
                    "share_of_feature": np.r_[share, np.zeros(n_idx.size)],
                    "share_of_zone": np.r_[
                        np.where(d == 2, o_area / zone_area, 0.0), np.zeros(n_idx.size)
                    ],
                    "distance_m": np.r_[np.zeros(over_idx.size), n_dist],
                }
            )
        )
        out_geoms.append(np.r_[ov, geoms[n_idx]])
    if include_outside:
        o_idx = np.flatnonzero(~touched)
        rows.append(
            pd.DataFrame(
                {
                    "_i": o_idx,
                    "zone": None,
                    "version": gh["version"].iloc[0] if len(gh) else "",
                    "approximate": bool(gh["approximate"].any()) if len(gh) else False,
                    "status": "outside",
                    "overlap_area_m2": 0.0,
                    "overlap_length_m": 0.0,
                    "share_of_feature": 0.0,
                    "share_of_zone": 0.0,
                    "distance_m": np.nan,
                }
            )
        )
        out_geoms.append(geoms[o_idx])
    cols = [
        "_i", "zone", "version", "approximate", "status", "overlap_area_m2", "overlap_length_m",
        "share_of_feature", "share_of_zone", "distance_m",
    ]  # fmt: skip
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)
    g = np.concatenate(out_geoms) if out_geoms else np.empty(0, dtype=object)
    i = table["_i"].to_numpy(dtype=np.int64)
    table.insert(0, prep.id_name, prep.ids.to_numpy()[i])
    table.insert(5, "geom_type", np.array(["point", "line", "polygon"])[dim[i]])
    table["feature_area_m2"] = f_area[i]
    table["feature_length_m"] = f_len[i]
    table = table.drop(columns="_i")
    out = gpd.GeoDataFrame(table, geometry=list(g) if len(g) else [], crs=METRIC_CRS)
    out = out.to_crs(prep.out_crs)
    order = {s: k for k, s in enumerate(STATUSES)}
    return out.sort_values(
        by=["status", "overlap_area_m2", "overlap_length_m"],
        key=lambda s: s.map(order) if s.name == "status" else -s,
    ).reset_index(drop=True)


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
