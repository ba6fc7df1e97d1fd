"""Destinations of the further car-time indicators: motorway junctions, long-distance
rail stations (Fernbahnhöfe) and international airports, as point tables.

Every reader returns the same columns, the destination table of
:func:`accessibility.api.facility_times`:

``kind``
    ``motorway``, ``ldrail`` or ``airport`` (:data:`DESTINATION_KINDS`).
``id``, ``name``
    A key and a readable name (str), shown as ``nearest_{kind}_id`` / ``_name``.
``lon``, ``lat``
    WGS84 degrees.
``source``
    Where the row comes from.

Sources, and what counts
------------------------
Motorway junctions (:func:`read_motorway_junctions`, from the OSM extract)
    A car has reached an Anschlussstelle when it is on the motorway. The destinations
    are therefore the nodes where a ``highway=motorway_link`` way meets a
    ``highway=motorway`` way (the ends of the ramps: where one enters and where one
    leaves the carriageway), named after the nearest ``highway=motorway_junction``
    node within :data:`JUNCTION_NAME_M` (the Anschlussstelle as OSM maps it, with its
    ``name`` and ``ref``), plus the ``motorway_junction`` nodes themselves. The
    junction node alone would not do: OSM puts it where the exit leaves one
    carriageway, which a car coming from the town reaches only by entering at the
    junction before and driving on, so its time would be one junction spacing too
    long. Exits to rest areas and service stations (junction nodes named
    "Rastplatz ...", "Raststätte ...", "Parkplatz ..." and the ramp ends nearest to
    them) are left out: one cannot get on the motorway there from the town. Without
    any ``motorway_junction`` node the ramp ends alone are used (named by their OSM
    node id); without ramps, the junction nodes.
Long-distance stations (:func:`read_long_distance_stations`, DB station table)
    The table of DB stations with long-distance products
    (``eva,name,lat,lon,ice,ic_ec,price_category,ril100``, as
    ``db_long_distance_stations.csv``); by default the one shipped with the package
    (:data:`STATIONS_PATH`: 568 stations in and around Germany, 350 of them German;
    DB InfraGO, CC BY 4.0, and OpenStreetMap contributors, ODbL, see
    ``accessibility/data/LICENSE-db-stations.txt``). Which of them is a Fernbahnhof is
    the rule (:data:`~accessibility.defaults.FERNBAHNHOF_RULES`):

    ``"ic_ec_ice"`` (the default)
        Every station flagged for ICE or IC/EC stops, as BBSR counts the car time to
        the nearest IC/EC/ICE station: all 568 rows of the shipped table but
        Langenhagen Mitte (567, 349 in Germany). Checked against BBSR's published
        times, small IC stops count (a price-class-4 IC stop is about 3 minutes away
        in the official figure, 26 minutes under the price-class rule).
    ``"price_class"``
        Flagged **and** DB Station&Service price class (Preisklasse) 1-3
        (:data:`MAX_PRICE_CATEGORY`); stations abroad have no price class and count
        when flagged. The price class, which DB sets from the station's traffic,
        drops most stations with occasional long-distance stops only (trade-fair
        specials, seasonal trains, diversions), and also a few with a two-hourly IC
        (Helmstedt, Treysa): of the flagged German stations (350) it keeps 219 (218
        without Langenhagen Mitte) and drops 131 of class 4-6 (Peine, Hannover
        Messe/Laatzen, Hannover Bismarckstraße, Norddeich, ...).

    The product flags come from the timetable and include stations with occasional
    long-distance stops only. Under both rules the one such station the table is
    known to hold, Langenhagen Mitte (class 3, flagged ICE; an S-Bahn station whose
    ICE stops are occasional, see the shared data README), is excluded by name
    (:data:`OCCASIONAL_LONG_DISTANCE`); pass ``exclude=`` to drop more. In the
    Hannover-Braunschweig extract's box the table has 11 stations: the default rule
    keeps 10, the price-class rule 5 (Braunschweig, Celle, Hannover, Hildesheim,
    Wolfsburg); in the Heidelberg extract's box both keep Heidelberg Hbf. A GTFS feed
    decides by the trains of one day instead
    (:func:`accessibility.io.gtfs.long_distance_stations`).
International airports (:func:`read_airports`)
    ``accessibility/data/airports_de.csv``: the German international commercial
    airports (its header says which and where the coordinates come from), or a user
    table.
A user table (:func:`read_destinations`)
    ``kind`` (or ``service``), ``lon``, ``lat``, optional ``name`` and ``id``: CSV or
    a point layer. It replaces the built-in sources of the kinds it holds.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import defaults
from .._checks import check_lonlat
from .._errors import InputError
from ..vocabulary import DESTINATION_KIND_TERMS, DESTINATION_KINDS, destination_kind_synonyms
from ._tables import GEO_SUFFIXES, check_file, find_column, read_csv_as_str, show, to_number
from .osm_files import check_osm_path
from .osm_passes import read_tagged

logger = logging.getLogger(__name__)

__all__ = [
    "AIRPORTS_PATH",
    "DESTINATION_COLUMNS",
    "DESTINATION_KINDS",
    "JUNCTION_NAME_M",
    "MAX_PRICE_CATEGORY",
    "OCCASIONAL_LONG_DISTANCE",
    "STATIONS_PATH",
    "DestinationsAlong",
    "builtin_airports",
    "read_airports",
    "read_destinations",
    "read_long_distance_stations",
    "read_motorway_junctions",
    "read_osm_airports",
    "read_osm_destinations",
]

#: Columns of every destination table.
DESTINATION_COLUMNS = ("kind", "id", "name", "lon", "lat", "source")
#: Spellings accepted in the ``kind`` column of a user table (lower case).
KIND_SYNONYMS = destination_kind_synonyms()
#: Plausible extent of German destinations (lon_min, lat_min, lon_max, lat_max), WGS84.
#: Destinations just beyond the border (Basel, Salzburg) lie inside it.
#: The built-in airport list.
AIRPORTS_PATH = Path(__file__).resolve().parents[1] / "data" / "airports_de.csv"
#: The shipped DB station table (db-hafas-stations 2.0.0; DB InfraGO CC BY 4.0, ODbL).
STATIONS_PATH = Path(__file__).resolve().parents[1] / "data" / "db_long_distance_stations.csv"
#: Ramp ends take the name of the nearest motorway_junction node within this distance (m).
JUNCTION_NAME_M = 2500.0
#: Highest DB price class (Preisklasse) of a Fernbahnhof under the rule "price_class".
MAX_PRICE_CATEGORY = 3
#: Stations flagged for long-distance products whose long-distance stops are occasional
#: only, excluded under every rule (EVA number: name). Langenhagen Mitte: an S-Bahn station
#: flagged ICE for occasional stops (shared data README, db_long_distance_stations.csv).
OCCASIONAL_LONG_DISTANCE = {8003545: "Langenhagen Mitte"}

#: Names of ``motorway_junction`` nodes at exits to rest areas and service stations
#: (Rastplatz, Raststätte, Rasthof, Parkplatz, Tank- und Rastanlage, Autohof,
#: Tankstelle, Service area), which are no Anschlussstelle: a car cannot get on the
#: motorway there from the town.
_REST_AREA = re.compile(r"^\s*(Rastplatz|Rastst[äa]tte|Rasthof|Parkplatz|Tank-\s*und\s*Rast"
                        r"|Autohof|Tankstelle|Service\s*area|PWC)\b", re.IGNORECASE)

#: Stations abroad count (they serve the edge flag near the border): degrees around
#: Germany's box within which a station may lie.
STATION_MARGIN_DEG = 3.0
_STATION_COLUMNS = ("eva", "name", "lat", "lon", "ice", "ic_ec", "price_category")


def _frame(kind: str, ids, names, lon, lat, source) -> pd.DataFrame:
    return pd.DataFrame({"kind": kind, "id": pd.Series(ids, dtype=object).astype(str).to_numpy(),
                         "name": pd.Series(names, dtype=object).to_numpy(),
                         "lon": np.asarray(lon, dtype=np.float64),
                         "lat": np.asarray(lat, dtype=np.float64), "source": source},
                        columns=list(DESTINATION_COLUMNS))


def _check_coordinates(lon: np.ndarray, lat: np.ndarray, where: str, ids=None) -> None:
    """Raise InputError for missing, swapped or non-German coordinates."""
    check_lonlat(lon, lat, where, ids)


def read_motorway_junctions(osm_path: str | Path, *, two_pass: bool | None = None
                            ) -> pd.DataFrame:
    """Motorway junctions (Autobahnanschlussstellen) of an OSM extract.

    pyosmium reads nodes and ways; libosmium keeps only objects tagged
    ``highway=motorway_junction|motorway|motorway_link``, with node locations for the
    motorway ways (so that ramp ends have coordinates). Which nodes are returned and
    why is in the module docstring.

    Parameters
    ----------
    osm_path : str or Path
        ``.osm.pbf``, ``.osm``, ``.osm.gz`` or ``.osm.bz2``.
    two_pass : bool, optional
        Index the locations of the motorway ways' nodes only, in a second read of the
        file, instead of every node's in one (:mod:`accessibility.io.osm_passes`):
        the same result in a fraction of the memory. None (default): for files of
        1 GiB and more.

    Returns
    -------
    pandas.DataFrame
        The destination columns with ``kind`` "motorway"; ``id`` is the OSM id of
        the junction node (shared by the ramp ends of one Anschlussstelle), ``name``
        its name and number ("Braunschweig-Watenbüttel (53)"), plus ``osm_node``
        (the OSM id of the point itself) and ``point`` ("junction" or "ramp").
        Empty (with a warning) when the extract has no motorway.
    """
    p = check_osm_path(osm_path)
    motorways = _Motorways()
    _read_osm(p, [motorways], two_pass)
    return _motorway_table(p, motorways)


class _Motorways:
    """The motorway objects of an OSM file, as :func:`_read_osm` hands them over."""

    tags = (("highway", "motorway_junction"), ("highway", "motorway"),
            ("highway", "motorway_link"))
    _values = frozenset(v for _, v in tags)

    def __init__(self) -> None:
        self.junctions: list[tuple[int, float, float, str | None, str | None]] = []
        self.motorway_nodes: set[int] = set()
        self.link_nodes: dict[int, tuple[float, float]] = {}
        self.n_ways = 0

    def add(self, obj) -> None:
        highway = obj.tags.get("highway")
        if highway not in self._values:
            return
        if obj.is_node():
            if obj.location.valid():
                self.junctions.append((obj.id, obj.location.lon, obj.location.lat,
                                       obj.tags.get("name"), obj.tags.get("ref")))
            return
        self.n_ways += 1
        if highway == "motorway":
            self.motorway_nodes.update(n.ref for n in obj.nodes)
        else:
            for nd in obj.nodes:
                if nd.location.valid():
                    self.link_nodes[nd.ref] = (nd.location.lon, nd.location.lat)


def _read_osm(p: Path, readers: list, two_pass: bool | None) -> None:
    """One read (two with ``two_pass``) of the objects that carry one of the readers'
    ``tags``; every reader's ``add`` sees every object and takes its own."""
    import osmium

    pairs = [t for r in readers for t in r.tags]
    try:
        for obj in read_tagged(p, lambda: osmium.filter.TagFilter(*pairs), two_pass):
            for r in readers:
                r.add(obj)
    except RuntimeError as e:  # libosmium's parse errors
        raise InputError(f"cannot read {p} as OpenStreetMap data ({e}); is it a valid "
                         ".osm.pbf / .osm(.gz|.bz2) file?") from None


