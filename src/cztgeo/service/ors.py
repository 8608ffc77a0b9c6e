"""openrouteservice v2 request and response shapes, and their conversion to cztgeo calls.

The shapes follow openrouteservice's API v2 (``POST /v2/isochrones/{profile}`` and
``POST /v2/matrix/{profile}``) so that its clients (the ``openrouteservice`` Python package,
the QGIS ORS Tools plugin, openrouteservice-js) work unchanged with ``base_url`` pointed here.
Differences, each refused with ORS's error shape rather than silently ignored:

* ``range_type="distance"``, ``location_type="destination"``, ``intersections=true`` and
  non-empty ``options`` are not supported (code x005); the ``distance`` matrix metric neither.
* ``attributes``: ``area`` is computed (in the network's UTM zone, as :func:`cztgeo.isochrones`
  measures it); ``total_pop`` where the server has a population layer; ``reachfactor`` is not
  computed. Attributes that are not computed are left out and named in
  ``metadata.system_message``, as is a ``smoothing`` value (cztgeo's polygons are not smoothed).
* A band that falls apart into several pieces (islands reached over an expressway) is returned
  as one ``Polygon`` feature per piece with the same ``group_index`` and ``value``: ORS clients
  read ``geometry.coordinates[0]`` as a polygon's outer ring. ``area`` is then the piece's own.
* ``period`` (``"offpeak"`` or ``"peak"``) is a cztgeo extension of both request bodies.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
import shapely
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from ..crs import WGS84, reproject_geometry

if TYPE_CHECKING:
    from .engine import Engine, Reach

__all__ = [
    "ISOCHRONES_BASE",
    "MATRIX_BASE",
    "IsochronesRequest",
    "MatrixRequest",
    "OrsError",
    "error_body",
    "isochrones_response",
    "matrix_response",
]

ISOCHRONES_BASE = 3000
MATRIX_BASE = 6000
#: Offsets of ORS's internal error codes (openrouteservice docs, "Error Codes").
PARSE, MISSING, FORMAT, VALUE, EXCEEDS, UNSUPPORTED, UNKNOWN = 0, 1, 2, 3, 4, 5, 99
AREA_FACTOR = {"m": 1.0, "km": 1e-6, "mi": 1.0 / 1609.344**2}
ATTRIBUTION = "cztgeo (offline) | © OpenStreetMap contributors"

Finite = Annotated[float, Field(allow_inf_nan=False)]
LonLat = tuple[Finite, Finite]


class OrsError(Exception):
    """An error to send in openrouteservice's shape: HTTP status, internal code, one line."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_body(code: int | None, message: str) -> dict[str, JsonValue]:
    """ORS's error body: ``{"error": {"code", "message"}, "info": {"engine", "timestamp"}}``."""
    err: dict[str, JsonValue] = {"message": message}
    if code is not None:
        err["code"] = code
    return {"error": err, "info": {"engine": _engine_info(), "timestamp": _now_ms()}}


def _now_ms() -> int:
    return int(time.time() * 1000)


def _engine_info() -> dict[str, JsonValue]:
    from .. import __version__

    return {"version": f"cztgeo {__version__}", "build_date": "", "graph_date": ""}


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    profile: str | None = Field(
        None, description="the path's profile again (the openrouteservice client sends it)"
    )


class IsochronesRequest(_Request):
    """Body of ``POST /v2/isochrones/{profile}`` (openrouteservice v2)."""

    locations: list[LonLat] = Field(min_length=1, description="[lon, lat] pairs, WGS84")
    range_s: list[Finite] = Field(
        alias="range", min_length=1, description="seconds; one value with `interval` for bands"
    )
    interval: Finite | None = Field(None, gt=0, description="band width (s) for a single range")
    range_type: Literal["time", "distance"] = "time"
    attributes: list[Literal["area", "reachfactor", "total_pop"]] = []
    area_units: Literal["m", "km", "mi"] = "m"
    units: Literal["m", "km", "mi"] = "m"
    location_type: Literal["start", "destination"] = "start"
    smoothing: Finite | None = Field(None, ge=0, le=100)
    intersections: bool = False
    id: str | int | None = None
    options: dict[str, JsonValue] = {}
    period: Literal["offpeak", "peak"] | None = Field(
        None, description="cztgeo extension: road speeds and headways of this period"
    )


