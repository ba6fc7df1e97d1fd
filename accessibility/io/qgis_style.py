"""QGIS styles stored in a GeoPackage (table ``layer_styles``), so that a layer opens
classified in QGIS without styling by hand."""

from __future__ import annotations

import datetime as _dt
import sqlite3
from pathlib import Path
from xml.sax.saxutils import quoteattr

__all__ = ["add_layer_styles", "categorized_qml"]

#: The columns of QGIS's layer_styles table (as QGIS creates it).
_SCHEMA = """CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256),
    f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256),
    styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN,
    description TEXT, owner TEXT(30), ui TEXT, update_time DATETIME DEFAULT
    (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""


def _rgba(hex_color: str) -> str:
    h = hex_color.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},255"


def _symbol(i: int, color: str, geometry: str) -> str:
    if geometry == "point":
        return (f'<symbol type="marker" name="{i}" alpha="1" clip_to_extent="1" force_rhr="0">'
                '<layer class="SimpleMarker" pass="0" enabled="1" locked="0"><Option type="Map">'
                f'<Option name="color" type="QString" value="{_rgba(color)}"/>'
                '<Option name="name" type="QString" value="circle"/>'
                '<Option name="outline_color" type="QString" value="77,77,77,255"/>'
                '<Option name="outline_width" type="QString" value="0.2"/>'
                '<Option name="size" type="QString" value="2.6"/>'
                '</Option></layer></symbol>')
    return (f'<symbol type="fill" name="{i}" alpha="1" clip_to_extent="1" force_rhr="0">'
            '<layer class="SimpleFill" pass="0" enabled="1" locked="0"><Option type="Map">'
            f'<Option name="color" type="QString" value="{_rgba(color)}"/>'
            '<Option name="outline_color" type="QString" value="255,255,255,255"/>'
            '<Option name="outline_width" type="QString" value="0.1"/>'
            '<Option name="style" type="QString" value="solid"/>'
            '</Option></layer></symbol>')


def categorized_qml(column: str, categories: list[tuple[str, str, str]], *,
                    geometry: str = "polygon", no_value_color: str = "#d9d9d9") -> str:
    """A QGIS style (QML) that colours ``column`` by category.

    Parameters
    ----------
    column : str
        The attribute to classify.
    categories : list of (value, label, colour "#rrggbb")
        In legend order.
    geometry : {"polygon", "point"}
    no_value_color : str
        Colour of features whose value is none of the categories ("no value").
    """
    cats = [(v, label, c) for v, label, c in categories] + [("", "no value", no_value_color)]
    cat_xml = "".join(f'<category value={quoteattr(str(v))} symbol="{i}" '
                      f'label={quoteattr(str(label))} render="true"/>'
                      for i, (v, label, _) in enumerate(cats))
    sym_xml = "".join(_symbol(i, c, geometry) for i, (_, _, c) in enumerate(cats))
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
            '<qgis version="3.28.0" styleCategories="Symbology">'
            f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(column)} '
            'forceraster="0" symbollevels="0" enableorderby="0" referencescale="-1">'
            f"<categories>{cat_xml}</categories><symbols>{sym_xml}</symbols>"
            "</renderer-v2></qgis>")


def add_layer_styles(gpkg: str | Path, styles: list[tuple[str, str, str, bool]]) -> None:
    """Store styles in the GeoPackage ``gpkg``: ``(layer, style name, qml, default)``.

    The ``layer_styles`` table is registered in ``gpkg_contents`` as attributes, as
    QGIS does when it saves a style into a GeoPackage; each style names its layer's
    geometry column as the file has it (QGIS matches on it).
    """
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with sqlite3.connect(gpkg) as con:
        con.execute(_SCHEMA)
        con.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
                    "last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', ?)",
                    (now,))
        geom = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        for layer, name, qml, default in styles:
            geometry_column = geom.get(layer, "geom")
            con.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, "
                        "f_table_name, f_geometry_column, styleName, styleQML, styleSLD, "
                        "useAsDefault, description, owner, ui) VALUES ('', '', ?, ?, ?, ?, "
                        "'', ?, ?, '', '')",
                        (layer, geometry_column, name, qml, 1 if default else 0,
                         f"{name} (written by accessibility)"))
