"""Reading and writing vector files, with clear errors and atomic writes."""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from .crs import to_wgs84
from .errors import CRSError, GeometryError, InputError

__all__ = ["atomic_path", "read_vector", "write_vector"]

_DRIVERS = {
    ".gpkg": "GPKG",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".shp": "ESRI Shapefile",
    ".fgb": "FlatGeobuf",
}
_READABLE = (*_DRIVERS, ".parquet", ".geoparquet", ".csv", ".zip", ".kml", ".gml")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=final.suffix, dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # some drivers refuse to write over an existing file
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def check_output_suffix(path: str | os.PathLike[str]) -> None:
    """Refuse an output path whose suffix names no supported format (before any work is done)."""
    suffix = Path(path).suffix.lower()
    if suffix not in (*_DRIVERS, ".parquet", ".geoparquet", ".csv"):
        raise InputError(
            f"cannot tell the output format from {Path(path).name!r}: use a suffix among "
            f"{', '.join([*_DRIVERS, '.parquet', '.csv'])}"
        )


def write_vector(gdf: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``gdf`` to ``path`` (format from the suffix), atomically."""
    check_output_suffix(path)
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix in (".parquet", ".geoparquet"):
        with atomic_path(out) as tmp:
            gdf.to_parquet(tmp)
        return out
    if suffix == ".csv":
        with atomic_path(out) as tmp:
            df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
            df["wkt"] = gdf.geometry.to_wkt()
            df.to_csv(tmp, index=False)
        return out
    driver = _DRIVERS[suffix]
    if driver == "ESRI Shapefile":  # several sidecar files: no single atomic rename
        short = {c: str(c)[:10] for c in gdf.columns if c != gdf.geometry.name}
        if len(set(short.values())) == len(short):
            gdf = gdf.rename(columns=short)
        gdf.to_file(out, driver=driver, encoding="UTF-8")
        return out
    layer = {"layer": out.stem} if driver == "GPKG" else {}
    with atomic_path(out) as tmp:
        gdf.to_file(tmp, driver=driver, **layer)
    return out


def _read_csv(path: Path, crs: Any) -> gpd.GeoDataFrame:
    df = pd.read_csv(path)
    lower = {c.lower(): c for c in df.columns}
    for name in ("wkt", "geometry", "geom", "the_geom"):
        if name in lower:
            col = lower[name]
            try:
                geom = shapely.from_wkt(df[col].astype("string").fillna("").to_numpy(dtype=object))
            except shapely.errors.GEOSException as exc:
                raise InputError(f"{path.name}: column {col!r} holds invalid WKT ({exc})") from None
            return gpd.GeoDataFrame(df.drop(columns=col), geometry=geom, crs=None)
    for xs, ys in (("lon", "lat"), ("lng", "lat"), ("longitude", "latitude"), ("x", "y")):
        if xs in lower and ys in lower:
            x = pd.to_numeric(df[lower[xs]], errors="coerce")
            y = pd.to_numeric(df[lower[ys]], errors="coerce")
            geom = gpd.points_from_xy(x, y)
            return gpd.GeoDataFrame(df, geometry=geom, crs=None)
    raise InputError(
        f"{path.name}: a CSV needs a 'wkt' column or 'lon'/'lat' columns; found {list(df.columns)}"
    )


def read_vector(
    path: str | os.PathLike[str], *, crs: Any = None, to_wgs: bool = True
) -> gpd.GeoDataFrame:
    """Read any vector file into a GeoDataFrame, in WGS84 by default.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet, or CSV with a WKT column or
        lon/lat columns.
    crs
        The CRS the coordinates are in, overriding the file's (``"gcj02"``, ``"bd09"`` or any
        pyproj CRS). Required for CSV and for files without CRS.
    to_wgs
        Convert to EPSG:4326 (default). With False the data keep their declared CRS (a
        GCJ-02/BD-09 declaration is still converted, since pyproj cannot represent it).

    Raises
    ------
    InputError
        Missing, unreadable or truncated file; unknown format.
    CRSError
        No CRS declared anywhere.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"file not found: {str(p)!r}")
    if p.is_dir() and p.suffix.lower() != ".gdb":
        raise InputError(f"{str(p)!r} is a folder: give the path of a vector file")
    suffix = p.suffix.lower()
    if p.stat().st_size == 0:
        raise InputError(f"{p.name}: the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if suffix == ".csv":
                gdf = _read_csv(p, crs)
            elif suffix in (".parquet", ".geoparquet"):
                gdf = gpd.read_parquet(p)
            else:
                gdf = gpd.read_file(p)
    except InputError:
        raise
    except Exception as exc:  # pyogrio/arrow errors: say which file and why, in one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(
            f"{p.name}: cannot read it as a vector file ({first}); is it truncated or in a "
            f"format other than {', '.join(_READABLE)}?"
        ) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise InputError(f"{p.name}: no geometry column found")
    if crs is None and gdf.crs is None:
        raise CRSError(
            f"{p.name} has no CRS: declare it, e.g. crs='EPSG:4326' (CLI: --crs EPSG:4326), "
            "or crs='gcj02' / 'bd09' for data drawn on Amap / Baidu maps"
        )
    if to_wgs:
        return to_wgs84(gdf, crs)
    if crs is not None:
        from .crs import normalize_crs

        norm = normalize_crs(crs)
        if isinstance(norm, str):
            return to_wgs84(gdf, norm)
        return gdf.set_crs(norm, allow_override=True)
    return gdf


def check_geometries(
    gdf: gpd.GeoDataFrame, *, what: str = "input"
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Repair invalid geometries and refuse empty ones.

    Returns the repaired frame and a list of human-readable notes (one per repaired row).

    Raises
    ------
    GeometryError
        If any geometry is null or empty (all offending row labels listed).
    """
    geoms = gdf.geometry.values
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        labels = list(gdf.index[missing][:10])
        more = "" if missing.sum() <= 10 else f" and {int(missing.sum()) - 10} more"
        raise GeometryError(
            f"{what}: {int(missing.sum())} null or empty geometries (rows {labels}{more}); "
            "remove or fix them"
        )
    invalid = ~shapely.is_valid(geoms)
    notes: list[str] = []
    if invalid.any():
        out = gdf.copy()
        reasons = shapely.is_valid_reason(geoms[invalid])
        fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        out.loc[invalid, out.geometry.name] = fixed
        for label, reason in zip(gdf.index[invalid], reasons, strict=True):
            notes.append(f"row {label!r}: repaired invalid geometry ({reason})")
        return out, notes
    return gdf, notes
