"""Reproduce the BBSR report tables from a run, and compare with INKAR.

Reads the output folder of ``accessibility run`` and writes, into ``--output``
(default ``<run>/report_tables``), only the files it names:

* ``settlement_types.csv``: Gemeindeverbände and residents per Stadt- und
  Gemeindetyp (with the BBSR 2019 national counts beside them), and the
  unpopulated GVBs (gemeindefreie Gebiete) that have no type here but are among
  BBSR's Landgemeinden;
* ``lage_by_settlement_type_gvb.csv``: Lage by settlement type, counted in
  Gemeindeverbände and in residents (the report counts GVBs);
* ``inkar_accuracy.csv``: car times to the nearest OZ and MZ against the published
  INKAR 2020 values of multi-member Gemeindeverbände (area-weighted means, as
  INKAR): number of GVBs compared, mean absolute error, bias, RMSE, correlation;
  only GVBs whose every member is in the run and has a value are compared;
* ``report_tables.md``: the same as Markdown.

Examples
--------
    accessibility run --output out
    python scripts/reproduce_report.py out \\
        --inkar ../shared/data/reference/inkar_2020_car_times_multi_member_gvb.csv
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from accessibility.api import covers_germany
from accessibility.io import write_table, write_text
from accessibility.models.accuracy import compare_gvb_times
from accessibility.models.lage import lage_summary
from accessibility.report import md_table
from accessibility.vocabulary import SETTLEMENT_TYPES

logger = logging.getLogger("reproduce_report")

#: BBSR 2019: Gemeindeverbände per settlement type (docs/METHOD.md section 4).
BBSR_2019_GVB = {"Großstadt": 80, "Mittelstadt": 634, "Kleinstadt": 2126, "Landgemeinde": 1779}


def settlement_table(gvb: pd.DataFrame) -> pd.DataFrame:
    """GVBs and residents per settlement type, with the BBSR 2019 counts."""
    g = gvb.groupby("settlement_type")
    t = pd.DataFrame({"n_gvb": g.size(), "population": g["population"].sum()})
    t = t.reindex(list(SETTLEMENT_TYPES)).fillna(0)
    t["n_gvb"] = t["n_gvb"].astype(int)
    t["bbsr_2019_n_gvb"] = [BBSR_2019_GVB[k] for k in t.index]
    # BBSR counts the gemeindefreie Gebiete (0 residents) among its Landgemeinden
    t.loc["unpopulated (no type)"] = [int((gvb["population"] == 0).sum()), 0.0, np.nan]
    return t.rename_axis("settlement_type").reset_index()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run", type=Path, help="output folder of a run")
    p.add_argument("--inkar", type=Path, help="INKAR reference (gvb_ars9, n_members, t_oz_min, "
                   "t_mz_min)")
    p.add_argument("--output", type=Path, help="where to write (default <run>/report_tables)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    out = args.output or args.run / "report_tables"
    need = [args.run / f for f in ("gvb_lage.csv", "gvb.csv")]
    missing = [str(f) for f in need if not f.is_file()]
    if missing:
        print(f"error: {', '.join(missing)} not found: give the output folder of a run with "
              "municipalities and central places", file=sys.stderr)
        return 2
    gvb = pd.read_csv(args.run / "gvb_lage.csv", dtype={"gvb": str, "centre_ags": str})
    times = pd.read_csv(args.run / "gvb.csv", dtype={"gvb": str})
    out.mkdir(parents=True, exist_ok=True)
    tables = {"settlement_types": settlement_table(gvb),
              # unpopulated GVBs (gemeindefreie Gebiete) have no Lage and no type
              "lage_by_settlement_type_gvb": lage_summary(gvb[gvb["population"] > 0])
              .reset_index()}
    if args.inkar is not None:
        tables["inkar_accuracy"] = compare_gvb_times(
            times, pd.read_csv(args.inkar, dtype={"gvb_ars9": str}))
    national = covers_germany(gvb["gvb"].astype(str))
    scope = ("The run covers Germany." if national else
             "The run does not cover Germany: its counts describe its region and are not "
             "comparable with BBSR's national counts beside them; `accessibility "
             "report-tables` gives the national counts from the register without a road "
             "graph.")
    if not national:
        logger.warning(scope)
    md = ["# BBSR report tables from the run " + str(args.run), "", scope, ""]
    for name, t in tables.items():
        write_table(t, out / f"{name}.csv")
        md += [f"## {name.replace('_', ' ')}", "", md_table(t, "{:,.2f}"), ""]
    write_text("\n".join(md), out / "report_tables.md")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
