"""OpenStreetMap input to networks: tag rules, the pyosmium reader, NetworkX/GraphML, skeleton.

Every reader here turns its source into arc arrays (tail, head, seconds, metres, class) and hands
them to :func:`~cztgeo.network.build_network`:

* :func:`read_osm` reads an ``.osm``/``.osm.pbf`` file with pyosmium, keeps the ways a mode may
  use (:func:`way_directions`: highway classes, access tags, one-way rules) and times each
  segment with a :class:`~cztgeo.speeds.SpeedProfile` in its urban or rural context;
* :func:`from_networkx` and :func:`read_graphml` convert osmnx graphs;
* :func:`load_skeleton` loads the embedded coarse major-road skeleton of the metro area.

Most callers want :func:`cztgeo.network.load_network`, which picks the reader from the source
and caches the result.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import DataSourceError, EmptyNetworkError, InputError, NetworkWarning
from .netcache import StationColumns
from .network import MODES, Network, build_network, check_mode, geodesic_length_m
from .settings import embedded_data_dir
from .speeds import (
    BIKE_KMH,
    HIGHSPEED_KMH,
    RAIL_KMH,
    WALK_KMH,
    Context,
    SpeedProfile,
    junction_points,
    parse_maxspeed,
    urban_mask,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import networkx as nx
    import osmium.osm
    from numpy.typing import NDArray

__all__ = [
    "SKELETON_CLASSES",
    "from_networkx",
    "load_skeleton",
    "read_graphml",
    "read_osm",
    "way_directions",
]

# ---------------------------------------------------------------------- OSM tag rules

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

Directions = tuple[bool, bool]


def _oneway(tags: dict[str, str], *, implied: bool) -> Directions:
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


def _drive_directions(tags: dict[str, str], hw: str, access: str) -> Directions | None:
    if hw not in _DRIVE:
        return None
    mv = tags.get("motor_vehicle", tags.get("motorcar", ""))
    if mv in _NO or (access in _NO and mv not in _YES):
        return None
    if hw == "service" and tags.get("service") in _SERVICE_NOT_DRIVE:
        return None
    return _oneway(tags, implied=True)


def _walk_directions(tags: dict[str, str], hw: str, access: str) -> Directions | None:
    foot = tags.get("foot", "")
    if hw in _NOT_WALK or foot in _NO or (access in _NO and foot not in _YES):
        return None
    if hw == "cycleway" and foot not in _YES:
        return None
    return True, True


def _bike_directions(tags: dict[str, str], hw: str, access: str) -> Directions | None:
    bike = tags.get("bicycle", "")
    if (hw in _NOT_BIKE and bike not in _YES) or bike in _NO:
        return None
    if access in _NO and bike not in _YES:
        return None
    if tags.get("oneway:bicycle") == "no":
        return True, True
    return _oneway(tags, implied=True)


_ROAD_RULES: dict[str, Callable[[dict[str, str], str, str], Directions | None]] = {
    "drive": _drive_directions,
    "walk": _walk_directions,
    "bike": _bike_directions,
}


def way_directions(tags: dict[str, str], mode: str) -> Directions | None:
    """Whether ``mode`` may use a way forwards / backwards; None if not at all.

    Parameters
    ----------
    tags
        The way's OSM tags.
    mode
        ``"drive"``, ``"walk"``, ``"bike"`` or ``"rail"``.

    Returns
    -------
    tuple of bool or None
        ``(forwards, backwards)``. Drive and bike follow ``oneway`` (implied on motorways and
        roundabouts; ``oneway:bicycle=no`` opens both ways to bikes); walk and rail ignore it.
    """
    if mode == "rail":
        if tags.get("railway") not in _RAIL or tags.get("service") == "yard":
            return None
        return True, True
    rule = _ROAD_RULES.get(mode)
    if rule is None:
        raise InputError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    hw = tags.get("highway")
    if hw is None or tags.get("area") == "yes":
        return None
    return rule(tags, hw, tags.get("access", ""))


# ---------------------------------------------------------------------- OSM files

#: Per way: class (``highway``/``railway`` value), ``maxspeed``, ``ref``, ``highspeed=yes``.
WayTags = tuple[str, str | None, str | None, bool]


@dataclass
class _Ways:
    """What one pass over an OSM file keeps for a mode."""

    nodes: list[list[int]] = field(default_factory=list)  # node ids per way, -1 where unlocated
    dirs: list[Directions] = field(default_factory=list)
    tags: list[WayTags] = field(default_factory=list)
    locs: dict[int, tuple[float, float]] = field(default_factory=dict)
    stations: StationColumns = field(
        default_factory=lambda: {"osm_id": [], "name": [], "lon": [], "lat": [], "station": []}
    )
    missing: int = 0  # way nodes without a location


def _add_station(ways: _Ways, obj: osmium.osm.Node) -> None:
    if obj.tags.get("railway") in ("station", "halt"):
        ways.stations["osm_id"].append(int(obj.id))
        ways.stations["name"].append(obj.tags.get("name"))
        ways.stations["lon"].append(obj.location.lon)
        ways.stations["lat"].append(obj.location.lat)
        ways.stations["station"].append(obj.tags.get("station", "train"))


def _add_way(ways: _Ways, obj: osmium.osm.Way, mode: str, key: str) -> None:
    tags = dict(obj.tags)
    dirs = way_directions(tags, mode)
    if dirs is None:
        return
    refs = []
    for nd in obj.nodes:
        if not nd.location.valid():
            ways.missing += 1
            refs.append(-1)
            continue
        ways.locs[nd.ref] = (nd.location.lon, nd.location.lat)
        refs.append(nd.ref)
    ways.nodes.append(refs)
    ways.dirs.append(dirs)
    ways.tags.append(
        (tags.get(key, ""), tags.get("maxspeed"), tags.get("ref"), tags.get("highspeed") == "yes")
    )


def _scan(path: Path, mode: str, key: str) -> _Ways:
    """One pyosmium pass: the ways ``mode`` may use (and rail stations)."""
    import osmium

    ways = _Ways()
    try:
        fp = (
            osmium.FileProcessor(str(path))
            .with_locations()
            .with_filter(osmium.filter.KeyFilter(key))
        )
        for obj in fp:
            if isinstance(obj, osmium.osm.Node):
                if mode == "rail":
                    _add_station(ways, obj)
            elif isinstance(obj, osmium.osm.Way):
                _add_way(ways, obj, mode, key)
    except (RuntimeError, ValueError, OSError, osmium.InvalidLocationError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataSourceError(
            f"{path.name}: cannot read it as OSM data ({msg}); is the file truncated or corrupt?"
        ) from exc
    return ways


def read_osm(
    path: str | os.PathLike[str],
    *,
    mode: str,
    profile: SpeedProfile | None = None,
    context: Context = "auto",
) -> Network:
    """Read an OSM file (``.osm``, ``.osm.bz2``, ``.osm.pbf``, ...) into a :class:`Network`.

    Every way is split at every node into straight arcs. Drive speeds come from ``profile`` (the
    default :class:`~cztgeo.speeds.SpeedProfile` when None) in the arc's ``context``
    (:func:`~cztgeo.speeds.urban_mask` of the arc midpoint, junctions taken from the file
    itself); walk, bike and rail speeds do not depend on context. No cache:
    :func:`cztgeo.network.load_network` adds one.

    Raises
    ------
    DataSourceError
        The file cannot be read as OSM data.
    EmptyNetworkError
        No ways, or no routable arcs, for ``mode``.

    Warns
    -----
    NetworkWarning
        Way nodes without a location (cut off by the extract); their segments are skipped.
    """
    check_mode(mode)
    path = Path(path)
    profile = profile or SpeedProfile()
    key = "railway" if mode == "rail" else "highway"
    ways = _scan(path, mode, key)
    if ways.missing:
        warnings.warn(
            f"{path.name}: {ways.missing} way nodes have no location (the extract cut them off); "
            "the segments touching them were skipped",
            NetworkWarning,
            stacklevel=3,
        )
    if not ways.nodes:
        raise EmptyNetworkError(
            f"no {mode} ways in {path.name}: the file has no '{key}' ways this mode may use"
        )

    # per-segment arrays
    lens = np.fromiter((len(w) for w in ways.nodes), dtype=np.int64, count=len(ways.nodes))
    flat = np.fromiter((r for w in ways.nodes for r in w), dtype=np.int64, count=int(lens.sum()))
    way_of = np.repeat(np.arange(len(ways.nodes)), lens)
    a, b = flat[:-1], flat[1:]
    ok = (way_of[:-1] == way_of[1:]) & (a >= 0) & (b >= 0)
    a, b, w = a[ok], b[ok], way_of[:-1][ok]
    ids = np.fromiter(ways.locs.keys(), dtype=np.int64, count=len(ways.locs))
    xy = np.array(list(ways.locs.values()), dtype=np.float64).reshape(-1, 2)
    order = np.argsort(ids)
    ids, xy = ids[order], xy[order]
    ia, ib = np.searchsorted(ids, a), np.searchsorted(ids, b)
    length = geodesic_length_m(xy[ia, 0], xy[ia, 1], xy[ib, 0], xy[ib, 1])

    kinds_list = sorted({t[0] for t in ways.tags})
    kind_code = {k: i for i, k in enumerate(kinds_list)}
    way_kind = np.array([kind_code[t[0]] for t in ways.tags], dtype=np.int16)
    speed_u, speed_r = _way_speeds(ways.tags, mode, profile)
    if mode == "drive":
        mid_lon = (xy[ia, 0] + xy[ib, 0]) / 2
        mid_lat = (xy[ia, 1] + xy[ib, 1]) / 2
        junctions = junction_points(xy[:, 0], xy[:, 1], ia, ib)
        urban = urban_mask(mid_lon, mid_lat, context, junctions)
    else:
        urban = np.ones(a.size, bool)
    speed = np.where(urban, speed_u[w], speed_r[w])
    routable = np.isfinite(speed) & (speed > 0)
    time = length / (speed / 3.6)
    fwd = np.array([d[0] for d in ways.dirs])[w] & routable
    bwd = np.array([d[1] for d in ways.dirs])[w] & routable
    return build_network(
        xy[:, 0],
        xy[:, 1],
        ids,
        np.concatenate([ia[fwd], ib[bwd]]),
        np.concatenate([ib[fwd], ia[bwd]]),
        np.concatenate([time[fwd], time[bwd]]),
        np.concatenate([length[fwd], length[bwd]]),
        np.concatenate([way_kind[w][fwd], way_kind[w][bwd]]),
        tuple(kinds_list),
        mode=mode,
        source=f"OpenStreetMap file {path.name}",
        stations=ways.stations if ways.stations["osm_id"] else None,
    )


def _way_speeds(
    way_tags: list[WayTags], mode: str, profile: SpeedProfile
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-way speeds (km/h) in an urban and in a rural context (equal except for drive)."""
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
    s = np.empty(n)
    for i, (rw, maxspeed, _, highspeed) in enumerate(way_tags):
        base = HIGHSPEED_KMH if highspeed else RAIL_KMH.get(rw, math.nan)
        posted = parse_maxspeed(maxspeed)
        s[i] = posted * profile.maxspeed_factor if np.isfinite(posted) else base
    return s, s


