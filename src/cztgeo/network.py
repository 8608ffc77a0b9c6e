"""Compact road and rail networks: CSR arrays built from OpenStreetMap, cached on disk.

A :class:`Network` holds directed arcs between OSM nodes as straight segments (every OSM way is
split at every node, so arcs *are* the edge geometry), in compressed-sparse-row order, with
travel times in seconds and lengths in metres. Its node coordinates are WGS84 plus a metric
projection (UTM) used for snapping and isochrone polygons.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyproj

from .crs import utm_crs_for
from .errors import DataSourceError, EmptyNetworkError, InputError, NetworkWarning
from .io import atomic_path, file_sha256
from .settings import Settings, embedded_data_dir
from .speeds import BIKE_KMH, HIGHSPEED_KMH, RAIL_KMH, WALK_KMH, SpeedProfile

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx
    from numpy.typing import NDArray

__all__ = ["MODES", "Network", "NetworkWarning", "from_networkx", "load_network"]

log = logging.getLogger(__name__)

Mode = Literal["drive", "walk", "bike", "rail"]
MODES: tuple[str, ...] = ("drive", "walk", "bike", "rail")
CACHE_FORMAT = 2
CACHE_SUFFIX = ".cztnet"
OSM_SUFFIXES = (".osm", ".xml", ".osm.bz2", ".osm.gz", ".pbf", ".osm.pbf", ".o5m", ".opl")
_MIN_TIME_S = 1e-3  # scipy's csgraph drops explicit zeros: keep every arc strictly positive

SKELETON_NOTE = (
    "coarse skeleton: OSM-derived major roads only (scgraph-data world_highways, nodes rounded "
    "to 0.001°); no minor roads, one-way streets or road classes; speeds assumed"
)

#: County-level units treated as urban by ``context="auto"``: the central districts of the
#: three cities (长沙 芙蓉 天心 岳麓 开福 雨花; 株洲 荷塘 芦淞 石峰 天元; 湘潭 雨湖 岳塘).
URBAN_ADCODES = (
    "430102", "430103", "430104", "430105", "430111",
    "430202", "430203", "430204", "430211",
    "430302", "430304",
)  # fmt: skip


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
    stations: dict[str, list[Any]] = field(default_factory=dict, repr=False)
    _derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

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

    def csr(self) -> Any:
        """The network as a ``scipy.sparse.csr_matrix`` of travel times (seconds)."""
        import scipy.sparse as sp

        if "csr" not in self._derived:
            self._derived["csr"] = sp.csr_matrix(
                (self.time_s, self.head, self.indptr), shape=(self.n_nodes, self.n_nodes)
            )
        return self._derived["csr"]

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

    def segments(self, *, metric: bool = False, arcs: Any = None) -> Any:
        """Arcs as straight shapely LineStrings, in WGS84 or (``metric=True``) in ``crs``.

        ``arcs`` selects arcs (a boolean mask or index array); all by default.
        """
        import shapely

        t, h = self.tail, self.head
        if arcs is not None:
            t, h = t[arcs], h[arcs]
        x, y = (self.x, self.y) if metric else (self.lon, self.lat)
        coords = np.stack([np.column_stack([x[t], y[t]]), np.column_stack([x[h], y[h]])], axis=1)
        return shapely.linestrings(coords)

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
        """Write the network as one cache file (``.cztnet``), atomically."""
        meta = {
            "format": CACHE_FORMAT,
            "kinds": list(self.kinds),
            "mode": self.mode,
            "crs": self.crs,
            "source": self.source,
            "coarse": self.coarse,
            "note": self.note,
            "stations": self.stations,
        }
        arrays = {
            name: getattr(self, name)
            for name in (
                "lon",
                "lat",
                "x",
                "y",
                "node_id",
                "indptr",
                "head",
                "time_s",
                "length_m",
                "kind",
            )
        }
        out = Path(path)
        with atomic_path(out) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(
                    fh, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays
                )
                fh.flush()
                os.fsync(fh.fileno())  # complete on disk before the rename makes it visible
            from .outputs import _fault

            _fault("cache-written")
        return out


def read_network_cache(path: str | os.PathLike[str]) -> Network:
    """Read a ``.cztnet`` cache file written by :meth:`Network.save`.

    Raises
    ------
    DataSourceError
        If the file is truncated, corrupt or of another format version.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"network cache not found: {str(p)!r}")
    try:
        _check_npz_members(p)
        with open(p, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            arrays = {k: z[k] for k in z.files if k != "meta"}
    except DataSourceError:
        raise
    except Exception as exc:
        raise DataSourceError(
            f"{p.name}: corrupt or truncated network cache ({type(exc).__name__}); delete it "
            "and build it again from the OSM file"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != CACHE_FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else None
        raise DataSourceError(
            f"{p.name}: network cache format {got!r} is not {CACHE_FORMAT}; "
            "rebuild it from the OSM file"
        )
    problem = _cache_problem(meta, arrays)
    if problem:
        raise DataSourceError(f"{p.name}: invalid network cache ({problem}); rebuild it")
    return Network(
        kinds=tuple(meta["kinds"]),
        mode=meta["mode"],
        crs=meta["crs"],
        source=meta["source"],
        coarse=bool(meta["coarse"]),
        note=meta["note"],
        stations=meta.get("stations", {}),
        **arrays,
    )


_CACHE_ARRAYS = {  # name: (dtype kinds allowed, length: "n" nodes, "m" arcs, "n+1")
    "lon": ("f", "n"),
    "lat": ("f", "n"),
    "x": ("f", "n"),
    "y": ("f", "n"),
    "node_id": ("iu", "n"),
    "indptr": ("iu", "n+1"),
    "head": ("iu", "m"),
    "time_s": ("f", "m"),
    "length_m": ("f", "m"),
    "kind": ("iu", "m"),
}


def _check_npz_members(p: Path) -> None:
    """Refuse, before numpy allocates anything, a cache whose members claim more data than the
    file holds (a crafted header could ask for terabytes) or hold objects."""
    import zipfile

    size = p.stat().st_size
    try:
        with zipfile.ZipFile(p) as zf:
            for info in zf.infolist():
                if info.file_size > 2 * size + (1 << 20):
                    raise DataSourceError(
                        f"{p.name}: member {info.filename!r} claims {info.file_size:,} bytes in a "
                        f"{size:,}-byte file; rebuild the cache"
                    )
                if not info.filename.endswith(".npy"):
                    continue
                with zf.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
                    else:
                        shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
                count = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
                if dtype.hasobject or count * dtype.itemsize > info.file_size:
                    raise DataSourceError(
                        f"{p.name}: member {info.filename!r} header does not match its data; "
                        "rebuild the cache"
                    )
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise DataSourceError(
            f"{p.name}: corrupt or truncated network cache ({type(exc).__name__}); delete it "
            "and build it again from the OSM file"
        ) from None


def _cache_problem(meta: dict[str, Any], arrays: dict[str, Any]) -> str:
    """What is wrong with a loaded cache (empty string when it is sound)."""
    missing = [k for k in _CACHE_ARRAYS if k not in arrays]
    if missing:
        return f"arrays {missing} missing"
    for key, typ in (("kinds", list), ("mode", str), ("crs", str), ("source", str)):
        if not isinstance(meta.get(key), typ):
            return f"metadata {key!r} missing or of the wrong type"
    if meta["mode"] not in MODES or not all(isinstance(k, str) for k in meta["kinds"]):
        return "metadata mode/kinds invalid"
    if not isinstance(meta.get("stations", {}), dict):
        return "metadata stations invalid"
    n = arrays["lon"].shape[0] if arrays["lon"].ndim == 1 else -1
    m = arrays["head"].shape[0] if arrays["head"].ndim == 1 else -1
    sizes = {"n": n, "m": m, "n+1": n + 1}
    for name, (kinds, length) in _CACHE_ARRAYS.items():
        a = arrays[name]
        if a.ndim != 1 or a.dtype.kind not in kinds or a.shape[0] != sizes[length]:
            return f"array {name!r} has shape {a.shape} and dtype {a.dtype}"
    indptr, head = arrays["indptr"], arrays["head"]
    if n < 1 or indptr[0] != 0 or indptr[-1] != m or (np.diff(indptr) < 0).any():
        return "arc index (indptr) inconsistent"
    if m and (head.min() < 0 or head.max() >= n):
        return "arc heads outside the node range"
    kind = arrays["kind"]
    if m and (kind.min() < 0 or kind.max() >= len(meta["kinds"])):
        return "arc classes outside the class list"
    for name in ("time_s", "length_m"):
        v = arrays[name]
        if not np.isfinite(v).all() or (v < 0).any():
            return f"{name} not finite and non-negative"
    lon, lat = arrays["lon"], arrays["lat"]
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        return "node coordinates not finite"
    if (np.abs(lon) > 180).any() or (np.abs(lat) > 90).any():
        return "node coordinates out of range"
    if not (np.isfinite(arrays["x"]).all() and np.isfinite(arrays["y"]).all()):
        return "metric node coordinates not finite"
    return ""


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
    stations: dict[str, list[Any]] | None = None,
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


# ---------------------------------------------------------------------- OSM tag filters

_DRIVE = {
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
    "residential", "living_street", "service", "road", "busway",
}  # fmt: skip
_NOT_WALK = {
    "motorway", "motorway_link", "construction", "proposed", "planned", "abandoned",
    "raceway", "bus_guideway", "escape", "busway", "razed", "platform", "no",
}  # fmt: skip
_NOT_BIKE = _NOT_WALK | {"footway", "steps", "corridor", "elevator", "escalator", "pedestrian"}
_RAIL = {"rail", "light_rail", "subway", "monorail", "narrow_gauge"}
_SERVICE_NOT_DRIVE = {"parking_aisle", "driveway", "private", "emergency_access", "parking"}
_NO = {"no", "private"}
_YES = {"yes", "designated", "permissive", "destination"}


def _oneway(tags: dict[str, str], *, implied: bool) -> tuple[bool, bool]:
    ow = tags.get("oneway", "").lower()
    if ow in ("yes", "true", "1"):
        return True, False
    if ow in ("-1", "reverse"):
        return False, True
    if ow == "no":
        return True, True
    if implied and (
        tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway"
    ):
        return True, False
    return True, True


def way_directions(tags: dict[str, str], mode: str) -> tuple[bool, bool] | None:
    """Whether ``mode`` may use a way forwards / backwards; None if not at all."""
    if mode == "rail":
        if tags.get("railway") not in _RAIL or tags.get("service") == "yard":
            return None
        return True, True
    hw = tags.get("highway")
    if hw is None or tags.get("area") == "yes":
        return None
    access = tags.get("access", "")
    if mode == "drive":
        if hw not in _DRIVE:
            return None
        mv = tags.get("motor_vehicle", tags.get("motorcar", ""))
        if mv in _NO or (access in _NO and mv not in _YES):
            return None
        if hw == "service" and tags.get("service") in _SERVICE_NOT_DRIVE:
            return None
        return _oneway(tags, implied=True)
    if mode == "walk":
        foot = tags.get("foot", "")
        if hw in _NOT_WALK or foot in _NO or (access in _NO and foot not in _YES):
            return None
        if hw == "cycleway" and foot not in _YES:
            return None
        return True, True
    if mode == "bike":
        bike = tags.get("bicycle", "")
        if (hw in _NOT_BIKE and bike not in _YES) or bike in _NO:
            return None
        if access in _NO and bike not in _YES:
            return None
        if tags.get("oneway:bicycle") == "no":
            return True, True
        return _oneway(tags, implied=True)
    raise InputError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")


# ---------------------------------------------------------------------- context


#: Built-up context for ``context="auto"``, measured from the network itself: an arc is urban
#: when the junctions (nodes joining 3+ road ends) within ``radius_m`` of its midpoint reach
#: ``per_km2``. Thresholds by network kind (full OSM streets, or the coarse major-road skeleton,
#: whose junction density is about 1/km² in central Changsha and under 0.3/km² in the green
#: heart). Plus two documented proxies: within 1.5 km of a Changsha Metro station (the metro
#: serves the built-up city) and within 3 km of each city's centre (the old cores).
BUILT_UP_DENSITY = {"full": (1000.0, 15.0), "coarse": (2500.0, 0.5)}
METRO_PROXY_M = 1500.0
CORE_RADIUS_M = 3000.0
#: The three city centres (WGS84): 五一广场 (长沙), 株洲站 (株洲), 湘潭市人民政府 (approximate).
CITY_CENTRES = {
    "长沙": (112.9709, 28.1986),
    "株洲": (113.1517, 27.8388),
    "湘潭": (112.9442, 27.8297),
}


def _metro_points() -> NDArray[np.float64]:
    path = embedded_data_dir() / "czt_transit.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return np.empty((0, 2))
    pts = [
        (s["lon"], s["lat"])
        for ln in doc.get("lines", [])
        if ln.get("kind") == "metro"
        for s in ln.get("stations", [])
    ]
    return np.asarray(pts, dtype=float).reshape(-1, 2)


def built_up_mask(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    junction_lon: NDArray[np.float64],
    junction_lat: NDArray[np.float64],
    *,
    coarse: bool,
) -> NDArray[np.bool_]:
    """Which points lie in the built-up area, measured from the network's junction density
    and the documented proxies of :data:`BUILT_UP_DENSITY` (metro stations, city cores)."""
    from scipy.spatial import cKDTree

    from .crs import METRIC_CRS, WGS84, transformer

    to_m = transformer(WGS84, METRIC_CRS)
    x, y = (np.asarray(v) for v in to_m.transform(lon, lat))
    pts = np.column_stack([x, y])
    radius, per_km2 = BUILT_UP_DENSITY["coarse" if coarse else "full"]
    out = np.zeros(x.shape, dtype=bool)
    if len(junction_lon):
        jx, jy = to_m.transform(junction_lon, junction_lat)
        tree = cKDTree(np.column_stack([jx, jy]))
        counts = tree.query_ball_point(pts, radius, return_length=True)
        out |= np.asarray(counts) / (np.pi * (radius / 1000.0) ** 2) >= per_km2
    metro = _metro_points()
    if len(metro):
        mx, my = to_m.transform(metro[:, 0], metro[:, 1])
        d, _ = cKDTree(np.column_stack([mx, my])).query(pts)
        out |= d <= METRO_PROXY_M
    cores = np.array(list(CITY_CENTRES.values()))
    cx, cy = to_m.transform(cores[:, 0], cores[:, 1])
    d, _ = cKDTree(np.column_stack([cx, cy])).query(pts)
    out |= d <= CORE_RADIUS_M
    return out


def _junctions(
    lon: NDArray[np.float64], lat: NDArray[np.float64], a: NDArray[np.int64], b: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Nodes where three or more road ends meet (each undirected segment counted once)."""
    pairs = np.unique(np.sort(np.column_stack([a, b]), axis=1), axis=0)
    deg = np.bincount(pairs.ravel(), minlength=len(lon))
    j = deg >= 3
    return lon[j], lat[j]


def _urban_mask(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    context: Any,
    junctions: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
    *,
    coarse: bool = False,
) -> NDArray[np.bool_]:
    """Which points lie in an urban context (``"auto"``, ``"urban"``, ``"rural"``,
    ``"districts"`` or a geometry)."""
    import shapely

    if isinstance(context, str):
        if context == "urban":
            return np.ones(lon.shape, dtype=bool)
        if context == "rural":
            return np.zeros(lon.shape, dtype=bool)
        if context == "auto" and junctions is not None:
            return built_up_mask(lon, lat, junctions[0], junctions[1], coarse=coarse)
        if context not in ("auto", "districts"):
            raise InputError(
                f"unknown context {context!r}: use 'auto', 'districts', 'urban', 'rural' or a "
                "polygon"
            )
        from .boundaries import load_boundaries

        counties = load_boundaries("county")
        region = shapely.union_all(counties.geometry.values)
        inside_czt = shapely.contains_xy(region, lon, lat)
        if not inside_czt.any():
            # outside CZT there is nothing to tell urban from rural by: treat as urban
            return np.ones(lon.shape, dtype=bool)
        urban = shapely.union_all(counties[counties["adcode"].isin(URBAN_ADCODES)].geometry.values)
        shapely.prepare(urban)
        return np.asarray(shapely.contains_xy(urban, lon, lat) | ~inside_czt)
    geom = getattr(context, "union_all", None)
    poly = geom() if callable(geom) else context
    if not isinstance(poly, shapely.Geometry):
        raise InputError("context must be 'auto', 'urban', 'rural', or a (Geo)Series/geometry")
    shapely.prepare(poly)
    return np.asarray(shapely.contains_xy(poly, lon, lat))


# ---------------------------------------------------------------------- OSM files


def _read_osm(path: Path, mode: str, profile: SpeedProfile, context: Any) -> Network:
    import osmium

    key = "railway" if mode == "rail" else "highway"
    way_nodes: list[list[int]] = []
    way_dirs: list[tuple[bool, bool]] = []
    way_tags: list[tuple[str, str | None, str | None, bool]] = []
    locs: dict[int, tuple[float, float]] = {}
    stations: dict[str, list[Any]] = {"osm_id": [], "name": [], "lon": [], "lat": [], "station": []}
    missing = 0
    try:
        fp = (
            osmium.FileProcessor(str(path))
            .with_locations()
            .with_filter(osmium.filter.KeyFilter(key))
        )
        obj: Any
        for obj in fp:
            if obj.is_node():
                if mode == "rail" and obj.tags.get("railway") in ("station", "halt"):
                    stations["osm_id"].append(int(obj.id))
                    stations["name"].append(obj.tags.get("name"))
                    stations["lon"].append(obj.location.lon)
                    stations["lat"].append(obj.location.lat)
                    stations["station"].append(obj.tags.get("station", "train"))
                continue
            if not obj.is_way():
                continue
            tags = dict(obj.tags)
            dirs = way_directions(tags, mode)
            if dirs is None:
                continue
            refs = []
            for nd in obj.nodes:
                if not nd.location.valid():
                    missing += 1
                    refs.append(-1)
                    continue
                locs[nd.ref] = (nd.location.lon, nd.location.lat)
                refs.append(nd.ref)
            way_nodes.append(refs)
            way_dirs.append(dirs)
            way_tags.append(
                (
                    tags.get(key, ""),
                    tags.get("maxspeed"),
                    tags.get("ref"),
                    tags.get("highspeed") == "yes",
                )
            )
    except (RuntimeError, ValueError, OSError, osmium.InvalidLocationError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataSourceError(
            f"{path.name}: cannot read it as OSM data ({msg}); is the file truncated or corrupt?"
        ) from None
    if missing:
        warnings.warn(
            f"{path.name}: {missing} way nodes have no location (the extract cut them off); "
            "the segments touching them were skipped",
            NetworkWarning,
            stacklevel=3,
        )
    if not way_nodes:
        raise EmptyNetworkError(
            f"no {mode} ways in {path.name}: the file has no '{key}' ways this mode may use"
        )

    # per-arc arrays
    lens = np.fromiter((len(w) for w in way_nodes), dtype=np.int64, count=len(way_nodes))
    flat = np.fromiter((r for w in way_nodes for r in w), dtype=np.int64, count=int(lens.sum()))
    way_of = np.repeat(np.arange(len(way_nodes)), lens)
    a, b = flat[:-1], flat[1:]
    same_way = way_of[:-1] == way_of[1:]
    ok = same_way & (a >= 0) & (b >= 0)
    a, b, w = a[ok], b[ok], way_of[:-1][ok]
    ids = np.fromiter(locs.keys(), dtype=np.int64, count=len(locs))
    xy = np.array(list(locs.values()), dtype=np.float64).reshape(-1, 2)
    order = np.argsort(ids)
    ids, xy = ids[order], xy[order]
    ia, ib = np.searchsorted(ids, a), np.searchsorted(ids, b)
    length = geodesic_length_m(xy[ia, 0], xy[ia, 1], xy[ib, 0], xy[ib, 1])

    kinds_list = sorted({t[0] for t in way_tags})
    kind_code = {k: i for i, k in enumerate(kinds_list)}
    way_kind = np.array([kind_code[t[0]] for t in way_tags], dtype=np.int16)
    speed_u, speed_r = _way_speeds(way_tags, mode, profile)
    mid_lon = (xy[ia, 0] + xy[ib, 0]) / 2
    mid_lat = (xy[ia, 1] + xy[ib, 1]) / 2
    if mode == "drive":
        junctions = _junctions(xy[:, 0], xy[:, 1], ia, ib)
        urban = _urban_mask(mid_lon, mid_lat, context, junctions)
    else:
        urban = np.ones(a.size, bool)
    speed = np.where(urban, speed_u[w], speed_r[w])
    routable = np.isfinite(speed) & (speed > 0)
    time = length / (speed / 3.6)
    fwd = np.array([d[0] for d in way_dirs])[w] & routable
    bwd = np.array([d[1] for d in way_dirs])[w] & routable
    tail = np.concatenate([ia[fwd], ib[bwd]])
    head = np.concatenate([ib[fwd], ia[bwd]])
    return build_network(
        xy[:, 0],
        xy[:, 1],
        ids,
        tail,
        head,
        np.concatenate([time[fwd], time[bwd]]),
        np.concatenate([length[fwd], length[bwd]]),
        np.concatenate([way_kind[w][fwd], way_kind[w][bwd]]),
        tuple(kinds_list),
        mode=mode,
        source=f"OpenStreetMap file {path.name}",
        stations=stations if stations["osm_id"] else None,
    )


def _way_speeds(
    way_tags: list[tuple[str, str | None, str | None, bool]], mode: str, profile: SpeedProfile
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    n = len(way_tags)
    if mode == "drive":
        cache: dict[tuple[str, str | None, str | None], tuple[float, float]] = {}
        su, sr = np.empty(n), np.empty(n)
        for i, (hw, maxspeed, ref, _) in enumerate(way_tags):
            k = (hw, maxspeed, ref)
            if k not in cache:
                cache[k] = (
                    profile.speed_kmh(hw, urban=True, maxspeed=maxspeed, ref=ref),
                    profile.speed_kmh(hw, urban=False, maxspeed=maxspeed, ref=ref),
                )
            su[i], sr[i] = cache[k]
        return su, sr
    if mode == "walk":
        s = np.array([WALK_KMH * (0.6 if t[0] == "steps" else 1.0) for t in way_tags])
        return s, s
    if mode == "bike":
        s = np.full(n, BIKE_KMH)
        return s, s
    from .speeds import parse_maxspeed

    s = np.empty(n)
    for i, (rw, maxspeed, _, highspeed) in enumerate(way_tags):
        base = HIGHSPEED_KMH if highspeed else RAIL_KMH.get(rw, math.nan)
        posted = parse_maxspeed(maxspeed)
        s[i] = posted * profile.maxspeed_factor if np.isfinite(posted) else base
    return s, s


# ---------------------------------------------------------------------- skeleton


#: Classes inferred for the skeleton's arcs (it has no road classes) and their assumed
#: off-peak operating speeds, km/h. The heuristic: an arc is a straight link between two
#: junctions of the source graph, so a long arc is a road without junctions, i.e. an expressway
#: or a 快速路-like corridor (芙蓉大道, 潭州大道, 洞株路, 红易大道: design 80 km/h; G4 and 长株高速:
#: 120 km/h); short arcs are arterials. Built-up context as in :func:`built_up_mask`. Speeds:
#: urban arterial 40 (CJJ 37-2012 主干路 design 40-60, operating the lower end), urban long
#: link 60 (快速路 design 60-100), rural arterial 60 (国道/省道, 70 legal limit with one lane per
#: direction), rural long link 90 (expressway/快速路, design 80-120, off-peak operating).
SKELETON_CLASSES: tuple[tuple[str, float], ...] = (
    ("rural arterial (inferred, assumed 60 km/h)", 60.0),
    ("urban arterial (inferred, assumed 40 km/h)", 40.0),
    ("rural long link / expressway-like (inferred, assumed 90 km/h)", 90.0),
    ("urban long link / 快速路-like (inferred, assumed 60 km/h)", 60.0),
)
#: Arc length (m) from which a skeleton arc counts as a long link, rural / urban.
LONG_LINK_M = {"rural": 4000.0, "urban": 2500.0}
#: Peak-hour speed factors (assumptions: Changsha's peak congestion indices of about 1.5-1.7).
PEAK_FACTOR = {"urban": 0.6, "rural": 0.85}


def load_skeleton(*, context: Any = "auto", period: str = "offpeak") -> Network:
    """The embedded OSM-derived major-road skeleton of the metro area (a coarse drive network).

    The source has no road classes: each arc gets an inferred class and an assumed speed
    (:data:`SKELETON_CLASSES`) from its length and its built-up context
    (:func:`built_up_mask`), so the corridors between the cities run at corridor speeds.
    """
    if period not in ("offpeak", "peak"):
        raise InputError(f"unknown period {period!r}: use 'offpeak' or 'peak'")
    path = embedded_data_dir() / "czt_road_skeleton.geojson"
    doc = json.loads(path.read_text())
    feats = doc["features"]
    u = np.array([f["properties"]["u"] for f in feats], dtype=np.int64)
    v = np.array([f["properties"]["v"] for f in feats], dtype=np.int64)
    length = np.array([f["properties"]["length_m"] for f in feats], dtype=np.float64)
    c = np.array([f["geometry"]["coordinates"] for f in feats], dtype=np.float64)
    ids = np.concatenate([u, v])
    lon = np.concatenate([c[:, 0, 0], c[:, 1, 0]])
    lat = np.concatenate([c[:, 0, 1], c[:, 1, 1]])
    uid, first = np.unique(ids, return_index=True)
    iu, iv = np.searchsorted(uid, u), np.searchsorted(uid, v)
    # straight-line length is a floor for the road length (rounding can make the source's
    # 1-decimal length slightly shorter than the rounded node distance)
    straight = geodesic_length_m(c[:, 0, 0], c[:, 0, 1], c[:, 1, 0], c[:, 1, 1])
    length = np.maximum(length, straight)
    junctions = _junctions(lon[first], lat[first], iu, iv)
    mid = ((c[:, 0, 0] + c[:, 1, 0]) / 2, (c[:, 0, 1] + c[:, 1, 1]) / 2)
    urban = _urban_mask(mid[0], mid[1], context, junctions, coarse=True)
    long_link = length >= np.where(urban, LONG_LINK_M["urban"], LONG_LINK_M["rural"])
    kind = (urban.astype(np.int16) + 2 * long_link.astype(np.int16)).astype(np.int16)
    kmh = np.array([k for _, k in SKELETON_CLASSES])[kind]
    if period == "peak":
        kmh = kmh * np.where(urban, PEAK_FACTOR["urban"], PEAK_FACTOR["rural"])
    time = length / (kmh / 3.6)
    return build_network(
        lon[first],
        lat[first],
        uid,
        np.concatenate([iu, iv]),
        np.concatenate([iv, iu]),
        np.concatenate([time, time]),
        np.concatenate([length, length]),
        np.concatenate([kind, kind]),
        tuple(name for name, _ in SKELETON_CLASSES),
        mode="drive",
        source="embedded OSM major-road skeleton (scgraph-data), © OpenStreetMap contributors",
        coarse=True,
        note=SKELETON_NOTE,
    )


# ---------------------------------------------------------------------- networkx


def from_networkx(
    G: nx.MultiDiGraph | nx.DiGraph,
    *,
    mode: str = "drive",
    profile: SpeedProfile | None = None,
    source: str = "NetworkX graph",
) -> Network:
    """Convert an osmnx-style graph (node ``x``/``y`` in WGS84) to a :class:`Network`.

    Edge ``travel_time`` (s) is used when present, else computed from ``length`` and the
    profile's speed for the edge's ``highway`` class. Curved edges (a ``geometry`` attribute,
    as osmnx's simplified graphs have) are split into straight arcs along their geometry.
    """
    profile = profile or SpeedProfile()
    nodes = list(G.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    lon = [float(G.nodes[n]["x"]) for n in nodes]
    lat = [float(G.nodes[n]["y"]) for n in nodes]
    node_ids: list[int] = [
        int(n) if isinstance(n, (int, np.integer)) else i for i, n in enumerate(nodes)
    ]
    tails: list[int] = []
    heads: list[int] = []
    times: list[float] = []
    lengths: list[float] = []
    kinds_of: list[str] = []
    extra = -1
    for u, v, data in G.edges(data=True):
        hw = data.get("highway", data.get("railway", "road"))
        hw = hw[0] if isinstance(hw, list) else str(hw)
        length = float(data.get("length", math.nan))
        if "travel_time" in data:
            t = float(data["travel_time"])
        else:
            kmh = profile.speed_kmh(
                hw, urban=True, maxspeed=data.get("maxspeed"), ref=data.get("ref")
            )
            t = length / (kmh / 3.6)
        geom = data.get("geometry")
        if geom is None:
            tails.append(index[u])
            heads.append(index[v])
            times.append(t)
            lengths.append(length)
            kinds_of.append(hw)
            continue
        pts = np.asarray(geom.coords)
        seg = geodesic_length_m(pts[:-1, 0], pts[:-1, 1], pts[1:, 0], pts[1:, 1])
        share = seg / seg.sum() if seg.sum() > 0 else np.full(seg.size, 1.0 / seg.size)
        chain = [index[u]]
        for px, py in pts[1:-1]:
            lon.append(float(px))
            lat.append(float(py))
            node_ids.append(extra)
            extra -= 1
            chain.append(len(lon) - 1)
        chain.append(index[v])
        for k in range(len(chain) - 1):
            tails.append(chain[k])
            heads.append(chain[k + 1])
            times.append(t * share[k])
            lengths.append(length * share[k])
            kinds_of.append(hw)
    kinds_list = sorted(set(kinds_of))
    code = {k: i for i, k in enumerate(kinds_list)}
    return build_network(
        np.array(lon),
        np.array(lat),
        np.array(node_ids, dtype=np.int64),
        np.array(tails),
        np.array(heads),
        np.array(times),
        np.array(lengths),
        np.array([code[k] for k in kinds_of], dtype=np.int16),
        tuple(kinds_list),
        mode=mode,
        source=source,
    )


# ---------------------------------------------------------------------- entry point


def _cache_key(digest: str, mode: str, profile: SpeedProfile, context: Any) -> str:
    ctx = (
        context if isinstance(context, str) else f"geom:{getattr(context, 'wkb_hex', id(context))}"
    )
    text = f"{CACHE_FORMAT}|{digest}|{mode}|{profile.key()}|{ctx}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _is_osm(path: Path) -> bool:
    name = path.name.lower()
    return any(name.endswith(s) for s in OSM_SUFFIXES)


def load_network(
    source: str | os.PathLike[str] | None = None,
    *,
    mode: str = "drive",
    profile: SpeedProfile | None = None,
    context: Any = "auto",
    settings: Settings | None = None,
    cache: bool = True,
) -> Network:
    """Load a road or rail network.

    Parameters
    ----------
    source
        * None: the embedded **coarse** OSM major-road skeleton of the metro area (drive only);
        * a path to OSM data: ``.osm``, ``.osm.bz2``, ``.osm.pbf`` (read with pyosmium);
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
        ``"auto"`` (urban speeds in the three cities' central districts, rural elsewhere in
        CZT), ``"urban"``, ``"rural"``, or a polygon of the urban area.
    settings
        Cache folder and offline flag.
    cache
        Reuse / write a cache keyed on the file's content, mode, profile and context.

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
    _check_mode(mode)
    profile = profile or SpeedProfile()
    settings = settings or Settings()
    from .sources import OverpassSource

    if source is None:
        if mode != "drive":
            raise InputError(
                f"the embedded skeleton is a road network for mode 'drive', not {mode!r}: "
                "pass an OSM file for walk, bike or rail"
            )
        return load_skeleton(context=context, period=profile.period)
    if isinstance(source, OverpassSource):
        G = source.graph(mode=mode, settings=settings)
        return from_networkx(G, mode=mode, profile=profile, source=source.describe())
    path = Path(source)
    if not path.exists():
        raise InputError(f"network file not found: {str(path)!r}")
    if path.is_dir():
        raise InputError(f"{str(path)!r} is a folder: give an .osm, .osm.pbf or .cztnet file")
    name = path.name.lower()
    if name.endswith(CACHE_SUFFIX):
        net = read_network_cache(path)
        if net.mode != mode:
            raise InputError(f"{path.name} holds a {net.mode!r} network, not {mode!r}")
        return net
    if name.endswith(".graphml"):
        import osmnx

        try:
            G = osmnx.load_graphml(path)
        except Exception as exc:
            raise DataSourceError(f"{path.name}: cannot read GraphML ({exc})") from None
        return from_networkx(G, mode=mode, profile=profile, source=f"GraphML {path.name}")
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
        if cache_file.exists():
            try:
                net = read_network_cache(cache_file)
                log.info("network cache hit: %s", cache_file)
                return net
            except (DataSourceError, InputError) as exc:  # rebuilt below
                log.warning("discarding bad cache %s: %s", cache_file, exc)
                cache_file.unlink(missing_ok=True)
    net = _read_osm(path, mode, profile, context)
    if cache_file is not None:
        try:
            net.save(cache_file)
        except OSError as exc:  # a read-only cache folder must not stop the analysis
            log.warning("could not write network cache %s: %s", cache_file, exc)
    return net


def clip_network(net: Network, area: Any) -> Network:
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


def prepare_networks(
    osm_file: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    modes: tuple[str, ...] = ("drive", "walk", "rail"),
    clip: Any = None,
    profile: SpeedProfile | None = None,
) -> dict[str, Path]:
    """Build one ``czt_<mode>.cztnet`` cache per mode from an OSM file, clipped to ``clip``.

    Modes with no arcs in the area are skipped with a log message.
    """
    out: dict[str, Path] = {}
    for mode in modes:
        _check_mode(mode)
        try:
            net = _read_osm(Path(osm_file), mode, profile or SpeedProfile(), "auto")
            if clip is not None:
                net = clip_network(net, clip)
        except EmptyNetworkError as exc:
            log.warning("skipping %s: %s", mode, exc)
            continue
        out[mode] = net.save(Path(out_dir) / f"czt_{mode}{CACHE_SUFFIX}")
    if not out:
        raise EmptyNetworkError(
            f"{Path(osm_file).name}: no network of any mode {modes} inside the area"
        )
    return out
