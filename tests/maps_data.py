"""Shared inputs of the map tests (real embedded data, computed once per session)."""

from __future__ import annotations

import warnings
from functools import lru_cache

import geopandas as gpd
import pandas as pd

import cztgeo
from cztgeo.circle import DEFAULT_CENTRES, CommuteCircle
from cztgeo.network import Network
from cztgeo.rail import TransitNetwork


@lru_cache(maxsize=1)
def circle_inputs() -> tuple[
    CommuteCircle, gpd.GeoDataFrame, Network, TransitNetwork, gpd.GeoDataFrame
]:
    """The default commute circle, its 15/30/45/60-min drive bands per centre, and the
    network, rail and green heart it was computed on."""
    net = cztgeo.load_network()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # RailWarning for unplaced stations
        rail = cztgeo.load_rail()
    gh = cztgeo.load_green_heart()
    cc = cztgeo.commute_circle(net, rail, green_heart=gh)
    parts = []
    for c in DEFAULT_CENTRES:
        iso = cztgeo.isochrones(net, (c.lon, c.lat), minutes=[15, 30, 45, 60])
        iso["centre"] = c.name
        parts.append(iso)
    bands = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    return cc, bands, net, rail, gh
