"""Shortest-path routing on road graphs: the checked API over the numba kernels.

The models use this package only through the names exported here:

* :mod:`~accessibility.routing.search`: Dijkstra searches (:func:`nearest_facility`,
  :func:`potential`, :func:`one_to_many`, :func:`shortest_path_tree`, ...), the
  :class:`Decay` functions and the result types;
* :mod:`~accessibility.routing.ch`: the :class:`ContractionHierarchy` with its
  bucket, PHAST and RPHAST queries;
* :mod:`~accessibility.routing.repair`: a multi-source search repaired after edge
  changes (:func:`repair_nearest`, kernels in ``_repair_kernels``).

The numba kernels behind them take and return arrays only: ``kernels`` (Dijkstra),
``_ch_kernels`` (parallel contraction), ``_ch_query_kernels`` (bucket queries),
``_phast_kernels`` (PHAST, RPHAST), sharing one home for the priority queues
(``_heap``) and for the decay functions (``_decay``, which :meth:`Decay.weight`
evaluates too). ``_validate`` checks the inputs before they get there.
"""

from ._exact_kernels import exact_rows, exact_rows_by_node, upper_rows, upper_rows_by_node
from .ch import ContractionHierarchy
from .repair import EdgeChanges, edge_changes, repair_nearest
from .search import (
                     CostMatrix,
                     Decay,
                     NearestResult,
                     PotentialResult,
                     decayed_row_sums,
                     nearest_facility,
                     one_to_many,
                     potential,
                     set_threads,
                     shortest_path_tree,
                     time_grid,
                     walk_nearest,
                     warmup,
)

__all__ = [
    "ContractionHierarchy", "CostMatrix", "Decay", "EdgeChanges", "NearestResult",
    "PotentialResult", "decayed_row_sums", "edge_changes", "exact_rows", "exact_rows_by_node",
    "nearest_facility", "one_to_many", "potential",
    "repair_nearest", "set_threads", "shortest_path_tree", "time_grid", "upper_rows",
    "upper_rows_by_node", "walk_nearest", "warmup",
]
