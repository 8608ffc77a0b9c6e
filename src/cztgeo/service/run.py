"""Run the service with uvicorn: ``cztgeo serve`` calls :func:`serve`."""

from __future__ import annotations

import ipaddress
import logging
import warnings
from typing import TYPE_CHECKING

from ..errors import CztgeoWarning, InputError

if TYPE_CHECKING:
    import os

    import geopandas as gpd

    from ..settings import Settings
    from .engine import Limits

__all__ = ["is_loopback", "serve"]

log = logging.getLogger(__name__)

#: Connections served at once before new ones get a 503 (uvicorn's limit_concurrency).
MAX_CONNECTIONS = 64


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    *,
    network: str | os.PathLike[str] | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: Settings | None = None,
    walk_network: str | os.PathLike[str] | None = None,
    bike_network: str | os.PathLike[str] | None = None,
    rail: bool | str | os.PathLike[str] = True,
    green_heart: str | os.PathLike[str] | None = None,
    population: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    limits: Limits | None = None,
    log_level: str = "info",
) -> None:
    """Load the networks once and serve the page and the API until interrupted.

    Parameters
    ----------
    network, walk_network, bike_network, rail, green_heart, population
        As :func:`cztgeo.service.engine.load_engine`; the embedded coarse skeleton, rail lines
        and APPROXIMATE green heart by default.
    host
        Address to bind; 127.0.0.1 by default. Any other address makes the server reachable
        from other machines and warns (:class:`~cztgeo.errors.CztgeoWarning`): it has no
        authentication.
    port
        TCP port (0 picks a free one).
    settings
        Data and cache folders.
    limits
        Request limits (:class:`~cztgeo.service.engine.Limits`).
    log_level
        uvicorn's log level.

    Raises
    ------
    InputError
        A port outside 0-65535, or a network that cannot be loaded.
    """
    import uvicorn

    from .app import create_app
    from .load import load_engine

    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InputError(f"port must be an integer from 0 to 65535, got {port!r}")
    if not is_loopback(host):
        warnings.warn(
            f"serving on {host}: other machines can reach this server, which has no "
            "authentication; use --host 127.0.0.1 to keep it local",
            CztgeoWarning,
            stacklevel=2,
        )
    engine = load_engine(
        network,
        walk_network=walk_network,
        bike_network=bike_network,
        rail=rail,
        green_heart=green_heart,
        population=population,
        settings=settings,
        limits=limits,
    )
    app = create_app(engine)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        limit_concurrency=MAX_CONNECTIONS,
        server_header=False,
    )
