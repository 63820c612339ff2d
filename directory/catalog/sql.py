"""The reference backend of the catalog: every answer read straight from the database.

It is the obvious version of each question, and what the in-memory backend
(``bitmap.py``) must answer identically: ``tests/test_catalog_backends.py`` holds the
two equal on random data. Choose it with ``CATALOG_BACKEND=sql``; it is correct at any
size but slower at 100,000 participants (each facet option is a COUNT).
"""

from collections import defaultdict
from functools import cached_property

from django.db.models import Count, Q, Value

from directory.catalog import search
from directory.catalog.criteria import ORDERINGS, in_segments
from directory.catalog.flows import LEADERS, Concentration, supply_links, with_the_flow
from directory.models import SUPPLY_KINDS, LinkStatus, Offering, Participant, Record, Relationship, Status


class SqlSelection:
    """The participants matching one ``Criteria``: their number, a page of their ids in
    the criteria's order, and the counts of a facet's options."""

    def __init__(self, backend, criteria, taxonomy):
        self.backend, self.criteria, self.taxonomy = backend, criteria, taxonomy

    @cached_property
    def _window(self):
        """``(ids, truncated)`` of the search, within the other filters; None without ``q``."""
        if not self.criteria.q:
            return None
        return search.window(
            self.backend.filtered(self.criteria.without("q"), self.taxonomy), self.criteria.q
        )

    @cached_property
    def total(self):
        if self._window is not None:
            return len(self._window[0])
        return self.backend.filtered(self.criteria, self.taxonomy).count()

    @property
    def truncated(self):
        """More participants matched the search than its window holds."""
        return self._window is not None and self._window[1]

    def page_ids(self, start, count):
        """Ids number ``start`` to ``start + count - 1`` in the criteria's order."""
        order = self.criteria.order
        if order is None:  # relevance: the search window's own order
            return self._window[0][start : start + count]
        queryset = self.backend.filtered(self.criteria.without("q"), self.taxonomy)
        if self._window is not None:
            queryset = queryset.filter(pk__in=self._window[0])
        rows = queryset.order_by(*order.sql_fields()).values_list("pk", flat=True)
        return list(rows[start : start + count])

    def facet_counts(self, definition, values):
        """``{value: n}``: how many participants the criteria give with ``definition``'s
        value replaced by each of ``values`` (the options of its facet)."""
        return {
            value: self.backend.select(
                self.criteria.with_value(definition.name, definition.counted(value)), self.taxonomy
            ).total
            for value in values
        }


