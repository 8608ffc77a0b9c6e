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

Which table applies (urban or rural) is the *context*: :func:`urban_mask` decides it per point,
from the network's own junction density plus documented proxies (:func:`built_up_mask`), from
the central districts (:data:`URBAN_ADCODES`), or from a polygon the caller gives.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeAlias

import numpy as np

from .errors import InputError
from .settings import embedded_data_dir

if TYPE_CHECKING:
    import geopandas as gpd
    import shapely
    from numpy.typing import NDArray

__all__ = [
    "DEFAULT_RURAL_KMH",
    "DEFAULT_URBAN_KMH",
    "URBAN_ADCODES",
    "Context",
    "SpeedProfile",
    "built_up_mask",
    "classify_ref",
    "junction_points",
    "parse_maxspeed",
    "urban_mask",
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


# ---------------------------------------------------------------------- urban / rural context

#: A named context: ``"auto"`` (built-up area measured from the network, see
#: :func:`built_up_mask`), ``"districts"`` (the central districts, :data:`URBAN_ADCODES`),
#: ``"urban"`` or ``"rural"`` (everything).
ContextName = Literal["auto", "districts", "urban", "rural"]
#: Where the urban speed table applies: a :data:`ContextName`, or the urban area as a WGS84
#: shapely geometry, GeoSeries or GeoDataFrame.
Context: TypeAlias = "ContextName | shapely.Geometry | gpd.GeoSeries | gpd.GeoDataFrame"

#: County-level units treated as urban by ``context="districts"`` (and by ``"auto"`` when the
#: network gives no junctions): the central districts of the three cities (长沙 芙蓉 天心 岳麓
#: 开福 雨花; 株洲 荷塘 芦淞 石峰 天元; 湘潭 雨湖 岳塘).
URBAN_ADCODES = (
    "430102", "430103", "430104", "430105", "430111",
    "430202", "430203", "430204", "430211",
    "430302", "430304",
)  # fmt: skip

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
    """Changsha Metro stations (lon, lat) from the embedded transit file; none if it is absent."""
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
    and the documented proxies of :data:`BUILT_UP_DENSITY` (metro stations, city cores).

    Parameters
    ----------
    lon, lat
        The points to classify, WGS84.
    junction_lon, junction_lat
        The network's junctions (:func:`junction_points`), WGS84.
    coarse
        Use the thresholds of the coarse major-road skeleton instead of full OSM streets.
    """
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


def junction_points(
    lon: NDArray[np.float64], lat: NDArray[np.float64], a: NDArray[np.int64], b: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Nodes where three or more road ends meet (each undirected segment counted once).

    ``lon``/``lat`` are the node positions; ``a``/``b`` the node indices of each segment.
    """
    pairs = np.unique(np.sort(np.column_stack([a, b]), axis=1), axis=0)
    deg = np.bincount(pairs.ravel(), minlength=len(lon))
    j = deg >= 3
    return lon[j], lat[j]


def _district_mask(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Points in the central districts (:data:`URBAN_ADCODES`), or outside the metro area
    (where there is nothing to tell urban from rural by: treated as urban)."""
    import shapely

    from .boundaries import load_boundaries

    counties = load_boundaries("county")
    region = shapely.union_all(counties.geometry.values)
    inside_czt = shapely.contains_xy(region, lon, lat)
    if not inside_czt.any():
        return np.ones(lon.shape, dtype=bool)
    urban = shapely.union_all(counties[counties["adcode"].isin(URBAN_ADCODES)].geometry.values)
    shapely.prepare(urban)
    return np.asarray(shapely.contains_xy(urban, lon, lat) | ~inside_czt)


def urban_mask(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    context: Context,
    junctions: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
    *,
    coarse: bool = False,
) -> NDArray[np.bool_]:
    """Which points (WGS84) lie in an urban context.

    Parameters
    ----------
    context
        ``"urban"``/``"rural"``: all / none; ``"auto"``: :func:`built_up_mask` from
        ``junctions`` (the central districts when ``junctions`` is None); ``"districts"``: the
        central districts (:data:`URBAN_ADCODES`); or a WGS84 geometry of the urban area.
    junctions
        The network's junction positions (:func:`junction_points`), for ``"auto"``.
    coarse
        Junction-density thresholds of the coarse skeleton (see :data:`BUILT_UP_DENSITY`).
    """
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
        return _district_mask(lon, lat)
    geom = getattr(context, "union_all", None)
    poly = geom() if callable(geom) else context
    if not isinstance(poly, shapely.Geometry):
        raise InputError("context must be 'auto', 'urban', 'rural', or a (Geo)Series/geometry")
    shapely.prepare(poly)
    return np.asarray(shapely.contains_xy(poly, lon, lat))
