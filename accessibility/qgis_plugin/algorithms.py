"""The Processing algorithms Run, Scenario and Plan.

Each turns its parameters into the command line of ``accessibility run`` /
``scenario`` / ``plan`` (the flags of ``accessibility COMMAND --help``), runs it as a
child process (:mod:`.runner`) and loads what it wrote into the project. Layers given
as inputs go to the command as files: a file layer in a format the engine reads as
it is, any other (a selection, a memory or database layer, a delimited-text layer)
exported to a temporary GeoPackage with its CRS.
"""

import json
import os
from pathlib import Path

from qgis.core import (
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingUtils,
    QgsVectorLayer,
)

from .runner import CommandNotFound, find_command, run_command
from .styles import style_change_layer

#: The models of ``accessibility run --models``.
MODELS = ("central_places", "lage", "indicators", "walk")
#: Formats of a loaded layer's file that the engine reads as they are; other layers
#: (and layers of a GeoPackage, which may hold several) are exported to a GeoPackage.
ENGINE_FORMATS = ["csv", "shp", "geojson", "json", "fgb"]

#: The run's input files: parameter, flag, description, file filter.
FILE_INPUTS = (
    ("OSM", "--osm", "OpenStreetMap extract (empty: the embedded sample)",
     "OpenStreetMap (*.osm.pbf *.pbf *.osm *.osm.gz *.osm.bz2)"),
    ("CENTRAL_PLACES", "--central-places", "Central-place function per AGS (CSV)",
     "Tables (*.csv *.xlsx *.parquet)"),
    ("POPULATION_GRID", "--population-grid", "Census population grid (Zensus 2022)",
     "Grids (*.csv *.parquet *.gpkg *.zip)"),
    ("GTFS", "--gtfs", "GTFS feed", "GTFS (*.zip)"),
    ("STATIONS", "--stations", "Long-distance stations (DB station data)",
     "Tables (*.csv)"),
)
#: The run's inputs that may be loaded layers: parameter, flag, description, type.
LAYER_INPUTS = (
    ("MUNICIPALITIES", "--municipalities",
     "Municipalities (register with AGS and lon/lat, or polygons with AGS)",
     QgsProcessing.TypeVector),
    ("BOUNDARIES", "--boundaries", "Municipality boundaries (polygons with AGS, e.g. VG250)",
     QgsProcessing.TypeVectorPolygon),
)
#: Fields that hold the municipality key, first match wins (any case).
AGS_FIELDS = ("ags", "ags_0", "gemeindeschluessel", "gkz")


