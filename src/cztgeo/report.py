"""Every file the commands write, and the text they print.

Each ``write_*`` takes a result of the library and a target folder or file and writes each
file atomically (``cztgeo.io.atomic_path``); the commands run them inside
:class:`cztgeo.io.Outputs`, so a failed run leaves earlier outputs as they were. Each
``format_*`` returns the text a command prints.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from .crs import WGS84
from .io import atomic_path, write_csv, write_vector

if TYPE_CHECKING:
    from .circle import CommuteCircle
    from .settings import Settings

__all__ = [
    "format_commute_circle",
    "format_validation",
    "installation",
    "write_circle_static",
    "write_commute_circle",
    "write_encroachment",
    "write_encroachment_map",
    "write_json",
]

PathLike = str | os.PathLike[str]
#: A basemap: a preset name (``none``, ``osm``, ``tianditu``, ``amap``) or an .mbtiles file.
Basemap = str | os.PathLike[str] | None

#: Columns of the fastest-chain table printed by ``commute-circle``.
CHAIN_COLUMNS = [
    "from", "to", "chain", "access_min", "wait_min", "in_vehicle_min", "transfer_min",
    "egress_min", "total_min",
]  # fmt: skip


def write_json(data: object, path: PathLike) -> Path:
    """Write ``data`` as UTF-8 JSON (indented; non-JSON values as text), atomically."""
    out = Path(path)
    with atomic_path(out) as tmp:
        tmp.write_text(
            json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
        )
    return out


# ------------------------------------------------------------------ info


def installation(settings: Settings) -> dict[str, object]:
    """What ``cztgeo info`` prints: version, folders and the embedded datasets' provenance."""
    from . import __version__
    from .boundaries import BOUNDARY_SOURCE
    from .greenheart import SKETCH_SOURCE
    from .settings import embedded_data_dir

    folder = embedded_data_dir()
    known = {
        "czt_boundaries.geojson": BOUNDARY_SOURCE,
        "green_heart_sketch.geojson": SKETCH_SOURCE,
        "czt_road_skeleton.geojson": (
            "scgraph-data 2.0.0 world_highways, © OpenStreetMap contributors (ODbL): "
            "coarse major-road skeleton"
        ),
    }
    return {
        "version": __version__,
        "data_dir": str(settings.data_dir) if settings.data_dir else None,
        "cache_dir": str(settings.cache_dir),
        "embedded_data_dir": str(folder),
        "embedded": {n: d for n, d in known.items() if (folder / n).exists()},
    }


# ------------------------------------------------------------------ commute circle


def _records(df: pd.DataFrame, decimals: int) -> list[dict[str, object]]:
    if not len(df):
        return []
    table = pd.DataFrame(df.drop(columns="geometry")) if "geometry" in df else df
    return list(table.round(decimals).to_dict(orient="records"))


def circle_summary(cc: CommuteCircle) -> dict[str, object]:
    """The content of ``summary.json``: inputs, assumptions and every table but geometries."""
    checks = cc.validation
    summary: dict[str, object] = {
        "network": cc.network,
        "network_choice": cc.network_choice,
        "coarse": cc.coarse,
        "minutes": cc.minutes,
        "green_heart_approximate": cc.approximate_green_heart,
        "rail": cc.rail_source,
        "notes": cc.notes,
        "period": cc.period,
        "best_minutes": cc.matrix("best").round(1).to_dict(),
        "journeys": _records(cc.journeys, 2),
        "validation": (
            {
                "counts": checks["status"].value_counts().to_dict(),
                "rows": checks.round(3).to_dict(orient="records"),
            }
            if checks is not None
            else None
        ),
        "reach": _records(cc.reach, 3),
        "overlap": _records(cc.overlap, 3),
    }
    if cc.scenario is not None:
        summary["scenario_links"] = cc.scenario.links.to_dict(orient="records")
    return summary


