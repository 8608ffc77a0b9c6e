"""The three-city half-hour commute circle (半小时交通圈)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_CENTRES", "Centre"]


@dataclass(frozen=True)
class Centre:
    """A city centre: a name and a WGS84 position."""

    name: str
    name_en: str
    lon: float
    lat: float
    basis: str


#: Default centres (WGS84). Changsha and Zhuzhou are OSM station points from the data
#: directory's ``osm/czt_rail_stations.geojson``; Xiangtan's is the city government on the
#: east bank (approximate position). Pass your own to change them.
DEFAULT_CENTRES: tuple[Centre, ...] = (
    Centre("长沙", "Changsha", 112.9709, 28.1986, "五一广场 metro station (OSM)"),
    Centre("株洲", "Zhuzhou", 113.1517, 27.8388, "株洲 railway station, city centre (OSM)"),
    Centre("湘潭", "Xiangtan", 112.9442, 27.8297, "湘潭市人民政府 (approximate)"),
)
