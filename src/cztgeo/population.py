"""Population (or any opportunity count) as points, from a raster, a vector layer or the
embedded COARSE census layer.

The embedded layer ``"census-2020-county"`` is the 2020 census (第七次全国人口普查) resident
population of each county-level unit of 长沙, 株洲 and 湘潭 (``geodata/czt_population_2020_
county.json``, built and sourced by ``scripts/embed_population.py``), spread uniformly over each
unit's area. It knows nothing of where people live inside a county: a county's town and its
hills get the same density. Everything computed from it says so (:data:`COARSE_NOTE`, a
:class:`PopulationWarning`); pass your own grid for real work.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from functools import lru_cache
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from .crs import AREA_CRS, METRIC_CRS, WGS84
from .errors import CztgeoWarning, InputError

__all__ = [
    "CENSUS_LAYER",
    "COARSE_NOTE",
    "POPULATION_LAYERS",
    "PopulationLike",
    "PopulationWarning",
    "census_population",
    "load_census_units",
    "load_population",
    "population_notes",
    "population_points",
]

#: Name of the embedded census layer (``--population`` / ``--opportunities`` accept it).
CENSUS_LAYER = "census-2020-county"
#: Every embedded population layer, by name.
POPULATION_LAYERS: tuple[str, ...] = (CENSUS_LAYER,)
#: The label carried by everything computed from the embedded layer.
COARSE_NOTE = (
    "population: COARSE embedded layer 'census-2020-county': 2020 census resident population "
    "per county-level unit of 长沙/株洲/湘潭 (湘乡+韶山 and 荷塘+石峰+云龙示范区 merged), spread "
    "uniformly over each unit's area, so counts inside a county follow area, not settlement; "
    "pass your own population grid for real work"
)
_CENSUS_FILE = "czt_population_2020_county.json"
_UNIT_COLUMNS = ["unit", "name", "city", "adcodes", "population", "precision", "source", "url"]


class PopulationWarning(CztgeoWarning):
    """The population used is the embedded COARSE census layer (county totals, uniform inside)."""


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


@lru_cache(maxsize=1)
def _census_doc() -> dict[str, object]:
    from .settings import embedded_data_dir

    doc: dict[str, object] = json.loads(
        (embedded_data_dir() / _CENSUS_FILE).read_text(encoding="utf-8")
    )
    return doc


def _layer_attrs() -> dict[str, object]:
    doc = _census_doc()
    return {
        "layer": CENSUS_LAYER,
        "coarse": True,
        "label": doc["label"],
        "note": COARSE_NOTE,
        "measure": doc["measure"],
        "city_totals": doc["city_totals"],
        "boundaries": doc["boundaries"],
        "missing": doc["missing"],
    }


@lru_cache(maxsize=1)
def _units() -> gpd.GeoDataFrame:
    from .boundaries import load_boundaries

    counties = load_boundaries("county").set_index("adcode")
    rows = pd.DataFrame(_census_doc()["units"])
    geoms = []
    for codes, name in zip(rows["adcodes"], rows["name"], strict=True):
        found = counties.reindex(codes)
        if found["name"].isna().any() or "+".join(found["name"]) != name:
            raise InputError(f"census unit {name} matches no embedded county polygon: {codes}")
        geoms.append(shapely.union_all(found.geometry.values, grid_size=1e-7))
    out = gpd.GeoDataFrame(rows[_UNIT_COLUMNS], geometry=geoms, crs=WGS84)
    out["population"] = out["population"].astype(np.int64)
    out["area_km2"] = (out.to_crs(AREA_CRS).area / 1e6).round(2)
    return out


def load_census_units() -> gpd.GeoDataFrame:
    """The embedded 2020 census units of 长沙, 株洲 and 湘潭 with their resident population.

    **COARSE**: one total per county-level unit; two pairs of units are merged where no
    per-county figure was found (湘乡市+韶山市; 荷塘区+石峰区 with the 云龙示范区).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, 21 rows covering the 23 embedded county polygons once: ``unit`` (adcodes
        joined by ``+``), ``name``, ``city``, ``adcodes`` (list), ``population`` (people, 2020-11-01),
        ``precision`` (``exact``, ``rounded to 100`` or ``derived``: city total minus the other
        units), ``source``, ``url``, ``area_km2`` (equal-area CRS), geometry. ``attrs`` holds
        ``coarse`` (True), ``label``, ``note``, ``city_totals`` (the Hunan bulletin's figures,
        which the units sum to exactly), ``boundaries`` and ``missing``.
    """
    out = _units().copy()
    out.attrs = _layer_attrs()
    return out


def _unit_pieces(
    geom: shapely.Geometry, cell: float
) -> tuple[NDArray[np.int64], NDArray[np.int64], list[shapely.Geometry]]:
    """(cell rows, cell cols, pieces): the grid cells (multiples of ``cell``) cut by ``geom``."""
    minx, miny, maxx, maxy = geom.bounds
    c0, c1 = math.floor(minx / cell), math.ceil(maxx / cell)
    r0, r1 = math.floor(miny / cell), math.ceil(maxy / cell)
    grid_c, grid_r = np.meshgrid(
        np.arange(c0, c1, dtype=np.int64), np.arange(r0, r1, dtype=np.int64)
    )
    cols, rows = grid_c.ravel(), grid_r.ravel()
    boxes = shapely.box(cols * cell, rows * cell, (cols + 1) * cell, (rows + 1) * cell)
    shapely.prepare(geom)
    inside = shapely.contains_properly(geom, boxes)
    edge = shapely.intersects(geom, boxes) & ~inside
    pieces = boxes.copy()
    pieces[edge] = shapely.intersection(boxes[edge], geom)
    keep = inside | edge
    pieces = pieces[keep]
    ok = shapely.area(pieces) > 0
    return rows[keep][ok], cols[keep][ok], list(pieces[ok])


@lru_cache(maxsize=4)
def _grid(cell: float) -> gpd.GeoDataFrame:
    units = _units()
    metric = units.to_crs(AREA_CRS)
    parts = []
    for i, geom in enumerate(metric.geometry.values):
        rows, cols, pieces = _unit_pieces(geom, cell)
        area = shapely.area(np.asarray(pieces, dtype=object))
        share = area / area.sum()
        u = units.iloc[i]
        parts.append(
            pd.DataFrame({
                "cell_id": [f"{r}_{c}" for r, c in zip(rows, cols, strict=True)],
                "unit": u["unit"], "name": u["name"], "city": u["city"],
                "population": float(u["population"]) * share,
                "area_m2": area, "geometry": pieces,
            })
        )  # fmt: skip
    df = pd.concat(parts, ignore_index=True)
    grid = gpd.GeoDataFrame(df, geometry="geometry", crs=AREA_CRS).to_crs(WGS84)
    grid["source"] = "census-2020-county (COARSE)"
    return grid


def census_population(*, cell_m: float = 1000.0) -> gpd.GeoDataFrame:
    """The embedded **COARSE** census layer spread over grid cells by area.

    Each unit's 2020 census total (:func:`load_census_units`) is shared among the square cells
    it covers in proportion to the area of the cell inside the unit (areal weighting): density
    is uniform within a unit. Cells are aligned to multiples of ``cell_m`` in cztgeo's
    equal-area CRS (:data:`cztgeo.crs.AREA_CRS`); a cell on a unit boundary is one row per unit.

    Parameters
    ----------
    cell_m
        Cell side in metres (at least 100; default 1000).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326: ``cell_id`` (``"row_col"`` of the equal-area grid), ``unit``, ``name``,
        ``city``, ``population`` (people, float: the unit total times the piece's area share;
        the rows of a unit sum to its total), ``area_m2`` (equal-area), ``source``, geometry (the
        cell, cut by the unit boundary). ``attrs`` as :func:`load_census_units`, plus ``cell_m``.

    Raises
    ------
    InputError
        ``cell_m`` not a number of at least 100 m.
    """
    from .io import check_number

    cell = float(check_number("cell_m", cell_m))  # type: ignore[arg-type]
    if cell < 100:
        raise InputError(f"cell_m={cell_m!r} is finer than the layer can mean: use at least 100")
    out = _grid(cell).copy()
    out.attrs = {**_layer_attrs(), "cell_m": cell}
    return out


def load_population(name: str, *, cell_m: float = 1000.0) -> gpd.GeoDataFrame:
    """An embedded population layer by name, as grid cells (see :func:`census_population`).

    Parameters
    ----------
    name
        One of :data:`POPULATION_LAYERS` (``"census-2020-county"``: COARSE).
    cell_m
        Cell side in metres.

    Returns
    -------
    geopandas.GeoDataFrame

    Raises
    ------
    InputError
        An unknown name (the message lists the valid ones).
    """
    if name != CENSUS_LAYER:
        raise InputError(
            f"unknown population layer {name!r}: embedded layers are "
            f"{', '.join(POPULATION_LAYERS)}; otherwise pass a GeoTIFF or a vector file"
        )
    return census_population(cell_m=cell_m)


def _is_layer_name(population: object) -> bool:
    return isinstance(population, str) and population.strip() in POPULATION_LAYERS


def population_notes(population: object) -> list[str]:
    """The notes a result computed from ``population`` must carry: :data:`COARSE_NOTE` for the
    embedded census layer (by name, or a layer whose ``attrs`` say ``coarse``), else none."""
    coarse = _is_layer_name(population) or (
        isinstance(population, gpd.GeoDataFrame) and bool(population.attrs.get("coarse"))
    )
    return [COARSE_NOTE] if coarse else []


def _looks_like_layer_name(text: str) -> bool:
    """A bare word such as ``census-2010`` (no folder, no suffix) that is not a file."""
    return not os.path.exists(text) and os.sep not in text and "." not in os.path.basename(text)


def population_points(
    population: PopulationLike | None, column: str = "population"
) -> gpd.GeoDataFrame | None:
    """Population as points in the metric CRS, one per person-holding feature.

    ``population`` is a GeoTIFF (any CRS; each non-empty cell counted at its centre), a vector
    file, a GeoDataFrame with the ``column``, or the name of an embedded layer
    (``"census-2020-county"``: **COARSE**, 1 km cells of :func:`census_population`, and a
    :class:`PopulationWarning` says so); polygons (e.g. grid cells or census units) are counted
    at a representative point. None gives None. The result's ``attrs`` carry the layer's
    ``coarse`` flag and ``note`` when it is the embedded layer.
    """
    if population is None:
        return None
    from .crs import to_wgs84
    from .io import read_vector

    if _is_layer_name(population):
        warnings.warn(PopulationWarning(COARSE_NOTE), stacklevel=2)
        population, column = census_population(), "population"
    elif isinstance(population, str) and _looks_like_layer_name(population):
        load_population(population)  # raises: lists the embedded layers
    attrs = dict(population.attrs) if isinstance(population, gpd.GeoDataFrame) else {}
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
    gdf.attrs = attrs
    return gdf
