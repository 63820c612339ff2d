"""Read-only views of the chain as a whole: the map's panels, the stats strip and a
segment's neighbours. Each function runs a fixed number of queries whatever the data size."""

import copy
from dataclasses import dataclass, field

from django.urls import reverse

from .countries import country_name
from .facet_index import facet_index, link_index, most_linked
from .models import TIER_ORDER, Participant, Tier

PANEL_CAP = 12
NEIGHBOUR_CAP = 12
SIMILAR_LIMIT = 6  # chips under "Similar participants" on a participant's page


@dataclass
class Panel:
    """One segment on the chain map: its first participants (featured first) and count."""

    segment: object
    count: int = 0
    participants: list = field(default_factory=list)

    @property
    def more(self):
        return max(self.count - len(self.participants), 0)


def chain_map(segments, index, cap=PANEL_CAP):
    """The three tiers, each ``{"tier", "label", "panels"}``, with a panel per top-level
    segment (it counts its sub-segments' participants too). Counted and listed from the
    bitmap ``index``: one query, for the chips of the panels' first participants.

    In SQL the count and the first participants of every panel took two queries over
    every offering (2.2 s at 100,000 participants) once per change of the directory; the
    index is built once per process per change anyway, and the map then costs
    microseconds on top of it."""
    top = [s for s in segments if s.parent_id is None]
    members = {s.pk: index.members_of(segments, [s.slug]) for s in top}
    firsts = {pk: index.featured_first(bits, cap) for pk, bits in members.items()}
    chips = {
        p.pk: p
        for p in Participant.objects.published()
        .filter(pk__in=[pk for pks in firsts.values() for pk in pks])
        .card_rows()
    }
    panels = [
        Panel(s, members[s.pk].bit_count(), [chips[pk] for pk in firsts[s.pk] if pk in chips]) for s in top
    ]
    return [
        {
            "tier": tier,
            "label": Tier(tier).label,
            "panels": [p for p in panels if p.segment.tier == tier],
        }
        for tier in TIER_ORDER
    ]


def _bars(rows):
    """``[(label, n, url-or-None)]`` -> rows with ``percent`` of the largest, for CSS bars."""
    top = max((n for _, n, _ in rows), default=0) or 1
    return [
        {"label": label, "count": n, "url": url, "percent": round(100 * n / top)} for label, n, url in rows
    ]


def stats(chain_tiers, segments, index, country_limit=8):
    """The stats strip: participants per tier, per segment (from the map's panels) and in
    the top countries, counted from the bitmap ``index``: no query."""
    countries = sorted(
        ((code, bits.bit_count()) for code, bits in index.country.items() if code),
        key=lambda row: (-row[1], row[0]),
    )[:country_limit]
    return {
        "tiers": _bars(
            [
                (
                    t["label"],
                    index.union("segment", [s.pk for s in segments if s.tier == t["tier"]]).bit_count(),
                    None,
                )
                for t in chain_tiers
            ]
        ),
        "segments": _bars(
            [
                (p.segment.name, p.count, p.segment.get_absolute_url())
                for t in chain_tiers
                for p in t["panels"]
            ]
        ),
        "countries": _bars(
            [
                (country_name(code), n, f"{reverse('directory:participants')}?country={code}")
                for code, n in countries
            ]
        ),
    }


def neighbour_segments(segment, segments):
    """Top-level segments of the tier before and after ``segment``'s tier:
    ``(upstream, downstream)``."""
    index = TIER_ORDER.index(segment.tier)
    top = [s for s in segments if s.parent_id is None]
    upstream = [s for s in top if index > 0 and s.tier == TIER_ORDER[index - 1]]
    downstream = [s for s in top if index + 1 < len(TIER_ORDER) and s.tier == TIER_ORDER[index + 1]]
    return upstream, downstream


def trading_partners(segment, segments, cap=NEIGHBOUR_CAP):
    """Published participants that supply this segment's participants (those of its
    sub-segments included), and those that buy from them, most links first, then by name:
    ``(suppliers, customers)``, each with ``links``.

    From the in-memory link arrays and the bitmap index (facet_index.py), so no query
    aggregates the segment's links (which read all of them: 0.2–0.6 s per segment at
    100,000 participants); one query for the names. Exact: see ``most_linked``.
    """
    index = facet_index()
    links = link_index(index)
    # Both number participants by position, so the segment's bitset is the members'.
    members = index.members_of(segments, [segment.slug])
    leaders = [
        {index.pks[i]: n for i, n in side.items()}
        for side in (
            most_linked(links.by_customers, links.customers_start, links.customers, members, cap),
            most_linked(links.by_suppliers, links.suppliers_start, links.suppliers, members, cap),
        )
    ]
    people = Participant.objects.only("slug", "name_en", "name_zh").in_bulk(
        {pk for side in leaders for pk in side}
    )
    return tuple(_ranked(side, people, cap) for side in leaders)


def relatives(participant, segments, limit=SIMILAR_LIMIT):
    """``(subsidiaries, similar)``: the published subsidiaries of ``participant`` in name
    order, and up to ``limit`` published participants most like it (its segments being
    ``segments``), ranked over everyone by the bitmap index (``FacetIndex.similar_to``:
    most shared segments, then most shared parent segments, featured, name). The index
    gives the ids of both; one query reads what the page shows of them (none when both
    are empty)."""
    index = facet_index()
    own = [s.pk for s in segments]
    parents = sorted({s.parent_id for s in segments if s.parent_id} - set(own))
    subsidiaries = index.children.get(participant.pk, [])
    similar = index.similar_to(participant.pk, own, parents, limit)
    found = Participant.objects.only("slug", "name_en", "name_zh", "logo", "featured").in_bulk(
        [*subsidiaries, *similar]
    )
    return tuple([found[pk] for pk in ids if pk in found] for ids in (subsidiaries, similar))


def _ranked(links, people, cap):
    ranked = []
    for pk, n in links.items():
        if pk not in people:  # deleted since the link arrays were read
            continue
        participant = copy.copy(people[pk])  # one participant can be on both sides
        participant.links = n
        ranked.append(participant)
    ranked.sort(key=lambda p: (-p.links, p.name_en, p.pk))
    return ranked[:cap]
