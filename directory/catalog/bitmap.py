"""The catalog's fast path: the published directory as bitmaps and link arrays in memory.

For every value of the cheap filters (country, kind, open source, each segment) the index
keeps one Python int whose bit *i* is set when the published participant at position *i*
in name order has that value (for a segment: has an offering in it). A filter is an AND of
(ORs of) these bitsets (each filter's ``bits`` in ``criteria.py``) and a count is
``int.bit_count()``, so the total and every facet option of a listing cost microseconds at
100,000 participants, whatever the filter combination, where the same counts in SQL scan
every matching row. Because positions follow name order, a page in the listing's default
order is read off the same bitset (``pks_at``), with no query at all. A participant page's
similar participants are ranked on the same bitsets, and the supply links are kept as
adjacency arrays for the segment pages' trading partners (``LinkIndex``).

``BitmapBackend`` answers the same calls as the reference ``SqlBackend`` (``sql.py``) and
inherits what it does not do faster: pages in an order other than by name.

The bitmap index is built with two queries (0.4 s at 100,000 participants) and, like the
link arrays (0.2 s), kept in each process until the directory changes
(``cache.kept_in_process``); with Redis the first process to build them puts one copy
there for the others. With the counts cache off (``COUNT_CACHE_SECONDS=0``, as in tests)
they are built for every use.
"""

import heapq
import uuid
from array import array
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from directory.catalog import search
from directory.catalog.cache import kept_in_process
from directory.catalog.criteria import ORDERINGS
from directory.catalog.flows import LEADERS, Concentration, supply_links, with_the_flow
from directory.catalog.sql import SqlBackend, SqlSelection
from directory.countries import COUNTRY_GROUPS, country_group
from directory.models import Offering, Participant, Record, Relationship


@dataclass(frozen=True)
class FacetIndex:
    """Bitsets of the published participants by filter value. Bit *i* stands for the
    participant at position *i* in name order (``pks[i]``), so that a page of any filter
    combination in name order is read off the bitset (``pks_at``) as well as counted."""

    everyone: int
    featured: int
    country: dict
    kind: dict
    open_source: dict
    segment: dict  # segment id -> participants with an offering in that very segment
    pks: array  # participant ids in name order (the listing's default order)
    positions: array  # participant id -> position (-1: not in the index)
    # (segment ids, one bitmask of them per position): whose segments a card shows
    segments_by_position: tuple = ((), [])
    # parent id -> the ids of its published subsidiaries, in name order
    children: dict = field(default_factory=dict)
    # record kind slug -> participants holding one in force
    record: dict = field(default_factory=dict)
    # Tells this build from another of the same generation (a change committed while one
    # process built it): link arrays are numbered by one build's positions.
    build_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def union(self, facet, values):
        """Participants having any of ``values`` in ``facet`` (a dict attribute above)."""
        table = getattr(self, facet)
        bits = 0
        for value in values:
            bits |= table.get(value, 0)
        return bits

    def featured_first(self, bits, count):
        """The ids of the first ``count`` participants of ``bits``: the featured ones
        first, each group in name order."""
        featured = self.pks_at(bits & self.featured, 0, count)
        return featured + self.pks_at(bits & ~self.featured, 0, count - len(featured))

    def bits_of(self, pks):
        """The bitset of the participants ``pks`` (those the index does not hold are left out)."""
        positions, size = self.positions, len(self.positions)
        return bits_of(positions[pk] for pk in pks if 0 <= pk < size and positions[pk] >= 0)

    def records_of(self, pk):
        """The kinds of record participant ``pk`` holds in force."""
        position = self.positions[pk] if 0 <= pk < len(self.positions) else -1
        return [kind for kind, bits in self.record.items() if position >= 0 and bits >> position & 1]

    def segment_ids_of(self, pk):
        """The ids of the segments participant ``pk`` has offerings in (none if the index
        does not hold it)."""
        position = self.positions[pk] if 0 <= pk < len(self.positions) else -1
        if position < 0:
            return []
        ids, masks = self.segments_by_position
        mask = masks[position]
        return [segment_id for j, segment_id in enumerate(ids) if mask >> j & 1]

    def similar_to(self, pk, own, parents, limit):
        """The ids of up to ``limit`` published participants other than ``pk`` most like
        it, whose segments are ``own`` (ids) with the parent segments ``parents``: most
        shared segments first, then most shared parent segments, then featured ones, then
        in name order; someone sharing neither is not similar. Everyone is ranked, with a
        few dozen operations on whole bitsets (``exactly``) rather than per participant."""
        others = self.everyone & ~self.bits_of([pk])
        own_counts = plane_counts(self.segment.get(s, 0) for s in own)
        parent_counts = plane_counts(self.segment.get(s, 0) for s in parents)
        found = []
        for shared in range(len(own), -1, -1):
            sharing = others & exactly(own_counts, shared)
            for nearby in range(len(parents), -1 if shared else 0, -1):
                found += self.featured_first(sharing & exactly(parent_counts, nearby), limit - len(found))
                if len(found) == limit:
                    return found
        return found

    def pks_in(self, bits):
        """The ids of the participants in ``bits``, in name order."""
        return [self.pks[i] for i in set_bits(bits, 0, bits.bit_count())]

    def pks_at(self, bits, start, count, descending=False):
        """The ids of the participants number ``start`` to ``start + count - 1`` of
        ``bits`` in name order (Z to A when ``descending``): one page."""
        if descending:
            total = bits.bit_count()
            first = max(total - start - count, 0)
            return [self.pks[i] for i in reversed(set_bits(bits, first, total - start - first))]
        return [self.pks[i] for i in set_bits(bits, start, count)]


