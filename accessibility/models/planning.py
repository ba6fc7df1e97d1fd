"""Where to designate: which municipalities to upgrade to Mittelzentrum.

A planner asks "which k Grundzentren should become Mittelzentren so that the most
residents reach one within the standard (30 minutes by car)?" (maximal covering,
MCLP) or "how few upgrades bring everyone within the standard?" (set covering, LSCP).
Both are solved exactly as mixed-integer programs with :func:`scipy.optimize.milp`
(HiGHS); a greedy answer is computed too and the gap between them reported.

Coverage: municipality ``i`` is *covered* by candidate ``j`` when the car time from
``i`` to ``j`` (access legs at both ends, time from the municipality to the central
place as for ``t_mz_min``) is at most the standard; a candidate covers itself (0
minutes: it becomes a Mittelzentrum). Municipalities that already reach a
Mittel- or Oberzentrum within the standard (``t_mz_min``) are covered before any
upgrade and do not count. The demand is the residents (``population``) of the
others, in the region (``in_region``) and on the network.

Programs (``x_j`` = 1 when candidate ``j`` is upgraded, ``y_i`` = 1 when the
uncovered municipality ``i`` is covered afterwards, ``N_i`` the candidates that
cover ``i``, ``w_i`` its residents)::

    MCLP:  max sum_i w_i y_i   s.t.  y_i <= sum_{j in N_i} x_j,  sum_j x_j <= k,
                                     x binary, 0 <= y <= 1
    LSCP:  min sum_j x_j        s.t.  sum_{j in N_i} x_j >= 1 for every coverable i,
                                     x binary

(``y`` need not be declared integer: at an optimum with binary ``x`` it is
``min(1, sum x)`` anyway.) Municipalities no candidate can cover are reported, not
made infeasible.

Ties: after the optimum ``S`` the program is solved once more with ``S`` forbidden
(``sum_{j in S} x_j <= |S| - 1``); when that optimum is as good, the plan says that
another set is equally good and names it (a planner should not read a tie as a
recommendation). Candidates can be restricted to AGS prefixes (a Land ``03``, a Kreis
``03151``), so that a Land's plan proposes only its own municipalities.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array, eye, hstack

from .. import defaults
from .._errors import InputError
from .._util import require_columns
from ..graph import RoadGraph, network_arrays
from ..routing import one_to_many
from ..vocabulary import GRUNDZENTRUM, GZ_WITH_MZ

logger = logging.getLogger(__name__)

__all__ = [
    "CoverageProblem",
    "PlanResult",
    "PlanSeries",
    "brute_force",
    "coverage_problem",
    "greedy",
    "solve_lscp",
    "solve_mclp",
]

#: Default candidates for an upgrade to Mittelzentrum.
DEFAULT_CANDIDATES = (GRUNDZENTRUM, GZ_WITH_MZ)


@dataclass
class CoverageProblem:
    """The covering problem of a region.

    Attributes
    ----------
    candidates : DataFrame
        ``ags``, ``name`` of the candidates (column ``j``).
    demand : DataFrame
        ``ags``, ``name``, ``population`` of the municipalities beyond the standard
        today (row ``i``).
    cover : scipy.sparse.csr_array of bool, shape (n_demand, n_candidates)
        ``cover[i, j]``: candidate ``j`` would bring ``i`` within the standard.
    minutes : scipy.sparse.csr_array, same shape
        The car times behind ``cover`` (minutes).
    standard_min : float
    covered_before : float
        Residents within the standard today (in the region, on the network).
    """

    candidates: pd.DataFrame
    demand: pd.DataFrame
    cover: csr_array
    minutes: csr_array
    standard_min: float
    covered_before: float

    @property
    def weights(self) -> np.ndarray:
        return self.demand["population"].to_numpy(float)

    def covered_by(self, chosen) -> np.ndarray:
        """Which demand rows the chosen candidate columns cover."""
        chosen = np.asarray(list(chosen), dtype=np.int64)
        if chosen.size == 0:
            return np.zeros(len(self.demand), bool)
        return np.asarray(self.cover[:, chosen].sum(axis=1)).ravel() > 0

    def value(self, chosen) -> float:
        """Residents newly covered by the chosen columns."""
        return float(self.weights[self.covered_by(chosen)].sum())


@dataclass
class PlanResult:
    """A plan: the chosen candidates and how good it is.

    Attributes
    ----------
    chosen : DataFrame
        ``rank`` (order of the greedy gains within the set), ``ags``, ``name``,
        ``residents_gained`` (residents covered by this upgrade that the ones ranked
        before it do not cover), ``municipalities_gained``.
    objective : str
        ``"max_coverage"`` or ``"set_cover"``.
    residents_covered : float
        Residents newly brought within the standard by the whole set.
    greedy_residents : float
        The same for the greedy set of the same size (max coverage) / the greedy
        number of upgrades (set cover: ``greedy_upgrades``).
    gap : float
        Relative difference between the optimum and the greedy answer (0: greedy is
        optimal).
    status : str
        The solver's message.
    seconds : float
        The solver's time.
    uncoverable : DataFrame
        The municipalities no candidate brings within the standard.
    residents_beyond_before, residents_within_before : float
        Residents beyond / within the standard today.
    tie : list of str
        AGS of another set that is exactly as good (as many residents covered; for
        set cover as few upgrades), empty when the optimum is unique.
    report : list of str
        The plan as readable lines (:meth:`lines`).
    """

    chosen: pd.DataFrame
    objective: str
    residents_covered: float
    greedy_residents: float
    greedy_chosen: list[str]
    gap: float
    status: str
    seconds: float
    uncoverable: pd.DataFrame = field(default_factory=pd.DataFrame)
    greedy_upgrades: int | None = None
    residents_beyond_before: float = float("nan")
    residents_within_before: float = float("nan")
    tie: list[str] = field(default_factory=list)
    report: list[str] = field(default_factory=list)

    def lines(self, problem: CoverageProblem) -> list[str]:
        """The plan as readable lines."""
        beyond = float(problem.weights.sum())
        out = [f"{self.objective}: standard {problem.standard_min:g} min; "
               f"{len(problem.candidates)} candidates, {len(problem.demand)} municipalities "
               f"({beyond:,.0f} residents) beyond the standard today, "
               f"{problem.covered_before:,.0f} within it"]
        out.append(f"optimal ({self.status}, {self.seconds:.2f} s): upgrade "
                   + ", ".join(f"{a} {n}" for a, n in zip(self.chosen["ags"], self.chosen["name"]))
                   + f" -> {self.residents_covered:,.0f} residents newly within the standard"
                   + (f", {beyond - self.residents_covered - self.uncoverable['population'].sum():,.0f}"
                      " coverable ones still beyond" if len(self.chosen) else ""))
        if self.tie:
            out.append("tie: upgrading " + ", ".join(self.tie) + " instead is exactly as good; "
                       "the choice between them is the planner's, not the program's")
        if self.objective == "max_coverage":
            out.append(f"greedy: {self.greedy_residents:,.0f} residents "
                       f"({', '.join(self.greedy_chosen)}); gap {100 * self.gap:.2f} %")
        else:
            out.append(f"greedy: {self.greedy_upgrades} upgrades; gap {100 * self.gap:.2f} %")
        if len(self.uncoverable):
            out.append(f"{len(self.uncoverable)} municipalities "
                       f"({self.uncoverable['population'].sum():,.0f} residents) are beyond the "
                       "standard from every candidate")
        return out


def coverage_problem(graph: RoadGraph, municipalities: pd.DataFrame, *,
                     standard_min: float = defaults.STANDARD_MZ_MIN,
                     candidates=DEFAULT_CANDIDATES,
                     candidates_within: tuple[str, ...] | list[str] = ()) -> CoverageProblem:
    """Build the covering problem of a region.

    Parameters
    ----------
    graph : RoadGraph
    municipalities : DataFrame
        Attached (:func:`accessibility.attach`) with ``ags``, ``name``,
        ``population``, ``central_place``, ``t_mz_min`` (the central-place model's
        result) and ``in_region`` when present.
    standard_min : float
        The standard in minutes (default 30).
    candidates : sequence of str
        Central-place functions (default Grundzentrum and Grundzentrum mit
        MZ-Teilfunktion) or AGS (8 digits) of the candidates.
    candidates_within : sequence of str
        AGS prefixes the candidates must start with (``"03"`` Niedersachsen,
        ``"03151"`` Landkreis Gifhorn); empty: anywhere in the region. The demand is
        the whole region either way (residents across a border count).
    """
    require_columns(municipalities, ("ags", "population", "central_place", "t_mz_min"),
                     "the planning", "run the central-place model first")
    if not (np.isfinite(standard_min) and standard_min > 0):
        raise InputError(f"standard_min must be a positive number of minutes, got {standard_min!r}")
    m = municipalities.reset_index(drop=True)
    a = network_arrays(m)
    on = a.on_network.copy()
    if "in_region" in m.columns:
        on &= m["in_region"].to_numpy(bool)
    cand = list(candidates)
    by_ags = [c for c in cand if str(c).isdigit()]
    is_cand = (m["ags"].isin(by_ags) | m["central_place"].isin(cand)).to_numpy() & on
    within_prefixes = [str(p).strip() for p in candidates_within]
    bad = [p for p in within_prefixes if not (p.isdigit() and 1 <= len(p) <= 8)]
    if bad:
        raise InputError(f"candidates_within takes AGS prefixes (digits, e.g. '03' for "
                         f"Niedersachsen, '03151' for a Kreis), got {bad}")
    if within_prefixes:
        is_cand &= m["ags"].astype(str).str.startswith(tuple(within_prefixes)).to_numpy()
    if not is_cand.any():
        where = f" with AGS starting {within_prefixes}" if within_prefixes else ""
        raise InputError(f"no candidate{where} on the network in the region (candidates: "
                         f"{cand[:5]}); give central-place functions or AGS of "
                         "municipalities inside the extract")
    pop = pd.to_numeric(m["population"], errors="coerce").fillna(0.0).to_numpy()
    t_now = pd.to_numeric(m["t_mz_min"], errors="coerce").to_numpy()
    within = on & (t_now <= standard_min)
    beyond = on & ~within & (pop > 0)
    cj = np.flatnonzero(is_cand)
    di = np.flatnonzero(beyond)
    limit_s = standard_min * 60.0
    if di.size:
        # from every demand municipality to every candidate: search the reversed graph
        # from the candidates (their access leg as the start cost)
        cost = one_to_many(graph.reversed, a.node[cj], a.node[di], limit=limit_s,
                           origin_offsets=a.access_s[cj]).tocoo()
        t = cost.data + a.access_s[di][cost.col]  # the demand's own access leg
        # a candidate's own row comes from the rule below, not from the search
        keep = (t <= limit_s) & (di[cost.col] != cj[cost.row])
        rows, cols, t = cost.col[keep], cost.row[keep], t[keep]
        # a candidate covers itself: it becomes a Mittelzentrum (0 minutes)
        self_j = {int(g): k for k, g in enumerate(cj)}
        own = [(r, self_j[int(g)]) for r, g in enumerate(di) if int(g) in self_j]
        if own:
            rows = np.concatenate([rows, [r for r, _ in own]])
            cols = np.concatenate([cols, [c for _, c in own]])
            t = np.concatenate([t, np.zeros(len(own))])
    else:
        rows = cols = np.zeros(0, np.int64)
        t = np.zeros(0)
    shape = (di.size, cj.size)
    minutes = csr_array((t / 60.0, (rows, cols)), shape=shape)
    minutes.sum_duplicates()
    cover = csr_array((np.ones(rows.size, bool), (rows, cols)), shape=shape)
    cover.sum_duplicates()
    name = m["name"] if "name" in m.columns else m["ags"]
    return CoverageProblem(
        candidates=pd.DataFrame({"ags": m["ags"].to_numpy()[cj], "name": name.to_numpy()[cj]}),
        demand=pd.DataFrame({"ags": m["ags"].to_numpy()[di], "name": name.to_numpy()[di],
                             "population": pop[di]}),
        cover=cover.astype(bool), minutes=minutes, standard_min=float(standard_min),
        covered_before=float(pop[within].sum()))


def greedy(problem: CoverageProblem, k: int | None = None) -> list[int]:
    """Candidates chosen one by one, each adding the most residents (ties: the
    lower column); ``k`` upgrades, or until nothing more can be covered."""
    w = problem.weights
    cov = problem.cover.tocsc()
    covered = np.zeros(w.size, bool)
    chosen: list[int] = []
    limit = problem.cover.shape[1] if k is None else int(k)
    while len(chosen) < limit:
        gains = np.array([w[cov.indices[cov.indptr[j]:cov.indptr[j + 1]]][
            ~covered[cov.indices[cov.indptr[j]:cov.indptr[j + 1]]]].sum()
            for j in range(cov.shape[1])])
        gains[chosen] = -1.0
        j = int(np.argmax(gains))
        if gains[j] <= 0:
            break
        chosen.append(j)
        covered |= problem.covered_by([j])
    return chosen


def brute_force(problem: CoverageProblem, k: int) -> tuple[float, tuple[int, ...]]:
    """The best value over every set of exactly ``k`` candidates (for tests and
    small problems)."""
    best = (-1.0, ())
    for combo in itertools.combinations(range(problem.cover.shape[1]), k):
        v = problem.value(combo)
        if v > best[0]:
            best = (v, combo)
    return best


def _ranked(problem: CoverageProblem, chosen: list[int]) -> pd.DataFrame:
    """The chosen columns in the order of their greedy gains within the set."""
    rest, order, covered = list(chosen), [], np.zeros(len(problem.demand), bool)
    rows = []
    w = problem.weights
    while rest:
        gains = [(w[problem.covered_by([j]) & ~covered].sum(), -j) for j in rest]
        g, neg = max(gains)
        j = -neg
        new = problem.covered_by([j]) & ~covered
        rows.append({"rank": len(order) + 1, "ags": problem.candidates["ags"].iloc[j],
                     "name": problem.candidates["name"].iloc[j],
                     "residents_gained": float(g), "municipalities_gained": int(new.sum())})
        covered |= new
        order.append(j)
        rest.remove(j)
    return pd.DataFrame(rows, columns=["rank", "ags", "name", "residents_gained",
                                       "municipalities_gained"])


def _minimal(problem: CoverageProblem, cols) -> list[int]:
    """``cols`` without the members whose removal loses nobody (the last first), so
    that a plan and its tie are compared as what each upgrade adds."""
    keep = [int(j) for j in cols]
    for j in sorted(keep, reverse=True):
        rest = [i for i in keep if i != j]
        if problem.value(rest) >= problem.value(keep):
            keep = rest
    return keep


def _ags(problem: CoverageProblem, cols: list[int]) -> list[str]:
    return [str(problem.candidates["ags"].iloc[j]) for j in sorted(cols)]


def _uncoverable(problem: CoverageProblem) -> pd.DataFrame:
    none = np.asarray(problem.cover.sum(axis=1)).ravel() == 0
    return problem.demand[none].reset_index(drop=True)


def solve_mclp(problem: CoverageProblem, k: int) -> PlanResult:
    """Maximal covering: the ``k`` upgrades that bring the most residents within
    the standard (exact, :func:`scipy.optimize.milp`)."""
    if int(k) < 1:
        raise InputError(f"k must be at least 1, got {k!r}")
    k = int(k)
    n_d, n_c = problem.cover.shape
    t0 = time.perf_counter()
    w = problem.weights
    # variables: x (n_c, binary), then y (n_d, continuous in [0, 1])
    c = np.concatenate([np.zeros(n_c), -w])
    # y_i - sum_{j in N_i} x_j <= 0
    a_cov = csr_array(problem.cover.astype(float))
    rows = hstack([-a_cov, eye(n_d, format="csr")], format="csr")
    budget = csr_array(np.concatenate([np.ones(n_c), np.zeros(n_d)])[None, :])
    cons = [LinearConstraint(rows, -np.inf, 0.0), LinearConstraint(budget, 0, k)]
    integ = np.concatenate([np.ones(n_c), np.zeros(n_d)])
    res = milp(c, constraints=cons, integrality=integ, bounds=Bounds(0, 1))
    if res.x is None:
        raise InputError(f"the maximal covering program failed: {res.message}")
    # an upgrade that adds nobody is no recommendation (the optimum may hold some when
    # fewer than k upgrades already cover every coverable municipality)
    chosen = _minimal(problem, np.flatnonzero(res.x[:n_c] > 0.5))
    value = problem.value(chosen)
    tie = []
    if chosen:  # the same program without this set: is another one as good?
        cut = np.zeros(n_c + n_d)
        cut[chosen] = 1.0
        alt = milp(c, constraints=[*cons, LinearConstraint(csr_array(cut[None, :]), 0,
                                                           len(chosen) - 1)],
                   integrality=integ, bounds=Bounds(0, 1))
        if alt.x is not None:
            other = _minimal(problem, np.flatnonzero(alt.x[:n_c] > 0.5))
            if other and problem.value(other) >= value * (1 - 1e-12):
                tie = other
    g = greedy(problem, k)
    gv = problem.value(g)
    seconds = time.perf_counter() - t0
    gap = (value - gv) / value if value > 0 else 0.0
    return PlanResult(chosen=_ranked(problem, chosen), objective="max_coverage",
                      residents_covered=value, greedy_residents=gv,
                      greedy_chosen=[str(problem.candidates["ags"].iloc[j]) for j in g],
                      gap=float(gap), status=str(res.message), seconds=seconds,
                      uncoverable=_uncoverable(problem), tie=_ags(problem, tie))


def solve_lscp(problem: CoverageProblem) -> PlanResult:
    """Set covering: the fewest upgrades that bring every coverable municipality
    within the standard (exact, :func:`scipy.optimize.milp`)."""
    t0 = time.perf_counter()
    coverable = np.asarray(problem.cover.sum(axis=1)).ravel() > 0
    a_cov = csr_array(problem.cover[coverable].astype(float))
    n_c = problem.cover.shape[1]
    tie: list[int] = []
    if a_cov.shape[0] == 0:
        chosen: list[int] = []
        status = "nothing to cover"
    else:
        cons = [LinearConstraint(a_cov, 1, np.inf)]
        res = milp(np.ones(n_c), constraints=cons, integrality=np.ones(n_c),
                   bounds=Bounds(0, 1))
        if res.x is None:
            raise InputError(f"the set covering program failed: {res.message}")
        chosen = [int(j) for j in np.flatnonzero(res.x > 0.5)]
        status = str(res.message)
        cut = np.zeros(n_c)
        cut[chosen] = 1.0
        alt = milp(np.ones(n_c), constraints=[*cons, LinearConstraint(
            csr_array(cut[None, :]), 0, len(chosen) - 1)], integrality=np.ones(n_c),
            bounds=Bounds(0, 1))
        if alt.x is not None and round(alt.fun) == len(chosen):
            tie = [int(j) for j in np.flatnonzero(alt.x > 0.5)]
    g = greedy(problem)
    value = problem.value(chosen)
    seconds = time.perf_counter() - t0
    gap = (len(g) - len(chosen)) / len(g) if g else 0.0
    return PlanResult(chosen=_ranked(problem, chosen), objective="set_cover",
                      residents_covered=value, greedy_residents=problem.value(g),
                      greedy_chosen=[str(problem.candidates["ags"].iloc[j]) for j in g],
                      gap=float(gap), status=status, seconds=seconds,
                      uncoverable=_uncoverable(problem), greedy_upgrades=len(g),
                      tie=_ags(problem, tie))


@dataclass
class PlanSeries:
    """Plans for several numbers of upgrades on one coverage problem
    (:func:`solve_series`): ``results[k]`` is the plan with ``k`` upgrades."""

    results: dict[int, PlanResult]

    @property
    def table(self) -> pd.DataFrame:
        """One table: per ``k`` the chosen upgrades (``k``, ``rank``, ``ags``, ``name``,
        ``residents_gained``, ``municipalities_gained``) with the plan's total
        ``residents_covered`` and its ``tie`` (AGS of an equally good set, or empty)."""
        parts = [r.chosen.assign(residents_covered=r.residents_covered,
                                 tie=" ".join(r.tie)).assign(k=k)
                 for k, r in self.results.items()]
        out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        return out[["k", *[c for c in out.columns if c != "k"]]] if len(out) else out

    @property
    def report(self) -> list[str]:
        return [line for k, r in self.results.items()
                for line in [f"k = {k}:", *("  " + x for x in r.report)]]


def solve_series(problem: CoverageProblem, ks) -> PlanSeries:
    """:func:`solve_mclp` for every ``k`` in ``ks`` on the same problem (its searches
    done once)."""
    ks = sorted({int(k) for k in ks})
    if not ks:
        raise InputError("give at least one number of upgrades k")
    return PlanSeries({k: solve_mclp(problem, k) for k in ks})
