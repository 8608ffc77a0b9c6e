"""``cztgeo serve``: a local web service over the cztgeo engine.

* :func:`serve` loads the networks once and runs the app with uvicorn (127.0.0.1 by default);
* :func:`create_app` builds the FastAPI app over an :class:`Engine` (tests and embedding);
* :func:`load_engine` loads what the app reads: networks by mode and period, rail, green heart.

The API speaks openrouteservice v2 (isochrones and matrix), so its clients work unchanged with
``base_url`` pointed at the server; the page at ``/`` is a click-to-isochrone map.
"""

from __future__ import annotations

from .app import create_app
from .engine import PROFILES, Engine, Limits
from .load import load_engine
from .run import serve

__all__ = ["PROFILES", "Engine", "Limits", "create_app", "load_engine", "serve"]
