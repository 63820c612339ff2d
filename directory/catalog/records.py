"""Reads of compliance and risk records: a participant's records, the kinds with their
counts, and the holders of one kind. Plain SQL on indexed columns."""

from django.core.paginator import Paginator
from django.db.models import Case, Count, Prefetch, Q, When

from directory.models import Record, RecordKind, RecordStatus, Source

HOLDERS_PER_PAGE = 50


def _with_sources(queryset):
    return queryset.prefetch_related(
        Prefetch("sources", queryset=Source.objects.order_by("-published", "publisher"))
    )


def records_of(participant):
    """Every record of ``participant`` (in force first, then by kind and date), with its
    kind and sources: two queries (one when it has none)."""
    records = list(_with_sources(Record.objects.filter(participant=participant).select_related("kind")))
    return sorted(records, key=lambda r: (not r.in_force, r.kind.order, r.kind.slug, r.date))


def record_kinds():
    """Every kind of record with ``holders``: the published participants holding one in
    force. One query."""
    holding = Count(
        "records__participant",
        filter=Q(records__status=RecordStatus.IN_FORCE, records__participant__status="published"),
        distinct=True,
    )
    # An aggregate drops Meta.ordering: the kinds' own order is asked for again.
    return list(RecordKind.objects.annotate(holders=holding).order_by("order", "slug"))


def holders(kind, segment_ids=(), country="", page=1):
    """A page of the records of ``kind`` held by published participants (in force first,
    then the others, each newest first), within ``segment_ids`` and ``country``."""
    queryset = Record.objects.filter(kind=kind, participant__status="published")
    if segment_ids:
        queryset = queryset.filter(participant__offerings__segment_id__in=segment_ids).distinct()
    if country:
        queryset = queryset.filter(participant__country=country)
    queryset = _with_sources(
        queryset.select_related("participant", "kind").only(
            *(f.name for f in Record._meta.concrete_fields),
            "kind__slug",
            "kind__list_changes",
            "participant__slug",
            "participant__name_en",
            "participant__name_zh",
            "participant__country",
        )
    ).order_by(Case(When(status=RecordStatus.IN_FORCE, then=0), default=1), "-date", "participant__name_en")
    return Paginator(queryset, HOLDERS_PER_PAGE, allow_empty_first_page=True).get_page(page)
