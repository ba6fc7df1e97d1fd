"""Calibrate the car speeds against the published INKAR car times, and report how
close the model comes before and after.

INKAR publishes, per multi-member Gemeindeverband, the area-weighted mean car time
to the nearest Oberzentrum and Mittelzentrum
(``../shared/data/reference/inkar_2020_car_times_multi_member_gvb.csv``). The
recipe:

1. build the graph and attach the municipalities of the config (or flags);
2. keep the GVBs whose every member is on the network;
3. give every member the GVB's published times as reference rows
   (``origin_ags``, ``nearest OZ`` / ``nearest MZ``, ``minutes``). This is an
   approximation: members of one GVB differ, and least squares over the members
   fits the GVB's mean, which is what INKAR publishes, weighting members equally
   rather than by area;
4. fit per-road-class speed factors
   (:func:`accessibility.models.calibration.calibrate_speeds`);
5. compare the GVB means with INKAR before and after
   (:func:`accessibility.models.accuracy.compare_gvb_times`), and write the
   calibrated profile when ``--out-profile`` is given.

Examples
--------
    python scripts/calibrate_speeds.py --config my.toml \\
        --inkar ../shared/data/reference/inkar_2020_car_times_multi_member_gvb.csv \\
        --out-profile calibrated.toml
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import accessibility as acc
from accessibility._errors import AccessibilityError
from accessibility.io import write_profile_toml
from accessibility.models.accuracy import compare_gvb_times
from accessibility.models.calibration import apply_factors, calibrate_speeds
from accessibility.models.central_places import central_place_access, weighted_means
from accessibility.pipeline import graph_and_municipalities
from accessibility.profile import load_profile
from accessibility.report import md_table
from accessibility.vocabulary import NEAREST_MZ, NEAREST_OZ

logger = logging.getLogger("calibrate_speeds")


def reference_rows(munis: pd.DataFrame, inkar: pd.DataFrame) -> pd.DataFrame:
    """Reference times per member municipality from the GVB values (step 3)."""
    ref = inkar.assign(gvb=inkar["gvb_ars9"].astype(str).str.zfill(9))
    m = munis[["ags", "gvb", "on_network"]].merge(ref[["gvb", "t_oz_min", "t_mz_min"]], on="gvb")
    whole = m.groupby("gvb")["on_network"].transform("all")
    size = m.groupby("gvb")["ags"].transform("size")
    n_members = m["gvb"].map(ref.set_index("gvb")["n_members"])
    m = m[whole & (size == n_members)]
    rows = [pd.DataFrame({"origin_ags": m["ags"], "destination": dest, "minutes": m[col]})
            for dest, col in ((NEAREST_OZ, "t_oz_min"), (NEAREST_MZ, "t_mz_min"))]
    return pd.concat(rows, ignore_index=True).dropna()


def gvb_accuracy(graph, munis, inkar) -> pd.DataFrame:
    times = weighted_means(central_place_access(graph, munis), "gvb", ["t_oz_min", "t_mz_min"])
    return compare_gvb_times(times, inkar)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", type=Path, help="TOML config (default: the engine's defaults)")
    for k in ("osm", "municipalities", "central_places"):
        p.add_argument(f"--{k.replace('_', '-')}", dest=k, type=Path, help=f"[inputs] {k}")
    p.add_argument("--max-snap-m", type=float, help="snapping limit in m")
    p.add_argument("--access-speed-kmh", type=float, help="speed of the access legs")
    p.add_argument("--inkar", type=Path, required=True, help="INKAR GVB reference times")
    p.add_argument("--out-profile", type=Path, help="write the calibrated profile (TOML)")
    p.add_argument("--output", type=Path, default=Path("out"), help="work folder (graph cache)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    overrides = {f"inputs.{k}": str(getattr(args, k)) for k in
                 ("osm", "municipalities", "central_places") if getattr(args, k) is not None}
    for key in ("max_snap_m", "access_speed_kmh"):
        if getattr(args, key) is not None:
            overrides[f"graph.{key}"] = getattr(args, key)
    try:
        config = acc.load_config(args.config, overrides)
        if config.inputs.central_places is None:
            raise acc.InputError("the calibration needs central places: --central-places")
        config, graph, joined, _ = graph_and_municipalities(config, None, args.output,
                                                            "calibrate_speeds")
        inkar = pd.read_csv(args.inkar, dtype={"gvb_ars9": str})
        refs = reference_rows(joined, inkar)
        if refs.empty:
            raise acc.InputError("no INKAR Gemeindeverband lies wholly on this network")
        before = gvb_accuracy(graph, joined, inkar)
        profile = load_profile(config.graph.profile)
        res = calibrate_speeds(graph, joined, refs, base_profile=profile)
        fitted = apply_factors(graph, {c: res.factors[c] for c in res.fitted_classes})
        after = gvb_accuracy(fitted, joined, inkar)
    except AccessibilityError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print("\n".join(res.lines()))
    table = pd.concat([before.assign(speeds="as built"), after.assign(speeds="calibrated")])
    print("\nGVB means against INKAR 2020 (area-weighted):\n")
    print(md_table(table[["speeds", "indicator", "n_gvb", "mae_min", "bias_min", "rmse_min",
                          "corr"]], "{:,.2f}"))
    if args.out_profile is not None:
        write_profile_toml(res.profile, args.out_profile, comment=[
            f"Calibrated against {args.inkar.name} by scripts/calibrate_speeds.py",
            *res.lines()])
        print(f"\ncalibrated profile written to {args.out_profile}")
    return 0 if np.isfinite(after["mae_min"]).all() else 1


if __name__ == "__main__":
    sys.exit(main())
