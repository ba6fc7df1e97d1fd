"""``[public_transport]``: the section of the configuration (:mod:`accessibility.config`)
for the public-transport model (:func:`accessibility.api.pt_times`); in a module of its
own so that ``config.py`` stays a table of sections."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from . import defaults as D
from ._errors import InputError

__all__ = ["PT_CHOICES", "PT_RANGES", "PublicTransportConfig", "check_public_transport"]


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


@dataclass(frozen=True)
class PublicTransportConfig:
    """``[public_transport]``: times by bus and train to the nearest MZ / OZ / Fernbahnhof
    (computed when a GTFS feed is given: ``[inputs] gtfs`` / ``--gtfs``).

    Attributes
    ----------
    date : str
        Service day (ISO date; a weekday outside school holidays the feed serves).
    window_start, window_end : str
        Departure window, ``"HH:MM"`` (end excluded; BBSR / r5py: a weekday morning).
    step_min : float
        Minutes between two departures of the window.
    percentile : float
        High percentile of the times over the window, beside the median (50-100).
    walk_speed_kmh, walk_detour : float
        The legs on foot: straight line x detour at this speed.
    access_max_m : float
        Stops within this straight-line distance of an origin or a destination are
        walked to (and from).
    footpath_max_m : float
        Stops within this distance of each other are joined by a footpath.
    standard_mz_min, standard_oz_min : float
        Accessibility standards by public transport (RIN 2008 / BVWP; 45 / 90 min).
    origins : {"point", "population"}
        Where the trips start: the municipality's reference point (INKAR), or every
        populated cell of ``[inputs] population_grid`` (the municipality's value: the
        residents-weighted mean of the cells' medians and percentiles); the default is
        the car model's (``[central_places] origins``' default).
    """

    date: str = D.GTFS_DATE
    window_start: str = _clock(D.PT_WINDOW_S[0])
    window_end: str = _clock(D.PT_WINDOW_S[1])
    step_min: float = D.PT_STEP_S / 60
    percentile: float = float(D.PT_PERCENTILE)
    walk_speed_kmh: float = D.PT_WALK_SPEED_KMH
    walk_detour: float = D.PT_WALK_DETOUR
    access_max_m: float = D.PT_ACCESS_MAX_M
    footpath_max_m: float = D.PT_FOOTPATH_MAX_M
    standard_mz_min: float = D.PT_STANDARD_MZ_MIN
    standard_oz_min: float = D.PT_STANDARD_OZ_MIN
    origins: str = D.ORIGINS

    def options(self) -> dict[str, object]:
        """The keyword options of :func:`accessibility.api.pt_times`."""
        return {"date": self.date, "window": (self.window_start, self.window_end),
                "step_min": self.step_min, "percentile": self.percentile,
                "walk_speed_kmh": self.walk_speed_kmh, "walk_detour": self.walk_detour,
                "access_max_m": self.access_max_m, "footpath_max_m": self.footpath_max_m,
                "standard_mz_min": self.standard_mz_min,
                "standard_oz_min": self.standard_oz_min, "origins": self.origins}


#: Allowed values of the section's choice keys (area origins are the car's only: a
#: regular grid says nothing of where the riders live).
PT_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("public_transport", "origins"): ("point", "population")}


#: Plausible ranges (inclusive) of the section's numbers.
PT_RANGES: dict[tuple[str, str], tuple[float, float, str]] = {
    ("public_transport", "step_min"): (0.1, 180.0, "minutes"),
    ("public_transport", "percentile"): (50.0, 100.0, "per cent"),
    ("public_transport", "walk_speed_kmh"): (1.0, 10.0, "km/h"),
    ("public_transport", "walk_detour"): (1.0, 3.0, "(factor)"),
    ("public_transport", "access_max_m"): (50.0, 5_000.0, "metres"),
    ("public_transport", "footpath_max_m"): (0.0, 2_000.0, "metres"),
    ("public_transport", "standard_mz_min"): (1.0, 600.0, "minutes"),
    ("public_transport", "standard_oz_min"): (1.0, 600.0, "minutes"),
}


def check_public_transport(values: dict[str, object], where: str) -> None:
    """The section's date and window (the numbers are checked by :data:`PT_RANGES`)."""
    if "date" in values:
        try:
            _dt.date.fromisoformat(str(values["date"]))
        except ValueError:
            raise InputError(f"{where}: [public_transport] date must be a date YYYY-MM-DD, "
                             f"got {values['date']!r}.") from None
    clock = {}
    for key in ("window_start", "window_end"):
        if key in values:
            text = str(values[key])
            parts = text.split(":")
            if not (len(parts) == 2 and all(p.isdigit() for p in parts)
                    and int(parts[1]) < 60 and int(parts[0]) <= 48):
                raise InputError(f"{where}: [public_transport] {key} must be a clock time "
                                 f"'HH:MM' (up to 48:00, GTFS service-day time), got {text!r}.")
            clock[key] = int(parts[0]) * 60 + int(parts[1])
    if len(clock) == 2 and clock["window_start"] >= clock["window_end"]:
        raise InputError(f"{where}: [public_transport] window_start {values['window_start']} "
                         f"is not before window_end {values['window_end']}.")
