"""Type aliases of the public API (for signatures and for users' own annotations)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

__all__ = [
    "CRSLike",
    "GeometryArray",
    "JSONValue",
    "LonLat",
    "MinutesLike",
    "PathLike",
    "PointsLike",
]

#: A WGS84 position, longitude first.
LonLat: TypeAlias = tuple[float, float]

#: Points: one ``(lon, lat)``, a sequence of them, an (n, 2) array of lon/lat degrees, or a
#: GeoDataFrame / GeoSeries of points in any declared CRS.
PointsLike: TypeAlias = (
    LonLat | Sequence[LonLat] | Sequence[Sequence[float]] | NDArray[np.float64]
    | gpd.GeoDataFrame | gpd.GeoSeries
)  # fmt: skip

#: A coordinate reference system: an EPSG code (``4326``, ``"EPSG:4490"``), WKT, a
#: ``pyproj.CRS``, or one of the Chinese offset systems ``"gcj02"`` and ``"bd09"``.
CRSLike: TypeAlias = str | int | pyproj.CRS

#: A file path.
PathLike: TypeAlias = str | os.PathLike[str]

#: One threshold in minutes, or several.
MinutesLike: TypeAlias = float | Sequence[float]

#: An array of shapely geometries (``GeoSeries.values`` or ``np.ndarray`` of objects).
GeometryArray: TypeAlias = NDArray[np.object_] | Sequence[shapely.Geometry]

#: Parsed JSON.
JSONValue: TypeAlias = dict[str, "JSONValue"] | list["JSONValue"] | str | int | float | bool | None
