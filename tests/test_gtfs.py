"""The GTFS reader (cztgeo.gtfs) on feeds written by the tests."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest

from cztgeo.errors import DataSourceError, InputError
from cztgeo.gtfs import FALLBACK_HEADWAY_MINUTES, read_gtfs
from cztgeo.journeys import transit_arrivals
from cztgeo.testing import grid_lonlat

A, B, C = grid_lonlat(0, 0, 1000.0), grid_lonlat(10, 0, 1000.0), grid_lonlat(20, 0, 1000.0)
STOPS = f"stop_id,stop_name,stop_lat,stop_lon\nA,A,{A[1]},{A[0]}\nB,B,{B[1]},{B[0]}\nC,C,{C[1]},{C[0]}\n"


def _feed(folder, **tables):
    """A GTFS folder: stops A, B, C, the given tables (text), and defaults for the others."""
    files = {
        "stops.txt": STOPS,
        "routes.txt": "route_id,route_short_name,route_long_name\nR1,R1,\n",
        "trips.txt": "route_id,trip_id\nR1,T1\n",
        "stop_times.txt": "trip_id,stop_id,stop_sequence,departure_time\n"
        "T1,A,1,07:00:00\nT1,B,2,07:10:00\n",
        **{k.replace("_txt", ".txt"): v for k, v in tables.items()},
    }
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def _times(rows):
    """stop_times.txt of trips A -> C leaving at the given times ((trip, "HH:MM"), ...)."""
    return "trip_id,stop_id,stop_sequence,departure_time\n" + "".join(
        f"{t},A,1,{hm}:00\n{t},C,2,{int(hm[:2]) + 1:02d}{hm[2:]}:00\n" for t, hm in rows
    )


def test_gtfs_feed_built_by_the_test(tmp_path):
    a, b, c = grid_lonlat(0, 0, 1000.0), grid_lonlat(10, 0, 1000.0), grid_lonlat(20, 0, 1000.0)
    files = {
        "stops.txt": f"stop_id,stop_name,stop_lat,stop_lon\nA,A,{a[1]},{a[0]}\nB,B,{b[1]},{b[0]}\nC,C,{c[1]},{c[0]}\n",
        "routes.txt": "route_id,route_short_name,route_type\nR1,Intercity,2\n",
        "trips.txt": "route_id,service_id,trip_id,direction_id\nR1,S,T1,0\nR1,S,T2,0\nR1,S,T3,0\n",
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        + "".join(
            f"{t},{h}:{m:02d}:00,{h}:{m:02d}:00,A,1\n{t},{h}:{m + 9:02d}:00,{h}:{m + 10:02d}:00,B,2\n{t},{h}:{m + 20:02d}:00,{h}:{m + 20:02d}:00,C,3\n"
            for t, h, m in (("T1", "07", 0), ("T2", "07", 15), ("T3", "07", 30))
        ),
    }
    z = tmp_path / "feed.zip"
    with zipfile.ZipFile(z, "w") as fh:
        for name, text in files.items():
            fh.writestr(name, text)
    tn = read_gtfs(z)
    assert len(tn.lines) == 1
    ln = tn.lines[0]
    assert ln.headway_minutes == pytest.approx(15.0)
    assert sum(ln.run_minutes) == pytest.approx(20.0)
    arr = transit_arrivals(tn, a)
    assert arr[2] == pytest.approx(7.5 + 20.0, abs=0.01)
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as fh:
        fh.writestr("routes.txt", files["routes.txt"])
    with pytest.raises(InputError, match="no stops.txt"):
        read_gtfs(bad)


def test_headway_from_frequencies_spacing_or_the_fallback(tmp_path):
    trips = (
        "route_id,trip_id,direction_id\n"
        "F,F1,0\nF,F2,0\n"  # listed in frequencies.txt: 600 s and 420 s
        "S,S1,0\nS,S2,0\nS,S3,0\nS,S4,1\nS,S5,1\n"  # spacing 10 and 20 min one way
        "O,O1,0\n"  # a single trip
    )
    times = _times([("F1", "07:00"), ("F2", "07:30"), ("S1", "07:00"), ("S2", "07:10"),
                    ("S3", "07:30"), ("S4", "07:01"), ("S5", "07:02"), ("O1", "09:00")])  # fmt: skip
    tn = read_gtfs(
        _feed(
            tmp_path / "g",
            routes_txt="route_id,route_short_name\nF,F\nS,S\nO,O\n",
            trips_txt=trips,
            stop_times_txt=times,
            frequencies_txt="trip_id,start_time,end_time,headway_secs\n"
            "F1,07:00:00,09:00:00,600\nF2,07:00:00,09:00:00,420\n",
        )
    )
    headway = {ln.id: ln.headway_minutes for ln in tn.lines}
    # the smallest listed headway; the median spacing in the first trip's direction (the
    # other direction's 1-min spacing is left out); one train an hour when there is none
    assert headway == {"F": 7.0, "S": 15.0, "O": FALLBACK_HEADWAY_MINUTES}
    assert {ln.id: ln.run_minutes for ln in tn.lines} == {"F": (60.0,), "S": (60.0,), "O": (60.0,)}


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ({"routes_txt": "id\nR1\n"}, "g: routes.txt has no column 'route_id'"),
        ({"stop_times_txt": "trip_id,stop_id,stop_sequence\nT1,A,1\n"},
         "g: stop_times.txt has no departure_time or arrival_time"),
        ({"stops_txt": STOPS.replace(f"{B[0]}", "200")},
         "g: stops.txt stop_lon '200' (line 3) is not a number within ±180"),
        ({"stops_txt": STOPS + "A,A again,28.0,113.0\n"},
         "g: stops.txt has duplicate stop_id values"),
        ({"stop_times_txt": _times([("T1", "07:00")]).replace(",2,", ",2.5,")},
         "g: stop_times.txt stop_sequence must be whole numbers >= 0"),
        ({"stop_times_txt": _times([("T1", "07:00")]).replace("08:00:00", "07:61:00")},
         "g: stop_times.txt time '07:61:00' (line 3) is not HH:MM:SS"),
        ({"stop_times_txt": _times([("T1", "07:00")]).replace(",C,", ",Q,")},
         "g: stop_times.txt refers to stops not in stops.txt: ['Q']"),
        ({"frequencies_txt": "trip_id,headway_secs\nT1,0\n"},
         "g: frequencies.txt headway_secs must be positive numbers"),
        ({"trips_txt": "route_id,trip_id\nR9,T1\n"},
         "g: trips.txt route_id 'R9' is not in routes.txt"),
    ],
)  # fmt: skip
def test_bad_feeds_name_the_fault(tmp_path, tables, message):
    with pytest.raises(InputError) as info:
        read_gtfs(_feed(tmp_path / "g", **tables))
    assert str(info.value) == message


def test_read_faults_keep_their_cause(tmp_path):
    # the message stays one line; the underlying exception stays attached for debugging
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(DataSourceError, match="bad.zip: unreadable GTFS zip") as info:
        read_gtfs(bad)
    assert isinstance(info.value.__cause__, zipfile.BadZipFile)
    no_stops = tmp_path / "no_stops.zip"
    with zipfile.ZipFile(no_stops, "w") as z:
        z.writestr("routes.txt", "route_id\nR1\n")
    with pytest.raises(InputError, match="no_stops.zip: GTFS feed has no stops.txt") as info:
        read_gtfs(no_stops)
    assert isinstance(info.value.__cause__, KeyError)
    with pytest.raises(
        DataSourceError, match=r"unreadable GTFS routes.txt \(EmptyDataError\)"
    ) as info:
        read_gtfs(_feed(tmp_path / "g", routes_txt=""))
    assert isinstance(info.value.__cause__, pd.errors.EmptyDataError)


def test_route_names_fall_back_past_empty_fields(tmp_path):
    routes = "route_id,route_short_name,route_long_name\nR1,S1,Long 1\nR2,,Long 2\nR3,,\n"
    trips = "route_id,trip_id\nR1,T1\nR2,T2\nR3,T3\n"
    times = _times([("T1", "07:00"), ("T2", "07:00"), ("T3", "07:00")])
    tn = read_gtfs(_feed(tmp_path / "g", routes_txt=routes, trips_txt=trips, stop_times_txt=times))
    assert [ln.name for ln in tn.lines] == ["S1", "Long 2", "R3"]
