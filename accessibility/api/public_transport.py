"""Public-transport times to the nearest Mittel- and Oberzentrum and Fernbahnhof:
:func:`pt_times` (the rules in :mod:`accessibility.models.public_transport`)."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import defaults
from .._errors import InputError
from ..io import read_central_places
from ..io.destinations import read_long_distance_stations
from ..io.gtfs import GtfsFeed, read_gtfs
from ..io.gtfs_timetable import read_gtfs_day
from ..models.central_places import join_central_places
from ..models.public_transport import (
    covered,
    pt_access,
    pt_change,
    pt_vs_car,
    residents_within,
)
from ..transit import build_timetable
from ..transit.scenario import apply_pt_scenario

logger = logging.getLogger(__name__)

__all__ = ["parse_window", "pt_change", "pt_times", "pt_vs_car", "residents_within"]


def parse_window(window, step_min: float = defaults.PT_STEP_S / 60) -> tuple[int, int, int]:
    """``(start_s, end_s, step_s)`` of a departure window.

    ``window`` is two clock times ``("06:00", "09:00")`` (up to ``"47:59"``: GTFS times
    of the service day) or two numbers of seconds after midnight; the end is excluded.
    """
    def secs(v) -> int:
        if isinstance(v, str):
            parts = v.strip().split(":")
            if len(parts) in (2, 3) and all(p.isdigit() for p in parts):
                h, m, s = (int(p) for p in (parts + ["0"])[:3])
                if m < 60 and s < 60:
                    return h * 3600 + m * 60 + s
            raise InputError(f"departure window time {v!r} is not a clock time; write "
                             "'HH:MM', e.g. '06:00'.")
        if isinstance(v, (int, float, np.integer, np.floating)) and np.isfinite(v):
            return int(v)
        raise InputError(f"departure window time {v!r} must be 'HH:MM' or seconds.")

    if isinstance(window, str) or len(window) != 2:
        raise InputError(f"the departure window must be a start and an end, e.g. "
                         f"('06:00', '09:00'), not {window!r}.")
    start, end = secs(window[0]), secs(window[1])
    if not 0 <= start < end <= 48 * 3600:
        raise InputError(f"the departure window {window[0]}-{window[1]} is empty or beyond "
                         "the service day (start before end, both within 00:00-48:00).")
    if not isinstance(step_min, (int, float)) or not 0 < step_min <= (end - start) / 60:
        raise InputError(f"the window step must be > 0 and at most the window "
                         f"({(end - start) / 60:g} min), not {step_min!r} min.")
    return start, end, max(1, round(step_min * 60))


def pt_times(municipalities: pd.DataFrame, gtfs: GtfsFeed | str | Path,
             central_places: pd.DataFrame | str | Path | None = None, *,
             date: str = defaults.GTFS_DATE,
             window=(f"{defaults.PT_WINDOW_S[0] // 3600:02d}:00",
                     f"{defaults.PT_WINDOW_S[1] // 3600:02d}:00"),
             step_min: float = defaults.PT_STEP_S / 60,
             percentile: float = defaults.PT_PERCENTILE,
             walk_speed_kmh: float = defaults.PT_WALK_SPEED_KMH,
             walk_detour: float = defaults.PT_WALK_DETOUR,
             access_max_m: float = defaults.PT_ACCESS_MAX_M,
             footpath_max_m: float = defaults.PT_FOOTPATH_MAX_M,
             stations: pd.DataFrame | str | Path | None = None,
             origins: str = defaults.ORIGINS, population_grid: pd.DataFrame | None = None,
             polygons: gpd.GeoDataFrame | None = None,
             gz_with_mz_is_mz: bool = defaults.GZ_WITH_MZ_IS_MZ,
             standard_mz_min: float = defaults.PT_STANDARD_MZ_MIN,
             standard_oz_min: float = defaults.PT_STANDARD_OZ_MIN,
             scenario=None) -> gpd.GeoDataFrame:
    """Public-transport time to the nearest MZ, OZ and Fernbahnhof per municipality.

    No road graph: the legs on foot are straight line x ``walk_detour`` at
    ``walk_speed_kmh`` (access to the stops within ``access_max_m`` of an origin,
    egress from the stops within ``access_max_m`` of a destination, footpaths up to
    ``footpath_max_m`` between stops), as r5py's and OpenTripPlanner's defaults do
    without street data; the rules are in :mod:`accessibility.models.public_transport`.

    Parameters
    ----------
    municipalities : DataFrame
        ``ags``, ``lon``, ``lat`` (``in_region``, ``population`` where present); with
        ``central_place`` when ``central_places`` is None.
    gtfs : GtfsFeed or path
        The GTFS feed.
    central_places : DataFrame or path, optional
        :func:`accessibility.io.read_central_places` table (default: the
        municipalities' own ``central_place``).
    date : str
        Service day ``YYYY-MM-DD`` (a weekday outside school holidays).
    window : (str, str)
        Departure window, ``"HH:MM"`` (end excluded); ``step_min`` apart.
    percentile : float
        The high percentile beside the median (50-100).
    stations : DataFrame or path, optional
        Fernbahnhöfe (:func:`accessibility.io.read_long_distance_stations`):
        ``t_pt_ldrail_min``; NaN without them.
    origins : {"point", "population"}
        Reference points, or populated cells of ``population_grid`` (as the car; each
        municipality's value is the residents-weighted mean of its cells' medians and
        percentiles over the window, see :mod:`accessibility.models.public_transport`).
    population_grid, polygons : DataFrame, GeoDataFrame, optional
        The grid (``x``, ``y`` EPSG:3035 centres, ``population``) and the boundaries
        that assign its cells (default: the nearest reference point).
    standard_mz_min, standard_oz_min : float
        Public-transport standards: ``pt_beyond_mz_standard`` / ``pt_beyond_oz_standard``.
    scenario : PtScenario, optional
        Timetable changes applied before routing (a scenario file's
        ``[public_transport]``, :mod:`accessibility.transit.scenario`).

    Returns
    -------
    GeoDataFrame
        ``municipalities`` with ``t_pt_mz_min``, ``t_pt_mz_p{percentile}_min``,
        ``pt_mz_trip_share``, ``t_pt_mz_reason``, ``t_pt_mz_edge_flag`` and the same
        for ``oz`` and ``ldrail``, ``pt_beyond_mz_standard``, ``pt_beyond_oz_standard``
        (meanings: :func:`accessibility.models.public_transport.pt_columns`);
        ``.attrs["report"]``.

    Raises
    ------
    InputError
        No trip on ``date``, a feed of another region (no municipality in its
        coverage), a bad window, percentile or walk setting.
    """
    if not 50 <= percentile <= 100:
        raise InputError(f"percentile must be between 50 and 100, not {percentile!r}.")
    if not access_max_m > 0:
        raise InputError(f"access_max_m must be > 0 metres, not {access_max_m!r}.")
    start, end, step = parse_window(window, step_min)
    munis = municipalities
    if central_places is not None:
        cp = (read_central_places(central_places) if isinstance(central_places, (str, Path))
              else central_places)
        munis, _ = join_central_places(munis, cp)
    elif "central_place" not in munis.columns:
        raise InputError("pt_times needs the central places: pass the table (or its path) "
                         "or municipalities with a 'central_place' column.")
    feed = gtfs if isinstance(gtfs, GtfsFeed) else read_gtfs(gtfs)
    name = Path(feed.source).name if feed.source else "the GTFS feed"
    day = read_gtfs_day(feed, date)
    if day.stop_times.empty:
        span = ""
        if feed.calendar is not None and len(feed.calendar):
            span = (f" (calendar.txt: {feed.calendar['start_date'].min()} to "
                    f"{feed.calendar['end_date'].max()})")
        raise InputError(f"no trip of {name} runs on {day.date}{span}: give a day the feed "
                         "serves ([public_transport] date, or --gtfs-date).")
    stop_times = day.stop_times
    if scenario:
        stop_times = apply_pt_scenario(scenario, stop_times, feed.trips, feed.routes,
                                       day.stops)
    tt = build_timetable(day.stops, stop_times, day.transfers, walk_speed_kmh=walk_speed_kmh,
                         walk_detour=walk_detour, footpath_max_m=footpath_max_m)
    st = stations
    if isinstance(st, (str, Path)):
        st = read_long_distance_stations(st)
    res = pt_access(tt, munis, stations=st, origins=origins, population_grid=population_grid,
                    polygons=polygons, window_s=(start, end), step_s=step,
                    percentile=percentile, walk_speed_kmh=walk_speed_kmh,
                    walk_detour=walk_detour, access_max_m=access_max_m,
                    gz_with_mz_is_mz=gz_with_mz_is_mz)
    in_reg = (res["in_region"].fillna(False).to_numpy(bool) if "in_region" in res.columns
              else np.ones(len(res), bool))
    inside = covered(tt, res["lon"], res["lat"], access_max_m)
    if in_reg.any() and not (inside & in_reg).any():
        raise InputError(f"{name} covers none of the {int(in_reg.sum())} municipalities of the "
                         "region: is it the feed of another region? Give a feed whose stops "
                         "lie in the region of the road extract.")
    for kind, limit in (("mz", standard_mz_min), ("oz", standard_oz_min)):
        t = res[f"t_pt_{kind}_min"]
        res[f"pt_beyond_{kind}_standard"] = pd.array(
            np.where(t.notna(), t > limit, None), dtype="boolean")
    n = int(in_reg.sum())
    got = {k: int((res[f"t_pt_{k}_min"].notna().to_numpy() & in_reg).sum())
           for k in ("mz", "oz", "ldrail")}
    report = [f"Public transport ({name}, {day.date}, departures "
              f"{start // 3600:02d}:{start % 3600 // 60:02d}-{end // 3600:02d}:"
              f"{end % 3600 // 60:02d} every {step / 60:g} min, median and "
              f"{percentile:g}th percentile; walk {walk_speed_kmh:g} km/h x {walk_detour:g} "
              f"detour, stops within {access_max_m:,.0f} m, origins: {origins}): a time to "
              "the nearest MZ for "
              f"{got['mz']:,} of {n:,} municipalities, OZ {got['oz']:,}, Fernbahnhof "
              f"{got['ldrail']:,}; {int(res['t_pt_mz_edge_flag'].sum()):,} MZ times flagged "
              "at the feed's edge."]
    if not isinstance(res, gpd.GeoDataFrame):
        res = gpd.GeoDataFrame(res, geometry=gpd.points_from_xy(res["lon"], res["lat"]),
                               crs=defaults.WGS84)
    res.attrs["report"] = list(municipalities.attrs.get("report", [])) + report
    return res
