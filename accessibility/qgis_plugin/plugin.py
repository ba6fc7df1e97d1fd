"""The plugin object: registers the Processing provider (also in ``qgis_process``,
which calls :meth:`AccessibilityPlugin.initProcessing` for plugins with
``hasProcessingProvider=yes``)."""

from qgis.core import QgsApplication

from .provider import AccessibilityProvider


class AccessibilityPlugin:
    """Adds the provider to the Processing registry and removes it on unload."""

    def __init__(self, iface=None) -> None:
        self.iface = iface
        self.provider = None

    def initProcessing(self) -> None:
        """Register the provider (called by QGIS and by qgis_process)."""
        if self.provider is None:
            self.provider = AccessibilityProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:
        """The provider is the plugin's only user interface (the Processing toolbox)."""
        self.initProcessing()

    def unload(self) -> None:
        """Remove the provider."""
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
