"""Embed the railway track geometry of the metro area for the offline reference basemap.

Reads ``rail/czt_railway_lines_osm.geojson`` from the shared data folder (579 two-point edges
extracted from PyPI ``scgraph-data`` 2.0.0 ``world_railways``: package MIT, data "from
OpenStreetMap", so © OpenStreetMap contributors, ODbL), merges the edges into continuous lines
and writes ``geodata/czt_railways.geojson``. The lines carry no name or attribute; they are
display context only (京广 and 沪昆 conventional and high-speed lines, 石长, the intercity line).

Usage: ``CZTGEO_DATA_DIR=../shared/geodata python scripts/build_reference_railways.py``
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import geopandas as gpd
import shapely

OUT = Path(__file__).resolve().parents[1] / "geodata" / "czt_railways.geojson"


def main() -> None:
    data = Path(os.environ.get("CZTGEO_DATA_DIR", "../shared/geodata"))
    src = data / "rail" / "czt_railway_lines_osm.geojson"
    edges = gpd.read_file(src)
    if edges.crs is None or edges.crs.to_epsg() != 4326:
        raise SystemExit(f"{src}: expected EPSG:4326, got {edges.crs}")
    merged = shapely.line_merge(shapely.union_all(edges.geometry.values))
    parts = list(getattr(merged, "geoms", [merged]))
    features = [
        {
            "type": "Feature",
            "properties": {
                "length_km": round(
                    float(gpd.GeoSeries([g], crs=4326).to_crs(32649).length.iloc[0]) / 1000, 3
                )
            },
            "geometry": json.loads(shapely.to_geojson(shapely.set_precision(g, 1e-5))),
        }
        for g in parts
    ]
    doc = {
        "type": "FeatureCollection",
        "name": "czt_railways",
        "source": (
            "scgraph-data 2.0.0 world_railways (PyPI, MIT) via shared/geodata/rail/"
            "czt_railway_lines_osm.geojson; © OpenStreetMap contributors, ODbL; display only"
        ),
        "features": features,
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
    digest = hashlib.sha256(OUT.read_bytes()).hexdigest()
    print(f"wrote {OUT} ({len(features)} lines, {OUT.stat().st_size:,} bytes), sha256 {digest}")


if __name__ == "__main__":
    main()
