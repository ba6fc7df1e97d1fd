"""Whether a CRS is fit for measuring distances in Germany (pyproj only)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pyproj import CRS, Proj
from pyproj.exceptions import CRSError

from . import defaults
from ._errors import InputError

#: Germany's extent (lon/lat) over which the scale error is measured.
GERMANY_LONLAT = (5.8, 47.2, 15.1, 55.1)


@lru_cache(maxsize=32)
def scale_error(crs: str) -> float:
    """Largest ``|k - 1|`` of the CRS's point scale factors (along meridians and
    parallels) on a 20 x 20 grid over Germany."""
    lon, lat = np.meshgrid(np.linspace(GERMANY_LONLAT[0], GERMANY_LONLAT[2], 20),
                           np.linspace(GERMANY_LONLAT[1], GERMANY_LONLAT[3], 20))
    f = Proj(CRS.from_user_input(crs)).get_factors(lon.ravel(), lat.ravel())
    k = np.concatenate([f.meridional_scale, f.parallel_scale])
    return float(np.nanmax(np.abs(k - 1.0))) if np.isfinite(k).any() else float("inf")


def check_metric_crs(crs: str, where: str = "metric_crs") -> str:
    """``crs`` when it is a projected CRS in metres whose distances are true to within
    :data:`~accessibility.defaults.MAX_CRS_SCALE_ERROR` everywhere in Germany, else an
    :class:`InputError` that names a good one."""
    fix = "Use EPSG:25832 (ETRS89 / UTM 32N, the default), EPSG:25833 or EPSG:3035."
    try:
        c = CRS.from_user_input(crs)
    except CRSError:
        raise InputError(f"{where} = {crs!r} is not a known CRS. {fix}") from None
    unit = c.axis_info[0].unit_name if c.axis_info else ""
    if not c.is_projected or unit not in ("metre", "meter"):
        raise InputError(f"{where} = {crs!r} is not a projected CRS in metres "
                         f"({'geographic, degrees' if c.is_geographic else unit or 'no unit'}):"
                         f" snapping and distances would be wrong. {fix}")
    err = scale_error(str(crs))
    if err > defaults.MAX_CRS_SCALE_ERROR:
        raise InputError(f"{where} = {crs!r} ({c.name}) distorts distances in Germany by up "
                         f"to {100 * err:.1f} % (allowed {100 * defaults.MAX_CRS_SCALE_ERROR:g} "
                         f"%): its metres are not ground metres. {fix}")
    return str(crs)
