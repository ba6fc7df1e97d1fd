"""Earliest arrival and travel times over a departure window, checked API over the
CSA kernels.

Why the Connection Scan Algorithm and not RAPTOR: the feeds here are regional to
national single days (up to ~20 million connections), which CSA scans as one sorted
array with no route patterns to build (RAPTOR needs trips grouped into
non-overtaking patterns); and its profile variant answers the window question from
the destinations in one backward scan: every stop's Pareto set of (departure,
arrival at the nearest destination), which each origin then reads for all 180
departure minutes by binary search. RAPTOR's range query (rRAPTOR) would instead run
one search per origin over the window.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .. import defaults
from .._errors import InputError
from ._csa_kernels import INF, earliest_arrival_kernel, profile_kernel, window_kernel
from .timetable import Timetable

logger = logging.getLogger(__name__)

__all__ = ["Profile", "earliest_arrival", "profile", "window_statistics", "window_times"]


def _seconds(values, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.size and (not np.isfinite(arr).all() or (arr < 0).any()):
        raise InputError(f"{name} must be finite seconds >= 0.")
    return np.ceil(arr).astype(np.int64)


def _tt(tt) -> Timetable:
    if not isinstance(tt, Timetable):
        raise InputError(f"the first argument must be a Timetable (transit.build_timetable), "
                         f"not {type(tt).__name__}.")
    return tt


def earliest_arrival(tt: Timetable, origin_stops, offsets_s, departure_s: int, *,
                     limit_s: float | None = None) -> np.ndarray:
    """Earliest time at every stop, leaving at ``departure_s``.

    Parameters
    ----------
    tt : Timetable
    origin_stops : array of str
        stop_ids reached on foot from the origin.
    offsets_s : array of float
        The walk to each of them (seconds).
    departure_s : int
        Departure time, seconds after midnight of the service day.
    limit_s : float, optional
        Scan only connections departing within this many seconds of the departure.

    Returns
    -------
    numpy.ndarray of float
        Earliest time (seconds after midnight) one can be at each stop of
        ``tt.stop_ids``: at an origin stop after the walk, or after a ride (and one
        footpath). NaN where not reached.
    """
    tt = _tt(tt)
    origin = tt.index_of(origin_stops)
    offset = _seconds(offsets_s, "offsets_s")
    if offset.shape != origin.shape:
        raise InputError("origin_stops and offsets_s must have the same length.")
    t0 = int(_seconds([departure_s], "departure_s")[0])
    t_end = int(INF) if limit_s is None else t0 + int(_seconds([limit_s], "limit_s")[0])
    ea = earliest_arrival_kernel(tt.c_dep, tt.c_arr, tt.c_from, tt.c_to, tt.c_next,
                                 tt.fp_ptr, tt.fp_to, tt.fp_dur, tt.n_stops, origin, offset,
                                 np.int64(t0), np.int64(t_end))
    return np.where(ea >= INF, np.nan, ea.astype(float))


class Profile:
    """Every stop's earliest arrival at the nearest of a set of destinations, as a
    function of the departure time (from :func:`profile`)."""

    def __init__(self, tt: Timetable, egress: np.ndarray, arrays: tuple) -> None:
        self.timetable = tt
        self.egress = egress
        self.arrays = arrays

    @property
    def n_pairs(self) -> int:
        return int(self.arrays[1].sum())


def profile(tt: Timetable, destination_stops, egress_s, *,
            earliest_s: int = defaults.PT_WINDOW_S[0]) -> Profile:
    """Profiles to the nearest of a set of destinations (one backward scan).

    Parameters
    ----------
    tt : Timetable
    destination_stops : array of str
        stop_ids from which a destination is reached on foot.
    egress_s : array of float
        The walk from each of them to its (nearest) destination, seconds; a stop
        listed twice keeps its shortest walk.
    earliest_s : int
        The earliest departure asked for (connections before it are not scanned).

    Returns
    -------
    Profile
    """
    tt = _tt(tt)
    dest = tt.index_of(destination_stops)
    walk = _seconds(egress_s, "egress_s")
    if walk.shape != dest.shape:
        raise InputError("destination_stops and egress_s must have the same length.")
    egress = np.full(tt.n_stops, INF, np.int64)
    np.minimum.at(egress, dest, walk)
    arrays = profile_kernel(tt.c_dep, tt.c_arr, tt.c_from, tt.c_to, tt.c_next, tt.fp_ptr,
                            tt.fp_to, tt.fp_dur, tt.n_stops, egress, np.int64(earliest_s))
    return Profile(tt, egress, arrays)


def window_times(prof: Profile, access: pd.DataFrame, departures_s, *,
                 direct_s: pd.Series | None = None) -> pd.DataFrame:
    """Door-to-door seconds of every origin at every departure time.

    Parameters
    ----------
    prof : Profile
        From :func:`profile`.
    access : pandas.DataFrame
        ``origin``, ``stop_id``, ``access_s``: the walk from an origin to a stop.
    departures_s : array of int
        Departure times, seconds after midnight.
    direct_s : pandas.Series, optional
        The walk from an origin (index) straight to its nearest destination.

    Returns
    -------
    pandas.DataFrame
        One row per origin (index, in order of first appearance), one column per
        departure time; seconds as float, NaN where no trip arrives that day.
    """
    if not isinstance(prof, Profile):
        raise InputError("window_times needs the Profile from transit.profile.")
    missing = {"origin", "stop_id", "access_s"} - set(access.columns)
    if missing:
        raise InputError(f"the access table lacks {', '.join(sorted(missing))}.")
    tt = prof.timetable
    codes, origins = pd.factorize(access["origin"])
    order = np.argsort(codes, kind="stable")
    acc_ptr = np.zeros(origins.size + 1, np.int64)
    np.add.at(acc_ptr, codes + 1, 1)
    direct = np.full(origins.size, INF, np.int64)
    if direct_s is not None:
        d = pd.Series(direct_s).reindex(origins)
        has = d.notna().to_numpy()
        direct[has] = _seconds(d[has], "direct_s")
    deps = _seconds(departures_s, "departures_s")
    out = window_kernel(*prof.arrays, prof.egress, np.cumsum(acc_ptr),
                        tt.index_of(access["stop_id"].to_numpy()[order]),
                        _seconds(access["access_s"].to_numpy()[order], "access_s"),
                        direct, deps)
    return pd.DataFrame(np.where(out >= INF, np.nan, out.astype(float)), index=origins,
                        columns=deps)


def window_statistics(times: pd.DataFrame, *,
                      percentile: float = defaults.PT_PERCENTILE) -> pd.DataFrame:
    """Median and a high percentile of door-to-door minutes over a window.

    A percentile is the time that this share of the departure minutes reaches
    (``inverted_cdf``: an observed minute, no interpolation), so a minute without a
    trip counts as infinitely long: when more than half of the minutes have none, the
    median is NaN, as in r5py.

    Parameters
    ----------
    times : pandas.DataFrame
        From :func:`window_times` (seconds).
    percentile : float
        The high percentile, 50-100.

    Returns
    -------
    pandas.DataFrame
        ``t_median_min``, ``t_p{percentile}_min`` (float, NaN: fewer minutes with a
        trip than the share) and ``reached_share`` (share of departure minutes
        with a trip), indexed like ``times``.
    """
    if not 50 <= percentile <= 100:
        raise InputError(f"percentile must be between 50 and 100, not {percentile!r}.")
    vals = np.where(np.isnan(times.to_numpy(float)), np.inf, times.to_numpy(float)) / 60.0
    out = pd.DataFrame(index=times.index)
    for name, q in (("t_median_min", 50.0), (f"t_p{percentile:g}_min", float(percentile))):
        if vals.shape[1] == 0:
            out[name] = np.nan
            continue
        v = np.percentile(vals, q, axis=1, method="inverted_cdf")
        out[name] = np.where(np.isfinite(v), v, np.nan)
    out["reached_share"] = np.isfinite(vals).mean(axis=1) if vals.shape[1] else np.nan
    return out
