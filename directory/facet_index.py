"""In-memory indexes of the published directory: a bitmap index for exact counts in the
listing and the API, and the supply links as adjacency arrays for the segment pages'
trading partners (``LinkIndex``, ``most_linked``), so neither scans the database.

For every value of the cheap filters (country, kind, open source, each segment) the index
keeps one Python int whose bit *pk* is set when published participant *pk* has that value
(for a segment: has an offering in it). A filter is an AND of (ORs of) these bitsets and a
count is ``int.bit_count()``, so the total and every facet option of a listing cost
microseconds at 100,000 participants, whatever the filter combination, where the same
counts in SQL scan every matching row (hundreds of milliseconds per new combination).

The bitmap index is built with two queries (about half a second at 100,000 participants)
and, like the link arrays, kept in each process for the directory's current generation
(``caching.py``), so each process rebuilds them once after a committed change. They are
not put in the shared cache: at a few megabytes per generation, frequent edits would fill
Redis with stale copies, and unpickling them would cost each request more than the work.
With the counts cache off (``COUNT_CACHE_SECONDS=0``, as in tests) they are built for
every use.
"""

import heapq
from array import array
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings

from .caching import generation
from .filters import OPEN_SOURCE_VALUES, segment_ids_with_children
from .models import Offering, Participant, Relationship, Status


@dataclass(frozen=True)
class FacetIndex:
    """Bitsets (bit *pk* set) of the published participants, by filter value."""

    everyone: int
    country: dict
    kind: dict
    open_source: dict
    segment: dict  # segment id -> participants with an offering in that very segment

    def union(self, facet, values):
        """Participants having any of ``values`` in ``facet`` (a dict attribute above)."""
        table = getattr(self, facet)
        bits = 0
        for value in values:
            bits |= table.get(value, 0)
        return bits