def write_commute_circle(
    cc: CommuteCircle,
    out: PathLike,
    *,
    basemap: Basemap = "reference",
    offline: bool = True,
    title: str = "CZT half-hour circle",
    static: str | None = "png",
    approval_number: str | None = None,
) -> list[Path]:
    """Write the circle's files into the folder ``out``.

    ``centre_times.csv`` (every mode and the fastest, with the network label),
    ``journeys.csv`` (the breakdown of each chain), ``validation.csv`` (when validated),
    ``reach.gpkg``, ``overlap.gpkg``, the scenario's ``scenario_times.csv``,
    ``scenario_gained.gpkg`` and ``scenario_links.csv`` (with a scenario), ``summary.json``
    ``map.html`` and, unless ``static`` is None, ``map.png`` (or ``.svg`` / ``.pdf``) for
    reports. Returns the paths written.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    times = cc.times.copy()
    times.insert(0, "network", cc.network)
    paths = [
        write_csv(times, folder / "centre_times.csv"),
        write_csv(cc.journeys, folder / "journeys.csv"),
    ]
    if cc.validation is not None:
        paths.append(write_csv(cc.validation, folder / "validation.csv"))
    paths += [
        write_vector(cc.reach, folder / "reach.gpkg"),
        write_vector(cc.overlap, folder / "overlap.gpkg"),
    ]
    if cc.scenario is not None:
        paths += [
            write_csv(cc.scenario.times, folder / "scenario_times.csv"),
            write_vector(cc.scenario.gained, folder / "scenario_gained.gpkg"),
            write_csv(cc.scenario.links, folder / "scenario_links.csv"),
        ]
    paths.append(write_json(circle_summary(cc), folder / "summary.json"))
    paths.append(
        _circle_map(cc, folder / "map.html", basemap=basemap, offline=offline, title=title)
    )
    if static:
        target = folder / f"map.{static}"
        paths.append(write_circle_static(cc, target, approval_number=approval_number))
    return paths


def _circle_map(
    cc: CommuteCircle, path: Path, *, basemap: Basemap, offline: bool, title: str
) -> Path:
    from . import maps

    m = maps.commute_circle_map(
        cc, bands=cc.bands, net=cc.net, rail=cc.rail, green_heart=cc.green_heart,
        basemap=basemap, offline=offline, title=title,
    )  # fmt: skip
    return maps.write_map(m, path, offline=offline)


def write_circle_static(
    cc: CommuteCircle, path: PathLike, *, approval_number: str | None = None
) -> Path:
    """The circle's map as a PNG, SVG or PDF for a report (the offline reference basemap)."""
    from . import maps

    return maps.commute_circle_static(
        cc, path, bands=cc.bands, net=cc.net, rail=cc.rail, green_heart=cc.green_heart,
        approval_number=approval_number,
    )  # fmt: skip


def write_encroachment_map(
    result: gpd.GeoDataFrame,
    path: PathLike,
    *,
    green_heart: gpd.GeoDataFrame,
    basemap: Basemap = "reference",
    approval_number: str | None = None,
) -> Path:
    """The findings over the green heart: HTML by a ``.html`` suffix, else PNG/SVG/PDF."""
    from . import maps

    idc = str(result.columns[0])
    approx = bool(green_heart["approximate"].any()) if "approximate" in green_heart else False
    if Path(path).suffix.lower() == ".html":
        m = maps.encroachment_map(
            result, green_heart, id_column=idc, approximate=approx, basemap=basemap
        )
        return maps.write_map(m, path, offline=True)
    static = (
        basemap if basemap is None or str(basemap).lower().endswith(".mbtiles") else "reference"
    )
    return maps.encroachment_static(result, green_heart, path, id_column=idc, approximate=approx,
                                    basemap=static, approval_number=approval_number)  # fmt: skip


def _table(df: pd.DataFrame, decimals: int = 1, **kw: object) -> str:
    return str(df.round(decimals).to_string(**kw))  # type: ignore[call-overload]


