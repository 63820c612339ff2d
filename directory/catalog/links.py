"""Reads of the links themselves: a participant's links and dependencies, the list of
links behind a flow, and what changed. Plain SQL on indexed columns: each answer is a
fixed number of queries whatever the size of the directory."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.db.models import F, Prefetch, Q
from django.utils import timezone

from directory.catalog.cache import remember
from directory.catalog.flows import supply_links
from directory.models import (
    SUPPLY_KINDS,
    TIES,
    LinkEvent,
    LinkStatus,
    Participant,
    Relationship,
    Source,
    Status,
)

GRAPH_LEVEL_CAP = 200  # participants a dependency graph shows per level
# The change feed lists the newest events, at most this many for one choice of filters (50
# pages of 20): counting and sorting every event of a large directory on each first visit
# costs a quarter of a second at 100,000 participants; older ones are reached by year.
MAX_CHANGES = 1000


def published_links():
    """Links between two published participants: those with neither side among the few
    participants that are not published (no join with every participant: a link's sides
    always exist, and the unpublished ones are read by the status index)."""
    hidden = Participant.objects.filter(status__in=[s for s in Status.values if s != Status.PUBLISHED])
    return Relationship.objects.exclude(supplier__in=hidden.values("pk")).exclude(
        customer__in=hidden.values("pk")
    )


def with_sides(queryset):
    """Links with what pages show of both sides, their segments and their sources."""
    return queryset.select_related(
        "supplier", "customer", "supplied_segment", "customer_segment"
    ).prefetch_related(Prefetch("sources", queryset=Source.objects.order_by("-published", "publisher")))


@dataclass
class ParticipantLinks:
    """A participant's links, as its page shows them."""

    suppliers: list  # supply links into it (any status), active first
    customers: list  # supply links out of it
    ties: list  # investments and partnerships, either way
    single_sources: dict  # supplied segment -> the one active supplier of it

    def is_single_source(self, link):
        return self.single_sources.get(link.supplied_segment_id) == link.supplier_id


_STATUS_ORDER = {LinkStatus.ACTIVE: 0, LinkStatus.PLANNED: 1, LinkStatus.ENDED: 2}


def participant_links(participant):
    """Every link of ``participant`` with a published other side (two queries: the links,
    their sources), split into supply in, supply out and ties; and the single-source
    flags: the supplied segments where it has exactly one active supplier."""
    links = list(
        with_sides(
            Relationship.objects.filter(
                Q(customer=participant, supplier__status=Status.PUBLISHED)
                | Q(supplier=participant, customer__status=Status.PUBLISHED)
            )
        )
    )

    def order(link, other):
        return (_STATUS_ORDER.get(link.status, 3), link.kind, getattr(link, other).name_en, link.pk)

    suppliers = sorted(
        (k for k in links if k.customer_id == participant.pk and k.kind in SUPPLY_KINDS),
        key=lambda k: order(k, "supplier"),
    )
    customers = sorted(
        (k for k in links if k.supplier_id == participant.pk and k.kind in SUPPLY_KINDS),
        key=lambda k: order(k, "customer"),
    )
    ties = sorted((k for k in links if k.kind in TIES), key=lambda k: (k.kind, k.since_year or 0, k.pk))
    by_segment = defaultdict(set)
    for link in suppliers:
        if link.status == LinkStatus.ACTIVE and link.supplied_segment_id:
            by_segment[link.supplied_segment_id].add(link.supplier_id)
    single = {segment: next(iter(who)) for segment, who in by_segment.items() if len(who) == 1}
    return ParticipantLinks(suppliers, customers, ties, single)


@dataclass
class Graph:
    """A participant's dependencies: ``levels_up[d]`` are the suppliers ``d + 1`` steps
    upstream, ``levels_down[d]`` the customers ``d + 1`` steps downstream, each a list of
    ``(participant, supplied segment id)``; ``edges`` the links between them."""

    centre: Participant
    levels_up: list = field(default_factory=list)
    levels_down: list = field(default_factory=list)
    edges: list = field(default_factory=list)  # (supplier pk, customer pk, kind, supplied segment id)
    truncated: bool = False


def dependency_graph(participant, depth):
    """The active supply links around ``participant`` up to ``depth`` steps up and down
    (one query a step each way, one for the names); a participant appears at its
    nearest level only, and a level shows at most ``GRAPH_LEVEL_CAP`` participants."""
    graph = Graph(centre=participant)
    seen = {participant.pk}
    pending = {}
    for direction, levels in (("up", graph.levels_up), ("down", graph.levels_down)):
        frontier = {participant.pk}
        for _ in range(depth):
            if not frontier:
                break
            near, far = (
                ("customer_id", "supplier_id") if direction == "up" else ("supplier_id", "customer_id")
            )
            rows = (
                supply_links(published_links())
                .filter(**{f"{near}__in": frontier})
                .order_by("supplied_segment_id", "pk")
                .values_list("supplier_id", "customer_id", "kind", "supplied_segment_id")
            )
            level, found = [], set()
            for supplier, customer, kind, segment in rows:
                graph.edges.append((supplier, customer, kind, segment))
                other = supplier if direction == "up" else customer
                if other in seen or other in found:
                    continue
                if len(found) >= GRAPH_LEVEL_CAP:
                    graph.truncated = True
                    continue
                found.add(other)
                level.append((other, segment))
            seen |= found
            levels.append(level)
            pending.update((pk, None) for pk, _ in level)
            frontier = found
    people = Participant.objects.only("slug", "name_en", "name_zh", "country").in_bulk(list(pending))
    for levels in (graph.levels_up, graph.levels_down):
        for i, level in enumerate(levels):
            levels[i] = [(people[pk], segment) for pk, segment in level if pk in people]
    shown = set(people) | {participant.pk}
    graph.edges = [e for e in dict.fromkeys(graph.edges) if e[0] in shown and e[1] in shown]
    return graph


