"""Public-transport routing over a GTFS timetable: the Connection Scan Algorithm
(earliest arrival, profiles to a set of destinations, travel times over a departure
window).

A package beside ``routing/`` because its data is a timetable (connections sorted by
time, footpaths between stops), not the road graph's CSR arrays: nothing of
``routing`` is shared, and ``routing``'s checked API stays about roads.
"""

from ._csa_kernels import INF
from .router import Profile, earliest_arrival, profile, window_statistics, window_times
from .timetable import Timetable, build_timetable, walk_seconds

__all__ = ["INF", "Profile", "Timetable", "build_timetable", "earliest_arrival", "profile",
           "walk_seconds", "window_statistics", "window_times"]
