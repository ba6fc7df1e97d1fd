"""Earliest arrivals by the PyPI package ``pyraptor`` (1.3.10), for ``benchmarks/pt.py``.

Runs in a separate interpreter that has ``pyraptor`` (it pins pandas < 2, which needs
numpy < 2, so it cannot share the project's environment; recipe in
``benchmarks/pt.py``): ``python _pt_pyraptor.py IN.json OUT.json``. Imports only the
standard library, pandas and pyraptor, never ``accessibility``.

``IN.json``: ``stops`` ([stop_id, stop_name]), ``stop_times`` ([trip_id,
stop_sequence, stop_id, arrival_s, departure_s] of the service day, as the project's
GTFS reader selects them), ``destinations`` (stop_ids), ``queries`` ([origin stop_id,
departure_s]), ``rounds``. ``OUT.json``: ``setup_s`` (pyraptor's timetable
conversion), ``query_s`` (all queries), ``arrival`` per query (earliest time at any
destination stop, null: not reached), ``rounds_used`` per query.

pyraptor's own GTFS reader (``pyraptor.gtfs.timetable.read_gtfs_timetable``) is
written for the Dutch NS feed: it needs ``trip_short_name``, ``trip_long_name`` and
``stop_code``, reads ``calendar_dates.txt`` only, keeps agencies by name and drops
every stop without ``parent_station``; on the VRN feed it stops with ``KeyError:
"['trip_short_name', 'trip_long_name'] not in index"``. So its converter
(``gtfs_to_pyraptor_timetable``) is handed the day's trips as the project reads them,
and the queries run its ``RaptorAlgorithm`` unchanged. Its rules, kept: stops of one
name form a station, changing between them takes ``TRANSFER_COST`` (120 s) at any
distance, and there is no other walking; a query starts at its stop only.
"""

from __future__ import annotations

import json
import sys
import time


def main(src: str, dst: str) -> None:
    import pandas as pd
    from loguru import logger
    from pyraptor.gtfs.timetable import GtfsTimetable, gtfs_to_pyraptor_timetable
    from pyraptor.model.raptor import RaptorAlgorithm
    from pyraptor.util import LARGE_NUMBER

    logger.remove()  # it logs every round at INFO
    job = json.loads(open(src).read())
    t = time.perf_counter()
    gt = GtfsTimetable()
    gt.stops = pd.DataFrame(job["stops"], columns=["stop_id", "stop_name"]).assign(
        parent_station="", platform_code=None)
    gt.stop_times = pd.DataFrame(job["stop_times"], columns=[
        "trip_id", "stop_sequence", "stop_id", "arrival_time", "departure_time"])
    gt.trips = pd.DataFrame({"trip_id": gt.stop_times["trip_id"].unique()}).assign(
        trip_short_name=None, trip_long_name=None)
    tt = gtfs_to_pyraptor_timetable(gt)
    setup_s = time.perf_counter() - t
    dests = [tt.stops.get(s) for s in job["destinations"]]
    arrival, rounds_used = [], []
    t = time.perf_counter()
    for origin, t0 in job["queries"]:
        algo = RaptorAlgorithm(tt)
        bags = algo.run([tt.stops.get(origin)], int(t0), int(job["rounds"]))
        best = min(algo.bag_star[d].earliest_arrival_time for d in dests)
        arrival.append(None if best >= LARGE_NUMBER else int(best))
        # the last round that improved a stop (== rounds: the limit may have cut)
        rounds_used.append(max((k for k in range(1, len(bags)) if any(
            bags[k][p].earliest_arrival_time < bags[k - 1][p].earliest_arrival_time
            for p in bags[k])), default=0))
    query_s = time.perf_counter() - t
    open(dst, "w").write(json.dumps({"setup_s": setup_s, "query_s": query_s,
                                     "arrival": arrival, "rounds_used": rounds_used}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
