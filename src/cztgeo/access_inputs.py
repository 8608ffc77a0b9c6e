"""The inputs of an accessibility job (:mod:`cztgeo.accessibility`): the square origin grid,
and the checks of thresholds, modes, origins and opportunities (each refusing bad input with one
line before any work)."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .crs import METRIC_CRS, WGS84
from .errors import CRSError, InputError
from .types import MinutesLike

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .circle import Centre
    from .population import PopulationLike

__all__ = ["ACCESS_MODES", "centre_keys", "origin_grid"]

#: Modes of the times to centres (opportunities are counted by car).
ACCESS_MODES: tuple[str, ...] = ("drive", "transit", "taxi+transit")


# ---------------------------------------------------------------- the origin grid


def origin_grid(
    area: gpd.GeoDataFrame | gpd.GeoSeries | None = None, *, cell_m: float = 500.0
) -> gpd.GeoDataFrame:
    """Square cells over ``area``, aligned to multiples of ``cell_m`` in UTM 49N.

    A cell is kept when its centre lies inside the area. ``area`` defaults to the metro area
    (:func:`cztgeo.load_boundaries` ``("metro")``, about 76,000 cells at 500 m).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:32649 (UTM 49N, metres): ``cell_id`` (``row * n_cols + col``), ``row`` (0 at the
        north edge), ``col`` (0 at the west edge), geometry (the square). ``attrs["grid"]``
        holds ``x0``, ``y0`` (north-west corner), ``cell_m``, ``n_rows``, ``n_cols``, ``crs``.

    Raises
    ------
    InputError
        ``cell_m`` not positive, or larger than the area (no cell centre inside it).
    CRSError
        ``area`` without a CRS.
    """
    from .io import check_number

    cell = float(check_number("cell_m", cell_m))  # type: ignore[arg-type]
    geom = _area_metric(area)
    area_m2 = float(geom.area)
    if cell * cell > area_m2:
        raise InputError(
            f"cell_m={cell_m!r} gives cells of {cell * cell / 1e6:,.1f} km², larger than the "
            f"area ({area_m2 / 1e6:,.1f} km²): use a smaller cell"
        )
    minx, miny, maxx, maxy = geom.bounds
    x0, y0 = math.floor(minx / cell) * cell, math.ceil(maxy / cell) * cell
    n_cols = max(1, math.ceil((maxx - x0) / cell))
    n_rows = max(1, math.ceil((y0 - miny) / cell))
    rows, cols = np.divmod(np.arange(n_rows * n_cols, dtype=np.int64), n_cols)
    cx, cy = x0 + (cols + 0.5) * cell, y0 - (rows + 0.5) * cell
    shapely.prepare(geom)
    keep = shapely.contains_xy(geom, cx, cy)
    if not keep.any():
        raise InputError(
            f"cell_m={cell_m!r}: no cell centre falls inside the area: use a smaller cell"
        )
    rows, cols, cx, cy = rows[keep], cols[keep], cx[keep], cy[keep]
    half = cell / 2
    out = gpd.GeoDataFrame(
        {"cell_id": rows * n_cols + cols, "row": rows, "col": cols},
        geometry=shapely.box(cx - half, cy - half, cx + half, cy + half),
        crs=METRIC_CRS,
    )
    out.attrs["grid"] = {
        "x0": x0, "y0": y0, "cell_m": cell, "n_rows": n_rows, "n_cols": n_cols,
        "crs": METRIC_CRS,
    }  # fmt: skip
    return out


def _area_metric(area: gpd.GeoDataFrame | gpd.GeoSeries | None) -> shapely.Geometry:
    from .boundaries import load_boundaries

    if area is None:
        area = load_boundaries("metro")
    if not isinstance(area, (gpd.GeoDataFrame, gpd.GeoSeries)):
        raise InputError("area must be a GeoDataFrame or GeoSeries of polygons with a CRS")
    if area.crs is None:
        raise CRSError("the area has no CRS: set one (e.g. area.set_crs('EPSG:4326'))")
    geom = shapely.union_all(area.to_crs(METRIC_CRS).geometry.values)
    if geom is None or geom.is_empty or geom.area <= 0:
        raise InputError("the area has no polygon with an area")
    return geom


def _grid_spec(origins: gpd.GeoDataFrame) -> dict[str, float] | None:
    spec = origins.attrs.get("grid")
    if isinstance(spec, dict) and {"row", "col"} <= set(origins.columns):
        return spec
    return None


# ---------------------------------------------------------------- inputs


def _minutes(minutes: MinutesLike) -> tuple[float, ...]:
    vals = [minutes] if isinstance(minutes, (int, float)) else list(minutes)
    try:
        out = sorted({float(m) for m in vals})
    except (TypeError, ValueError) as exc:
        raise InputError(f"minutes must be numbers, got {minutes!r}") from exc
    if not out or any(not math.isfinite(m) or m <= 0 for m in out):
        raise InputError(f"minutes must be positive numbers (e.g. 15,30,45), got {minutes!r}")
    return tuple(out)


def _modes(modes: Sequence[str]) -> tuple[str, ...]:
    if isinstance(modes, str):
        modes = [modes]
    bad = [m for m in modes if m not in ACCESS_MODES]
    if bad or not modes:
        raise InputError(f"unknown mode(s) {bad or modes!r}: use any of {', '.join(ACCESS_MODES)}")
    return tuple(m for m in ACCESS_MODES if m in modes)


def _slug(text: str) -> str:
    s = re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")
    return s or "centre"


def centre_keys(centres: Sequence[Centre]) -> list[str]:
    """Column-safe names of the centres (English name in snake case, made unique)."""
    keys: list[str] = []
    for i, c in enumerate(centres):
        k = _slug(c.name_en or c.name)
        keys.append(k if k not in keys else f"{k}_{i}")
    return keys


def _origin_points(
    origins: gpd.GeoDataFrame | gpd.GeoSeries,
) -> tuple[gpd.GeoDataFrame, NDArray[np.float64]]:
    """The origins as a GeoDataFrame and their (lon, lat): polygons count at their centroid
    (a grid cell at its centre)."""
    if isinstance(origins, gpd.GeoSeries):
        origins = gpd.GeoDataFrame(geometry=origins)
    if not isinstance(origins, gpd.GeoDataFrame):
        raise InputError(
            "origins must be a GeoDataFrame/GeoSeries of points or polygons (see origin_grid)"
        )
    if origins.crs is None:
        raise CRSError("the origins have no CRS: set one (e.g. .set_crs('EPSG:4326'))")
    if len(origins) == 0:
        raise InputError("no origins given")
    geoms = origins.geometry.values
    if (shapely.is_missing(geoms) | shapely.is_empty(geoms)).any():
        raise InputError("origins contain null or empty geometries: remove them")
    metric = origins.geometry.to_crs(METRIC_CRS)
    pts = metric.values if (shapely.get_type_id(geoms) == 0).all() else metric.centroid.values
    lon, lat = pyproj.Transformer.from_crs(METRIC_CRS, WGS84, always_xy=True).transform(
        shapely.get_x(pts), shapely.get_y(pts)
    )
    return origins, np.column_stack([lon, lat]).astype(np.float64)


# ---------------------------------------------------------------- opportunities


def _opportunities(
    opportunities: PopulationLike | None, column: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """(lon, lat) and counts of the opportunities, or None."""
    from .population import population_points

    if isinstance(opportunities, gpd.GeoDataFrame) and opportunities.crs is None:
        raise CRSError("the opportunities layer has no CRS: set one (e.g. .set_crs('EPSG:4326'))")
    try:
        pts = population_points(opportunities, column)
    except CRSError as exc:
        if not isinstance(opportunities, (str, os.PathLike)) or "no CRS" not in str(exc):
            raise
        name = Path(opportunities).name
        raise CRSError(
            f"the opportunities layer {name} has no CRS: declare it in the file (e.g. "
            f"'ogr2ogr -a_srs EPSG:32649 fixed.gpkg {name}' for UTM 49N metres), or pass a "
            "GeoDataFrame with .set_crs(...)"
        ) from None
    if pts is None:
        return None
    w = pd.to_numeric(pts[column], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(w).all() or (w < 0).any():
        raise InputError(f"opportunities column {column!r} must hold non-negative numbers")
    keep = w > 0
    if not keep.any():
        raise InputError(f"the opportunities layer has no positive {column!r} value")
    geo = pts.geometry.values[keep]
    lon, lat = pyproj.Transformer.from_crs(pts.crs, WGS84, always_xy=True).transform(
        shapely.get_x(geo), shapely.get_y(geo)
    )
    return np.column_stack([lon, lat]).astype(np.float64), w[keep]
