"""Compact road and rail networks: CSR arrays, their on-disk cache, and the one loader.

A :class:`Network` holds directed arcs between OSM nodes as straight segments (every OSM way is
split at every node, so arcs *are* the edge geometry), in compressed-sparse-row order, with
travel times in seconds and lengths in metres. Its node coordinates are WGS84 plus a metric
projection (UTM) used for snapping and isochrone polygons.

:func:`load_network` picks the reader for a source (the embedded skeleton, an OSM file, a
GraphML file, Overpass: see :mod:`cztgeo.osm` and :mod:`cztgeo.sources`) and keeps a content-keyed
cache; :func:`build_network` turns arc arrays from any reader into a :class:`Network`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, cast

import numpy as np
import pyproj

from .crs import utm_crs_for
from .errors import DataSourceError, EmptyNetworkError, InputError, NetworkWarning
from .io import file_sha256
from .netcache import (
    CACHE_ARRAYS,
    CACHE_FORMAT,
    CACHE_SUFFIX,
    CacheArrays,
    CacheMeta,
    StationColumns,
    read_cache,
    write_cache,
)
from .settings import Settings
from .speeds import Context, SpeedProfile

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx
    import scipy.sparse
    import shapely
    from numpy.typing import NDArray

    from .sources import OverpassSource

__all__ = [
    "MODES",
    "Network",
    "NetworkWarning",
    "build_network",
    "clip_network",
    "default_network",
    "load_network",
    "read_network_cache",
]

log = logging.getLogger(__name__)

Mode = Literal["drive", "walk", "bike", "rail"]
MODES: tuple[str, ...] = ("drive", "walk", "bike", "rail")
OSM_SUFFIXES = (".osm", ".xml", ".osm.bz2", ".osm.gz", ".pbf", ".osm.pbf", ".o5m", ".opl")
_MIN_TIME_S = 1e-3  # scipy's csgraph drops explicit zeros: keep every arc strictly positive

#: A selection of arcs: a boolean mask over all arcs or an array of arc indices.
ArcSelection: TypeAlias = "NDArray[np.bool_] | NDArray[np.int64] | NDArray[np.int32]"


def check_mode(mode: str) -> None:
    """Raise :class:`~cztgeo.errors.InputError` unless ``mode`` is one of :data:`MODES`."""
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")


@dataclass(frozen=True, eq=False)
class Network:
    """A directed network in CSR form. Build it with :func:`load_network`.

    Attributes
    ----------
    lon, lat
        Node positions, WGS84.
    x, y
        Node positions in ``crs`` (metres).
    node_id
        Original node ids (OSM ids where the source is OSM).
    indptr, head
        CSR structure: the arcs leaving node ``i`` are ``indptr[i]:indptr[i+1]``, ending at
        ``head[...]``.
    time_s, length_m
        Per-arc travel time (seconds) and length (metres).
    kind, kinds
        Per-arc class code and the class names it indexes (OSM ``highway``/``railway`` value).
    mode
        ``"drive"``, ``"walk"``, ``"bike"`` or ``"rail"``.
    crs
        The metric CRS of ``x``/``y`` (a UTM zone).
    source
        Where it came from, for labels and reports.
    coarse
        True for the embedded major-road skeleton; ``note`` says what it lacks.
    stations
        Rail stations read with a rail network (:data:`~cztgeo.netcache.StationColumns`).
    """

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    node_id: NDArray[np.int64]
    indptr: NDArray[np.int32]
    head: NDArray[np.int32]
    time_s: NDArray[np.float64]
    length_m: NDArray[np.float64]
    kind: NDArray[np.int16]
    kinds: tuple[str, ...]
    mode: str
    crs: str
    source: str
    coarse: bool = False
    note: str = ""
    stations: StationColumns = field(default_factory=dict, repr=False)
    #: Arrays and indexes derived on first use (tail, reverse, csr, tree); not part of the data.
    _derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    # ------------------------------------------------------------------ sizes and views
    @property
    def n_nodes(self) -> int:
        return int(self.lon.shape[0])

    @property
    def n_arcs(self) -> int:
        return int(self.head.shape[0])

    @property
    def tail(self) -> NDArray[np.int32]:
        """Start node of every arc (derived from ``indptr``)."""
        if "tail" not in self._derived:
            self._derived["tail"] = np.repeat(
                np.arange(self.n_nodes, dtype=np.int32), np.diff(self.indptr)
            )
        return self._derived["tail"]  # type: ignore[no-any-return]

    @property
    def reverse(self) -> NDArray[np.int64]:
        """Index of each arc's reverse arc (``v→u`` for ``u→v``), -1 where there is none."""
        if "reverse" not in self._derived:
            n = np.int64(self.n_nodes)
            key = self.tail.astype(np.int64) * n + self.head
            rkey = self.head.astype(np.int64) * n + self.tail
            order = np.argsort(key, kind="stable")
            pos = np.searchsorted(key[order], rkey)
            pos = np.clip(pos, 0, len(key) - 1)
            found = key[order][pos] == rkey
            self._derived["reverse"] = np.where(found, order[pos], -1).astype(np.int64)
        return self._derived["reverse"]  # type: ignore[no-any-return]

    def csr(self) -> scipy.sparse.csr_matrix:
        """The network as a ``scipy.sparse.csr_matrix`` of travel times (seconds)."""
        import scipy.sparse as sp

        if "csr" not in self._derived:
            self._derived["csr"] = sp.csr_matrix(
                (self.time_s, self.head, self.indptr), shape=(self.n_nodes, self.n_nodes)
            )
        return self._derived["csr"]

    def arc_tree(self) -> shapely.STRtree:
        """Spatial index of the arcs, for snapping points to the network.

        A shapely ``STRtree`` over :meth:`segments` in the metric ``crs`` (metres): tree item
        ``i`` is arc ``i``, so ``tree.query_nearest(shapely.points(x, y))`` gives arc indices.
        Built on first use and kept with the network (:func:`cztgeo.routing.snap_points` uses
        the same tree).
        """
        import shapely

        if "tree" not in self._derived:
            self._derived["tree"] = shapely.STRtree(self.segments(metric=True))
        return self._derived["tree"]  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        tag = " coarse" if self.coarse else ""
        return (
            f"<cztgeo Network{tag} mode={self.mode} nodes={self.n_nodes:,} "
            f"arcs={self.n_arcs:,} source={self.source!r}>"
        )

    # ------------------------------------------------------------------ exports
    def to_networkx(self) -> nx.MultiDiGraph:
        """Export as a NetworkX MultiDiGraph (osmnx conventions).

        Nodes carry ``x``/``y`` (WGS84 lon/lat); edges carry ``travel_time`` (s), ``length``
        (m) and ``highway`` (or ``railway``) class. Graph attribute ``crs`` is EPSG:4326.
        """
        import networkx as nx

        G = nx.MultiDiGraph(crs="EPSG:4326", mode=self.mode, source=self.source)
        G.add_nodes_from(
            (int(i), {"x": float(lo), "y": float(la), "osmid": int(o)})
            for i, (lo, la, o) in enumerate(zip(self.lon, self.lat, self.node_id, strict=True))
        )
        kinds = self.kinds
        G.add_edges_from(
            (
                int(u),
                int(v),
                {"travel_time": float(t), "length": float(ln), "highway": kinds[int(k)]},
            )
            for u, v, t, ln, k in zip(
                self.tail, self.head, self.time_s, self.length_m, self.kind, strict=True
            )
        )
        return G

    def segments(
        self, *, metric: bool = False, arcs: ArcSelection | None = None
    ) -> NDArray[np.object_]:
        """Arcs as an array of straight shapely LineStrings, in WGS84 or (``metric=True``) in
        ``crs``.

        ``arcs`` selects arcs (a boolean mask or index array); all by default.
        """
        import shapely

        t, h = self.tail, self.head
        if arcs is not None:
            t, h = t[arcs], h[arcs]
        x, y = (self.x, self.y) if metric else (self.lon, self.lat)
        coords = np.stack([np.column_stack([x[t], y[t]]), np.column_stack([x[h], y[h]])], axis=1)
        return np.asarray(shapely.linestrings(coords))

    def edges(self) -> gpd.GeoDataFrame:
        """Arcs as a GeoDataFrame of straight LineStrings in EPSG:4326."""
        import geopandas as gpd

        t, h = self.tail, self.head
        return gpd.GeoDataFrame(
            {
                "u": self.node_id[t],
                "v": self.node_id[h],
                "kind": np.asarray(self.kinds, dtype=object)[self.kind],
                "length_m": self.length_m,
                "time_s": self.time_s,
            },
            geometry=self.segments(),
            crs="EPSG:4326",
        )

    # ------------------------------------------------------------------ cache
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the network as one cache file (``.cztnet``, :mod:`cztgeo.netcache`),
        atomically."""
        meta: CacheMeta = {
            "format": CACHE_FORMAT,
            "kinds": list(self.kinds),
            "mode": self.mode,
            "crs": self.crs,
            "source": self.source,
            "coarse": self.coarse,
            "note": self.note,
            "stations": self.stations,
        }
        arrays = {name: getattr(self, name) for name in CACHE_ARRAYS}
        return write_cache(path, meta, cast("CacheArrays", arrays))


def read_network_cache(path: str | os.PathLike[str]) -> Network:
    """Read a ``.cztnet`` cache file written by :meth:`Network.save`.

    Raises
    ------
    InputError
        If there is no such file.
    DataSourceError
        If the file is truncated, corrupt, inconsistent or of another format version.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"network cache not found: {str(p)!r}")
    meta, arrays = read_cache(p, modes=MODES)
    data = dict(arrays)  # the reverse-arc index is derived, stored: its sort is slow
    net = Network(
        kinds=tuple(meta["kinds"]),
        mode=meta["mode"],
        crs=meta["crs"],
        source=meta["source"],
        coarse=meta["coarse"],
        note=meta["note"],
        stations=meta["stations"],
        **{k: v for k, v in data.items() if k != "reverse"},  # type: ignore[arg-type]
    )
    if "reverse" in data:  # format 3; a format-2 file's is computed on first use
        net._derived["reverse"] = data["reverse"]
    return net


