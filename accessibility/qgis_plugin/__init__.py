"""QGIS plugin: a Processing provider that runs the ``accessibility`` command.

This folder is a QGIS plugin, not a part of the engine: QGIS imports it into its own
Python (with ``qgis``), the engine's package never does, and the wheel leaves it out
(``pyproject.toml``). ``scripts/build_qgis_plugin.py`` zips it for QGIS's plugin
manager. Nothing here imports ``qgis`` at import time, so that tools that walk the
source tree can import the package without QGIS.
"""


def classFactory(iface):
    """The plugin object QGIS asks for when it loads the plugin."""
    from .plugin import AccessibilityPlugin

    return AccessibilityPlugin(iface)