# ---------------------------------------------------------------------- skeleton

SKELETON_NOTE = (
    "coarse skeleton: OSM-derived major roads only (scgraph-data world_highways, nodes rounded "
    "to 0.001°); no minor roads, one-way streets or road classes; speeds assumed"
)
#: Classes inferred for the skeleton's arcs (it has no road classes) and their assumed
#: off-peak operating speeds, km/h. The heuristic: an arc is a straight link between two
#: junctions of the source graph, so a long arc is a road without junctions, i.e. an expressway
#: or a 快速路-like corridor (芙蓉大道, 潭州大道, 洞株路, 红易大道: design 80 km/h; G4 and 长株高速:
#: 120 km/h); short arcs are arterials. Built-up context as in
#: :func:`~cztgeo.speeds.built_up_mask`. Speeds: urban arterial 40 (CJJ 37-2012 主干路 design
#: 40-60, operating the lower end), urban long link 60 (快速路 design 60-100), rural arterial 60
#: (国道/省道, 70 legal limit with one lane per direction), rural long link 90
#: (expressway/快速路, design 80-120, off-peak operating).
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


def load_skeleton(*, context: Context = "auto", period: str = "offpeak") -> Network:
    """The embedded OSM-derived major-road skeleton of the metro area (a coarse drive network).

    The source has no road classes: each arc gets an inferred class and an assumed speed
    (:data:`SKELETON_CLASSES`) from its length and its built-up context
    (:func:`~cztgeo.speeds.built_up_mask`), so the corridors between the cities run at
    corridor speeds.

    Parameters
    ----------
    context
        Where the urban classes apply (see :func:`~cztgeo.speeds.urban_mask`).
    period
        ``"offpeak"`` or ``"peak"`` (speeds times :data:`PEAK_FACTOR`).
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
    junctions = junction_points(lon[first], lat[first], iu, iv)
    mid = ((c[:, 0, 0] + c[:, 1, 0]) / 2, (c[:, 0, 1] + c[:, 1, 1]) / 2)
    urban = urban_mask(mid[0], mid[1], context, junctions, coarse=True)
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


@dataclass
class _Arcs:
    """Arc lists grown edge by edge (node lists may grow too, for curved edges' vertices)."""

    lon: list[float]
    lat: list[float]
    node_ids: list[int]
    tails: list[int] = field(default_factory=list)
    heads: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    lengths: list[float] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    next_id: int = -1  # id of the next added node (negative: not in the source graph)

    def add(self, u: int, v: int, time_s: float, length_m: float, kind: str) -> None:
        self.tails.append(u)
        self.heads.append(v)
        self.times.append(time_s)
        self.lengths.append(length_m)
        self.kinds.append(kind)

    def add_curve(
        self, u: int, v: int, coords: NDArray[np.float64], time_s: float, length_m: float, kind: str
    ) -> None:
        """One edge along a polyline: a new node per inner vertex (negative ids), time and
        length shared out by geodesic segment length."""
        seg = geodesic_length_m(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])
        share = seg / seg.sum() if seg.sum() > 0 else np.full(seg.size, 1.0 / seg.size)
        chain = [u]
        for px, py in coords[1:-1]:
            self.lon.append(float(px))
            self.lat.append(float(py))
            self.node_ids.append(self.next_id)
            self.next_id -= 1
            chain.append(len(self.lon) - 1)
        chain.append(v)
        for k in range(len(chain) - 1):
            self.add(chain[k], chain[k + 1], time_s * share[k], length_m * share[k], kind)


