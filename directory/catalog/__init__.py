"""The catalog: the one door through which pages, the API, feeds and sitemaps read the
published directory.

Callers ask questions in the chain's own words and get plain answers; how an answer is
made fast (an in-memory index, a cache, the generation of the directory) stays inside
this package:

- ``listing(criteria, page, page_size)``: one page of participants matching a
  ``Criteria`` (``criteria.py``), with its total, facets and notes.
- ``chain_map()``: the tiers and segment panels of the home page, with the stats strip.
- ``segment(slug)``, ``segment_children(segment)``, ``segment_chain(segment)``: what a
  segment page shows around its listing (canonical neighbours, suppliers into it,
  customers of it, concentration).
- ``flow_table(flow_filter)``, ``links(...)``, ``changes(...)``: the chain's flows, the
  links behind them, and what changed.
- ``profile(slug)``, ``graph(participant, depth)``: everything a participant's page
  shows (links, dependencies, alternatives), and its dependency graph.
- ``export(criteria)``: every participant matching the criteria, for the CSV export.
- ``segments()``, ``segment_counts()``, ``recently_published(n)``, ``sitemap_participants()``.

The answers come from a backend (``CATALOG_BACKEND``): ``bitmap`` (default, the fast
path in ``bitmap.py``) or ``sql`` (the reference in ``sql.py``); both give the same
answers, which ``tests/test_catalog_backends.py`` checks on random data.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import F, Prefetch
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from directory.catalog import chain, search
from directory.catalog import links as links_module
from directory.catalog import records as records_module
from directory.catalog.bitmap import BitmapBackend
from directory.catalog.cache import remember
from directory.catalog.criteria import Criteria, taxonomy
from directory.catalog.flows import FlowFilter
from directory.catalog.links import dependency_graph, link_list, participant_links
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
from directory.models import Offering, Participant

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


def segment_ids(segment_):
    """The ids of ``segment_`` and its sub-segments (what a filter by a segment means)."""
    return taxonomy().ids([segment_.slug])


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


def segment_chain(segment_):
    """The chain around a segment (``chain.SegmentChain``): its canonical neighbours,
    the participants supplying into it and buying from it, and its concentration; kept
    until the directory changes."""
    return remember(
        "segment-chain", (segment_.slug,), lambda: chain.segment_chain(backend(), taxonomy(), segment_)
    )


def flow_table(flow_filter=None):
    """The supply flows between top-level segments (``chain.FlowTable``) under a
    ``FlowFilter``, kept until the directory changes."""
    flow_filter = flow_filter or FlowFilter()
    return remember("flows", (flow_filter,), lambda: chain.flow_table(backend(), taxonomy(), flow_filter))


def links(supplied=None, received=None, flow_filter=None, **filters):
    """Links between published participants, newest first (``links.link_list``), with
    ``supplied`` / ``received`` segments given as segments (their sub-segments included)."""
    return link_list(
        supplied=taxonomy().ids([supplied.slug]) if supplied else (),
        received=taxonomy().ids([received.slug]) if received else (),
        flow_filter=flow_filter,
        **filters,
    )


def record_kinds():
    """Every kind of record with how many published participants hold one in force."""
    return records_module.record_kinds()


def record_kind(slug):
    """The kind of record ``slug``, or None."""
    return taxonomy().record_kind.get(slug)


def record_holders(kind, segment_=None, country="", page=1):
    """A page of the records of ``kind`` held by published participants."""
    ids = taxonomy().ids([segment_.slug]) if segment_ else ()
    return records_module.holders(kind, ids, country, page)


def graph(participant, depth):
    """``participant``'s dependencies ``depth`` steps up and down (``links.Graph``)."""
    return dependency_graph(participant, depth)


def changes(kind="links", segment_=None, year=None, page=1):
    """A page of what changed (``links.changes``), within ``segment_`` if given."""
    return links_module.changes(kind, taxonomy().ids([segment_.slug]) if segment_ else (), year, page)


@dataclass
class Profile:
    """What a participant's page shows."""

    participant: Participant
    segments: list
    offering_groups: list
    links: object  # links.ParticipantLinks
    parent: Participant | None
    subsidiaries: list = field(default_factory=list)
    similar: list = field(default_factory=list)
    upstream: list = field(default_factory=list)  # [(segment, [participant])] two steps up
    downstream: list = field(default_factory=list)
    alternatives: list = field(default_factory=list)  # [(segment, same country, elsewhere)]
    records: list = field(default_factory=list)  # compliance and risk records, in force first

    @property
    def suppliers(self):
        return self.links.suppliers

    @property
    def customers(self):
        return self.links.customers

    @property
    def dependency_columns(self):
        return [(_("Upstream"), self.upstream), (_("Downstream"), self.downstream)]

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
    parents = sorted({s.parent_id for s in own if s.parent_id} - {s.pk for s in own})
    subsidiaries = source.subsidiaries(participant.pk)
    similar = source.similar(participant.pk, [s.pk for s in own], parents, chain.SIMILAR_LIMIT)
    alternatives = [
        (
            s,
            *source.alternatives(
                tax, participant.pk, tax.ids([s.slug]), participant.country, chain.ALTERNATIVES
            ),
        )
        for s in own[: chain.ALTERNATIVE_SEGMENTS]
    ]
    found = Participant.objects.only("slug", "name_en", "name_zh", "logo", "featured", "country").in_bulk(
        [*subsidiaries, *similar, *(pk for _, *sides in alternatives for side in sides for pk, _ in side)]
    )
    parent = participant.parent if participant.parent_id and participant.parent.is_published else None
    dependencies = dependency_graph(participant, chain.DEPENDENCY_DEPTH)
    return Profile(
        participant=participant,
        segments=own,
        offering_groups=[(s, [o for o in offerings if o.segment_id == s.pk]) for s in own],
        links=participant_links(participant),
        records=records_module.records_of(participant),
        parent=parent,
        subsidiaries=[found[pk] for pk in subsidiaries if pk in found],
        similar=[found[pk] for pk in similar if pk in found],
        upstream=chain.by_segment(tax, dependencies.levels_up),
        downstream=chain.by_segment(tax, dependencies.levels_down),
        alternatives=[
            (s, *([chain.counted(found[pk], n) for pk, n in side if pk in found] for side in sides))
            for s, *sides in alternatives
        ],
    )


def export(criteria):
    """Every published participant matching ``criteria`` (a search: every match, not the
    window), in the listing's order: a queryset, or a list of ids in relevance order
    (``csvio.export`` reads both a chunk at a time)."""
    source, tax = backend(), taxonomy()
    queryset = source.filtered(criteria.without("q"), tax)
    if not criteria.q:
        return queryset.order_by(*criteria.order.sql_fields())
    ids, _ = search.ranked(queryset, criteria.q)
    if criteria.order is None:
        return ids
    return queryset.filter(pk__in=ids).order_by(*criteria.order.sql_fields())


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
    "profile",
    "recently_published",
    "segment",
    "segment_children",
    "segment_counts",
    "segments",
    "sitemap_participants",
    "suggestions",
    "total",
    "segment_chain",
    "record_kinds",
    "record_kind",
    "record_holders",
    "flow_table",
    "links",
    "graph",
    "changes",
    "FlowFilter",
]