def format_commute_circle(cc: CommuteCircle, *, folder: PathLike | None = None) -> str:
    """The text ``cztgeo commute-circle`` prints: times by mode, how, reach and overlaps."""
    out = [
        f"road network: {cc.network} [{cc.network_choice}]",
        f"rail: {cc.rail_source or 'not available (see notes)'}",
        f"\ncentre-to-centre minutes (fastest mode; threshold {cc.minutes:g}):",
        _table(cc.matrix("best")),
    ]
    for mode in dict.fromkeys(cc.times["mode"]):
        if mode != "best":
            out += [f"\n{mode}:", _table(cc.matrix(mode))]
    if len(cc.journeys):
        fast = cc.journeys[cc.journeys["fastest"]]
        out += [
            "\nhow (fastest chain per pair; minutes):",
            _table(fast[CHAIN_COLUMNS], index=False),
        ]
        tr = cc.journeys[cc.journeys["chain"] == "transit"]
        if len(tr):
            out += [
                "\npublic transport alone (walk + metro + intercity + HSR):",
                _table(tr[[*CHAIN_COLUMNS, "route"]], index=False),
            ]
    if cc.validation is not None:
        counts = cc.validation["status"].value_counts()
        out.append(
            "\nvalidation against published facts (validation.csv; `cztgeo validate` for the "
            "table): " + ", ".join(f"{n} {k}" for k, n in counts.items())
        )
    out += ["\nreach:", _table(cc.reach.drop(columns="geometry"), 2, index=False)]
    out += [
        "\noverlaps (any = from any centre, all = within reach of all three):",
        _table(cc.overlap.drop(columns="geometry"), 2, index=False),
    ]
    if cc.scenario is not None:
        out += [
            "\nscenario (before -> after):",
            _table(cc.scenario.times, index=False),
            str(cc.scenario.links.to_string(index=False)),
        ]
    out += [f"note: {n}" for n in cc.notes]
    if folder is not None:
        out.append(
            f"\nwrote {folder}/centre_times.csv, journeys.csv, "
            + ("validation.csv, " if cc.validation is not None else "")
            + "reach.gpkg, overlap.gpkg, summary.json, map.html, map.png"
        )
    return "\n".join(out)


def format_validation(table: pd.DataFrame, *, header: str = "") -> str:
    """The text ``cztgeo validate`` prints: every fact beside the model, then the counts."""
    view = table[["id", "what", "published", "unit", "model", "ratio", "status", "note"]]
    with pd.option_context("display.max_colwidth", 70, "display.width", 250):
        body = view.round(2).to_string(index=False)
    counts = table["status"].value_counts()
    tail = ", ".join(f"{n} {k}" for k, n in counts.items())
    return f"{header}{body}\n\n{tail}"


# ------------------------------------------------------------------ encroachment


def _md(value: object) -> str:
    """Text from data, safe in a Markdown table cell: HTML escaped, no newline, no pipe."""
    text = html.escape(" ".join(str(value).split()), quote=False)
    for ch in ("\\", "|", "`", "*", "_", "[", "]", "#"):
        text = text.replace(ch, "\\" + ch)
    return text


def _source(green_heart: gpd.GeoDataFrame) -> str:
    if "source" not in green_heart:
        return "(not stated)"
    return "; ".join(sorted(set(green_heart["source"].astype(str))))


