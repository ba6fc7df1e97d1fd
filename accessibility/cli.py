"""Command-line interface: ``accessibility graph build``, ``accessibility run``, ..."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from ._errors import AccessibilityError

logger = logging.getLogger("accessibility")

#: Input flags of ``run`` and the config keys they override.
INPUT_FLAGS = ("osm", "municipalities", "central_places", "boundaries", "population_grid",
               "commuters", "gtfs")


def _cmd_graph_build(args: argparse.Namespace) -> int:
    from .graph import build_graph, save_graph
    from .pipeline import format_graph_statistics, graph_statistics

    t = time.perf_counter()
    g = build_graph(args.input, args.profile, simplify_graph=not args.no_simplify, crs=args.crs)
    secs = time.perf_counter() - t
    path = save_graph(g, args.output)
    print(format_graph_statistics(graph_statistics(g, secs)))
    print(f"saved {path}")
    return 0


def _cmd_graph_info(args: argparse.Namespace) -> int:
    from .graph import load_graph
    from .pipeline import format_graph_statistics, graph_statistics

    print(format_graph_statistics(graph_statistics(load_graph(args.graph))))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import run, sample_config_path

    overrides = {f"inputs.{k}": getattr(args, k) for k in INPUT_FLAGS if getattr(args, k) is not None}
    config = args.config
    if config is None:
        logger.info("no --config: running the embedded Hannover-Braunschweig sample")
        config = sample_config_path()
    output = args.output if args.output is not None else (None if args.config else Path("out"))
    result = run(config, output_dir=output, overrides=overrides or None)
    print(result.summary)
    print(f"results written to {result.output_dir}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation)."""
    p = argparse.ArgumentParser(
        prog="accessibility",
        description="Central-place accessibility for Germany: car times to Mittel- and "
                    "Oberzentren, 2-hour population potential (Lage), walkable services.")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    p.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("graph", help="build and inspect road graphs")
    gsub = g.add_subparsers(dest="graph_command", required=True)
    b = gsub.add_parser("build", help="build a car graph from an OSM file and save it (.npz)",
                        description="Parse an OSM file (.osm.pbf, .osm, .osm.gz, .osm.bz2) into a "
                                    "simplified car graph, print statistics and save it.")
    b.add_argument("input", help="OSM file")
    b.add_argument("-o", "--output", required=True, help="graph file to write (.npz)")
    b.add_argument("--profile", help="speed profile TOML or built-in name (default osrm-car)")
    b.add_argument("--no-simplify", action="store_true",
                   help="keep every way node and all components")
    b.add_argument("--crs", default="EPSG:25832", help="metric CRS of node coordinates")
    b.set_defaults(func=_cmd_graph_build)
    i = gsub.add_parser("info", help="print statistics of a saved graph")
    i.add_argument("graph", help="graph file (.npz)")
    i.set_defaults(func=_cmd_graph_info)

    r = sub.add_parser("run", help="run the main job (default: the embedded sample)",
                       description="Run every model whose inputs are given and write results "
                                   "per municipality. Without --config the embedded "
                                   "Hannover-Braunschweig sample runs.")
    r.add_argument("--config", type=Path, help="TOML config (see accessibility/data/example_config.toml)")
    r.add_argument("--output", type=Path, help="output directory (default: [output] dir, or ./out)")
    for k in INPUT_FLAGS:
        r.add_argument(f"--{k.replace('_', '-')}", dest=k, type=Path,
                       help=f"overrides [inputs] {k}")
    r.set_defaults(func=_cmd_run)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``accessibility`` command."""
    args = build_parser().parse_args(argv)
    level = logging.WARNING if args.quiet else (logging.DEBUG if args.verbose > 1 else logging.INFO)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except AccessibilityError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