class MatrixRequest(_Request):
    """Body of ``POST /v2/matrix/{profile}`` (openrouteservice v2)."""

    locations: list[LonLat] = Field(min_length=1, description="[lon, lat] pairs, WGS84")
    sources: list[int | Literal["all"]] | None = None
    destinations: list[int | Literal["all"]] | None = None
    metrics: list[Literal["duration", "distance"]] = ["duration"]
    resolve_locations: bool = False
    units: Literal["m", "km", "mi"] = "m"
    id: str | int | None = None
    options: dict[str, JsonValue] = {}
    period: Literal["offpeak", "peak"] | None = Field(
        None, description="cztgeo extension: road speeds and headways of this period"
    )


# ---------------------------------------------------------------------- isochrones


def _unsupported(req: IsochronesRequest) -> str | None:
    if req.range_type != "time":
        return "range_type 'distance' is not supported: cztgeo computes travel time; use 'time'"
    if req.location_type != "start":
        return "location_type 'destination' is not supported: use 'start'"
    if req.intersections:
        return "intersections are not supported: leave 'intersections' out or false"
    if req.options:
        return f"options {sorted(req.options)} are not supported: leave 'options' out"
    return None


def isochrone_ranges_s(req: IsochronesRequest) -> list[float]:
    """The ranges in seconds, ``interval`` expanded as ORS does (interval, 2 x interval, ...,
    range)."""
    if req.interval is None or len(req.range_s) != 1:
        return list(req.range_s)
    top = req.range_s[0]
    n = math.ceil(top / req.interval - 1e-9)
    return [min(req.interval * (k + 1), top) for k in range(n)]


def check_isochrones(req: IsochronesRequest, engine: Engine) -> list[float]:
    """Refuse unsupported features and requests over the limits; the ranges in minutes."""
    why = _unsupported(req)
    if why is not None:
        raise OrsError(400, ISOCHRONES_BASE + UNSUPPORTED, why)
    lim = engine.limits
    if len(req.locations) > lim.max_locations:
        raise OrsError(
            400,
            ISOCHRONES_BASE + EXCEEDS,
            f"{len(req.locations)} locations requested; this server allows {lim.max_locations}",
        )
    ranges = isochrone_ranges_s(req)
    if any(r <= 0 for r in ranges):
        raise OrsError(400, ISOCHRONES_BASE + VALUE, f"range values must be positive: {ranges}")
    if req.interval is not None and len(ranges) > lim.max_ranges:
        raise OrsError(
            400,
            ISOCHRONES_BASE + EXCEEDS,
            f"range / interval gives {len(ranges)} bands; this server allows {lim.max_ranges}",
        )
    return [r / 60.0 for r in ranges]


def _parts(geom: shapely.Geometry) -> list[shapely.Geometry]:
    parts = shapely.get_parts(geom)
    return [p for p in parts if shapely.get_type_id(p) == 3 and not p.is_empty]


def _ring_coords(geom: shapely.Geometry) -> list[JsonValue]:
    rings = [geom.exterior, *geom.interiors]
    return [np.asarray(r.coords)[:, :2].tolist() for r in rings]


def isochrone_features(
    reach: Reach,
    group_index: int,
    *,
    attributes: list[str],
    area_units: str,
    metric_crs: str,
    engine: Engine,
) -> list[dict[str, JsonValue]]:
    """One ORS feature per band piece: ``group_index``, ``value`` (s), ``center``, ``area``."""
    feats: list[dict[str, JsonValue]] = []
    for band in reach.bands:
        for part in _parts(band.geometry):
            props: dict[str, JsonValue] = {
                "group_index": group_index,
                "value": float(band.minutes * 60.0),
                "center": [reach.center[0], reach.center[1]],
            }
            if "area" in attributes:
                area_m2 = float(shapely.area(reproject_geometry(part, WGS84, metric_crs)))
                props["area"] = area_m2 * AREA_FACTOR[area_units]
            if "total_pop" in attributes and engine.has_population:
                props["total_pop"] = engine.measure(part).population
            feats.append(
                {
                    "type": "Feature",
                    "properties": props,
                    "geometry": {"type": "Polygon", "coordinates": _ring_coords(part)},
                }
            )
    return feats


