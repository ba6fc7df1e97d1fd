"""A run for all of Germany (or any region) from the national inputs.

The recipe a batch job uses: the defaults of :mod:`accessibility.defaults` (never the
embedded sample's settings), the contraction hierarchy for the 2-hour potential
(``[lage] engine = "ch"``, minutes instead of hours for 11,000 municipalities), and
the national register even with a regional extract: municipalities farther than
``max_snap_m`` from the network are reported and left out, never snapped across
the map. Inputs come from ``scripts/download_inputs.py``.

Examples
--------
    python scripts/national_run.py --osm data/germany-latest.osm.pbf \\
        --municipalities data/gemeinden.csv --central-places data/zentrale_orte.csv \\
        --output results/germany
    python scripts/national_run.py --config my.toml --output results/region
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import accessibility as acc
from accessibility._errors import AccessibilityError

logger = logging.getLogger("national_run")

INPUTS = ("osm", "municipalities", "central_places", "boundaries", "population_grid",
          "commuters", "gtfs", "walk_osm")


def build_config(args: argparse.Namespace) -> acc.Config:
    """The config of the run: a TOML file or the defaults, with the flags on top."""
    overrides = {f"inputs.{k}": str(getattr(args, k)) for k in INPUTS
                 if getattr(args, k) is not None}
    overrides["lage.engine"] = args.engine
    if args.max_snap_m is not None:
        overrides["graph.max_snap_m"] = args.max_snap_m
    if args.no_maps:
        overrides["output.maps"] = False
    return acc.load_config(args.config, overrides)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", type=Path, help="TOML config (default: the engine's defaults)")
    for k in INPUTS:
        p.add_argument(f"--{k.replace('_', '-')}", dest=k, type=Path, help=f"[inputs] {k}")
    p.add_argument("--output", type=Path, required=True, help="output folder")
    p.add_argument("--engine", choices=["ch", "dijkstra"], default="ch",
                   help="2-hour potential: contraction hierarchy (ch, default) or dijkstra")
    p.add_argument("--max-snap-m", type=float, help="snapping limit in m")
    p.add_argument("--no-maps", action="store_true", help="skip the PNG maps")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    t = time.perf_counter()
    try:
        res = acc.run(build_config(args), output_dir=args.output)
    except AccessibilityError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    m = res.municipalities
    n_on = int(m["on_network"].sum()) if m is not None else 0
    logger.info("%d of %d municipalities on the network; %d files in %s; %.0f s",
                n_on, 0 if m is None else len(m), len(res.files), res.output_dir,
                time.perf_counter() - t)
    return 0


if __name__ == "__main__":
    sys.exit(main())
