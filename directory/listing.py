"""The participant listing shared by ``/participants/`` and ``/segments/<slug>/``:
the filter, its facets, one page of results, and notes about ignored parameters.

Queries, whatever the data size: the search window when there is a query (1, or 2 when
other filters are set too; each kept per query until the directory changes), the page's
ids (1 in an order other than by name or relevance, which come from the bitmap index and
the search window) and, for cards not rendered since the last change, those participants
(1; their segments come from the bitmap index). The segments are kept in memory
(``filters.all_segments``); the total and the facets come from the bitmap index
(``facet_index.py``; two more queries when it is rebuilt).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.http import QueryDict
from django.template.loader import get_template
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .caching import generation
from .facet_index import FacetIndex, Selection, facet_index, filter_bits
from .facets import FACETS, facets
from .filters import (
    ORDERING_CHOICES,
    ParticipantFilter,
    all_segments,
    lenient_filterset,
)
from .models import Kind, OpenSource, Participant, in_chain_order, prefers_chinese
from .search import search_window

PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MIN = 20
PAGE_SIZE_MAX = 100
PAGE_SIZES = (20, 50, 100)
CARD_TEXT_LENGTH = 180  # characters of the description a card shows


@dataclass
class Listing:
    """Everything a listing template needs."""

    filterset: ParticipantFilter
    page: Page  # of participant ids
    page_size: int
    notes: list = field(default_factory=list)
    # What the facets are counted from (they are counted only when the filter column is
    # rendered, not when its cached fragment is used).
    index: FacetIndex | None = None
    selection: Selection | None = None
    segments: list = field(default_factory=list)
    facet_names: tuple = FACETS

    @cached_property
    def facets(self):
        """The options of each facet with their counts (``facets.facets``)."""
        data = self.filterset.form.cleaned_data
        return facets(self.index, self.selection, data, self.segments, self.facet_names, self.truncated)

    @cached_property
    def cards(self):
        """The page's participant cards as HTML, in order."""
        return cards(list(self.page.object_list), self.segments, self.index, self.cache_seconds)

    @property
    def truncated(self):
        """A search matched more participants than the SEARCH_WINDOW setting."""
        return self.filterset.search_truncated

    @property
    def window(self):
        return settings.SEARCH_WINDOW

    # Rendered cards and the filter column are cached for the current generation of the
    # directory (any change makes them stale), like the counts.
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
    def ordering_choices(self):
        """The orders the form offers, as ``(value, label)``."""
        return ORDERING_CHOICES

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
    segments = all_segments() if segments is None else segments
    filterset, notes = lenient_filterset(params, queryset=queryset, segments=segments)
    page_size = page_size_from(params.get("page_size"), notes)
    index = facet_index()
    selection = selection_of(filterset, index, scope)
    ids = page_ids(filterset, index, selection)
    page = page_of(ids, params.get("page"), page_size, notes, selection.total)
    return Listing(filterset, page, page_size, notes, index, selection, segments, facet_names)


def page_ids(filterset, index, selection):
    """The ids of the bound ``filterset``'s participants in the listing's order (the API's
    too), to cut a page from, with no query when possible: in name order (the default
    without a search) read off the bitmap ``index`` through the filter's ``selection`` of
    it (``selection_of``; None for a search), for a search in relevance order the ranked
    window itself; in any other order its ``qs`` (one query per page)."""
    if filterset.ranked_ids is not None:
        return filterset.ranked_ids
    data = filterset.form.cleaned_data if filterset.is_valid() else {}
    if not data.get("q") and data.get("ordering", "") in ("", "name", "-name"):
        return InNameOrder(index, selection.matching(), descending=data.get("ordering") == "-name")
    return filterset.qs.values_list("pk", flat=True)


class InNameOrder(Sequence):
    """The participants of a bitset of the ``index`` in name order, as ids, sliced a page
    at a time (``FacetIndex.pks_at``)."""

    def __init__(self, index, bits, descending=False):
        self.index, self.bits, self.descending = index, bits, descending
        self.total = bits.bit_count()

    def __len__(self):
        return self.total

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1 or None][0]
        start, stop, step = index.indices(self.total)
        if step != 1:
            raise ValueError("InNameOrder takes slices of step 1")
        return self.index.pks_at(self.bits, start, stop - start, self.descending)


