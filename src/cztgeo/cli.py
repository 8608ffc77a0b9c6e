"""The ``cztgeo`` command: a thin shell over the library.

Exit codes: 0 clean, 1 a check found something (encroachment), 2 bad input (one line on
stderr, nothing written), 3 internal error (a bug: never read as 0 or 1). Every command writes
its files through :class:`cztgeo.io.Outputs`: all of them, or none.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .errors import CztgeoError

__all__ = ["main"]

log = logging.getLogger("cztgeo")

EXIT_OK, EXIT_FOUND, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


def _one_line(text: object) -> str:
    """Messages are one line whatever the data in them holds (newlines in names, ...)."""
    return " ".join(str(text).split()) or "(no message)"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2 (subcommand parsers inherit it)."""

    def error(self, message: str) -> Any:  # argparse's NoReturn
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {_one_line(message)} (see --help)\n")


def _float_list(text: str) -> list[float]:
    try:
        vals = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, got {text!r}"
        ) from None
    if not all(math.isfinite(v) for v in vals):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
    return vals


def _minutes_list(text: str) -> list[float]:
    vals = _float_list(text)
    if not vals or any(v <= 0 for v in vals):
        raise argparse.ArgumentTypeError(
            f"minutes must be positive numbers like 15,30, got {text!r}"
        )
    return vals


def _number(minimum: float, strict: bool) -> Callable[[str], float]:
    rel = ">" if strict else ">="

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(v) or v < minimum or (strict and v == minimum):
            raise argparse.ArgumentTypeError(
                f"expected a finite number {rel} {minimum:g}, got {text!r}"
            )
        return v

    return parse


_positive = _number(0.0, strict=True)
_non_negative = _number(0.0, strict=False)


def _lonlat(text: str) -> tuple[float, float]:
    vals = _float_list(text)
    if len(vals) != 2:
        raise argparse.ArgumentTypeError(f"expected LON,LAT, got {text!r}")
    lon, lat = vals
    if abs(lat) > 90 and abs(lat) <= 180 and abs(lon) <= 90:
        raise argparse.ArgumentTypeError(
            f"{text!r} looks like LAT,LON (latitude {lat:g} is beyond ±90): give LON,LAT, "
            f"e.g. {lat:g},{lon:g}"
        )
    if abs(lon) > 180 or abs(lat) > 90:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not WGS84 LON,LAT (longitude ±180, latitude ±90)"
        )
    return lon, lat


def _bbox(text: str) -> list[float]:
    vals = _float_list(text)
    if len(vals) != 4:
        raise argparse.ArgumentTypeError(f"expected W,S,E,N, got {text!r}")
    w, s_, e, n = vals
    if not (-180 <= w < e <= 180 and -90 <= s_ < n <= 90):
        raise argparse.ArgumentTypeError(f"expected W,S,E,N in degrees with W<E and S<N: {text!r}")
    return vals


def _file_inputs(*paths: Any) -> list[str]:
    """The inputs a command reads (outputs may not overwrite them); basemap presets skipped."""
    return [str(p) for p in paths if p and str(p) not in ("none", "osm", "amap", "tianditu")]


def _settings(args: argparse.Namespace) -> Any:
    from .settings import Settings

    changes: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        changes["data_dir"] = Path(args.data_dir)
    if getattr(args, "cache_dir", None):
        changes["cache_dir"] = Path(args.cache_dir)
    if getattr(args, "offline", False):
        changes["offline"] = True
    return Settings().with_(**changes)


# ---------------------------------------------------------------- commands


def cmd_info(args: argparse.Namespace) -> int:
    from . import __version__
    from .settings import embedded_data_dir

    settings = _settings(args)
    emb = embedded_data_dir()
    embedded = _embedded_datasets(emb)
    info: dict[str, Any] = {
        "version": __version__,
        "data_dir": str(settings.data_dir) if settings.data_dir else None,
        "cache_dir": str(settings.cache_dir),
        "embedded_data_dir": str(emb),
        "embedded": embedded,
    }
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"cztgeo {info['version']}")
    print(f"data directory:  {info['data_dir'] or '(none: set CZTGEO_DATA_DIR)'}")
    print(f"cache directory: {info['cache_dir']}")
    print(f"embedded data:   {emb}")
    for name, meta in embedded.items():
        print(f"  {name}: {meta}")
    return EXIT_OK


