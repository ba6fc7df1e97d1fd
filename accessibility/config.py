"""Run configuration: TOML sections, defaults, validation and provenance output."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import json
import logging
import math
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path

from . import defaults as D
from ._checks import check_box, check_thresholds, file_problem
from ._crs import check_metric_crs
from ._errors import InputError
from ._pt_config import PT_CHOICES, PT_RANGES, PublicTransportConfig, check_public_transport

logger = logging.getLogger(__name__)

__all__ = [
    "CentralPlacesConfig",
    "ComputeConfig",
    "Config",
    "DestinationsConfig",
    "GraphConfig",
    "InputsConfig",
    "LageConfig",
    "OutputConfig",
    "PublicTransportConfig",
    "RegionConfig",
    "WalkConfig",
    "load_config",
]


@dataclass(frozen=True)
class InputsConfig:
    """``[inputs]``: input files; relative paths are resolved against the config file.

    Attributes
    ----------
    osm : Path, optional
        OpenStreetMap extract (``.osm.pbf``, ``.osm``, ``.osm.gz``).
    municipalities : Path, optional
        Municipality table (Destatis register CSV) or boundary layer (VG250 GeoPackage).
    municipalities_layer : str, optional
        Layer of a multi-layer municipality file (default: ``gemeinden``).
    central_places : Path, optional
        Central-place function per AGS (``ags``, ``zo_funktion``).
    boundaries : Path, optional
        Municipality polygons for area/population origins and maps.
    population_grid : Path, optional
        Census grid (Parquet or CSV, EPSG:3035 cell centres).
    commuters : Path, optional
        In-/out-commuters per AGS (Bundesagentur für Arbeit); without it the Lage uses
        residents instead of the daytime population and says so.
    gtfs : Path, optional
        GTFS feed (zip) for stop departures of the walkability model.
    walk_osm : Path, optional
        OSM extract with footways, buildings, services and water for the walkability
        model (default: ``osm``, when that has them).
    facilities : Path, optional
        Own facility table (CSV / GeoPackage with a ``service`` column and lon/lat or
        point geometry) added to the services found in OSM.
    stations : Path, optional
        Station table in the format of DB's station data (``eva``, ``name``, ``lat``,
        ``lon``, ``ice``, ``ic_ec``, ``price_category``): the Fernbahnhöfe of
        ``t_ldrail_min`` by ``[destinations] fernbahnhof_rule`` (with ``gtfs``, stations
        with long-distance departures count too). Default: the DB station table shipped
        with the package (``accessibility/data/db_long_distance_stations.csv``).
    airports : Path, optional
        Own airport table (``lon``, ``lat``, optional ``name``/``id``) instead of the
        shipped list of German international airports.
    destinations : Path, optional
        Override table (``kind`` in motorway / ldrail / airport, ``lon``, ``lat``,
        optional ``name``/``id``): replaces the built-in source of each kind it holds.
    lage_from : Path, optional
        The output folder (or its ``municipalities.parquet`` / ``.csv``) of a national
        run: its exact potentials replace the Lage search of this run, which on a
        regional extract cannot see the 2-hour surroundings.
    """

    osm: Path | None = None
    municipalities: Path | None = None
    municipalities_layer: str | None = None
    central_places: Path | None = None
    boundaries: Path | None = None
    population_grid: Path | None = None
    commuters: Path | None = None
    gtfs: Path | None = None
    walk_osm: Path | None = None
    facilities: Path | None = None
    stations: Path | None = None
    airports: Path | None = None
    destinations: Path | None = None
    lage_from: Path | None = None


@dataclass(frozen=True)
class GraphConfig:
    """``[graph]``: building and using the road graph.

    Attributes
    ----------
    profile : str
        Speed profile: a shipped profile name (``de-car``, the default, or
        ``osrm-car``) or a path to a TOML profile (contains ``/`` or ends in
        ``.toml``; resolved like input paths).
    simplify : bool
        Contract degree-2 nodes after building.
    metric_crs : str
        Projected CRS for snapping and distances (default ETRS89 / UTM 32N).
    max_snap_m : float
        Points farther than this from the network (metres) are reported as unsnapped.
    access_speed_kmh : float, optional
        Speed of the leg from a point (origin or facility) to its snapped network node,
        km/h; the straight-line snap distance is travelled at this speed. Default: the
        profile's (fitted together with its speeds; ``de-car``: see
        docs/METHOD.md), else 15 km/h. :meth:`access_kmh` gives the value in use.
    clip : tuple of float
        ``[lon_min, lat_min, lon_max, lat_max]``: crop the extract to the box it was cut
        with, so that the cut is known and the edge flags are exact (see the README,
        "How exact is each number"). Empty: no crop.
    cache_dir : Path, optional
        Directory for cached graphs (and contraction hierarchies), shared by every
        output folder. Default (:meth:`cache_path`): ``$ACCESSIBILITY_CACHE_DIR``,
        else the user's cache directory (``platformdirs.user_cache_dir``, on Linux
        ``~/.cache/accessibility``).
    """

    profile: str = D.PROFILE
    simplify: bool = True
    metric_crs: str = D.METRIC_CRS
    max_snap_m: float = D.MAX_SNAP_M
    access_speed_kmh: float | None = None
    cache_dir: Path | None = None
    clip: tuple[float, ...] = D.GRAPH_CLIP

    def build_options(self) -> dict[str, object]:
        """The keyword options of :func:`accessibility.build_graph` this section sets
        (one place for every command that builds the graph)."""
        return {"simplify_graph": self.simplify, "max_snap_m": self.max_snap_m,
                "crs": self.metric_crs, "clip": tuple(self.clip) if self.clip else None}

    def cache_path(self) -> Path:
        """The graph cache in use: ``[graph] cache_dir`` (or ``--cache-dir``), else
        ``$ACCESSIBILITY_CACHE_DIR``, else the user's cache directory. One folder for
        all output folders: the key (input file, profile, build options) tells graphs
        apart, so a second run into a new folder does not parse OSM again."""
        if self.cache_dir is not None:
            return Path(self.cache_dir)
        env = os.environ.get(D.CACHE_DIR_ENV)
        if env:
            return Path(env).expanduser()
        import platformdirs  # lazily: the CLI's --help stays fast

        return Path(platformdirs.user_cache_dir("accessibility"))

    def access_kmh(self) -> float:
        """The access-leg speed in use: the config's, else the profile's, else 15 km/h."""
        if self.access_speed_kmh is not None:
            return float(self.access_speed_kmh)
        from .profile import access_speed, load_profile

        return access_speed(load_profile(self.profile).access_speed_kmh)


@dataclass(frozen=True)
class RegionConfig:
    """``[region]``: which municipalities a run reports on.

    A run covers the area of its road extract: municipalities whose reference point
    lies outside the outline of its network (and not within ``max_snap_m`` of a road)
    get no values and are not written, unless they have residents in the walk extract
    (then only their Nahversorgung values). These keys cut the register further.

    Attributes
    ----------
    ags_prefixes : tuple of str
        Keep municipalities whose AGS starts with one of these (Land ``"08"``,
        Regierungsbezirk ``"082"``, Kreis ``"08221"``); empty: no cut.
    bbox : tuple of float
        Keep municipalities whose reference point lies in ``[lon_min, lat_min,
        lon_max, lat_max]`` (WGS84); empty: no cut.
    """

    ags_prefixes: tuple[str, ...] = D.REGION_AGS_PREFIXES
    bbox: tuple[float, ...] = D.REGION_BBOX


@dataclass(frozen=True)
class CentralPlacesConfig:
    """``[central_places]``: car times to Mittel- and Oberzentren.

    Attributes
    ----------
    origins : {"point", "population", "area"}
        One reference point per municipality (INKAR), population-grid cells, or a
        regular grid over the municipality area.
    area_grid_m : float
        Spacing of the area grid in metres (``origins = "area"``).
    weighting : {"area", "population"}
        Weights of the mean at GVB/Kreis/Land level: area (INKAR) or population
        (Deutschlandatlas).
    gz_with_mz_is_mz : bool
        Count a "Grundzentrum mit mittelzentraler Teilfunktion" as a Mittelzentrum
        (a destination of "nearest MZ"). Partners of a shared Mittelzentrum always count.
    standard_mz_min, standard_oz_min : float
        Accessibility standards (Erreichbarkeitsstandards): residents farther than this
        many minutes by car from a Mittel- (Ober-)zentrum are reported (default 30 /
        60, RIN 2008 and MKRO 2016).
    """

    origins: str = D.ORIGINS
    area_grid_m: float = D.AREA_GRID_M
    weighting: str = D.WEIGHTING
    gz_with_mz_is_mz: bool = D.GZ_WITH_MZ_IS_MZ
    standard_mz_min: float = D.STANDARD_MZ_MIN
    standard_oz_min: float = D.STANDARD_OZ_MIN


@dataclass(frozen=True)
class LageConfig:
    """``[lage]``: daytime population reachable by car with distance decay.

    Attributes
    ----------
    decay : {"none", "exponential", "gaussian", "power"}
        Distance-decay function of travel time t (minutes).
    beta : float
        Rate of the exponential decay exp(-beta t), per minute (exponent of the power
        decay t^-beta).
    sigma_min : float
        Width of the Gaussian decay exp(-t^2 / (2 sigma^2)), minutes.
    floor_min : float
        Travel times below this many minutes count as this value (keeps the power
        decay finite for a unit's own population).
    limit_min : float
        Only destinations within this many minutes count (BBSR: 120).
    thresholds : tuple of float
        Class limits: sehr peripher < t0 <= peripher < t1 <= zentral < t2 <= sehr zentral.
    target_mean : float
        Mean over all municipalities that decay calibration aims for (BBSR: 183,000).
    engine : {"dijkstra", "ch"}
        ``dijkstra``: one bounded search per municipality; ``ch``: a contraction
        hierarchy (one-off preprocessing, then far faster queries; for national runs).
    calibrate : bool, optional
        Fit the decay parameter in the run so that the mean potential equals
        ``target_mean`` (one 2-hour table, then a root search on it). Unset (default):
        on when the run covers Germany (``defaults.NATIONAL_SHARE`` of the register's
        populated municipalities in the region, all 16 Länder), off for a regional run,
        whose mean is not the national one.
    units : {"gvb", "municipality"}
        Origins and destinations of the potential: the Gemeindeverbände at their
        settlement centres, own GVB at t = 0 (BBSR, default), or the municipalities.
    """

    decay: str = D.DECAY
    beta: float = D.BETA
    sigma_min: float = D.SIGMA_MIN
    floor_min: float = D.FLOOR_MIN
    limit_min: float = D.LIMIT_MIN
    thresholds: tuple[float, ...] = D.LAGE_THRESHOLDS
    target_mean: float = D.TARGET_MEAN
    engine: str = D.ENGINE
    calibrate: bool | None = None
    units: str = D.LAGE_UNITS


@dataclass(frozen=True)
class WalkConfig:
    """``[walk]``: walkable local services (Nahversorgung).

    Attributes
    ----------
    limit_m : float
        Walking distance limit in metres (BBSR: 1,000).
    gtfs_date : str
        Weekday (ISO date) on which stop departures are counted.
    min_departures : int
        A stop counts if it has at least this many departures on ``gtfs_date``.
    merge_parent_stations : bool
        Count the departures of a station's platforms at the station (one stop).
    methods : tuple of str
        ``straight`` (straight line with water barriers, official) and/or ``network``
        (along the OSM walking network, BBSR 2025).
    max_distance_m : float
        Search radius for the mean distance to the nearest facility.
    max_snap_m : float
        Cells and facilities farther than this from the walk network get no network
        distance.
    services : str, optional
        TOML file with the OSM tag rules of the services (default: the shipped rules).
    """

    limit_m: float = D.WALK_LIMIT_M
    gtfs_date: str = D.GTFS_DATE
    min_departures: int = D.MIN_DEPARTURES
    merge_parent_stations: bool = True
    methods: tuple[str, ...] = D.WALK_METHODS
    max_distance_m: float = D.WALK_MAX_DISTANCE_M
    max_snap_m: float = D.WALK_MAX_SNAP_M
    services: str | None = None


@dataclass(frozen=True)
class DestinationsConfig:
    """``[destinations]``: the destinations of the further indicators.

    Attributes
    ----------
    fernbahnhof_rule : {"ic_ec_ice", "price_class"}
        Which stations of the DB station table (``[inputs] stations``, default the
        shipped one) are Fernbahnhöfe: every station with IC/EC or ICE stops, as BBSR
        counts them, or only those of DB price class 1-3 besides
        (:func:`accessibility.io.read_long_distance_stations`).
    """

    fernbahnhof_rule: str = D.FERNBAHNHOF_RULE


@dataclass(frozen=True)
class OutputConfig:
    """``[output]``: where and how results are written.

    Attributes
    ----------
    dir : Path
        Output directory (relative to the config file).
    formats : tuple of str
        Any of "gpkg", "csv", "parquet".
    maps : bool
        Also draw PNG maps.
    map_format : {"png", "pdf", "svg"}
        File format of the static maps (the HTML map is always written with them).
    lang : {"de", "en"}
        Language of the maps' titles, legends and class labels (default German; the
        words in :data:`accessibility.vocabulary.MAP_WORDS`).
    models : tuple of str
        The models to run: any of ``central_places``, ``lage``, ``indicators``, ``walk`` (each also
        needs its inputs).
    unit : {"gvb", "gemeinde"}
        Reporting unit of the class tables, cross-tables, maps and summary:
        Gemeindeverband (as the BBSR report; every member carries its GVB's Lage)
        or Gemeinde.
    matrix_limit_min : float
        Write ``matrix.parquet``: car times between the municipalities of the region
        within this many minutes (long format; 0: none).
    isochrone_minutes : tuple of float
        Write ``isochrones.gpkg``: the areas from which each Mittel- and Oberzentrum
        of the region is reached within these minutes (empty: none).
    isochrone_max_buffer_m : float
        Off-network reach of an isochrone around each reached road (at the access
        speed, at most this many metres).
    isochrone_method : {"grid", "network"}
        The isochrones' construction: the buffered network's rule on a 250 m grid
        (default; a national run's centres in about two minutes) or the buffered
        network itself (exact, hours nationally).
    """

    dir: Path = Path(D.OUTPUT_DIR)
    formats: tuple[str, ...] = D.OUTPUT_FORMATS
    models: tuple[str, ...] = D.MODELS
    map_format: str = D.MAP_FORMAT
    lang: str = D.MAP_LANG
    maps: bool = True
    unit: str = D.UNIT
    matrix_limit_min: float = D.MATRIX_LIMIT_MIN
    isochrone_minutes: tuple[float, ...] = D.ISOCHRONE_MINUTES
    isochrone_max_buffer_m: float = D.ISOCHRONE_MAX_BUFFER_M
    isochrone_method: str = D.ISOCHRONE_METHOD


@dataclass(frozen=True)
class ComputeConfig:
    """``[compute]``: where the independent work of a run is computed.

    Attributes
    ----------
    scheduler : {"local", "dask"}
        ``local`` (default): in this process (numba threads). ``dask``: as tasks on
        ``dask.distributed`` — the Lage origins in chunks, the walkability model in
        tiles, scenario batches. Results are identical to ``local``.
    address : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); unset: the engine
        starts a local cluster of ``n_workers`` processes for the run.
    n_workers : int
        Worker processes of the local cluster.
    threads_per_worker : int
        Threads per worker (and numba threads inside each task).
    tiles : {"square", "kreis"}
        How the walkability model is split: fixed squares of ``tile_size_m``
        (EPSG:3035) or one tile per Kreis. Every tile takes the network, facilities
        and barriers within ``2 [walk] max_distance_m + max_snap_m`` (plus a margin) of
        its cells, so its distances are those of the whole area.
    tile_size_m : float
        Edge of the square tiles, metres.
    lage_chunk : int
        Origins (municipalities) per Lage task.
    """

    scheduler: str = D.SCHEDULER
    address: str | None = None
    n_workers: int = D.DASK_WORKERS
    threads_per_worker: int = 1
    tiles: str = D.TILES
    tile_size_m: float = D.TILE_SIZE_M
    lage_chunk: int = D.LAGE_CHUNK


#: Allowed values of the choice keys.
_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("central_places", "origins"): ("point", "population", "area"),
    ("central_places", "weighting"): ("area", "population"),
    ("lage", "decay"): ("none", "exponential", "gaussian", "power"),
    ("lage", "engine"): ("dijkstra", "ch"),
    ("lage", "units"): ("gvb", "municipality"),
    ("output", "map_format"): ("png", "pdf", "svg"),
    ("output", "lang"): ("de", "en"),
    ("output", "unit"): ("gvb", "gemeinde"),
    ("destinations", "fernbahnhof_rule"): D.FERNBAHNHOF_RULES,
    ("output", "isochrone_method"): ("network", "grid"),
    ("compute", "scheduler"): ("local", "dask"),
    ("compute", "tiles"): ("square", "kreis"),
    **PT_CHOICES,
}
#: Keys that must be > 0 (``>= 0`` for those in _NON_NEGATIVE).
_POSITIVE = {("graph", "max_snap_m"), ("graph", "access_speed_kmh"),
             ("central_places", "area_grid_m"), ("lage", "sigma_min"),
             ("lage", "limit_min"), ("lage", "target_mean"), ("walk", "limit_m")}
_NON_NEGATIVE = {("lage", "beta"), ("lage", "floor_min"), ("walk", "min_departures")}
#: Plausible ranges (inclusive): values outside are typos or wrong units, not settings.
_RANGES: dict[tuple[str, str], tuple[float, float, str]] = {
    ("graph", "max_snap_m"): (1.0, 100_000.0, "metres"),
    ("graph", "access_speed_kmh"): (1.0, D.MAX_ACCESS_SPEED_KMH, "km/h"),
    ("central_places", "standard_mz_min"): (1.0, 600.0, "minutes"),
    ("output", "matrix_limit_min"): (0.0, 600.0, "minutes"),
    ("output", "isochrone_max_buffer_m"): (1.0, 100_000.0, "metres"),
    ("central_places", "standard_oz_min"): (1.0, 600.0, "minutes"),
    ("central_places", "area_grid_m"): (10.0, 100_000.0, "metres"),
    ("lage", "beta"): (0.0, 10.0, "per minute (or power exponent)"),
    ("lage", "sigma_min"): (0.1, 1440.0, "minutes"),
    ("lage", "floor_min"): (0.0, 60.0, "minutes"),
    ("lage", "limit_min"): (1.0, 1440.0, "minutes"),
    ("lage", "target_mean"): (1.0, 1e9, "residents"),
    ("walk", "limit_m"): (10.0, 100_000.0, "metres"),
    ("walk", "max_distance_m"): (10.0, 100_000.0, "metres"),
    ("walk", "max_snap_m"): (1.0, 100_000.0, "metres"),
    ("walk", "min_departures"): (0, 100_000, "departures"),
    ("compute", "n_workers"): (1, 4096, "workers"),
    ("compute", "threads_per_worker"): (1, 1024, "threads"),
    ("compute", "tile_size_m"): (1_000.0, 1_000_000.0, "metres"),
    ("compute", "lage_chunk"): (1, 1_000_000, "municipalities"),
    **PT_RANGES,
}
_FORMATS = D.OUTPUT_FORMATS


@dataclass(frozen=True)
class Config:
    """A complete run configuration; every section has defaults.

    Build it with :func:`load_config`. ``source`` is the TOML file it came from
    (None for defaults); all relative paths are already resolved.
    """

    inputs: InputsConfig = field(default_factory=InputsConfig)
    graph: GraphConfig = field(default_factory=GraphConfig)
    region: RegionConfig = field(default_factory=RegionConfig)
    central_places: CentralPlacesConfig = field(default_factory=CentralPlacesConfig)
    lage: LageConfig = field(default_factory=LageConfig)
    walk: WalkConfig = field(default_factory=WalkConfig)
    destinations: DestinationsConfig = field(default_factory=DestinationsConfig)
    public_transport: PublicTransportConfig = field(default_factory=PublicTransportConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    compute: ComputeConfig = field(default_factory=ComputeConfig)
    source: Path | None = None

    def to_dict(self) -> dict[str, dict[str, object]]:
        """Return the sections as plain dicts (paths as str, tuples as lists)."""
        out: dict[str, dict[str, object]] = {}
        for name in _SECTIONS:
            sec = getattr(self, name)
            out[name] = {f.name: _plain(getattr(sec, f.name)) for f in dataclasses.fields(sec)}
        return out

    def to_toml(self) -> str:
        """Return the resolved configuration as TOML, for provenance.

        Unset optional keys are written as comments. ``load_config`` of the text
        gives back an equal ``Config`` (apart from ``source``).
        """
        lines = ["# Resolved accessibility configuration (all paths absolute).",
                 f"# source: {self.source if self.source else '(defaults)'}", ""]
        for name, values in self.to_dict().items():
            lines.append(f"[{name}]")
            for key, value in values.items():
                if value is None:
                    lines.append(f"# {key} = (not set)")
                else:
                    lines.append(f"{key} = {_toml_value(value)}")
            lines.append("")
        return "\n".join(lines)


_SECTIONS: dict[str, type] = {
    "inputs": InputsConfig,
    "graph": GraphConfig,
    "region": RegionConfig,
    "central_places": CentralPlacesConfig,
    "lage": LageConfig,
    "walk": WalkConfig,
    "destinations": DestinationsConfig,
    "public_transport": PublicTransportConfig,
    "output": OutputConfig,
    "compute": ComputeConfig,
}


def _plain(value: object) -> object:
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _toml_value(value: object) -> str:
    """Serialise a scalar or list to TOML (the subset this config uses)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes are valid TOML basic-string escapes
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _unknown_key(key: str, valid: list[str], where: str) -> InputError:
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return InputError(f"unknown key {key!r} in {where}.{hint} Valid keys: {', '.join(valid)}.")


def _type_name(hint: object) -> str:
    names = {bool: "true or false", float: "a number", int: "an integer", str: "a string",
             Path: "a path (string)"}
    if hint in names:
        return names[hint]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) is tuple:
        return f"a list of {'numbers' if args[0] is float else 'strings'}"
    return _type_name(args[0]) if args else str(hint)