def _motorway_table(p: Path, motorways: _Motorways) -> pd.DataFrame:
    """The junctions and ramp ends of :func:`read_motorway_junctions`."""
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    junctions, link_nodes, n_ways = (motorways.junctions, motorways.link_nodes,
                                     motorways.n_ways)
    ramp = sorted(set(link_nodes) & motorways.motorway_nodes)
    source = f"OSM {p.name}"
    # exits to rest areas and service stations are no Anschlussstelle: leave out the
    # junction nodes named so, and below the ramp ends that belong to them
    rest = [j for j in junctions if j[3] and _REST_AREA.match(j[3])]
    junctions = [j for j in junctions if not (j[3] and _REST_AREA.match(j[3]))]
    rest_id = {j[0] for j in rest}
    j_id = np.array([j[0] for j in junctions], dtype=np.int64)
    j_lon = np.array([j[1] for j in junctions], dtype=np.float64)
    j_lat = np.array([j[2] for j in junctions], dtype=np.float64)
    j_name = []
    for _, _, _, name, ref in junctions:
        label = name or (f"Anschlussstelle {ref}" if ref else None)
        j_name.append(f"{label} ({ref})" if name and ref else label)
    if rest and ramp:  # ramp ends nearer to a rest-area junction than to a real one
        tr = Transformer.from_crs(defaults.WGS84, defaults.METRIC_CRS, always_xy=True)
        every = junctions + rest
        ex, ey = tr.transform([j[1] for j in every], [j[2] for j in every])
        rx, ry = tr.transform([link_nodes[i][0] for i in ramp], [link_nodes[i][1] for i in ramp])
        d, k = cKDTree(np.column_stack([ex, ey])).query(np.column_stack([rx, ry]))
        at_rest = (d <= JUNCTION_NAME_M) & np.isin(np.array([every[i][0] for i in k]),
                                                   list(rest_id))
        ramp = [i for i, r in zip(ramp, at_rest) if not r]
        logger.info("%s: %d rest-area junctions and %d of their ramp ends left out", p,
                    len(rest), int(at_rest.sum()))
    r_lon = np.array([link_nodes[i][0] for i in ramp], dtype=np.float64)
    r_lat = np.array([link_nodes[i][1] for i in ramp], dtype=np.float64)
    r_id = np.array(ramp, dtype=np.int64)
    if not junctions and not ramp:
        logger.warning("%s has no motorway junction and no motorway ramp: no motorway "
                       "destinations", p)
        out = _frame("motorway", [], [], [], [], source)
        return out.assign(osm_node=pd.Series([], dtype="int64"), point=pd.Series([], dtype=object))
    # ramp ends take the id and name of the nearest junction node (their Anschlussstelle)
    ramp_jid = r_id.astype(object)
    ramp_name = np.array([f"motorway ramp (OSM node {i})" for i in r_id], dtype=object)
    if junctions and ramp:
        tr = Transformer.from_crs(defaults.WGS84, defaults.METRIC_CRS, always_xy=True)
        jx, jy = tr.transform(j_lon, j_lat)
        rx, ry = tr.transform(r_lon, r_lat)
        d, k = cKDTree(np.column_stack([jx, jy])).query(np.column_stack([rx, ry]))
        near = d <= JUNCTION_NAME_M
        ramp_jid[near] = j_id[k[near]]
        names = np.array(j_name, dtype=object)
        ramp_name[near] = np.where(pd.isna(names[k[near]]),
                                   [f"junction (OSM node {i})" for i in j_id[k[near]]],
                                   names[k[near]])
    j_frame = _frame("motorway", j_id, [n if n else f"junction (OSM node {i})"
                                        for n, i in zip(j_name, j_id)], j_lon, j_lat, source)
    j_frame = j_frame.assign(osm_node=j_id, point="junction")
    keep = ~np.isin(r_id, j_id)  # a junction node that is also a ramp end: once
    r_frame = _frame("motorway", ramp_jid[keep], ramp_name[keep], r_lon[keep], r_lat[keep],
                     source).assign(osm_node=r_id[keep], point="ramp")
    out = pd.concat([j_frame, r_frame], ignore_index=True)
    if not junctions:
        logger.warning("%s has no highway=motorway_junction node: the %d ends of motorway "
                       "ramps are the junctions (named by their OSM node)", p, len(r_frame))
    logger.info("%s: %d motorway_junction nodes and %d ramp ends (%d motorway / link ways)",
                p, len(j_frame), len(r_frame), n_ways)
    return out


