"""Central-place accessibility for Germany: car times to Mittel- and Oberzentren,
2-hour population potential (Lage), walkable services (Nahversorgung).

The public API, tables in and out (see :mod:`accessibility.api`)::

    import accessibility as acc
    g = acc.build_graph("region.osm.pbf", cache_dir="cache")
    munis = acc.read_municipalities("gemeinden.csv")
    cp = acc.central_places(g, munis, "zentrale_orte.csv")   # t_mz_min, t_oz_min, classes
    lg = acc.lage(g, cp)                                      # potential_2h, lage, settlement_type

Every function takes the road graph first, then the tables, then keyword options.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._errors import AccessibilityError, GraphError, InputError

__version__ = "0.1.0"

# The public names and the module each lives in. They load on first use (PEP 562), so
# that ``accessibility --help`` and a worker that needs one kernel do not import
# geopandas, matplotlib and folium first.
_LAZY = {
    **dict.fromkeys(
        ("LageCalibration", "PlanResult", "PlanSeries", "ScenarioComparison", "attach",
         "calibrate_lage", "calibrate_speeds_from_file", "central_places", "collect_destinations",
         "commuter_indicators", "facility_times", "indicators_by_unit", "isochrones", "lage",
         "lage_from", "nahversorgung", "plan", "prepare_municipalities", "prepare_nahversorgung",
         "pt_departures", "scenario", "scenario_batch", "settlement_types", "time_matrix",
         "walk_distances", "walkability"), ".api"),
    "pt_times": ".api",
    "Config": ".config", "load_config": ".config",
    **dict.fromkeys(("RoadGraph", "build_graph", "load_graph", "save_graph", "snap_points"),
                    ".graph"),
    **dict.fromkeys(("read_central_places", "read_commuters", "read_municipalities",
                     "read_population_grid"), ".io"),
    "run": ".pipeline", "Decay": ".routing", "report_document": ".handin",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value  # once: later lookups are plain attribute reads
        return value
    try:  # the subpackages: accessibility.api, accessibility.routing, ...
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


if TYPE_CHECKING:  # what type checkers and IDEs see
    from .api import (
        LageCalibration,
        PlanResult,
        PlanSeries,
        ScenarioComparison,
        attach,
        calibrate_lage,
        calibrate_speeds_from_file,
        central_places,
        collect_destinations,
        commuter_indicators,
        facility_times,
        indicators_by_unit,
        isochrones,
        lage,
        lage_from,
        nahversorgung,
        plan,
        prepare_municipalities,
        prepare_nahversorgung,
        pt_departures,
        scenario,
        scenario_batch,
        settlement_types,
        time_matrix,
        walk_distances,
        walkability,
    )
    from .config import Config, load_config
    from .graph import RoadGraph, build_graph, load_graph, save_graph, snap_points
    from .handin import report_document
    from .io import read_central_places, read_commuters, read_municipalities, read_population_grid
    from .pipeline import run
    from .routing import Decay

__all__ = [
                  "AccessibilityError",
                  "Config",
                  "Decay",
                  "GraphError",
                  "InputError",
                  "LageCalibration",
                  "PlanResult",
                  "PlanSeries",
                  "RoadGraph",
                  "ScenarioComparison",
                  "attach",
                  "build_graph",
                  "calibrate_lage",
                  "calibrate_speeds_from_file",
                  "central_places",
                  "collect_destinations",
                  "commuter_indicators",
                  "facility_times",
                  "indicators_by_unit",
                  "isochrones",
                  "lage",
                  "lage_from",
                  "load_config",
                  "load_graph",
                  "nahversorgung",
                  "plan",
                  "prepare_municipalities",
                  "prepare_nahversorgung",
                  "pt_departures",
                  "read_central_places",
                  "read_commuters",
                  "read_municipalities",
                  "read_population_grid",
                  "report_document",
                  "run",
                  "save_graph",
                  "scenario",
                  "scenario_batch",
                  "settlement_types",
                  "snap_points",
                  "time_matrix",
                  "walk_distances",
                  "walkability",
]
