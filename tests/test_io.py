"""Tests of the readers, writers and config loader: on the shared real data (those
tests skip, naming the file, without ../shared) and on small tables written here."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from accessibility._errors import InputError
from accessibility.config import Config, load_config
from accessibility.io import (
    atomic_path,
    read_central_places,
    read_commuters,
    read_municipalities,
    read_population_grid,
    write_json,
    write_municipality_outputs,
    write_table,
    write_text,
)
from accessibility.io.population_grid import suppressed_line
from accessibility.models.central_places import join_central_places

from .conftest import shared

# parts of paths under ../shared/data; shared(*X) skips the test without the file
REGISTER = ("municipalities", "gemeinden_2019_destatis.csv")
VG250 = ("municipalities", "vg250_2016.gpkg")
CENTRAL = ("central_places", "zentrale_orte_2024.csv")
GRID = ("population", "zensus2022_1km_einwohner.parquet")
EXAMPLE_CONFIG = Path(__file__).resolve().parents[1] / "accessibility" / "data" / \
    "example_config.toml"


@pytest.fixture(scope="module")
def register() -> gpd.GeoDataFrame:
    return read_municipalities(shared(*REGISTER))


@pytest.fixture(scope="module")
def vg250() -> gpd.GeoDataFrame:
    return read_municipalities(shared(*VG250), layer="gemeinden")


@pytest.fixture(scope="module")
def central() -> pd.DataFrame:
    return read_central_places(shared(*CENTRAL))


@pytest.fixture(scope="module")
def grid() -> pd.DataFrame:
    return read_population_grid(shared(*GRID))


def _register_rows(n: int = 5) -> pd.DataFrame:
    return pd.read_csv(shared(*REGISTER), dtype=str, nrows=n)


# --------------------------------------------------------------------------- readers


def test_register(register: gpd.GeoDataFrame) -> None:
    assert len(register) == 11_004
    assert register["ags"].str.fullmatch(r"\d{8}").all()
    assert register["ags"].is_unique
    assert register["population"].sum() == 83_166_711
    assert register.crs.to_epsg() == 4326
    assert (register.geom_type.dropna() == "Point").all()
    row = register.set_index("ags").loc["01001000"]
    assert row["name"] == "Flensburg, Stadt"
    assert row["gvb"] == "010010000"
    assert row["kreis"] == "01001" and row["land"] == "01"
    assert row["area_km2"] == pytest.approx(53.02)
    assert register["gvb"].str.len().eq(9).all()
    assert register["gvb"].nunique() > 4000
    assert "gvb_name" in register.columns
    # uninhabited units without coordinates are kept with NaN lon/lat
    no_point = register[register["lon"].isna()]
    assert sorted(no_point["ags"]) == ["07000999", "10042999", "13000999"]
    assert (no_point["population"] == 0).all()


def test_register_with_lost_leading_zeros(tmp_path: Path) -> None:
    df = _register_rows()
    df["ags"] = df["ags"].astype(int)  # 1001000: leading zero lost
    path = tmp_path / "m.csv"
    df.to_csv(path, index=False, sep=";")
    out = read_municipalities(path)
    assert out["ags"].tolist()[0] == "01001000"


def test_register_bbox() -> None:
    out = read_municipalities(shared(*REGISTER), bbox=(9.6, 52.3, 9.9, 52.45))
    assert "03241001" in set(out["ags"])  # Hannover
    assert len(out) < 50


def test_vg250(vg250: gpd.GeoDataFrame, register: gpd.GeoDataFrame) -> None:
    assert len(vg250) == 11_299
    assert vg250["ags"].is_unique
    assert set(vg250.geom_type) <= {"Polygon", "MultiPolygon"}
    assert vg250.crs.to_epsg() == 4326
    assert vg250["population"].isna().all()
    # GVB from RS: Sipplingen, RS 084355007053 -> GVB 084355007
    sip = vg250.set_index("ags").loc["08435053"]
    assert sip["gvb"] == "084355007" and sip["name"] == "Sipplingen"
    # reference point inside its polygon, area from EPSG:3035
    points = gpd.GeoSeries(gpd.points_from_xy(vg250["lon"], vg250["lat"]),
                           index=vg250.index, crs=4326)
    assert vg250.geometry.contains(points).all()
    assert vg250["area_km2"].sum() == pytest.approx(357_190, rel=0.005)
    # independently of the readers: the raw AGS columns of both files (data README:
    # "about 10,900 of its AGS match the 2019 register")
    raw_vg = set(pyogrio.read_dataframe(shared("municipalities", "vg250_2016.gpkg"),
                                        layer="gemeinden", columns=["AGS"],
                                        read_geometry=False)["AGS"].astype(str))
    with open(shared("municipalities", "gemeinden_2019_destatis.csv"), encoding="utf-8") as f:
        raw_reg = {row["ags"] for row in csv.DictReader(f)}
    expect = len(raw_vg & raw_reg)
    assert 10_800 < expect < 11_000
    assert len(set(vg250["ags"]) & set(register["ags"])) == expect


def test_vg250_dissolves_duplicated_ags(vg250: gpd.GeoDataFrame, tmp_path: Path) -> None:
    part = vg250[vg250["ags"].isin(["03241001", "03101000"])].copy()
    # split one municipality into a land row and a water row, another into two parts
    land = part.iloc[[0]].assign(GF=4)
    water = part.iloc[[0]].assign(GF=2)
    other = part.iloc[[1]].assign(GF=4)
    piece = other.copy()
    piece["geometry"] = other.geometry.to_crs(3035).buffer(-100).to_crs(4326)
    layer = pd.concat([land, water, other, piece]).rename(columns={"ags": "AGS"})
    layer = layer[["AGS", "name", "GF", "geometry"]]
    path = tmp_path / "dup.gpkg"
    layer.to_file(path, layer="gemeinden", driver="GPKG")
    out = read_municipalities(path)
    assert sorted(out["ags"]) == ["03101000", "03241001"]
    assert out["gvb"].isna().all()


def test_geo_layer_in_other_crs(vg250: gpd.GeoDataFrame, tmp_path: Path) -> None:
    part = vg250[vg250["kreis"] == "03241"].to_crs(25832)[["ags", "name", "geometry"]]
    path = tmp_path / "utm.gpkg"
    part.to_file(path, driver="GPKG")
    out = read_municipalities(path)
    assert out.crs.to_epsg() == 4326
    assert len(out) == len(part)
    assert out["lon"].between(9, 11).all()


def test_central_places(central: pd.DataFrame) -> None:
    counts = central["central_place"].value_counts()
    assert counts["Oberzentrum"] == 152
    assert counts["Mittelzentrum"] == 960
    assert counts["Grundzentrum"] == 2513
    assert len(central) == 10_990
    assert central["ags"].str.fullmatch(r"\d{8}").all()
    assert "central_place_name" in central.columns


def test_central_place_variants(tmp_path: Path) -> None:
    path = tmp_path / "zo.csv"
    path.write_text("AGS;Gemeinde;funktion\n"
                    "1001000;A;OZ\n"
                    "01002000;B;mz\n"
                    "01003000;C;Mittelzentrum mit oberzentraler Teilfunktion\n"
                    "01004000;D;MZ mit OZ-Teilfunktion\n"
                    "01051010;E;-\n"
                    "01051011;F;Grundzentrum\n"
                    "01051012;G;\n"
                    "01051013;H;none\n", encoding="utf-8")
    out = read_central_places(path).set_index("ags")["central_place"]
    assert out.to_dict() == {
        "01001000": "Oberzentrum", "01002000": "Mittelzentrum", "01003000": "Mittelzentrum",
        "01004000": "Mittelzentrum", "01051010": "keine", "01051011": "Grundzentrum",
        "01051012": "keine", "01051013": "keine"}


def test_join_report(register: gpd.GeoDataFrame, central: pd.DataFrame) -> None:
    joined, report = join_central_places(register, central)
    assert isinstance(joined, gpd.GeoDataFrame)
    assert len(joined) == len(register)
    assert joined["ags"].tolist() == register["ags"].tolist()
    # independently: the AGS of the raw CSV files (central places: 10,990 rows, of
    # which 4 keys are not municipalities of the 2019 register, listed below)
    with open(shared("central_places", "zentrale_orte_2024.csv"), encoding="utf-8") as f:
        raw_cp = {row["ags"] for row in csv.DictReader(f)}
    with open(shared("municipalities", "gemeinden_2019_destatis.csv"), encoding="utf-8") as f:
        raw_reg = {row["ags"] for row in csv.DictReader(f)}
    assert report.n_matched == len(raw_cp & raw_reg) == 10_990 - 4
    assert report.unknown_ags == ["03153019", "07132502", "16063105", "16065089"]
    # Eisenach (MZ) and two GZ carry 2024 keys unknown to the 2019 register
    assert report.unknown_central_places == {
        "03153019": "Grundzentrum", "16063105": "Mittelzentrum", "16065089": "Grundzentrum"}
    assert len(report.municipalities_without_function) == 18
    assert (report.n_oz, report.n_mz, report.n_gz) == (152, 959, 2511)
    assert report.n_keine == 11_004 - 152 - 959 - 2511
    assert (joined.set_index("ags").loc[report.municipalities_without_function,
                                        "central_place"] == "keine").all()
    text = "\n".join(report.lines())
    assert "16063105 (Mittelzentrum)" in text and "18 municipalities" in text


def test_population_grid(grid: pd.DataFrame) -> None:
    assert (grid["cell_size_m"] == 1000).all()
    assert 361_478 - len(grid) > 0
    assert grid.attrs["report"] == [suppressed_line(361_478 - len(grid), shared(*GRID))]
    assert (grid["population"] >= 0).all()
    assert grid["population"].sum() == 80_212_528
    assert ((grid["x"] - 500) % 1000 == 0).all()


def test_population_grid_csv_and_bbox(tmp_path: Path) -> None:
    raw = pd.read_parquet(shared(*GRID)).iloc[100_000:100_400]
    csv = raw.rename(columns={"x": "x_mp_1km", "y": "y_mp_1km"}).copy()
    csv["Einwohner"] = csv["Einwohner"].astype(str).replace("-1", "–")
    path = tmp_path / "grid.csv"
    csv.to_csv(path, sep=";", index=False)
    out = read_population_grid(path)
    positive = raw["Einwohner"][raw["Einwohner"] >= 0]
    assert len(out) == len(positive)
    assert out["population"].sum() == positive.sum()
    assert (out["cell_size_m"] == 1000).all()
    assert out.attrs["report"] == [suppressed_line(int((raw["Einwohner"] < 0).sum()), path)]
    # the Hannover region cut from the Parquet while reading
    cut = read_population_grid(shared(*GRID), bbox=(9.6, 52.3, 9.9, 52.45))
    assert 500_000 < cut["population"].sum() < 1_000_000


def test_population_grid_100m_from_ids(tmp_path: Path) -> None:
    path = tmp_path / "g100.csv"
    path.write_text("GITTER_ID_100m;Einwohner\n"
                    "CRS3035RES100mN2689000E4337000;12\n"
                    "CRS3035RES100mN2689100E4337000;–\n"
                    "CRS3035RES100mN2689100E4337200;3\n", encoding="utf-8")
    out = read_population_grid(path)
    assert (out["cell_size_m"] == 100).all()
    assert out["x"].tolist() == [4337050.0, 4337250.0]
    assert out["y"].tolist() == [2689050.0, 2689150.0]
    assert out["population"].sum() == 15


def test_commuters(tmp_path: Path) -> None:
    path = tmp_path / "pendler.csv"
    path.write_text("Gemeindeschlüssel;Einpendler;Auspendler;Name\n"
                    "1001000;30.123;12.000;Flensburg\n"
                    "01002000;-;*;Kiel\n", encoding="utf-8")
    out = read_commuters(path)
    assert out["ags"].tolist() == ["01001000", "01002000"]
    assert out["in_commuters"].tolist() == [30123.0, 0.0]
    assert out["out_commuters"].iloc[0] == 12000.0
    assert np.isnan(out["out_commuters"].iloc[1])


# --------------------------------------------------------------------------- bad inputs


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found.*nope.csv"):
        read_municipalities(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="not found"):
        read_central_places(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="not found"):
        read_population_grid(tmp_path / "nope.parquet")


@pytest.mark.parametrize("name", ["garbage.csv", "garbage.gpkg", "garbage.parquet"])
def test_not_a_table(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(InputError, match="garbage"):
        read_municipalities(path)


def test_missing_ags_column(tmp_path: Path) -> None:
    df = _register_rows().rename(columns={"ags": "key"})
    path = tmp_path / "m.csv"
    df.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"no AGS column.*columns found: key, ars"):
        read_municipalities(path)
    with pytest.raises(InputError, match="AGS"):
        read_central_places(path)


def test_duplicated_ags(tmp_path: Path) -> None:
    df = _register_rows()
    df = pd.concat([df, df.iloc[[1]]])
    path = tmp_path / "m.csv"
    df.to_csv(path, index=False)
    with pytest.raises(InputError, match="duplicated AGS: 01002000"):
        read_municipalities(path)


def test_nan_coordinates(tmp_path: Path) -> None:
    df = _register_rows()
    df.loc[2, "lat"] = None
    path = tmp_path / "m.csv"
    df.to_csv(path, index=False)
    with pytest.raises(InputError, match="no coordinates.*01003000"):
        read_municipalities(path)


def test_coordinates_outside_germany(tmp_path: Path) -> None:
    df = _register_rows()
    df.loc[0, "lon"] = "2.35"
    path = tmp_path / "m.csv"
    df.to_csv(path, index=False)
    with pytest.raises(InputError, match="outside Germany.*01001000"):
        read_municipalities(path)


def test_projected_coordinates(tmp_path: Path) -> None:
    df = _register_rows()
    df["lon"], df["lat"] = "4321000", "3210000"
    path = tmp_path / "m.csv"
    df.to_csv(path, index=False)
    with pytest.raises(InputError, match="projected coordinates"):
        read_municipalities(path)


def test_layer_without_crs(tmp_path: Path, vg250: gpd.GeoDataFrame) -> None:
    part = vg250.iloc[:3][["ags", "geometry"]].set_crs(None, allow_override=True)
    # a shapefile without .prj has no CRS (GeoJSON would be WGS84 by definition)
    shp = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning, match="crs"):
        part.to_file(shp)
    for sidecar in tmp_path.glob("nocrs.prj"):
        sidecar.unlink()
    with pytest.raises(InputError, match="no coordinate reference system"):
        read_municipalities(shp)


def test_unknown_central_place_function(tmp_path: Path) -> None:
    path = tmp_path / "zo.csv"
    path.write_text("ags,gemeinde,zo_funktion\n01001000,A,Oberzentrum\n"
                    "01002000,B,Metropole\n01003000,C,Metropole\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"'Metropole' \(2x\)"):
        read_central_places(path)


def test_conflicting_central_places(tmp_path: Path) -> None:
    path = tmp_path / "zo.csv"
    path.write_text("ags,zo_funktion\n01001000,OZ\n01001000,MZ\n01002000,GZ\n01002000,GZ\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match="01001000: Mittelzentrum/Oberzentrum"):
        read_central_places(path)


def test_bad_commuters(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("ags,Einpendler,Auspendler\n01001000,5,-3\n", encoding="utf-8")
    with pytest.raises(InputError, match="negative.*01001000"):
        read_commuters(path)
    path.write_text("ags,arbeitsort,wohnort\n01001000,5,3\n", encoding="utf-8")
    with pytest.raises(InputError, match="in-commuter.*columns found: ags, arbeitsort"):
        read_commuters(path)


# --------------------------------------------------------------------------- writers


def test_atomic_path_failure_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_keeps_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "out.gpkg"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            assert tmp.parent == tmp_path and tmp.suffix == ".gpkg"
            assert tmp.name.startswith(".out.tmp-")
            tmp.write_text("new")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]
    write_text("new", target)
    assert target.read_text() == "new"
    assert list(tmp_path.iterdir()) == [target]


def test_write_table_failure_keeps_existing(tmp_path: Path) -> None:
    target = tmp_path / "t.parquet"
    write_table(pd.DataFrame({"a": [1]}), target)
    before = target.read_bytes()
    bad = pd.DataFrame({"a": [object()]})  # pyarrow cannot convert this
    import pyarrow as pa

    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError)):
        write_table(bad, target)
    assert target.read_bytes() == before
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".gpkg"])
def test_round_trip_plain(tmp_path: Path, suffix: str) -> None:
    df = pd.DataFrame({"ags": ["01001000", "16077052"], "minutes": [0.0, 12.5],
                       "n": [1, 2], "name": ["Flensburg, Stadt", "Göpfersdorf"]})
    path = write_table(df, tmp_path / f"t{suffix}")
    if suffix == ".csv":
        back = pd.read_csv(path, dtype={"ags": str})
    elif suffix == ".parquet":
        back = pd.read_parquet(path)
    else:
        back = gpd.read_file(path)
    pd.testing.assert_frame_equal(back[df.columns], df, check_dtype=False)


def test_csv_reads_as_a_planner_reads_it(tmp_path: Path) -> None:
    """A CSV output read as a planner would: pandas defaults, the call of
    docs/outputs.md, QGIS/GDAL with the ``.csvt`` sidecar, and GDAL's type detection
    without it (quoted fields are text, so an AGS stays text even without a leading
    zero)."""
    df = pd.DataFrame({"ags": ["16077052", "15003000", "03101000"],
                       "minutes": [12.5, 0.0, np.nan],
                       "n": pd.array([1, 2, None], dtype="Int64"), "flag": [True, False, True],
                       "name": ["Göpfersdorf", 'Magdeburg, "Stadt"', "Hannover"]})
    path = write_table(df, tmp_path / "m.csv")
    # pandas defaults: numbers are numbers, text is text; the AGS loses its leading zero
    plain = pd.read_csv(path)
    assert plain["ags"].tolist() == [16077052, 15003000, 3101000]
    assert plain["minutes"].iloc[:2].tolist() == [12.5, 0.0] and np.isnan(plain["minutes"].iloc[2])
    assert plain["flag"].tolist() == [True, False, True]
    assert plain["name"].tolist() == df["name"].tolist()
    # the documented call keeps the keys as text
    keys = {c: str for c in ("ags", "gvb", "kreis", "land", "nearest_mz_ags", "nearest_oz_ags")}
    documented = pd.read_csv(path, dtype=keys)
    pd.testing.assert_frame_equal(documented, df, check_dtype=False)
    # QGIS / GDAL read the .csvt: the AGS text, the counts integers, the flags booleans
    assert path.with_suffix(".csvt").read_text().strip() == \
        '"String","Real","Integer64","Integer(Boolean)","String"'
    gdal = pyogrio.read_dataframe(path)
    assert gdal["ags"].tolist() == df["ags"].tolist()
    assert gdal["minutes"].iloc[:2].tolist() == [12.5, 0.0] and np.isnan(gdal["minutes"].iloc[2])
    assert gdal["n"].iloc[:2].tolist() == [1, 2] and gdal["flag"].tolist() == [True, False, True]
    assert gdal["name"].tolist() == df["name"].tolist()
    # without the sidecar, GDAL's (and QGIS's) type detection: quoted fields are text,
    # unquoted ones numbers (a missing number is written "", which would make its
    # column text: the sidecar is what keeps such columns numeric)
    full = write_table(df.iloc[:2], tmp_path / "full.csv")
    full.with_suffix(".csvt").unlink()
    detected = pyogrio.read_dataframe(full, AUTODETECT_TYPE="YES", QUOTED_FIELDS_AS_STRING="YES")
    assert detected["ags"].tolist() == ["16077052", "15003000"]
    assert detected["name"].tolist() == df["name"].iloc[:2].tolist()
    assert pd.api.types.is_float_dtype(detected["minutes"])
    assert pd.api.types.is_integer_dtype(detected["n"])
    assert pd.api.types.is_bool_dtype(detected["flag"])


def test_round_trip_municipalities(vg250: gpd.GeoDataFrame, tmp_path: Path) -> None:
    part = vg250[vg250["kreis"] == "03241"].reset_index(drop=True)
    written = write_municipality_outputs(part, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "municipalities.csv", "municipalities.csvt", "municipalities.gpkg",
        "municipalities.parquet"]  # .csvt: the CSV's column types for QGIS/GDAL
    gpkg = gpd.read_file(written["gpkg"], layer="municipalities")
    assert gpkg["ags"].tolist() == part["ags"].tolist()
    assert gpkg.geometry.geom_equals_exact(part.geometry, 1e-9).all()
    pq = gpd.read_parquet(written["parquet"])
    assert pq.geometry.geom_equals_exact(part.geometry, 1e-12).all()
    csv = pd.read_csv(written["csv"], dtype={"ags": str, "gvb": str})
    assert "geometry" not in csv.columns
    assert csv["ags"].tolist() == part["ags"].tolist()
    np.testing.assert_allclose(csv["lon"], part["lon"])
    # re-read with the reader: round trip of the normalised columns
    again = read_municipalities(written["gpkg"])
    assert again["gvb"].tolist() == part["gvb"].tolist()


def test_round_trip_register_points(register: gpd.GeoDataFrame, tmp_path: Path) -> None:
    part = register[register["land"] == "10"].reset_index(drop=True)  # Saarland + 10042999
    assert part["lon"].isna().sum() == 1
    written = write_municipality_outputs(part, tmp_path)
    for fmt in ("gpkg", "parquet"):
        again = read_municipalities(written[fmt])
        pd.testing.assert_frame_equal(pd.DataFrame(again.drop(columns="geometry")),
                                      pd.DataFrame(part.drop(columns="geometry")))
    again = read_municipalities(written["csv"])
    pd.testing.assert_frame_equal(pd.DataFrame(again.drop(columns="geometry")),
                                  pd.DataFrame(part.drop(columns="geometry")))


def test_write_json(tmp_path: Path) -> None:
    path = write_json({"n": np.int64(3), "x": np.float64(0.5), "p": Path("a/b")},
                      tmp_path / "r.json")
    assert path.read_text(encoding="utf-8").replace(" ", "").replace("\n", "") == \
        '{"n":3,"x":0.5,"p":"a/b"}'


# --------------------------------------------------------------------------- config


def test_config_defaults_and_example() -> None:
    default = load_config()
    assert default == Config()
    assert default.lage.beta == 0.076 and default.lage.thresholds == (81000, 183000, 410000)
    example = load_config(EXAMPLE_CONFIG)
    assert example.inputs.osm == EXAMPLE_CONFIG.parent / "hannover-braunschweig-main-roads.osm.pbf"
    # the sample takes the access speed of its profile (fitted on this main-road extract)
    assert example.graph.access_speed_kmh is None
    assert example.graph.access_kmh() == pytest.approx(24.19, abs=0.01)
    assert example.inputs.municipalities.is_file() and example.inputs.central_places.is_file()


def test_config_relative_paths_and_round_trip(tmp_path: Path) -> None:
    cfg_dir = tmp_path / "project"
    cfg_dir.mkdir()
    path = cfg_dir / "run.toml"
    path.write_text('[inputs]\nmunicipalities = "data/gemeinden.csv"\n'
                    '[lage]\nbeta = 0.08\nlimit_min = 90\n'
                    '[walk]\ngtfs_date = 2022-10-18\n', encoding="utf-8")
    cfg = load_config(path, overrides={"output.maps": False})
    assert cfg.inputs.municipalities == cfg_dir / "data" / "gemeinden.csv"
    assert cfg.lage.limit_min == 90.0 and cfg.walk.gtfs_date == "2022-10-18"
    assert cfg.output.maps is False
    written = write_text(cfg.to_toml(), tmp_path / "resolved.toml")
    again = load_config(written)
    assert dataclasses.replace(again, source=None) == dataclasses.replace(cfg, source=None)


def test_config_unknown_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[lage]\nbetta = 0.08\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"'lage.betta'.*Did you mean 'lage.beta'.*Valid keys"):
        load_config(path)
    path.write_text("[outputs]\ndir = 'x'\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"'outputs'.*\[output\]"):
        load_config(path)


def test_config_bad_values(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[graph]\nsimplify = 'yes'\n", encoding="utf-8")
    with pytest.raises(InputError, match="simplify must be true or false"):
        load_config(path)
    path.write_text("[central_places]\norigins = 'centroid'\n", encoding="utf-8")
    with pytest.raises(InputError, match="'point', 'population', 'area'"):
        load_config(path)
    path.write_text("[lage\nbeta = 1\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        load_config(path)
    with pytest.raises(InputError, match="config file not found"):
        load_config(tmp_path / "missing.toml")


#: Every plausible range of a numeric setting, written out (not read from the code):
#: (section, key, lowest, highest, integer). A value outside is a typo or a wrong unit.
CONFIG_RANGES = (
    ("graph", "max_snap_m", 1.0, 100_000.0, False),
    ("graph", "access_speed_kmh", 1.0, 130.0, False),
    ("central_places", "standard_mz_min", 1.0, 600.0, False),
    ("central_places", "standard_oz_min", 1.0, 600.0, False),
    ("central_places", "area_grid_m", 10.0, 100_000.0, False),
    ("lage", "beta", 0.0, 10.0, False),
    ("lage", "sigma_min", 0.1, 1440.0, False),
    ("lage", "floor_min", 0.0, 60.0, False),
    ("lage", "limit_min", 1.0, 1440.0, False),
    ("lage", "target_mean", 1.0, 1e9, False),
    ("walk", "limit_m", 10.0, 100_000.0, False),
    ("walk", "max_distance_m", 10.0, 100_000.0, False),
    ("walk", "max_snap_m", 1.0, 100_000.0, False),
    ("walk", "min_departures", 0, 100_000, True),
    ("output", "matrix_limit_min", 0.0, 600.0, False),
    ("output", "isochrone_max_buffer_m", 1.0, 100_000.0, False),
    ("compute", "n_workers", 1, 4096, True),
    ("compute", "threads_per_worker", 1, 1024, True),
    ("compute", "tile_size_m", 1_000.0, 1_000_000.0, False),
    ("compute", "lage_chunk", 1, 1_000_000, True),
    ("public_transport", "step_min", 0.1, 180.0, False),
    ("public_transport", "percentile", 50.0, 100.0, False),
    ("public_transport", "walk_speed_kmh", 1.0, 10.0, False),
    ("public_transport", "walk_detour", 1.0, 3.0, False),
    ("public_transport", "access_max_m", 50.0, 5_000.0, False),
    ("public_transport", "footpath_max_m", 0.0, 2_000.0, False),
    ("public_transport", "standard_mz_min", 1.0, 600.0, False),
    ("public_transport", "standard_oz_min", 1.0, 600.0, False),
)


#: Keys set beside the one under test, so that its whole range is allowed by the
#: relations between keys (limit_m <= max_distance_m: tests/test_plausibility.py).
_COMPANIONS = {("walk", "limit_m"): "max_distance_m = 100000.0",
               ("walk", "max_distance_m"): "limit_m = 10.0"}


def _config_with(tmp_path: Path, section: str, key: str, value: float) -> Config:
    path = tmp_path / "c.toml"
    other = _COMPANIONS.get((section, key), "")
    path.write_text(f"[{section}]\n{key} = {value!r}\n{other}\n", encoding="utf-8")
    return load_config(path)


@pytest.mark.parametrize(("section", "key", "lo", "hi", "integer"), CONFIG_RANGES,
                         ids=[f"{s}.{k}" for s, k, *_ in CONFIG_RANGES])
def test_config_ranges(tmp_path: Path, section: str, key: str, lo: float, hi: float,
                       integer: bool) -> None:
    """Each bound is inclusive; just outside either bound is a clear error naming the
    key (e.g. ``[walk] limit_m = 1``, meant as km)."""
    step = 1 if integer else max(abs(lo), 1.0) * 0.01
    inside = (lo + hi) // 2 if integer else lo + (hi - lo) / 3
    for value in (lo, inside, hi):
        got = getattr(getattr(_config_with(tmp_path, section, key, value), section), key)
        assert got == value, (key, value)
    for value in (lo - step, hi + (1 if integer else hi * 0.01)):
        with pytest.raises(InputError, match=rf"\[{section}\] {key} (= .* is outside|must be)"):
            _config_with(tmp_path, section, key, value)


def test_config_ranges_are_all_tested() -> None:
    """A range added to (or dropped from) the config needs its row above."""
    from accessibility.config import _RANGES

    assert {(s, k) for s, k, *_ in CONFIG_RANGES} == set(_RANGES)


def test_population_grid_csv_float_minus_one_is_suppressed(tmp_path: Path) -> None:
    p = tmp_path / "grid.csv"
    p.write_text("x,y,Einwohner\n4321500,3256500,12.0\n4322500,3256500,-1.0\n")
    g = read_population_grid(p)
    assert len(g) == 1 and g.attrs["report"] == [suppressed_line(1, p)]
