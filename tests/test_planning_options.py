"""Planning as a planner uses it: ties said out loud, several k in one table,
candidates restricted to a Land or Kreis (issue 26)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from scipy.sparse import csr_array

import accessibility as acc
from accessibility._errors import InputError
from accessibility.cli import main
from accessibility.models.planning import (
    CoverageProblem,
    coverage_problem,
    solve_lscp,
    solve_mclp,
    solve_series,
)

from .conftest import shared
from .test_planning import line_region as line_world


def problem_of(cover: np.ndarray, weights) -> CoverageProblem:
    """A coverage problem from a 0/1 matrix (demand rows x candidate columns)."""
    n_d, n_c = cover.shape
    c = csr_array(cover.astype(bool))
    return CoverageProblem(
        candidates=pd.DataFrame({"ags": [f"c{j}" for j in range(n_c)],
                                 "name": [f"C{j}" for j in range(n_c)]}),
        demand=pd.DataFrame({"ags": [f"d{i}" for i in range(n_d)],
                             "name": [f"D{i}" for i in range(n_d)],
                             "population": np.asarray(weights, float)}),
        cover=c, minutes=csr_array(cover.astype(float)), standard_min=30.0,
        covered_before=0.0)


def minimal_optima(p: CoverageProblem, k: int) -> tuple[float, set[frozenset]]:
    """Brute force: the best value with at most k upgrades, and every set reaching it
    from which no member can be dropped without losing residents."""
    n_c = p.cover.shape[1]
    sets = [s for r in range(1, k + 1) for s in itertools.combinations(range(n_c), r)]
    best = max((p.value(s) for s in sets), default=0.0)
    if best <= 0:
        return best, set()
    return best, {frozenset(s) for s in sets if p.value(s) == best
                  and all(p.value([j for j in s if j != i]) < best for i in s)}


def test_a_tie_is_named():
    # c0 and c1 both cover the only demand: either is the answer, and the plan says so
    p = problem_of(np.array([[1, 1, 0]]), [1000])
    res = solve_mclp(p, 1)
    assert len(res.chosen) == 1 and len(res.tie) == 1
    assert {res.chosen["ags"].iloc[0], res.tie[0]} == {"c0", "c1"}
    assert any(line.startswith("tie: upgrading") for line in res.lines(p))
    # without the twin there is no tie
    p = problem_of(np.array([[1, 0, 0], [0, 1, 0]]), [1000, 10])
    res = solve_mclp(p, 1)
    assert res.chosen["ags"].tolist() == ["c0"] and res.tie == []
    assert not any(line.startswith("tie:") for line in res.lines(p))


def test_a_superset_is_no_tie():
    # k = 2: {c0} covers everyone; {c0, c1} is as good but only because of c0
    p = problem_of(np.array([[1, 1], [1, 0]]), [5, 5])
    res = solve_mclp(p, 2)
    assert res.chosen["ags"].tolist() == ["c0"] and res.tie == []


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(2, 6), st.integers(1, 3), st.data())
def test_tie_reported_exactly_when_brute_force_finds_two_best_sets(n_d, n_c, k, data):
    cover = np.array(data.draw(st.lists(st.lists(st.integers(0, 1), min_size=n_c,
                                                 max_size=n_c), min_size=n_d, max_size=n_d)))
    w = data.draw(st.lists(st.integers(1, 3), min_size=n_d, max_size=n_d))
    p = problem_of(cover, w)
    best, optima = minimal_optima(p, k)
    res = solve_mclp(p, k)
    chosen = {int(a[1:]) for a in res.chosen["ags"]}
    assert res.residents_covered == best
    if best > 0:
        assert frozenset(chosen) in optima
    assert bool(res.tie) == (len(optima) > 1)
    if res.tie:
        tie = frozenset(int(a[1:]) for a in res.tie)
        assert tie in optima and tie != frozenset(chosen)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(2, 6), st.data())
def test_set_cover_tie_when_two_smallest_covers(n_d, n_c, data):
    cover = np.array(data.draw(st.lists(st.lists(st.integers(0, 1), min_size=n_c,
                                                 max_size=n_c), min_size=n_d, max_size=n_d)))
    p = problem_of(cover, [1] * n_d)
    coverable = cover.any(axis=1)
    covers = [set(s) for r in range(0, n_c + 1) for s in itertools.combinations(range(n_c), r)
              if (cover[coverable][:, list(s)].any(axis=1)).all()]
    size = min(len(s) for s in covers)
    smallest = [s for s in covers if len(s) == size]
    res = solve_lscp(p)
    assert len(res.chosen) == size
    assert bool(res.tie) == (len(smallest) > 1 and size > 0)


def test_several_k_in_one_table():
    p = problem_of(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]]), [50, 40, 30, 5])
    series = solve_series(p, [3, 1, 2, 2])
    assert list(series.results) == [1, 2, 3]
    for k, r in series.results.items():  # each equals the plan of its own k
        assert r.residents_covered == solve_mclp(p, k).residents_covered
    t = series.table
    assert t["k"].tolist() == [1, 2, 2, 3, 3, 3]
    assert t.groupby("k")["residents_covered"].first().tolist() == [55.0, 95.0, 125.0]
    with pytest.raises(InputError, match="at least one"):
        solve_series(p, [])


def test_candidates_within_a_prefix():
    g, m = line_world()
    everywhere = coverage_problem(g, m, standard_min=15.0)
    assert len(everywhere.candidates) > 1
    # the candidates are T2, T4, T6 (AGS 03000002, ...); a full AGS is a prefix too
    only = coverage_problem(g, m, standard_min=15.0, candidates_within=["03000004"])
    assert only.candidates["ags"].tolist() == ["03000004"]
    assert len(coverage_problem(g, m, standard_min=15.0, candidates_within=["0300000"])
               .candidates) == 3
    # the demand is the whole region either way
    pd.testing.assert_frame_equal(only.demand, everywhere.demand)
    with pytest.raises(InputError, match="AGS prefixes"):
        coverage_problem(g, m, standard_min=15.0, candidates_within=["Niedersachsen"])
    with pytest.raises(InputError, match="with AGS starting"):
        coverage_problem(g, m, standard_min=15.0, candidates_within=["09"])


def test_api_plan_with_several_k_and_a_prefix():
    g, m = line_world()
    series = acc.plan(g, m, k=[1, 2], standard_min=15.0)
    assert isinstance(series, acc.PlanSeries) and set(series.results) == {1, 2}
    one = acc.plan(g, m, k=1, standard_min=15.0)
    assert isinstance(one, acc.PlanResult)
    assert series.results[1].residents_covered == one.residents_covered
    assert series.results[1].residents_beyond_before == one.residents_beyond_before
    assert any(line == "k = 2:" for line in series.report)


def test_cli_k_list_and_candidates_in(tmp_path, capsys):
    out = tmp_path / "plan.csv"
    argv = ["-q", "plan", "--osm", str(shared("osm", "hannover-braunschweig-main-roads.osm.pbf")),
            "--municipalities", str(shared("municipalities", "gemeinden_2019_destatis.csv")),
            "--central-places", str(shared("central_places", "zentrale_orte_2024.csv")),
            "-o", str(tmp_path / "o"), "--k", "1,2", "--candidates-in", "03151",
            "--standard", "20", "--out", str(out)]
    assert main(argv) == 0
    t = pd.read_csv(out, dtype={"ags": str})
    assert sorted(set(t["k"])) == [1, 2] and (t["ags"].str.startswith("03151")).all()
    assert "k = 1:" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main(["plan", "--k", "0,2"])
    assert e.value.code == 2