def _embedded_datasets(folder: Path) -> dict[str, str]:
    from .boundaries import BOUNDARY_SOURCE
    from .greenheart import SKETCH_SOURCE

    known = {
        "czt_boundaries.geojson": BOUNDARY_SOURCE,
        "green_heart_sketch.geojson": SKETCH_SOURCE,
        "czt_road_skeleton.geojson": (
            "scgraph-data 2.0.0 world_highways, © OpenStreetMap contributors (ODbL): "
            "coarse major-road skeleton"
        ),
    }
    return {name: desc for name, desc in known.items() if (folder / name).exists()}


def cmd_boundaries(args: argparse.Namespace) -> int:
    from .boundaries import load_boundaries

    return _write_or_print(
        lambda: load_boundaries(args.level), args.output, f"{args.level} boundaries", "boundaries"
    )


def _write_or_print(
    load: Callable[[], Any], output: str | None, what: str, command: str, inputs: Any = ()
) -> int:
    """Write to ``output`` (format from the suffix, all or nothing), or print the table."""
    from .io import Outputs, check_output_suffix, write_vector

    if not output:
        print(load().drop(columns="geometry").to_string(index=False))
        return EXIT_OK
    check_output_suffix(output)
    with Outputs(command, inputs=inputs) as tx:
        target = tx.file(output)  # refuses an output that is also an input, before any work
        gdf = load()
        write_vector(gdf, target)
    print(f"wrote {len(gdf)} {what} to {output}")
    return EXIT_OK


def cmd_green_heart(args: argparse.Namespace) -> int:
    from .greenheart import load_green_heart

    return _write_or_print(
        lambda: load_green_heart(
            args.file, version=args.version, crs=args.crs, zone_column=args.zone_column
        ),
        args.output,
        "green-heart zones",
        "green-heart",
        inputs=_file_inputs(args.file),
    )


def _check_map_path(path: str, basemap: Any) -> None:
    """Refuse an unusable --map path or basemap before any work is done."""
    from . import maps
    from .errors import InputError

    maps.check_basemap(basemap)
    if not path.lower().endswith((".html", ".png", ".svg")):
        raise InputError(f"cannot tell the map format from {path!r}: use .html, .png or .svg")


def _write_map(layers: list[Any], path: str, *, basemap: Any, note: str, title: str) -> None:
    """An HTML map, or a static PNG/SVG, by the path's suffix."""
    from . import maps

    if path.lower().endswith(".html"):
        maps.save_map(maps.build_map(layers, basemap=basemap, note=note, title=title), path)
    else:
        maps.save_static(layers, path, title=title, note=note)


def _maps_write(layers: list[Any], path: Any, **kw: Any) -> None:
    _write_map(layers, str(path), **kw)


def _network(args: argparse.Namespace, mode: str) -> Any:
    from .network import load_network

    return load_network(args.network, mode=mode, settings=_settings(args))


def cmd_isochrones(args: argparse.Namespace) -> int:
    from . import maps
    from .io import Outputs, check_output_suffix, write_vector
    from .isochrones import isochrones

    check_output_suffix(args.output)
    if args.map:
        _check_map_path(args.map, args.basemap)
    with Outputs("isochrones", inputs=_file_inputs(args.network, args.basemap)) as tx:
        target = tx.file(args.output)
        map_target = tx.file(args.map) if args.map else None
        net = _network(args, args.mode)
        gdf = isochrones(
            net,
            args.origin,
            minutes=args.minutes,
            access_m=args.access_m,
            resolution_m=args.resolution_m,
            style=args.style,
            max_snap_m=args.max_snap_m,
            local_kmh=args.local_kmh,
        )
        write_vector(gdf, target)
        if map_target is not None:
            layers = [maps.network_layer(net), maps.isochrone_layer(gdf)]
            note = "road network: COARSE SKELETON (major roads only)" if net.coarse else ""
            _maps_write(layers, map_target, basemap=args.basemap, note=note, title="isochrones")
    coarse = "  [coarse skeleton: major roads only]" if net.coarse else ""
    areas = ", ".join(
        f"{m:g} min {a:,.1f} km²" for m, a in zip(gdf["minutes"], gdf["area_km2"], strict=True)
    )
    print(f"wrote {len(gdf)} isochrones to {args.output}: {areas}{coarse}")
    return EXIT_OK


def _default_network(args: argparse.Namespace) -> tuple[Any, str]:
    """--network if given, else a fetched full OSM cache, else the embedded coarse skeleton."""
    from .errors import DataSourceError
    from .network import load_network
    from .speeds import SpeedProfile

    settings = _settings(args)
    profile = SpeedProfile(period=getattr(args, "period", "offpeak"))
    if args.network:
        return load_network(
            args.network, mode="drive", settings=settings, profile=profile
        ), "--network"
    fetched = Path(settings.cache_dir) / "czt_drive.cztnet"
    if fetched.exists():
        try:
            return load_network(
                fetched, mode="drive", settings=settings, profile=profile
            ), f"fetched OSM cache {fetched}"
        except DataSourceError as exc:  # a bad cache must not break every later run
            print(
                f"cztgeo: warning: ignoring the fetched cache ({_one_line(exc)}); using the "
                "embedded skeleton; run 'cztgeo data fetch' again to rebuild it",
                file=sys.stderr,
            )
    return load_network(
        mode="drive", settings=settings, profile=profile
    ), "embedded coarse skeleton"


