"""Reading and writing vector files and tables, with clear errors; every write atomic.

Vector formats come from the suffix (pyogrio); CSV cells are formula-safe; coordinates are
checked against the declared CRS. The all-or-nothing transaction the commands write through
(:class:`Outputs`) lives in :mod:`cztgeo.outputs` and is re-exported here.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray

from .crs import to_wgs84
from .errors import CRSError, GeometryError, InputError
from .outputs import MANIFEST, Outputs, atomic_path, file_sha256, recover
from .types import CRSLike

__all__ = [
    "MANIFEST",
    "Outputs",
    "atomic_path",
    "check_coordinates",
    "check_number",
    "csv_safe",
    "file_sha256",
    "read_json",
    "read_vector",
    "recover",
    "repair_geometries",
    "write_csv",
    "write_vector",
]

_DRIVERS = {
    ".gpkg": "GPKG",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".shp": "ESRI Shapefile",
    ".fgb": "FlatGeobuf",
}
_READABLE = (*_DRIVERS, ".parquet", ".geoparquet", ".csv", ".zip", ".kml", ".gml")

#: Name of the file, in every folder a command writes, that says which run wrote the folder.


# ---------------------------------------------------------------- checks of numbers


def read_json(path: str | os.PathLike[str], what: str) -> Any:  # parsed JSON, checked by the caller
    """A UTF-8 JSON file, or InputError naming ``what`` and the fault."""
    p = Path(path)
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"{what} not found: {str(p)!r}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{p.name}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise InputError(f"{p.name}: not a UTF-8 JSON file ({type(exc).__name__})") from exc


def check_number(
    name: str, value: object, *, minimum: float = 0.0, strict: bool = True, allow_none: bool = False
) -> float | None:
    """Return ``value`` as a float, or raise InputError if it is not a finite number above
    ``minimum`` (at or above with ``strict=False``)."""
    if value is None and allow_none:
        return None
    try:
        v = float(value)  # type: ignore[arg-type]  # refused below if not a number
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a number, got {value!r}") from exc
    if isinstance(value, bool) or not math.isfinite(v) or v < minimum or (strict and v == minimum):
        rel = "positive" if strict and minimum == 0 else f"{'>' if strict else '>='} {minimum:g}"
        raise InputError(f"{name} must be {rel} (and finite), got {value!r}")
    return v


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(v: Any) -> Any:
    if isinstance(v, str) and v.startswith(_FORMULA_START):
        return "'" + v
    return v


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells (and column names) cannot run as spreadsheet formulas: cells
    starting with ``= + - @``, tab or CR get a leading apostrophe. Numbers are left alone."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(_cell)
    out.columns = [_cell(str(c)) for c in out.columns]
    return out


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``df`` as CSV (formula-safe, see :func:`csv_safe`), atomically."""
    out = Path(path)
    with atomic_path(out) as tmp:
        csv_safe(pd.DataFrame(df)).to_csv(tmp, index=False)
    return out


# ---------------------------------------------------------------- coordinates


def _rows(labels: Any, n: int = 5) -> str:
    vals = list(dict.fromkeys(labels))
    more = f" and {len(vals) - n} more" if len(vals) > n else ""
    return f"{vals[:n]}{more}"


def _check_degrees(
    x: NDArray[np.float64], y: NDArray[np.float64], *, what: str, name: str, fix: str
) -> None:
    """Refuse x/y that cannot be longitudes/latitudes: swapped, metres, out of range."""
    lon_ok = (np.abs(x) <= 180.0).all()
    lat_ok = (np.abs(y) <= 90.0).all()
    if lon_ok and lat_ok:
        return
    if (np.abs(x) <= 90.0).all() and (np.abs(y) <= 180.0).all():
        raise CRSError(
            f"{what}: coordinates look swapped (latitude first): y reaches "
            f"{float(np.abs(y).max()):g}, beyond ±90; put longitude in x and latitude "
            "in y (CSV: check the lon/lat columns)"
        )
    if max(float(np.abs(x).max()), float(np.abs(y).max())) > 1000.0:
        raise CRSError(
            f"{what}: values up to {float(max(np.abs(x).max(), np.abs(y).max())):,.0f} "
            f"are projected metres, not the degrees of {name}; {fix}, e.g. EPSG:32649 "
            "(UTM 49N) or EPSG:3857"
        )
    bad = "longitude" if not lon_ok else "latitude"
    worst = float(np.abs(x).max()) if not lon_ok else float(np.abs(y).max())
    raise CRSError(
        f"{what}: {bad} {worst:g} is out of range (±{180 if not lon_ok else 90}); fix "
        "the coordinates or " + fix
    )


