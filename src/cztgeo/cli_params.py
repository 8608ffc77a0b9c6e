"""Option types of the ``cztgeo`` command: numbers, minutes, LON,LAT and boxes, checked
with one-line messages that say how to fix them (a swapped LAT,LON is recognised)."""

from __future__ import annotations

import math

import click

__all__ = ["NON_NEGATIVE", "POSITIVE", "BBox", "LonLat", "Minutes", "Number"]


def _floats(text: str, param: click.Parameter | None, ctx: click.Context | None) -> list[float]:
    try:
        vals = [float(t) for t in str(text).split(",") if t.strip()]
    except ValueError as exc:
        raise click.BadParameter(f"expected numbers separated by commas, got {text!r}") from exc
    if not all(math.isfinite(v) for v in vals):
        raise click.BadParameter(f"expected finite numbers, got {text!r}", ctx, param)
    return vals


class Number(click.ParamType):  # type: ignore[type-arg]
    """A finite number above (or from) a minimum."""

    name = "number"

    def __init__(self, minimum: float = 0.0, *, strict: bool = True) -> None:
        self.minimum, self.strict = minimum, strict

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            v = float(str(value))
        except (TypeError, ValueError):
            self.fail(f"expected a number, got {value!r}", param, ctx)
        if not math.isfinite(v) or v < self.minimum or (self.strict and v == self.minimum):
            rel = ">" if self.strict else ">="
            self.fail(f"expected a finite number {rel} {self.minimum:g}, got {value!r}", param, ctx)
        return v


class Minutes(click.ParamType):  # type: ignore[type-arg]
    """Comma-separated positive minutes, e.g. ``15,30``."""

    name = "minutes"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> list[float]:
        if isinstance(value, list):
            return value
        vals = _floats(str(value), param, ctx)
        if not vals or any(v <= 0 for v in vals):
            self.fail(f"minutes must be positive numbers like 15,30, got {value!r}", param, ctx)
        return vals


class LonLat(click.ParamType):  # type: ignore[type-arg]
    """A WGS84 ``LON,LAT`` pair; a swapped ``LAT,LON`` is recognised and refused."""

    name = "LON,LAT"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[float, float]:
        if isinstance(value, tuple):
            return value
        vals = _floats(str(value), param, ctx)
        if len(vals) != 2:
            self.fail(f"expected LON,LAT, got {value!r}", param, ctx)
        lon, lat = vals
        if 90 < abs(lat) <= 180 and abs(lon) <= 90:
            self.fail(
                f"{value!r} looks like LAT,LON (latitude {lat:g} is beyond ±90): give LON,LAT, "
                f"e.g. {lat:g},{lon:g}",
                param,
                ctx,
            )
        if abs(lon) > 180 or abs(lat) > 90:
            self.fail(f"{value!r} is not WGS84 LON,LAT (longitude ±180, latitude ±90)", param, ctx)
        return lon, lat


class BBox(click.ParamType):  # type: ignore[type-arg]
    """``W,S,E,N`` in degrees."""

    name = "W,S,E,N"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> list[float]:
        vals = _floats(str(value), param, ctx)
        if len(vals) != 4:
            self.fail(f"expected W,S,E,N, got {value!r}", param, ctx)
        w, s_, e, n = vals
        if not (-180 <= w < e <= 180 and -90 <= s_ < n <= 90):
            self.fail(f"expected W,S,E,N in degrees with W<E and S<N: {value!r}", param, ctx)
        return vals


POSITIVE = Number(0.0)
NON_NEGATIVE = Number(0.0, strict=False)
