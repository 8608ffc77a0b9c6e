"""A GTFS feed (folder or .zip) read into a :class:`~cztgeo.transit.TransitNetwork`.

Each route becomes a line following its longest trip; headways come from ``frequencies.txt``
or from the spacing of the route's trips. The reader is bounded (``GTFS_MAX_BYTES``,
``GTFS_MAX_ROWS``) and names the first fault of a bad feed in a one-line error.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast, overload

import numpy as np
import pandas as pd

from .errors import DataSourceError, InputError, LimitError
from .io import check_number
from .transit import Line, TransitNetwork

__all__ = ["GTFS_MAX_BYTES", "GTFS_MAX_ROWS", "read_gtfs"]


#: GTFS limits: total uncompressed bytes read, and rows per table.
GTFS_MAX_BYTES = 500_000_000
GTFS_MAX_ROWS = 5_000_000
#: Headway (minutes) of a route whose trips give no spacing (one trip, or all at one time):
#: an assumption, one train an hour.
FALLBACK_HEADWAY_MINUTES = 60.0

#: Columns each table must have.
_REQUIRED_COLUMNS = {
    "stops.txt": ("stop_id", "stop_name", "stop_lat", "stop_lon"),
    "routes.txt": ("route_id",),
    "trips.txt": ("route_id", "trip_id"),
    "stop_times.txt": ("trip_id", "stop_id", "stop_sequence"),
}
#: Faults of a table that is there but cannot be parsed.
_UNREADABLE = (
    zipfile.BadZipFile,
    pd.errors.ParserError,
    pd.errors.EmptyDataError,
    UnicodeDecodeError,
    OSError,
)


@dataclass(frozen=True)
class _Feed:
    """The tables of a feed, as strings with stripped column names."""

    stops: pd.DataFrame
    routes: pd.DataFrame
    trips: pd.DataFrame
    times: pd.DataFrame
    freqs: pd.DataFrame | None


def read_gtfs(path: str | os.PathLike[str], *, walk_kmh: float = 4.5, detour: float = 1.3,
              transfer_minutes: float = 5.0) -> TransitNetwork:  # fmt: skip
    """Read a GTFS feed (folder or .zip) into a :class:`TransitNetwork`.

    Each route becomes a line following the stop sequence of its trip with the most stops;
    run times are that trip's scheduled differences. The headway is the smallest
    ``headway_secs`` of the route's trips in ``frequencies.txt`` when it lists them, else the
    median spacing of the departures of the route's trips in the direction of its first trip
    (60 minutes, an assumption, when that gives none).

    Parameters
    ----------
    path
        A GTFS folder or .zip.
    walk_kmh, detour, transfer_minutes
        The network's walking speed, street detour factor (>= 1) and fixed transfer cost.

    Raises
    ------
    InputError
        The feed is missing, lacks a table or column, or holds a bad value (named with its
        line).
    LimitError
        The feed is larger than ``GTFS_MAX_BYTES`` unpacked or a table has more than
        ``GTFS_MAX_ROWS`` rows.
    DataSourceError
        The zip or a table cannot be parsed.
    """
    # check_number returns None only with allow_none=True
    walk_kmh = cast(float, check_number("walk_kmh", walk_kmh))
    detour = cast(float, check_number("detour", detour, minimum=1.0, strict=False))
    transfer_minutes = cast(float, check_number("transfer_minutes", transfer_minutes, strict=False))  # fmt: skip
    p = Path(path)
    if not p.exists():
        raise InputError(f"GTFS feed not found: {str(p)!r}")
    if not p.is_dir():
        _check_zip_size(p)
    feed = _read_feed(p)
    _check_stops(p.name, feed.stops)
    _add_trip_times(p.name, feed.times)
    stop_idx = {sid: i for i, sid in enumerate(feed.stops["stop_id"])}
    _check_trip_times(p.name, feed.times, stop_idx)
    lines = []
    for rid, rtrips in feed.trips.groupby("route_id"):
        line = _route_line(p.name, str(rid), rtrips, feed, stop_idx)
        if line is not None:
            lines.append(line)
    stops = feed.stops
    return TransitNetwork(
        tuple(stops["stop_name"].astype(str)), stops["stop_lon"].astype(float).to_numpy(),
        stops["stop_lat"].astype(float).to_numpy(), tuple(lines), walk_kmh=walk_kmh,
        detour=detour, transfer_minutes=transfer_minutes, source=f"GTFS {p.name}",
    )  # fmt: skip


# ---------------------------------------------------------------- reading the tables


def _check_zip_size(p: Path) -> None:
    """Refuse a zip that is not one or that unpacks to more than ``GTFS_MAX_BYTES``."""
    try:
        with zipfile.ZipFile(p) as z:
            total = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataSourceError(f"{p.name}: unreadable GTFS zip ({exc})") from exc
    if total > GTFS_MAX_BYTES:
        raise LimitError(
            f"{p.name}: the feed unpacks to {total / 1e6:,.0f} MB, more than the "
            f"{GTFS_MAX_BYTES / 1e6:,.0f} MB cztgeo reads; cut it to the lines you need"
        )


def _read_csv(p: Path, name: str) -> pd.DataFrame:
    """One table as strings, at most ``GTFS_MAX_ROWS + 1`` rows; FileNotFoundError (folder)
    or KeyError (zip) when the feed has no such table."""
    if p.is_dir():
        f = p / name
        if not f.exists():
            raise FileNotFoundError(name)
        if f.stat().st_size > GTFS_MAX_BYTES:
            raise LimitError(f"{p.name}: {name} is larger than {GTFS_MAX_BYTES:,} bytes")
        return pd.read_csv(f, dtype=str, nrows=GTFS_MAX_ROWS + 1)
    with zipfile.ZipFile(p) as z, z.open(name) as fh:
        return pd.read_csv(fh, dtype=str, nrows=GTFS_MAX_ROWS + 1)


@overload
def _table(p: Path, name: str, *, required: Literal[True] = ...) -> pd.DataFrame: ...
@overload
def _table(p: Path, name: str, *, required: Literal[False]) -> pd.DataFrame | None: ...
def _table(p: Path, name: str, *, required: bool = True) -> pd.DataFrame | None:
    """A table of the feed with stripped column names (None if it is absent and optional)."""
    try:
        df = _read_csv(p, name)
    except (FileNotFoundError, KeyError) as exc:
        if required:
            raise InputError(f"{p.name}: GTFS feed has no {name}") from exc
        return None
    except _UNREADABLE as exc:
        raise DataSourceError(f"{p.name}: unreadable GTFS {name} ({type(exc).__name__})") from exc
    if len(df) > GTFS_MAX_ROWS:
        raise LimitError(f"{p.name}: {name} has more than {GTFS_MAX_ROWS:,} rows")
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _read_feed(p: Path) -> _Feed:
    """The feed's tables, each with its required columns."""
    feed = _Feed(
        _table(p, "stops.txt"),
        _table(p, "routes.txt"),
        _table(p, "trips.txt"),
        _table(p, "stop_times.txt"),
        _table(p, "frequencies.txt", required=False),
    )
    for df, name in ((feed.stops, "stops.txt"), (feed.routes, "routes.txt"),
                     (feed.trips, "trips.txt"), (feed.times, "stop_times.txt")):  # fmt: skip
        missing = [c for c in _REQUIRED_COLUMNS[name] if c not in df.columns]
        if missing:
            raise InputError(f"{p.name}: {name} has no column {missing[0]!r}")
    if "departure_time" not in feed.times and "arrival_time" not in feed.times:
        raise InputError(f"{p.name}: stop_times.txt has no departure_time or arrival_time")
    return feed


