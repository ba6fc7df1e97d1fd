"""Central-place accessibility for Germany: car times to Mittel- and Oberzentren,
2-hour population potential (Lage), walkable services (Nahversorgung).

The public API, tables in and out (see :mod:`accessibility.api`)::

    import accessibility as acc
    g = acc.build_graph("region.osm.pbf", cache_dir="cache")
    munis = acc.read_municipalities("gemeinden.csv")
    cp = acc.central_places(munis, "zentrale_orte.csv", g)   # t_mz_min, t_oz_min, classes
    lg = acc.lage(cp, g)                                      # potential_2h, lage, settlement_type
"""

from __future__ import annotations

from ._errors import AccessibilityError, GraphError, InputError
from .api import (
                  attach,
                  calibrate_speeds_from_file,
                  central_places,
                  collect_destinations,
                  commuter_indicators,
                  facility_times,
                  indicators_by_unit,
                  lage,
                  plan,
                  prepare_municipalities,
                  pt_departures,
                  scenario,
                  scenario_batch,
                  settlement_types,
                  walk_distances,
                  walkability,
)
from .config import Config, load_config
from .graph import RoadGraph, build_graph, load_graph, save_graph, snap_points
from .io import read_central_places, read_commuters, read_municipalities, read_population_grid
from .pipeline import run
from .routing import Decay

__version__ = "0.1.0"

__all__ = [
                  "AccessibilityError",
                  "Config",
                  "Decay",
                  "GraphError",
                  "InputError",
                  "RoadGraph",
                  "attach",
                  "build_graph",
                  "calibrate_speeds_from_file",
                  "central_places",
                  "collect_destinations",
                  "commuter_indicators",
                  "facility_times",
                  "indicators_by_unit",
                  "lage",
                  "load_config",
                  "load_graph",
                  "plan",
                  "prepare_municipalities",
                  "pt_departures",
                  "read_central_places",
                  "read_commuters",
                  "read_municipalities",
                  "read_population_grid",
                  "run",
                  "save_graph",
                  "scenario",
                  "scenario_batch",
                  "settlement_types",
                  "snap_points",
                  "walk_distances",
                  "walkability",
]
