"""The distance-decay functions of the routing kernels, written once for all of them."""

import numpy as np
from numba import njit, prange

#: Decay kinds of :func:`decay_weight` (``t`` in the units of the weights).
#: No decay, ``w = 1``.
DECAY_NONE = 0
#: Exponential decay, ``w = exp(-decay_param * t)``.
DECAY_EXPONENTIAL = 1
#: Gaussian decay, ``w = exp(-t**2 / (2 * decay_param**2))``.
DECAY_GAUSSIAN = 2
#: Power (Hansen) decay with a floor,
#: ``w = (max(t, decay_floor) / decay_floor) ** -decay_param`` (1 for ``t <= decay_floor``).
DECAY_POWER = 3


@njit(cache=True)
def decay_weight(t, kind, decay_param, decay_floor):
    """Decay weight of cost ``t`` (see the ``DECAY_*`` constants): ``decay_param`` is
    the rate, sigma or exponent, ``decay_floor`` the power decay's floor, both in the
    units of ``t`` (:meth:`~.search.Decay.kernel_params` converts them)."""
    if kind == DECAY_EXPONENTIAL:
        return np.exp(-decay_param * t)
    if kind == DECAY_GAUSSIAN:
        return np.exp(-(t * t) / (2.0 * decay_param * decay_param))
    if kind == DECAY_POWER:
        return (max(t, decay_floor) / decay_floor) ** (-decay_param)
    return 1.0


@njit(cache=True)
def decay_weights(t, kind, decay_param, decay_floor):
    """:func:`decay_weight` of every cost in the 1-d array ``t`` (a new array)."""
    out = np.empty(t.size)
    for i in range(t.size):
        out[i] = decay_weight(t[i], kind, decay_param, decay_floor)
    return out


@njit(parallel=True, cache=True)
def decayed_row_sums(indptr, t, w, decay_kind, decay_param, decay_floor):
    """Row sums of ``decay(t) * w`` over a CSR table (calibration's trial potentials).

    Parameters
    ----------
    indptr : ndarray of int, shape (k + 1,)
        CSR row pointer of the (origin, destination) pairs.
    t, w : ndarray of float64, shape (nnz,)
        Cost and destination weight of each pair.
    decay_kind, decay_param, decay_floor :
        As in :func:`decay_weight`, in the units of ``t``.

    Returns
    -------
    ndarray of float64, shape (k,)
        Each row summed in its stored order, so the result does not depend on the
        number of threads (the same order as ``np.bincount`` over the rows).
    """
    k = indptr.size - 1
    out = np.zeros(k)
    for i in prange(k):
        acc = 0.0
        for j in range(indptr[i], indptr[i + 1]):
            acc += decay_weight(t[j], decay_kind, decay_param, decay_floor) * w[j]
        out[i] = acc
    return out
