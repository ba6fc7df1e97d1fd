"""Reading inputs (municipalities, central places, grids, commuters, GTFS, OSM features)
and writing outputs."""

from __future__ import annotations

from .destinations import (read_airports, read_destinations, read_long_distance_stations,
                           read_motorway_junctions)
from .gtfs import (GtfsFeed, active_services, frequent_stops, long_distance_routes,
                   long_distance_stations, read_gtfs, route_mode, stop_departures,
                   stop_departures_by_mode)
from .osm_features import OsmFeatures, extract_features, load_service_rules, osm_stops
from .readers import (
    CENTRAL_PLACE_CLASSES,
    GERMANY_BBOX,
    clip_grid,
    parse_central_places,
    read_central_places,
    read_commuters,
    read_facilities,
    read_kreis_names,
    read_municipalities,
    read_population_grid,
    read_reference_times,
    read_user_grid,
)
from .writers import (
    atomic_path,
    write_gpkg_layers,
    write_json,
    write_municipality_outputs,
    write_table,
    write_profile_toml,
    write_text,
)

__all__ = [
    "GtfsFeed", "OsmFeatures", "active_services", "extract_features", "frequent_stops",
    "load_service_rules", "osm_stops", "read_gtfs", "stop_departures",
    "long_distance_routes", "long_distance_stations", "route_mode", "stop_departures_by_mode",
    "read_airports", "read_destinations", "read_long_distance_stations",
    "read_motorway_junctions",
    "CENTRAL_PLACE_CLASSES",
    "GERMANY_BBOX",
    "atomic_path",
    "clip_grid",
    "parse_central_places",
    "read_central_places",
    "read_facilities",
    "read_kreis_names",
    "read_reference_times",
    "read_user_grid",
    "write_profile_toml",
    "read_commuters",
    "read_municipalities",
    "read_population_grid",
    "write_gpkg_layers", "write_json",
    "write_municipality_outputs",
    "write_table",
    "write_text",
]
