"""The catalog: the one door through which pages, the API, feeds and sitemaps read the
published directory.

Callers ask questions in the chain's own words and get plain answers; how an answer is
made fast (an in-memory index, a cache, the generation of the directory) stays inside
this package:

- ``listing(criteria, page, page_size)``: one page of participants matching a
  ``Criteria`` (``criteria.py``), with its total, facets and notes.
- ``chain_map()``: the tiers and segment panels of the home page, with the stats strip.
- ``segment(slug)``, ``segment_children(segment)``, ``neighbours(segment)``,
  ``trading_partners(segment)``: what a segment page shows around its listing.
- ``profile(slug)``: everything a participant's page shows.
- ``export(criteria)``: every participant matching the criteria, for the CSV export.
- ``segments()``, ``segment_counts()``, ``recently_published(n)``, ``sitemap_participants()``.

The answers come from a backend (``CATALOG_BACKEND``): ``bitmap`` (default, the fast
path in ``bitmap.py``) or ``sql`` (the reference in ``sql.py``); both give the same
answers, which ``tests/test_catalog_backends.py`` checks on random data.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import F, Prefetch, Q
from django.utils.translation import get_language

from directory.catalog import chain, search
from directory.catalog.bitmap import BitmapBackend
from directory.catalog.cache import remember
from directory.catalog.criteria import Criteria, taxonomy
from directory.catalog.listing import (
    FACETS,
    SEGMENT_FACETS,
    Listing,
    page_number_from,
    page_size_from,
    paginator,
)
from directory.catalog.sql import SqlBackend
from directory.countries import country_name
from directory.models import Offering, Participant, Relationship, Status

BACKENDS = {"bitmap": BitmapBackend, "sql": SqlBackend}


def backend():
    """The backend the ``CATALOG_BACKEND`` setting names."""
    return BACKENDS[settings.CATALOG_BACKEND]()


def segments():
    """Every segment with its parent, in model order (kept until the directory changes)."""
    return taxonomy().segments


def segment(slug):
    """The segment ``slug``, or None."""
    return taxonomy().get(slug)


def segment_children(segment_):
    return taxonomy().children(segment_)


def neighbours(segment_):
    """``(upstream, downstream)``: the segments before and after ``segment_`` in the chain."""
    return chain.neighbour_segments(segment_, taxonomy())


def listing(criteria, page=None, page_size=None, facets=FACETS, strict=False, notes=None):
    """One page of the published participants matching ``criteria``.

    ``page`` and ``page_size`` are as the request gave them. A page (``strict`` False)
    shows the nearest page and size for a bad value, with a note; the API checks them
    itself and passes numbers. The criteria's own notes come first in ``notes``."""
    notes = [*criteria.notes, *(notes or [])]
    tax = taxonomy()
    source = backend()
    selection = source.select(criteria, tax)
    size = page_size if strict else page_size_from(page_size, notes)
    pages = paginator(selection, size)
    number = page if strict else page_number_from(page, pages.num_pages, notes)
    return Listing(criteria, pages.page(number), size, selection, tax, source, notes, facets)


def count(criteria):
    """How many published participants match ``criteria`` (a search: within its window)."""
    return backend().select(criteria, taxonomy()).total


def suggestions(criteria):
    """For a search that found nothing: ``[(slug, name_en, name_zh)]`` of the participants
    whose names are nearest to its query."""
    return search.suggestions(Participant.objects.published(), criteria.q) if criteria.q else []


def chain_map():
    """The home page's tiers of segment panels and its stats strip (``chain.chain_map``),
    kept per language until the directory changes."""
    return remember("chain-map", (get_language(),), lambda: chain.chain_map(backend(), taxonomy()))


def total():
    """The number of published participants."""
    return backend().total()


def segment_counts():
    """``{segment id: published participants in it or its sub-segments}``."""
    tax, source = taxonomy(), backend()
    return {s.pk: source.count_in(tax, [s.slug]) for s in tax.segments}


def trading_partners(segment_, cap=chain.NEIGHBOUR_CAP):
    """``(suppliers, customers)``: the participants with the most supply links into, and
    out of, the segment's participants, each with ``links``; kept until the next change."""

    def compute():
        return chain.named(backend().trading_partners(taxonomy(), segment_.slug, cap), cap)

    return remember("trading-partners", (segment_.slug, cap), compute)


