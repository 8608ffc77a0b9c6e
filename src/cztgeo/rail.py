"""Rail without GTFS: line definitions placed on OSM station points, a GTFS reader, and
multimodal (walk + rail) travel times.

A :class:`TransitNetwork` holds stops and lines (ordered stops, run times between consecutive
stops, a headway). Travelling means walking to a stop (straight line x detour factor at walking
speed), waiting half the headway, riding, transferring with a penalty, and walking from the
last stop.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

from .crs import METRIC_CRS, WGS84, reproject_geometry, transformer
from .errors import DataSourceError, InputError, LimitError
from .settings import Settings, embedded_data_dir

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "Line",
    "RailWarning",
    "TransitNetwork",
    "load_rail",
    "read_gtfs",
    "transit_arrivals",
    "transit_reach",
    "transit_time_matrix",
]

log = logging.getLogger(__name__)

_TO_M = transformer(WGS84, METRIC_CRS)


class RailWarning(UserWarning):
    """Stations that could not be placed, lines left with fewer than two stations."""


@dataclass(frozen=True)
class Line:
    """One line: stop indices in order, minutes between consecutive stops, a headway."""

    id: str
    name: str
    kind: str
    stops: tuple[int, ...]
    run_minutes: tuple[float, ...]
    headway_minutes: float
    source: str = ""


@dataclass(frozen=True)
class TransitNetwork:
    """Stops and lines, with the walking and waiting assumptions used to travel on them."""

    stop_name: tuple[str, ...]
    stop_lon: NDArray[np.float64]
    stop_lat: NDArray[np.float64]
    lines: tuple[Line, ...]
    walk_kmh: float = 4.5
    detour: float = 1.3
    transfer_minutes: float = 5.0
    departure_window_minutes: float = 0.0
    unplaced: tuple[str, ...] = ()
    source: str = ""
    _xy: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def stop_xy(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if "xy" not in self._xy:
            x, y = _TO_M.transform(self.stop_lon, self.stop_lat)
            self._xy["xy"] = (np.asarray(x), np.asarray(y))
        return self._xy["xy"]  # type: ignore[no-any-return]

    def wait_minutes(self, line: Line) -> float:
        """Expected wait: half the headway, less what a departure-time window absorbs."""
        return max(line.headway_minutes - self.departure_window_minutes, 0.0) / 2.0

    def with_headway(self, minutes: float | dict[str, float]) -> TransitNetwork:
        """A copy with other headways (one value for all lines, or by line id)."""
        from .io import check_number

        for v in minutes.values() if isinstance(minutes, dict) else [minutes]:
            check_number("headway minutes", v)
        lines = []
        for ln in self.lines:
            h = minutes.get(ln.id, ln.headway_minutes) if isinstance(minutes, dict) else minutes
            lines.append(replace(ln, headway_minutes=float(h)))
        return replace(self, lines=tuple(lines), _xy={})

    def add_line(self, line_stops: list[tuple[str, float, float]], *, run_minutes: list[float],
                 headway_minutes: float, name: str, kind: str = "planned") -> TransitNetwork:  # fmt: skip
        """A copy with a new line; stops within 300 m of an existing stop of the same name
        or position join it (so transfers work)."""
        names = list(self.stop_name)
        lon, lat = list(self.stop_lon), list(self.stop_lat)
        x, y = self.stop_xy
        idx = []
        for nm, lo, la in line_stops:
            px, py = _TO_M.transform(lo, la)
            d = np.hypot(x - px, y - py) if len(x) else np.array([])
            if d.size and d.min() < 300.0:
                idx.append(int(d.argmin()))
            else:
                names.append(nm)
                lon.append(lo)
                lat.append(la)
                idx.append(len(names) - 1)
        new = Line(f"planned-{len(self.lines)}", name, kind, tuple(idx), tuple(run_minutes),
                   float(headway_minutes), "scenario")  # fmt: skip
        return replace(
            self, stop_name=tuple(names), stop_lon=np.array(lon), stop_lat=np.array(lat),
            lines=(*self.lines, new), _xy={},
        )  # fmt: skip

    def stops_gdf(self) -> gpd.GeoDataFrame:
        served: dict[int, list[str]] = {}
        for ln in self.lines:
            for s in ln.stops:
                served.setdefault(s, []).append(ln.name)
        return gpd.GeoDataFrame(
            {
                "name": list(self.stop_name),
                "lines": ["; ".join(served.get(i, [])) for i in range(len(self.stop_name))],
            },
            geometry=shapely.points(self.stop_lon, self.stop_lat),
            crs=WGS84,
        )


#: GTFS limits: total uncompressed bytes read, and rows per table.
GTFS_MAX_BYTES = 500_000_000
GTFS_MAX_ROWS = 5_000_000


def _check_line_spec(spec: Any, name: str) -> None:
    """Refuse a line file that is not a list of well-formed lines (one line naming the fault)."""

    def positive(v: Any) -> bool:
        return (
            isinstance(v, (int, float))
            and not isinstance(v, bool)
            and bool(np.isfinite(v))
            and v > 0
        )

    if not isinstance(spec, dict) or not isinstance(spec.get("lines"), list):
        raise InputError(f"{name}: a rail line file needs a 'lines' list (see czt_rail_lines.json)")
    for key in ("transfer_penalty_minutes",):
        if key in spec and not (positive(spec[key]) or spec[key] == 0):
            raise InputError(f"{name}: {key} must be a number >= 0, got {spec[key]!r}")
    walk = spec.get("walk_access", {})
    if not isinstance(walk, dict) or not all(
        positive(walk[k]) for k in ("speed_kmh", "detour_factor") if k in walk
    ):
        raise InputError(f"{name}: walk_access speed_kmh/detour_factor must be positive numbers")
    for i, ln in enumerate(spec["lines"]):
        where = f"{name}: line {i}"
        if not isinstance(ln, dict):
            raise InputError(f"{where} is not an object")
        for key in ("id", "name"):
            if not isinstance(ln.get(key), str):
                raise InputError(f"{where}: {key!r} must be a string")
        st = ln.get("stations")
        if not isinstance(st, list) or not all(isinstance(x, str) for x in st):
            raise InputError(f"{where} ({ln['name']!r}): 'stations' must be a list of names")
        if not positive(ln.get("headway_minutes")):
            raise InputError(
                f"{where} ({ln['name']!r}): headway_minutes must be a positive number, got "
                f"{ln.get('headway_minutes')!r}"
            )
        rm = ln.get("run_minutes")
        if not (
            isinstance(rm, dict)
            and isinstance(rm.get("from"), str)
            and isinstance(rm.get("to"), str)
            and positive(rm.get("minutes"))
        ):
            raise InputError(
                f"{where} ({ln['name']!r}): run_minutes needs 'from', 'to' station names and "
                "positive 'minutes'"
            )


def _norm(name: Any) -> str:
    text = str(name).strip()
    return text[:-1] if text.endswith("站") and len(text) > 1 else text


def load_rail(
    path: str | os.PathLike[str] | None = None,
    *,
    stations: gpd.GeoDataFrame | str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
) -> TransitNetwork:
    """Rail lines from a line-definition file, placed on OSM station points by name.

    Parameters
    ----------
    path
        Line-definition JSON (default: the embedded ``geodata/czt_rail_lines.json``).
    stations
        OSM station points with a ``name`` column (default: ``osm/czt_rail_stations.geojson``
        in the data directory).

    Warns
    -----
    RailWarning
        Listing every station name that could not be placed; such stations are skipped (the
        line's sourced end-to-end time is kept), never invented.
    """
    settings = settings or Settings()
    p = Path(path) if path is not None else embedded_data_dir() / "czt_rail_lines.json"
    try:
        spec = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"rail line file not found: {str(p)!r}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{p.name}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise InputError(f"{p.name}: not a UTF-8 JSON file ({type(exc).__name__})") from None
    _check_line_spec(spec, p.name)
    if stations is None:
        stations = settings.data_path("osm", "czt_rail_stations.geojson")
    if not isinstance(stations, gpd.GeoDataFrame) and not Path(stations).exists():
        raise DataSourceError(
            f"no OSM station points at {str(stations)!r}: set CZTGEO_DATA_DIR to a folder with "
            "osm/czt_rail_stations.geojson, or pass stations="
        )
    if isinstance(stations, gpd.GeoDataFrame):
        st = stations
    else:
        from .io import read_vector

        st = read_vector(stations)
    if "name" not in st.columns:
        raise InputError("station points need a 'name' column")
    st = st[st["name"].notna() & (shapely.get_type_id(st.geometry.values) == 0)].to_crs(WGS84)
    by_name: dict[str, tuple[float, float, str]] = {}
    for nm, kind, g in zip(
        st["name"], st.get("station", pd.Series("", index=st.index)), st.geometry, strict=True
    ):
        key = _norm(nm)
        # prefer a mainline 'train' point over a metro or monorail point of the same name
        if key not in by_name or (kind == "train" and by_name[key][2] != "train"):
            by_name[key] = (g.x, g.y, str(kind))
    names: list[str] = []
    lon: list[float] = []
    lat: list[float] = []
    index: dict[str, int] = {}
    lines: list[Line] = []
    unplaced: list[str] = []
    walk = spec.get("walk_access", {})
    for ln in spec["lines"]:
        placed = []
        for nm in ln["stations"]:
            key = _norm(nm)
            if key not in by_name:
                unplaced.append(f"{nm} ({ln['name']})")
                continue
            if key not in index:
                index[key] = len(names)
                names.append(key)
                lon.append(by_name[key][0])
                lat.append(by_name[key][1])
            placed.append(index[key])
        if len(placed) < 2:
            warnings.warn(f"line {ln['name']!r} has fewer than 2 placed stations: skipped",
                          RailWarning, stacklevel=2)  # fmt: skip
            continue
        x, y = _TO_M.transform(np.array(lon)[placed], np.array(lat)[placed])
        seg = np.hypot(np.diff(x), np.diff(y))
        rm = ln["run_minutes"]
        a, b = _norm(rm["from"]), _norm(rm["to"])
        if a not in index or b not in index or index[a] not in placed or index[b] not in placed:
            raise InputError(f"line {ln['name']!r}: run_minutes stations {a!r}/{b!r} not placed")
        ia, ib = sorted((placed.index(index[a]), placed.index(index[b])))
        span = seg[ia:ib].sum()
        if not span > 0:
            raise InputError(f"line {ln['name']!r}: run_minutes stations {a!r}/{b!r} coincide")
        per_m = float(rm["minutes"]) / span  # the sourced average speed, applied to the line
        lines.append(
            Line(
                ln["id"],
                ln["name"],
                ln.get("kind", "rail"),
                tuple(placed),
                tuple(seg * per_m),
                float(ln["headway_minutes"]),
                rm.get("source", ""),
            )
        )
    if unplaced:
        warnings.warn(
            f"{len(unplaced)} stations have no named OSM station point and were skipped "
            f"(the lines keep their sourced end-to-end times): {', '.join(unplaced)}",
            RailWarning,
            stacklevel=2,
        )
    return TransitNetwork(
        tuple(names), np.array(lon), np.array(lat), tuple(lines),
        walk_kmh=float(walk.get("speed_kmh", 4.5)), detour=float(walk.get("detour_factor", 1.3)),
        transfer_minutes=float(spec.get("transfer_penalty_minutes", 5.0)),
        unplaced=tuple(unplaced), source=f"line file {p.name} + OSM station points",
    )  # fmt: skip


def read_gtfs(path: str | os.PathLike[str], *, walk_kmh: float = 4.5, detour: float = 1.3,
              transfer_minutes: float = 5.0) -> TransitNetwork:  # fmt: skip
    """Read a GTFS feed (folder or .zip) into a :class:`TransitNetwork`.

    Each route becomes a line following the stop sequence of its trip with the most stops;
    run times are that trip's scheduled differences; the headway is taken from
    ``frequencies.txt`` when present, else the service span divided by the route's trips in
    one direction.
    """
    from .io import check_number

    walk_kmh = check_number("walk_kmh", walk_kmh)  # type: ignore[assignment]
    detour = check_number("detour", detour, minimum=1.0, strict=False)  # type: ignore[assignment]
    transfer_minutes = check_number("transfer_minutes", transfer_minutes, strict=False)  # type: ignore[assignment]
    p = Path(path)
    if not p.exists():
        raise InputError(f"GTFS feed not found: {str(p)!r}")
    if not p.is_dir():
        try:
            with zipfile.ZipFile(p) as z:
                total = sum(i.file_size for i in z.infolist())
        except (zipfile.BadZipFile, OSError) as exc:
            raise DataSourceError(f"{p.name}: unreadable GTFS zip ({exc})") from None
        if total > GTFS_MAX_BYTES:
            raise LimitError(
                f"{p.name}: the feed unpacks to {total / 1e6:,.0f} MB, more than the "
                f"{GTFS_MAX_BYTES / 1e6:,.0f} MB cztgeo reads; cut it to the lines you need"
            )

    def table(name: str, required: bool = True) -> pd.DataFrame | None:
        try:
            if p.is_dir():
                f = p / name
                if not f.exists():
                    raise FileNotFoundError(name)
                if f.stat().st_size > GTFS_MAX_BYTES:
                    raise LimitError(f"{p.name}: {name} is larger than {GTFS_MAX_BYTES:,} bytes")
                df = pd.read_csv(f, dtype=str, nrows=GTFS_MAX_ROWS + 1)
            else:
                with zipfile.ZipFile(p) as z, z.open(name) as fh:
                    df = pd.read_csv(fh, dtype=str, nrows=GTFS_MAX_ROWS + 1)
        except (FileNotFoundError, KeyError):
            if required:
                raise InputError(f"{p.name}: GTFS feed has no {name}") from None
            return None
        except (
            zipfile.BadZipFile,
            pd.errors.ParserError,
            pd.errors.EmptyDataError,
            UnicodeDecodeError,
            OSError,
        ) as exc:
            raise DataSourceError(
                f"{p.name}: unreadable GTFS {name} ({type(exc).__name__})"
            ) from None
        if len(df) > GTFS_MAX_ROWS:
            raise LimitError(f"{p.name}: {name} has more than {GTFS_MAX_ROWS:,} rows")
        df.columns = [str(c).strip() for c in df.columns]
        return df

    def need(df: pd.DataFrame, name: str, cols: tuple[str, ...]) -> None:
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise InputError(f"{p.name}: {name} has no column {missing[0]!r}")

    stops = table("stops.txt")
    routes = table("routes.txt")
    trips = table("trips.txt")
    times = table("stop_times.txt")
    freqs = table("frequencies.txt", required=False)
    assert stops is not None and routes is not None and trips is not None and times is not None
    need(stops, "stops.txt", ("stop_id", "stop_name", "stop_lat", "stop_lon"))
    need(routes, "routes.txt", ("route_id",))
    need(trips, "trips.txt", ("route_id", "trip_id"))
    need(times, "stop_times.txt", ("trip_id", "stop_id", "stop_sequence"))
    if "departure_time" not in times and "arrival_time" not in times:
        raise InputError(f"{p.name}: stop_times.txt has no departure_time or arrival_time")
    for col in ("stop_lon", "stop_lat"):
        v = pd.to_numeric(stops[col], errors="coerce")
        lim = 180 if col == "stop_lon" else 90
        bad = v.isna() | ~np.isfinite(v.fillna(0)) | (v.abs() > lim)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{p.name}: stops.txt {col} {stops[col].iloc[i]!r} (line {i + 2}) is not a "
                f"number within ±{lim}"
            )
    if stops["stop_id"].duplicated().any():
        raise InputError(f"{p.name}: stops.txt has duplicate stop_id values")

    def secs(v: pd.Series) -> pd.Series:
        parts = v.astype("string").str.strip().str.split(":", expand=True)
        if parts.shape[1] != 3:
            raise InputError(f"{p.name}: stop_times.txt times must be HH:MM:SS")
        hms = parts.apply(pd.to_numeric, errors="coerce")
        t = hms[0] * 3600 + hms[1] * 60 + hms[2]
        bad = t.isna() | (hms < 0).any(axis=1) | (hms[1] >= 60) | (hms[2] >= 60)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{p.name}: stop_times.txt time {v.iloc[i]!r} (line {i + 2}) is not HH:MM:SS"
            )
        return t.astype(float)

    dep = times["departure_time"] if "departure_time" in times else times["arrival_time"]
    if "arrival_time" in times:
        dep = dep.fillna(times["arrival_time"])
    times["t"] = secs(dep)
    seq_num = pd.to_numeric(times["stop_sequence"], errors="coerce")
    if seq_num.isna().any() or (seq_num < 0).any() or (seq_num != seq_num.round()).any():
        raise InputError(f"{p.name}: stop_times.txt stop_sequence must be whole numbers >= 0")
    times["seq"] = seq_num.astype(np.int64)
    stop_idx = {sid: i for i, sid in enumerate(stops["stop_id"])}
    unknown = sorted(set(times["stop_id"]) - set(stop_idx), key=str)
    if unknown:
        raise InputError(
            f"{p.name}: stop_times.txt refers to stops not in stops.txt: {unknown[:5]}"
        )
    ordered = times.sort_values(["trip_id", "seq"])
    back = ordered.groupby("trip_id")["t"].diff() < 0
    if back.any():
        trip = ordered.loc[back, "trip_id"].iloc[0]
        raise InputError(
            f"{p.name}: times run backwards along trip {trip!r} (stop_times.txt); fix the feed"
        )
    lines = []
    for rid, rtrips in trips.groupby("route_id"):
        st = times[times["trip_id"].isin(rtrips["trip_id"])]
        if st.empty:
            continue
        counts = st.groupby("trip_id").size()
        best = counts.idxmax()
        seq = st[st["trip_id"] == best].sort_values("seq")
        if len(seq) < 2:
            continue
        run = np.diff(seq["t"].to_numpy()) / 60.0
        if (
            freqs is not None
            and {"trip_id", "headway_secs"} <= set(freqs.columns)
            and rtrips["trip_id"].isin(freqs["trip_id"]).any()
        ):
            hs = pd.to_numeric(
                freqs[freqs["trip_id"].isin(rtrips["trip_id"])]["headway_secs"], errors="coerce"
            )
            if hs.isna().any() or not np.isfinite(hs).all() or (hs <= 0).any():
                raise InputError(f"{p.name}: frequencies.txt headway_secs must be positive numbers")
            headway = float(hs.min()) / 60
        else:
            first = st.groupby("trip_id")["t"].min()
            d0 = rtrips["direction_id"].iloc[0] if "direction_id" in rtrips else None
            same_dir = (
                rtrips[rtrips["direction_id"] == d0]["trip_id"]
                if d0 is not None
                else rtrips["trip_id"]
            )
            starts = np.sort(first[first.index.isin(same_dir)].to_numpy())
            headway = float(np.median(np.diff(starts)) / 60) if len(starts) > 1 else 60.0
            if not headway > 0:
                headway = 60.0
        match = routes[routes["route_id"] == rid]
        if match.empty:
            raise InputError(f"{p.name}: trips.txt route_id {rid!r} is not in routes.txt")
        r = match.iloc[0]
        name = str(r.get("route_short_name") or r.get("route_long_name") or rid)
        lines.append(Line(str(rid), name, "gtfs", tuple(stop_idx[s] for s in seq["stop_id"]),
                          tuple(run), headway, f"GTFS {p.name}"))  # fmt: skip
    return TransitNetwork(
        tuple(stops["stop_name"].astype(str)), stops["stop_lon"].astype(float).to_numpy(),
        stops["stop_lat"].astype(float).to_numpy(), tuple(lines), walk_kmh=walk_kmh,
        detour=detour, transfer_minutes=transfer_minutes, source=f"GTFS {p.name}",
    )  # fmt: skip


def _walk_minutes(tn: TransitNetwork, dist_m: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(dist_m * tn.detour / (tn.walk_kmh / 3.6) / 60.0)


def transit_arrivals(
    tn: TransitNetwork, origin: tuple[float, float], access: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Minutes from ``origin`` (lon, lat) to standing on each stop's platform after riding.

    Getting to the first stop (``access`` minutes per stop; walking by default), waiting half
    its line's headway; later boardings also pay the transfer penalty. Stops not reached by
    rail get ``inf`` (walking alone is not counted here).
    """
    n_stops = len(tn.stop_name)
    sx, sy = tn.stop_xy
    if access is None:
        ox, oy = _TO_M.transform(*origin)
        access = _walk_minutes(tn, np.hypot(sx - ox, sy - oy))
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    # node ids: hubs 0..n_stops-1, then one on-board node per (line, position), then source
    nid = n_stops
    for ln in tn.lines:
        base = nid
        wait = tn.wait_minutes(ln)
        for k, s in enumerate(ln.stops):
            node = base + k
            rows += [node, s]  # alight, and board on a transfer
            cols += [s, node]
            vals += [1e-9, wait + tn.transfer_minutes]
            if k + 1 < len(ln.stops):
                rows += [node, node + 1]
                cols += [node + 1, node]
                vals += [ln.run_minutes[k], ln.run_minutes[k]]
        nid += len(ln.stops)
    src = nid
    for ln_i, ln in enumerate(tn.lines):
        base = n_stops + sum(len(x.stops) for x in tn.lines[:ln_i])
        wait = tn.wait_minutes(ln)
        for k, s in enumerate(ln.stops):
            rows.append(src)
            cols.append(base + k)
            vals.append(float(access[s]) + wait + 1e-9)
    G = sp.csr_matrix((vals, (rows, cols)), shape=(src + 1, src + 1))
    dist = csgraph.dijkstra(G, directed=True, indices=src)
    return np.asarray(dist[:n_stops])


def transit_time_matrix(
    tn: TransitNetwork,
    points: list[tuple[float, float]],
    *,
    access: NDArray[np.float64] | None = None,
    egress: NDArray[np.float64] | None = None,
) -> pd.DataFrame:
    """Minutes between points by rail, or on foot alone when that is faster.

    ``access[i, s]`` / ``egress[s, j]`` give the minutes from point i to stop s and from stop s
    to point j (e.g. by road, for taxi or park-and-ride); walking when omitted.
    """
    sx, sy = tn.stop_xy
    pts = np.array(points, dtype=float)
    px, py = _TO_M.transform(pts[:, 0], pts[:, 1])
    walk_to = _walk_minutes(
        tn, np.hypot(sx[np.newaxis, :] - px[:, np.newaxis], sy[np.newaxis, :] - py[:, np.newaxis])
    )
    acc = walk_to if access is None else np.asarray(access)
    egr = walk_to.T if egress is None else np.asarray(egress)
    out = np.zeros((len(pts), len(pts)))
    for i in range(len(pts)):
        arr = transit_arrivals(tn, (pts[i, 0], pts[i, 1]), acc[i])
        for j in range(len(pts)):
            walk = float(_walk_minutes(tn, np.array(np.hypot(px[i] - px[j], py[i] - py[j]))))
            ride = float(np.min(arr + egr[:, j])) if len(arr) else np.inf
            out[i, j] = 0.0 if i == j else min(ride, walk)
    return pd.DataFrame(out)


def transit_reach(
    tn: TransitNetwork, origin: tuple[float, float], minutes: float
) -> shapely.Geometry:
    """Area (UTM 49N) reached within ``minutes`` on foot and by rail: a walking disc around the
    origin plus an island around every stop reached in time (radius = walking distance left,
    divided by the detour factor)."""
    sx, sy = tn.stop_xy
    ox, oy = _TO_M.transform(*origin)
    speed = tn.walk_kmh / 3.6 * 60.0 / tn.detour  # straight-line metres per minute
    arr = transit_arrivals(tn, origin)
    ok = arr < minutes
    discs = [shapely.Point(ox, oy).buffer(minutes * speed, quad_segs=32)]
    discs += list(
        shapely.buffer(shapely.points(sx[ok], sy[ok]), (minutes - arr[ok]) * speed, quad_segs=32)
    )
    return shapely.union_all(discs)


def to_wgs84_geom(geom: shapely.Geometry) -> shapely.Geometry:
    """A UTM 49N geometry in WGS84."""
    return reproject_geometry(geom, METRIC_CRS, WGS84)
