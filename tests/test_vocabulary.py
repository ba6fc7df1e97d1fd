"""One home per word (issue 22): the services of the Nahversorgung and the destination
kinds of the "car time to the nearest X" indicators are spelt once, in
:mod:`accessibility.vocabulary`, and everything else follows them.

The proof edits a copy of the package as a developer would: a seventh service (a line
in ``vocabulary.SERVICE_LABELS`` and its OSM tag rules in ``services.toml``), and
separately a new destination kind (an entry in ``vocabulary.DESTINATION_KIND_TERMS``),
then runs the config validation, the readers, the models, the column docs and the
report on small synthetic inputs in a subprocess that imports the copy. Nothing else
in the copy is touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from accessibility import vocabulary
from accessibility.io.osm_features import load_service_rules
from accessibility.models import indicators
from accessibility.report import INDICATORS_TITLE

PACKAGE = Path(vocabulary.__file__).resolve().parent

# ------------------------------------------------------------------ the edits
#: A seventh service: one line in the vocabulary ...
SERVICE_ANCHOR = '    "supermarket": "Supermarkt/Discounter",\n'
SERVICE_LINE = '    "bakery": "Bäckerei",\n'
#: ... and its OSM tag rules.
BAKERY_RULES = '\n[bakery]\nlabel = "Bäckerei"\nrules = [ { shop = "bakery" } ]\n'
#: A new destination kind: one entry in the vocabulary.
KIND_ANCHOR = "#: The destination kinds, in report order.\n"
HOSPITAL = '''DESTINATION_KIND_TERMS["hospital"] = DestinationKind(
    label="hospital (Krankenhaus der Grundversorgung)", table_label="hospital (Krankenhaus)",
    map_label="hospital", noun="hospital", heading="hospital",
    classes=((15.0, "< 15 min"), (30.0, "15-30 min"), (np.inf, ">= 30 min")),
    synonyms=("krankenhaus", "klinik"))
'''

# ------------------------------------------------------------------ the checks
SHARED = '''
import numpy as np
import pandas as pd

from accessibility import vocabulary
from accessibility.graph import attach, from_edges

assert vocabulary.__file__.startswith(COPY), vocabulary.__file__

# five nodes on a meridian, 1.11 km apart, 1 minute per edge in both directions
LAT = 52.0 + 0.01 * np.arange(5)
LON = np.full(5, 10.0)
u = np.r_[0:4, 1:5]
v = np.r_[1:5, 0:4]
GRAPH = from_edges(u, v, np.full(8, 60.0), np.full(8, 1110.0), np.zeros(8),
                   class_names=("road",), osm_id=np.arange(5), lon=LON, lat=LAT)
MUNIS = pd.DataFrame({"ags": [f"0310100{i}" for i in range(5)], "name": list("ABCDE"),
                      "lon": LON, "lat": LAT, "population": 100.0, "area_km2": 1.0,
                      "gvb": "031010000"})
'''

SERVICE_CHECKS = '''
from accessibility import report
from accessibility.api import walk_distances
from accessibility.config import load_config
from accessibility.io import load_service_rules, read_facilities
from accessibility.models.units import gvb_table
from accessibility.models.walkability import walkability
from pyproj import Transformer

S = vocabulary.SERVICES
assert S == ("pharmacy", "primary_school", "gp", "stop", "post_office", "supermarket",
             "bakery"), S
assert vocabulary.FACILITY_ORDER[-2:] == ("bakery", "stop")
assert vocabulary.services_reached_labels() == [f"{k} of 7" for k in range(8)]

# config validation: the [walk] services rules file of a config knows the bakery
cfg = Path(TMP) / "run.toml"
cfg.write_text("[walk]\\nservices = " + repr(RULES) + "\\n")
rules = load_service_rules(load_config(cfg).walk.services)
assert tuple(rules) == vocabulary.FACILITY_ORDER and rules["bakery"].label == "Bäckerei"
# a user facility table may hold bakeries
fac_csv = Path(TMP) / "facilities.csv"
fac_csv.write_text("service,lon,lat\\nbakery,10.0,52.0\\n")
assert read_facilities(fac_csv)["service"].tolist() == ["bakery"]

# the model: cells along the line, one facility of every service at node C
X0, Y0 = 4_200_000.0, 3_000_000.0  # EPSG:3035
cells = pd.DataFrame({"x": X0 + np.r_[0.0, 500.0, 1500.0], "y": Y0, "population": 10.0,
                      "ags": MUNIS["ags"][0]})
lon0, lat0 = Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True).transform(X0, Y0)
fac = pd.DataFrame({"service": list(S), "lon": lon0, "lat": lat0})
per_cell = walk_distances(cells, fac, methods=("straight",))
assert "dist_bakery_m" in per_cell.columns
per_muni = walkability(per_cell)
assert per_muni["walk_share_bakery"].iloc[0] == 2 / 3, per_muni
assert per_muni["walk_share_all"].iloc[0] == 2 / 3

# the column docs, the GVB table and the report
docs = vocabulary.walk_columns()
assert docs["walk_share_bakery"].startswith("Nahversorgung: share of residents with "
                                            "Bäckerei (bakery) within")
assert "all seven services" in docs["walk_share_all"]
assert "six" not in " ".join(docs.values())
munis = MUNIS.iloc[:1].assign(walk_coverage=1.0,
                              **{c: per_muni[c].to_numpy() for c in per_muni.columns})
assert "walk_share_bakery" in gvb_table(munis).columns
lines = "\\n".join(report.walk_section(munis, walk_file="w.osm", population_source="p",
                                       stop_source="s", n_water=0, n_crossings=0,
                                       methods=("straight",)))
assert "walk_share_bakery" in lines
print("services ok")
'''

KIND_CHECKS = '''
from accessibility import report
from accessibility.api import collect_destinations
from accessibility.io import read_destinations
from accessibility.models.indicators import COLUMNS, facility_access, unit_indicators

assert vocabulary.DESTINATION_KINDS == ("motorway", "ldrail", "airport", "hospital")

# the reader takes the German word; the table replaces no built-in source but its own
csv = Path(TMP) / "hospitals.csv"
csv.write_text("kind,name,lon,lat\\nKrankenhaus,St. Test,10.0,52.02\\n")
dest = read_destinations(csv)
assert dest["kind"].tolist() == ["hospital"], dest
both = collect_destinations(airports=False, stations=False, overrides=csv)
assert "User destinations replace the built-in sources of: hospital." in both.attrs["report"]

# the model columns
m = attach(GRAPH, MUNIS, max_snap_m=10.0, access_speed_kmh=3.6)
d = attach(GRAPH, dest, max_snap_m=10.0, access_speed_kmh=3.6, id_column="id")
out = facility_access(GRAPH, m, d)
assert out["t_hospital_min"].tolist() == [2.0, 1.0, 0.0, 1.0, 2.0], out["t_hospital_min"]
assert out["hospital_class"].tolist() == ["< 15 min"] * 5
assert out["nearest_hospital_name"].tolist() == ["St. Test"] * 5

# the column docs
for c in ("t_hospital_min", "nearest_hospital_id", "nearest_hospital_name",
          "hospital_class", "hospital_class_code", "hospital_edge_flag"):
    assert c in COLUMNS, c
assert "hospital (Krankenhaus der Grundversorgung)" in COLUMNS["t_hospital_min"]
assert "t_hospital_min" in COLUMNS["facility_reason"]

# the report's section and table
table = unit_indicators(out, None).assign(level="total")
lines = report.indicators_section([], table)
assert lines[0] == ("## Further indicators: motorway, long-distance rail, airport, "
                    "hospital, transit, commuters"), lines[0]
assert any("| hospital (Krankenhaus) | 1.2 |" in line for line in lines), lines
print("kinds ok")
'''


def _copy_with(tmp_path: Path, vocabulary_edit, rules_edit=None) -> Path:
    """A copy of the package (without its data) with an edited vocabulary.py (and
    services.toml); returns the directory to put on PYTHONPATH."""
    root = tmp_path / "copy"
    shutil.copytree(PACKAGE, root / "accessibility",
                    ignore=shutil.ignore_patterns("__pycache__", "data"))
    voc = root / "accessibility" / "vocabulary.py"
    voc.write_text(vocabulary_edit(voc.read_text("utf-8")), "utf-8")
    if rules_edit is not None:
        rules = root / "accessibility" / "profiles" / "services.toml"
        rules.write_text(rules_edit(rules.read_text("utf-8")), "utf-8")
    return root


def _run(root: Path, tmp_path: Path, checks: str) -> str:
    head = (f"from pathlib import Path\nCOPY = {str(root)!r}\nTMP = {str(tmp_path)!r}\n"
            f"RULES = {str(root / 'accessibility' / 'profiles' / 'services.toml')!r}\n")
    script = tmp_path / "check.py"
    script.write_text(head + textwrap.dedent(SHARED) + textwrap.dedent(checks), "utf-8")
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout


def test_the_edits_apply_to_this_vocabulary():
    """The anchors of the edits below exist, and the words have their one home."""
    text = (PACKAGE / "vocabulary.py").read_text("utf-8")
    assert text.count(SERVICE_ANCHOR) == 1 and text.count(KIND_ANCHOR) == 1
    assert vocabulary.SERVICES == ("pharmacy", "primary_school", "gp", "stop",
                                   "post_office", "supermarket")  # report order
    assert vocabulary.FACILITY_ORDER == ("pharmacy", "primary_school", "gp", "post_office",
                                         "supermarket", "stop")  # the facility table's
    assert tuple(load_service_rules()) == vocabulary.FACILITY_ORDER
    assert vocabulary.N_SERVICES_WORD == "six"
    assert vocabulary.services_reached_labels() == [f"{k} of 6" for k in range(7)]
    assert indicators.DESTINATION_KINDS is vocabulary.DESTINATION_KINDS
    assert tuple(indicators.DESTINATION_LABEL) == vocabulary.DESTINATION_KINDS
    assert INDICATORS_TITLE == ("## Further indicators: motorway, long-distance rail, airport, "
                                "transit, commuters")


def test_a_seventh_service_is_a_vocabulary_line_and_its_tag_rules(tmp_path):
    root = _copy_with(tmp_path,
                      lambda s: s.replace(SERVICE_ANCHOR, SERVICE_ANCHOR + SERVICE_LINE),
                      lambda s: s + BAKERY_RULES)
    assert "services ok" in _run(root, tmp_path, SERVICE_CHECKS)


def test_a_new_destination_kind_is_a_vocabulary_entry(tmp_path):
    root = _copy_with(tmp_path, lambda s: s.replace(KIND_ANCHOR, HOSPITAL + KIND_ANCHOR))
    assert "kinds ok" in _run(root, tmp_path, KIND_CHECKS)
