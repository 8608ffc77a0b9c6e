"""The ``cztgeo`` command: a thin click shell over the library.

Each command parses its options, makes one library call, writes through :mod:`cztgeo.report`
inside :class:`cztgeo.io.Outputs` (all files or none) and prints a summary. Global options
(``--data-dir``, ``--cache-dir``, ``--offline``, ``-v``) build one :class:`~cztgeo.Settings`,
kept in the click context.

Exit codes: 0 clean, 1 a check found something (encroachment, validate), 2 bad input (one line
on stderr, nothing written), 3 internal error (a bug: never read as 0 or 1), 130 interrupted.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from .cli_params import NON_NEGATIVE, POSITIVE, BBox, LonLat, Minutes
from .errors import CztgeoError, CztgeoWarning
from .maps.named import MAP_LAYERS

if TYPE_CHECKING:
    from .settings import Settings

__all__ = ["cli", "main"]

log = logging.getLogger("cztgeo")

EXIT_OK, EXIT_FOUND, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
PERIODS = click.Choice(["offpeak", "peak"])
PLANS = click.Choice(["2010-2030", "2024-2035"])
BASEMAP_HELP = "reference (offline, drawn from the embedded data), none, osm, tianditu, amap or an .mbtiles file"


def _one_line(text: object) -> str:
    """Messages are one line whatever the data in them holds (newlines in names, ...)."""
    return " ".join(str(text).split()) or "(no message)"


def _inputs(*paths: object) -> list[str]:
    """The files a command reads (outputs may not overwrite them); basemap presets skipped."""
    return [str(p) for p in paths if p and str(p) not in ("none", "osm", "amap", "tianditu")]


def _settings(ctx: click.Context) -> Settings:
    obj = ctx.find_root().obj
    assert obj is not None, "the cztgeo group builds the settings"
    return obj  # type: ignore[no-any-return]


def _declared_offset(crs: str | None) -> bool:
    """True when the user declared GCJ-02/BD-09: the data were converted, and the guard
    (which looks for undeclared GCJ-02 offsets) has nothing to find."""
    from .crs import normalize_crs

    return crs is not None and isinstance(normalize_crs(crs), str)


# ---------------------------------------------------------------- the group


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    help="Transport and greenbelt analysis for Changsha-Zhuzhou-Xiangtan (长株潭).",
)
@click.version_option(package_name="cztgeo", prog_name="cztgeo")
@click.option("-v", "--verbose", is_flag=True, help="log progress to stderr")
@click.option("--data-dir", help="external data folder (default: $CZTGEO_DATA_DIR)")
@click.option("--cache-dir", help="network cache folder (default: the user cache folder)")
@click.option("--offline", is_flag=True, help="never use the network")
@click.pass_context
def cli(
    ctx: click.Context, verbose: bool, data_dir: str | None, cache_dir: str | None, offline: bool
) -> None:
    from .settings import Settings

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    changes: dict[str, object] = {"offline": offline}
    if data_dir:
        changes["data_dir"] = Path(data_dir)
    if cache_dir:
        changes["cache_dir"] = Path(cache_dir)
    ctx.obj = Settings().with_(**changes)
    ctx.meta["verbose"] = verbose


@cli.command(help="version, data directory and embedded datasets")
@click.option("--json", "as_json", is_flag=True, help="print as JSON")
@click.pass_context
def info(ctx: click.Context, as_json: bool) -> int:
    import json

    from .report import installation

    data = installation(_settings(ctx))
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return EXIT_OK
    click.echo(f"cztgeo {data['version']}")
    click.echo(f"data directory:  {data['data_dir'] or '(none: set CZTGEO_DATA_DIR)'}")
    click.echo(f"cache directory: {data['cache_dir']}")
    click.echo(f"embedded data:   {data['embedded_data_dir']}")
    embedded: dict[str, str] = data["embedded"]  # type: ignore[assignment]
    for name, meta in embedded.items():
        click.echo(f"  {name}: {meta}")
    return EXIT_OK


def _write_layer(
    load: Any, output: str | None, what: str, command: str, inputs: Sequence[str] = ()
) -> int:
    """Write to ``output`` (format from the suffix, all or nothing), or print the table."""
    from .io import Outputs, check_output_suffix, write_vector

    if not output:
        click.echo(load().drop(columns="geometry").to_string(index=False))
        return EXIT_OK
    check_output_suffix(output)
    with Outputs(command, inputs=inputs) as tx:
        target = tx.file(output)  # refuses an output that is also an input, before any work
        gdf = load()
        write_vector(gdf, target)
    click.echo(f"wrote {len(gdf)} {what} to {output}")
    return EXIT_OK


@cli.command(help="city, county or metro-area boundaries in WGS84")
@click.option("--level", type=click.Choice(["city", "county", "metro"]), default="city")
@click.option(
    "-o", "--output", help="output file; format from the suffix (.gpkg .geojson .shp .parquet .csv)"
)
def boundaries(level: Literal["city", "county", "metro"], output: str | None) -> int:
    from .boundaries import load_boundaries

    return _write_layer(lambda: load_boundaries(level), output, f"{level} boundaries", "boundaries")


@cli.command("green-heart", help="the green heart (sketch or an official file) in WGS84")
@click.argument("file", required=False)
@click.option("--plan", default="2024-2035", type=PLANS, help="plan version of the sketch")
@click.option("--crs", help="CRS of the file if missing or wrong: EPSG code, gcj02 or bd09")
@click.option("--zone-column", help="column with zone names")
@click.option("-o", "--output", help="output file; format from the suffix")
def green_heart(
    file: str | None, plan: str, crs: str | None, zone_column: str | None, output: str | None
) -> int:
    from .greenheart import load_green_heart

    return _write_layer(
        lambda: load_green_heart(file, plan=plan, crs=crs, zone_column=zone_column),
        output, "green-heart zones", "green-heart", inputs=_inputs(file),
    )  # fmt: skip


@cli.command(help="isochrone polygons from one or more origins")
@click.option(
    "--network",
    help="OSM .osm/.osm.pbf, or a .cztnet cache (default: the embedded coarse skeleton)",
)
@click.option("--mode", default="drive", type=click.Choice(["drive", "walk", "bike", "rail"]))
@click.option(
    "--origin",
    "origins",
    type=LonLat(),
    multiple=True,
    required=True,
    help="WGS84 LON,LAT; repeat for several origins",
)
@click.option("--minutes", type=Minutes(), default="15,30", show_default=True, help="thresholds")
@click.option("--access-m", type=POSITIVE, help="distance from a reached road that still counts")
@click.option("--resolution-m", type=POSITIVE, help="grid cell size")
@click.option(
    "--style", default="network", type=click.Choice(["network", "exact", "convex", "concave"])
)
@click.option("--max-snap-m", type=POSITIVE, default=1000.0, show_default=True)
@click.option(
    "--local-kmh",
    type=NON_NEGATIVE,
    help="speed on unmapped local streets (default 20 on a coarse network, else off; 0 = off)",
)
@click.option("--map", "map_path", help="also write a map (.html, .png, .svg or .pdf)")
@click.option("--basemap", default="reference", show_default=True, help=BASEMAP_HELP)
@click.option(
    "-o", "--output", required=True, help="output file (.gpkg .geojson .parquet .shp .csv)"
)
@click.pass_context
def isochrones(ctx: click.Context, network: str | None, mode: str, origins: tuple[tuple[float, float], ...],
               minutes: list[float], access_m: float | None, resolution_m: float | None, style: str,
               max_snap_m: float, local_kmh: float | None, map_path: str | None, basemap: str,
               output: str) -> int:  # fmt: skip
    from . import maps
    from .io import Outputs, check_output_suffix, write_vector
    from .isochrones import isochrones as compute
    from .network import load_network

    check_output_suffix(output)
    if map_path:
        maps.check_map_path(map_path, basemap)
    with Outputs("isochrones", inputs=_inputs(network, basemap)) as tx:
        target = tx.file(output)
        map_target = tx.file(map_path) if map_path else None
        net = load_network(network, mode=mode, settings=_settings(ctx))
        gdf = compute(
            net, list(origins), minutes=minutes, access_m=access_m, resolution_m=resolution_m,
            style=style, max_snap_m=max_snap_m, local_kmh=local_kmh,  # type: ignore[arg-type]
        )  # fmt: skip
        write_vector(gdf, target)
        if map_target is not None:
            note = "road network: COARSE SKELETON (major roads only)" if net.coarse else ""
            layers = [maps.network_layer(net), maps.isochrone_layer(gdf)]
            maps.write_any_map(layers, map_target, basemap=basemap, note=note, title="isochrones")
    coarse = "  [coarse skeleton: major roads only]" if net.coarse else ""
    areas = ", ".join(
        f"{m:g} min {a:,.1f} km²" for m, a in zip(gdf["minutes"], gdf["area_km2"], strict=True)
    )
    click.echo(f"wrote {len(gdf)} isochrones to {output}: {areas}{coarse}")
    return EXIT_OK


@cli.command(
    help="which features intersect which green-heart zone (exit 1 if any encroaches)",
    epilog="Exit codes: 0 nothing encroaches (per --fail-on), 1 something does, 2 bad input, "
    "3 internal error.",
)
@click.argument("file")
@click.option(
    "--out", required=True, help="folder for overlaps.gpkg/.geojson, summary.csv, report.md/.html"
)
@click.option("--crs", help="the features' real CRS if missing or wrong: EPSG code, gcj02, bd09")
@click.option("--id-column", help="column with unique feature ids")
@click.option("--zones", multiple=True, help="check only this zone (repeat for several)")
@click.option(
    "--tolerance-m",
    type=NON_NEGATIVE,
    default=200.0,
    show_default=True,
    help="near band outside the boundary",
)
@click.option(
    "--min-area-m2",
    type=NON_NEGATIVE,
    default=1.0,
    show_default=True,
    help="smaller overlaps are slivers",
)
@click.option(
    "--fail-on",
    multiple=True,
    metavar="ZONE",
    help="a zone whose overlap fails (repeat; default: all)",
)
@click.option(
    "--green-heart",
    "green_heart_file",
    help="official boundary file (default: the approximate sketch)",
)
@click.option("--green-heart-crs", help="CRS of the boundary file if missing or wrong")
@click.option("--plan", default="2024-2035", type=PLANS, help="plan version of the sketch")
@click.option(
    "--reference", help="reference layer for the GCJ-02 guard (default: OSM road skeleton)"
)
@click.option(
    "--map", "map_path", help="also write a map of the findings (.html, .png, .svg or .pdf)"
)
@click.option("--basemap", default="reference", show_default=True, help=BASEMAP_HELP)
def encroachment(file: str, out: str, crs: str | None, id_column: str | None, zones: tuple[str, ...],
                 tolerance_m: float, min_area_m2: float, fail_on: tuple[str, ...],
                 green_heart_file: str | None, green_heart_crs: str | None, plan: str,
                 reference: str | None, map_path: str | None, basemap: str) -> int:  # fmt: skip
    from .encroachment import check_zone_names, encroaching
    from .encroachment import encroachment as compute
    from .greenheart import load_green_heart
    from .io import Outputs, read_vector
    from .report import write_encroachment, write_encroachment_map

    if map_path:
        from .maps import check_map_path

        check_map_path(map_path, basemap)
    with Outputs("encroachment", inputs=_inputs(file, green_heart_file, reference, basemap)) as tx:
        folder = tx.folder(out)  # refuses an --out holding an input, before any work
        map_target = tx.file(map_path) if map_path else None
        features = read_vector(file, crs=crs, to_wgs=False)
        gh = load_green_heart(green_heart_file, plan=plan, crs=green_heart_crs)
        available = sorted(set(gh["zone"]))
        gate = check_zone_names(list(fail_on), available, option="--fail-on") if fail_on else None
        if zones:
            check_zone_names(list(zones), available, option="--zones")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CztgeoWarning)
            result = compute(
                features, gh, id_column=id_column, zones=list(zones) or None,
                tolerance_m=tolerance_m, min_area_m2=min_area_m2, guard=not _declared_offset(crs),
                reference=read_vector(reference) if reference else None,
            )  # fmt: skip
        notes = [_one_line(w.message) for w in caught]
        for n in notes:
            click.echo(f"cztgeo encroachment: warning: {n}", err=True)
        write_encroachment(
            result, folder, green_heart=gh, features_checked=len(features), notes=notes,
            input_name=Path(file).name, fail_on=gate,
        )  # fmt: skip
        if map_target is not None:
            write_encroachment_map(result, map_target, green_heart=gh, basemap=basemap)
    approx = bool(gh["approximate"].any()) if "approximate" in gh else False
    bad = encroaching(result, gate, available=available)
    n_bad = bad.iloc[:, 0].nunique() if len(bad) else 0
    tail = " [APPROXIMATE green-heart sketch: not a legal check]" if approx else ""
    click.echo(
        f"{n_bad:,} of {len(features):,} features encroach on the green heart; "
        f"report in {Path(out) / 'report.md'}{tail}"
    )
    return EXIT_FOUND if n_bad else EXIT_OK


@cli.command("commute-circle", help="the three-city half-hour circle (the main job)")
@click.option("--out", required=True, help="output folder")
@click.option(
    "--network",
    help="road network: OSM file or .cztnet (default: fetched cache, else the coarse skeleton)",
)
@click.option(
    "--scenario", help="GeoJSON of planned links (mode, name, speed_kmh, action, headway_minutes)"
)
@click.option("--minutes", type=POSITIVE, default=30.0, show_default=True)
@click.option(
    "--headway-min",
    type=POSITIVE,
    help="rail headway for every line (default: the line file's sourced figures)",
)
@click.option("--rail-lines", help="line-definition JSON (default: embedded)")
@click.option("--gtfs", help="a GTFS feed (folder or .zip) instead of the line file")
@click.option(
    "--green-heart",
    "green_heart_file",
    help="official green-heart file (default: approximate sketch)",
)
@click.option("--plan", default="2024-2035", type=PLANS, help="plan version of the sketch")
@click.option(
    "--population",
    help="GeoTIFF raster, points/polygons with a 'population' column, or census-2020-county (embedded, COARSE)",
)
@click.option(
    "--walk-network", help="OSM file: rail access/egress walks on it (default: straight line x 1.3)"
)
@click.option("--basemap", default="reference", show_default=True, help=BASEMAP_HELP)
@click.option(
    "--offline", is_flag=True, help="the map makes no remote request (also the global --offline)"
)
@click.option("--period", default="offpeak", type=PERIODS, help="road speeds and headways")
@click.pass_context
def commute_circle(ctx: click.Context, out: str, network: str | None, scenario: str | None,
                   minutes: float, headway_min: float | None, rail_lines: str | None,
                   gtfs: str | None, green_heart_file: str | None, plan: str,
                   population: str | None, walk_network: str | None, basemap: str,
                   offline: bool, period: str) -> int:  # fmt: skip
    from . import maps
    from .circle import DEFAULT_BANDS
    from .circle import commute_circle as compute
    from .errors import InputError
    from .io import Outputs
    from .report import format_commute_circle, write_commute_circle

    settings = _settings(ctx)
    offline = offline or settings.offline  # the global flag is never overridden
    if rail_lines and gtfs:
        raise InputError("give --rail-lines or --gtfs, not both")
    maps.check_basemap(basemap, offline=offline)
    inputs = _inputs(network, scenario, rail_lines, gtfs, green_heart_file, population,
                     walk_network, basemap)  # fmt: skip
    with Outputs("commute-circle", inputs=inputs) as tx:
        folder = tx.folder(out)
        cc = compute(
            network, rail_lines or gtfs, minutes=minutes, period=period,
            green_heart=green_heart_file, plan=plan, population=population,
            walk_net=walk_network, headway_minutes=headway_min, scenario=scenario,
            validate=True, bands=DEFAULT_BANDS, settings=settings,
        )  # fmt: skip
        write_commute_circle(cc, folder, basemap=basemap, offline=offline)
    click.echo(format_commute_circle(cc, folder=out))
    return EXIT_OK


@cli.command(
    help="every published travel fact beside the model's figure for the same trip (exit 1 if one fails)"
)
@click.option("--network", help="road network: OSM file or .cztnet (default: as commute-circle)")
@click.option("--rail-lines", help="line-definition JSON (default: embedded)")
@click.option("--gtfs", help="a GTFS feed (folder or .zip) instead of the line file")
@click.option("--period", default="offpeak", type=PERIODS)
@click.option("-o", "--output", help="write the table as CSV")
@click.pass_context
def validate(ctx: click.Context, network: str | None, rail_lines: str | None, gtfs: str | None,
             period: str, output: str | None) -> int:  # fmt: skip
    from .io import Outputs, write_csv
    from .network import default_network
    from .rail import default_transit
    from .report import format_validation
    from .validate import validate as compute

    settings = _settings(ctx)
    with Outputs("validate", inputs=_inputs(network, rail_lines, gtfs)) as tx:
        target = tx.file(output) if output else None
        net, which = default_network(network, settings=settings, period=period)
        rail = default_transit(rail_lines or gtfs, settings=settings, period=period)
        table = compute(net, rail, period=period)
        if target is not None:
            write_csv(table, target)
    header = (
        f"road network: {net.source}{' (coarse skeleton)' if net.coarse else ''} [{which}]\n"
        f"transit: {rail.source if rail else '(none)'}; period: {period}\n\n"
    )
    click.echo(format_validation(table, header=header))
    return EXIT_FOUND if (table["status"] == "fail").any() else EXIT_OK


@cli.command("map", help="a map of cztgeo layers: HTML, PNG, SVG or PDF by suffix")
@click.option("--out", required=True, help=".html, .png, .svg or .pdf")
@click.option(
    "--layers",
    default="boundaries,green-heart,network",
    show_default=True,
    help="comma list: " + ", ".join(MAP_LAYERS),
)
@click.option("--network", help="road network file (default: the coarse skeleton)")
@click.option(
    "--isochrones", "isochrones_file", help="isochrone file written by 'cztgeo isochrones'"
)
@click.option(
    "--encroachment", "encroachment_file", help="overlaps file written by 'cztgeo encroachment'"
)
@click.option("--green-heart", "green_heart_file", help="official green-heart file")
@click.option("--basemap", default="reference", show_default=True, help=BASEMAP_HELP)
@click.option("--tianditu-token", help="Tianditu key for --basemap tianditu")
@click.option(
    "--offline",
    is_flag=True,
    help="self-contained: no remote request at all (also the global --offline)",
)
@click.option("--title", help="map title")
@click.option("--approval-number", help="审图号 printed on static maps")
@click.pass_context
def map_(ctx: click.Context, out: str, layers: str, network: str | None, isochrones_file: str | None,
         encroachment_file: str | None, green_heart_file: str | None, basemap: str,
         tianditu_token: str | None, offline: bool, title: str | None,
         approval_number: str | None) -> int:  # fmt: skip
    from . import maps
    from .io import Outputs

    settings = _settings(ctx)
    offline = offline or settings.offline
    maps.check_map_path(out, basemap, offline=offline, tianditu_token=tianditu_token)
    wanted = [x.strip() for x in layers.split(",") if x.strip()]
    inputs = _inputs(network, isochrones_file, encroachment_file, green_heart_file, basemap)
    with Outputs("map", inputs=inputs) as tx:
        target = tx.file(out)
        drawn = maps.named_layers(settings, wanted, network=network,
                                  isochrones_file=isochrones_file,
                                  encroachment_file=encroachment_file,
                                  green_heart_file=green_heart_file)  # fmt: skip
        maps.write_any_map(drawn, target, basemap=basemap, note="", title=title or "cztgeo map",
                           offline=offline, tianditu_token=tianditu_token,
                           approval_number=approval_number)  # fmt: skip
    click.echo(f"wrote {out} ({Path(out).stat().st_size / 1e6:.2f} MB, {len(drawn)} layers)")
    return EXIT_OK


@cli.command(
    help="from every cell of the metro area: minutes to each centre and opportunities within reach"
)
@click.option(
    "--out",
    required=True,
    help="output folder: cells/part-*.parquet (GeoParquet), one COG per measure, accessibility.json",
)
@click.option(
    "--network",
    help="road network: OSM file or .cztnet (default: fetched cache, else the coarse skeleton)",
)
@click.option(
    "--cell", "cell_m", type=POSITIVE, default=500.0, show_default=True, help="grid cell size (m)"
)
@click.option("--minutes", type=Minutes(), default="15,30,45", show_default=True, help="thresholds")
@click.option(
    "--opportunities",
    help="GeoTIFF, points/polygons with a 'population' column, or census-2020-county (embedded, COARSE)",
)
@click.option("--opportunities-column", default="population", show_default=True)
@click.option(
    "--modes", default="drive", show_default=True, help="comma list: drive, transit, taxi+transit"
)
@click.option(
    "--rail-lines",
    help="line-definition JSON or GTFS feed for the transit modes (default: embedded)",
)
@click.option("--scheduler", help="address of a Dask scheduler (tcp://HOST:PORT)")
@click.option(
    "--workers", type=click.IntRange(1, 512), help="a local Dask cluster of N worker processes"
)
@click.option("--chunk-size", type=click.IntRange(1, 10_000_000), default=2000, show_default=True)
@click.pass_context
def accessibility(ctx: click.Context, out: str, network: str | None, cell_m: float,
                  minutes: list[float], opportunities: str | None, opportunities_column: str,
                  modes: str, rail_lines: str | None, scheduler: str | None,
                  workers: int | None, chunk_size: int) -> int:  # fmt: skip
    from .accessibility import write_accessibility
    from .errors import InputError

    if scheduler and workers:
        raise InputError("give --scheduler or --workers, not both")
    run = write_accessibility(
        out, network, minutes=minutes, opportunities=opportunities,
        opportunities_column=opportunities_column,
        modes=[m.strip() for m in modes.split(",") if m.strip()], rail=rail_lines,
        cell_m=cell_m, client=scheduler, workers=workers, chunk_size=chunk_size,
        settings=_settings(ctx),
    )  # fmt: skip
    for n in run.notes:
        click.echo(f"note: {n}")
    reused = f", {len(run.reused)} reused from an interrupted run" if run.reused else ""
    click.echo(
        f"wrote {run.n_origins:,} origins in {run.n_chunks} chunks{reused} to {run.cells} and "
        f"{len(run.rasters)} rasters ({', '.join(sorted(run.rasters))}) in {run.folder}"
    )
    return EXIT_OK


@cli.command(help="a local web app: click for isochrone bands, and an openrouteservice-v2 API")
@click.option(
    "--network",
    help="OSM file (drive, walk and bike read from it) or a drive .cztnet (default: the embedded coarse skeleton)",
)
@click.option(
    "--walk-network",
    help="OSM file for foot-walking (default: from --network, else the skeleton at walking speed, APPROXIMATE)",
)
@click.option("--bike-network", help="OSM file for cycling-regular (default: as --walk-network)")
@click.option(
    "--rail-lines",
    help="line-definition JSON or GTFS feed for the transit profiles (default: embedded)",
)
@click.option("--no-rail", is_flag=True, help="no transit profiles")
@click.option(
    "--green-heart",
    "green_heart_file",
    help="official green-heart file (default: approximate sketch)",
)
@click.option(
    "--population",
    help="GeoTIFF, layer with a 'population' column, or census-2020-county (embedded, COARSE) (total_pop, panel)",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="address to bind; anything but loopback warns (no authentication)",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.pass_context
def serve(ctx: click.Context, network: str | None, walk_network: str | None,
          bike_network: str | None, rail_lines: str | None, no_rail: bool,
          green_heart_file: str | None, population: str | None, host: str, port: int) -> int:  # fmt: skip
    from .service import serve as run

    click.echo(f"cztgeo serve: loading networks, then http://{host}:{port}/ (Ctrl+C stops)")
    run(network=network, host=host, port=port, settings=_settings(ctx), walk_network=walk_network,
        bike_network=bike_network, rail=False if no_rail else (rail_lines or True),
        green_heart=green_heart_file, population=population)  # fmt: skip
    return EXIT_OK


@cli.group(help="download and prepare OSM data (needs the internet)")
def data() -> None:
    pass


@data.command(help="download the Hunan OSM extract, clip to the metro area, build caches")
@click.option("--url", help="extract URL (default: the Hunan extract of openstreetmap.fr)")
@click.option("--sha256", help="expected SHA-256 of the download")
@click.option("--no-md5", is_flag=True, help="do not look for URL.md5")
@click.option("--out", help="folder for the download and caches (default: the cache dir)")
@click.option("--modes", default="drive,walk,rail", show_default=True)
@click.option("--bbox", type=BBox(), help="clip to W,S,E,N instead of the metro area")
@click.option("-q", "--quiet", is_flag=True, help="no progress bar")
@click.option("--timeout-s", type=POSITIVE, help="network timeout (connect <= 10 s, read <= 60 s)")
@click.pass_context
def fetch(ctx: click.Context, url: str | None, sha256: str | None, no_md5: bool, out: str | None,
          modes: str, bbox: list[float] | None, quiet: bool, timeout_s: float | None) -> int:  # fmt: skip
    from .prepare import fetch_extract

    settings = _settings(ctx)
    if timeout_s:
        settings = settings.with_(timeout_s=timeout_s)
    folder = Path(out or settings.cache_dir)
    built = fetch_extract(
        url, folder, settings=settings, sha256=sha256, md5=not no_md5,
        modes=[m.strip() for m in modes.split(",") if m.strip()], bbox=bbox, progress=not quiet,
    )  # fmt: skip
    for mode, path in built.items():
        click.echo(f"{mode}: {path}")
    click.echo(f"use them with --network {folder}/czt_drive.cztnet (and the walk/rail files)")
    return EXIT_OK


# ---------------------------------------------------------------- entry point


def _print_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                   file: object = None, line: str | None = None) -> None:  # fmt: skip
    """A warning as one line on stderr, as it happens."""
    print(f"cztgeo: warning: {_one_line(message)}", file=sys.stderr)


def _where(argv: Sequence[str]) -> str:
    """``cztgeo <command>`` for messages: the first argument naming a command."""
    names = [a for a in argv if a in cli.commands]
    return f"cztgeo {names[0]}" if names else "cztgeo"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 clean, 1 found, 2 bad input, 3 bug)."""
    args = list(sys.argv[1:] if argv is None else argv)
    where = _where(args)
    verbose = "-v" in args or "--verbose" in args
    try:
        with warnings.catch_warnings():
            # cztgeo's warnings are shown to the user once each, whatever the caller's filter
            # (e.g. "error"): a warning must never end a command
            warnings.simplefilter("default", CztgeoWarning)
            warnings.showwarning = _print_warning
            code = cli.main(args=args, prog_name="cztgeo", standalone_mode=False)
    except click.UsageError as exc:
        ctx = exc.ctx
        place = ctx.command_path if ctx is not None else where
        print(f"{place}: error: {_one_line(exc.format_message())} (see --help)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except click.ClickException as exc:
        print(f"{where}: error: {_one_line(exc.format_message())}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except CztgeoError as exc:
        print(f"{where}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # unwritable output folder, disk full, ...
        what = _one_line(f"{exc.strerror or exc}: {exc.filename or ''}")
        print(f"{where}: error: {what}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (KeyboardInterrupt, click.Abort):
        print("cztgeo: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: must never read as "clean" (0) or "found" (1)
        if verbose:
            import traceback

            traceback.print_exc()
        print(
            f"{where}: internal error: {type(exc).__name__}: {_one_line(exc)} (a cztgeo bug: "
            "please report it; -v shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return code if code in (EXIT_OK, EXIT_FOUND) else EXIT_INTERNAL
