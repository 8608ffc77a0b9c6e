"""cztgeo: transport and greenbelt analysis for the Changsha-Zhuzhou-Xiangtan metropolitan area.

Importing cztgeo has no side effects: no network, no files written, no logging configuration.
"""

from __future__ import annotations

import logging

from . import errors
from .boundaries import load_boundaries
from .circle import CommuteCircle, commute_circle
from .crs import bd09_to_gcj02, gcj02_to_bd09, gcj02_to_wgs84, to_wgs84, wgs84_to_gcj02
from .encroachment import encroachment
from .greenheart import load_green_heart
from .io import read_vector, write_vector
from .isochrones import isochrones
from .maps import Layer, build_map, write_map, write_static
from .network import Network, load_network
from .population import load_population
from .rail import TransitNetwork, load_rail, plan_journeys, read_gtfs
from .routing import travel_time_matrix, travel_times
from .scenarios import apply_scenario
from .settings import Settings
from .validate import validate

__version__ = "0.1.0"

__all__ = [
    "CommuteCircle",
    "Layer",
    "Network",
    "Settings",
    "TransitNetwork",
    "__version__",
    "apply_scenario",
    "bd09_to_gcj02",
    "build_map",
    "commute_circle",
    "encroachment",
    "errors",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "isochrones",
    "load_boundaries",
    "load_green_heart",
    "load_network",
    "load_population",
    "load_rail",
    "plan_journeys",
    "read_gtfs",
    "read_vector",
    "to_wgs84",
    "travel_time_matrix",
    "travel_times",
    "validate",
    "wgs84_to_gcj02",
    "write_map",
    "write_static",
    "write_vector",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
