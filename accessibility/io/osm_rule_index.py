"""Which services an OSM object's tags match, without testing every rule (issue 28).

A rule of ``services.toml`` can only match an object that carries its *anchor*: one
positive condition of the rule, an exact ``key = value`` one where the rule has one
(``amenity = "pharmacy"``), otherwise the key of its first positive condition. The
index maps anchors to rules, so an object is tested against the few rules whose anchor
it carries instead of all of them (the services read of a Germany file tests tens of
millions of tagged objects), and gives libosmium the filter that lets only objects
with an anchor reach Python.

The answer is the one of testing every rule: a rule that matches holds its anchor
condition, and every rule with that anchor is tested.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .osm_features import ServiceRules, TagRule

__all__ = ["ServiceIndex"]

#: Condition kinds that hold for an object without the key (no anchor).
_NEGATIVE = frozenset({"absent", "not", "not_regex"})


def _anchor(rule: TagRule):
    """The rule's exact ``key = value(s)`` condition if it has one, else its first
    positive condition (every rule has one: load_service_rules checks it)."""
    positive = [c for c in rule.conditions if c.kind not in _NEGATIVE]
    return next((c for c in positive if c.kind == "eq"), positive[0])


class ServiceIndex:
    """The services of :data:`rules` by anchor.

    Parameters
    ----------
    rules : dict of str to ServiceRules
        As :func:`accessibility.io.osm_features.load_service_rules` returns them.
    """

    def __init__(self, rules: Mapping[str, ServiceRules]) -> None:
        self.names = tuple(rules)
        pairs: dict[str, dict[str, list]] = {}  # key -> value -> [(service no, rule)]
        keys: dict[str, list] = {}  # key -> [(service no, rule)] (no exact anchor)
        for i, sr in enumerate(rules.values()):
            for rule in sr.rules:
                c = _anchor(rule)
                if c.kind == "eq":
                    for v in sorted(c.values):
                        pairs.setdefault(c.key, {}).setdefault(v, []).append((i, rule))
                else:
                    keys.setdefault(c.key, []).append((i, rule))
        self._pairs = tuple(pairs.items())
        self._keys = tuple(keys.items())

    @property
    def anchor_keys(self) -> tuple[str, ...]:
        """Every key an object must carry one of to match a service."""
        return tuple(sorted({k for k, _ in self._pairs} | {k for k, _ in self._keys}))

    def services(self, tags) -> list[str]:
        """The services whose rules ``tags`` (a mapping with ``get``) match, in the
        order of the rules."""
        hit: set[int] = set()
        for key, by_value in self._pairs:
            v = tags.get(key)
            if v is not None:
                for i, rule in by_value.get(v, ()):
                    if i not in hit and rule.matches(tags):
                        hit.add(i)
        for key, candidates in self._keys:
            if key in tags:
                for i, rule in candidates:
                    if i not in hit and rule.matches(tags):
                        hit.add(i)
        return [self.names[i] for i in sorted(hit)] if hit else []

    def osmium_filter(self, extra: tuple = ()):
        """A fresh libosmium filter that passes every object that may match (a
        superset): the anchor tags, or their keys when an anchor is not exact; and
        the objects with one of the ``extra`` (key, value) tags."""
        import osmium

        if self._keys:
            return osmium.filter.KeyFilter(*sorted({*self.anchor_keys, *(k for k, _ in extra)}))
        return osmium.filter.TagFilter(*[(k, v) for k, by_value in self._pairs
                                         for v in by_value], *extra)