# ------------------------------------------------------------------- DB station table
def read_long_distance_stations(path: str | Path | None = None, *,
                                rule: str = defaults.FERNBAHNHOF_RULE,
                                max_price_category: int | None = MAX_PRICE_CATEGORY,
                                exclude=tuple(OCCASIONAL_LONG_DISTANCE),
                                abroad: bool = True) -> pd.DataFrame:
    """Fernbahnhöfe from a DB station table (``db_long_distance_stations.csv`` format).

    Parameters
    ----------
    path : str or Path, optional
        CSV with ``eva``, ``name``, ``lat``, ``lon``, ``ice``, ``ic_ec`` (1 = served by
        ICE / IC or EC) and ``price_category`` (DB Preisklasse 1-7, empty abroad);
        ``ril100`` is passed through when present. Default: the shipped table
        (:data:`STATIONS_PATH`).
    rule : {"ic_ec_ice", "price_class"}
        Which flagged stations count (module docstring): every one (default, as
        BBSR), or those of price class <= ``max_price_category`` too.
    max_price_category : int or None
        Highest price class that counts under ``rule="price_class"`` (default 3);
        None keeps every flagged station.
    exclude : iterable of int or str
        EVA numbers or names of stations to drop (default
        :data:`OCCASIONAL_LONG_DISTANCE`: Langenhagen Mitte).
    abroad : bool
        Keep flagged stations without a price class (abroad): they serve the edge flag
        near the border, or as destinations where the road extract reaches them.

    Returns
    -------
    pandas.DataFrame
        The destination columns (``kind`` "ldrail", ``id`` the EVA number) plus
        ``ice``, ``ic_ec``, ``price_category``; ``.attrs["report"]`` says how many
        stations the rule kept and dropped.

    Raises
    ------
    InputError
        An unknown rule, a missing file or column, a value that is no number.
    """
    if rule not in defaults.FERNBAHNHOF_RULES:
        raise InputError(f"unknown Fernbahnhof rule {rule!r}: use one of "
                         f"{', '.join(map(repr, defaults.FERNBAHNHOF_RULES))} "
                         "([destinations] fernbahnhof_rule, --fernbahnhof-rule)")
    what = "long-distance station table"
    p = check_file(STATIONS_PATH if path is None else path, what)
    df = read_csv_as_str(p, what)
    missing = [c for c in _STATION_COLUMNS if find_column(df.columns, (c,)) is None]
    if missing:
        raise InputError(f"{what} {p} lacks the columns {missing}; columns found: "
                         f"{show(df.columns)}. Expected eva,name,lat,lon,ice,ic_ec,"
                         "price_category (as db_long_distance_stations.csv).")
    df = df.rename(columns={find_column(df.columns, (c,)): c for c in _STATION_COLUMNS})
    num = {c: to_number(df[c], path=p, column=c) for c in ("lat", "lon", "ice", "ic_ec",
                                                           "price_category")}
    lon, lat = num["lon"].to_numpy(), num["lat"].to_numpy()
    # swapped or projected columns would leave every station unreachable, silently
    check_lonlat(lon, lat, f"{what} {p}", df["eva"].to_numpy(), allow_missing=True,
                 margin_deg=STATION_MARGIN_DEG)
    flagged = (num["ice"].fillna(0) > 0) | (num["ic_ec"].fillna(0) > 0)
    cat = num["price_category"]
    if rule == "ic_ec_ice" or max_price_category is None:
        by_cat = pd.Series(True, index=df.index)
    else:
        by_cat = (cat <= max_price_category) | (cat.isna() & abroad)
    if not abroad:
        by_cat &= cat.notna()
    excl = {str(x).strip() for x in (exclude or ())}
    excluded = df["eva"].astype(str).str.strip().isin(excl) | df["name"].astype(str).isin(excl)
    keep = (flagged & by_cat & ~excluded).to_numpy()
    has = np.isfinite(lon) & np.isfinite(lat)
    if (keep & ~has).any():
        logger.warning("%s: %d kept stations have no coordinates and are left out", p,
                       int((keep & ~has).sum()))
        keep &= has
    out = _frame("ldrail", df["eva"].to_numpy()[keep], df["name"].to_numpy()[keep],
                 lon[keep], lat[keep], f"DB stations {p.name}")
    out["ice"] = num["ice"].to_numpy()[keep]
    out["ic_ec"] = num["ic_ec"].to_numpy()[keep]
    out["price_category"] = cat.to_numpy()[keep]
    german = cat.notna()
    by_class = rule == "price_class" and max_price_category is not None
    label = ("flagged ICE or IC/EC" + (f", price class <= {max_price_category}" if by_class
                                       else "")
             + (f", not {', '.join(sorted(excl))}" if excl else ""))
    out.attrs["report"] = [
        f"Fernbahnhöfe from {p.name} (rule {rule}: {label}): {int(keep.sum()):,} stations "
        f"({int((keep & german.to_numpy()).sum()):,} in Germany); "
        f"{int((flagged & german & ~by_cat).sum()):,} German stations dropped by the price "
        f"class, {int((flagged & excluded).sum())} by name."]
    logger.info(out.attrs["report"][0])
    return out.reset_index(drop=True)


