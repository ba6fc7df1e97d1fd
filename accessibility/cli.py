"""Command-line interface: ``accessibility graph build``, ``accessibility run``, ..."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from . import __version__, defaults
from ._errors import AccessibilityError, ComputeError, InputError

logger = logging.getLogger("accessibility")

#: Input flags of ``run`` and the config keys they override.
INPUT_FLAGS = ("osm", "municipalities", "central_places", "boundaries", "population_grid",
               "commuters", "gtfs", "walk_osm", "facilities", "stations", "airports",
               "destinations", "lage_from")


def _cmd_graph_build(args: argparse.Namespace) -> int:
    from ._crs import check_metric_crs
    from .graph import build_graph, format_graph_statistics, graph_statistics, save_graph
    from .graph.cache import graph_file
    from .io.writers import check_new_file

    check_metric_crs(args.crs, "--crs")
    if not args.force:  # a named file: never replaced silently, and refused before the work
        check_new_file(graph_file(args.output))
    t = time.perf_counter()
    g = build_graph(args.input, args.profile, simplify_graph=not args.no_simplify, crs=args.crs)
    secs = time.perf_counter() - t
    path = save_graph(g, args.output)
    print(format_graph_statistics(graph_statistics(g, secs)))
    print(f"saved {path}")
    return 0


def _cmd_graph_info(args: argparse.Namespace) -> int:
    from .graph import format_graph_statistics, graph_statistics, load_graph

    print(format_graph_statistics(graph_statistics(load_graph(args.graph))))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import run

    config, output, overrides = _run_args(args)
    overrides = dict(overrides or {})
    if args.no_maps:
        overrides["output.maps"] = False
    if args.models:
        overrides["output.models"] = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.unit:
        overrides["output.unit"] = args.unit
    if args.fernbahnhof_rule:
        overrides["destinations.fernbahnhof_rule"] = args.fernbahnhof_rule
    if args.gtfs_date:
        overrides["public_transport.date"] = overrides["walk.gtfs_date"] = args.gtfs_date
    if args.lage_units:
        overrides["lage.units"] = args.lage_units
    if args.pt_origins:
        overrides["public_transport.origins"] = args.pt_origins
    if args.matrix is not None:
        overrides["output.matrix_limit_min"] = args.matrix
    if args.isochrones:
        overrides["output.isochrone_minutes"] = args.isochrones
    if args.clip:
        overrides["graph.clip"] = args.clip
    _dask_overrides(args, overrides)
    result = run(config, output_dir=output, overrides=overrides or None,
                 overwrite=args.overwrite)
    if not args.quiet:
        print(result.summary)
        print(f"results written to {result.output_dir}")
    return 0


def _run_args(args: argparse.Namespace):
    """Config path, output directory and input overrides shared by run-like commands."""
    from .pipeline import own_road_extract, sample_config_path

    overrides = {f"inputs.{k}": getattr(args, k) for k in INPUT_FLAGS if getattr(args, k) is not None}
    if args.cache_dir is not None:
        overrides["graph.cache_dir"] = str(args.cache_dir.expanduser().absolute())
    if args.config is not None:
        config = args.config
    elif own_road_extract(overrides):  # the user's own region: nothing of the sample
        logger.info("no --config: the engine's defaults with the inputs given as flags")
        config = None
    else:
        logger.info("no --config and no --osm: the embedded Hannover-Braunschweig sample"
                    + (" with the inputs given as flags" if overrides else ""))
        config = sample_config_path()
    if getattr(args, "unused_output", None) is not None:
        logger.warning("-o/--output has no effect here (it placed the graph cache, which "
                       "all output folders now share): use --cache-dir to move the cache")
    output = getattr(args, "output", None)  # calibrate and plan write no folder
    if output is None and not args.config:
        output = Path(defaults.OUTPUT_DIR)
    return config, output, overrides or None


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from .pipeline import calibrate

    config, _, overrides = _run_args(args)
    try:  # an input error (exit 2 from main), as the other calibration inputs
        mfs = _factors(args.maxspeed_factors) if args.maxspeed_factors else None
    except argparse.ArgumentTypeError as e:
        raise InputError(f"--maxspeed-factors: {e}") from None
    res = calibrate(config, args.references, out_profile=args.out_profile, overrides=overrides,
                    bounds=(args.min_factor, args.max_factor), iterations=args.iterations,
                    fit_access=args.fit_access,
                    access_bounds_kmh=(args.min_access_kmh, args.max_access_kmh),
                    maxspeed_factors=mfs, overwrite=args.force)
    print("\n".join(res.lines()))
    if args.out_profile:
        print(f"calibrated profile written to {args.out_profile}")
    return 0


def _cmd_calibrate_lage(args: argparse.Namespace) -> int:
    from .pipeline import calibrate_lage

    config, _, overrides = _run_args(args)
    if args.lage_units:
        overrides = {**(overrides or {}), "lage.units": args.lage_units}
    fit = calibrate_lage(config, overrides=overrides, kind=args.decay, target_mean=args.target)
    kind, name, param = fit.decay.kind, fit.parameter_name, fit.parameter
    what = "Gemeindeverbände" if fit.units == "gvb" else "municipalities"
    print(f"decay {kind}: {name} = {param:.6g} gives a mean potential of "
          f"{fit.achieved_mean:,.0f} over {fit.n_municipalities:,} {what} on the network")
    print(f"put into the config:\n[lage]\ndecay = \"{kind}\"\n{name} = {param:.6g}\n"
          f"units = \"{fit.units}\"\ncalibrate = false")
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    from .pipeline import plan

    config, _, overrides = _run_args(args)
    cands = [c.strip() for c in args.candidates.split(",")] if args.candidates else None
    within = [c.strip() for c in args.candidates_in.split(",")] if args.candidates_in else ()
    res = plan(config, overrides=overrides,
               k=args.k[0] if len(args.k) == 1 else args.k,
               objective="set_cover" if args.set_cover else "max_coverage",
               standard_min=args.standard, candidates=cands, candidates_within=within,
               out_file=args.out, overwrite=args.force)
    print("\n".join(res.report))
    if args.out:
        print(f"upgrades written to {args.out}")
    return 0


def _cmd_report_tables(args: argparse.Namespace) -> int:
    from . import api, report
    from .io import write_text
    from .pipeline.publish import check_output_dir, staged

    t = time.perf_counter()
    # like a run: the folder first, then the work; files published all at once, and
    # only over this command's own earlier files
    check_output_dir(args.output, overwrite=args.overwrite)
    tables = api.report_tables(args.municipalities, args.central_places,
                               function=args.function, unpopulated=args.unpopulated)
    lines = report.national_tables_section(
        tables, municipalities=str(args.municipalities),
        central_places=str(args.central_places), seconds=time.perf_counter() - t)
    with staged(args.output) as out:
        for key, table in tables.items():
            out.table(key, table, f"{key}.csv")
        out.add("summary", write_text("\n".join(lines) + "\n", out.stage / "summary.md"))
        out.publish(out.files)
    print(report.md_table(tables["settlement_type_counts"], "{:,.1f}"))
    print(f"wrote {len(tables)} tables and summary.md to {args.output}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .handin import report_document

    done = report_document(args.run_dir, lang=args.lang, pdf=args.output, html=args.html,
                           overwrite=args.force)
    print(f"wrote {done.pdf} ({done.pages} pages)" + (f" and {done.html}" if done.html else ""))
    return 0


def _numbers(kind: type, example: str, *, count: int | None = None, minimum: float | None = None):
    """An argparse type for comma-separated numbers (``15,30,60``): ``kind`` of each,
    exactly ``count`` of them, none below ``minimum``; a usage error names the example."""
    def parse(text: str) -> list:
        try:
            values = [kind(v) for v in text.split(",") if v.strip()]
        except ValueError:
            values = []
        if (not values or (count is not None and len(values) != count)
                or (minimum is not None and min(values) < minimum)):
            raise argparse.ArgumentTypeError(f"expected {example}, got {text!r}")
        return values
    return parse


#: ``--clip``: lon/lat of two corners.
_box = _numbers(float, "four numbers lon_min,lat_min,lon_max,lat_max", count=4)
#: ``--isochrones``: minutes.
_minutes_list = _numbers(float, "minutes separated by commas, like 15,30,60", minimum=0.0)
#: ``--k``: numbers of upgrades.
_ks = _numbers(int, "whole numbers of upgrades of at least 1, like 3 or 1,2,3", minimum=1)
#: ``--maxspeed-factors``: the factors to try.
_factors = _numbers(float, "numbers separated by commas, e.g. 0.75,0.8,0.9,1.0", minimum=0.0)


def _dask_overrides(args: argparse.Namespace, overrides: dict) -> None:
    """``--dask [ADDRESS|N]``: the scheduler at ADDRESS, or a local cluster of N workers."""
    if getattr(args, "dask", None) is None:
        return
    overrides["compute.scheduler"] = "dask"
    if args.dask.isdigit():
        overrides["compute.n_workers"] = int(args.dask)
    elif args.dask:
        overrides["compute.address"] = args.dask


def _is_scenario(path: Path) -> bool:
    """Whether ``path`` reads as a scenario (a run config does not: its sections
    are not a scenario's)."""
    from .models.scenario import read_scenario

    try:
        read_scenario(path)
    except InputError:
        return False
    return True


def _cmd_scenario(args: argparse.Namespace) -> int:
    from .pipeline import scenario, scenarios

    files = [Path(f) for f in args.files]
    if args.config is None and len(files) >= 2 and not _is_scenario(files[0]):
        args.config, files = files[0], files[1:]  # CONFIG SCENARIO...
    config, output, overrides = _run_args(args)
    overrides = dict(overrides or {})
    _dask_overrides(args, overrides)
    overrides = overrides or None
    if len(files) == 1:
        results = [scenario(config, files[0], output_dir=output, overrides=overrides,
                            overwrite=args.overwrite)]
    else:
        results = scenarios(config, files, output_dir=output, overrides=overrides,
                            overwrite=args.overwrite)
    if not args.quiet:
        for res in results:
            print(res.summary)
            print(f"results written to {res.output_dir}")
    return 0


def _add_run_inputs(r: argparse.ArgumentParser, output: bool = True) -> None:
    r.add_argument("--config", type=Path, help="TOML config (see accessibility/data/example_config.toml)")
    if output:
        r.add_argument("-o", "--output", type=Path,
                       help="output directory (default: [output] dir, or ./out)")
    else:  # calibrate and plan write no folder: -o only placed their cache (now shared)
        r.add_argument("-o", "--output", type=Path, dest="unused_output", help=argparse.SUPPRESS)
    r.add_argument("--cache-dir", type=Path, metavar="DIR",
                   help="graph cache shared by all output folders (default: [graph] cache_dir, "
                        f"else ${defaults.CACHE_DIR_ENV}, else the user's cache directory)")
    for k in INPUT_FLAGS:
        r.add_argument(f"--{k.replace('_', '-')}", dest=k, type=Path,
                       help=f"overrides [inputs] {k}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation)."""
    p = argparse.ArgumentParser(
        prog="accessibility",
        description="Central-place accessibility for Germany: car times to Mittel- and "
                    "Oberzentren, 2-hour population potential (Lage), walkable services.")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print nothing but warnings and errors (no summary)")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("graph", help="build and inspect road graphs")
    gsub = g.add_subparsers(dest="graph_command", required=True)
    b = gsub.add_parser("build", help="build a car graph from an OSM file and save it (.npz)",
                        description="Parse an OSM file (.osm.pbf, .osm, .osm.gz, .osm.bz2) into a "
                                    "simplified car graph, print statistics and save it.")
    b.add_argument("input", help="OSM file")
    b.add_argument("-o", "--output", required=True, help="graph file to write (.npz; a new file)")
    b.add_argument("--force", action="store_true", help="replace an existing graph file")
    b.add_argument("--profile", help=f"speed profile TOML or built-in name (default {defaults.PROFILE})")
    b.add_argument("--no-simplify", action="store_true",
                   help="keep every way node and all components")
    b.add_argument("--crs", default=defaults.METRIC_CRS,
                   help=f"metric CRS of node coordinates ({defaults.METRIC_CRS})")
    b.set_defaults(func=_cmd_graph_build)
    i = gsub.add_parser("info", help="print statistics of a saved graph",
                        description="Print node and edge counts, km by road class and what the "
                                    "simplification dropped, for a graph saved by 'graph build'.")
    i.add_argument("graph", help="graph file (.npz)")
    i.set_defaults(func=_cmd_graph_info)

    r = sub.add_parser("run", help="run the main job (default: the embedded sample)",
                       description="Run every model whose inputs are given and write results "
                                   "per municipality. Without --config and --osm the embedded "
                                   "Hannover-Braunschweig sample runs. Exit codes: 0 done, 1 "
                                   "the run failed, 2 bad input or usage.")
    _add_run_inputs(r)
    r.add_argument("--no-maps", action="store_true", help="write no PNG maps")
    r.add_argument("--models", help="comma-separated models to run: central_places, lage, "
                                    "indicators, walk, public_transport (default: all whose "
                                    "inputs are given)")
    r.add_argument("--fernbahnhof-rule", choices=defaults.FERNBAHNHOF_RULES,
                   help="which stations of the DB station table are Fernbahnhöfe: "
                        "ic_ec_ice (every IC/EC/ICE stop, as BBSR; default) or price_class "
                        "(DB price class 1-3 besides); [destinations] fernbahnhof_rule")
    r.add_argument("--gtfs-date", metavar="YYYY-MM-DD",
                   help="service day of the GTFS feed for the public-transport times "
                        "([public_transport] date) and the stop departures ([walk] gtfs_date)")
    r.add_argument("--pt-origins", choices=("point", "population"),
                   help="where the public-transport trips start: the reference point "
                        "(default) or every populated cell of --population-grid "
                        "([public_transport] origins)")
    r.add_argument("--unit", choices=("gvb", "gemeinde"),
                   help="reporting unit of the tables, maps and summary: gvb "
                        "(Gemeindeverband, as the BBSR report; default) or gemeinde")
    r.add_argument("--lage-units", choices=("gvb", "municipality"),
                   help="origins and destinations of the Lage's potential: gvb (the "
                        "Gemeindeverbände at their settlement centres, as BBSR; default) "
                        "or municipality ([lage] units)")
    r.add_argument("--matrix", type=float, metavar="MIN",
                   help="also write matrix.parquet: car times between the municipalities "
                        "within MIN minutes")
    r.add_argument("--isochrones", metavar="MIN,MIN,...", type=_minutes_list,
                   help="also write isochrones.gpkg around the Mittel- and Oberzentren, "
                        "e.g. 15,30,60")
    r.add_argument("--overwrite", action="store_true",
                   help="replace files of the last run that were changed since (default: "
                        "such files stop the run before any work)")
    r.add_argument("--clip", type=_box, metavar="LON_MIN,LAT_MIN,LON_MAX,LAT_MAX",
                   help="the box the OSM extract was cut with: the graph is cropped to it so "
                        "that the edge flags are exact ([graph] clip)")
    r.add_argument("--dask", nargs="?", const="", metavar="ADDRESS|N",
                   help="run the Lage origins and the walkability tiles as Dask tasks: on the "
                        "scheduler at ADDRESS (tcp://host:8786), or on a local cluster of N "
                        "workers (default [compute] n_workers); [compute] in the config")
    r.set_defaults(func=_cmd_run)

    c = sub.add_parser("calibrate", help="fit the car speeds to reference times",
                       description="Fit per-road-class speed factors (least squares with bounds) "
                                   "to reference car times and report the error before and after; "
                                   "optionally also the access-leg speed and the profile's "
                                   "maxspeed factor. REFERENCES is a CSV with either origin_ags, "
                                   "destination (an AGS, 'nearest OZ' or 'nearest MZ') and "
                                   "minutes, or (INKAR) gvb_ars9, t_oz_min, t_mz_min: the "
                                   "area-weighted mean time of each Gemeindeverband's members "
                                   "to the nearest OZ / MZ (only GVBs wholly on the network "
                                   "count).")
    c.add_argument("references", type=Path, help="CSV of reference travel times")
    c.add_argument("--out-profile", type=Path,
                   help="write the calibrated speed profile (TOML; a new file)")
    c.add_argument("--force", action="store_true", help="replace an existing --out-profile")
    lo, hi = defaults.CALIBRATION_BOUNDS
    c.add_argument("--min-factor", type=float, default=lo, help=f"lowest speed factor ({lo})")
    c.add_argument("--max-factor", type=float, default=hi, help=f"highest speed factor ({hi})")
    c.add_argument("--iterations", type=int, default=defaults.CALIBRATION_ITERATIONS,
                   help=f"route-and-refit rounds ({defaults.CALIBRATION_ITERATIONS})")
    c.add_argument("--fit-access", action="store_true",
                   help="also fit the speed of the access legs (reference point to the network; "
                        "[graph] access_speed_kmh)")
    alo, ahi = defaults.ACCESS_BOUNDS_KMH
    c.add_argument("--min-access-kmh", type=float, default=alo,
                   help=f"lowest access-leg speed with --fit-access ({alo:g})")
    c.add_argument("--max-access-kmh", type=float, default=ahi,
                   help=f"highest access-leg speed with --fit-access ({ahi:g})")
    c.add_argument("--maxspeed-factors",
                   help="also fit the profile's maxspeed factor: comma-separated values to try, "
                        "e.g. 0.75,0.8,0.85,0.9,0.95,1.0 (the graph is built once per value)")
    _add_run_inputs(c, output=False)
    c.set_defaults(func=_cmd_calibrate)

    cl = sub.add_parser("calibrate-lage", help="fit the decay so the mean potential hits a target",
                        description="Fit the distance-decay parameter of the 2-hour potential so "
                                    "that the mean over all units (Gemeindeverbände, or "
                                    "municipalities) equals the target "
                                    "(BBSR mean 183,000) and print it.")
    cl.add_argument("--decay", choices=["exponential", "gaussian", "power"],
                    help="decay kind (default: [lage] decay)")
    cl.add_argument("--target", type=float, help="target mean (default: [lage] target_mean)")
    cl.add_argument("--lage-units", choices=("gvb", "municipality"),
                    help="units of the mean: gvb (the Gemeindeverbände, default) or "
                         "municipality ([lage] units)")
    _add_run_inputs(cl, output=False)
    cl.set_defaults(func=_cmd_calibrate_lage)

    pl = sub.add_parser("plan", help="which municipalities to upgrade to Mittelzentrum",
                        description="Choose the k candidates (default: Grundzentren) whose "
                                    "upgrade to Mittelzentrum brings the most residents within "
                                    "the accessibility standard (maximal covering), or with "
                                    "--set-cover the fewest upgrades that bring everyone within "
                                    "it; solved exactly (scipy.optimize.milp, HiGHS), with the "
                                    "greedy answer and the gap.")
    pl.add_argument("--k", type=_ks, default=[1], metavar="K[,K...]",
                    help="number of upgrades (default 1); several, e.g. 1,2,3, give one plan "
                         "each in one table")
    pl.add_argument("--set-cover", action="store_true",
                    help="fewest upgrades that bring every coverable municipality within")
    pl.add_argument("--standard", type=float,
                    help="standard in minutes (default [central_places] standard_mz_min, 30)")
    pl.add_argument("--candidates", help="comma-separated central-place functions or AGS "
                                         "(default: Grundzentrum, Grundzentrum mit MZ-Teilfunktion)")
    pl.add_argument("--candidates-in", metavar="PREFIX[,PREFIX...]",
                    help="only candidates whose AGS starts with one of these: a Land (03 = "
                         "Niedersachsen), a Kreis (03151) ...; the demand stays the whole "
                         "region")
    pl.add_argument("--out", type=Path, help="write the upgrades to this CSV (a new file), or "
                    "to a .gpkg: a layer at their reference points")
    pl.add_argument("--force", action="store_true", help="replace an existing --out")
    _add_run_inputs(pl, output=False)
    pl.set_defaults(func=_cmd_plan)

    rt = sub.add_parser("report-tables", help="the national tables that need no road graph",
                        description="Settlement types (settlement_type_counts.csv, beside "
                                    "BBSR's 2019 counts), Tab. 1 per Land "
                                    "(settlement_types_by_land.csv) and Tab. 3's function "
                                    "columns (table_function_by_type.csv) from the register "
                                    "and the central places alone, with summary.md.")
    rt.add_argument("--municipalities", type=Path, required=True,
                    help="the municipality register (e.g. the Destatis GV-ISys CSV)")
    rt.add_argument("--central-places", type=Path, required=True,
                    help="central-place functions (ags, zo_funktion); an older file in the "
                         "same format gives that year's designations")
    rt.add_argument("--output", "-o", type=Path, required=True,
                    help="folder for the tables (replaces only the files an earlier "
                         "report-tables or run wrote there, and only if unchanged)")
    rt.add_argument("--overwrite", action="store_true",
                    help="replace files of the last report-tables that were changed since")
    rt.add_argument("--function", choices=["highest", "largest"], default="highest",
                    help="which member's function counts for the GVB (default highest)")
    rt.add_argument("--unpopulated", choices=["landgemeinde", "exclude"],
                    default="landgemeinde",
                    help="unpopulated areas count as Landgemeinden as in BBSR's counts "
                         "(default) or not at all")
    rt.set_defaults(func=_cmd_report_tables)

    rd = sub.add_parser("report", help="the document to hand in (PDF, HTML) from a run folder",
                        description="One PDF (and with --html the same pages as one "
                                    "self-contained HTML file) from a finished run or "
                                    "scenario folder: title page with the inputs, the "
                                    "summary tables, every map, the report's cross-tables, "
                                    "the standards, the exactness pages; a scenario's "
                                    "before/after pages. Reads the folder only.")
    rd.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                    help="the output folder of `accessibility run` or `scenario`")
    rd.add_argument("--lang", choices=["de", "en"], default="de",
                    help="language of the document (default German)")
    rd.add_argument("--output", "-o", type=Path,
                    help="the PDF (default RUN_DIR/report-LANG.pdf; a new file)")
    rd.add_argument("--html", type=Path, help="also the same document as HTML (a new file)")
    rd.add_argument("--force", action="store_true", help="replace existing output files")
    rd.set_defaults(func=_cmd_report)

    sc = sub.add_parser("scenario", help="what-if: base and scenario side by side",
                        description="Compute the base and a scenario (changes of central-place "
                                    "functions, populations, road speeds or closed areas; the "
                                    "TOML format: README, 'What-if scenarios') and "
                                    "write the difference per municipality and GVB, residents "
                                    "moving between classes, maps and a summary.")
    sc.add_argument("files", nargs="+", metavar="[CONFIG] SCENARIO",
                    help="the run's config (optional; default the sample or the flags) and "
                         "one or more scenario TOMLs; several are a batch: the base "
                         "computed once, each scenario a [compute] task, results in "
                         "OUTPUT/<file name>/ (without -o: [output] dir/scenario-<file "
                         "name>/)")
    _add_run_inputs(sc)
    sc.add_argument("--dask", nargs="?", const="", metavar="ADDRESS|N",
                    help="run the scenarios of a batch as Dask tasks (see run --dask)")
    sc.add_argument("--overwrite", action="store_true",
                    help="replace files of the last scenario run that were changed since")
    sc.set_defaults(func=_cmd_scenario)
    return p


def _os_error(e: OSError) -> str:
    """One line for an operating-system error that ended a command: what, where, and
    what to check (the inputs were checked before any work, so it is a write)."""
    import errno

    where = f" ({e.filename})" if e.filename else ""
    if e.errno == errno.EFBIG:
        fix = ("a file grew beyond the file-size limit of this session (ulimit -f): raise "
               "the limit or write to another file system")
    elif e.errno == errno.ENOSPC:
        fix = "the disk is full: free space or choose another --output"
    elif e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "no permission to write there: choose a writable --output (or --cache-dir)"
    else:
        fix = "check that the output folder is a writable folder with free space"
    return (f"{e.strerror or e}{where}: the command failed and left the previous results as "
            f"they were; {fix}.")


#: What Ctrl-C prints: a publish in progress was completed before (see
#: pipeline/publish.py), so every output folder holds one whole run.
INTERRUPTED = ("interrupted (Ctrl-C): stopped. Every output folder holds one whole run: "
               "the previous results, or this run's if it was publishing them.")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``accessibility`` command."""
    try:  # Ctrl-C while the parser is built: one line, as later
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    level = logging.WARNING if args.quiet else (logging.DEBUG if args.verbose > 1 else logging.INFO)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except ComputeError as e:  # the Dask cluster failed: the run failed, not the input
        print(f"error: {e}", file=sys.stderr)
        return 1
    except AccessibilityError as e:  # bad input or usage: the message says how to fix it
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except BrokenPipeError:  # `accessibility graph info g.npz | head`
        sys.stderr.close()
        return 0
    except OSError as e:  # disk full, read-only folder, an output path that is a file
        print(f"error: {_os_error(e)}", file=sys.stderr)
        return 1
    except Exception as e:  # a bug: one line for the user, the traceback with -vv
        logger.debug("traceback", exc_info=True)
        print(f"error: internal error {type(e).__name__}: {e}. The previous results are "
              "untouched; please report this with the output of -vv.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
