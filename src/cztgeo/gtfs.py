"""A GTFS feed (folder or .zip) read into a :class:`~cztgeo.transit.TransitNetwork`.

Each route becomes a line following its longest trip; headways come from ``frequencies.txt``
or from the spacing of the route's trips. The reader is bounded (``GTFS_MAX_BYTES``,
``GTFS_MAX_ROWS``) and names the first fault of a bad feed in a one-line error.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataSourceError, InputError, LimitError
from .transit import Line, TransitNetwork

__all__ = ["GTFS_MAX_BYTES", "GTFS_MAX_ROWS", "read_gtfs"]


#: GTFS limits: total uncompressed bytes read, and rows per table.
GTFS_MAX_BYTES = 500_000_000
GTFS_MAX_ROWS = 5_000_000


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
