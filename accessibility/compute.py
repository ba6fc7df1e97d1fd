"""Where independent work runs: in this process, or as tasks on ``dask.distributed``.

A run's heavy models split into independent pieces (the Lage potential per chunk
of origins, the walkability model per tile, scenarios of a batch). An
:class:`Executor` maps a top-level function over those pieces:

* :class:`LocalExecutor` (``[compute] scheduler = "local"``, the default) calls it
  in this process, one piece after the other, the numba kernels using every core;
* :class:`DaskExecutor` (``scheduler = "dask"``) submits one task per piece to a
  Dask scheduler — one at ``address`` (``dask scheduler`` / ``dask worker`` on
  several machines) or a ``LocalCluster`` the engine starts and stops. Large shared
  inputs (the graph) are scattered to the workers once, not sent with every task;
  inputs that several batches share (a scenario batch's graph and base) live on the
  workers (:mod:`accessibility.worker_state`: a file each worker maps once per key).

Both return the results in the order of the pieces, and every piece computes
exactly what the whole computation computes for it, so the results are identical
(tested). Example::

    with open_executor(config.compute) as ex:
        parts = ex.map(func, pieces, shared={"graph": graph})
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numba

from ._errors import ComputeError, InputError
from .worker_state import Resident, held_key, hold

logger = logging.getLogger(__name__)

#: How long to wait for the Dask scheduler at ``[compute] address``.
CONNECT_TIMEOUT = "30s"

__all__ = ["DaskExecutor", "Executor", "LocalExecutor", "chunks", "open_executor"]


class Executor:
    """Maps a function over independent pieces of work (base class)."""

    #: Short name for logs and the run summary.
    name = "local"

    def map(self, func: Callable, pieces: Sequence, *, shared: dict[str, Any] | None = None,
            what: str = "tasks", resident: Resident | None = None) -> list:
        """``[func(piece, **shared, **resident.objects) for piece in pieces]``, in the
        order of ``pieces``.

        Parameters
        ----------
        func : callable
            A module-level function (it is pickled for Dask workers).
        pieces : sequence
            One argument per task.
        shared : dict, optional
            Keyword arguments common to all tasks (sent to each worker once).
        what : str
            What the pieces are, for the log.
        resident : Resident, optional
            More keyword arguments, which live on the workers across batches
            (:mod:`accessibility.worker_state`).
        """
        raise NotImplementedError

    def preload(self, resident: Resident) -> None:
        """Have ``resident`` loaded where the tasks run (nothing to do in this process)."""

    def keep(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, kept under ``key`` for the executor's lifetime (one value at a
        time: another key replaces it), e.g. a scenario batch's base."""
        kept = self.__dict__.setdefault("_kept", {})
        if key not in kept:
            kept.clear()
            kept[key] = compute()
        return kept[key]

    def describe(self) -> str:
        """One line for the run summary."""
        return "in this process"


class LocalExecutor(Executor):
    """Runs every piece in this process, one after the other."""

    def map(self, func, pieces, *, shared=None, what="tasks", resident=None):
        shared = {**(resident.objects if resident is not None else {}), **(shared or {})}
        return [func(p, **shared) for p in pieces]


def _with_threads(func: Callable, piece: Any, threads: int, **shared: Any) -> Any:
    """Run ``func`` with ``threads`` numba threads (a worker's share of its machine)."""
    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    try:
        return func(piece, **shared)
    finally:
        numba.set_num_threads(before)


def _with_state(func: Callable, piece: Any, threads: int, state: tuple[str, str],
                **shared: Any) -> Any:
    """:func:`_with_threads` with the worker's resident objects of ``state`` (key,
    path) as more keyword arguments."""
    return _with_threads(func, piece, threads, **hold(*state), **shared)


