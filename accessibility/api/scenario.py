"""What-if scenarios: base and scenario side by side (the runs themselves are in
:mod:`accessibility.models.scenario`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .. import defaults
from .._errors import InputError
from .._util import show as _show
from ..compute import Executor
from ..graph import RoadGraph
from ..io import read_central_places
from ..models.lage import LageCalibration
from ..models.scenario import (
    Scenario,
    ScenarioComparison,
    compared,
    read_scenario,
    run_base_and_scenario,
    run_batch,
)
from ..routing import Decay
from . import car
from ._common import as_graph, attached


class ScenarioModels:
    """What a scenario compares: the central places with the accessibility
    standards and, with populations, the Lage (each municipality's own class: no
    reporting unit). A class, not a closure, so Dask workers can unpickle it."""

    def __init__(self, commuters: pd.DataFrame | None = None, lage: bool = True,
                 decay: Decay | None = None, *,
                 standard_mz_min: float = defaults.STANDARD_MZ_MIN,
                 standard_oz_min: float = defaults.STANDARD_OZ_MIN,
                 gz_with_mz_is_mz: bool = defaults.GZ_WITH_MZ_IS_MZ,
                 limit_min: float = defaults.LIMIT_MIN,
                 thresholds=defaults.LAGE_THRESHOLDS, engine: str = defaults.ENGINE,
                 cache_dir: str | Path | None = None, units: str = defaults.LAGE_UNITS):
        # a fit's decay travels, not its pair table (the scenario's graph differs)
        self.decay = decay.decay if isinstance(decay, LageCalibration) else decay
        self.commuters, self.lage = commuters, lage
        self.standards = {"standard_mz_min": standard_mz_min,
                          "standard_oz_min": standard_oz_min}
        self.gz_with_mz_is_mz = gz_with_mz_is_mz
        self.lage_options = {"limit_min": limit_min, "thresholds": tuple(thresholds),
                             "engine": engine, "cache_dir": cache_dir, "units": units}

    def __call__(self, graph: RoadGraph, munis: pd.DataFrame, central_places: pd.DataFrame
                 ) -> pd.DataFrame:
        res = car.central_places(graph, munis, central_places, unit=None,
                                 gz_with_mz_is_mz=self.gz_with_mz_is_mz, **self.standards)
        if self.lage and pd.to_numeric(res["population"], errors="coerce").notna().any():
            res = car.lage(graph, res, commuters=self.commuters, unit=None,
                           **({"decay": self.decay} if self.decay is not None else {}),
                           **self.lage_options)
        return res


def _inputs(graph, municipalities, central_places):
    g = as_graph(graph)
    if not isinstance(municipalities, pd.DataFrame):
        raise InputError(f"municipalities must be a DataFrame, got {type(municipalities).__name__}")
    cp = (read_central_places(central_places) if isinstance(central_places, (str, Path))
          else central_places)
    return g, attached(g, municipalities, None, None), cp


def scenario_runs(graph: RoadGraph | str | Path, municipalities: pd.DataFrame,
                  central_places: pd.DataFrame | str | Path, changes: Scenario, models
                  ) -> tuple[pd.DataFrame, pd.DataFrame, RoadGraph, dict]:
    """Base and scenario results of ``models`` (e.g. a :class:`ScenarioModels`):
    :func:`accessibility.models.scenario.run_base_and_scenario` on the graph and
    the attached municipalities."""
    return run_base_and_scenario(*_inputs(graph, municipalities, central_places), changes,
                                 models)


def scenario_batch_runs(graph: RoadGraph | str | Path, municipalities: pd.DataFrame,
                        central_places: pd.DataFrame | str | Path,
                        scenarios: Sequence[Scenario], models,
                        executor: Executor | None = None, *,
                        state_dir: str | Path | None = None) -> list[tuple]:
    """:func:`scenario_runs` for several scenarios, the base once
    (:func:`accessibility.models.scenario.run_batch`; ``state_dir``: where a Dask
    batch writes the inputs its workers keep)."""
    return run_batch(*_inputs(graph, municipalities, central_places), list(scenarios), models,
                     executor, state_dir=state_dir)


def scenario(graph: RoadGraph | str | Path, municipalities: pd.DataFrame,
             central_places: pd.DataFrame | str | Path, changes: Scenario | str | Path, *,
             commuters: pd.DataFrame | None = None, lage: bool = True,
             decay: Decay | LageCalibration | None = None) -> ScenarioComparison:
    """Base and scenario side by side: the change of every indicator per municipality.

    Parameters
    ----------
    graph : RoadGraph or path
    municipalities : DataFrame
        Attached municipalities (:func:`attach`; ``in_region`` when present).
    central_places : DataFrame or path
        The base designations.
    changes : Scenario or path
        The scenario (:func:`accessibility.models.scenario.read_scenario`).
    commuters : DataFrame, optional
        For the daytime population of the Lage.
    lage : bool
        Also compare the Lage (needs populations).
    decay : Decay or LageCalibration, optional
        The Lage's decay (default exponential, beta 0.076); a fit of
        :func:`calibrate_lage` on the base gives its decay to both runs (a scenario
        never refits it).

    Returns
    -------
    ScenarioComparison
        ``table``: :func:`accessibility.models.scenario.compare` of the region's
        municipalities (central places with the standards' columns, the Lage);
        ``name``; ``road_changes``: what the roads scenario did.
    """
    sc = changes if isinstance(changes, Scenario) else read_scenario(changes)
    base, scen, _, info = scenario_runs(graph, municipalities, central_places, sc,
                                        ScenarioModels(commuters, lage, decay))
    return compared(base, scen, info, sc)


def scenario_batch(graph: RoadGraph | str | Path, municipalities: pd.DataFrame,
                   central_places: pd.DataFrame | str | Path,
                   scenarios: Sequence[Scenario | str | Path], *,
                   commuters: pd.DataFrame | None = None, lage: bool = True,
                   decay: Decay | LageCalibration | None = None, executor: Executor | None = None
                   ) -> dict[str, ScenarioComparison]:
    """Several scenarios against one base: the base is computed once, each scenario
    is an independent task (of ``executor``, e.g. on Dask workers; in this process
    without one).

    Parameters are those of :func:`scenario`; ``scenarios`` are Scenario objects or
    TOML files. Returns ``{scenario name: ScenarioComparison}``, each as
    :func:`scenario` returns it (identical values).
    """
    scs = [s if isinstance(s, Scenario) else read_scenario(s) for s in scenarios]
    names = [s.name for s in scs]
    if len(set(names)) != len(names):
        raise InputError(f"scenario names repeat ({_show(names)}): give each its own name")
    runs = scenario_batch_runs(graph, municipalities, central_places, scs,
                               ScenarioModels(commuters, lage, decay), executor)
    return {sc.name: compared(b, s, info, sc) for sc, (b, s, _, info) in zip(scs, runs)}
