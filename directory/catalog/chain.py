"""The chain as a whole: the map's panels, the stats strip, a segment's neighbours, and
what a participant's page shows around it. Built by ``catalog`` from a backend."""

import copy
from dataclasses import dataclass, field

from django.urls import reverse

from directory.countries import country_name
from directory.models import TIER_ORDER, Participant, Tier

PANEL_CAP = 12
NEIGHBOUR_CAP = 12
SIMILAR_LIMIT = 6  # chips under "Similar participants" on a participant's page
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


def neighbour_segments(segment, taxonomy):
    """Top-level segments of the tier before and after ``segment``'s tier:
    ``(upstream, downstream)``."""
    index = TIER_ORDER.index(segment.tier)
    top = taxonomy.top_level
    upstream = [s for s in top if index > 0 and s.tier == TIER_ORDER[index - 1]]
    downstream = [s for s in top if index + 1 < len(TIER_ORDER) and s.tier == TIER_ORDER[index + 1]]
    return upstream, downstream


def named(sides, cap):
    """``([(pk, links)], ...)`` -> for each side, the first ``cap`` participants (slug and
    names only, read in one query) with ``links`` set, most links first, then by name."""
    people = Participant.objects.only("slug", "name_en", "name_zh").in_bulk(
        {pk for rows in sides for pk, _ in rows}
    )
    named_sides = []
    for rows in sides:
        found = []
        for pk, n in rows:
            if pk in people:
                participant = copy.copy(people[pk])  # one participant can be on both sides
                participant.links = n
                found.append(participant)
        found.sort(key=lambda p: (-p.links, p.name_en, p.pk))
        named_sides.append(found[:cap])
    return tuple(named_sides)
