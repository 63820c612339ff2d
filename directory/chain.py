"""Read-only views of the chain as a whole: the map's panels, the stats strip and a
segment's neighbours. Each function runs a fixed number of queries whatever the data size."""

import copy
from dataclasses import dataclass, field

from django.db.models import Count, F, Window
from django.db.models.functions import Coalesce, DenseRank
from django.urls import reverse

from .countries import country_name
from .facet_index import facet_index, link_index, most_linked
from .filters import segment_ids_with_children
from .models import TIER_ORDER, Offering, Participant, Status, Tier

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


def _published_offerings():
    # A sub-segment's offerings count towards its top-level segment's panel.
    return Offering.objects.filter(participant__status=Status.PUBLISHED).annotate(
        panel=Coalesce("segment__parent_id", "segment_id")
    )


def chain_map(segments, cap=PANEL_CAP):
    """The three tiers, each ``{"tier", "label", "panels"}``, with a panel per top-level
    segment. Two queries: the distinct participant count per panel, and the first ``cap``
    participants of every panel in one windowed query."""
    counts = dict(
        _published_offerings()
        .values("panel")
        .annotate(n=Count("participant", distinct=True))
        .values_list("panel", "n")
    )
    # DENSE_RANK gives a participant with two offerings in one panel a single rank, so
    # ``rank <= cap`` keeps ``cap`` distinct participants per panel.
    ranked = (
        _published_offerings()
        .annotate(
            rank=Window(
                DenseRank(),
                partition_by=[F("panel")],
                order_by=[
                    F("participant__featured").desc(),
                    F("participant__name_en").asc(),
                    F("participant_id"),
                ],
            )
        )
        .filter(rank__lte=cap)
        .select_related("participant")
        .order_by("panel", "rank")
    )
    panels = {s.pk: Panel(s, counts.get(s.pk, 0)) for s in segments if s.parent_id is None}
    for offering in ranked:
        panel = panels.get(offering.panel)
        if panel and offering.participant not in panel.participants:
            panel.participants.append(offering.participant)
    return [
        {
            "tier": tier,
            "label": Tier(tier).label,
            "panels": [p for p in panels.values() if p.segment.tier == tier],
        }
        for tier in TIER_ORDER
    ]


def _bars(rows):
    """``[(label, n, url-or-None)]`` -> rows with ``percent`` of the largest, for CSS bars."""
    top = max((n for _, n, _ in rows), default=0) or 1
    return [
        {"label": label, "count": n, "url": url, "percent": round(100 * n / top)} for label, n, url in rows
    ]


def stats(chain_tiers, country_limit=8):
    """The stats strip: participants per tier, per segment (from the map's panels) and in
    the top countries. Two queries."""
    per_tier = dict(
        Offering.objects.filter(participant__status=Status.PUBLISHED)
        .values("segment__tier")
        .annotate(n=Count("participant", distinct=True))
        .values_list("segment__tier", "n")
    )
    countries = (
        Participant.objects.published()
        .exclude(country="")
        .values("country")
        .annotate(n=Count("pk"))
        .order_by("-n", "country")[:country_limit]
    )
    return {
        "tiers": _bars([(t["label"], per_tier.get(t["tier"], 0), None) for t in chain_tiers]),
        "segments": _bars(
            [
                (p.segment.name, p.count, p.segment.get_absolute_url())
                for t in chain_tiers
                for p in t["panels"]
            ]
        ),
        "countries": _bars(
            [
                (
                    country_name(r["country"]),
                    r["n"],
                    f"{reverse('directory:participants')}?country={r['country']}",
                )
                for r in countries
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
    members = index.union("segment", segment_ids_with_children(segments, [segment.slug]))
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
