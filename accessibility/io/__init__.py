"""Reading inputs (municipalities, central places, grids, commuters, GTFS, OSM features)
and writing outputs."""

from __future__ import annotations

from ._tables import GERMANY_BBOX
from .central_places import CENTRAL_PLACE_CLASSES, parse_central_places, read_central_places
from .commuters import read_commuters
from .destinations import (
                           read_airports,
                           read_destinations,
                           read_long_distance_stations,
                           read_motorway_junctions,
)
from .facilities import read_facilities
from .gtfs import (
                           GtfsFeed,
                           active_services,
                           frequent_stops,
                           long_distance_routes,
                           long_distance_stations,
                           read_gtfs,
                           route_mode,
                           stop_departures,
                           stop_departures_by_mode,
)
from .municipalities import read_kreis_names, read_municipalities, read_run_lage
from .osm_features import OsmFeatures, extract_features, load_service_rules, osm_stops
from .population_grid import clip_grid, read_population_grid, read_user_grid
from .reference_times import read_reference_times
from .writers import (
                           atomic_path,
                           check_new_file,
                           write_gpkg_layers,
                           write_json,
                           write_municipality_outputs,
                           write_profile_toml,
                           write_table,
                           write_text,
)

__all__ = [
                           "CENTRAL_PLACE_CLASSES",
                           "GERMANY_BBOX",
                           "GtfsFeed",
                           "OsmFeatures",
                           "active_services",
                           "atomic_path",
                           "check_new_file",
                           "clip_grid",
                           "extract_features",
                           "frequent_stops",
                           "load_service_rules",
                           "long_distance_routes",
                           "long_distance_stations",
                           "osm_stops",
                           "parse_central_places",
                           "read_airports",
                           "read_central_places",
                           "read_commuters",
                           "read_destinations",
                           "read_facilities",
                           "read_gtfs",
                           "read_kreis_names",
                           "read_long_distance_stations",
                           "read_motorway_junctions",
                           "read_municipalities",
                           "read_population_grid",
                           "read_reference_times",
                           "read_run_lage",
                           "read_user_grid",
                           "route_mode",
                           "stop_departures",
                           "stop_departures_by_mode",
                           "write_gpkg_layers",
                           "write_json",
                           "write_municipality_outputs",
                           "write_profile_toml",
                           "write_table",
                           "write_text",
]
