"""Domain vocabulary: central-place functions, class labels, services, column names.

One home for the words of the BBSR method, used by io (parsing), models
(classifying), the report and the maps, so that a label is spelt once. Official
German terms are kept as they are; the meaning of every output column is in
:data:`COLUMNS` (written to ``columns.csv`` by a run).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

# ------------------------------------------------------------------ central places
OBERZENTRUM = "Oberzentrum"
MITTELZENTRUM = "Mittelzentrum"
#: A town that shares a Mittelzentrum with others (BBSR: "Teil eines Mittelzentrums",
#: Mittelzentrum im Verbund): it carries the MZ function together with its partners.
MZ_PART = "Teil eines Mittelzentrums"
#: BBSR: "Grundzentrum mit mittelzentraler Teilfunktion": a Grundzentrum that also
#: serves part of the Mittelzentrum's needs.
GZ_WITH_MZ = "Grundzentrum mit MZ-Teilfunktion"
GRUNDZENTRUM = "Grundzentrum"
NO_FUNCTION = "keine"
#: Central-place functions (zentralörtliche Funktion), highest first.
CENTRAL_PLACE_CLASSES = (OBERZENTRUM, MITTELZENTRUM, MZ_PART, GZ_WITH_MZ, GRUNDZENTRUM,
                         NO_FUNCTION)
#: Rank of the functions (higher is more central).
FUNCTION_RANK = {NO_FUNCTION: 0, GRUNDZENTRUM: 1, GZ_WITH_MZ: 2, MZ_PART: 3,
                 MITTELZENTRUM: 4, OBERZENTRUM: 5}
#: Functions that count as a destination of each class: "nearest MZ" counts
#: Oberzentren as Mittelzentren too, and the partners of a shared Mittelzentrum
#: (docs/METHOD.md section 1). A Grundzentrum with MZ sub-function is a destination
#: only on request (:func:`destinations`).
DESTINATIONS = {"mz": (OBERZENTRUM, MITTELZENTRUM, MZ_PART), "oz": (OBERZENTRUM,)}


def destinations(gz_with_mz_is_mz: bool = False) -> dict[str, tuple[str, ...]]:
    """The functions that are destinations of "nearest MZ" and "nearest OZ";
    ``gz_with_mz_is_mz`` adds the Grundzentren with MZ sub-function to the MZ."""
    if not gz_with_mz_is_mz:
        return dict(DESTINATIONS)
    return {"mz": DESTINATIONS["mz"] + (GZ_WITH_MZ,), "oz": DESTINATIONS["oz"]}
#: Readable name of the destinations of each class.
DESTINATION_LABEL = {"mz": "Mittel- or Oberzentrum", "oz": "Oberzentrum"}

#: Accepted spellings of the functions (lower case, whitespace collapsed).
#: "Unterzentrum" and "Kleinzentrum" are older Land designations of the level BBSR
#: reports as Grundzentrum.
FUNCTION_SYNONYMS = {
    "oberzentrum": OBERZENTRUM, "oz": OBERZENTRUM,
    "mittelzentrum": MITTELZENTRUM, "mz": MITTELZENTRUM,
    "grundzentrum": GRUNDZENTRUM, "gz": GRUNDZENTRUM,
    "unterzentrum": GRUNDZENTRUM, "uz": GRUNDZENTRUM,
    "kleinzentrum": GRUNDZENTRUM, "kz": GRUNDZENTRUM,
    "teil eines mittelzentrums": MZ_PART, "teil eines mz": MZ_PART,
    "mittelzentrum (teil)": MZ_PART, "mz (teil)": MZ_PART, "mittelzentrum im verbund": MZ_PART,
    "mz im verbund": MZ_PART, "teil eines oberzentrums": OBERZENTRUM,
    "grundzentrum mit mz-teilfunktion": GZ_WITH_MZ,
    "keine": NO_FUNCTION, "kein": NO_FUNCTION, "none": NO_FUNCTION, "-": NO_FUNCTION,
    "–": NO_FUNCTION, "0": NO_FUNCTION, "ohne": NO_FUNCTION,
    "kein zentraler ort": NO_FUNCTION,
}
# "<class> mit ... Teilfunktion(en)", "<class> im Verbund", "<class> (...)": the leading
# class counts; the partial function of the next level is ignored.
# A lower-tier centre with (part of) the middle tier's function: "Grundzentrum mit
# mittelzentraler Teilfunktion", "GZ mit MZ-Teilfunktion", "Unterzentrum mit
# Teilfunktionen eines Mittelzentrums", ...
_GZ_WITH_MZ = re.compile(
    r"^(grundzentrum|unterzentrum|kleinzentrum|gz)\s+mit\s+.*"
    r"(mittelzentral|mittelzentrum|mz)")
_FUNCTION_PREFIX = re.compile(
    r"^(oberzentrum|mittelzentrum|grundzentrum|unterzentrum|kleinzentrum|oz|mz|gz)"
    r"(?:\s+(?:mit|im|in|als)\b.*|\s*\(.*\)|\s*,.*)$")


def normalise_function(value: object) -> str | None:
    """Map one central-place designation to its class; None if not understood.

    Rules (case-insensitive, whitespace collapsed): the class names and codes
    OZ/MZ/GZ; "Unterzentrum"/"Kleinzentrum" count as Grundzentrum; "keine", "none",
    "-" and empty cells mean no function. The BBSR partial functions are kept:
    "Teil eines Mittelzentrums" (also "Mittelzentrum im Verbund") is :data:`MZ_PART`,
    a Grundzentrum "mit mittelzentraler Teilfunktion" (any spelling naming the MZ) is
    :data:`GZ_WITH_MZ`; "Oberzentrum (oder Teil)" and "Teil eines Oberzentrums" count
    as Oberzentrum. Any other designation that starts with a class and continues with
    "mit ...", "im ...", "in ...", "als ...", ", ..." or a parenthesis (e.g.
    "Mittelzentrum mit oberzentraler Teilfunktion", "Oberzentrum im Städteverbund")
    counts as the leading class.

    Examples
    --------
    >>> normalise_function("MZ mit OZ-Teilfunktion")
    'Mittelzentrum'
    >>> normalise_function("Grundzentrum mit mittelzentraler Teilfunktion")
    'Grundzentrum mit MZ-Teilfunktion'
    >>> normalise_function("Hauptstadt") is None
    True
    """
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return NO_FUNCTION
    s = re.sub(r"\s+", " ", str(value)).strip().lower()
    if s in ("", "nan"):
        return NO_FUNCTION
    if s in FUNCTION_SYNONYMS:
        return FUNCTION_SYNONYMS[s]
    if _GZ_WITH_MZ.match(s):
        return GZ_WITH_MZ
    m = _FUNCTION_PREFIX.match(s)
    return FUNCTION_SYNONYMS[m.group(1)] if m else None


#: Destinations of reference travel times (speed calibration) that mean "the
#: time-nearest Oberzentrum" / "the time-nearest Mittel- or Oberzentrum".
NEAREST_OZ = "nearest OZ"
NEAREST_MZ = "nearest MZ"

#: BBSR classes of the car time (minutes; upper bound exclusive, report order).
MZ_CLASSES = ((7.5, "< 7.5 min"), (15.0, "7.5-15 min"), (np.inf, ">= 15 min"))
OZ_CLASSES = ((15.0, "< 15 min"), (30.0, "15-30 min"), (60.0, "30-60 min"),
              (np.inf, ">= 60 min"))
TIME_CLASSES = {"mz": MZ_CLASSES, "oz": OZ_CLASSES}
#: Class of a central place itself (0 minutes by definition).
ZERO_LABEL = {"mz": "0 (is MZ/OZ)", "oz": "0 (is OZ)"}
#: Label of rows without a value in the class tables.
NO_VALUE = "no value"


def class_order(kind: str) -> list[str]:
    """Class labels of ``kind`` ("mz" or "oz") in report order."""
    return [ZERO_LABEL[kind]] + [label for _, label in TIME_CLASSES[kind]]


def class_codes(labels, order) -> pd.Series:
    """Ordered integer codes of class labels: the position in ``order`` (0, 1, ...),
    empty (``<NA>``) where there is no class. Sorting by the code sorts the classes
    as the report does; QGIS and pandas sort the labels themselves alphabetically."""
    s = pd.Series(labels)
    codes = s.map({label: i for i, label in enumerate(order)})
    return codes.astype("Int64").set_axis(s.index)


# ------------------------------------------------------------------ further destinations
@dataclass(frozen=True)
class DestinationKind:
    """The words of one kind of destination of the "car time to the nearest X"
    indicators (``t_{kind}_min``; :mod:`accessibility.models.indicators`).

    Parameters
    ----------
    label : str
        Name in column meanings and report lines (English, with the German official
        term).
    table_label : str
        Name in the summary table "car time to the nearest".
    map_label : str
        Name in the map title "Car time to the nearest ...".
    noun : str
        Plain name in messages, e.g. the error about an unknown kind.
    heading : str
        Name in the title of the summary section.
    classes : tuple of (float, str)
        Time classes (minutes; upper bound exclusive, report order): the engine's own,
        not published BBSR bounds.
    synonyms : tuple of str
        Further spellings accepted in the ``kind`` column of a user table (lower
        case; the kind itself is always accepted).
    """

    label: str
    table_label: str
    map_label: str
    noun: str
    heading: str
    classes: tuple[tuple[float, str], ...]
    synonyms: tuple[str, ...] = ()


#: The destination kinds of the further indicators, in report order. A new kind is an
#: entry here and the source of its destinations (a reader in
#: :mod:`accessibility.io.destinations`, or a user table with that kind).
DESTINATION_KIND_TERMS = {
    "motorway": DestinationKind(
        label="motorway junction (Autobahnanschlussstelle)",
        table_label="motorway junction (Autobahnanschlussstelle)",
        map_label="motorway junction", noun="motorway junction", heading="motorway",
        classes=((10.0, "< 10 min"), (20.0, "10-20 min"), (30.0, "20-30 min"),
                 (np.inf, ">= 30 min")),
        synonyms=("motorway_junction", "autobahn", "anschlussstelle",
                  "autobahnanschlussstelle", "bab")),
    "ldrail": DestinationKind(
        label="long-distance rail station (Fernbahnhof, IC/EC/ICE)",
        table_label="long-distance rail station (Fernbahnhof)",
        map_label="long-distance rail station (Fernbahnhof)",
        noun="long-distance rail station", heading="long-distance rail",
        classes=((15.0, "< 15 min"), (30.0, "15-30 min"), (60.0, "30-60 min"),
                 (np.inf, ">= 60 min")),
        synonyms=("long_distance_rail", "fernbahnhof", "station", "rail", "ice")),
    "airport": DestinationKind(
        label="international airport (internationaler Verkehrsflughafen)",
        table_label="international airport", map_label="international airport",
        noun="airport", heading="airport",
        classes=((30.0, "< 30 min"), (60.0, "30-60 min"), (90.0, "60-90 min"),
                 (np.inf, ">= 90 min")),
        synonyms=("flughafen", "verkehrsflughafen")),
}
#: The destination kinds, in report order.
DESTINATION_KINDS = tuple(DESTINATION_KIND_TERMS)


def destination_kind_synonyms() -> dict[str, str]:
    """Every accepted spelling of a destination kind (lower case) and its kind."""
    return {word: kind for kind, terms in DESTINATION_KIND_TERMS.items()
            for word in (kind, *terms.synonyms)}


#: The Länder by their 2-digit key.
LAND_NAMES = {
    "01": "Schleswig-Holstein", "02": "Hamburg", "03": "Niedersachsen", "04": "Bremen",
    "05": "Nordrhein-Westfalen", "06": "Hessen", "07": "Rheinland-Pfalz",
    "08": "Baden-Württemberg", "09": "Bayern", "10": "Saarland", "11": "Berlin",
    "12": "Brandenburg", "13": "Mecklenburg-Vorpommern", "14": "Sachsen",
    "15": "Sachsen-Anhalt", "16": "Thüringen",
}

# ------------------------------------------------------------------ Lage, settlement types
#: Lage classes from least to most central.
LAGE_CLASSES = ("sehr peripher", "peripher", "zentral", "sehr zentral")
#: Stadt- und Gemeindetyp, largest first.
SETTLEMENT_TYPES = ("Großstadt", "Mittelstadt", "Kleinstadt", "Landgemeinde")
#: Differenzierter Stadt- und Gemeindetyp, largest first.
SETTLEMENT_DETAIL = ("große Großstadt", "kleinere Großstadt", "größere Mittelstadt",
                     "kleinere Mittelstadt", "größere Kleinstadt", "kleine Kleinstadt",
                     "Landgemeinde")

# ------------------------------------------------------------------ Nahversorgung
#: The services of the BBSR indicator in report order, with their German labels (BBSR
#: terms) for reports. A new service is a line here and its OSM tag rules (a table in
#: ``accessibility/profiles/services.toml``); every column, check and label follows.
SERVICE_LABELS = {
    "pharmacy": "Apotheke",
    "primary_school": "Grundschule",
    "gp": "Hausarzt",
    "stop": "ÖV-Haltestelle (>= 20 Abfahrten/Werktag)",
    "post_office": "Postfiliale",
    "supermarket": "Supermarkt/Discounter",
}
#: The services, in report order.
SERVICES = tuple(SERVICE_LABELS)


def service_label(service: str, lang: str) -> str:
    """A service's short name for a map or document in ``lang`` ("Postfiliale",
    "post office")."""
    return SERVICE_LABELS[service].split(" (")[0] if lang == "de" else service.replace("_", " ")
#: Order of the rows of a facility table: the report order with the stops last, where
#: GTFS stops go when a feed replaces the OSM stops.
FACILITY_ORDER = tuple(s for s in SERVICES if s != "stop") + ("stop",)
_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight",
                 "nine", "ten", "eleven", "twelve")
#: The number of services in words, as in "all six services".
N_SERVICES_WORD = (_NUMBER_WORDS[len(SERVICES)] if len(SERVICES) < len(_NUMBER_WORDS)
                   else str(len(SERVICES)))


def services_reached_labels() -> list[str]:
    """Labels of the number of services reached within the walking limit, in order:
    ``"0 of 6"`` ... ``"6 of 6"`` (the last one means all services)."""
    return [f"{k} of {len(SERVICES)}" for k in range(len(SERVICES) + 1)]


#: Walking-distance methods and their column suffix (the official one has none).
WALK_METHOD_SUFFIX = {"straight": "", "network": "_net"}

# ------------------------------------------------------------------ network columns
#: The columns :func:`accessibility.attach` adds to a point table, one vocabulary
#: for every point set (municipalities, central places, origins, cells, facilities).
NETWORK_COLUMNS = {
    "node": "graph node the point is attached to (empty when off the network)",
    "snap_m": "straight-line distance from the point to that node, m",
    "access_s": "time of the access leg from the point to that node at the access "
                "speed, s (empty when off the network)",
    "on_network": "the point lies within max_snap_m of the network and is routed",
    "max_snap_m": "snapping limit the point was attached with, m",
    "access_speed_kmh": "speed of the access leg the point was attached with, km/h",
}

# ------------------------------------------------------------------ output columns
#: Meaning of the output columns (German official terms and INKAR indicators).
COLUMNS = {
    "ags": "Amtlicher Gemeindeschlüssel (8 digits)",
    "name": "municipality name (Gemeindename)",
    "gvb": "Gemeindeverband key (9 digits)",
    "gvb_name": "Gemeindeverband name",
    "kreis": "Kreis key (5 digits)",
    "land": "Land key (2 digits)",
    "population": "residents (Bevölkerung) from the municipality input",
    "area_km2": "area in km²",
    "central_place": "central-place function (Oberzentrum / Mittelzentrum / Teil eines "
                     "Mittelzentrums / Grundzentrum mit MZ-Teilfunktion / Grundzentrum / keine)",
    "central_place_name": "name of the municipality in the central-place table",
    "t_mz_min": "car time in minutes to the time-nearest Mittelzentrum or Oberzentrum "
                "(INKAR: Erreichbarkeit von Mittelzentren / Pkw-Fahrzeit zum nächsten MZ); "
                "0 for MZ and OZ; empty when unreachable (see reason)",
    "t_oz_min": "car time in minutes to the time-nearest Oberzentrum (INKAR: Erreichbarkeit "
                "von Oberzentren / Pkw-Fahrzeit zum nächsten OZ); 0 for OZ",
    "nearest_mz_ags": "AGS of the nearest MZ/OZ: its catchment is the Mittelbereich",
    "nearest_mz_name": "name of the nearest MZ/OZ",
    "nearest_oz_ags": "AGS of the nearest OZ (Oberbereich)",
    "nearest_oz_name": "name of the nearest OZ",
    "mz_class": "BBSR class of t_mz_min: 0 / < 7.5 / 7.5-15 / >= 15 min (empty for "
                "unpopulated areas)",
    "mz_class_code": "ordered code of mz_class: 0 = is MZ/OZ, 1 = < 7.5, 2 = 7.5-15, "
                     "3 = >= 15 min (empty: no value)",
    "oz_class_code": "ordered code of oz_class: 0 = is OZ, 1 = < 15, 2 = 15-30, 3 = 30-60, "
                     "4 = >= 60 min (empty: no value)",
    "mz_edge_flag": "t_mz_min might change in a larger extract: a route leaving the road "
                    "extract (to a Mittel- or Oberzentrum beyond it, or round through it) "
                    "could be faster, or a snapping might move; False: exact for any "
                    "larger extract (see README, How exact is each number)",
    "oz_edge_flag": "the same test as mz_edge_flag for t_oz_min",
    "in_region": "the municipality lies in the area of the road extract, or has residents "
                 "in the walk extract (Nahversorgung values only), and in the [region] cut: "
                 "only these are reported",
    "oz_class": "BBSR class of t_oz_min: 0 / < 15 / 15-30 / 30-60 / >= 60 min (empty for "
                "unpopulated areas)",
    "snap_m": NETWORK_COLUMNS["snap_m"] + " (the municipality's reference point)",
    "on_network": NETWORK_COLUMNS["on_network"] + " (the municipality's reference point)",
    "origin_method": "how origins were placed: point (INKAR), population (grid cells, "
                     "weighted) or area (regular grid, area-weighted)",
    "n_origins": "number of origins averaged for the municipality",
    "reason": "why a value is missing (outside the network, no central place reachable)",
    "daytime_population": "Tagesbevölkerung: residents + in-commuters - out-commuters "
                          "(Bundesagentur für Arbeit, employees subject to social insurance); "
                          "residents where no commuter counts are given (see source)",
    "daytime_population_source": "where daytime_population comes from: 'residents + in - out "
                                 "commuters', or residents (no commuter data / municipality not "
                                 "in the commuter table / counts anonymised)",
    "potential_2h": "Lage potential: distance-decay weighted Tagesbevölkerung of all units "
                    "reachable within 120 minutes by car; with [lage] units = gvb (default, "
                    "as BBSR) the Gemeindeverbände at their settlement centres, each with "
                    "its members' summed daytime population, and every member carries its "
                    "GVB's potential; with units = municipality the municipalities (own "
                    "unit at t = 0 included once; access legs at both ends count)",
    "n_reached": "number of units (Gemeindeverbände, or municipalities with [lage] units = "
                 "municipality; daytime population > 0) within 120 minutes, the own one "
                 "included",
    "lage": "Lage (BBSR location type) of the reporting unit: with unit = gvb (default, as "
            "the BBSR report) the class of the Gemeindeverband (potential_2h_gvb), else of "
            "the municipality (potential_2h): sehr peripher < 81,000 <= peripher < 183,000 <= "
            "zentral < 410,000 <= sehr zentral; empty for unpopulated areas and where the "
            "class is not certain: the potential is flagged (edge_flag) and its upper bound "
            "potential_2h_max falls into another class (see lage_reason)",
    "lage_reason": "why the municipality's Lage is empty although it has a potential: its "
                   "2-hour search may leave the extract (edge_flag), so destinations beyond "
                   "it may be missing, and potential_2h and potential_2h_max lie in "
                   "different classes; or (units = gvb) its Gemeindeverband is not wholly in "
                   "the region; run on a larger extract or import a national run "
                   "(--lage-from)",
    "lage_gemeinde": "Lage of the municipality's potential_2h (same classes; with [lage] "
                     "units = gvb that is its Gemeindeverband's)",
    "lage_gvb": "Lage of the Gemeindeverband: the class of potential_2h_gvb",
    "potential_2h_gvb": "Lage potential of the Gemeindeverband: the potential_2h of its most "
                        "populous member (its settlement centre, as BBSR's GVB matrix); "
                        "with [lage] units = gvb every member's potential_2h",
    "t_mz_min_gvb": "mean car time to the nearest MZ/OZ over the Gemeindeverband's populated "
                    "members (area-weighted as INKAR, or as [central_places] weighting)",
    "mz_class_gvb": "BBSR class of t_mz_min_gvb (the class the report gives the GVB)",
    "t_oz_min_gvb": "mean car time to the nearest OZ over the Gemeindeverband's populated "
                    "members (weighted as t_mz_min_gvb)",
    "oz_class_gvb": "BBSR class of t_oz_min_gvb",
    "gvb_complete": "the Gemeindeverband lies wholly in the region, each populated member "
                    "with its values: otherwise its _gvb values describe the members inside "
                    "only, and it is in no class table",
    "lage_code": "ordered code of lage: 0 = sehr peripher, 1 = peripher, 2 = zentral, "
                 "3 = sehr zentral (empty: no value)",
    "settlement_type_code": "ordered code of settlement_type: 0 = Großstadt, 1 = Mittelstadt, "
                            "2 = Kleinstadt, 3 = Landgemeinde",
    "settlement_type": "Stadt- und Gemeindetyp of the Gemeindeverband: Großstadt / "
                       "Mittelstadt / Kleinstadt / Landgemeinde (empty for an unpopulated "
                       "GVB, a gemeindefreies Gebiet)",
    "settlement_type_detail": "differenzierter Stadt- und Gemeindetyp: große / kleinere "
                              "Großstadt, größere / kleinere Mittelstadt, größere / kleine "
                              "Kleinstadt, Landgemeinde",
    "edge_flag": "a route through a node where the extract cut the road network could "
                 "reach a destination sooner or bring one within the 120 minutes: the "
                 "potential may be underestimated; False: exact for any larger extract "
                 "(see README, How exact is each number)",
    "potential_2h_max": "Obergrenze des Lagepotenzials: no larger extract gives more (each "
                        "destination at the lesser of its time inside and the earliest arrival "
                        "through the cut); = potential_2h where exact, empty where unknown; the "
                        "Lage class is certain where both fall into the same class",
    "beyond_mz_standard": "t_mz_min is longer than the accessibility standard "
                          "(Erreichbarkeitsstandard, [central_places] standard_mz_min, default "
                          "30 min: RIN 2008, MKRO 2016); empty without a time",
    "beyond_oz_standard": "t_oz_min is longer than the standard for Oberzentren "
                          "(standard_oz_min, default 60 min); empty without a time",
    "lon": "longitude of the reference point (WGS84)",
    "lat": "latitude of the reference point (WGS84)",
}

#: Columns of the central-place model, in output order.
CENTRAL_PLACE_COLUMNS = (
    "ags", "name", "gvb", "kreis", "land", "population", "area_km2", "central_place",
    "t_mz_min", "t_oz_min", "nearest_mz_ags", "nearest_mz_name", "nearest_oz_ags",
    "nearest_oz_name", "mz_class", "mz_class_code", "oz_class", "oz_class_code",
    "mz_edge_flag", "oz_edge_flag", "snap_m",
    "origin_method", "n_origins", "reason")
#: Columns the Lage model adds.
LAGE_COLUMNS = ("daytime_population", "daytime_population_source", "potential_2h",
                "n_reached", "edge_flag", "potential_2h_max", "lage", "lage_code", "lage_reason",
                "settlement_type", "settlement_type_code", "settlement_type_detail")


def walk_columns(methods=tuple(WALK_METHOD_SUFFIX)) -> dict[str, str]:
    """Meanings of the per-municipality Nahversorgung columns of ``methods``."""
    docs = {}
    how = {"straight": "straight line from the 100 m cell centre, water bodies block it "
                       "(bridges and underpasses are gaps; the official BBSR method)",
           "network": "along the OSM walking network (footways, paths, streets; the 2025 "
                      "BBSR method)"}
    for m in methods:
        sfx = WALK_METHOD_SUFFIX[m]
        for s in SERVICES + ("all",):
            what = (f"all {N_SERVICES_WORD} services" if s == "all"
                    else f"{SERVICE_LABELS[s]} ({s})")
            docs[f"walk_share_{s}{sfx}"] = (f"Nahversorgung: share of residents with {what} "
                                           f"within the limit (1,000 m), {how[m]}")
            docs[f"walk_dist_{s}{sfx}_m"] = (
                f"resident-weighted mean distance in m to the nearest {what}"
                if s != "all" else
                f"resident-weighted mean of the distance within which all {N_SERVICES_WORD} "
                f"services are reached (the largest of the {N_SERVICES_WORD} nearest "
                "distances)") + f", {how[m]}"
    if "network" in methods:
        docs["walk_edge_share_net"] = (
            "share of residents whose network distances a larger walk extract might "
            "change (a walk leaving the extract could be shorter); 0: every network "
            "value exact (README, How exact is each number)")
    docs["walk_residents"] = "residents of the 100 m cells inside the walk extract counted here"
    if "network" in methods:
        docs["walk_residents_net"] = (
            "of walk_residents, those in cells within the snapping limit of the walk "
            "network: the base of the _net shares (the others have no network value)")
    docs["walk_coverage"] = ("walk_residents / population: the share of the municipality inside "
                             "the walk extract; the walk values describe that part only "
                             "(empty above 1.1: the cells were not the municipality's own)")
    docs["walk_stop_source"] = ("where the stops come from: GTFS (stops with >= N departures on "
                                "the chosen weekday) or OSM stops without timetable")
    return docs


# ------------------------------------------------------------------ words of the maps
#: Languages of the maps (``[output] lang``).
MAP_LANGUAGES = ("de", "en")
#: Titles (format fields filled by the pipeline), colour-bar labels and legend entries
#: of the maps, per language. German by default: the maps go into German reports.
MAP_WORDS: dict[str, dict[str, str]] = {
    "de": {
        "oz_time": "Pkw-Fahrzeit zum nächsten Oberzentrum{per}",
        "oz_class": "Oberzentrum: BBSR-Klassen der Pkw-Fahrzeit{per}",
        "per_gvb": " (Mittel des Gemeindeverbands)",
        "standards": "Erreichbarkeitsstandards: Mittelzentrum in {mz:g}, Oberzentrum in "
                     "{oz:g} Minuten mit dem Pkw",
        "catchments": "Mittelbereiche: Einzugsbereiche des nächsten Mittel-/Oberzentrums "
                      "(Pkw)",
        "lage": "Lage: Tagesbevölkerung in 2 Stunden mit dem Pkw",
        "motorway_time": "Pkw-Fahrzeit zur nächsten Autobahnanschlussstelle",
        "ldrail_time": "Pkw-Fahrzeit zum nächsten Fernbahnhof",
        "airport_time": "Pkw-Fahrzeit zum nächsten internationalen Verkehrsflughafen",
        "pt": "ÖPNV-Abfahrten je 1.000 Einwohner am {day}",
        "rail": "Abfahrten im Schienenverkehr je 1.000 Einwohner am {day}",
        "commuters": "Pendlersaldo je 100 Beschäftigte am Arbeitsort",
        "walk": "Nahversorgung: Dienste in {limit} m ({how}), 100-m-Zellen; "
                "{all} = alle {n}{note}",
        "walk_straight": "Luftlinie mit Gewässerbarrieren",
        "walk_network": "über das Fußwegenetz",
        "walk_no_data": "\nkeine Daten für {services}: höchstens {k} von {n} möglich",
        "scenario": "Szenario '{name}': Änderung der Pkw-Fahrzeit zum nächsten {what}",
        "minutes": "Minuten",
        "minutes_change": "Minuten (blau: kürzer, rot: länger)",
        "per_1000": "Abfahrten je 1.000",
        "commuter_label": "Ein- minus Auspendler je 100",
        "no_value": "kein Wert",
        "no_value_lage": "kein Wert (siehe lage_reason)",
        "incomplete": "unvollständig: schneidet den Rand des Ausschnitts",
        "provisional": "kann sich mit größerem Ausschnitt ändern (Randmarke)",
        "html_title": "Erreichbarkeit zentraler Orte",
        "count_units": "{n} GVB",
        "motorway_dest": "Autobahnanschlussstellen", "ldrail_dest": "Fernbahnhöfe",
        "airport_dest": "internationale Verkehrsflughäfen",
        "pt_mz_time": "ÖPNV-Reisezeit zum nächsten Mittel-/Oberzentrum (Median {start}-{end} "
                      "Uhr, Tür zu Tür)",
        "pt_ratio": "ÖPNV-Reisezeit / Pkw-Fahrzeit zum nächsten Mittel-/Oberzentrum",
        "ratio": "ÖPNV / Pkw (Faktor)",
        "attribution": "Straßen © OpenStreetMap-Mitwirkende (ODbL); Gemeinden © Destatis / "
                       "GeoBasis-DE / BKG; Einwohner © Statistische Ämter des Bundes und der "
                       "Länder (Zensus 2022); zentrale Orte © BBSR (DL-DE 2.0)",
    },
    "en": {
        "oz_time": "Car time to the nearest Oberzentrum{per}",
        "oz_class": "Oberzentrum: BBSR classes of the car time{per}",
        "per_gvb": " (Gemeindeverband mean)",
        "standards": "Accessibility standards: Mittelzentrum within {mz:g}, Oberzentrum "
                     "within {oz:g} minutes by car",
        "catchments": "Mittelbereiche: catchments of the nearest Mittel-/Oberzentrum by car",
        "lage": "Lage: daytime population within 2 h by car",
        "motorway_time": "Car time to the nearest motorway junction",
        "ldrail_time": "Car time to the nearest long-distance rail station (Fernbahnhof)",
        "airport_time": "Car time to the nearest international airport",
        "pt": "Public-transport departures per 1,000 residents on {day}",
        "rail": "Rail departures per 1,000 residents on {day}",
        "commuters": "Commuter balance (Pendlersaldo) per 100 employees at the workplace",
        "walk": "Nahversorgung: services within {limit} m ({how}), 100 m cells; "
                "{all} = all {n}{note}",
        "walk_straight": "straight line with water barriers",
        "walk_network": "along the walking network",
        "walk_no_data": "\nno data for {services}: at most {k} of {n} possible",
        "scenario": "Scenario '{name}': change of the car time to the nearest {what}",
        "minutes": "minutes",
        "minutes_change": "minutes (blue: shorter, red: longer)",
        "per_1000": "departures per 1,000",
        "commuter_label": "in - out per 100",
        "no_value": "no value",
        "no_value_lage": "no value (see lage_reason)",
        "incomplete": "incomplete: crosses the extract's edge",
        "provisional": "may change with a larger extract (edge flag)",
        "html_title": "Accessibility of central places",
        "count_units": "{n} GVB",
        "motorway_dest": "motorway junctions", "ldrail_dest": "Fernbahnhöfe",
        "airport_dest": "international airports",
        "pt_mz_time": "Public-transport time to the nearest Mittel-/Oberzentrum (median "
                      "{start}-{end}, door to door)",
        "pt_ratio": "Public-transport time / car time to the nearest Mittel-/Oberzentrum",
        "ratio": "public transport / car (factor)",
        "attribution": "Roads © OpenStreetMap contributors (ODbL); municipalities © "
                       "Destatis / GeoBasis-DE / BKG; population © Statistische Ämter des "
                       "Bundes und der Länder (Zensus 2022); central places © BBSR "
                       "(DL-DE 2.0)",
    },
}
#: German map labels of the engine's English class labels (the values in the tables
#: stay as they are; BBSR's German classes, Lage and settlement types, need none).
_CLASS_LABELS_DE = {
    ZERO_LABEL["mz"]: "0 (ist MZ/OZ)", ZERO_LABEL["oz"]: "0 (ist OZ)", NO_VALUE: "kein Wert",
    "both met": "beide erfüllt", "beyond the MZ standard": "MZ-Standard überschritten",
    "beyond the OZ standard": "OZ-Standard überschritten", "beyond both": "beide überschritten",
}


def map_words(lang: str) -> dict[str, str]:
    """The words of the maps in ``lang`` (one of :data:`MAP_LANGUAGES`)."""
    if lang not in MAP_WORDS:
        from ._errors import InputError

        raise InputError(f"map language {lang!r}: use one of {', '.join(MAP_LANGUAGES)}")
    return MAP_WORDS[lang]


def class_label(label: str, lang: str) -> str:
    """A class label as a map in ``lang`` shows it (``"0 of 6"`` is ``"0 von 6"``)."""
    if lang != "de":
        return label
    if label in _CLASS_LABELS_DE:
        return _CLASS_LABELS_DE[label]
    return re.sub(r"^(\d+) of (\d+)$", r"\1 von \2", label)


# ------------------------------------------------------------------ hand-in document
#: The words of the hand-in document (``accessibility report``), German and English;
#: the columns it shows in :data:`DOCUMENT_COLUMNS`.
DOCUMENT_WORDS: dict[str, dict[str, str]] = {
    "de": {
        "title": "Erreichbarkeit zentraler Orte", "scenario_title": "Szenario: {name}",
        "region": "Region", "region_text": "{n} Gemeinden; {lands}", "cut": "Ausschnitt",
        "created": "Lauf vom", "version": "Version",
        "profile": "Geschwindigkeitsprofil", "crs": "Koordinatensysteme",
        "crs_text": "Graph {graph}, Raster {grid}, Länge/Breite {lon_lat}",
        "unit": "Berichtseinheit", "gvb": "Gemeindeverband", "gemeinde": "Gemeinde",
        "models": "Modelle", "inputs": "Eingangsdaten", "input": "Eingabe", "file": "Datei",
        "bytes": "Bytes", "sha256": "SHA-256", "not_recorded": "nicht verzeichnet",
        "no_run_record": "Der Lauf verzeichnet seine Eingangsdaten nicht (vor Version "
                         "0.1.0 geschrieben); Straßennetz: {source}.",
        "page": "Seite {n} von {total}", "part": "Teil {i} von {n}", "yes": "ja", "no": "nein",
        "overview": "Übersicht: Mittelwerte des Laufs", "what": "Kennzahl", "value": "Wert",
        "overview_text": "Pkw-Fahrzeiten in Minuten, flächengewichtet (INKAR) und "
                         "bevölkerungsgewichtet (Deutschlandatlas), über die Gemeinden "
                         "der Region.",
        "classes": "Pkw-Fahrzeit zum nächsten Mittel- und Oberzentrum: BBSR-Klassen",
        "classes_text": "Einheiten und Einwohner je Klasse; unvollständige und unbewohnte "
                        "Einheiten sind nicht gezählt.",
        "kreise": "Mittlere Pkw-Fahrzeiten je Kreis",
        "lage_type": "Lage nach Stadt- und Gemeindetyp",
        "standards": "Erreichbarkeitsstandards",
        "standards_text": "Mittelzentrum in {mz} Minuten, Oberzentrum in {oz} Minuten mit "
                          "dem Pkw (FGSV RIN 2008, MKRO 2016). Außerhalb: {beyond_mz} "
                          "Einwohner (MZ), {beyond_oz} Einwohner (OZ). Je Kreis:",
        "cross": "Kreuztabellen des Berichts",
        "abb14": "Abb. 14: Kleinstädte nach Lage und Größe (% der Einheiten)",
        "tab3": "Tab. 3: Funktion nach Stadt- und Gemeindetyp und Lage",
        "groups": "Kennzahlen nach Gruppen",
        "maps": "Karten", "figure": "Abbildung {n}: {title} ({file})", "legend": "Legende",
        "map_not_png": "Karte {file} (Format {fmt}: liegt als eigene Datei bei)",
        "map_language": "Die Karte ist englisch beschriftet: der Lauf (einer älteren "
                        "Version) zeichnete sie nur in seiner Sprache.",
        "exactness": "Genauigkeit: vollständige und unvollständige Einheiten",
        "exactness_text": "Unvollständige Einheiten schneiden den Rand des Ausschnitts und "
                          "fehlen in den Klassentabellen.",
        "flags": "Genauigkeit: Werte mit Randmarke",
        "flags_text": "Werte, die sich mit einem größeren Straßenausschnitt ändern könnten "
                      "(Spalten *_edge_flag); die übrigen sind exakt.",
        "flag_column": "Spalte", "n_flagged": "mit Randmarke", "n_with_value": "mit Wert",
        "scenario_effects": "Vorher/Nachher: wer gewinnt, wer verliert",
        "scenario_text": "Änderung je Gemeinde (Szenario minus Basis).",
        "indicator": "Kennzahl", "gain": "gewinnen", "lose": "verlieren",
        "n_gain": "Gemeinden (Gewinn)", "res_gain": "Einwohner (Gewinn)",
        "mean_gain": "Mittel (Gewinn)", "n_lose": "Gemeinden (Verlust)",
        "res_lose": "Einwohner (Verlust)", "mean_lose": "Mittel (Verlust)",
        "largest": "Vorher/Nachher: größte Änderungen der Pkw-Fahrzeit zum {what}",
        "gvb_changes": "Vorher/Nachher: Gemeindeverbände mit geänderter Fahrzeit",
        "moves": "Vorher/Nachher: Einwohner zwischen den Klassen ({what})",
        "moves_text": "Zeilen: Basis, Spalten: Szenario.",
        "total": "gesamt", "all": "alle", "base": "Basis", "scenario": "Szenario",
        "change": "Änderung",
    },
    "en": {
        "title": "Accessibility of central places", "scenario_title": "Scenario: {name}",
        "region": "Region", "region_text": "{n} municipalities; {lands}", "cut": "Cut",
        "created": "Run of", "version": "Version",
        "profile": "Speed profile", "crs": "Coordinate systems",
        "crs_text": "graph {graph}, grid {grid}, lon/lat {lon_lat}",
        "unit": "Reporting unit", "gvb": "Gemeindeverband", "gemeinde": "municipality",
        "models": "Models", "inputs": "Inputs", "input": "Input", "file": "File",
        "bytes": "Bytes", "sha256": "SHA-256", "not_recorded": "not recorded",
        "no_run_record": "The run does not record its inputs (written before version "
                         "0.1.0); road network: {source}.",
        "page": "Page {n} of {total}", "part": "part {i} of {n}", "yes": "yes", "no": "no",
        "overview": "Overview: means of the run", "what": "Indicator", "value": "Value",
        "overview_text": "Car times in minutes, area-weighted (INKAR) and "
                         "population-weighted (Deutschlandatlas), over the municipalities "
                         "of the region.",
        "classes": "Car time to the nearest Mittel- and Oberzentrum: BBSR classes",
        "classes_text": "Units and residents per class; incomplete and unpopulated units "
                        "are not counted.",
        "kreise": "Mean car times per Kreis",
        "lage_type": "Lage by Stadt- und Gemeindetyp",
        "standards": "Accessibility standards (Erreichbarkeitsstandards)",
        "standards_text": "Mittelzentrum within {mz} minutes, Oberzentrum within {oz} "
                          "minutes by car (FGSV RIN 2008, MKRO 2016). Beyond: {beyond_mz} "
                          "residents (MZ), {beyond_oz} residents (OZ). Per Kreis:",
        "cross": "The report's cross-tables",
        "abb14": "Abb. 14: Kleinstädte by Lage and size (% of the units)",
        "tab3": "Tab. 3: function by Stadt- und Gemeindetyp and Lage",
        "groups": "Indicators by group",
        "maps": "Maps", "figure": "Figure {n}: {title} ({file})", "legend": "Legend",
        "map_not_png": "Map {file} (format {fmt}: enclosed as a file of its own)",
        "map_language": "The map is labelled in German: the run (of an earlier version) "
                        "drew it in its language only.",
        "exactness": "Exactness: complete and incomplete units",
        "exactness_text": "Incomplete units cross the extract's edge and are in no class "
                          "table.",
        "flags": "Exactness: values with an edge flag",
        "flags_text": "Values that a larger road extract might change (columns "
                      "*_edge_flag); the others are exact.",
        "flag_column": "Column", "n_flagged": "flagged", "n_with_value": "with a value",
        "scenario_effects": "Before and after: who gains, who loses",
        "scenario_text": "Change per municipality (scenario minus base).",
        "indicator": "Indicator", "gain": "gain", "lose": "lose",
        "n_gain": "municipalities (gain)", "res_gain": "residents (gain)",
        "mean_gain": "mean (gain)", "n_lose": "municipalities (loss)",
        "res_lose": "residents (loss)", "mean_lose": "mean (loss)",
        "largest": "Before and after: largest changes of the car time to the {what}",
        "gvb_changes": "Before and after: Gemeindeverbände whose car time changes",
        "moves": "Before and after: residents between the classes ({what})",
        "moves_text": "Rows: base, columns: scenario.",
        "total": "total", "all": "all", "base": "base", "scenario": "scenario",
        "change": "change",
    },
}
#: Column labels of the hand-in document: (German, English). Columns not listed keep
#: their name (the files' documentation is docs/outputs.md).
DOCUMENT_COLUMNS: dict[str, tuple[str, str]] = {
    "class": ("Klasse", "class"), "gvb": ("GVB", "GVB"),
    "municipalities": ("Gemeinden", "municipalities"),
    "share_gvb": ("Anteil GVB", "share of GVB"),
    "share_municipalities": ("Anteil Gemeinden", "share of municipalities"),
    "population": ("Einwohner", "residents"), "residents": ("Einwohner", "residents"),
    "share_population": ("Anteil Einwohner", "share of residents"),
    "n_edge_flag": ("davon vorläufig (Randlage)", "of them provisional (edge flag)"),
    "key": ("Schlüssel", "key"), "kreis": ("Kreis", "Kreis"), "name": ("Name", "name"),
    "complete": ("vollständig", "complete"), "lage": ("Lage", "Lage"),
    "t_mz_min_area_w": ("MZ, Min. (Fläche)", "MZ, min (area)"),
    "t_mz_min_pop_w": ("MZ, Min. (Einwohner)", "MZ, min (residents)"),
    "t_oz_min_area_w": ("OZ, Min. (Fläche)", "OZ, min (area)"),
    "t_oz_min_pop_w": ("OZ, Min. (Einwohner)", "OZ, min (residents)"),
    "t_motorway_min_area_w": ("Autobahn, Min. (Fläche)", "motorway, min (area)"),
    "t_motorway_min_pop_w": ("Autobahn, Min. (Einwohner)", "motorway, min (residents)"),
    "t_ldrail_min_area_w": ("Fernbahnhof, Min. (Fläche)", "Fernbahnhof, min (area)"),
    "t_ldrail_min_pop_w": ("Fernbahnhof, Min. (Einwohner)", "Fernbahnhof, min (residents)"),
    "t_airport_min_area_w": ("Flughafen, Min. (Fläche)", "airport, min (area)"),
    "t_airport_min_pop_w": ("Flughafen, Min. (Einwohner)", "airport, min (residents)"),
    "residents_beyond_mz": ("Einwohner außerhalb MZ", "residents beyond MZ"),
    "share_residents_beyond_mz": ("Anteil außerhalb MZ", "share beyond MZ"),
    "residents_beyond_oz": ("Einwohner außerhalb OZ", "residents beyond OZ"),
    "share_residents_beyond_oz": ("Anteil außerhalb OZ", "share beyond OZ"),
    "indicator": ("Kennzahl", "indicator"), "function": ("Funktion", "function"),
    "grouping": ("Gruppierung", "grouping"), "group": ("Gruppe", "group"),
    "n_gvb": ("GVB", "GVB"), "n_municipalities": ("Gemeinden", "municipalities"),
    "n_unpopulated": ("unbewohnt", "unpopulated"), "area_km2": ("Fläche km²", "area km²"),
    "level": ("Ebene", "level"), "what": ("Was", "what"), "n": ("Anzahl", "number"),
    "ags": ("AGS", "AGS"), "gvb_name": ("Name", "name"),
    "population_scenario": ("Einwohner", "residents"),
    "t_mz_min_base": ("MZ Basis, Min.", "MZ base, min"),
    "t_mz_min_scenario": ("MZ Szenario, Min.", "MZ scenario, min"),
    "t_mz_min_change": ("MZ Änderung, Min.", "MZ change, min"),
    "t_oz_min_base": ("OZ Basis, Min.", "OZ base, min"),
    "t_oz_min_scenario": ("OZ Szenario, Min.", "OZ scenario, min"),
    "t_oz_min_change": ("OZ Änderung, Min.", "OZ change, min"),
    "settlement_type": ("Stadt- und Gemeindetyp", "Stadt- und Gemeindetyp"),
    "kleinstadt_lage": ("Kleinstadt nach Lage", "Kleinstadt by Lage"),
    "potential_2h": ("Potenzial 2 h", "potential 2 h"),
    # the inputs on the title page
    "osm": ("OpenStreetMap-Auszug", "OpenStreetMap extract"),
    "central_places": ("Zentrale Orte", "central places"),
    "boundaries": ("Gemeindegrenzen", "boundaries"),
    "population_grid": ("Bevölkerungsraster", "population grid"),
    "commuters": ("Pendler", "commuters"), "gtfs": ("GTFS-Fahrplan", "GTFS feed"),
    "walk_osm": ("OSM-Auszug Fußwege", "walk OSM extract"),
    "facilities": ("Einrichtungen", "facilities"), "stations": ("Bahnhöfe", "stations"),
    "airports": ("Flughäfen", "airports"), "destinations": ("Ziele", "destinations"),
    "lage_from": ("Lage aus Lauf", "Lage from run"),
    "scenario_file": ("Szenariodatei", "scenario file"),
}


#: German of the rows of ``counts.csv`` (its ``what``; "rows of X" is matched apart).
COUNTS_WHAT_DE = {
    "in the register": "im Gemeindeverzeichnis",
    "in the region of the road extract": "in der Region des Straßenausschnitts",
    "outside it, in the walk extract (Nahversorgung values only)":
        "außerhalb, im Fußwegeausschnitt (nur Nahversorgung)",
    "written (municipalities.*)": "geschrieben (municipalities.*)",
    "left out (outside the region, not written)":
        "ausgelassen (außerhalb der Region, nicht geschrieben)",
    "complete (every member in the region, with a value)":
        "vollständig (jedes Mitglied in der Region, mit Wert)",
    "incomplete, in the road extract (cross its edge): in no class table":
        "unvollständig, im Straßenausschnitt (schneiden seinen Rand): in keiner "
        "Klassentabelle",
    "incomplete, only in the walk extract": "unvollständig, nur im Fußwegeausschnitt",
    "total (this run)": "gesamt (dieser Lauf)",
    "municipalities": "Gemeinden", "gvb": "GVB", "kreis": "Kreis", "land": "Land",
}


def document_cell(text: str, lang: str) -> str:
    """A label in a table cell (a class, a row of ``counts.csv``, a total) in ``lang``:
    German decimal commas in class limits (``7,5-15 min``)."""
    if lang != "de":
        return text
    if text in COUNTS_WHAT_DE:
        return COUNTS_WHAT_DE[text]
    if text in ("total", "all"):
        return DOCUMENT_WORDS["de"][text]
    m = re.fullmatch(r"rows of (\S+) \(and of the GeoPackage layer (\S+)\)", text)
    if m:
        return f"Zeilen von {m.group(1)} (und der GeoPackage-Ebene {m.group(2)})"
    return re.sub(r"(\d)\.(\d)", r"\1,\2", class_label(text, lang))


def document_words(lang: str) -> dict[str, str]:
    """The words of the hand-in document in ``lang`` (one of :data:`MAP_LANGUAGES`)."""
    map_words(lang)  # the same languages, the same message for another
    return DOCUMENT_WORDS[lang]


def document_label(column: str, lang: str) -> str:
    """A column's label in the hand-in document; the cross-tables' generated columns
    (``"{group} %"``, ``"{group} n"``, ``"{group} residents"``) with their suffix in
    ``lang``, unlisted columns as they are."""
    if column in DOCUMENT_COLUMNS:
        return DOCUMENT_COLUMNS[column][MAP_LANGUAGES.index(lang)]
    m = re.fullmatch(r"walk_share_(\w+?)(_net)?", column)
    if m and (m.group(1) in SERVICE_LABELS or m.group(1) == "all"):
        what = (service_label(m.group(1), lang) if m.group(1) != "all"
                else {"de": "alle", "en": "all"}[lang])
        net = {"de": " (Wegenetz)", "en": " (network)"}[lang] if m.group(2) else ""
        return {"de": "Nahversorgung {what}{net}", "en": "walkable {what}{net}"}[lang].format(
            what=what, net=net)
    head, _, tail = column.rpartition(" ")
    if head and tail in ("residents", "population", "n", "%"):  # a group's ("total n")
        unit = DOCUMENT_COLUMNS[tail][MAP_LANGUAGES.index(lang)] if tail in DOCUMENT_COLUMNS \
            and tail != "n" else tail
        return f"{document_cell(head, lang)} {unit}"
    return column
