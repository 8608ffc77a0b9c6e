"""The embedded COARSE census layer (``census-2020-county``) and its use by name.

Truths: the Hunan provincial census bulletin's city totals (湖南省第七次全国人口普查公报(第二号),
2021-05-19), the embedded county polygons, and areal weighting recomputed with shapely on the
unit polygons (no grid) for grid-aligned windows and for a commute-circle reach.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import shapely

from cztgeo.boundaries import load_boundaries
from cztgeo.circle import Centre, commute_circle
from cztgeo.crs import AREA_CRS, METRIC_CRS
from cztgeo.errors import InputError
from cztgeo.population import (
    CENSUS_LAYER,
    COARSE_NOTE,
    PopulationWarning,
    census_population,
    load_census_units,
    load_population,
    population_notes,
    population_points,
)
from cztgeo.settings import embedded_data_dir
from cztgeo.testing import grid_lonlat, synthetic_grid

#: 湖南省第七次全国人口普查公报(第二号), table 2-1 (the city totals) and 长株潭地区 (their sum).
BULLETIN = {"长沙市": 10_047_914, "株洲市": 3_902_738, "湘潭市": 2_726_181}
CZT_REGION = 16_676_833


@pytest.fixture(scope="module")
def units():
    return load_census_units()


@pytest.fixture(scope="module")
def grid():
    return census_population(cell_m=2000)


def test_every_county_polygon_is_in_exactly_one_unit(units):
    counties = load_boundaries("county")
    codes = [c for cs in units["adcodes"] for c in cs]
    assert sorted(codes) == sorted(counties["adcode"])  # all 23, none twice
    by_code = counties.set_index("adcode")
    for _, u in units.iterrows():
        assert u["name"] == "+".join(by_code.loc[list(u["adcodes"]), "name"])
        union = shapely.union_all(by_code.loc[list(u["adcodes"])].geometry.values)
        diff = shapely.symmetric_difference(union, u.geometry)
        assert diff.area < 1e-6 * union.area, u["name"]


def test_each_city_sums_to_the_bulletin(units):
    assert units.groupby("city")["population"].sum().to_dict() == BULLETIN
    assert int(units["population"].sum()) == CZT_REGION
    assert {c["city"]: c["population"] for c in units.attrs["city_totals"]} == BULLETIN


def test_every_unit_cites_a_source_and_only_merged_units_are_derived(units):
    assert units["source"].str.len().gt(20).all()
    assert units["url"].str.startswith("http").all()
    derived = units[units["precision"] == "derived"]
    assert sorted(derived["name"]) == ["湘乡市+韶山市", "荷塘区+石峰区"]
    assert set(units["precision"]) == {"exact", "rounded to 100", "derived"}


def test_layer_is_labelled_coarse(units, grid):
    for layer in (units, grid):
        assert layer.attrs["coarse"] is True
        assert layer.attrs["label"].startswith("COARSE")
        assert "COARSE" in layer.attrs["note"]
    assert grid["source"].str.contains("COARSE").all()
    assert population_notes(CENSUS_LAYER) == [COARSE_NOTE]
    assert population_notes(grid) == [COARSE_NOTE]
    assert population_notes("pop.tif") == []
    assert population_notes(None) == []


def test_crs_is_wgs84(units, grid):
    assert units.crs.to_epsg() == 4326
    assert grid.crs.to_epsg() == 4326


def test_grid_conserves_every_unit_total(units, grid):
    got = grid.groupby("unit")["population"].sum()
    want = units.set_index("unit")["population"].astype(float)
    np.testing.assert_allclose(got.loc[want.index], want, rtol=1e-9)
    # the pieces tile each unit: their areas add up to the unit's (equal-area CRS)
    area = grid.groupby("unit")["area_m2"].sum()
    unit_area = units.to_crs(AREA_CRS).set_index("unit").area
    np.testing.assert_allclose(area.loc[unit_area.index], unit_area, rtol=1e-6)


@pytest.mark.parametrize("window_km", [(-10, -20, 10, 10), (-40, -60, -20, -30), (30, 0, 60, 16)])
def test_grid_aligned_window_matches_areal_weighting_in_shapely(units, grid, window_km):
    """People in a window made of whole cells: the grid's pieces against an independent sum
    over the unit polygons, pop_u * area(u ∩ window) / area(u)."""
    cell = 2000.0
    x0, y0, x1, y1 = (v * 1000.0 for v in window_km)  # multiples of the cell, AREA_CRS
    window = shapely.box(x0, y0, x1, y1)
    metric = units.to_crs(AREA_CRS)
    want = sum(
        p * shapely.intersection(g, window).area / g.area
        for p, g in zip(metric["population"], metric.geometry, strict=True)
    )
    rc = grid["cell_id"].str.split("_", expand=True).astype(int)
    cx, cy = (rc[1] + 0.5) * cell, (rc[0] + 0.5) * cell
    inside = (cx > x0) & (cx < x1) & (cy > y0) & (cy < y1)
    assert want > 10_000  # the windows lie over populated units
    assert grid.loc[inside, "population"].sum() == pytest.approx(want, rel=1e-6)


def test_population_points_accepts_the_name_and_warns():
    with pytest.warns(PopulationWarning, match="COARSE"):
        pts = population_points(CENSUS_LAYER)
    assert pts.crs.to_string() == METRIC_CRS
    assert pts.attrs["coarse"] is True
    assert (shapely.get_type_id(pts.geometry.values) == 0).all()
    assert pts["population"].sum() == pytest.approx(CZT_REGION, rel=1e-9)


@pytest.mark.parametrize("call", [lambda: load_population("census-2010-county"),
                                  lambda: population_points("census-2010")])  # fmt: skip
def test_bad_layer_name_is_one_line_listing_the_valid_ones(call):
    with pytest.raises(InputError) as err:
        call()
    msg = str(err.value)
    assert "\n" not in msg
    assert "census-2010" in msg and CENSUS_LAYER in msg


@pytest.mark.parametrize("cell_m", [0, -5, 50, float("nan"), "1km"])
def test_bad_cell_size(cell_m):
    with pytest.raises(InputError, match="cell_m"):
        census_population(cell_m=cell_m)


def test_embedded_file_matches_the_readme_digest():
    import hashlib

    path = embedded_data_dir() / "czt_population_2020_county.json"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    readme = (embedded_data_dir() / "README.md").read_text(encoding="utf-8")
    row = next(r for r in readme.splitlines() if r.startswith("| `czt_population_2020_county"))
    assert f"`{digest}`" in row
    assert json.loads(path.read_text(encoding="utf-8"))["layer"] == CENSUS_LAYER


def test_commute_circle_counts_the_layer_and_says_coarse():
    """A toy network near 长沙 (113.0 E, 28.0 N): each reach holds the people of the 1 km
    census cells whose representative point it covers (the documented counting rule, recomputed
    with shapely from :func:`census_population`), and the result carries the COARSE note."""
    net = synthetic_grid(31, 1000.0, speed_kmh=60.0)
    centres = [Centre(n, n, *grid_lonlat(i, j, 1000.0), "toy")
               for n, i, j in (("A", 5, 5), ("B", 25, 5), ("C", 15, 25))]  # fmt: skip
    with pytest.warns(PopulationWarning, match="COARSE"):
        cc = commute_circle(net, None, centres=centres, minutes=10, modes=("drive",),
                            population=CENSUS_LAYER)  # fmt: skip
    assert COARSE_NOTE in cc.notes
    cells = census_population(cell_m=1000).to_crs(METRIC_CRS)
    pts = cells.geometry.representative_point().values
    for (_, r), reach in zip(
        cc.reach.iterrows(), cc.reach.to_crs(METRIC_CRS).geometry, strict=True
    ):
        want = cells["population"].to_numpy()[shapely.covers(reach, pts)].sum()
        assert want > 1000
        assert r["population"] == pytest.approx(want, rel=1e-9), r["centre"]


def test_service_notes_say_coarse():
    from cztgeo.service.load import load_engine

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PopulationWarning)
        engine = load_engine(population=CENSUS_LAYER)
    assert COARSE_NOTE in engine.notes
    assert engine.has_population
