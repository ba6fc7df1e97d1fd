"""``accessibility run``: the main job, from the config to the published results."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import api, compute, report
from .._errors import InputError
from .._util import peak_memory_mb
from ..compute import Executor
from ..config import Config
from ..graph import RoadGraph, attach, cut_nodes, header_bbox
from ..io import write_json, write_text
from . import stages
from .inputs import (
    Inputs,
    check_inputs,
    check_models,
    check_overlap,
    load_config_of_run,
    prepare_graph,
    read_inputs,
)
from .provenance import run_info
from .public_transport import public_transport_stage
from .publish import Output, check_output_dir, staged

logger = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What a run produced."""

    output_dir: Path
    graph: RoadGraph
    municipalities: object = None
    files: dict[str, Path] = field(default_factory=dict)
    summary: str = ""
    stats: dict = field(default_factory=dict)


def run(config: Config | str | Path | None = None, output_dir: str | Path | None = None,
        overrides: dict | None = None, *, overwrite: bool = False) -> RunResult:
    """Run the main job.

    Parameters
    ----------
    config : Config, path or None
        A loaded config or a TOML file. None: the engine's defaults
        (:mod:`accessibility.defaults`) when ``overrides`` give an OSM extract of
        the user's own, else the embedded sample.
    output_dir : path, optional
        Overrides ``[output] dir``.
    overrides : dict, optional
        Dotted keys overriding the config (``{"inputs.osm": "x.pbf"}``).
    overwrite : bool
        Replace files of the last run in the output folder that were changed since it
        wrote them (default: such files stop the run before any work).
    """
    t0 = time.perf_counter()
    config = load_config_of_run(config, overrides)  # the sample's output: ./out
    final = Path(output_dir) if output_dir is not None else Path(config.output.dir)
    check_inputs(config)  # fail before any slow stage, not half-way through
    check_models(config)
    check_output_dir(final, overwrite=overwrite)
    # every input parsed and checked before a Dask cluster starts (seconds) or the graph
    inputs = read_inputs(config)
    # a saved graph (.npz) has no OSM header: its overlap is checked after loading
    is_osm = Path(config.inputs.osm).suffix != ".npz"
    check_overlap(config, inputs, header_bbox(config.inputs.osm) if is_osm else None)
    with staged(final) as out:
        out.info = run_info(config, "run")
        # through the module, so that tests can see whether a cluster was started
        with compute.open_executor(config.compute) as executor:
            result = _run_stages(config, inputs, out, t0, executor)
        result.files = out.publish(result.files)
    result.output_dir = final
    return result


def _run_stages(config: Config, inputs: Inputs, out: Output, t0: float,
                executor: Executor | None = None) -> RunResult:
    munis = inputs.municipalities                                   # 1. inputs, all checked
    graph, summary, stats = prepare_graph(config, munis, inputs)    # 2. graph
    if munis is not None:
        munis = attach(graph, munis, max_snap_m=config.graph.max_snap_m,  # 3. attach once
                       access_speed_kmh=config.graph.access_kmh())
        munis = api.mark_region(graph, munis, ags_prefixes=config.region.ags_prefixes,
                            bbox=config.region.bbox)
        if not munis["in_region"].any():
            raise InputError("no municipality lies in the road extract (and the [region] "
                             "cut): check that the register, the OSM extract and the cut "
                             "describe the same area")
        summary += report.municipalities_section(munis, config.graph.max_snap_m,
                                                  munis.attrs.get("report", []))
        cut = cut_nodes(graph)
        edge = report.edge_rule_lines(None if cut is None else int(cut.sum()),
                                      bool(config.graph.clip))
        summary += edge + [""]
        if cut is None or not cut.any():
            logger.warning(edge[0].replace("**", ""))
        stats["municipalities"] = {"total": len(munis),
                                   "on_network": int(munis["on_network"].sum()),
                                   "in_region": int(munis["in_region"].sum())}
        polygons = api.municipality_polygons(munis, inputs.boundaries)
        models = config.output.models
        # the walk inputs are checked against the walk extract before any routing
        walk = stages.prepare_walk(munis, config, inputs, polygons) if "walk" in models else None
        if inputs.central_places is not None and "central_places" in models:  # 4. models
            munis = stages.central_places_stage(graph, munis, config, inputs, out, polygons, summary)
        elif inputs.central_places is not None:  # settlement types still need the function
            munis, _ = api.join_central_places(munis.drop(columns=["central_place"],
                                                      errors="ignore"), inputs.central_places)
        if "lage" in models:
            munis = stages.lage_stage(graph, munis, config, inputs, out, summary, executor)
        if "indicators" in models:
            munis = stages.indicators_stage(graph, munis, config, inputs, out, polygons, summary)
        if "public_transport" in models:
            munis = public_transport_stage(munis, config, inputs, out, polygons, summary)
        stages.matrix_stage(graph, munis, config, out, summary)
        road_region = munis["in_region"].to_numpy(bool).copy()
        if walk is not None:
            munis = stages.walk_stage(munis, config, walk, out, summary, executor)
        stages.unit_tables_stage(munis, config, out, summary, road_region)
        stages.counts_stage(munis, out, summary, road_region)
        columns = api.column_docs(munis.columns, config.walk.methods
                                  if "walk_residents" in munis.columns else None)
        stages.write_municipalities(munis, columns, config, out, inputs)   # 5. outputs
    out.add("graph_stats", write_json(stats["graph"], out.stage / "graph_stats.json"))
    stats["run_s"] = time.perf_counter() - t0
    summary += [f"Run time {stats['run_s']:.1f} s, peak memory {peak_memory_mb():.0f} MB.", ""]
    text = "\n".join(summary)
    out.add("summary", write_text(text, out.stage / "summary.md"))
    return RunResult(output_dir=out.stage, graph=graph, municipalities=munis, files=out.files,
                     summary=text, stats=stats)

