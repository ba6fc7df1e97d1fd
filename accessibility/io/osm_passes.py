"""Read OSM objects with node locations for the needed nodes only (two passes).

A one-pass reader keeps the location of every node of the file in an index
(``flex_mem``, 16 bytes a node: Germany's ~440 million nodes take 7-9 GB while the
index grows). The readers of services, barriers and destinations need the locations of
a small part of them: the nodes of the ways they turn into geometries. So, for a large
file:

1. :func:`track_needed` reads the file once without locations and notes, in bit sets
   (``osmium.IdTracker``, max id / 8 bytes), the objects a reader will use: the nodes
   it takes as they are, the ways it builds geometries of with their nodes, the
   relations it may assemble into areas with their members; when it noted relations,
   it reads the ways once more for the member ways' nodes (what libosmium's
   ``complete_backward_references`` does, in one read instead of three);
2. :func:`read_objects` reads it again as ``osmium.FileProcessor`` would, with one
   difference: the location index (and everything after it) only sees the noted nodes
   (and, with ``kept_ways``, the noted ways).

A reader that asks for a way's geometry gets the same one as in one pass as long as
it noted that way in the first pass. Python sees only what passes libosmium's
filters: a reader's per-object test in Python, not the decoding, was what cost on a
national file (benchmarks/results/national.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

__all__ = ["TWO_PASS_MIN_BYTES", "read_objects", "read_tagged", "track_needed", "use_two_pass"]

#: Files of at least this size are read in two passes: a PBF of ~100 million nodes,
#: where an index of all nodes (16 bytes each) outgrows the two-pass bit set of node
#: ids (max id / 8 bytes, ~1.6 GB at today's ids).
TWO_PASS_MIN_BYTES = 1 << 30


def use_two_pass(path: Path, two_pass: bool | None) -> bool:
    """``two_pass``, or (None) whether the file is at least :data:`TWO_PASS_MIN_BYTES`."""
    return path.stat().st_size >= TWO_PASS_MIN_BYTES if two_pass is None else bool(two_pass)


def _only_for(filt, entities):
    filt.enable_for(entities)
    return filt


def track_needed(path: Path, *, node_filter: Callable | None = None,
                 way_filter: Callable | None = None,
                 relation_filter: Callable | None = None,
                 keep: Callable | None = None, areas=None, kept=None):
    """First pass: the ids of the objects whose node locations a reader needs.

    One read of the file (nodes, ways and relations as asked), and a second of the
    ways when relations were noted (their member ways' nodes).

    Parameters
    ----------
    path : Path
        The OSM file (checked by the caller).
    node_filter : callable, optional
        Makes a fresh libosmium filter; the nodes that pass are noted (a reader's
        tagged nodes: the second pass drops every node not noted). None: no node.
    way_filter : callable, optional
        Makes a fresh libosmium filter; the ways that pass are noted with their
        nodes. None: no way.
    relation_filter : callable, optional
        Makes a fresh libosmium filter; the relations that pass are noted, with their
        member ways and those ways' nodes (the multipolygons the second pass may
        assemble). None: no relation.
    keep : callable, optional
        The reader's own test of a way or relation that passed its filter.
    areas : osmium.area.AreaManager, optional
        Gets its first pass (the relations that pass ``relation_filter``) in the
        same read, for :func:`read_objects` ``areas``.
    kept : osmium.IdTracker, optional
        Also gets the noted ways (not the relations' member ways), for :func:`read_objects` ``kept_ways``.

    Returns
    -------
    osmium.IdTracker
    """
    import osmium
    from osmium.io import Reader

    tracker = osmium.IdTracker()
    entities, handlers = osmium.osm.NOTHING, []
    for make, entity in ((node_filter, osmium.osm.NODE), (way_filter, osmium.osm.WAY),
                         (relation_filter, osmium.osm.RELATION)):
        if make is not None:
            entities |= entity
            handlers.append(_only_for(make(), entity))
    if areas is not None:  # after the relation filter: sees the same relations
        handlers.append(areas.first_pass_handler())
    members = osmium.IdTracker()  # the noted relations' members
    n_relations = 0
    if entities != osmium.osm.NOTHING:
        with Reader(str(path), entities) as reader:
            for obj in osmium.OsmFileIterator(reader, *handlers):
                if obj.is_node():
                    tracker.add_node(obj.id)
                elif keep is not None and not keep(obj):
                    continue
                elif obj.is_way():
                    tracker.add_way(obj.id)
                    tracker.add_references(obj)  # its nodes
                    if kept is not None:
                        kept.add_way(obj.id)
                else:
                    tracker.add_relation(obj.id)
                    tracker.add_references(obj)
                    members.add_references(obj)
                    n_relations += 1
    if n_relations:
        # the relations come after the ways in the file: the member ways' nodes take
        # another read of the ways (what complete_backward_references does, with
        # one read instead of three: member relations are never assembled)
        ways = _only_for(members.id_filter(), osmium.osm.WAY)
        with Reader(str(path), osmium.osm.WAY) as reader:
            for w in osmium.OsmFileIterator(reader, ways):
                tracker.add_references(w)
    return tracker


def read_objects(path: Path, entities, filters: Sequence, *, tracker=None,
                 area_filters: Sequence = (), areas=None, kept_ways=None) -> Iterator:
    """Second pass: ``osmium.FileProcessor(path, entities).with_locations("flex_mem")``
    (``.with_areas(*area_filters)`` when given) ``.with_filter(*filters)``, except that
    with a ``tracker`` the nodes it did not note never reach the location index.

    Parameters
    ----------
    path : Path
        The OSM file.
    entities : osmium.osm.osm_entity_bits
        What to read (``AREA`` for assembled areas).
    filters : sequence
        libosmium filters (or handlers), in order, before an object reaches Python.
    tracker : osmium.IdTracker, optional
        From :func:`track_needed`; None indexes every node (the one-pass reader).
    area_filters : sequence
        Filters of the relations to assemble into areas; empty: no areas.
    areas : osmium.area.AreaManager, optional
        An area manager whose first pass :func:`track_needed` ran (instead of
        ``area_filters``: saves a read of the relations).
    kept_ways : osmium.IdTracker, optional
        With a ``tracker``: the ways to yield (``track_needed``'s ``kept``). Ways the
        tracker did not note then reach neither the location index nor the area
        assembly, and the relations' member ways are used for their areas only.

    Yields
    ------
    osmium objects, as the FileProcessor yields them.
    """
    import osmium
    from osmium.io import Reader, ThreadPool

    pool = ThreadPool()
    locations = osmium.NodeLocationsForWays(osmium.index.create_map("flex_mem"))
    locations.ignore_errors()  # nodes missing from the extract (or not noted)
    noted = (osmium.osm.NODE if kept_ways is None else osmium.osm.NODE | osmium.osm.WAY)
    handlers = [] if tracker is None else [_only_for(tracker.id_filter(), noted)]
    handlers.append(locations)
    if areas is None and area_filters:
        # as FileProcessor.__iter__: the relations first, then the file with the
        # assembled areas interleaved
        areas = osmium.area.AreaManager()
        with Reader(str(path), osmium.osm.RELATION, thread_pool=pool) as reader:
            osmium.apply(reader, *area_filters, areas.first_pass_handler())
    if areas is None:
        if kept_ways is not None:
            handlers.append(_only_for(kept_ways.id_filter(), osmium.osm.WAY))
        with Reader(str(path), entities, thread_pool=pool) as reader:
            yield from osmium.OsmFileIterator(reader, *handlers, *filters)
        return
    buffered = osmium.BufferIterator(*filters)
    handlers.append(areas.second_pass_to_buffer(buffered))
    if kept_ways is not None:
        handlers.append(_only_for(kept_ways.id_filter(), osmium.osm.WAY))
    with Reader(str(path), entities, thread_pool=pool) as reader:
        for obj in osmium.OsmFileIterator(reader, *handlers, *filters):
            yield obj
            if buffered:
                yield from buffered
    if buffered:
        yield from buffered


def read_tagged(path: Path, make_filter: Callable, two_pass: bool | None) -> Iterator:
    """The nodes and ways that pass ``make_filter()`` (a fresh libosmium filter each
    call), ways with their node locations: in one pass over an index of every node,
    or (``two_pass``, see :func:`use_two_pass`) in two, indexing the nodes of those
    ways only."""
    import osmium

    entities = osmium.osm.NODE | osmium.osm.WAY
    if not use_two_pass(path, two_pass):
        return iter(osmium.FileProcessor(str(path), entities).with_locations()
                    .with_filter(make_filter()))
    tracker = track_needed(path, node_filter=make_filter, way_filter=make_filter)
    return read_objects(path, entities, [make_filter()], tracker=tracker)
