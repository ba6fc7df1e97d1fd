"""Read OSM objects with node locations for the needed nodes only (two passes).

A one-pass reader keeps the location of every node of the file in an index
(``flex_mem``, 16 bytes a node: Germany's ~440 million nodes take 7-9 GB while the
index grows). The readers of services, barriers and destinations need the locations of
a small part of them: the nodes of the ways they turn into geometries. So, for a large
file:

1. :func:`track_needed` reads the file once without locations and notes, in bit sets
   (``osmium.IdTracker``, max id / 8 bytes), the objects a reader will use: the nodes
   it takes as they are, the ways it builds geometries of, the relations it may
   assemble into areas; then libosmium adds the member ways of those relations and the
   nodes of all noted ways (``complete_backward_references``);
2. :func:`read_objects` reads it again as ``osmium.FileProcessor`` would, with one
   difference: the location index (and everything after it) only sees the noted nodes.

Both passes see every way and relation: the noted set only decides which node
locations are kept, so a reader that asks for a way's geometry gets the same one as in
one pass as long as it noted that way in the first pass.
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
                 keep: Callable | None = None):
    """First pass: the ids of the objects whose node locations a reader needs.

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

    Returns
    -------
    osmium.IdTracker
    """
    import osmium

    tracker = osmium.IdTracker()
    if relation_filter is not None:
        for r in osmium.FileProcessor(str(path), osmium.osm.RELATION).with_filter(
                relation_filter()):
            if keep is None or keep(r):
                tracker.add_relation(r.id)
    entities = ((osmium.osm.NODE if node_filter is not None else osmium.osm.NOTHING)
                | (osmium.osm.WAY if way_filter is not None else osmium.osm.NOTHING))
    if entities != osmium.osm.NOTHING:
        fp = osmium.FileProcessor(str(path), entities)
        if node_filter is not None:
            fp.with_filter(_only_for(node_filter(), osmium.osm.NODE))
        if way_filter is not None:
            fp.with_filter(_only_for(way_filter(), osmium.osm.WAY))
        for obj in fp:
            if obj.is_node():
                tracker.add_node(obj.id)
            elif keep is None or keep(obj):
                tracker.add_way(obj.id)
    # member ways of the noted relations, then the nodes of all noted ways
    tracker.complete_backward_references(str(path), relation_depth=1)
    return tracker


def read_objects(path: Path, entities, filters: Sequence, *, tracker=None,
                 area_filters: Sequence = ()) -> Iterator:
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

    Yields
    ------
    osmium objects, as the FileProcessor yields them.
    """
    import osmium
    from osmium.io import Reader, ThreadPool

    pool = ThreadPool()
    locations = osmium.NodeLocationsForWays(osmium.index.create_map("flex_mem"))
    locations.ignore_errors()  # nodes missing from the extract (or not noted)
    handlers = [] if tracker is None else [_only_for(tracker.id_filter(), osmium.osm.NODE)]
    handlers.append(locations)
    if not area_filters:
        with Reader(str(path), entities, thread_pool=pool) as reader:
            yield from osmium.OsmFileIterator(reader, *handlers, *filters)
        return
    # as FileProcessor.__iter__: the relations first, then the file with the
    # assembled areas interleaved
    areas = osmium.area.AreaManager()
    with Reader(str(path), osmium.osm.RELATION, thread_pool=pool) as reader:
        osmium.apply(reader, *area_filters, areas.first_pass_handler())
    buffered = osmium.BufferIterator(*filters)
    handlers.append(areas.second_pass_to_buffer(buffered))
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
