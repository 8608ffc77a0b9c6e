"""How far to trust the numbers: every published fact beside the model's figure for the same trip.

The facts (``geodata/czt_reference_facts.json``, built by ``scripts/build_reference_facts.py``
from dated, sourced road and rail figures) each name what the model is compared on: a car trip
between two positions, a corridor speed, an in-vehicle time between stations, a station-to-
station time with transfers, a track length or a headway. :func:`validate` computes each on the
given networks and returns one row per fact with the ratio and a status:

* ``pass`` / ``fail``: within / outside the fact's tolerance (a range fact passes anywhere from
  ``low x (1 - tol)`` to ``high x (1 + tol)``);
* ``calibration``: the model was built from this fact, so it cannot test the model (shown, not
  counted);
* ``not comparable``: the fact cannot be routed (endpoints unknown, or off the network), with
  the reason. Never a pass.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd

from .errors import CztgeoError, InputError
from .settings import embedded_data_dir

if TYPE_CHECKING:
    from .network import Network
    from .rail import TransitNetwork

__all__ = ["COLUMNS", "Fact", "Place", "load_reference_facts", "validate"]

FACTS_FILE = "czt_reference_facts.json"
#: Columns of the table :func:`validate` returns.
COLUMNS = [
    "id", "mode", "measure", "what", "published", "unit", "model", "ratio", "tolerance",
    "status", "note", "source",
]  # fmt: skip


class Place(TypedDict, total=False):
    """A trip end of a reference fact (WGS84)."""

    name: str
    lon: float
    lat: float
    position_source: str


#: One published travel fact (``geodata/czt_reference_facts.json``); keys by measure.
Fact = TypedDict(
    "Fact",
    {
        "id": str, "mode": str, "measure": str, "fact": str, "source": str, "what": str,
        "from": Place, "to": Place, "published_minutes": float, "published_kmh": float,
        "published_km": float, "published_range": list[float], "tolerance": float,
        "reason": str, "line": str, "from_station": str, "to_station": str, "lines": list[str],
        "role": str, "superseded_because": str,
    },
    total=False,
)  # fmt: skip


def load_reference_facts(path: str | os.PathLike[str] | None = None) -> list[Fact]:
    """The reference facts (default: the embedded file)."""
    from .io import read_json

    p = Path(path) if path is not None else embedded_data_dir() / FACTS_FILE
    doc = read_json(p, "reference facts file")
    facts = doc.get("facts") if isinstance(doc, dict) else None
    if not isinstance(facts, list):
        raise InputError(f"{p.name}: no 'facts' list")
    return facts


def _line(tn: TransitNetwork, line_id: str) -> Any:
    for ln in tn.lines:
        if ln.id == line_id:
            return ln
    raise KeyError(f"line {line_id!r} is not in the transit network")


def _positions(tn: TransitNetwork, ln: Any, a: str, b: str) -> tuple[int, int]:
    from .rail import _norm

    order = [_norm(tn.stop_name[s]) for s in ln.stops]
    if _norm(a) not in order or _norm(b) not in order:
        raise KeyError(f"{a!r} or {b!r} is not a station of {ln.name}")
    i, j = order.index(_norm(a)), order.index(_norm(b))
    return min(i, j), max(i, j)


def _station(tn: TransitNetwork, name: str) -> int:
    from .rail import _norm

    for k, nm in enumerate(tn.stop_name):
        if _norm(nm) == _norm(name):
            return k
    raise KeyError(f"station {name!r} is not in the transit network")


def _expressway_kmh(net: Network) -> float:
    """The network's expressway speed: the length-weighted mean speed of its fastest arcs
    (the top 5 % of arc length by speed)."""
    kmh = net.length_m / net.time_s * 3.6
    order = np.argsort(-kmh)
    cum = np.cumsum(net.length_m[order])
    top = order[: int(np.searchsorted(cum, 0.05 * cum[-1])) + 1]
    return float(np.average(kmh[top], weights=net.length_m[top]))


def _detour_note(net: Network, a: tuple[float, float], b: tuple[float, float]) -> str:
    """Route length against the straight line: a long detour means the network lacks a link."""
    from scipy.sparse import csgraph

    from .crs import METRIC_CRS, WGS84, transformer
    from .routing import snap_points

    sa, sb = snap_points(net, [a]), snap_points(net, [b])
    na, nb = int(net.head[sa.arc[0]]), int(net.tail[sb.arc[0]])
    _, pred = csgraph.dijkstra(net.csr(), indices=na, return_predecessors=True)
    # the length of the fastest arc between two nodes (the one the search used)
    slow_first = np.argsort(-net.time_s)
    lengths = {
        (int(t), int(h)): float(m)
        for t, h, m in zip(
            net.tail[slow_first], net.head[slow_first], net.length_m[slow_first], strict=True
        )
    }
    km, v = 0.0, nb
    while v != na and v >= 0:
        u = int(pred[v])
        if u < 0:
            return "no route"
        km += lengths[(u, v)] / 1000.0
        v = u
    x, y = transformer(WGS84, METRIC_CRS).transform([a[0], b[0]], [a[1], b[1]])
    straight = float(np.hypot(x[1] - x[0], y[1] - y[0])) / 1000.0
    return f"route about {km:.0f} km for {straight:.0f} km in a straight line (detour {km / straight:.2f})"


def _model_value(
    fact: Fact, net: Network, tn: TransitNetwork, max_snap_m: float
) -> tuple[float, str, str]:
    from .rail import plan_journeys
    from .routing import travel_time_matrix

    m = fact["measure"]
    if m == "drive":
        a, b = fact["from"], fact["to"]
        t = travel_time_matrix(
            net, [(a["lon"], a["lat"])], [(b["lon"], b["lat"])], max_snap_m=max_snap_m,
            access_kmh=20.0,
        ).to_numpy()[0, 0]  # fmt: skip
        return float(t), "min", _detour_note(net, (a["lon"], a["lat"]), (b["lon"], b["lat"]))
    if m == "speed":
        return _expressway_kmh(net), "km/h", "length-weighted speed of the fastest 5 % of arcs"
    if m == "ride":
        ln = _line(tn, fact["line"])
        i, j = _positions(tn, ln, fact["from_station"], fact["to_station"])
        return float(sum(ln.run_minutes[i:j])), "min", f"in-vehicle on {ln.name}"
    if m == "length":
        from .crs import METRIC_CRS, WGS84, transformer

        ln = _line(tn, fact["line"])
        i, j = _positions(tn, ln, fact["from_station"], fact["to_station"])
        stops = list(ln.stops[i : j + 1])
        x, y = transformer(WGS84, METRIC_CRS).transform(tn.stop_lon[stops], tn.stop_lat[stops])
        km = float(np.hypot(np.diff(x), np.diff(y)).sum()) * tn.track_factor / 1000.0
        return km, "km", f"station spacing x track factor {tn.track_factor:g}"
    if m == "headway":
        hs = [tn.headway(_line(tn, lid)) for lid in fact["lines"]]
        return 1.0 / sum(1.0 / h for h in hs), "min", "combined headway of the lines"
    if m == "station_to_station":
        ia, ib = _station(tn, fact["from_station"]), _station(tn, fact["to_station"])
        sa = (float(tn.stop_lon[ia]), float(tn.stop_lat[ia]))
        sb = (float(tn.stop_lon[ib]), float(tn.stop_lat[ib]))
        n = len(tn.stop_name)
        acc = np.full((1, n), np.inf)
        egr = np.full((n, 1), np.inf)
        acc[0, ia] = 0.0
        egr[ib, 0] = 0.0
        jr = plan_journeys(tn, [sa], [sb], access=acc, egress=egr, walk_direct=False)[0][0]
        # from the departure of the first train: leave out the first wait only
        first = min(tn.wait_minutes(ln) for ln in tn.lines if ia in ln.stops)
        return float(jr.total - first), "min", jr.route
    raise KeyError(f"unknown measure {m!r}")


def validate(
    net: Network | None = None,
    rail: TransitNetwork | None = None,
    *,
    period: str = "offpeak",
    facts: list[Fact] | None = None,
    max_snap_m: float = 3000.0,
) -> pd.DataFrame:
    """Every reference fact beside the model's figure for the same trip.

    Parameters
    ----------
    net, rail
        Road and transit networks (default: the embedded skeleton and transit lines, in
        ``period``).
    period
        ``"offpeak"`` (the facts are off-peak) or ``"peak"``.
    facts
        Reference facts (default: :func:`load_reference_facts`).

    Returns
    -------
    pandas.DataFrame
        One row per fact, columns :data:`COLUMNS`: ``published`` as text (a value or a range),
        ``model`` and ``ratio`` (model / published, or / the nearer end of a range; NaN when
        not comparable), ``status`` (``pass``, ``fail``, ``calibration``, ``not comparable``).
    """
    from .network import load_network
    from .osm import load_skeleton
    from .rail import load_rail

    if period not in ("offpeak", "peak"):
        raise InputError(f"unknown period {period!r}: use 'offpeak' or 'peak'")
    if net is None:
        net = load_skeleton(period=period) if period == "peak" else load_network()
    rail = load_rail(period=period) if rail is None else rail.with_period(period)
    rows = []
    for f in facts if facts is not None else load_reference_facts():
        row: dict[str, Any] = {
            "id": f.get("id", ""),
            "mode": f.get("mode", ""),
            "measure": f.get("measure", ""),
            "what": f.get("what", ""),
            "tolerance": f.get("tolerance", np.nan),
            "source": f.get("source", ""),
            "model": np.nan,
            "ratio": np.nan,
            "unit": "",
            "note": "",
        }
        pub: list[float] = []
        for value, unit in ((f.get("published_minutes"), "min"), (f.get("published_kmh"), "km/h"),
                            (f.get("published_km"), "km")):  # fmt: skip
            if value is not None:
                pub, row["unit"] = [float(value)], unit
        if "published_range" in f:
            pub, row["unit"] = [float(v) for v in f["published_range"]], "min"
        row["published"] = "–".join(f"{v:g}" for v in pub) if pub else ""
        if f.get("measure") == "not_comparable" or not pub:
            row["status"] = "not comparable"
            row["note"] = f.get("reason", "no published figure to compare")
            rows.append(row)
            continue
        try:
            value, unit, how = _model_value(f, net, rail, max_snap_m)
        except (KeyError, CztgeoError) as exc:
            row["status"] = "not comparable"
            row["note"] = f"cannot be routed on this model: {exc}"
            rows.append(row)
            continue
        if not np.isfinite(value):
            row["status"] = "not comparable"
            row["note"] = "unreachable on this network"
            rows.append(row)
            continue
        lo, hi = min(pub), max(pub)
        ref = lo if value < lo else hi if value > hi else value
        tol = float(f.get("tolerance", 0.15))
        row.update(model=value, unit=unit, ratio=value / ref if ref else np.nan, note=how)
        ok = lo * (1 - tol) <= value <= hi * (1 + tol)
        if f.get("role") == "superseded":
            row["status"] = "superseded"
            row["note"] = str(f.get("superseded_because", "a later source disagrees"))
        elif f.get("role") == "calibration":
            row["status"] = "calibration"
            row["note"] = "the model was built from this figure: shown, not a test"
        else:
            row["status"] = "pass" if ok else "fail"
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)
