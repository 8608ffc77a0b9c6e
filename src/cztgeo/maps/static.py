"""Static maps for reports: PNG, SVG or PDF at print size, with the HTML map's styling.

The map fills the whole page (no empty margin): title, legend, scale bar, north arrow,
basemap name, attribution and the map approval number (审图号) slot sit inside its frame.
Chinese text is set in Noto Sans CJK SC from the ``noto-cjk-sans-otc`` package (SIL Open Font
License 1.1), so labels render the same on every machine, with or without system fonts.

No pyplot: a :class:`matplotlib.figure.Figure` is drawn on its own canvas, so the caller's
matplotlib backend and state are left alone.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

from ..crs import to_wgs84
from ..errors import InputError
from ..io import atomic_path
from ._fonts import FAMILY, font_file
from .basemaps import Basemap, BasemapLike, resolve_basemap
from .layers import PANES, Layer, LegendItem, as_layer

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["cjk_font", "save_static", "scale_bar", "write_static"]

Bounds = tuple[float, float, float, float]
FORMATS = ("png", "svg", "pdf")
_R = 6378137.0


@lru_cache(maxsize=1)
def cjk_font() -> tuple[str, Path]:
    """The family name and file of the CJK font static maps use: Noto Sans CJK SC from the
    ``noto-cjk-sans-otc`` package (registered with matplotlib's font manager on first use)."""
    from matplotlib import font_manager

    path, _ = font_file()
    if not any(f.fname == str(path) for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(str(path))
    return FAMILY, path


def _merc(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return to_wgs84(gdf).to_crs(3857)


def _polygon_path(geom: shapely.Geometry) -> object:
    from matplotlib.path import Path as MPath

    polys = getattr(geom, "geoms", [geom])
    parts = []
    for p in polys:
        if p.geom_type != "Polygon" or p.is_empty:
            continue
        p = shapely.geometry.polygon.orient(p)
        parts.append(MPath(np.asarray(p.exterior.coords)[:, :2]))
        parts += [MPath(np.asarray(r.coords)[:, :2]) for r in p.interiors]
    return MPath.make_compound_path(*parts) if parts else None


def _dashes(dash: str | None, width: float) -> tuple[float, tuple[float, ...]] | str:
    if not dash:
        return "solid"
    nums = [float(v) for v in dash.replace(",", " ").split()]
    return (0.0, tuple(v / max(width, 0.5) for v in nums))


def _values(g: gpd.GeoDataFrame, layer: Layer) -> list[object]:
    return list(g[layer.colour_by]) if layer.colour_by and layer.colour_by in g else [None] * len(g)


def _draw_polygons(ax: Axes, g: gpd.GeoDataFrame, layer: Layer, z: float, lw: float) -> None:
    from matplotlib.collections import PathCollection

    paths, fills, edges, widths = [], [], [], []
    for geom, v in zip(g.geometry.values, _values(g, layer), strict=True):
        path = _polygon_path(geom) if geom is not None else None
        if path is not None:
            paths.append(path)
            fills.append(layer.colour_of(v))
            edges.append(layer.line_colour or layer.colour_of(v))
            widths.append(lw * layer.weight_of(v))
    if not paths:
        return
    if layer.fill_opacity > 0:
        ax.add_collection(PathCollection(paths, facecolors=fills, edgecolors="none",  # type: ignore[arg-type]
                                         alpha=layer.fill_opacity, zorder=z), autolim=False)  # fmt: skip
    ax.add_collection(PathCollection(paths, facecolors="none", edgecolors=edges, linewidths=widths,  # type: ignore[arg-type]
                                     linestyles=_dashes(layer.dash, layer.weight), zorder=z + 0.01),
                      autolim=False)  # fmt: skip


def _draw_lines(ax: Axes, g: gpd.GeoDataFrame, layer: Layer, z: float, lw: float) -> None:
    from matplotlib.collections import LineCollection

    parts, cols, widths = [], [], []
    for geom, v in zip(g.geometry.values, _values(g, layer), strict=True):
        if geom is None or geom.is_empty:
            continue
        for p in getattr(geom, "geoms", [geom]):
            parts.append(shapely.get_coordinates(p))
            cols.append(layer.colour_of(v))
            widths.append(lw * layer.weight_of(v))
    ax.add_collection(LineCollection(parts, colors=cols, zorder=z, linewidths=widths,  # type: ignore[arg-type]
                                     capstyle="round", joinstyle="round",
                                     linestyles=_dashes(layer.dash, layer.weight)), autolim=False)  # fmt: skip


def _halo() -> list[object]:
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=2.2, foreground="white")]


def _draw_points(ax: Axes, g: gpd.GeoDataFrame, layer: Layer, z: float, lw: float) -> None:
    pts = g.geometry.values
    xs, ys = shapely.get_x(pts), shapely.get_y(pts)
    cols = [layer.colour_of(v) for v in _values(g, layer)]
    labels = g[layer.label] if layer.label and layer.label in g else [""] * len(g)
    if layer.marker == "text":
        for x, y, t in zip(xs, ys, labels, strict=True):
            ax.text(x, y, str(t), ha="center", va="center", fontsize=11, fontweight="bold",
                    color=layer.colour or "#999", alpha=0.8, zorder=z, path_effects=_halo())  # type: ignore[arg-type]  # fmt: skip
        return
    big = layer.marker == "centre"
    markers = ax.scatter(xs, ys, s=(60 if big else (layer.radius * 1.6) ** 2 * lw), c=cols,
                         zorder=z, edgecolors="#222" if big else (layer.line_colour or "white"),
                         linewidths=1.2 if big else 0.4)  # fmt: skip
    markers.set_gid(f"czt-points-{id(layer)}")  # names the markers' group in SVG output
    if big:
        for x, y, t in zip(xs, ys, labels, strict=True):
            ax.annotate(str(t), (x, y), xytext=(6, 4), textcoords="offset points", fontsize=9,
                        fontweight="bold", zorder=z + 0.1, path_effects=_halo())  # type: ignore[arg-type]  # fmt: skip


def _draw_layer(ax: Axes, layer: Layer, lw: float, tol_m: float) -> None:
    """Draw a layer; points among its features are drawn as markers whatever its kind."""
    if len(layer.gdf) == 0:
        return
    g = _merc(layer.gdf)
    if tol_m > 0:  # nothing finer than the printer's dots
        keep = layer.kind == "polygon"  # lines need no topology (and that is much faster)
        g = g.set_geometry(shapely.simplify(g.geometry.values, tol_m, preserve_topology=keep))
    z = PANES.get(layer.z_pane, 400) / 100.0
    types = shapely.get_type_id(g.geometry.values)
    points = g[np.isin(types, (0, 4))].explode(index_parts=False)
    lines, polygons = g[np.isin(types, (1, 2, 5))], g[np.isin(types, (3, 6))]
    if len(points):
        _draw_points(ax, points, layer, z + 0.02, lw)
    if len(lines):
        _draw_lines(ax, lines, layer, z, lw)
    if len(polygons):
        _draw_polygons(ax, polygons, layer, z, lw)
    if layer.label and layer.kind != "point" and layer.label in g:
        for p, t in zip(g.geometry.representative_point().values, g[layer.label], strict=True):
            ax.text(p.x, p.y, str(t), ha="center", va="center", fontsize=6.5, color="#222",
                    zorder=6.3, path_effects=_halo())  # type: ignore[arg-type]  # fmt: skip


# ---------------------------------------------------------------------- page furniture


def _extent(layers: Sequence[Layer], bounds: Bounds | None) -> tuple[float, float, float, float]:
    if bounds is not None:
        w, s, e, n = bounds
        box = gpd.GeoSeries([shapely.box(w, s, e, n)], crs=4326).to_crs(3857).total_bounds
    else:
        boxes = [_merc(ly.gdf).total_bounds for ly in layers if len(ly.gdf)]
        boxes = [b for b in boxes if np.isfinite(b).all()]
        if not boxes:
            raise InputError("nothing to draw: all layers are empty")
        a = np.array(boxes)
        box = np.array([a[:, 0].min(), a[:, 1].min(), a[:, 2].max(), a[:, 3].max()])
    pad = 0.04 * max(box[2] - box[0], box[3] - box[1], 1000.0)
    return box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad


def _fit_aspect(box: tuple[float, float, float, float], lo: float, hi: float) -> tuple[tuple[float, float, float, float], float]:  # fmt: skip
    """Widen the extent so height/width lies in [lo, hi]; returns it and that ratio."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    ratio = min(max(h / w, lo), hi)
    if h / w > ratio:  # too tall: widen
        grow = (h / ratio - w) / 2
        x0, x1 = x0 - grow, x1 + grow
    elif h / w < ratio:  # too wide: heighten
        grow = (w * ratio - h) / 2
        y0, y1 = y0 - grow, y1 + grow
    return (x0, y0, x1, y1), ratio


def scale_bar(xlim: tuple[float, float], ylim: tuple[float, float]) -> tuple[float, float]:
    """A round scale-bar length for a Web Mercator view: ``(metres, mercator_units)``, about a
    fifth of the width (Web Mercator stretches by 1/cos(latitude) at the view's centre)."""
    x0, x1 = xlim
    lat = math.degrees(2 * math.atan(math.exp(((ylim[0] + ylim[1]) / 2) / _R)) - math.pi / 2)
    k = 1.0 / math.cos(math.radians(lat))
    span_m = (x1 - x0) / k
    nice = 10 ** math.floor(math.log10(span_m / 5))
    for f in (5, 2, 1):
        if f * nice <= span_m / 5:
            nice *= f
            break
    return nice, nice * k


def _scale_bar(ax: Axes) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    nice, length = scale_bar((x0, x1), (y0, y1))
    bx, by = x0 + 0.03 * (x1 - x0), y0 + 0.035 * (y1 - y0)
    for i in range(2):  # two alternating halves, as on printed maps
        ax.plot([bx + i * length / 2, bx + (i + 1) * length / 2], [by, by],
                color="#222" if i == 0 else "white", lw=4, solid_capstyle="butt", zorder=9,
                path_effects=[_outline()])  # fmt: skip
    label = f"{nice / 1000:g} km" if nice >= 1000 else f"{nice:g} m"
    ax.text(bx + length / 2, by + 0.012 * (y1 - y0), label, ha="center", va="bottom",
            fontsize=7, zorder=9, path_effects=_halo())  # type: ignore[arg-type]  # fmt: skip


def _outline() -> object:
    from matplotlib import patheffects

    return patheffects.Stroke(linewidth=5.2, foreground="#222")


def _north_arrow(ax: Axes) -> None:
    ax.annotate("N", xy=(0.965, 0.955), xytext=(0.965, 0.875), xycoords="axes fraction",
                ha="center", va="center", fontsize=10, fontweight="bold", zorder=9,
                arrowprops={"arrowstyle": "-|>", "color": "#222", "lw": 1.5,
                            "mutation_scale": 14})  # fmt: skip


def _handles(layers: Sequence[Layer], base: Basemap) -> list[Artist]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Artist] = []
    sections = [(ly.name, ly.legend_rows()) for ly in layers if ly.show and len(ly.gdf)]
    if base.layers:
        sections.insert(0, ("reference map", [
            LegendItem("major road (OSM skeleton)", "#d6d2c8", "line", None, 2.0),
            LegendItem("railway track", "#a8a8a8", "line", "5 3", 1.5)]))  # fmt: skip
    for title, rows in sections:
        handles.append(Patch(visible=False, label=title))
        for it in rows:
            if it.style == "point":
                h: Artist = Line2D(
                    [], [], ls="none", marker="o", ms=4.5, mfc=it.colour, mec="#333", mew=0.4
                )
            elif it.style in ("line", "outline"):
                h = Line2D([], [], color=it.colour, lw=min(max(it.width, 0.8), 3.5) * 0.7,
                           ls=_dashes(it.dash, it.width))  # fmt: skip
            else:
                h = Patch(facecolor=it.colour, edgecolor="#555", lw=0.4, alpha=0.8)
            h.set_label(f"  {it.label}")
            handles.append(h)
    return handles


def _panel(fig: Figure, rect: tuple[float, float, float, float], layers: Sequence[Layer],
           base: Basemap, *, title: str, subtitle: str, note: str, credits: list[str]) -> None:  # fmt: skip
    """The side panel: title, legend of the visible layers, warnings, sources, 审图号."""
    import textwrap

    pax = fig.add_axes(rect)
    pax.set_axis_off()
    chars = max(int(rect[2] * fig.get_figwidth() * 25.4 / 1.3) - 6, 20)  # ~1.3 mm per 5.5pt char

    def height(lines: int, size_pt: float) -> float:  # axes fraction of text lines
        return lines * size_pt * 1.35 / 72.0 / fig.get_figheight()

    y = 0.99
    if title:
        head = textwrap.fill(title, int(chars * 0.55))
        pax.text(0.04, y, head, va="top", fontsize=9.5, fontweight="bold", linespacing=1.25)
        y -= height(head.count("\n") + 1, 9.5) + 0.005
    if subtitle:
        sub = textwrap.fill(subtitle, int(chars * 0.9))
        pax.text(0.04, y, sub, va="top", fontsize=6, color="#333")
        y -= height(sub.count("\n") + 1, 6) + 0.01
    handles = _handles(layers, base)
    if handles:
        leg = pax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, y), fontsize=5.5,
                         frameon=False, handlelength=2.2, borderaxespad=0.2, labelspacing=0.28,
                         borderpad=0.2)  # fmt: skip
        for t in leg.get_texts():
            if not t.get_text().startswith("  "):
                t.set_fontweight("bold")
                t.set_text(textwrap.fill(t.get_text(), chars - 4))
            else:
                t.set_text(textwrap.shorten(t.get_text().strip(), chars - 8, placeholder="…"))
    foot = [textwrap.fill(note, chars)] if note else []
    body = "\n".join(textwrap.fill(c, chars) for c in credits)
    pax.text(0.04, 0.01, body, va="bottom", fontsize=4.6, color="#333", linespacing=1.3)
    if foot:
        pax.text(0.04, 0.015 + height(body.count("\n") + 1, 4.6), foot[0], va="bottom",
                 fontsize=5.5, color="#b00", fontweight="bold")  # fmt: skip


