"""What a run's manifest says about the run: its inputs (file name, size, SHA-256),
the version, the date and the settings a reader of its results needs.

The hand-in document (:mod:`accessibility.handin`) is made later from the output
folder alone; this record is how it names the inputs without seeing them.
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

from .. import defaults
from ..config import Config
from .publish import sha256

#: Inputs up to this size get a SHA-256 in the manifest; larger ones (a national OSM
#: extract, 4 GB, would add ~10 s to every run) their size only.
HASH_MAX_BYTES = 1 << 30


def file_record(path: Path) -> dict:
    """Name, size and (up to :data:`HASH_MAX_BYTES`) SHA-256 of one input file; a
    folder (a GTFS feed unpacked) by its name only."""
    record: dict = {"file": path.name, "path": str(path)}
    if path.is_file():
        size = path.stat().st_size
        record["bytes"] = size
        if size <= HASH_MAX_BYTES:
            record["sha256"] = sha256(path)
    return record


def run_info(config: Config, command: str, **extra) -> dict:
    """The manifest's ``run`` record of ``command`` (``run``, ``scenario``) with
    ``config``; ``extra`` adds keys (a scenario's name and file)."""
    from .. import __version__

    inputs = {f.name: file_record(Path(v)) for f in dataclasses.fields(config.inputs)
              if isinstance(v := getattr(config.inputs, f.name), (str, Path))
              and f.name != "municipalities_layer"}
    return {"command": command, "version": __version__,
            "created_utc": datetime.datetime.now(datetime.UTC)
            .strftime("%Y-%m-%d %H:%M UTC"),
            "profile": config.graph.profile,
            "crs": {"graph": config.graph.metric_crs, "lon_lat": defaults.WGS84,
                    "grid": defaults.GRID_CRS},
            "unit": config.output.unit, "lang": config.output.lang,
            "models": list(config.output.models),
            "standard_min": {"mz": config.central_places.standard_mz_min,
                             "oz": config.central_places.standard_oz_min},
            "gtfs_date": config.walk.gtfs_date,
            "region": {"ags_prefixes": list(config.region.ags_prefixes),
                       "bbox": list(config.region.bbox)},
            "inputs": inputs, **extra}