def _resolve(value: str, base: Path) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p).resolve()


def _coerce(section: str, key: str, value: object, hint: object, base: Path,
            where: str) -> object:
    """Check ``value`` against the field type; return it converted."""
    def wrong() -> InputError:
        return InputError(f"{where}: [{section}] {key} must be {_type_name(hint)}, got "
                          f"{value!r} ({type(value).__name__}).")

    args = [a for a in typing.get_args(hint) if a is not type(None)]
    base_hint = args[0] if args and typing.get_origin(hint) is not tuple else hint
    if base_hint is bool:
        if not isinstance(value, bool):
            raise wrong()
        return value
    if base_hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong()
        return float(value)
    if base_hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise wrong()
        return value
    if base_hint is str:
        if key in ("gtfs_date", "date") and isinstance(value, _dt.date):
            return value.isoformat()
        if not isinstance(value, str):
            raise wrong()
        if (section, key) == ("graph", "profile") and (
                value.endswith(".toml") or "/" in value or "\\" in value):
            return _resolve(value, base).as_posix()
        return value
    if base_hint is Path:
        if not isinstance(value, (str, Path)) or str(value) == "":
            raise wrong()
        return _resolve(str(value), base)
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        if not isinstance(value, (list, tuple)):
            raise wrong()
        return tuple(_coerce(section, key, v, item, base, where) for v in value)
    raise TypeError(f"unsupported config type {hint!r}")  # pragma: no cover


