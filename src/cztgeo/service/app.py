"""The web app: openrouteservice-compatible API, a click-to-isochrone page, health and docs.

Endpoints
---------
``GET /``
    The page (Leaflet inlined, no CDN): click or drag a point, get isochrone bands.
``POST /v2/isochrones/{profile}`` (also ``.../geojson``), ``POST /v2/matrix/{profile}`` (also
``.../json``)
    openrouteservice v2 shapes (:mod:`cztgeo.service.ors`).
``POST /api/reach``, ``GET /api/circle``
    The page's own calls: bands with green-heart and population measures; the three centres'
    commute circle.
``GET /health``, ``GET /v2/health``, ``GET /docs``, ``GET /openapi.json``
    Status and the OpenAPI page (Swagger UI served from the package, no CDN).

No endpoint reads or writes a path named in a request. Errors use openrouteservice's shape
(``{"error": {"code", "message"}, "info": {...}}``) with a one-line message and a 4xx status;
an unexpected failure is a 500 with the same shape, logged on the server, never a traceback.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Literal

import anyio.to_thread
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field, JsonValue
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import CztgeoError, InputError, LimitError
from . import ors
from .engine import MODES, PROFILES, Engine, Reach

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

__all__ = ["create_app"]

log = logging.getLogger(__name__)

Finite = Annotated[float, Field(allow_inf_nan=False)]


class ReachRequest(BaseModel):
    """Body of ``POST /api/reach`` (the page's call)."""

    model_config = ConfigDict(extra="forbid")

    lon: Finite
    lat: Finite
    mode: Literal["drive", "walk", "bike", "transit", "taxi+transit"] = "drive"
    minutes: list[Finite] = Field(default=[15.0, 30.0, 45.0], min_length=1)
    period: Literal["offpeak", "peak"] = "offpeak"


# ---------------------------------------------------------------------- errors


def _base(path: str) -> int | None:
    if path.startswith("/v2/isochrones"):
        return ors.ISOCHRONES_BASE
    if path.startswith("/v2/matrix"):
        return ors.MATRIX_BASE
    return None


def _code(path: str, offset: int) -> int | None:
    base = _base(path)
    return None if base is None else base + offset


def _error(status: int, code: int | None, message: str) -> JSONResponse:
    return JSONResponse(ors.error_body(code, message), status_code=status)


def _validation_line(err: ErrorDetails) -> tuple[int, str]:
    """One line (and the ORS code offset) for the first pydantic error."""
    loc = [str(p) for p in err["loc"] if p != "body"]
    where = "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in loc).lstrip(".") or "body"
    kind = err["type"]
    if kind == "missing":
        return ors.MISSING, f"parameter '{where}' is missing"
    if kind == "extra_forbidden":
        return ors.VALUE, f"unknown parameter '{where}': see /docs for the accepted ones"
    if kind == "json_invalid":
        return ors.PARSE, f"the body is not valid JSON ({err['msg']})"
    value = err.get("input")
    shown = repr(value) if isinstance(value, (int, float, str, bool)) or value is None else ""
    offset = ors.VALUE if kind.startswith(("literal", "greater", "less", "finite")) else ors.FORMAT
    return offset, f"parameter '{where}' {shown}: {err['msg']}".replace(" :", ":")


class _BodyTooLarge(HTTPException):
    """Raised while reading a streamed body; FastAPI lets HTTPException through its parser."""


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with a 413 before they are read in full."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _error(413, _code(scope["path"], ors.EXCEEDS), self._message())(
                scope, receive, send
            )
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            seen += len(msg.get("body", b""))
            if seen > self.max_bytes:
                raise _BodyTooLarge(413, self._message())
            return msg

        await self.app(scope, limited, send)

    def _message(self) -> str:
        return f"the request body is larger than this server's limit of {self.max_bytes} bytes"


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(ors.OrsError)
    async def _ors(request: Request, exc: ors.OrsError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        offset, line = _validation_line(errs[0]) if errs else (ors.FORMAT, "invalid request")
        more = f" (and {len(errs) - 1} more problems)" if len(errs) > 1 else ""
        return _error(400, _code(request.url.path, offset), line + more)

    @app.exception_handler(CztgeoError)
    async def _cztgeo(request: Request, exc: CztgeoError) -> JSONResponse:
        offset = ors.EXCEEDS if isinstance(exc, LimitError) else ors.VALUE
        status = 400 if isinstance(exc, InputError) else 500
        line = " ".join(str(exc).split())
        return _error(status, _code(request.url.path, offset), line)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        offset = ors.EXCEEDS if exc.status_code == 413 else ors.VALUE
        code = _code(request.url.path, offset) if exc.status_code < 500 else None
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s", request.url.path)
        return _error(
            500,
            _code(request.url.path, ors.UNKNOWN),
            f"internal error ({type(exc).__name__}); the server logged the details",
        )


# ---------------------------------------------------------------------- handlers


def _mode(profile: str, body_profile: str | None, engine: Engine, base: int) -> str:
    if body_profile is not None and body_profile != profile:
        raise ors.OrsError(
            400,
            base + ors.VALUE,
            f"the body's profile {body_profile!r} differs from the path's {profile!r}",
        )
    mode = PROFILES.get(profile)
    if mode is None:
        raise ors.OrsError(
            400,
            base + ors.VALUE,
            f"unknown profile {profile!r}: use one of {', '.join(PROFILES)}",
        )
    if mode in engine.unavailable:
        raise ors.OrsError(400, base + ors.UNSUPPORTED, engine.unavailable[mode])
    return mode


def _metric_crs(engine: Engine, mode: str, period: str) -> str:
    if mode in ("transit", "taxi+transit"):
        from ..crs import METRIC_CRS

        return METRIC_CRS
    return engine.road(mode, period).net.crs


def _snapped(
    engine: Engine, mode: str, points: list[tuple[float, float]], period: str
) -> list[dict[str, JsonValue]]:
    """ORS ``sources``/``destinations`` entries: the snapped location and its distance (m)."""
    if mode in ("transit", "taxi+transit"):
        return [{"location": [lon, lat]} for lon, lat in points]
    from ..crs import WGS84, transformer
    from ..routing import snap_points

    rm = engine.road(mode, period)
    snap = snap_points(rm.net, points, max_snap_m=rm.max_snap_m)
    lon, lat = transformer(rm.net.crs, WGS84).transform(snap.x, snap.y)
    return [
        {"location": [float(a), float(b)], "snapped_distance": round(float(d), 2)}
        for a, b, d in zip(lon, lat, snap.distance_m, strict=True)
    ]


def _reach_geojson(engine: Engine, reach: Reach) -> dict[str, JsonValue]:
    import shapely

    feats: list[JsonValue] = []
    for band in reach.bands:
        m = engine.measure(band.geometry)
        props: dict[str, JsonValue] = {
            "minutes": band.minutes,
            "area_km2": band.area_km2,
            "green_heart_km2": m.green_heart_km2,
            "green_heart_share": m.green_heart_share,
            "population": m.population,
        }
        geom = shapely.geometry.mapping(band.geometry)
        feats.append({"type": "Feature", "properties": props, "geometry": geom})  # type: ignore[dict-item]
    return {
        "type": "FeatureCollection",
        "features": feats,
        "center": [reach.center[0], reach.center[1]],
        "mode": reach.mode,
        "period": reach.period,
        "network": reach.network,
        "notes": list(dict.fromkeys([*reach.notes, *engine.notes])),
    }


def _add_routes(app: FastAPI, engine: Engine, page: str) -> None:
    def isochrones(profile: str, req: ors.IsochronesRequest) -> JSONResponse:
        mode = _mode(profile, req.profile, engine, ors.ISOCHRONES_BASE)
        minutes = ors.check_isochrones(req, engine)
        period = req.period or engine.periods[0]
        reaches = [engine.reach(mode, loc, minutes, period=period) for loc in req.locations]
        crs = [_metric_crs(engine, mode, period)] * len(reaches)
        return JSONResponse(ors.isochrones_response(req, profile, reaches, engine, crs))

    def matrix(profile: str, req: ors.MatrixRequest) -> JSONResponse:
        mode = _mode(profile, req.profile, engine, ors.MATRIX_BASE)
        src, dst = ors.matrix_indices(req, engine)
        period = req.period or engine.periods[0]
        s_pts = [req.locations[i] for i in src]
        d_pts = [req.locations[i] for i in dst]
        minutes = engine.matrix(mode, s_pts, d_pts, period=period)
        snapped = (_snapped(engine, mode, s_pts, period), _snapped(engine, mode, d_pts, period))
        label = engine.road("drive", period).label
        return JSONResponse(ors.matrix_response(req, profile, minutes, src, dst, snapped, label))

    for suffix in ("", "/geojson"):
        app.post(
            "/v2/isochrones/{profile}" + suffix,
            tags=["openrouteservice v2"],
            summary="Isochrones (openrouteservice v2 shape)",
            include_in_schema=suffix == "",
        )(isochrones)
    for suffix in ("", "/json"):
        app.post(
            "/v2/matrix/{profile}" + suffix,
            tags=["openrouteservice v2"],
            summary="Travel-time matrix (openrouteservice v2 shape)",
            include_in_schema=suffix == "",
        )(matrix)

    @app.post("/api/reach", tags=["page"], summary="Bands with green-heart and population")
    def reach(req: ReachRequest) -> JSONResponse:
        r = engine.reach(req.mode, (req.lon, req.lat), req.minutes, period=req.period)
        return JSONResponse(_reach_geojson(engine, r))

    @app.get("/api/circle", tags=["page"], summary="The three centres' 30-minute circle")
    async def circle(period: Literal["offpeak", "peak"] = "offpeak") -> Response:
        if period not in engine.circle_geojson:
            raise InputError(f"period {period!r} is not available on this server")
        return Response(engine.circle_geojson[period], media_type="application/geo+json")

    # cheap handlers are async: they answer at once, not behind the computations in the pool
    @app.get("/health", tags=["status"], summary="Readiness and what this server offers")
    async def health() -> dict[str, JsonValue]:
        return {
            "status": "ready",
            "profiles": [p for p, m in PROFILES.items() if m not in engine.unavailable],
            "modes": list(engine.modes),
            "periods": list(engine.periods),
            "network": engine.road("drive", engine.periods[0]).label,
            "unavailable": dict(engine.unavailable),
        }

    @app.get("/v2/health", tags=["status"], summary="openrouteservice health check")
    async def ors_health() -> dict[str, str]:
        return {"status": "ready"}

    @app.get("/", include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(page)


def _workers(engine: Engine) -> int:
    import os

    given = engine.limits.workers
    return given if given is not None else max(2, os.cpu_count() or 1)


def create_app(engine: Engine) -> FastAPI:
    """The FastAPI app over a loaded :class:`~cztgeo.service.engine.Engine`.

    The engine is only read by the handlers; sync handlers run in the server's thread pool.
    """
    from .. import __version__
    from .page import build_page

    workers = _workers(engine)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # sync handlers run in anyio's thread pool: cap it so that at most `workers` requests
        # compute at once (the others queue), which bounds memory under load
        anyio.to_thread.current_default_thread_limiter().total_tokens = workers
        yield

    app: FastAPI = FastAPIOffline(
        lifespan=lifespan,
        title="cztgeo service",
        version=__version__,
        description=(
            "Offline travel-time service for the Changsha-Zhuzhou-Xiangtan metro area: "
            "openrouteservice v2 isochrones and matrix, and a click-to-isochrone page. Profiles: "
            + ", ".join(f"{p} ({m})" for p, m in PROFILES.items())
            + f". Modes offered here: {', '.join(m for m in MODES if m in engine.modes)}."
        ),
        redoc_url=None,
    )
    _install_errors(app)
    _add_routes(app, engine, build_page(engine))
    app.add_middleware(BodyLimit, max_bytes=engine.limits.max_body_bytes)
    return app