# ---------------------------------------------------------------- checking values


def _check_stops(feed_name: str, stops: pd.DataFrame) -> None:
    """Stop positions are numbers within ±180 / ±90; stop ids are unique."""
    for col in ("stop_lon", "stop_lat"):
        v = pd.to_numeric(stops[col], errors="coerce")
        lim = 180 if col == "stop_lon" else 90
        bad = v.isna() | ~np.isfinite(v.fillna(0)) | (v.abs() > lim)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{feed_name}: stops.txt {col} {stops[col].iloc[i]!r} (line {i + 2}) is not a "
                f"number within ±{lim}"
            )
    if stops["stop_id"].duplicated().any():
        raise InputError(f"{feed_name}: stops.txt has duplicate stop_id values")


def _seconds(feed_name: str, v: pd.Series) -> pd.Series:
    """``HH:MM:SS`` times (hours may pass 24) as seconds after midnight."""
    parts = v.astype("string").str.strip().str.split(":", expand=True)
    if parts.shape[1] != 3:
        raise InputError(f"{feed_name}: stop_times.txt times must be HH:MM:SS")
    hms = parts.apply(pd.to_numeric, errors="coerce")
    t = hms[0] * 3600 + hms[1] * 60 + hms[2]
    bad = t.isna() | (hms < 0).any(axis=1) | (hms[1] >= 60) | (hms[2] >= 60)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{feed_name}: stop_times.txt time {v.iloc[i]!r} (line {i + 2}) is not HH:MM:SS"
        )
    return t.astype(float)


