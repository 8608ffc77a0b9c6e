"""The CJK font shipped with cztgeo's dependencies: Noto Sans CJK SC from the PyPI package
``noto-cjk-sans-otc`` (Google's Noto Sans CJK Regular collection, SIL Open Font License 1.1).

Static maps set Chinese text in it; HTML pages embed the subset of it that their text uses,
so Chinese labels render on machines without a system CJK font too.
"""

from __future__ import annotations

import base64
import io
import re
from functools import lru_cache
from pathlib import Path

FAMILY = "Noto Sans CJK SC"
#: CJK radicals, punctuation, kana, ideographs, compatibility ideographs, full-width forms.
_CJK = re.compile(
    r"[\u2e80-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
)
_ESCAPED = re.compile(r"\\u([0-9a-fA-F]{4})")


@lru_cache(maxsize=1)
def font_file() -> tuple[Path, int]:
    """The collection file and the index of its Simplified Chinese face."""
    import noto_cjk_sans_otc
    from fontTools.ttLib import TTFont

    path = Path(str(noto_cjk_sans_otc.FONT_PATH))
    for index in range(16):
        with TTFont(path, fontNumber=index, lazy=True) as font:
            if font["name"].getDebugName(1) == FAMILY:
                return path, index
    raise RuntimeError(f"{path} has no {FAMILY} face")  # pragma: no cover - a broken install


def cjk_chars(page: str) -> str:
    """The CJK characters a page shows (also those written as ``\\uXXXX`` escapes)."""
    found = set(_CJK.findall(page))
    found.update(ch for ch in (chr(int(h, 16)) for h in _ESCAPED.findall(page)) if _CJK.match(ch))
    return "".join(sorted(found))


@lru_cache(maxsize=16)
def webfont(chars: str) -> str:
    """A WOFF subset of the font holding ``chars``, as a base64 data URI."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    path, index = font_file()
    with TTFont(path, fontNumber=index, lazy=True) as font:
        options = subset.Options()
        options.flavor = "woff"
        # horizontal labels only: no layout or vertical tables (decoding those is most of the
        # cost in Noto CJK), no hinting
        options.layout_features = []
        options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx"]
        options.hinting = False
        options.name_IDs = [0, 1, 2]  # keep the copyright notice (OFL)
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=chars)
        subsetter.subset(font)
        buf = io.BytesIO()
        font.save(buf)
    return "data:font/woff;base64," + base64.b64encode(buf.getvalue()).decode()


def font_face_css(page: str) -> str:
    """An ``@font-face`` rule embedding the CJK glyphs the page uses ("" when none)."""
    chars = cjk_chars(page)
    if not chars:
        return ""
    return (
        f"@font-face{{font-family:'cztgeo CJK';src:url({webfont(chars)}) format('woff');"
        "unicode-range:U+2E80-30FF,U+3400-4DBF,U+4E00-9FFF,U+F900-FAFF,U+FF00-FFEF}"
    )
