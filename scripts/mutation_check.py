"""Plant bugs in the critical modules and see whether the tests catch them.

A small mutation runner, a developer tool (not run in CI): for every mutation in
:data:`MUTATIONS` it replaces one or more snippets of a source file, runs the tests
that guard that code (``pytest -x``), records whether they failed (caught) or passed
(missed), and puts the file back, also when interrupted. The mutations are the kinds
of one-line bugs that matter here: class bounds moved or made exclusive, weights
dropped, missing values counted as 0, a kernel path that silently loses rows, decay
parameters in the wrong unit, signs flipped; and (issue 30) those that once passed the
whole suite (planning's access legs and its standard, a config range, the graph cache
key, CSV quoting, a run option ignored) and one per recent feature (edge flags, report
tables, scenarios, the API's graph-first order, the Lage's reuse of the fit's pairs,
QGIS styles, public-transport routing).

Usage (from the repository root, with the test extras installed)::

    python scripts/mutation_check.py            # all mutations, prints caught / planted
    python scripts/mutation_check.py --list     # what would be planted
    python scripts/mutation_check.py -k kernel  # only those whose name contains "kernel"

It prints one line per mutation and the total; the exit code is the number missed.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "accessibility"


@dataclass(frozen=True)
class Mutation:
    """One planted bug: ``(old, new)`` replacements in ``file``, guarded by ``tests``."""

    name: str
    file: str
    edits: tuple[tuple[str, str], ...]
    tests: tuple[str, ...]


_CP_TESTS = ("tests/test_rules.py", "tests/test_central_places.py")
_LAGE_TESTS = ("tests/test_rules.py", "tests/test_lage.py")

MUTATIONS = (
    Mutation("weighted mean counts missing values as 0 minutes",
             "models/central_places.py",
             (("ok = x.notna() & ~empty", "ok = ~empty"),), _CP_TESTS),
    Mutation("weighted mean swaps area and population weights", "models/central_places.py",
             (('(("area_w", area), ("pop_w", pop))', '(("area_w", pop), ("pop_w", area))'),),
             _CP_TESTS),
    Mutation("origin weights dropped (plain mean)", "models/nearest.py",
             (("w = weight * reach", "w = np.ones_like(weight) * reach"),), _CP_TESTS),
    Mutation("central places no longer 0 minutes", "models/central_places.py",
             (("t_min[zero] = 0.0", "pass"),), _CP_TESTS),
    Mutation("time classes: lower bound exclusive", "models/nearest.py",
             (("out[(t >= lo) & (t < hi)] = label", "out[(t > lo) & (t <= hi)] = label"),),
             _CP_TESTS),
    Mutation("OZ class 30-60 min ends at 45", "vocabulary.py",
             (('OZ_CLASSES = ((15.0, "< 15 min"), (30.0, "15-30 min"), (60.0, "30-60 min"),',
               'OZ_CLASSES = ((15.0, "< 15 min"), (30.0, "15-30 min"), (45.0, "30-60 min"),'),),
             _CP_TESTS),
    Mutation("MZ class bound 7.5 -> 8", "vocabulary.py",
             (('(7.5, "< 7.5 min")', '(8.0, "< 7.5 min")'),), _CP_TESTS),
    Mutation("Großstadt > 100,000 instead of >=", "models/settlement.py",
             (("gross = ok & (pop >= 100_000)", "gross = ok & (pop > 100_000)"),), _LAGE_TESTS),
    Mutation("Mittelstadt > 20,000 instead of >=", "models/settlement.py",
             (("((pop >= 20_000) |", "((pop > 20_000) |"),), _LAGE_TESTS),
    Mutation("große Großstadt at 400,000", "models/settlement.py",
             (("pop[gross] >= 500_000", "pop[gross] >= 400_000"),), _LAGE_TESTS),
    Mutation("Kleinstadt without the MZ rule", "models/settlement.py",
             (("(rank >= FUNCTION_RANK[GZ_WITH_MZ])", "(rank > FUNCTION_RANK[GZ_WITH_MZ])"),),
             _LAGE_TESTS),
    Mutation("Lage bounds exclusive", "models/lage_tables.py",
             (('np.searchsorted(th, v, side="right")', 'np.searchsorted(th, v, side="left")'),),
             _LAGE_TESTS),
    Mutation("Kreis Lage not population-weighted", "models/lage_tables.py",
             (('"wv": (v * pop).where(ok, 0.0), "w": pop.where(ok, 0.0)',
               '"wv": v.where(ok, 0.0), "w": ok.astype(float)'),), _LAGE_TESTS),
    Mutation("GVB centre: the least populous member", "models/lage_units.py",
             (('d.sort_values(["k", "p", "a"], ascending=[True, False, True], kind="stable")',
               'd.sort_values(["k", "p", "a"], ascending=[True, True, True], kind="stable")'),),
             ("tests/test_lage_units.py", "tests/test_rules.py")),
    Mutation("Lage exact test: an unreached destination never counts", "routing/_exact_kernels.py",
             (("if t_k[k, o] + l_k[k, d] <= limit_s:", "if False:"),),
             ("tests/test_edges_exact.py",)),
    Mutation("Lage exact test: a reached destination cannot be beaten", "routing/_exact_kernels.py",
             (("if t_k[k, o] + l_k[k, d] < t_s[p]:", "if False:"),),
             ("tests/test_edges_exact.py",)),
    Mutation("daytime population adds out-commuters", "models/lage.py",
             (("day[ok] = day[ok] + inc[ok] - out[ok]", "day[ok] = day[ok] + inc[ok] + out[ok]"),),
             _LAGE_TESTS),
    Mutation("exponential decay in seconds, not minutes", "routing/search.py",
             (("return kind, self.beta / units_per_minute, 0.0", "return kind, self.beta, 0.0"),),
             ("tests/test_lage.py",)),
    Mutation("exponential weight formula", "routing/_decay.py",
             (("return np.exp(-decay_param * t)", "return np.exp(-decay_param * t / 2.0)"),),
             _LAGE_TESTS),
    Mutation("kernel: a row that does not fit the buffer is dropped", "routing/kernels.py",
             (("        if not fits:\n            f = start\n            break",
               "        if not fits:\n            f = start"),),
             ("tests/test_kernels.py",)),
    Mutation("kernel: the bounded search's limit is exclusive", "routing/kernels.py",
             (("            if nd <= limit and nd < dist[v]:\n                dist[v] = nd\n"
               "                size = heap4_push(hkey, hval, size, nd, np.int64(v))",
               "            if nd < limit and nd < dist[v]:\n                dist[v] = nd\n"
               "                size = heap4_push(hkey, hval, size, nd, np.int64(v))"),),
             ("tests/test_kernels.py", "tests/test_lage.py")),
    Mutation("walk limit exclusive", "models/walkability.py",
             (("within = d <= limit_m", "within = d < limit_m"),),
             ("tests/test_rules.py", "tests/test_walkability.py")),
    Mutation("walk: a cell missing a service still gets an 'all six' distance",
             "models/walkability.py",
             (("all_d = np.max(stack, axis=0)", "all_d = np.fmax.reduce(stack)"),),
             ("tests/test_rules.py", "tests/test_walkability.py")),
    Mutation("attach: points beyond max_snap_m are snapped", "graph/snap.py",
             (("on = dist <= max_snap_m", "on = dist <= 10 * max_snap_m"),),
             ("tests/test_architecture.py", "tests/test_graph.py")),
    # issue 30: bugs that once passed the whole suite
    Mutation("planning: the demand's own access leg dropped", "models/planning.py",
             (("t = cost.data + a.access_s[di][cost.col]",
               "t = cost.data + 0.0 * a.access_s[di][cost.col]"),), ("tests/test_planning.py",)),
    Mutation("planning: a time equal to the standard counted beyond it", "models/planning.py",
             (("within = on & (t_now <= standard_min)", "within = on & (t_now < standard_min)"),),
             ("tests/test_planning.py",)),
    Mutation("planning: a candidate's access leg dropped", "models/planning.py",
             (("origin_offsets=a.access_s[cj]).tocoo()", "origin_offsets=None).tocoo()"),),
             ("tests/test_planning.py",)),
    Mutation("config: [walk] limit_m without its range (1 meant as km runs)", "config.py",
             (('    ("walk", "limit_m"): (10.0, 100_000.0, "metres"),\n', ""),),
             ("tests/test_io.py",)),
    Mutation("config: a range's upper bound exclusive", "config.py",
             (("rng[0] <= value <= rng[1]", "rng[0] <= value < rng[1]"),), ("tests/test_io.py",)),
    Mutation("graph cache key without the profile's class_factors", "profile.py",
             (("self.maxspeed_zones_kmh,\n                           self.class_factors]",
               "self.maxspeed_zones_kmh]"),), ("tests/test_graph.py",)),
    Mutation("CSV: text no longer quoted", "io/writers.py",
             (("quoting=csv.QUOTE_NONNUMERIC", "quoting=csv.QUOTE_MINIMAL"),),
             ("tests/test_io.py",)),
    Mutation("run: [graph] max_snap_m ignored when attaching", "pipeline/run.py",
             (("munis = attach(graph, munis, max_snap_m=config.graph.max_snap_m,",
               "munis = attach(graph, munis, max_snap_m=5000.0,"),),
             ("tests/test_cli.py::test_run_uses_max_snap_m",)),
    # one per feature of the last rounds
    Mutation("edges: no flag where no destination was found", "models/nearest.py",
             (("return np.isfinite(bound) & (np.isnan(t) | (bound < t))",
               "return np.isfinite(bound) & (bound < t)"),),
             ("tests/test_central_places.py", "tests/test_indicators.py")),
    Mutation("report tables: residents as the largest, not the sum", "models/units.py",
             (('p = d.groupby(rows + [col])["population"].sum()',
               'p = d.groupby(rows + [col])["population"].max()'),), ("tests/test_units.py",)),
    Mutation("scenario: speed factor multiplies times", "models/scenario.py",
             (("        time_s[of] /= f\n", "        time_s[of] *= f\n"),),
             ("tests/test_scenario.py",)),
    Mutation("API: a table in the graph's place not named as such", "api/_common.py",
             (("    if isinstance(graph, pd.DataFrame):\n        raise InputError(GRAPH_FIRST)\n",
               ""),), ("tests/test_architecture.py",)),
    Mutation("Lage: the fit's pair table reused for another limit", "models/lage.py",
             (("h.update(repr(float(limit_min)).encode())", "pass"),), ("tests/test_lage.py",)),
    Mutation("QGIS: every style of the GeoPackage marked its layer's default",
             "io/qgis_style.py", (("(layer, geometry_column, name, qml, 1 if default else 0,",
                                   "(layer, geometry_column, name, qml, 1,"),),
             ("tests/test_maps.py",)),
    Mutation("public transport: no footpath after an arrival (earliest arrival)",
             "transit/_csa_kernels.py",
             (("                    if a <= g:\n                        again = True\n"
               "                for f in range(fp_ptr[v], fp_ptr[v + 1]):",
               "                    if a <= g:\n                        again = True\n"
               "                for f in range(0):"),), ("tests/test_transit.py",)),
)


def _backup(path: Path) -> Path:
    return path.with_name(path.name + ".mutation-backup")


def restore_leftovers() -> None:
    """Put back files a killed earlier check left mutated (their backups)."""
    for b in PKG.rglob("*.mutation-backup"):
        b.replace(b.with_name(b.name.removesuffix(".mutation-backup")))
        print(f"restored {b.name.removesuffix('.mutation-backup')} from an interrupted check")


def apply(m: Mutation) -> str:
    """Plant ``m`` (after a backup beside the file); return the original text."""
    path = PKG / m.file
    text = path.read_text(encoding="utf-8")
    new = text
    for old, rep in m.edits:
        if new.count(old) != 1:
            raise SystemExit(f"mutation {m.name!r}: {old!r} occurs {new.count(old)} times in "
                             f"{m.file}; update MUTATIONS")
        new = new.replace(old, rep)
    _backup(path).write_text(text, encoding="utf-8")
    path.write_text(new, encoding="utf-8")
    return text


def run_tests(tests: tuple[str, ...], timeout: float) -> tuple[bool, float]:
    """True when the tests fail (the mutation is caught)."""
    t = time.perf_counter()
    try:
        r = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                            *tests], cwd=ROOT, capture_output=True, timeout=timeout)
        caught = r.returncode != 0
    except subprocess.TimeoutExpired:
        caught = True  # a mutation that hangs the tests is noticed too
    return caught, time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-k", default="", help="only mutations whose name contains this")
    p.add_argument("--list", action="store_true", help="list the mutations and exit")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per test run")
    args = p.parse_args(argv)
    # SIGTERM/SIGHUP as KeyboardInterrupt, so that the file is put back
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    restore_leftovers()
    chosen = [m for m in MUTATIONS if args.k.lower() in m.name.lower()]
    if args.list:
        for m in chosen:
            print(f"{m.file:<28} {m.name}")
        return 0
    caught_n = 0
    for m in chosen:
        original = apply(m)
        try:
            caught, secs = run_tests(m.tests, args.timeout)
        finally:
            (PKG / m.file).write_text(original, encoding="utf-8")
            _backup(PKG / m.file).unlink()
        caught_n += caught
        print(f"{'caught' if caught else 'MISSED':<7} {secs:6.1f} s  {m.file:<28} {m.name}",
              flush=True)
    print(f"{caught_n} of {len(chosen)} planted bugs caught")
    return len(chosen) - caught_n


if __name__ == "__main__":
    sys.exit(main())
