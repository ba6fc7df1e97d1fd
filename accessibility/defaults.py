"""Every default value of the engine, in one place.

The config dataclasses (:mod:`accessibility.config`), the public API
(:mod:`accessibility.api`), the models and the CLI import their defaults from here;
``accessibility/data/example_config.toml`` documents them and a test checks that
the two agree. Values marked BBSR come from the method (docs/METHOD.md); the
others are engineering choices, explained next to them.
"""

from __future__ import annotations

# ------------------------------------------------------------------ coordinates
#: Geographic CRS of every lon/lat input and output (WGS84).
WGS84 = "EPSG:4326"
#: Metric CRS of graph nodes, snapping and maps: ETRS89 / UTM zone 32N (covers
#: Germany with at most 0.22 % scale error; BKG and most Länder publish in it).
METRIC_CRS = "EPSG:25832"
#: Equal-area CRS of the Census grid, areas and walking distances (ETRS89-LAEA).
GRID_CRS = "EPSG:3035"
#: Largest scale error a metric CRS may have anywhere in Germany (a fraction: 0.01 is
#: 1 %): UTM 32N/33N (0.2 / 0.6 %), ETRS89-LAEA (0.1 %) and the Gauss-Krueger zones
#: (<= 0.6 %) pass; Web Mercator (75 % at 55 N) and geographic CRSs do not.
MAX_CRS_SCALE_ERROR = 0.01

# ------------------------------------------------------------------ the car graph
#: Speed profile of the car graph: OSRM's class speeds with posted limits at face value
#: and the unlimited Autobahn at the Richtgeschwindigkeit of 130 km/h, with its access
#: speed fitted to the INKAR GVB times (docs/METHOD.md, "Car speeds calibrated").
PROFILE = "de-car"
#: Points farther than this from every graph node are left off the network (m):
#: outside a regional extract, or in the sea, never snapped across the map.
MAX_SNAP_M = 2000.0
#: Speed of the leg between a point and its nearest node (km/h) when neither the config
#: nor the profile sets one: a slow local road.
ACCESS_SPEED_KMH = 15.0
#: Highest plausible access speed (km/h) of a config or a profile: above it, a typo.
MAX_ACCESS_SPEED_KMH = 130.0
#: Fastest speed a profile may state for a road class or a maxspeed zone, km/h: the
#: unlimited Autobahn's Richtgeschwindigkeit is 130 km/h and no mean free-flow speed of a
#: class comes near 200; above it a profile is in the wrong unit.
MAX_PROFILE_SPEED_KMH = 200.0
#: Plausible inputs per municipality (inclusive upper bounds): Berlin, the largest
#: municipality, has 3.9 million residents; the largest commuter flows (Frankfurt,
#: München) are below 0.5 million. Above these a table is in the wrong unit.
MAX_MUNICIPALITY_POPULATION = 5_000_000
MAX_COMMUTERS = 1_000_000
#: Lowest plausible median population of ten or more municipalities: the German median
#: is about 1,700 and the smallest municipalities (Halligen, Eifel) have a few dozen
#: residents; below it the column is in thousands (or all 1).
MIN_MEDIAN_POPULATION = 50

# ------------------------------------------------------------------ region
#: Cut the municipality register to these AGS prefixes (Land "08", Kreis "08221", ...);
#: empty: every municipality inside the road extract.
REGION_AGS_PREFIXES: tuple[str, ...] = ()
#: Cut the register to a lon/lat box (lon_min, lat_min, lon_max, lat_max); empty: none.
REGION_BBOX: tuple[float, ...] = ()
#: The box the OSM extract was cut with ([lon_min, lat_min, lon_max, lat_max]): the graph
#: is cropped to it on reading, so its cut is known and the edge flags are exact (an
#: extract with complete ways and no header box shows no cut otherwise). Empty: none.
GRAPH_CLIP: tuple[float, ...] = ()

