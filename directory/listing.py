"""The participant listing shared by ``/participants/`` and ``/segments/<slug>/``:
the filter, its facets, one page of results, and notes about ignored parameters.

Queries, whatever the data size: segments (1), the search window when there is a query
(1, or 2 when other filters are set too and the query's own window is not cached), the
page's participants (1) and their offerings with segments (1). The total and the facets
come from the bitmap index (``facet_index.py``; two more queries when it is rebuilt).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import QueryDict
from django.utils.translation import gettext as _

from .caching import cached_value, generation
from .facet_index import Selection, bits_of, facet_index, filter_bits
from .facets import FACETS, facets
from .filters import ParticipantFilter, lenient_filterset, segment_ids_with_children
from .models import Segment
from .search import clean_query, search_window

PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MIN = 20
PAGE_SIZE_MAX = 100
PAGE_SIZES = (20, 50, 100)


@dataclass
class Listing:
    """Everything a listing template needs."""

    filterset: ParticipantFilter
    page: Page
    page_size: int
    facets: dict
    notes: list = field(default_factory=list)

    @property
    def truncated(self):
        """A search matched more participants than the SEARCH_WINDOW setting."""
        return self.filterset.search_truncated

    @property
    def window(self):
        return settings.SEARCH_WINDOW

    # Rendered cards are cached per participant and language for the current generation
    # of the directory (any change makes them stale), like the counts.
    @property
    def cache_seconds(self):
        return settings.COUNT_CACHE_SECONDS

    @cached_property
    def generation(self):
        return generation()

    @cached_property
    def query(self):
        """The current filter (and page size) as a query string, without ``page``."""
        data = QueryDict(mutable=True)
        for name in ParticipantFilter.base_filters:
            values = [v for v in self.filterset.data.getlist(name) if v]
            if values:
                data.setlist(name, values)
        if self.page_size != PAGE_SIZE_DEFAULT:
            data["page_size"] = str(self.page_size)
        return data.urlencode()

    @cached_property
    def filter_query(self):
        """The current filter alone (for the CSV export link)."""
        data = QueryDict(self.query, mutable=True)
        data.pop("page_size", None)
        return data.urlencode()

    @property
    def is_filtered(self):
        return any(self.filterset.form.cleaned_data.get(name) for name in ParticipantFilter.base_filters)

    @property
    def page_sizes(self):
        """The sizes offered in the form, including the current one."""
        return sorted({*PAGE_SIZES, self.page_size})

    @property
    def page_range(self):
        return self.page.paginator.get_elided_page_range(self.page.number, on_each_side=2, on_ends=1)


def page_size_from(value, notes):
    """``page_size`` as an int in [20, 100]; a bad value gives the default, an out-of-range
    one the nearest bound, each with a note."""
    if value in (None, ""):
        return PAGE_SIZE_DEFAULT
    try:
        size = int(value)
    except (TypeError, ValueError):
        notes.append(("page_size", _("Page size must be a number from 20 to 100; showing 20.")))
        return PAGE_SIZE_DEFAULT
    clamped = min(max(size, PAGE_SIZE_MIN), PAGE_SIZE_MAX)
    if clamped != size:
        notes.append(("page_size", _("Page size must be from 20 to 100; showing %(n)d.") % {"n": clamped}))
    return clamped


def page_of(queryset, value, page_size, notes, total=None):
    """The requested page. A malformed page number gives the first page and a number past
    the end gives the last page, each with a note (see docs/browsing.md). ``total``, when
    known, saves the count query."""
    paginator = Paginator(queryset, page_size, allow_empty_first_page=True)
    if total is not None:
        paginator.count = total  # a cached_property: setting it skips the COUNT query
    try:
        number = int(value or 1)
    except (TypeError, ValueError):
        notes.append(("page", _("Page must be a number; showing the first page.")))
        number = 1
    if number < 1:
        notes.append(("page", _("There is no page %(n)s; showing the first page.") % {"n": number}))
        number = 1
    elif number > paginator.num_pages:
        notes.append(("page", _("There is no page %(n)s; showing the last page.") % {"n": str(number)[:20]}))
        number = paginator.num_pages
    return paginator.page(number)


def build_listing(params, queryset, facet_names=FACETS, segments=None, scope=None):
    """Filter the published participants ``queryset`` by the GET ``params``, count the
    facets ``facet_names`` and cut out the requested page. ``scope``: the slug of the
    segment ``queryset`` is limited to (the segment page), for the counts."""
    segments = list(Segment.objects.all()) if segments is None else segments
    filterset, notes = lenient_filterset(params, queryset=queryset, segments=segments)
    page_size = page_size_from(params.get("page_size"), notes)
    index = facet_index()
    selection = selection_of(filterset, index, scope)
    results = paginated(filterset, filterset.qs.for_cards(), filterset.queryset.for_cards())
    page = page_of(results, params.get("page"), page_size, notes, selection.total)
    counts = facets(index, selection, filterset.form.cleaned_data, segments, facet_names)
    return Listing(filterset, page, page_size, counts, notes)


class ByIds(Sequence):
    """The participants of ``queryset`` with the given ``ids``, in that order, fetched a
    slice (a page) at a time: one query by primary key per page."""

    def __init__(self, queryset, ids):
        self.queryset, self.ids = queryset, ids

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1 or None][0]
        wanted = self.ids[index]
        found = {p.pk: p for p in self.queryset.filter(pk__in=wanted)}
        return [found[pk] for pk in wanted if pk in found]


def paginated(filterset, queryset, base):
    """What to paginate for the bound ``filterset``: ``queryset`` (its ``qs`` with what the
    page shows), or for a search in relevance order the ranked window's ids looked up in
    ``base`` (its base queryset with what the page shows), so that a page is fetched by
    id rather than by ranking the window again."""
    if filterset.ranked_ids is None:
        return queryset
    return ByIds(base, filterset.ranked_ids)


def count_of(filterset):
    """The number of participants the bound, valid ``filterset`` gives, without a COUNT:
    the search window's size with ``q``, else from the bitmap index."""
    if filterset.search_ids is not None:
        return len(filterset.search_ids)
    return selection_of(filterset, facet_index()).total


def selection_of(filterset, index, scope=None):
    """The bound, valid ``filterset``'s filter as a ``Selection`` of the bitmap ``index``:
    what its total and facets are counted on. ``scope``: a segment slug the filterset's
    base queryset is limited to."""
    data = filterset.form.cleaned_data if filterset.is_valid() else {}
    base = index.everyone
    if scope:
        base &= index.union("segment", segment_ids_with_children(filterset.segments, [scope]))
    conditions = filter_bits(index, data, filterset.segments)
    if filterset.search_ids is not None:
        if conditions:
            # Facets leave one condition out, so they need the query's own matches, not the
            # window left after the other filters: one more window (kept per query).
            ids, _ = cached_value(
                "search-window",
                (str(filterset.queryset.query), clean_query(data["q"])),
                lambda: search_window(filterset.queryset, data["q"]),
            )
        else:
            ids = filterset.search_ids
        base &= bits_of(ids)
        # The window already applies the other filters: the total is its size.
        return Selection(base, conditions, known_total=len(filterset.search_ids))
    return Selection(base, conditions)
