"""Screenshot of QGIS's Processing toolbox with the plugin's provider (README, "In QGIS").

Runs in QGIS's Python (Debian: /usr/bin/python3 with python3-qgis), not in the
engine's, under a virtual display, with the plugin's folder on the path::

    PYTHONPATH=<folder holding accessibility_qgis>:/usr/share/qgis/python/plugins \\
        xvfb-run -a /usr/bin/python3 scripts/qgis_toolbox_screenshot.py docs/img/qgis_toolbox.png

It opens the toolbox tree (``QgsProcessingToolboxTreeView``, the widget of the
Processing toolbox dock), expands the provider, selects Run and saves the widget as a
PNG. ``tests/test_qgis_plugin.py`` runs it when QGIS and xvfb-run are installed.
"""

import os
import sys

from qgis.core import QgsApplication
from qgis.gui import QgsProcessingToolboxTreeView
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtWidgets import QAbstractItemView

PROVIDER = "Central-place accessibility"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    app = QgsApplication([], True)
    app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()
    from accessibility_qgis.provider import AccessibilityProvider

    provider = AccessibilityProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    view = QgsProcessingToolboxTreeView(None, QgsApplication.processingRegistry())
    view.setHeaderHidden(True)
    view.resize(QSize(440, 250))
    view.show()
    model = view.model()
    groups = [model.index(r, 0) for r in range(model.rowCount())]
    ours = next(i for i in groups if PROVIDER in str(model.data(i)))
    view.expand(ours)
    view.setCurrentIndex(model.index(1, 0, ours))  # Run
    view.scrollTo(model.index(model.rowCount(ours) - 1, 0, ours),
                  QAbstractItemView.PositionAtBottom)
    app.processEvents()
    ok = view.grab().save(argv[0])
    # PyQGIS may crash while tearing the application down with widgets alive: the
    # picture is saved, leave without the teardown
    sys.stdout.flush()
    os._exit(0 if ok else 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
