"""Build the installable zip of the QGIS plugin (the Processing provider).

The plugin lives in ``accessibility/qgis_plugin/`` (left out of the engine's wheel:
it runs in QGIS's own Python and calls the ``accessibility`` command as a child
process). QGIS's plugin manager installs a zip that holds one folder with
``metadata.txt`` and ``__init__.py``; this script writes it as
``accessibility_qgis-<version>.zip`` (the folder ``accessibility_qgis``, the version
of ``metadata.txt``).

Install in QGIS: Plugins > Manage and Install Plugins > Install from ZIP, then set
the command in Processing > Options > Providers > Central-place accessibility (or
the environment variable ``ACCESSIBILITY_COMMAND``).

Examples
--------
    python scripts/build_qgis_plugin.py                 # dist/accessibility_qgis-0.1.0.zip
    python scripts/build_qgis_plugin.py --out /tmp/     # elsewhere
"""

from __future__ import annotations

import argparse
import configparser
import logging
import sys
import zipfile
from pathlib import Path

logger = logging.getLogger("build_qgis_plugin")

SOURCE = Path(__file__).resolve().parents[1] / "accessibility" / "qgis_plugin"
#: The plugin's folder in the zip (and in QGIS's plugin folder).
FOLDER = "accessibility_qgis"


def plugin_version(source: Path = SOURCE) -> str:
    """The version in ``metadata.txt``."""
    meta = configparser.ConfigParser()
    meta.read(source / "metadata.txt", encoding="utf-8")
    return meta["general"]["version"]


def plugin_files(source: Path = SOURCE) -> list[Path]:
    """The files of the plugin: its Python modules and ``metadata.txt``."""
    return sorted(p for p in source.iterdir()
                  if p.is_file() and (p.suffix == ".py" or p.name == "metadata.txt"))


def build(out_dir: Path, source: Path = SOURCE) -> Path:
    """Write the zip into ``out_dir``; its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{FOLDER}-{plugin_version(source)}.zip"
    tmp = target.with_suffix(".zip.part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for p in plugin_files(source):
            z.write(p, f"{FOLDER}/{p.name}")
    tmp.replace(target)  # never a half-written zip under the final name
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("dist"),
                    help="folder of the zip (default: dist/)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path = build(args.out)
    logger.info("wrote %s (%d files)", path, len(plugin_files()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