def _validate_section(name: str, values: dict[str, object], where: str) -> None:
    for key, value in values.items():
        rng = _RANGES.get((name, key))
        if rng is not None and isinstance(value, (int, float)) and not (
                rng[0] <= value <= rng[1]):
            raise InputError(f"{where}: [{name}] {key} = {value!r} is outside the plausible "
                             f"range {rng[0]:g} to {rng[1]:g} {rng[2]}: check the value "
                             "and its unit.")
        choices = _CHOICES.get((name, key))
        if choices and value not in choices:
            raise InputError(f"{where}: [{name}] {key} = {value!r} is not allowed; use one "
                             f"of {', '.join(map(repr, choices))}.")
        if (name, key) in _POSITIVE and not value > 0:
            raise InputError(f"{where}: [{name}] {key} must be > 0, got {value!r}.")
        if (name, key) in _NON_NEGATIVE and not value >= 0:
            raise InputError(f"{where}: [{name}] {key} must be >= 0, got {value!r}.")
    if name == "output" and "isochrone_minutes" in values:
        bad = [v for v in values["isochrone_minutes"] if not 0 < v <= 600]
        if bad:
            raise InputError(f"{where}: [output] isochrone_minutes must be minutes in (0, 600], "
                             f"got {list(values['isochrone_minutes'])!r}.")
    if name == "lage" and "thresholds" in values:
        check_thresholds(values["thresholds"], where)
    if name == "graph" and "metric_crs" in values:
        _check_metric_crs(values["metric_crs"], where)
    if name == "graph" and "clip" in values:
        check_box(values["clip"], f"{where}: [graph] clip")
    if name == "region" and "bbox" in values:
        check_box(values["bbox"], f"{where}: [region] bbox")
    if name == "region" and "ags_prefixes" in values:
        bad = [p for p in values["ags_prefixes"] if not (p.isdigit() and 1 <= len(p) <= 8)]
        if bad:
            raise InputError(f"{where}: [region] ags_prefixes must be AGS prefixes of 1-8 "
                             f"digits (Land \"08\", Kreis \"08221\"), got {bad!r}.")
    if name == "output" and "models" in values:
        bad = [m for m in values["models"] if m not in D.MODELS]
        if bad or not values["models"]:
            raise InputError(f"{where}: [output] models must be some of "
                             f"{', '.join(D.MODELS)}, got {list(values['models'])!r}.")
    if name == "output" and "formats" in values:
        if not values["formats"]:
            raise InputError(f"{where}: [output] formats is empty: a run would write no "
                             f"results. Use any of {', '.join(_FORMATS)}.")
        bad = [f for f in values["formats"] if f not in _FORMATS]
        if bad:
            raise InputError(f"{where}: [output] formats has unknown entries {bad}; use "
                             f"any of {', '.join(_FORMATS)}.")
    if name == "public_transport":
        check_public_transport(values, where)
    if name == "walk" and "gtfs_date" in values:
        try:
            _dt.date.fromisoformat(str(values["gtfs_date"]))
        except ValueError:
            raise InputError(f"{where}: [walk] gtfs_date must be a date YYYY-MM-DD, got "
                             f"{values['gtfs_date']!r}.") from None


