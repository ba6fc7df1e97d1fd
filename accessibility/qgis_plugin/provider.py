"""The Processing provider "Erreichbarkeit zentraler Orte / Central-place accessibility"
and its setting: where the ``accessibility`` command is."""

from qgis.core import QgsProcessingProvider

from .algorithms import PlanAlgorithm, RunAlgorithm, ScenarioAlgorithm

#: The provider's setting (Processing > Options > Providers): the command or a venv.
COMMAND_SETTING = "ACCESSIBILITY_COMMAND"


def command_setting() -> str:
    """The command path set in the Processing options ("" when unset or unavailable)."""
    try:
        from processing.core.ProcessingConfig import ProcessingConfig
    except ImportError:  # Processing's Python part is not loaded
        return ""
    return ProcessingConfig.getSetting(COMMAND_SETTING) or ""


class AccessibilityProvider(QgsProcessingProvider):
    """Run, Scenario and Plan: each calls the ``accessibility`` command."""

    def id(self) -> str:
        return "accessibility"

    def name(self) -> str:
        return "Erreichbarkeit zentraler Orte / Central-place accessibility"

    def longName(self) -> str:
        return self.name()

    def load(self) -> bool:
        try:
            from processing.core.ProcessingConfig import ProcessingConfig, Setting
        except ImportError:
            pass
        else:
            ProcessingConfig.addSetting(Setting(
                self.name(), COMMAND_SETTING,
                "accessibility command (or the folder of its virtualenv; empty: "
                "$ACCESSIBILITY_COMMAND, else PATH)", "", valuetype=Setting.FILE))
            ProcessingConfig.readSettings()
        self.refreshAlgorithms()
        return True

    def unload(self) -> None:
        try:
            from processing.core.ProcessingConfig import ProcessingConfig
        except ImportError:
            return
        ProcessingConfig.removeSetting(COMMAND_SETTING)

    def loadAlgorithms(self) -> None:
        for alg in (RunAlgorithm(), ScenarioAlgorithm(), PlanAlgorithm()):
            self.addAlgorithm(alg)
