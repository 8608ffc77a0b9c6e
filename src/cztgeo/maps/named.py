"""Maps by name and by file suffix, as the ``cztgeo`` commands ask for them: the layers the
``map`` command draws (read from the embedded data or from files the other commands wrote), and
one writer that picks HTML or a static PNG/SVG/PDF from the path's suffix."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CztgeoWarning, InputError
from .basemaps import check_basemap
from .html import build_map, write_map
from .layers import (
    Layer,
    boundaries_layer,
    encroachment_layer,
    green_heart_layer,
    isochrone_layer,
    network_layer,
    stations_layer,
)
from .static import write_static

if TYPE_CHECKING:
    from ..network import Network
    from ..settings import Settings

__all__ = ["MAP_LAYERS", "MAP_SUFFIXES", "check_map_path", "named_layers", "write_any_map"]

#: Suffixes a map can be written as (HTML through Leaflet, the others static).
MAP_SUFFIXES = (".html", ".png", ".svg", ".pdf")
#: Layer names :func:`named_layers` draws, in drawing order.
MAP_LAYERS = ("boundaries", "counties", "green-heart", "network", "stations", "isochrones",
              "encroachment")  # fmt: skip


def check_map_path(
    path: str, basemap: str | None, *, offline: bool = False, tianditu_token: str | None = None
) -> None:
    """Refuse an unusable map path or basemap before any work is done (raises InputError)."""
    check_basemap(basemap, offline=offline, tianditu_token=tianditu_token)
    if not path.lower().endswith(MAP_SUFFIXES):
        raise InputError(f"cannot tell the map format from {path!r}: use {', '.join(MAP_SUFFIXES)}")


def _static_basemap(basemap: str | None) -> str | None:
    """Static maps draw the offline reference map or an MBTiles file; web tiles are refused
    there, so a web preset falls back to the reference map."""
    if basemap is None or basemap == "none" or str(basemap).lower().endswith(".mbtiles"):
        return None if basemap == "none" else basemap
    return "reference"


def write_any_map(
    layers: Sequence[Layer], path: Path, *, basemap: str | None, note: str, title: str,
    offline: bool = True, tianditu_token: str | None = None, approval_number: str | None = None,
) -> None:  # fmt: skip
    """An HTML map, or a static PNG/SVG/PDF, by the path's suffix."""
    if path.suffix.lower() == ".html":
        m = build_map(list(layers), basemap=basemap, note=note, title=title, offline=offline,
                      tianditu_token=tianditu_token)  # fmt: skip
        write_map(m, path, offline=offline)
    else:
        write_static(list(layers), path, title=title, note=note,
                     basemap=_static_basemap(basemap), approval_number=approval_number)  # fmt: skip


def named_layers(settings: Settings, wanted: Sequence[str], *, network: str | None = None,
                 isochrones_file: str | None = None, encroachment_file: str | None = None,
                 green_heart_file: str | None = None) -> list[Layer]:  # fmt: skip
    """The layers named in ``wanted`` (from :data:`MAP_LAYERS`), read from the embedded data or
    the given files; ``isochrones`` and ``encroachment`` are drawn only when their file is
    given. An unknown name raises InputError listing the valid ones."""
    unknown = sorted(set(wanted) - set(MAP_LAYERS))
    if unknown:
        raise InputError(f"unknown layers {unknown}: use {', '.join(MAP_LAYERS)}")
    from ..boundaries import load_boundaries
    from ..greenheart import load_green_heart
    from ..io import read_vector
    from ..network import load_network
    from ..rail import load_rail

    def stations() -> Layer:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CztgeoWarning)
            return stations_layer(load_rail(settings=settings).stops_gdf())

    def drive() -> Network:
        return load_network(network, mode="drive", settings=settings)

    builders: dict[str, Callable[[], Layer]] = {
        "boundaries": lambda: boundaries_layer(load_boundaries("city")),
        "counties": lambda: boundaries_layer(load_boundaries("county"), "counties"),
        "green-heart": lambda: green_heart_layer(load_green_heart(green_heart_file)),
        "network": lambda: network_layer(drive()),
        "stations": stations,
        "isochrones": lambda: isochrone_layer(read_vector(str(isochrones_file))),
        "encroachment": lambda: encroachment_layer(read_vector(str(encroachment_file))),
    }
    given = {"isochrones": isochrones_file, "encroachment": encroachment_file}
    return [builders[n]() for n in wanted if given.get(n, True)]