# ---------------------------------------------------------------------- building


def build_network(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    node_id: NDArray[np.int64],
    tail: NDArray[np.int64],
    head: NDArray[np.int64],
    time_s: NDArray[np.float64],
    length_m: NDArray[np.float64],
    kind: NDArray[np.int16],
    kinds: tuple[str, ...],
    *,
    mode: str,
    source: str,
    coarse: bool = False,
    note: str = "",
    stations: StationColumns | None = None,
    crs: str | None = None,
) -> Network:
    """Assemble a :class:`Network` from arc arrays: drops unused nodes and self-loops, keeps the
    fastest of parallel arcs, sorts into CSR order and projects nodes to a metric CRS."""
    tail = np.asarray(tail, dtype=np.int64)
    head = np.asarray(head, dtype=np.int64)
    keep = tail != head
    tail, head = tail[keep], head[keep]
    time_s = np.maximum(np.asarray(time_s, dtype=np.float64)[keep], _MIN_TIME_S)
    length_m = np.asarray(length_m, dtype=np.float64)[keep]
    kind = np.asarray(kind, dtype=np.int16)[keep]
    if tail.size == 0:
        raise EmptyNetworkError(
            f"no {mode} arcs in {source}: the file has no ways this mode may use; "
            "check the file and the mode"
        )
    # renumber nodes to those used by arcs
    used, inverse = np.unique(np.concatenate([tail, head]), return_inverse=True)
    tail_i = inverse[: tail.size]
    head_i = inverse[tail.size :]
    n = used.size
    # fastest of parallel arcs
    order = np.lexsort((time_s, head_i, tail_i))
    tail_i, head_i = tail_i[order], head_i[order]
    first = np.ones(tail_i.size, dtype=bool)
    first[1:] = (tail_i[1:] != tail_i[:-1]) | (head_i[1:] != head_i[:-1])
    tail_i, head_i = tail_i[first], head_i[first]
    sel = order[first]
    counts = np.bincount(tail_i, minlength=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    if indptr[-1] >= np.iinfo(np.int32).max:
        raise DataSourceError("network too large for 32-bit indices: clip it to a smaller area")
    nlon = np.asarray(lon, dtype=np.float64)[used]
    nlat = np.asarray(lat, dtype=np.float64)[used]
    metric = crs or utm_crs_for(float(np.median(nlon)), float(np.median(nlat))).to_string()
    tr = pyproj.Transformer.from_crs("EPSG:4326", metric, always_xy=True)
    x, y = tr.transform(nlon, nlat)
    return Network(
        lon=nlon,
        lat=nlat,
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        node_id=np.asarray(node_id, dtype=np.int64)[used],
        indptr=indptr.astype(np.int32),
        head=head_i.astype(np.int32),
        time_s=time_s[sel],
        length_m=length_m[sel],
        kind=kind[sel],
        kinds=tuple(kinds),
        mode=mode,
        crs=metric,
        source=source,
        coarse=coarse,
        note=note,
        stations=stations or {},
    )


_GEOD = pyproj.Geod(ellps="WGS84")


def geodesic_length_m(
    lon0: NDArray[np.float64],
    lat0: NDArray[np.float64],
    lon1: NDArray[np.float64],
    lat1: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Ellipsoidal distance in metres between point arrays."""
    if len(lon0) == 0:
        return np.zeros(0)
    return np.asarray(_GEOD.inv(lon0, lat0, lon1, lat1)[2], dtype=np.float64)


# ---------------------------------------------------------------------- entry point


def _cache_key(digest: str, mode: str, profile: SpeedProfile, context: Context) -> str:
    ctx = (
        context if isinstance(context, str) else f"geom:{getattr(context, 'wkb_hex', id(context))}"
    )
    text = f"{CACHE_FORMAT}|{digest}|{mode}|{profile.key()}|{ctx}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _is_osm(path: Path) -> bool:
    name = path.name.lower()
    return any(name.endswith(s) for s in OSM_SUFFIXES)


def _existing_file(source: str | os.PathLike[str]) -> Path:
    path = Path(source)
    if not path.exists():
        raise InputError(f"network file not found: {str(path)!r}")
    if path.is_dir():
        raise InputError(f"{str(path)!r} is a folder: give an .osm, .osm.pbf or .cztnet file")
    return path


def _read_cache_of_mode(path: Path, mode: str) -> Network:
    net = read_network_cache(path)
    if net.mode != mode:
        raise InputError(f"{path.name} holds a {net.mode!r} network, not {mode!r}")
    return net


def _cached(cache_file: Path) -> Network | None:
    """The network in ``cache_file`` if there is a sound one; a bad one is deleted."""
    if not cache_file.exists():
        return None
    try:
        net = read_network_cache(cache_file)
    except (DataSourceError, InputError) as exc:  # rebuilt by the caller
        log.warning("discarding bad cache %s: %s", cache_file, exc)
        cache_file.unlink(missing_ok=True)
        return None
    log.info("network cache hit: %s", cache_file)
    return net


def _write_cache(net: Network, cache_file: Path) -> None:
    try:
        net.save(cache_file)
    except OSError as exc:  # a read-only cache folder must not stop the analysis
        log.warning("could not write network cache %s: %s", cache_file, exc)


def load_network(
    source: str | os.PathLike[str] | OverpassSource | None = None,
    *,
    mode: str = "drive",
    profile: SpeedProfile | None = None,
    context: Context = "auto",
    settings: Settings | None = None,
    cache: bool = True,
) -> Network:
    """Load a road or rail network.

    Parameters
    ----------
    source
        * None: the embedded **coarse** OSM major-road skeleton of the metro area (drive only,
          :func:`cztgeo.osm.load_skeleton`);
        * a path to OSM data: ``.osm``, ``.osm.bz2``, ``.osm.pbf`` (read with pyosmium,
          :func:`cztgeo.osm.read_osm`);
        * a path to a prepared cache ``.cztnet`` (see :meth:`Network.save`);
        * a ``.graphml`` file written by osmnx;
        * an :class:`~cztgeo.sources.OverpassSource` (online only).
    mode
        ``"drive"``, ``"walk"``, ``"bike"`` or ``"rail"``. Filters follow OSM tags: highway
        classes, ``access``/``foot``/``bicycle``/``motor_vehicle``, ``oneway`` (with implied
        one-way on motorways and roundabouts), ``railway=rail|light_rail|subway|monorail``.
    profile
        Road speeds (:class:`~cztgeo.speeds.SpeedProfile`); the Chinese default otherwise.
    context
        Where drive speeds are urban (:func:`~cztgeo.speeds.urban_mask`): ``"auto"`` (the
        built-up area, measured from the network's junction density with metro-station and
        city-core proxies), ``"districts"`` (the three cities' central districts), ``"urban"``,
        ``"rural"``, or a WGS84 polygon of the urban area.
    settings
        Cache folder and offline flag.
    cache
        Reuse / write a cache keyed on the file's content, mode, profile and context (OSM
        files only).

    Returns
    -------
    Network

    Raises
    ------
    InputError
        Unknown mode, missing file, unknown format.
    DataSourceError
        Truncated or corrupt file or cache.
    EmptyNetworkError
        No arcs left for this mode.
    OfflineError
        An online source while offline.
    """
    from . import osm
    from .sources import OverpassSource

    check_mode(mode)
    profile = profile or SpeedProfile()
    settings = settings or Settings()
    if source is None:
        if mode != "drive":
            raise InputError(
                f"the embedded skeleton is a road network for mode 'drive', not {mode!r}: "
                "pass an OSM file for walk, bike or rail"
            )
        return osm.load_skeleton(context=context, period=profile.period)
    if isinstance(source, OverpassSource):
        G = source.graph(mode=mode, settings=settings)
        return osm.from_networkx(G, mode=mode, profile=profile, source=source.describe())
    path = _existing_file(source)
    name = path.name.lower()
    if name.endswith(CACHE_SUFFIX):
        return _read_cache_of_mode(path, mode)
    if name.endswith(".graphml"):
        return osm.read_graphml(path, mode=mode, profile=profile)
    if not _is_osm(path):
        raise InputError(
            f"cannot tell the network format of {path.name!r}: use .osm, .osm.bz2, .osm.pbf, "
            f".graphml or {CACHE_SUFFIX}"
        )
    if path.stat().st_size == 0:
        raise DataSourceError(f"{path.name}: the file is empty")
    cache_file = None
    if cache:
        key = _cache_key(file_sha256(path), mode, profile, context)
        cache_file = Path(settings.cache_dir) / f"{path.name}.{mode}.{key}{CACHE_SUFFIX}"
        net = _cached(cache_file)
        if net is not None:
            return net
    net = osm.read_osm(path, mode=mode, profile=profile, context=context)
    if cache_file is not None:
        _write_cache(net, cache_file)
    return net


def clip_network(net: Network, area: shapely.Geometry) -> Network:
    """Keep the arcs with both ends inside ``area`` (a WGS84 shapely polygon)."""
    import shapely

    shapely.prepare(area)
    inside = np.asarray(shapely.contains_xy(area, net.lon, net.lat))
    keep = inside[net.tail] & inside[net.head]
    if not keep.any():
        raise EmptyNetworkError(f"no {net.mode} arcs of {net.source} lie inside the clip area")
    return build_network(
        net.lon,
        net.lat,
        net.node_id,
        net.tail[keep],
        net.head[keep],
        net.time_s[keep],
        net.length_m[keep],
        net.kind[keep],
        net.kinds,
        mode=net.mode,
        source=net.source,
        coarse=net.coarse,
        note=net.note,
        stations=net.stations,
        crs=net.crs,
    )


def default_network(
    net: Network | str | os.PathLike[str] | None = None,
    *,
    settings: Settings | None = None,
    period: str = "offpeak",
) -> tuple[Network, str]:
    """The road network to use when the caller names none, and why it was chosen.

    ``net`` if given (a Network, or a file loaded in ``period``); else the full OSM cache
    written by ``cztgeo data fetch`` in the cache folder; else the embedded **coarse**
    skeleton. A fetched cache that cannot be read is skipped with a
    :class:`~cztgeo.errors.NetworkWarning`.
    """
    if isinstance(net, Network):
        return net, "given"
    settings = settings or Settings()
    if period not in ("offpeak", "peak"):
        raise InputError(f"unknown period {period!r}: use 'offpeak' or 'peak'")
    profile = SpeedProfile(period=period)  # type: ignore[arg-type]
    if net is not None:
        return load_network(net, mode="drive", settings=settings, profile=profile), "given"
    fetched = Path(settings.cache_dir) / "czt_drive.cztnet"
    if fetched.exists():
        try:
            got = load_network(fetched, mode="drive", settings=settings, profile=profile)
        except DataSourceError as exc:  # a bad cache must not break every later run
            warnings.warn(
                f"ignoring the fetched cache ({exc}); using the embedded skeleton; run "
                "'cztgeo data fetch' again to rebuild it",
                NetworkWarning,
                stacklevel=2,
            )
        else:
            return got, f"fetched OSM cache {fetched}"
    return load_network(mode="drive", settings=settings, profile=profile), (
        "embedded coarse skeleton"
    )
