"""The report's further indicators: car times to motorway junctions, long-distance
stations and airports; public-transport departures; commuters."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .. import defaults
from .._errors import InputError
from ..graph import RoadGraph, attach
from ..io import read_commuters
from ..io.destinations import (
    builtin_airports,
    read_airports,
    read_destinations,
    read_long_distance_stations,
    read_motorway_junctions,
    read_osm_destinations,
)
from ..io.gtfs import GtfsFeed, long_distance_stations, read_gtfs, stop_departures_by_mode
from ..models.indicators import (
    DESTINATION_KINDS,
    STOP_ASSIGN_M,
    check_destinations,
    commuter_indicators as _commuter_indicators,
    departures_per_1000,
    facility_access,
    unit_indicators,
)
from ..models.municipalities import municipality_polygons, prepare_municipalities
from ._common import ATTACH_COLUMNS, municipalities_on, settings_of


def collect_destinations(*, osm: str | Path | None = None,
                         stations: bool | str | Path | pd.DataFrame = True,
                         gtfs: GtfsFeed | str | Path | None = None,
                         gtfs_date: str = defaults.GTFS_DATE,
                         airports: bool | str | Path | pd.DataFrame = True,
                         overrides: str | Path | pd.DataFrame | None = None,
                         fernbahnhof_rule: str = defaults.FERNBAHNHOF_RULE) -> pd.DataFrame:
    """The destination table of :func:`facility_times` from the usual sources.

    Parameters
    ----------
    osm : path, optional
        OSM extract: motorway junctions (:func:`accessibility.io.read_motorway_junctions`).
    stations : bool, path or DataFrame
        True (default): the DB station table shipped with the package; a path: a
        table in its format (``db_long_distance_stations.csv``), Fernbahnhöfe by
        :func:`accessibility.io.read_long_distance_stations` with ``fernbahnhof_rule``;
        a DataFrame: stations read already (destination columns); False or None: none.
    gtfs : GtfsFeed or path, optional
        A GTFS feed: stations with long-distance departures on ``gtfs_date``
        (:func:`accessibility.io.gtfs.long_distance_stations`); added to ``stations``.
    gtfs_date : str
        The day of the GTFS count (``YYYY-MM-DD``).
    airports : bool, path or DataFrame
        True: the built-in list of German international airports
        (``accessibility/data/airports_de.csv``), each located by its
        ``aeroway=aerodrome`` + ``iata`` in ``osm`` where the extract has it, else at
        the list's coordinates; a path or table: the user's airports; False: none.
    overrides : path or DataFrame, optional
        A user table (``kind``/``service``, ``lon``, ``lat``, optional ``name``, ``id``;
        :func:`accessibility.io.read_destinations`): replaces every built-in source of
        the kinds it holds.
    fernbahnhof_rule : {"ic_ec_ice", "price_class"}
        Which stations of the table are Fernbahnhöfe: every one with IC/EC or ICE
        stops (default, as BBSR), or only those of DB price class 1-3 besides.

    Returns
    -------
    DataFrame
        ``kind``, ``id``, ``name``, ``lon``, ``lat``, ``source`` (plus reader-specific
        columns); ``.attrs["report"]`` says what came from where.
    """
    parts: list[pd.DataFrame] = []
    report: list[str] = []
    located_airports = None
    if osm is not None and airports is True:  # both from one read of the file
        motorways, located_airports = read_osm_destinations(osm)
        parts.append(motorways)
    elif osm is not None:
        parts.append(read_motorway_junctions(osm))
    if isinstance(stations, pd.DataFrame):
        report += stations.attrs.get("report", [])
        parts.append(_of_kind(stations, "ldrail"))
    elif stations not in (False, None):  # True: the shipped table
        st = read_long_distance_stations(None if stations is True else stations,
                                         rule=fernbahnhof_rule)
        report += st.attrs.get("report", [])
        parts.append(st)
    if gtfs is not None:
        parts.append(long_distance_stations(gtfs, gtfs_date))
    if isinstance(airports, pd.DataFrame):
        parts.append(_of_kind(airports, "airport"))
    elif airports is True:  # the list, located in the extract where it has them
        parts.append(builtin_airports(osm) if located_airports is None else located_airports)
    elif airports not in (False, None):
        parts.append(read_airports(airports))
    if overrides is not None:
        over = (read_destinations(overrides) if isinstance(overrides, (str, Path))
                else check_destinations(overrides))
        kinds = set(over["kind"])
        parts = [p[~p["kind"].isin(kinds)] for p in parts] + [over]
        report.append(f"User destinations replace the built-in sources of: "
                      f"{', '.join(k for k in DESTINATION_KINDS if k in kinds)}.")
    parts = [p for p in parts if len(p)]
    if not parts:
        raise InputError("no destinations: give an OSM extract (motorway junctions), a station "
                         "table or GTFS feed (long-distance stations), airports or a user table")
    out = check_destinations(pd.concat(parts, ignore_index=True))
    for kind in DESTINATION_KINDS:
        sub = out[out["kind"] == kind]
        if len(sub):
            report.append(f"{kind}: {len(sub):,} destinations "
                          f"({', '.join(sorted(set(sub['source'].dropna().astype(str))))}).")
    out.attrs["report"] = report
    return out


def _of_kind(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    """A table of one kind of destination, checked; ``kind`` set where it has none."""
    bare = "kind" not in table.columns and "service" not in table.columns
    return check_destinations(table.assign(kind=kind) if bare else table)


def facility_times(graph: RoadGraph | str | Path, municipalities: pd.DataFrame,
                   destinations: pd.DataFrame | str | Path, *, kinds: Sequence[str] | None = None,
                   max_snap_m: float | None = None, access_speed_kmh: float | None = None,
                   destination_max_snap_m: float | None = None,
                   cache_dir: str | Path | None = None) -> gpd.GeoDataFrame:
    """Car time to the nearest motorway junction, long-distance rail station and
    international airport per municipality (``t_motorway_min``, ``t_ldrail_min``,
    ``t_airport_min``), with the rules of ``t_mz_min``.

    Parameters
    ----------
    graph : RoadGraph or path
    municipalities : DataFrame or GeoDataFrame
        As for :func:`central_places`; a table already attached to ``graph`` (e.g.
        the result of :func:`central_places`) is used as it is and gets the new
        columns.
    destinations : DataFrame or path
        ``kind`` (``motorway``, ``ldrail``, ``airport``), ``id``, ``name``, ``lon``,
        ``lat``: from :func:`collect_destinations`, or a user table / its path
        (:func:`accessibility.io.read_destinations`).
    kinds : sequence of str, optional
        Kinds to compute (default: those in ``destinations``).
    max_snap_m, access_speed_kmh, cache_dir
        As in :func:`central_places` (the municipalities' attach settings).
    destination_max_snap_m : float, optional
        Snapping limit of the destinations (default: that of the municipalities).
        Destinations farther from the network are not routed to; they raise the edge
        flag of municipalities they might be nearer to.

    Returns
    -------
    GeoDataFrame
        The municipalities with, per kind, ``t_{kind}_min`` (NaN where no value, see
        ``facility_reason``), ``nearest_{kind}_id``, ``nearest_{kind}_name``,
        ``{kind}_class``, ``{kind}_class_code``, ``{kind}_edge_flag``;
        ``.attrs["report"]``. Meanings: :data:`accessibility.models.indicators.COLUMNS`.

    Examples
    --------
    >>> dest = acc.api.collect_destinations(osm="region.osm.pbf")   # doctest: +SKIP
    >>> out = acc.api.facility_times(graph, munis, dest)             # doctest: +SKIP
    >>> out[["ags", "t_motorway_min", "nearest_motorway_name"]]      # doctest: +SKIP
    """
    dest = (read_destinations(destinations) if isinstance(destinations, (str, Path))
            else destinations)
    graph, munis, report = municipalities_on(
        graph, municipalities, max_snap_m, access_speed_kmh, cache_dir,
        routable_points=(pd.to_numeric(dest["lon"], errors="coerce").to_numpy(),
                         pd.to_numeric(dest["lat"], errors="coerce").to_numpy())
        if isinstance(dest, pd.DataFrame) and {"lon", "lat"} <= set(dest.columns) else None)
    report += list(getattr(dest, "attrs", {}).get("report", []))
    dest = check_destinations(dest)
    dest = attach(graph, dest.drop(columns=list(ATTACH_COLUMNS), errors="ignore"),
                  **settings_of(munis, destination_max_snap_m), id_column="id")
    out = facility_access(graph, munis, dest, kinds=kinds)
    if not isinstance(out, gpd.GeoDataFrame):
        out = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"], out["lat"]),
                               crs=defaults.WGS84)
    out.attrs["report"] = report + [line for line in out.attrs.get("report", [])
                                    if line not in report]
    return out


def _check_feed_region(stops: pd.DataFrame, munis: pd.DataFrame, feed: GtfsFeed) -> None:
    """No stop of the feed near the municipalities: the feed of another region (the
    command line checks the same against the road extract before any work)."""
    lon = pd.to_numeric(munis["lon"], errors="coerce")
    lat = pd.to_numeric(munis["lat"], errors="coerce")
    if lon.notna().any() and len(stops):
        pad = 0.1  # degrees: stops just beyond the outermost reference points
        near = (stops["lon"].between(lon.min() - pad, lon.max() + pad)
                & stops["lat"].between(lat.min() - pad, lat.max() + pad))
        if not near.any():
            raise InputError(f"no stop of the GTFS feed {Path(str(feed.source)).name} lies near "
                             f"the municipalities (lon {lon.min():.2f}-{lon.max():.2f}, lat "
                             f"{lat.min():.2f}-{lat.max():.2f}): is it the feed of another "
                             "region?")


def pt_departures(municipalities: pd.DataFrame, gtfs: GtfsFeed | str | Path, *,
                  date: str = defaults.GTFS_DATE, polygons: gpd.GeoDataFrame | None = None,
                  max_assign_m: float = STOP_ASSIGN_M,
                  exclude_last_stop: bool = True) -> pd.DataFrame:
    """Public-transport departures per 1,000 residents on a weekday, all modes
    (``pt_departures_per_1000``) and railway only (``rail_departures_per_1000``;
    trams, Stadtbahn and U-Bahn apart in ``tram_departures_per_1000``).

    Parameters
    ----------
    municipalities : DataFrame or GeoDataFrame
        ``ags``, ``population`` and reference points (``lon``/``lat``) or polygons.
    gtfs : GtfsFeed or path
        The GTFS feed (:func:`accessibility.io.read_gtfs`).
    date : str
        The weekday counted (``YYYY-MM-DD``; default
        :data:`~accessibility.defaults.GTFS_DATE`).
    polygons : GeoDataFrame, optional
        Municipality polygons with ``ags`` (e.g. VG250 from
        :func:`accessibility.read_municipalities`); default: the polygons of
        ``municipalities`` when it has them. Without polygons, stops go to the nearest
        reference point within ``max_assign_m`` (and the report says so).
    max_assign_m : float
        See ``polygons`` (m).
    exclude_last_stop : bool
        Do not count a trip's last stop (an arrival, not a departure).

    Returns
    -------
    DataFrame or GeoDataFrame
        The municipalities with ``pt_departures``, ``rail_departures``,
        ``tram_departures``, ``n_pt_stops``, the ``*_per_1000`` columns,
        ``pt_stop_assignment`` and ``pt_reason`` (NaN outside the feed's area: no
        stop of the feed in the municipality, its point outside the convex hull of
        the feed's stops); ``.attrs["report"]``.
    """
    munis = prepare_municipalities(municipalities)
    feed = gtfs if isinstance(gtfs, GtfsFeed) else read_gtfs(gtfs)
    stops = stop_departures_by_mode(feed, date, exclude_last_stop=exclude_last_stop)
    every = feed.stops.rename(columns={"stop_lon": "lon", "stop_lat": "lat"})[["lon", "lat"]]
    _check_feed_region(every, munis, feed)
    polygons = municipality_polygons(munis, polygons)
    out = departures_per_1000(munis, stops, polygons=polygons, max_assign_m=max_assign_m,
                              feed_stops=every)
    out.attrs["report"] = [f"Departures counted on {date} in {Path(feed.source).name}."] + \
        out.attrs.get("report", [])
    return out


def commuter_indicators(municipalities: pd.DataFrame, commuters: pd.DataFrame | str | Path
                        ) -> pd.DataFrame:
    """Pendlersaldo per 100 employees at the workplace (``commuter_balance_per_100``)
    and residents per job (``residents_per_job``, Wohnzentralität).

    Parameters
    ----------
    municipalities : DataFrame
        ``ags`` and ``population``.
    commuters : DataFrame or path
        A table or file as :func:`accessibility.io.read_commuters` reads it (a plain
        table or the BA Pendlerstatistik as published); needs the employees at the
        workplace for the two indicators.

    Returns
    -------
    DataFrame or GeoDataFrame
        The municipalities with ``in_commuters``, ``out_commuters``,
        ``employees_workplace``, ``commuter_balance``, ``commuter_balance_per_100``,
        ``residents_per_job``, ``commuter_reason``; ``.attrs["report"]``.
    """
    munis = prepare_municipalities(municipalities)
    table = read_commuters(commuters) if isinstance(commuters, (str, Path)) else commuters
    return _commuter_indicators(munis, table)


def indicators_by_unit(df: pd.DataFrame, by: str | None = "gvb") -> pd.DataFrame:
    """The further indicators per Gemeindeverband (``by="gvb"``), Kreis, Land or overall
    (None): times as area- and population-weighted means, departures and commuters
    as ratios of sums (:func:`accessibility.models.indicators.unit_indicators`)."""
    return unit_indicators(df, by)