def _check_metric_crs(crs: str, where: str) -> None:
    """A projected CRS in metres, true to distances in Germany (snapping and distances
    are measured in it)."""
    check_metric_crs(crs, f"{where}: [graph] metric_crs")


def _split_overrides(overrides: dict[str, object]) -> dict[str, dict[str, object]]:
    """Accept ``{"lage": {"beta": 0.08}}`` and ``{"lage.beta": 0.08}``."""
    nested: dict[str, dict[str, object]] = {}
    for key, value in overrides.items():
        if "." in key:
            section, sub = key.split(".", 1)
            nested.setdefault(section, {})[sub] = value
        elif isinstance(value, dict):
            nested.setdefault(key, {}).update(value)
        else:
            raise _unknown_key(key, [f"{s}.<key>" for s in _SECTIONS], "overrides")
    return nested


def _apply(config: Config, data: dict[str, object], base: Path, where: str) -> Config:
    changes = {}
    for name, section in data.items():
        if name not in _SECTIONS:
            raise InputError(f"unknown section or top-level key {name!r} in {where}."
                             + (f" Did you mean [{m[0]}]?" if (m := difflib.get_close_matches(
                                 name, list(_SECTIONS), n=1)) else "")
                             + f" Valid sections: {', '.join(_SECTIONS)}.")
        if not isinstance(section, dict):
            raise InputError(f"{where}: {name!r} must be a table [{name}] with keys, got "
                             f"{section!r}.")
        cls = _SECTIONS[name]
        hints = typing.get_type_hints(cls)
        valid = [f.name for f in dataclasses.fields(cls)]
        values = {}
        for key, value in section.items():
            if key not in hints:
                raise _unknown_key(f"{name}.{key}", [f"{name}.{v}" for v in valid], where)
            values[key] = _coerce(name, key, value, hints[key], base, where)
        _validate_section(name, values, where)
        changes[name] = dataclasses.replace(getattr(config, name), **values)
    return dataclasses.replace(config, **changes)