@dataclass
class Profile:
    """What a participant's page shows."""

    participant: Participant
    segments: list
    offering_groups: list
    suppliers: list
    customers: list
    parent: Participant | None
    subsidiaries: list = field(default_factory=list)
    similar: list = field(default_factory=list)

    @property
    def country_label(self):
        return country_name(self.participant.country)


def profile(slug):
    """The published participant ``slug`` with its offerings by segment, links to
    published suppliers and customers, parent, subsidiaries and similar participants;
    None when there is no such published participant."""
    participant = (
        Participant.objects.published()
        .select_related("parent")
        .prefetch_related("tags", Prefetch("offerings", queryset=Offering.objects.select_related("segment")))
        .filter(slug=slug)
        .first()
    )
    if participant is None:
        return None
    tax, source = taxonomy(), backend()
    offerings = list(participant.offerings.all())
    own = tax.in_chain_order({o.segment_id for o in offerings})
    suppliers, customers = _links_of(participant)
    parents = sorted({s.parent_id for s in own if s.parent_id} - {s.pk for s in own})
    subsidiaries = source.subsidiaries(participant.pk)
    similar = source.similar(participant.pk, [s.pk for s in own], parents, chain.SIMILAR_LIMIT)
    found = Participant.objects.only("slug", "name_en", "name_zh", "logo", "featured").in_bulk(
        [*subsidiaries, *similar]
    )
    parent = participant.parent if participant.parent_id and participant.parent.is_published else None
    return Profile(
        participant=participant,
        segments=own,
        offering_groups=[(s, [o for o in offerings if o.segment_id == s.pk]) for s in own],
        suppliers=suppliers,
        customers=customers,
        parent=parent,
        subsidiaries=[found[pk] for pk in subsidiaries if pk in found],
        similar=[found[pk] for pk in similar if pk in found],
    )


def _links_of(participant):
    """``(suppliers, customers)``: the links into ``participant`` from published suppliers
    and from it to published customers, by kind and the other side's name. One query."""
    rows = list(
        Relationship.objects.filter(
            Q(customer=participant, supplier__status=Status.PUBLISHED)
            | Q(supplier=participant, customer__status=Status.PUBLISHED)
        )
        .select_related("supplier", "customer")
        # A hub has dozens of links: load only what a page shows of the other side.
        .only(
            "kind",
            "evidence",
            "evidence_url",
            "supplier__slug",
            "supplier__name_en",
            "supplier__name_zh",
            "customer__slug",
            "customer__name_en",
            "customer__name_zh",
        )
    )
    return (
        sorted(
            (r for r in rows if r.customer_id == participant.pk), key=lambda r: (r.kind, r.supplier.name_en)
        ),
        sorted(
            (r for r in rows if r.supplier_id == participant.pk), key=lambda r: (r.kind, r.customer.name_en)
        ),
    )


def export(criteria):
    """Every published participant matching ``criteria`` (a search: every match, not the
    window), in the listing's order: a queryset, or a list of ids in relevance order
    (``csvio.export`` reads both a chunk at a time)."""
    source, tax = backend(), taxonomy()
    queryset = source.filtered(criteria.without("q"), tax)
    if not criteria.q:
        return queryset.order_by(*criteria.order.fields)
    ids, _ = search.ranked(queryset, criteria.q)
    if criteria.order is None:
        return ids
    return queryset.filter(pk__in=ids).order_by(*criteria.order.fields)


def recently_published(limit):
    """The ``limit`` most recently published participants, newest first."""
    return Participant.objects.published().order_by(
        F("published_at").desc(nulls_last=True), "-created_at", "-pk"
    )[:limit]


def sitemap_participants():
    """Every published participant's slug and last change, in a stable order."""
    return Participant.objects.published().only("slug", "updated_at").order_by("pk")


__all__ = [
    "FACETS",
    "SEGMENT_FACETS",
    "Criteria",
    "Listing",
    "Profile",
    "backend",
    "chain_map",
    "count",
    "export",
    "listing",
    "neighbours",
    "profile",
    "recently_published",
    "segment",
    "segment_children",
    "segment_counts",
    "segments",
    "sitemap_participants",
    "suggestions",
    "total",
    "trading_partners",
]