# ------------------------------------------------------------------ central places
#: Origins of the MZ/OZ search: one reference point per municipality (INKAR).
ORIGINS = "point"
#: Population-grid cells without a polygon go to the nearest reference point within
#: this distance (m); farther cells belong to no municipality.
CELL_ASSIGN_M = 15_000.0
#: Cell size assumed for a population grid that does not say (m): the Census 1 km grid.
GRID_CELL_M = 1000.0
#: A "Grundzentrum mit mittelzentraler Teilfunktion" is not a destination of
#: "nearest MZ" (INKAR counts Mittel- and Oberzentren); set True to count it.
GZ_WITH_MZ_IS_MZ = False
#: Accessibility standards (Erreichbarkeitsstandards) by car, minutes: a Mittelzentrum
#: within 30 and an Oberzentrum within 60 minutes, as in the FGSV Richtlinien für
#: integrierte Netzgestaltung (RIN 2008, Pkw) and the MKRO's central-place resolution
#: (Entschließung "Zentrale Orte", 2016).
STANDARD_MZ_MIN = 30.0
STANDARD_OZ_MIN = 60.0
#: Spacing of the regular grid of area origins (m).
AREA_GRID_M = 500.0
#: Weighting of the GVB/Kreis/Land means: area (INKAR) or population (Deutschlandatlas).
WEIGHTING = "area"

# ------------------------------------------------------------------ Lage
#: Distance decay of the 2-hour potential (docs/METHOD.md section 2).
DECAY = "exponential"
#: Exponential rate per minute (exponent of the power decay): gives the BBSR mean of
#: 183,000 on a national major-road network (weight halves every ~9 minutes).
BETA = 0.076
#: Width of the Gaussian decay (minutes).
SIGMA_MIN = 12.0
#: Times below this count as this value in the power decay (minutes).
FLOOR_MIN = 1.0
#: Only destinations within this car time count (BBSR: 120 minutes).
LIMIT_MIN = 120.0
#: Lower bounds of peripher, zentral, sehr zentral (BBSR).
LAGE_THRESHOLDS = (81_000.0, 183_000.0, 410_000.0)
#: Mean potential over all municipalities that the decay calibration aims for (BBSR).
TARGET_MEAN = 183_000.0
#: Origins and destinations of the potential: the Gemeindeverbände at their settlement
#: centres (BBSR, "für alle Gemeindeverbände"), or "municipality".
LAGE_UNITS = "gvb"
#: A run covers Germany when its region holds at least this share of the register's
#: populated municipalities, in all 16 Länder (the Lage then calibrates by default).
NATIONAL_SHARE = 0.99
#: Routing engine of the potential: one bounded Dijkstra per origin.
ENGINE = "dijkstra"
#: Nodes closer than this to the outline of the network are its edge (m), when the
#: graph does not know where the extract cut it.
EDGE_BUFFER_M = 2000.0
#: No road or ferry of a larger extract is taken to be faster than this (km/h; the
#: graph's fastest edge if faster): the edge test's straight-line bound beyond a cut.
EDGE_TOP_SPEED_KMH = 200.0

# ------------------------------------------------------------------ speed calibration
#: Lowest and highest per-class speed factor of the calibration.
CALIBRATION_BOUNDS = (0.5, 2.0)
#: Largest number of route-and-refit rounds of the calibration.
CALIBRATION_ITERATIONS = 10
#: Lowest and highest access-leg speed (km/h) the calibration may choose.
ACCESS_BOUNDS_KMH = (5.0, 120.0)

# ------------------------------------------------------------------ Nahversorgung
#: Walking distance of the indicator (BBSR: 1,000 m).
WALK_LIMIT_M = 1000.0
#: Search radius of the mean distance to the nearest facility (m).
WALK_MAX_DISTANCE_M = 5000.0
#: Cells and facilities farther than this from the walk network get no network
#: distance (m).
WALK_MAX_SNAP_M = 500.0
#: Weekday on which GTFS departures are counted (a Tuesday outside school holidays
#: in the shared VRN feed).
GTFS_DATE = "2022-10-18"
#: A stop counts with at least this many departures on that day (BBSR).
MIN_DEPARTURES = 20
#: Largest walk_coverage (residents counted in the cells / register population) taken
#: as a value: the Census grid (2022) and a register of another year differ by a few
#: per cent; more means the cells were assigned to the wrong municipality.
WALK_MAX_COVERAGE = 1.1
#: Distance methods: straight line with water barriers (official) and along the
#: walking network (BBSR 2025).
WALK_METHODS = ("straight", "network")

