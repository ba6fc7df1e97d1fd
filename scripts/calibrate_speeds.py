"""Calibrate the car speeds against the published INKAR car times, and report how
close the model comes before and after, in sample and on held-out GVBs.

INKAR publishes, per multi-member Gemeindeverband, the area-weighted mean car time
of its members to the nearest Oberzentrum and Mittelzentrum
(``../shared/data/reference/inkar_2020_car_times_multi_member_gvb.csv``). The
recipe:

1. build the graph and attach the municipalities of the config (or the flags);
2. read the INKAR table (``gvb_ars9``, ``t_oz_min``, ``t_mz_min``, ``n_members``)
   with :func:`accessibility.io.read_reference_times`. A GVB counts only when every
   member is on the network and, per indicator, no central place beyond the
   network is nearer in straight line to any member; the others are listed as
   skipped with the reason;
3. fit the per-road-class speed factors and the access-leg speed to the GVB means
   (:func:`accessibility.models.calibration.calibrate_speeds`: each GVB mean is the
   area-weighted sum of its members' routes, so the bounded least squares fits
   what INKAR publishes), for each maxspeed factor tried, rebuilding the graph
   (:func:`accessibility.models.calibration.fit_maxspeed_factor`), and keep the
   maxspeed factor with the lowest RMSE. Only classes with at least ``--min-share``
   (5 %) of the reference path time are fitted: a couple of dozen GVB means do not
   determine the others;
4. compare the GVB means with INKAR before and after (the model run as a run does
   it, :func:`accessibility.models.central_places.central_place_access` and
   :func:`~accessibility.models.accuracy.compare_gvb_times`): MAE, bias, RMSE,
   correlation, BBSR class agreement, for OZ and MZ;
5. hold-out check: split the GVBs used in two halves (fixed seed), fit on one,
   evaluate on the other, both ways round;
6. write the calibrated profile (``--out-profile``) with a header saying how it
   was fitted, and the table to ``<output>/calibration_accuracy.csv``.

The shipped profile ``accessibility/profiles/inkar-fit.toml`` was made with
(from the project folder; about half a minute)::

    python scripts/calibrate_speeds.py \\
        --osm ../shared/data/osm/hannover-braunschweig-main-roads.osm.pbf \\
        --municipalities ../shared/data/municipalities/gemeinden_2019_destatis.csv \\
        --central-places ../shared/data/central_places/zentrale_orte_2024.csv \\
        --inkar ../shared/data/reference/inkar_2020_car_times_multi_member_gvb.csv \\
        --out-profile accessibility/profiles/inkar-fit.toml --force --output /tmp/inkar-fit

Exit codes: 0 done, 1 the fit gave no finite error, 2 bad input.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import logging
import shlex
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import accessibility as acc
from accessibility._errors import AccessibilityError
from accessibility.graph import attach, build_graph
from accessibility.io import check_new_file, read_reference_times, write_profile_toml
from accessibility.models.accuracy import compare_gvb_times
from accessibility.models.calibration import (MAXSPEED_FACTORS, CalibrationResult,
                                              apply_factors, calibrate_speeds,
                                              fit_maxspeed_factor, split_references)
from accessibility.models.central_places import central_place_access, weighted_means
from accessibility.pipeline import graph_and_municipalities
from accessibility.profile import SpeedProfile, load_profile
from accessibility.report import md_table

logger = logging.getLogger("calibrate_speeds")

#: Seed of the hold-out split of the GVBs.
HOLDOUT_SEED = 2020
#: Smallest share of the reference path time for a class to be fitted. The two dozen
#: GVB means of a regional extract do not determine a class with a few per cent of the
#: path time (motorway links): its factor runs to a bound and the rounds do not settle.
MIN_SHARE = 0.05
COLUMNS = ["speeds", "indicator", "n_gvb", "mae_min", "bias_min", "rmse_min", "corr",
           "class_agreement"]


class Builder:
    """Graphs of the run's OSM file for other profiles, attached, built once each in a
    temporary cache (the run's own cache is left alone)."""

    def __init__(self, config, graph, munis, base: SpeedProfile, tmp: str) -> None:
        self.config, self.tmp = config, tmp
        self.memo = {base.fingerprint(): (graph, munis)}
        ok = munis["lon"].notna().to_numpy()
        self.keep = (munis["lon"].to_numpy()[ok], munis["lat"].to_numpy()[ok])
        self.munis = munis

    def __call__(self, profile: SpeedProfile):
        key = profile.fingerprint()
        if key not in self.memo:
            c = self.config.graph
            g = build_graph(self.config.inputs.osm, profile, keep_points=self.keep,
                            cache_dir=self.tmp, **c.build_options())
            self.memo[key] = (g, attach(g, self.munis, max_snap_m=c.max_snap_m,
                                        access_speed_kmh=c.access_speed_kmh))
        return self.memo[key]


def fit(build: Builder, refs: pd.DataFrame, base: SpeedProfile, mfs, kwargs
        ) -> CalibrationResult:
    """Steps 3: the class factors and access speed, for each maxspeed factor."""
    if mfs:
        return fit_maxspeed_factor(build, refs, base, maxspeed_factors=mfs, **kwargs)
    graph, munis = build(base)
    return calibrate_speeds(graph, munis, refs, base_profile=base, **kwargs)


def used_gvbs(res: CalibrationResult) -> dict[str, list[str]]:
    """The GVBs a fit used, per indicator."""
    t = res.table
    return {ind: sorted(t.loc[t["indicator"] == ind, "key"]) for ind in ("t_oz_min", "t_mz_min")}


def gvb_accuracy(graph, munis, inkar: pd.DataFrame, gvbs, access_factor: float = 1.0
                 ) -> pd.DataFrame:
    """Step 4: GVB means of a run's car times against INKAR, on the GVBs given."""
    m = munis.assign(access_s=munis["access_s"] / access_factor)
    res = central_place_access(graph, m)
    keys = set().union(*gvbs.values())
    # the means of the GVBs compared only (the register is national)
    times = weighted_means(res[res["gvb"].isin(keys)], "gvb", ["t_oz_min", "t_mz_min"])
    return compare_gvb_times(times, inkar, gvbs=gvbs)


def fitted_graph(build: Builder, res: CalibrationResult, base: SpeedProfile):
    """The graph and municipalities of a fit: its maxspeed factor, its class factors."""
    if res.maxspeed_factor is not None:
        base = dataclasses.replace(base, maxspeed_factor=res.maxspeed_factor)
    graph, munis = build(base)
    return apply_factors(graph, {c: res.factors[c] for c in res.fitted_classes}), munis


def _wrap_command(words: list[str]) -> list[str]:
    """A command line as shell lines continued with backslashes, one option a line."""
    out, cur = [], []
    for w in words:
        if w.startswith("--") and cur:
            out.append("  " + shlex.join(cur) + " \\")
            cur = []
        cur.append(w)
    out.append("  " + shlex.join(cur))
    return [out[0]] + ["  " + line for line in out[1:]]


def header(res: CalibrationResult, table: pd.DataFrame, argv: list[str], inkar: Path,
           config) -> list[str]:
    """The comment at the head of the written profile: how it was fitted."""
    today = datetime.date.today().isoformat()
    lines = [
        "Car speed profile fitted to the published INKAR 2020 car times (BBSR, Datenlizenz",
        "Deutschland 2.0): area-weighted mean time of each multi-member Gemeindeverband to",
        f"the nearest Oberzentrum / Mittelzentrum ({inkar.name}).",
        f"Fitted {today} on {Path(str(config.inputs.osm)).name} ((c) OpenStreetMap "
        "contributors, ODbL 1.0;",
        "main roads only) with the Destatis register 2019 and the BBSR central places 2024,",
        f"max_snap_m = {config.graph.max_snap_m:g}, by:",
        *_wrap_command(["python", "scripts/calibrate_speeds.py", *argv]),
        f"Base: profile {config.graph.profile}. Fitted: "
        + (f"the class factors of {', '.join(res.fitted_classes)}" if res.fitted_classes
           else "no class factor")
        + (", the maxspeed factor (1-D search)" if res.maxspeed_factor is not None else "")
        + (" and the access-leg speed." if res.fit_access else "."),
        "Other classes keep their factor (tertiary and smaller are not in the extract). A full",
        "extract (with minor roads) needs a refit: see docs/METHOD.md, 'Car speeds calibrated",
        "against INKAR'.",
        "",
        f"Fitted maxspeed_factor: {res.maxspeed_factor if res.maxspeed_factor is not None else 'not searched'}",
    ]
    if res.fit_access and res.access_speed_kmh is not None:
        lines += [f"Fitted access-leg speed: {res.access_speed_kmh:.1f} km/h (legs attached at "
                  f"{res.base_access_speed_kmh:g} km/h, max_snap_m",
                  f"{config.graph.max_snap_m:g}): the profile's access_speed_kmh, used when the "
                  "config sets no [graph] access_speed_kmh."]
    lines += ["", "GVB means against INKAR (minutes; model minus INKAR):"]
    for _, r in table.iterrows():
        lines.append(f"  {r['speeds']:<40} {r['indicator']:<9} n={r['n_gvb']:<3} MAE "
                     f"{r['mae_min']:5.2f} bias {r['bias_min']:+6.2f} RMSE {r['rmse_min']:5.2f} "
                     f"r {r['corr']:.3f} class {100 * r['class_agreement']:.0f}%")
    lines += ["", *[line for line in res.lines() if not line.lstrip().startswith("skipped")]]
    return lines


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("--config", type=Path, help="TOML config (default: the engine's defaults)")
    for k in ("osm", "municipalities", "central_places"):
        p.add_argument(f"--{k.replace('_', '-')}", dest=k, type=Path, help=f"[inputs] {k}")
    p.add_argument("--max-snap-m", type=float, help="snapping limit in m ([graph] max_snap_m)")
    p.add_argument("--access-speed-kmh", type=float,
                   help="speed of the access legs before the fit ([graph] access_speed_kmh)")
    p.add_argument("--inkar", type=Path, required=True, help="INKAR GVB reference times")
    p.add_argument("--out-profile", type=Path, help="write the calibrated profile (TOML; a new "
                                                    "file unless --force)")
    p.add_argument("--force", action="store_true", help="replace an existing --out-profile")
    p.add_argument("--profile", help="base speed profile (built-in name or TOML; default the "
                                     "config's [graph] profile)")
    p.add_argument("--classes", help="road classes to fit, comma separated; '' fits none "
                                     "(only the access speed). Default: every class with "
                                     "--min-share of the path time")
    p.add_argument("--profile-name", default="inkar-fit", help="name of the written profile")
    p.add_argument("--description", default="OSRM car defaults with class factors, maxspeed "
                   "factor and access speed fitted to INKAR 2020 GVB car times "
                   "(Hannover-Braunschweig main roads)", help="description of the written profile")
    p.add_argument("--maxspeed-factors", default=",".join(f"{v:g}" for v in MAXSPEED_FACTORS),
                   help="maxspeed factors to try, comma separated; 'none' keeps the profile's "
                        "(default %(default)s)")
    p.add_argument("--no-fit-access", action="store_true", help="keep the access-leg speed")
    p.add_argument("--iterations", type=int, default=20, help="route-and-refit rounds (20)")
    p.add_argument("--min-share", type=float, default=MIN_SHARE,
                   help="smallest share of the reference path time for a class to be fitted "
                        "(%(default)s); the others keep factor 1")
    p.add_argument("--holdout-seed", type=int, default=HOLDOUT_SEED,
                   help=f"seed of the hold-out split ({HOLDOUT_SEED})")
    p.add_argument("--output", type=Path, default=Path("out"),
                   help="work folder (graph cache, calibration_accuracy.csv)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    overrides = {f"inputs.{k}": str(getattr(args, k)) for k in
                 ("osm", "municipalities", "central_places") if getattr(args, k) is not None}
    for key in ("max_snap_m", "access_speed_kmh", "profile"):
        if getattr(args, key) is not None:
            overrides[f"graph.{key}"] = getattr(args, key)
    try:
        mfs = None
        if args.maxspeed_factors.strip().lower() not in ("", "none"):
            try:
                mfs = [float(v) for v in args.maxspeed_factors.split(",") if v.strip()]
            except ValueError:
                raise acc.InputError(f"--maxspeed-factors must be numbers separated by commas "
                                     f"or 'none', got {args.maxspeed_factors!r}") from None
        if args.out_profile is not None and not args.force:  # before 15 s of work
            check_new_file(args.out_profile)
        config = acc.load_config(args.config, overrides)
        if config.inputs.central_places is None:
            raise acc.InputError("the calibration needs central places: --central-places")
        config, graph, joined, _ = graph_and_municipalities(config, None, "calibrate_speeds")
        refs = read_reference_times(args.inkar)
        if "gvb" not in refs.columns:  # the columns tell the format
            raise acc.InputError(f"{args.inkar} is not in the INKAR format (gvb_ars9, t_oz_min, "
                                 "t_mz_min); for trip references use 'accessibility calibrate'")
        base = load_profile(config.graph.profile)
        kwargs = {"fit_access": not args.no_fit_access, "iterations": args.iterations,
                  "min_share": args.min_share}
        if args.classes is not None:
            kwargs["classes"] = [c.strip() for c in args.classes.split(",") if c.strip()]
        with tempfile.TemporaryDirectory(prefix="calibrate-speeds-") as tmp:
            build = Builder(config, graph, joined, base, tmp)
            res = fit(build, refs, base, mfs, kwargs)
            used = used_gvbs(res)
            before = gvb_accuracy(graph, joined, refs, used)
            g_fit, m_fit = fitted_graph(build, res, base)
            after = gvb_accuracy(g_fit, m_fit, refs, used, res.access_factor)
            rows = [before.assign(speeds="as built"), after.assign(speeds="calibrated")]
            # the run's own means must be what the fit minimised
            fit_after = res.by_indicator().query("speeds == 'after'").set_index("indicator")
            for _, r in after.iterrows():
                if r["n_gvb"] and not np.isclose(r["rmse_min"],
                                                 fit_after.loc[r["indicator"], "rmse_min"],
                                                 atol=1e-6):
                    logger.warning("%s: the run gives RMSE %.4f, the fit %.4f", r["indicator"],
                                   r["rmse_min"], fit_after.loc[r["indicator"], "rmse_min"])
            # hold-out: fit on one half of the GVBs used, evaluate on the other
            keys = sorted(set(used["t_oz_min"]) | set(used["t_mz_min"]))
            sel = refs[refs["gvb"].isin(keys)]
            halves = split_references(sel, seed=args.holdout_seed)
            for k, (train, test) in enumerate((halves, halves[::-1]), start=1):
                res_k = fit(build, train, base, mfs, kwargs)
                test_keys = set(test["gvb"])
                on_test = {ind: [g for g in v if g in test_keys] for ind, v in used.items()}
                g_k, m_k = fitted_graph(build, res_k, base)
                rows += [gvb_accuracy(graph, joined, refs, on_test).assign(
                             speeds=f"hold-out {k}: as built"),
                         gvb_accuracy(g_k, m_k, refs, on_test, res_k.access_factor).assign(
                             speeds=f"hold-out {k}: fitted on the other half"),
                         gvb_accuracy(g_fit, m_fit, refs, on_test, res.access_factor).assign(
                             speeds=f"hold-out {k}: fitted on all")]
                logger.info("hold-out %d: fitted on %d GVBs (maxspeed factor %s, access %.1f "
                            "km/h, %s), evaluated on %d", k, len(train), res_k.maxspeed_factor,
                            res_k.access_speed_kmh or np.nan,
                            ", ".join(f"{c} {res_k.factors[c]:.3f}"
                                      for c in res_k.fitted_classes), len(test))
    except AccessibilityError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    table = pd.concat(rows, ignore_index=True)[COLUMNS]
    print("\n".join(line for line in res.lines()))
    print("\nGVB means against INKAR 2020 (area-weighted), on the GVBs the fit used:\n")
    print(md_table(table, "{:,.2f}"))
    args.output.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.output / "calibration_accuracy.csv", index=False)
    if args.out_profile is not None:
        prof = dataclasses.replace(
            res.profile, name=args.profile_name, description=args.description)
        write_profile_toml(prof, args.out_profile, overwrite=args.force,
                           comment=header(res, table, argv, args.inkar, config))
        print(f"\ncalibrated profile written to {args.out_profile}")
    return 0 if np.isfinite(after["mae_min"]).all() else 1


if __name__ == "__main__":
    sys.exit(main())
