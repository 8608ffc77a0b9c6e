"""Reading and writing vector files, with clear errors and atomic, all-or-nothing writes.

Every command writes through :class:`Outputs`: files are staged in a hidden folder beside their
targets and moved into place only after everything succeeded, so a failure (or SIGKILL) leaves
the earlier outputs as they were. A folder output is swapped in as a whole (with a
``cztgeo-manifest.json`` naming the run that wrote it); an output path that is also an input is
refused before any work is done. Temporary files of runs that were killed are cleaned up (or
their interrupted commit finished) by the next run writing to the same folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as _dt
import hashlib
import json
import math
import os
import secrets
import shutil
import signal
import sys
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .crs import to_wgs84
from .errors import CRSError, GeometryError, InputError, OutputError
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
MANIFEST = "cztgeo-manifest.json"
_TAG = ".cztgeo-tmp-"  # prefix of every staging file/folder: ".cztgeo-tmp-<pid>-<hex>..."
_OLD = ".cztgeo-old-"  # a replaced output folder, until it is deleted
_JOURNAL = ".journal"


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


# ---------------------------------------------------------------- transactional outputs


_FAULT_HITS: dict[str, int] = {}


def _fault(point: str) -> None:
    """Fault injection for the kill tests: ``CZTGEO_TEST_KILL_AT=<point>[#n]`` SIGKILLs the
    process the n-th time (default first) it reaches that point. Never set outside tests."""
    want = os.environ.get("CZTGEO_TEST_KILL_AT", "")
    if not want or want.split("#")[0] != point:
        return
    _FAULT_HITS[point] = _FAULT_HITS.get(point, 0) + 1
    nth = int(want.split("#")[1]) if "#" in want else 1
    if _FAULT_HITS[point] == nth:
        os.kill(os.getpid(), signal.SIGKILL)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _owner_pid(name: str, tag: str) -> int | None:
    try:
        return int(name[len(tag) :].split("-", 1)[0])
    except ValueError:
        return None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _roll_forward(journal: Path) -> None:
    """Finish a commit whose process died half-way: every staged file is complete (the journal
    is written only after staging), so completing the moves gives the new set."""
    try:
        spec = json.loads(journal.read_text(encoding="utf-8"))
        for src, dst in spec["moves"]:
            if os.path.lexists(src):
                os.replace(src, dst)
        for stale in spec.get("remove", []):
            if os.path.lexists(stale):
                os.unlink(stale)
        if spec.get("staging"):
            shutil.rmtree(spec["staging"], ignore_errors=True)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    journal.unlink(missing_ok=True)


def recover(folder: str | os.PathLike[str]) -> None:
    """Clean up after runs that were killed while writing into ``folder``: finish interrupted
    commits, put back a replaced output folder that was not yet swapped, delete staging files."""
    parent = Path(folder)
    if not parent.is_dir():
        return
    try:
        entries = sorted(parent.iterdir(), key=lambda q: not q.name.endswith(_JOURNAL))
    except OSError:
        return
    for q in entries:
        for tag in (_TAG, _OLD):
            if q.name.startswith(tag):
                pid = _owner_pid(q.name, tag)
                if pid is None or _pid_alive(pid):
                    break
                if q.name.endswith(_JOURNAL):
                    _roll_forward(q)
                elif tag == _OLD:
                    final = parent / q.name.split("-", 3)[-1]
                    if not os.path.lexists(final):
                        os.replace(q, final)
                    else:
                        _remove(q)
                elif q.exists():
                    _remove(q)
                break


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    res = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return bool(res == 0)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file, read in 1 MB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _abs(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.abspath(os.fspath(path)))


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


class Outputs:
    """All the files one command writes, staged beside their targets and committed together.

    Use it as a context manager; ``file(path)`` / ``folder(path)`` return the staging path to
    write to. On leaving the block without error every staged output is moved into place
    (folders swapped as a whole, multi-file formats such as Shapefile moved as a set); on an
    error, nothing is moved and the staging files are deleted.

    Parameters
    ----------
    command
        Recorded in the manifest of folder outputs.
    inputs
        Paths the command reads: an output equal to one of them, or a folder output containing
        one, is refused (:class:`~cztgeo.errors.OutputError`).
    """

    def __init__(
        self, command: str = "cztgeo", *, inputs: Iterable[str | os.PathLike[str] | None] = ()
    ) -> None:
        self.command = command
        self.run_id = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.inputs = [_abs(p) for p in inputs if p]
        self._dirs: dict[Path, Path] = {}  # final folder -> staging folder
        self._file_stage: dict[Path, Path] = {}  # parent folder -> staging folder for files
        self._files: list[Path] = []  # final file paths
        self._made: list[Path] = []  # folders created for the targets (removed on failure)

    # -- registering targets
    def _check_input(self, final: Path, *, folder: bool) -> None:
        for inp in self.inputs:
            if inp == final or _same(inp, final):
                raise OutputError(f"output {str(final)!r} is also an input: write to another path")
            if folder and (final in inp.parents):
                raise OutputError(
                    f"input {str(inp)!r} lies inside the output folder {str(final)!r}, which "
                    "this run replaces: write to another folder"
                )

    def _mkparent(self, parent: Path) -> None:
        missing = []
        q = parent
        while not q.exists():
            missing.append(q)
            q = q.parent
        if q.exists() and not q.is_dir():
            raise OutputError(f"cannot write into {str(q)!r}: it is a file, not a folder")
        parent.mkdir(parents=True, exist_ok=True)
        self._made.extend(missing)
        recover(parent)

    def folder(self, path: str | os.PathLike[str]) -> Path:
        """Staging folder whose content becomes the folder ``path`` on commit."""
        final = _abs(path)
        if final in self._dirs:
            return self._dirs[final]
        if final.exists() and not final.is_dir():
            raise OutputError(f"output folder {str(final)!r} is a file: give a folder path")
        self._check_input(final, folder=True)
        self._mkparent(final.parent)
        stage = final.parent / f"{_TAG}{self.run_id}-{final.name}"
        stage.mkdir()
        self._dirs[final] = stage
        return stage

    def file(self, path: str | os.PathLike[str]) -> Path:
        """Staging path whose file (with any sidecar files of the same stem) becomes ``path``."""
        final = _abs(path)
        for d, stage in self._dirs.items():
            if d in final.parents:
                self._check_input(final, folder=False)
                sub = stage / final.relative_to(d)
                sub.parent.mkdir(parents=True, exist_ok=True)
                return sub
        if final.is_dir():
            raise OutputError(f"output {str(final)!r} is a folder: give a file path")
        self._check_input(final, folder=False)
        parent = final.parent
        if parent not in self._file_stage:
            self._mkparent(parent)
            stage = parent / f"{_TAG}{self.run_id}-files"
            stage.mkdir()
            self._file_stage[parent] = stage
        self._files.append(final)
        return self._file_stage[parent] / final.name

    # -- commit / abort
    def _manifest(self, stage: Path) -> None:
        from . import __version__

        files = {
            str(q.relative_to(stage)): {"bytes": q.stat().st_size, "sha256": file_sha256(q)}
            for q in sorted(stage.rglob("*"))
            if q.is_file() and q.name != MANIFEST
        }
        meta = {
            "written_by": f"cztgeo {__version__}",
            "command": self.command,
            "run_id": self.run_id,
            "finished_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "files": files,
        }
        (stage / MANIFEST).write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n")

    @staticmethod
    def _owned(folder: Path) -> set[str] | None:
        """Names a previous cztgeo run wrote into ``folder``, or None if the folder holds other
        files too (then it is updated file by file, never swapped)."""
        try:
            meta = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            listed = {str(n).split("/")[0] for n in meta["files"]} | {MANIFEST}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        present = {q.name for q in folder.iterdir()}
        return listed if present <= listed else None

    def _commit_moves(self, parent: Path, moves: list[tuple[Path, Path]], remove: list[Path],
                      staging: Path | None) -> None:  # fmt: skip
        journal = parent / f"{_TAG}{self.run_id}-{secrets.token_hex(2)}{_JOURNAL}"
        spec = {
            "moves": [[str(a), str(b)] for a, b in moves],
            "remove": [str(r) for r in remove],
            "staging": str(staging) if staging else None,
        }
        tmp = journal.with_name(journal.name + ".part")
        tmp.write_text(json.dumps(spec), encoding="utf-8")
        os.replace(tmp, journal)
        _fault("journal-written")
        for k, (a, b) in enumerate(moves):
            os.replace(a, b)
            if k == 0:
                _fault("first-file-moved")
        for r in remove:
            if os.path.lexists(r):
                os.unlink(r)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        journal.unlink(missing_ok=True)

    def commit(self) -> None:
        _fault("staged")
        for final, stage in self._dirs.items():
            self._manifest(stage)
            _fault("manifest-written")
            if not final.exists():
                os.rename(stage, final)
                continue
            owned = self._owned(final)
            if owned is not None:
                if _exchange(stage, final):
                    _fault("swapped")
                    shutil.rmtree(stage, ignore_errors=True)
                    continue
                old = final.parent / f"{_OLD}{self.run_id}-{final.name}"
                os.rename(final, old)
                _fault("old-moved-aside")
                os.rename(stage, final)
                shutil.rmtree(old, ignore_errors=True)
                continue
            # a folder with other files in it: replace ours file by file, keep the rest
            new = list(stage.iterdir())
            stale: list[Path] = []
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError, AttributeError):
                meta = json.loads((final / MANIFEST).read_text(encoding="utf-8"))
                names = {q.name for q in new}
                stale = [final / n for n in meta["files"] if "/" not in n and n not in names]
            # the journal sits beside the staging folder, so recovery finishes the moves
            # before it would delete the staging folder of the dead run
            self._commit_moves(final.parent, [(q, final / q.name) for q in new], stale, stage)
        for parent, stage in self._file_stage.items():
            moves = [(q, parent / q.name) for q in sorted(stage.iterdir())]
            self._commit_moves(parent, moves, [], stage)
        self._dirs.clear()
        self._file_stage.clear()

    def abort(self) -> None:
        for stage in [*self._dirs.values(), *self._file_stage.values()]:
            shutil.rmtree(stage, ignore_errors=True)
        for d in reversed(self._made):  # folders created for the outputs, if still empty
            with contextlib.suppress(OSError):
                d.rmdir()
        self._dirs.clear()
        self._file_stage.clear()

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                self.abort()
                raise
        else:
            self.abort()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    recover(final.parent)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f"{_TAG}{os.getpid()}-{final.stem}.", suffix=final.suffix, dir=final.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # some drivers refuse to write over an existing file
    try:
        yield tmp
        _fault("atomic-before-rename")
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


# ---------------------------------------------------------------- CSV cells are data

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
    geographic = isinstance(declared, str) or bool(declared.is_geographic)
    name = declared if isinstance(declared, str) else (declared.to_string() or declared.name)
    fix = "declare the real CRS with crs=... (CLI: --crs)"
    if geographic:
        lon_ok = (np.abs(x) <= 180.0).all()
        lat_ok = (np.abs(y) <= 90.0).all()
        if not (lon_ok and lat_ok):
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
        lon, lat = x, y
    else:
        if (np.abs(x) <= 180.0).all() and (np.abs(y) <= 90.0).all():
            raise CRSError(
                f"{what}: values like ({x[0]:g}, {y[0]:g}) look like degrees, but {name} is a "
                "projected CRS in metres; declare crs='EPSG:4326' (CLI: --crs EPSG:4326) or "
                "the real CRS"
            )
        try:
            tr = pyproj.Transformer.from_crs(declared, "EPSG:4326", always_xy=True)
            with np.errstate(all="ignore"):
                lon, lat = (np.asarray(v) for v in tr.transform(x, y))
        except pyproj.exceptions.ProjError as exc:
            raise CRSError(f"{what}: cannot convert from {name} ({exc}); {fix}") from exc
        if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
            raise CRSError(f"{what}: coordinates fall outside what {name} can represent; {fix}")
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