# ------------------------------------------------------------------- airports
def read_airports(path: str | Path | None = None) -> pd.DataFrame:
    """International airports: the built-in list, or a user table.

    Parameters
    ----------
    path : str or Path, optional
        A user table as :func:`read_destinations` reads it (``kind``/``service`` may
        be left out: every row is an airport; rows of other kinds are an error).
        Default: ``accessibility/data/airports_de.csv`` (IATA code, name, lon, lat;
        its header names the list's source).

    Returns
    -------
    pandas.DataFrame
        The destination columns with ``kind`` "airport" (``id`` the IATA code for the
        built-in list).
    """
    if path is None:
        df = pd.read_csv(AIRPORTS_PATH, comment="#", dtype={"iata": str})
        return _frame("airport", df["iata"], df["name"], df["lon"], df["lat"],
                      "accessibility airports_de.csv (ADV international airports; "
                      "coordinates: airportsdata)")
    out = read_destinations(path, default_kind="airport")
    other = out["kind"] != "airport"
    if other.any():
        raise InputError(f"airport table {path} has rows of other kinds "
                         f"({show(out.loc[other, 'kind'].unique())}): pass it as a destination "
                         "table (accessibility.io.read_destinations) instead")
    return out


def read_osm_airports(osm_path: str | Path, iata: set[str] | None = None, *,
                      two_pass: bool | None = None) -> pd.DataFrame:
    """Airports of an OSM extract: ``aeroway=aerodrome`` with an ``iata`` tag.

    Nodes are taken where they are, ways (the aerodrome's outline) at the mean of
    their node locations; relations (multipolygons) are not read. With ``iata``,
    only those codes are kept (the built-in list of international airports).
    ``two_pass`` as in :func:`read_motorway_junctions`.

    Returns
    -------
    pandas.DataFrame
        The destination columns with ``kind`` "airport", ``id`` the IATA code.
    """
    p = check_osm_path(osm_path)
    airports = _Airports(iata)
    _read_osm(p, [airports], two_pass)
    return airports.table(p)


