"""The participant listing shared by ``/participants/`` and ``/segments/<slug>/``:
the filter, its facets, one page of results, and notes about ignored parameters.

Queries, whatever the data size: segments (1), facets (one aggregate each), the total
(1), the page's participants (1) and their offerings with segments (1).
"""

from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.http import QueryDict
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .caching import cached_value
from .facets import FACETS, facets
from .filters import ParticipantFilter, lenient_filterset
from .models import Segment

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

    @property
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


def build_listing(params, queryset, facet_names=FACETS, segments=None):
    """Filter the published participants ``queryset`` by the GET ``params``, count the
    facets ``facet_names`` and cut out the requested page."""
    segments = list(Segment.objects.all()) if segments is None else segments
    filterset, notes = lenient_filterset(params, queryset=queryset, segments=segments)
    page_size = page_size_from(params.get("page_size"), notes)
    # Counting is the cost at scale: the total and the facets depend only on the filter
    # (not on page or order), so they are kept per filter until the directory changes.
    key = _filter_key(filterset, queryset)
    total = cached_value("count", key, filterset.qs.count)
    page = page_of(filterset.qs.for_cards(), params.get("page"), page_size, notes, total)
    counts = cached_value(
        "facets", (*key, get_language(), tuple(facet_names)), lambda: facets(filterset, facet_names)
    )
    return Listing(filterset, page, page_size, counts, notes)


def _filter_key(filterset, queryset):
    """What the result set depends on: the base queryset and the cleaned filter values."""
    data = filterset.form.cleaned_data if filterset.is_valid() else {}
    values = tuple(
        (name, tuple(sorted(value)) if isinstance(value, list) else str(value))
        for name, value in sorted(data.items())
        if value and name != "ordering"
    )
    return (str(queryset.query), values)
