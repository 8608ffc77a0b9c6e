"""Escaping for data that reach a page: JSON inside ``<script>``, HTML text, raw elements.

Data never become template source: they enter folium's Jinja templates only as the values of
element attributes rendered by fixed templates, JSON-encoded with ``<``, ``>`` and ``&``
escaped, so no value can close a script, start a comment or run as a template.
"""

from __future__ import annotations

import html
import json
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from branca.element import Element

#: Values that JSON can carry into a page.
JSONValue = str | int | float | bool | None | list["JSONValue"] | dict[str, "JSONValue"]

_JS_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)
_TEXT_ESCAPES = (("`", "&#96;"), ("$", "&#36;"), ("\\", "&#92;"), ("{", "&#123;"), ("}", "&#125;"))
_CSS_COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20}|rgba?\([0-9., %]{5,40}\)")


def js(value: object) -> str:
    """JSON for inside a ``<script>``: ``<``, ``>``, ``&``, U+2028/9 escaped, so no data can
    close the script or start a comment."""
    return js_escape(json.dumps(value, ensure_ascii=False, allow_nan=False))


def js_escape(text: str) -> str:
    """Escape an already JSON-encoded string for inside a ``<script>``."""
    for ch, esc in _JS_ESCAPES:
        text = text.replace(ch, esc)
    return text


def text(value: object) -> str:
    """Data as HTML text that is also inert inside a JavaScript template literal and a Jinja
    template (folium renders tooltips in backticks)."""
    out = html.escape(str(value))
    for ch, ent in _TEXT_ESCAPES:
        out = out.replace(ch, ent)
    return out


def colour(value: str) -> str:
    """A CSS colour (``#rgb``, ``#rrggbb(aa)``, a name or ``rgb()``), else a neutral grey."""
    value = str(value).strip()
    return value if _CSS_COLOUR.fullmatch(value) else "#888888"


def raw_element(markup: str) -> Element:
    """A folium element that outputs ``markup`` as is (``folium.Element(text)`` would compile
    the text as a Jinja template: data in it could run code)."""
    from branca.element import Element
    from jinja2 import Template

    class _Raw(Element):  # type: ignore[misc]
        _template = Template("{{ this.markup }}")

        def __init__(self, markup_: str) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self.markup = markup_

    return _Raw(markup)
