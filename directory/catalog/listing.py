"""One page of a listing: what ``catalog.listing`` answers for ``/participants/``, the
segment pages and the API.

A ``Listing`` holds the criteria, the page (a Django ``Page`` whose objects are the ids
in order, read from the backend a page at a time), the total, the notes about what was
ignored, and on demand the facets and the page's participants with their segments.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.utils.translation import gettext as _

from directory.catalog.criteria import BY_NAME, Criteria, Taxonomy, ordering_choices
from directory.models import Participant

PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MIN = 20
PAGE_SIZE_MAX = 100
PAGE_SIZES = (20, 50, 100)
# The facets of /participants/; a segment page shows those that still apply there.
FACETS = ("tier", "segment", "country", "kind", "open_source", "record")
SEGMENT_FACETS = ("country", "kind", "open_source", "record")


class Ids(Sequence):
    """The ids of a selection in its order, read a page at a time when sliced."""

    def __init__(self, selection):
        self.selection = selection

    def __len__(self):
        return self.selection.total

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1 or None][0]
        start, stop, step = index.indices(len(self))
        if step != 1:
            raise ValueError("Ids takes slices of step 1")
        return self.selection.page_ids(start, max(stop - start, 0))


@dataclass
class Listing:
    """Everything a listing page or the API needs about one page of results."""

    criteria: Criteria
    page: Page  # of participant ids
    page_size: int
    selection: object
    taxonomy: Taxonomy
    backend: object
    notes: list = field(default_factory=list)
    facet_names: tuple = FACETS

    @property
    def total(self):
        return self.page.paginator.count

    @property
    def truncated(self):
        """A search matched more participants than the SEARCH_WINDOW setting."""
        return self.selection.truncated

    @property
    def window(self):
        return settings.SEARCH_WINDOW

    @cached_property
    def ids(self):
        return list(self.page.object_list)

    @cached_property
    def participants(self):
        """The page's participants (card columns only, see ``Participant.card_rows``), in
        order, each with ``segments`` (its segments in chain order) and ``badges`` (the
        kinds of record with a badge it holds in force). One query."""
        rows = {p.pk: p for p in Participant.objects.published().filter(pk__in=self.ids).card_rows()}
        shown = [pk for pk in self.ids if pk in rows]
        segments, records = self.backend.segment_ids_of(shown), self.backend.records_of(shown)
        found = []
        for pk in shown:
            rows[pk].segments = self.taxonomy.in_chain_order(segments[pk])
            held = set(records[pk])
            rows[pk].badges = [k for k in self.taxonomy.record_kinds if k.badge and k.slug in held]
            found.append(rows[pk])
        return found

    @cached_property
    def facets(self):
        """``{name: [Option]}``: each facet's options with the number of results each
        would give, counted within the other filters (disjunctive faceting: choosing one
        country does not make every other country count zero). An option with no result
        is disabled unless the counts are those of a truncated search window, and
        countries without a result are left out."""
        built = {}
        for name in self.facet_names:
            definition = BY_NAME[name]
            options = definition.options(
                self.taxonomy, self.criteria.get(name, () if definition.many else "")
            )
            counts = self.selection.facet_counts(definition, [o.value for o in options])
            for option in options:
                option.count = counts[option.value]
                option.shown = str(option.count)
                option.disabled = not (option.count or option.selected or self.truncated)
            if name == "country":
                options = sorted((o for o in options if o.count or o.selected), key=lambda o: o.label)
            built[name] = options
        return built

    @cached_property
    def query(self):
        """The criteria (and page size) as a query string, without ``page``."""
        size = self.page_size if self.page_size != PAGE_SIZE_DEFAULT else None
        return self.criteria.query(page_size=size)

    @cached_property
    def export_query(self):
        """The query string of the CSV export of exactly these results (every filter,
        a segment page's own segment included)."""
        return self.criteria.export_query()

    @cached_property
    def chosen(self):
        """``{parameter: value}`` of what is chosen, the ordering included (for the form)."""
        return {**dict(self.criteria.values), "ordering": self.criteria.ordering}

    @property
    def is_filtered(self):
        return self.criteria.is_filtered

    @property
    def ordering_choices(self):
        return ordering_choices()

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


def page_number_from(value, num_pages, notes):
    """The page to show for the requested ``value``: a malformed number gives the first
    page and a number past the end the last one, each with a note (docs/browsing.md)."""
    try:
        number = int(value or 1)
    except (TypeError, ValueError):
        notes.append(("page", _("Page must be a number; showing the first page.")))
        return 1
    if number < 1:
        notes.append(("page", _("There is no page %(n)s; showing the first page.") % {"n": number}))
        return 1
    if number > num_pages:
        notes.append(("page", _("There is no page %(n)s; showing the last page.") % {"n": str(number)[:20]}))
        return num_pages
    return number


def paginator(selection, page_size):
    """A Django paginator over ``selection``'s ids whose count costs no query."""
    pages = Paginator(Ids(selection), page_size, allow_empty_first_page=True)
    pages.count = selection.total  # a cached_property: setting it skips len()
    return pages