def _check_scenario(links: Any) -> None:
    """Refuse scenario links with unusable attributes (one line naming the row and column)."""
    from .errors import InputError

    problems = []
    if "mode" in links and not links["mode"].isin(["drive", "rail"]).all():
        bad = sorted({str(v) for v in links["mode"] if v not in ("drive", "rail")})[:3]
        problems.append(f"mode must be 'drive' or 'rail', found {bad}")
    for col, need in (("speed_kmh", "positive"), ("headway_minutes", "positive")):
        if col not in links:
            continue
        vals = links[col]
        num = vals.map(lambda v: _as_float(v))
        bad_rows = [
            i for i, (v, f) in enumerate(zip(vals, num, strict=True))
            if v is not None and not (isinstance(v, float) and math.isnan(v))
            and (f is None or not math.isfinite(f) or f <= 0)
        ]  # fmt: skip
        if bad_rows:
            problems.append(
                f"{col} must be a {need} number, found {vals.iloc[bad_rows[0]]!r} in row "
                f"{bad_rows[0]}"
            )
    if problems:
        raise InputError("scenario: " + "; ".join(problems))


def _as_float(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def cmd_commute_circle(args: argparse.Namespace) -> int:
    from .io import Outputs

    inputs = _file_inputs(
        args.network, args.scenario, args.rail_lines, args.gtfs, args.green_heart,
        args.population, args.walk_network, args.basemap,
    )  # fmt: skip
    with Outputs("commute-circle", inputs=inputs) as tx:
        return _commute_circle(args, tx.folder(args.out))


def _commute_circle(args: argparse.Namespace, out: Path) -> int:
    """The main job; ``out`` is the staging folder that becomes ``--out`` when all succeeded."""
    import json as _json
    import warnings

    from . import maps
    from .boundaries import load_boundaries
    from .circle import apply_scenario, commute_circle, compare
    from .errors import DataSourceError
    from .greenheart import load_green_heart
    from .io import atomic_path, read_vector, write_csv, write_vector
    from .rail import RailWarning, load_rail, read_gtfs

    maps.check_basemap(args.basemap, offline=args.offline)
    settings = _settings(args)
    net, which = _default_network(args)
    rail_notes: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RailWarning)
            rail = (
                read_gtfs(args.gtfs) if args.gtfs else load_rail(args.rail_lines, settings=settings)
            )
        rail_notes = [str(w.message) for w in caught]
    except DataSourceError as exc:
        if args.gtfs or args.rail_lines:
            raise
        rail = None
        rail_notes = [f"rail modes skipped: {exc}"]
    if rail is not None and args.headway_min is not None:
        rail = rail.with_headway(args.headway_min)
    gh = load_green_heart(args.green_heart, version=args.version)
    pop_path = args.population
    population = (
        pop_path if pop_path and pop_path.lower().endswith((".tif", ".tiff"))
        else read_vector(pop_path) if pop_path else None
    )  # fmt: skip
    from .network import load_network as _load

    walk_net = (
        _load(args.walk_network, mode="walk", settings=settings) if args.walk_network else None
    )
    scenario = read_vector(args.scenario) if args.scenario else None
    if scenario is not None:
        _check_scenario(scenario)
    kwargs: dict[str, Any] = {
        "minutes": args.minutes,
        "green_heart": gh,
        "population": population,
        "walk_net": walk_net,
        "modes": ("drive",) if rail is None else ("drive", "transit", "taxi+transit"),
        "period": args.period,
    }
    cc = commute_circle(net, rail, **kwargs)
    from .validate import validate

    checks = validate(net, rail, period=args.period) if rail is not None else None
    cc.notes = rail_notes + cc.notes
    after = None
    if scenario is not None:
        sc = apply_scenario(net, rail, scenario)
        after = commute_circle(sc.net, sc.rail, **kwargs)
    times = cc.times.copy()
    times.insert(0, "network", cc.network)
    write_csv(times, out / "centre_times.csv")
    write_csv(cc.journeys, out / "journeys.csv")
    if checks is not None:
        write_csv(checks, out / "validation.csv")
    write_vector(cc.reach, out / "reach.gpkg")
    write_vector(cc.overlap, out / "overlap.gpkg")
    summary: dict[str, Any] = {
        "network": cc.network,
        "network_choice": which,
        "coarse": cc.coarse,
        "minutes": cc.minutes,
        "green_heart_approximate": cc.approximate_green_heart,
        "rail": rail.source if rail is not None else None,
        "notes": cc.notes,
        "period": cc.period,
        "best_minutes": cc.matrix("best").round(1).to_dict(),
        "journeys": cc.journeys.round(2).to_dict(orient="records") if len(cc.journeys) else [],
        "validation": (
            {
                "counts": checks["status"].value_counts().to_dict(),
                "rows": checks.round(3).to_dict(orient="records"),
            }
            if checks is not None
            else None
        ),
        "reach": cc.reach.drop(columns="geometry").round(3).to_dict(orient="records"),
        "overlap": cc.overlap.drop(columns="geometry").round(3).to_dict(orient="records"),
    }
    if after is not None:
        table, diff = compare(cc, after)
        write_csv(table, out / "scenario_times.csv")
        write_vector(diff, out / "scenario_gained.gpkg")
        write_csv(sc.links, out / "scenario_links.csv")
        summary["scenario_links"] = sc.links.to_dict(orient="records")
    with atomic_path(out / "summary.json") as tmp:
        tmp.write_text(
            _json.dumps(summary, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
        )
    layers = [
        maps.boundaries_layer(load_boundaries("city")),
        maps.green_heart_layer(gh),
        maps.network_layer(net),
    ]
    if rail is not None:
        layers.append(maps.stations_layer(rail.stops_gdf()))
    palette = dict(
        zip(cc.reach["centre"].unique(), ["#e41a1c", "#377eb8", "#4daf4a", "#ff7f00"], strict=False)
    )
    for mode in dict.fromkeys(cc.reach["mode"]):
        r = cc.reach[cc.reach["mode"] == mode]
        layers.append(
            maps.Layer(r, f"{mode}: {cc.minutes:g}-min reach per centre", colour_by="centre", colours=palette,
                       tooltip=("centre", "mode", "area_km2", "green_heart_km2"), fill_opacity=0.15,
                       show=mode == "drive", legend=palette if mode == "drive" else None)
        )  # fmt: skip
    allr = cc.overlap[cc.overlap["kind"] == "all"]
    layers.append(maps.Layer(allr, "within reach of all three centres", colour="#984ea3",
                             tooltip=("mode", "area_km2", "green_heart_km2"), fill_opacity=0.5))  # fmt: skip
    note = " | ".join(n for n in (
        "road: COARSE SKELETON (major roads only)" if cc.coarse else "",
        "green heart: APPROXIMATE sketch" if cc.approximate_green_heart else "",
    ) if n)  # fmt: skip
    m = maps.build_map(
        layers, basemap=args.basemap, offline=args.offline, title="CZT half-hour circle", note=note
    )
    maps.save_map(m, out / "map.html", offline=args.offline)

    print(f"road network: {cc.network} [{which}]")
    print(f"rail: {rail.source if rail is not None else 'not available (see notes)'}")
    print(f"\ncentre-to-centre minutes (fastest mode; threshold {cc.minutes:g}):")
    print(cc.matrix("best").round(1).to_string())
    for mode in dict.fromkeys(cc.times["mode"]):
        if mode != "best":
            print(f"\n{mode}:")
            print(cc.matrix(mode).round(1).to_string())
    if len(cc.journeys):
        print("\nhow (fastest chain per pair; minutes):")
        fast = cc.journeys[cc.journeys["fastest"]] if "fastest" in cc.journeys else cc.journeys
        cols = ["from", "to", "chain", "access_min", "wait_min", "in_vehicle_min",
                "transfer_min", "egress_min", "total_min"]  # fmt: skip
        print(fast[cols].round(1).to_string(index=False))
        tr = cc.journeys[cc.journeys["chain"] == "transit"]
        if len(tr):
            print("\npublic transport alone (walk + metro + intercity + HSR):")
            print(tr[[*cols, "route"]].round(1).to_string(index=False))
    if checks is not None:
        counts = checks["status"].value_counts()
        print(
            "\nvalidation against published facts (validation.csv; `cztgeo validate` for the "
            "table): " + ", ".join(f"{n} {k}" for k, n in counts.items())
        )
    print("\nreach:")
    print(cc.reach.drop(columns="geometry").round(2).to_string(index=False))
    print("\noverlaps (any = from any centre, all = within reach of all three):")
    print(cc.overlap.drop(columns="geometry").round(2).to_string(index=False))
    if after is not None:
        print("\nscenario (before -> after):")
        print(table.round(1).to_string(index=False))
        print(sc.links.to_string(index=False))
    for n in cc.notes:
        print(f"note: {n}")
    print(
        f"\nwrote {args.out}/centre_times.csv, journeys.csv, validation.csv, reach.gpkg, "
        "overlap.gpkg, summary.json, map.html"
    )
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """Exit 0 when every comparable fact is within its tolerance, 1 when one is not."""
    from .io import Outputs, write_csv
    from .rail import load_rail, read_gtfs
    from .validate import validate

    with Outputs("validate", inputs=_file_inputs(args.network, args.rail_lines, args.gtfs)) as tx:
        target = tx.file(args.output) if args.output else None
        net, which = _default_network(args)
        rail = (
            read_gtfs(args.gtfs)
            if args.gtfs
            else load_rail(args.rail_lines, settings=_settings(args), period=args.period)
        )
        table = validate(net, rail, period=args.period)
        if target is not None:
            write_csv(table, target)
    print(f"road network: {net.source}{' (coarse skeleton)' if net.coarse else ''} [{which}]")
    print(f"transit: {rail.source}; period: {args.period}\n")
    view = table[["id", "what", "published", "unit", "model", "ratio", "status", "note"]]
    import pandas as pd

    with pd.option_context("display.max_colwidth", 70, "display.width", 250):
        print(view.round(2).to_string(index=False))
    counts = table["status"].value_counts()
    print("\n" + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return EXIT_FOUND if (table["status"] == "fail").any() else EXIT_OK


def _layers_from_files(args: argparse.Namespace) -> list[Any]:
    from . import maps
    from .boundaries import load_boundaries
    from .greenheart import load_green_heart
    from .io import read_vector

    wanted = [x.strip() for x in args.layers.split(",") if x.strip()]
    known = {
        "boundaries",
        "counties",
        "green-heart",
        "network",
        "isochrones",
        "stations",
        "encroachment",
    }
    unknown = set(wanted) - known
    if unknown:
        from .errors import InputError

        raise InputError(f"unknown layers {sorted(unknown)}: use {', '.join(sorted(known))}")
    layers = []
    for name in wanted:
        if name == "boundaries":
            layers.append(maps.boundaries_layer(load_boundaries("city")))
        elif name == "counties":
            layers.append(maps.boundaries_layer(load_boundaries("county"), "counties"))
        elif name == "green-heart":
            layers.append(maps.green_heart_layer(load_green_heart(args.green_heart)))
        elif name == "network":
            layers.append(maps.network_layer(_network(args, "drive")))
        elif name == "stations":
            import warnings

            from .rail import load_rail

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                layers.append(maps.stations_layer(load_rail(settings=_settings(args)).stops_gdf()))
        elif name == "isochrones" and args.isochrones:
            layers.append(maps.isochrone_layer(read_vector(args.isochrones)))
        elif name == "encroachment" and args.encroachment:
            layers.append(maps.encroachment_layer(read_vector(args.encroachment)))
    return layers


def cmd_map(args: argparse.Namespace) -> int:
    from . import maps
    from .io import Outputs

    maps.check_basemap(args.basemap, offline=args.offline, tianditu_token=args.tianditu_token)
    suffix = Path(args.out).suffix.lower()
    if suffix not in (".html", ".png", ".svg"):
        from .errors import InputError

        raise InputError(f"cannot tell the map format from {args.out!r}: use .html, .png or .svg")
    inputs = _file_inputs(
        args.network, args.isochrones, args.encroachment, args.green_heart, args.basemap
    )
    with Outputs("map", inputs=inputs) as tx:
        target = tx.file(args.out)
        layers = _layers_from_files(args)
        basemap = args.basemap
        if suffix == ".html":
            m = maps.build_map(layers, basemap=basemap, offline=args.offline, tianditu_token=args.tianditu_token,
                               title=args.title or "cztgeo map")  # fmt: skip
            maps.save_map(m, target, offline=args.offline)
        elif suffix in (".png", ".svg"):
            mb = basemap if basemap and str(basemap).lower().endswith(".mbtiles") else None
            maps.save_static(
                layers,
                target,
                title=args.title or "",
                basemap=mb,
                approval_number=args.approval_number,
            )
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 1e6:.2f} MB, {len(layers)} layers)")
    return EXIT_OK


