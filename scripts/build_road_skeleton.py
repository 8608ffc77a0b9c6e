"""Extract the CZT part of scgraph-data's OSM-derived world major-road graph into ``geodata/``.

``scgraph_data.world_highways`` (PyPI ``scgraph-data`` 2.0.0, data "World highway network from
OpenStreetMap", © OpenStreetMap contributors, ODbL) is a Python literal of an undirected graph:
``nodes`` as ``[lat, lon]`` rounded to 0.001°, ``graph`` as adjacency dicts with lengths in km.
It carries no road class, name, speed or one-way flag. Importing it takes about a minute, so this
script runs once and writes the edges inside the metro bounding box (plus a margin) as GeoJSON.

Usage: ``pip install scgraph-data==2.0.0 && python scripts/build_road_skeleton.py``
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "geodata" / "czt_road_skeleton.geojson"
BBOX = (111.8, 27.2, 114.4, 28.8)  # lon/lat, the metro area plus a margin


def main() -> None:
    import ast
    import importlib.util

    spec = importlib.util.find_spec("scgraph_data")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("scgraph-data is not installed: pip install scgraph-data==2.0.0")
    src = Path(next(iter(spec.submodule_search_locations))) / "world_highways.py"
    # The module imports scgraph.core, which newer scgraph releases no longer have: read the two
    # literals directly instead of importing it.
    literals = {}
    for line in src.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and name in ("graph", "nodes"):
            literals[name] = ast.literal_eval(value)
    graph, nodes = literals["graph"], literals["nodes"]

    lon0, lat0, lon1, lat1 = BBOX
    keep = {i for i, (lat, lon) in enumerate(nodes) if lon0 <= lon <= lon1 and lat0 <= lat <= lat1}
    features = []
    for u in sorted(keep):
        for v, km in graph[u].items():
            if v in keep and u < v:
                (la0, lo0), (la1, lo1) = nodes[u], nodes[v]
                features.append(
                    {
                        "type": "Feature",
                        "properties": {"u": u, "v": v, "length_m": round(km * 1000.0, 1)},
                        "geometry": {"type": "LineString", "coordinates": [[lo0, la0], [lo1, la1]]},
                    }
                )
    version = metadata.version("scgraph-data")
    doc = {
        "type": "FeatureCollection",
        "name": "czt_road_skeleton",
        "source": (
            f"scgraph-data {version} world_highways (PyPI); © OpenStreetMap contributors, ODbL"
        ),
        "note": "coarse major-road skeleton: nodes rounded to 0.001°, undirected, no classes",
        "bbox": list(BBOX),
        "features": features,
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
    digest = hashlib.sha256(OUT.read_bytes()).hexdigest()
    total = sum(f["properties"]["length_m"] for f in features) / 1000.0
    print(f"wrote {OUT}: {len(features)} edges, {len(keep)} nodes, {total:.0f} km, sha256 {digest}")


if __name__ == "__main__":
    main()