class _CommandAlgorithm(QgsProcessingAlgorithm):
    """What the three algorithms share: the run's inputs and calling the command."""

    command = ""
    title = ""
    help_text = ""

    def displayName(self) -> str:
        return self.title

    def shortHelpString(self) -> str:
        return self.help_text

    def createInstance(self):
        return type(self)()

    def name(self) -> str:
        return self.command

    def groupId(self) -> str:
        return ""

    def group(self) -> str:
        return ""

    def helpUrl(self) -> str:
        return "https://example.org/accessibility#in-qgis"

    def add_inputs(self) -> None:
        """The config and the input files and layers (all optional: without a config
        and an OSM extract the embedded sample runs)."""
        self.addParameter(QgsProcessingParameterFile(
            "CONFIG", "Run config (TOML; its inputs unless given below)",
            extension="toml", optional=True))
        for key, _flag, text, filt in FILE_INPUTS:
            self.addParameter(QgsProcessingParameterFile(key, text, fileFilter=filt,
                                                         optional=True))
        for key, _flag, text, kind in LAYER_INPUTS:
            self.addParameter(QgsProcessingParameterFeatureSource(key, text, [kind],
                                                                  optional=True))

    def input_args(self, parameters, context, feedback) -> list[str]:
        """The flags of the inputs that are given."""
        args = []
        config = self.parameterAsFile(parameters, "CONFIG", context)
        if config:
            args += ["--config", config]
        for key, flag, _text, _filt in FILE_INPUTS:
            path = self.parameterAsFile(parameters, key, context)
            if path:
                args += [flag, path]
        for key, flag, _text, _kind in LAYER_INPUTS:
            value = parameters.get(key)
            if value is None or value == "":
                continue
            if isinstance(value, str) and os.path.isfile(value):
                path = value  # a file: the engine reads it (and picks its layer) itself
            else:  # a loaded layer or a selection: a file in a format the engine reads
                path = self.parameterAsCompatibleSourceLayerPath(
                    parameters, key, context, ENGINE_FORMATS, "gpkg", feedback)
            if path:
                args += [flag, path]
        return args

    def run_engine(self, args: list[str], feedback) -> None:
        """Run the command; a failure or a cancel becomes a QgsProcessingException
        with the engine's message (the Processing log has every line)."""
        from .provider import command_setting

        try:
            command = find_command(command_setting())
        except CommandNotFound as e:
            raise QgsProcessingException(str(e)) from None
        outcome = run_command(command, args, feedback)
        if outcome.canceled:
            raise QgsProcessingException(
                f"canceled: the accessibility process {outcome.pid} was stopped")
        if outcome.returncode != 0:
            raise QgsProcessingException(
                f"accessibility {self.command} failed (exit code {outcome.returncode}): "
                f"{outcome.message()}")

    @staticmethod
    def output_folder(algorithm, parameters, context) -> str:
        """The output folder (a temporary one by default), created."""
        folder = algorithm.parameterAsFileOutput(parameters, "OUTPUT", context)
        Path(folder).mkdir(parents=True, exist_ok=True)
        return folder

    @staticmethod
    def load(context, uri: str, name: str, output: str) -> str | None:
        """Load ``uri`` into the project when the algorithm has finished (its default
        style, stored in the GeoPackage, comes with it); None if it is not there."""
        if not QgsVectorLayer(uri, name, "ogr").isValid():
            return None
        context.addLayerToLoadOnCompletion(
            uri, QgsProcessingContext.LayerDetails(name, context.project(), output))
        return uri


class RunAlgorithm(_CommandAlgorithm):
    """``accessibility run``: every model whose inputs are given."""

    command = "run"
    title = "Run (Erreichbarkeit zentraler Orte)"
    help_text = ("Runs every model whose inputs are given (car time to the nearest "
                 "Mittel- and Oberzentrum, Lage, further indicators, Nahversorgung) and "
                 "loads municipalities.gpkg (styled) and the GVB layer. Without a config and "
                 "an OSM extract the embedded Hannover-Braunschweig sample runs. The "
                 "engine is the accessibility command (Processing options: Providers).")

    def initAlgorithm(self, config=None):
        self.add_inputs()
        self.addParameter(QgsProcessingParameterEnum(
            "MODELS", "Models (empty: all whose inputs are given)", options=list(MODELS),
            allowMultiple=True, optional=True))
        self.addParameter(QgsProcessingParameterBoolean("MAPS", "Write PNG maps",
                                                        defaultValue=True))
        self.addParameter(QgsProcessingParameterFolderDestination(
            "OUTPUT", "Output folder", defaultValue=QgsProcessing.TEMPORARY_OUTPUT))
        self.addOutput(QgsProcessingOutputVectorLayer("MUNICIPALITIES_LAYER", "Municipalities"))
        self.addOutput(QgsProcessingOutputVectorLayer("GVB_LAYER", "Gemeindeverbände"))

    def processAlgorithm(self, parameters, context, feedback):
        out = self.output_folder(self, parameters, context)
        args = ["run", "-o", out, *self.input_args(parameters, context, feedback)]
        # (an unset enum reads as its first option: look at the value itself)
        models = (self.parameterAsEnums(parameters, "MODELS", context)
                  if parameters.get("MODELS") not in (None, [], "") else [])
        if models:
            args += ["--models", ",".join(MODELS[i] for i in models)]
        if not self.parameterAsBoolean(parameters, "MAPS", context):
            args.append("--no-maps")
        self.run_engine(args, feedback)
        gpkg = os.path.join(out, "municipalities.gpkg")
        munis = self.load(context, f"{gpkg}|layername=municipalities", "Municipalities",
                          "MUNICIPALITIES_LAYER")
        # the GVB polygons when boundaries were given, else the GVB table
        gvb = (self.load(context, f"{gpkg}|layername=gvb", "Gemeindeverbände", "GVB_LAYER")
               or self.load(context, os.path.join(out, "gvb.csv"), "Gemeindeverbände (table)",
                            "GVB_LAYER"))
        return {"OUTPUT": out, "MUNICIPALITIES_LAYER": munis, "GVB_LAYER": gvb}