def system_message(req: IsochronesRequest, engine: Engine, notes: list[str]) -> str:
    """What the response leaves out or assumes, in one paragraph."""
    msgs = list(dict.fromkeys(notes))
    if "reachfactor" in req.attributes:
        msgs.insert(0, "attribute 'reachfactor' is not computed by cztgeo and was left out")
    if "total_pop" in req.attributes and not engine.has_population:
        msgs.insert(0, "attribute 'total_pop' left out: the server has no population layer")
    if req.smoothing is not None:
        msgs.insert(0, "smoothing is not applied: cztgeo's polygons follow the roads reached")
    return "; ".join(msgs)


def isochrones_response(
    req: IsochronesRequest,
    profile: str,
    reaches: list[Reach],
    engine: Engine,
    metric_crs: list[str],
) -> dict[str, JsonValue]:
    """The ORS GeoJSON FeatureCollection for the reaches (one per location)."""
    feats: list[dict[str, JsonValue]] = []
    notes: list[str] = []
    for i, (reach, crs) in enumerate(zip(reaches, metric_crs, strict=True)):
        feats += isochrone_features(
            reach,
            i,
            attributes=list(req.attributes),
            area_units=req.area_units,
            metric_crs=crs,
            engine=engine,
        )
        notes += list(reach.notes)
    bounds = shapely.total_bounds([b.geometry for r in reaches for b in r.bands])
    query = req.model_dump(by_alias=True, exclude_none=True)
    query["profile"] = profile
    meta: dict[str, JsonValue] = {
        "attribution": ATTRIBUTION,
        "service": "isochrones",
        "timestamp": _now_ms(),
        "query": query,
        "engine": _engine_info(),
        "cztgeo": {
            "network": reaches[0].network,
            "period": reaches[0].period,
            "mode": reaches[0].mode,
        },
    }
    msg = system_message(req, engine, notes + list(engine.notes))
    if msg:
        meta["system_message"] = msg
    return {
        "type": "FeatureCollection",
        "bbox": [float(v) for v in bounds],
        "features": feats,  # type: ignore[dict-item]
        "metadata": meta,
    }


# ---------------------------------------------------------------------- matrix


def matrix_indices(req: MatrixRequest, engine: Engine) -> tuple[list[int], list[int]]:
    """Source and destination positions in ``locations`` (``None`` / ``["all"]``: all)."""
    n = len(req.locations)
    lim = engine.limits
    if req.options:
        raise OrsError(400, MATRIX_BASE + VALUE, f"options {sorted(req.options)} are not supported")
    if "distance" in req.metrics:
        raise OrsError(
            400,
            MATRIX_BASE + VALUE,
            "metric 'distance' is not supported by cztgeo's matrix yet: ask for "
            "metrics=['duration']",
        )
    if n > lim.max_matrix_locations:
        raise OrsError(
            400,
            MATRIX_BASE + EXCEEDS,
            f"{n} locations requested; this server allows {lim.max_matrix_locations}",
        )
    out = []
    for name, given in (("sources", req.sources), ("destinations", req.destinations)):
        if given is None or "all" in given:
            out.append(list(range(n)))
            continue
        idx = [int(i) for i in given]
        bad = [i for i in idx if not 0 <= i < n]
        if bad:
            raise OrsError(
                400,
                MATRIX_BASE + VALUE,
                f"{name} {bad} are not positions in 'locations' (0 to {n - 1})",
            )
        out.append(idx)
    return out[0], out[1]


def matrix_response(
    req: MatrixRequest,
    profile: str,
    minutes: np.ndarray,
    src: list[int],
    dst: list[int],
    snapped: tuple[list[dict[str, JsonValue]], list[dict[str, JsonValue]]],
    network: str,
) -> dict[str, JsonValue]:
    """The ORS matrix body: ``durations`` in seconds, ``null`` where unreachable."""
    secs = np.asarray(minutes, dtype=np.float64) * 60.0
    durations: list[JsonValue] = [
        [float(v) if np.isfinite(v) else None for v in row] for row in secs
    ]
    query = req.model_dump(by_alias=True, exclude_none=True)
    query["profile"] = profile
    return {
        "durations": durations,
        "sources": snapped[0],  # type: ignore[dict-item]
        "destinations": snapped[1],  # type: ignore[dict-item]
        "metadata": {
            "attribution": ATTRIBUTION,
            "service": "matrix",
            "timestamp": _now_ms(),
            "query": query,
            "engine": _engine_info(),
            "cztgeo": {"network": network},
        },
    }
