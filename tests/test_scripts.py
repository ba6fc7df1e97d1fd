"""The recipes in scripts/: each runs on the shared data (smoke tests with checks
of what they write)."""

from __future__ import annotations

import importlib.util
import sys

import pandas as pd
import pytest

from .conftest import REPO, shared

SCRIPTS = REPO / "scripts"


def load(name: str):
    """Import scripts/<name>.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"scripts_{name}", SCRIPTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", ["download_inputs", "national_run", "reproduce_report",
                                  "calibrate_speeds"])
def test_every_script_has_a_docstring_and_help(name, capsys):
    mod = load(name)
    assert mod.__doc__ and len(mod.__doc__) > 200
    with pytest.raises(SystemExit) as e:
        mod.main(["--help"])
    assert e.value.code == 0 and "usage" in capsys.readouterr().out


def test_download_inputs_offline_from_file_urls(tmp_path, capsys):
    dl = load("download_inputs")
    assert dl.main(["--list"]) == 0
    listed = capsys.readouterr().out
    for name in dl.SOURCES:
        assert name in listed
    src = shared("central_places", "zentrale_orte_2024.csv")
    dest = tmp_path / "data"
    assert dl.main(["--dest", str(dest), "--url", f"osm={src.as_uri()}", "osm"]) == 0
    got = dest / dl.SOURCES["osm"].file
    assert got.read_bytes() == src.read_bytes()
    assert not list(dest.glob(".*part"))  # nothing half-written
    # an existing file is kept, not overwritten
    got.write_bytes(b"mine")
    assert dl.main(["--dest", str(dest), "--url", f"osm={src.as_uri()}", "osm"]) == 0
    assert got.read_bytes() == b"mine"
    # a failing download leaves no partial file and says what to do
    missing = (tmp_path / "nope.bin").as_uri()
    assert dl.main(["--dest", str(dest), "--url", f"vg250={missing}", "vg250"]) == 1
    assert not (dest / dl.SOURCES["vg250"].file).exists() and not list(dest.glob(".*part"))


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    """The national register and central places with the Hannover-Braunschweig extract."""
    out = tmp_path_factory.mktemp("national")
    nr = load("national_run")
    code = nr.main(["--osm", str(shared("osm", "hannover-braunschweig-main-roads.osm.pbf")),
                    "--municipalities", str(shared("municipalities",
                                                   "gemeinden_2019_destatis.csv")),
                    "--central-places", str(shared("central_places", "zentrale_orte_2024.csv")),
                    "--max-snap-m", "5000", "--no-maps", "--output", str(out)])
    assert code == 0
    return out


def test_national_run_on_a_regional_extract(national):
    m = pd.read_parquet(national / "municipalities.parquet")
    # of the national register only the extract's region is written
    assert 150 < len(m) < 400 and m["in_region"].all()
    assert m["lon"].between(9.0, 11.4).all() and m["lat"].between(51.7, 53.0).all()
    # the Lage between GVBs: a municipality has its GVB's potential exactly when the
    # GVB's settlement centre (its most populous member) is on the network
    centre = (m.sort_values(["gvb", "population", "ags"], ascending=[True, False, True])
              .drop_duplicates("gvb").set_index("gvb")["on_network"])
    whole = m["gvb_complete"].to_numpy(bool)  # the centre is among the rows written
    on = m["gvb"].map(centre).to_numpy(bool)
    assert m.loc[whole & ~on, "potential_2h"].isna().all()
    assert m.loc[whole & on, "potential_2h"].notna().all()
    assert (m.groupby("gvb")["potential_2h"].nunique() <= 1).all()
    summary = (national / "summary.md").read_text()
    assert "Lage: daytime population" in summary
    # defaults, not the embedded sample's settings: no walk stage without a grid
    assert "Nahversorgung" in summary and "skipped" in summary


def test_reproduce_report_tables_and_inkar_accuracy(national, tmp_path, capsys):
    rr = load("reproduce_report")
    inkar = shared("reference", "inkar_2020_car_times_multi_member_gvb.csv")
    assert rr.main([str(national), "--inkar", str(inkar), "--output", str(tmp_path)]) == 0
    st = pd.read_csv(tmp_path / "settlement_types.csv")
    assert list(st["settlement_type"]) == ["Großstadt", "Mittelstadt", "Kleinstadt",
                                          "Landgemeinde", "unpopulated (no type)"]
    assert st["bbsr_2019_n_gvb"].tolist()[:4] == [80, 634, 2126, 1779]
    assert st["n_gvb"].iloc[4] > 0  # the extract holds gemeindefreie Gebiete
    acc_t = pd.read_csv(tmp_path / "inkar_accuracy.csv").set_index("indicator")
    # about 28 multi-member GVBs lie inside the extract (data README); those fully
    # routed are compared, and the model is in the right range
    assert 10 <= acc_t.loc["t_oz_min", "n_gvb"] <= 40
    assert acc_t.loc["t_oz_min", "corr"] > 0.5 and acc_t.loc["t_oz_min", "mae_min"] < 15
    md = (tmp_path / "report_tables.md").read_text()
    assert md.startswith("# BBSR report tables") and "does not cover Germany" in md
    lage = pd.read_csv(tmp_path / "lage_by_settlement_type_gvb.csv")
    assert lage["lage"].iloc[0] == "sehr zentral"
    assert rr.main([str(tmp_path / "nothing-here")]) == 2


def test_calibrate_speeds_against_inkar(tmp_path, capsys):
    cs = load("calibrate_speeds")
    code = cs.main(["--osm", str(shared("osm", "hannover-braunschweig-main-roads.osm.pbf")),
                    "--municipalities", str(shared("municipalities",
                                                   "gemeinden_2019_destatis.csv")),
                    "--central-places", str(shared("central_places", "zentrale_orte_2024.csv")),
                    "--max-snap-m", "5000", "--access-speed-kmh", "30",
                    "--inkar", str(shared("reference",
                                          "inkar_2020_car_times_multi_member_gvb.csv")),
                    "--output", str(tmp_path), "--out-profile", str(tmp_path / "cal.toml")])
    out = capsys.readouterr().out
    assert code == 0 and "GVB means against INKAR" in out
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    mae = {(r.split("|")[1].strip(), r.split("|")[2].strip()): float(r.split("|")[4])
           for r in rows[1:]}
    # the fit lowers the error of the GVB means against INKAR
    assert mae[("calibrated", "t_oz_min")] < mae[("as built", "t_oz_min")]
    from accessibility.profile import load_profile

    assert load_profile(tmp_path / "cal.toml").class_factors
