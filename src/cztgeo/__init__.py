"""cztgeo: transport and greenbelt analysis for the Changsha-Zhuzhou-Xiangtan metropolitan area.

Importing cztgeo has no side effects: no network, no files written, no logging configuration.
"""

from __future__ import annotations

import logging

from . import errors
from .boundaries import load_boundaries
from .crs import bd09_to_gcj02, gcj02_to_bd09, gcj02_to_wgs84, to_wgs84, wgs84_to_gcj02
from .greenheart import load_green_heart
from .io import read_vector, write_vector
from .settings import Settings

__version__ = "0.1.0"

__all__ = [
    "Settings",
    "__version__",
    "bd09_to_gcj02",
    "errors",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "load_boundaries",
    "load_green_heart",
    "read_vector",
    "to_wgs84",
    "wgs84_to_gcj02",
    "write_vector",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