def cmd_data_fetch(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .boundaries import load_boundaries
    from .network import prepare_networks
    from .sources import DEFAULT_EXTRACT_URL, download

    settings = _settings(args)
    if args.timeout_s:
        settings = settings.with_(timeout_s=args.timeout_s)
    out_dir = Path(args.out or settings.cache_dir)
    url = args.url or DEFAULT_EXTRACT_URL
    pbf = out_dir / Path(url.split("?")[0]).name
    if settings.offline:
        from .errors import OfflineError

        raise OfflineError("'data fetch' downloads OSM data but cztgeo is offline (--offline)")
    if not url.lower().startswith(("http://", "https://")):
        from .errors import InputError

        raise InputError(f"cannot download {url!r}: only http(s) URLs are supported")
    bar = tqdm(total=None, unit="B", unit_scale=True, desc="download", disable=args.quiet)

    def progress(done: int, total: int | None) -> None:
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    try:
        download(
            url,
            pbf,
            settings=settings,
            sha256=args.sha256,
            md5_url=None if args.no_md5 else url + ".md5",
            progress=progress,
        )
    finally:
        bar.close()
    if args.bbox:
        import shapely

        w, s_, e, n = args.bbox
        clip = shapely.box(w, s_, e, n)
    else:
        clip = load_boundaries("metro").geometry.iloc[0]
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    built = prepare_networks(pbf, out_dir, modes=modes, clip=clip)
    for mode, path in built.items():
        print(f"{mode}: {path}")
    print(f"use them with --network {out_dir}/czt_drive.cztnet (and the walk/rail files)")
    return EXIT_OK


def cmd_encroachment(args: argparse.Namespace) -> int:
    from .io import Outputs

    if args.map:
        _check_map_path(args.map, args.basemap)
    inputs = _file_inputs(args.file, args.green_heart, args.reference, args.basemap)
    with Outputs("encroachment", inputs=inputs) as tx:
        out = tx.folder(args.out)  # refuses an --out holding an input, before any work
        map_target = tx.file(args.map) if args.map else None
        return _encroachment(args, out, map_target)


def _encroachment(args: argparse.Namespace, out: Path, map_target: Path | None) -> int:
    import warnings

    from .encroachment import (
        EncroachmentWarning,
        check_zone_names,
        encroaching,
        encroachment,
        write_report,
    )
    from .greenheart import load_green_heart
    from .io import read_vector

    features = read_vector(args.file, crs=args.crs, to_wgs=False)
    gh = load_green_heart(args.green_heart, version=args.version, crs=args.green_heart_crs)
    available = sorted(set(gh["zone"]))
    if args.fail_on:
        check_zone_names(args.fail_on, available, option="--fail-on")
    if args.zones:
        check_zone_names(args.zones, available, option="--zones")
    reference = read_vector(args.reference) if args.reference else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EncroachmentWarning)
        result = encroachment(
            features,
            gh,
            id_column=args.id_column,
            zones=args.zones,
            tolerance_m=args.tolerance_m,
            min_area_m2=args.min_area_m2,
            reference=reference,
        )
    for w in caught:
        print(f"cztgeo encroachment: warning: {_one_line(w.message)}", file=sys.stderr)
    for n in result.attrs.get("unchecked", []):
        print(f"cztgeo encroachment: note: {_one_line(n)}", file=sys.stderr)
    write_report(result, out, input_name=Path(args.file).name, fail_on=args.fail_on)
    if map_target is not None:
        from . import maps

        layers = [maps.green_heart_layer(gh), maps.encroachment_layer(result)]
        note = "green heart: APPROXIMATE sketch" if result.attrs["approximate"] else ""
        _maps_write(
            layers, map_target, basemap=args.basemap, note=note, title="green-heart encroachment"
        )
    bad = encroaching(result, args.fail_on)
    idc = result.attrs["id_column"]
    n_bad = bad[idc].nunique() if len(bad) else 0
    approx = (
        " [APPROXIMATE green-heart sketch: not a legal check]"
        if result.attrs["approximate"]
        else ""
    )
    print(
        f"{n_bad:,} of {result.attrs['n_features']:,} features encroach on the green heart; "
        f"report in {Path(args.out) / 'report.md'}{approx}"
    )
    return EXIT_FOUND if n_bad else EXIT_OK


