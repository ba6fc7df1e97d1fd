"""The diverging style of a scenario's change layer, stored in its GeoPackage."""

from qgis.core import QgsGraduatedSymbolRenderer, QgsRendererRange, QgsSymbol, QgsVectorLayer
from qgis.PyQt.QtGui import QColor

#: ColorBrewer RdBu, 9 classes: blue where the scenario shortens the time (a gain),
#: red where it lengthens it, near-white for no change.
COLOURS = ("#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7", "#fddbc7", "#f4a582",
           "#d6604d", "#b2182b")
#: Inner class bounds in minutes, symmetric around 0 (the outer ones follow the data).
EDGES = (-10.0, -5.0, -2.0, -0.5, 0.5, 2.0, 5.0, 10.0)
STYLE_NAME = "Change (diverging)"


def _label(lo: float, hi: float, first: bool, last: bool) -> str:
    if first:
        return f"{hi:+g} min or less (faster)"
    if last:
        return f"{lo:+g} min or more (slower)"
    if lo < 0 < hi:
        return f"no change ({lo:+g} to {hi:+g} min)"
    return f"{lo:+g} to {hi:+g} min"


def diverging_renderer(layer: QgsVectorLayer, field: str) -> QgsGraduatedSymbolRenderer:
    """Graduated classes of ``field`` (minutes of change), symmetric around 0."""
    values = [f[field] for f in layer.getFeatures()]
    values = [float(v) for v in values if isinstance(v, (int, float))]
    reach = max([abs(v) for v in values] + [EDGES[-1]]) + 1.0
    edges = (-reach, *EDGES, reach)
    ranges = []
    for i, colour in enumerate(COLOURS):
        symbol = QgsSymbol.defaultSymbol(layer.geometryType())
        symbol.setColor(QColor(colour))
        lo, hi = edges[i], edges[i + 1]
        ranges.append(QgsRendererRange(lo, hi, symbol,
                                       _label(lo, hi, i == 0, i == len(COLOURS) - 1)))
    return QgsGraduatedSymbolRenderer(field, ranges)


def style_change_layer(path: str, field: str = "t_mz_min_change") -> str:
    """Give the layer of ``path`` (a GeoPackage) the diverging style of ``field`` as
    its default style; returns the field styled ("" when the layer lacks a change
    column)."""
    layer = QgsVectorLayer(path, "change", "ogr")
    names = layer.fields().names()
    if field not in names:
        field = next((n for n in names if n.endswith("_change")), "")
    if not field:
        return ""
    layer.setRenderer(diverging_renderer(layer, field))
    layer.saveStyleToDatabase(STYLE_NAME, f"{field}: scenario minus base, minutes", True, "")
    return field
