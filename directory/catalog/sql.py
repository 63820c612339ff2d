"""The reference backend of the catalog: every answer read straight from the database.

It is the obvious version of each question, and what the in-memory backend
(``bitmap.py``) must answer identically: ``tests/test_catalog_backends.py`` holds the
two equal on random data. Choose it with ``CATALOG_BACKEND=sql``; it is correct at any
size but slower at 100,000 participants (each facet option is a COUNT).
"""

from functools import cached_property

from django.db.models import Count, Q, Value

from directory.catalog import search
from directory.catalog.criteria import ORDERINGS, in_segments
from directory.models import Offering, Participant, Relationship, Status


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
        return list(queryset.order_by(*order.fields).values_list("pk", flat=True)[start : start + count])

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

    def trading_partners(self, taxonomy, slug, cap):
        """``(suppliers, customers)``: ``[(pk, links)]`` of the ``cap`` published participants
        with the most supply links into, and out of, the members of segment ``slug``, most
        links first, then by name (``chain.named`` orders them again by name as Python
        compares it)."""
        members = self.members(taxonomy, [slug]).values("pk")
        links = Relationship.objects.filter(
            supplier__status=Status.PUBLISHED, customer__status=Status.PUBLISHED
        )
        name = ORDERINGS["name"].fields
        sides = []
        for inside, outside in (("customer", "supplier"), ("supplier", "customer")):
            rows = (
                links.filter(**{f"{inside}__in": members})
                .values(outside)
                .annotate(n=Count("pk"))
                .order_by("-n", *(f"{outside}__{f}" for f in name))
                .values_list(outside, "n")[:cap]
            )
            sides.append(list(rows))
        return tuple(sides)
