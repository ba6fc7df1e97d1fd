"""The immutable road graph: CSR arrays plus node coordinates."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from pyproj import Transformer

from .. import defaults
from .._errors import GraphError

#: Metric CRS used for snapping and distances unless a caller asks for another one.
DEFAULT_METRIC_CRS = defaults.METRIC_CRS  # kept as the graph package's name for it

#: Bytes a graph holds per node: offsets (8), OSM id (8), lon/lat (16), x/y (16).
BYTES_PER_NODE = 48
#: Bytes a graph holds per edge: target (4), time (8), length (8), road class (1).
BYTES_PER_EDGE = 21


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class RoadGraph:
    """A directed road graph in compressed sparse row (CSR) form.

    Edges leaving node ``u`` are ``offsets[u]:offsets[u+1]`` in the edge arrays.
    All arrays are read-only; every operation returns a new graph.

    Parameters
    ----------
    offsets : ndarray of int64, shape (n + 1,)
        CSR row pointer.
    targets : ndarray of int32, shape (m,)
        Head node of each edge.
    time_s : ndarray of float64, shape (m,)
        Free-flow travel time of each edge in seconds.
    length_m : ndarray of float64, shape (m,)
        Length of each edge in metres.
    road_class : ndarray of uint8, shape (m,)
        Index into ``class_names`` (the OSM ``highway`` value, or ``ferry``).
    class_names : tuple of str
        Names of the road classes.
    osm_id : ndarray of int64, shape (n,)
        OSM node id of each node (or a caller's id).
    lon, lat : ndarray of float64, shape (n,)
        WGS84 coordinates in degrees.
    crs : str
        Metric CRS of ``x`` and ``y`` (default EPSG:25832, ETRS89 / UTM 32N).
    x, y : ndarray of float64, shape (n,)
        Projected coordinates in metres, computed with pyproj when not given.
    meta : dict
        Free-form provenance (source file, profile name, build statistics).

    Notes
    -----
    Memory is ``48 bytes x nodes + 21 bytes x edges`` (see ``BYTES_PER_NODE``,
    ``BYTES_PER_EDGE``); a simplified German car network of about 4 million nodes
    and 9 million edges takes about 0.4 GB.
    """

    offsets: np.ndarray
    targets: np.ndarray
    time_s: np.ndarray
    length_m: np.ndarray
    road_class: np.ndarray
    class_names: tuple[str, ...]
    osm_id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    crs: str = DEFAULT_METRIC_CRS
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)
        set_("offsets", _readonly(np.asarray(self.offsets, dtype=np.int64)))
        set_("targets", _readonly(np.asarray(self.targets, dtype=np.int32)))
        set_("time_s", _readonly(np.asarray(self.time_s, dtype=np.float64)))
        set_("length_m", _readonly(np.asarray(self.length_m, dtype=np.float64)))
        set_("road_class", _readonly(np.asarray(self.road_class, dtype=np.uint8)))
        set_("class_names", tuple(self.class_names))
        set_("osm_id", _readonly(np.asarray(self.osm_id, dtype=np.int64)))
        set_("lon", _readonly(np.asarray(self.lon, dtype=np.float64)))
        set_("lat", _readonly(np.asarray(self.lat, dtype=np.float64)))
        n, m = self.n_nodes, self.n_edges
        if self.offsets.ndim != 1 or self.offsets.size < 1 or self.offsets[0] != 0:
            raise GraphError("offsets must be a 1-d CSR row pointer starting at 0")
        if self.offsets[-1] != m or np.any(np.diff(self.offsets) < 0):
            raise GraphError(
                f"offsets must be non-decreasing and end at the edge count {m}, "
                f"ends at {self.offsets[-1]}"
            )
        for name in ("time_s", "length_m", "road_class"):
            if getattr(self, name).shape != (m,):
                raise GraphError(f"{name} has {getattr(self, name).size} entries, expected {m} edges")
        for name in ("osm_id", "lon", "lat"):
            if getattr(self, name).shape != (n,):
                raise GraphError(f"{name} has {getattr(self, name).size} entries, expected {n} nodes")
        if m and (self.targets.min() < 0 or self.targets.max() >= n):
            raise GraphError("edge targets must be node indices in [0, n_nodes)")
        if m and (np.any(~np.isfinite(self.time_s)) or self.time_s.min() < 0):
            raise GraphError("edge travel times must be finite and non-negative")
        if self.x is None or self.y is None:
            x, y = project(self.lon, self.lat, self.crs)
        else:
            x, y = self.x, self.y
        set_("x", _readonly(np.asarray(x, dtype=np.float64)))
        set_("y", _readonly(np.asarray(y, dtype=np.float64)))

    # ------------------------------------------------------------------ sizes
    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.offsets.size - 1)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.targets.size)

    @property
    def nbytes(self) -> int:
        """Bytes held by the graph's arrays."""
        return sum(
            getattr(self, k).nbytes
            for k in ("offsets", "targets", "time_s", "length_m", "road_class",
                      "osm_id", "lon", "lat", "x", "y")
        )

    def __repr__(self) -> str:
        return (f"RoadGraph(n_nodes={self.n_nodes:,}, n_edges={self.n_edges:,}, "
                f"crs={self.crs!r}, {self.nbytes / 1e6:.1f} MB)")

    # ------------------------------------------------------------- derived
    @cached_property
    def sources(self) -> np.ndarray:
        """Tail node of every edge (int32), the CSR row index expanded."""
        return np.repeat(np.arange(self.n_nodes, dtype=np.int32), np.diff(self.offsets))

    def weights(self, weight: str = "time") -> np.ndarray:
        """Edge weights by name: ``"time"`` (seconds) or ``"length"`` (metres)."""
        if weight == "time":
            return self.time_s
        if weight == "length":
            return self.length_m
        raise ValueError(f"unknown weight {weight!r}: use 'time' or 'length'")

    @cached_property
    def reversed(self) -> RoadGraph:
        """The graph with every edge turned around (computed once, on demand).

        A multi-source search on the reversed graph from a set of facilities gives
        the time *from* every node *to* its nearest facility.
        """
        order = np.lexsort((self.sources, self.targets))
        counts = np.bincount(self.targets, minlength=self.n_nodes)
        offsets = np.zeros(self.n_nodes + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        g = RoadGraph(
            offsets=offsets, targets=self.sources[order], time_s=self.time_s[order],
            length_m=self.length_m[order], road_class=self.road_class[order],
            class_names=self.class_names, osm_id=self.osm_id, lon=self.lon, lat=self.lat,
            crs=self.crs, x=self.x, y=self.y, meta={**self.meta, "reversed": True},
        )
        object.__setattr__(g, "reversed", self)  # reversing twice gives the original back
        return g

    def to_scipy(self, weight: str = "time"):
        """The graph as a ``scipy.sparse.csr_array`` (parallel edges are summed by
        scipy, so deduplicate with ``min`` first when that matters)."""
        from scipy.sparse import csr_array

        return csr_array((self.weights(weight), self.targets, self.offsets),
                         shape=(self.n_nodes, self.n_nodes))

    def to_networkx(self, weight: str = "time"):
        """The graph as a ``networkx.MultiDiGraph`` with ``time_s``, ``length_m``,
        ``highway`` edge attributes and ``x``/``y`` (lon/lat) node attributes."""
        import networkx as nx

        g = nx.MultiDiGraph(crs="EPSG:4326")
        g.add_nodes_from(
            (i, {"x": float(self.lon[i]), "y": float(self.lat[i]), "osmid": int(self.osm_id[i])})
            for i in range(self.n_nodes)
        )
        names = self.class_names
        g.add_edges_from(
            (int(u), int(v), {"time_s": float(t), "length_m": float(l), "highway": names[c]})
            for u, v, t, l, c in zip(self.sources, self.targets, self.time_s,
                                     self.length_m, self.road_class)
        )
        return g

    def subgraph(self, keep: np.ndarray) -> RoadGraph:
        """The graph induced by the nodes where boolean mask ``keep`` is true,
        nodes renumbered in their old order."""
        keep = np.asarray(keep, dtype=bool)
        new_id = np.full(self.n_nodes, -1, dtype=np.int64)
        new_id[keep] = np.arange(int(keep.sum()))
        emask = keep[self.sources] & keep[self.targets]
        return from_edges(
            new_id[self.sources[emask]], new_id[self.targets[emask]],
            self.time_s[emask], self.length_m[emask], self.road_class[emask],
            class_names=self.class_names, osm_id=self.osm_id[keep],
            lon=self.lon[keep], lat=self.lat[keep], crs=self.crs,
            x=self.x[keep], y=self.y[keep], meta=dict(self.meta),
        )

    def km_by_class(self) -> dict[str, float]:
        """Directed edge kilometres per road class."""
        km = np.bincount(self.road_class, weights=self.length_m,
                         minlength=len(self.class_names)) / 1000.0
        return {name: float(km[i]) for i, name in enumerate(self.class_names) if km[i] > 0}


def project(lon: np.ndarray, lat: np.ndarray, crs: str = DEFAULT_METRIC_CRS
            ) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 lon/lat (degrees) to ``crs`` (metres) with pyproj."""
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = tr.transform(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def from_edges(
    u: np.ndarray, v: np.ndarray, time_s: np.ndarray, length_m: np.ndarray,
    road_class: np.ndarray, *, class_names: tuple[str, ...], osm_id: np.ndarray,
    lon: np.ndarray, lat: np.ndarray, crs: str = DEFAULT_METRIC_CRS,
    x: np.ndarray | None = None, y: np.ndarray | None = None, meta: dict | None = None,
) -> RoadGraph:
    """Build a :class:`RoadGraph` from an edge list (node indices ``u -> v``).

    Edges are sorted by tail then head so that the CSR layout is canonical.
    """
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    n = int(np.asarray(osm_id).size)
    order = np.lexsort((v, u))
    counts = np.bincount(u, minlength=n) if u.size else np.zeros(n, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return RoadGraph(
        offsets=offsets, targets=v[order].astype(np.int32),
        time_s=np.asarray(time_s, dtype=np.float64)[order],
        length_m=np.asarray(length_m, dtype=np.float64)[order],
        road_class=np.asarray(road_class, dtype=np.uint8)[order],
        class_names=class_names, osm_id=osm_id, lon=lon, lat=lat, crs=crs,
        x=x, y=y, meta=meta or {},
    )
