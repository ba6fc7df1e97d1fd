"""Car speed profiles: per-class speeds, maxspeed parsing, TOML loading."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from . import defaults
from ._errors import InputError
from ._util import read_toml

_MPH = 1.609344
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$")
#: maxspeed values that carry no number: the class speed applies.
_NO_NUMBER = {"none", "signals", "variable", "de:motorway", "unlimited", "no"}


@dataclass(frozen=True)
class SpeedProfile:
    """A named, replaceable car speed profile.

    Parameters
    ----------
    name : str
        Identifier written into outputs and cache keys.
    speeds_kmh : dict
        Free-flow speed per OSM ``highway`` class, km/h. Only these classes are
        drivable.
    maxspeed_factor : float
        Ways with a numeric ``maxspeed`` run at ``maxspeed_factor * maxspeed``.
    ferry_speed_kmh : float
        Speed of ferries (``route=ferry``) without a usable ``duration`` tag.
    blocked_access : frozenset of str
        ``access``/``vehicle``/``motor_vehicle``/``motorcar`` values that forbid cars.
    maxspeed_zones_kmh : dict
        Implicit limits such as ``DE:urban`` (keys lower case).
    class_factors : dict
        Multipliers per class applied on top (set by speed calibration).
    description : str
        Free text for humans.
    mode : {"car", "foot"}
        ``car``: access by motorcar/motor_vehicle/vehicle/access, oneway rules,
        maxspeed, ferries. ``foot``: access by foot/access, every way both
        directions, constant class speeds, no ferries.
    access_speed_kmh : float, optional
        Speed of the access legs (a point to its snapped node, straight line) that
        goes with these speeds, when it was fitted together with them; used when
        ``[graph] access_speed_kmh`` is not set. It does not change the graph.
    max_speed_kmh : float, optional
        No edge is faster: a posted limit, class speed (times its factor) or ferry
        duration above it is clipped to it. A graph built with a cap records it, and
        the Lage's edge test takes it as the speed of any road beyond the extract (a
        larger extract built with the same profile has none faster); without one,
        :data:`~accessibility.defaults.EDGE_TOP_SPEED_KMH`.
    """

    name: str
    speeds_kmh: dict[str, float]
    maxspeed_factor: float = 0.8
    ferry_speed_kmh: float = 5.0
    blocked_access: frozenset[str] = frozenset({"no", "private"})
    maxspeed_zones_kmh: dict[str, float] = field(default_factory=dict)
    class_factors: dict[str, float] = field(default_factory=dict)
    description: str = ""
    mode: str = "car"
    access_speed_kmh: float | None = None
    max_speed_kmh: float | None = None

    def __post_init__(self) -> None:
        for k, v in self.speeds_kmh.items():
            if not (isinstance(v, (int, float)) and v > 0):
                raise InputError(f"profile {self.name!r}: speed of {k!r} must be a positive "
                                 f"number of km/h, got {v!r}")
        if not 0 < self.maxspeed_factor <= 2:
            raise InputError(f"profile {self.name!r}: maxspeed_factor must be in (0, 2]")
        if self.mode not in ("car", "foot"):
            raise InputError(f"profile {self.name!r}: mode must be 'car' or 'foot', got {self.mode!r}")
        if self.ferry_speed_kmh <= 0:
            raise InputError(f"profile {self.name!r}: ferry_speed_kmh must be positive")
        vmax = defaults.MAX_PROFILE_SPEED_KMH
        # the stated speeds (a calibration's class factors may move them further)
        fast = {**self.speeds_kmh,
                **{f"maxspeed zone {k}": v for k, v in self.maxspeed_zones_kmh.items()}}
        fast = {k: v for k, v in fast.items() if not 0 < v <= vmax}
        if fast:
            raise InputError(f"profile {self.name!r}: speeds must be in (0, {vmax:g}] km/h, "
                             f"got {fast}: check the unit (km/h, not m/h or m/s)")
        top = defaults.MAX_ACCESS_SPEED_KMH
        if self.access_speed_kmh is not None and not 0 < self.access_speed_kmh <= top:
            raise InputError(f"profile {self.name!r}: access_speed_kmh must be in (0, {top:g}] "
                             f"km/h, got {self.access_speed_kmh!r}")
        if self.max_speed_kmh is not None and not 0 < self.max_speed_kmh <= vmax:
            raise InputError(f"profile {self.name!r}: max_speed_kmh must be in (0, {vmax:g}] "
                             f"km/h, got {self.max_speed_kmh!r}")

    @property
    def access_keys(self) -> tuple[str, ...]:
        """Access tags that decide for this mode, most specific first
        (https://wiki.openstreetmap.org/wiki/Key:access#Transport_mode_restrictions)."""
        if self.mode == "foot":
            return ("foot", "access")
        return ("motorcar", "motor_vehicle", "vehicle", "access")

    @property
    def classes(self) -> tuple[str, ...]:
        """Drivable highway classes, in profile order, then ``ferry``."""
        return tuple(self.speeds_kmh) + ("ferry",)

    def fingerprint(self) -> str:
        """A short hash of everything that changes travel times (for cache keys)."""
        blob = json.dumps([self.name, self.mode, self.speeds_kmh, self.maxspeed_factor, self.ferry_speed_kmh,
                           sorted(self.blocked_access), self.maxspeed_zones_kmh,
                           self.class_factors]
                          # graphs record the profile's access speed (meta): key it too
                          + ([self.access_speed_kmh] if self.access_speed_kmh else [])
                          + ([{"cap": self.max_speed_kmh}] if self.max_speed_kmh else []),
                          sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def with_factors(self, factors: dict[str, float]) -> SpeedProfile:
        """A copy with per-class speed multipliers (from calibration)."""
        return replace(self, class_factors={**self.class_factors, **factors},
                       name=f"{self.name}+calibrated")

    def parse_maxspeed(self, value: str | None) -> float | None:
        """Parse an OSM ``maxspeed`` value to km/h, or None when it sets no number.

        Handles plain numbers, ``mph``, ``DE:urban``/``DE:rural``/``DE:zone30``,
        ``walk``, ``none``/``signals``/``variable`` (None: the class speed applies)
        and lists such as ``"50;30"`` (the first value).
        See https://wiki.openstreetmap.org/wiki/Key:maxspeed.
        """
        if value is None:
            return None
        v = value.strip().lower().split(";")[0].strip()
        if not v or v in _NO_NUMBER:
            return None
        if v in self.maxspeed_zones_kmh:
            return float(self.maxspeed_zones_kmh[v])
        m = _NUMBER.match(v)
        if m is None:
            return None
        speed = float(m.group(1))
        if m.group(2) == "mph":
            speed *= _MPH
        return speed if speed > 0 else None

    def edge_speed_kmh(self, highway: str, maxspeed: str | None) -> float:
        """Travel speed of a way of class ``highway`` with tag ``maxspeed``."""
        if self.mode == "foot":  # walking speed does not follow the speed limit
            return self.capped(float(self.speeds_kmh[highway])
                               * self.class_factors.get(highway, 1.0))
        parsed = self.parse_maxspeed(maxspeed)
        speed = (parsed * self.maxspeed_factor if parsed is not None
                 else float(self.speeds_kmh[highway]))
        return self.capped(speed * self.class_factors.get(highway, 1.0))

    def capped(self, kmh: float) -> float:
        """``kmh``, no faster than the profile's ``max_speed_kmh`` (if it has one)."""
        return kmh if self.max_speed_kmh is None else min(kmh, self.max_speed_kmh)


def _from_dict(d: dict, source: str) -> SpeedProfile:
    known = {"name", "description", "maxspeed_factor", "ferry_speed_kmh", "blocked_access",
             "speeds_kmh", "maxspeed_zones_kmh", "class_factors", "mode", "access_speed_kmh",
             "max_speed_kmh"}
    unknown = set(d) - known
    if unknown:
        raise InputError(f"speed profile {source}: unknown keys {sorted(unknown)}; "
                         f"valid keys are {sorted(known)}")
    if not d.get("speeds_kmh"):
        raise InputError(f"speed profile {source}: needs a [speeds_kmh] table with one "
                         "speed per highway class, e.g. motorway = 90")
    return SpeedProfile(
        name=str(d.get("name", Path(source).stem)),
        speeds_kmh={str(k): float(v) for k, v in d["speeds_kmh"].items()},
        maxspeed_factor=float(d.get("maxspeed_factor", 0.8)),
        ferry_speed_kmh=float(d.get("ferry_speed_kmh", 5.0)),
        blocked_access=frozenset(d.get("blocked_access", ["no", "private"])),
        maxspeed_zones_kmh={str(k).lower(): float(v)
                            for k, v in d.get("maxspeed_zones_kmh", {}).items()},
        class_factors={str(k): float(v) for k, v in d.get("class_factors", {}).items()},
        description=str(d.get("description", "")),
        mode=str(d.get("mode", "car")),
        access_speed_kmh=(float(d["access_speed_kmh"]) if d.get("access_speed_kmh") is not None
                          else None),
        max_speed_kmh=(float(d["max_speed_kmh"]) if d.get("max_speed_kmh") is not None
                       else None),
    )


def access_speed(profile_kmh: float | None) -> float:
    """The access-leg speed when the config sets none: the profile's, else
    :data:`~accessibility.defaults.ACCESS_SPEED_KMH` (a slow local road).

    Parameters
    ----------
    profile_kmh : float or None
        The profile's ``access_speed_kmh`` (None: the profile has none).

    Returns
    -------
    float
        Speed in km/h.
    """
    return float(profile_kmh) if profile_kmh is not None else defaults.ACCESS_SPEED_KMH


def load_profile(path_or_name: str | Path | None = None) -> SpeedProfile:
    """Load a speed profile from a TOML file, or a built-in one by name.

    Parameters
    ----------
    path_or_name : str or Path, optional
        A TOML file (see ``accessibility/profiles/osrm-car.toml`` for the format) or
        the name of a built-in profile (``"de-car"``, the default; ``"osrm-car"``,
        ``"inkar-fit"``, ``"walk"``).
    """
    if path_or_name is None:
        path_or_name = defaults.PROFILE
    p = Path(path_or_name)
    if p.suffix != ".toml" and not p.exists():
        res = resources.files("accessibility") / "profiles" / f"{path_or_name}.toml"
        if not res.is_file():
            builtin = sorted(x.name[:-5] for x in (resources.files("accessibility") / "profiles").iterdir()
                             if x.name.endswith(".toml"))
            raise InputError(f"unknown speed profile {str(path_or_name)!r}: give a TOML file "
                             f"or one of the built-in profiles {builtin}")
        return _from_dict(tomllib.loads(res.read_text("utf-8")), str(path_or_name))
    return _from_dict(read_toml(p, "speed profile"), str(p))


#: The default profile (``de-car``: OSRM class speeds, posted limits at face value,
#: unlimited Autobahn at the Richtgeschwindigkeit; see docs/METHOD.md).
DEFAULT_PROFILE = load_profile(defaults.PROFILE)
#: The walking profile (every pedestrian way, both directions, 5 km/h).
WALK_PROFILE = load_profile("walk")
