"""Download the national inputs of a run for all of Germany (documented recipe).

What it fetches, into ``--dest`` (default ``data/``):

=================  ==========================================================  =========
name               source                                                      licence
=================  ==========================================================  =========
osm                Geofabrik Germany extract (``germany-latest.osm.pbf``,       ODbL 1.0
                   about 4.5 GB), the road graph and the walk features
vg250              BKG VG250 boundaries, GeoPackage in layers (UTM32s)          DL-DE 2.0
zensus             Zensus 2022 population grid (100 m, 1 km, 10 km CSV in one   DL-DE 2.0
                   zip; the 1 km cells are what ``population_grid`` expects,
                   the 100 m cells feed the walkability model as they are)
=================  ==========================================================  =========

Three inputs have no stable download address and are fetched by hand; the script
prints where (``--list``):

* the Destatis municipality register (GV-ISys, "Gemeindeverzeichnis-Auszug"),
* the BBSR central-place designations (Zentrale-Orte-Monitoring / INKAR),
* the Bundesagentur für Arbeit commuter table (Pendler nach Gemeinden).

A download goes to a temporary file next to the target and is renamed only when
complete, so an interrupted download never leaves a truncated file behind; an
existing file is kept unless ``--force``. Addresses change: ``--url NAME=URL``
replaces one (a ``file://`` URL works too, which is how the tests run it offline).

Examples
--------
    python scripts/download_inputs.py --list
    python scripts/download_inputs.py --dest data osm vg250 zensus
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger("download_inputs")


@dataclass(frozen=True)
class Source:
    """One input: where it comes from, what file it becomes, under which licence."""

    url: str | None
    file: str
    licence: str
    about: str
    landing: str


SOURCES = {
    "osm": Source("https://download.geofabrik.de/europe/germany-latest.osm.pbf",
                  "germany-latest.osm.pbf", "ODbL 1.0, (c) OpenStreetMap contributors",
                  "OpenStreetMap extract of Germany (road graph, walk features)",
                  "https://download.geofabrik.de/europe/germany.html"),
    "vg250": Source("https://daten.gdz.bkg.bund.de/produkte/vg/vg250_ebenen_1231/aktuell/"
                    "vg250_12-31.utm32s.gpkg.ebenen.zip", "vg250_12-31.utm32s.gpkg.ebenen.zip",
                    "Datenlizenz Deutschland 2.0, (c) GeoBasis-DE / BKG",
                    "VG250 municipality boundaries (layer vg250_gem)",
                    "https://gdz.bkg.bund.de/index.php/default/verwaltungsgebiete-1-250-000-"
                    "stand-31-12-vg250-31-12.html"),
    "zensus": Source("https://www.destatis.de/static/DE/zensus/gitterdaten/"
                     "Zensus2022_Bevoelkerungszahl.zip", "Zensus2022_Bevoelkerungszahl.zip",
                     "Datenlizenz Deutschland 2.0, Statistische Ämter des Bundes und der Länder",
                     "Zensus 2022 population grid (100 m / 1 km / 10 km)",
                     "https://www.zensus2022.de/DE/Ergebnisse-des-Zensus/gitterzellen.html"),
    "register": Source(None, "gemeinden.csv", "Datenlizenz Deutschland 2.0, Destatis",
                       "municipality register: AGS, GVB key, name, population, area, "
                       "reference point (save the GV-ISys table as CSV)",
                       "https://www.destatis.de/DE/Themen/Laender-Regionen/Regionales/"
                       "Gemeindeverzeichnis/_inhalt.html"),
    "central_places": Source(None, "zentrale_orte.csv", "Datenlizenz Deutschland 2.0, BBSR",
                             "central-place function per AGS (columns ags, zo_funktion)",
                             "https://www.inkar.de"),
    "commuters": Source(None, "pendler.csv", "Bundesagentur für Arbeit (free use with source)",
                        "in- and out-commuters per municipality (Einpendler, Auspendler)",
                        "https://statistik.arbeitsagentur.de/DE/Navigation/Statistiken/"
                        "Fachstatistiken/Beschaeftigung/Pendler/Pendler-Nav.html"),
}


def download(url: str, target: Path, *, force: bool = False, chunk: int = 1 << 20) -> Path:
    """Fetch ``url`` into ``target`` atomically; keep an existing file unless ``force``."""
    if target.exists() and not force:
        logger.info("%s exists, kept (use --force to download again)", target)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    try:
        from tqdm import tqdm

        with urllib.request.urlopen(url, timeout=60) as resp, open(tmp, "wb") as fh:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=target.name) as bar:
                while block := resp.read(chunk):
                    fh.write(block)
                    bar.update(len(block))
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    logger.info("downloaded %s (%.1f MB)", target, target.stat().st_size / 1e6)
    return target


def listing() -> str:
    """What every source is and where it comes from."""
    rows = []
    for name, s in SOURCES.items():
        how = s.url if s.url else f"by hand from {s.landing}"
        rows.append(f"{name:<15} -> {s.file}\n    {s.about}\n    {how}\n    licence: {s.licence}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("names", nargs="*", help=f"sources to fetch (default: all downloadable: "
                   f"{', '.join(n for n, s in SOURCES.items() if s.url)})")
    p.add_argument("--dest", type=Path, default=Path("data"), help="target folder (data/)")
    p.add_argument("--list", action="store_true", help="list the sources and exit")
    p.add_argument("--force", action="store_true", help="download again over existing files")
    p.add_argument("--url", action="append", default=[], metavar="NAME=URL",
                   help="replace the address of a source")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.list:
        print(listing())
        return 0
    urls = {n: s.url for n, s in SOURCES.items()}
    for item in args.url:
        name, _, url = item.partition("=")
        if name not in SOURCES or not url:
            p.error(f"--url {item!r}: use NAME=URL with NAME one of {', '.join(SOURCES)}")
        urls[name] = url
    names = args.names or [n for n, u in urls.items() if u]
    unknown = [n for n in names if n not in SOURCES]
    if unknown:
        p.error(f"unknown sources {unknown}: use {', '.join(SOURCES)}")
    for name in names:
        if urls[name] is None:
            logger.warning("%s has no download address: get it by hand from %s and save it as "
                           "%s", name, SOURCES[name].landing, args.dest / SOURCES[name].file)
            continue
        try:
            download(urls[name], args.dest / SOURCES[name].file, force=args.force)
        except OSError as e:  # no network, moved address, disk full
            logger.error("%s: %s. Check the address (%s) or pass --url %s=...", name, e,
                         SOURCES[name].landing, name)
            return 1
    if shutil.which("unzip") is None:
        logger.info("unpack the .zip files with any unzip tool before use")
    return 0


if __name__ == "__main__":
    sys.exit(main())