class ScenarioAlgorithm(_CommandAlgorithm):
    """``accessibility scenario``: a scenario file, or municipalities upgraded to MZ."""

    command = "scenario"
    title = "Scenario (what if)"
    help_text = ("Computes the base and a scenario and the difference per municipality. "
                 "The scenario is a scenario file (TOML: changes of central-place "
                 "functions, populations, road speeds, closed areas, new links), or the "
                 "municipalities of a layer (e.g. its selected features) upgraded to "
                 "Mittelzentrum. Loads the change layer with a diverging style (blue: "
                 "faster, red: slower).")

    def initAlgorithm(self, config=None):
        self.add_inputs()
        self.addParameter(QgsProcessingParameterFile(
            "SCENARIO", "Scenario file (TOML)", extension="toml", optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            "UPGRADE", "... or municipalities to upgrade to Mittelzentrum (selected features)",
            [QgsProcessing.TypeVector], optional=True))
        self.addParameter(QgsProcessingParameterField(
            "UPGRADE_FIELD", "Their AGS field (empty: ags / AGS)", parentLayerParameterName="UPGRADE",
            optional=True))
        self.addParameter(QgsProcessingParameterString("NAME", "Scenario name", optional=True))
        self.addParameter(QgsProcessingParameterFolderDestination(
            "OUTPUT", "Output folder", defaultValue=QgsProcessing.TEMPORARY_OUTPUT))
        self.addOutput(QgsProcessingOutputVectorLayer("CHANGE_LAYER", "Change per municipality"))

    def processAlgorithm(self, parameters, context, feedback):
        scenario = self.parameterAsFile(parameters, "SCENARIO", context)
        upgrade = (self.parameterAsSource(parameters, "UPGRADE", context)
                   if parameters.get("UPGRADE") is not None else None)
        if bool(scenario) == (upgrade is not None):
            raise QgsProcessingException(
                "give a scenario file or municipalities to upgrade to Mittelzentrum (a "
                "layer, e.g. its selected features), one of the two")
        name = self.parameterAsString(parameters, "NAME", context)
        if upgrade is not None:
            field = self.parameterAsString(parameters, "UPGRADE_FIELD", context)
            scenario = write_upgrade_scenario(upgrade, field, name)
            feedback.pushInfo(f"scenario file {scenario}:\n{Path(scenario).read_text()}")
        out = self.output_folder(self, parameters, context)
        self.run_engine(["scenario", *self.input_args(parameters, context, feedback),
                         scenario, "-o", out], feedback)
        gpkg = os.path.join(out, "scenario_municipalities.gpkg")
        field = style_change_layer(gpkg) if os.path.exists(gpkg) else ""
        what = {"t_mz_min_change": "car time to the nearest Mittelzentrum"}.get(field, field)
        layer = self.load(context, gpkg, f"Scenario {name or Path(scenario).stem}: change of "
                          f"{what}", "CHANGE_LAYER")
        return {"OUTPUT": out, "CHANGE_LAYER": layer}


def ags_key(value) -> str:
    """A municipality key as the engine spells it: 8 digits (a leading zero lost to a
    number column restored)."""
    text = str(value).strip()
    text = text[:-2] if text.endswith(".0") else text
    return text.zfill(8) if text.isdigit() else text


