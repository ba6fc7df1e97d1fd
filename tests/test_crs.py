"""A metric CRS must be true to distances in Germany: Web Mercator and geographic CRSs
are refused wherever a CRS is given (config, build_graph, graph build --crs)."""

from __future__ import annotations

import numpy as np
import pytest

from accessibility import build_graph, config as config_mod
from accessibility._crs import check_metric_crs, scale_error
from accessibility._errors import InputError
from accessibility.cli import main

from .conftest import TEST_DATA

GOOD = ["EPSG:25832", "EPSG:25833", "EPSG:3035", "EPSG:31467", "EPSG:5243"]
BAD = {"EPSG:3857": "distorts distances", "EPSG:4326": "not a projected CRS",
       "EPSG:99999": "not a known CRS", "EPSG:2056": "distorts distances"}


def test_scale_errors_as_derived():
    # Web Mercator's scale is 1 / cos(latitude): largest at Germany's north, 55.1 N
    assert scale_error("EPSG:3857") == pytest.approx(1 / np.cos(np.radians(55.1)) - 1, rel=1e-6)
    # UTM: 0.9996 on the central meridian (9 E); farthest at 15.1 E, 47.2 N:
    # k ~ 0.9996 (1 + (dlon cos lat)^2 / 2)
    d = np.radians(15.1 - 9.0) * np.cos(np.radians(47.2))
    assert scale_error("EPSG:25832") == pytest.approx(0.9996 * (1 + d * d / 2) - 1, rel=0.02)


@pytest.mark.parametrize("crs", GOOD)
def test_crs_fit_for_distances(crs):
    assert check_metric_crs(crs) == crs
    config_mod.load_config(None, overrides={"graph.metric_crs": crs})


@pytest.mark.parametrize("crs,why", BAD.items())
def test_crs_refused_everywhere(crs, why, tmp_path, capsys):
    with pytest.raises(InputError, match=why):
        config_mod.load_config(None, overrides={"graph.metric_crs": crs})
    with pytest.raises(InputError, match=why):
        build_graph(TEST_DATA / "tiny.osm", crs=crs)
    assert main(["graph", "build", str(TEST_DATA / "tiny.osm"), "-o",
                 str(tmp_path / "g.npz"), "--crs", crs]) == 2
    err = capsys.readouterr().err
    assert "--crs" in err and why in err and not (tmp_path / "g.npz").exists()