# ------------------------------------------------------------------ public transport
#: Walking speed of the public-transport legs on foot (access, egress, footpaths
#: between stops), km/h: 1.33 m/s, OpenTripPlanner's default walk speed.
PT_WALK_SPEED_KMH = 4.8
#: Straight line x this factor = the walked distance (a walking network is about 20-40 %
#: longer than the straight line in German towns; 1.3 the middle of it).
PT_WALK_DETOUR = 1.3
#: Stops within this straight-line distance of each other are joined by a footpath (m):
#: a change of platform or to a nearby stop, about 6 minutes at the speed above.
PT_FOOTPATH_MAX_M = 400.0
#: A reference point walks to the stops within this straight-line distance (m).
PT_ACCESS_MAX_M = 1000.0
#: Departure window of the travel-time statistics: a weekday (GTFS_DATE) from 06:00 to
#: 09:00, one departure every minute (seconds after midnight; the end is excluded).
PT_WINDOW_S = (6 * 3600, 9 * 3600)
PT_STEP_S = 60
#: High percentile of the door-to-door times over the window, beside the median (r5py
#: reports percentiles of the minutes of a window the same way).
PT_PERCENTILE = 80
#: No vehicle crosses Germany faster in a straight line (km/h; the ICE's top speed):
#: a public-transport time longer than the straight line from the origin to the
#: edge of the feed's coverage at this speed is flagged (``t_pt_*_edge_flag``).
PT_EDGE_SPEED_KMH = 300.0
#: Accessibility standards by public transport (minutes to the nearest MZ / OZ). The
#: RIN 2008 (FGSV, Richtlinien für integrierte Netzgestaltung) sets the public-transport
#: travel times to central places beside the car ones (OZ 60-90 min); the BVWP 2030's
#: deficit analysis uses the same RIN limits. 45 / 90 minutes: the upper RIN values,
#: as issue 25 asks for.
PT_STANDARD_MZ_MIN = 45.0
PT_STANDARD_OZ_MIN = 90.0

# ------------------------------------------------------------------ output
#: The models a run computes: car times to central places, the Lage (with settlement
#: types) and the Nahversorgung, times by public transport (when its inputs are given).
MODELS = ("central_places", "lage", "indicators", "walk", "public_transport")
#: File format of the static maps: png (screens, reports), pdf or svg (print, vector).
MAP_FORMAT = "png"
#: Language of the maps' titles and legends: "de" (the reports they go into are German)
#: or "en".
MAP_LANG = "de"
#: Formats of the per-municipality results.
OUTPUT_FORMATS = ("gpkg", "csv", "parquet")
#: Reporting unit of the tables, maps and the summary: "gvb" (Gemeindeverband, as the
#: BBSR report: members carry their GVB's Lage) or "gemeinde".
UNIT = "gvb"
#: Car-time matrix between the municipalities of a run: pairs within this many minutes
#: (0: no matrix; matrix.parquet otherwise).
MATRIX_LIMIT_MIN = 0.0
#: Isochrones around the Mittel- and Oberzentren of a run: these minutes (empty: none;
#: layer "isochrones" of isochrones.gpkg otherwise), e.g. (15, 30, 60).
ISOCHRONE_MINUTES: tuple[float, ...] = ()
#: Off-network reach of an isochrone: the remaining time at the access speed, at most
#: this many metres around every reached road (a corridor, not a filled area, beyond it).
ISOCHRONE_MAX_BUFFER_M = 500.0
#: Construction of the isochrones: "grid" (the buffered network's rule on a 250 m grid,
#: a national run's ~1,100 centres in about two minutes) or "network" (exact, slow).
ISOCHRONE_METHOD = "grid"
#: Output directory of a run without a config.
OUTPUT_DIR = "out"
#: Environment variable that moves the graph cache (below ``[graph] cache_dir`` and
#: ``--cache-dir``; default the user's cache directory, see ``GraphConfig.cache_path``).
CACHE_DIR_ENV = "ACCESSIBILITY_CACHE_DIR"


# ------------------------------------------------------------------ further indicators
#: Which stations of the DB station table are Fernbahnhöfe (``t_ldrail_min``, BBSR: the
#: car time to the nearest IC/EC/ICE station): "ic_ec_ice" every station flagged for
#: ICE or IC/EC stops, as BBSR counts them; "price_class" only those of DB price class
#: 1-3 besides (the engine's earlier rule, which drops 131 small IC stops).
FERNBAHNHOF_RULE = "ic_ec_ice"
#: The rules :data:`FERNBAHNHOF_RULE` may name ([destinations] fernbahnhof_rule).
FERNBAHNHOF_RULES = ("ic_ec_ice", "price_class")

# --------------------------------------------------------------------- compute ([compute])
#: Where the independent work runs: "local" (this process) or "dask".
SCHEDULER = "local"
#: Worker processes of the local Dask cluster the engine starts.
DASK_WORKERS = 2
#: Walkability tiles: "square" (fixed squares) or "kreis".
TILES = "square"
#: Edge of a square walkability tile, metres (EPSG:3035).
TILE_SIZE_M = 50_000.0
#: Municipalities per Lage task.
LAGE_CHUNK = 500