def write_encroachment(
    result: gpd.GeoDataFrame,
    out: PathLike,
    *,
    green_heart: gpd.GeoDataFrame,
    features_checked: int,
    notes: Sequence[str] = (),
    input_name: str = "input",
    fail_on: Sequence[str] | None = None,
    worst: int = 20,
) -> list[Path]:
    """Write ``overlaps.gpkg``, ``overlaps.geojson``, ``summary.csv``, ``report.md`` and
    ``report.html`` for an :func:`~cztgeo.encroachment.encroachment` result into ``out``.

    ``green_heart`` is the layer checked (its ``approximate`` and ``source`` columns head the
    report); ``features_checked`` the number of input features; ``notes`` the warnings to
    list (repairs, the GCJ-02 guard). Returns the paths written.
    """
    from .encroachment import encroaching, summarize

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    summary = summarize(result)
    zones = sorted(set(green_heart["zone"].astype(str)))
    bad = encroaching(result, fail_on, available=zones)
    approx = bool(green_heart["approximate"].any()) if "approximate" in green_heart else False
    idc = str(result.columns[0])
    layer = result.copy()
    layer["geometry"] = layer.geometry.values
    paths = [
        write_vector(layer, folder / "overlaps.gpkg"),
        write_vector(layer.to_crs(WGS84), folder / "overlaps.geojson"),
        write_csv(summary, folder / "summary.csv"),
    ]
    top = result[result["status"].isin(["inside", "partly"])].head(worst)
    warn = (
        "**The green-heart boundary used is an APPROXIMATE SKETCH, not the legal boundary.** "
        "Results are indicative only; legal checks need the official file "
        "(`--green-heart FILE`)."
        if approx
        else "Boundary: official file as supplied."
    )
    n_bad = bad[idc].nunique() if len(bad) else 0
    facts = {
        "boundary": _source(green_heart),
        "features checked": f"{features_checked:,}",
        "encroaching features": f"{n_bad:,}",
    }
    gate = ", zones " + ", ".join(fail_on) if fail_on else ""
    md_facts = [
        f"- boundary: {_md(facts['boundary'])}",
        f"- features checked: {facts['features checked']}",
        f"- encroaching (inside/partly{_md(gate)}): {n_bad:,} features",
    ]
    md = _report_md(input_name, warn, md_facts, summary, top, idc, list(notes), worst)
    with atomic_path(folder / "report.md") as tmp:
        tmp.write_text(md, encoding="utf-8")
    paths.append(folder / "report.md")
    page = _report_html(input_name, warn, approx, facts, summary, top, idc, list(notes), worst)
    with atomic_path(folder / "report.html") as tmp:
        tmp.write_text(page, encoding="utf-8")
    paths.append(folder / "report.html")
    return paths


def _report_md(
    input_name: str, warn: str, facts: list[str], summary: pd.DataFrame,
    top: pd.DataFrame, idc: str, notes: list[str], worst: int,
) -> str:  # fmt: skip
    lines = [f"# Green-heart encroachment check: {_md(input_name)}", "", warn, ""]
    lines += facts
    lines += [
        "",
        "## Totals per zone",
        "",
        "| zone | status | features | overlap m² | overlap m |",
        "|---|---|---:|---:|---:|",
    ]
    for _, r in summary.iterrows():
        lines.append(
            f"| {_md(r['zone'])} | {r['status']} | {r['features']:,} | {r['overlap_area_m2']:,.1f} "
            f"| {r['overlap_length_m']:,.1f} |"
        )
    lines += [
        "",
        f"## Worst cases (up to {worst})",
        "",
        f"| {_md(idc)} | zone | status | overlap m² | overlap m | share of feature |",
        "|---|---|---|---:|---:|---:|",
    ]
    for _, r in top.iterrows():
        lines.append(
            f"| {_md(r[idc])} | {_md(r['zone'])} | {r['status']} | {r['overlap_area_m2']:,.1f} | "
            f"{r['overlap_length_m']:,.1f} | {r['share_of_feature']:.1%} |"
        )
    if notes:
        lines += ["", "## Notes", ""] + [f"- {_md(n)}" for n in notes]
    return "\n".join(lines) + "\n"


def _report_html(
    input_name: str, warn: str, approx: bool, facts: dict[str, str], summary: pd.DataFrame,
    top: pd.DataFrame, idc: str, notes: list[str], worst: int,
) -> str:  # fmt: skip
    cols = [idc, "zone", "status", "overlap_area_m2", "overlap_length_m", "share_of_feature"]
    items = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in facts.items())
    note_items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return str(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape('Encroachment: ' + input_name)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}"
        ".warn{background:#fee;border:2px solid #c00;padding:.5em}</style></head><body>"
        f"<h1>Green-heart encroachment check: {html.escape(input_name)}</h1>"
        f"<p class='{'warn' if approx else 'ok'}'>{html.escape(warn.replace('**', ''))}</p>"
        f"<ul>{items}</ul>"
        "<h2>Totals per zone</h2>"
        + summary.to_html(index=False, escape=True, float_format=lambda v: f"{v:,.1f}")
        + f"<h2>Worst cases (up to {worst})</h2>"
        + pd.DataFrame(top[cols]).to_html(
            index=False, escape=True, float_format=lambda v: f"{v:,.2f}"
        )
        + (f"<h2>Notes</h2><ul>{note_items}</ul>" if notes else "")
        + "</body></html>\n"
    )
