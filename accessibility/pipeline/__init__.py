"""The main job and the other commands: configuration in, results and reports out.

A run (:func:`run`), in the order of :func:`accessibility.pipeline.run._run_stages`:

1. read and check the inputs (:mod:`.inputs`), before anything slow;
2. build or load the car graph (:mod:`accessibility.graph`, cached);
3. attach the municipalities to it, once (:func:`accessibility.attach`);
4. the models, through the public API (:mod:`accessibility.api`), one stage each
   (:mod:`.stages`): central places, Lage and settlement types, further indicators,
   Nahversorgung;
5. tables, maps and the Markdown report (:mod:`accessibility.report`);
6. publish (:mod:`.publish`): every file is written into a staging directory and
   moved into place only when the run succeeded; a manifest records what a run
   wrote, so that the next run replaces exactly those files and never touches
   anything else.

The other commands (:mod:`.commands`): ``calibrate``, ``calibrate-lage``, ``plan``,
``scenario``.
"""

from .commands import calibrate, calibrate_lage, plan, scenario, scenarios
from .inputs import (
                     Inputs,
                     Prepared,
                     check_inputs,
                     graph_and_municipalities,
                     own_road_extract,
                     read_inputs,
                     sample_config_path,
                     sample_dir,
)
from .publish import JOURNAL, MANIFEST, complete_publish
from .run import RunResult, run

__all__ = ["JOURNAL", "MANIFEST", "Inputs", "Prepared", "RunResult", "calibrate",
           "calibrate_lage", "check_inputs", "complete_publish", "graph_and_municipalities",
           "own_road_extract", "plan", "read_inputs", "run", "sample_config_path",
           "sample_dir", "scenario", "scenarios"]
