"""The public Python API: one plain function per model, tables in and out.

Every function takes the road graph first (a built
:class:`~accessibility.graph.RoadGraph` or a path: an OSM file, built and cached,
or a saved ``.npz``), then DataFrames or GeoDataFrames, then keyword-only options
whose defaults live in :mod:`accessibility.defaults` (the order of osmnx, pandana,
r5py and scipy.sparse.csgraph: the network, then what is placed on it; where the
network is optional, as the walk graph of :func:`walk_distances`, it is a keyword). Results are GeoDataFrames with one row per
municipality; missing values are NaN (with a ``reason`` where it helps), and the
lines a run's summary shows are in ``.attrs["report"]``. The command line
(:mod:`accessibility.pipeline`) calls these same functions, with the same options,
and gets the same columns.

Rooms: :mod:`.car` (central places, Lage, planning, matrices, calibration),
:mod:`.indicators` (further indicators), :mod:`.walk` (Nahversorgung),
:mod:`.scenario` (what-if), :mod:`.tables` (the report's tables).

Typical use::

    import accessibility as acc
    g = acc.build_graph("niedersachsen-latest.osm.pbf", cache_dir="cache")
    munis = acc.read_municipalities("gemeinden.csv")
    cp = acc.central_places(g, munis, "zentrale_orte.csv")
    lage = acc.lage(g, cp)
"""

from ..graph import attach, point_coordinates
from ..models.lage import LageCalibration, at_virtual_nodes
from ..models.municipalities import mark_region, municipality_polygons, prepare_municipalities
from ..models.planning import PlanResult, PlanSeries
from ..models.scenario import Scenario, ScenarioComparison, compare, read_scenario
from ..routing import Decay
from ._common import as_graph
from .car import (
                  calibrate_lage,
                  calibrate_speeds_from_file,
                  central_places,
                  isochrones,
                  join_central_places,
                  lage,
                  lage_from,
                  plan,
                  settlement_types,
                  time_matrix,
)
from .indicators import (
                  collect_destinations,
                  commuter_indicators,
                  facility_times,
                  indicators_by_unit,
                  pt_departures,
)
from .public_transport import pt_change, pt_times, pt_vs_car, residents_within
from .scenario import ScenarioModels, scenario, scenario_batch, scenario_batch_runs, scenario_runs
from .tables import (
                  LAGE_UNKNOWN,
                  MEMBER_COLUMNS,
                  STANDARD_CLASSES,
                  class_rows,
                  class_shares,
                  column_docs,
                  covers_germany,
                  exact_lage,
                  function_type_lage,
                  function_type_lage_counts,
                  group_indicators,
                  gvb_table,
                  kreis_lage,
                  lage_summary,
                  lage_tables,
                  left_out,
                  members,
                  moves,
                  mz_oz_by_lage,
                  mz_oz_by_lage_counts,
                  report_tables,
                  run_covers_germany,
                  standard_class,
                  standards_table,
                  unit_rows,
                  unpopulated,
                  walk_by_unit,
                  weighted_means,
)
from .walk import (
                  Nahversorgung,
                  WalkInputs,
                  nahversorgung,
                  prepare_nahversorgung,
                  services_reached,
                  walk_distances,
                  walk_facilities,
                  walkability,
)

__all__ = [
                  "LAGE_UNKNOWN",
                  "MEMBER_COLUMNS",
                  "STANDARD_CLASSES",
                  "Decay",
                  "LageCalibration",
                  "Nahversorgung",
                  "PlanResult",
                  "PlanSeries",
                  "Scenario",
                  "ScenarioComparison",
                  "ScenarioModels",
                  "WalkInputs",
                  "as_graph",
                  "at_virtual_nodes",
                  "attach",
                  "calibrate_lage",
                  "calibrate_speeds_from_file",
                  "central_places",
                  "class_rows",
                  "class_shares",
                  "collect_destinations",
                  "column_docs",
                  "commuter_indicators",
                  "compare",
                  "covers_germany",
                  "exact_lage",
                  "facility_times",
                  "function_type_lage",
                  "function_type_lage_counts",
                  "group_indicators",
                  "gvb_table",
                  "indicators_by_unit",
                  "isochrones",
                  "join_central_places",
                  "kreis_lage",
                  "lage",
                  "lage_from",
                  "lage_summary",
                  "lage_tables",
                  "left_out",
                  "mark_region",
                  "members",
                  "moves",
                  "municipality_polygons",
                  "mz_oz_by_lage",
                  "mz_oz_by_lage_counts",
                  "nahversorgung",
                  "plan",
                  "point_coordinates",
                  "prepare_municipalities",
                  "prepare_nahversorgung",
                  "pt_change",
                  "pt_departures",
                  "pt_times",
                  "pt_vs_car",
                  "read_scenario",
                  "report_tables",
                  "residents_within",
                  "run_covers_germany",
                  "scenario",
                  "scenario_batch",
                  "scenario_batch_runs",
                  "scenario_runs",
                  "services_reached",
                  "settlement_types",
                  "standard_class",
                  "standards_table",
                  "time_matrix",
                  "unit_rows",
                  "unpopulated",
                  "walk_by_unit",
                  "walk_distances",
                  "walk_facilities",
                  "walkability",
                  "weighted_means",
]
