"""The chain as a whole: the map's panels, the stats strip, a segment's neighbours, and
what a participant's page shows around it. Built by ``catalog`` from a backend."""

import copy
from dataclasses import dataclass, field

from django.urls import reverse

from directory.catalog.flows import Concentration, downstream_of, upstream_of, with_the_flow
from directory.countries import country_name
from directory.models import TIER_ORDER, Participant, Tier

PANEL_CAP = 12
SIMILAR_LIMIT = 6  # chips under "Similar participants" on a participant's page
DEPENDENCY_DEPTH = 2  # steps up and down a participant's page shows
ALTERNATIVES = 5  # alternatives per segment, in the same country and elsewhere
ALTERNATIVE_SEGMENTS = 3  # of a participant's segments, the first that get alternatives
COUNTRY_LIMIT = 8  # countries in the stats strip


@dataclass
class Panel:
    """One segment on the chain map: its first participants (featured first) and count."""

    segment: object
    count: int = 0
    participants: list = field(default_factory=list)

    @property
    def more(self):
        return max(self.count - len(self.participants), 0)


def chain_map(backend, taxonomy, cap=PANEL_CAP):
    """``{"tiers": [...], "stats": {...}}``: the three tiers, each ``{"tier", "label",
    "panels"}`` with a panel per top-level segment (counting its sub-segments'
    participants too), and the stats strip. One query, for the panels' chips."""
    top = taxonomy.top_level
    firsts = {s.pk: backend.first_in(taxonomy, [s.slug], cap) for s in top}
    chips = {
        p.pk: p
        for p in Participant.objects.published()
        .filter(pk__in=[pk for pks in firsts.values() for pk in pks])
        .card_rows()
    }
    panels = [
        Panel(s, backend.count_in(taxonomy, [s.slug]), [chips[pk] for pk in firsts[s.pk] if pk in chips])
        for s in top
    ]
    tiers = [
        {"tier": tier, "label": Tier(tier).label, "panels": [p for p in panels if p.segment.tier == tier]}
        for tier in TIER_ORDER
    ]
    return {"tiers": tiers, "stats": _stats(backend, taxonomy, tiers)}


def _bars(rows):
    """``[(label, n, url-or-None)]`` -> rows with ``percent`` of the largest, for CSS bars."""
    top = max((n for _, n, _ in rows), default=0) or 1
    return [
        {"label": label, "count": n, "url": url, "percent": round(100 * n / top)} for label, n, url in rows
    ]


def _stats(backend, taxonomy, tiers):
    """Participants per tier, per segment (from the map's panels) and in the top countries."""
    countries = sorted(backend.country_counts().items(), key=lambda row: (-row[1], row[0]))[:COUNTRY_LIMIT]
    listing = reverse("directory:participants")
    return {
        "tiers": _bars([(t["label"], backend.tier_count(taxonomy, t["tier"]), None) for t in tiers]),
        "segments": _bars(
            [(p.segment.name, p.count, p.segment.get_absolute_url()) for t in tiers for p in t["panels"]]
        ),
        "countries": _bars([(country_name(code), n, f"{listing}?country={code}") for code, n in countries]),
    }


def named(rows):
    """``[(pk, links, against)]`` -> the participants (slug and names only, one query)
    with ``links`` and ``against`` (how many of those run against the chain's flow) set,
    in the same order."""
    people = Participant.objects.only("slug", "name_en", "name_zh", "country").in_bulk(
        [pk for pk, *_ in rows]
    )
    found = []
    for pk, n, against in rows:
        if pk in people:
            participant = copy.copy(people[pk])  # one participant can be on both sides
            participant.links, participant.against = n, against
            found.append(participant)
    return found


@dataclass
class SegmentChain:
    """What a segment page shows of the chain around the segment."""

    upstream: list  # top-level segments that normally feed it
    downstream: list  # and that it normally feeds
    suppliers: list  # participants with .links and .against, most links first
    customers: list
    concentration: Concentration


def segment_chain(backend, taxonomy, segment):
    """The segment's canonical neighbours, the participants supplying into it and buying
    from it (active supply links, by customer and by supplied segment), and the
    concentration of its suppliers. Two queries: what the backend reads, and the names."""
    top = taxonomy.top_of(segment.pk)
    suppliers, customers, concentration = backend.segment_partners(taxonomy, segment.slug)
    people = named([*suppliers, *customers])
    return SegmentChain(
        upstream=[taxonomy.get(slug) for slug in upstream_of(top.slug) if taxonomy.get(slug)],
        downstream=[taxonomy.get(slug) for slug in downstream_of(top.slug) if taxonomy.get(slug)],
        suppliers=people[: len(suppliers)],
        customers=people[len(suppliers) :],
        concentration=concentration,
    )


@dataclass
class FlowTable:
    """The chain's supply flows between top-level segments under one ``FlowFilter``."""

    segments: list  # top-level segments in chain order
    cells: dict  # (supplied id, customer id) -> links
    concentration: dict  # segment id -> Concentration of its suppliers (unfiltered)

    @property
    def rows(self):
        """``(supplied, customer, links, with the flow)`` of every non-empty flow, largest first."""
        by_id = {s.pk: s for s in self.segments}
        rows = [
            (by_id[a], by_id[b], n, with_the_flow(by_id[a].slug, by_id[b].slug))
            for (a, b), n in self.cells.items()
            if n and a in by_id and b in by_id
        ]
        return sorted(rows, key=lambda r: (-r[2], self.segments.index(r[0]), self.segments.index(r[1])))

    @property
    def total(self):
        return sum(self.cells.values())

    @property
    def matrix(self):
        """For each supplied segment, its row of ``(customer segment, links)``."""
        return [(a, [(b, self.cells.get((a.pk, b.pk), 0)) for b in self.segments]) for a in self.segments]


def flow_table(backend, taxonomy, flow_filter):
    top = taxonomy.top_level
    return FlowTable(
        segments=top,
        cells=backend.flows(taxonomy, flow_filter),
        concentration={s.pk: backend.segment_partners(taxonomy, s.slug)[2] for s in top},
    )


def counted(participant, customers):
    """``participant`` with ``customers`` set (for alternatives)."""
    participant = copy.copy(participant)
    participant.customers = customers
    return participant


def by_segment(taxonomy, levels):
    """``[[(participant, segment id)]]`` per step -> ``[(step, [(top segment, [participants])])]``,
    each step's participants grouped by the top-level segment of what they supply."""
    grouped = []
    for step, level in enumerate(levels, 1):
        groups = {}
        for participant, segment_id in level:
            top = taxonomy.top_of(segment_id) if segment_id else None
            groups.setdefault(top, []).append(participant)
        order = {s.pk: i for i, s in enumerate(taxonomy.top_level)}
        grouped.append((step, sorted(groups.items(), key=lambda g: order.get(g[0].pk, 99) if g[0] else 99)))
    return grouped
