"""Door-to-door journeys (cztgeo.journeys) on networks built here, checked by hand and
against NetworkX."""

from __future__ import annotations

import numpy as np
import pytest

from cztgeo.errors import InputError
from cztgeo.journeys import plan_journeys, transit_arrivals
from cztgeo.rail import load_rail
from cztgeo.testing import grid_lonlat
from cztgeo.transit import Line, TransitNetwork


def _toy(**options):
    """Stops A (0, 0), B (10, 0), C (20, 0) km on L1 (10 min a segment, every 12 min) and
    B2 (10.2, 0), D (10.2, 10) km on L2 (15 min, every 20 min); walking 100 m/min."""
    pos = {"A": (0, 0), "B": (10, 0), "C": (20, 0), "B2": (10.2, 0), "D": (10.2, 10)}
    lonlat = [grid_lonlat(i, j, 1000.0) for i, j in pos.values()]
    return TransitNetwork(
        tuple(pos),
        np.array([p[0] for p in lonlat]),
        np.array([p[1] for p in lonlat]),
        (
            Line("L1", "L1", "rail", (0, 1, 2), (10.0, 10.0), 12.0),
            Line("L2", "L2", "rail", (3, 4), (15.0,), 20.0),
        ),
        walk_kmh=6.0,
        detour=1.0,
        transfer_minutes=4.0,
        **options,
    )


ORIGIN = grid_lonlat(0, 0.5, 1000.0)  # 500 m north of A: 5 min on foot
DEST = grid_lonlat(10.5, 10, 1000.0)  # 300 m east of D: 3 min on foot


def test_a_transfer_on_foot_is_broken_down_by_hand():
    # walk 5 to A, wait 6 (half of 12), ride 10 to B, walk 2 to B2 (200 m), wait 10 (half of
    # 20) + platform 4, ride 15 to D, walk 3: 55 min; walking all the way is ~140 min
    jr = plan_journeys(_toy(transfer_walk_m=300.0), [ORIGIN], [DEST])[0][0]
    assert jr.total == pytest.approx(55.0, abs=1e-6)
    parts = (jr.access, jr.wait, jr.in_vehicle, jr.transfer, jr.egress)
    assert parts == pytest.approx((5.0, 16.0, 25.0, 6.0, 3.0), abs=1e-6)
    assert (jr.boardings, jr.lines) == (2, ("L1", "L2"))
    assert jr.route == "walk 5 min to A → L1 A→B → walk 2 min to B2 → L2 B2→D → walk 3 min"
    # without the walking link the lines do not meet: ride L1 to B and walk 10.0125 km
    jr = plan_journeys(_toy(), [ORIGIN], [DEST])[0][0]
    assert jr.lines == ("L1",)
    assert jr.total == pytest.approx(5 + 6 + 10 + np.hypot(500.0, 10_000.0) / 100, abs=1e-6)


def test_given_access_minutes_and_labels_are_used():
    # a taxi of 7 min to B2 only: wait 10, ride 15, walk 3 = 35 min
    access = np.full((1, 5), np.inf)
    access[0, 3] = 7.0
    modes = np.full((1, 5), "taxi", dtype=object)
    jr = plan_journeys(_toy(), [ORIGIN], [DEST], access=access, access_mode=modes)[0][0]
    assert jr.total == pytest.approx(35.0, abs=1e-6)
    assert (jr.access_mode, jr.egress_mode) == ("taxi", "walk")
    assert jr.route == "taxi 7 min to B2 → L2 B2→D → walk 3 min"


def test_walking_the_whole_way_and_unreachable_pairs():
    near = grid_lonlat(0, 1.5, 1000.0)  # 1 km from ORIGIN: 10 min on foot, rail is slower
    jr = plan_journeys(_toy(), [ORIGIN], [near])[0][0]
    assert (jr.total, jr.boardings, jr.route) == (pytest.approx(10.0), 0, "walk 10 min")
    nowhere = np.full((1, 5), np.inf)
    jr = plan_journeys(_toy(), [ORIGIN], [near], access=nowhere, walk_direct=False)[0][0]
    assert (jr.total, jr.route) == (np.inf, "unreachable")


def test_departure_window_absorbs_the_first_wait():
    # to C: walk 5 + wait 6 + ride 20 = 31; a 12-min window leaves no wait: 25
    c = 2
    assert transit_arrivals(_toy(), ORIGIN)[c] == pytest.approx(31.0, abs=1e-6)
    tw = _toy(departure_window_minutes=12.0)
    assert transit_arrivals(tw, ORIGIN)[c] == pytest.approx(25.0, abs=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"access": np.zeros((2, 5))}, r"access must have shape \(1, 5\), got \(2, 5\)"),
        ({"egress": -np.ones((5, 1))}, "egress must be non-negative minutes"),
    ],
)
def test_bad_access_or_egress_minutes(kwargs, message):
    with pytest.raises(InputError, match=message):
        plan_journeys(_toy(), [ORIGIN], [DEST], **kwargs)


def test_journeys_add_up_and_match_networkx_on_a_graph_built_here():
    import networkx as nx

    from cztgeo.crs import METRIC_CRS, WGS84, transformer

    tn = load_rail()
    pts = [(112.9709, 28.1986), (113.1517, 27.8388), (112.9442, 27.8297), (113.0, 28.1)]
    js = plan_journeys(tn, pts)
    for row in js:
        for jr in row:
            parts = jr.access + jr.wait + jr.in_vehicle + jr.transfer + jr.egress
            assert parts == pytest.approx(jr.total, abs=1e-6)
    # independent: NetworkX on a graph built here from the same lines and assumptions
    x, y = tn.stop_xy

    def walk(d):
        return d * tn.detour / (tn.walk_kmh / 3.6) / 60.0

    G = nx.DiGraph()
    for li, ln in enumerate(tn.lines):
        w = tn.wait_minutes(ln)
        for k, s in enumerate(ln.stops):
            G.add_edge(("on", li, k), ("stop", s), weight=0.0)
            G.add_edge(("stop", s), ("on", li, k), weight=w + tn.transfer_minutes)
            for k2, run in ((k + 1, ln.run_minutes[k] if k + 1 < len(ln.stops) else None),
                            (k - 1, ln.run_minutes[k - 1] if k > 0 else None)):  # fmt: skip
                if run is not None:
                    G.add_edge(("on", li, k), ("on", li, k2), weight=run)
                    G.add_edge(("first", li, k), ("on", li, k2), weight=run)
    for a in range(len(x)):
        for b in range(len(x)):
            d = float(np.hypot(x[a] - x[b], y[a] - y[b]))
            if a != b and d <= tn.transfer_walk_m:
                G.add_edge(("stop", a), ("stop", b), weight=walk(d))
    px, py = transformer(WGS84, METRIC_CRS).transform([p[0] for p in pts], [p[1] for p in pts])
    for i, j in ((0, 1), (2, 0), (3, 1)):
        H = G.copy()
        for li, ln in enumerate(tn.lines):
            for k, s in enumerate(ln.stops):
                d = np.hypot(x[s] - px[i], y[s] - py[i])
                H.add_edge("src", ("first", li, k), weight=walk(d) + tn.wait_minutes(ln))
        for s in range(len(x)):
            H.add_edge(("stop", s), "dst", weight=walk(np.hypot(x[s] - px[j], y[s] - py[j])))
        H.add_edge("src", "dst", weight=walk(np.hypot(px[j] - px[i], py[j] - py[i])))
        expected = nx.shortest_path_length(H, "src", "dst", weight="weight")
        assert js[i][j].total == pytest.approx(expected, abs=1e-6)