def bits_of(pks):
    """The bitset with bit *pk* set for every pk in ``pks``."""
    pks = list(pks)
    if not pks:
        return 0
    # Setting bits one by one in an int copies it each time; a bytearray does not.
    buffer = bytearray(max(pks) // 8 + 1)
    for pk in pks:
        buffer[pk >> 3] |= 1 << (pk & 7)
    return int.from_bytes(buffer, "little")


def _grouped_bits(pairs):
    """``{value: bitset}`` from ``(value, pk)`` pairs."""
    groups = defaultdict(list)
    for value, pk in pairs:
        groups[value].append(pk)
    return {value: bits_of(pks) for value, pks in groups.items()}


def build_index():
    """Read the index from the database: two queries."""
    rows = list(
        Participant.objects.published().order_by().values_list("pk", "country", "kind", "open_source")
    )
    offerings = (
        Offering.objects.filter(participant__status=Status.PUBLISHED)
        .order_by()
        .values_list("segment_id", "participant_id")
    )
    return FacetIndex(
        everyone=bits_of(pk for pk, *_ in rows),
        country=_grouped_bits((country, pk) for pk, country, _, _ in rows),
        kind=_grouped_bits((kind, pk) for pk, _, kind, _ in rows),
        open_source=_grouped_bits((open_source, pk) for pk, _, _, open_source in rows),
        segment=_grouped_bits(offerings.iterator(chunk_size=10_000)),
    )


@dataclass(frozen=True)
class LinkIndex:
    """The supply links between published participants as adjacency arrays (CSR): the
    customers of supplier *pk* are ``customers[customers_start[pk]:customers_start[pk + 1]]``
    and its suppliers likewise; ``by_customers`` / ``by_suppliers`` list the participants
    with most customers / most suppliers first. About 10 MB at 100,000 participants and
    200,000 links; built in about a second."""

    customers_start: array
    customers: array
    suppliers_start: array
    suppliers: array
    by_customers: array
    by_suppliers: array


def _adjacency(sources, targets, size):
    """CSR arrays of ``targets`` grouped by ``sources`` (ids below ``size``)."""
    start = array("q", bytes(8 * (size + 1)))
    for source in sources:
        start[source + 1] += 1
    for pk in range(size):
        start[pk + 1] += start[pk]
    filled = array("q", start)
    grouped = array("q", bytes(8 * len(targets)))
    for source, target in zip(sources, targets, strict=True):
        grouped[filled[source]] = target
        filled[source] += 1
    by_degree = array("q", sorted(range(size), key=lambda pk: start[pk] - start[pk + 1]))
    return start, grouped, by_degree


def build_link_index():
    """Read the links from the database: one query."""
    suppliers, customers = array("q"), array("q")
    for supplier_id, customer_id in (
        Relationship.objects.filter(supplier__status=Status.PUBLISHED, customer__status=Status.PUBLISHED)
        .order_by()
        .values_list("supplier_id", "customer_id")
        .iterator(chunk_size=10_000)
    ):
        suppliers.append(supplier_id)
        customers.append(customer_id)
    size = max(max(suppliers, default=0), max(customers, default=0)) + 1
    customers_start, by_supplier, by_customers = _adjacency(suppliers, customers, size)
    suppliers_start, by_customer, by_suppliers = _adjacency(customers, suppliers, size)
    return LinkIndex(customers_start, by_supplier, suppliers_start, by_customer, by_customers, by_suppliers)


_process_copy = {}


def _for_this_generation(name, build):
    """``build()``'s value, kept in this process for the directory's current generation
    (built for every call when the counts cache is off)."""
    if settings.COUNT_CACHE_SECONDS <= 0:
        return build()
    token = generation()
    held = _process_copy.get(name)
    if held is not None and held[0] == token:
        return held[1]
    value = build()
    _process_copy[name] = (token, value)
    return value


def facet_index():
    """The bitmap index for the current generation of the directory."""
    return _for_this_generation("facets", build_index)


def link_index():
    """The link arrays for the current generation of the directory."""
    return _for_this_generation("links", build_link_index)


def most_linked(order, start, partners, members, cap):
    """``{pk: links}`` of the participants with the most links to ``members`` (a bitset):
    the ``cap`` best counts and every participant tied with the last of them (the caller
    orders ties by name). ``order``, ``start`` and ``partners`` are one side of a
    ``LinkIndex``.

    Exact without counting everyone: participants come most-linked first, and once the
    ``cap``-th best count is known, nobody with fewer links in all can reach it, so the
    scan stops there (a few hundred participants for a segment at 100,000).
    """
    inside = members.to_bytes((members.bit_length() + 7) // 8 or 1, "little")
    limit = len(inside) * 8
    counts, best, threshold = {}, [], 1
    for pk in order:
        first, last = start[pk], start[pk + 1]
        if last - first < threshold:
            break
        n = sum(
            1 for other in partners[first:last] if other < limit and inside[other >> 3] >> (other & 7) & 1
        )
        if n < threshold:
            continue
        counts[pk] = n
        heapq.heappush(best, n)
        if len(best) > cap:
            heapq.heappop(best)
        if len(best) == cap:
            threshold = best[0]
    return {pk: n for pk, n in counts.items() if n >= threshold}


def filter_bits(index, data, segments):
    """``{parameter: bitset}`` for each of the index's filters set in the cleaned filter
    ``data`` (``tier``, ``segment``, ``kind``, ``country``, ``open_source``)."""
    conditions = {}
    if data.get("tier"):
        conditions["tier"] = index.union("segment", [s.pk for s in segments if s.tier == data["tier"]])
    if data.get("segment"):
        conditions["segment"] = index.union("segment", segment_ids_with_children(segments, data["segment"]))
    if data.get("kind"):
        conditions["kind"] = index.kind.get(data["kind"], 0)
    if data.get("country"):
        conditions["country"] = index.country.get(data["country"], 0)
    if data.get("open_source"):
        conditions["open_source"] = index.union("open_source", OPEN_SOURCE_VALUES[data["open_source"]])
    return conditions


@dataclass
class Selection:
    """A listing's filter as bitsets: ``base`` (the page's own scope, and the search
    matches if any) and one bitset per filter parameter. ``known_total``: the number of
    results when the caller already knows it (a search window's size)."""

    base: int
    conditions: dict
    known_total: int | None = None

    def matching(self, leave_out=None):
        """Participants matching every condition except ``leave_out``'s."""
        bits = self.base
        for name, condition in self.conditions.items():
            if name != leave_out:
                bits &= condition
        return bits

    @property
    def total(self):
        return self.matching().bit_count() if self.known_total is None else self.known_total