def link_list(supplied=(), received=(), flow_filter=None, **filters):
    """Links between published participants, newest first: ``supplied`` / ``received``:
    ids of the supplied / customer segments (sub-segments included by the caller);
    ``flow_filter``: a ``FlowFilter``; other keyword arguments filter the links as
    Django lookups (``supplier__slug``, ``status``, ``since_year__gte``...)."""
    queryset = published_links()
    if supplied:
        queryset = queryset.filter(supplied_segment_id__in=supplied)
    if received:
        queryset = queryset.filter(customer_segment_id__in=received)
    if flow_filter is not None:
        queryset = queryset.filter(flow_filter.condition())
    return with_sides(queryset.filter(**filters)).order_by(F("since_year").desc(nulls_last=True), "-pk")


@dataclass
class Change:
    """One entry of /changes/: a link's event, or a participant's publication."""

    kind: str  # a LinkEvent value, or "published"
    date: object
    link: Relationship | None = None
    participant: Participant | None = None


CHANGE_KINDS = ("links", "publications")
# The link fields its history rows keep (all but the id and the creation time).
_TRACKED = [f for f in Relationship._meta.concrete_fields if f.attname not in ("id", "created_at")]


def _newest_page(queryset, page, per_page, key):
    """Page ``page`` of the first ``MAX_CHANGES`` of ``queryset`` (newest first), their
    count kept under ``key`` until the directory changes (every page of one choice of
    filters shares it); ``capped``: there may be older ones."""
    pages = Paginator(queryset[:MAX_CHANGES], per_page, allow_empty_first_page=True)
    pages.count = remember("changes-count", (*key, MAX_CHANGES), pages.object_list.count)
    current = pages.get_page(page)
    current.capped = pages.count >= MAX_CHANGES
    return current


def changes(kind="links", segment_ids=(), year=None, page=1, per_page=20):
    """A page of what changed, newest first: link events (``LinkEvent``: new links, new
    statuses, ends, each dated when it happened) or publications of participants. A
    Django ``Page`` of ``Change``, of the newest ``MAX_CHANGES`` at most (``capped``:
    there may be older ones, found by choosing a year)."""
    key = (kind, tuple(sorted(segment_ids)), year)
    if kind == "publications":
        queryset = Participant.objects.published().filter(published_at__isnull=False)
        if segment_ids:
            queryset = queryset.filter(offerings__segment_id__in=segment_ids).distinct()
        if year:
            queryset = queryset.filter(published_at__year=year)
        queryset = queryset.only("slug", "name_en", "name_zh", "published_at").order_by(
            "-published_at", "-pk"
        )
        current = _newest_page(queryset, page, per_page, key)
        current.object_list = [
            Change("published", p.published_at, participant=p) for p in current.object_list
        ]
        return current
    # A deletion's history row repeats the last save's event: it is no event of its own.
    history = Relationship.history.filter(
        event__in=LinkEvent.values, supplier__status=Status.PUBLISHED, customer__status=Status.PUBLISHED
    ).exclude(history_type="-")
    if segment_ids:
        history = history.filter(
            Q(supplied_segment_id__in=segment_ids) | Q(customer_segment_id__in=segment_ids)
        )
    if year:
        history = history.filter(event_date__year=year)
    # The newest first, along the index of migration 0020.
    history = history.order_by("-event_date", "-history_id").values_list(
        "history_id", "id", "event", "event_date"
    )
    current = _newest_page(history, page, per_page, key)
    rows = list(current.object_list)
    versions = {
        h.history_id: h
        for h in Relationship.history.filter(history_id__in=[r[0] for r in rows]).select_related(
            "supplier", "customer", "supplied_segment", "customer_segment"
        )
    }
    live = {
        link.pk: link
        for link in Relationship.objects.filter(pk__in=[r[1] for r in rows]).prefetch_related("sources")
    }
    entries = []
    for history_id, link_id, event, date in rows:
        version = versions[history_id]
        # The link as this event left it (the history row), with the sources it cites now.
        link = Relationship(
            pk=link_id,
            **{f.attname: getattr(version, f.attname) for f in _TRACKED},
        )
        link.supplier, link.customer = version.supplier, version.customer
        link.supplied_segment, link.customer_segment = version.supplied_segment, version.customer_segment
        link.cited = list(live[link_id].sources.all()) if link_id in live else []
        entries.append(Change(event, date, link=link))
    current.object_list = entries
    return current


def this_year():
    return timezone.localdate().year