def _add_trip_times(feed_name: str, times: pd.DataFrame) -> None:
    """Add ``t`` (departure, else arrival, in seconds) and ``seq`` (whole stop_sequence)."""
    dep = times["departure_time"] if "departure_time" in times else times["arrival_time"]
    if "arrival_time" in times:
        dep = dep.fillna(times["arrival_time"])
    times["t"] = _seconds(feed_name, dep)
    seq_num = pd.to_numeric(times["stop_sequence"], errors="coerce")
    if seq_num.isna().any() or (seq_num < 0).any() or (seq_num != seq_num.round()).any():
        raise InputError(f"{feed_name}: stop_times.txt stop_sequence must be whole numbers >= 0")
    times["seq"] = seq_num.astype(np.int64)


def _check_trip_times(feed_name: str, times: pd.DataFrame, stop_idx: dict[str, int]) -> None:
    """Every stop time is at a known stop, and no trip goes back in time."""
    unknown = sorted(set(times["stop_id"]) - set(stop_idx), key=str)
    if unknown:
        raise InputError(
            f"{feed_name}: stop_times.txt refers to stops not in stops.txt: {unknown[:5]}"
        )
    ordered = times.sort_values(["trip_id", "seq"])
    back = ordered.groupby("trip_id")["t"].diff() < 0
    if back.any():
        trip = ordered.loc[back, "trip_id"].iloc[0]
        raise InputError(
            f"{feed_name}: times run backwards along trip {trip!r} (stop_times.txt); fix the feed"
        )


# ---------------------------------------------------------------- routes to lines


def _route_line(
    feed_name: str, rid: str, rtrips: pd.DataFrame, feed: _Feed, stop_idx: dict[str, int]
) -> Line | None:
    """The line of one route (None when its trips have no times or fewer than 2 stops)."""
    st = feed.times[feed.times["trip_id"].isin(rtrips["trip_id"])]
    if st.empty:
        return None
    counts = st.groupby("trip_id").size()
    best = counts.idxmax()
    seq = st[st["trip_id"] == best].sort_values("seq")
    if len(seq) < 2:
        return None
    run = np.diff(seq["t"].to_numpy()) / 60.0
    headway = _headway_minutes(feed_name, rtrips, st, feed.freqs)
    match = feed.routes[feed.routes["route_id"] == rid]
    if match.empty:
        raise InputError(f"{feed_name}: trips.txt route_id {rid!r} is not in routes.txt")
    return Line(rid, _route_name(match.iloc[0], rid), "gtfs", tuple(stop_idx[s] for s in seq["stop_id"]), tuple(run),
                headway, f"GTFS {feed_name}")  # fmt: skip


def _route_name(route: pd.Series, rid: str) -> str:
    """``route_short_name``, else ``route_long_name``, else the route id (GTFS leaves either
    name empty when the other is given)."""
    for col in ("route_short_name", "route_long_name"):
        name = route.get(col)
        if isinstance(name, str) and name.strip():
            return name
    return rid


def _headway_minutes(
    feed_name: str, rtrips: pd.DataFrame, st: pd.DataFrame, freqs: pd.DataFrame | None
) -> float:
    """A route's headway: from ``frequencies.txt`` if it lists the route's trips, else from
    the spacing of the trips' departures."""
    if (
        freqs is not None
        and {"trip_id", "headway_secs"} <= set(freqs.columns)
        and rtrips["trip_id"].isin(freqs["trip_id"]).any()
    ):
        hs = pd.to_numeric(
            freqs[freqs["trip_id"].isin(rtrips["trip_id"])]["headway_secs"], errors="coerce"
        )
        if hs.isna().any() or not np.isfinite(hs).all() or (hs <= 0).any():
            raise InputError(f"{feed_name}: frequencies.txt headway_secs must be positive numbers")
        return float(hs.min()) / 60
    return _spacing_headway(rtrips, st)


def _spacing_headway(rtrips: pd.DataFrame, st: pd.DataFrame) -> float:
    """Median minutes between the first departures of the route's trips in the direction of
    its first trip (``FALLBACK_HEADWAY_MINUTES`` when that gives no positive spacing)."""
    first = st.groupby("trip_id")["t"].min()
    d0 = rtrips["direction_id"].iloc[0] if "direction_id" in rtrips else None
    same_dir = rtrips[rtrips["direction_id"] == d0]["trip_id"] if d0 is not None else rtrips["trip_id"]  # fmt: skip
    starts = np.sort(first[first.index.isin(same_dir)].to_numpy())
    headway = float(np.median(np.diff(starts)) / 60) if len(starts) > 1 else FALLBACK_HEADWAY_MINUTES  # fmt: skip
    return headway if headway > 0 else FALLBACK_HEADWAY_MINUTES