def write_upgrade_scenario(source, field: str, name: str) -> str:
    """A scenario file that upgrades every municipality of ``source`` to Mittelzentrum."""
    names = source.fields().names()
    if not field:
        lower = {n.lower(): n for n in names}
        field = next((lower[f] for f in AGS_FIELDS if f in lower), "")
    if field not in names:
        raise QgsProcessingException(
            f"the layer of municipalities to upgrade has no AGS field (fields: "
            f"{', '.join(names)}): choose the field with the municipality key")
    keys = sorted({ags_key(f[field]) for f in source.getFeatures()
                   if f[field] not in (None, "") and str(f[field]) != "NULL"})
    if not keys:
        raise QgsProcessingException(
            "no municipalities to upgrade: select them in the layer (and tick 'Selected "
            "features only'), or give a layer with at least one")
    name = name or f"Upgrade to Mittelzentrum: {', '.join(keys[:3])}" + (
        f" and {len(keys) - 3} more" if len(keys) > 3 else "")
    lines = [f"name = {json.dumps(name)}", "", "[central_places]"]
    lines += [f'{json.dumps(k)} = "Mittelzentrum"' for k in keys]
    path = os.path.join(QgsProcessingUtils.tempFolder(), f"upgrade-{'-'.join(keys[:3])}.toml")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class PlanAlgorithm(_CommandAlgorithm):
    """``accessibility plan``: where to designate Mittelzentren."""

    command = "plan"
    title = "Plan (where to designate Mittelzentren)"
    help_text = ("The k candidates (default: Grundzentren) whose upgrade to Mittelzentrum "
                 "brings the most residents within the accessibility standard, or the "
                 "fewest upgrades that bring everyone within it (set cover); solved "
                 "exactly. Loads the chosen municipalities.")

    def initAlgorithm(self, config=None):
        self.add_inputs()
        self.addParameter(QgsProcessingParameterString(
            "K", "Number of upgrades k (several: 1,2,3)", defaultValue="1"))
        self.addParameter(QgsProcessingParameterBoolean(
            "SET_COVER", "Fewest upgrades that bring everyone within the standard (set "
            "cover, instead of k)", defaultValue=False))
        self.addParameter(QgsProcessingParameterNumber(
            "STANDARD", "Standard in minutes (empty: the config's, 30)",
            QgsProcessingParameterNumber.Double, optional=True, minValue=1))
        self.addParameter(QgsProcessingParameterString(
            "CANDIDATES", "Candidates: functions or AGS, comma-separated (empty: "
            "Grundzentren)", optional=True))
        self.addParameter(QgsProcessingParameterString(
            "CANDIDATES_IN", "Only candidates whose AGS starts with (e.g. 03 or 03151)",
            optional=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT", "Chosen municipalities", fileFilter="GeoPackage (*.gpkg)",
            defaultValue=QgsProcessing.TEMPORARY_OUTPUT))
        self.addOutput(QgsProcessingOutputVectorLayer("PLAN_LAYER", "Upgrades"))

    def processAlgorithm(self, parameters, context, feedback):
        out = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        args = ["plan", "--out", out, "--force", *self.input_args(parameters, context,
                                                                   feedback)]
        if self.parameterAsBoolean(parameters, "SET_COVER", context):
            args.append("--set-cover")
        else:
            args += ["--k", self.parameterAsString(parameters, "K", context)]
        if parameters.get("STANDARD") is not None:
            args += ["--standard", f"{self.parameterAsDouble(parameters, 'STANDARD', context):g}"]
        for key, flag in (("CANDIDATES", "--candidates"), ("CANDIDATES_IN", "--candidates-in")):
            value = self.parameterAsString(parameters, key, context)
            if value:
                args += [flag, value]
        self.run_engine(args, feedback)
        layer = self.load(context, out, "Plan: upgrades to Mittelzentrum", "PLAN_LAYER")
        return {"OUTPUT": out, "PLAN_LAYER": layer}