# ---------------------------------------------------------------- parser

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "info": cmd_info,
    "boundaries": cmd_boundaries,
    "green-heart": cmd_green_heart,
    "isochrones": cmd_isochrones,
    "data": cmd_data_fetch,
    "encroachment": cmd_encroachment,
    "commute-circle": cmd_commute_circle,
    "validate": cmd_validate,
    "map": cmd_map,
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cztgeo",
        description="Transport and greenbelt analysis for Changsha-Zhuzhou-Xiangtan (长株潭).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    parser.add_argument(
        "--data-dir", help="external data folder (default: $CZTGEO_DATA_DIR or ../shared/geodata)"
    )
    parser.add_argument("--cache-dir", help="network cache folder (default: ~/.cache/cztgeo)")
    parser.add_argument("--offline", action="store_true", help="never use the network")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("info", help="version, data directory and embedded datasets")
    p.add_argument("--json", action="store_true", help="print as JSON")

    p = sub.add_parser("boundaries", help="city, county or metro-area boundaries in WGS84")
    p.add_argument("--level", choices=["city", "county", "metro"], default="city")
    p.add_argument(
        "-o",
        "--output",
        help="output file; format from the suffix (.gpkg .geojson .shp .parquet .csv)",
    )

    p = sub.add_parser("green-heart", help="the green heart (sketch or an official file) in WGS84")
    p.add_argument(
        "file", nargs="?", help="official boundary file (default: the approximate sketch)"
    )
    p.add_argument("--version", default="2024-2035", choices=["2010-2030", "2024-2035"])
    p.add_argument("--crs", help="CRS of the file if missing or wrong: EPSG code, gcj02 or bd09")
    p.add_argument("--zone-column", help="column with zone names")
    p.add_argument("-o", "--output", help="output file; format from the suffix")

    p = sub.add_parser("isochrones", help="isochrone polygons from one or more origins")
    p.add_argument(
        "--network",
        help="OSM .osm/.osm.pbf, or a .cztnet cache (default: the embedded coarse skeleton)",
    )
    p.add_argument("--mode", default="drive", choices=["drive", "walk", "bike", "rail"])
    p.add_argument(
        "--origin",
        type=_lonlat,
        action="append",
        required=True,
        metavar="LON,LAT",
        help="WGS84; repeat for several origins",
    )
    p.add_argument(
        "--minutes", type=_minutes_list, default=[15.0, 30.0], help="thresholds, e.g. 15,30"
    )
    p.add_argument(
        "--access-m", type=_positive, help="distance from a reached road that still counts"
    )
    p.add_argument("--resolution-m", type=_positive, help="grid cell size")
    p.add_argument("--style", default="network", choices=["network", "exact", "convex", "concave"])
    p.add_argument("--max-snap-m", type=_positive, default=1000.0)
    p.add_argument(
        "--local-kmh",
        type=_non_negative,
        help="speed on unmapped local streets (default 20 on a coarse network, else off; 0 = off)",
    )
    p.add_argument("--map", help="also write a map (.html, .png or .svg)")
    p.add_argument(
        "--basemap", default="none", help="map basemap: none, osm, amap or an .mbtiles file"
    )
    p.add_argument(
        "-o", "--output", required=True, help="output file (.gpkg .geojson .parquet .shp .csv)"
    )

    p = sub.add_parser(
        "encroachment",
        help="which features intersect which green-heart zone (exit 1 if any encroaches)",
        description="Exit codes: 0 nothing encroaches (per --fail-on), 1 something does, "
        "2 bad input, 3 internal error.",
    )
    p.add_argument(
        "file", help="features: .gpkg .geojson .shp .parquet, or .csv with wkt or lon/lat"
    )
    p.add_argument(
        "--out",
        required=True,
        help="folder for overlaps.gpkg/.geojson, summary.csv, report.md/.html",
    )
    p.add_argument(
        "--crs", help="the features' real CRS if missing or wrong: EPSG code, gcj02, bd09"
    )
    p.add_argument("--id-column", help="column with unique feature ids")
    p.add_argument("--zones", nargs="+", help="check only these zones")
    p.add_argument(
        "--tolerance-m", type=_non_negative, default=200.0, help="near band outside the boundary"
    )
    p.add_argument(
        "--min-area-m2", type=_non_negative, default=1.0, help="smaller overlaps are slivers"
    )
    p.add_argument(
        "--fail-on", nargs="+", metavar="ZONE", help="zones whose overlap fails (default: all)"
    )
    p.add_argument("--green-heart", help="official boundary file (default: the approximate sketch)")
    p.add_argument("--green-heart-crs", help="CRS of the boundary file if missing or wrong")
    p.add_argument("--version", default="2024-2035", choices=["2010-2030", "2024-2035"])
    p.add_argument(
        "--reference", help="reference layer for the GCJ-02 guard (default: OSM road skeleton)"
    )
    p.add_argument("--map", help="also write a map of the findings (.html, .png or .svg)")
    p.add_argument(
        "--basemap", default="none", help="map basemap: none, osm, amap or an .mbtiles file"
    )

    p = sub.add_parser("commute-circle", help="the three-city half-hour circle (the main job)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--network",
        help="road network: OSM file or .cztnet (default: fetched cache, else the coarse skeleton)",
    )
    p.add_argument(
        "--scenario",
        help="GeoJSON of planned links (mode, name, speed_kmh, action, headway_minutes)",
    )
    p.add_argument("--minutes", type=_positive, default=30.0)
    p.add_argument(
        "--headway-min",
        type=_positive,
        help="rail headway for every line (default: the line file's sourced figures)",
    )
    p.add_argument("--rail-lines", help="line-definition JSON (default: embedded)")
    p.add_argument("--gtfs", help="a GTFS feed (folder or .zip) instead of the line file")
    p.add_argument("--green-heart", help="official green-heart file (default: approximate sketch)")
    p.add_argument("--version", default="2024-2035", choices=["2010-2030", "2024-2035"])
    p.add_argument(
        "--population", help="GeoTIFF raster, or points/polygons with a 'population' column"
    )
    p.add_argument(
        "--walk-network",
        help="OSM file: rail access/egress walks on it (default: straight line x 1.3)",
    )
    p.add_argument(
        "--basemap", default="none", help="none, osm, tianditu, amap or an .mbtiles file"
    )
    p.add_argument("--offline", action="store_true", help="map makes no remote request")
    p.add_argument(
        "--period", default="offpeak", choices=["offpeak", "peak"],
        help="road speeds and headways (default: offpeak)",
    )  # fmt: skip

    p = sub.add_parser(
        "validate", help="every published travel fact beside the model's figure for the same trip"
    )
    p.add_argument(
        "--network", help="road network: OSM file or .cztnet (default: as commute-circle)"
    )
    p.add_argument("--rail-lines", help="line-definition JSON (default: embedded)")
    p.add_argument("--gtfs", help="a GTFS feed (folder or .zip) instead of the line file")
    p.add_argument("--period", default="offpeak", choices=["offpeak", "peak"])
    p.add_argument("-o", "--output", help="write the table as CSV")

    p = sub.add_parser("map", help="a map of cztgeo layers: HTML, PNG or SVG by suffix")
    p.add_argument("--out", required=True, help=".html, .png or .svg")
    p.add_argument(
        "--layers",
        default="boundaries,green-heart,network",
        help="comma list: boundaries, counties, green-heart, network, stations, isochrones, encroachment",
    )
    p.add_argument("--network", help="road network file (default: the coarse skeleton)")
    p.add_argument("--isochrones", help="isochrone file written by 'cztgeo isochrones'")
    p.add_argument("--encroachment", help="overlaps file written by 'cztgeo encroachment'")
    p.add_argument("--green-heart", help="official green-heart file")
    p.add_argument(
        "--basemap", default="none", help="none, osm, tianditu, amap or an .mbtiles file"
    )
    p.add_argument("--tianditu-token")
    p.add_argument(
        "--offline", action="store_true", help="self-contained: no remote request at all"
    )
    p.add_argument("--title")
    p.add_argument("--approval-number", help="审图号 printed on static maps")

    p = sub.add_parser("data", help="download and prepare OSM data (needs the internet)")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    f = dsub.add_parser(
        "fetch", help="download the Hunan OSM extract, clip to the metro area, build caches"
    )
    f.add_argument("--url", help="extract URL (default: the Hunan extract of openstreetmap.fr)")
    f.add_argument("--sha256", help="expected SHA-256 of the download")
    f.add_argument("--no-md5", action="store_true", help="do not look for URL.md5")
    f.add_argument("--out", help="folder for the download and caches (default: the cache dir)")
    f.add_argument("--modes", default="drive,walk,rail")
    f.add_argument("--bbox", type=_bbox, help="clip to W,S,E,N instead of the metro area")
    f.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    f.add_argument(
        "--timeout-s", type=_positive, help="network timeout (connect <= 10 s, read <= 60 s)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 clean, 1 found, 2 bad input, 3 bug)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, one line already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    func = COMMANDS[args.command]
    where = f"cztgeo {args.command}"
    try:
        code = func(args)
    except CztgeoError as exc:
        print(f"{where}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # unwritable output folder, disk full, ...
        what = _one_line(f"{exc.strerror or exc}: {exc.filename or ''}")
        print(f"{where}: error: {what}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("cztgeo: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: must never read as "clean" (0) or "found" (1)
        if args.verbose:
            import traceback

            traceback.print_exc()
        print(
            f"{where}: internal error: {type(exc).__name__}: {_one_line(exc)} (a cztgeo bug: "
            "please report it; -v shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return code if code in (EXIT_OK, EXIT_FOUND) else EXIT_INTERNAL