def cards(ids, segments, index, seconds):
    """The cards of the published participants ``ids`` as HTML, in that order
    (``segments``: every segment, as ``all_segments`` gives them; ``index``: the bitmap
    index, which knows each participant's segments).

    Each card is cached per participant and language for the directory's current
    generation (``seconds``; 0 renders every time): a page reads them with one cache
    round trip and fetches and renders only the ones not cached yet (one query).
    """
    prefix = f"directory:card:{generation()}:{get_language()}:"
    found = cache.get_many([f"{prefix}{pk}" for pk in ids]) if seconds > 0 else {}
    missing = [pk for pk in ids if f"{prefix}{pk}" not in found]
    if missing:
        template = get_template("directory/partials/card.html")
        maker = CardMaker()
        fresh = {
            f"{prefix}{p.pk}": template.render({"card": maker.values(p, its_segments)})
            for p, its_segments in _with_segments(missing, segments, index)
        }
        if seconds > 0:
            cache.set_many(fresh, seconds)
        found.update(fresh)
    return [found[f"{prefix}{pk}"] for pk in ids if f"{prefix}{pk}" in found]  # SafeStrings


class CardMaker:
    """Builds what a card (partials/card.html) shows, as plain values (``values``): the
    template reads dict keys instead of resolving model attributes and filters, which
    took a card from about 160 to 90 µs. What depends on the language (the choice of
    names, the labels) and the URL scheme is decided once for a page of cards rather than
    for each card: the active language costs microseconds per ask, a ``reverse()`` about
    15 µs."""

    def __init__(self):
        self.chinese = prefers_chinese()
        # Slugs are made of characters URLs keep as they are (the ``slug`` path
        # converter), so the URL of one is the URL of "0" with the slug in its place.
        self.url_head, self.url_tail = reverse("directory:participant", args=["0"]).rsplit("0", 1)
        self.kinds = {value: str(label) for value, label in Kind.choices}
        self.licences = {value: str(label) for value, label in OpenSource.choices if value != OpenSource.NO}
        self.featured = _("Featured")
        self.segments_label = _("Segments")

    def values(self, participant, segments):
        """The card of ``participant`` (a ``CardRow`` or a ``Participant``), whose
        ``segments`` are in chain order."""
        chinese = self.chinese
        alternate, alternate_language = participant.alternate_name_for(chinese)
        text = participant.localized("description", chinese)
        return {
            "url": f"{self.url_head}{participant.slug}{self.url_tail}",
            "name": participant.localized("name", chinese),
            "alternate": alternate,
            "alternate_language": alternate_language,
            "logo_url": participant.logo_url,
            "monogram": participant.monogram,
            "tier": segments[0].tier if segments else "none",
            "country": participant.country,
            "kind": self.kinds.get(participant.kind, participant.kind),
            "open_source": self.licences.get(participant.open_source, ""),
            "featured": self.featured if participant.featured else "",
            "segments_label": self.segments_label,
            "text": text if len(text) <= CARD_TEXT_LENGTH else Truncator(text).chars(CARD_TEXT_LENGTH),
            "segments": [(s.tier, s.localized("name", chinese)) for s in segments],
        }


def _with_segments(ids, segments, index):
    """``(participant, its segments in chain order)`` for the published participants
    ``ids``: one query, the segments read off the bitmap ``index`` and matched to
    ``segments`` (all of them) rather than joined and prefetched with every offering."""
    participants = Participant.objects.published().filter(pk__in=ids).card_rows()
    by_id = {s.pk: s for s in segments}
    return [
        (p, in_chain_order(by_id[pk] for pk in index.segment_ids_of(p.pk) if pk in by_id))
        for p in participants
    ]


def count_of(filterset, selection):
    """The number of participants the bound, valid ``filterset`` gives, without a COUNT:
    the search window's size with ``q``, else the total of its ``selection`` of the
    bitmap index (``selection_of``)."""
    if filterset.search_ids is not None:
        return len(filterset.search_ids)
    return selection.total


def selection_of(filterset, index, scope=None):
    """The bound, valid ``filterset``'s filter as a ``Selection`` of the bitmap ``index``:
    what its total and facets are counted on. ``scope``: a segment slug the filterset's
    base queryset is limited to."""
    data = filterset.form.cleaned_data if filterset.is_valid() else {}
    base = index.everyone
    if scope:
        base &= index.members_of(filterset.segments, [scope])
    conditions = filter_bits(index, data, filterset.segments)
    if filterset.search_ids is not None:
        if conditions:
            # Facets leave one condition out, so they need the query's own matches, not the
            # window left after the other filters: one more window (kept per query).
            ids, _ = search_window(filterset.queryset, data["q"])
        else:
            ids = filterset.search_ids
        base &= index.bits_of(ids)
        # The window already applies the other filters: the total is its size.
        return Selection(base, conditions, known_total=len(filterset.search_ids))
    return Selection(base, conditions)
