"""Timetable scenarios: a route runs at another headway, or a new route is added.

A transformation of one day's stop times before routing (the router itself does not
change). In a scenario file (:func:`accessibility.models.scenario.read_scenario`)::

    [[public_transport.headways]]     # "what if line 33 ran every 30 minutes"
    route = "33"                      # route_short_name or route_id
    headway_min = 30

    [[public_transport.new_routes]]
    name = "Express"
    stops = ["de:08221:1160", "de:08226:3301"]   # stop_ids of the feed, in order
    run_min = [12]                    # minutes between consecutive stops
    headway_min = 20
    start = "06:00"                   # first departure; runs while before end
    end = "09:00"
    both_directions = true

Rules (hand-checkable):

* **Headway**: the route's trips of the day are grouped by their stop sequence (a
  direction or variant). Each group keeps its first trip's running and dwell times
  and its span: new runs leave the first stop at the group's first departure and then
  every ``headway_min`` minutes while not after its last departure; they replace the
  group's trips. A route that does not run on the day is an error.
* **New route**: runs leave the first stop at ``start``, ``start + headway``, ...
  while before ``end``; the k-th stop is reached ``sum(run_min[:k])`` minutes after the
  departure (no dwell). With ``both_directions`` the reversed stop list runs the
  reversed times at the same departures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._errors import InputError

__all__ = ["PtScenario", "apply_pt_scenario", "parse_pt_scenario"]


@dataclass
class PtScenario:
    """Changes to a timetable: ``headways`` (``route``, ``headway_min``) and
    ``new_routes`` (``name``, ``stops``, ``run_min``, ``headway_min``, ``start_s``,
    ``end_s``, ``both_directions``)."""

    headways: list[dict] = field(default_factory=list)
    new_routes: list[dict] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.headways or self.new_routes)


def _clock(value, where: str) -> int:
    parts = str(value).split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[1]) >= 60:
        raise InputError(f"{where} must be a clock time 'HH:MM', got {value!r}.")
    return int(parts[0]) * 3600 + int(parts[1]) * 60


def _minutes(value, where: str, *, zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            (value >= 0 if zero else value > 0) and value <= 1440):
        raise InputError(f"{where} must be minutes {'>= 0' if zero else '> 0'} and at most "
                         f"1440, got {value!r}.")
    return float(value)


def parse_pt_scenario(d: dict, where: str) -> PtScenario:
    """The ``[public_transport]`` table of a scenario file, checked."""
    bad = sorted(set(d) - {"headways", "new_routes"})
    if bad:
        raise InputError(f"{where}: unknown [public_transport] keys {bad}; valid: headways, "
                         "new_routes")
    sc = PtScenario()
    for i, h in enumerate(d.get("headways", [])):
        w = f"{where}: public_transport.headways[{i}]"
        if not isinstance(h, dict) or "route" not in h or "headway_min" not in h:
            raise InputError(f"{w} needs route (route_short_name or route_id) and "
                             "headway_min.")
        sc.headways.append({"route": str(h["route"]),
                            "headway_min": _minutes(h["headway_min"], f"{w} headway_min")})
    for i, r in enumerate(d.get("new_routes", [])):
        w = f"{where}: public_transport.new_routes[{i}]"
        need = {"stops", "run_min", "headway_min", "start", "end"}
        if not isinstance(r, dict) or need - set(r):
            raise InputError(f"{w} needs {', '.join(sorted(need))}.")
        stops = [str(s) for s in r["stops"]]
        runs = [_minutes(m, f"{w} run_min", zero=True) for m in r["run_min"]]
        if len(stops) < 2 or len(runs) != len(stops) - 1:
            raise InputError(f"{w}: give at least two stops and one run_min per pair of "
                             f"consecutive stops ({len(stops)} stops, {len(runs)} run_min).")
        start, end = _clock(r["start"], f"{w} start"), _clock(r["end"], f"{w} end")
        if not start < end:
            raise InputError(f"{w}: start {r['start']} is not before end {r['end']}.")
        sc.new_routes.append({"name": str(r.get("name", f"new{i}")), "stops": stops,
                              "run_min": runs, "start_s": start, "end_s": end,
                              "headway_min": _minutes(r["headway_min"], f"{w} headway_min"),
                              "both_directions": bool(r.get("both_directions", False))})
    return sc


def _route_trips(route: str, trips: pd.DataFrame, routes: pd.DataFrame | None) -> set:
    ids = {route} if route in set(trips["route_id"]) else set()
    if routes is not None and "route_short_name" in routes.columns:
        ids |= set(routes.loc[routes["route_short_name"].astype(str) == route, "route_id"])
    return set(trips.loc[trips["route_id"].isin(ids), "trip_id"])


def _reheadway(st: pd.DataFrame, headway_s: int, name: str) -> pd.DataFrame:
    """New runs of every stop sequence of ``st`` (one route's stop times)."""
    st = st.sort_values(["trip_id", "stop_sequence"])
    key = st.groupby("trip_id", sort=False)["stop_id"].agg(lambda s: "\x1f".join(map(str, s)))
    first = st.groupby("trip_id", sort=False)["departure_s"].min()
    out = []
    for g, trip_ids in enumerate(key.groupby(key).groups.values()):
        deps = first.loc[trip_ids].sort_values()
        template = st[st["trip_id"] == deps.index[0]]
        t0 = int(deps.iloc[0])
        for k, t in enumerate(range(t0, int(deps.iloc[-1]) + 1, headway_s)):
            run = template.assign(trip_id=f"{name}#h{g}.{k}")
            run["arrival_s"] = template["arrival_s"] - t0 + t
            run["departure_s"] = template["departure_s"] - t0 + t
            out.append(run)
    return pd.concat(out, ignore_index=True)


def _new_route(r: dict) -> pd.DataFrame:
    offs = np.concatenate([[0.0], np.cumsum(r["run_min"])]) * 60
    out = []
    dirs = [(r["stops"], offs)]
    if r["both_directions"]:
        dirs.append((r["stops"][::-1], offs[-1] - offs[::-1]))
    starts = np.arange(r["start_s"], r["end_s"], round(r["headway_min"] * 60))
    for d, (stops, o) in enumerate(dirs):
        for k, t in enumerate(starts):
            times = (t + o).astype(np.int64)
            out.append(pd.DataFrame({"trip_id": f"{r['name']}#{d}.{k}", "stop_id": stops,
                                     "stop_sequence": np.arange(1, len(stops) + 1),
                                     "arrival_s": times, "departure_s": times}))
    return pd.concat(out, ignore_index=True)


def apply_pt_scenario(sc: PtScenario, stop_times: pd.DataFrame, trips: pd.DataFrame,
                      routes: pd.DataFrame | None, stops: pd.DataFrame) -> pd.DataFrame:
    """The day's stop times with the scenario's changes (module docstring).

    Parameters
    ----------
    sc : PtScenario
    stop_times : pandas.DataFrame
        ``trip_id``, ``stop_id``, ``stop_sequence``, ``arrival_s``, ``departure_s``
        (:class:`accessibility.io.gtfs_timetable.GtfsDay`; a frequency run's trip_id
        is ``"<trip_id>#<k>"``).
    trips, routes : pandas.DataFrame
        The feed's trips (``trip_id``, ``route_id``) and routes (``route_id``,
        ``route_short_name``).
    stops : pandas.DataFrame
        ``stop_id``: the stops a new route may use.
    """
    st = stop_times
    base_trip = st["trip_id"].astype(str).str.split("#").str[0]
    for h in sc.headways:
        ids = _route_trips(h["route"], trips, routes)
        mine = base_trip.isin(ids).to_numpy()
        if not mine.any():
            raise InputError(f"scenario: route {h['route']!r} has no trip on the day (neither "
                             "a route_short_name nor a route_id of a running route).")
        new = _reheadway(st[mine], round(h["headway_min"] * 60), h["route"])
        st, base_trip = (pd.concat([st[~mine], new[st.columns]], ignore_index=True),
                         pd.concat([base_trip[~mine], new["trip_id"]], ignore_index=True))
    known = set(stops["stop_id"].astype(str))
    for r in sc.new_routes:
        unknown = [s for s in r["stops"] if s not in known]
        if unknown:
            raise InputError(f"scenario: new route {r['name']!r} names stop_id(s) "
                             f"{', '.join(map(repr, unknown[:3]))} that are not in the feed's "
                             "stops.txt.")
        st = pd.concat([st, _new_route(r)[st.columns]], ignore_index=True)
    return st