class _Airports:
    """The ``aeroway=aerodrome`` objects with an ``iata`` tag (of ``iata``, if given)."""

    tags = (("aeroway", "aerodrome"),)

    def __init__(self, iata: set[str] | None) -> None:
        self.iata = iata
        self.rows: dict[str, tuple[str, float, float]] = {}

    def add(self, obj) -> None:
        if obj.tags.get("aeroway") != "aerodrome":
            return
        code = (obj.tags.get("iata") or "").strip().upper()
        if not code or (self.iata is not None and code not in self.iata) or code in self.rows:
            return
        if obj.is_node():
            if obj.location.valid():
                self.rows[code] = (obj.tags.get("name"), obj.location.lon, obj.location.lat)
        else:
            pts = [(n.location.lon, n.location.lat) for n in obj.nodes if n.location.valid()]
            if pts:
                lon, lat = np.mean(pts, axis=0)
                self.rows[code] = (obj.tags.get("name"), float(lon), float(lat))

    def table(self, p: Path) -> pd.DataFrame:
        rows = self.rows
        codes = sorted(rows)
        return _frame("airport", codes, [rows[c][0] for c in codes],
                      np.array([rows[c][1] for c in codes], float),
                      np.array([rows[c][2] for c in codes], float),
                      f"OSM {p.name} (aeroway=aerodrome with iata)")


