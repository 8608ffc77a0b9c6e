"""A Chinese road-speed profile for OpenStreetMap data.

Default speeds are *typical off-peak operating speeds* in km/h, by OSM ``highway`` class and by
context (urban or rural). Their basis:

* **Legal limits** — 《中华人民共和国道路交通安全法实施条例》 (2004): expressways at most
  120 km/h and at least 60 km/h (Art. 78); without posted limits, roads without a centre line
  30 km/h urban / 40 km/h elsewhere, roads with one lane per direction 50 / 70 km/h (Art. 45).
* **Design speeds** — 《城市道路工程设计规范》 CJJ 37-2012: 快速路 (urban expressway)
  60-100 km/h, 主干路 (arterial) 40-60, 次干路 (collector) 30-50, 支路 (local) 20-40.
* OSM's Chinese tagging convention maps 快速路 to ``trunk`` inside cities, 主干路 to
  ``primary``, 次干路 to ``secondary``, 支路 to ``tertiary``/``residential``; G/S expressways
  (``ref`` G + one, two or four digits, or S + one or two digits) are ``motorway``.

Operating speeds sit at or below the design speed because of junctions; the urban values below
take the lower half of each design range. A posted ``maxspeed`` replaces the class default
(scaled by ``maxspeed_factor``, since traffic rarely runs at the limit on average). ``period=
"peak"`` multiplies speeds by a congestion factor (an assumption: Changsha's published peak
congestion indices of about 1.5-1.7 mean peak travel takes 1.5-1.7 times free-flow time).
All of these can be overridden with :class:`SpeedProfile`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "DEFAULT_RURAL_KMH",
    "DEFAULT_URBAN_KMH",
    "SpeedProfile",
    "classify_ref",
    "parse_maxspeed",
]

#: Urban off-peak operating speeds, km/h (see the module docstring for the basis).
DEFAULT_URBAN_KMH: dict[str, float] = {
    "motorway": 80.0,  # expressway inside the built-up area (limit 100-120, urban design 80-100)
    "motorway_link": 40.0,
    "trunk": 60.0,  # 快速路, design 60-100
    "trunk_link": 35.0,
    "primary": 40.0,  # 主干路, design 40-60
    "primary_link": 30.0,
    "secondary": 35.0,  # 次干路, design 30-50
    "secondary_link": 25.0,
    "tertiary": 30.0,  # 支路, design 20-40
    "tertiary_link": 25.0,
    "unclassified": 25.0,
    "residential": 20.0,
    "living_street": 10.0,
    "service": 15.0,
    "road": 25.0,
    "busway": 30.0,
}
#: Rural off-peak operating speeds, km/h.
DEFAULT_RURAL_KMH: dict[str, float] = {
    "motorway": 100.0,  # 高速公路: 120 limit, most sections 100-120 posted
    "motorway_link": 50.0,
    "trunk": 80.0,  # national roads 国道 with dual carriageway
    "trunk_link": 40.0,
    "primary": 60.0,  # 国道/省道, one lane per direction: 70 legal limit
    "primary_link": 40.0,
    "secondary": 50.0,
    "secondary_link": 35.0,
    "tertiary": 40.0,  # 县道
    "tertiary_link": 30.0,
    "unclassified": 30.0,  # 乡道/村道, often no centre line: 40 legal
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
    "road": 30.0,
    "busway": 40.0,
}
#: Speeds by ``ref`` kind, used when the ref says more than the class (km/h, urban/rural).
REF_KMH: dict[str, tuple[float, float]] = {
    "expressway": (80.0, 100.0),  # G4, G60, G0401, S20 ...
    "national": (45.0, 65.0),  # G107, G106 ... (国道)
    "provincial": (40.0, 55.0),  # S207 ... (省道)
}

_EXPRESSWAY = re.compile(r"^(G\d{1,2}|G\d{4}|G\d{1,2}[A-Z]\d?|S\d{1,2})$")
_NATIONAL = re.compile(r"^G\d{3}$")
_PROVINCIAL = re.compile(r"^S\d{3}$")


def classify_ref(ref: str | None) -> str | None:
    """Kind of a Chinese road ``ref``: ``"expressway"``, ``"national"``, ``"provincial"``, None.

    A ref may list several numbers (``"G4;G0401"``); the fastest kind wins.
    """
    if not ref:
        return None
    kinds = set()
    for part in re.split(r"[;,/]", ref):
        p = part.strip().upper().replace(" ", "")
        if _EXPRESSWAY.match(p):
            kinds.add("expressway")
        elif _NATIONAL.match(p):
            kinds.add("national")
        elif _PROVINCIAL.match(p):
            kinds.add("provincial")
    for kind in ("expressway", "national", "provincial"):
        if kind in kinds:
            return kind
    return None


_NUM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$", re.IGNORECASE)
_SYMBOLIC = {"walk": 5.0, "none": math.nan, "signals": math.nan, "variable": math.nan}


def parse_maxspeed(value: str | None) -> float:
    """Parse an OSM ``maxspeed`` value to km/h; NaN when absent or unusable.

    Handles plain numbers (km/h), ``"60 km/h"``, ``"30 mph"``, ``"CN:urban"``-style zone codes
    (NaN: the class default applies), lists ``"60;80"`` (the lowest) and junk (NaN).
    """
    if value is None:
        return math.nan
    text = str(value).strip().lower()
    if not text:
        return math.nan
    if ";" in text or "|" in text:
        vals = [parse_maxspeed(v) for v in re.split(r"[;|]", text)]
        good = [v for v in vals if not math.isnan(v)]
        return min(good) if good else math.nan
    if text in _SYMBOLIC:
        return _SYMBOLIC[text]
    m = _NUM.match(text)
    if not m:
        return math.nan
    speed = float(m.group(1))
    unit = (m.group(2) or "km/h").lower()
    if unit == "mph":
        speed *= 1.609344
    elif unit == "knots":
        speed *= 1.852
    if not 3.0 <= speed <= 200.0:
        return math.nan
    return speed


Period = Literal["offpeak", "peak"]


@dataclass(frozen=True)
class SpeedProfile:
    """Speeds for one travel mode.

    Parameters
    ----------
    urban_kmh, rural_kmh
        Class → km/h in each context. Classes missing here are not routable in ``drive`` mode.
    maxspeed_factor
        Share of a posted ``maxspeed`` that traffic averages (0.85 by default).
    use_maxspeed
        Let a posted ``maxspeed`` replace the class default.
    period
        ``"offpeak"`` (default) or ``"peak"``.
    peak_factor_urban, peak_factor_rural
        Speed multipliers at peak (0.6 urban, 0.85 rural: assumptions, see module docstring).
    overrides
        Class → km/h applied on top of both contexts (a user's own table).
    """

    urban_kmh: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_URBAN_KMH))
    rural_kmh: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RURAL_KMH))
    maxspeed_factor: float = 0.85
    use_maxspeed: bool = True
    period: Period = "offpeak"
    peak_factor_urban: float = 0.6
    peak_factor_rural: float = 0.85
    overrides: dict[str, float] = field(default_factory=dict)

    def speed_kmh(
        self,
        highway: str,
        *,
        urban: bool,
        maxspeed: str | None = None,
        ref: str | None = None,
    ) -> float:
        """Speed for one OSM way, km/h (NaN when the class is not in the profile)."""
        table = self.urban_kmh if urban else self.rural_kmh
        if highway in self.overrides:
            base = self.overrides[highway]
        else:
            base = table.get(highway, math.nan)
            kind = classify_ref(ref)
            if kind is not None and not math.isnan(base) and not highway.endswith("_link"):
                base = max(base, REF_KMH[kind][0 if urban else 1])
            if self.use_maxspeed:
                posted = parse_maxspeed(maxspeed)
                if not math.isnan(posted) and not math.isnan(base):
                    base = posted * self.maxspeed_factor
        if self.period == "peak":
            base *= self.peak_factor_urban if urban else self.peak_factor_rural
        return base

    def key(self) -> str:
        """A stable text key of the profile (part of the network cache key)."""
        return repr(
            (
                sorted(self.urban_kmh.items()),
                sorted(self.rural_kmh.items()),
                self.maxspeed_factor,
                self.use_maxspeed,
                self.period,
                self.peak_factor_urban,
                self.peak_factor_rural,
                sorted(self.overrides.items()),
            )
        )


#: Mode speeds that do not depend on road class (km/h).
WALK_KMH = 4.5  # 1.25 m/s, a common planning value for adults (r5 uses 3.6-5 km/h)
BIKE_KMH = 15.0
#: Rail running speeds by OSM ``railway`` value (km/h, averages including acceleration).
RAIL_KMH: dict[str, float] = {
    "rail": 100.0,
    "light_rail": 45.0,
    "subway": 35.0,
    "monorail": 30.0,
    "narrow_gauge": 40.0,
}
HIGHSPEED_KMH = 250.0