def set_bits(bits, start, count):
    """Positions of set bits number ``start`` to ``start + count - 1`` of ``bits``,
    lowest first: a binary search on prefix bit counts finds the first, then the bits
    are read a few thousand at a time, so a page costs microseconds at any depth."""
    if count <= 0 or start < 0 or start >= bits.bit_count():
        return []
    low, high = 0, bits.bit_length()
    while low < high:  # the smallest p with more than ``start`` set bits below p
        middle = (low + high) // 2
        if (bits & ((1 << middle) - 1)).bit_count() > start:
            high = middle
        else:
            low = middle + 1
    offset, rest, found = low - 1, bits >> (low - 1), []
    while rest and len(found) < count:
        text = bin(rest & _CHUNK_MASK)[:1:-1]  # lowest bit first
        i = text.find("1")
        while i != -1 and len(found) < count:
            found.append(offset + i)
            i = text.find("1", i + 1)
        rest >>= _CHUNK
        offset += _CHUNK
    return found


_CHUNK = 4096
_CHUNK_MASK = (1 << _CHUNK) - 1


def bits_of(positions):
    """The bitset with bit *i* set for every *i* in ``positions``."""
    positions = list(positions)
    if not positions:
        return 0
    # Setting bits one by one in an int copies it each time; a bytearray does not.
    buffer = bytearray(max(positions) // 8 + 1)
    for i in positions:
        buffer[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(buffer, "little")


def plane_counts(bitsets):
    """For each position, how many of ``bitsets`` have it set, as bit planes: bit *i* of
    ``planes[j]`` is bit *j* of position *i*'s count (added up like binary numbers)."""
    planes = []
    for carry in bitsets:
        for j, plane in enumerate(planes):
            planes[j], carry = plane ^ carry, plane & carry
            if not carry:
                break
        if carry:
            planes.append(carry)
    return planes


def exactly(planes, count):
    """The positions whose count in ``planes`` (``plane_counts``) is ``count`` (for 0,
    as an infinite bitset: AND it with a finite one)."""
    if count >> len(planes):
        return 0
    bits = -1
    for j, plane in enumerate(planes):
        bits &= plane if count >> j & 1 else ~plane
    return bits


def _grouped_bits(pairs):
    """``{value: bitset}`` from ``(value, position)`` pairs."""
    groups = defaultdict(list)
    for value, position in pairs:
        groups[value].append(position)
    return {value: bits_of(positions) for value, positions in groups.items()}


def index_rows():
    """What the bitmap index reads of each published participant, in the listing's name
    order: on PostgreSQL an index-only scan of ``participant_status_name_facets``
    (migration 0011), already in order."""
    return (
        Participant.objects.published()
        .order_by(*ORDERINGS["name"].fields)
        .values_list("pk", "country", "kind", "open_source", "featured", "parent_id")
    )


def build_index():
    """Read the index from the database: two queries. The participants come in the
    listing's name order (``ORDERINGS["name"]``, sorted by the database, so its
    collation decides as it does for the listing's own query)."""
    rows = list(index_rows())
    pks = array("q", (pk for pk, *_ in rows))
    positions = array("q", [-1]) * (max(pks, default=0) + 1)
    for i, pk in enumerate(pks):
        positions[pk] = i
    # Every offering, no join: the positions say whose participant is published.
    offerings = Offering.objects.order_by().values_list("segment_id", "participant_id")
    # (segment id, position) pairs as two arrays: a list of 275,000 tuples at 100,000
    # participants would take ten times the memory while the index is built.
    member_segments, member_positions = array("q"), array("q")
    for segment_id, pk in offerings.iterator(chunk_size=10_000):
        if pk < len(positions) and positions[pk] >= 0:  # published (as of the first query)
            member_segments.append(segment_id)
            member_positions.append(positions[pk])
    children = defaultdict(list)
    for pk, *_, parent_id in rows:
        if parent_id is not None:
            children[parent_id].append(pk)
    return FacetIndex(
        everyone=(1 << len(rows)) - 1,
        featured=bits_of(i for i, row in enumerate(rows) if row[4]),
        country=_grouped_bits((row[1], i) for i, row in enumerate(rows)),
        kind=_grouped_bits((row[2], i) for i, row in enumerate(rows)),
        open_source=_grouped_bits((row[3], i) for i, row in enumerate(rows)),
        segment=_grouped_bits(zip(member_segments, member_positions, strict=True)),
        record=_grouped_bits(
            (kind, positions[pk])
            for kind, pk in Record.objects.in_force().values_list("kind__slug", "participant_id")
            if pk < len(positions) and positions[pk] >= 0
        ),
        pks=pks,
        positions=positions,
        segments_by_position=_segments_by_position(member_segments, member_positions, len(rows)),
        children=dict(children),
    )


def _segments_by_position(segment_ids, positions, size):
    """``(ids, masks)``: the segment ids in order, and for each of ``size`` positions a
    bitmask of the participant's segments (bit *j* for ``ids[j]``), from the pairs
    ``segment_ids[k], positions[k]``. About 4 MB at 100,000 participants."""
    ids = sorted(set(segment_ids))
    bit = {segment_id: 1 << j for j, segment_id in enumerate(ids)}
    masks = [0] * size
    for segment_id, position in zip(segment_ids, positions, strict=True):
        masks[position] |= bit[segment_id]
    return tuple(ids), masks


@dataclass(frozen=True)
class ChainIndex:
    """The active supply links between published participants, summed up the ways the
    chain pages ask (participants numbered by their bitmap-index position):

    - ``into`` / ``out``: per segment (sub-segments count for their parent too), the
      ``cap`` suppliers with the most links into it / customers of it, as
      ``(position, links, links against the flow)``, most links first, then name order;
    - ``concentration``: per segment, the ``flows.Concentration`` of its suppliers;
    - ``flows``: links per (kind, supplier's country group, customer's country group,
      supplied top segment id, customer top segment id);
    - ``customers``: per position, how many distinct customers it supplies, and
      ``supplying``: the bitset of the positions that supply anyone.

    One pass over the links (about 0.4 s at 200,000), kept per process until the
    directory changes, like the bitmap index it is numbered by."""

    into: dict
    out: dict
    concentration: dict
    flows: dict
    customers: array
    supplying: int


def build_chain_index(index, taxonomy, cap=LEADERS):
    """Read the active supply links (one query, no join: the bitmap ``index``'s positions
    say who is published) and sum them up (``ChainIndex``)."""
    positions, known = index.positions, len(index.positions)
    groups = array("b", bytes(len(index.pks)))
    names = list(COUNTRY_GROUPS)
    for code, bits in index.country.items():
        group = names.index(country_group(code))
        for position in set_bits(bits, 0, bits.bit_count()):
            groups[position] = group
    tops = {s.pk: taxonomy.top_of(s.pk) for s in taxonomy.segments}
    rolled = {s.pk: [s.pk] + ([s.parent_id] if s.parent_id else []) for s in taxonomy.segments}
    into, out = (
        defaultdict(lambda: defaultdict(lambda: [0, 0])),
        defaultdict(lambda: defaultdict(lambda: [0, 0])),
    )
    flow_counts = defaultdict(int)
    pairs = set()
    rows = supply_links(Relationship.objects.order_by()).values_list(
        "supplier_id", "customer_id", "supplied_segment_id", "customer_segment_id", "kind"
    )
    for supplier_id, customer_id, supplied, received, kind in rows.iterator(chunk_size=10_000):
        supplier = positions[supplier_id] if supplier_id < known else -1
        customer = positions[customer_id] if customer_id < known else -1
        if supplier < 0 or customer < 0:
            continue
        pairs.add((supplier, customer))
        if supplied not in tops or received not in tops:  # segments not recorded yet
            continue
        top_supplied, top_received = tops[supplied], tops[received]
        against = 0 if with_the_flow(top_supplied.slug, top_received.slug) else 1
        for segment_id in rolled[received]:
            counts = into[segment_id][supplier]
            counts[0] += 1
            counts[1] += against
        for segment_id in rolled[supplied]:
            counts = out[segment_id][customer]
            counts[0] += 1
            counts[1] += against
        flow_counts[
            kind, names[groups[supplier]], names[groups[customer]], top_supplied.pk, top_received.pk
        ] += 1
        pairs.add((supplier, customer))
    customers = array("q", bytes(8 * len(index.pks)))
    for supplier, _customer in pairs:
        customers[supplier] += 1

    def leaders(side):
        return {
            segment_id: [
                (p, n, a)
                for p, (n, a) in heapq.nsmallest(cap, counts.items(), key=lambda i: (-i[1][0], i[0]))
            ]
            for segment_id, counts in side.items()
        }

    return ChainIndex(
        into=leaders(into),
        out=leaders(out),
        concentration={
            segment_id: Concentration.of(n for n, _ in counts.values()) for segment_id, counts in into.items()
        },
        flows=dict(flow_counts),
        customers=customers,
        supplying=bits_of(i for i, n in enumerate(customers) if n),
    )


def facet_index():
    """The bitmap index for the current generation of the directory."""
    return kept_in_process("facets", build_index, share=True)


def chain_index(index, taxonomy):
    """The ``ChainIndex`` for the current generation of the directory, numbered as the
    bitmap ``index`` of the same generation."""
    return kept_in_process(
        "chain", lambda: build_chain_index(index, taxonomy), share=True, version=index.build_id
    )


class BitmapSelection(SqlSelection):
    """A ``SqlSelection`` counted and paged in name order on the bitmap index."""

    @cached_property
    def index(self):
        return self.backend.index()

    @cached_property
    def _base(self):
        """The scope, and the search matches if any: what every condition narrows."""
        bits = self.index.everyone
        if self.criteria.scope:
            bits &= self.index.union("segment", self.taxonomy.ids([self.criteria.scope]))
        if self.criteria.q:
            if self.criteria.filters():
                # Facets leave one filter out, so they need the query's own matches, not the
                # window left after the other filters: one more window (kept per query).
                ids, _ = search.window(self.backend.published(), self.criteria.q)
            else:
                ids = self._window[0]
            bits &= self.index.bits_of(ids)
        return bits

    @cached_property
    def _conditions(self):
        return {d.name: d.bits(self.index, v, self.taxonomy) for d, v in self.criteria.filters()}

    def _matching(self, leave_out=None):
        bits = self._base
        for name, condition in self._conditions.items():
            if name != leave_out:
                bits &= condition
        return bits

    @cached_property
    def total(self):
        if self._window is not None:  # the window applies the other filters already
            return len(self._window[0])
        return self._matching().bit_count()

    def page_ids(self, start, count):
        order = self.criteria.order
        if order is None or not order.by_name or order.in_chinese:
            return super().page_ids(start, count)
        return self.index.pks_at(self._matching(), start, count, order.descending)

    def facet_counts(self, definition, values):
        rest = self._matching(leave_out=definition.name)
        return {
            value: (rest & definition.bits(self.index, definition.counted(value), self.taxonomy)).bit_count()
            for value in values
        }


class BitmapBackend(SqlBackend):
    """The ``SqlBackend``'s answers from the in-memory index (see the module's docstring)."""

    name = "bitmap"

    def index(self):
        """The bitmap index, read once for this backend's life (a request's answers are
        all from one index)."""
        if not hasattr(self, "_index"):
            self._index = facet_index()
        return self._index

    def select(self, criteria, taxonomy):
        return BitmapSelection(self, criteria, taxonomy)

    def segment_ids_of(self, pks):
        index = self.index()
        return {pk: index.segment_ids_of(pk) for pk in pks}

    def records_of(self, pks):
        index = self.index()
        return {pk: index.records_of(pk) for pk in pks}

    def count_in(self, taxonomy, slugs):
        return self.index().union("segment", taxonomy.ids(slugs)).bit_count()

    def first_in(self, taxonomy, slugs, count):
        index = self.index()
        return index.featured_first(index.union("segment", taxonomy.ids(slugs)), count)

    def tier_count(self, taxonomy, tier):
        return self.index().union("segment", taxonomy.tier_ids(tier)).bit_count()

    def country_counts(self):
        return {code: bits.bit_count() for code, bits in self.index().country.items() if code and bits}

    def total(self):
        return self.index().everyone.bit_count()

    def subsidiaries(self, pk):
        return list(self.index().children.get(pk, []))

    def similar(self, pk, own, parents, limit):
        return self.index().similar_to(pk, own, parents, limit)

    def segment_partners(self, taxonomy, slug):
        segment = taxonomy.get(slug)
        index = self.index()
        chain, pks = chain_index(index, taxonomy), index.pks
        return (
            [(pks[p], n, a) for p, n, a in chain.into.get(segment.pk, [])],
            [(pks[p], n, a) for p, n, a in chain.out.get(segment.pk, [])],
            chain.concentration.get(segment.pk, Concentration()),
        )

    def flows(self, taxonomy, flow_filter):
        found = defaultdict(int)
        for (kind, supplier_group, customer_group, supplied, received), n in chain_index(
            self.index(), taxonomy
        ).flows.items():
            if (
                (not flow_filter.kind or kind == flow_filter.kind)
                and (not flow_filter.supplier_group or supplier_group == flow_filter.supplier_group)
                and (not flow_filter.customer_group or customer_group == flow_filter.customer_group)
            ):
                found[supplied, received] += n
        return dict(found)

    def alternatives(self, taxonomy, pk, segment_ids, country, limit):
        """Those who supply anyone, most customers first, then the others in name order;
        read off the chain index within the segments' bitset, home country and elsewhere."""
        index = self.index()
        chain = chain_index(index, taxonomy)
        members = index.union("segment", segment_ids) & ~index.bits_of([pk])
        home = index.country.get(country, 0) if country else 0
        sides = []
        for bits in (members & home, members & ~home):
            supplying = bits & chain.supplying
            ranked = heapq.nsmallest(
                limit, set_bits(supplying, 0, supplying.bit_count()), key=lambda i: (-chain.customers[i], i)
            )
            ranked += set_bits(bits & ~chain.supplying, 0, limit - len(ranked))
            sides.append([(index.pks[i], chain.customers[i]) for i in ranked])
        return tuple(sides)
