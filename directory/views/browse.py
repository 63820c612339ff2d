"""Public pages for browsing the chain."""

from django.db.models import Count, Q
from django.shortcuts import render

from ..models import TIER_ORDER, Participant, Segment, Status, Tier


def home(request):
    """The three tiers with their segments and the number of published participants in each."""
    segments = Segment.objects.top_level().annotate(
        participant_count=Count(
            "offerings__participant",
            filter=Q(offerings__participant__status=Status.PUBLISHED),
            distinct=True,
        )
    )
    tiers = [
        {"tier": tier, "label": Tier(tier).label, "segments": [s for s in segments if s.tier == tier]}
        for tier in TIER_ORDER
    ]
    total = Participant.objects.published().count()
    return render(request, "directory/home.html", {"tiers": tiers, "total": total})