def from_networkx(
    G: nx.MultiDiGraph | nx.DiGraph,
    *,
    mode: str = "drive",
    profile: SpeedProfile | None = None,
    source: str = "NetworkX graph",
) -> Network:
    """Convert an osmnx-style graph (node ``x``/``y`` in WGS84) to a :class:`Network`.

    Edge ``travel_time`` (s) is used when present, else computed from ``length`` and the
    profile's urban speed for the edge's ``highway`` class. Curved edges (a ``geometry``
    attribute, as osmnx's simplified graphs have) are split into straight arcs along their
    geometry. Integer node ids are kept; other ids become their position in ``G.nodes``.
    """
    check_mode(mode)
    profile = profile or SpeedProfile()
    nodes = list(G.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    arcs = _Arcs(
        lon=[float(G.nodes[n]["x"]) for n in nodes],
        lat=[float(G.nodes[n]["y"]) for n in nodes],
        node_ids=[int(n) if isinstance(n, (int, np.integer)) else i for i, n in enumerate(nodes)],
    )
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
            arcs.add(index[u], index[v], t, length, hw)
        else:
            arcs.add_curve(index[u], index[v], np.asarray(geom.coords), t, length, hw)
    kinds_list = sorted(set(arcs.kinds))
    code = {k: i for i, k in enumerate(kinds_list)}
    return build_network(
        np.array(arcs.lon),
        np.array(arcs.lat),
        np.array(arcs.node_ids, dtype=np.int64),
        np.array(arcs.tails),
        np.array(arcs.heads),
        np.array(arcs.times),
        np.array(arcs.lengths),
        np.array([code[k] for k in arcs.kinds], dtype=np.int16),
        tuple(kinds_list),
        mode=mode,
        source=source,
    )


def read_graphml(
    path: str | os.PathLike[str], *, mode: str, profile: SpeedProfile | None = None
) -> Network:
    """Read a GraphML file written by osmnx (``osmnx.save_graphml``) into a :class:`Network`.

    Raises
    ------
    DataSourceError
        osmnx cannot read the file.
    """
    import osmnx

    path = Path(path)
    try:
        G = osmnx.load_graphml(path)
    except Exception as exc:
        raise DataSourceError(f"{path.name}: cannot read GraphML ({exc})") from exc
    return from_networkx(G, mode=mode, profile=profile, source=f"GraphML {path.name}")