class SqlBackend:
    """Answers the catalog's questions with queries (see the module's docstring)."""

    name = "sql"

    def published(self):
        return Participant.objects.published()

    def filtered(self, criteria, taxonomy):
        """The published participants matching every filter of ``criteria`` but ``q``,
        within its ``scope``."""
        queryset = self.published()
        if criteria.scope:
            queryset = queryset.filter(in_segments(taxonomy.ids([criteria.scope])))
        for definition, value in criteria.filters():
            queryset = queryset.filter(definition.condition(value, taxonomy))
        return queryset

    def select(self, criteria, taxonomy):
        return SqlSelection(self, criteria, taxonomy)

    def segment_ids_of(self, pks):
        """``{pk: [segment ids]}``: the segments each of the participants ``pks`` has an offering in."""
        found = {pk: [] for pk in pks}
        for pk, segment_id in (
            Offering.objects.filter(participant_id__in=pks)
            .values_list("participant_id", "segment_id")
            .distinct()
        ):
            if segment_id not in found[pk]:
                found[pk].append(segment_id)
        return found

    def records_of(self, pks):
        """``{pk: [kind slugs]}``: the kinds of record each of ``pks`` holds in force."""
        found = {pk: [] for pk in pks}
        for pk, kind in (
            Record.objects.in_force()
            .filter(participant_id__in=pks)
            .values_list("participant_id", "kind__slug")
        ):
            if kind not in found[pk]:
                found[pk].append(kind)
        return found

    def members(self, taxonomy, slugs):
        return self.published().filter(in_segments(taxonomy.ids(slugs)))

    def count_in(self, taxonomy, slugs):
        """Published participants in the segments ``slugs`` (sub-segments included)."""
        return self.members(taxonomy, slugs).count()

    def first_in(self, taxonomy, slugs, count):
        """The ids of the first ``count`` published participants in the segments ``slugs``:
        featured ones first, each group in name order."""
        name = ORDERINGS["name"].fields
        return list(
            self.members(taxonomy, slugs).order_by("-featured", *name).values_list("pk", flat=True)[:count]
        )

    def tier_count(self, taxonomy, tier):
        return self.published().filter(in_segments(taxonomy.tier_ids(tier))).count()

    def country_counts(self):
        """``{country code: published participants}`` (without the empty code)."""
        rows = self.published().exclude(country="").values_list("country").annotate(n=Count("pk")).order_by()
        return dict(rows)

    def total(self):
        return self.published().count()

    def subsidiaries(self, pk):
        """Ids of the published subsidiaries of participant ``pk``, in name order."""
        return list(
            self.published()
            .filter(parent_id=pk)
            .order_by(*ORDERINGS["name"].fields)
            .values_list("pk", flat=True)
        )

    def similar(self, pk, own, parents, limit):
        """Ids of up to ``limit`` published participants other than ``pk`` most like it,
        whose segments are ``own`` (ids) with the parent segments ``parents``: most shared
        segments first, then most shared parent segments, then featured, then name; one
        sharing neither is not similar."""

        def sharing(ids):
            # An empty IN would make Django drop every row, not count zero.
            if not ids:
                return Value(0)
            return Count("offerings__segment", filter=Q(offerings__segment__in=ids), distinct=True)

        queryset = (
            self.published()
            .exclude(pk=pk)
            .annotate(shared=sharing(own), nearby=sharing(parents))
            .filter(Q(shared__gt=0) | Q(nearby__gt=0))
            .order_by("-shared", "-nearby", "-featured", *ORDERINGS["name"].fields)
        )
        return list(queryset.values_list("pk", flat=True)[:limit])

    def links(self):
        """Links between two published participants."""
        return Relationship.objects.filter(
            supplier__status=Status.PUBLISHED, customer__status=Status.PUBLISHED
        )

    def segment_partners(self, taxonomy, slug):
        """``(suppliers, customers, concentration)`` of segment ``slug``: the ``LEADERS``
        participants with the most active supply links into it (customer segment) and
        out of it (supplied segment), each ``(pk, links, links against the flow)``, most
        links first, then name order; and the concentration of its suppliers."""
        ids = taxonomy.ids([slug])
        sides = []
        for mine, theirs in (("customer_segment", "supplier"), ("supplied_segment", "customer")):
            counts = defaultdict(lambda: [0, 0])
            rows = (
                supply_links(self.links())
                .filter(**{f"{mine}_id__in": ids})
                .values_list(theirs, "supplied_segment_id", "customer_segment_id")
                .annotate(n=Count("pk"))
                .order_by()
            )
            for pk, supplied, received, n in rows:
                if supplied is None or received is None:  # segments not recorded yet
                    continue
                counts[pk][0] += n
                if not with_the_flow(taxonomy.top_of(supplied).slug, taxonomy.top_of(received).slug):
                    counts[pk][1] += n
            sides.append(counts)
        order = {
            pk: i
            for i, pk in enumerate(
                self.published()
                .filter(pk__in={pk for side in sides for pk in side})
                .order_by(*ORDERINGS["name"].fields)
                .values_list("pk", flat=True)
            )
        }
        leaders = [
            sorted(((pk, n, a) for pk, (n, a) in side.items()), key=lambda r: (-r[1], order[r[0]]))[:LEADERS]
            for side in sides
        ]
        return leaders[0], leaders[1], Concentration.of(n for n, _ in sides[0].values())

    def flows(self, taxonomy, flow_filter):
        """``{(supplied top segment id, customer top segment id): links}`` of the active
        supply links that ``flow_filter`` keeps."""
        rows = (
            supply_links(self.links())
            .filter(flow_filter.condition())
            .values_list("supplied_segment_id", "customer_segment_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        found = defaultdict(int)
        for supplied, received, n in rows:
            if supplied is not None and received is not None:
                found[taxonomy.top_of(supplied).pk, taxonomy.top_of(received).pk] += n
        return dict(found)

    def alternatives(self, taxonomy, pk, segment_ids, country, limit):
        """``(same country, elsewhere)``: up to ``limit`` each of the published
        participants other than ``pk`` with an offering in ``segment_ids``, as ``(pk,
        customers)``, most distinct customers (active supply) first, then name order."""
        customers = Count(
            "supplies__customer",
            filter=Q(
                supplies__status=LinkStatus.ACTIVE,
                supplies__kind__in=SUPPLY_KINDS,
                supplies__customer__status=Status.PUBLISHED,
            ),
            distinct=True,
        )
        members = (
            self.published()
            .filter(in_segments(segment_ids))
            .exclude(pk=pk)
            .annotate(customers=customers)
            .order_by("-customers", *ORDERINGS["name"].fields)
        )
        home = members.filter(country=country) if country else members.none()
        away = members.exclude(country=country) if country else members
        return tuple(list(side.values_list("pk", "customers")[:limit]) for side in (home, away))
