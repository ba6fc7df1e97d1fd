"""The API and the command line give the same municipality table: a notebook that
follows the README (graph first, the register's points kept, the config's snapping
limit) gets every value the CLI writes, on the sample and on Heidelberg."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd

import accessibility as acc
from accessibility.pipeline import run

from .conftest import shared

MODELS = ["central_places", "lage"]


def api_table(osm, municipalities, central_places, *, max_snap_m, cache_dir, boundaries=None):
    """The README's recipe: what a notebook computes."""
    munis = acc.read_municipalities(municipalities)
    g = acc.build_graph(osm, cache_dir=cache_dir, keep_points=(munis["lon"], munis["lat"]),
                        max_snap_m=max_snap_m)
    polygons = acc.read_municipalities(boundaries) if boundaries is not None else None
    m = acc.attach(g, munis, max_snap_m=max_snap_m)
    cp = acc.central_places(g, m, central_places, polygons=polygons)
    lage = acc.lage(g, cp)
    return lage[lage["in_region"]].set_index("ags")


def assert_same_values(cli: pd.DataFrame, api: pd.DataFrame):
    assert sorted(cli.index) == sorted(api.index)
    missing = [c for c in cli.columns if c not in api.columns and c != "geometry"]
    assert missing == [], f"the CLI writes columns the API does not give: {missing}"
    for c in cli.columns:
        if c == "geometry":
            continue
        a, b = api[c].reindex(cli.index), cli[c]
        assert (a.isna() == b.isna()).all(), f"{c}: missing in one, not the other"
        a, b = a[b.notna()], b[b.notna()]
        if pd.api.types.is_numeric_dtype(b) and not pd.api.types.is_bool_dtype(b):
            np.testing.assert_allclose(a.astype(float), b.astype(float), rtol=1e-12,
                                       err_msg=c)
        else:
            assert (a.astype(str) == b.astype(str)).all(), c


def test_api_equals_cli_on_the_sample(tmp_path):
    data = files("accessibility") / "data"
    run(output_dir=tmp_path / "out", overrides={"output.maps": False, "output.models": MODELS})
    cli = pd.read_parquet(tmp_path / "out" / "municipalities.parquet").set_index("ags")
    # the sample config snaps within 5 km
    api = api_table(data / "hannover-braunschweig-main-roads.osm.pbf", data / "gemeinden.csv",
                    data / "zentrale_orte.csv", max_snap_m=5000, cache_dir=tmp_path / "c")
    assert_same_values(cli, api)


def test_api_equals_cli_on_heidelberg(tmp_path):
    osm = shared("osm", "heidelberg.osm.pbf")
    munis = shared("municipalities", "gemeinden_2019_destatis.csv")
    zo = shared("central_places", "zentrale_orte_2024.csv")
    vg = shared("municipalities", "vg250_2016.gpkg")
    run(output_dir=tmp_path / "out", overrides={
        "inputs.osm": osm, "inputs.municipalities": munis, "inputs.central_places": zo,
        "inputs.boundaries": vg, "output.maps": False, "output.models": MODELS})
    cli = pd.read_parquet(tmp_path / "out" / "municipalities.parquet").set_index("ags")
    api = api_table(osm, munis, zo, max_snap_m=acc.defaults.MAX_SNAP_M,
                    cache_dir=tmp_path / "c", boundaries=vg)
    assert len(cli) > 20
    assert_same_values(cli, api)
