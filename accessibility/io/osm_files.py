"""OSM input files: the path check and the header bounding box, shared by graph and io."""

from __future__ import annotations

from pathlib import Path

from .._errors import InputError

__all__ = ["OSM_SUFFIXES", "check_osm_path", "header_bbox"]

#: File name endings read as OpenStreetMap data (PBF, XML, compressed XML, o5m).
OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.gz", ".osm.bz2", ".xml", ".o5m")


def check_osm_path(path: str | Path) -> Path:
    """Return ``path`` as a Path after checking that it names an OSM file.

    Parameters
    ----------
    path : str or Path
        The OSM file given by the user.

    Returns
    -------
    Path
        ``path`` unchanged, as a Path.

    Raises
    ------
    InputError
        The file does not exist, is a directory, or its name does not end in one of
        :data:`OSM_SUFFIXES`.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"OSM file {p} does not exist: pass a .osm.pbf, .osm, .osm.gz or "
                         ".osm.bz2 file (Geofabrik extracts: download.geofabrik.de/europe/germany)")
    if p.is_dir():
        raise InputError(f"OSM input {p} is a directory, not a file")
    if not str(p).lower().endswith(OSM_SUFFIXES):
        raise InputError(f"{p} does not look like an OSM file: expected one of {OSM_SUFFIXES}")
    return p


def header_bbox(path: str | Path) -> tuple[float, float, float, float] | None:
    """The lon/lat box an OSM file declares in its header.

    Reads the header only (no data): it lets a run check its other inputs against the
    extract before the graph is built. Geofabrik extracts and OSM XML files from the
    API carry one; many cut PBF files do not.

    Parameters
    ----------
    path : str or Path
        The OSM file.

    Returns
    -------
    tuple of float or None
        ``(lon_min, lat_min, lon_max, lat_max)``; None when the header declares no box,
        or one that says nothing (the whole world, or wider than 20 degrees), or the
        file cannot be read (the graph build reports that).

    Raises
    ------
    InputError
        ``path`` is not an OSM file (see :func:`check_osm_path`).
    """
    import osmium

    p = check_osm_path(path)
    try:
        reader = osmium.io.Reader(str(p), osmium.osm.osm_entity_bits.NOTHING)
        try:
            box = reader.header().box()
        finally:
            reader.close()
    except RuntimeError:  # unreadable: the graph build reports it
        return None
    if not box.valid():
        return None
    bl, tr = box.bottom_left, box.top_right
    b = (float(bl.lon), float(bl.lat), float(tr.lon), float(tr.lat))
    if b[2] - b[0] > 20 or b[3] - b[1] > 20 or b[2] <= b[0] or b[3] <= b[1]:
        return None
    return b