def read_osm_destinations(osm_path: str | Path, *, two_pass: bool | None = None
                          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`read_motorway_junctions` and :func:`builtin_airports` of one OSM file in
    one read (two passes on a national file instead of four).

    Returns
    -------
    (DataFrame, DataFrame)
        The motorway destinations and the built-in airports (located in the file where
        it has them), as the two functions return them.
    """
    p = check_osm_path(osm_path)
    shared = _SHARED.pop(_file_key(p), None)
    if shared is not None:
        logger.info("%s: motorway junctions and airports read with the OSM features", p.name)
        return shared.tables(p)
    read = DestinationsAlong()
    _read_osm(p, [read.motorways, read.airports], two_pass)
    return read.tables(p)


#: The destinations read along with a national file's features (their tables are made
#: when asked for), by file (path, size, modification time), until
#: read_osm_destinations takes them; of one file at most.
_SHARED: dict[tuple, DestinationsAlong] = {}


def _file_key(p: Path) -> tuple:
    st = p.stat()
    return str(p.resolve()), st.st_size, st.st_mtime_ns


class DestinationsAlong:
    """The objects of :func:`read_osm_destinations`, collected during another read
    of the same file (the two passes of :func:`accessibility.io.extract_features`):
    a national run then reads the file twice for both instead of four times. The
    tables wait for the next ``read_osm_destinations`` of that file (a pipeline reads
    the features first), which returns them without reading.
    """

    #: The (key, value) tags of the objects it takes.
    tags = _Motorways.tags + _Airports.tags

    def __init__(self) -> None:
        self.listed = read_airports()
        self.motorways = _Motorways()
        self.airports = _Airports(set(self.listed["id"].astype(str)))

    def wants(self, obj) -> bool:
        """Whether a way of a first pass is one of its ways (its nodes are needed)."""
        tags = obj.tags
        return obj.is_way() and (tags.get("highway") in _Motorways._values
                                 or tags.get("aeroway") == "aerodrome")

    def add(self, obj) -> None:
        """Take a node or way of the second pass (each reader tests its tags)."""
        if obj.is_node() or obj.is_way():
            self.motorways.add(obj)
            self.airports.add(obj)

    def tables(self, p: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The motorway destinations and the located built-in airports."""
        return (_motorway_table(p, self.motorways),
                _located_airports(self.listed, self.airports.table(p), p))

    def keep_for_later(self, p: Path) -> None:
        """Hold the tables for the next :func:`read_osm_destinations` of ``p`` (of
        the last file read only)."""
        _SHARED.clear()
        _SHARED[_file_key(p)] = self


def builtin_airports(osm_path: str | Path | None = None) -> pd.DataFrame:
    """The built-in list of international airports, each located by its
    ``aeroway=aerodrome`` + ``iata`` in the OSM extract when the extract has it, else
    at the list's coordinates (airportsdata). Most road extracts carry no aerodromes."""
    listed = read_airports()
    if osm_path is None:
        return listed
    return _located_airports(listed, read_osm_airports(osm_path, set(listed["id"].astype(str))),
                             Path(osm_path))


def _located_airports(listed: pd.DataFrame, osm: pd.DataFrame, p: Path) -> pd.DataFrame:
    if not len(osm):
        return listed
    rest = listed[~listed["id"].astype(str).isin(set(osm["id"].astype(str)))]
    logger.info("airports located in %s: %s", p.name, ", ".join(osm["id"]))
    return pd.concat([osm, rest], ignore_index=True)


# ------------------------------------------------------------------- user table
def read_destinations(path: str | Path, *, default_kind: str | None = None) -> pd.DataFrame:
    """A user's destination table (the override of the built-in sources).

    Parameters
    ----------
    path : str or Path
        CSV (``,`` or ``;``, decimal comma accepted) or a point layer (GeoPackage,
        GeoJSON, Shapefile; any CRS, reprojected) with ``kind`` or ``service`` (one of
        ``motorway``, ``ldrail``, ``airport``; also German words such as
        ``Autobahn``, ``Fernbahnhof``, ``Flughafen``), ``lon`` and ``lat`` (WGS84;
        not needed for a layer), optional ``name`` and ``id``.
    default_kind : str, optional
        The kind of rows without a ``kind`` column (used by :func:`read_airports`).

    Returns
    -------
    pandas.DataFrame
        The destination columns (``source`` "user table <file>").

    Raises
    ------
    InputError
        Missing file or columns, unknown kinds, rows without coordinates,
        coordinates outside Germany or with lon and lat swapped.
    """
    what = "destination table"
    p = check_file(path, what)
    if p.suffix.lower() in GEO_SUFFIXES and p.suffix.lower() not in (".json",):
        try:
            g = gpd.read_file(p)
        except Exception as exc:
            raise InputError(f"{what} {p} cannot be read ({exc}); pass a CSV or a point "
                             "layer GDAL reads (GeoPackage, GeoJSON, Shapefile)") from None
        if g.crs is None:
            raise InputError(f"{what} {p} has no CRS: set one (e.g. EPSG:4326) before using it")
        g = g.to_crs(defaults.WGS84)
        pts = g.geometry.representative_point()
        df = pd.DataFrame(g.drop(columns=g.geometry.name)).assign(lon=pts.x, lat=pts.y)
    else:
        df = read_csv_as_str(p, what)
    if len(df) == 0:
        raise InputError(f"{what} {p} has no rows")
    kind_col = find_column(df.columns, ("kind", "service", "type", "art"))
    if kind_col is None:
        if default_kind is None:
            raise InputError(f"{what} {p} has no kind column: add 'kind' (or 'service') with "
                             f"one of {', '.join(DESTINATION_KINDS)}; columns found: "
                             f"{show(df.columns)}")
        kind = pd.Series(default_kind, index=df.index)
    else:
        raw = df[kind_col].astype(str).str.strip()
        kind = raw.str.lower().map(KIND_SYNONYMS)
        bad = kind.isna()
        if bad.any():
            raise InputError(f"{what} {p}: unknown kinds {show(raw[bad].unique())} in column "
                             f"{kind_col!r}; use one of {', '.join(DESTINATION_KINDS)} "
                             f"({', '.join(t.noun for t in DESTINATION_KIND_TERMS.values())})")
    lon_col = find_column(df.columns, ("lon", "longitude", "lng", "x"))
    lat_col = find_column(df.columns, ("lat", "latitude", "y"))
    if lon_col is None or lat_col is None:
        raise InputError(f"{what} {p} needs lon and lat columns (WGS84 degrees); columns "
                         f"found: {show(df.columns)}")
    lon = to_number(df[lon_col], path=p, column=lon_col).to_numpy()
    lat = to_number(df[lat_col], path=p, column=lat_col).to_numpy()
    id_col = find_column(df.columns, ("id", "iata", "eva", "ref"))
    ids = (df[id_col].astype(str).str.strip().to_numpy() if id_col is not None
           else np.array([f"{k}-{i + 1}" for i, k in enumerate(kind)], dtype=object))
    _check_coordinates(lon, lat, f"{what} {p}", ids)
    name_col = find_column(df.columns, ("name", "bezeichnung"))
    names = (df[name_col].where(df[name_col].notna(), pd.Series(ids, index=df.index))
             .astype(str).to_numpy() if name_col is not None else ids)
    out = pd.concat([_frame(k, ids[m], names[m], lon[m], lat[m], f"user table {p.name}")
                     for k in DESTINATION_KINDS if (m := (kind == k).to_numpy()).any()],
                    ignore_index=True)
    logger.info("read %d destinations from %s (%s)", len(out), p,
                ", ".join(f"{k} {int((out['kind'] == k).sum())}" for k in DESTINATION_KINDS
                          if (out["kind"] == k).any()))
    return out
