"""Build ``geodata/czt_transit.json``: the intercity line, Changsha Metro, S2 and the high-speed
links between the three cities, with station positions, run times and headways.

Inputs (``../shared/geodata``, or ``$CZTGEO_DATA_DIR``):

* ``rail/czt_intercity_stations.csv``: the 18 stations of the two southern branches of the
  长株潭城际铁路 in order, on OSM station points (ODbL);
* ``rail/changsha_metro_stations.csv``: Changsha Metro lines 1-6, the S2 maglev and Line 3 with
  its 2023 west ring to 湘潭北站, in order, on OSM station points (ODbL);
* ``osm/czt_rail_stations.geojson``: named OSM station points for the high-speed stations;
* ``reference/rail_service_facts.json``: the dated, sourced run times and headways quoted below.

Every run time and headway below carries its source, or the word "assumption" and its basis.
Track length between stations is the straight-line spacing times a track factor measured here
against Line 1 phase 1's published length (23.55 km, 开福区政府-尚双塘) and checked against Lines 2
and 6 and the west ring (``cztgeo validate`` prints the check).

Usage: ``CZTGEO_DATA_DIR=../shared/geodata python scripts/build_transit.py``
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from cztgeo.crs import METRIC_CRS, WGS84, transformer

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "geodata" / "czt_transit.json"
DATA = Path(os.environ.get("CZTGEO_DATA_DIR", ROOT.parent / "shared" / "geodata"))

OSM = "© OpenStreetMap contributors, ODbL 1.0 (station points, OSM data of 2025-01)"
METRIC_SPEED_KMH = 32.0
METRO_SPEED_BASIS = (
    "assumption: commercial speed 32 km/h including dwell, over the track length (straight-line "
    "spacing x track factor); rail_service_facts.json: no per-line run times were found, 'use an "
    "assumed commercial speed (about 30-35 km/h for B-type lines with ~1.2 km spacing)'"
)
METRO_HEADWAY_BASIS = (
    "assumption: peak 6 min, off-peak 8 min (no published figure for this line; Lines 1 and 2 "
    "run every 4.5-7.6 min in the one published plan)"
)
INTERCITY_HEADWAY = {
    "peak": 20.0,
    "offpeak": 20.0,
    "source": (
        "人民网 2022-08-01: 长沙-株洲南 52 pairs and 长沙-湘潭 52.5 pairs a day, i.e. one train "
        "every 18-20 min per branch over a ~16 h day; 长沙本地宝 2021-01-28: 株洲 and 湘潭 sections "
        "about every 22 min, morning peak from 长沙站 about every 10 min (both branches together)"
    ),
}
INTERCITY_RUN_SOURCE = (
    "三湘都市报 via 红网 2017-01-24: most trains about 50 min 长沙-{to} (fastest 39, slowest "
    "{slow}); since 2021-05 every train stops at every station (湖南日报 via 人民网 2021-05-11)"
)
DWELL = {
    "minutes": 1.0,
    "source": "rail-transit.com 2016-12-25: 1-2 min a stop (the lower end: most stops are short)",
}
COLOURS = {
    # display colours for maps, chosen for contrast (not claimed to be the operator's)
    "1号线": "#d7191c",
    "2号线": "#1a9641",
    "3号线": "#2c7fb8",
    "4号线": "#7b3294",
    "5号线": "#e66101",
    "6号线": "#a6611a",
    "S2线": "#4d4d4d",
}


def _stations(df: pd.DataFrame) -> list[dict[str, object]]:
    return [
        {"name": str(r["name"]), "lon": round(float(r["lon"]), 6), "lat": round(float(r["lat"]), 6)}
        for _, r in df.iterrows()
    ]


def _spacing_m(df: pd.DataFrame) -> np.ndarray:
    x, y = transformer(WGS84, METRIC_CRS).transform(df["lon"].to_numpy(), df["lat"].to_numpy())
    return np.hypot(np.diff(x), np.diff(y))


def main() -> None:
    metro = pd.read_csv(DATA / "rail" / "changsha_metro_stations.csv")
    inter = pd.read_csv(DATA / "rail" / "czt_intercity_stations.csv")
    osm = gpd.read_file(DATA / "osm" / "czt_rail_stations.geojson")

    # track factor: Line 1 phase 1 (开福区政府 .. 尚双塘) is 23.55 km (facts file)
    l1 = metro[metro["line"] == "1号线"].sort_values("order").reset_index(drop=True)
    i0 = int(l1.index[l1["name"] == "开福区政府"][0])
    i1 = int(l1.index[l1["name"] == "尚双塘"][0])
    straight = float(_spacing_m(l1.iloc[i0 : i1 + 1]).sum())
    track_factor = round(23_550.0 / straight, 3)
    print(f"Line 1 phase 1: straight-line {straight / 1000:.2f} km; track factor {track_factor}")

    lines: list[dict[str, object]] = []
    for branch, to, slow, lid in (
        ("长沙—株洲南 (Zhuzhou branch)", "株洲南", 70, "czt-intercity-zhuzhou"),
        ("暮云—湘潭 (Xiangtan branch)", "湘潭", 68, "czt-intercity-xiangtan"),
    ):
        part = inter[inter["branch"] == branch].sort_values("order")
        if lid.endswith("xiangtan"):
            trunk = inter[inter["branch"].str.startswith("长沙—株洲南")].sort_values("order")
            muyun = int(trunk.loc[trunk["name"] == "暮云", "order"].iloc[0])
            part = pd.concat([trunk[trunk["order"] < muyun], part])
        low = part[part["confidence"].str.startswith("LOW")]["name"].tolist()
        lines.append(
            {
                "id": lid,
                "name": f"长株潭城际 长沙—{to}",
                "name_en": f"CZT intercity Changsha-{'Zhuzhou South' if to == '株洲南' else 'Xiangtan'}",
                "kind": "intercity",
                "colour": "#08306b" if to == "株洲南" else "#6baed6",
                "stations": _stations(part),
                "stations_source": (
                    "shared/geodata rail/czt_intercity_stations.csv: order from the encyclopedia "
                    "entry on 暮云站, positions on OSM station points ("
                    + OSM
                    + ")"
                    + (f"; LOW-confidence position: {', '.join(low)}" if low else "")
                ),
                "run": {
                    "from": "长沙",
                    "to": to,
                    "minutes": 50.0,
                    "dwell_minutes": DWELL["minutes"],
                    "source": INTERCITY_RUN_SOURCE.format(to=to, slow=slow)
                    + "; dwell: "
                    + DWELL["source"],
                },
                "headway_minutes": {k: INTERCITY_HEADWAY[k] for k in ("peak", "offpeak")},
                "headway_source": INTERCITY_HEADWAY["source"],
            }
        )

    published_headways = {
        "1号线": (6.53, 7.63),
        "2号线": (4.45, 5.6),
    }
    for line, df in metro.groupby("line", sort=False):
        df = df.sort_values("order")
        maglev = line == "S2线"
        peak, off = published_headways.get(str(line), (6.0, 8.0))
        hw_source = (
            "holiday service plan (Mid-Autumn, year not stated), 长沙 news item via "
            "blackcollegiateintl.com mirror: peak / off-peak headway"
            if line in published_headways
            else METRO_HEADWAY_BASIS
        )
        if maglev:
            peak, off = 12.0, 12.0
            hw_source = "assumption: about every 12 min (no published figure found here)"
        speed = 60.0 if maglev else METRIC_SPEED_KMH
        basis = (
            "assumption: commercial speed 60 km/h (maglev, line maximum 100 km/h, 3 stations)"
            if maglev
            else METRO_SPEED_BASIS
        )
        lines.append(
            {
                "id": f"changsha-metro-{str(line).replace('号线', '').replace('线', '').lower()}",
                "name": f"长沙地铁{line}" if not maglev else "长沙磁浮快线 (S2)",
                "name_en": str(df["line_en"].iloc[0]),
                "kind": "maglev" if maglev else "metro",
                "colour": COLOURS.get(str(line), "#555555"),
                "stations": _stations(df),
                "stations_source": (
                    "shared/geodata rail/changsha_metro_stations.csv: names, membership and order "
                    "from a public station list, positions on OSM station points ("
                    + OSM
                    + ")"
                    + (
                        "; Line 3 includes the 2023 west ring 湘潭北站-山塘"
                        if line == "3号线"
                        else ""
                    )
                ),
                "run": {"speed_kmh": speed, "source": basis},
                "headway_minutes": {"peak": peak, "offpeak": off},
                "headway_source": hw_source,
            }
        )

    named = osm[osm["name"].notna()]

    def point(name: str) -> dict[str, object]:
        hit = named[named["name"] == name]
        # prefer the mainline point; 湘潭北站 has only the metro point at the HSR station
        hit = hit.sort_values("station", key=lambda s: s != "train")
        g = hit.geometry.iloc[0]
        return {"name": name, "lon": round(g.x, 6), "lat": round(g.y, 6)}

    for lid, name, name_en, a, b, minutes, hw, basis, hw_basis in (
        (
            "hsr-beijing-guangzhou", "京广高铁 长沙南—株洲西", "Beijing-Guangzhou HSR",
            "长沙南", "株洲西", 16.0, 20.0,
            "assumption: about 40 km at an average 150 km/h start to stop (no published stopping "
            "time found, rail_service_facts.json)",
            "assumption: about three stopping trains an hour each way",
        ),
        (
            "hsr-shanghai-kunming", "沪昆高铁 长沙南—湘潭北", "Shanghai-Kunming HSR",
            "长沙南", "湘潭北站", 14.0, 30.0,
            "assumption: 25.6 km line distance (114piaowu 湘潭北火车站介绍) at about 110 km/h start "
            "to stop",
            "assumption: about two stopping trains an hour each way",
        ),
    ):  # fmt: skip
        lines.append(
            {
                "id": lid,
                "name": name,
                "name_en": name_en,
                "kind": "high-speed",
                "colour": "#000000",
                "stations": [point(a), point(b)],
                "stations_source": "named OSM station points (" + OSM + ")",
                "run": {"from": a, "to": b, "minutes": minutes, "source": basis},
                "headway_minutes": {"peak": hw, "offpeak": hw},
                "headway_source": hw_basis,
            }
        )

    doc = {
        "name": "czt_transit",
        "description": (
            "Rail transit of the CZT area as a frequency-based network: ordered stations with "
            "positions, run times and headways by period. Every figure carries its source or "
            "says it is an assumption. Replace all of it with a GTFS feed (read_gtfs)."
        ),
        "licence": "station positions " + OSM + "; figures: the sources cited per line",
        "track_factor": track_factor,
        "track_factor_basis": (
            f"Line 1 phase 1 (开福区政府-尚双塘) is 23.55 km (bk.dabai.com); its stations are "
            f"{straight / 1000:.2f} km apart in straight lines: factor {track_factor}"
        ),
        "walk": {
            "speed_kmh": 4.5,
            "detour_factor": 1.3,
            "basis": "assumption: 4.5 km/h (1.25 m/s); straight-line distance x 1.3 for street "
            "detours, a common planning value when no walk network is loaded",
        },
        "transfer": {
            "platform_minutes": 2.0,
            "walk_link_m": 400.0,
            "basis": (
                "assumption: a transfer costs 2 min to change platforms inside a station, plus "
                "walking between the two lines' station points (straight line x detour) when "
                "they are apart, plus half the next line's headway; stations of different lines "
                "within 400 m are linked on foot"
            ),
        },
        "taxi": {
            "overhead_minutes": 5.0,
            "basis": "assumption: 5 min to hail, board and pay a taxi or ride-hail car",
        },
        "lines": lines,
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    digest = hashlib.sha256(OUT.read_bytes()).hexdigest()
    n_st = sum(len(ln["stations"]) for ln in lines)  # type: ignore[arg-type]
    print(f"wrote {OUT}: {len(lines)} lines, {n_st} line-station rows, sha256 {digest}")


if __name__ == "__main__":
    main()