def load_config(path: str | Path | None = None,
                overrides: dict[str, object] | None = None) -> Config:
    """Load a TOML run configuration.

    Parameters
    ----------
    path : str or Path, optional
        TOML file with the sections ``[inputs]``, ``[graph]``, ``[central_places]``,
        ``[lage]``, ``[walk]``, ``[output]`` (all optional; see
        ``accessibility/data/example_config.toml``). None gives the defaults.
        Relative paths in the file are resolved against its directory.
    overrides : dict, optional
        Values that replace those of the file, nested (``{"lage": {"beta": 0.08}}``)
        or dotted (``{"lage.beta": 0.08}``), e.g. from the command line. Relative
        paths in overrides are resolved against the current directory.

    Returns
    -------
    Config

    Raises
    ------
    InputError
        Missing or invalid TOML file, unknown sections or keys (named, with the valid
        ones), values of the wrong type or outside their allowed range.
    """
    config = Config()
    if path is not None:
        p = Path(path).expanduser()
        if not p.exists() and not p.is_symlink():
            raise InputError(f"config file not found: {p} (resolved: {p.resolve()}). Check "
                             "the path, or start from accessibility/data/example_config.toml.")
        problem = file_problem(p)
        if problem:
            raise InputError(f"config file: {problem}.")
        try:
            with open(p, "rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"config file {p} is not valid TOML: {exc}. Fix the syntax "
                             "(strings need quotes, tables are written [section]).") from None
        except UnicodeDecodeError:
            raise InputError(f"config file {p} is not UTF-8 text; save it as UTF-8.") from None
        if not data:  # saved empty, or cut off: a run of nothing but defaults is no run
            raise InputError(f"config file {p} is empty (no section, no setting). Start from "
                             "accessibility/data/example_config.toml.")
        base = p.resolve().parent
        config = _apply(config, data, base, str(p))
        if not config.output.dir.is_absolute():  # the default "out"
            config = dataclasses.replace(config, output=dataclasses.replace(
                config.output, dir=_resolve(str(config.output.dir), base)))
        config = dataclasses.replace(config, source=p.resolve())
    if overrides:
        config = _apply(config, _split_overrides(overrides), Path.cwd(), "overrides")
    _check_relations(config, str(path) if path is not None else "overrides")
    logger.debug("configuration: %s", config.to_dict())
    return config


def _check_relations(config: Config, where: str) -> None:
    """Settings that are each plausible but contradict each other."""
    check_public_transport(dataclasses.asdict(config.public_transport), where)
    w = config.walk
    if w.limit_m > w.max_distance_m:
        raise InputError(f"{where}: [walk] limit_m = {w.limit_m:g} m is beyond max_distance_m = "
                         f"{w.max_distance_m:g} m, the farthest a search looks: the shares "
                         "would silently count only up to max_distance_m. Raise max_distance_m "
                         "to at least limit_m.")
    c = config.central_places
    if c.standard_oz_min < c.standard_mz_min:
        logger.warning("%s: [central_places] standard_oz_min = %g min is below standard_mz_min "
                       "= %g min (the RIN 2008 standards are 30 and 60 minutes)", where,
                       c.standard_oz_min, c.standard_mz_min)
