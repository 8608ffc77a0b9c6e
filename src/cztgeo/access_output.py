"""Writing accessibility results: the partitioned GeoParquet, one Cloud-Optimised GeoTIFF
per measure of a grid, the description of the columns, and a map layer."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from .crs import WGS84
from .errors import InputError

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .accessibility import _Job
    from .maps import Layer
    from .parallel import ChunkStore

__all__ = ["accessibility_layer", "check_out", "publish"]


def check_out(out_dir: str | os.PathLike[str], inputs: Sequence[str | os.PathLike[str]]) -> None:
    """Refuse an output folder that is a file, or that is or holds an input (before any work)."""
    from .errors import OutputError

    p = Path(os.path.abspath(os.fspath(out_dir)))
    if p.exists() and not p.is_dir():
        raise OutputError(f"output {str(p)!r} is a file: give a folder path")
    for inp in inputs:
        q = Path(os.path.abspath(os.fspath(inp)))
        if q == p or p in q.parents:
            raise OutputError(
                f"input {str(q)!r} lies inside the output folder {str(p)!r}, which this run "
                "replaces: write to another folder"
            )


def _measures(job: _Job) -> list[str]:
    return [c for c in job.columns if "_min_" in c or "_opportunities_" in c]


def publish(
    job: _Job, store: ChunkStore[pd.DataFrame], out_dir: str | os.PathLike[str],
    inputs: Sequence[str | os.PathLike[str]],
) -> tuple[Path, Path, dict[str, Path]]:  # fmt: skip
    """Move the finished chunks into the output folder with the rasters, all at once."""
    import json

    from .outputs import Outputs
    from .parallel import link_or_copy

    rasters: dict[str, Path] = {}
    final = Path(out_dir)
    with Outputs("cztgeo accessibility", inputs=inputs) as tx:
        stage = tx.folder(final)
        for part in store.parts():
            link_or_copy(part, stage / "cells" / part.name)
        if job.grid is not None:
            for col, arr in _grid_arrays(job, store).items():
                _write_cog(stage / f"{col}.tif", arr, job.grid)
                rasters[col] = final / f"{col}.tif"
        meta = {
            "columns": job.columns, "notes": job.notes, "grid": job.grid, "key": job.key,
            "n_origins": len(job.origins), "n_chunks": len(job.chunks),
            "crs": str(job.origins.crs),
        }  # fmt: skip
        (stage / "accessibility.json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    return final, final / "cells", rasters


def _grid_arrays(job: _Job, store: ChunkStore[pd.DataFrame]) -> dict[str, NDArray[np.float32]]:
    """Each measure as a (rows, cols) float32 array (NaN: no cell, off network, unreachable)."""
    assert job.grid is not None
    shape = (int(job.grid["n_rows"]), int(job.grid["n_cols"]))
    cols = _measures(job)
    out = {c: np.full(shape, np.nan, dtype=np.float32) for c in cols}
    for part in store.parts():
        df = pd.read_parquet(part, columns=["row", "col", *cols])
        r, c = df["row"].to_numpy(), df["col"].to_numpy()
        for col in cols:
            v = df[col].to_numpy(dtype=float)
            out[col][r, c] = np.where(np.isfinite(v), v, np.nan)
    return out


def _write_cog(path: Path, arr: NDArray[np.float32], grid: dict[str, float]) -> None:
    """A Cloud-Optimised GeoTIFF (deflate, internal tiles, overviews) of one measure."""
    import rasterio
    from affine import Affine

    profile = {
        "driver": "COG", "width": arr.shape[1], "height": arr.shape[0], "count": 1,
        "dtype": "float32", "crs": str(grid["crs"]), "nodata": float("nan"),
        "transform": Affine(grid["cell_m"], 0.0, grid["x0"], 0.0, -grid["cell_m"], grid["y0"]),
        "compress": "deflate", "blocksize": 256, "overview_resampling": "average",
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr, 1)


def accessibility_layer(
    result: gpd.GeoDataFrame,
    column: str = "drive_min_nearest",
    *,
    bands: Sequence[float] = (15.0, 30.0, 45.0, 60.0),
    name: str | None = None,
) -> Layer:
    """A map layer of one time column: cells dissolved into bands (``0-15``, ``15-30``, ...,
    ``> 60 min``) for :func:`cztgeo.build_map`."""
    from .maps import Layer

    if column not in result.columns:
        raise InputError(f"no column {column!r}; columns: {list(result.columns)}")
    from .access_inputs import _minutes

    edges = _minutes(bands)
    vals = result[column].to_numpy(dtype=float)
    labels = [f"{lo:g}-{hi:g} min" for lo, hi in zip((0.0, *edges[:-1]), edges, strict=True)]
    labels.append(f"> {edges[-1]:g} min")
    idx = np.searchsorted(np.asarray(edges), vals, side="left")
    band = np.where(
        np.isnan(vals), None, np.asarray(labels, dtype=object)[np.minimum(idx, len(edges))]
    )
    gdf = gpd.GeoDataFrame({"band": band}, geometry=result.geometry.values, crs=result.crs)
    gdf = gdf[gdf["band"].notna()].dissolve("band", as_index=False).to_crs(WGS84)
    ramp = ["#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027", "#7f0000"]
    colours = {lab: ramp[min(i, len(ramp) - 1)] for i, lab in enumerate(labels)}
    return Layer(gdf, name or f"{column} (minutes)", colour_by="band", colours=colours,
                 tooltip=("band",), legend=colours, fill_opacity=0.5, weight=0.5)  # fmt: skip
