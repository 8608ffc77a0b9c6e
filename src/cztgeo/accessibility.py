"""Accessibility of every place: minutes to each centre and opportunities within thresholds.

For every origin (by default the cells of a square grid over the metro area) this computes

* the time to each centre by car (one reverse search per centre on the transposed network,
  so the cost does not grow with the number of origins), and by public transport with the
  commute circle's chains (``transit``: walk, rail, walk; ``taxi+transit``: each end by taxi
  when faster; :mod:`cztgeo.rail`);
* where opportunities are given (people, jobs: a raster or points with a count), how many are
  reachable by car within each threshold: one search per origin, limited to the largest
  threshold, run for a batch of origins in one call.

Journeys follow :func:`cztgeo.routing.travel_time_matrix` exactly: an origin is snapped to its
nearest arc and the straight line to it is covered at ``access_kmh``; a destination is reached
along its arc plus the line to it; going straight at ``access_kmh`` is always an option.

The work is split into chunks of origins that run here or on a Dask cluster
(:mod:`cztgeo.parallel`) with identical results; :func:`write_accessibility` streams chunks to
partitioned GeoParquet, resumes an interrupted run, and writes one Cloud-Optimised GeoTIFF per
measure.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from .access_inputs import (
    ACCESS_MODES,
    _grid_spec,
    _minutes,
    _modes,
    _opportunities,
    _origin_points,
    centre_keys,
    origin_grid,
)
from .access_output import accessibility_layer
from .access_search import (
    Chunk,
    Kit,
    batch_size,
    chunk_table,
    dest,
    mins_label,
    reverse_times,
    search_graph,
    snap,
)
from .circle import DEFAULT_CENTRES, Centre
from .errors import InputError
from .types import MinutesLike

if TYPE_CHECKING:
    from distributed import Client
    from numpy.typing import NDArray

    from .network import Network
    from .parallel import ChunkStore
    from .population import PopulationLike
    from .rail import TransitNetwork
    from .settings import Settings

__all__ = [
    "ACCESS_MODES",
    "DEFAULT_MINUTES",
    "AccessibilityRun",
    "accessibility",
    "accessibility_layer",
    "origin_grid",
    "write_accessibility",
]


log = logging.getLogger(__name__)

DEFAULT_MINUTES: tuple[float, ...] = (15.0, 30.0, 45.0)
#: Speed of the straight line between a point and the road network (the minor streets a
#: network leaves out; the commute circle's ``road_access_kmh``).
DEFAULT_ACCESS_KMH = 20.0


# ---------------------------------------------------------------- a job


@dataclass
class _Job:
    kit: Kit
    chunks: list[Chunk]
    origins: gpd.GeoDataFrame
    snap_m: NDArray[np.float64]
    on: NDArray[np.bool_]
    key: str
    grid: dict[str, float] | None
    notes: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)


def _prepare(
    net: Network | str | os.PathLike[str] | None,
    origins: gpd.GeoDataFrame | gpd.GeoSeries | None,
    *,
    minutes: MinutesLike,
    opportunities: PopulationLike | None,
    opportunities_column: str,
    to: Sequence[Centre],
    modes: Sequence[str],
    rail: TransitNetwork | str | os.PathLike[str] | None,
    cell_m: float,
    area: gpd.GeoDataFrame | gpd.GeoSeries | None,
    access_kmh: float,
    max_snap_m: float | None,
    chunk_size: int,
    settings: Settings | None,
) -> _Job:
    """Check every input, snap, run the reverse searches: everything before the chunks."""
    from scipy.spatial import cKDTree

    from .io import check_number
    from .network import default_network
    from .parallel import digest
    from .rail import default_transit

    mins = _minutes(minutes)
    modes_ = _modes(modes)
    speed = float(check_number("access_kmh", access_kmh)) / 3.6  # type: ignore[arg-type]
    limit_m = check_number("max_snap_m", max_snap_m, allow_none=True)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InputError(f"chunk_size must be a whole number >= 1, got {chunk_size!r}")
    if len(to) < 1:
        raise InputError("give at least one centre (to=)")
    if origins is None:
        origins = origin_grid(area, cell_m=cell_m)
    origins, o_ll = _origin_points(origins)
    opp = _opportunities(opportunities, opportunities_column)
    road, _choice = default_network(net, settings=settings)
    from .population import population_notes

    notes: list[str] = population_notes(opportunities)  # the census layer is COARSE
    tn = None
    if {"transit", "taxi+transit"} & set(modes_):
        tn = default_transit(rail, settings=settings, notes=notes)
        if tn is None:
            raise InputError("transit modes need a rail network; none could be loaded")
    if road.coarse:
        notes.append(
            "road network: embedded COARSE SKELETON of OSM major roads (no minor roads, "
            f"speeds assumed): every origin reaches it by a straight line at {access_kmh:g} "
            "km/h; use a full OSM extract for real work"
        )
    o_snap = snap(road, o_ll)
    on = np.ones(len(o_ll), dtype=bool) if limit_m is None else o_snap.distance_m <= limit_m
    from .routing import project

    ox, oy = project(road, o_ll)
    c_ll = np.array([(c.lon, c.lat) for c in to], dtype=np.float64)
    centres = dest(road, snap(road, c_ll), c_ll, speed, np.ones(len(c_ll)))
    opp_dest = None
    if opp is not None:
        opp_dest = dest(road, snap(road, opp[0]), opp[0], speed, opp[1])
    keys = tuple(centre_keys(to))
    transit = None
    if tn is not None:
        from .access_search import transit_kit

        transit = transit_kit(road, tn, c_ll, modes_, speed, o_snap)
        notes += [f"transit: {a}" for a in tn.assumptions]
    kit = Kit(
        n=road.n_nodes, indptr=road.indptr, head=road.head, tail=road.tail,
        time_s=road.time_s, reverse=road.reverse, speed=speed, minutes=mins,
        modes=modes_, centre_keys=keys, centres=centres,
        centre_rev_s=reverse_times(road, centres) if "drive" in modes_ else np.zeros((0, 0)),
        opp=opp_dest, batch=batch_size(road.n_nodes, 0 if opp is None else len(opp[1])),
        search=search_graph(road), transit=transit,
        opp_tree=None if opp_dest is None else cKDTree(np.column_stack([opp_dest.x, opp_dest.y])),
    )  # fmt: skip
    chunks = [
        Chunk(
            o_snap.arc[s:e],
            o_snap.frac[s:e],
            o_snap.distance_m[s:e],
            ox[s:e],
            oy[s:e],
            on[s:e],
            o_ll[s:e],
        )
        for s, e in _bounds(len(o_ll), chunk_size)
    ]
    from . import __version__

    key = digest(
        __version__, road.indptr, road.head, road.time_s, o_ll, mins, modes_, speed,
        limit_m, chunk_size, c_ll, None if opp is None else opp[0],
        None if opp is None else opp[1], None if tn is None else repr(tn),
    )  # fmt: skip
    job = _Job(kit, chunks, origins, o_snap.distance_m, on, key, _grid_spec(origins), notes)
    job.columns = _column_docs(job, road, to)
    return job


def _bounds(n: int, size: int) -> list[tuple[int, int]]:
    return [(s, min(s + size, n)) for s in range(0, n, size)]


def _column_docs(job: _Job, net: Network, to: Sequence[Centre]) -> dict[str, str]:
    kit = job.kit
    docs = {
        "origin_id": "the origin's id (grid: cell_id; points: the caller's id or index)",
        "snap_m": "straight distance from the origin to the road network, metres",
        "on_network": "False when snap_m exceeds max_snap_m (then every measure is NaN)",
    }
    if job.grid is not None:
        docs["row"] = "grid row (0 at the north edge)"
        docs["col"] = "grid column (0 at the west edge)"
    centres = dict(zip(kit.centre_keys, to, strict=True))
    for mode in kit.modes:
        prefix = mode.replace("+", "_")
        for k, c in centres.items():
            docs[f"{prefix}_min_{k}"] = (
                f"minutes to {c.name} ({c.name_en}, {c.basis}) by {mode} (inf: unreachable)"
            )
        docs[f"{prefix}_min_nearest"] = f"minutes to the nearest centre by {mode}"
        docs[f"{prefix}_nearest_centre"] = f"the nearest centre by {mode}"
    if kit.opp is not None:
        for m in kit.minutes:
            docs[f"drive_opportunities_{mins_label(m)}min"] = (
                f"opportunities reachable by car within {m:g} minutes (the straight line at "
                f"access speed included, as in travel_time_matrix)"
            )
    docs["geometry"] = "the origin (grid: the square cell), in the origins' CRS"
    return docs


def _finish(job: _Job, start: int, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """A chunk's table with the origins' ids, snap distances, nearest centres and geometry."""
    end = start + len(table)
    src = job.origins.iloc[start:end]
    head: dict[str, object] = {}
    if job.grid is not None:
        head = {"origin_id": src["cell_id"].to_numpy(), "row": src["row"].to_numpy(),
                "col": src["col"].to_numpy()}  # fmt: skip
    else:
        from .routing import point_ids

        ids = point_ids(job.origins, len(job.origins))
        head = {"origin_id": np.asarray(ids[start:end])}
    head["snap_m"] = job.snap_m[start:end]
    head["on_network"] = job.on[start:end]
    out = pd.DataFrame(head)
    keys = list(job.kit.centre_keys)
    for col in table.columns:
        out[col] = table[col].to_numpy()
    for mode in job.kit.modes:
        prefix = mode.replace("+", "_")
        t = table[[f"{prefix}_min_{k}" for k in keys]].to_numpy()
        best = np.nanmin(np.where(np.isnan(t), np.inf, t), axis=1)
        arg = np.argmin(np.where(np.isnan(t), np.inf, t), axis=1)
        known = ~np.isnan(t).all(axis=1)
        out[f"{prefix}_min_nearest"] = np.where(known, best, np.nan)
        out[f"{prefix}_nearest_centre"] = np.where(
            known & np.isfinite(best), np.asarray(keys, dtype=object)[arg], None
        )
    return gpd.GeoDataFrame(out, geometry=src.geometry.to_numpy(), crs=job.origins.crs)


# ---------------------------------------------------------------- public calls


def accessibility(
    net: Network | str | os.PathLike[str] | None = None,
    origins: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    *,
    minutes: MinutesLike = DEFAULT_MINUTES,
    opportunities: PopulationLike | None = None,
    opportunities_column: str = "population",
    to: Sequence[Centre] = DEFAULT_CENTRES,
    modes: Sequence[str] = ("drive",),
    rail: TransitNetwork | str | os.PathLike[str] | None = None,
    cell_m: float = 500.0,
    area: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    access_kmh: float = DEFAULT_ACCESS_KMH,
    max_snap_m: float | None = None,
    client: Client | str | None = None,
    workers: int | None = None,
    chunk_size: int = 2000,
    settings: Settings | None = None,
) -> gpd.GeoDataFrame:
    """Minutes from every origin to each centre, and opportunities within each threshold.

    Parameters
    ----------
    net
        Road network, or a file to load; default: the fetched OSM cache, else the embedded
        **coarse** skeleton (see :func:`cztgeo.network.default_network`).
    origins
        Points or polygons (counted at their centroid) in any declared CRS; default: the
        square cells of :func:`origin_grid` over ``area`` at ``cell_m``.
    minutes
        Thresholds for the opportunity counts (positive; default 15, 30, 45).
    opportunities
        People or jobs: a raster (GeoTIFF, any CRS; each cell counted at its centre), a vector
        file or a GeoDataFrame with ``opportunities_column`` (see
        :func:`cztgeo.population.population_points`). None: no counts.
    to
        Centres to time (default: the commute circle's three).
    modes
        Modes of the times to centres: ``"drive"``, ``"transit"`` (walk, rail, walk) and
        ``"taxi+transit"`` (each end by taxi when faster), as in the commute circle.
        Opportunities are counted by car.
    rail
        Transit network for the transit modes (default: the embedded one).
    cell_m, area
        The default grid (``area`` default: the metro area).
    access_kmh
        Speed of the straight line between a point and the road network (default 20 km/h:
        the minor streets a network leaves out).
    max_snap_m
        Origins farther than this from the network get NaN measures (``on_network`` False);
        None (default): no limit, the distance is in ``snap_m``.
    client, workers
        Run the chunks on Dask: a ``distributed.Client`` or a scheduler address, or a number
        of local worker processes. Results are identical to an in-process run.
    chunk_size
        Origins per chunk (a Dask task).
    settings
        Data and cache folders.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per origin, in the origins' CRS (the grid: EPSG:32649): ``origin_id``, for a
        grid ``row`` and ``col``, ``snap_m``, ``on_network``; per mode ``<mode>_min_<centre>``
        (``taxi+transit`` as ``taxi_transit``; centre names in snake case, e.g.
        ``drive_min_changsha``), ``<mode>_min_nearest`` and ``<mode>_nearest_centre``; with
        opportunities ``drive_opportunities_<m>min`` per threshold; geometry. ``attrs``
        holds ``columns`` (a description of each column) and ``notes``.

    Raises
    ------
    InputError
        Non-positive thresholds, a cell larger than the area, unknown modes, bad options.
    CRSError
        Origins, area or opportunities without a CRS.
    DataSourceError
        An unreachable scheduler.
    """
    from .parallel import connect, run_chunks

    job = _prepare(
        net, origins, minutes=minutes, opportunities=opportunities,
        opportunities_column=opportunities_column, to=to, modes=modes, rail=rail,
        cell_m=cell_m, area=area, access_kmh=access_kmh, max_snap_m=max_snap_m,
        chunk_size=chunk_size, settings=settings,
    )  # fmt: skip
    parts: dict[int, gpd.GeoDataFrame] = {}
    starts = [s for s, _ in _bounds(len(job.origins), chunk_size)]

    def keep(i: int, table: pd.DataFrame) -> None:
        parts[i] = _finish(job, starts[i], table)

    with connect(client, workers=workers) as c:
        run_chunks(chunk_table, job.kit, job.chunks, client=c, key=job.key, on_result=keep)
    out = pd.concat([parts[i] for i in range(len(job.chunks))], ignore_index=True)
    result = gpd.GeoDataFrame(out, geometry="geometry", crs=job.origins.crs)
    result.attrs = {"columns": job.columns, "notes": job.notes}
    if job.grid is not None:
        result.attrs["grid"] = dict(job.grid)
    return result


@dataclass
class AccessibilityRun:
    """What :func:`write_accessibility` wrote.

    Attributes
    ----------
    folder
        The output folder.
    cells
        The partitioned GeoParquet dataset (a folder of ``part-*.parquet``).
    rasters
        One Cloud-Optimised GeoTIFF per measure (grid origins only), by column name.
    n_origins, n_chunks
        Sizes.
    computed, reused
        Chunk indices computed by this run, and those a previous interrupted run had written.
    notes
        Assumptions to print with the results.
    """

    folder: Path
    cells: Path
    rasters: dict[str, Path]
    n_origins: int
    n_chunks: int
    computed: list[int]
    reused: list[int]
    notes: list[str]


def write_accessibility(
    out_dir: str | os.PathLike[str],
    net: Network | str | os.PathLike[str] | None = None,
    origins: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    *,
    minutes: MinutesLike = DEFAULT_MINUTES,
    opportunities: PopulationLike | None = None,
    opportunities_column: str = "population",
    to: Sequence[Centre] = DEFAULT_CENTRES,
    modes: Sequence[str] = ("drive",),
    rail: TransitNetwork | str | os.PathLike[str] | None = None,
    cell_m: float = 500.0,
    area: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    access_kmh: float = DEFAULT_ACCESS_KMH,
    max_snap_m: float | None = None,
    client: Client | str | None = None,
    workers: int | None = None,
    chunk_size: int = 2000,
    settings: Settings | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> AccessibilityRun:
    """Compute :func:`accessibility` chunk by chunk into ``out_dir``; resumable.

    Each chunk is written to a hidden store beside ``out_dir`` as soon as it finishes; a run
    that is interrupted (killed, Ctrl-C, a lost cluster) and started again with the same inputs
    and options computes only the chunks not yet written. When all are done the folder is put
    in place at once (:class:`cztgeo.io.Outputs`):

    * ``cells/part-NNNNN.parquet``: GeoParquet, one file per chunk (read the folder with
      ``geopandas.read_parquet`` or ``dask_geopandas.read_parquet``), the columns of
      :func:`accessibility`;
    * ``<column>.tif``: a Cloud-Optimised GeoTIFF (float32, EPSG:32649, NaN = no data) per
      measure, when the origins are a grid (:func:`origin_grid`);
    * ``accessibility.json``: the columns' descriptions, notes, the grid and the job key.

    Parameters are those of :func:`accessibility`; ``on_chunk(i)`` is called after chunk ``i``
    is written (for progress bars).

    Raises
    ------
    InputError, CRSError, DataSourceError
        As :func:`accessibility`; nothing is written.
    """
    from .access_output import check_out, publish
    from .parallel import ChunkStore, connect, run_chunks

    job = _prepare(
        net, origins, minutes=minutes, opportunities=opportunities,
        opportunities_column=opportunities_column, to=to, modes=modes, rail=rail,
        cell_m=cell_m, area=area, access_kmh=access_kmh, max_snap_m=max_snap_m,
        chunk_size=chunk_size, settings=settings,
    )  # fmt: skip
    inputs: list[str | os.PathLike[str]] = (
        [opportunities] if isinstance(opportunities, (str, os.PathLike)) else []
    )
    check_out(out_dir, inputs)
    with connect(client, workers=workers) as c:
        store: ChunkStore[pd.DataFrame] = ChunkStore.open(out_dir, job.key, len(job.chunks))
        reused = sorted(store.done())
        computed: list[int] = []
        starts = [s for s, _ in _bounds(len(job.origins), chunk_size)]

        def save(i: int, table: pd.DataFrame) -> None:
            store.write(i, _finish(job, starts[i], table))
            computed.append(i)
            if on_chunk is not None:
                on_chunk(i)

        run_chunks(chunk_table, job.kit, job.chunks, client=c, key=job.key,
                   skip=set(reused), on_result=save)  # fmt: skip
    folder, cells, rasters = publish(job, store, out_dir, inputs)
    store.remove()
    return AccessibilityRun(folder, cells, rasters, len(job.origins), len(job.chunks),
                            sorted(computed), reused, job.notes)  # fmt: skip