class DaskExecutor(Executor):
    """Runs every piece as a task on a ``dask.distributed`` client.

    Parameters
    ----------
    client : distributed.Client
    threads : int
        Numba threads inside each task (``[compute] threads_per_worker``).
    """

    name = "dask"

    def __init__(self, client, threads: int = 1) -> None:
        self.client = client
        self.threads = int(threads)

    def map(self, func, pieces, *, shared=None, what="tasks", resident=None):
        try:
            return self._map(func, pieces, shared=shared, what=what, resident=resident)
        except Exception as e:
            # the cluster's own failures (CommClosedError is an OSError, which the CLI
            # would blame on the disk); errors raised inside the tasks pass unchanged
            if type(e).__module__.split(".")[0] in ("distributed", "dask"):
                raise ComputeError(
                    f"the Dask cluster failed while running {what} ({type(e).__name__}: {e}); "
                    f"scheduler {getattr(self.client.scheduler, 'address', '?')}: check that "
                    "its workers are alive and have the memory for the work, then rerun "
                    "(the previous results are untouched)") from e
            raise

    def preload(self, resident: Resident) -> bool:
        """Load ``resident`` on every worker that does not hold it yet (its file
        written first, once per key). False when some worker cannot read the file
        (a remote machine without the folder): its inputs are then scattered."""
        have = self.client.run(held_key)
        missing = [w for w, k in have.items() if k != resident.key]
        if not missing:
            return True
        path = str(resident.write())
        seen = self.client.run(Path(path).is_file, workers=missing)
        if not all(seen.values()):
            logger.warning("the Dask workers %s cannot read %s: the batch's inputs are sent "
                           "to them instead (put the folder on a shared disk to keep them "
                           "there)", sorted(w for w, ok in seen.items() if not ok), path)
            return False
        self.client.run(_hold_quietly, resident.key, path, workers=missing)
        return True

    def _map(self, func, pieces, *, shared=None, what="tasks", resident=None):
        pieces = list(pieces)
        if not pieces:
            return []
        shared = shared or {}
        if resident is not None:
            if self.preload(resident):
                return self._submit(_with_state, func, pieces, shared, what,
                                    state=(resident.key, str(resident.path)))
            shared = {**resident.objects, **shared}
        return self._submit(_with_threads, func, pieces, shared, what)

    def _submit(self, wrapper, func, pieces, shared, what, **extra):
        # scatter once: every task gets a reference, not its own copy of the graph
        futures_shared = {k: v if v is None else self.client.scatter([v], broadcast=True)[0]
                          for k, v in shared.items()}
        # pieces travel as data, not inside the task graph
        pieces = self.client.scatter(pieces)
        futs = self.client.map(wrapper, [func] * len(pieces), pieces,
                               [self.threads] * len(pieces), pure=False, **extra,
                               **futures_shared)
        logger.info("%d %s submitted to the Dask scheduler %s", len(pieces), what,
                    self.client.scheduler.address)
        return self.client.gather(futs)

    def describe(self) -> str:
        n = len(self.client.scheduler_info().get("workers", {}))
        return f"Dask scheduler {self.client.scheduler.address} with {n} workers"


def _hold_quietly(key: str, path: str) -> None:
    hold(key, path)  # client.run sends back what it returns: not the objects


def _check_address(address: str) -> None:
    """A scheduler address is ``tcp://host:port`` or ``host:port`` (what
    ``dask scheduler`` prints); say so before connecting, not with a traceback."""
    a = str(address)
    if a.lower().endswith(".toml") or Path(a).exists():
        raise InputError(f"Dask address {a!r} is a file: put --dask after the files or "
                         "write --dask=ADDRESS (e.g. --dask=tcp://head:8786)")
    rest = a.split("://", 1)[1] if "://" in a else a
    scheme = a.split("://", 1)[0].lower() if "://" in a else "tcp"
    host, _, port = rest.rpartition(":")
    if scheme not in ("tcp", "tls", "ucx", "ws", "wss") or not host \
            or not port.isdigit():
        raise InputError(f"Dask address {a!r} is not a scheduler address: use "
                         "tcp://HOST:PORT as `dask scheduler` prints it (default port 8786)")


@contextlib.contextmanager
def open_executor(compute=None) -> Iterator[Executor]:
    """The executor of a ``[compute]`` section (:class:`~accessibility.config.ComputeConfig`),
    opened for the duration of the ``with`` block (a local cluster the engine started
    is closed at its end)."""
    if compute is None or compute.scheduler == "local":
        yield LocalExecutor()
        return
    if compute.scheduler != "dask":
        raise InputError(f"[compute] scheduler = {compute.scheduler!r}: use 'local' or 'dask'")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("[compute] scheduler = 'dask' needs dask.distributed: "
                         "pip install 'accessibility[dask]' (or 'dask[distributed]')") from None
    if compute.address:
        _check_address(compute.address)
        try:
            client = Client(compute.address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as e:
            raise InputError(f"[compute] address = {compute.address!r}: no Dask scheduler "
                             f"answers there ({e}). Start one with `dask scheduler` and "
                             "workers with `dask worker ADDRESS`, or leave address unset "
                             "for a local cluster.") from None
        with client:
            yield DaskExecutor(client, compute.threads_per_worker)
        return
    # the cluster's own INFO lines (scheduler start, comms closing) only when asked for
    if not logger.isEnabledFor(logging.DEBUG):
        logging.getLogger("distributed").setLevel(logging.WARNING)
    # one task at a time per worker process, each with threads_per_worker numba
    # threads: n_workers x threads_per_worker cores (t tasks of t threads would
    # oversubscribe, and numba's workqueue layer cannot run parallel launches at once)
    with LocalCluster(n_workers=compute.n_workers, threads_per_worker=1,
                      processes=True) as cluster, Client(cluster) as client:
        logger.info("started a local Dask cluster: %d workers x 1 task of %d numba threads; "
                    "dashboard %s", compute.n_workers, compute.threads_per_worker,
                    client.dashboard_link)
        yield DaskExecutor(client, compute.threads_per_worker)


def chunks(n: int, size: int) -> list[slice]:
    """Consecutive slices of at most ``size`` covering ``range(n)``."""
    size = max(1, int(size))
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]
