"""Facet counts for the listing: next to each filter option, how many participants the
current filter would give with that option chosen.

Each facet counts within the current filter *minus its own parameter*, so the options of
one facet are alternatives to each other (the usual "disjunctive" faceting of shops and
search engines): choosing China does not make every other country show zero. Five
aggregate queries in all, whatever the number of participants.
"""

from dataclasses import dataclass

from django.db.models import Count, Q

from .countries import country_name
from .filters import OPEN_SOURCE_CHOICES, ParticipantFilter, segment_ids_with_children
from .models import TIER_ORDER, Kind, Offering, OpenSource

OPEN_SOURCE_LABELS = dict(OPEN_SOURCE_CHOICES)
FACETS = ("tier", "segment", "country", "kind", "open_source")


@dataclass
class Option:
    """One choice of a facet: the value sent in the URL, its label, its count."""

    value: str
    label: str
    count: int
    selected: bool = False
    depth: int = 0


def _queryset_without(filterset, name):
    """The current filter's participants with parameter ``name`` left out, unordered."""
    data = filterset.data.copy()
    data.pop(name, None)
    data.pop("ordering", None)
    other = ParticipantFilter(data, queryset=filterset.queryset, segments=filterset.segments)
    return other.qs.order_by()


def _grouped(queryset, field):
    """``{value: count}`` of ``field`` over ``queryset``: one GROUP BY query."""
    rows = queryset.values(field).annotate(n=Count("pk")).order_by()
    return {row[field]: row["n"] for row in rows}


def _distinct_participants(participants, conditions):
    """For each ``key: Q`` on offerings, the number of distinct participants among
    ``participants`` with an offering matching it: one aggregate query."""
    if not conditions:
        return {}
    aggregates = {
        key: Count("participant", distinct=True, filter=condition) for key, condition in conditions.items()
    }
    return Offering.objects.filter(participant__in=participants).aggregate(**aggregates)


def tier_options(filterset, selected):
    counts = _distinct_participants(
        _queryset_without(filterset, "tier"), {tier.value: Q(segment__tier=tier) for tier in TIER_ORDER}
    )
    return [Option(t.value, t.label, counts[t.value], t.value == selected) for t in TIER_ORDER]


def segment_options(filterset, selected):
    """Segments in chain order with sub-segments after their parent (``depth`` 1); a
    segment's count includes its sub-segments' participants, as the filter does."""
    segments = filterset.segments
    conditions = {
        f"s{s.pk}": Q(segment_id__in=segment_ids_with_children(segments, [s.slug])) for s in segments
    }
    counts = _distinct_participants(_queryset_without(filterset, "segment"), conditions)
    tier_rank = {tier: i for i, tier in enumerate(TIER_ORDER)}
    top = sorted(
        (s for s in segments if s.parent_id is None), key=lambda s: (tier_rank.get(s.tier, 9), s.order)
    )
    options = []
    for parent in top:
        for segment, depth in [(parent, 0)] + [(c, 1) for c in segments if c.parent_id == parent.pk]:
            option = Option(
                segment.slug, segment.name, counts[f"s{segment.pk}"], segment.slug in selected, depth
            )
            option.tier = segment.tier
            options.append(option)
    return options


def country_options(filterset, selected):
    counts = _grouped(_queryset_without(filterset, "country"), "country")
    codes = {code for code, n in counts.items() if code and n} | ({selected} if selected else set())
    options = [Option(code, country_name(code), counts.get(code, 0), code == selected) for code in codes]
    return sorted(options, key=lambda o: o.label)


def kind_options(filterset, selected):
    counts = _grouped(_queryset_without(filterset, "kind"), "kind")
    return [Option(k.value, k.label, counts.get(k.value, 0), k.value == selected) for k in Kind]


def open_source_options(filterset, selected):
    """``yes``, ``partly``, ``no`` and ``true`` (yes or partly); ``false`` means the same
    as ``no`` and is only listed when it is the current value."""
    counts = _grouped(_queryset_without(filterset, "open_source"), "open_source")
    options = [Option(o.value, o.label, counts.get(o.value, 0), o.value == selected) for o in OpenSource]
    either = counts.get("yes", 0) + counts.get("partly", 0)
    options.append(Option("true", OPEN_SOURCE_LABELS["true"], either, selected == "true"))
    if selected == "false":
        options.append(Option("false", OpenSource.NO.label, counts.get("no", 0), True))
    return options


_BUILDERS = {
    "tier": tier_options,
    "segment": segment_options,
    "country": country_options,
    "kind": kind_options,
    "open_source": open_source_options,
}


def facets(filterset, names=FACETS):
    """The facets ``names`` of a bound, valid ``ParticipantFilter``: ``{name: [Option]}``,
    one aggregate query each."""
    data = filterset.form.cleaned_data
    selected = {name: data.get(name) or "" for name in names}
    if "segment" in names:
        selected["segment"] = set(data.get("segment") or [])
    return {name: _BUILDERS[name](filterset, selected[name]) for name in names}