def _draw_mbtiles(ax: Axes, base: Basemap) -> None:
    from PIL import Image

    info = base.mbtiles
    assert info is not None
    z = info.maxzoom
    for key, uri in info.tiles.items():
        tz, tx, ty = (int(v) for v in key.split("/"))
        if tz != z:
            continue
        img = Image.open(io.BytesIO(__import__("base64").b64decode(uri.split(",", 1)[1])))
        size = 2 * math.pi * _R / (1 << tz)
        left, top = -math.pi * _R + tx * size, math.pi * _R - ty * size
        ax.imshow(img, extent=(left, left + size, top - size, top), zorder=1,
                  interpolation="bilinear")  # fmt: skip


def write_static(
    layers: Sequence[Layer | gpd.GeoDataFrame],
    path: str | os.PathLike[str],
    *,
    title: str = "",
    subtitle: str = "",
    basemap: BasemapLike = None,
    approval_number: str | None = None,
    attribution: str | Sequence[str] = "© OpenStreetMap contributors",
    note: str = "",
    dpi: int = 200,
    width_mm: float = 180.0,
    bounds: Bounds | None = None,
    size_in: tuple[float, float] | None = None,
) -> Path:
    """A static PNG, SVG or PDF (by suffix) at print size, filling the page with no empty
    margin: legend (visible layers), scale bar, north arrow, title, basemap name,
    attribution and the map approval number (审图号) slot. Needs no network.

    Parameters
    ----------
    layers
        :class:`Layer` objects or plain GeoDataFrames; hidden layers (``show=False``) are left
        out, as in the HTML map's initial view.
    basemap
        ``None``/``"none"``, ``"reference"`` (drawn from embedded data) or a ``.mbtiles``
        file; web tiles cannot be drawn offline and are refused.
    approval_number
        The 审图号 printed in the corner (a blank slot when None).
    width_mm
        Page width (180 mm: a report's text width); the height follows the map's extent
        (between 0.55 and 1.45 of the width). ``size_in`` (older API) sets the width in inches.
    bounds
        Extent to show (W, S, E, N degrees, WGS84); default: all layers.
    """
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    out = Path(path)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError(f"cannot tell the image format from {out.name!r}: use .png, .svg or .pdf")
    base = resolve_basemap(None if basemap == "none" else basemap, offline=True)
    wrapped = [as_layer(ly, index=i) for i, ly in enumerate(layers)]
    shown = [ly for ly in wrapped if ly.show and ly.gdf is not None and len(ly.gdf)]
    box, ratio = _fit_aspect(_extent(shown, bounds), 0.6, 1.45)
    width_in = size_in[0] if size_in else width_mm / 25.4
    panel = 0.3  # share of the width for title, legend and sources
    map_w = width_in * (1 - panel)
    family, _ = cjk_font()
    credits_list = [attribution] if isinstance(attribution, str) else list(attribution)
    credits = [f"Basemap: {base.label}",
               *dict.fromkeys(c for c in (base.attribution, *credits_list) if c),
               f"审图号: {approval_number or '________'}"]  # fmt: skip
    rc = {"font.family": [family, "DejaVu Sans"], "pdf.fonttype": 42, "svg.fonttype": "path"}
    with rc_context(rc):  # type: ignore[arg-type]
        fig = Figure(figsize=(width_in, map_w * ratio), dpi=dpi, facecolor="white")
        ax = fig.add_axes((0.0, 0.0, 1 - panel, 1.0))
        ax.set_facecolor("#dde3ea" if base.layers else "white")
        ax.set_xlim(box[0], box[2])
        ax.set_ylim(box[1], box[3])
        ax.set_xticks([])
        ax.set_yticks([])
        for sp in ax.spines.values():
            sp.set_color("#444")
        lw = 0.55 * width_in / 7.0  # line widths scale with the page
        tol_m = 0.5 * (box[2] - box[0]) / (map_w * dpi)  # half a printed dot
        for layer in base.layers:
            _draw_layer(ax, layer, lw * 0.8, tol_m)
        if base.mbtiles is not None:
            _draw_mbtiles(ax, base)
            ax.set_xlim(box[0], box[2])
            ax.set_ylim(box[1], box[3])
        for layer in shown:
            _draw_layer(ax, layer, lw, tol_m)
        _scale_bar(ax)
        _north_arrow(ax)
        _panel(fig, (1 - panel, 0.0, panel, 1.0), shown, base, title=title, subtitle=subtitle,
               note=note, credits=credits)  # fmt: skip
        with atomic_path(out) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, pad_inches=0, metadata=_metadata(fmt, title))
    return out


def _metadata(fmt: str, title: str) -> dict[str, str]:
    key = {"png": "Software", "pdf": "Creator"}.get(fmt)
    meta = {key: "cztgeo"} if key else {}
    if title:
        meta["Title"] = title
    return meta


#: The earlier name of :func:`write_static`.
save_static = write_static