def _projected_to_lonlat(
    x: NDArray[np.float64], y: NDArray[np.float64], declared: pyproj.CRS, *, what: str,
    name: str, fix: str,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:  # fmt: skip
    """Projected metres to lon/lat, refusing degrees declared as metres and unmappable values."""
    if (np.abs(x) <= 180.0).all() and (np.abs(y) <= 90.0).all():
        raise CRSError(
            f"{what}: values like ({x[0]:g}, {y[0]:g}) look like degrees, but {name} is a "
            "projected CRS in metres; declare crs='EPSG:4326' (CLI: --crs EPSG:4326) or "
            "the real CRS"
        )
    try:
        tr = pyproj.Transformer.from_crs(declared, "EPSG:4326", always_xy=True)
        with np.errstate(all="ignore"):
            lon, lat = (np.asarray(v, dtype=np.float64) for v in tr.transform(x, y))
    except pyproj.exceptions.ProjError as exc:
        raise CRSError(f"{what}: cannot convert from {name} ({exc}); {fix}") from exc
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        raise CRSError(f"{what}: coordinates fall outside what {name} can represent; {fix}")
    return lon, lat


def check_coordinates(
    gdf: gpd.GeoDataFrame, crs: CRSLike | None = None, *, what: str = "input"
) -> None:
    """Refuse coordinates that cannot be right for the declared CRS, before any analysis.

    NaN/infinite values, latitudes or longitudes out of range, swapped axes, projected metres
    declared as degrees (and degrees declared as a projected CRS), and values outside the
    CRS's area of use each raise with one line naming the problem and the fix.

    Raises
    ------
    GeometryError
        Non-finite coordinates.
    CRSError
        Coordinates that do not fit the declared CRS.
    """
    from .crs import normalize_crs

    declared = normalize_crs(crs) if crs is not None else gdf.crs
    if declared is None or len(gdf) == 0:
        return
    coords, idx = shapely.get_coordinates(gdf.geometry.values, return_index=True)
    if len(coords) == 0:
        return
    finite = np.isfinite(coords).all(axis=1)
    if not finite.all():
        raise GeometryError(
            f"{what}: rows {_rows(gdf.index[idx[~finite]])} have NaN or infinite coordinates; "
            "fix or remove them"
        )
    x, y = coords[:, 0], coords[:, 1]
    geographic = isinstance(declared, str) or bool(declared.is_geographic)  # GCJ-02/BD-09: degrees
    name = declared if isinstance(declared, str) else (declared.to_string() or declared.name)
    fix = "declare the real CRS with crs=... (CLI: --crs)"
    if geographic or isinstance(declared, str):
        _check_degrees(x, y, what=what, name=name, fix=fix)
        lon, lat = x, y
    else:
        lon, lat = _projected_to_lonlat(x, y, declared, what=what, name=name, fix=fix)
    area = None if isinstance(declared, str) else declared.area_of_use
    if area is not None and not (area.west <= -179 and area.east >= 179):
        margin = 2.0
        w, s, e, n = (
            area.west - margin,
            area.south - margin,
            area.east + margin,
            area.north + margin,
        )
        lon_n = np.where(lon < w, lon + 360.0, lon) if area.east > 180 else lon
        out = (lon_n < w) | (lon_n > e) | (lat < s) | (lat > n)
        if out.any():
            raise CRSError(
                f"{what}: rows {_rows(gdf.index[idx[out]])} fall outside the area of use of "
                f"{name} ({area.west:g}..{area.east:g}°E, {area.south:g}..{area.north:g}°N), "
                f"e.g. near ({float(lon[out][0]):.3f}, {float(lat[out][0]):.3f}); {fix}"
            )
    elif isinstance(declared, str):  # GCJ-02 / BD-09 exist only for China
        out = (lon < 72) | (lon > 136) | (lat < 0) | (lat > 56)
        if out.any():
            raise CRSError(
                f"{what}: rows {_rows(gdf.index[idx[out]])} lie outside China, where {name} "
                f"is defined; {fix}"
            )


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
            csv_safe(df).to_csv(tmp, index=False)
        return out
    driver = _DRIVERS[suffix]
    if driver == "ESRI Shapefile":  # several sidecar files: no single atomic rename
        short = {c: str(c)[:10] for c in gdf.columns if c != gdf.geometry.name}
        if len(set(short.values())) == len(short):
            gdf = gdf.rename(columns=short)
        with Outputs("write_vector") as tx:  # .shp/.shx/.dbf/.prj/.cpg moved as a set
            gdf.to_file(tx.file(out), driver=driver, encoding="UTF-8")
        return out
    layer = {"layer": out.stem} if driver == "GPKG" else {}
    with atomic_path(out) as tmp:
        gdf.to_file(tmp, driver=driver, **layer)
    return out


def _numeric_column(path: Path, df: pd.DataFrame, col: str) -> pd.Series:
    """The column as floats; blank or text cells are refused (never silently dropped)."""
    x = pd.to_numeric(df[col], errors="coerce")
    bad = x.isna() | ~np.isfinite(x.fillna(0.0))
    if bad.any():
        lines = [f"line {int(i) + 2}: {str(v)!r}" for i, v in df.loc[bad, col].head(3).items()]
        more = f" and {int(bad.sum()) - 3} more" if bad.sum() > 3 else ""
        raise InputError(
            f"{path.name}: column {col!r} has {int(bad.sum())} blank, text or non-finite values "
            f"({', '.join(lines)}{more}); fix or remove those rows"
        )
    return x


def _read_csv(path: Path, crs: Any) -> gpd.GeoDataFrame:
    df = pd.read_csv(path)
    lower = {c.lower(): c for c in df.columns}
    for name in ("wkt", "geometry", "geom", "the_geom"):
        if name in lower:
            col = lower[name]
            try:
                geom = shapely.from_wkt(df[col].astype("string").fillna("").to_numpy(dtype=object))
            except (shapely.errors.GEOSException, TypeError, ValueError) as exc:
                raise InputError(f"{path.name}: column {col!r} holds invalid WKT ({exc})") from exc
            return gpd.GeoDataFrame(df.drop(columns=col), geometry=geom, crs=None)
    for xs, ys in (("lon", "lat"), ("lng", "lat"), ("longitude", "latitude"), ("x", "y")):
        if xs in lower and ys in lower:
            x = _numeric_column(path, df, lower[xs])
            y = _numeric_column(path, df, lower[ys])
            geom = gpd.points_from_xy(x, y)
            return gpd.GeoDataFrame(df, geometry=geom, crs=None)
    raise InputError(
        f"{path.name}: a CSV needs a 'wkt' column or 'lon'/'lat' columns; found {list(df.columns)}"
    )


def read_vector(
    path: str | os.PathLike[str], *, crs: CRSLike | None = None, to_wgs: bool = True
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
        ) from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise InputError(f"{p.name}: no geometry column found")
    if crs is None and gdf.crs is None:
        raise CRSError(
            f"{p.name} has no CRS: declare it, e.g. crs='EPSG:4326' (CLI: --crs EPSG:4326), "
            "or crs='gcj02' / 'bd09' for data drawn on Amap / Baidu maps"
        )
    check_coordinates(gdf, crs, what=p.name)
    if to_wgs:
        return to_wgs84(gdf, crs)
    if crs is not None:
        from .crs import normalize_crs

        norm = normalize_crs(crs)
        if isinstance(norm, str):
            return to_wgs84(gdf, norm)
        return gdf.set_crs(norm, allow_override=True)
    return gdf


def repair_geometries(
    gdf: gpd.GeoDataFrame, *, labels: pd.Index | None = None, label: str = "row"
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Repair invalid geometries (``make_valid``, structure method, collapsed parts dropped).

    Returns the repaired frame (``gdf`` itself when nothing was invalid) and one note per
    repaired geometry: ``"<label> <id>: repaired invalid geometry (<reason>)"``, ids from
    ``labels`` (default: the index).
    """
    geoms = gdf.geometry.values
    invalid = ~shapely.is_valid(geoms)
    if not invalid.any():
        return gdf, []
    names = (gdf.index if labels is None else pd.Index(labels))[invalid]
    reasons = shapely.is_valid_reason(geoms[invalid])
    out = gdf.copy()
    fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    out.loc[invalid, out.geometry.name] = fixed
    shown = (repr(n) if label == "row" else str(n) for n in names)
    return out, [
        f"{label} {n}: repaired invalid geometry ({r})" for n, r in zip(shown, reasons, strict=True)
    ]


def check_geometries(
    gdf: gpd.GeoDataFrame, *, what: str = "input"
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Refuse null or empty geometries, then :func:`repair_geometries`.

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
    return repair_geometries(gdf)
