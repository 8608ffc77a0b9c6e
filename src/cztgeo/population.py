"""Population (or any opportunity count) as points, from a raster or a vector layer."""

from __future__ import annotations

import os
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import shapely

from .crs import METRIC_CRS
from .errors import InputError

__all__ = ["PopulationLike", "population_points"]

#: A population input: a layer with a population column, or the path of a GeoTIFF or a layer.
PopulationLike: TypeAlias = "gpd.GeoDataFrame | str | os.PathLike[str]"


def _raster_points(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """A population raster (GeoTIFF, any CRS) as one point per non-empty cell centre."""
    import rasterio

    try:
        with rasterio.open(path) as src:
            band = src.read(1, masked=True)
            if src.crs is None:
                raise InputError(
                    f"{path}: the raster has no CRS; assign one (e.g. with gdal_edit.py -a_srs)"
                )
            rows, cols = np.nonzero(~np.ma.getmaskarray(band) & (np.ma.filled(band, 0) > 0))
            t = src.transform  # cell centres through the affine transform
            c, r = cols + 0.5, rows + 0.5
            xs, ys = t.c + c * t.a + r * t.b, t.f + c * t.d + r * t.e
            vals = np.ma.filled(band, 0)[rows, cols].astype(float)
            crs = src.crs.to_wkt()
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"cannot read population raster {path}: {exc}") from exc
    return gpd.GeoDataFrame({"population": vals}, geometry=gpd.points_from_xy(xs, ys), crs=crs)


def population_points(
    population: PopulationLike | None, column: str = "population"
) -> gpd.GeoDataFrame | None:
    """Population as points in the metric CRS, one per person-holding feature.

    ``population`` is a GeoTIFF (any CRS; each non-empty cell counted at its centre), a vector
    file, or a GeoDataFrame with the ``column``; polygons (e.g. grid cells or census units) are
    counted at a representative point. None gives None.
    """
    if population is None:
        return None
    from .crs import to_wgs84
    from .io import read_vector

    if isinstance(population, (str, os.PathLike)):
        if str(population).lower().endswith((".tif", ".tiff")):
            population, column = _raster_points(population), "population"
        else:
            population = read_vector(population)
    gdf = to_wgs84(population).to_crs(METRIC_CRS)
    if column not in gdf.columns:
        raise InputError(f"population layer has no column {column!r}; columns: {list(gdf.columns)}")
    types = shapely.get_type_id(gdf.geometry.values)
    if not (types == 0).all():
        # polygons (e.g. grid cells): count each by its representative point
        gdf = gdf.set_geometry(gdf.geometry.representative_point())
    return gdf
